package org.dirtylog.defects;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import org.dirtylog.kvm.BitmapAllocator;
import org.dirtylog.kvm.DirtyBitmap;

/**
 * 50e92b3c: a bit is set by a plain read-modify-write of its word ({@code __set_bit}). Built as a
 * bitmap allocator whose every dirty log, the memslot bitmaps and ia64's VMM log alike, updates
 * words with a load and a store: two vCPUs dirtying pages of one word between them lose a bit.
 */
final class NonAtomicBitSet {

    private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();

    /** Every bitmap of the VM with the non-atomic word update. */
    static final BitmapAllocator ALLOCATOR =
            (npages, trackWords) -> DirtyBitmap.allocate(npages, trackWords, NonAtomicBitSet::setBits);

    private NonAtomicBitSet() {
    }

    private static long setBits(MemorySegment bits, long byteOffset, long mask) {
        // Native memory: a load and a separate store of the word; a set between them is lost.
        long old = (long) WORD.getVolatile(bits, byteOffset);
        WORD.setVolatile(bits, byteOffset, old | mask);
        return old;
    }
}
