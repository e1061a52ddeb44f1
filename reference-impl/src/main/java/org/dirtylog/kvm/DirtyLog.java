package org.dirtylog.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.dirtylog.spi.DirtyGfn;
import org.dirtylog.spi.KvmApi;

/**
 * The dirty log of one VM: how a vCPU marks a page and how a harvest takes the marks, each
 * written once for every architecture (the place of {@code mark_page_dirty_in_slot} and
 * {@code kvm_get_dirty_log_protect} in {@code virt/kvm/kvm_main.c}). Architectures answer the
 * narrow questions of {@link ArchHooks}; they never see the order.
 *
 * <p>A harvest runs under the VM's slots lock, so harvests, memslot changes and the bitmap
 * exchange never overlap; vCPUs mark concurrently, inside SRCU read sections.
 *
 * <p>Each harvest style is one method here plus hooks: {@link #switchDirtyLog} (the RFC's
 * {@code KVM_SWITCH_DIRTY_LOG}) and {@link #getDirtyLog} ({@code KVM_GET_DIRTY_LOG}), both on
 * {@link #harvest}; with manual protect {@link #getDirtyLogManual}, which only syncs and copies
 * the active bitmap, and {@link #clearDirtyLog} ({@code KVM_CLEAR_DIRTY_LOG}), which clears
 * 64-page words and re-arms exactly those pages through {@link ArchHooks#enableLogDirtyPtMasked}.
 * The dirty ring plugs in beside them (see {@code docs/architecture.md}): a ring push in
 * {@link #markPageDirtyInSlot} in place of the bitmap, reset through the same hook.
 */
final class DirtyLog {

    /** A word of a user bitmap: 8 bytes, little-endian as the kernel's {@code unsigned long} on the kit's hosts, any alignment. */
    private static final ValueLayout.OfLong USER_WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Vm vm;
    private final ArchHooks hooks;
    private final ArchContext kvm;
    private final GracePeriodPolicy gracePeriods;

    /** True where the architecture re-arms page by page for KVM_CLEAR_DIRTY_LOG ({@link ArchHooks#genericDirtyLogReadProtect}). */
    private final boolean maskedReArm;

    /**
     * {@code kvm->mmu_lock} as far as the dirty ring needs it: a write fault holds it shared
     * while it pushes and maps (x86's TDP MMU faults under the read lock; {@code make_spte}
     * marks before the spte is installed), {@code kvm_reset_dirty_gfn} holds it exclusive while
     * it re-arms. Without it a reset could take the fault's entry and re-arm the page between
     * the push and the map, leaving the page writable with no entry to report its next store.
     */
    private final ReentrantReadWriteLock mmuLock = new ReentrantReadWriteLock();

    DirtyLog(Vm vm, ArchHooks hooks, ArchContext kvm, GracePeriodPolicy gracePeriods) {
        this.vm = vm;
        this.hooks = hooks;
        this.kvm = kvm;
        this.gracePeriods = gracePeriods;
        this.maskedReArm = hooks.genericDirtyLogReadProtect();
    }

    // ---- vCPU side ----

    /**
     * Marks {@code page} of {@code slot} dirty if the slot is logged ({@code mark_page_dirty_in_slot}),
     * counting a use of a freed bitmap instead of crashing. TLA+: VcpuWriteFault(v) (the mark).
     */
    void markPageDirtyInSlot(Vcpu vcpu, Memslot slot, long page) {
        if (slot.dirtyLogged()) {
            DirtyRing ring = vcpu.dirtyRing();
            if (ring != null) {
                pushDirtyGfn(ring, slot, page);
                return;
            }
            try {
                hooks.markPageDirty(vcpu, slot, page);
            } catch (IllegalStateException freed) {
                vm.countUseAfterFree();
            }
        }
    }

