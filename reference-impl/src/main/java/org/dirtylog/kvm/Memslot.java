package org.dirtylog.kvm;

import java.lang.foreign.MemorySegment;
import org.dirtylog.spi.KvmApi;

/**
 * One memory slot ({@code struct kvm_memory_slot}): a page-aligned range of guest physical
 * memory backed by user memory at {@code userspaceAddr}, with two dirty bitmaps when
 * {@code KVM_MEM_LOG_DIRTY_PAGES} is set. Everything but the bitmap pair is immutable; the pair
 * is exchanged by the harvest either by publishing a copy ({@link #withBitmapsExchanged()}) or in
 * place ({@link #swapBitmapsInPlace()}), as the architecture's {@link BitmapExchange} says.
 */
public final class Memslot {

    private final int id;
    private final long baseGfn;
    private final long npages;
    private final int flags;
    private final long userspaceAddr;
    private final MemorySegment memory;
    private final ArchMemslot arch;
    private volatile DirtyBitmap dirtyBitmap;
    private volatile DirtyBitmap dirtyBitmapOld;

    Memslot(int id, long baseGfn, long npages, int flags, long userspaceAddr, MemorySegment memory,
            ArchMemslot arch, DirtyBitmap dirtyBitmap, DirtyBitmap dirtyBitmapOld) {
        this.id = id;
        this.baseGfn = baseGfn;
        this.npages = npages;
        this.flags = flags;
        this.userspaceAddr = userspaceAddr;
        this.memory = memory;
        this.arch = arch;
        this.dirtyBitmap = dirtyBitmap;
        this.dirtyBitmapOld = dirtyBitmapOld;
    }

    /** Returns the slot id (address space 0). */
    public int id() {
        return id;
    }

    /** Returns the first guest frame number of the slot. */
    public long baseGfn() {
        return baseGfn;
    }

    /** Returns the number of pages. */
    public long npages() {
        return npages;
    }

    /** Returns the memslot flags. */
    public int flags() {
        return flags;
    }

    /** Returns the user address of the backing memory. */
    public long userspaceAddr() {
        return userspaceAddr;
    }

    /** Returns the guest memory: the user memory at {@code userspaceAddr}, {@code npages} pages long. */
    public MemorySegment memory() {
        return memory;
    }

    /** Returns the architecture's state of this slot. */
    public ArchMemslot arch() {
        return arch;
    }

    /** Returns true when dirty logging is on ({@code KVM_MEM_LOG_DIRTY_PAGES}). */
    public boolean dirtyLogged() {
        return (flags & KvmApi.KVM_MEM_LOG_DIRTY_PAGES) != 0;
    }

    /** Returns the bitmap being filled now, null when logging is off. */
    public DirtyBitmap dirtyBitmap() {
        return dirtyBitmap;
    }

    /** Returns the bitmap holding the last log (the cold one), null when logging is off. */
    public DirtyBitmap dirtyBitmapOld() {
        return dirtyBitmapOld;
    }

    /** Returns true when {@code gfn} lies in the slot. */
    public boolean contains(long gfn) {
        return gfn - baseGfn >= 0 && gfn - baseGfn < npages;
    }

    /** Returns true when the slot shares a page with {@code [gfn, gfn + pages)}. */
    boolean overlaps(long gfn, long pages) {
        return gfn < baseGfn + npages && baseGfn < gfn + pages;
    }

    /** Returns a copy whose active and cold bitmaps are exchanged, for the next memslots array. */
    Memslot withBitmapsExchanged() {
        return new Memslot(id, baseGfn, npages, flags, userspaceAddr, memory, arch, dirtyBitmapOld, dirtyBitmap);
    }

    /**
     * Exchanges the active and cold bitmaps in this slot object. TLA+: SwapBitmaps. A vCPU that
     * loaded the active pointer before this may still set a bit in the now cold bitmap; the
     * caller must wait a grace period before user space reads it.
     */
    void swapBitmapsInPlace() {
        DirtyBitmap active = dirtyBitmap;
        dirtyBitmap = dirtyBitmapOld;
        dirtyBitmapOld = active;
    }
}
