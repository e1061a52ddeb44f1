package org.dirtylog.defects;

import java.lang.foreign.ValueLayout;
import org.dirtylog.kvm.DirtyBitmap;

/** Copies of a bitmap's words, for the fixtures that put back bits the correct core removed. */
final class Bitmaps {

    private Bitmaps() {
    }

    /** Returns the bitmap's 64-bit words. */
    static long[] words(DirtyBitmap bitmap) {
        // Native memory: a bulk read of the whole bitmap.
        return bitmap.segment().toArray(ValueLayout.JAVA_LONG);
    }

    /** ORs {@code words} back into {@code bitmap}, marking it dirty where any bit lands. */
    static void orInto(DirtyBitmap bitmap, long[] words) {
        for (int i = 0; i < words.length; i++) {
            bitmap.orWord(i, words[i]);
        }
    }
}
