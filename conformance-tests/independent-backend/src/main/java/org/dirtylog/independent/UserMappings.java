package org.dirtylog.independent;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.TreeMap;
import org.dirtylog.spi.KvmApi;

/**
 * The VM's user address space: native memory of one shared arena, mapped by {@code mmap} (user
 * mappings) or by the VM itself for the RFC bitmaps (kernel mappings, which user space may read
 * and write but not unmap). An address is a valid user pointer only while it lies in a
 * mapping; unmapping removes the mapping but keeps the bytes until the VM closes, so a vCPU or
 * a late reader never touches freed memory.
 */
final class UserMappings {

    /** The largest single mapping: a bigger request gets -ENOMEM instead of exhausting the host. */
    static final long MAX_MAPPING = 1L << 32;

    private record Mapping(MemorySegment segment, boolean kernel) {
    }

    private final Arena arena = Arena.ofShared();
    private final TreeMap<Long, Mapping> byAddress = new TreeMap<>();
    private boolean closed;

    /** Returns {@code length} bytes of zeroed, page-aligned user memory, or null when it cannot be had. */
    synchronized MemorySegment map(long length, boolean kernel) {
        if (closed || length > MAX_MAPPING) {
            return null;
        }
        MemorySegment segment;
        try {
            segment = arena.allocate(length, KvmApi.PAGE_SIZE);
        } catch (OutOfMemoryError e) {
            return null;
        }
        byAddress.put(segment.address(), new Mapping(segment, kernel));
        return segment;
    }

    /** Removes the mapping that starts at {@code address}; returns false when no such mapping exists. */
    synchronized boolean unmap(long address, boolean kernel) {
        Mapping m = byAddress.get(address);
        if (m == null || m.kernel() != kernel) {
            return false;
        }
        byAddress.remove(address);
        return true;
    }

    /**
     * Returns the bytes {@code [address, address + length)} when one mapping holds all of them
     * (only user mappings when {@code userOnly}), else null.
     */
    synchronized MemorySegment resolve(long address, long length, boolean userOnly) {
        if (length < 0) {
            return null;
        }
        Map.Entry<Long, Mapping> e = byAddress.floorEntry(address);
        if (e == null || (userOnly && e.getValue().kernel())) {
            return null;
        }
        long offset = address - e.getKey();
        if (offset > e.getValue().segment().byteSize() - length) {
            return null;
        }
        return e.getValue().segment().asSlice(offset, length);
    }

    /** Frees every mapping's memory; later calls find nothing mapped. Never throws. */
    void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            byAddress.clear();
        }
        try {
            arena.close();
        } catch (IllegalStateException e) {
            // A thread the kit abandoned (a timed-out rule) still holds a segment: leave the memory to it.
        }
    }
}
