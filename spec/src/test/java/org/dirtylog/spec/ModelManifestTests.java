package org.dirtylog.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model-checks every {@code ci} model of {@code spec/models/manifest.json} and fails when TLC's
 * outcome or distinct-state count differs from the manifest, or when an action of the model is
 * never taken and the manifest's {@code never_taken} does not say why (or names an action that
 * is taken).  Models expected to hold are checked with two workers (a complete search finds the
 * same states and takes the same actions however many workers run); models expected to fail use
 * one, so the search stops at the same state every time.
 */
class ModelManifestTests {

    private static Path modelsDir;
    private static ModelManifest manifest;

    @BeforeAll
    static void loadManifest() throws IOException {
        modelsDir = ModelManifest.findModelsDir(Path.of("")).orElseThrow();
        manifest = ModelManifest.load(modelsDir);
    }

    @TestFactory
    Stream<DynamicTest> everyCiModelMeetsItsManifestEntry() {
        Path work = Path.of("target", "tlc-work").toAbsolutePath();
        TlcRunner runner = new TlcRunner(work);
        return manifest.ciModels().stream().map(model -> DynamicTest.dynamicTest(model.name(), () -> {
            int workers = model.expected().equals(TlcResult.HOLDS) ? 2 : 1;
            TlcResult result = runner.run(modelsDir.resolve(model.folder()), model.moduleName(),
                    model.configFileName(), workers, states -> { });
            assertEquals(model.expected(), result.verdict(), () -> model.name() + ": "
                    + result.error().map(SpecError::describe).orElse("TLC verdict differs from the manifest"));
            assertEquals(model.distinctStates(), result.distinctStates(),
                    model.name() + ": distinct states differ from the manifest (spec or bounds changed?)");
            assertFalse(result.coverage().isEmpty(), model.name() + ": TLC printed no action coverage");
            assertEquals(List.of(), model.unexplainedUntakenActions(result),
                    model.name() + ": actions never taken that the manifest's never_taken does not explain");
            assertEquals(List.of(), model.staleNeverTakenEntries(result),
                    model.name() + ": never_taken names actions TLC took (or does not know)");
            if (!model.expected().equals(TlcResult.HOLDS)) {
                assertTrue(result.trace().size() > 1, model.name() + ": a violation must come with a trace");
            }
            if (violatesLivenessProperty(model)) {
                TraceStep last = result.trace().get(result.trace().size() - 1);
                assertTrue(last.closesLoop() || last.action().equals("Stuttering"),
                        model.name() + ": a liveness counterexample must end in its loop, ended with " + last);
                assertTrue(TraceFormatter.format(model.name(), result.trace()).contains("\nLoop: "),
                        model.name() + ": the formatted trace must say where the loop closes");
            }
        }));
    }

    /** Returns whether the model is expected to violate a property defined with {@code ~>} or {@code <>}. */
    private static boolean violatesLivenessProperty(ModelEntry model) throws IOException {
        if (!model.expected().startsWith(TlcResult.VIOLATES)) {
            return false;
        }
        String property = model.expected().substring(TlcResult.VIOLATES.length());
        Matcher definition = Pattern.compile("(?m)^" + Pattern.quote(property) + "\\s*==(.*)$")
                .matcher(Files.readString(modelsDir.resolve(model.spec())));
        return definition.find() && (definition.group(1).contains("~>") || definition.group(1).contains("<>"));
    }

    @Test
    void everyNeverTakenEntryNamesAnActionOfItsSpecAndGivesAReason() throws IOException {
        for (ModelEntry model : manifest.models()) {
            String spec = Files.readString(modelsDir.resolve(model.spec()));
            model.neverTaken().forEach((action, reason) -> {
                assertTrue(Pattern.compile("(?m)^" + Pattern.quote(action) + "(\\(.*\\))?\\s*==").matcher(spec).find(),
                        model.name() + ": never_taken names " + action + ", which " + model.spec() + " does not define");
                assertFalse(reason.isBlank(), model.name() + ": never_taken." + action + " needs a reason");
            });
        }
    }

