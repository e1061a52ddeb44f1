package org.dirtylog.defects;

import org.dirtylog.kvm.BitmapAllocator;
import org.dirtylog.kvm.DirtyBitmap;

/**
 * {@code KVM_DIRTY_LOG_INITIALLY_SET} accepted but ignored: a bitmap allocated under it starts
 * all zero, while turning logging on still skips the write-protect (every page was to be dirty).
 * Pages written before logging was turned on stay writable and are never reported. Built as an
 * allocator whose initially-set bitmaps are plain ones.
 */
final class InitiallySetIgnored {

    static final BitmapAllocator ALLOCATOR = new BitmapAllocator() {
        @Override
        public DirtyBitmap allocate(long npages, boolean trackWords) {
            return DirtyBitmap.allocate(npages, trackWords);
        }

        @Override
        public DirtyBitmap allocateInitiallySet(long npages) {
            return DirtyBitmap.allocate(npages, true);
        }
    };

    private InitiallySetIgnored() {
    }
}
