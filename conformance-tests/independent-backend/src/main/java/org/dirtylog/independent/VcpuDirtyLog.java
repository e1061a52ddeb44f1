package org.dirtylog.independent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One vCPU's dirty-logging state for one logged memslot: the write permission of its shadow
 * PTEs and its private dirty log.
 *
 * <ul>
 * <li>{@code writable}: bit p set means the vCPU may store to page p without faulting. A
 *     harvest write-protects (clears it); the vCPU's fault handler sets it again. Both sides
 *     use atomic word operations: the harvest never stops the vCPU, it only waits for it.</li>
 * <li>{@code log}: bit p set means the vCPU faulted on page p and that mark has not reached
 *     the memslot's bitmap yet. Only the owning vCPU sets bits; the vCPU itself (when it has
 *     logged {@link #PML_ENTRIES} pages, and on every exit to user space) and the harvest
 *     (while the vCPU runs) take them out, each with an atomic exchange per word. It plays the
 *     part of Intel's PML buffer.</li>
 * </ul>
 */
final class VcpuDirtyLog {

    /** How many faults fill the log: then the vCPU folds it into the memslot's bitmap (PML's 512 entries). */
    static final int PML_ENTRIES = 512;

    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);

    /** The words of both bitsets are package-visible so that a variant can be written the way a kernel developer would. */
    final long[] writable;
    final long[] log;
    /** Faults logged since the vCPU last folded; read and written only by the vCPU's own thread. */
    int marksSinceFold;

    VcpuDirtyLog(int nwords) {
        this.writable = new long[nwords];
        this.log = new long[nwords];
    }

    /** Returns the number of 64-bit words of the log (and of the slot's bitmaps). */
    int nwords() {
        return log.length;
    }

    /** Returns true when the shadow PTE of {@code page} lets the vCPU store without a fault. */
    boolean writable(long page) {
        return ((long) WORD.getVolatile(writable, (int) (page >>> 6)) & (1L << page)) != 0;
    }

    /** Makes {@code page} writable for this vCPU (the fault handler's SPTE update). */
    void makeWritable(long page) {
        WORD.getAndBitwiseOr(writable, (int) (page >>> 6), 1L << page);
    }

    /** Write-protects every page for this vCPU: its next store to any page faults and is logged. */
    void writeProtectAll() {
        for (int w = 0; w < writable.length; w++) {
            WORD.setVolatile(writable, w, 0L);
        }
    }

    /** Logs a fault on {@code page}; returns the log word as it was before. */
    long mark(long page) {
        return (long) WORD.getAndBitwiseOr(log, (int) (page >>> 6), 1L << page);
    }

    /** Takes word {@code w} out of the log: returns its marks and leaves it empty, atomically. */
    long take(int w) {
        return (long) WORD.getAndSet(log, w, 0L);
    }
}
