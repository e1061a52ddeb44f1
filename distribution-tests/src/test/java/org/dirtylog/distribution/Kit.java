package org.dirtylog.distribution;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Test helper: the kit as a user gets it. Copies the sources of this checkout into a folder of
 * their own (what a fresh clone holds: no {@code target/}, no reports), and runs commands there
 * with a Maven local repository of their own, so that nothing these tests build can reach the
 * user's {@code ~/.m2} and nothing already installed there can stand in for the kit's own
 * artifacts. Third-party artifacts are read from {@code ~/.m2/repository} (a read-only "tail"
 * without {@code org/dirtylog}), or downloaded from Maven Central when it lacks them.
 */
final class Kit {

    /** How long a nested build or launch may take before the test calls it a hang. */
    static final Duration HANG = Duration.ofMinutes(15);
    /** The kit's own group, as a path in a Maven repository. */
    static final String GROUP_PATH = "org/dirtylog";

    private static final Set<String> NOT_SOURCES = Set.of("target", ".git", "dirtylog-report", ".idea");

    private Kit() {
    }

    /** Returns the root of the checkout these tests run in (this module's parent folder). */
    static Path checkoutRoot() {
        Path module = Path.of("").toAbsolutePath();
        Path root = module.getParent();
        if (root == null || !Files.isRegularFile(root.resolve("dirtylog"))) {
            throw new IllegalStateException("not run from distribution-tests of a kit checkout: " + module);
        }
        return root;
    }

