package org.dirtylog.kvm;

/**
 * What the generic core asks of an architecture (the kernel's {@code kvm_arch_*} functions):
 * narrow questions, never the order of a harvest, which {@link DirtyLog} writes once for every
 * architecture. Default methods are the weak defaults; an adapter overrides what its
 * architecture does differently. The core never asks which architecture it runs on.
 *
 * <p>VM-side hooks take the {@link ArchContext} first and run under the VM's slots lock.
 * vCPU-side hooks ({@link #isWritable}, {@link #makeWritable}, {@link #markPageDirty},
 * {@link #markPagesDirty}) run on the vCPU's thread inside a read section of the memslots SRCU.
 */
public interface ArchHooks {

    /** Returns the architecture's short name, e.g. {@code x86}. */
    String name();

    // ---- memslots ----

    /**
     * Returns fresh per-slot state with every page write-protected ({@code kvm_arch_create_memslot}).
     * Called when a slot is created or moved. Throws {@link OutOfMemoryError} for -ENOMEM.
     */
    ArchMemslot createArchMemslot(ArchContext kvm, long npages);

    /**
     * Finishes a memslot change after the new memslots array was published and a grace period
     * passed, before the core frees what only {@code old} used ({@code kvm_arch_commit_memory_region}).
     * {@code old} is null for {@link MemslotChange#CREATE}, {@code next} for {@link MemslotChange#DELETE}.
     *
     * <p>Default: when logging was switched on in place, write-protect the slot and flush, so
     * that a page made writable while logging was off faults again (b64d740e; TLA+: LogOn, then
     * WriteProtect). Only now, after every vCPU sees the new bitmaps: earlier, a fault could find
     * no bitmap and map the page writable unlogged. A moved or created slot starts write-protected.
     * Under {@code KVM_DIRTY_LOG_INITIALLY_SET} nothing is write-protected: every page's bit is
     * set already, and {@code KVM_CLEAR_DIRTY_LOG} arms a page when it clears it
     * ({@code kvm_mmu_slot_apply_flags}; TLA+: LogOn with InitiallySet).
     */
    default void commitMemoryRegion(ArchContext kvm, Memslot old, Memslot next, MemslotChange change) {
        if (change == MemslotChange.FLAGS_ONLY && !old.dirtyLogged() && next.dirtyLogged()
                && !kvm.manualProtectInitiallySet()) {
            writeProtectSlot(kvm, next);
            flushRemoteTlbsMemslot(kvm, next);
        }
    }

    /**
     * Returns true when the architecture harvests through the generic protect path
     * ({@code CONFIG_KVM_GENERIC_DIRTYLOG_READ_PROTECT}) and so offers manual protect and
     * {@code KVM_CLEAR_DIRTY_LOG}, re-arming through {@link #enableLogDirtyPtMasked}. False by
     * default: {@code KVM_CHECK_EXTENSION(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)} is then 0, the
     * capability cannot be enabled and the ioctl is unknown, as on PowerPC book3s.
     */
    default boolean genericDirtyLogReadProtect() {
        return false;
    }

    // ---- vCPUs ----

    /** Returns the per-vCPU state of vCPU {@code id} ({@code kvm_arch_vcpu_create}); none by default. */
    default Object createArchVcpu(int id) {
        return null;
    }

    /** Returns true when the vCPU may store to {@code page} of {@code slot} without faulting. */
    boolean isWritable(Vcpu vcpu, Memslot slot, long page);

    /** Makes {@code page} writable for the vCPU, in the slot's current write-protect epoch. TLA+: VcpuWriteFault(v). */
    void makeWritable(Vcpu vcpu, Memslot slot, long page);

    /**
     * Marks {@code page} of a logged slot dirty for the next harvest: by default in the slot's
     * active bitmap ({@code mark_page_dirty_in_slot}), loaded once. An architecture whose VMM or
     * hardware keeps a log of its own marks that instead and moves it into the bitmap in
     * {@link #syncDirtyLog}. TLA+: VcpuWriteFault(v).
     */
    default void markPageDirty(Vcpu vcpu, Memslot slot, long page) {
        slot.dirtyBitmap().set(page);
    }

    /**
     * Marks the frames {@code gfns[from..to)}, all inside the logged {@code slot}, dirty for the
     * next harvest (one run of a page-modification-log flush): by default in the slot's active
     * bitmap, loaded once for the run. A run that loaded the bitmap just before an in-place swap
     * is no different from one mark that did: the grace period after every exchange waits for
     * it. An architecture that overrides {@link #markPageDirty} must override this too.
     * TLA+: VcpuWriteFault(v).
     */
    default void markPagesDirty(Vcpu vcpu, Memslot slot, long[] gfns, int from, int to) {
        DirtyBitmap active = slot.dirtyBitmap();
        long base = slot.baseGfn();
        for (int i = from; i < to; i++) {
            active.set(gfns[i] - base);
        }
    }

    // ---- harvest: the steps DirtyLog calls, in its order ----

    /**
     * Moves whatever the architecture logged outside the memslot's bitmap into its active
     * bitmap, first thing in every harvest ({@code kvm_arch_sync_dirty_log}); nothing by default.
     * TLA+: MergeVmmLog (ia64).
     */
    default void syncDirtyLog(ArchContext kvm, Memslot slot) {
    }

    /** Returns how a harvest exchanges the slot's two bitmaps: {@link BitmapExchange#IN_PLACE} by default. */
    default BitmapExchange bitmapExchange() {
        return BitmapExchange.IN_PLACE;
    }

    /**
     * Write-protects every page of {@code slot}, so that the next write to any of them faults
     * ({@code kvm_mmu_slot_remove_write_access}); the caller flushes afterwards.
     * TLA+: WriteProtect (FlushShadowMappings where the protection is a shadow-PTE flush).
     */
    void writeProtectSlot(ArchContext kvm, Memslot slot);

    /**
     * Re-arms dirty tracking for the pages {@code firstPage + i} of {@code slot} whose bit
     * {@code i} is set in {@code mask} ({@code kvm_arch_mmu_enable_log_dirty_pt_masked};
     * {@code firstPage} is a multiple of 64 for a clear, any page of the slot for a dirty-ring reset,
     * and every page of the mask is inside the slot); the caller flushes afterwards. The per-page harvests
     * (a clear of 64-page words, a dirty-ring reset) re-arm through this. Default: write-protect
     * the whole slot, which is never wrong (a page outside the mask faults once more and is marked
     * again), only slower.
     */
    default void enableLogDirtyPtMasked(ArchContext kvm, Memslot slot, long firstPage, long mask) {
        writeProtectSlot(kvm, slot);
    }

    /**
     * Flushes remote TLBs after the slot's protection was raised, so that no vCPU still stores
     * through a mapping it found writable before ({@code kvm_arch_flush_remote_tlbs_memslot});
     * by default the VM-wide {@link ArchContext#flushRemoteTlbs()}.
     */
    default void flushRemoteTlbsMemslot(ArchContext kvm, Memslot slot) {
        kvm.flushRemoteTlbs();
    }

    /**
     * Returns the largest dirty ring a vCPU may have, in bytes ({@code KVM_CHECK_EXTENSION} of
     * {@code KVM_CAP_DIRTY_LOG_RING} and {@code _ACQ_REL}); 0 when the architecture has no ring
     * ({@code KVM_DIRTY_LOG_PAGE_OFFSET} is 0, as on book3s and ia64). Default 0.
     */
    default long dirtyRingMaxBytes() {
        return 0;
    }
}
