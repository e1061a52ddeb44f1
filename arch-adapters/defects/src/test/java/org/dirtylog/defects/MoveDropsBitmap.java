package org.dirtylog.defects;

import org.dirtylog.kvm.ArchContext;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.Memslot;
import org.dirtylog.kvm.MemslotChange;

/**
 * Moving a logged slot gives it fresh bitmaps: pages dirtied before the move are never reported.
 * Built in the memslot commit of a move: the kept bitmaps are cleared, and the architecture is
 * not asked to carry its own pending pages over (ia64's VMM log).
 */
final class MoveDropsBitmap extends ForwardingArchHooks {

    MoveDropsBitmap(ArchHooks delegate) {
        super(delegate);
    }

    @Override
    public void commitMemoryRegion(ArchContext kvm, Memslot old, Memslot next, MemslotChange change) {
        if (change == MemslotChange.MOVE && old.dirtyLogged() && next.dirtyLogged()) {
            next.dirtyBitmap().clear();
            next.dirtyBitmapOld().clear();
            return;
        }
        delegate.commitMemoryRegion(kvm, old, next, change);
    }
}
