package org.dirtylog.conformance;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/**
 * The schedule perturbation of the race rules: the kit's perturbation agent
 * ({@code conformance-tests/perturbation-agent}, attached with {@code -javaagent}) injecting
 * seeded noise into the backend's bytecode, and the kit's own timing jitter (harvest gaps,
 * batch lengths) that every backend gets.
 *
 * <p>The suite does not depend on the agent: it finds the agent's control class by name on the
 * system class loader. Without the agent, or for a backend whose dirty logging runs in native
 * code (FFM downcalls or JNI, which no bytecode instrumentation reaches), only the kit-side
 * jitter applies and the certificate says {@value #KIT_SIDE_ONLY}.
 */
public final class Perturbation {

    /** The certificate's word for a run that perturbed only the kit's own threads. */
    public static final String KIT_SIDE_ONLY = "kit-side only";

    /** What the kit itself varies, from the rule's seed, for every backend. */
    public static final String KIT_SIDE = "harvest gaps (none or a spin of up to 20 us), batch lengths (8 to 200 writes "
            + "per KVM_RUN-like call), the order of slots and vCPU start times, all drawn from the rule's seed";

    /** Which threads the agent's noise reaches, per phase of the sparse oracle. */
    public static final String THREADS = "per phase, from the rule's seed: every thread, only the threads running the "
            + "vCPUs' writes, or only the harvesting thread (a window opens when one side is slow and the other fast)";

    /** Which threads a phase perturbs. */
    public enum Threads {
        /** Every thread that runs backend code. */
        ALL,
        /** The threads running vCPU writes; the harvesting thread runs unperturbed. */
        VCPUS,
        /** The harvesting thread; the kit threads running vCPU writes run unperturbed. */
        HARVESTER
    }

    private static final String CONTROL = "org.dirtylog.perturbation.Noise";

    /**
     * What a rule ran with, for the certificate.
     *
     * @param mode {@code agent} (noise in the backend's bytecode plus kit-side jitter) or
     *             {@value #KIT_SIDE_ONLY}
     * @param reason why the mode is kit-side only (empty for {@code agent})
     * @param probability chance of noise at each instrumented point (0 without the agent)
     * @param maxDelayNanos the longest single delay the agent injects
     * @param seed the seed the agent's noise was drawn from (the rule's seed)
     * @param instrumentedClasses backend classes the agent instrumented
     * @param points instrumented points the backend's perturbed threads passed while it was on,
     *               over every on/off window of the rule
     * @param delays of those, how many got a delay
     */
    public record Settings(String mode, String reason, double probability, long maxDelayNanos, long seed,
                           int instrumentedClasses, long points, long delays) {

        /** Returns true when the agent's noise was on. */
        public boolean agentOn() {
            return mode.equals("agent");
        }

        /** Returns one line for a verdict's message. */
        public String describe() {
            if (!agentOn()) {
                return "perturbation " + KIT_SIDE_ONLY + " (" + reason + ")";
            }
            return String.format(Locale.ROOT, "perturbation on (p=%.2f, <= %d us, %d classes, %d of %d points delayed)",
                    probability, maxDelayNanos / 1000, instrumentedClasses, delays, points);
        }
    }

    private static final Control AGENT = Control.find();
    private static final Map<Class<?>, Boolean> NATIVE = new ConcurrentHashMap<>();

    private final String reason;
    private final long seed;
    private long points0;
    private long delays0;
    /** Points and delays of the earlier on/off windows of this rule. */
    private long pointsBefore;
    private long delaysBefore;
    private boolean running;
    private Settings last;

    private Perturbation(String reason, long seed) {
        this.reason = reason;
        this.seed = seed;
    }

    /**
     * Returns the perturbation for one rule against {@code backend}, seeded with {@code seed}:
     * the agent's noise when the agent is attached and the backend's dirty logging is bytecode.
     */
    static Perturbation forRule(Object wrapped, long seed) {
        Object backend = Wrapping.unwrap(wrapped);
        String reason = AGENT == null ? "the perturbation agent is not attached to this JVM"
                : NATIVE.computeIfAbsent(backend.getClass(), Perturbation::nativeCodeIn) ? "the backend's code calls native code (FFM downcalls or JNI), "
                + "where its windows may lie and no bytecode instrumentation reaches" : "";
        return new Perturbation(reason, seed);
    }

    /** Returns true when the perturbation agent is attached to this JVM. */
    public static boolean agentAttached() {
        return AGENT != null;
    }

    /** Turns the agent's noise on (when it applies) for the concurrent part of a rule. */
    public synchronized void on() {
        if (!reason.isEmpty() || running) {
            return;
        }
        AGENT.start(seed);
        running = true;
        points0 = AGENT.points();
        delays0 = AGENT.delays();
    }

    /**
     * Restarts the agent's noise (when it is on) for phase {@code phase}: every thread draws
     * afresh from the rule's seed mixed with the phase, and no thread is exempt.
     */
    public synchronized void restart(int phase) {
        if (running) {
            AGENT.start(seed ^ (0x9E3779B97F4A7C15L * phase));
        }
    }

    /** Leaves the calling thread unperturbed until the next {@link #restart(int)} (no-op without the agent). */
    public void exemptCurrentThread() {
        if (reason.isEmpty()) {
            AGENT.exempt();
        }
    }

