package org.dirtylog.spi;

import java.util.List;

/**
 * A virtual CPU of a {@link BackendVm}. A vCPU runs one thing at a time: a batch of writes or a
 * random-writing session. Closing it releases its resources; the VM closes its vCPUs too.
 */
@Api(Api.Status.STABLE)
public interface BackendVcpu extends AutoCloseable {

    /** Returns the vCPU id given to {@link BackendVm#createVcpu(int)}. */
    int id();

    /**
     * Runs the guest until it has performed every write of {@code writes} in order, then returns
     * the number of writes performed. Each write goes through the backend's MMU exactly as a
     * guest store would: a write to a page of a logged slot must be reported by the next harvest.
     * Errors: {@code -EFAULT} when a gpa is not in any memslot (the guest would see an MMIO exit),
     * anything else the backend's vCPU run returns.
     * Requires {@link Capability#GUEST_WRITES}.
     */
    IoctlResult<Integer> runWrites(List<GuestWrite> writes);

    /**
     * Starts continuous random writes (the selftest guest) and returns at once with a handle to
     * stop them. Requires {@link Capability#RANDOM_WRITES}.
     */
    IoctlResult<RandomWriter> startRandomWrites(RandomWrites writes);

    /** Releases the vCPU. Idempotent. */
    @Override
    void close();
}
