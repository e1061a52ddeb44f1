package org.dirtylog.arch.linuxkvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicReference;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;

/** A VM file descriptor from {@code KVM_CREATE_VM}: the vm ioctls the backend needs. */
final class VmFd implements AutoCloseable {

    private static final long REGION_SLOT = KvmStructs.offsetOf(KvmStructs.KVM_USERSPACE_MEMORY_REGION, "slot");
    private static final long REGION_FLAGS = KvmStructs.offsetOf(KvmStructs.KVM_USERSPACE_MEMORY_REGION, "flags");
    private static final long REGION_GPA = KvmStructs.offsetOf(KvmStructs.KVM_USERSPACE_MEMORY_REGION, "guest_phys_addr");
    private static final long REGION_SIZE = KvmStructs.offsetOf(KvmStructs.KVM_USERSPACE_MEMORY_REGION, "memory_size");
    private static final long REGION_UADDR = KvmStructs.offsetOf(KvmStructs.KVM_USERSPACE_MEMORY_REGION, "userspace_addr");
    private static final long LOG_SLOT = KvmStructs.offsetOf(KvmStructs.KVM_DIRTY_LOG, "slot");
    private static final long LOG_BITMAP = KvmStructs.offsetOf(KvmStructs.KVM_DIRTY_LOG, "dirty_bitmap");

    // kvm_dirty_log followed by the linker's errno capture: one native block per harvest.
    private static final StructLayout LOG_ARGS = MemoryLayout.structLayout(
            KvmStructs.KVM_DIRTY_LOG.withName("log"), Syscalls.CAPTURE_LAYOUT.withName("capture"));
    private static final long LOG_CAPTURE = KvmStructs.offsetOf(LOG_ARGS, "capture");
    private static final long CLEAR_SLOT = KvmStructs.offsetOf(KvmStructs.KVM_CLEAR_DIRTY_LOG, "slot");
    private static final long CLEAR_NUM_PAGES = KvmStructs.offsetOf(KvmStructs.KVM_CLEAR_DIRTY_LOG, "num_pages");
    private static final long CLEAR_FIRST_PAGE = KvmStructs.offsetOf(KvmStructs.KVM_CLEAR_DIRTY_LOG, "first_page");
    private static final long CLEAR_BITMAP = KvmStructs.offsetOf(KvmStructs.KVM_CLEAR_DIRTY_LOG, "dirty_bitmap");
    // kvm_clear_dirty_log followed by the errno capture, as LOG_ARGS is for GET.
    private static final StructLayout CLEAR_ARGS = MemoryLayout.structLayout(
            KvmStructs.KVM_CLEAR_DIRTY_LOG.withName("log"), Syscalls.CAPTURE_LAYOUT.withName("capture"));
    private static final long CLEAR_CAPTURE = KvmStructs.offsetOf(CLEAR_ARGS, "capture");
    private static final long CAP_CAP = KvmStructs.offsetOf(KvmStructs.KVM_ENABLE_CAP, "cap");
    private static final long CAP_FLAGS = KvmStructs.offsetOf(KvmStructs.KVM_ENABLE_CAP, "flags");
    private static final long CAP_ARGS = KvmStructs.offsetOf(KvmStructs.KVM_ENABLE_CAP, "args");

    private final OwnedFd fd;
    private final Arena arena = Arena.ofShared();
    // A harvest takes the spare block (or allocates its own when another harvest holds it), so the
    // common single-harvester path allocates no native memory per call.
    private final AtomicReference<MemorySegment> spareLogArgs;
    // The same for KVM_CLEAR_DIRTY_LOG, which a harvester calls once per GET.
    private final AtomicReference<MemorySegment> spareClearArgs;

    VmFd(OwnedFd fd) {
        this.fd = fd;
        this.spareLogArgs = new AtomicReference<>(arena.allocate(LOG_ARGS));
        this.spareClearArgs = new AtomicReference<>(arena.allocate(CLEAR_ARGS));
    }

