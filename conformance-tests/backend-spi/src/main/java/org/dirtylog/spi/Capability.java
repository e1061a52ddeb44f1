package org.dirtylog.spi;

/**
 * Something a backend can do. A conformance rule needs a set of capabilities; a backend
 * without one of them gets NOT_APPLICABLE for that rule, with the missing capability named.
 */
@Api(Api.Status.STABLE)
public enum Capability {
    /** {@code KVM_GET_DIRTY_LOG} (api.rst 4.8): copy-and-clear harvest into a user buffer. */
    GET_DIRTY_LOG,
    /** The RFC's {@code KVM_GET_USER_DIRTY_LOG_ADDR} and {@code KVM_SWITCH_DIRTY_LOG} (4.39, 4.40). */
    USER_DIRTY_LOG,
    /** Moving a memslot to a new guest physical address with {@code KVM_SET_USER_MEMORY_REGION}. */
    MEMSLOT_MOVE,
    /** vCPUs that run a batch of guest writes synchronously. */
    GUEST_WRITES,
    /** vCPUs that write iteration numbers into random pages until stopped (the selftest guest). */
    RANDOM_WRITES,
    /**
     * Manual protect (api.rst 4.117 {@code KVM_CLEAR_DIRTY_LOG}, 7.18
     * {@code KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2}): {@link BackendVm#enableManualDirtyLogProtect} turns
     * it on and off, {@link BackendVm#clearDirtyLog} clears and re-arms what the caller names, and
     * {@code KVM_CHECK_EXTENSION(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)} reports a mask with
     * {@link KvmApi#KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE}.
     */
    MANUAL_DIRTY_LOG_PROTECT,
    /**
     * {@link KvmApi#KVM_DIRTY_LOG_INITIALLY_SET} (api.rst 7.18): with manual protect on, every newly
     * allocated dirty bitmap starts with all its pages set. Needs {@link #MANUAL_DIRTY_LOG_PROTECT};
     * the reported mask has this bit too.
     */
    DIRTY_LOG_INITIALLY_SET,
    /**
     * The dirty ring (api.rst 8.29 {@code KVM_CAP_DIRTY_LOG_RING}, {@code _ACQ_REL}):
     * {@code KVM_CHECK_EXTENSION} of at least one of the two capabilities returns the largest ring
     * in bytes, {@link BackendVm#enableDirtyLogRing} turns the ring on before the first vCPU exists,
     * {@link BackendVcpu#mmapDirtyRing} maps a vCPU's ring, {@link BackendVm#resetDirtyRings} re-arms
     * what the collector harvested, a vCPU run ends with {@link VcpuExit#DIRTY_RING_FULL} when its
     * ring is soft-full, and {@link BackendVcpu#kick} forces a vCPU out of guest mode.
     */
    DIRTY_LOG_RING,
    /**
     * vCPUs that store the iteration number into every page of a range in order, a new page on
     * every store and a store every few instructions, over and over until stopped
     * ({@link BackendVcpu#startSequentialWrites}: the kernel selftest's sequential pass, the
     * densest writer; sparse writers hide ring bugs).
     */
    SEQUENTIAL_WRITES;

    /** Returns the name used in reports, e.g. {@code user-dirty-log}. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
