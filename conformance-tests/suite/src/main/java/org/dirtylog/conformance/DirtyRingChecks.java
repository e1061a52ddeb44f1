package org.dirtylog.conformance;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.DirtyGfn;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.UserMemory;
import org.dirtylog.spi.VcpuExit;
import org.dirtylog.spi.VcpuRun;

/**
 * Checks of the dirty ring (api.rst 8.29 {@code KVM_CAP_DIRTY_LOG_RING} / {@code _ACQ_REL},
 * {@code KVM_RESET_DIRTY_RINGS}, {@code KVM_EXIT_DIRTY_RING_FULL}) as the kernel implements it
 * ({@code virt/kvm/dirty_ring.c}, {@code kvm_vm_ioctl_enable_dirty_log_ring} in
 * {@code virt/kvm/kvm_main.c}). Where the semantics note §9 and the kernel differ, the rules
 * follow the kernel: {@code -E2BIG} is checked before "already enabled" and "a vCPU exists", and
 * a page may be pushed more than once per protection cycle (every {@code mark_page_dirty} pushes).
 */
final class DirtyRingChecks {

    /** 2^9 + 3 pages: small slots for the deterministic checks. */
    static final long NPAGES = (1L << 9) + 3;

    private static final int RW = KvmApi.PROT_READ | KvmApi.PROT_WRITE;

    private DirtyRingChecks() {
    }

    // ---- RING-01 ---------------------------------------------------------------------------------

    static void capabilitiesReportTheLargestRing(Scenario s) {
        long tso = DirtyRings.largest(s, KvmApi.KVM_CAP_DIRTY_LOG_RING);
        long acqRel = DirtyRings.largest(s, KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL);
        Expect.that(tso > 0 || acqRel > 0, "KVM_CHECK_EXTENSION of KVM_CAP_DIRTY_LOG_RING and _ACQ_REL",
                "the largest ring in bytes from at least one", "0 from both");
        for (int cap : new int[] {KvmApi.KVM_CAP_DIRTY_LOG_RING, KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL}) {
            long max = cap == KvmApi.KVM_CAP_DIRTY_LOG_RING ? tso : acqRel;
            if (max == 0) {
                continue;
            }
            String name = CallText.ringCap(cap);
            Expect.that(Long.bitCount(max) == 1 && max >= DirtyRings.PAGE, "KVM_CHECK_EXTENSION(" + name + ")",
                    "a power of two of at least one page", String.valueOf(max));
            try (Scenario vm = s.fork()) {
                Expect.value(vm.enableDirtyLogRing(cap, max), 0, "enabling " + name + " at the size it reports, "
                        + max + " bytes, on a fresh VM");
            }
            if (2 * max <= 0xffff_ffffL) {
                try (Scenario vm = s.fork()) {
                    Expect.errno(vm.enableDirtyLogRing(cap, 2 * max), Errno.E2BIG, "enabling " + name + " at "
                            + 2 * max + " bytes, twice what it reports, on a fresh VM");
                }
            }
        }
    }

    // ---- RING-02 ---------------------------------------------------------------------------------

