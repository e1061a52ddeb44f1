package org.dirtylog.independent;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.dirtylog.spi.KvmApi;

/**
 * Test-only counting versions of the broken variants: each extends its variant and counts how
 * often the bug's window was hit, with its counting placed outside the window (before it opens
 * or after it closed), so that the variant's timing stays what it is. Only the window
 * measurement uses them; the catch table measures the variants themselves.
 */
final class CountingVariants {

    private static final ValueLayout.OfLong USER_WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private CountingVariants() {
    }

    /** A variant that counts its window hits. */
    interface Counting {
        /** Returns how many times the window was hit so far. */
        long hits();
    }

    /**
     * A counting variant by the suffix of its backend name, with what it counts.
     *
     * @param suffix the variant's name after {@code independent+}
     * @param counts what one hit is
     * @param paths a fresh counting instance, one per certification run
     */
    record Entry(String suffix, String counts, Supplier<DirtyLogPaths> paths) {
    }

    /** Returns the seven counting variants, in {@link IndependentBackends#variants()} order. */
    static Entry[] all() {
        return new Entry[] {
            new Entry("no-grace-period", "marks that reached the harvested bitmap after the harvest returned",
                    NoGracePeriodCounting::new),
            new Entry("copy-before-grace-period", "marks that reached the harvested bitmap after GET copied it",
                    CopyBeforeGracePeriodCounting::new),
            new Entry("plain-clear", "marks a vCPU logged between the drain's copy and its store of 0 (wiped)",
                    PlainClearCounting::new),
            new Entry("store-outside-guest-mode", "stores that landed after a harvest write-protected and waited for their vCPU",
                    StoreOutsideGuestModeCounting::new),
            new Entry("unflushed-vcpu-log", "pages whose only marks sat in vCPU logs when a harvest began",
                    UnflushedVcpuLogCounting::new),
            new Entry("protect-before-swap", "harvested pages left writable on a vCPU with no mark pending",
                    ProtectBeforeSwapCounting::new),
            new Entry("non-atomic-bitmap-or", "bitmap updates a concurrent read-modify-write overwrote",
                    NonAtomicBitmapOrCounting::new),
        };
    }

    /** Returns word {@code w} of a GET buffer. */
    private static long userWord(MemorySegment out, int w) {
        return out.get(USER_WORD, (long) w << 3);
    }

    /** Counts marks that land in the harvested bitmap after user space got it (SWITCH: when the harvest returned). */
    static final class NoGracePeriodCounting extends NoGracePeriod implements Counting {
        private final LongAdder hits = new LongAdder();
        /** Per slot, the bitmap the last switch harvested and its words as user space got them; under the slots lock. */
        private final Map<Memslot, Object[]> seen = new IdentityHashMap<>();

        @Override
        int harvest(IndependentVm vm, Memslot slot, MemorySegment out) {
            Object[] last = seen.remove(slot);
            if (last != null && last[0] == slot.coldBitmap()) {
                DirtyBitmap cold = (DirtyBitmap) last[0];
                long[] got = (long[]) last[1];
                for (int w = 0; w < got.length; w++) {
                    hits.add(Long.bitCount(cold.word(w) & ~got[w]));
                }
            }
            DirtyBitmap active = slot.activeBitmap();
            int r = super.harvest(vm, slot, out);
            if (slot.coldBitmap() == active) {
                long[] got = new long[active.nwords()];
                for (int w = 0; w < got.length; w++) {
                    got[w] = out != null ? userWord(out, w) : active.word(w);
                }
                seen.put(slot, new Object[] {active, got});
            }
            return r;
        }

        @Override
        public long hits() {
            return hits.sum();
        }
    }

    /** Counts marks that land in the harvested bitmap after GET copied it (compared once the grace period is over). */
    static final class CopyBeforeGracePeriodCounting extends CopyBeforeGracePeriod implements Counting {
        private final LongAdder hits = new LongAdder();

        @Override
        int harvest(IndependentVm vm, Memslot slot, MemorySegment out) {
            DirtyBitmap active = slot.activeBitmap();
            int r = super.harvest(vm, slot, out);
            if (out != null && slot.coldBitmap() == active) {
                for (int w = 0; w < active.nwords(); w++) {
                    hits.add(Long.bitCount(active.word(w) & ~userWord(out, w)));
                }
            }
            return r;
        }

        @Override
        public long hits() {
            return hits.sum();
        }
    }

    /**
     * The variant's drain with its store of 0 made an exchange that reports what it wiped:
     * same effect; on x86 both the plain store (through the store buffer) and the exchange
     * become visible tens of cycles after the copy.
     */
    static final class PlainClearCounting extends PlainClear implements Counting {
        private final LongAdder hits = new LongAdder();

        @Override
        void syncDirtyLog(IndependentVm vm, Memslot slot) {
            DirtyBitmap active = slot.activeBitmap();
            for (IndependentVcpu v : vm.vcpus()) {
                VcpuDirtyLog log = slot.vcpuLogs[v.id];
                for (int w = 0; w < log.nwords(); w++) {
                    long bits = log.log[w];
                    long wiped = (long) LONGS.getAndSet(log.log, w, 0L);
                    hits.add(Long.bitCount(wiped & ~bits));
                    if (bits != 0) {
                        setBits(active, w, bits);
                    }
                }
            }
        }

