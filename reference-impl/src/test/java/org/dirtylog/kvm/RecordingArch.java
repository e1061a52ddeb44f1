package org.dirtylog.kvm;

import java.util.ArrayList;
import java.util.List;

/**
 * A minimal architecture for the core's own tests: one {@link SlotPageTable} per slot, the
 * bitmap exchange it is given, and every VM-side hook call and grace period recorded in order,
 * as TLA+ action names where there is one.
 */
final class RecordingArch implements ArchHooks {

    /** VM-side calls in order; written under the slots lock, read by the test thread after the ioctl returned. */
    final List<String> calls = new ArrayList<>();
    private final BitmapExchange exchange;

    RecordingArch(BitmapExchange exchange) {
        this.exchange = exchange;
    }

    /** Returns a VM of this architecture whose grace periods are recorded too. */
    Vm vm() {
        return new Vm(this, CoreSeams.KERNEL.withGracePeriods(new GracePeriodPolicy() {
            @Override
            public void memslotsPublished(Srcu srcu) {
                calls.add("GracePeriod(memslots)");
                GracePeriodPolicy.super.memslotsPublished(srcu);
            }

            @Override
            public void bitmapsExchanged(Srcu srcu) {
                calls.add("GracePeriod(bitmaps)");
                GracePeriodPolicy.super.bitmapsExchanged(srcu);
            }
        }), Vm.DEFAULT_MEMORY_SLOTS);
    }

    @Override
    public String name() {
        return "recording";
    }

    @Override
    public ArchMemslot createArchMemslot(ArchContext kvm, long npages) {
        calls.add("createArchMemslot");
        return SlotPageTable.allocate(npages);
    }

    @Override
    public void commitMemoryRegion(ArchContext kvm, Memslot old, Memslot next, MemslotChange change) {
        calls.add("commitMemoryRegion(" + change + ")");
        ArchHooks.super.commitMemoryRegion(kvm, old, next, change);
    }

    @Override
    public boolean isWritable(Vcpu vcpu, Memslot slot, long page) {
        return ((SlotPageTable) slot.arch()).isWritable(page);
    }

    @Override
    public void makeWritable(Vcpu vcpu, Memslot slot, long page) {
        ((SlotPageTable) slot.arch()).makeWritable(page);
    }

    @Override
    public void syncDirtyLog(ArchContext kvm, Memslot slot) {
        calls.add("sync");
    }

    @Override
    public BitmapExchange bitmapExchange() {
        calls.add(exchange == BitmapExchange.IN_PLACE ? "SwapBitmaps" : "PublishMemslots");
        return exchange;
    }

    @Override
    public void writeProtectSlot(ArchContext kvm, Memslot slot) {
        calls.add("WriteProtect");
        ((SlotPageTable) slot.arch()).writeProtectAll();
    }

    @Override
    public void flushRemoteTlbsMemslot(ArchContext kvm, Memslot slot) {
        calls.add("flush");
        ArchHooks.super.flushRemoteTlbsMemslot(kvm, slot);
    }
}
