package org.dirtylog.arch.ia64;

import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.ArchMemslot;
import org.dirtylog.kvm.Defect;
import org.dirtylog.kvm.Memslot;
import org.dirtylog.kvm.Vcpu;
import org.dirtylog.kvm.Vm;

/**
 * IA64 ({@code arch/ia64/kvm/kvm-ia64.c}): vCPUs mark a VMM-side dirty log; the harvest merges
 * it into the memslot's active bitmap under {@code dirty_log_lock}
 * ({@code kvm_ia64_sync_dirty_log}), then does the generic in-place swap, then flushes.
 */
public final class Ia64Hooks implements ArchHooks {

    private final ReentrantLock dirtyLogLock = new ReentrantLock();

    @Override
    public String name() {
        return "ia64";
    }

    /**
     * All defects but the x86 order. {@link Defect#NO_GRACE_PERIOD} applies although vCPUs
     * never touch a memslot bitmap here: a write fault marks the VMM log and then makes the
     * page writable in two steps outside guest mode, which a TLB flush does not wait for. A
     * vCPU can mark before the merge and make the page writable after {@code writeProtectAll}:
     * a writable page whose next write is never marked (a lost write). Only the grace period,
     * which waits for the whole fault, prevents it.
     */
    @Override
    public Set<Defect> applicableDefects() {
        return EnumSet.complementOf(EnumSet.of(Defect.WRITE_PROTECT_BEFORE_SWAP));
    }

    @Override
    public ArchMemslot createArchMemslot(Vm vm, long npages) {
        return new Ia64Memslot(npages, vm.defects());
    }

    @Override
    public boolean isWritable(Vcpu vcpu, Memslot slot, long page) {
        return ((Ia64Memslot) slot.arch()).pageTable.isWritable(page);
    }

    @Override
    public void makeWritable(Vcpu vcpu, Memslot slot, long page) {
        ((Ia64Memslot) slot.arch()).pageTable.makeWritable(page);
    }

    /** Marks the page in the VMM's dirty log, not in the memslot bitmap. TLA+: VcpuWriteFault(v). */
    @Override
    public void markPageDirty(Vcpu vcpu, Memslot slot, long page) {
        ((Ia64Memslot) slot.arch()).mark(page);
        vcpu.vm().widenSwapWindow();
    }

    /** Marks each frame of the run in the VMM's dirty log. TLA+: VcpuWriteFault(v). */
    @Override
    public void markPagesDirty(Vcpu vcpu, Memslot slot, long[] gfns, int from, int to) {
        long base = slot.baseGfn();
        for (int i = from; i < to; i++) {
            markPageDirty(vcpu, slot, gfns[i] - base);
        }
    }

    /** Purges the slot's translations and flushes remote TLBs ({@code kvm_flush_remote_tlbs}). TLA+: WriteProtect. */
    @Override
    public void writeProtectSlot(Vm vm, Memslot slot) {
        ((Ia64Memslot) slot.arch()).pageTable.writeProtectAll();
        vm.flushRemoteTlbs();
    }

    /**
     * Merges the VMM log into the active bitmap (TLA+: MergeVmmLog), then the generic in-place
     * swap, grace period and flush. A bit a vCPU sets after the merge stays in the VMM log and
     * is merged by the next harvest, which the write then precedes.
     */
    @Override
    public int updateDirtyLog(Vm vm, Memslot slot) {
        dirtyLogLock.lock();
        try {
            ((Ia64Memslot) slot.arch()).mergeInto(slot.dirtyBitmap());
            return ArchHooks.super.updateDirtyLog(vm, slot);
        } finally {
            dirtyLogLock.unlock();
        }
    }

    /** Merges the old VMM log into the moved slot's bitmap: its pending pages survive the move (S5). */
    @Override
    public void memslotMoved(Vm vm, Memslot old, Memslot moved) {
        if (moved.dirtyLogged()) {
            dirtyLogLock.lock();
            try {
                ((Ia64Memslot) old.arch()).mergeInto(moved.dirtyBitmap());
            } finally {
                dirtyLogLock.unlock();
            }
        }
    }

    /** Drops what the VMM log still holds, so logging switched on again starts clean (S4). */
    @Override
    public void dirtyLoggingDisabled(Vm vm, Memslot slot) {
        dirtyLogLock.lock();
        try {
            ((Ia64Memslot) slot.arch()).reset();
        } finally {
            dirtyLogLock.unlock();
        }
    }
}
