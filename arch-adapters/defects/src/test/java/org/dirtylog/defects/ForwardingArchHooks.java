package org.dirtylog.defects;

import org.dirtylog.kvm.ArchContext;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.ArchMemslot;
import org.dirtylog.kvm.BitmapExchange;
import org.dirtylog.kvm.Memslot;
import org.dirtylog.kvm.MemslotChange;
import org.dirtylog.kvm.Vcpu;

/**
 * Hooks that forward every call to a correct architecture's hooks; a defect overrides the one
 * step it breaks. Default methods of the delegate keep calling the delegate's own methods, so a
 * broken step changes only the call the core makes.
 */
abstract class ForwardingArchHooks implements ArchHooks {

    final ArchHooks delegate;

    ForwardingArchHooks(ArchHooks delegate) {
        this.delegate = delegate;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public boolean genericDirtyLogReadProtect() {
        return delegate.genericDirtyLogReadProtect();
    }

    @Override
    public ArchMemslot createArchMemslot(ArchContext kvm, long npages) {
        return delegate.createArchMemslot(kvm, npages);
    }

    @Override
    public void commitMemoryRegion(ArchContext kvm, Memslot old, Memslot next, MemslotChange change) {
        delegate.commitMemoryRegion(kvm, old, next, change);
    }

    @Override
    public Object createArchVcpu(int id) {
        return delegate.createArchVcpu(id);
    }

    @Override
    public boolean isWritable(Vcpu vcpu, Memslot slot, long page) {
        return delegate.isWritable(vcpu, slot, page);
    }

    @Override
    public void makeWritable(Vcpu vcpu, Memslot slot, long page) {
        delegate.makeWritable(vcpu, slot, page);
    }

    @Override
    public void markPageDirty(Vcpu vcpu, Memslot slot, long page) {
        delegate.markPageDirty(vcpu, slot, page);
    }

    @Override
    public void markPagesDirty(Vcpu vcpu, Memslot slot, long[] gfns, int from, int to) {
        delegate.markPagesDirty(vcpu, slot, gfns, from, to);
    }

    @Override
    public void syncDirtyLog(ArchContext kvm, Memslot slot) {
        delegate.syncDirtyLog(kvm, slot);
    }

    @Override
    public BitmapExchange bitmapExchange() {
        return delegate.bitmapExchange();
    }

    @Override
    public void writeProtectSlot(ArchContext kvm, Memslot slot) {
        delegate.writeProtectSlot(kvm, slot);
    }

    @Override
    public void enableLogDirtyPtMasked(ArchContext kvm, Memslot slot, long firstPage, long mask) {
        delegate.enableLogDirtyPtMasked(kvm, slot, firstPage, mask);
    }

    @Override
    public void flushRemoteTlbsMemslot(ArchContext kvm, Memslot slot) {
        delegate.flushRemoteTlbsMemslot(kvm, slot);
    }

    @Override
    public long dirtyRingMaxBytes() {
        return delegate.dirtyRingMaxBytes();
    }
}
