package org.dirtylog.conformance;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import org.dirtylog.spi.KvmApi;

/**
 * A copy of a dirty bitmap as user space saw it: one bit per page, bit 0 = first page of the
 * slot, little-endian 64-bit words, {@code ALIGN(npages, 64) / 8} bytes.
 *
 * @param npages pages of the slot
 * @param words the bitmap words, {@code ALIGN(npages, 64) / 64} of them
 */
public record UserBitmap(long npages, long[] words) {

    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Returns an all-clear bitmap for {@code npages} pages. */
    public static UserBitmap clean(long npages) {
        return new UserBitmap(npages, new long[Math.toIntExact(KvmApi.dirtyBitmapBytes(npages) / 8)]);
    }

    /** Returns a bitmap with exactly {@code pages} set. */
    public static UserBitmap of(long npages, Collection<Long> pages) {
        long[] w = clean(npages).words;
        for (long p : pages) {
            w[(int) (p >>> 6)] |= 1L << (p & 63);
        }
        return new UserBitmap(npages, w);
    }

    /** Returns a copy of the bitmap stored in {@code segment} at offset 0. */
    public static UserBitmap readFrom(MemorySegment segment, long npages) {
        long[] w = clean(npages).words;
        for (int i = 0; i < w.length; i++) {
            w[i] = segment.get(WORD, i * 8L);
        }
        return new UserBitmap(npages, w);
    }

    /** Stores the bitmap into {@code segment} at offset 0, as user space hands it to the kernel. */
    public void writeTo(MemorySegment segment) {
        for (int i = 0; i < words.length; i++) {
            segment.set(WORD, i * 8L, words[i]);
        }
    }

    /** Returns the bitmap with every page below {@code npages} set (what INITIALLY_SET starts with). */
    public static UserBitmap allPages(long npages) {
        List<Long> pages = new ArrayList<>();
        for (long p = 0; p < npages; p++) {
            pages.add(p);
        }
        return of(npages, pages);
    }

    /** Returns the pages set here and not in {@code other}. */
    public UserBitmap minus(UserBitmap other) {
        long[] w = words.clone();
        for (int i = 0; i < w.length; i++) {
            w[i] &= ~other.words[i];
        }
        return new UserBitmap(npages, w);
    }

    /** Returns true when page {@code page} is reported dirty. */
    public boolean isSet(long page) {
        return (words[(int) (page >>> 6)] & (1L << (page & 63))) != 0;
    }

    /** Returns the dirty pages below npages, ascending. */
    public List<Long> pages() {
        List<Long> out = new ArrayList<>();
        for (long p = 0; p < npages; p++) {
            if (isSet(p)) {
                out.add(p);
            }
        }
        return out;
    }

    /** Returns the set bits at or past npages (bit numbers), which a conformant bitmap never has. */
    public List<Long> bitsPastEnd() {
        List<Long> out = new ArrayList<>();
        for (long b = npages; b < words.length * 64L; b++) {
            if ((words[(int) (b >>> 6)] & (1L << (b & 63))) != 0) {
                out.add(b);
            }
        }
        return out;
    }

    /** Returns true when no bit at all is set, past npages included. */
    public boolean isClean() {
        return Arrays.stream(words).allMatch(w -> w == 0);
    }

    /** Returns the union of this bitmap and {@code other}. */
    public UserBitmap or(UserBitmap other) {
        long[] w = words.clone();
        for (int i = 0; i < w.length; i++) {
            w[i] |= other.words[i];
        }
        return new UserBitmap(npages, w);
    }

    /** Returns a short text for reports: {@code pages [3, 66]}, abbreviated when long. */
    public String describe() {
        List<Long> pages = pages();
        String past = bitsPastEnd().isEmpty() ? "" : " + bits past npages " + abbreviate(bitsPastEnd());
        return "pages " + abbreviate(pages) + past;
    }

    /** Returns {@code [a, b, c]}, or the first few and a count when there are many. */
    public static String abbreviate(Collection<Long> values) {
        if (values.size() <= 12) {
            return new TreeSet<>(values).toString();
        }
        List<Long> sorted = new ArrayList<>(new TreeSet<>(values));
        return sorted.subList(0, 10) + " and " + (sorted.size() - 10) + " more (" + sorted.size() + " in all)";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UserBitmap b && b.npages == npages && Arrays.equals(b.words, words);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(npages) * 31 + Arrays.hashCode(words);
    }

    @Override
    public String toString() {
        return describe();
    }
}
