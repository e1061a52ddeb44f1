package org.dirtylog.perturbation;

import java.lang.instrument.Instrumentation;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.jar.JarFile;

/**
 * The agent's entry points: {@code -javaagent:dirtylog-perturbation-agent.jar[=options]} at
 * start-up, or a dynamic attach. It puts its own jar on the bootstrap class path, so that
 * backend code of any class loader reaches the one {@link Noise} switch, and hands over to
 * {@link Installer} as loaded from there (the JVM loaded this class from the system class path
 * before the jar was on the bootstrap path; everything after it must come from one loader).
 * The noise starts off; the kit's race rules turn it on while vCPUs write.
 *
 * <p>Options, comma-separated: {@code probability=P} (0..1, default
 * {@value Noise#DEFAULT_PROBABILITY}), {@code maxDelayMicros=N} (0..10000, default 50),
 * {@code include=a.b;c.d} (only classes in these packages), {@code on=SEED} (noise on from the
 * start, for measuring a program that does not switch it itself).
 */
public final class PerturbationAgent {

    private PerturbationAgent() {
    }

    /** Called by the JVM for {@code -javaagent}. */
    public static void premain(String args, Instrumentation inst) throws ReflectiveOperationException {
        handOver(args, inst, false);
    }

    /** Called by the JVM for a dynamic attach: also rewrites the classes loaded so far. */
    public static void agentmain(String args, Instrumentation inst) throws ReflectiveOperationException {
        handOver(args, inst, true);
    }

    private static void handOver(String args, Instrumentation inst, boolean late) throws ReflectiveOperationException {
        try {
            Path jar = Path.of(PerturbationAgent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            inst.appendToBootstrapClassLoaderSearch(new JarFile(jar.toFile()));
        } catch (java.io.IOException | URISyntaxException | RuntimeException e) {
            throw new IllegalStateException("dirtylog perturbation agent: cannot put its jar on the bootstrap class path", e);
        }
        Class<?> installer = Class.forName(PerturbationAgent.class.getPackageName() + ".Installer", true, null);
        installer.getMethod("install", String.class, Instrumentation.class, boolean.class).invoke(null, args, inst, late);
    }
}
