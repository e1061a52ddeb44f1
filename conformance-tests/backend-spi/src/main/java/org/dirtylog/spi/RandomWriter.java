package org.dirtylog.spi;

/**
 * A vCPU in continuous random-writing mode, started by
 * {@link BackendVcpu#startRandomWrites(RandomWrites)}.
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
}
