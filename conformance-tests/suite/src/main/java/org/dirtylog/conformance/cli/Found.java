package org.dirtylog.conformance.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.dirtylog.conformance.isolation.Discovery;

/** What both commands make of a discovery: jar files checked, backends by name, problems as lines. */
final class Found {

    private final Discovery.Catalog catalog;
    private final Map<String, Discovery.BackendInfo> byName = new LinkedHashMap<>();
    private final List<String> duplicates = new ArrayList<>();

    Found(Discovery.Catalog catalog) {
        this.catalog = catalog;
        for (Discovery.BackendInfo b : catalog.backends()) {
            if (b.unnamed()) {
                continue;
            }
            Discovery.BackendInfo previous = byName.putIfAbsent(b.name().get(), b);
            if (previous != null) {
                duplicates.add("backend name '" + b.name().get() + "' is declared twice: by " + previous.className() + " ("
                        + previous.origin() + ") and by " + b.className() + " (" + b.origin() + ")");
            }
        }
    }

    /**
     * Returns the {@code --backend-jar} values as absolute paths, each once.
     *
     * @throws CommandLine.UsageError when one is not an existing file
     */
    static List<Path> jars(List<String> values) throws CommandLine.UsageError {
        Set<Path> jars = new LinkedHashSet<>();
        for (String v : values) {
            Path p = Path.of(v).toAbsolutePath().normalize();
            if (!Files.isRegularFile(p)) {
                throw new CommandLine.UsageError("--backend-jar " + v + ": no such file");
            }
            jars.add(p);
        }
        return List.copyOf(jars);
    }

    /** Returns the named backends, by name, in discovery order (the first of duplicates). */
    Map<String, Discovery.BackendInfo> byName() {
        return byName;
    }

    /**
     * Returns the problem lines that make a jar or the set of backends unusable: jar and
     * service-file problems, backends that could not be named, duplicate names; those of
     * built-in backends only when {@code builtInToo}.
     */
    List<String> fatal(boolean builtInToo) {
        List<String> out = new ArrayList<>();
        for (Discovery.JarProblem p : catalog.jarProblems()) {
            if (builtInToo || !p.origin().equals(Discovery.BUILT_IN)) {
                out.add(p.problem());
            }
        }
        for (Discovery.BackendInfo b : catalog.backends()) {
            if (b.unnamed() && (builtInToo || !b.origin().equals(Discovery.BUILT_IN))) {
                out.add(b.origin() + ": " + b.problem().orElse("no name"));
            }
        }
        out.addAll(duplicates);
        return out;
    }

    /** Returns the problems of built-in backends and their service files, which do not stop a run. */
    List<String> builtInProblems() {
        List<String> out = new ArrayList<>();
        catalog.jarProblems().stream().filter(p -> p.origin().equals(Discovery.BUILT_IN)).forEach(p -> out.add(p.problem()));
        catalog.backends().stream().filter(b -> b.unnamed() && b.origin().equals(Discovery.BUILT_IN))
                .forEach(b -> out.add(b.origin() + ": " + b.problem().orElse("no name")));
        return out;
    }

    /** Returns the metadata problem of named backend {@code name}, if any. */
    Optional<String> problemOf(String name) {
        return Optional.ofNullable(byName.get(name)).flatMap(Discovery.BackendInfo::problem);
    }

    /** Returns the names known, for an error message. */
    String known() {
        return byName.isEmpty() ? "none found" : String.join(", ", byName.keySet());
    }
}
