package org.dirtylog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.dirtylog.conformance.KitVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How {@code ./dirtylog} reads its command line and reports broken jars: one precise line each. */
class CommandLineTests {

    private static void assertOneLineUsageError(Cli.Run r, String command, String part) {
        assertEquals(2, r.exit(), r::toString);
        assertEquals(1, r.err().lines().count(), r::toString);
        assertTrue(r.err().startsWith("dirtylog " + command + ": "), r::toString);
        assertTrue(r.err().contains(part), () -> "'" + part + "' not in " + r.err());
    }

    @Test
    void versionPrintsTheKitVersion() {
        Cli.Run r = Cli.run("--version");
        assertEquals(0, r.exit());
        assertEquals("dirtylog " + KitVersion.get(), r.out().strip());
        assertFalse(KitVersion.get().contains("${"), KitVersion.get());
    }

    @Test
    void certifyHelpListsEveryOptionWithItsMeaningAndDefault() {
        Cli.Run r = Cli.run("certify", "--help");
        assertEquals(0, r.exit(), r::toString);
        List<String> lines = r.out().lines().toList();
        for (String option : List.of("--backend NAME", "--backend-jar JAR", "--report DIR", "--replace", "--seed N",
                "--rules PATTERN", "--effort X", "--help")) {
            int i = indexOfLineStartingWith(lines, "  " + option);
            assertTrue(i >= 0, () -> option + " not described in\n" + r.out());
            if (!option.equals("--help")) {
                assertTrue(lines.get(i + 1).strip().startsWith("default: "), () -> option + " has no default in\n" + r.out());
            }
        }
        assertTrue(r.out().contains("[0.1, 20]"), r.out());
        assertTrue(r.out().contains("<kit root>/dirtylog-report/certify"), r.out());
    }

    @Test
    void backendsHelpListsItsOption() {
        Cli.Run r = Cli.run("backends", "--help");
        assertEquals(0, r.exit(), r::toString);
        List<String> lines = r.out().lines().toList();
        int i = indexOfLineStartingWith(lines, "  --backend-jar JAR");
        assertTrue(i >= 0 && lines.get(i + 1).strip().startsWith("default: "), r.out());
    }

    private static int indexOfLineStartingWith(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix + " ") || lines.get(i).equals(prefix)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void anUnknownOptionIsCalledUnknownWithOrWithoutAValue(@TempDir Path dir) {
        assertOneLineUsageError(Cli.certify(dir.resolve("r"), "--frobnicate"), "certify", "unknown option '--frobnicate'");
        assertOneLineUsageError(Cli.certify(dir.resolve("r"), "--frobnicate=1"), "certify", "unknown option '--frobnicate'");
        assertOneLineUsageError(Cli.run("backends", "--frobnicate"), "backends", "unknown option '--frobnicate'");
        assertOneLineUsageError(Cli.certify(dir.resolve("r"), "--seed"), "certify", "option --seed needs a value");
        assertOneLineUsageError(Cli.certify(dir.resolve("r"), "--replace=yes"), "certify", "option --replace takes no value");
        assertOneLineUsageError(Cli.certify(dir.resolve("r"), "stray"), "certify", "unexpected argument 'stray'");
    }

    @Test
    void everyBadEffortIsOneLineAndExitTwo(@TempDir Path dir) {
        for (String effort : List.of("NaN", "Infinity", "-Infinity", "1e300", "1e9", "1e12", "0.0001", "1e-300", "-1", "0",
                "0.09", "20.5", "21", "abc", "", "0x1p3", "1,5")) {
            Cli.Run r = Cli.certify(dir.resolve("r"), "--effort", effort);
            assertEquals(2, r.exit(), () -> effort + ": " + r);
            assertEquals(1, r.err().lines().count(), r::toString);
            assertTrue(r.err().contains("--effort"), r::toString);
            assertFalse(Files.exists(dir.resolve("r")), "no report folder is made for a bad command line");
        }
    }

    @Test
    void theEffortRangeEndsAreAccepted(@TempDir Path dir) {
        for (String effort : List.of("0.1", "20", "1", "2.5")) {
            Cli.Run r = Cli.certify(dir.resolve("r"), "--effort=" + effort, "--backend", "no-such-backend");
            assertOneLineUsageError(r, "certify", "unknown backend 'no-such-backend'");
        }
    }

