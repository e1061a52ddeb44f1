package org.dirtylog.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * How a check run is bounded, where it writes and how it ends: the {@code --workers} limit, the
 * report folder under the kit root wherever check runs from, one run per report folder, and a
 * real check process (its own JVM with its real TLC child) stopped by Ctrl-C or by SIGKILL.
 * The models come from {@code src/test/resources/check-root}: {@code counter} finishes at once,
 * {@code endless} never does.
 */
class CheckRunTests {

    private static final Path CHECK_ROOT = Path.of("src/test/resources/check-root").toAbsolutePath();
    // Bounds the wait for facts that take seconds; reaching it means the fact never came.
    private static final Duration PATIENCE = Duration.ofSeconds(120);
    private static final String STACK_FRAME = "\tat ";
    private static final String IGNORED_SIGINT = "SIGINT is ignored in this process tree (as in background jobs "
            + "of a non-interactive shell), so the check process cannot receive Ctrl-C here";

    private record Run(int status, String out, String err) {
    }

    private static Run check(Path cwd, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = CheckCommand.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), cwd);
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void workersOutsideOneToTheLimitExitTwoWithOneLineBeforeAnyModelRuns(@TempDir Path report) {
        for (String workers : List.of("100000", Integer.toString(CheckCommand.MAX_WORKERS + 1), "0", "-3", "2.5",
                "1e3", "", "99999999999")) {
            Run run = check(CHECK_ROOT, "--model", "counter", "--workers", workers, "--report", report.toString());
            assertEquals(2, run.status(), workers + ": " + run.out() + run.err());
            assertEquals(1, run.err().lines().count(), run.err());
            assertTrue(run.err().contains("from 1 to " + CheckCommand.MAX_WORKERS), run.err());
            assertFalse(run.out().contains("TLC running"), workers + ": a model ran: " + run.out());
        }
    }

    @Test
    void theWorkerLimitItselfIsAccepted(@TempDir Path report) {
        Run run = check(CHECK_ROOT, "--model", "counter", "--workers", Integer.toString(CheckCommand.MAX_WORKERS),
                "--report", report.toString());
        assertEquals(0, run.status(), run.out() + run.err());
    }

    @Test
    void withoutWorkersModelsExpectedToHoldGetOnePerCpuAndCounterexamplesOne(@TempDir Path report) throws IOException {
        Run run = check(CHECK_ROOT, "--model", "counter", "--report", report.toString());
        assertEquals(0, run.status(), run.out() + run.err());
        assertTrue(run.out().contains(CheckCommand.AUTO_WORKERS + " TLC worker(s) for models expected to hold, "
                + "1 for counterexamples"), run.out());
        JsonNode counter = new ObjectMapper().readTree(report.resolve("models.json").toFile()).get("models").get(0);
        assertEquals(CheckCommand.AUTO_WORKERS, counter.get("workers").asInt(), counter.toString());

        ModelManifest kit = ModelManifest.load(ModelManifest.findModelsDir(Path.of("")).orElseThrow());
        ModelEntry holds = kit.byName("x86-reference").orElseThrow();
        ModelEntry fails = kit.byName("x86-rfc").orElseThrow();
        assertEquals(CheckCommand.AUTO_WORKERS, CheckCommand.workersFor(holds, 0));
        assertEquals(1, CheckCommand.workersFor(fails, 0), "a counterexample is searched by one worker: shortest, same each run");
        assertEquals(3, CheckCommand.workersFor(fails, 3), "--workers applies to every model");
        assertEquals(3, CheckCommand.workersFor(holds, 3));
    }

    @Test
    void withoutReportTheResultsGoUnderTheKitRootWhereverCheckRunsFrom(@TempDir Path tmp) throws IOException {
        Path root = copyTree(CHECK_ROOT, tmp.resolve("kit"));
        Path models = root.resolve("spec/models");
        for (Path cwd : List.of(root, root.resolve("spec"), models.resolve("runs"))) {
            Path json = root.resolve("dirtylog-report/check/models.json");
            Files.deleteIfExists(json);
            Run run = check(cwd, "--model", "counter");
            assertEquals(0, run.status(), cwd + ": " + run.out() + run.err());
            assertTrue(Files.isRegularFile(json), "run from " + cwd + ": no " + json);
            assertTrue(run.out().contains("report: " + json), run.out());
            try (Stream<Path> files = Files.walk(root.resolve("spec"))) {
                assertEquals(List.of(), files.filter(p -> p.getFileName().toString().startsWith("dirtylog-report"))
                        .toList(), "run from " + cwd);
            }
        }
    }

    @Test
    void aReportFolderThatIsAFileExitsTwoWithOneLine(@TempDir Path tmp) throws IOException {
        Path file = Files.writeString(tmp.resolve("taken"), "a file, not a folder");
        Run run = check(CHECK_ROOT, "--model", "counter", "--report", file.toString());
        assertEquals(2, run.status(), run.out() + run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        assertFalse(run.out().contains("TLC running"), run.out());
    }

    @Test
    void aSecondRunIntoAReportFolderInUseIsRefusedWithOneLine(@TempDir Path report) throws IOException {
        try (FolderLock held = FolderLock.tryAcquire(report.resolve(CheckCommand.LOCK_FILE)).orElseThrow()) {
            Run refused = check(CHECK_ROOT, "--model", "counter", "--report", report.toString());
            assertEquals(2, refused.status(), refused.out() + refused.err());
            assertEquals(1, refused.err().lines().count(), refused.err());
            assertTrue(refused.err().contains("another check is writing into " + report), refused.err());
            assertFalse(refused.out().contains("TLC running"), refused.out());
            assertFalse(Files.exists(report.resolve(CheckCommand.MODELS_JSON)));
        }
        assertEquals(0, check(CHECK_ROOT, "--model", "counter", "--report", report.toString()).status(),
                "the folder is free again once the first run released it");
    }

    @Test
    void modelsJsonSaysTheRunWasNotInterruptedWhenEveryModelRan(@TempDir Path report) throws IOException {
        assertEquals(0, check(CHECK_ROOT, "--model", "counter", "--report", report.toString()).status());
        JsonNode json = new ObjectMapper().readTree(report.resolve(CheckCommand.MODELS_JSON).toFile());
        assertFalse(json.get("interrupted").asBoolean());
        assertEquals("counter", json.get("models").get(0).get("model").asText());
        assertFalse(Files.exists(report.resolve("work")), "the work folder is removed after the run");
    }

    @Test
    void ctrlCStopsTlcWritesTheModelsDoneMarkedInterruptedAndExits130(@TempDir Path report) throws Exception {
        assumeTrue(commandAvailable("setsid"), "setsid (util-linux) is needed to give the check its own process "
                + "group, as a terminal's foreground job has, so that SIGINT reaches it and TLC together");
        try (CheckProcess check = CheckProcess.start(true, "--model", "counter", "--model", "endless",
                "--model", "counter-again", "--report", report.toString())) {
            ProcessHandle tlc = check.awaitTlcOf("[2/3] endless: TLC running");
            assumeFalse(check.ignoresSigint(), IGNORED_SIGINT);

            Run second = check(CHECK_ROOT, "--model", "counter", "--report", report.toString());
            assertEquals(2, second.status(), "a second run into the folder of a running one: " + second.err());
            assertEquals(1, second.err().lines().count(), second.err());
            assertTrue(second.err().contains("another check is writing into"), second.err());

            signal("-INT", "--", "-" + check.pid());
            assertInterruptedAfterCounter(check, tlc, report);
        }
    }

    @Test
    void sigintToTheCheckProcessAloneStopsItsTlcChildTheSameWay(@TempDir Path report) throws Exception {
        try (CheckProcess check = CheckProcess.start(false, "--model", "counter", "--model", "endless",
                "--model", "counter-again", "--report", report.toString())) {
            ProcessHandle tlc = check.awaitTlcOf("[2/3] endless: TLC running");
            assumeFalse(check.ignoresSigint(), IGNORED_SIGINT);
            signal("-INT", Long.toString(check.pid()));
            assertInterruptedAfterCounter(check, tlc, report);
        }
    }

    private static void assertInterruptedAfterCounter(CheckProcess check, ProcessHandle tlc, Path report)
            throws Exception {
        int status = check.awaitExit();
        String out = check.out();
        String err = check.err();
        assertEquals(CheckCommand.INTERRUPTED, status, out + err);
        assertEquals(List.of("dirtylog check: interrupted after 1 of 3 model(s); report: "
                + report.resolve(CheckCommand.MODELS_JSON)), err.lines().toList());
        assertFalse(out.contains("[3/3]"), "the next model started: " + out);
        assertFalse(out.contains("[2/3] endless: error") || out.contains("expected holds"),
                "the stopped model got a verdict: " + out);
        assertFalse(out.contains(STACK_FRAME) || err.contains(STACK_FRAME), out + err);
        JsonNode json = new ObjectMapper().readTree(report.resolve(CheckCommand.MODELS_JSON).toFile());
        assertTrue(json.get("interrupted").asBoolean(), json.toString());
        assertEquals(1, json.get("models").size(), json.toString());
        assertEquals("counter", json.get("models").get(0).get("model").asText());
        assertTrue(json.get("models").get(0).get("ok").asBoolean());
        awaitExit(tlc);
        assertFalse(Files.exists(report.resolve("work")), "the interrupted run left its work folder");
    }

    @Test
    void killingTheCheckProcessWithSigkillTakesItsTlcChildDown(@TempDir Path report) throws Exception {
        try (CheckProcess check = CheckProcess.start(false, "--model", "endless", "--report", report.toString())) {
            ProcessHandle tlc = check.awaitTlcOf("[1/1] endless: TLC running");
            check.process.destroyForcibly();
            check.awaitExit();
            awaitExit(tlc);
        }
    }

    /** Waits until {@code process} has exited; failing the test when it outlives {@link #PATIENCE}. */
    private static void awaitExit(ProcessHandle process) throws InterruptedException, ExecutionException {
        try {
            process.onExit().get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            process.destroyForcibly();
            throw new AssertionError("TLC (pid " + process.pid() + ") still runs " + PATIENCE.toSeconds()
                    + " s after its check process ended");
        }
    }

    /** Polls {@code fact} until it holds; fails after {@link #PATIENCE}. */
    private static void await(String what, BooleanSupplier fact) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!fact.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + PATIENCE.toSeconds() + " s: " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    private static void signal(String... killArguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("kill"));
        command.addAll(List.of(killArguments));
        Process kill = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, kill.waitFor(), String.join(" ", command) + ": " + output);
    }

    private static boolean commandAvailable(String name) {
        String path = System.getenv("PATH");
        return path != null && Stream.of(path.split(java.io.File.pathSeparator))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, name)));
    }

    private static Path copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return to;
    }

    /** {@code CheckCommand.main} in a JVM of its own, run in {@code check-root}, output collected. */
    private static final class CheckProcess implements AutoCloseable {
        // Bit n - 1 of a /proc signal mask stands for signal n; SIGINT is 2.
        private static final long SIGINT_BIT = 1L << 1;
        final Process process;
        private final StringBuffer out = new StringBuffer();
        private final StringBuffer err = new StringBuffer();
        private final Thread outPump;
        private final Thread errPump;

        private CheckProcess(Process process) {
            this.process = process;
            this.outPump = pump(process.getInputStream(), out);
            this.errPump = pump(process.getErrorStream(), err);
        }

        /** Starts the check; with {@code ownGroup} in a new session, so that it leads its process group. */
        static CheckProcess start(boolean ownGroup, String... args) throws IOException {
            List<String> command = new ArrayList<>();
            if (ownGroup) {
                command.add("setsid");
            }
            command.addAll(List.of(TlcRunner.javaBinary(), "-cp", System.getProperty("java.class.path"),
                    CheckCommand.class.getName()));
            command.addAll(List.of(args));
            return new CheckProcess(new ProcessBuilder(command).directory(CHECK_ROOT.toFile()).start());
        }

        long pid() {
            return process.pid();
        }

        /** Returns whether the check process ignores SIGINT (it inherits that from whoever started the tests). */
        boolean ignoresSigint() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
                if (line.startsWith("SigIgn:")) {
                    return (Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16) & SIGINT_BIT) != 0;
                }
            }
            return false;
        }

        /** Waits for {@code line} on standard output, then for the TLC child, and returns it. */
        ProcessHandle awaitTlcOf(String line) {
            await("'" + line + "' printed", () -> out.toString().contains(line) || !process.isAlive());
            assertTrue(process.isAlive(), "the check ended early: " + out + err);
            AtomicReference<ProcessHandle> child = new AtomicReference<>();
            await("TLC started by pid " + pid(), () -> {
                process.descendants().findFirst().ifPresent(child::set);
                return child.get() != null;
            });
            return child.get();
        }

        int awaitExit() throws InterruptedException {
            if (!process.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
                throw new AssertionError("the check did not exit within " + PATIENCE.toSeconds() + " s: " + out + err);
            }
            outPump.join();
            errPump.join();
            return process.exitValue();
        }

        String out() {
            return out.toString();
        }

        String err() {
            return err.toString();
        }

        private static Thread pump(InputStream from, StringBuffer into) {
            return Thread.ofPlatform().daemon().start(() -> {
                byte[] buffer = new byte[8192];
                try {
                    for (int n; (n = from.read(buffer)) >= 0; ) {
                        into.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }

        /** Leaves no process behind when a test failed half-way. */
        @Override
        public void close() {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }
}
