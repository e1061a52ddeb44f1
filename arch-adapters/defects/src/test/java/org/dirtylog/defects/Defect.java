package org.dirtylog.defects;

import java.util.EnumSet;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.CoreSeams;
import org.dirtylog.kvm.ReferenceBackend;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.DirtyLogBackend;

/**
 * A historical bug of the semantics note (sections 6 and 8), rebuilt as a test fixture: the correct
 * reference core composed with one broken hook or seam, in the bug's natural window (nothing
 * widens it). The backend's name is the correct one's plus {@code "+" + label()}, e.g.
 * {@code reference-x86+edde99ce}.
 */
public enum Defect {

    /** edde99ce: x86 write-protects before the bitmap exchange; a write after the harvest is never reported. */
    WRITE_PROTECT_BEFORE_SWAP("edde99ce", EnumSet.of(Arch.X86), WriteProtectBeforeSwap::new, CoreSeams.KERNEL),
    /** 50e92b3c: a bitmap word is set by plain read-modify-write; two vCPUs dirtying one word lose a bit. */
    NON_ATOMIC_BIT_SET("50e92b3c", EnumSet.allOf(Arch.class), UnaryOperator.identity(),
            CoreSeams.KERNEL.withBitmaps(NonAtomicBitSet.ALLOCATOR)),
    /** 6dbf79e7: the harvest returns before the remote TLB flush completes; a cached writable mapping skips the fault. */
    FLUSH_AFTER_UNLOCK("6dbf79e7", EnumSet.allOf(Arch.class), FlushAfterUnlock::new, CoreSeams.KERNEL),
    /** b64d740e: no write-protect or flush when logging is switched on; writes just after enabling are not reported. */
    NO_FLUSH_ON_LOG_ENABLE("b64d740e", EnumSet.allOf(Arch.class), NoFlushOnLogEnable::new, CoreSeams.KERNEL),
    /** The spare bitmap is not cleared before it becomes active; user space sees pages from two harvests ago. */
    SWITCH_SKIPS_CLEAR("switch-skips-clear", EnumSet.allOf(Arch.class), SwitchSkipsClear::new, CoreSeams.KERNEL),
    /** No grace period after the exchange; a vCPU still holding the old active bitmap marks it after user space read it. */
    NO_GRACE_PERIOD("no-grace-period", EnumSet.allOf(Arch.class), UnaryOperator.identity(),
            CoreSeams.KERNEL.withGracePeriods(new NoGracePeriod())),
    /** Logging off then on reuses the old bitmaps uncleared; user space sees pages dirtied before the toggle. */
    STALE_BITS_AFTER_LOG_TOGGLE("stale-bits-after-log-toggle", EnumSet.allOf(Arch.class), StaleBitsAfterLogToggle::new,
            CoreSeams.KERNEL),
    /** Moving a logged slot gives it fresh bitmaps; pages dirtied before the move are never reported. */
    MOVE_DROPS_BITMAP("move-drops-bitmap", EnumSet.allOf(Arch.class), MoveDropsBitmap::new, CoreSeams.KERNEL),
    /** KVM_GET_DIRTY_LOG on a clean slot leaves the caller's buffer untouched; user space sees stale bits. */
    CLEAN_GET_LEAVES_BUFFER("clean-get-leaves-buffer", EnumSet.allOf(Arch.class), UnaryOperator.identity(),
            CoreSeams.KERNEL),
    /** New bitmaps carry set bits at and past npages in the last word; user space sees pages that do not exist. */
    BITS_PAST_NPAGES("bits-past-npages", EnumSet.allOf(Arch.class), UnaryOperator.identity(),
            CoreSeams.KERNEL.withBitmaps(BitsPastNpages.ALLOCATOR)),
    /** KVM_CLEAR_DIRTY_LOG write-protects a word's pages before it clears their bits; a fault in between is lost. */
    CLEAR_REARMS_FIRST("clear-rearms-first", EnumSet.of(Arch.X86), ClearReArmsFirst::new, CoreSeams.KERNEL),
    /** 53eac7a8: KVM_CLEAR_DIRTY_LOG skips a slot's partial last word; its pages are never cleared or re-armed. */
    CLEAR_SKIPS_PARTIAL_WORD("53eac7a8", EnumSet.of(Arch.X86), ClearSkipsPartialWord::new, CoreSeams.KERNEL),
    /** 4ddc9204: KVM_CLEAR_DIRTY_LOG reads one word past ALIGN(num_pages, 64) / 8 bytes of the user bitmap. */
    CLEAR_READS_WORD_TOO_MANY("4ddc9204", EnumSet.of(Arch.X86), ClearReadsWordTooMany::new),
    /** KVM_GET_DIRTY_LOG clears and re-arms in manual-protect mode; pages vanish before user space clears them. */
    GET_CLEARS_IN_MANUAL_MODE("get-clears-in-manual-mode", EnumSet.of(Arch.X86), GetClearsInManualMode::new),
    /** KVM_DIRTY_LOG_INITIALLY_SET accepted and ignored; pages written before logging was on are never reported. */
    INITIALLY_SET_IGNORED("initially-set-ignored", EnumSet.of(Arch.X86), UnaryOperator.identity(),
            CoreSeams.KERNEL.withBitmaps(InitiallySetIgnored.ALLOCATOR)),
    /** KVM_CLEAR_DIRTY_LOG reads the user bitmap before its other checks; -EFAULT where the kernel says -EINVAL or -ENOENT. */
    CLEAR_ERRNO_ORDER("clear-errno-order", EnumSet.of(Arch.X86), ClearErrnoOrder::new),
    /** KVM_RESET_DIRTY_RINGS resets entries not marked RESET; entries the collector never saw are lost. */
    RESET_IGNORES_HARVEST_ORDER("reset-ignores-harvest-order", EnumSet.of(Arch.X86), UnaryOperator.identity(),
            CoreSeams.KERNEL.withRings(RingEntries.RESET_IGNORES_HARVEST_ORDER)),
    /** No KVM_EXIT_DIRTY_RING_FULL at the soft limit (before cf87ac73's request); pushes overwrite unharvested entries. */
    NO_SOFT_FULL_EXIT("no-soft-full-exit", EnumSet.of(Arch.X86), UnaryOperator.identity(),
            CoreSeams.KERNEL.withRings(RingEntries.NO_SOFT_FULL_EXIT)),
    /** A ring entry's flags are published before its slot and offset; the collector may read the previous lap's page. */
    FLAGS_BEFORE_FIELDS("flags-before-fields", EnumSet.of(Arch.X86), UnaryOperator.identity(),
            CoreSeams.KERNEL.withRings(RingEntries.FLAGS_BEFORE_FIELDS)),
    /** The reset's masked re-arm is off by one page: pages not harvested are re-armed, harvested ones stay writable. */
    RESET_REARMS_UNHARVESTED("reset-rearms-unharvested", EnumSet.of(Arch.X86), ResetReArmsUnharvested::new,
            CoreSeams.KERNEL),
    /** KVM_GET_DIRTY_LOG answers with the ring on instead of -ENXIO, reporting a bitmap nothing marks. */
    GET_WORKS_WITH_RING("get-works-with-ring", EnumSet.of(Arch.X86), UnaryOperator.identity(), CoreSeams.KERNEL),
    /** KVM_CLEAR_DIRTY_LOG answers 0 with the ring on instead of -ENXIO, clearing bits nothing marks. */
    CLEAR_WORKS_WITH_RING("clear-works-with-ring", EnumSet.of(Arch.X86), UnaryOperator.identity(), CoreSeams.KERNEL);

