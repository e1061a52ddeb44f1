package org.dirtylog.independent;

/**
 * Broken variant {@code independent+unflushed-vcpu-log}: {@code kvm_arch_sync_dirty_log} is
 * left empty (the generic code's default), on the belief that the vCPUs fold their logs often
 * enough themselves (when 512 faults fill one, and on every exit to user space). Marks still in a
 * running vCPU's log when a harvest swaps are reported one harvest late: the harvest that had to
 * report a store that completed before it began does not.
 */
class UnflushedVcpuLog extends DirtyLogPaths {

    @Override
    void syncDirtyLog(IndependentVm vm, Memslot slot) {
    }
}
