package org.dirtylog.conformance.isolation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How a child JVM is started: the same {@code java} and class path as this JVM, the flags every
 * child needs, and {@link #jvmArgs()} that callers may extend (e.g. an agent for a group of
 * rules) with {@link #withJvmArgs}.
 *
 * @param java the {@code java} executable
 * @param classpath the class path, as {@code java.class.path} gives it
 * @param jvmArgs options placed before the main class
 */
public record ChildLaunch(Path java, String classpath, List<String> jvmArgs) {

    /** The child's crash-report folder, which it removes itself when its parent dies first. */
    static final String CRASH_DIR_PROPERTY = "dirtylog.child.crash-dir";

    /** System properties of this JVM that a child inherits. */
    private static final List<String> INHERITED = List.of("dirtylog.root", "java.io.tmpdir");

    public ChildLaunch {
        jvmArgs = List.copyOf(jvmArgs);
    }

    /**
     * Returns the launch of a child like this JVM: {@code --enable-native-access=ALL-UNNAMED}
     * (backends use FFM), {@code -XX:+ExitOnOutOfMemoryError} (an exhausted heap ends the JVM
     * at once instead of failing at random later), no core dump, and the inherited
     * {@code dirtylog.root} and {@code java.io.tmpdir}.
     */
    public static ChildLaunch ofThisJvm() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> args = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "-XX:+ExitOnOutOfMemoryError",
                "-XX:-CreateCoredumpOnCrash"));
        for (String p : INHERITED) {
            String v = System.getProperty(p);
            if (v != null) {
                args.add("-D" + p + "=" + v);
            }
        }
        return new ChildLaunch(java, System.getProperty("java.class.path"), args);
    }

    /** System property naming the perturbation agent's jar (the self-test's Surefire sets it). */
    static final String AGENT_JAR_PROPERTY = "dirtylog.agent.jar";
    /** The agent's jar as the CLI's build places it: beside {@code dirtylog.jar}. */
    static final String AGENT_JAR_NAME = "dirtylog-perturbation-agent.jar";

    /**
     * Returns this launch with the perturbation agent attached ({@code -javaagent}), when its jar
     * is found: the file {@value #AGENT_JAR_PROPERTY} names, else {@value #AGENT_JAR_NAME} beside
     * the jar this class was loaded from. Without it the race rules run with kit-side
     * perturbation only, and every race rule's certificate entry says so.
     */
    public ChildLaunch withPerturbationAgent() {
        return agentJar().map(jar -> withJvmArgs(List.of("-javaagent:" + jar))).orElse(this);
    }

    /** Returns the perturbation agent's jar, if there is one. */
    static Optional<Path> agentJar() {
        String named = System.getProperty(AGENT_JAR_PROPERTY);
        if (named != null && !named.isBlank()) {
            Path p = Path.of(named);
            return Files.isRegularFile(p) ? Optional.of(p.toAbsolutePath()) : Optional.empty();
        }
        try {
            Path self = Path.of(ChildLaunch.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path beside = self.resolveSibling(AGENT_JAR_NAME);
            return Files.isRegularFile(self) && Files.isRegularFile(beside) ? Optional.of(beside.toAbsolutePath())
                    : Optional.empty();
        } catch (java.net.URISyntaxException | RuntimeException e) {
            // No code source (an unusual class loader): no agent, which the certificates record.
            return Optional.empty();
        }
    }

    /** Returns this launch with {@code more} appended to {@link #jvmArgs()}. */
    public ChildLaunch withJvmArgs(List<String> more) {
        List<String> all = new ArrayList<>(jvmArgs);
        all.addAll(more);
        return new ChildLaunch(java, classpath, all);
    }

    /**
     * Returns the command that starts {@link ChildMain} with this launch, writing a JVM crash
     * report into {@code crashDir}. On Linux the child runs in a session of its own
     * ({@code setsid}), so the terminal's Ctrl-C reaches only the parent, which ends its
     * children itself and records the interruption.
     */
    List<String> command(Path crashDir) {
        List<String> cmd = new ArrayList<>();
        Path setsid = Path.of("/usr/bin/setsid");
        if (Files.isExecutable(setsid)) {
            cmd.add(setsid.toString());
        }
        cmd.add(java.toString());
        cmd.addAll(jvmArgs);
        cmd.add("-XX:ErrorFile=" + crashDir.resolve("hs_err_pid%p.log"));
        cmd.add("-D" + CRASH_DIR_PROPERTY + "=" + crashDir);
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(ChildMain.class.getName());
        return cmd;
    }
}