    /**
     * {@code KVM_CHECK_EXTENSION} on the VM fd (per-VM answers, {@code KVM_CAP_CHECK_EXTENSION_VM}):
     * returns the capability's value, 0 when absent.
     */
    IoctlResult<Integer> checkExtension(long capability) {
        return IoctlResult.ofKernelReturn(fd.ioctl(KvmIoctls.KVM_CHECK_EXTENSION, capability));
    }

    /**
     * {@code KVM_SET_USER_MEMORY_REGION} ({@code kvm_vm_ioctl_set_memory_region}): creates, moves,
     * re-flags or (size 0) deletes a memslot; returns 0. Errors in the kernel's check order:
     * {@code -EINVAL}, {@code -EEXIST}, {@code -ENOMEM}. TLA+: LogOn / LogOff for flag changes.
     */
    IoctlResult<Integer> setUserMemoryRegion(int slot, int flags, long guestPhysAddr, long memorySize,
                                             long userspaceAddr) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = arena.allocate(KvmStructs.KVM_USERSPACE_MEMORY_REGION);
            // Native memory: the kernel copies the struct in before the ioctl returns.
            region.set(ValueLayout.JAVA_INT, REGION_SLOT, slot);
            region.set(ValueLayout.JAVA_INT, REGION_FLAGS, flags);
            region.set(ValueLayout.JAVA_LONG, REGION_GPA, guestPhysAddr);
            region.set(ValueLayout.JAVA_LONG, REGION_SIZE, memorySize);
            region.set(ValueLayout.JAVA_LONG, REGION_UADDR, userspaceAddr);
            return IoctlResult.ofKernelReturn(fd.ioctl(KvmIoctls.KVM_SET_USER_MEMORY_REGION, region.address()));
        }
    }

    /**
     * {@code KVM_GET_DIRTY_LOG} ({@code kvm_vm_ioctl_get_dirty_log}): copies the slot's bitmap to
     * the user address {@code dirtyBitmap} and re-arms tracking of the pages it reports; returns 0.
     * Errors in check order: {@code -EINVAL} (slot id), {@code -ENOENT} (no slot or no log),
     * {@code -EFAULT} (copy_to_user). TLA+: HarvestBegin .. CopyToUser .. HarvestEnd.
     */
    IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
        MemorySegment args = spareLogArgs.getAndSet(null);
        if (args == null) {
            try (Arena arena = Arena.ofConfined()) {
                return getDirtyLog(slot, dirtyBitmap, arena.allocate(LOG_ARGS));
            }
        }
        try {
            return getDirtyLog(slot, dirtyBitmap, args);
        } finally {
            spareLogArgs.set(args);
        }
    }

    private IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap, MemorySegment args) {
        return IoctlResult.ofKernelReturn(fd.call(n -> {
            // Native memory: args (kvm_dirty_log + errno) is not freed before fd.close(), which waits for us.
            args.set(ValueLayout.JAVA_INT, LOG_SLOT, slot);
            args.set(ValueLayout.JAVA_LONG, LOG_BITMAP, dirtyBitmap);
            return Syscalls.ioctl(n, KvmIoctls.KVM_GET_DIRTY_LOG, args.address(), args.asSlice(LOG_CAPTURE));
        }));
    }

    /**
     * {@code KVM_ENABLE_CAP} on the VM ({@code kvm_vm_ioctl_enable_cap_generic}, then the
     * architecture's {@code kvm_vm_ioctl_enable_cap}): enables {@code capability} with
     * {@code flags} and {@code args[0] = args0} (the other arguments 0); returns 0.
     * Errors: those of the capability, {@code -EINVAL} for one the kernel does not know.
     */
    IoctlResult<Integer> enableCap(int capability, int flags, long args0) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cap = arena.allocate(KvmStructs.KVM_ENABLE_CAP);
            // Native memory: zeroed by allocate (args[1..3], pad); the kernel copies it in during the call.
            cap.set(ValueLayout.JAVA_INT, CAP_CAP, capability);
            cap.set(ValueLayout.JAVA_INT, CAP_FLAGS, flags);
            cap.set(ValueLayout.JAVA_LONG, CAP_ARGS, args0);
            return IoctlResult.ofKernelReturn(fd.ioctl(KvmIoctls.KVM_ENABLE_CAP, cap.address()));
        }
    }

    /**
     * {@code KVM_CLEAR_DIRTY_LOG} ({@code kvm_vm_ioctl_clear_dirty_log}): clears, in the slot's
     * bitmap, the dirty bits the user bitmap at {@code dirtyBitmap} names for pages
     * {@code firstPage ..} and re-arms their tracking; returns 0. Errors in the kernel's check
     * order: {@code -EINVAL} (slot id), {@code -EINVAL} (first_page & 63), {@code -ENOENT},
     * {@code -EINVAL} (range), {@code -EFAULT} (copy_from_user of the user bitmap).
     * TLA+: ClearBegin, ClearBits, ReArmPage, HarvestEnd.
     */
    IoctlResult<Integer> clearDirtyLog(int slot, int numPages, long firstPage, long dirtyBitmap) {
        MemorySegment args = spareClearArgs.getAndSet(null);
        if (args == null) {
            try (Arena arena = Arena.ofConfined()) {
                return clearDirtyLog(slot, numPages, firstPage, dirtyBitmap, arena.allocate(CLEAR_ARGS));
            }
        }
        try {
            return clearDirtyLog(slot, numPages, firstPage, dirtyBitmap, args);
        } finally {
            spareClearArgs.set(args);
        }
    }

    private IoctlResult<Integer> clearDirtyLog(int slot, int numPages, long firstPage, long dirtyBitmap,
                                               MemorySegment args) {
        return IoctlResult.ofKernelReturn(fd.call(n -> {
            // Native memory: args (kvm_clear_dirty_log + errno) is not freed before fd.close(), which waits for us.
            args.set(ValueLayout.JAVA_INT, CLEAR_SLOT, slot);
            args.set(ValueLayout.JAVA_INT, CLEAR_NUM_PAGES, numPages);
            args.set(ValueLayout.JAVA_LONG, CLEAR_FIRST_PAGE, firstPage);
            args.set(ValueLayout.JAVA_LONG, CLEAR_BITMAP, dirtyBitmap);
            return Syscalls.ioctl(n, KvmIoctls.KVM_CLEAR_DIRTY_LOG, args.address(), args.asSlice(CLEAR_CAPTURE));
        }));
    }

    /**
     * {@code KVM_RESET_DIRTY_RINGS} ({@code kvm_vm_ioctl_reset_dirty_pages}): zeroes the harvested
     * prefix of every vCPU's ring, re-arms tracking of those pages, flushes TLBs and returns how
     * many entries it reset. Errors: {@code -EINVAL} without a ring. TLA+: ResetEntry, ResetEnd.
     */
    IoctlResult<Integer> resetDirtyRings() {
        return IoctlResult.ofKernelReturn(fd.ioctl(KvmIoctls.KVM_RESET_DIRTY_RINGS, 0));
    }

    /**
     * {@code KVM_CREATE_VCPU}: returns vCPU {@code id} with its {@code kvm_run} page mapped
     * ({@code kvmRunSize} bytes from {@link Kvm#vcpuMmapSize()}). Errors: {@code -EINVAL} (id out
     * of range), {@code -EEXIST}, those of {@code mmap}.
     */
    IoctlResult<VcpuFd> createVcpu(int id, long kvmRunSize) {
        long r = fd.ioctl(KvmIoctls.KVM_CREATE_VCPU, id);
        if (r < 0) {
            return IoctlResult.err(Errno.fromKernelReturn(r));
        }
        OwnedFd vcpu = new OwnedFd((int) r);
        long run = vcpu.mmapShared(kvmRunSize);
        if (run < 0) {
            vcpu.close();
            return IoctlResult.err(Errno.fromKernelReturn(run));
        }
        return IoctlResult.ok(new VcpuFd(id, vcpu, run, kvmRunSize));
    }

    /** Closes the VM fd; the kernel destroys the VM once its vCPU fds are closed too. Idempotent. */
    @Override
    public void close() {
        fd.close();
        arena.close();
    }
}