    @Test
    void everyBadSeedIsOneLineAndExitTwo(@TempDir Path dir) {
        for (String seed : List.of("9223372036854775808", "-9223372036854775809", "0x10", "1.5", "", " 1", "1e3",
                "123456789012345678901")) {
            Cli.Run r = Cli.certify(dir.resolve("r"), "--seed=" + seed);
            assertEquals(2, r.exit(), () -> seed + ": " + r);
            assertEquals(1, r.err().lines().count(), r::toString);
            assertTrue(r.err().contains("--seed"), r::toString);
        }
    }

    @Test
    void optionsMayBeWrittenWithAnEqualsSign(@TempDir Path dir) throws IOException {
        Path report = dir.resolve("r");
        Cli.Run r = Cli.run("certify", "--backend=reference-x86", "--rules=GET-01", "--seed=-9223372036854775808",
                "--report=" + report);
        assertEquals(1, r.exit(), r::toString);
        var c = Cli.json(report.resolve("certificate.json"));
        assertEquals("-9223372036854775808", c.get("seed").asText());
        assertTrue(c.get("seed").isTextual(), "the seed is a JSON string");
        assertEquals("GET-01", c.get("options").get("rules").asText());
    }

    @Test
    void aRulePatternMatchingNothingAndABadBackendNameAreUsageErrors(@TempDir Path dir) {
        assertOneLineUsageError(Cli.certify(dir.resolve("r"), "--rules", "NOPE-*"), "certify", "no rule matches --rules 'NOPE-*'");
        assertOneLineUsageError(Cli.certify(dir.resolve("r"), "--backend", "../x"), "certify", "is not a backend name");
        assertOneLineUsageError(Cli.certify(dir.resolve("r"), "--backend-jar", dir.resolve("none.jar").toString()),
                "certify", "none.jar: no such file");
    }

    @Test
    void theBackendsTableAlignsLongNames(@TempDir Path dir) throws IOException {
        String name = "a-backend-with-a-name-of-exactly-sixty-four-characters-012345678";
        assertEquals(64, name.length());
        Path jar = BackendJar.named(name).build(dir);
        Cli.Run r = Cli.run("backends", "--backend-jar", jar.toString());
        assertEquals(0, r.exit(), r::toString);
        List<String> lines = r.out().lines().filter(l -> !l.startsWith("    ")).toList();
        int available = lines.get(0).indexOf("AVAILABLE");
        int caps = lines.get(0).indexOf("CAPABILITIES");
        for (String line : lines.subList(1, lines.size())) {
            assertTrue(line.substring(available).startsWith("yes") || line.substring(available).startsWith("no"), line);
            assertTrue(line.charAt(caps - 1) == ' ' && line.charAt(caps) != ' ', () -> "column CAPABILITIES moved:\n" + r.out());
        }
        assertTrue(r.out().contains(name), r.out());
    }

    @Test
    void aJarThatIsNotAZipIsNamedAsSuch(@TempDir Path dir) throws IOException {
        Path jar = dir.resolve("notes.jar");
        Files.writeString(jar, "not a zip file\n");
        Cli.Run list = Cli.run("backends", "--backend-jar", jar.toString());
        assertEquals(2, list.exit(), list::toString);
        assertTrue(list.err().contains("problem: " + jar + ": not a jar (zip) file"), list::toString);
        assertTrue(list.out().contains("reference-x86"), "the other backends are still listed");
        assertOneLineUsageError(Cli.certify(dir.resolve("r"), "--backend-jar", jar.toString()), "certify",
                jar + ": not a jar (zip) file");
    }

    @Test
    void aServiceEntryNamingAMissingClassIsNamed(@TempDir Path dir) throws IOException {
        Path jar = BackendJar.named("listed").serviceLine("com.thirdparty.NotThere").build(dir);
        Cli.Run list = Cli.run("backends", "--backend-jar", jar.toString());
        assertEquals(2, list.exit(), list::toString);
        assertTrue(list.err().contains("lists com.thirdparty.NotThere, which is in neither the jar nor the kit"), list::toString);
        assertOneLineUsageError(Cli.certify(dir.resolve("r"), "--backend-jar", jar.toString()), "certify",
                "com.thirdparty.NotThere");
    }

