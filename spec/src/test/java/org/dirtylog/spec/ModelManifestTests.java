package org.dirtylog.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model-checks every {@code ci} model of {@code spec/models/manifest.json} and fails when TLC's
 * outcome or distinct-state count differs from the manifest.  Models expected to hold are
 * checked with two workers (a complete search finds the same states however many workers run);
 * models expected to fail use one, so the search stops at the same state every time.
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
            if (!model.expected().equals(TlcResult.HOLDS)) {
                assertTrue(result.trace().size() > 1, model.name() + ": a violation must come with a trace");
            }
        }));
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
        assertEquals("violates:NoLostWrite", manifest.byName("x86-rfc").orElseThrow().expected());
        assertEquals("violates:NoLostWrite", manifest.byName("ppc-rfc").orElseThrow().expected());
        assertEquals("violates:NoLostWrite", manifest.byName("ppc-rfc-get").orElseThrow().expected());
        for (String name : List.of("x86-reference", "ppc-reference", "ia64-reference")) {
            assertEquals(TlcResult.HOLDS, manifest.byName(name).orElseThrow().expected(), name);
        }
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