    /**
     * Handles a write fault on {@code page} of {@code slot}: marks it dirty if the slot is logged
     * and maps it writable; where {@code KVM_CLEAR_DIRTY_LOG} re-arms page by page, marks it once
     * more after mapping it, as x86's lockless fast path marks after its cmpxchg made the spte
     * writable ({@code fast_page_fault}, then {@code mark_page_dirty_in_slot}). A CLEAR may take
     * the first mark and write-protect the page before this fault maps it writable; the second
     * mark comes after both, so the page is never left writable with its bit clear (of the
     * fault's map and mark and the CLEAR's take and re-arm, the last map is followed by a mark).
     * The first mark keeps a store through the new mapping from completing before its page is
     * marked. With a dirty ring the fault instead pushes once and maps under {@link #mmuLock}.
     * TLA+: VcpuWriteFault(v).
     */
    void writeFault(Vcpu vcpu, Memslot slot, long page) {
        if (vcpu.dirtyRing() != null) {
            // The ring's reset re-arms under the MMU lock, so push and map are one step to it
            // (TLA+ DirtyRing: VcpuStore's fault, PushAndCheck and the disarm in one action)
            // and one push per fault suffices, as in the kernel.
            mmuLock.readLock().lock();
            try {
                markPageDirtyInSlot(vcpu, slot, page);
                hooks.makeWritable(vcpu, slot, page);
            } finally {
                mmuLock.readLock().unlock();
            }
            return;
        }
        markPageDirtyInSlot(vcpu, slot, page);
        hooks.makeWritable(vcpu, slot, page);
        if (maskedReArm) {
            markPageDirtyInSlot(vcpu, slot, page);
        }
    }

    /** Marks the frames {@code gfns[from..to)}, all in {@code slot}, dirty if the slot is logged, in one hook call. */
    void markPagesDirtyInSlot(Vcpu vcpu, Memslot slot, long[] gfns, int from, int to) {
        if (slot.dirtyLogged()) {
            DirtyRing ring = vcpu.dirtyRing();
            if (ring != null) {
                for (int i = from; i < to; i++) {
                    pushDirtyGfn(ring, slot, gfns[i] - slot.baseGfn());
                }
                return;
            }
            try {
                hooks.markPagesDirty(vcpu, slot, gfns, from, to);
            } catch (IllegalStateException freed) {
                vm.countUseAfterFree();
            }
        }
    }

    /**
     * With the ring on, {@code mark_page_dirty_in_slot} pushes {@code {as_id << 16 | id, gfn - base_gfn}}
     * into the running vCPU's ring instead of setting a bit ({@code kvm_dirty_ring_push}); the
     * vCPU looks at the soft limit before it next enters the guest. TLA+: PushAndCheck.
     */
    private static void pushDirtyGfn(DirtyRing ring, Memslot slot, long page) {
        ring.push(DirtyGfn.slotOf(0, slot.id()), page);
    }

    // ---- the dirty ring's reset (the caller holds the slots lock and has checked a ring is on) ----

    /**
     * {@code KVM_RESET_DIRTY_RINGS} over {@code rings} in vCPU order: for each ring, walks from its
     * reset index while the entry was harvested ({@code kvm_dirty_ring_reset}), zeroes it and
     * re-arms its page; consecutive entries of one slot whose pages fall in one 64-page window are
     * re-armed together with one {@link ArchHooks#enableLogDirtyPtMasked} (the kernel's mask
     * batching, forward or, when no bit is lost, backward). Entries naming a slot or page that no
     * longer exists are zeroed and counted but re-arm nothing. If anything was reset, flushes
     * remote TLBs before returning, so that no vCPU still stores through a mapping it found
     * writable before its page was re-armed and user space may read the pages. Returns the number
     * of entries reset. TLA+: ResetEntry (each entry), ResetEnd (the flush and the return).
     */
    long resetDirtyRings(List<DirtyRing> rings) {
        long cleared = 0;
        for (DirtyRing ring : rings) {
            boolean first = true;
            int slot = 0;
            long base = 0;
            long mask = 0;
            while (ring.nextHarvested()) {                             // TLA+: ResetEntry(v), its guard
                int nextSlot = ring.nextSlot();
                long nextOffset = ring.nextOffset();
                ring.invalidateNext();                                 // TLA+: ResetEntry(v)
                cleared++;
                if (!first && nextSlot == slot) {
                    long delta = nextOffset - base;
                    if (delta >= 0 && delta < Long.SIZE) {
                        mask |= 1L << delta;
                        continue;
                    }
                    if (delta < 0 && delta > -Long.SIZE && (mask << -delta >>> -delta) == mask) {
                        base = nextOffset;
                        mask = (mask << -delta) | 1;
                        continue;
                    }
                }
                if (!first) {
                    reArm(slot, base, mask);
                }
                first = false;
                slot = nextSlot;
                base = nextOffset;
                mask = 1;
            }
            if (!first) {
                reArm(slot, base, mask);
            }
        }
        if (cleared > 0) {
            kvm.flushRemoteTlbs();                                     // TLA+: ResetEnd
        }
        return cleared;
    }

