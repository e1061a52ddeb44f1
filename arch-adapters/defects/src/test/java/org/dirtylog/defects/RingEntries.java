package org.dirtylog.defects;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import org.dirtylog.kvm.DirtyRing;
import org.dirtylog.kvm.RingAllocator;
import org.dirtylog.spi.DirtyGfn;

/**
 * The dirty-ring fixtures that live in the ring itself: rings allocated with a broken
 * {@link DirtyRing.EntryAccess} or soft limit, each composed with the correct core through
 * {@link RingAllocator}.
 */
final class RingEntries {

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final long FLAGS = 0;
    private static final long SLOT = 4;
    private static final long OFFSET = 8;

    /**
     * The reset takes every entry that is not free, DIRTY ones too ({@code flags != 0} instead of
     * {@code flags & RESET}): entries the collector has not harvested yet are zeroed, counted and
     * re-armed, and the collector never sees them.
     */
    static final RingAllocator RESET_IGNORES_HARVEST_ORDER = (size, softLimit) -> DirtyRing.allocate(size, softLimit,
            new DirtyRing.EntryAccess() {
                @Override
                public void publish(MemorySegment ring, long position, int slot, long offset) {
                    DirtyRing.KERNEL_ENTRIES.publish(ring, position, slot, offset);
                }

                @Override
                public boolean harvested(MemorySegment ring, long position) {
                    // Native memory: load-acquire of the entry's flags.
                    return (int) INT.getAcquire(ring, position * DirtyGfn.SIZE + FLAGS) != 0;
                }
            });

    /**
     * No soft limit: a push never asks the vCPU to exit, so a vCPU that keeps dirtying new pages
     * wraps its ring over entries the collector has not harvested (what cf87ac73's request
     * prevents).
     */
    static final RingAllocator NO_SOFT_FULL_EXIT =
            (size, softLimit) -> DirtyRing.allocate(size, Long.MAX_VALUE, DirtyRing.KERNEL_ENTRIES);

    /**
     * {@code flags = DIRTY} is published (store-release) before {@code slot} and {@code offset}
     * are written: a collector that sees DIRTY may read the fields of the entry's previous lap
     * (or zeros) and report the wrong page.
     */
    static final RingAllocator FLAGS_BEFORE_FIELDS = (size, softLimit) -> DirtyRing.allocate(size, softLimit,
            new DirtyRing.EntryAccess() {
                @Override
                public void publish(MemorySegment ring, long position, int slot, long offset) {
                    long at = position * DirtyGfn.SIZE;
                    // Native memory: the flags first, then the fields the flags were meant to publish.
                    INT.setRelease(ring, at + FLAGS, DirtyGfn.KVM_DIRTY_GFN_F_DIRTY);
                    ring.set(ValueLayout.JAVA_INT, at + SLOT, slot);
                    ring.set(ValueLayout.JAVA_LONG, at + OFFSET, offset);
                }

                @Override
                public boolean harvested(MemorySegment ring, long position) {
                    return DirtyRing.KERNEL_ENTRIES.harvested(ring, position);
                }
            });

    private RingEntries() {
    }
}