    static void enableChecksTheSizeInKernelOrder(Scenario s) {
        DirtyRings offered = DirtyRings.offered(s);
        int cap = offered.capability();
        long max = offered.bytes();
        Expect.errno(s.enableDirtyLogRing(cap, 0), Errno.EINVAL, "size 0");
        Expect.errno(s.enableDirtyLogRing(cap, DirtyRings.PAGE + DirtyGfn.SIZE), Errno.EINVAL,
                "a size that is not a power of two");
        Expect.errno(s.enableDirtyLogRing(cap, 3 * max), Errno.EINVAL,
                "3 x the largest size: not a power of two, checked before -E2BIG");
        Expect.errno(s.enableDirtyLogRing(cap, DirtyRings.PAGE / 2), Errno.EINVAL, "half a page");
        Expect.errno(s.enableDirtyLogRing(cap, DirtyGfn.SIZE), Errno.EINVAL, "one entry");
        Expect.errno(s.enableDirtyLogRing(cap, 2 * max), Errno.E2BIG, "twice the largest size");
        if (s.has(Capability.GET_DIRTY_LOG)) {
            Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
            s.getDirtyLog(slot);
        }
        long smallest = DirtyRings.PAGE;
        while (true) {
            IoctlResult<Integer> r = s.enableDirtyLogRing(cap, smallest);
            if (r.isOk()) {
                break;
            }
            Expect.that(Errno.EINVAL.equals(r.errnoOrNull()) && smallest < max, "enabling " + smallest + " bytes",
                    "0, or -EINVAL below the smallest size (64 reserved entries plus the CPU log buffer)",
                    CallText.show(r));
            smallest *= 2;
        }
        s.recorder().summarise("smallest ring " + smallest + " bytes (" + smallest / DirtyGfn.SIZE + " entries), largest "
                + max + " bytes, enabled with " + CallText.ringCap(cap));
    }

    // ---- RING-03 ---------------------------------------------------------------------------------

    static void enableOnlyOnceAndBeforeTheFirstVcpu(Scenario s) {
        DirtyRings offered = DirtyRings.offered(s);
        int cap = offered.capability();
        long max = offered.bytes();
        int other = cap == KvmApi.KVM_CAP_DIRTY_LOG_RING ? KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL
                : KvmApi.KVM_CAP_DIRTY_LOG_RING;
        long otherMax = DirtyRings.largest(s, other);
        Expect.value(s.enableDirtyLogRing(cap, max), 0, "the first enable");
        Expect.errno(s.enableDirtyLogRing(cap, max), Errno.EINVAL, "the same enable again");
        if (otherMax > 0) {
            Expect.errno(s.enableDirtyLogRing(other, otherMax), Errno.EINVAL, "enabling through the other capability");
        }
        if (2 * max <= 0xffff_ffffL) {
            Expect.errno(s.enableDirtyLogRing(cap, 2 * max), Errno.E2BIG,
                    "an over-large size once a ring is enabled (-E2BIG is checked first)");
        }
        try (Scenario vm = s.fork()) {
            vm.vcpu(0);
            Expect.errno(vm.enableDirtyLogRing(cap, max), Errno.EINVAL, "enabling after KVM_CREATE_VCPU");
            if (2 * max <= 0xffff_ffffL) {
                Expect.errno(vm.enableDirtyLogRing(cap, 2 * max), Errno.E2BIG,
                        "an over-large size after KVM_CREATE_VCPU (-E2BIG is checked first)");
            }
            if (vm.has(Capability.GET_DIRTY_LOG)) {
                Scenario.Slot slot = vm.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
                vm.getDirtyLog(slot);
            }
        }
        if (otherMax == 0) {
            try (Scenario vm = s.fork()) {
                Expect.errno(vm.enableDirtyLogRing(other, max), Errno.EINVAL,
                        "enabling " + CallText.ringCap(other) + ", which KVM_CHECK_EXTENSION reports as 0 (7a2726ec)");
            }
        }
    }

    // ---- RING-04 ---------------------------------------------------------------------------------

