package org.dirtylog.spi;

import java.lang.foreign.MemorySegment;

/**
 * A range of the backend's user address space, mapped by {@link BackendVm#mmap(long)}.
 * The kit reads guest page contents and bitmaps through {@link #segment()}; the
 * {@link #address()} is what goes into ioctl arguments ({@code userspace_addr},
 * {@code dirty_bitmap}).
 *
 * @param address the user-space address of the first byte
 * @param segment the host's view of the same bytes, {@code length} bytes long
 */
@Api(Api.Status.STABLE)
public record UserMemory(long address, MemorySegment segment) {

    /** Returns the length of the mapping in bytes. */
    public long length() {
        return segment.byteSize();
    }
}
