package org.dirtylog.arch.ppc;

import org.dirtylog.kvm.ArchMemslot;

/**
 * book3s state of one memslot: its flush generation, unique in the VM, which every vCPU's
 * shadow PTE for the slot must match to be used.
 */
final class Book3sMemslot implements ArchMemslot {

    private volatile long flushGeneration;

    Book3sMemslot(long flushGeneration) {
        this.flushGeneration = flushGeneration;
    }

    /** Returns the current flush generation. */
    long flushGeneration() {
        return flushGeneration;
    }

    /** Invalidates every vCPU's shadow PTEs of the slot by moving to {@code next}. */
    void flush(long next) {
        flushGeneration = next;
    }

    @Override
    public void close() {
    }
}
