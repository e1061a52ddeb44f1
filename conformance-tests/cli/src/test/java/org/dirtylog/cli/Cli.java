package org.dirtylog.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** Runs {@code ./dirtylog} through its real entry point in this JVM; the commands start their own child JVMs. */
final class Cli {

    /** What a command printed and returned. */
    record Run(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private Cli() {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = DirtyLog.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Returns {@code certify} with {@code args}, the report going to {@code report}. */
    static Run certify(Path report, String... args) {
        List<String> all = new ArrayList<>(List.of("certify", "--report", report.toString()));
        all.addAll(List.of(args));
        return run(all.toArray(String[]::new));
    }

    /** Returns what {@code body} returns while the system properties {@code props} are set. */
    static <T> T withProperties(Map<String, String> props, Supplier<T> body) {
        Map<String, String> saved = new HashMap<>();
        props.keySet().forEach(k -> saved.put(k, System.getProperty(k)));
        props.forEach(System::setProperty);
        try {
            return body.get();
        } finally {
            saved.forEach((k, v) -> {
                if (v == null) {
                    System.clearProperty(k);
                } else {
                    System.setProperty(k, v);
                }
            });
        }
    }

    static JsonNode json(Path file) throws IOException {
        return new ObjectMapper().readTree(file.toFile());
    }

    /** Returns the message of rule {@code id} in a certificate. */
    static JsonNode rule(JsonNode certificate, String id) {
        for (JsonNode r : certificate.get("rules")) {
            if (r.get("id").asText().equals(id)) {
                return r;
            }
        }
        throw new AssertionError("rule " + id + " is not in the certificate");
    }
}
