package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.dirtylog.spi.Availability;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.IoctlResult;

/** Test helper: skips the calling test with the reason when {@code /dev/kvm} cannot be used here. */
final class KvmDevice {

    private KvmDevice() {
    }

    /** Skips the test unless {@code /dev/kvm} is usable; the skip message is the backend's reason. */
    static void assumeAvailable() {
        Availability a = new LinuxKvmBackend().availability();
        assumeTrue(a.available(), () -> "linux-kvm unavailable: " + a.reason());
    }

    /** Returns a fresh VM, skipping the test when {@code /dev/kvm} is unusable. */
    static BackendVm newVm() {
        assumeAvailable();
        IoctlResult<BackendVm> vm = new LinuxKvmBackend().createVm();
        return vm.value();
    }
}
