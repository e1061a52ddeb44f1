package org.dirtylog.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

class UserBitmapTests {

    @Test
    void pagesAreReadLittleEndianWithBitZeroTheFirstPage() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(16);
            s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 0x01);
            s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 8, (byte) 0x04);
            UserBitmap b = UserBitmap.readFrom(s, 67);
            assertEquals(List.of(0L, 66L), b.pages());
            assertTrue(b.bitsPastEnd().isEmpty());
        }
    }

    @Test
    void bitsAtOrPastNpagesAreReportedSeparately() {
        UserBitmap b = new UserBitmap(67, new long[] {0, 0b1100});
        assertEquals(List.of(66L), b.pages());
        assertEquals(List.of(67L), b.bitsPastEnd());
    }
}
