package org.dirtylog.independent;

import java.lang.foreign.MemorySegment;

/**
 * Broken variant {@code independent+no-grace-period}: the harvest of the RFC's PowerPC and IA64
 * paths, which wait for no vCPU: drain the logs, test for a clean slot, swap in place,
 * write-protect every vCPU, return. A fold that took marks out of a log before the drain, or
 * loaded the old active bitmap before the swap, sets its bits after the harvest looked: in the
 * active bitmap after a "clean" answer, or in the harvested bitmap after user space read it,
 * which the next switch clears.
 */
class NoGracePeriod extends DirtyLogPaths {

    @Override
    int harvest(IndependentVm vm, Memslot slot, MemorySegment out) {
        syncDirtyLog(vm, slot);
        if (slot.activeBitmap().isClean()) {
            if (out != null) {
                out.fill((byte) 0);
            }
            return out == null ? 1 : 0;
        }
        DirtyBitmap harvested = slot.activeBitmap();
        slot.coldBitmap().clear();
        slot.swapBitmaps();
        for (IndependentVcpu v : vm.vcpus()) {
            slot.vcpuLogs[v.id].writeProtectAll();
        }
        if (out != null) {
            harvested.copyTo(out);
        }
        return 0;
    }
}
