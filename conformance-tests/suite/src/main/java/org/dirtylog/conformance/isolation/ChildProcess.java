package org.dirtylog.conformance.isolation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.dirtylog.conformance.report.Json;

/**
 * The parent's side of one child JVM: starts it with a request, hands out its events one by
 * one, keeps what it printed (bounded), and when it ends says how: {@code System.exit}, a crash
 * of the JVM, an exhausted heap, a signal or another exit code.
 */
final class ChildProcess implements AutoCloseable {

    /** The most output kept per child; beyond it only the last lines are kept. */
    private static final int MAX_OUTPUT = 1 << 20;
    private static final int TAIL_LINES = 200;

    /** What {@link #next} returns when the child's event stream ended. */
    static final JsonNode END = Json.COMPACT.createObjectNode().put("event", "end");

    private final Process process;
    private final Path crashDir;
    private final BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
    private final Output output = new Output();
    private final Thread stdoutReader;
    private final Thread stderrReader;
    private volatile JsonNode exitCalled;
    private volatile JsonNode childFailed;
    private volatile boolean killed;

    private ChildProcess(Process process, Path crashDir) {
        this.process = process;
        this.crashDir = crashDir;
        this.stdoutReader = Thread.ofPlatform().daemon().name("dirtylog-child-events").start(this::readEvents);
        this.stderrReader = Thread.ofPlatform().daemon().name("dirtylog-child-stderr").start(this::readStderr);
    }

    /**
     * Returns a started child that got {@code request}.
     *
     * @throws IOException when the JVM cannot be started at all
     */
    static ChildProcess start(ChildLaunch launch, ObjectNode request) throws IOException {
        Path crashDir = Files.createTempDirectory("dirtylog-child");
        Process p;
        try {
            p = new ProcessBuilder(launch.command(crashDir)).start();
        } catch (IOException e) {
            deleteTree(crashDir);
            throw e;
        }
        ChildProcess child = new ChildProcess(p, crashDir);
        OutputStream in = p.getOutputStream();
        try {
            in.write(Json.COMPACT.writeValueAsBytes(request));
            in.write('\n');
            in.flush();
        } catch (IOException e) {
            // The child died at once; its end and output tell why.
        }
        return child;
    }

    /** Returns the child's process id. */
    long pid() {
        return process.pid();
    }

    /**
     * Returns the next event, {@link #END} when the stream ended, or empty when none came within
     * {@code wait}.
     */
    Optional<JsonNode> next(Duration wait) throws InterruptedException {
        return Optional.ofNullable(events.poll(Math.max(1, wait.toMillis()), TimeUnit.MILLISECONDS));
    }

    /** Kills the child (and so every thread of the backend in it). */
    void kill() {
        killed = true;
        process.destroyForcibly();
    }

    /** Returns true once {@link #kill} was called. */
    boolean killed() {
        return killed;
    }

    /**
     * Waits for the child to end and returns how it ended, as a phrase for a verdict, e.g.
     * {@code the backend called System.exit(0) at Foo.createVm(Foo.java:12)}.
     */
    String death() throws InterruptedException {
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        stdoutReader.join(5000);
        stderrReader.join(5000);
        collectCrashReport();
        int code = process.exitValue();
        JsonNode exit = exitCalled;
        if (exit != null) {
            String at = exit.get("at").asText();
            return "the backend called System.exit(" + exit.get("status").asInt() + ")" + (at.isEmpty() ? "" : " at " + at);
        }
        JsonNode failed = childFailed;
        if (failed != null) {
            return "the kit's child JVM failed: " + failed.get("problem").asText();
        }
        Optional<String> crash = output.crash();
        if (crash.isPresent()) {
            return "the JVM crashed: " + crash.get();
        }
        Optional<String> oom = output.lineStartingWith("Terminating due to ");
        if (oom.isPresent()) {
            return "the JVM ran out of memory (" + oom.get().substring("Terminating due to ".length()) + ")";
        }
        if (code > 128 && code < 128 + 65) {
            return "the JVM was killed by signal " + (code - 128) + signalName(code - 128);
        }
        return "the JVM ended with exit code " + code + " without calling System.exit (Runtime.halt, or native code)";
    }

