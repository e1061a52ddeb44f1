package org.dirtylog.conformance;

import java.util.ArrayList;
import java.util.List;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.DirtyGfn;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.UserDirtyLog;

/**
 * One of the harvest styles of the semantics note §4 and §10: {@code KVM_GET_DIRTY_LOG},
 * {@code KVM_SWITCH_DIRTY_LOG} followed by a read of the cold bitmap, or, in manual-protect mode,
 * {@code KVM_GET_DIRTY_LOG} then {@code KVM_CLEAR_DIRTY_LOG} of exactly what it returned, or the dirty ring (kick,
 * collect, {@code KVM_RESET_DIRTY_RINGS}). Each
 * returns the pages dirtied since the previous harvest of the slot.
 */
public sealed interface Harvester permits Harvester.Get, Harvester.Switch, Harvester.GetClear, Harvester.Ring {

    /** Returns the pages the backend reports as dirtied since the previous harvest. */
    default UserBitmap harvest() {
        return harvest(() -> { });
    }

    /**
     * Returns the pages the backend reports as dirtied since the previous harvest, running
     * {@code atReturn} the moment the harvest is complete (after the ioctl, and for a switch
     * after the cold bitmap was copied), before the suite records anything.
     */
    UserBitmap harvest(Runnable atReturn);

    /**
     * Returns what the harvester knows about page {@code page} beyond its bitmaps, for a FAIL
     * message: nothing for the bitmap styles; for the ring, where the page's entries were and
     * which rings came back full.
     */
    default String explain(long page) {
        return "";
    }

        /** The harvest styles. */
    enum Style {
        GET(Capability.GET_DIRTY_LOG, "GET"),
        SWITCH(Capability.USER_DIRTY_LOG, "SWITCH"),
        GET_CLEAR(Capability.MANUAL_DIRTY_LOG_PROTECT, "GET+CLEAR"),
        RING(Capability.DIRTY_LOG_RING, "RING");

        private final Capability needs;
        private final String label;

        Style(Capability needs, String label) {
            this.needs = needs;
            this.label = label;
        }

        /** Returns the capability the style needs. */
        public Capability needs() {
            return needs;
        }

        /** Returns the name reports use, e.g. {@code GET+CLEAR}. */
        public String label() {
            return label;
        }

        /**
         * Puts the VM in the mode this style harvests in; call it before creating the slot. For
         * GET+CLEAR: manual protect with the flags the backend declares, INITIALLY_SET included,
         * as the kernel's {@code dirty_log_test -M clear-log} enables them.
         */
        public void prepare(Scenario scenario) {
            if (this == GET_CLEAR) {
                scenario.enableManualProtect(scenario.declaredManualFlags());
            }
        }

        /**
         * Returns a harvester of this style for {@code slot}, set up if needed (the RFC's bitmap
         * addresses asked; the ring enabled, which must happen before the scenario's first vCPU).
         */
        public Harvester on(Scenario scenario, Scenario.Slot slot) {
            return switch (this) {
                case GET -> new Get(scenario, slot);
                case SWITCH -> Switch.start(scenario, slot);
                case GET_CLEAR -> new GetClear(scenario, slot);
                case RING -> Ring.start(scenario, slot);
            };
        }

        /** Returns GET when the backend has it, else SWITCH. */
        public static Style preferred(Scenario scenario) {
            return scenario.has(Capability.GET_DIRTY_LOG) ? GET : SWITCH;
        }
    }

    /**
     * Harvest with the dirty ring, the way api.rst 8.29 asks: kick every vCPU, collect every ring
     * in order marking RESET, {@code KVM_RESET_DIRTY_RINGS} (which must return what was marked),
     * and only then is the harvest complete; writers that waited on a full ring are resumed
     * after it. Entries of other slots are not this slot's harvest and are left out.
     */
    final class Ring implements Harvester {
        /** The ring size the style asks for: api.rst's recommendation, 64 KiB (4096 entries). */
        static final long BYTES = 64 << 10;

        private final Scenario scenario;
        private final Scenario.Slot slot;
        private final RingCollector collector;

        private Ring(Scenario scenario, Scenario.Slot slot, RingCollector collector) {
            this.scenario = scenario;
            this.slot = slot;
            this.collector = collector;
        }

        /** Returns a ring harvester for {@code slot} after enabling the ring (before any vCPU exists). */
        public static Ring start(Scenario scenario, Scenario.Slot slot) {
            return new Ring(scenario, slot, new RingCollector(scenario, DirtyRings.enable(scenario, BYTES)));
        }

