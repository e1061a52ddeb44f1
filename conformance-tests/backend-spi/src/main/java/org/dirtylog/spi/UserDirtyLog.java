package org.dirtylog.spi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * {@code struct kvm_user_dirty_log} of the RFC, the in/out argument of
 * {@code KVM_GET_USER_DIRTY_LOG_ADDR}: {@code u32 slot; u32 flags; u64 dirty_bitmap;
 * u64 dirty_bitmap_old;} (24 bytes, native byte order).
 *
 * @param slot the memslot asked about
 * @param flags must be 0
 * @param dirtyBitmap user address of the bitmap being filled now
 * @param dirtyBitmapOld user address of the bitmap holding the last log
 */
@Api(Api.Status.STABLE)
public record UserDirtyLog(int slot, int flags, long dirtyBitmap, long dirtyBitmapOld) {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("slot"),
            ValueLayout.JAVA_INT.withName("flags"),
            ValueLayout.JAVA_LONG.withName("dirty_bitmap"),
            ValueLayout.JAVA_LONG.withName("dirty_bitmap_old"));

    /** Returns the struct as stored in {@code segment} at offset 0. */
    public static UserDirtyLog readFrom(MemorySegment segment) {
        return new UserDirtyLog(
                segment.get(ValueLayout.JAVA_INT_UNALIGNED, 0),
                segment.get(ValueLayout.JAVA_INT_UNALIGNED, 4),
                segment.get(ValueLayout.JAVA_LONG_UNALIGNED, 8),
                segment.get(ValueLayout.JAVA_LONG_UNALIGNED, 16));
    }

    /** Stores the struct into {@code segment} at offset 0. */
    public void writeTo(MemorySegment segment) {
        segment.set(ValueLayout.JAVA_INT_UNALIGNED, 0, slot);
        segment.set(ValueLayout.JAVA_INT_UNALIGNED, 4, flags);
        segment.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, dirtyBitmap);
        segment.set(ValueLayout.JAVA_LONG_UNALIGNED, 16, dirtyBitmapOld);
    }
}
