package org.dirtylog.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.UserMemory;

/**
 * The explicit user address space of a VM's process: only ranges mapped here (anonymous
 * {@code mmap} with {@code MAP_NORESERVE}) and the dirty bitmaps the VM exports are valid user
 * pointers; anything else is {@code -EFAULT}. A 64 GiB mapping costs only the pages touched.
 */
final class UserAddressSpace implements AutoCloseable {

    private static final int PROT_READ = 0x1;
    private static final int PROT_WRITE = 0x2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_NORESERVE = 0x4000;

    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;

    static {
        Linker linker = Linker.nativeLinker();
        MMAP = linker.downcallHandle(linker.defaultLookup().find("mmap").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        MUNMAP = linker.downcallHandle(linker.defaultLookup().find("munmap").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    }

    private record Region(long address, MemorySegment segment, Arena arena, boolean mapped) {
        long end() {
            return address + segment.byteSize();
        }
    }

    private final ConcurrentSkipListMap<Long, Region> regions = new ConcurrentSkipListMap<>();

    /**
     * Returns {@code length} bytes of fresh zeroed memory, reserved lazily.
     * Errors: -EINVAL (length not a positive multiple of the page size), -ENOMEM.
     */
    IoctlResult<UserMemory> mmap(long length) {
        if (length <= 0 || (length & (KvmApi.PAGE_SIZE - 1)) != 0) {
            return IoctlResult.err(Errno.EINVAL);
        }
        MemorySegment raw = mapAnonymous(length);
        if (raw == null) {
            return IoctlResult.err(Errno.ENOMEM);
        }
        Arena arena = Arena.ofShared();
        // Native memory: the mapping lives until the arena closes; closing it runs munmap.
        MemorySegment segment = raw.reinterpret(length, arena, s -> unmapRaw(s.address(), length));
        regions.put(segment.address(), new Region(segment.address(), segment, arena, true));
        return IoctlResult.ok(new UserMemory(segment.address(), segment));
    }

    /**
     * Unmaps a range returned by {@link #mmap(long)} and returns 0; later accesses throw.
     * Errors: -EINVAL (not a mapped range, or the native munmap failed), -EBUSY (the arena
     * refused to close; the range stays mapped and listed, so a later munmap or close frees it).
     */
    IoctlResult<Integer> munmap(UserMemory memory) {
        Region region = regions.get(memory.address());
        if (region == null || !region.mapped() || region.segment().byteSize() != memory.length()) {
            return IoctlResult.err(Errno.EINVAL);
        }
        Errno failed = release(region);
        if (failed == Errno.EBUSY) {
            return IoctlResult.err(failed);
        }
        // Removed only once the arena is closed: a region dropped from the map while still
        // mapped could never be unmapped (leaked).
        regions.remove(memory.address(), region);
        return failed == null ? IoctlResult.ok(0) : IoctlResult.err(failed);
    }

    /**
     * Closes the region's arena (running munmap) and returns null, or -EBUSY when the arena
     * is still open, or -EINVAL when it closed but the native munmap failed.
     */
    private static Errno release(Region region) {
        try {
            region.arena().close();
            return null;
        } catch (RuntimeException e) {
            return region.arena().scope().isAlive() ? Errno.EBUSY : Errno.EINVAL;
        }
    }

    /**
     * Returns the host's view of {@code [address, address + length)}, or null when any byte is
     * not valid user memory (the caller answers -EFAULT).
     */
    MemorySegment resolve(long address, long length) {
        if (length < 0 || address + length < address) {
            return null;
        }
        Map.Entry<Long, Region> entry = regions.floorEntry(address);
        if (entry == null) {
            return null;
        }
        Region region = entry.getValue();
        if (address + length > region.end() || !region.segment().scope().isAlive()) {
            return null;
        }
        return region.segment().asSlice(address - region.address(), length);
    }

    /** Returns the mapped (not bitmap) region view of {@code [address, address + length)}, or null. */
    MemorySegment resolveMapped(long address, long length) {
        Map.Entry<Long, Region> entry = regions.floorEntry(address);
        if (entry == null || !entry.getValue().mapped()) {
            return null;
        }
        return resolve(address, length);
    }

    /** Makes the bitmap's bytes valid user memory (it is exported by KVM_GET_USER_DIRTY_LOG_ADDR). */
    void export(DirtyBitmap bitmap) {
        regions.put(bitmap.address(), new Region(bitmap.address(), bitmap.segment(), null, false));
    }

    /** Removes an exported bitmap from the address space. */
    void unexport(DirtyBitmap bitmap) {
        regions.remove(bitmap.address());
    }

    /** Unmaps everything mapped. Idempotent; never throws (a range that cannot be released is dropped). */
    @Override
    public void close() {
        for (Region region : regions.values()) {
            if (region.mapped() && region.arena().scope().isAlive()) {
                release(region);
            }
        }
        regions.clear();
    }

    /** Returns anonymous, lazily backed memory of {@code length} bytes, or null when mmap fails. */
    static MemorySegment mapAnonymous(long length) {
        try {
            // Native memory: anonymous private mapping; MAP_NORESERVE so untouched pages cost nothing.
            MemorySegment p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, length,
                    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
            return p.address() == -1L ? null : p;
        } catch (Throwable t) {
            throw new IllegalStateException("mmap failed to link", t);
        }
    }

    /** Unmaps memory from {@link #mapAnonymous(long)}. */
    static void unmapRaw(long address, long length) {
        try {
            // Native memory: releases a mapping no segment can reach any more (its arena is closed).
            int rc = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), length);
            if (rc != 0) {
                throw new IllegalStateException("munmap failed for 0x" + Long.toHexString(address));
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("munmap failed to link", t);
        }
    }
}