        @Override
        public UserBitmap harvest(Runnable atReturn) {
            RingCollector.Harvest h = collector.harvest(atReturn);
            Expect.that(h.reset() == h.taken().size(), "KVM_RESET_DIRTY_RINGS after harvest " + h.number(),
                    "the " + h.taken().size() + " entries marked RESET", CallText.show(IoctlResult.ofKernelReturn(h.reset())));
            scenario.resumeWritersOnFullRings();
            List<Long> pages = new ArrayList<>();
            for (RingCollector.Harvested e : h.taken()) {
                if (e.entry().slot() == DirtyGfn.slotOf(0, slot.id())) {
                    Expect.that(e.entry().offset() >= 0 && e.entry().offset() < slot.npages(), "entry " + e.index()
                            + " of vcpu" + e.vcpu() + "'s ring", "an offset below " + slot.npages(), e.entry().toString());
                    pages.add(e.entry().offset());
                }
            }
            UserBitmap bitmap = UserBitmap.of(slot.npages(), pages);
            scenario.recorder().note("pages of slot " + slot.id() + " in the entries", bitmap.describe());
            return bitmap;
        }

        @Override
        public String explain(long page) {
            long entries = collector.ring().entries();
            List<String> seen = new ArrayList<>();
            for (RingCollector.Harvested h : collector.log()) {
                if (h.entry().slot() == DirtyGfn.slotOf(0, slot.id()) && h.entry().offset() == page && seen.size() < 4) {
                    seen.add("vcpu" + h.vcpu() + " ring index " + h.index() + " (position " + h.position(entries)
                            + ") in ring harvest " + h.harvest());
                }
            }
            return "entries for page " + page + ": " + (seen.isEmpty() ? "none" : String.join(", ", seen))
                    + "; " + collector.fullRings() + "; writers resumed after KVM_EXIT_DIRTY_RING_FULL: "
                    + scenario.resumedAfterRingFull();
        }
    }

    /** Harvest with {@code KVM_GET_DIRTY_LOG}. */
    record Get(Scenario scenario, Scenario.Slot slot) implements Harvester {
        @Override
        public UserBitmap harvest(Runnable atReturn) {
            return scenario.getDirtyLog(slot, atReturn);
        }
    }

    /**
     * Harvest in manual-protect mode: {@code KVM_GET_DIRTY_LOG} (which only copies), then
     * {@code KVM_CLEAR_DIRTY_LOG} of exactly the pages it returned, the consumer's duty of the
     * semantics note §8 C4. The harvest ends when CLEAR returned: page contents read after that
     * include every write the cleared bits stood for.
     */
    record GetClear(Scenario scenario, Scenario.Slot slot) implements Harvester {
        @Override
        public UserBitmap harvest(Runnable atReturn) {
            UserBitmap got = scenario.getDirtyLog(slot);
            scenario.clearDirtyLog(slot, got, atReturn);
            return got;
        }
    }

    /**
     * Harvest with {@code KVM_SWITCH_DIRTY_LOG}: user space remembers which of the two addresses
     * is active, as RFC 4.40 requires, and reads the cold one after a switch that returned 0.
     */
    final class Switch implements Harvester {
        private final Scenario scenario;
        private final Scenario.Slot slot;
        private long active;
        private long cold;

        private Switch(Scenario scenario, Scenario.Slot slot, long active, long cold) {
            this.scenario = scenario;
            this.slot = slot;
            this.active = active;
            this.cold = cold;
        }

        /** Returns a harvester for {@code slot} after asking the backend for the two bitmap addresses. */
        public static Switch start(Scenario scenario, Scenario.Slot slot) {
            IoctlResult<UserDirtyLog> r = scenario.userDirtyLogAddr(slot.id());
            Expect.that(r.isOk(), "KVM_GET_USER_DIRTY_LOG_ADDR(slot=" + slot.id() + ") of a logged slot",
                    "0", CallText.show(r));
            return new Switch(scenario, slot, r.value().dirtyBitmap(), r.value().dirtyBitmapOld());
        }

        @Override
        public UserBitmap harvest(Runnable atReturn) {
            long harvested = active;
            UserBitmap[] copy = new UserBitmap[1];
            IoctlResult<Integer> r = scenario.switchDirtyLog(slot.id(), result -> {
                // The harvest ends when user space has copied the cold bitmap, before anything is recorded.
                if (result.isOk() && result.value() == 0) {
                    copy[0] = scenario.copyUserBitmap(harvested, slot.npages());
                }
                atReturn.run();
            });
            if (!r.isOk() || r.value() != 0) {
                Expect.that(r.isOk() && r.value() == 1, "KVM_SWITCH_DIRTY_LOG(slot=" + slot.id() + ")", "0 or 1",
                        CallText.show(r));
                return UserBitmap.clean(slot.npages());
            }
            active = cold;
            cold = harvested;
            if (copy[0] == null) {
                return scenario.readUserBitmap(harvested, slot.npages(), "cold bitmap of slot " + slot.id());
            }
            scenario.recorder().note("read cold bitmap of slot " + slot.id(), copy[0].describe());
            return copy[0];
        }

        /** Returns the address user space believes is active now. */
        public long active() {
            return active;
        }

        /** Returns the address user space believes is cold now. */
        public long cold() {
            return cold;
        }
    }
}
