package org.dirtylog.independent;

/**
 * Broken variant {@code independent+no-grace-period}: after the in-place swap the harvest
 * write-protects every vCPU but waits for none of them, as the RFC's PowerPC and IA64 paths
 * (swap, then flush the shadow mappings) do. A fold that loaded the old active bitmap just before
 * the swap sets its bits after user space has read that bitmap, and the next switch clears them.
 */
class NoGracePeriod extends DirtyLogPaths {

    @Override
    void writeProtect(IndependentVm vm, Memslot slot) {
        for (IndependentVcpu v : vm.vcpus()) {
            slot.vcpuLogs[v.id].writeProtectAll();
        }
    }
}
