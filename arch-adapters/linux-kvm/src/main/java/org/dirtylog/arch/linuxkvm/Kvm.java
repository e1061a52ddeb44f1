package org.dirtylog.arch.linuxkvm;

import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;

/** The {@code /dev/kvm} file descriptor: system ioctls and VM creation. */
final class Kvm implements AutoCloseable {

    /** The device node of the kernel's KVM module. */
    static final String DEVICE = "/dev/kvm";

    private final OwnedFd fd;

    private Kvm(OwnedFd fd) {
        this.fd = fd;
    }

    /**
     * Returns {@code device} (normally {@link #DEVICE}) opened read-write and close-on-exec, after checking that it speaks
     * {@link KvmIoctls#KVM_API_VERSION}. Errors: those of {@code open(2)} ({@code -ENOENT}
     * without the device, {@code -EACCES} without permission), {@code -EINVAL} for another API
     * version.
     */
    static IoctlResult<Kvm> open(String device) {
        long r = Syscalls.open(device, Syscalls.O_RDWR | Syscalls.O_CLOEXEC);
        if (r < 0) {
            return IoctlResult.err(Errno.fromKernelReturn(r));
        }
        Kvm kvm = new Kvm(new OwnedFd((int) r));
        IoctlResult<Integer> version = kvm.apiVersion();
        if (!version.equals(IoctlResult.ok(KvmIoctls.KVM_API_VERSION))) {
            kvm.close();
            return IoctlResult.err(version.isOk() ? Errno.EINVAL : version.errnoOrNull());
        }
        return IoctlResult.ok(kvm);
    }

    /** {@code KVM_GET_API_VERSION}: returns the API version (12 on every kernel since 2.6.22). */
    IoctlResult<Integer> apiVersion() {
        return IoctlResult.ofKernelReturn(fd.ioctl(KvmIoctls.KVM_GET_API_VERSION, 0));
    }

    /** {@code KVM_CHECK_EXTENSION} on the system fd: returns the capability's value, 0 when absent. */
    IoctlResult<Integer> checkExtension(long capability) {
        return IoctlResult.ofKernelReturn(fd.ioctl(KvmIoctls.KVM_CHECK_EXTENSION, capability));
    }

    /** {@code KVM_GET_VCPU_MMAP_SIZE}: returns the size of the {@code kvm_run} mapping of a vCPU fd. */
    IoctlResult<Integer> vcpuMmapSize() {
        return IoctlResult.ofKernelReturn(fd.ioctl(KvmIoctls.KVM_GET_VCPU_MMAP_SIZE, 0));
    }

    /** {@code KVM_CREATE_VM} with machine type 0: returns the new VM fd. Errors: {@code -ENOMEM}, {@code -EMFILE}. */
    IoctlResult<VmFd> createVm() {
        long r = fd.ioctl(KvmIoctls.KVM_CREATE_VM, 0);
        return r < 0 ? IoctlResult.err(Errno.fromKernelReturn(r)) : IoctlResult.ok(new VmFd(new OwnedFd((int) r)));
    }

    /** Closes {@code /dev/kvm}; VMs created from it stay valid. Idempotent. */
    @Override
    public void close() {
        fd.close();
    }
}