    /** Returns what the child printed: backend output, JVM messages, a crash report. */
    String output() {
        return output.text();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // Closing the pipe only tells the child to go, which it was already made to.
        }
        deleteTree(crashDir);
    }

    private void readEvents() {
        try (Reader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            StringBuilder line = new StringBuilder();
            boolean overlong = false;
            int c;
            while ((c = r.read()) >= 0) {
                if (c != '\n') {
                    if (line.length() < Protocol.MAX_LINE) {
                        line.append((char) c);
                    } else {
                        overlong = true;
                    }
                    continue;
                }
                if (overlong) {
                    output.line("(a line of " + line.length() + "+ characters on stdout was dropped)");
                } else {
                    accept(line.toString());
                }
                line.setLength(0);
                overlong = false;
            }
            if (!line.isEmpty()) {
                output.line(line.toString());
            }
        } catch (IOException ignored) {
            // The pipe broke: the child is gone, which END says.
        } finally {
            events.add(END);
        }
    }

    private void accept(String line) {
        JsonNode n = null;
        if (line.startsWith("{\"event\":")) {
            try {
                n = Json.COMPACT.readTree(line);
            } catch (IOException e) {
                n = null;
            }
        }
        if (n == null || !n.hasNonNull("event")) {
            output.line(line);
            return;
        }
        switch (n.get("event").asText()) {
            case "exit-called" -> exitCalled = n;
            case "child-failed" -> childFailed = n;
            default -> {
            }
        }
        events.add(n);
    }

    private void readStderr() {
        try (InputStream in = process.getErrorStream()) {
            StringBuilder line = new StringBuilder();
            Reader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            int c;
            while ((c = r.read()) >= 0) {
                if (c == '\n') {
                    output.line(line.toString());
                    line.setLength(0);
                } else if (line.length() < 4096) {
                    line.append((char) c);
                }
            }
            if (!line.isEmpty()) {
                output.line(line.toString());
            }
        } catch (IOException ignored) {
            // The child is gone.
        }
    }

    private void collectCrashReport() {
        try (Stream<Path> files = Files.list(crashDir)) {
            for (Path f : files.toList()) {
                output.line("---- " + f.getFileName() + " (the JVM's crash report) ----");
                try (Stream<String> lines = Files.lines(f, StandardCharsets.ISO_8859_1)) {
                    lines.forEach(output::line);
                }
            }
        } catch (IOException | UncheckedIOException ignored) {
            // No crash report: the usual case.
        }
    }

    private static String signalName(int signal) {
        return switch (signal) {
            case 1 -> " (SIGHUP)";
            case 2 -> " (SIGINT)";
            case 6 -> " (SIGABRT)";
            case 9 -> " (SIGKILL)";
            case 11 -> " (SIGSEGV)";
            case 15 -> " (SIGTERM)";
            default -> "";
        };
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException ignored) {
            // A temporary folder left behind is the system's to clean.
        }
    }

    /** What a child printed: the first {@value #MAX_OUTPUT} characters, then the last lines. */
    private static final class Output {
        private final StringBuilder head = new StringBuilder();
        private final Deque<String> tail = new ArrayDeque<>();
        private long dropped;

        synchronized void line(String s) {
            if (head.length() + s.length() < MAX_OUTPUT) {
                head.append(s).append('\n');
                return;
            }
            tail.addLast(s);
            if (tail.size() > TAIL_LINES) {
                tail.removeFirst();
                dropped++;
            }
        }

        synchronized String text() {
            StringBuilder b = new StringBuilder(head);
            if (dropped > 0) {
                b.append("... (").append(dropped).append(" lines left out)\n");
            }
            tail.forEach(l -> b.append(l).append('\n'));
            return b.toString();
        }

        /** Returns the signal and problematic frame of a HotSpot crash banner, if the output has one. */
        Optional<String> crash() {
            List<String> lines = text().lines().toList();
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).startsWith("# A fatal error has been detected")) {
                    String signal = "";
                    String frame = "";
                    for (int j = i + 1; j < lines.size() && j < i + 40; j++) {
                        String l = lines.get(j);
                        if (signal.isEmpty() && l.startsWith("#  ") && !l.isBlank()) {
                            signal = l.substring(3).trim().replaceAll(", pid=\\d+, tid=\\d+", "");
                        }
                        if (l.startsWith("# Problematic frame:") && j + 1 < lines.size()) {
                            frame = lines.get(j + 1).replaceFirst("^#\\s*", "").trim();
                            break;
                        }
                    }
                    return Optional.of(signal + (frame.isEmpty() ? "" : ", problematic frame: " + frame));
                }
            }
            return Optional.empty();
        }

        Optional<String> lineStartingWith(String prefix) {
            return text().lines().filter(l -> l.startsWith(prefix)).findFirst();
        }
    }
}