    private final String label;
    private final Set<Arch> arches;
    private final UnaryOperator<ArchHooks> hooks;
    private final CoreSeams seams;
    /** Wraps each VM of the correct backend, for a bug at the ioctl boundary; null for a bug in the core. */
    private final UnaryOperator<BackendVm> vm;

    Defect(String label, Set<Arch> arches, UnaryOperator<ArchHooks> hooks, CoreSeams seams) {
        this.label = label;
        this.arches = arches;
        this.hooks = hooks;
        this.seams = seams;
        this.vm = null;
    }

    Defect(String label, Set<Arch> arches, UnaryOperator<BackendVm> vm) {
        this.label = label;
        this.arches = arches;
        this.hooks = UnaryOperator.identity();
        this.seams = CoreSeams.KERNEL;
        this.vm = vm;
    }

    /** Returns the fix id or short slug used in backend names, e.g. {@code edde99ce}. */
    public String label() {
        return label;
    }

    /**
     * Returns true when the bug exists on {@code arch} (the RFC's publish order is x86's only, and
     * so are the manual-protect bugs: only x86 offers manual protect).
     */
    public boolean appliesTo(Arch arch) {
        return arches.contains(arch);
    }

    /**
     * Returns true for a race of the bitmap harvests: a write lost only when a vCPU runs inside a
     * window of the harvest (the race rules' catch table). {@link #FLAGS_BEFORE_FIELDS} is a race
     * too, of the dirty ring's collector, measured by the ring rules instead.
     */
    public boolean isRace() {
        return this == WRITE_PROTECT_BEFORE_SWAP || this == NON_ATOMIC_BIT_SET || this == FLUSH_AFTER_UNLOCK
                || this == NO_GRACE_PERIOD || this == CLEAR_REARMS_FIRST;
    }

