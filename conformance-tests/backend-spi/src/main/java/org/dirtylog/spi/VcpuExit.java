package org.dirtylog.spi;

/**
 * Why a guest run returned to its caller ({@link BackendVcpu#runWritesUntilExit}).
 */
@Api(Api.Status.EXPERIMENTAL)
public enum VcpuExit {
    /** The guest did everything it was given. */
    DONE,
    /**
     * {@code KVM_EXIT_DIRTY_RING_FULL} ({@link KvmApi#KVM_EXIT_DIRTY_RING_FULL}): the vCPU's ring
     * reached its soft limit; the vCPU does not enter the guest again until the collector
     * harvested its ring and called {@code KVM_RESET_DIRTY_RINGS}.
     */
    DIRTY_RING_FULL
}