    static void ringIsMappedSharedFromTheVcpuFd(Scenario s) {
        try (Scenario plain = s.fork()) {
            Expect.errno(plain.mmapDirtyRing(0, DirtyRings.PAGE, RW, KvmApi.MAP_SHARED), Errno.EINVAL,
                    "mapping a ring of a vCPU of a VM without a ring");
        }
        DirtyRings ring = DirtyRings.enableSmallest(s);
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        s.vcpu(0);
        Expect.errno(s.mmapDirtyRing(0, ring.bytes(), RW, KvmApi.MAP_PRIVATE), Errno.EINVAL, "a MAP_PRIVATE mapping");
        IoctlResult<UserMemory> exec = s.mmapDirtyRing(0, ring.bytes(), RW | KvmApi.PROT_EXEC, KvmApi.MAP_SHARED);
        Expect.that(Errno.EINVAL.equals(exec.errnoOrNull()) || Errno.EPERM.equals(exec.errnoOrNull()),
                "an executable mapping", "-EINVAL (KVM) or -EPERM (the VFS of newer kernels)", CallText.show(exec));
        MemorySegment first = mapped(s, 0, ring.bytes(), RW);
        MemorySegment readOnly = mapped(s, 0, ring.bytes(), KvmApi.PROT_READ);
        for (long at = 0; at < ring.bytes(); at += Long.BYTES) {
            long word = first.get(ValueLayout.JAVA_LONG, at);
            Expect.that(word == 0, "byte " + at + " of the fresh ring", "0", CallText.hex(word));
        }
        s.write(0, slot, 7);
        DirtyGfn expected = new DirtyGfn(DirtyGfn.KVM_DIRTY_GFN_F_DIRTY, DirtyGfn.slotOf(0, slot.id()), 7);
        for (MemorySegment m : List.of(first, readOnly)) {
            DirtyGfn.flagsAcquire(m, 0);
            DirtyGfn got = DirtyGfn.readFrom(m, 0);
            s.recorder().note("read entry 0 of a mapping", got.toString());
            Expect.that(got.equals(expected), "entry 0 of each shared mapping after a write to page 7",
                    expected.toString(), got.toString());
        }
    }

    private static MemorySegment mapped(Scenario s, int vcpu, long bytes, int prot) {
        IoctlResult<UserMemory> r = s.mmapDirtyRing(vcpu, bytes, prot, KvmApi.MAP_SHARED);
        Expect.that(r.isOk(), "a MAP_SHARED mapping of the ring (" + CallText.prot(prot) + ")", "the ring",
                CallText.show(r));
        return r.value().segment();
    }

    // ---- RING-05 ---------------------------------------------------------------------------------

    static void entriesNameSlotAndOffsetInTheWritingVcpusRing(Scenario s) {
        DirtyRings ring = DirtyRings.enableSmallest(s);
        s.createSlot(NPAGES, 0);
        Scenario.Slot a = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        Scenario.Slot b = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        int other = s.caps().maxVcpus() >= 2 ? 1 : 0;
        RingCollector c = new RingCollector(s, ring);
        c.map(0);
        c.map(other);
        long[] aPages = {5, 0, 64, 65, 3, NPAGES - 1};
        long[] bPages = {9, 2};
        s.write(0, a, aPages);
        if (other == 0) {
            expectRing(s, c, 0, a, aPages);
            reset(s, "vcpu0's ring");
            s.write(0, b, bPages);
            expectRing(s, c, 0, b, bPages);
            reset(s, "vcpu0's ring again");
        } else {
            s.write(other, b, bPages);
            expectRing(s, c, 0, a, aPages);
            expectRing(s, c, other, b, bPages);
            reset(s, "both rings");
        }
    }

    /**
     * Ends a harvest of every vCPU's ring with {@code KVM_RESET_DIRTY_RINGS}, as api.rst asks:
     * the rules that look at entries still complete their harvests, so a traced run of them is
     * whole ring harvests the contract can judge ({@code certify --trace}).
     */
    private static void reset(Scenario s, String collected) {
        IoctlResult<Integer> r = s.resetDirtyRings();
        Expect.that(r.isOk(), "KVM_RESET_DIRTY_RINGS after collecting " + collected, "the number of entries reset",
                CallText.show(r));
    }

