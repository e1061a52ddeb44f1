package org.dirtylog.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SlotPageTableTests {

    private static final long NPAGES = 3000;

    @Test
    void aFreshTableHasEveryPageWriteProtected() {
        try (SlotPageTable table = SlotPageTable.allocate(NPAGES)) {
            for (long p = 0; p < NPAGES; p++) {
                assertFalse(table.isWritable(p), "page " + p);
            }
        }
    }

    @Test
    void aWriteProtectMakesEveryWritablePageFaultAgain() {
        try (SlotPageTable table = SlotPageTable.allocate(NPAGES)) {
            table.makeWritable(7);
            assertTrue(table.isWritable(7));
            table.writeProtectAll();
            assertFalse(table.isWritable(7));
        }
    }

    @Test
    void aMaskedWriteProtectProtectsExactlyThePagesOfTheMask() {
        try (SlotPageTable table = SlotPageTable.allocate(NPAGES)) {
            for (long p = 128; p < 256; p++) {
                table.makeWritable(p);
            }
            long mask = (1L << 0) | (1L << 5) | (1L << 63);
            table.writeProtect(192, mask);
            for (long p = 128; p < 256; p++) {
                boolean inMask = p >= 192 && (mask & (1L << (p - 192))) != 0;
                assertEquals(!inMask, table.isWritable(p), "page " + p);
            }
            table.makeWritable(197);
            assertTrue(table.isWritable(197), "a protected page becomes writable again by a fault");
        }
    }

    @Test
    void theWriteProtectThatWrapsTheGenerationLeavesNoPageWritable() {
        try (SlotPageTable table = SlotPageTable.allocate(NPAGES)) {
            table.generation(1);
            table.makeWritable(5);
            table.generation(-1);
            table.makeWritable(3);
            table.makeWritable(NPAGES - 1);
            table.writeProtectAll();
            assertEquals(1, table.generation(), "generation 0 is skipped");
            for (long p = 0; p < NPAGES; p++) {
                assertFalse(table.isWritable(p), "page " + p + " is writable after the wrapping write-protect");
            }
            table.makeWritable(3);
            assertTrue(table.isWritable(3));
            assertFalse(table.isWritable(5), "an entry made writable 2^32 generations ago");
            table.writeProtectAll();
            assertFalse(table.isWritable(3));
            assertEquals(2, table.generation());
        }
    }
}
