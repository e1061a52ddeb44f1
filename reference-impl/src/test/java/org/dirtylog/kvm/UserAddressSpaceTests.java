package org.dirtylog.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;

class UserAddressSpaceTests {

    static long residentKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    @Test
    void mmapRejectsLengthsThatAreNotPositivePageMultiples() {
        try (UserAddressSpace space = new UserAddressSpace()) {
            assertEquals(Errno.EINVAL, space.mmap(0).errnoOrNull());
            assertEquals(Errno.EINVAL, space.mmap(-4096).errnoOrNull());
            assertEquals(Errno.EINVAL, space.mmap(4097).errnoOrNull());
        }
    }

    @Test
    void aSixtyFourGibMappingCostsOnlyThePagesTouched() throws IOException {
        try (UserAddressSpace space = new UserAddressSpace()) {
            long before = residentKib();
            UserMemory memory = space.mmap(64L << 30).value();
            MemorySegment s = memory.segment();
            s.set(ValueLayout.JAVA_LONG, 0, 1);
            s.set(ValueLayout.JAVA_LONG, (64L << 30) - 8, 2);
            assertEquals(2, s.get(ValueLayout.JAVA_LONG, (64L << 30) - 8));
            assertEquals(0, s.get(ValueLayout.JAVA_LONG, 32L << 30));
            long grown = residentKib() - before;
            assertTrue(grown < 128 * 1024, "RSS grew by " + grown + " KiB for three touched pages");
        }
    }

    @Test
    void onlyMappedRangesResolveAndAnUnmappedOneThrowsOnAccess() {
        try (UserAddressSpace space = new UserAddressSpace()) {
            UserMemory memory = space.mmap(8192).value();
            assertNotNull(space.resolve(memory.address(), 8192));
            assertNotNull(space.resolve(memory.address() + 4096, 4096));
            assertNull(space.resolve(memory.address() + 4096, 4097));
            assertNull(space.resolve(memory.address() - 8, 8));
            assertNull(space.resolve(8, 8));
            assertEquals(0, space.munmap(memory).value());
            assertNull(space.resolve(memory.address(), 8));
            assertEquals(Errno.EINVAL, space.munmap(memory).errnoOrNull());
            assertThrows(IllegalStateException.class, () -> memory.segment().get(ValueLayout.JAVA_LONG, 0));
        }
    }

    @Test
    void anExportedBitmapIsUserMemoryUntilUnexported() {
        try (UserAddressSpace space = new UserAddressSpace(); DirtyBitmap bitmap = DirtyBitmap.allocate(100, Set.of())) {
            assertNull(space.resolve(bitmap.address(), 16));
            space.export(bitmap);
            assertNotNull(space.resolve(bitmap.address(), 16));
            assertNull(space.resolve(bitmap.address(), 17));
            assertNull(space.resolveMapped(bitmap.address(), 16));
            space.unexport(bitmap);
            assertNull(space.resolve(bitmap.address(), 16));
        }
    }
}
