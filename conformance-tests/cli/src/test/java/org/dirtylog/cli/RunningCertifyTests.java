package org.dirtylog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./dirtylog certify} as a process of its own, caught while its child JVM runs a rule
 * that never returns: Ctrl-C, a second run into the same folder, and the parent dying outright.
 */
class RunningCertifyTests {

    /** Bounds every wait on the running command; reached only when it is broken, never to decide a verdict. */
    private static final long PATIENCE_SECONDS = 120;

    /** A started {@code ./dirtylog certify} whose child JVM exists. */
    private record Running(Process parent, ProcessHandle child, BlockingQueue<String> out, Path report) {
    }

    /**
     * Starts {@code java ... org.dirtylog.cli.DirtyLog certify} on a backend whose every VM
     * deadlocks in its first KVM_GET_DIRTY_LOG, and returns once the parent printed its
     * certify line and its certifying child JVM is running.
     */
    private static Running start(Path dir) throws Exception {
        BackendJar b = BackendJar.named("hangs").members("""
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
                """).method("createVm", """
                    public org.dirtylog.spi.IoctlResult<org.dirtylog.spi.BackendVm> createVm() {
                        org.dirtylog.spi.BackendVm vm = d.createVm().value();
                        return org.dirtylog.spi.IoctlResult.ok((org.dirtylog.spi.BackendVm) java.lang.reflect.Proxy.newProxyInstance(
                            getClass().getClassLoader(), new Class<?>[] {org.dirtylog.spi.BackendVm.class}, (p, m, a) -> {
                                if (m.getName().equals("getDirtyLog")) {
                                    deadlock();
                                }
                                try {
                                    return m.invoke(vm, a);
                                } catch (java.lang.reflect.InvocationTargetException e) {
                                    throw e.getCause();
                                }
                            }));
                    }
                """);
        Path jar = b.build(dir);
        Path report = dir.resolve("report");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process parent = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), DirtyLog.class.getName(), "certify", "--backend-jar", jar.toString(),
                "--backend", "hangs", "--rules", "GET-01,GET-02", "--seed", "1", "--report", report.toString())
                .redirectError(dir.resolve("stderr.txt").toFile()).start();
        BlockingQueue<String> out = new LinkedBlockingQueue<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    out.add(line);
                }
            } catch (IOException ignored) {
                // The parent ended.
            }
        });
        String first = out.poll(PATIENCE_SECONDS, TimeUnit.SECONDS);
        assertTrue(first != null && first.startsWith("certify hangs ("), () -> "first line: " + first);
        // The certifying child starts right after that line; the listing child has ended before it.
        ProcessHandle child = null;
        for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PATIENCE_SECONDS); child == null
                && System.nanoTime() < deadline; ) {
            child = parent.toHandle().children().filter(h -> h.info().commandLine().orElse("").contains("ChildMain"))
                    .findFirst().orElse(null);
            if (child == null) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
        }
        assertTrue(child != null, "the certifying child JVM started");
        return new Running(parent, child, out, report);
    }

    @Test
    void ctrlCSaysItWasInterruptedKillsTheChildAndLeavesAReportThatIsNotCertified(@TempDir Path dir) throws Exception {
        Running run = start(dir);
        if (ignoresSigint(run.parent().pid())) {
            run.parent().destroyForcibly().waitFor(PATIENCE_SECONDS, TimeUnit.SECONDS);
            Assumptions.assumeTrue(false, "SIGINT is ignored in the certify process, as in every process a "
                    + "non-interactive shell starts in the background (nohup, '&'): no Ctrl-C can reach it, so none "
                    + "is tested here; run the tests in the foreground to test it");
        }
        signal(run.parent().pid(), "INT");
        assertTrue(run.parent().waitFor(PATIENCE_SECONDS, TimeUnit.SECONDS), "the parent ended");
        assertEquals(130, run.parent().exitValue());
        run.child().onExit().get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        assertFalse(run.child().isAlive(), "the child JVM was killed");
        List<String> err = Files.readAllLines(dir.resolve("stderr.txt"));
        assertEquals(1, err.size(), err::toString);
        assertTrue(err.get(0).startsWith("dirtylog certify: interrupted by the user") && err.get(0).contains("not certified"),
                err::toString);
        JsonNode c = Cli.json(run.report().resolve("certificate.json"));
        assertFalse(c.get("certified").asBoolean());
        assertTrue(c.get("interrupted").asBoolean());
        assertTrue(c.get("reason").asText().startsWith("not certified: interrupted by the user"), c.get("reason").asText());
        List<String> out = new ArrayList<>();
        run.out().drainTo(out);
        assertTrue(out.stream().noneMatch(l -> l.contains("certified ")), "no summary claims anything: " + out);
    }

    @Test
    void aSecondRunIntoTheSameFolderIsRefusedWhileTheFirstRuns(@TempDir Path dir) throws Exception {
        Running run = start(dir);
        try {
            Cli.Run second = Cli.certify(run.report(), "--backend", "reference-x86", "--rules", "GET-01");
            assertEquals(2, second.exit(), second::toString);
            assertEquals(1, second.err().lines().count(), second::toString);
            assertTrue(second.err().contains("another certify run is writing to " + run.report()), second::toString);
        } finally {
            if (ignoresSigint(run.parent().pid())) {
                run.parent().destroyForcibly();
            } else {
                signal(run.parent().pid(), "INT");
            }
            run.parent().waitFor(PATIENCE_SECONDS, TimeUnit.SECONDS);
        }
    }

    @Test
    void theChildEndsWhenItsParentIsKilledAndLeavesNoTemporaryFolder(@TempDir Path dir) throws Exception {
        Running run = start(dir);
        String command = run.child().info().commandLine().orElseThrow();
        Matcher crashDir = Pattern.compile("-Ddirtylog\\.child\\.crash-dir=(\\S+)").matcher(command);
        assertTrue(crashDir.find(), command);
        assertTrue(Files.isDirectory(Path.of(crashDir.group(1))));
        signal(run.parent().pid(), "KILL");
        assertTrue(run.parent().waitFor(PATIENCE_SECONDS, TimeUnit.SECONDS));
        run.child().onExit().get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        assertFalse(run.child().isAlive(), "the child noticed its parent's end");
        assertFalse(Files.exists(Path.of(crashDir.group(1))), "the child removed its empty crash-report folder");
    }

    /**
     * Returns true when process {@code pid} ignores SIGINT ({@code SigIgn} of /proc/PID/status):
     * a shell starts background commands so, the JVM then installs no handler, and kill -INT does
     * nothing. The first loaded run of the whole test command, started in the background, failed
     * here with the run's own exit 1 instead of 130.
     */
    private static final long SIGINT_BIT = 1L << (2 - 1); // signal 2, bit 1 of the mask

    private static boolean ignoresSigint(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseUnsignedLong(line.substring("SigIgn:".length()).strip(), 16) & SIGINT_BIT) != 0;
            }
        }
        return false;
    }

    private static void signal(long pid, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertEquals(0, kill.waitFor(), "kill -" + signal);
    }
}
