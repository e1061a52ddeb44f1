package org.dirtylog.kvm;

/**
 * What the core lends the hooks of one VM: the parts of {@code struct kvm} that the kernel's
 * {@code kvm_arch_*} functions call back into. Passed as the first argument of every VM-side
 * hook of {@link ArchHooks}, the way the kernel passes {@code kvm}.
 */
public final class ArchContext {

    private final Srcu guestMode;
    private final BitmapAllocator bitmaps;

    ArchContext(Srcu guestMode, BitmapAllocator bitmaps) {
        this.guestMode = guestMode;
        this.bitmaps = bitmaps;
    }

    /**
     * Returns once every vCPU has left guest mode since the call, so none still stores through a
     * mapping it found writable before a write-protect that preceded the call
     * ({@code kvm_flush_remote_tlbs}). The write-protect itself makes the next check fault.
     */
    public void flushRemoteTlbs() {
        guestMode.synchronizeExpedited();
    }

    /** Returns a fresh all-zero dirty log from the VM's {@link BitmapAllocator}; see {@link BitmapAllocator#allocate}. */
    public DirtyBitmap allocateBitmap(long npages, boolean trackWords) {
        return bitmaps.allocate(npages, trackWords);
    }
}