    /**
     * Returns the reference backend of {@code arch} with this bug, named e.g. {@code reference-x86+edde99ce}.
     *
     * @throws IllegalArgumentException when the bug does not exist on {@code arch}
     */
    public DirtyLogBackend backend(Arch arch) {
        if (this == CLEAN_GET_LEAVES_BUFFER && appliesTo(arch)) {
            return new CleanGetLeavesBuffer(arch.backend(), arch.backendName() + "+" + label);
        }
        if (vm != null && appliesTo(arch)) {
            return new WrappedVmBackend(arch.backend(), arch.backendName() + "+" + label, "with " + label, vm);
        }
        if ((this == GET_WORKS_WITH_RING || this == CLEAR_WORKS_WITH_RING) && appliesTo(arch)) {
            return new GetWorksWithRing(arch.backend(), arch.backendName() + "+" + label, this == CLEAR_WORKS_WITH_RING);
        }
        return referenceBackend(arch);
    }

    /**
     * Returns the reference backend of {@code arch} with this bug, for tests that need its VMs'
     * internals ({@link ReferenceBackend#createReferenceVm()}).
     *
     * @throws IllegalArgumentException when the bug does not exist on {@code arch}, or lives at the
     *     ioctl boundary rather than in the core ({@link #CLEAN_GET_LEAVES_BUFFER}, the CLEAR
     *     argument and copy bugs, {@link #GET_CLEARS_IN_MANUAL_MODE}, {@link #GET_WORKS_WITH_RING},
     *     {@link #CLEAR_WORKS_WITH_RING})
     */
    public ReferenceBackend referenceBackend(Arch arch) {
        if (!appliesTo(arch)) {
            throw new IllegalArgumentException(this + " does not apply to " + arch);
        }
        if (this == CLEAN_GET_LEAVES_BUFFER || vm != null || this == GET_WORKS_WITH_RING
                || this == CLEAR_WORKS_WITH_RING) {
            throw new IllegalArgumentException(this + " is built around the VM, not inside the core");
        }
        ReferenceBackend correct = arch.backend();
        return arch.compose(correct.name() + "+" + label, correct.description() + "; with " + label + " (self-test fixture)",
                hooks, seams);
    }
}
