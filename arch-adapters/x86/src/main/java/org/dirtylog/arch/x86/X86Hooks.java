package org.dirtylog.arch.x86;

import java.util.EnumSet;
import java.util.Set;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.ArchMemslot;
import org.dirtylog.kvm.Defect;
import org.dirtylog.kvm.Memslot;
import org.dirtylog.kvm.Memslots;
import org.dirtylog.kvm.SlotPageTable;
import org.dirtylog.kvm.Vcpu;
import org.dirtylog.kvm.Vm;

/**
 * x86 ({@code arch/x86/kvm/x86.c}): slot-wide write protection of the shadow/TDP mappings and
 * a harvest that publishes a new memslots array with the two bitmaps exchanged.
 */
public final class X86Hooks implements ArchHooks {

    private static final int WINDOW_YIELDS = 16;

    @Override
    public String name() {
        return "x86";
    }

    @Override
    public Set<Defect> applicableDefects() {
        return EnumSet.allOf(Defect.class);
    }

    @Override
    public ArchMemslot createArchMemslot(Vm vm, long npages) {
        return SlotPageTable.allocate(npages);
    }

    @Override
    public boolean isWritable(Vcpu vcpu, Memslot slot, long page) {
        return ((SlotPageTable) slot.arch()).isWritable(page);
    }

    @Override
    public void makeWritable(Vcpu vcpu, Memslot slot, long page) {
        ((SlotPageTable) slot.arch()).makeWritable(page);
    }

    /** Write-protects the slot ({@code kvm_mmu_slot_remove_write_access}) and flushes remote TLBs. TLA+: WriteProtect. */
    @Override
    public void writeProtectSlot(Vm vm, Memslot slot) {
        ((SlotPageTable) slot.arch()).writeProtectAll();
        vm.flushRemoteTlbs();
    }

    /**
     * Harvests in the order of edde99ce ("KVM: Write protect memory after slot swap"):
     * 1. clear the spare bitmap, 2. publish a memslots array with the bitmaps exchanged,
     * 3. wait a grace period, 4. free the old array, 5. write-protect and flush.
     * Write-protecting first (the RFC) lets a fault between 5 and 2 log into the bitmap being
     * harvested and leave the page writable, so its later writes go unlogged
     * ({@link Defect#WRITE_PROTECT_BEFORE_SWAP}). Write-protecting last is safe: every page
     * writable at the swap was marked in the bitmap being harvested, and after the flush every
     * write faults into the new one.
     */
    @Override
    public int updateDirtyLog(Vm vm, Memslot slot) {
        if (!slot.dirtyBitmap().isDirty()) {
            return 1;
        }
        boolean rfcOrder = vm.has(Defect.WRITE_PROTECT_BEFORE_SWAP);
        if (rfcOrder) {
            writeProtectSlot(vm, slot);
            for (int i = 0; i < WINDOW_YIELDS; i++) {
                Thread.yield();
            }
        }
        vm.clearSpareBitmap(slot);
        Memslot swapped = slot.withBitmapsExchanged();
        Memslots old = vm.publishMemslots(vm.memslots().with(swapped));     // TLA+: PublishMemslots
        vm.gracePeriod();                                                   // TLA+: GracePeriod
        old.free();                                                         // TLA+: FreeOldMemslots
        if (!rfcOrder) {
            vm.widenFlushWindow();
            writeProtectSlot(vm, swapped);                                  // TLA+: WriteProtect
        }
        return 0;
    }
}
