package org.dirtylog.conformance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a certificate was produced.
 *
 * @param jdk Java runtime version and vendor
 * @param os operating system name and architecture
 * @param kernel kernel release ({@code /proc/sys/kernel/osrelease} on Linux)
 * @param cpus processors available to the JVM
 */
public record Environment(String jdk, String os, String kernel, int cpus) {

    /** Returns the environment of this JVM. */
    public static Environment current() {
        String kernel;
        try {
            kernel = Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException | RuntimeException e) {
            kernel = System.getProperty("os.version");
        }
        return new Environment(System.getProperty("java.runtime.version") + " (" + System.getProperty("java.vendor") + ")",
                System.getProperty("os.name") + " " + System.getProperty("os.arch"), kernel,
                Runtime.getRuntime().availableProcessors());
    }
}
