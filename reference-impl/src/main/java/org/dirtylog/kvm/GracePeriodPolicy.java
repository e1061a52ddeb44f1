package org.dirtylog.kvm;

/**
 * How the core waits for vCPUs after it changed what they may dereference: after publishing a
 * new memslots array ({@code synchronize_srcu} in {@code KVM_SET_USER_MEMORY_REGION}) and after
 * exchanging a slot's two bitmaps in a harvest ({@code synchronize_srcu_expedited}). TLA+:
 * GracePeriod. The core uses {@link #KERNEL}; a test fixture may compose one that returns early.
 */
public interface GracePeriodPolicy {

    /** Waits for a full grace period of the memslots SRCU every time. */
    GracePeriodPolicy KERNEL = new GracePeriodPolicy() {
    };

    /**
     * Returns once no vCPU can still use a memslots array loaded before a new one was published;
     * the caller then frees the old array. Sleeps between checks (memslot updates are rare).
     */
    default void memslotsPublished(Srcu srcu) {
        srcu.synchronize();
    }

    /**
     * Returns once no vCPU can still set a bit through a bitmap pointer it loaded before the
     * bitmaps were exchanged, so the harvested bitmap is final. Spins, then yields (a harvest
     * is on the migration's critical path).
     */
    default void bitmapsExchanged(Srcu srcu) {
        srcu.synchronizeExpedited();
    }
}
