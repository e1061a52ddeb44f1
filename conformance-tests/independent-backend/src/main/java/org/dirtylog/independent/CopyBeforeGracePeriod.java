package org.dirtylog.independent;

import java.lang.foreign.MemorySegment;

/**
 * Broken variant {@code independent+copy-before-grace-period}: {@code KVM_GET_DIRTY_LOG} copies
 * the harvested bitmap to the user buffer right after the swap, before the write-protect pass
 * that is also the grace period. A fold that loaded the old active bitmap before the swap sets
 * its bits after the copy; they stay in the cold bitmap, which the next harvest clears.
 */
class CopyBeforeGracePeriod extends DirtyLogPaths {

    @Override
    int harvest(IndependentVm vm, Memslot slot, MemorySegment out) {
        syncDirtyLog(vm, slot);
        vm.waitForVcpus();
        if (slot.activeBitmap().isClean()) {
            if (out != null) {
                out.fill((byte) 0);
            }
            return out == null ? 1 : 0;
        }
        DirtyBitmap harvested = slot.activeBitmap();
        slot.coldBitmap().clear();
        slot.swapBitmaps();
        if (out != null) {
            harvested.copyTo(out);
        }
        writeProtect(vm, slot);
        return 0;
    }
}
