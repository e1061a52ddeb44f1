package org.dirtylog.independent;

import org.dirtylog.spi.KvmApi;

/**
 * Broken variant {@code independent+store-outside-guest-mode}: the vCPU translates the gpa and
 * takes the write fault in guest mode, then leaves guest mode and only then stores. A harvest
 * that write-protects the page and waits for the vCPU in between returns before the store lands;
 * the store completes after the harvest, unlogged, on a page the harvest already reported.
 */
class StoreOutsideGuestMode extends DirtyLogPaths {

    @Override
    boolean guestWrite(IndependentVcpu vcpu, long gpa, long value) {
        if (!vcpu.enterGuestMode()) {
            return false;
        }
        Memslot slot;
        long offset;
        try {
            slot = vcpu.translate(gpa);
            if (slot == null) {
                return false;
            }
            offset = gpa - slot.gpa;
            if (slot.logging()) {
                writeFault(vcpu, slot, offset >>> KvmApi.PAGE_SHIFT);
            }
        } finally {
            vcpu.exitGuestMode();
        }
        slot.memory.set(GUEST_WORD, offset, value);
        return true;
    }
}
