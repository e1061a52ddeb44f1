package org.dirtylog.independent;

/**
 * Broken variant {@code independent+plain-clear}: the harvest drains each word of a vCPU's log
 * by copying it and then storing 0, not by one atomic exchange. A fault the vCPU logs in that
 * word between the copy and the store is wiped; the page stays writable, so neither that store
 * nor the ones after it are reported until the page is write-protected again.
 */
class PlainClear extends DirtyLogPaths {

    @Override
    void syncDirtyLog(IndependentVm vm, Memslot slot) {
        DirtyBitmap active = slot.activeBitmap();
        for (IndependentVcpu v : vm.vcpus()) {
            VcpuDirtyLog log = slot.vcpuLogs[v.id];
            for (int w = 0; w < log.nwords(); w++) {
                long bits = log.log[w];
                log.log[w] = 0;
                if (bits != 0) {
                    setBits(active, w, bits);
                }
            }
        }
    }
}