    @Test
    void everyManifestEntryNamesFilesThatExistAndConstantsItsConfigurationSets() throws IOException {
        for (ModelEntry model : manifest.models()) {
            assertTrue(Files.isRegularFile(modelsDir.resolve(model.spec())), model.name() + ": " + model.spec());
            assertTrue(Files.isRegularFile(modelsDir.resolve(model.model())), model.name() + ": " + model.model());
            ModelConfig config = ModelConfig.read(modelsDir.resolve(model.config()));
            assertEquals(model.constants(), config.constants(), model.name() + ": manifest constants differ from "
                    + model.config());
            assertEquals(List.of(), config.undeclaredConstants(modelsDir.resolve(model.folder())));
            assertTrue(model.tier().equals("ci") || model.tier().equals("long"), model.name() + ": tier");
            assertTrue(model.expected().equals(TlcResult.HOLDS) || model.expected().startsWith(TlcResult.VIOLATES),
                    model.name() + ": expected");
        }
    }

    @Test
    void everyConfigurationUnderModelsIsListedInTheManifestExactlyOnce() throws IOException {
        Set<String> listed = new HashSet<>();
        for (ModelEntry model : manifest.models()) {
            assertTrue(listed.add(model.config()), "listed twice: " + model.config());
        }
        try (Stream<Path> files = Files.walk(modelsDir)) {
            for (Path cfg : files.filter(p -> p.toString().endsWith(".cfg")).toList()) {
                String relative = modelsDir.relativize(cfg).toString().replace('\\', '/');
                assertTrue(listed.contains(relative), "not in the manifest: " + relative);
            }
        }
    }

    @Test
    void theRfcOrdersThatLoseWritesAreExpectedToFailAndTheReferenceOrdersToHold() {
        for (String name : List.of("x86-rfc", "ppc-rfc", "ppc-rfc-current-pointers", "ppc-rfc-get")) {
            assertEquals("violates:NoLostWrite", ci(name).expected(), name);
        }
        for (String name : List.of("x86-reference", "ppc-reference", "ia64-reference", "ia64-rfc")) {
            assertEquals(TlcResult.HOLDS, ci(name).expected(), name);
        }
    }

    /**
     * The reference model of each architecture runs in CI with logging switched off and on again
     * (so LogOn is taken) and three harvests (so a recycled bitmap is read again), and each defect
     * those bounds exist to catch has a CI model that must fail.
     */
    @Test
    void theCiModelsToggleLoggingTwiceHarvestThreeTimesAndCatchEachDefect() {
        for (String name : List.of("x86-reference", "ppc-reference", "ia64-reference", "ia64-rfc")) {
            ModelEntry model = ci(name);
            assertTrue(Integer.parseInt(model.constants().get("MaxLogToggles")) >= 2, name + ": MaxLogToggles");
            assertTrue(Integer.parseInt(model.constants().get("MaxHarvests")) >= 3, name + ": MaxHarvests");
            for (String action : List.of("LogOff", "LogOn", "ReadColdBitmap", "CopyToUser")) {
                assertFalse(model.neverTaken().containsKey(action), name + " must take " + action);
            }
        }
        assertEquals("{\"NoFlushOnLogEnable\"}", ci("x86-no-flush-on-log-enable").constants().get("Defects"));
        assertEquals("violates:NoLostWrite", ci("x86-no-flush-on-log-enable").expected());
        for (String name : List.of("x86-switch-skips-clear", "ppc-switch-skips-clear")) {
            assertEquals("{\"SwitchSkipsClear\"}", ci(name).constants().get("Defects"), name);
            assertEquals("violates:Precision", ci(name).expected(), name);
        }
        for (String name : List.of("x86-no-grace-period-lost-write", "ia64-reference-no-grace-period")) {
            assertEquals("{\"NoGracePeriod\"}", ci(name).constants().get("Defects"), name);
            assertEquals("violates:NoLostWrite", ci(name).expected(), name);
        }
        assertEquals("violates:RegionUpdateCompletes", ci("x86-grace-period-starves").expected());
        assertEquals(TlcResult.HOLDS, ci("x86-reference-liveness").expected());
    }

