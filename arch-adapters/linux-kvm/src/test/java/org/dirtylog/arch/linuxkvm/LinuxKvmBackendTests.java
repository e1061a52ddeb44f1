package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
    void theRingIsDeclaredExactlyWhenTheKernelReportsARingSize() {
        assertTrue(LinuxKvmBackend.features(0, 1 << 20).contains(Capability.DIRTY_LOG_RING));
        assertFalse(LinuxKvmBackend.features(0, 0).contains(Capability.DIRTY_LOG_RING));
        assertTrue(LinuxKvmBackend.features(0, 0).contains(Capability.SEQUENTIAL_WRITES));
    }

    @Test
    void aMissingDeviceDeclaresNoRing(@TempDir Path dir) {
        assertFalse(new LinuxKvmBackend(dir.resolve("kvm")).capabilities().has(Capability.DIRTY_LOG_RING));
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

    @Test
    void aUserWithoutPermissionIsToldToJoinGroupKvmOrRunAsRoot(@TempDir Path dir) throws Exception {
        KvmDevice.assumeAvailable();
        Path setpriv = Path.of("/usr/bin/setpriv");
        assumeTrue("root".equals(System.getProperty("user.name")) && Files.isExecutable(setpriv),
                "needs root and setpriv to run a child JVM as nobody");
        // The build's class folders and the local repository may not be readable by nobody: copy them.
        List<String> entries = new ArrayList<>();
        int n = 0;
        for (Class<?> c : List.of(LinuxKvmBackend.class, PrintAvailability.class, Availability.class)) {
            Path source = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path copy = dir.resolve("cp" + n++);
            try (Stream<Path> files = Files.walk(source)) {
                for (Path f : files.toList()) {
                    Path target = Files.isDirectory(source) ? copy.resolve(source.relativize(f).toString()) : copy;
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(f, target);
                    }
                }
            }
            entries.add(copy.toString());
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.toList()) {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(Files.isDirectory(f) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        String classpath = String.join(":", entries);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(setpriv.toString(), "--reuid=65534", "--regid=65534", "--clear-groups",
                java.toString(), "-Duser.home=/tmp", "--enable-native-access=ALL-UNNAMED", "-cp", classpath,
                PrintAvailability.class.getName())
                .redirectErrorStream(true).start();
        List<String> lines = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        assumeTrue(child.exitValue() == 0, () -> "child JVM as nobody could not run (classes not readable?): " + lines);
        assertEquals("permission denied opening /dev/kvm as user nobody: add the user to group kvm"
                + " (sudo usermod -aG kvm $USER, then log in again) or run as root", lines.get(0));
        assertEquals(Errno.EACCES.toString(), lines.get(1));
    }
}
