package org.dirtylog.kvm;

import java.util.EnumSet;
import java.util.Set;

/**
 * What the generic core asks of an architecture (the kernel's {@code kvm_arch_*} functions).
 * Default methods are the weak defaults; an adapter overrides what its architecture does
 * differently. The core never asks which architecture it runs on.
 *
 * <p>Hooks that change dirty-log state run under the VM's slots lock; vCPU-side hooks run
 * inside an SRCU read section of the vCPU's thread.
 */
public interface ArchHooks {

    /** Returns the architecture's short name, e.g. {@code x86}. */
    String name();

    /** Returns the defects this architecture can be built with (all but the x86-only ones by default). */
    default Set<Defect> applicableDefects() {
        return EnumSet.complementOf(EnumSet.of(Defect.WRITE_PROTECT_BEFORE_SWAP));
    }

    /**
     * Returns fresh per-slot state with every page write-protected ({@code kvm_arch_create_memslot}).
     * Called when a slot is created or moved. Throws {@link OutOfMemoryError} for -ENOMEM.
     */
    ArchMemslot createArchMemslot(Vm vm, long npages);

    /** Returns the per-vCPU state of vCPU {@code id} ({@code kvm_arch_vcpu_create}); none by default. */
    default Object createArchVcpu(Vm vm, int id) {
        return null;
    }

    /** Returns true when the vCPU may store to {@code page} of {@code slot} without faulting. */
    boolean isWritable(Vcpu vcpu, Memslot slot, long page);

    /** Makes {@code page} writable for the vCPU, in the slot's current write-protect epoch. TLA+: VcpuWriteFault(v). */
    void makeWritable(Vcpu vcpu, Memslot slot, long page);

    /**
     * Marks {@code page} dirty for the next harvest ({@code mark_page_dirty}): by default in the
     * slot's active bitmap. TLA+: VcpuWriteFault(v).
     */
    default void markPageDirty(Vcpu vcpu, Memslot slot, long page) {
        DirtyBitmap active = slot.dirtyBitmap();
        vcpu.vm().widenSwapWindow();
        active.set(page);
    }

    /**
     * Marks the frames {@code gfns[from..to)}, all inside {@code slot}, dirty for the next harvest
     * (one run of a page-modification-log flush): by default in the slot's active bitmap, loaded
     * once for the run. A run that loaded the bitmap just before an in-place swap is no different
     * from one mark that did: the grace period after every swap waits for it. An architecture
     * that overrides {@link #markPageDirty} must override this too. TLA+: VcpuWriteFault(v).
     */
    default void markPagesDirty(Vcpu vcpu, Memslot slot, long[] gfns, int from, int to) {
        DirtyBitmap active = slot.dirtyBitmap();
        vcpu.vm().widenSwapWindow();
        long base = slot.baseGfn();
        for (int i = from; i < to; i++) {
            active.set(gfns[i] - base);
        }
    }

    /**
     * Write-protects every page of {@code slot} and flushes, so that when it returns every later
     * write to the slot faults. Implementations end with {@link Vm#flushRemoteTlbs()}.
     * TLA+: WriteProtect (or FlushShadowMappings).
     */
    void writeProtectSlot(Vm vm, Memslot slot);

    /**
     * Harvests {@code slot}: returns 1 when it was clean (nothing changes), else makes the
     * cleared cold bitmap active, leaves the previously active one cold and returns 0.
     * Called under the slots lock for {@code KVM_SWITCH_DIRTY_LOG} and {@code KVM_GET_DIRTY_LOG}.
     *
     * <p>Default: the RFC's generic {@code kvm_update_dirty_log} (swap in place) made safe. The
     * RFC swapped and returned: a vCPU that loaded the old active pointer just before the swap
     * could set its bit after user space read the cold bitmap, and the next switch would clear
     * that bit unseen (a lost write). The grace period after the swap closes that race
     * (TLA+: SwapBitmaps then GracePeriod, property NoLostWrite). Then write-protect and flush,
     * so later writes fault and mark the new active bitmap.
     */
    default int updateDirtyLog(Vm vm, Memslot slot) {
        if (!slot.dirtyBitmap().isDirty()) {
            return 1;
        }
        vm.clearSpareBitmap(slot);
        slot.swapBitmapsInPlace();                  // TLA+: SwapBitmaps
        vm.gracePeriod();                           // TLA+: GracePeriod
        vm.widenFlushWindow();
        writeProtectSlot(vm, slot);                 // TLA+: WriteProtect / FlushShadowMappings
        return 0;
    }

    /**
     * Called after a move was published and a grace period passed, before the old state is
     * closed: carries over whatever dirty state the architecture keeps outside the bitmaps (S5).
     */
    default void memslotMoved(Vm vm, Memslot old, Memslot moved) {
    }

    /** Called after logging was turned off and a grace period passed; no vCPU marks the slot any more. */
    default void dirtyLoggingDisabled(Vm vm, Memslot slot) {
    }
}
