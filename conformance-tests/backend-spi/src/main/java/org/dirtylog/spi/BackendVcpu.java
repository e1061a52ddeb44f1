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

    /**
     * Starts the densest writer and returns at once with a handle to stop it: the vCPU stores
     * {@code writes.iteration()} into the first 8 bytes of pages {@code 0, 1, ..., pages - 1} of
     * the range in that order, a new page on every store, then starts again at page 0, until
     * stopped ({@code writes.seed()} is not used). Errors: as {@link #startRandomWrites}.
     *
     * <p>Requires {@link Capability#SEQUENTIAL_WRITES}. The default answers {@code -ENOSYS}:
     * the backend's guest has no such program.
     */
    default IoctlResult<RandomWriter> startSequentialWrites(RandomWrites writes) {
        return IoctlResult.err(Errno.ENOSYS);
    }

    /**
     * {@code mmap(NULL, length, prot, flags, vcpu_fd, KVM_DIRTY_LOG_PAGE_OFFSET * PAGE_SIZE)}
     * ({@code kvm_vcpu_mmap}): returns this vCPU's dirty ring, {@code length / 16} entries of
     * {@link DirtyGfn}, all 0 before the first push, shared with the backend: entries the backend
     * pushes appear in it, flags the collector stores reach the backend. The mapping lives until
     * the vCPU is closed. Errors: {@code -EINVAL} ({@code MAP_PRIVATE} or no {@code MAP_SHARED};
     * a private copy would hide KVM's pushes), {@code -EINVAL} or {@code -EPERM} ({@code PROT_EXEC}:
     * KVM refuses it, newer kernels already in the VFS), {@code -EINVAL} (no ring enabled, or
     * {@code length} not a multiple of the page size, 0, or larger than the ring: the kernel maps
     * such a range but any access to a page outside the ring raises {@code SIGBUS}, which a
     * backend must not hand to the kit).
     *
     * <p>Requires {@link Capability#DIRTY_LOG_RING}. The default answers {@code -EINVAL}: without a
     * ring there is nothing at that offset.
     */
    default IoctlResult<UserMemory> mmapDirtyRing(long length, int prot, int flags) {
        return IoctlResult.err(Errno.EINVAL);
    }

    /**
     * Runs the guest until it has performed every write of {@code writes} in order, or until the
     * vCPU exits with {@code KVM_EXIT_DIRTY_RING_FULL}, and returns how many writes completed and
     * why it returned. After {@link VcpuExit#DIRTY_RING_FULL} the caller harvests the ring, calls
     * {@link BackendVm#resetDirtyRings} and runs the remaining writes; a run started while the
     * ring is still soft-full returns {@code DIRTY_RING_FULL} with no write done (the vCPU may
     * not enter the guest, cf87ac73). A write whose entry was pushed but which had not retired
     * when the vCPU exited (a faulting store is re-executed after the exit) is not counted.
     * Errors: as {@link #runWrites}.
     *
     * <p>The default runs {@link #runWrites}: without a ring no run ends early.
     */
    default IoctlResult<VcpuRun> runWritesUntilExit(List<GuestWrite> writes) {
        return runWrites(writes).map(n -> new VcpuRun(n, VcpuExit.DONE));
    }

    /**
     * Forces the vCPU out of guest mode and returns once it has left it (or at once when it is
     * not in guest mode): every store the vCPU completed before the call has then reached its
     * dirty ring, since the VM exit flushes the CPU's log buffer (VMX PML), which reading the ring
     * does not (api.rst 8.29: "kick the vcpu out of KVM_RUN using a signal"). The vCPU then goes
     * on with what it was doing; a batch or random-writing session is not ended by a kick.
     * Returns 0. TLA+: Kick.
     *
     * <p>The default returns 0 at once: a backend whose vCPUs log nothing outside the ring has
     * nothing to flush.
     */
    default IoctlResult<Integer> kick() {
        return IoctlResult.ok(0);
    }

    /** Releases the vCPU. Idempotent. */
    @Override
    void close();
}
