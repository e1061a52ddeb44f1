package org.dirtylog.defects;

import org.dirtylog.kvm.ArchContext;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.Memslot;

/**
 * The spare bitmap is not cleared before it becomes active: user space is shown pages from two
 * harvests ago. Built around the core's clear: the spare's words are copied in the harvest's
 * first step (sync) and ORed back into the new active bitmap at the re-arm after the exchange,
 * which leaves that bitmap exactly as an exchange without the clear would.
 */
final class SwitchSkipsClear extends ForwardingArchHooks {

    private long[] spare;

    SwitchSkipsClear(ArchHooks delegate) {
        super(delegate);
    }

    @Override
    public void syncDirtyLog(ArchContext kvm, Memslot slot) {
        delegate.syncDirtyLog(kvm, slot);
        spare = Bitmaps.words(slot.dirtyBitmapOld());
    }

    @Override
    public void writeProtectSlot(ArchContext kvm, Memslot slot) {
        Bitmaps.orInto(slot.dirtyBitmap(), spare);
        delegate.writeProtectSlot(kvm, slot);
    }
}