    /**
     * Collects vCPU {@code vcpu}'s ring and fails unless it holds, after the fetch index, DIRTY
     * entries of {@code slot} only, for exactly the written pages, first seen in write order
     * (repeats of a page are allowed: the kernel pushes on every mark).
     */
    private static void expectRing(Scenario s, RingCollector c, int vcpu, Scenario.Slot slot, long... pages) {
        long from = c.fetchIndex(vcpu);
        List<RingCollector.Harvested> taken = c.collect(vcpu, 0);
        s.recorder().note("collect vcpu" + vcpu + "'s ring from index " + from, describe(taken));
        List<Long> firstSeen = new ArrayList<>();
        for (RingCollector.Harvested h : taken) {
            DirtyGfn e = h.entry();
            Expect.that(e.slot() == DirtyGfn.slotOf(0, slot.id()) && contains(pages, e.offset()),
                    "entry " + h.index() + " of vcpu" + vcpu + "'s ring", "a DIRTY entry {slot " + slot.id()
                            + " (address space 0 << 16 | id), offset one of " + List.of(box(pages)) + "}", e.toString());
            if (!firstSeen.contains(e.offset())) {
                firstSeen.add(e.offset());
            }
        }
        Expect.that(firstSeen.equals(List.of(box(pages))), "vcpu" + vcpu + "'s ring after writes to pages "
                + List.of(box(pages)) + " of slot " + slot.id(), "an entry for each page, first seen in write order",
                "pages in ring order " + firstSeen);
    }

    // ---- RING-06 ---------------------------------------------------------------------------------

    static void onlyLoggedSlotsPushEntries(Scenario s) {
        DirtyRings ring = DirtyRings.enableSmallest(s);
        Scenario.Slot plain = s.createSlot(NPAGES, 0);
        Scenario.Slot logged = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        RingCollector c = new RingCollector(s, ring);
        c.map(0);
        s.write(0, plain, 1, 2, 3);
        s.write(0, logged, 4);
        expectRing(s, c, 0, logged, 4);
        reset(s, "vcpu0's ring");
        Expect.value(s.setUserMemoryRegion(plain.region().withFlags(KvmApi.KVM_MEM_LOG_DIRTY_PAGES)), 0,
                "turning logging on for slot " + plain.id());
        s.write(0, plain, 5);
        expectRing(s, c, 0, plain, 5);
        reset(s, "vcpu0's ring");
        Expect.value(s.setUserMemoryRegion(plain.region()), 0, "turning logging off again");
        s.write(0, plain, 6);
        s.write(0, logged, 7);
        expectRing(s, c, 0, logged, 7);
        reset(s, "vcpu0's ring");
    }

    // ---- RING-07 ---------------------------------------------------------------------------------

    static void aPageIsPushedAgainAfterItsEntryWasReset(Scenario s) {
        DirtyRings ring = DirtyRings.enableSmallest(s);
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        RingCollector c = new RingCollector(s, ring);
        c.map(0);
        for (int round = 1; round <= 3; round++) {
            s.write(0, slot, 10, 11, 11);
            expectRing(s, c, 0, slot, 10, 11);
            long marked = c.fetchIndex(0);
            IoctlResult<Integer> r = s.resetDirtyRings();
            Expect.that(r.isOk() && r.value() > 0, "KVM_RESET_DIRTY_RINGS after harvesting (round " + round + ")",
                    "the number of entries harvested (" + marked + " so far in all)", CallText.show(r));
        }
    }

    // ---- RING-08 ---------------------------------------------------------------------------------

