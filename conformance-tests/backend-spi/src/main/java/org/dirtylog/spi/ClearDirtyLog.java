package org.dirtylog.spi;

/**
 * {@code struct kvm_clear_dirty_log}: the argument of {@code KVM_CLEAR_DIRTY_LOG}, in the C
 * field order ({@code u32 slot; u32 num_pages; u64 first_page; u64 dirty_bitmap;}, 24 bytes).
 * Bit {@code i} of the user bitmap at {@code dirtyBitmap} names page {@code firstPage + i} of the
 * slot.
 *
 * @param slot memslot id; bits 16-31 are the address-space id
 * @param numPages pages the user bitmap covers, an <em>unsigned</em> 32-bit count as in the kernel
 *                 (read it with {@link #numPagesUnsigned()})
 * @param firstPage first page of the range, an unsigned 64-bit page index; must be a multiple of 64
 * @param dirtyBitmap user address of the bitmap
 */
@Api(Api.Status.STABLE)
public record ClearDirtyLog(int slot, int numPages, long firstPage, long dirtyBitmap) {

    /** Returns {@code num_pages} as the kernel reads it: 0 to 2^32 - 1. */
    public long numPagesUnsigned() {
        return Integer.toUnsignedLong(numPages);
    }

    /**
     * Returns how many bytes the kernel reads from {@code dirtyBitmap}:
     * {@code ALIGN(num_pages, 64) / 8}, 0 for {@code num_pages == 0}.
     */
    public long bitmapBytes() {
        return KvmApi.dirtyBitmapBytes(numPagesUnsigned());
    }

    /**
     * Returns true when the range check of {@code kvm_clear_dirty_log_protect} fails for a slot of
     * {@code npages} pages: {@code first_page > npages}, {@code num_pages > npages - first_page},
     * or {@code num_pages} not a multiple of 64 while the range ends before the slot's end.
     * Comparisons are unsigned, as in the kernel.
     */
    public boolean rangeInvalidFor(long npages) {
        long num = numPagesUnsigned();
        if (Long.compareUnsigned(firstPage, npages) > 0) {
            return true;
        }
        long left = npages - firstPage;
        return num > left || (num < left && (num & 63) != 0);
    }
}
