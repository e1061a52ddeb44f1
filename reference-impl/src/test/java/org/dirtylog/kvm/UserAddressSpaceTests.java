package org.dirtylog.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;

class UserAddressSpaceTests {

    private static final int MADV_NOHUGEPAGE = 15;

    /** The first line of a mapping's block in smaps. */
    private static final Pattern HEADER = Pattern.compile("[0-9a-f]+-[0-9a-f]+ ");

    /**
     * Returns the {@code Rss:} (KiB) of the mapping that is exactly {@code [address, address + length)},
     * from smaps.
     */
    static long residentKibOfMapping(long address, long length) throws IOException {
        String range = Long.toHexString(address) + "-" + Long.toHexString(address + length) + " ";
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).startsWith(range)) {
                continue;
            }
            for (int j = i + 1; j < lines.size() && !HEADER.matcher(lines.get(j)).lookingAt(); j++) {
                if (lines.get(j).startsWith("Rss:")) {
                    return Long.parseLong(lines.get(j).replaceAll("[^0-9]", ""));
                }
            }
        }
        throw new IllegalStateException("no mapping " + range + "in /proc/self/smaps");
    }

    /**
     * Gives the mapping its own VMA flags, so that the kernel does not merge it with a
     * neighbouring anonymous mapping (whose pages smaps would then count with it), and keeps
     * transparent huge pages out of the count.
     */
    private static void adviseNoHugePages(long address, long length) {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle madvise = linker.downcallHandle(linker.defaultLookup().find("madvise").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
            // Native memory: madvise(MADV_NOHUGEPAGE) on the test's own mapping; touches no page.
            assertEquals(0, (int) madvise.invokeExact(MemorySegment.ofAddress(address), length, MADV_NOHUGEPAGE));
        } catch (Throwable t) {
            throw new AssertionError("madvise failed", t);
        }
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
    void aSixtyFourGibMappingIsResidentOnlyInThePagesWritten() throws IOException {
        long size = 64L << 30;
        try (UserAddressSpace space = new UserAddressSpace()) {
            UserMemory memory = space.mmap(size).value();
            adviseNoHugePages(memory.address(), size);
            MemorySegment s = memory.segment();
            assertEquals(0, residentKibOfMapping(memory.address(), size), "fresh mapping");
            s.set(ValueLayout.JAVA_LONG, 0, 1);
            s.set(ValueLayout.JAVA_LONG, size - 8, 2);
            assertEquals(2, s.get(ValueLayout.JAVA_LONG, size - 8));
            // A read of an untouched page maps the shared zero page, which is not the mapping's own.
            assertEquals(0, s.get(ValueLayout.JAVA_LONG, 32L << 30));
            assertEquals(2 * KvmApi.PAGE_SIZE / 1024, residentKibOfMapping(memory.address(), size),
                    "Rss of the mapping with two pages written");
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
        try (UserAddressSpace space = new UserAddressSpace(); DirtyBitmap bitmap = DirtyBitmap.allocate(100)) {
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
