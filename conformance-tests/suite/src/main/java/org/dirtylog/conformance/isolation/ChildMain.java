package org.dirtylog.conformance.isolation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.dirtylog.conformance.BackendNames;
import org.dirtylog.conformance.ConformanceRunner;
import org.dirtylog.conformance.Rule;
import org.dirtylog.conformance.RuleCatalogue;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.Wrapping;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.report.Json;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.IoctlResult;

/**
 * The child JVM: loads backends and runs rules for the parent, answering in the events of
 * {@link Protocol}. It holds no verdict of its own: whatever it does not report before it dies,
 * the parent records as an ERROR of the rule or call that was running.
 */
public final class ChildMain {

    /** The logger {@code Runtime.exit} reports to (at DEBUG) with the caller's stack. */
    private static final Logger RUNTIME_EXIT = Logger.getLogger("java.lang.Runtime");

    private final Events events;
    private final Duration metadataTimeout;
    private final BackendLoader loader = new BackendLoader();

    private ChildMain(Events events, Duration metadataTimeout) {
        this.events = events;
        this.metadataTimeout = metadataTimeout;
    }

    /** Reads the request from stdin, answers on stdout, and halts. */
    public static void main(String[] args) throws IOException {
        Events events = new Events(new FileOutputStream(FileDescriptor.out));
        // What backends print goes to stderr; stdout carries only events.
        System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8));
        reportExitCalls(events);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line = in.readLine();
        if (line == null) {
            Runtime.getRuntime().halt(2);
        }
        Thread.ofPlatform().daemon().name("dirtylog-parent-watch").start(() -> {
            try {
                while (in.read() >= 0) {
                    // The parent never writes more; only the end of the pipe matters.
                }
            } catch (IOException ignored) {
                // A broken pipe means the same as its end.
            }
            // The parent is gone and cannot remove the crash-report folder; an empty one goes now.
            String crashDir = System.getProperty(ChildLaunch.CRASH_DIR_PROPERTY);
            if (crashDir != null) {
                try {
                    Files.deleteIfExists(Path.of(crashDir));
                } catch (IOException ignored) {
                    // Not empty: the report of a crash stays for whoever looks.
                }
            }
            Runtime.getRuntime().halt(3);
        });
        events.emit(Protocol.event("hello").put("pid", ProcessHandle.current().pid()).put("protocol", Protocol.VERSION));
        Thread.ofPlatform().daemon().name("dirtylog-heartbeat").start(() -> {
            while (true) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
                events.emit(Protocol.event("alive"));
            }
        });
        try {
            JsonNode request = Json.COMPACT.readTree(line);
            ChildMain child = new ChildMain(events, Duration.ofMillis(request.get("metadata_timeout_ms").asLong()));
            List<Path> jars = new ArrayList<>();
            request.get("jars").forEach(j -> jars.add(Path.of(j.asText())));
            switch (request.get("mode").asText()) {
                case "describe" -> child.describe(jars, request.get("skip"));
                case "certify" -> child.certify(request);
                default -> throw new IllegalArgumentException("unknown mode " + request.get("mode"));
            }
            events.emit(Protocol.event("done"));
            Runtime.getRuntime().halt(0);
        } catch (Throwable t) {
            // A failure of the kit's own code: say so, and end even if a backend's thread would keep the JVM up.
            t.printStackTrace();
            events.emit(Protocol.event("child-failed").put("problem", BackendLoader.describe(t)));
            Runtime.getRuntime().halt(4);
        }
    }

    /** Emits a {@code jar-problem} per listing problem and a {@code provider} per backend not in {@code skip}. */
    private void describe(List<Path> jars, JsonNode skip) {
        Set<String> skipped = new HashSet<>();
        skip.forEach(s -> skipped.add(s.get("origin").asText() + "\n" + s.get("class").asText()));
        BackendLoader.Listing listing = loader.list(jars);
        for (BackendLoader.ListingProblem p : listing.problems()) {
            events.emit(Protocol.event("jar-problem").put("origin", p.origin()).put("problem", p.problem()));
        }
        for (BackendLoader.ProviderRef ref : listing.providers()) {
            if (skipped.contains(ref.origin() + "\n" + ref.className())) {
                continue;
            }
            ObjectNode provider = Protocol.event("provider").put("origin", ref.origin()).put("class", ref.className());
            Metadata m = new Metadata();
            try {
                if (!read(ref, null, true, m)) {
                    continue;
                }
            } catch (CallFailed e) {
                provider.put("call", e.call).put("problem", e.getMessage());
            }
            if (m.name != null) {
                provider.put("name", m.name);
            }
            if (m.description != null) {
                provider.put("description", m.description);
            }
            if (m.availability != null) {
                provider.put("available", m.availability.available()).put("reason", m.availability.reason());
            }
            if (m.capabilities != null) {
                provider.set("capabilities", Protocol.capabilities(m.capabilities));
            }
            events.emit(provider);
        }
    }

    /** Constructs the requested backend, reads its metadata, then runs each requested rule. */
    private void certify(JsonNode request) {
        JsonNode b = request.get("backend");
        BackendLoader.ProviderRef ref = new BackendLoader.ProviderRef(b.get("origin").asText(), b.get("class").asText());
        String expected = b.get("name").asText();
        Metadata m = new Metadata();
        try {
            if (!read(ref, expected, false, m)) {
                throw new CallFailed("constructor", ref.className() + " is provided by the kit, not by "
                        + ref.origin());
            }
        } catch (CallFailed e) {
            events.emit(Protocol.event("backend-problem").put("call", e.call).put("problem", e.getMessage()));
            return;
        }
        events.emit(Protocol.event("backend").put("name", m.name).put("description", m.description)
                .set("capabilities", Protocol.capabilities(m.capabilities)));
        RunOptions options = Protocol.options(request.get("options"));
        ConformanceRunner runner = new ConformanceRunner(options, new PrintStream(OutputStream.nullOutputStream()));
        DirtyLogBackend fixed = new FixedMetadata(m);
        for (JsonNode id : request.get("rules")) {
            Rule rule = RuleCatalogue.byId(id.asText()).orElseThrow();
            events.emit(Protocol.event("rule-started").put("id", rule.id()));
            RuleResult r = runner.run(fixed, rule);
            events.emit(Protocol.result(r));
            if (runner.leftThreadsRunning()) {
                events.emit(Protocol.event("restart").put("reason", rule.id() + " left a thread of the backend running"));
                Runtime.getRuntime().halt(0);
            }
        }
    }

    /** A backend and its metadata, each read once within the timeout; null until read. */
    private static final class Metadata {
        DirtyLogBackend backend;
        String name;
        String description;
        Availability availability;
        Capabilities capabilities;
    }

    /**
     * Reads the backend {@code ref} and its metadata into {@code m}, announcing each call before
     * making it; returns false when the class is the kit's own (listed by a jar too).
     *
     * @param expectedName the name the backend had when listed, checked when not null
     * @param withAvailability whether to ask {@code availability()} too
     * @throws CallFailed at the first call that fails; {@code m} holds what was read before it
     */
    private boolean read(BackendLoader.ProviderRef ref, String expectedName, boolean withAvailability, Metadata m) {
        m.backend = call(ref, null, "constructor", () -> {
            try {
                return loader.construct(ref);
            } catch (BackendLoader.ProviderProblem p) {
                throw new CallFailed("constructor", p.getMessage());
            }
        }, true);
        if (m.backend == null) {
            return false;
        }
        DirtyLogBackend backend = m.backend;
        String name = call(ref, null, "name()", backend::name, false);
        BackendNames.problem(name).ifPresent(p -> {
            throw new CallFailed("name()", ref.className() + ".name(): " + p);
        });
        if (expectedName != null && !expectedName.equals(name)) {
            throw new CallFailed("name()", ref.className() + ".name() returned '" + name
                    + "' in this JVM, '" + expectedName + "' when the backends were listed");
        }
        m.name = name;
        m.description = call(ref, name, "description()", backend::description, false);
        if (withAvailability) {
            m.availability = call(ref, name, "availability()", backend::availability, false);
        }
        m.capabilities = call(ref, name, "capabilities()", backend::capabilities, false);
        return true;
    }

    /** A constructor or metadata call that threw, returned null or did not return. */
    private static final class CallFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final String call;

        CallFailed(String call, String message) {
            super(message);
            this.call = call;
        }
    }

    /** The call a {@link #call} runs; it may throw anything. */
    private interface Call<T> {
        T get() throws Exception;
    }

    /**
     * Returns what {@code what} returns on a thread of its own, given at most the metadata
     * timeout; a thread that does not return is abandoned (the child ends soon after).
     *
     * @param nullable whether null is a valid answer
     */
    private <T> T call(BackendLoader.ProviderRef ref, String name, String what, Call<T> body, boolean nullable) {
        ObjectNode calling = Protocol.event("calling").put("origin", ref.origin()).put("class", ref.className())
                .put("call", what);
        if (name != null) {
            calling.put("name", name);
        }
        events.emit(calling);
        FutureTask<T> task = new FutureTask<>(body::get);
        Thread.ofPlatform().daemon().name("dirtylog-" + what).start(task);
        String who = name != null ? "backend " + name + ": " + what : ref.className() + ": " + what;
        T value;
        try {
            value = task.get(metadataTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CallFailed f) {
                throw f;
            }
            throw new CallFailed(what, who + " threw " + BackendLoader.describe(e.getCause()));
        } catch (TimeoutException e) {
            throw new CallFailed(what, who + " did not return within " + seconds(metadataTimeout));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CallFailed(what, who + " was interrupted");
        }
        if (value == null && !nullable) {
            throw new CallFailed(what, who + " returned null");
        }
        return value;
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() / 1000.0 + " s";
    }

    /**
     * Makes {@code System.exit} announce itself: since JDK 21 {@code Runtime.exit} logs its
     * caller's stack to the {@code java.lang.Runtime} logger at DEBUG, before the JVM ends.
     */
    private static void reportExitCalls(Events events) {
        RUNTIME_EXIT.setLevel(Level.FINE);
        RUNTIME_EXIT.setUseParentHandlers(false);
        RUNTIME_EXIT.addHandler(new Handler() {
            @Override
            public void publish(LogRecord record) {
                Throwable t = record.getThrown();
                String at = "";
                int status = 0;
                if (t != null) {
                    String m = String.valueOf(t.getMessage());
                    int open = m.indexOf('(');
                    int close = m.indexOf(')');
                    if (open >= 0 && close > open) {
                        try {
                            status = Integer.parseInt(m.substring(open + 1, close));
                        } catch (NumberFormatException ignored) {
                            // The status only decorates the message.
                        }
                    }
                    for (StackTraceElement e : t.getStackTrace()) {
                        String c = e.getClassName();
                        if (!c.equals("java.lang.Runtime") && !c.equals("java.lang.System") && !c.equals("java.lang.Shutdown")) {
                            at = e.toString();
                            break;
                        }
                    }
                }
                events.emit(Protocol.event("exit-called").put("status", status).put("at", at));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
    }

    /** A backend whose metadata is the snapshot read under timeouts; VMs come from the real one. */
    private static final class FixedMetadata implements DirtyLogBackend, Wrapping {
        private final Metadata m;

        FixedMetadata(Metadata m) {
            this.m = m;
        }

        @Override
        public DirtyLogBackend wrapped() {
            return m.backend;
        }

        @Override
        public String name() {
            return m.name;
        }

        @Override
        public String description() {
            return m.description;
        }

        @Override
        public Availability availability() {
            return m.backend.availability();
        }

        @Override
        public Capabilities capabilities() {
            return m.capabilities;
        }

        @Override
        public IoctlResult<BackendVm> createVm() {
            return m.backend.createVm();
        }
    }

    /** The event channel: whole lines, one writer at a time. */
    static final class Events {
        private final OutputStream out;

        Events(OutputStream out) {
            this.out = out;
        }

        synchronized void emit(ObjectNode event) {
            try {
                out.write(Json.COMPACT.writeValueAsBytes(event));
                out.write('\n');
                out.flush();
            } catch (IOException e) {
                // The parent is gone; the watch thread halts the JVM.
            }
        }
    }
}
