package org.dirtylog.spi;

/**
 * A vCPU in continuous random-writing mode, started by
 * {@link BackendVcpu#startRandomWrites(RandomWrites)} (or in sequential mode, by
 * {@link BackendVcpu#startSequentialWrites(RandomWrites)}).
 */
@Api(Api.Status.STABLE)
public interface RandomWriter {

    /** Returns how many writes have completed so far (may lag behind the guest). */
    long writesSoFar();

    /**
     * Stops the vCPU and returns once it is out of guest mode: every write it made is then
     * complete and visible in guest memory. Returns the total number of writes.
     * Errors: whatever stopped the vCPU abnormally (a crashed guest, an exit it did not expect).
     */
    IoctlResult<Long> stop();

    /**
     * Returns true while the vCPU is out of guest mode because its dirty ring is soft-full
     * ({@code KVM_EXIT_DIRTY_RING_FULL}) and waits for {@link #resume()}: the caller harvests the
     * ring, calls {@link BackendVm#resetDirtyRings} and resumes it, or stops it: {@link #stop()}
     * then ends the session at once (a store whose entry was pushed but which had not retired
     * stays undone). The default,
     * for a backend without a ring, is false.
     */
    default boolean ringFull() {
        return false;
    }

    /**
     * {@code KVM_RUN} again after a ring-full exit: the session goes on and the method returns 0
     * at once; if the ring is still soft-full the vCPU exits again at once and
     * {@link #ringFull()} stays true. Errors: {@code -EINVAL} when the vCPU is not waiting on a
     * full ring (the default: without a ring it never is).
     */
    default IoctlResult<Integer> resume() {
        return IoctlResult.err(Errno.EINVAL);
    }

    /** Returns how many times the session exited with {@code KVM_EXIT_DIRTY_RING_FULL} so far (default 0). */
    default long ringFullExits() {
        return 0;
    }
}
