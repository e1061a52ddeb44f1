package org.dirtylog.kvm;

/**
 * Allocates a VM's dirty logs ({@code kvm_alloc_dirty_bitmap}): the two bitmaps of every logged
 * memslot, and a log an architecture keeps of its own (ia64's VMM log). The core uses
 * {@link #KERNEL}; a test fixture may compose another, for instance one that builds bitmaps
 * with a different {@link DirtyBitmap.WordUpdate}.
 */
@FunctionalInterface
public interface BitmapAllocator {

    /** Native, zero-filled bitmaps whose bits are set with one atomic OR. */
    BitmapAllocator KERNEL = DirtyBitmap::allocate;

    /**
     * Returns a fresh all-zero bitmap for {@code npages} pages; {@code trackWords} false leaves
     * out the log of dirty words (for a log drained word by word and never cleared whole).
     * Throws {@link OutOfMemoryError} when native memory is exhausted (the caller answers -ENOMEM).
     */
    DirtyBitmap allocate(long npages, boolean trackWords);

    /**
     * Returns a fresh memslot bitmap for {@code npages} pages with every page's bit set and none
     * past npages: the active bitmap of a slot whose logging starts under
     * {@code KVM_DIRTY_LOG_INITIALLY_SET} ({@code kvm_prepare_memory_region}). Throws
     * {@link OutOfMemoryError} as {@link #allocate} does.
     */
    default DirtyBitmap allocateInitiallySet(long npages) {
        DirtyBitmap bitmap = allocate(npages, true);
        bitmap.setAll();
        return bitmap;
    }
}
