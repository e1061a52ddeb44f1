package org.dirtylog.conformance.isolation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
