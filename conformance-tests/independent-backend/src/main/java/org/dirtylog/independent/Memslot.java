package org.dirtylog.independent;

import java.lang.foreign.MemorySegment;
import org.dirtylog.spi.KvmApi;

/**
 * A memslot, changed in place. Its fields other than {@link #active} change only while every
 * vCPU is outside guest mode ({@link IndependentVm#stopVcpus()}), and harvests and memslot
 * changes are serialised by the VM's slots lock, so only {@link #active}, which a harvest flips
 * while vCPUs run, needs to be volatile.
 */
final class Memslot {

    final int id;
    final long npages;
    final long userspaceAddr;
    /** The guest memory: user memory mapped by {@link IndependentVm#mmap(long)}. */
    final MemorySegment memory;
    long gpa;
    int flags;
    /** The two RFC bitmaps while logging is on, else null. */
    DirtyBitmap[] bitmaps;
    /** Per vCPU id, that vCPU's write permissions and dirty log while logging is on, else null. */
    VcpuDirtyLog[] vcpuLogs;
    /** Index in {@link #bitmaps} of the bitmap being filled; the other one is cold. */
    private volatile int active;

    Memslot(int id, long gpa, long npages, int flags, long userspaceAddr, MemorySegment memory) {
        this.id = id;
        this.gpa = gpa;
        this.npages = npages;
        this.flags = flags;
        this.userspaceAddr = userspaceAddr;
        this.memory = memory;
    }

    /** Returns true when {@code KVM_MEM_LOG_DIRTY_PAGES} is set. */
    boolean logging() {
        return (flags & KvmApi.KVM_MEM_LOG_DIRTY_PAGES) != 0;
    }

    /** Returns true when guest physical address {@code address} is in the slot. */
    boolean contains(long address) {
        return address >= gpa && address - gpa < npages << KvmApi.PAGE_SHIFT;
    }

    /** Returns true when the slot's guest range meets {@code [start, start + pages)}. */
    boolean overlaps(long start, long pages) {
        return gpa < start + (pages << KvmApi.PAGE_SHIFT) && start < gpa + (npages << KvmApi.PAGE_SHIFT);
    }

    /** Returns the number of 64-bit words of the slot's bitmaps. */
    int bitmapWords() {
        return (int) (KvmApi.dirtyBitmapBytes(npages) >>> 3);
    }

    /** Returns the bitmap being filled. */
    DirtyBitmap activeBitmap() {
        return bitmaps[active];
    }

    /** Returns the bitmap holding the last harvest. */
    DirtyBitmap coldBitmap() {
        return bitmaps[active ^ 1];
    }

    /** Makes the cold bitmap the one being filled: the RFC's in-place pointer exchange. */
    void swapBitmaps() {
        active ^= 1;
    }

    /** Starts logging with two fresh all-zero bitmaps and every page write-protected on every vCPU. */
    void startLogging(DirtyBitmap first, DirtyBitmap second, int maxVcpus) {
        bitmaps = new DirtyBitmap[] {first, second};
        active = 0;
        vcpuLogs = new VcpuDirtyLog[maxVcpus];
        for (int v = 0; v < maxVcpus; v++) {
            vcpuLogs[v] = new VcpuDirtyLog(bitmapWords());
        }
    }

    /** Stops logging: drops both bitmaps and every vCPU's log and write permissions. */
    void stopLogging() {
        bitmaps = null;
        vcpuLogs = null;
    }
}
