package org.dirtylog.arch.linuxkvm;

/** Child-process entry of {@code LinuxKvmBackendTests}: prints the backend's availability and createVm errno. */
final class PrintAvailability {

    private PrintAvailability() {
    }

    public static void main(String[] args) {
        LinuxKvmBackend backend = new LinuxKvmBackend();
        System.out.println(backend.availability().reason());
        System.out.println(backend.createVm().errnoOrNull());
    }
}
