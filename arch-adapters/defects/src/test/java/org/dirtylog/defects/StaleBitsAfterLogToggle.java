package org.dirtylog.defects;

import java.util.HashMap;
import java.util.Map;
import org.dirtylog.kvm.ArchContext;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.Memslot;
import org.dirtylog.kvm.MemslotChange;

/**
 * Logging switched off and on again reuses the old bitmaps uncleared: user space sees pages
 * dirtied before the toggle. Built in the memslot commit: when logging goes off, the slot's two
 * bitmaps are copied (and the architecture is not told, as reusing them never did); when it
 * comes back on, the copies are ORed into the fresh pair.
 */
final class StaleBitsAfterLogToggle extends ForwardingArchHooks {

    private final Map<Integer, long[][]> retained = new HashMap<>();

    StaleBitsAfterLogToggle(ArchHooks delegate) {
        super(delegate);
    }

    @Override
    public void commitMemoryRegion(ArchContext kvm, Memslot old, Memslot next, MemslotChange change) {
        if (change == MemslotChange.DELETE) {
            retained.remove(old.id());
        } else if (old != null && old.dirtyLogged() && !next.dirtyLogged()) {
            retained.put(old.id(), new long[][] {Bitmaps.words(old.dirtyBitmap()), Bitmaps.words(old.dirtyBitmapOld())});
            if (change == MemslotChange.FLAGS_ONLY) {
                return;
            }
        }
        delegate.commitMemoryRegion(kvm, old, next, change);
        long[][] stale = old != null && !old.dirtyLogged() && next != null && next.dirtyLogged()
                ? retained.remove(next.id()) : null;
        if (stale != null) {
            Bitmaps.orInto(next.dirtyBitmap(), stale[0]);
            Bitmaps.orInto(next.dirtyBitmapOld(), stale[1]);
        }
    }
}