    /**
     * {@code kvm_reset_dirty_gfn}: re-arms the pages {@code base + i} of bit {@code i} of
     * {@code mask} in memslot {@code slot} of the current memslots; nothing when the address space
     * or slot does not exist or the mask passes the slot's end.
     */
    private void reArm(int slot, long base, long mask) {
        int asId = slot >>> KvmApi.ADDRESS_SPACE_SHIFT;
        int id = slot & ((1 << KvmApi.ADDRESS_SPACE_SHIFT) - 1);
        if (asId != 0 || id >= vm.memslots().limit()) {
            return;
        }
        Memslot memslot = vm.memslots().get(id);
        if (memslot == null || base < 0
                || base + (Long.SIZE - 1 - Long.numberOfLeadingZeros(mask)) >= memslot.npages()) {
            return;
        }
        // Exclusive against write faults: a fault that pushed one of these entries has also
        // mapped its page by now, so the re-arm below is not undone. TLA+ DirtyRing: ResetEntry.
        mmuLock.writeLock().lock();
        try {
            hooks.enableLogDirtyPtMasked(kvm, memslot, base, mask);
        } finally {
            mmuLock.writeLock().unlock();
        }
    }

    // ---- harvests (the caller holds the slots lock and has checked the slot is logged) ----

    /**
     * {@code KVM_SWITCH_DIRTY_LOG} on a logged slot: returns 0 when the previously active bitmap
     * is now the cold one, holding the pages dirtied since the last harvest, and 1 when the
     * slot was clean (nothing changed). TLA+: HarvestBegin .. HarvestEnd, then user space's
     * ReadColdBitmap.
     */
    int switchDirtyLog(Memslot slot) {
        return harvest(slot) == null ? 1 : 0;
    }

    /**
     * {@code KVM_GET_DIRTY_LOG} on a logged slot: harvests and copies the harvested bitmap to
     * {@code buffer}, which is {@code ALIGN(npages, 64) / 8} bytes of user memory the caller keeps
     * mapped until this returns (so no harvested bit is lost to -EFAULT). A clean slot still
     * writes every byte: all zero. TLA+: HarvestBegin .. CopyToUser, HarvestEnd.
     */
    void getDirtyLog(Memslot slot, MemorySegment buffer) {
        DirtyBitmap harvested = harvest(slot);
        if (harvested != null) {
            harvested.copyTo(buffer);                                  // TLA+: CopyToUser
        } else {
            // Native memory: the clean case's clear_user of the whole buffer (G1).
            buffer.fill((byte) 0);
        }
    }

    /**
     * {@code KVM_GET_DIRTY_LOG} on a logged slot with manual protect on: syncs and copies the
     * active bitmap to {@code buffer} ({@code ALIGN(npages, 64) / 8} bytes of user memory the caller
     * keeps mapped); clears nothing and re-arms nothing, so every page stays reported until
     * {@link #clearDirtyLog} clears it ({@code kvm_get_dirty_log_protect} with
     * {@code manual_dirty_log_protect} set). TLA+: HarvestBegin, CopyToUser (of op "getclear").
     */
    void getDirtyLogManual(Memslot slot, MemorySegment buffer) {
        hooks.syncDirtyLog(kvm, slot);
        slot.dirtyBitmap().copyTo(buffer);                             // TLA+: CopyToUser
    }

    /**
     * {@code KVM_CLEAR_DIRTY_LOG} on a logged slot whose arguments the caller checked
     * ({@code kvm_clear_dirty_log_protect}): for each 64-page word of {@code userBitmap}, read
     * little-endian from user memory ({@code words} words, the first naming pages
     * {@code firstPage .. firstPage + 63}; {@code firstPage} a multiple of 64), clears the named
     * bits that are set in the slot's active bitmap and re-arms exactly those pages; then, if it
     * re-armed any page, flushes. Bits of clean pages and past the slot's end are ignored.
     * Returns true when a page was re-armed.
     *
     * <p>Per word the bits are taken first (one atomic fetch-and-andnot), then their pages are
     * write-protected. The other order loses writes (TLA+: ClearReArmsFirst): a vCPU that faults
     * between the re-arm and the clear marks a bit that is already set and maps the page writable
     * again, then the clear drops the bit, and every later write to the page goes unreported. In
     * this order a store between the clear and the re-arm goes through the old writable mapping
     * and completes before this returns, so the caller, who reads the page afterwards, has it;
     * after the re-arm and the flush every store faults and sets the bit again.
     */
    boolean clearDirtyLog(Memslot slot, long firstPage, MemorySegment userBitmap, long words) {
        hooks.syncDirtyLog(kvm, slot);
        boolean flush = clearWords(slot, firstPage, userBitmap, words);
        if (flush) {
            hooks.flushRemoteTlbsMemslot(kvm, slot);                   // folded into ReArmPage in the model
        }
        return flush;                                                  // TLA+: HarvestEnd (the caller returns)
    }

