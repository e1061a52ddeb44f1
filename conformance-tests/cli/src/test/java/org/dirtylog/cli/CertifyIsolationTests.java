package org.dirtylog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backend certified by {@code ./dirtylog certify} runs in a JVM of its own: whatever it does to
 * that JVM becomes an ERROR of the rule that was running, the next rule runs in a new JVM, and the
 * command exits 1. Each backend here is a real jar compiled now, misbehaving only in
 * KVM_GET_DIRTY_LOG on a slot id past the slot count, which among GET-01, GET-05 and GET-06 only
 * GET-05 asks for.
 */
class CertifyIsolationTests {

    private static final String RULES = "GET-01,GET-05,GET-06";

    /**
     * Certifies backend {@code name} of {@code jar}, misbehaving in GET-05, and returns the
     * certificate: GET-05 is an ERROR whose message holds {@code messageParts}, and GET-06 ran
     * in a new JVM and passed.
     */
    private static JsonNode caughtInGet05(Path dir, String name, BackendJar jar, Map<String, String> props,
                                          String... messageParts) throws IOException {
        Path jarFile = jar.build(dir);
        Path report = dir.resolve("report");
        Cli.Run r = Cli.withProperties(props, () -> Cli.certify(report, "--backend-jar", jarFile.toString(), "--backend", name,
                "--seed", "1", "--rules", RULES));
        assertEquals(1, r.exit(), r::toString);
        JsonNode c = Cli.json(report.resolve("certificate.json"));
        assertFalse(c.get("certified").asBoolean());
        assertEquals("PASS", Cli.rule(c, "GET-01").get("verdict").asText(), r::toString);
        JsonNode get05 = Cli.rule(c, "GET-05");
        assertEquals("ERROR", get05.get("verdict").asText(), r::toString);
        for (String part : messageParts) {
            assertTrue(get05.get("message").asText().contains(part), () -> "'" + part + "' not in: " + get05.get("message"));
        }
        assertTrue(r.out().contains("(a new JVM, pid "), r::toString);
        assertEquals("PASS", Cli.rule(c, "GET-06").get("verdict").asText(), "the rule after the broken one ran in a new JVM");
        return c;
    }

    @Test
    void systemExitIsAnErrorNamingTheCallerAndTheRule(@TempDir Path dir) throws IOException {
        caughtInGet05(dir, "exits", BackendJar.named("exits").misbehaveIn("getDirtyLog", "System.exit(0);"), Map.of(),
                "the backend called System.exit(0) at com.thirdparty.", ", while GET-05 ran");
    }

    @Test
    void runtimeHaltIsAnErrorWithTheExitCode(@TempDir Path dir) throws IOException {
        caughtInGet05(dir, "halts", BackendJar.named("halts").misbehaveIn("getDirtyLog", "Runtime.getRuntime().halt(3);"),
                Map.of(), "the JVM ended with exit code 3 without calling System.exit", ", while GET-05 ran");
    }

    @Test
    void aNativeCrashThroughFfmIsAnErrorNamingTheSignalAndTheCrashReportIsKept(@TempDir Path dir) throws IOException {
        caughtInGet05(dir, "segfaults", BackendJar.named("segfaults").misbehaveIn("getDirtyLog",
                "java.lang.foreign.MemorySegment.ofAddress(8).reinterpret(8).set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 1L);"),
                Map.of(), "the JVM crashed: SIGSEGV", ", while GET-05 ran");
        String output = Files.readString(dir.resolve("report/output.log"));
        assertTrue(output.contains("A fatal error has been detected") && output.contains("(the JVM's crash report)"), output);
    }

    @Test
    void anExhaustedHeapIsAnError(@TempDir Path dir) throws IOException {
        caughtInGet05(dir, "exhausts", BackendJar.named("exhausts").misbehaveIn("getDirtyLog",
                "return new long[Integer.MAX_VALUE];"), Map.of(), "the JVM ran out of memory (java.lang.OutOfMemoryError",
                ", while GET-05 ran");
    }

    @Test
    void aDeadlockTimesOutAndTheNextRuleRunsInANewJvm(@TempDir Path dir) throws IOException {
        BackendJar jar = BackendJar.named("deadlocks").members("""
                    static final Object A = new Object();
                    static final Object B = new Object();
                    static void deadlock() throws InterruptedException {
                        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
                        synchronized (A) {
                            new Thread(() -> { synchronized (B) { held.countDown(); synchronized (A) { } } }).start();
                            held.await();
                            synchronized (B) { }
                        }
                    }
                """).misbehaveIn("getDirtyLog", "deadlock();");
        caughtInGet05(dir, "deadlocks", jar, Map.of(), "timed out after 10.0 s");
    }

