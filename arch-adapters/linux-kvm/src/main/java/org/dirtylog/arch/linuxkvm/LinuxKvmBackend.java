package org.dirtylog.arch.linuxkvm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;

/**
 * {@code linux-kvm}: the host kernel's KVM through {@code /dev/kvm}, driven with the Foreign
 * Function &amp; Memory API. The kit certifies the kernel itself: every ioctl here is the real
 * one, every guest write is a real store of an x86 guest through the kernel's MMU.
 */
public final class LinuxKvmBackend implements DirtyLogBackend {

    /** The name users pass to {@code --backend}. */
    public static final String NAME = "linux-kvm";

    private static final EnumSet<Capability> ALWAYS = EnumSet.of(Capability.GET_DIRTY_LOG, Capability.MEMSLOT_MOVE,
            Capability.GUEST_WRITES, Capability.RANDOM_WRITES, Capability.SEQUENTIAL_WRITES);

    private final Path device;
    // Asked once, on first use: what the kernel behind the device reports.
    private volatile Capabilities capabilities;

    /** Returns the backend for {@code /dev/kvm}; touches nothing until asked. */
    public LinuxKvmBackend() {
        this(Path.of(Kvm.DEVICE));
    }

    /** Returns a backend for another device node (tests point it at missing or unreadable files). */
    LinuxKvmBackend(Path device) {
        this.device = device;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "the host kernel's KVM through /dev/kvm (FFM, x86-64 long-mode guest; KVM_GET_DIRTY_LOG, and"
                + " KVM_CLEAR_DIRTY_LOG with manual protect and the dirty ring where the kernel reports them)";
    }

    /**
     * Returns available when {@code /dev/kvm} opens read-write and answers API version 12; else
     * the cause, and for a permission problem the fix.
     */
    @Override
    public Availability availability() {
        return availability(device);
    }

    static Availability availability(Path device) {
        if (!Files.exists(device)) {
            return Availability.unavailable(device + " does not exist: load the kvm module (kvm_intel or kvm_amd)"
                    + " on a host with hardware virtualization, or pass the device into this container");
        }
        IoctlResult<Kvm> opened = Kvm.open(device.toString());
        if (opened instanceof IoctlResult.Ok<Kvm> ok) {
            ok.value().close();
            return Availability.AVAILABLE;
        }
        Errno e = opened.errnoOrNull();
        if (e.equals(Errno.EACCES) || e.equals(Errno.EPERM)) {
            return permissionDenied(device);
        }
        if (e.equals(Errno.EINVAL) || e.equals(Errno.ENOTTY)) {
            return Availability.unavailable(device + " does not speak KVM API version " + KvmIoctls.KVM_API_VERSION);
        }
        return Availability.unavailable("cannot open " + device + ": " + e);
    }

    private static Availability permissionDenied(Path device) {
        return Availability.unavailable("permission denied opening " + device + " as user "
                + System.getProperty("user.name") + ": add the user to group kvm"
                + " (sudo usermod -aG kvm $USER, then log in again) or run as root");
    }

    /**
     * Returns what the kernel offers: always GET, memslot moves and the guest's writes; manual
     * protect and INITIALLY_SET exactly as the bits of
     * {@code KVM_CHECK_EXTENSION(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)} on {@code /dev/kvm} say; the
     * dirty ring when {@code KVM_CHECK_EXTENSION} of {@code KVM_CAP_DIRTY_LOG_RING} or
     * {@code _ACQ_REL} is non-zero (asked once; none of them when the device cannot be opened).
     */
    @Override
    public Capabilities capabilities() {
        Capabilities c = capabilities;
        if (c == null) {
            c = new Capabilities(features(manualProtectMask(device), largestRing(device)), 0, GuestProgram.MAX_VCPUS, GuestProgram.KIT_BASE,
                    GuestProgram.KIT_LIMIT);
            capabilities = c;
        }
        return c;
    }

    /**
     * Returns the features of a kernel whose manual-protect mask is {@code mask} and whose
     * largest dirty ring is {@code ringBytes} (0: none).
     */
    static EnumSet<Capability> features(long mask, long ringBytes) {
        EnumSet<Capability> features = EnumSet.copyOf(ALWAYS);
        if (ringBytes > 0) {
            features.add(Capability.DIRTY_LOG_RING);
        }
        if ((mask & KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE) != 0) {
            features.add(Capability.MANUAL_DIRTY_LOG_PROTECT);
            if ((mask & KvmApi.KVM_DIRTY_LOG_INITIALLY_SET) != 0) {
                features.add(Capability.DIRTY_LOG_INITIALLY_SET);
            }
        }
        return features;
    }

    /** Returns {@code KVM_CHECK_EXTENSION(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)} on the system fd, 0 when unusable. */
    private static long manualProtectMask(Path device) {
        if (!Files.exists(device)) {
            return 0;
        }
        IoctlResult<Kvm> opened = Kvm.open(device.toString());
        if (!(opened instanceof IoctlResult.Ok<Kvm> ok)) {
            return 0;
        }
        try (Kvm kvm = ok.value()) {
            IoctlResult<Integer> mask = kvm.checkExtension(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
            return mask.isOk() ? mask.value() : 0;
        }
    }

    /** Returns the larger of {@code KVM_CHECK_EXTENSION(192)} and {@code (223)} on the system fd, 0 when unusable. */
    private static long largestRing(Path device) {
        if (!Files.exists(device)) {
            return 0;
        }
        IoctlResult<Kvm> opened = Kvm.open(device.toString());
        if (!(opened instanceof IoctlResult.Ok<Kvm> ok)) {
            return 0;
        }
        try (Kvm kvm = ok.value()) {
            long largest = 0;
            for (int cap : new int[] {KvmApi.KVM_CAP_DIRTY_LOG_RING, KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL}) {
                IoctlResult<Integer> bytes = kvm.checkExtension(cap);
                largest = Math.max(largest, bytes.isOk() ? bytes.value() : 0);
            }
            return largest;
        }
    }

    /**
     * {@code KVM_CREATE_VM}: returns a VM with only the backend's own memslot. Errors:
     * {@code -ENOENT} (no device), {@code -EACCES} (no permission), those of the kernel.
     */
    @Override
    public IoctlResult<BackendVm> createVm() {
        return LinuxKvmVm.create(device.toString());
    }
}
