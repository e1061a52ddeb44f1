package org.dirtylog.independent;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * One of a memslot's two dirty bitmaps, in user memory the VM mapped for it (so that
 * {@code KVM_GET_USER_DIRTY_LOG_ADDR} can hand out its address): one bit per page, bit 0 the
 * slot's first page, 64-bit words in native order, which the backend only runs on when it is
 * little-endian, the kernel's bitmap format.
 */
final class DirtyBitmap {

    /** A bitmap word: {@code (MemorySegment, long byteOffset)}. */
    static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();

    private static final ValueLayout.OfLong USER_WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The words; package-visible so that a harvest can be written the way a kernel developer would. */
    final MemorySegment words;
    private final int nwords;

    DirtyBitmap(MemorySegment words, int nwords) {
        this.words = words;
        this.nwords = nwords;
    }

    /** Returns the user address of the first word. */
    long address() {
        return words.address();
    }

    /** Returns the number of 64-bit words. */
    int nwords() {
        return nwords;
    }

    /** Sets {@code bits} in word {@code w} atomically (the kernel's {@code set_bit}, not {@code __set_bit}). */
    void setBits(int w, long bits) {
        WORD.getAndBitwiseOr(words, (long) w << 3, bits);
    }

    /** Returns word {@code w}. */
    long word(int w) {
        return (long) WORD.getVolatile(words, (long) w << 3);
    }

    /** Returns true when no bit is set. */
    boolean isClean() {
        for (int w = 0; w < nwords; w++) {
            if (word(w) != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Clears every bit. Only for a bitmap no vCPU can write: the cold one, whose last writers a
     * grace period has already waited for.
     */
    void clear() {
        words.asSlice(0, (long) nwords << 3).fill((byte) 0);
    }

    /** Copies the words into {@code out} (a user buffer of {@code nwords * 8} bytes) as little-endian words. */
    void copyTo(MemorySegment out) {
        for (int w = 0; w < nwords; w++) {
            out.set(USER_WORD, (long) w << 3, word(w));
        }
    }
}
