package org.dirtylog.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The write-protection state of a slot's mappings, O(1) to write-protect: entry {@code p}
 * holds the generation in which page {@code p} was last made writable, and a mapping is
 * writable iff that equals the slot's current generation. Write-protecting the whole slot is
 * one generation bump (KVM's fast invalidate); the caller then flushes (a grace period) so
 * that no vCPU still acts on a writability it checked before the bump. The table lives in a
 * lazily backed anonymous mapping, so a 64 GiB slot costs only the entries touched.
 */
public final class SlotPageTable implements ArchMemslot {

    private final Arena arena;
    private final MemorySegment entries;
    private volatile int generation = 1;

    private SlotPageTable(Arena arena, MemorySegment entries) {
        this.arena = arena;
        this.entries = entries;
    }

    /** Returns a table for {@code npages} pages, all write-protected; throws {@link OutOfMemoryError} if mmap fails. */
    public static SlotPageTable allocate(long npages) {
        long bytes = (npages * Integer.BYTES + 4095) & ~4095L;
        MemorySegment raw = UserAddressSpace.mapAnonymous(bytes);
        if (raw == null) {
            throw new OutOfMemoryError("page table of " + bytes + " bytes");
        }
        Arena arena = Arena.ofShared();
        // Native memory: the table's own anonymous mapping; closing the arena unmaps it, and an
        // access after that throws instead of touching unmapped memory.
        return new SlotPageTable(arena, raw.reinterpret(bytes, arena, s -> UserAddressSpace.unmapRaw(s.address(), bytes)));
    }

    /** Returns true when the mapping of {@code page} is writable in the current generation. */
    public boolean isWritable(long page) {
        // Native memory: one aligned int read; a stale value only causes a spurious fault.
        return entries.getAtIndex(ValueLayout.JAVA_INT, page) == generation;
    }

    /** Makes the mapping of {@code page} writable in the current generation. TLA+: VcpuWriteFault(v). */
    public void makeWritable(long page) {
        // Native memory: one aligned int write.
        entries.setAtIndex(ValueLayout.JAVA_INT, page, generation);
    }

    /**
     * Write-protects the pages {@code firstPage + i} whose bit {@code i} is set in {@code mask}
     * (at most 64 pages, O(pages in the mask)): entry 0 never equals a generation, so each such
     * page faults on its next write whatever generation follows. The caller then flushes.
     */
    public void writeProtect(long firstPage, long mask) {
        for (long bits = mask; bits != 0; bits &= bits - 1) {
            // Native memory: one aligned int write per page of the mask.
            entries.setAtIndex(ValueLayout.JAVA_INT, firstPage + Long.numberOfTrailingZeros(bits), 0);
        }
    }

    /**
     * Write-protects every page of the slot by starting a new generation. TLA+: WriteProtect.
     * Callers are serialized (the slots lock).
     */
    public void writeProtectAll() {
        int next = generation + 1;
        if (next == 0) {
            // After 2^32 bumps the generation would equal the value of every untouched entry
            // and of entries made writable 2^32 generations ago. Reset them all to 0 (O(table),
            // once per 2^32 write-protects) and never use generation 0. Until the new
            // generation is published below, pages may still read writable: the write-protect
            // takes effect when this returns, as for an ordinary bump. An entry a vCPU sets
            // during the reset holds the old generation, which never comes back before the next wrap.
            // Native memory: zeroes the whole table.
            entries.fill((byte) 0);
            next = 1;
        }
        generation = next;
    }

    /** Sets the current generation; lets tests reach the wrap without 2^32 write-protects. */
    void generation(int value) {
        generation = value;
    }

    /** Returns the current generation. */
    public int generation() {
        return generation;
    }

    /** Unmaps the table. Idempotent; called under the slots lock, so never twice at once. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
