package org.dirtylog.kvm;

import org.dirtylog.spi.KvmApi;

/**
 * What the core lends the hooks of one VM: the parts of {@code struct kvm} that the kernel's
 * {@code kvm_arch_*} functions call back into. Passed as the first argument of every VM-side
 * hook of {@link ArchHooks}, the way the kernel passes {@code kvm}.
 */
public final class ArchContext {

    private final Srcu guestMode;
    private final BitmapAllocator bitmaps;
    /** {@code kvm->manual_dirty_log_protect}: the last accepted {@code KVM_ENABLE_CAP} argument; written under the slots lock. */
    private volatile long manualDirtyLogProtect;

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

    /** Returns true when manual protect is on: {@code KVM_GET_DIRTY_LOG} copies and neither clears nor re-arms. */
    public boolean manualDirtyLogProtect() {
        return (manualDirtyLogProtect & KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE) != 0;
    }

    /**
     * Returns true when manual protect is on with {@code KVM_DIRTY_LOG_INITIALLY_SET}
     * ({@code kvm_dirty_log_manual_protect_and_init_set}): a bitmap allocated now starts with every
     * page set, so turning logging on need not write-protect; {@code KVM_CLEAR_DIRTY_LOG} arms
     * each page when it clears it.
     */
    public boolean manualProtectInitiallySet() {
        return (manualDirtyLogProtect & KvmApi.KVM_DIRTY_LOG_INITIALLY_SET) != 0;
    }

    void manualDirtyLogProtect(long flags) {
        manualDirtyLogProtect = flags;
    }

    /** Returns a fresh all-zero dirty log from the VM's {@link BitmapAllocator}; see {@link BitmapAllocator#allocate}. */
    public DirtyBitmap allocateBitmap(long npages, boolean trackWords) {
        return bitmaps.allocate(npages, trackWords);
    }
}
