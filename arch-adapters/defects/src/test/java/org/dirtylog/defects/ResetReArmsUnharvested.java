package org.dirtylog.defects;

import org.dirtylog.kvm.ArchContext;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.Memslot;

/**
 * The masked re-arm of {@code KVM_RESET_DIRTY_RINGS} (and of a clear) is off by one page: it
 * write-protects the page after each page of the mask, pages nobody harvested, and leaves the
 * harvested pages writable, so their next writes push nothing.
 */
final class ResetReArmsUnharvested extends ForwardingArchHooks {

    ResetReArmsUnharvested(ArchHooks delegate) {
        super(delegate);
    }

    @Override
    public void enableLogDirtyPtMasked(ArchContext kvm, Memslot slot, long firstPage, long mask) {
        long shifted = mask;
        long last = slot.npages() - 1 - firstPage - 1;
        if (last < Long.SIZE - 1) {
            shifted &= last < 0 ? 0 : (1L << (last + 1)) - 1;
        }
        if (shifted != 0) {
            delegate.enableLogDirtyPtMasked(kvm, slot, firstPage + 1, shifted);
        }
    }
}
