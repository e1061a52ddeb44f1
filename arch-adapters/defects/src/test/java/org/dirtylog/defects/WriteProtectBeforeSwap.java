package org.dirtylog.defects;

import org.dirtylog.kvm.ArchContext;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.Memslot;

/**
 * edde99ce, the RFC's x86 order: write-protect and flush first, then exchange the bitmaps. Built
 * by doing the re-arm in the harvest's first step (sync) and none after the exchange. A fault
 * between the write-protect and the publish of the exchanged array marks the bitmap being
 * harvested and leaves its page writable: later writes to it are never logged.
 */
final class WriteProtectBeforeSwap extends ForwardingArchHooks {

    WriteProtectBeforeSwap(ArchHooks delegate) {
        super(delegate);
    }

    @Override
    public void syncDirtyLog(ArchContext kvm, Memslot slot) {
        delegate.writeProtectSlot(kvm, slot);
        delegate.flushRemoteTlbsMemslot(kvm, slot);
        delegate.syncDirtyLog(kvm, slot);
    }

    /** The harvest's re-arm after the exchange: already done, before it. */
    @Override
    public void writeProtectSlot(ArchContext kvm, Memslot slot) {
    }
}
