package org.dirtylog.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The error paths: a spec that does not parse, a configuration naming an undeclared constant or
 * an undefined invariant, bad usage.  Each gives one located line and no stack trace.
 */
class BadSpecTests {

    private static final Path ROOT = Path.of("src/test/resources/broken-root").toAbsolutePath();
    private static final Path BROKEN = ROOT.resolve("spec/models/broken");

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
    void aSyntaxErrorIsReportedWithTheModuleFileAndLine(@TempDir Path work) throws Exception {
        TlcResult result = new TlcRunner(work).run(BROKEN, "Broken", "Broken.cfg", 1, s -> { });
        assertEquals(TlcResult.ERROR, result.verdict());
        SpecError error = result.error().orElseThrow();
        assertEquals(BROKEN.resolve("Broken.tla").toString(), error.file());
        assertEquals(8, error.line());
        assertTrue(error.message().contains("line 8"), error.message());
        try (Stream<Path> left = Files.list(work)) {
            assertEquals(List.of(), left.toList(), "the runner must delete its work directory");
        }
    }

    @Test
    void anUndeclaredConstantIsReportedAtItsConfigurationLineWithoutStartingTlc(@TempDir Path work)
            throws Exception {
        TlcResult result = new TlcRunner(work).run(BROKEN, "Counter", "CounterUnknownConstant.cfg", 1, s -> { });
        SpecError error = result.error().orElseThrow();
        assertEquals(BROKEN.resolve("CounterUnknownConstant.cfg").toString(), error.file());
        assertEquals(4, error.line());
        assertTrue(error.message().contains("Limt"), error.message());
    }

    @Test
    void anUndefinedInvariantIsReportedAtTheConfigurationLineNamingIt(@TempDir Path work) throws Exception {
        TlcResult result = new TlcRunner(work).run(BROKEN, "Counter", "CounterUnknownInvariant.cfg", 1, s -> { });
        SpecError error = result.error().orElseThrow();
        assertEquals(6, error.line());
        assertTrue(error.message().contains("NoSuchInvariant"), error.message());
    }

    @Test
    void checkExitsTwoWithFileLineAndMessageAndNoStackTraceForABrokenSpec(@TempDir Path report) {
        Run run = check(ROOT, "--model", "broken-syntax", "--report", report.toString());
        assertEquals(2, run.status(), run.out() + run.err());
        assertTrue(run.err().contains("Broken.tla:8: "), run.err());
        assertFalse((run.out() + run.err()).contains("\tat "), "no stack trace");
    }

    @Test
    void checkExitsOneAndWritesTheReportWhenAnOutcomeDiffersFromTheManifest(@TempDir Path report)
            throws IOException {
        Run run = check(ROOT, "--model", "counter", "--report", report.toString());
        assertEquals(1, run.status(), run.out() + run.err());
        assertTrue(run.out().contains("model   | expected"), run.out());
        JsonNode json = new ObjectMapper().readTree(report.resolve("models.json").toFile());
        assertFalse(json.get("interrupted").asBoolean());
        JsonNode models = json.get("models");
        assertEquals("counter", models.get(0).get("model").asText());
        assertEquals("violates:Bounded", models.get(0).get("expected").asText());
        assertEquals("holds", models.get(0).get("actual").asText());
        assertFalse(models.get(0).get("ok").asBoolean());
        assertEquals(4, models.get(0).get("distinct_states").asLong());
        assertTrue(models.get(0).has("seconds"));
    }

    @Test
    void checkFailsAModelThatNeverTakesAnActionUnlessTheManifestSaysWhy(@TempDir Path report) throws IOException {
        Run run = check(ROOT, "--model", "lopsided", "--report", report.resolve("a").toString());
        assertEquals(1, run.status(), run.out() + run.err());
        assertTrue(run.out().contains("lopsided: holds, 4 distinct states"), run.out());
        assertTrue(run.out().contains("never taken: Down"), run.out());
        assertTrue(run.out().contains("holds (ACTIONS NEVER TAKEN)"), run.out());
        JsonNode models = new ObjectMapper().readTree(report.resolve("a/models.json").toFile()).get("models");
        assertFalse(models.get(0).get("ok").asBoolean());
        assertEquals("Down", models.get(0).get("unexplained_never_taken").get(0).asText());

        Run explained = check(ROOT, "--model", "lopsided-explained", "--report", report.resolve("b").toString());
        assertEquals(0, explained.status(), explained.out() + explained.err());
        JsonNode ok = new ObjectMapper().readTree(report.resolve("b/models.json").toFile()).get("models");
        assertTrue(ok.get(0).get("ok").asBoolean());
        assertFalse(ok.get(0).has("unexplained_never_taken"), ok.toString());
    }

    @Test
    void anUnknownModelExitsTwoListingTheKnownOnes() {
        Run run = check(ROOT, "--model", "nope");
        assertEquals(2, run.status());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().contains("known: all, broken-syntax, unknown-constant, unknown-invariant, counter"),
                run.err());
    }

    @Test
    void badUsageExitsTwoWithOneLine() {
        for (List<String> args : List.of(List.of("--workers", "0"), List.of("--frobnicate"), List.of("--model"))) {
            Run run = check(ROOT, args.toArray(String[]::new));
            assertEquals(2, run.status(), args.toString());
            assertEquals(1, run.err().lines().count(), run.err());
        }
    }
}