    /** Takes and re-arms, word by word, what the user's mask names; returns true when a page was re-armed. */
    private boolean clearWords(Memslot slot, long firstPage, MemorySegment userBitmap, long words) {
        DirtyBitmap active = slot.dirtyBitmap();
        long npages = slot.npages();
        boolean rearmed = false;
        for (long i = 0; i < words; i++) {
            // Native memory: copy_from_user of one word of the caller's mask (bounds-checked by the caller).
            long mask = userBitmap.get(USER_WORD, i << 3);             // TLA+: ClearBegin (the user's mask)
            if (mask == 0) {
                continue;
            }
            long offset = firstPage + (i << 6);
            long inSlot = npages - offset;
            if (inSlot < 64) {
                mask &= (1L << inSlot) - 1;                            // the partial last word: no page past npages
            }
            long taken = active.takeBits(offset >>> 6, mask);          // TLA+: ClearBits
            if (taken != 0) {
                rearmed = true;
                hooks.enableLogDirtyPtMasked(kvm, slot, offset, taken); // TLA+: ReArmPage (each page of taken)
            }
        }
        return rearmed;
    }

    /**
     * Takes the slot's dirty pages and re-arms tracking; returns the cold bitmap that now holds
     * them, or null when the slot was clean. The order, the same on every architecture:
     * <ol>
     * <li>Sync: the architecture moves what its VMM or hardware logged into the active bitmap
     *     ({@link ArchHooks#syncDirtyLog}).</li>
     * <li>A slot with no bit set since the last harvest is clean: return, change nothing.</li>
     * <li>Clear the spare (cold) bitmap, in O(dirty words): no vCPU has been able to set a bit in
     *     it since the grace period of the previous exchange.</li>
     * <li>Exchange the bitmaps the architecture's way ({@link ArchHooks#bitmapExchange}) and wait a
     *     grace period: afterwards no vCPU can still set a bit in the bitmap being harvested.</li>
     * <li>Re-arm: write-protect the slot ({@link ArchHooks#writeProtectSlot}), so the next write to
     *     any page faults and marks the new active bitmap.</li>
     * <li>Flush ({@link ArchHooks#flushRemoteTlbsMemslot}): no vCPU still stores through a mapping
     *     it found writable before step 5.</li>
     * </ol>
     * Re-arming before the exchange loses writes (edde99ce): a fault between the write-protect
     * and the exchange marks the bitmap being harvested and leaves its page writable, so the
     * page's later writes go unlogged. Re-arming after it is safe: every page writable at the
     * exchange was marked in the harvested bitmap, and after step 6 every write faults into the
     * new one. Without the grace period of step 4 a vCPU that loaded the old active pointer
     * marks it after user space read it (TLA+: ppc-rfc, NoLostWrite).
     */
    DirtyBitmap harvest(Memslot slot) {
        hooks.syncDirtyLog(kvm, slot);                                 // 1. TLA+: MergeVmmLog (ia64)
        if (!slot.dirtyBitmap().isDirty()) {                           // 2. TLA+: HarvestBegin (is_dirty)
            return null;
        }
        slot.dirtyBitmapOld().clear();                                 // 3.
        Memslot harvested = exchangeBitmaps(slot);                     // 4.
        hooks.writeProtectSlot(kvm, harvested);                        // 5. TLA+: WriteProtect / FlushShadowMappings
        hooks.flushRemoteTlbsMemslot(kvm, harvested);                  // 6.
        return harvested.dirtyBitmapOld();
    }

    /** Exchanges the slot's bitmaps and waits a grace period; returns the memslot that now holds them. */
    private Memslot exchangeBitmaps(Memslot slot) {
        return switch (hooks.bitmapExchange()) {
            case PUBLISH_MEMSLOTS -> {
                Memslot exchanged = slot.withBitmapsExchanged();
                Memslots old = vm.publishMemslots(vm.memslots().with(exchanged)); // TLA+: PublishMemslots
                gracePeriods.bitmapsExchanged(vm.srcu);                          // TLA+: GracePeriod
                old.free();                                                      // TLA+: FreeOldMemslots
                yield exchanged;
            }
            case IN_PLACE -> {
                slot.swapBitmapsInPlace();                                       // TLA+: SwapBitmaps
                gracePeriods.bitmapsExchanged(vm.srcu);                          // TLA+: GracePeriod
                yield slot;
            }
        };
    }
}
