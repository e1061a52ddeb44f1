package org.dirtylog.independent;

import java.lang.foreign.ValueLayout;

/**
 * Broken variant {@code independent+non-atomic-bitmap-or}: marks reach a memslot's bitmap by a
 * plain read-modify-write of the word ({@code __set_bit} where {@code set_bit} was needed, the
 * bug 50e92b3c fixed). Two vCPUs folding into one word at once can overwrite each other's bits.
 */
class NonAtomicBitmapOr extends DirtyLogPaths {

    @Override
    void setBits(DirtyBitmap bitmap, int w, long bits) {
        long offset = (long) w << 3;
        bitmap.words.set(ValueLayout.JAVA_LONG, offset, bitmap.words.get(ValueLayout.JAVA_LONG, offset) | bits);
    }
}
