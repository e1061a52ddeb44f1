package org.dirtylog.conformance;

import org.dirtylog.spi.Capability;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.UserDirtyLog;

/**
 * One of the harvest styles of the semantics note §4 and §10: {@code KVM_GET_DIRTY_LOG},
 * {@code KVM_SWITCH_DIRTY_LOG} followed by a read of the cold bitmap, or, in manual-protect mode,
 * {@code KVM_GET_DIRTY_LOG} then {@code KVM_CLEAR_DIRTY_LOG} of exactly what it returned. Each
 * returns the pages dirtied since the previous harvest of the slot.
 */
public sealed interface Harvester permits Harvester.Get, Harvester.Switch, Harvester.GetClear {

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

    /** The harvest styles. */
    enum Style {
        GET(Capability.GET_DIRTY_LOG, "GET"),
        SWITCH(Capability.USER_DIRTY_LOG, "SWITCH"),
        GET_CLEAR(Capability.MANUAL_DIRTY_LOG_PROTECT, "GET+CLEAR");

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

        /** Returns a harvester of this style for {@code slot}, set up (addresses asked) if needed. */
        public Harvester on(Scenario scenario, Scenario.Slot slot) {
            return switch (this) {
                case GET -> new Get(scenario, slot);
                case SWITCH -> Switch.start(scenario, slot);
                case GET_CLEAR -> new GetClear(scenario, slot);
            };
        }

        /** Returns GET when the backend has it, else SWITCH. */
        public static Style preferred(Scenario scenario) {
            return scenario.has(Capability.GET_DIRTY_LOG) ? GET : SWITCH;
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