    static void resetResetsOnlyTheHarvestedPrefixAndCountsIt(Scenario s) {
        try (Scenario plain = s.fork()) {
            Expect.errno(plain.resetDirtyRings(), Errno.EINVAL, "KVM_RESET_DIRTY_RINGS on a VM without a ring");
        }
        DirtyRings ring = DirtyRings.enableSmallest(s);
        Scenario.Slot slot = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        RingCollector c = new RingCollector(s, ring);
        MemorySegment m = c.map(0);
        Expect.value(s.resetDirtyRings(), 0, "KVM_RESET_DIRTY_RINGS with nothing harvested");
        s.write(0, slot, 20, 21, 22, 23, 24);
        int n = 0;
        while (n < ring.entries() && DirtyGfn.flagsAcquire(m, n) == DirtyGfn.KVM_DIRTY_GFN_F_DIRTY) {
            n++;
        }
        s.recorder().note("count the DIRTY entries from index 0", String.valueOf(n));
        Expect.that(n >= 5, "DIRTY entries after writes to 5 pages", "at least 5", String.valueOf(n));
        mark(s, m, 0, 1, 3);
        Expect.value(s.resetDirtyRings(), 2,
                "KVM_RESET_DIRTY_RINGS with entries 0, 1 and 3 harvested and entry 2 not (the walk stops at 2)");
        expectFlags(s, m, 0, 0, "reset");
        expectFlags(s, m, 1, 0, "reset");
        expectFlags(s, m, 2, DirtyGfn.KVM_DIRTY_GFN_F_DIRTY, "never harvested");
        expectFlags(s, m, 3, DirtyGfn.KVM_DIRTY_GFN_F_RESET, "harvested but behind an unharvested entry");
        Expect.value(s.resetDirtyRings(), 0, "KVM_RESET_DIRTY_RINGS again, entry 2 still not harvested");
        long[] rest = new long[n - 3];
        rest[0] = 2;
        for (int i = 4; i < n; i++) {
            rest[i - 3] = i;
        }
        mark(s, m, rest);
        Expect.value(s.resetDirtyRings(), n - 2, "KVM_RESET_DIRTY_RINGS after harvesting entry 2 and the "
                + (n - 4) + " entries after 3");
        for (int i = 0; i < n; i++) {
            expectFlags(s, m, i, 0, "reset");
        }
        Expect.value(s.resetDirtyRings(), 0, "KVM_RESET_DIRTY_RINGS once everything was reset");
    }

    private static void mark(Scenario s, MemorySegment ring, long... positions) {
        for (long p : positions) {
            DirtyGfn.setFlagsRelease(ring, p, DirtyGfn.KVM_DIRTY_GFN_F_RESET);
        }
        s.recorder().note("mark entries " + List.of(box(positions)) + " RESET (store-release)", "");
    }

    private static void expectFlags(Scenario s, MemorySegment ring, long position, int flags, String why) {
        int got = DirtyGfn.flagsAcquire(ring, position);
        Expect.that(got == flags, "flags of entry " + position + " (" + why + ")", flagsText(flags), flagsText(got));
    }

    private static String flagsText(int flags) {
        return switch (flags) {
            case 0 -> "0";
            case DirtyGfn.KVM_DIRTY_GFN_F_DIRTY -> "DIRTY";
            case DirtyGfn.KVM_DIRTY_GFN_F_RESET -> "RESET";
            default -> CallText.hex(flags);
        };
    }

    // ---- RING-09 ---------------------------------------------------------------------------------

