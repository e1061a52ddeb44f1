package org.dirtylog.independent;

import java.lang.foreign.MemorySegment;

/**
 * Broken variant {@code independent+protect-before-swap}: the harvest write-protects every vCPU
 * first, then drains, swaps and waits for a grace period, the order of the RFC's x86 path that
 * mainline fixed in edde99ce. A store that faults between the write protection and the swap is
 * logged into the bitmap being harvested and leaves its page writable: every later store to that
 * page goes unlogged until the harvest after next.
 */
class ProtectBeforeSwap extends DirtyLogPaths {

    @Override
    int harvest(IndependentVm vm, Memslot slot, MemorySegment out) {
        writeProtect(vm, slot);
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
        vm.waitForVcpus();
        if (out != null) {
            harvested.copyTo(out);
        }
        return 0;
    }
}
