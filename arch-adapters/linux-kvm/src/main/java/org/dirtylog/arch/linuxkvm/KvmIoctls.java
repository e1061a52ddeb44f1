package org.dirtylog.arch.linuxkvm;

import java.lang.foreign.MemoryLayout;

/**
 * The ioctl request numbers of {@code include/uapi/linux/kvm.h}, computed the way the C macros
 * compute them ({@code _IO/_IOW/_IOR} of {@code include/uapi/asm-generic/ioctl.h}) from the
 * sizes of the {@link KvmStructs} layouts, so a wrong layout also shows as a wrong number.
 * {@code KvmIoctlsTests} pins each number to the header's value.
 */
final class KvmIoctls {

    /** {@code KVMIO}: the ioctl type byte of every KVM request. */
    static final int KVMIO = 0xAE;

    private static final int NRBITS = 8;
    private static final int TYPEBITS = 8;
    private static final int SIZEBITS = 14;
    private static final int NRSHIFT = 0;
    private static final int TYPESHIFT = NRSHIFT + NRBITS;
    private static final int SIZESHIFT = TYPESHIFT + TYPEBITS;
    private static final int DIRSHIFT = SIZESHIFT + SIZEBITS;
    private static final long IOC_NONE = 0;
    private static final long IOC_WRITE = 1;
    private static final long IOC_READ = 2;

    // system ioctls (on the /dev/kvm fd)
    static final long KVM_GET_API_VERSION = io(0x00);
    static final long KVM_CREATE_VM = io(0x01);
    static final long KVM_CHECK_EXTENSION = io(0x03);
    static final long KVM_GET_VCPU_MMAP_SIZE = io(0x04);

    // vm ioctls
    static final long KVM_CREATE_VCPU = io(0x41);
    static final long KVM_GET_DIRTY_LOG = iow(0x42, KvmStructs.KVM_DIRTY_LOG);
    static final long KVM_SET_USER_MEMORY_REGION = iow(0x46, KvmStructs.KVM_USERSPACE_MEMORY_REGION);
    static final long KVM_ENABLE_CAP = iow(0xa3, KvmStructs.KVM_ENABLE_CAP);
    static final long KVM_CLEAR_DIRTY_LOG = iowr(0xc0, KvmStructs.KVM_CLEAR_DIRTY_LOG);
    static final long KVM_RESET_DIRTY_RINGS = io(0xc7);

    // vcpu ioctls
    static final long KVM_RUN = io(0x80);
    static final long KVM_GET_REGS = ior(0x81, KvmStructs.KVM_REGS);
    static final long KVM_SET_REGS = iow(0x82, KvmStructs.KVM_REGS);
    static final long KVM_GET_SREGS = ior(0x83, KvmStructs.KVM_SREGS);
    static final long KVM_SET_SREGS = iow(0x84, KvmStructs.KVM_SREGS);

    /** The API version every kernel since 2.6.22 answers to {@code KVM_GET_API_VERSION}. */
    static final int KVM_API_VERSION = 12;

    private KvmIoctls() {
    }

    /** Returns {@code _IOC(dir, KVMIO, nr, size)}. */
    static long ioc(long dir, int nr, long size) {
        if (size >= (1L << SIZEBITS)) {
            throw new IllegalArgumentException("ioctl argument too large for _IOC: " + size);
        }
        return (dir << DIRSHIFT) | ((long) KVMIO << TYPESHIFT) | ((long) nr << NRSHIFT) | (size << SIZESHIFT);
    }

    /** Returns {@code _IO(KVMIO, nr)}: no argument struct. */
    static long io(int nr) {
        return ioc(IOC_NONE, nr, 0);
    }

    /** Returns {@code _IOW(KVMIO, nr, type)}: user space writes the struct, the kernel reads it. */
    static long iow(int nr, MemoryLayout type) {
        return ioc(IOC_WRITE, nr, type.byteSize());
    }

    /** Returns {@code _IOR(KVMIO, nr, type)}: the kernel fills the struct in. */
    static long ior(int nr, MemoryLayout type) {
        return ioc(IOC_READ, nr, type.byteSize());
    }

    /** Returns {@code _IOWR(KVMIO, nr, type)}: the struct goes both ways. */
    static long iowr(int nr, MemoryLayout type) {
        return ioc(IOC_READ | IOC_WRITE, nr, type.byteSize());
    }
}
