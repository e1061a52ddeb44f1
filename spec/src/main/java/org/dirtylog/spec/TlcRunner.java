package org.dirtylog.spec;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * Runs TLC on one model in a child JVM (tlc2.TLC calls System.exit) started with the same java
 * binary.  The model's folder is copied into a fresh work directory that also holds TLC's
 * {@code -metadir} and {@code java.io.tmpdir}, so {@code states/}, extracted standard modules
 * and trace files never reach the source tree; the work directory is deleted afterwards.
 *
 * <p>The child's main is {@link TlcChild}: it dies with this JVM, also when this JVM is killed
 * with SIGKILL. {@link #cancel()} stops the running child from another thread (a shutdown hook).
 */
public final class TlcRunner {

    /**
     * Exit status of a JVM ended by SIGINT (128 + 2), as Ctrl-C in a terminal sends it to the
     * whole foreground process group, TLC included. TLC's own statuses never take this value.
     */
    static final int INTERRUPTED_EXIT = 130;
    /** Folder (beside the models' folders) whose modules every model may use: the contract. */
    static final String SHARED_MODULES = "contract";

    private final Path workRoot;
    private final Object lock = new Object();
    // Guarded by lock: the TLC child of the run in progress, null between runs.
    private Process current;
    // Guarded by lock.
    private boolean cancelled;

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
     * @throws InterruptedException when {@link #cancel()} was called, or the child was ended by
     *                              SIGINT (Ctrl-C): there is no result then
     */
    public TlcResult run(Path modelDir, String module, String configFile, int workers, LongConsumer progress)
            throws IOException, InterruptedException {
        return run(modelDir, module, configFile, workers, progress, List.of(), line -> { });
    }

    /**
     * Returns what TLC found, as {@link #run(Path, String, String, int, LongConsumer)} does, and
     * hands every line TLC printed to {@code lines} as it comes (what a spec prints with
     * {@code PrintT} is in them).
     */
    public TlcResult run(Path modelDir, String module, String configFile, int workers, LongConsumer progress,
                         Consumer<String> lines) throws IOException, InterruptedException {
        return run(modelDir, module, configFile, workers, progress, List.of(), lines);
    }

    /**
     * Returns what TLC found, as {@link #run(Path, String, String, int, LongConsumer)}, with
     * {@code options} (e.g. {@code -dump FILE}) passed to TLC before the module.
     */
    public TlcResult run(Path modelDir, String module, String configFile, int workers, LongConsumer progress,
            List<String> options) throws IOException, InterruptedException {
        return run(modelDir, module, configFile, workers, progress, options, line -> { });
    }

    /** Returns what TLC found with {@code options} passed to TLC, handing every line it printed to {@code lines}. */
    public TlcResult run(Path modelDir, String module, String configFile, int workers, LongConsumer progress,
            List<String> options, Consumer<String> lines) throws IOException, InterruptedException {
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
                    "-cp", childClassPath(), TlcChild.class.getName(), "-tool", "-cleanup",
                    // action coverage, printed at the end of the run (and hourly)
                    "-coverage", "60",
                    "-workers", Integer.toString(workers),
                    "-metadir", work.resolve("meta").toString(),
                    "-config", configFile));
            command.addAll(options);
            command.add(module + ".tla");
            // The child's stdin stays a pipe from this JVM, never written: TlcChild's lifeline.
            ProcessBuilder builder = new ProcessBuilder(command)
                    .directory(work.toFile())
                    .redirectErrorStream(true);
            Process process;
            synchronized (lock) {
                if (cancelled) {
                    throw new InterruptedException("TLC run cancelled");
                }
                process = builder.start();
                current = process;
            }
            TlcOutput output = new TlcOutput(progress);
            int exit;
            try (BufferedReader reader = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    output.accept(line);
                    lines.accept(line);
                }
                exit = process.waitFor();
            } catch (IOException e) {
                // cancel() destroys the process, which closes the stream this thread reads.
                synchronized (lock) {
                    if (cancelled) {
                        throw new InterruptedException("TLC run cancelled");
                    }
                }
                throw e;
            } finally {
                if (process.isAlive()) {
                    process.destroyForcibly();
                }
                process.getOutputStream().close();
                synchronized (lock) {
                    current = null;
                }
            }
            synchronized (lock) {
                if (cancelled || exit == INTERRUPTED_EXIT) {
                    throw new InterruptedException("TLC run interrupted");
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            return output.result(exit, config,
                    name -> moduleFile(modelDir, name).toString(), seconds);
        } finally {
            deleteTree(work);
        }
    }

    /**
     * Stops the TLC child of the run in progress and waits until it has exited; the run in
     * progress and every later one then throw {@link InterruptedException}.
     */
    public void cancel() {
        Process process;
        synchronized (lock) {
            cancelled = true;
            process = current;
        }
        if (process != null) {
            process.destroyForcibly();
            boolean interrupted = false;
            while (true) {
                try {
                    process.waitFor();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void copyModels(Path modelDir, Path work) throws IOException {
        try (Stream<Path> files = Files.list(modelDir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".tla") || p.toString().endsWith(".cfg")).toList()) {
                Files.copy(f, work.resolve(f.getFileName()));
            }
        }
        // Every model may INSTANCE the contract's modules (its refinement mapping); a module of the
        // model's own folder with the same name wins.
        Path shared = sharedModulesDir(modelDir);
        if (Files.isDirectory(shared) && !shared.equals(modelDir.toAbsolutePath().normalize())) {
            try (Stream<Path> files = Files.list(shared)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".tla")).toList()) {
                    if (!Files.exists(work.resolve(f.getFileName()))) {
                        Files.copy(f, work.resolve(f.getFileName()));
                    }
                }
            }
        }
    }

    /** Returns the folder of the modules every model can use: {@code contract} beside the model's folder. */
    static Path sharedModulesDir(Path modelDir) {
        return modelDir.toAbsolutePath().normalize().resolveSibling(SHARED_MODULES);
    }

    /** Returns the file of module {@code name} as TLC found it for a model of {@code modelDir}. */
    static Path moduleFile(Path modelDir, String name) {
        Path own = modelDir.resolve(name + ".tla");
        Path shared = sharedModulesDir(modelDir).resolve(name + ".tla");
        return Files.exists(own) || !Files.exists(shared) ? own : shared;
    }

    /** Returns the java binary of the running JVM. */
    static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Returns the class path of the child: where {@link TlcChild} and tlc2.TLC come from (one jar when shaded). */
    static String childClassPath() {
        Set<String> entries = new LinkedHashSet<>();
        entries.add(codeSource(TlcChild.class));
        entries.add(codeSource(tlc2.TLC.class));
        return String.join(File.pathSeparator, entries);
    }

    private static String codeSource(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the class path entry of " + type.getName(), e);
        }
    }

    /**
     * Deletes {@code root} and everything under it; files that vanish meanwhile (another thread
     * deleting the same tree, TLC removing its own) are not an error.
     */
    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(root)) {
            paths = walk.sorted(Comparator.reverseOrder()).toList();
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof NoSuchFileException) {
                deleteTree(root);
                return;
            }
            throw e.getCause();
        } catch (NoSuchFileException gone) {
            return;
        }
        for (Path p : paths) {
            try {
                Files.deleteIfExists(p);
            } catch (DirectoryNotEmptyException refilled) {
                deleteTree(p);
            }
        }
    }
}
