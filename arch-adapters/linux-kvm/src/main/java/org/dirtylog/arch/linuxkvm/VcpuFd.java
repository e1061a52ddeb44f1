package org.dirtylog.arch.linuxkvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;

/**
 * A vCPU file descriptor from {@code KVM_CREATE_VCPU} and its mapped {@code kvm_run} page.
 * {@link #run()} and the register calls belong to one thread (the vCPU thread);
 * {@link #setImmediateExit(boolean)} may be called from any thread to kick it.
 */
final class VcpuFd implements AutoCloseable {

    private static final long IMMEDIATE_EXIT = KvmStructs.offsetOf(KvmStructs.KVM_RUN, "immediate_exit");
    private static final long EXIT_REASON = KvmStructs.offsetOf(KvmStructs.KVM_RUN, "exit_reason");
    private static final long IO_DIRECTION = KvmStructs.offsetOf(KvmStructs.KVM_RUN, "exit.io.direction");
    private static final long IO_PORT = KvmStructs.offsetOf(KvmStructs.KVM_RUN, "exit.io.port");
    private static final long MMIO_PHYS_ADDR = KvmStructs.offsetOf(KvmStructs.KVM_RUN, "exit.mmio.phys_addr");
    private static final long INTERNAL_SUBERROR = KvmStructs.offsetOf(KvmStructs.KVM_RUN, "exit.internal_suberror");
    private static final VarHandle BYTE = ValueLayout.JAVA_BYTE.varHandle();

    private final int id;
    private final OwnedFd fd;
    private final long kvmRunAddress;
    private final long kvmRunSize;
    private final MemorySegment kvmRun;
    private boolean unmapped;

    @SuppressWarnings("restricted") // the address comes from the kernel (mmap), not from a caller
    VcpuFd(int id, OwnedFd fd, long kvmRunAddress, long kvmRunSize) {
        this.id = id;
        this.fd = fd;
        this.kvmRunAddress = kvmRunAddress;
        this.kvmRunSize = kvmRunSize;
        // Native memory: the kernel's kvm_run page, mapped by VmFd.createVcpu until close().
        this.kvmRun = MemorySegment.ofAddress(kvmRunAddress).reinterpret(kvmRunSize);
    }

    /** Returns the vCPU id. */
    int id() {
        return id;
    }

    /**
     * {@code KVM_RUN}: enters the guest and returns 0 at the next exit to user space (see
     * {@link #exitReason()}). Errors: {@code -EINTR} when a signal or
     * {@code immediate_exit} stopped it, {@code -EFAULT} when a memslot's user memory is gone.
     */
    IoctlResult<Integer> run() {
        return IoctlResult.ofKernelReturn(fd.ioctl(KvmIoctls.KVM_RUN, 0));
    }

    /** {@code KVM_SET_REGS}: loads the general-purpose registers from {@code regs} (a {@code kvm_regs}). */
    IoctlResult<Integer> setRegs(MemorySegment regs) {
        return IoctlResult.ofKernelReturn(fd.ioctl(KvmIoctls.KVM_SET_REGS, regs.address()));
    }

    /** {@code KVM_GET_REGS}: stores the general-purpose registers into {@code regs}. */
    IoctlResult<Integer> getRegs(MemorySegment regs) {
        return IoctlResult.ofKernelReturn(fd.ioctl(KvmIoctls.KVM_GET_REGS, regs.address()));
    }

    /** {@code KVM_SET_SREGS}: loads segments, control registers and EFER from {@code sregs}. */
    IoctlResult<Integer> setSregs(MemorySegment sregs) {
        return IoctlResult.ofKernelReturn(fd.ioctl(KvmIoctls.KVM_SET_SREGS, sregs.address()));
    }

    /** {@code KVM_GET_SREGS}: stores segments, control registers and EFER into {@code sregs}. */
    IoctlResult<Integer> getSregs(MemorySegment sregs) {
        return IoctlResult.ofKernelReturn(fd.ioctl(KvmIoctls.KVM_GET_SREGS, sregs.address()));
    }

    /**
     * {@code mmap(NULL, length, prot, flags, vcpu_fd, KVM_DIRTY_LOG_PAGE_OFFSET * PAGE_SIZE)}
     * ({@code kvm_vcpu_mmap}): returns the address of this vCPU's dirty ring. Errors:
     * {@code -EINVAL} (MAP_PRIVATE, or PROT_EXEC on kernels that check it in KVM), {@code -EPERM}
     * (PROT_EXEC refused by the VFS on newer kernels), {@code -EBADF} (closed). The kernel checks
     * neither length nor ring size: the caller must map no page outside the ring, whose access
     * raises SIGBUS.
     */
    long mmapDirtyRing(long length, int prot, int flags) {
        return fd.mmap(length, prot, flags, KvmApi.KVM_DIRTY_LOG_PAGE_OFFSET * KvmApi.PAGE_SIZE);
    }

    /** Returns {@code kvm_run.exit_reason} of the last exit. */
    int exitReason() {
        // Native memory: kvm_run stays mapped until close(), which runs after the vCPU thread ended.
        return kvmRun.get(ValueLayout.JAVA_INT, EXIT_REASON);
    }

    /** Returns {@code kvm_run.io.direction} of the last KVM_EXIT_IO. */
    int ioDirection() {
        // Native memory: as exitReason().
        return Byte.toUnsignedInt(kvmRun.get(ValueLayout.JAVA_BYTE, IO_DIRECTION));
    }

    /** Returns {@code kvm_run.io.port} of the last KVM_EXIT_IO. */
    int ioPort() {
        // Native memory: as exitReason().
        return Short.toUnsignedInt(kvmRun.get(ValueLayout.JAVA_SHORT, IO_PORT));
    }

    /** Returns {@code kvm_run.mmio.phys_addr} of the last KVM_EXIT_MMIO. */
    long mmioPhysAddr() {
        // Native memory: as exitReason().
        return kvmRun.get(ValueLayout.JAVA_LONG, MMIO_PHYS_ADDR);
    }

    /** Returns {@code kvm_run.internal.suberror} of the last KVM_EXIT_INTERNAL_ERROR. */
    int internalSuberror() {
        // Native memory: as exitReason().
        return kvmRun.get(ValueLayout.JAVA_INT, INTERNAL_SUBERROR);
    }

    /**
     * Sets {@code kvm_run.immediate_exit}: while it is 1, KVM_RUN completes pending I/O and returns
     * {@code -EINTR} instead of entering the guest. The caller must know the page is still mapped.
     */
    void setImmediateExit(boolean on) {
        // Native memory: a volatile store, so a KVM_RUN issued after it on another thread sees it.
        BYTE.setVolatile(kvmRun, IMMEDIATE_EXIT, (byte) (on ? 1 : 0));
    }

    /** Unmaps {@code kvm_run} and closes the fd; the caller has stopped the vCPU thread. Idempotent. */
    @Override
    public synchronized void close() {
        if (!unmapped) {
            unmapped = true;
            Syscalls.munmap(kvmRunAddress, kvmRunSize);
        }
        fd.close();
    }
}
