package org.dirtylog.arch.ia64;

import java.util.concurrent.ConcurrentLinkedQueue;
import org.dirtylog.kvm.ArchContext;
import org.dirtylog.kvm.ArchMemslot;
import org.dirtylog.kvm.DirtyBitmap;
import org.dirtylog.kvm.SlotPageTable;

/**
 * IA64 state of one memslot: the VHPT-style write protection and the VMM's own dirty log
 * ({@code kvm_mem_dirty_log}) that vCPUs set bits in, with a queue of the words marked since
 * the last merge, so a merge costs O(faults), not O(slot size).
 */
final class Ia64Memslot implements ArchMemslot {

    final SlotPageTable pageTable;
    final DirtyBitmap vmmLog;
    final ConcurrentLinkedQueue<Long> dirtyWords = new ConcurrentLinkedQueue<>();

    Ia64Memslot(ArchContext kvm, long npages) {
        this.pageTable = SlotPageTable.allocate(npages);
        try {
            this.vmmLog = kvm.allocateBitmap(npages, false);
        } catch (OutOfMemoryError e) {
            pageTable.close();
            throw e;
        }
    }

    /**
     * Sets {@code page} in the VMM log and queues its word. Every mark queues, not only the one
     * that made the word non-zero: otherwise a vCPU whose bit joins a word another vCPU set but
     * has not queued yet could complete its store before a merge that then misses the bit
     * (a lost write for that harvest; TLA+: MergeVmmLog, NoLostWrite). Marks happen only on
     * write faults, so the queue grows with faults, not with writes.
     */
    void mark(long page) {
        vmmLog.set(page);
        dirtyWords.add(page >>> 6);
    }

    /** Moves every queued word of the VMM log into {@code target}, zeroing it in the log. */
    void mergeInto(DirtyBitmap target) {
        Long word;
        while ((word = dirtyWords.poll()) != null) {
            target.orWord(word, vmmLog.takeWord(word));
        }
    }

    /** Empties the VMM log; only when no vCPU can mark it. */
    void reset() {
        dirtyWords.clear();
        vmmLog.clear();
    }

    @Override
    public void close() {
        pageTable.close();
        vmmLog.close();
    }
}
