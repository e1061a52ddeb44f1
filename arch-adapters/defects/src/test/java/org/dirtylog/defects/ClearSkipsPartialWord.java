package org.dirtylog.defects;

import org.dirtylog.kvm.ArchContext;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.Memslot;

/**
 * {@code KVM_CLEAR_DIRTY_LOG} skips a slot's partial last word (53eac7a8: the loop counted
 * {@code num_pages / 64} words, rounding down): its pages stay dirty and are not re-armed. Built
 * from the masked re-arm the core calls after it took a word's bits: for the partial last word
 * the bits are put back and nothing is re-armed.
 */
final class ClearSkipsPartialWord extends ForwardingArchHooks {

    ClearSkipsPartialWord(ArchHooks delegate) {
        super(delegate);
    }

    @Override
    public void enableLogDirtyPtMasked(ArchContext kvm, Memslot slot, long firstPage, long mask) {
        if (firstPage + 64 > slot.npages()) {
            slot.dirtyBitmap().orWord(firstPage >>> 6, mask);
            return;
        }
        delegate.enableLogDirtyPtMasked(kvm, slot, firstPage, mask);
    }
}
