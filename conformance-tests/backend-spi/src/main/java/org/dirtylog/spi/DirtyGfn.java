package org.dirtylog.spi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * {@code struct kvm_dirty_gfn}, one entry of a vCPU's dirty ring: {@code u32 flags; u32 slot;
 * u64 offset;} (16 bytes, native byte order). KVM writes {@code slot} and {@code offset}, then
 * publishes the entry with {@code flags = DIRTY} (a release); the collector reads {@code flags}
 * with load-acquire, records the entry and stores {@code flags = RESET} with store-release;
 * {@code KVM_RESET_DIRTY_RINGS} sets it back to 0.
 *
 * @param flags {@link #KVM_DIRTY_GFN_F_DIRTY}, {@link #KVM_DIRTY_GFN_F_RESET} or 0
 * @param slot the memslot: address-space id {@code << 16 | } slot id
 * @param offset the page's index in the memslot ({@code gfn - base_gfn})
 */
@Api(Api.Status.EXPERIMENTAL)
public record DirtyGfn(int flags, int slot, long offset) {

    /** {@code KVM_DIRTY_GFN_F_DIRTY}: KVM published the entry; the collector may harvest it. */
    public static final int KVM_DIRTY_GFN_F_DIRTY = 1;
    /** {@code KVM_DIRTY_GFN_F_RESET}: the collector harvested it; the next reset may re-arm it. */
    public static final int KVM_DIRTY_GFN_F_RESET = 1 << 1;
    /** {@code KVM_DIRTY_GFN_F_MASK}. */
    public static final int KVM_DIRTY_GFN_F_MASK = KVM_DIRTY_GFN_F_DIRTY | KVM_DIRTY_GFN_F_RESET;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("flags"),
            ValueLayout.JAVA_INT.withName("slot"),
            ValueLayout.JAVA_LONG.withName("offset"))
            .withName("kvm_dirty_gfn");

    /** Size of one entry in bytes. */
    public static final long SIZE = LAYOUT.byteSize();

    private static final long FLAGS = 0;
    private static final long SLOT = 4;
    private static final long OFFSET = 8;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = LE_LONG.varHandle();

    /** Returns the slot field for memslot {@code id} of address space {@code asId}. */
    public static int slotOf(int asId, int id) {
        return asId << KvmApi.ADDRESS_SPACE_SHIFT | id;
    }

    /**
     * Returns the ring position of the {@code index}-th entry ever pushed into a ring of
     * {@code entries} entries, a power of two as every ring's size is ({@code KVM_ENABLE_CAP}
     * refuses others): {@code index mod entries}, for indices past 2^63 too.
     */
    public static long position(long index, long entries) {
        return index & (entries - 1);
    }

    /**
     * Returns the {@code flags} of entry {@code position} of {@code ring} with load-acquire
     * semantics: the entry's other fields read after it are those KVM wrote before publishing.
     */
    public static int flagsAcquire(MemorySegment ring, long position) {
        return (int) INT.getAcquire(ring, position * SIZE + FLAGS);
    }

    /**
     * Stores {@code flags} into entry {@code position} of {@code ring} with store-release
     * semantics: the collector's reads of the entry happen before KVM can see the new flags.
     */
    public static void setFlagsRelease(MemorySegment ring, long position, int flags) {
        INT.setRelease(ring, position * SIZE + FLAGS, flags);
    }

    /**
     * Returns {@code flags} (low 32 bits) and {@code slot} (high 32 bits) of entry
     * {@code position} with one 8-byte load-acquire: the two are adjacent, the entry 16-byte
     * aligned and the ring little-endian (x86-64), so this is {@link #flagsAcquire} and the slot
     * load in one access, as ordered as the 4-byte acquire (the slot is read no earlier than
     * flags). A collector's inner loop uses it: one bounds-checked access instead of two.
     */
    public static long flagsAndSlotAcquire(MemorySegment ring, long position) {
        return (long) LONG.getAcquire(ring, position * SIZE + FLAGS);
    }

    /** Returns the {@code offset} of entry {@code position} with a plain load (after an acquire of its flags). */
    public static long offsetOf(MemorySegment ring, long position) {
        return ring.get(LE_LONG, position * SIZE + OFFSET);
    }

    /** Returns entry {@code position} of {@code ring} with plain loads (after a {@link #flagsAcquire}). */
    public static DirtyGfn readFrom(MemorySegment ring, long position) {
        long at = position * SIZE;
        return new DirtyGfn(ring.get(ValueLayout.JAVA_INT, at + FLAGS), ring.get(ValueLayout.JAVA_INT, at + SLOT),
                ring.get(ValueLayout.JAVA_LONG, at + OFFSET));
    }

    /**
     * Stores slot and offset into entry {@code position} with plain stores, then publishes it
     * with a store-release of {@code flags = DIRTY}: a collector that saw DIRTY with
     * load-acquire sees these fields (what {@code kvm_dirty_ring_push} does with {@code smp_wmb}).
     */
    public static void publish(MemorySegment ring, long position, int slot, long offset) {
        long at = position * SIZE;
        ring.set(ValueLayout.JAVA_INT, at + SLOT, slot);
        ring.set(ValueLayout.JAVA_LONG, at + OFFSET, offset);
        setFlagsRelease(ring, position, KVM_DIRTY_GFN_F_DIRTY);
    }

    /** Returns the address-space id of {@link #slot()}. */
    public int asId() {
        return slot >>> KvmApi.ADDRESS_SPACE_SHIFT;
    }

    /** Returns the memslot id of {@link #slot()} within its address space. */
    public int id() {
        return slot & ((1 << KvmApi.ADDRESS_SPACE_SHIFT) - 1);
    }

    /** Returns true when {@code flags} is exactly DIRTY, the test the collector makes (api.rst 8.29). */
    public boolean isDirty() {
        return flags == KVM_DIRTY_GFN_F_DIRTY;
    }

    @Override
    public String toString() {
        String f = switch (flags) {
            case 0 -> "0";
            case KVM_DIRTY_GFN_F_DIRTY -> "DIRTY";
            case KVM_DIRTY_GFN_F_RESET -> "RESET";
            default -> "0x" + Integer.toHexString(flags);
        };
        return "{" + f + ", slot " + (asId() == 0 ? String.valueOf(id()) : "as" + asId() + ":" + id())
                + ", offset " + offset + "}";
    }
}
