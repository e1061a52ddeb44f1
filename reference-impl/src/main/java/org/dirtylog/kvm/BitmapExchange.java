package org.dirtylog.kvm;

/**
 * How a harvest exchanges a slot's active and cold bitmaps: the one choice of the harvest
 * order that belongs to the architecture. Either way a grace period follows, so that when the
 * core goes on no vCPU can still set a bit in the bitmap being harvested.
 */
public enum BitmapExchange {

    /**
     * Publish a copy of the memslots array in which the slot's bitmaps are exchanged, wait a
     * grace period, free the old array (x86). TLA+: PublishMemslots, GracePeriod, FreeOldMemslots.
     */
    PUBLISH_MEMSLOTS,

    /**
     * Exchange the two pointers in the memslot itself, then wait a grace period (the RFC's
     * generic {@code kvm_update_dirty_log}, made safe; PowerPC book3s, IA64). TLA+: SwapBitmaps,
     * GracePeriod.
     */
    IN_PLACE
}
