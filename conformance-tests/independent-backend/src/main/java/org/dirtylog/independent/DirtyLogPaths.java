package org.dirtylog.independent;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.dirtylog.spi.KvmApi;

/**
 * The code paths of dirty logging, each written once: the guest's store and its write fault,
 * the fold of a vCPU's log into a memslot's bitmap, and the harvest both
 * {@code KVM_GET_DIRTY_LOG} and {@code KVM_SWITCH_DIRTY_LOG} run. This class is the correct
 * design; each broken variant of the self-test is a subclass that rewrites exactly one of these
 * methods the way a careless kernel developer would.
 *
 * <p>Why no write is lost. A vCPU stores to page p of a logged slot only while its shadow PTE
 * lets it, and the fault that made the PTE writable logged p in the vCPU's log <em>after</em>
 * making it writable. A harvest (1) drains every vCPU's log into the active bitmap, (2) waits for
 * each vCPU's guest-mode section in flight, so that a fold that took marks out of a log before
 * (1) has set them, (3) swaps the bitmaps in place, (4) write-protects every vCPU and waits for
 * its section in flight: a fold that loaded the old active bitmap has set its bits, and a store
 * that saw the page writable has completed. So every mark of a store that completed before the
 * harvest began is in the harvested bitmap by the time the harvest returns, and every page it
 * reports is write-protected again, so the next store to it faults and is logged anew. A
 * fault racing with (4) either precedes the write protection (the page is protected again) or
 * follows it (its mark is made after (1) and waits in the log for the next harvest).
 */
class DirtyLogPaths {

    /** A guest store: the first 8 bytes at a gpa, little-endian as on every architecture the kit models. */
    static final ValueLayout.OfLong GUEST_WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Performs one guest store on {@code vcpu}'s thread and returns true, or returns false when
     * no memslot holds {@code gpa} (the guest would exit with an MMIO access) or the VM is closed.
     * TLA+: VcpuEnterSrcu, VcpuLookupSlot, VcpuWriteFault, VcpuStore, VcpuExitSrcu.
     */
    boolean guestWrite(IndependentVcpu vcpu, long gpa, long value) {
        if (!vcpu.enterGuestMode()) {
            return false;
        }
        try {
            Memslot slot = vcpu.translate(gpa);
            if (slot == null) {
                return false;
            }
            long offset = gpa - slot.gpa;
            if (slot.logging()) {
                writeFault(vcpu, slot, offset >>> KvmApi.PAGE_SHIFT);
            }
            slot.memory.set(GUEST_WORD, offset, value);
            return true;
        } finally {
            vcpu.exitGuestMode();
        }
    }

    /**
     * Handles the store's shadow-PTE check on a logged slot, in guest mode: nothing when the
     * page is writable for this vCPU, else the write fault, which makes it writable and logs it.
     * TLA+: VcpuWriteFault (the per-vCPU log plays the part of the ia64 VMM log).
     */
    void writeFault(IndependentVcpu vcpu, Memslot slot, long page) {
        VcpuDirtyLog log = slot.vcpuLogs[vcpu.id];
        if (log.writable(page)) {
            return;
        }
        // The PTE first, then the mark, as fast_page_fault does: a write-protect racing between
        // the two would otherwise leave the page writable with its mark already harvested.
        log.makeWritable(page);
        log.mark(page);
        if (++log.marksSinceFold >= VcpuDirtyLog.PML_ENTRIES) {
            fold(slot, log);
        }
    }

    /**
     * Folds {@code log} into {@code slot}'s active bitmap, in guest mode on the log's vCPU: the
     * exit a full PML buffer causes, and every exit to user space. The bitmap is loaded once,
     * first: a harvest that swaps meanwhile waits for this section before it returns.
     */
    void fold(Memslot slot, VcpuDirtyLog log) {
        DirtyBitmap target = slot.activeBitmap();
        for (int w = 0; w < log.nwords(); w++) {
            long bits = log.take(w);
            if (bits != 0) {
                setBits(target, w, bits);
            }
        }
        log.marksSinceFold = 0;
    }

    /** Sets {@code bits} in word {@code w} of {@code bitmap}: the only way marks reach a memslot's bitmap. */
    void setBits(DirtyBitmap bitmap, int w, long bits) {
        bitmap.setBits(w, bits);
    }

    /**
     * Exits {@code vcpu} to user space: folds its log of every logged memslot (in guest mode,
     * so that no memslot changes under it). Called after every {@code runWrites} batch and when
     * random writes stop.
     */
    void exitToUserSpace(IndependentVm vm, IndependentVcpu vcpu) {
        if (!vcpu.enterGuestMode()) {
            return;
        }
        try {
            for (Memslot slot : vm.memslots()) {
                if (slot.logging()) {
                    fold(slot, slot.vcpuLogs[vcpu.id]);
                }
            }
        } finally {
            vcpu.exitGuestMode();
        }
    }

    /**
     * {@code kvm_arch_sync_dirty_log}: drains every vCPU's log of {@code slot} into the active
     * bitmap while the vCPUs run, one atomic exchange per word. TLA+: MergeVmmLog.
     */
    void syncDirtyLog(IndependentVm vm, Memslot slot) {
        DirtyBitmap active = slot.activeBitmap();
        for (IndependentVcpu v : vm.vcpus()) {
            VcpuDirtyLog log = slot.vcpuLogs[v.id];
            for (int w = 0; w < log.nwords(); w++) {
                long bits = log.take(w);
                if (bits != 0) {
                    setBits(active, w, bits);
                }
            }
        }
    }

    /**
     * Write-protects every page of {@code slot} on every vCPU, waiting after each for its
     * guest-mode section in flight: the re-arm of tracking and the grace period of the swap in
     * one pass. TLA+: WriteProtect, GracePeriod.
     */
    void writeProtect(IndependentVm vm, Memslot slot) {
        for (IndependentVcpu v : vm.vcpus()) {
            slot.vcpuLogs[v.id].writeProtectAll();
            v.waitUntilOutsideGuestMode();
        }
    }

    /**
     * Harvests {@code slot} (logging on, under the slots lock): {@code KVM_SWITCH_DIRTY_LOG} when
     * {@code out} is null, else {@code KVM_GET_DIRTY_LOG} into {@code out}, which then holds the
     * pages dirtied since the last harvest (all zero when none). Returns 0, or 1 for a switch on
     * a clean slot, which switches nothing. TLA+: HarvestBegin, MergeVmmLog, SwapBitmaps,
     * WriteProtect, GracePeriod, CopyToUser.
     */
    int harvest(IndependentVm vm, Memslot slot, MemorySegment out) {
        syncDirtyLog(vm, slot);
        vm.waitForVcpus();
        if (slot.activeBitmap().isClean()) {
            if (out != null) {
                out.fill((byte) 0);
            }
            return out == null ? 1 : 0;
        }
        DirtyBitmap harvested = slot.activeBitmap();
        slot.coldBitmap().clear();
        slot.swapBitmaps();
        writeProtect(vm, slot);
        if (out != null) {
            harvested.copyTo(out);
        }
        return 0;
    }
}