    /** Turns the agent's noise off and remembers what it did; safe to call twice. */
    public synchronized void off() {
        if (running) {
            AGENT.stop();
            running = false;
            pointsBefore += AGENT.points() - points0;
            delaysBefore += AGENT.delays() - delays0;
            last = new Settings("agent", "", AGENT.probability(), AGENT.maxDelayNanos(), seed, AGENT.instrumentedClasses(),
                    pointsBefore, delaysBefore);
        }
    }

    /** Returns what the rule ran with so far (turns nothing off). */
    public synchronized Settings settings() {
        if (!reason.isEmpty()) {
            return new Settings(KIT_SIDE_ONLY, reason, 0, 0, seed, 0, 0, 0);
        }
        if (running) {
            return new Settings("agent", "", AGENT.probability(), AGENT.maxDelayNanos(), seed, AGENT.instrumentedClasses(),
                    pointsBefore + AGENT.points() - points0, delaysBefore + AGENT.delays() - delays0);
        }
        return last != null ? last : new Settings(KIT_SIDE_ONLY, "the rule ran nothing concurrently", 0, 0, seed, 0, 0, 0);
    }

    /**
     * Returns true when the code source (jar or class folder) of {@code type} calls native code:
     * it links FFM downcalls ({@code java/lang/foreign/Linker}) or loads a JNI library. Its
     * windows are then in code no bytecode instrumentation reaches. In the kit's own bundle (the
     * CLI's jar) only the backend's package is read.
     */
    static boolean nativeCodeIn(Class<?> type) {
        CodeSource source = type.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null) {
            return false;
        }
        try {
            Path where = Path.of(source.getLocation().toURI());
            if (Files.isDirectory(where)) {
                try (Stream<Path> files = Files.walk(where)) {
                    return files.filter(f -> f.toString().endsWith(".class")).anyMatch(f -> {
                        try {
                            return callsNative(Files.readAllBytes(f));
                        } catch (java.io.IOException e) {
                            return false;
                        }
                    });
                }
            }
            try (ZipFile jar = new ZipFile(where.toFile())) {
                // The CLI's jar bundles every built-in backend, linux-kvm's FFM code too: there only
                // the backend's own package counts, as a backend's own jar or class folder would.
                boolean kitBundle = jar.getEntry(Perturbation.class.getName().replace('.', '/') + ".class") != null;
                String own = type.getPackageName().replace('.', '/') + "/";
                return jar.stream().filter(e -> e.getName().endsWith(".class"))
                        .filter(e -> !kitBundle || e.getName().startsWith(own)).anyMatch(e -> {
                    try (var in = jar.getInputStream(e)) {
                        return callsNative(in.readAllBytes());
                    } catch (java.io.IOException ex) {
                        return false;
                    }
                });
            }
        } catch (Exception e) {
            return false;
        }
    }

    private static boolean callsNative(byte[] classFile) {
        String text = new String(classFile, StandardCharsets.ISO_8859_1);
        return text.contains("java/lang/foreign/Linker") || text.contains("loadLibrary");
    }

    /** The agent's control class, reached by name so that the suite runs without it. */
    private record Control(MethodHandle startHandle, MethodHandle stopHandle, MethodHandle probabilityHandle,
                           MethodHandle maxDelayHandle, MethodHandle classesHandle, MethodHandle pointsHandle,
                           MethodHandle delaysHandle, MethodHandle exemptHandle) {

        static Control find() {
            try {
                Class<?> c = Class.forName(CONTROL, true, ClassLoader.getSystemClassLoader());
                MethodHandles.Lookup l = MethodHandles.publicLookup();
                boolean attached = (boolean) l.findStatic(c, "attached", MethodType.methodType(boolean.class)).invokeExact();
                if (!attached) {
                    return null;
                }
                return new Control(l.findStatic(c, "start", MethodType.methodType(void.class, long.class)),
                        l.findStatic(c, "stop", MethodType.methodType(void.class)),
                        l.findStatic(c, "probability", MethodType.methodType(double.class)),
                        l.findStatic(c, "maxDelayNanos", MethodType.methodType(long.class)),
                        l.findStatic(c, "instrumentedClasses", MethodType.methodType(int.class)),
                        l.findStatic(c, "points", MethodType.methodType(long.class)),
                        l.findStatic(c, "delays", MethodType.methodType(long.class)),
                        l.findStatic(c, "exemptCurrentThread", MethodType.methodType(void.class)));
            } catch (Throwable notThere) {
                return null;
            }
        }

        void start(long seed) {
            try {
                startHandle.invokeExact(seed);
            } catch (Throwable t) {
                throw new IllegalStateException("the perturbation agent failed to start", t);
            }
        }

        void exempt() {
            try {
                exemptHandle.invokeExact();
            } catch (Throwable t) {
                throw new IllegalStateException("the perturbation agent failed to exempt a thread", t);
            }
        }

        void stop() {
            try {
                stopHandle.invokeExact();
            } catch (Throwable t) {
                throw new IllegalStateException("the perturbation agent failed to stop", t);
            }
        }

        double probability() {
            try {
                return (double) probabilityHandle.invokeExact();
            } catch (Throwable t) {
                return Double.NaN;
            }
        }

        long maxDelayNanos() {
            return longOf(maxDelayHandle);
        }

        int instrumentedClasses() {
            try {
                return (int) classesHandle.invokeExact();
            } catch (Throwable t) {
                return -1;
            }
        }

        long points() {
            return longOf(pointsHandle);
        }

        long delays() {
            return longOf(delaysHandle);
        }

        private static long longOf(MethodHandle h) {
            try {
                return (long) h.invokeExact();
            } catch (Throwable t) {
                return -1;
            }
        }
    }
}
