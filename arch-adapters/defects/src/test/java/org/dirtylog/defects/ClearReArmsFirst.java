package org.dirtylog.defects;

import org.dirtylog.kvm.ArchContext;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.DirtyBitmap;
import org.dirtylog.kvm.Memslot;

/**
 * {@code KVM_CLEAR_DIRTY_LOG} re-arms a word's pages before it clears their bits (TLA+:
 * ClearReArmsFirst): a vCPU that faults in between marks a bit that is already set and maps the
 * page writable, then the clear drops the bit, and the page's later writes are never reported.
 * Built from the masked re-arm the core calls after it took the bits: the bits are put back as
 * they were, the pages re-armed, then the bits taken again, so the window is the re-arm itself.
 */
final class ClearReArmsFirst extends ForwardingArchHooks {

    ClearReArmsFirst(ArchHooks delegate) {
        super(delegate);
    }

    @Override
    public void enableLogDirtyPtMasked(ArchContext kvm, Memslot slot, long firstPage, long mask) {
        DirtyBitmap active = slot.dirtyBitmap();
        active.orWord(firstPage >>> 6, mask);
        delegate.enableLogDirtyPtMasked(kvm, slot, firstPage, mask);
        active.takeBits(firstPage >>> 6, mask);
    }
}
