package org.dirtylog.independent;

import java.util.List;
import java.util.Optional;
import org.dirtylog.spi.DirtyLogBackend;

/**
 * The backends of this module by name: the correct {@code independent} (also registered with
 * {@link java.util.ServiceLoader}) and its deliberately broken variants, which only this factory
 * hands out, so that no backend list ever offers them by accident. Each variant is the correct
 * design with one method rewritten the way a careless kernel developer would write it; none adds
 * a delay or a hook, so each race window is as wide as that code makes it.
 */
public final class IndependentBackends {

    /** The correct backend's name. */
    public static final String CORRECT = "independent";

    private IndependentBackends() {
    }

    /** Returns a new instance of the correct backend. */
    public static DirtyLogBackend correct() {
        return new IndependentBackend();
    }

    /**
     * Returns new instances of the broken variants, one per bug class, in this order:
     * {@code +no-grace-period}, {@code +copy-before-grace-period}, {@code +plain-clear},
     * {@code +store-outside-guest-mode}, {@code +unflushed-vcpu-log}, {@code +protect-before-swap},
     * {@code +non-atomic-bitmap-or}.
     */
    public static List<DirtyLogBackend> variants() {
        return List.of(
                variant("no-grace-period", "in-place swap; no vCPU is waited for, before or after it (RFC ppc/ia64)",
                        new NoGracePeriod()),
                variant("copy-before-grace-period", "GET copies the harvested bitmap before the grace period ends",
                        new CopyBeforeGracePeriod()),
                variant("plain-clear", "the harvest drains a vCPU log word by a copy and a plain store of 0",
                        new PlainClear()),
                variant("store-outside-guest-mode", "the vCPU marks in guest mode, then stores after leaving it",
                        new StoreOutsideGuestMode()),
                variant("unflushed-vcpu-log", "the harvest does not drain the per-vCPU logs (empty sync hook)",
                        new UnflushedVcpuLog()),
                variant("protect-before-swap", "write-protect before the bitmap swap (the RFC x86 order, edde99ce)",
                        new ProtectBeforeSwap()),
                variant("non-atomic-bitmap-or", "marks reach the bitmap by a non-atomic read-modify-write (50e92b3c)",
                        new NonAtomicBitmapOr()));
    }

    /** Returns the backend called {@code name}: {@code independent} or one of {@link #variants()}. */
    public static Optional<DirtyLogBackend> named(String name) {
        if (CORRECT.equals(name)) {
            return Optional.of(correct());
        }
        return variants().stream().filter(b -> b.name().equals(name)).findFirst();
    }

    private static DirtyLogBackend variant(String suffix, String bug, DirtyLogPaths paths) {
        return new IndependentBackend(CORRECT + "+" + suffix, "DELIBERATELY BROKEN variant of independent: " + bug, paths);
    }
}