    @Test
    void aJvmThatStopsTalkingIsKilledByTheWatchdog(@TempDir Path dir) throws IOException {
        BackendJar jar = BackendJar.named("stops").misbehaveIn("getDirtyLog",
                "new ProcessBuilder(\"kill\", \"-STOP\", Long.toString(ProcessHandle.current().pid())).start().waitFor();");
        caughtInGet05(dir, "stops", jar, Map.of("dirtylog.watchdog", "3"), "the JVM stopped responding (silent for 3 s)",
                ", while GET-05 ran");
    }

    /** Certifies a backend whose metadata is broken and returns the certificate: every rule an ERROR naming the call. */
    private static JsonNode metadataBroken(Path dir, BackendJar jar, String name, Map<String, String> props, String message)
            throws IOException {
        Path jarFile = jar.build(dir);
        Path report = dir.resolve("report");
        Cli.Run r = Cli.withProperties(props, () -> Cli.certify(report, "--backend-jar", jarFile.toString(), "--backend", name,
                "--seed", "1", "--rules", "GET-01,GET-02"));
        assertEquals(1, r.exit(), r::toString);
        JsonNode c = Cli.json(report.resolve("certificate.json"));
        assertFalse(c.get("certified").asBoolean());
        for (String id : new String[] {"GET-01", "GET-02"}) {
            JsonNode rule = Cli.rule(c, id);
            assertEquals("ERROR", rule.get("verdict").asText(), r::toString);
            assertTrue(rule.get("message").asText().contains(message), () -> rule.get("message") + " lacks " + message);
        }
        return c;
    }

    @Test
    void aNullDescriptionIsAnErrorOfEveryRule(@TempDir Path dir) throws IOException {
        metadataBroken(dir, BackendJar.named("no-description").method("description",
                "public String description() { return null; }"), "no-description", Map.of(),
                "backend no-description: description() returned null");
    }

    @Test
    void anAvailabilityThatThrowsIsAnErrorOfEveryRuleWithItsMessage(@TempDir Path dir) throws IOException {
        metadataBroken(dir, BackendJar.named("throws-availability").method("availability",
                "public org.dirtylog.spi.Availability availability() { throw new IllegalStateException(\"no licence server\"); }"),
                "throws-availability", Map.of(),
                "availability() threw java.lang.IllegalStateException: no licence server");
    }

    @Test
    void anAvailabilityThatNeverReturnsIsBoundedByTheMetadataTimeout(@TempDir Path dir) throws IOException {
        metadataBroken(dir, BackendJar.named("hangs-availability").method("availability",
                "public org.dirtylog.spi.Availability availability() { while (true) { java.util.concurrent.locks.LockSupport.park(); } }"),
                "hangs-availability", Map.of("dirtylog.metadata-timeout", "3"), "availability() did not return within 3 s");
    }

    @Test
    void nullCapabilitiesAreAnErrorOfEveryRule(@TempDir Path dir) throws IOException {
        JsonNode c = metadataBroken(dir, BackendJar.named("no-capabilities").method("capabilities",
                "public org.dirtylog.spi.Capabilities capabilities() { return null; }"), "no-capabilities", Map.of(),
                "capabilities() returned null");
        assertTrue(c.get("capabilities").isNull());
    }

    @Test
    void capabilitiesThatHaltTheJvmAreAnErrorOfEveryRule(@TempDir Path dir) throws IOException {
        metadataBroken(dir, BackendJar.named("halts-capabilities").method("capabilities",
                "public org.dirtylog.spi.Capabilities capabilities() { Runtime.getRuntime().halt(5); return null; }"),
                "halts-capabilities", Map.of(), "capabilities() ended its JVM: the JVM ended with exit code 5");
    }

    @Test
    void noBackendCodeRunsInTheCommandsJvm(@TempDir Path dir) throws IOException {
        Path marker = dir.resolve("constructed-in");
        Path jar = BackendJar.named("marks").members("""
                    public CLASS() throws java.io.IOException {
                        java.nio.file.Files.writeString(java.nio.file.Path.of("%s"), ProcessHandle.current().pid() + "\\n",
                            java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                    }
                """.formatted(marker.toString().replace("\\", "\\\\"))).build(dir);
        Cli.Run list = Cli.run("backends", "--backend-jar", jar.toString());
        assertEquals(0, list.exit(), list::toString);
        Cli.Run r = Cli.certify(dir.resolve("report"), "--backend-jar", jar.toString(), "--backend", "marks", "--seed", "1",
                "--rules", "GET-01");
        assertEquals(1, r.exit(), r::toString);
        String self = Long.toString(ProcessHandle.current().pid());
        var pids = Files.readAllLines(marker);
        assertTrue(pids.size() >= 3, "listed twice and certified once: " + pids);
        assertFalse(pids.contains(self), "the constructor ran in the command's own JVM " + self + ": " + pids);
    }
}