    @Test
    void aThrowingConstructorIsNamedWithItsMessage(@TempDir Path dir) throws IOException {
        BackendJar b = BackendJar.named("needs-config").members("""
                    public CLASS() {
                        throw new IllegalStateException("set FROB_HOME to the frobnicator's folder");
                    }
                """);
        Path jar = b.build(dir);
        String expected = "the constructor of " + b.className()
                + " threw java.lang.IllegalStateException: set FROB_HOME to the frobnicator's folder";
        Cli.Run list = Cli.run("backends", "--backend-jar", jar.toString());
        assertEquals(2, list.exit(), list::toString);
        assertTrue(list.err().contains("problem: " + jar + ": " + expected), list::toString);
        assertOneLineUsageError(Cli.certify(dir.resolve("r"), "--backend-jar", jar.toString()), "certify", expected);
    }

    @Test
    void aConstructorThatEndsTheJvmIsAProblemAndTheOtherBackendsAreStillListed(@TempDir Path dir) throws IOException {
        BackendJar b = BackendJar.named("exits-early").members("""
                    public CLASS() {
                        System.exit(4);
                    }
                """);
        Path jar = b.build(dir);
        Cli.Run list = Cli.run("backends", "--backend-jar", jar.toString());
        assertEquals(2, list.exit(), list::toString);
        assertTrue(list.err().contains(b.className() + ": constructor ended its JVM: the backend called System.exit(4) at "
                + b.className()), list::toString);
        assertTrue(list.out().contains("reference-x86") && list.out().contains("linux-kvm"), list::toString);
    }

    @Test
    void aConstructorThatNeverReturnsIsBounded(@TempDir Path dir) throws IOException {
        BackendJar b = BackendJar.named("never-built").members("""
                    public CLASS() {
                        while (true) {
                            java.util.concurrent.locks.LockSupport.park();
                        }
                    }
                """);
        Path jar = b.build(dir);
        Cli.Run list = Cli.withProperties(Map.of("dirtylog.metadata-timeout", "3"),
                () -> Cli.run("backends", "--backend-jar", jar.toString()));
        assertEquals(2, list.exit(), list::toString);
        assertTrue(list.err().contains(b.className() + ": constructor did not return within 3 s"), list::toString);
    }

    @Test
    void anAvailabilityThatNeverReturnsDoesNotHangTheListing(@TempDir Path dir) throws IOException {
        Path jar = BackendJar.named("slow-to-answer").method("availability",
                "public org.dirtylog.spi.Availability availability() { while (true) { java.util.concurrent.locks.LockSupport.park(); } }")
                .build(dir);
        Cli.Run list = Cli.withProperties(Map.of("dirtylog.metadata-timeout", "3"),
                () -> Cli.run("backends", "--backend-jar", jar.toString()));
        assertEquals(2, list.exit(), list::toString);
        assertTrue(list.err().contains("backend slow-to-answer: availability() did not return within 3 s"), list::toString);
        assertTrue(list.out().contains("slow-to-answer"), "listed with what could be read: " + list);
    }

    @Test
    void invalidBackendNamesAreRefusedWhenLoaded(@TempDir Path dir) throws IOException {
        for (String name : List.of("..", ".", "a/b", "a+b", "x".repeat(65), "")) {
            BackendJar b = BackendJar.named(name).method("name",
                    "public String name() { return \"" + name + "\"; }");
            Path jar = b.build(dir);
            Cli.Run list = Cli.run("backends", "--backend-jar", jar.toString());
            assertEquals(2, list.exit(), list::toString);
            assertTrue(list.err().contains(b.className() + ".name(): '") && list.err().contains("is not a backend name"), list::toString);
            Cli.Run r = Cli.certify(dir.resolve("r"), "--backend-jar", jar.toString());
            assertOneLineUsageError(r, "certify", "is not a backend name");
        }
        Path nullName = BackendJar.named("null-name").method("name", "public String name() { return null; }").build(dir);
        assertOneLineUsageError(Cli.certify(dir.resolve("r"), "--backend-jar", nullName.toString()), "certify",
                "name() returned null");
    }

    @Test
    void aDuplicateNameIsRefusedNamingBothSources(@TempDir Path dir) throws IOException {
        BackendJar b = BackendJar.named("reference-x86");
        Path jar = b.build(dir);
        String expected = "backend name 'reference-x86' is declared twice: by org.dirtylog.arch.x86.X86ReferenceBackend "
                + "(built-in) and by " + b.className() + " (" + jar + ")";
        Cli.Run list = Cli.run("backends", "--backend-jar", jar.toString());
        assertEquals(2, list.exit(), list::toString);
        assertTrue(list.err().contains(expected), list::toString);
        assertOneLineUsageError(Cli.certify(dir.resolve("r"), "--backend-jar", jar.toString(), "--backend", "reference-x86"),
                "certify", expected);
    }
}
