package org.dirtylog.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ClearDirtyLogTests {

    private static ClearDirtyLog clear(long firstPage, long numPages) {
        return new ClearDirtyLog(0, (int) numPages, firstPage, 0x1000);
    }

    @Test
    void the_bitmap_is_num_pages_rounded_up_to_64_bits_and_empty_for_zero_pages() {
        assertEquals(0, clear(0, 0).bitmapBytes());
        assertEquals(8, clear(0, 36).bitmapBytes());
        assertEquals(8, clear(64, 64).bitmapBytes());
        assertEquals(16, clear(0, 100).bitmapBytes());
    }

    @Test
    void num_pages_is_unsigned_as_in_the_kernel() {
        ClearDirtyLog all = new ClearDirtyLog(0, -1, 0, 0);
        assertEquals(0xffff_ffffL, all.numPagesUnsigned());
        assertEquals(((0xffff_ffffL + 63) / 64) * 8, all.bitmapBytes());
    }

    @ParameterizedTest(name = "npages 100, first_page {0}, num_pages {1}: range invalid = {2}")
    @CsvSource({
        "0, 64, false",
        "64, 36, false",
        "0, 100, false",
        "64, 0, false",
        "0, 0, false",
        "64, 32, true",
        "0, 128, true",
        "0, 99, true",
        "128, 0, true",
        "64, 37, true",
    })
    void the_range_check_is_the_kernels(long firstPage, long numPages, boolean invalid) {
        assertEquals(invalid, clear(firstPage, numPages).rangeInvalidFor(100));
    }

    @Test
    void comparisons_are_unsigned_as_in_the_kernel() {
        assertTrue(clear(Long.MIN_VALUE, 0).rangeInvalidFor(100));
        assertFalse(new ClearDirtyLog(0, -64, 0, 0).rangeInvalidFor(1L << 33));
        assertFalse(clear(128, 0).rangeInvalidFor(128));
    }
}