    /**
     * Manual protect on x86: GET then CLEAR of what GET returned holds every property, also with
     * INITIALLY_SET and with logging switched off and on; re-arming before clearing loses a write
     * and leaves a page writable and clean; a user that clears a page it did not collect loses
     * a write.
     */
    @Test
    void theManualProtectModelsHoldInTheKernelsOrderAndFailForTheUnsafeOrderAndTheCarelessUser() {
        for (String name : List.of("x86-manual", "x86-manual-initially-set")) {
            ModelEntry model = ci(name);
            assertEquals(TlcResult.HOLDS, model.expected(), name);
            assertEquals("{\"getclear\"}", model.constants().get("HarvestKinds"), name);
            assertTrue(Integer.parseInt(model.constants().get("MaxLogToggles")) >= 2, name + ": MaxLogToggles");
            assertTrue(Integer.parseInt(model.constants().get("MaxHarvests")) >= 3, name + ": MaxHarvests");
            for (String action : List.of("ClearBegin", "ClearBits", "ReArmPage", "CopyToUser", "LogOff", "LogOn")) {
                assertFalse(model.neverTaken().containsKey(action), name + " must take " + action);
            }
        }
        assertEquals("TRUE", ci("x86-manual-initially-set").constants().get("InitiallySet"));
        assertEquals("{\"ClearReArmsFirst\"}", ci("x86-manual-rearm-first").constants().get("Defects"));
        assertEquals("violates:NoLostWrite", ci("x86-manual-rearm-first").expected());
        assertEquals("violates:DirtyOrWriteProtected", ci("x86-manual-rearm-first-protection").expected());
        assertEquals("{\"ClearsUncollected\"}", ci("x86-manual-clears-uncollected").constants().get("Defects"));
        assertEquals("violates:NoLostWrite", ci("x86-manual-clears-uncollected").expected());
    }

    private static ModelEntry ci(String name) {
        ModelEntry model = manifest.byName(name).orElseThrow(() -> new AssertionError("no model " + name));
        assertTrue(model.isCi(), name + " must be checked in CI");
        return model;
    }

    @Test
    void theRingsWrongCollectorsAndTheMissingSoftFullExitAreExpectedToFailAndTheReferenceToHold() {
        assertEquals("violates:NoLostWrite", manifest.byName("ring-read-before-reset").orElseThrow().expected());
        assertEquals("violates:NoLostWrite", manifest.byName("ring-collector-skips").orElseThrow().expected());
        assertEquals("violates:NoLostWrite", manifest.byName("ring-no-kick").orElseThrow().expected());
        assertEquals("violates:RingNeverOverwrites", manifest.byName("ring-no-soft-full-exit").orElseThrow().expected());
        for (String name : List.of("ring-reference", "ring-reference-liveness", "ring-no-pml")) {
            ModelEntry model = manifest.byName(name).orElseThrow();
            assertEquals(TlcResult.HOLDS, model.expected(), name);
            assertEquals("ci", model.tier(), name);
        }
    }

    @Test
    void checkingLeavesNoTlcFilesInTheSourceTreeNorInItsWorkDirectory(@TempDir Path work) throws Exception {
        ModelEntry model = manifest.byName("x86-rfc").orElseThrow();
        TlcResult result = new TlcRunner(work).run(modelsDir.resolve(model.folder()), model.moduleName(),
                model.configFileName(), 1, states -> { });
        assertEquals(model.expected(), result.verdict());
        try (Stream<Path> left = Files.list(work)) {
            assertEquals(List.of(), left.toList(), "the runner must delete its work directory");
        }
        try (Stream<Path> files = Files.walk(modelsDir)) {
            List<Path> leftovers = files.filter(p -> {
                String name = p.getFileName().toString();
                return name.equals("states") || name.contains("_TTrace_") || name.equals("Naturals.tla")
                        || name.equals("TLC.tla") || name.endsWith(".st");
            }).toList();
            assertEquals(List.of(), leftovers);
        }
    }
}
