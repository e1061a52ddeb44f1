package org.dirtylog.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.dirtylog.spi.KvmApi;

/**
 * A memslot's dirty bitmap in native memory, laid out exactly as the kernel's: one bit per
 * page, bit {@code p % 64} of little-endian 64-bit word {@code p / 64}, {@code ALIGN(npages, 64) / 8}
 * bytes, bits at or past npages always 0. Its {@link #address()} is a real address that user
 * space reads with {@code MemorySegment.ofAddress(a).reinterpret(n)}.
 *
 * <p>Setting a bit is one atomic OR on its word ({@link #ATOMIC_OR}, the kernel's
 * {@code set_bit_le}; a test fixture may allocate a bitmap with another {@link WordUpdate}).
 * The bitmap also logs each word that goes from zero to non-zero, so {@link #clear()} and
 * {@link #isDirty()} cost O(dirty words), not O(slot size). Freeing closes the bitmap's shared arena: any later access throws
 * {@link IllegalStateException} instead of silently reading freed memory.
 */
public final class DirtyBitmap implements AutoCloseable {

    /** How a vCPU sets bits in one 64-bit word of a bitmap. */
    @FunctionalInterface
    public interface WordUpdate {

        /**
         * Sets the bits of {@code mask} in the 8-byte aligned word at {@code byteOffset} of
         * {@code bits} and returns the word's previous value.
         */
        long setBits(MemorySegment bits, long byteOffset, long mask);
    }

    private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle LOGGED;

    /** One lock-or on the word: concurrent sets never lose a bit (what 50e92b3c restored). */
    public static final WordUpdate ATOMIC_OR =
            // Native memory: one atomic read-modify-write of the 8-byte aligned word.
            (bits, byteOffset, mask) -> (long) WORD.getAndBitwiseOr(bits, byteOffset, mask);

