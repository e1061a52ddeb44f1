package org.dirtylog.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTests {

    @Test
    void constantsInvariantsAndPropertiesAreReadWithTheirLines(@TempDir Path dir) throws IOException {
        Path cfg = dir.resolve("M.cfg");
        Files.writeString(cfg, """
                \\* comment naming Ghost = 1
                CONSTANTS
                    Vcpus = {v1, v2}
                    Arch = "x86"
                    Pick <- MCPick
                SPECIFICATION Spec
                INVARIANTS TypeOK
                    NoLostWrite
                PROPERTY HarvestCompletes
                """);
        ModelConfig config = ModelConfig.read(cfg);
        assertEquals(Map.of("Vcpus", "{v1, v2}", "Arch", "\"x86\"", "Pick", "<- MCPick"), config.constants());
        assertEquals(4, config.constantLine().get("Arch"));
        assertEquals(List.of("TypeOK", "NoLostWrite"), config.invariants());
        assertEquals(List.of("HarvestCompletes"), config.properties());
        assertEquals(8, config.lineOf("NoLostWrite"));
    }

    @Test
    void declaredConstantsAreFoundAcrossCommentsAndOperatorParameters() {
        String module = """
                ---- MODULE M ----
                EXTENDS Naturals
                CONSTANTS
                    Vcpus,   \\* the vCPUs
                    F(_, _), (* an operator *) Pages
                CONSTANT Order
                ASSUME Order \\in {"rfc"}
                VARIABLES x
                Init == x = 0
                ====
                """;
        assertEquals(Set.of("Vcpus", "F", "Pages", "Order"), ModelConfig.declaredConstants(module));
    }
}
