package org.dirtylog.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** {@code struct kvm_dirty_gfn} and the ring constants pinned to {@code include/uapi/linux/kvm.h}. */
class DirtyGfnTests {

    @Test
    void the_entry_is_16_bytes_with_the_kernels_offsets() {
        assertEquals(16, DirtyGfn.SIZE);
        assertEquals(0, DirtyGfn.LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("flags")));
        assertEquals(4, DirtyGfn.LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("slot")));
        assertEquals(8, DirtyGfn.LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("offset")));
    }

    @Test
    void flag_and_capability_numbers_are_the_headers() {
        assertEquals(1, DirtyGfn.KVM_DIRTY_GFN_F_DIRTY);
        assertEquals(2, DirtyGfn.KVM_DIRTY_GFN_F_RESET);
        assertEquals(3, DirtyGfn.KVM_DIRTY_GFN_F_MASK);
        assertEquals(192, KvmApi.KVM_CAP_DIRTY_LOG_RING);
        assertEquals(223, KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL);
        assertEquals(225, KvmApi.KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP);
        assertEquals(64, KvmApi.KVM_DIRTY_LOG_PAGE_OFFSET);
        assertEquals(31, KvmApi.KVM_EXIT_DIRTY_RING_FULL);
        assertEquals(1L << 20, KvmApi.KVM_DIRTY_RING_MAX_ENTRIES * DirtyGfn.SIZE);
        assertEquals(6, Errno.ENXIO.value());
        assertEquals("ENXIO", Errno.ENXIO.name());
    }

    @Test
    void the_slot_field_is_the_address_space_above_the_slot_id() {
        assertEquals(0x0001_0005, DirtyGfn.slotOf(1, 5));
        DirtyGfn e = new DirtyGfn(DirtyGfn.KVM_DIRTY_GFN_F_DIRTY, 0x0001_0005, 7);
        assertEquals(1, e.asId());
        assertEquals(5, e.id());
        assertTrue(e.isDirty());
        assertEquals("{DIRTY, slot as1:5, offset 7}", e.toString());
        assertFalse(new DirtyGfn(DirtyGfn.KVM_DIRTY_GFN_F_MASK, 0, 0).isDirty());
    }

    @Test
    void positions_wrap_at_the_ring_size_even_for_indices_past_two_to_the_63() {
        assertEquals(3, DirtyGfn.position(259, 256));
        assertEquals(255, DirtyGfn.position(-1, 256));
    }

    @Test
    void a_published_entry_reads_back_with_acquire_and_is_reset_with_release() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ring = arena.allocate(4 * DirtyGfn.SIZE, 8);
            DirtyGfn.publish(ring, 2, DirtyGfn.slotOf(0, 3), 42);
            assertEquals(DirtyGfn.KVM_DIRTY_GFN_F_DIRTY, DirtyGfn.flagsAcquire(ring, 2));
            assertEquals(new DirtyGfn(1, 3, 42), DirtyGfn.readFrom(ring, 2));
            assertEquals(0, ring.get(ValueLayout.JAVA_INT, 0), "other entries untouched");
            DirtyGfn.setFlagsRelease(ring, 2, DirtyGfn.KVM_DIRTY_GFN_F_RESET);
            assertEquals(2, ring.get(ValueLayout.JAVA_INT, 2 * DirtyGfn.SIZE));
        }
    }

    @Test
    void flags_and_slot_come_in_one_acquire_and_the_offset_after_it() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ring = arena.allocate(4 * DirtyGfn.SIZE, 4096);
            DirtyGfn.publish(ring, 2, DirtyGfn.slotOf(1, 31), 0x1234_5678_9abcL);
            long flagsAndSlot = DirtyGfn.flagsAndSlotAcquire(ring, 2);
            assertEquals(DirtyGfn.KVM_DIRTY_GFN_F_DIRTY, (int) flagsAndSlot);
            assertEquals(DirtyGfn.slotOf(1, 31), (int) (flagsAndSlot >>> 32));
            assertEquals(0x1234_5678_9abcL, DirtyGfn.offsetOf(ring, 2));
            assertEquals(DirtyGfn.readFrom(ring, 2), new DirtyGfn(DirtyGfn.KVM_DIRTY_GFN_F_DIRTY, DirtyGfn.slotOf(1, 31),
                    0x1234_5678_9abcL));
            assertEquals(0, DirtyGfn.flagsAndSlotAcquire(ring, 1), "an entry never pushed reads as zero");
        }
    }
}
