package org.dirtylog.arch.x86;

import org.dirtylog.kvm.ArchContext;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.ArchMemslot;
import org.dirtylog.kvm.BitmapExchange;
import org.dirtylog.kvm.Memslot;
import org.dirtylog.kvm.SlotPageTable;
import org.dirtylog.kvm.Vcpu;
import org.dirtylog.spi.DirtyGfn;
import org.dirtylog.spi.KvmApi;

/**
 * x86 ({@code arch/x86/kvm/x86.c}, {@code mmu.c}): one shadow/TDP page table per slot, write-
 * protected slot-wide in O(1) by a generation bump or page by page for a mask, and a harvest
 * that exchanges the bitmaps by publishing a new memslots array. The core runs the harvest in
 * the order of edde99ce: the write-protect comes after the exchange. The only reference
 * architecture with manual protect: {@code KVM_CLEAR_DIRTY_LOG} re-arms page by page.
 */
public final class X86Hooks implements ArchHooks {

    @Override
    public String name() {
        return "x86";
    }

    /** Returns true: x86 has {@code CONFIG_KVM_GENERIC_DIRTYLOG_READ_PROTECT}, so manual protect and {@code KVM_CLEAR_DIRTY_LOG}. */
    @Override
    public boolean genericDirtyLogReadProtect() {
        return true;
    }

    @Override
    public ArchMemslot createArchMemslot(ArchContext kvm, long npages) {
        return SlotPageTable.allocate(npages);
    }

    @Override
    public boolean isWritable(Vcpu vcpu, Memslot slot, long page) {
        return table(slot).isWritable(page);
    }

    @Override
    public void makeWritable(Vcpu vcpu, Memslot slot, long page) {
        table(slot).makeWritable(page);
    }

    /** Publishes a memslots array with the bitmaps exchanged ({@code install_new_memslots}). */
    @Override
    public BitmapExchange bitmapExchange() {
        return BitmapExchange.PUBLISH_MEMSLOTS;
    }

    /** Write-protects the slot ({@code kvm_mmu_slot_remove_write_access}). TLA+: WriteProtect. */
    @Override
    public void writeProtectSlot(ArchContext kvm, Memslot slot) {
        table(slot).writeProtectAll();
    }

    /** Write-protects exactly the pages of the mask ({@code kvm_mmu_write_protect_pt_masked}). */
    @Override
    public void enableLogDirtyPtMasked(ArchContext kvm, Memslot slot, long firstPage, long mask) {
        table(slot).writeProtect(firstPage, mask);
    }

    /**
     * Returns {@code KVM_DIRTY_RING_MAX_ENTRIES * sizeof(struct kvm_dirty_gfn)}, 1 MiB: x86 selects
     * {@code HAVE_KVM_DIRTY_RING_TSO} and {@code _ACQ_REL}, and maps the ring at page 64 of the vCPU fd.
     */
    @Override
    public long dirtyRingMaxBytes() {
        return KvmApi.KVM_DIRTY_RING_MAX_ENTRIES * DirtyGfn.SIZE;
    }

    private static SlotPageTable table(Memslot slot) {
        return (SlotPageTable) slot.arch();
    }
}
