package org.dirtylog.conformance.isolation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.dirtylog.conformance.report.Json;
import org.dirtylog.conformance.report.Text;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.Capabilities;

/**
 * Lists the backends of the kit and of {@code --backend-jar} files from a child JVM, so no
 * backend code (constructor, static initialiser, metadata method) runs in the parent. A child
 * that dies while constructing or asking one backend is replaced by one that skips it; that
 * backend is listed with the cause as its problem.
 */
public final class Discovery {

    /** The origin of backends on the kit's own class path. */
    public static final String BUILT_IN = BackendLoader.BUILT_IN;

    /**
     * A backend found, with what could be read of it.
     *
     * @param origin {@value #BUILT_IN} or the jar's path
     * @param className the class named in the service file
     * @param name its valid name; empty when the constructor or {@code name()} failed
     * @param description its description, when read
     * @param availability its availability, when read
     * @param capabilities its capabilities, when read
     * @param problem the first call that failed and how, one line; empty when every call answered
     */
    public record BackendInfo(String origin, String className, Optional<String> name, Optional<String> description,
                              Optional<Availability> availability, Optional<Capabilities> capabilities,
                              Optional<String> problem) {

        /** Returns true when the backend could not even be named: its constructor or {@code name()} failed. */
        public boolean unnamed() {
            return name.isEmpty();
        }
    }

    /**
     * A problem of a jar or of a service file.
     *
     * @param origin {@value #BUILT_IN} or the jar's path
     * @param problem one line, starting with the origin
     */
    public record JarProblem(String origin, String problem) {
    }

    /**
     * The backends found.
     *
     * @param backends every backend listed, in discovery order (built-in first)
     * @param jarProblems problems of jars and service files
     */
    public record Catalog(List<BackendInfo> backends, List<JarProblem> jarProblems) {
    }

    private Discovery() {
    }

    /**
     * Returns the backends of the kit and of {@code jars}.
     *
     * @throws IOException when no child JVM can list them (one line saying why)
     * @throws InterruptedException when {@code interruption} was triggered
     */
    public static Catalog describe(ChildLaunch launch, Limits limits, List<Path> jars, Interruption interruption)
            throws IOException, InterruptedException {
        List<BackendInfo> backends = new ArrayList<>();
        List<JarProblem> jarProblems = new ArrayList<>();
        Set<String> known = new LinkedHashSet<>();
        boolean first = true;
        while (true) {
            ObjectNode request = Json.COMPACT.createObjectNode().put("protocol", Protocol.VERSION).put("mode", "describe")
                    .put("metadata_timeout_ms", limits.metadataTimeout().toMillis());
            ArrayNode jarList = request.putArray("jars");
            jars.forEach(j -> jarList.add(j.toString()));
            ArrayNode skip = request.putArray("skip");
            for (String k : known) {
                String[] parts = k.split("\n", 2);
                skip.addObject().put("origin", parts[0]).put("class", parts[1]);
            }
            JsonNode calling = null;
            String silent = null;
            boolean done = false;
            try (ChildProcess child = ChildProcess.start(launch, request)) {
                interruption.track(child);
                long last = System.nanoTime();
                long callDeadline = Long.MAX_VALUE;
                while (true) {
                    long now = System.nanoTime();
                    long deadline = Math.min(last + limits.watchdog().toNanos(), callDeadline);
                    Optional<JsonNode> next = child.next(Duration.ofNanos(deadline - now));
                    if (next.isEmpty()) {
                        silent = System.nanoTime() >= callDeadline
                                ? "it ran past the metadata timeout of " + limits.metadataTimeout().toSeconds() + " s"
                                : "it stopped responding for " + limits.watchdog().toSeconds() + " s";
                        child.kill();
                        break;
                    }
                    JsonNode e = next.get();
                    last = System.nanoTime();
                    String kind = e.get("event").asText();
                    switch (kind) {
                        case "calling" -> {
                            calling = e;
                            callDeadline = last + limits.metadataTimeout().toNanos() + limits.watchdog().toNanos();
                        }
                        case "jar-problem" -> {
                            if (first) {
                                jarProblems.add(new JarProblem(e.get("origin").asText(), e.get("problem").asText()));
                            }
                        }
                        case "provider" -> {
                            calling = null;
                            callDeadline = Long.MAX_VALUE;
                            BackendInfo info = info(e);
                            if (known.add(info.origin() + "\n" + info.className())) {
                                backends.add(info);
                            }
                        }
                        case "done" -> done = true;
                        default -> {
                        }
                    }
                    if (e == ChildProcess.END) {
                        break;
                    }
                }
                interruption.untrack(child);
                if (interruption.isSet()) {
                    throw new InterruptedException("interrupted while listing backends");
                }
                if (done) {
                    return new Catalog(backends, jarProblems);
                }
                String cause = child.death();
                if (silent != null) {
                    cause = silent + " and was killed";
                }
                if (calling == null) {
                    throw new IOException("the JVM listing the backends ended: " + cause + lastLines(child.output()));
                }
                String origin = calling.get("origin").asText();
                String cls = calling.get("class").asText();
                String call = calling.get("call").asText();
                Optional<String> name = Optional.ofNullable(calling.get("name")).map(JsonNode::asText);
                String who = name.map(n -> "backend " + n).orElse(cls);
                known.add(origin + "\n" + cls);
                backends.add(new BackendInfo(origin, cls, name, Optional.empty(), Optional.empty(), Optional.empty(),
                        Optional.of(who + ": " + call + " ended its JVM: " + cause)));
            }
            first = false;
        }
    }

    private static BackendInfo info(JsonNode e) {
        Optional<String> name = Optional.ofNullable(e.get("name")).map(JsonNode::asText);
        Optional<String> problem = Optional.ofNullable(e.get("problem")).map(JsonNode::asText);
        Optional<Availability> availability = e.has("available")
                ? Optional.of(new Availability(e.get("available").asBoolean(), e.get("reason").asText()))
                : Optional.empty();
        return new BackendInfo(e.get("origin").asText(), e.get("class").asText(), name,
                Optional.ofNullable(e.get("description")).map(JsonNode::asText), availability,
                Optional.ofNullable(e.get("capabilities")).map(Protocol::capabilities), problem);
    }

    private static String lastLines(String output) {
        List<String> lines = output.lines().filter(l -> !l.isBlank()).toList();
        if (lines.isEmpty()) {
            return "";
        }
        return " (last output: " + Text.line(String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size())),
                300) + ")";
    }
}