    static void getDirtyLogIsNoDeviceWithTheRing(Scenario s) {
        Scenario.Slot before = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        UserMemory buffer = s.mmap(KvmApi.dirtyBitmapBytes(NPAGES));
        Expect.value(s.getDirtyLog(before.id(), buffer.address()), 0, "KVM_GET_DIRTY_LOG before the ring is enabled");
        DirtyRings.enableSmallest(s);
        Scenario.Slot after = s.createSlot(NPAGES, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        Expect.errno(s.getDirtyLog(before.id(), buffer.address()), Errno.ENXIO,
                "KVM_GET_DIRTY_LOG of a slot logged before the ring was enabled");
        Expect.errno(s.getDirtyLog(after.id(), buffer.address()), Errno.ENXIO,
                "KVM_GET_DIRTY_LOG of a slot logged after the ring was enabled");
        Expect.errno(s.getDirtyLog(s.nrMemslots(), buffer.address()), Errno.ENXIO,
                "KVM_GET_DIRTY_LOG with a slot id out of range (-ENXIO is checked first)");
        Expect.errno(s.getDirtyLog(after.id() + 1, buffer.address()), Errno.ENXIO,
                "KVM_GET_DIRTY_LOG of a slot that does not exist");
        Expect.errno(s.getDirtyLog(after.id(), GetDirtyLogChecks.UNMAPPED), Errno.ENXIO,
                "KVM_GET_DIRTY_LOG into an unmapped buffer");
        if (s.has(Capability.MANUAL_DIRTY_LOG_PROTECT)) {
            // kvm_clear_dirty_log_protect: !kvm_use_dirty_bitmap is its first check too.
            Expect.errno(s.clearDirtyLog(new ClearDirtyLog(after.id(), (int) NPAGES, 0, buffer.address())), Errno.ENXIO,
                    "KVM_CLEAR_DIRTY_LOG of the whole slot logged after the ring was enabled");
            Expect.errno(s.clearDirtyLog(new ClearDirtyLog(before.id(), (int) NPAGES, 0, buffer.address())), Errno.ENXIO,
                    "KVM_CLEAR_DIRTY_LOG of the whole slot logged before the ring was enabled");
            Expect.errno(s.clearDirtyLog(new ClearDirtyLog(s.nrMemslots(), (int) NPAGES, 0, buffer.address())), Errno.ENXIO,
                    "KVM_CLEAR_DIRTY_LOG with a slot id out of range (-ENXIO is checked first)");
            Expect.errno(s.clearDirtyLog(new ClearDirtyLog(after.id(), (int) NPAGES, 1, buffer.address())), Errno.ENXIO,
                    "KVM_CLEAR_DIRTY_LOG with first_page 1, not a multiple of 64");
            Expect.errno(s.clearDirtyLog(new ClearDirtyLog(after.id(), (int) NPAGES, 0, GetDirtyLogChecks.UNMAPPED)),
                    Errno.ENXIO, "KVM_CLEAR_DIRTY_LOG from an unmapped bitmap");
        }
    }

    // ---- RING-10 ---------------------------------------------------------------------------------

    /** Ring sizes' worth of distinct pages the soft-full rule writes: the ring fills at least three times. */
    private static final int FILLS = 3;

    static void aFullRingStopsTheVcpuBeforeAnEntryIsLost(Scenario s) {
        DirtyRings ring = DirtyRings.enableSmallest(s);
        long entries = ring.entries();
        Scenario.Slot slot = s.createSlot(FILLS * entries + 3, KvmApi.KVM_MEM_LOG_DIRTY_PAGES);
        RingCollector c = new RingCollector(s, ring);
        c.map(0);
        List<GuestWrite> writes = new ArrayList<>();
        for (long p = 0; p < FILLS * entries; p++) {
            writes.add(new GuestWrite(slot.gpaOf(p), s.layout().nextValue()));
        }
        int done = 0;
        int exits = 0;
        List<String> cycles = new ArrayList<>();
        while (done < writes.size()) {
            List<GuestWrite> rest = writes.subList(done, writes.size());
            VcpuRun run = ran(s, s.runWritesUntilExit(0, rest, "pages " + done + ".." + (writes.size() - 1)
                    + " of slot " + slot.id() + ", one store each"));
            long start = done;
            done += run.writes();
            if (run.exit() == VcpuExit.DIRTY_RING_FULL) {
                exits++;
                VcpuRun again = ran(s, s.runWritesUntilExit(0, writes.subList(done, writes.size()),
                        "the same vCPU again, before any harvest"));
                Expect.that(again.writes() == 0 && again.exit() == VcpuExit.DIRTY_RING_FULL,
                        "KVM_RUN of a vCPU whose ring is still soft-full (cf87ac73)",
                        "0 writes, KVM_EXIT_DIRTY_RING_FULL at once", again.writes() + " writes, " + again.exit());
            }
            List<RingCollector.Harvested> taken = c.collect(0, exits);
            expectPagesInOrder(s, c, taken, slot, start, done, run.exit() == VcpuExit.DIRTY_RING_FULL, entries);
            cycles.add(run.writes() + (run.exit() == VcpuExit.DIRTY_RING_FULL ? " (full)" : " (done)"));
            Expect.value(s.resetDirtyRings(), taken.size(), "KVM_RESET_DIRTY_RINGS after harvesting "
                    + taken.size() + " entries");
            if (run.exit() == VcpuExit.DONE) {
                break;
            }
        }
        Expect.that(exits > 0, FILLS * entries + " stores to distinct pages of a logged slot with a ring of " + entries
                + " entries", "KVM_EXIT_DIRTY_RING_FULL at least once", "the guest ran to the end without one");
        s.recorder().summarise(exits + " KVM_EXIT_DIRTY_RING_FULL exits for " + writes.size() + " stores into a ring of "
                + entries + " entries; writes per run: " + String.join(", ", cycles));
    }

    private static VcpuRun ran(Scenario s, IoctlResult<VcpuRun> r) {
        if (!r.isOk()) {
            throw new BackendError("vcpu0 failed its guest writes: " + CallText.show(r));
        }
        return r.value();
    }

    /**
     * Fails unless the entries taken are exactly pages {@code from .. to - 1} of the slot in
     * order (a page may repeat), plus, after a ring-full exit, possibly page {@code to}: the
     * store that pushed it faulted and had not retired (the selftest's "last entry" allowance).
     */
    private static void expectPagesInOrder(Scenario s, RingCollector c, List<RingCollector.Harvested> taken,
                                           Scenario.Slot slot, long from, long to, boolean full, long entries) {
        long next = from;
        long lastIndex = -1;
        for (RingCollector.Harvested h : taken) {
            DirtyGfn e = h.entry();
            boolean repeat = next > from && e.slot() == DirtyGfn.slotOf(0, slot.id()) && e.offset() == next - 1;
            boolean expected = e.slot() == DirtyGfn.slotOf(0, slot.id()) && e.offset() == next
                    && (next < to || (full && next == to));
            if (!repeat && !expected) {
                throw new RuleFailure("vcpu0's ring after " + (to - from) + " stores to pages " + from + ".." + (to - 1)
                        + (full ? " and KVM_EXIT_DIRTY_RING_FULL" : " with no ring-full exit"),
                        "an entry for page " + next + " at ring index " + h.index() + " (position "
                                + h.position(entries) + ")",
                        e + lostDetail(e, next, h, slot, from, entries) + "; entries around it: "
                                + around(taken, taken.indexOf(h), entries));
            }
            if (expected) {
                next++;
            }
            lastIndex = h.index();
        }
        if (next < to) {
            throw new RuleFailure("vcpu0's ring after " + (to - from) + " stores to pages " + from + ".." + (to - 1),
                    "entries for every page written, up to page " + (to - 1),
                    "none for page " + next + " onwards: the ring ends at index " + (lastIndex + 1) + " ("
                            + (taken.isEmpty() ? "nothing collected" : "last " + around(taken, taken.size() - 1, entries))
                            + ")");
        }
    }

    private static String lostDetail(DirtyGfn e, long expectedPage, RingCollector.Harvested h, Scenario.Slot slot,
                                     long from, long entries) {
        if (e.slot() == DirtyGfn.slotOf(0, slot.id()) && e.offset() > expectedPage) {
            long later = e.offset() - expectedPage;
            return later % entries == 0
                    ? " (the store to page " + e.offset() + ", " + later + " stores later: the ring wrapped over "
                            + "the unharvested entry for page " + expectedPage + ")"
                    : " (pages " + expectedPage + ".." + (e.offset() - 1) + " have no entry)";
        }
        return "";
    }

    private static String around(List<RingCollector.Harvested> taken, int at, long entries) {
        int lo = Math.max(0, at - 3);
        int hi = Math.min(taken.size(), at + 4);
        return taken.subList(lo, hi).stream()
                .map(h -> "#" + h.index() + "@" + h.position(entries) + " " + h.entry())
                .collect(Collectors.joining(", "));
    }

    static String describe(List<RingCollector.Harvested> taken) {
        if (taken.isEmpty()) {
            return "no DIRTY entry";
        }
        String head = taken.stream().limit(8).map(h -> "#" + h.index() + " " + h.entry()).collect(Collectors.joining(", "));
        return taken.size() + " entries: " + head + (taken.size() > 8 ? ", ..." : "");
    }

    private static boolean contains(long[] values, long v) {
        for (long x : values) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    private static Long[] box(long[] values) {
        Long[] out = new Long[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
