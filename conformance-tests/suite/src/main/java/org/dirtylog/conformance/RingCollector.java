package org.dirtylog.conformance;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.dirtylog.spi.DirtyGfn;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.UserMemory;

/**
 * The user side of the dirty ring, as api.rst 8.29 and the kernel selftest's collector do it:
 * every vCPU's ring is mapped once ({@code MAP_SHARED}, read-write), and harvested strictly in
 * order from the collector's own fetch index: load-acquire {@code flags}; stop at the first entry
 * that is not exactly DIRTY; record slot and offset; store-release {@code flags = RESET}; go on.
 * A harvest kicks every vCPU first (their CPU log buffers reach the rings), collects every ring,
 * then calls {@code KVM_RESET_DIRTY_RINGS}. TLA+ (spec/models/ring/DirtyRing.tla): Kick,
 * CollectEntry, CollectEnd, ResetEntry/ResetEnd. Every harvested entry is logged with its vCPU
 * and ring index, for FAIL messages.
 */
final class RingCollector {

    /**
     * One entry the collector harvested.
     *
     * @param vcpu whose ring it was in
     * @param index the collector's fetch index when it took it (0 for the first entry ever pushed)
     * @param entry what the entry held (flags as read: DIRTY)
     * @param harvest the number of the harvest that took it, from 1
     */
    record Harvested(int vcpu, long index, DirtyGfn entry, int harvest) {

        /** Returns the entry's position in a ring of {@code entries} entries. */
        long position(long entries) {
            return DirtyGfn.position(index, entries);
        }
    }

    /**
     * One harvest: what it took and what {@code KVM_RESET_DIRTY_RINGS} returned.
     *
     * @param number from 1
     * @param taken entries, vCPU by vCPU, each ring in order
     * @param reset the reset's return (or -errno)
     */
    record Harvest(int number, List<Harvested> taken, long reset) {
    }

    /** Entries kept in the log at most (a long run with fast vCPUs pushes millions). */
    private static final int MAX_LOG = 1 << 18;

    private final Scenario s;
    private final DirtyRings ring;
    private final Map<Integer, MemorySegment> rings = new TreeMap<>();
    private final Map<Integer, Long> fetch = new TreeMap<>();
    private final List<Harvested> log = new ArrayList<>();
    private final List<String> wholeRings = new ArrayList<>();
    private int harvests;

    RingCollector(Scenario s, DirtyRings ring) {
        this.s = s;
        this.ring = ring;
    }

    /** Returns the ring geometry. */
    DirtyRings ring() {
        return ring;
    }

    /** Maps vCPU {@code vcpu}'s ring if not mapped yet and returns it; a refused mapping fails the rule. */
    MemorySegment map(int vcpu) {
        MemorySegment m = rings.get(vcpu);
        if (m == null) {
            IoctlResult<UserMemory> r = s.mmapDirtyRing(vcpu, ring.bytes(), KvmApi.PROT_READ | KvmApi.PROT_WRITE,
                    KvmApi.MAP_SHARED);
            Expect.that(r.isOk(), "mmap of vcpu" + vcpu + "'s ring (" + ring.bytes() + " bytes, MAP_SHARED, read-write)",
                    "the ring", CallText.show(r));
            m = r.value().segment();
            rings.put(vcpu, m);
            fetch.put(vcpu, 0L);
        }
        return m;
    }

    /** Returns the collector's fetch index of vCPU {@code vcpu}'s ring. */
    long fetchIndex(int vcpu) {
        return fetch.getOrDefault(vcpu, 0L);
    }

    /** Returns entry {@code index} of vCPU {@code vcpu}'s ring as it is now (plain loads after an acquire). */
    DirtyGfn entryAt(int vcpu, long index) {
        MemorySegment m = map(vcpu);
        long position = DirtyGfn.position(index, ring.entries());
        DirtyGfn.flagsAcquire(m, position);
        return DirtyGfn.readFrom(m, position);
    }

    /**
     * Harvests vCPU {@code vcpu}'s ring from the fetch index until the first entry that is not
     * DIRTY, marking each RESET, and returns what it took (harvest number {@code harvest}).
     * TLA+: CollectEntry until CollectEnd.
     */
    List<Harvested> collect(int vcpu, int harvest) {
        MemorySegment m = map(vcpu);
        long t0 = s.t0();
        long index = fetch.get(vcpu);
        long from = index;
        List<Harvested> taken = new ArrayList<>();
        while (true) {
            long position = DirtyGfn.position(index, ring.entries());
            if (DirtyGfn.flagsAcquire(m, position) != DirtyGfn.KVM_DIRTY_GFN_F_DIRTY) {
                break;
            }
            DirtyGfn e = DirtyGfn.readFrom(m, position);
            DirtyGfn.setFlagsRelease(m, position, DirtyGfn.KVM_DIRTY_GFN_F_RESET);
            taken.add(new Harvested(vcpu, index, e, harvest));
            index++;
        }
        fetch.put(vcpu, index);
        s.traceRingCollect(vcpu, t0, from, taken.stream().map(Harvested::entry).toList());
        if (taken.size() >= ring.entries()) {
            wholeRings.add("vcpu" + vcpu + " in harvest " + harvest);
        }
        if (log.size() + taken.size() > MAX_LOG) {
            // Keep the newest entries: a FAIL shows what happened last.
            log.subList(0, Math.min(log.size(), log.size() + taken.size() - MAX_LOG)).clear();
        }
        log.addAll(taken);
        return taken;
    }

    /**
     * One whole harvest: kick every vCPU of the scenario, collect every ring, then
     * {@code KVM_RESET_DIRTY_RINGS}; returns what it took and the reset's return. Nothing is
     * recorded between the reset's return and {@code atReset}, which runs right after it.
     */
    Harvest harvest(Runnable atReset) {
        int number = ++harvests;
        List<Integer> vcpus = s.vcpuIds();
        for (int v : vcpus) {
            s.kick(v);
        }
        List<Harvested> taken = new ArrayList<>();
        for (int v : vcpus) {
            taken.addAll(collect(v, number));
        }
        IoctlResult<Integer> r = s.resetDirtyRingsUnrecorded();
        atReset.run();
        s.recorder().note("harvest " + number + ": kicked and collected " + taken.size() + " entries from "
                + vcpus.size() + " ring(s), KVM_RESET_DIRTY_RINGS", CallText.show(r));
        return new Harvest(number, taken, r.kernelReturn());
    }

    /**
     * Returns which harvests took a whole ring's worth of entries from one vCPU (KVM pushed as
     * many entries as the ring has without the vCPU stopping at the soft limit), or says none did.
     */
    String fullRings() {
        return wholeRings.isEmpty() ? "no ring came back entirely DIRTY"
                : "rings that came back entirely DIRTY (" + ring.entries() + " entries, the soft limit keeps at least 64"
                        + " free): " + String.join(", ", wholeRings);
    }

    /** Returns every entry harvested since the log was last cleared, in harvest order. */
    List<Harvested> log() {
        return log;
    }

    /** Forgets the logged entries (an iteration of the oracle keeps only its own). */
    void clearLog() {
        log.clear();
    }

    /** Returns how many harvests ran. */
    int harvests() {
        return harvests;
    }
}
