package org.dirtylog.defects;

import java.lang.foreign.ValueLayout;
import org.dirtylog.kvm.BitmapAllocator;
import org.dirtylog.kvm.DirtyBitmap;

/**
 * Bits set at and past npages: a memslot bitmap allocated with garbage in the unused bits of its
 * last word (a bitmap sized or cleared with 32-bit longs). Built as an allocator that plants them
 * in every bitmap user space sees; an architecture's own untracked log stays clean.
 */
final class BitsPastNpages {

    static final BitmapAllocator ALLOCATOR = (npages, trackWords) -> {
        DirtyBitmap bitmap = DirtyBitmap.allocate(npages, trackWords);
        if (trackWords && (npages & 63) != 0) {
            // Native memory: garbage bits past npages in the last word, before anyone sees the bitmap.
            bitmap.segment().set(ValueLayout.JAVA_LONG, bitmap.byteSize() - Long.BYTES, -1L << (npages & 63));
        }
        return bitmap;
    };

    private BitsPastNpages() {
    }
}
