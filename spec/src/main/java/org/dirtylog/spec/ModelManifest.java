package org.dirtylog.spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The list of every TLC model of the kit, read from {@code spec/models/manifest.json}.
 *
 * @param models the models in manifest order
 */
public record ModelManifest(@JsonProperty("models") List<ModelEntry> models) {

    /** File name of the manifest inside the models folder. */
    public static final String FILE_NAME = "manifest.json";

    /** Returns the manifest read from {@code modelsDir/manifest.json}. */
    public static ModelManifest load(Path modelsDir) throws IOException {
        ObjectMapper mapper = new ObjectMapper()
                .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);
        ModelManifest manifest = mapper.readValue(
                Files.readString(modelsDir.resolve(FILE_NAME)), ModelManifest.class);
        return new ModelManifest(List.copyOf(manifest.models()));
    }

    /**
     * Returns the models folder {@code <root>/spec/models}: root is the system property
     * {@code dirtylog.root} when set, else the first of {@code start} and its parents that holds
     * {@code spec/models/manifest.json}; empty when there is none.
     */
    public static Optional<Path> findModelsDir(Path start) {
        String root = System.getProperty("dirtylog.root");
        if (root != null && !root.isBlank()) {
            Path dir = Path.of(root).toAbsolutePath().resolve("spec/models");
            return Files.isRegularFile(dir.resolve(FILE_NAME)) ? Optional.of(dir) : Optional.empty();
        }
        for (Path p = start.toAbsolutePath().normalize(); p != null; p = p.getParent()) {
            Path dir = p.resolve("spec/models");
            if (Files.isRegularFile(dir.resolve(FILE_NAME))) {
                return Optional.of(dir);
            }
            if (p.getFileName() != null && p.getFileName().toString().equals("spec")
                    && Files.isRegularFile(p.resolve("models").resolve(FILE_NAME))) {
                return Optional.of(p.resolve("models"));
            }
        }
        return Optional.empty();
    }

    /** Returns the model called {@code name}, if any. */
    public Optional<ModelEntry> byName(String name) {
        return models.stream().filter(m -> m.name().equals(name)).findFirst();
    }

    /** Returns the models marked {@code ci}, in manifest order. */
    public List<ModelEntry> ciModels() {
        return models.stream().filter(ModelEntry::isCi).toList();
    }

    /** Returns every model name, in manifest order. */
    public List<String> names() {
        List<String> names = new ArrayList<>();
        models.forEach(m -> names.add(m.name()));
        return names;
    }
}
