package org.dirtylog.defects;

import org.dirtylog.kvm.ArchContext;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.Memslot;

/**
 * 6dbf79e7: the harvest returns before the remote TLB flush has completed. Built by leaving out
 * the harvest's flush step: a vCPU that checked a page writable just before the write-protect
 * stores after the harvest returned, and nothing logs that store.
 */
final class FlushAfterUnlock extends ForwardingArchHooks {

    FlushAfterUnlock(ArchHooks delegate) {
        super(delegate);
    }

    @Override
    public void flushRemoteTlbsMemslot(ArchContext kvm, Memslot slot) {
    }
}
