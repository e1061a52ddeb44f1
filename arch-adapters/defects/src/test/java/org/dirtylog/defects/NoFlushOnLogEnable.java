package org.dirtylog.defects;

import org.dirtylog.kvm.ArchContext;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.Memslot;
import org.dirtylog.kvm.MemslotChange;

/**
 * b64d740e: switching logging on neither write-protects nor flushes. Built by skipping the
 * architecture's commit of that change: a page the guest made writable while logging was off
 * is written again without a fault, and the write is not reported.
 */
final class NoFlushOnLogEnable extends ForwardingArchHooks {

    NoFlushOnLogEnable(ArchHooks delegate) {
        super(delegate);
    }

    @Override
    public void commitMemoryRegion(ArchContext kvm, Memslot old, Memslot next, MemslotChange change) {
        if (change == MemslotChange.FLAGS_ONLY && !old.dirtyLogged() && next.dirtyLogged()) {
            return;
        }
        delegate.commitMemoryRegion(kvm, old, next, change);
    }
}
