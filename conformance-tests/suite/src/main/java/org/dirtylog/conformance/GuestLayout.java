package org.dirtylog.conformance;

import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.KvmApi;

/**
 * Hands out what a scenario places in its VM: guest physical ranges inside the backend's
 * declared window, slot ids from 0 upwards, and values for guest writes that never repeat, so
 * every write changes the page it stores to.
 */
public final class GuestLayout {

    private final long guestPhysBase;
    private final long guestPhysLimit;
    private long nextGpa;
    private int nextSlotId;
    private long nextValue = 1;

    GuestLayout(Capabilities caps) {
        this.guestPhysBase = caps.guestPhysBase();
        this.guestPhysLimit = caps.guestPhysLimit();
        this.nextGpa = guestPhysBase;
    }

    /**
     * Returns the start of a guest physical range of {@code bytes} bytes no other slot of the
     * scenario uses; a backend whose window is too small makes the rule NOT_APPLICABLE.
     */
    public synchronized long allocateGpa(long bytes) {
        long start = nextGpa;
        long end = start + bytes;
        if (end > guestPhysLimit || end < start) {
            throw new NotApplicable("the backend's guest physical range [" + CallText.hex(guestPhysBase) + ", "
                    + CallText.hex(guestPhysLimit) + ") is too small for this rule");
        }
        // A one-page hole between slots keeps an off-by-one write from landing in a neighbour.
        nextGpa = end + KvmApi.PAGE_SIZE;
        return start;
    }

    /** Returns true when a range of {@code bytes} bytes still fits in the backend's window. */
    public synchronized boolean fits(long bytes) {
        long end = nextGpa + bytes;
        return end <= guestPhysLimit && end > nextGpa;
    }

    /** Returns the next unused slot id. */
    public synchronized int nextSlotId() {
        return nextSlotId++;
    }

    /** Returns a fresh value for a guest write. */
    public synchronized long nextValue() {
        return nextValue++;
    }
}