    static {
        try {
            LOGGED = MethodHandles.lookup().findVarHandle(DirtyBitmap.class, "logged", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Arena arena;
    private final MemorySegment bits;
    private final long npages;
    private final WordUpdate wordUpdate;
    private final int[] dirtyWords;
    @SuppressWarnings("unused")
    private volatile int logged;
    private volatile boolean overflowed;
    private volatile boolean dirty;

    private DirtyBitmap(Arena arena, MemorySegment bits, long npages, WordUpdate wordUpdate, boolean trackWords) {
        this.arena = arena;
        this.bits = bits;
        this.npages = npages;
        this.wordUpdate = wordUpdate;
        this.dirtyWords = trackWords ? new int[Math.toIntExact(bits.byteSize() >>> 3)] : null;
    }

    /**
     * Returns a fresh all-zero bitmap for {@code npages} pages, with its dirty-word log and
     * {@link #ATOMIC_OR}. Throws {@link OutOfMemoryError} when native memory is exhausted (the
     * caller maps it to -ENOMEM).
     */
    public static DirtyBitmap allocate(long npages) {
        return allocate(npages, true, ATOMIC_OR);
    }

    /**
     * Returns a fresh all-zero bitmap with {@link #ATOMIC_OR}; {@code trackWords} false skips the
     * dirty-word log (for a log that is drained word by word and never cleared whole, such as a
     * VMM-side log).
     */
    public static DirtyBitmap allocate(long npages, boolean trackWords) {
        return allocate(npages, trackWords, ATOMIC_OR);
    }

    /** Returns a fresh all-zero bitmap whose {@link #set(long)} updates words with {@code wordUpdate}. */
    public static DirtyBitmap allocate(long npages, boolean trackWords, WordUpdate wordUpdate) {
        if (npages < 1) {
            throw new IllegalArgumentException("a bitmap needs at least one page: " + npages);
        }
        long bytes = KvmApi.dirtyBitmapBytes(npages);
        Arena arena = Arena.ofShared();
        MemorySegment bits;
        try {
            // Native memory: zero-filled by Arena.allocate, 8-byte aligned for the atomic word ops.
            bits = arena.allocate(bytes, Long.BYTES);
        } catch (OutOfMemoryError | IllegalArgumentException e) {
            arena.close();
            throw new OutOfMemoryError("dirty bitmap of " + bytes + " bytes: " + e.getMessage());
        }
        return new DirtyBitmap(arena, bits, npages, wordUpdate, trackWords);
    }

    /** Returns the user-space address of the first byte. */
    public long address() {
        return bits.address();
    }

    /** Returns the number of pages the bitmap covers. */
    public long npages() {
        return npages;
    }

    /** Returns the size in bytes, {@code ALIGN(npages, 64) / 8}. */
    public long byteSize() {
        return bits.byteSize();
    }

    /** Returns the bitmap's bytes; the segment dies with the bitmap. */
    public MemorySegment segment() {
        return bits;
    }

    /**
     * Sets the bit of {@code page} and returns true when its word was zero before (the first
     * dirty page of the word since the last clear). With {@link #ATOMIC_OR} concurrent sets
     * never lose a bit. TLA+: VcpuWriteFault(v) (the mark-dirty half).
     */
    public boolean set(long page) {
        markDirty();
        long old = wordUpdate.setBits(bits, (page >>> 6) << 3, 1L << (page & 63));
        if (old == 0) {
            logWord(page >>> 6);
            return true;
        }
        return false;
    }

    /** Returns whether the bit of {@code page} is set. */
    public boolean test(long page) {
        // Native memory: one aligned word read.
        return ((long) WORD.getVolatile(bits, (page >>> 6) << 3) & (1L << (page & 63))) != 0;
    }

    /** Returns word {@code word} and sets it to zero in one atomic exchange. */
    public long takeWord(long word) {
        // Native memory: atomic exchange, so a bit set concurrently is either taken or kept.
        return (long) WORD.getAndSet(bits, word << 3, 0L);
    }

    /**
     * Clears the bits of {@code mask} in word {@code word} in one atomic fetch-and-andnot and
     * returns those of them that were set (the kernel's {@code atomic_long_fetch_andnot(mask, p) & mask}):
     * a bit a vCPU sets concurrently is either taken here or stays set. TLA+: ClearBits.
     */
    public long takeBits(long word, long mask) {
        // Native memory: one atomic read-modify-write of the aligned word.
        return (long) WORD.getAndBitwiseAnd(bits, word << 3, ~mask) & mask;
    }

    /**
     * Sets the bit of every page, {@code [0, npages)}, and none past npages: the state of a
     * bitmap allocated under {@code KVM_DIRTY_LOG_INITIALLY_SET} ({@code bitmap_set(dirty_bitmap, 0, npages)}
     * in {@code kvm_prepare_memory_region}). For a fresh bitmap no vCPU sees yet.
     */
    public void setAll() {
        long words = bits.byteSize() >>> 3;
        for (long w = 0; w < words; w++) {
            long rest = npages - (w << 6);
            orWord(w, rest >= 64 ? -1L : (1L << rest) - 1);
        }
    }

    /** ORs {@code mask} into word {@code word} atomically, logging the word if it was zero. */
    public void orWord(long word, long mask) {
        if (mask == 0) {
            return;
        }
        markDirty();
        // Native memory: one lock-or on the aligned word.
        long old = (long) WORD.getAndBitwiseOr(bits, word << 3, mask);
        if (old == 0) {
            logWord(word);
        }
    }

    /** Returns true when a bit was set since the last {@link #clear()} (the kernel's {@code is_dirty}). */
    public boolean isDirty() {
        return dirty;
    }

    /** Returns how many bits are set (O(size); for tests and diagnostics). */
    public long cardinality() {
        long n = 0;
        for (long off = 0; off < bits.byteSize(); off += Long.BYTES) {
            // Native memory: aligned word read.
            n += Long.bitCount((long) WORD.getVolatile(bits, off));
        }
        return n;
    }

    /**
     * Zeroes every bit, in O(words dirtied since the last clear). Only for a bitmap no vCPU can
     * still set (cold, after a grace period).
     */
    public void clear() {
        int n = (int) LOGGED.getVolatile(this);
        if (dirtyWords == null || overflowed || n < 0 || n > dirtyWords.length) {
            // Native memory: the log overflowed, so zero the whole bitmap.
            bits.fill((byte) 0);
        } else {
            for (int i = 0; i < n; i++) {
                // Native memory: zero one word the log says went non-zero.
                WORD.setVolatile(bits, ((long) dirtyWords[i]) << 3, 0L);
            }
        }
        overflowed = false;
        LOGGED.setVolatile(this, 0);
        dirty = false;
    }

    /** Copies the whole bitmap ({@link #byteSize()} bytes) to {@code destination}. */
    public void copyTo(MemorySegment destination) {
        // Native memory: bulk copy; the destination is bounds-checked user memory.
        MemorySegment.copy(bits, 0, destination, 0, bits.byteSize());
    }

    /** Returns true once the bitmap was freed. */
    public boolean isFreed() {
        return !arena.scope().isAlive();
    }

    /** Frees the native memory; later accesses throw. Idempotent. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    /**
     * Raises the is-dirty flag before the bit is set. The word log cannot answer "dirty?": a
     * vCPU whose bit lands in a word another vCPU made non-zero but has not logged yet would
     * finish its store while the slot still looked clean, and a switch would answer 1 and miss
     * a completed write (TLA+: SwitchReturnsOneIffClean).
     */
    private void markDirty() {
        if (!dirty) {
            dirty = true;
        }
    }

    private void logWord(long word) {
        if (dirtyWords == null) {
            return;
        }
        if (overflowed) {
            // A word cleared by KVM_CLEAR_DIRTY_LOG and dirtied again is logged again; once the
            // log is full it stops counting, so the count never wraps however long a VM runs.
            return;
        }
        int i = (int) LOGGED.getAndAdd(this, 1);
        if (i >= 0 && i < dirtyWords.length) {
            dirtyWords[i] = (int) word;
        } else {
            overflowed = true;
        }
    }
}
