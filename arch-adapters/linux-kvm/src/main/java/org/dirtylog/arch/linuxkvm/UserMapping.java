package org.dirtylog.arch.linuxkvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;

/**
 * Memory mapped with {@code mmap(2)} (anonymous, or a vCPU's dirty ring), seen through a segment of its own shared arena:
 * after {@link #unmap()} every segment handed out for it fails with an exception on access
 * instead of touching an address the process may have reused.
 */
final class UserMapping {

    private final long address;
    private final long length;
    private final Arena arena;
    private final MemorySegment segment;

    @SuppressWarnings("restricted") // the address comes from the kernel (mmap), not from a caller
    private UserMapping(long address, long length) {
        this.address = address;
        this.length = length;
        this.arena = Arena.ofShared();
        // Native memory: [address, address + length) is mapped until unmap(), which closes the arena first.
        this.segment = MemorySegment.ofAddress(address).reinterpret(length, arena, null);
    }

    /**
     * Returns {@code length} bytes of private anonymous, zero-filled, read-write memory
     * ({@code MAP_NORESERVE}: pages cost memory only once touched). Errors: {@code -ENOMEM}.
     */
    static IoctlResult<UserMapping> map(long length) {
        long r = Syscalls.mmap(length, Syscalls.PROT_READ | Syscalls.PROT_WRITE,
                Syscalls.MAP_PRIVATE | Syscalls.MAP_ANONYMOUS | Syscalls.MAP_NORESERVE, -1);
        return r < 0 ? IoctlResult.err(Errno.fromKernelReturn(r)) : IoctlResult.ok(new UserMapping(r, length));
    }

    /**
     * Returns a mapping made elsewhere ({@code [address, address + length)}, e.g. a vCPU's dirty
     * ring mapped from its fd), released by {@link #unmap()} like one from {@link #map}.
     */
    static UserMapping adopt(long address, long length) {
        return new UserMapping(address, length);
    }

    long address() {
        return address;
    }

    long length() {
        return length;
    }

    MemorySegment segment() {
        return segment;
    }

    /** Returns true when {@code [from, from + bytes)} lies inside this mapping. */
    boolean contains(long from, long bytes) {
        return from >= address && bytes <= length && from - address <= length - bytes;
    }

    /** Invalidates the segments, then unmaps the memory. Called once. */
    void unmap() {
        arena.close();
        Syscalls.munmap(address, length);
    }
}
