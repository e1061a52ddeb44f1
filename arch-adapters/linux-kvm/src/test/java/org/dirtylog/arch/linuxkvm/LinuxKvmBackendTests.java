package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinuxKvmBackendTests {

    @Test
    void theServiceLoaderFindsTheBackendUnderItsName() {
        List<String> names = ServiceLoader.load(DirtyLogBackend.class).stream()
                .map(p -> p.get().name()).toList();
        assertTrue(names.contains("linux-kvm"), names::toString);
    }

    @Test
    void capabilitiesExcludeTheRfcIoctlsAndKeepTheKitAboveTheBackendMemslot() {
        Capabilities c = new LinuxKvmBackend().capabilities();
        assertEquals(0, c.userDirtyLogGeneration());
        assertFalse(c.has(Capability.USER_DIRTY_LOG));
        assertTrue(c.has(Capability.GET_DIRTY_LOG) && c.has(Capability.MEMSLOT_MOVE)
                && c.has(Capability.GUEST_WRITES) && c.has(Capability.RANDOM_WRITES));
        assertTrue(c.guestPhysBase() >= GuestProgram.PRIVATE_SIZE);
    }

    @Test
    void aMissingDeviceMakesTheBackendUnavailableAndSaysWhy(@TempDir Path dir) {
        Path missing = dir.resolve("kvm");
        Availability a = new LinuxKvmBackend(missing).availability();
        assertFalse(a.available());
        assertTrue(a.reason().startsWith(missing + " does not exist"), a.reason());
    }

    @Test
    void aDeviceThatIsNotKvmMakesTheBackendUnavailable() {
        Availability a = new LinuxKvmBackend(Path.of("/dev/null")).availability();
        assertFalse(a.available());
        assertTrue(a.reason().contains("KVM API version 12"), a.reason());
    }

    @Test
    void createVmOnAMissingDeviceReturnsEnoentInsteadOfThrowing(@TempDir Path dir) {
        assertEquals(Errno.ENOENT, new LinuxKvmBackend(dir.resolve("kvm")).createVm().errnoOrNull());
    }
}
