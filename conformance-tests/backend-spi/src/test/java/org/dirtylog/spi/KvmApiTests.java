package org.dirtylog.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class KvmApiTests {

    @Test
    void bitmap_size_is_npages_rounded_up_to_64_bits_in_bytes() {
        assertEquals(0, KvmApi.dirtyBitmapBytes(0));
        assertEquals(8, KvmApi.dirtyBitmapBytes(1));
        assertEquals(8, KvmApi.dirtyBitmapBytes(64));
        assertEquals(16, KvmApi.dirtyBitmapBytes(65));
        assertEquals(24, KvmApi.dirtyBitmapBytes(131));
    }

    @Test
    void bitmap_size_of_a_huge_slot_does_not_wrap_in_32_bits() {
        long pagesOf64TiB = (64L << 40) / KvmApi.PAGE_SIZE;
        assertEquals(pagesOf64TiB / 8, KvmApi.dirtyBitmapBytes(pagesOf64TiB));
        long pagesOver4G = (1L << 32) + 3;
        assertEquals(((pagesOver4G + 63) / 64) * 8, KvmApi.dirtyBitmapBytes(pagesOver4G));
    }

    @Test
    void a_negative_page_count_is_rejected() {
        assertThrows(IllegalArgumentException.class, () -> KvmApi.dirtyBitmapBytes(-1));
    }

    @Test
    void user_dirty_log_struct_is_24_bytes_with_kernel_offsets() {
        assertEquals(KvmApi.USER_DIRTY_LOG_SIZE, UserDirtyLog.LAYOUT.byteSize());
        assertEquals(0, UserDirtyLog.LAYOUT.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("slot")));
        assertEquals(4, UserDirtyLog.LAYOUT.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("flags")));
        assertEquals(8, UserDirtyLog.LAYOUT.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("dirty_bitmap")));
        assertEquals(16, UserDirtyLog.LAYOUT.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("dirty_bitmap_old")));
    }

    @Test
    void user_dirty_log_round_trips_through_memory() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment s = arena.allocate(UserDirtyLog.LAYOUT);
            UserDirtyLog log = new UserDirtyLog(7, 0, 0x7f00_1234_5000L, 0x7f00_1234_6000L);
            log.writeTo(s);
            assertEquals(log, UserDirtyLog.readFrom(s));
        }
    }
}