        @Override
        public long hits() {
            return hits.sum();
        }
    }

    /**
     * Counts stores that land after a harvest write-protected their vCPU and waited for it: each
     * harvest bumps a per-vCPU counter after that wait; the vCPU reads it before leaving guest
     * mode and after its store, outside the window between the two.
     */
    static final class StoreOutsideGuestModeCounting extends StoreOutsideGuestMode implements Counting {
        private final LongAdder hits = new LongAdder();
        private final AtomicLongArray protections = new AtomicLongArray(IndependentBackend.MAX_VCPUS);

        @Override
        boolean guestWrite(IndependentVcpu vcpu, long gpa, long value) {
            if (!vcpu.enterGuestMode()) {
                return false;
            }
            Memslot slot;
            long offset;
            long before;
            try {
                slot = vcpu.translate(gpa);
                if (slot == null) {
                    return false;
                }
                offset = gpa - slot.gpa;
                if (slot.logging()) {
                    writeFault(vcpu, slot, offset >>> KvmApi.PAGE_SHIFT);
                }
                before = protections.get(vcpu.id);
            } finally {
                vcpu.exitGuestMode();
            }
            slot.memory.set(GUEST_WORD, offset, value);
            if (protections.get(vcpu.id) != before) {
                hits.increment();
            }
            return true;
        }

        @Override
        void writeProtect(IndependentVm vm, Memslot slot) {
            for (IndependentVcpu v : vm.vcpus()) {
                slot.vcpuLogs[v.id].writeProtectAll();
                v.waitUntilOutsideGuestMode();
                protections.incrementAndGet(v.id);
            }
        }

        @Override
        public long hits() {
            return hits.sum();
        }
    }

    /** Counts, when a harvest begins, the pages marked in some vCPU log and not yet in the active bitmap. */
    static final class UnflushedVcpuLogCounting extends UnflushedVcpuLog implements Counting {
        private final LongAdder hits = new LongAdder();

        @Override
        void syncDirtyLog(IndependentVm vm, Memslot slot) {
            DirtyBitmap active = slot.activeBitmap();
            for (int w = 0; w < active.nwords(); w++) {
                long pending = 0;
                for (IndependentVcpu v : vm.vcpus()) {
                    pending |= (long) LONGS.getVolatile(slot.vcpuLogs[v.id].log, w);
                }
                hits.add(Long.bitCount(pending & ~active.word(w)));
            }
            super.syncDirtyLog(vm, slot);
        }

        @Override
        public long hits() {
            return hits.sum();
        }
    }

    /**
     * Counts, when a swapping harvest returns, the pages it reported that a vCPU may store to
     * without a fault while no mark of them is pending anywhere: their next stores go unlogged.
     */
    static final class ProtectBeforeSwapCounting extends ProtectBeforeSwap implements Counting {
        private final LongAdder hits = new LongAdder();

        @Override
        int harvest(IndependentVm vm, Memslot slot, MemorySegment out) {
            DirtyBitmap harvested = slot.activeBitmap();
            int r = super.harvest(vm, slot, out);
            if (slot.coldBitmap() == harvested) {
                DirtyBitmap active = slot.activeBitmap();
                for (int w = 0; w < harvested.nwords(); w++) {
                    long exposed = 0;
                    for (IndependentVcpu v : vm.vcpus()) {
                        VcpuDirtyLog log = slot.vcpuLogs[v.id];
                        exposed |= (long) LONGS.getVolatile(log.writable, w) & ~(long) LONGS.getVolatile(log.log, w);
                    }
                    hits.add(Long.bitCount(exposed & harvested.word(w) & ~active.word(w)));
                }
            }
            return r;
        }

        @Override
        public long hits() {
            return hits.sum();
        }
    }

    /**
     * The variant's read-modify-write with its store made a compare-and-exchange against the
     * value it read, and, when that fails, the variant's plain store after all: the same lost
     * update, now counted. On x86 the plain store (through the store buffer) and the exchange
     * become visible alike, tens of cycles after the read. A hit often costs no page: another
     * vCPU's fold may set the overwritten bit again before the harvest.
     */
    static final class NonAtomicBitmapOrCounting extends NonAtomicBitmapOr implements Counting {
        private final LongAdder hits = new LongAdder();

        @Override
        void setBits(DirtyBitmap bitmap, int w, long bits) {
            long offset = (long) w << 3;
            long old = (long) DirtyBitmap.WORD.get(bitmap.words, offset);
            long witness = (long) DirtyBitmap.WORD.compareAndExchange(bitmap.words, offset, old, old | bits);
            if (witness != old) {
                DirtyBitmap.WORD.set(bitmap.words, offset, old | bits);
                hits.increment();
            }
        }

        @Override
        public long hits() {
            return hits.sum();
        }
    }
}
