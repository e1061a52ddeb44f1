package org.dirtylog.arch.ia64;

import org.dirtylog.kvm.ArchContext;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.ArchMemslot;
import org.dirtylog.kvm.Memslot;
import org.dirtylog.kvm.MemslotChange;
import org.dirtylog.kvm.Vcpu;

/**
 * IA64 ({@code arch/ia64/kvm/kvm-ia64.c}): vCPUs mark a VMM-side dirty log, which every harvest
 * first merges into the memslot's active bitmap ({@code kvm_ia64_sync_dirty_log}); then the
 * core's in-place exchange, grace period and flush.
 *
 * <p>The kernel held {@code dirty_log_lock} around the merge because its VMM set bits under
 * that lock. Here vCPUs mark the VMM log lock-free (an atomic set, then a queued word) and the
 * merge runs under the VM's slots lock like every harvest hook, so no lock of its own is needed.
 *
 * <p>The grace period matters here although vCPUs never touch a memslot bitmap: a write fault
 * marks the VMM log and then makes the page writable, two steps outside guest mode that a TLB
 * flush does not wait for. A vCPU can mark before the merge and make the page writable after
 * the write-protect: a writable page whose next write is never marked. Only the grace period,
 * which waits for the whole fault, prevents that.
 */
public final class Ia64Hooks implements ArchHooks {

    @Override
    public String name() {
        return "ia64";
    }

    @Override
    public ArchMemslot createArchMemslot(ArchContext kvm, long npages) {
        return new Ia64Memslot(kvm, npages);
    }

    @Override
    public boolean isWritable(Vcpu vcpu, Memslot slot, long page) {
        return state(slot).pageTable.isWritable(page);
    }

    @Override
    public void makeWritable(Vcpu vcpu, Memslot slot, long page) {
        state(slot).pageTable.makeWritable(page);
    }

    /** Marks the page in the VMM's dirty log, not in the memslot bitmap. TLA+: VcpuWriteFault(v). */
    @Override
    public void markPageDirty(Vcpu vcpu, Memslot slot, long page) {
        state(slot).mark(page);
    }

    /** Marks each frame of the run in the VMM's dirty log. TLA+: VcpuWriteFault(v). */
    @Override
    public void markPagesDirty(Vcpu vcpu, Memslot slot, long[] gfns, int from, int to) {
        Ia64Memslot state = state(slot);
        long base = slot.baseGfn();
        for (int i = from; i < to; i++) {
            state.mark(gfns[i] - base);
        }
    }

    /**
     * Merges the VMM log into the active bitmap. TLA+: MergeVmmLog. A bit a vCPU sets after the
     * merge stays in the VMM log and is merged by the next harvest, which the write then precedes.
     */
    @Override
    public void syncDirtyLog(ArchContext kvm, Memslot slot) {
        state(slot).mergeInto(slot.dirtyBitmap());
    }

    /** Purges the slot's translations ({@code kvm_flush_remote_tlbs} follows). TLA+: WriteProtect. */
    @Override
    public void writeProtectSlot(ArchContext kvm, Memslot slot) {
        state(slot).pageTable.writeProtectAll();
    }

    /**
     * A moved logged slot gets the old VMM log merged into its bitmap, so its pending pages survive
     * the move (S5); logging switched off drops what the VMM log still holds, so logging switched
     * on again starts clean (S4). Then the generic commit.
     */
    @Override
    public void commitMemoryRegion(ArchContext kvm, Memslot old, Memslot next, MemslotChange change) {
        if (change == MemslotChange.MOVE && old.dirtyLogged() && next.dirtyLogged()) {
            state(old).mergeInto(next.dirtyBitmap());
        } else if (change == MemslotChange.FLAGS_ONLY && old.dirtyLogged() && !next.dirtyLogged()) {
            state(old).reset();
        }
        ArchHooks.super.commitMemoryRegion(kvm, old, next, change);
    }

    private static Ia64Memslot state(Memslot slot) {
        return (Ia64Memslot) slot.arch();
    }
}