    /**
     * Copies the sources of the checkout at {@code root} into {@code to} and returns {@code to}:
     * the files git tracks or would track (ignored ones left out) when {@code root} is a git work
     * tree, else every file outside {@code target/}, {@code .git} and report folders. Permissions
     * are kept, so {@code dirtylog} and {@code mvnw} stay executable.
     */
    static Path copySources(Path root, Path to) throws IOException, InterruptedException {
        List<Path> files = new ArrayList<>();
        Result git = onPath("git")
                ? run(root, Map.of(), "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
                : new Result(-1, "", "git is not installed");
        if (git.status() == 0) {
            for (String name : git.out().split("\0")) {
                if (!name.isEmpty() && Files.isRegularFile(root.resolve(name))) {
                    files.add(Path.of(name));
                }
            }
        } else {
            try (Stream<Path> walk = Files.walk(root)) {
                walk.filter(Files::isRegularFile)
                        .map(root::relativize)
                        .filter(p -> Stream.iterate(p, q -> q != null, Path::getParent)
                                .noneMatch(q -> NOT_SOURCES.contains(q.getFileName().toString())))
                        .forEach(files::add);
            }
        }
        for (Path file : files) {
            Path target = to.resolve(file.toString());
            Files.createDirectories(target.getParent());
            Files.copy(root.resolve(file), target, StandardCopyOption.COPY_ATTRIBUTES);
        }
        return to;
    }

    /**
     * A Maven local repository for one test: {@code head} receives everything Maven writes;
     * {@code tail} links every folder of the repository the running build reads (system property
     * {@code dirtylog.test.maven.repository}, else {@code ~/.m2/repository}) except
     * {@code org/dirtylog}.
     */
    record Repository(Path head, Path tail) implements AutoCloseable {

        /** Creates both under {@code dir}. */
        static Repository create(Path dir) throws IOException {
            Path head = Files.createDirectories(dir.resolve("m2-repository"));
            Path tail = Files.createDirectories(dir.resolve("m2-tail"));
            String outer = System.getProperty("dirtylog.test.maven.repository", "");
            Path user = outer.isBlank() ? Path.of(System.getProperty("user.home"), ".m2", "repository") : Path.of(outer);
            if (Files.isDirectory(user)) {
                link(user, tail, Path.of(GROUP_PATH));
            }
            return new Repository(head, tail);
        }

        /** Links each entry of {@code from} into {@code to}, descending along {@code excluded} to leave it out. */
        private static void link(Path from, Path to, Path excluded) throws IOException {
            try (Stream<Path> entries = Files.list(from)) {
                for (Path entry : entries.toList()) {
                    Path name = entry.getFileName();
                    if (name.equals(excluded.getName(0))) {
                        if (excluded.getNameCount() > 1 && Files.isDirectory(entry)) {
                            Path into = Files.createDirectories(to.resolve(name.toString()));
                            link(entry, into, excluded.subpath(1, excluded.getNameCount()));
                        }
                    } else {
                        Files.createSymbolicLink(to.resolve(name.toString()), entry);
                    }
                }
            }
        }

        /** Removes the links of {@code tail} (never what they point to). */
        @Override
        public void close() throws IOException {
            try (Stream<Path> links = Files.walk(tail)) {
                for (Path link : links.filter(Files::isSymbolicLink).toList()) {
                    Files.delete(link);
                }
            }
        }

        /** Returns the kit's own artifacts that were written into {@code head} (group folders under org/dirtylog). */
        List<Path> kitArtifacts() throws IOException {
            Path group = head.resolve(GROUP_PATH);
            if (!Files.isDirectory(group)) {
                return List.of();
            }
            try (Stream<Path> artifacts = Files.list(group)) {
                return artifacts.sorted().toList();
            }
        }
    }

    /**
     * Returns the environment of a command run as a user would, with this JVM's JDK as
     * {@code JAVA_HOME}, Maven pointed at {@code repository} through {@code MAVEN_ARGS}, and
     * {@code mvn} on the path being the wrapper of the kit copy at {@code kit}.
     */
    static Map<String, String> environment(Repository repository, Path kit, Path scratch) throws IOException {
        Path bin = Files.createDirectories(scratch.resolve("bin"));
        Path mvn = bin.resolve("mvn");
        Files.writeString(mvn, "#!/bin/sh\nexec '" + kit.resolve("mvnw") + "' \"$@\"\n", StandardCharsets.UTF_8);
        if (!mvn.toFile().setExecutable(true)) {
            throw new IOException("cannot make " + mvn + " executable");
        }
        Map<String, String> env = new HashMap<>();
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("MAVEN_ARGS", "-Dmaven.repo.local=" + repository.head() + " -Dmaven.repo.local.tail=" + repository.tail());
        env.put("PATH", bin + File.pathSeparator + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        return env;
    }

    /** What a command did: its exit status and its output. */
    record Result(int status, String out, String err) {

        /** Returns the end of both outputs, for a failure message. */
        String tail() {
            String both = "--- stdout\n" + out + "\n--- stderr\n" + err;
            return both.length() <= 6000 ? both : "..." + both.substring(both.length() - 6000);
        }
    }

    /** Starts {@code command} in {@code dir} with {@code env} added to this process's environment. */
    static Process start(Path dir, Map<String, String> env, Path out, Path err, String... command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
        builder.environment().remove("MAVEN_ARGS");
        builder.environment().putAll(env);
        Process process = builder.start();
        process.getOutputStream().close();
        return process;
    }

    /** Returns the result of {@code process} once it ended; fails the test after {@link #HANG}. */
    static Result await(Process process, Path out, Path err, String what) throws IOException, InterruptedException {
        if (!process.waitFor(HANG.toSeconds(), TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            throw new AssertionError(what + " still runs after " + HANG.toMinutes() + " min");
        }
        return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** Runs {@code command} in {@code dir} to its end and returns what it did. */
    static Result run(Path dir, Map<String, String> env, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("dirtylog-out-", ".txt");
        Path err = Files.createTempFile("dirtylog-err-", ".txt");
        try {
            return await(start(dir, env, out, err, command), out, err, String.join(" ", command));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Returns whether {@code name} is an executable on the path. */
    static boolean onPath(String name) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, name)));
    }
}
