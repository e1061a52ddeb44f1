package org.dirtylog.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.dirtylog.spi.DirtyGfn;
import org.dirtylog.spi.KvmApi;

/**
 * One vCPU's dirty ring ({@code struct kvm_dirty_ring}, {@code virt/kvm/dirty_ring.c}): an array
 * of {@link DirtyGfn} entries in shared native memory that user space maps, the producer's
 * {@code dirty_index} and the reset's {@code reset_index}, both counting entries ever pushed or
 * reset (the position is the index modulo the ring size). The vCPU pushes; the collector marks
 * entries RESET in the mapping; {@code KVM_RESET_DIRTY_RINGS} (in {@link DirtyLog}) walks from the
 * reset index. How an entry is published and how the walk tells a harvested entry is the
 * ring's {@link EntryAccess}; the core uses {@link #KERNEL_ENTRIES}, a test fixture may allocate
 * a ring with another ({@link RingAllocator}).
 */
public final class DirtyRing implements AutoCloseable {

    /** How an entry is written by the vCPU and recognised by the reset. */
    public interface EntryAccess {

        /** Writes {@code slot} and {@code offset} into entry {@code position} and publishes it as DIRTY. */
        void publish(MemorySegment ring, long position, int slot, long offset);

        /** Returns true when the reset may take entry {@code position}: the collector harvested it. */
        boolean harvested(MemorySegment ring, long position);
    }

    /**
     * The kernel's entries: slot and offset with plain stores, then a store-release of
     * {@code flags = DIRTY} ({@code kvm_dirty_ring_push}: the fields, {@code smp_wmb}, flags);
     * the reset takes an entry when a load-acquire of {@code flags} has RESET
     * ({@code kvm_dirty_gfn_harvested}; the DIRTY bit is not looked at).
     */
    public static final EntryAccess KERNEL_ENTRIES = new EntryAccess() {
        @Override
        public void publish(MemorySegment ring, long position, int slot, long offset) {
            DirtyGfn.publish(ring, position, slot, offset);
        }

        @Override
        public boolean harvested(MemorySegment ring, long position) {
            return (DirtyGfn.flagsAcquire(ring, position) & DirtyGfn.KVM_DIRTY_GFN_F_RESET) != 0;
        }
    };

    private final Arena arena;
    private final MemorySegment entries;
    private final long size;
    private final long softLimit;
    private final EntryAccess access;
    /** {@code dirty_index}: written by the pushing vCPU only, under this ring's monitor. */
    private volatile long dirtyIndex;
    /** {@code reset_index}: written by the reset only, under the VM's slots lock. */
    private volatile long resetIndex;
    private volatile long overflows;

    private DirtyRing(Arena arena, MemorySegment entries, long size, long softLimit, EntryAccess access) {
        this.arena = arena;
        this.entries = entries;
        this.size = size;
        this.softLimit = softLimit;
        this.access = access;
    }

    /**
     * Returns a zeroed ring of {@code size} entries (a power of two) that is soft-full from
     * {@code softLimit} used entries on ({@code kvm_dirty_ring_alloc}), page-aligned in shared
     * native memory. Throws {@link OutOfMemoryError} when native memory is exhausted.
     *
     * @throws IllegalArgumentException when {@code size} is not a power of two or {@code softLimit < 1}
     */
    public static DirtyRing allocate(long size, long softLimit, EntryAccess access) {
        if (size < 1 || Long.bitCount(size) != 1 || softLimit < 1) {
            throw new IllegalArgumentException("ring of " + size + " entries, soft limit " + softLimit);
        }
        Arena arena = Arena.ofShared();
        try {
            // Native memory: the ring user space maps, zero-filled by the allocation.
            MemorySegment entries = arena.allocate(size * DirtyGfn.SIZE, KvmApi.PAGE_SIZE);
            return new DirtyRing(arena, entries, size, softLimit, access);
        } catch (OutOfMemoryError | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Returns the ring's memory, {@code size * 16} bytes, what {@code mmap} of the vCPU fd shows. */
    public MemorySegment memory() {
        return entries;
    }

    /** Returns the number of entries. */
    public long size() {
        return size;
    }

    /** Returns how many entries were pushed and not yet reset ({@code kvm_dirty_ring_used}). */
    public long used() {
        return dirtyIndex - resetIndex;
    }

    /**
     * Returns true while the ring holds at least its soft limit of unreset entries
     * ({@code kvm_dirty_ring_soft_full}): the vCPU may not enter the guest.
     */
    public boolean softFull() {
        return used() >= softLimit;
    }

    /** Returns how many pushes found the ring full and overwrote an unreset entry (0 when correct). */
    public long overflows() {
        return overflows;
    }

    /**
     * {@code kvm_dirty_ring_push}: writes {@code {slot, offset}} at the dirty index, publishes it
     * and advances the index; returns true when the ring is now soft-full (the kernel's
     * {@code KVM_REQ_DIRTY_RING_SOFT_FULL}: the vCPU exits before it next enters the guest).
     * A push into a full ring overwrites the oldest unreset entry, as the kernel does after its
     * {@code WARN_ON_ONCE}; it is counted in {@link #overflows()}. TLA+: PushAndCheck.
     */
    public synchronized boolean push(int slot, long offset) {
        long index = dirtyIndex;
        if (index - resetIndex >= size) {
            overflows++;
        }
        access.publish(entries, DirtyGfn.position(index, size), slot, offset);
        dirtyIndex = index + 1;
        return softFull();
    }

    // ---- the reset's side (the caller holds the VM's slots lock) ----

    /** Returns true when the entry at the reset index was harvested. TLA+: ResetEntry (its guard). */
    boolean nextHarvested() {
        return access.harvested(entries, DirtyGfn.position(resetIndex, size));
    }

    /** Returns the {@code slot} field of the entry at the reset index. */
    int nextSlot() {
        return entries.get(ValueLayout.JAVA_INT, DirtyGfn.position(resetIndex, size) * DirtyGfn.SIZE + 4);
    }

    /** Returns the {@code offset} field of the entry at the reset index. */
    long nextOffset() {
        return entries.get(ValueLayout.JAVA_LONG, DirtyGfn.position(resetIndex, size) * DirtyGfn.SIZE + 8);
    }

    /**
     * Zeroes the entry at the reset index with a store-release of {@code flags = 0}
     * ({@code kvm_dirty_gfn_set_invalid}) and advances the reset index. TLA+: ResetEntry.
     */
    void invalidateNext() {
        long index = resetIndex;
        DirtyGfn.setFlagsRelease(entries, DirtyGfn.position(index, size), 0);
        resetIndex = index + 1;
    }

    /** Frees the ring's memory; a mapping of it is gone too. Idempotent. */
    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
