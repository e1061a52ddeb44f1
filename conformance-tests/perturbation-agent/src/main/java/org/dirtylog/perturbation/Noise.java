package org.dirtylog.perturbation;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The noise the agent injects, and its switch. Instrumented code calls {@link #point()} just
 * before each access where a race window opens; while the noise is on, each call delays the
 * calling thread with probability {@link #probability()}: a {@code Thread.yield()}, a spin, or a
 * {@code parkNanos}, each a third of the time, spins and parks lasting a uniformly drawn time up
 * to {@link #maxDelayNanos()}. Each thread draws from its own generator, seeded from the seed
 * given to {@link #start(long)} and the order in which threads first reach a point; the
 * schedule is therefore seeded but not replayable (the operating system still decides).
 *
 * <p>The agent puts this class on the bootstrap class path, so code of any class loader can
 * call it and the kit reaches one instance by name ({@code org.dirtylog.perturbation.Noise}).
 * While the noise is off a point costs one volatile read.
 */
public final class Noise {

    /** Default chance that a point delays its thread (measured; see the module README). */
    public static final double DEFAULT_PROBABILITY = 0.1;
    /** Default longest delay of a spin or park, in nanoseconds. */
    public static final long DEFAULT_MAX_DELAY_NANOS = 50_000;

    private static volatile boolean attached;
    private static volatile boolean on;
    private static volatile int generation;
    private static volatile long seed;
    private static volatile double probability = DEFAULT_PROBABILITY;
    private static volatile long maxDelayNanos = DEFAULT_MAX_DELAY_NANOS;
    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final AtomicInteger CLASSES = new AtomicInteger();
    private static final LongAdder SITES = new LongAdder();
    private static final LongAdder POINTS = new LongAdder();
    private static final LongAdder DELAYS = new LongAdder();
    private static final ThreadLocal<Draw> DRAW = new ThreadLocal<>();

    /** A thread's generator for one generation of {@link #start(long)}, and whether it is left alone. */
    private record Draw(int generation, SplittableRandom random, boolean exempt) {
    }

    private Noise() {
    }

    /**
     * The call instrumented code makes before a racy access: returns at once while the noise is
     * off, else maybe delays the calling thread.
     */
    public static void point() {
        if (!on) {
            return;
        }
        Draw d = draw(false);
        if (d.exempt()) {
            return;
        }
        POINTS.increment();
        SplittableRandom r = d.random();
        if (r.nextDouble() >= probability) {
            return;
        }
        DELAYS.increment();
        switch (r.nextInt(3)) {
            case 0 -> Thread.yield();
            case 1 -> {
                long until = System.nanoTime() + r.nextLong(maxDelayNanos + 1);
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
            }
            default -> LockSupport.parkNanos(1 + r.nextLong(maxDelayNanos));
        }
    }

    private static Draw draw(boolean exempt) {
        Draw d = DRAW.get();
        int g = generation;
        if (d == null || d.generation() != g || (exempt && !d.exempt())) {
            d = new Draw(g, new SplittableRandom(mix(seed, THREADS.incrementAndGet())), exempt || (d != null
                    && d.generation() == g && d.exempt()));
            DRAW.set(d);
        }
        return d;
    }

    /**
     * Leaves the calling thread unperturbed until the next {@link #start(long)}: the kit uses it
     * to perturb only the vCPUs' threads, or only its harvesting thread, in a phase, because a
     * window opens only when one side is slow and the other fast (a harvest passes thousands of
     * points, a guest store a few).
     */
    public static void exemptCurrentThread() {
        draw(true);
    }

    private static long mix(long s, int thread) {
        long h = s ^ (0x9E3779B97F4A7C15L * thread);
        h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
        h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
        return h ^ (h >>> 31);
    }

    /** Returns true when the agent was attached to this JVM (not merely on the class path). */
    public static boolean attached() {
        return attached;
    }

    /** Turns the noise on, every thread drawing afresh from {@code newSeed}. */
    public static synchronized void start(long newSeed) {
        seed = newSeed;
        THREADS.set(0);
        generation = generation + 1;
        on = true;
    }

    /** Turns the noise off. */
    public static synchronized void stop() {
        on = false;
    }

    /** Returns true while the noise is on. */
    public static boolean running() {
        return on;
    }

    /**
     * Sets the chance of a delay at each point and the longest delay; for the agent's arguments
     * and for measurements.
     *
     * @throws IllegalArgumentException unless {@code 0 <= p <= 1} and {@code 0 <= maxNanos <= 10 ms}
     */
    public static synchronized void configure(double p, long maxNanos) {
        if (!(p >= 0 && p <= 1) || maxNanos < 0 || maxNanos > 10_000_000) {
            throw new IllegalArgumentException("probability must be in [0, 1] and the delay in [0, 10 ms]: " + p + ", "
                    + maxNanos + " ns");
        }
        probability = p;
        maxDelayNanos = maxNanos;
    }

    /** Returns the chance of a delay at each point. */
    public static double probability() {
        return probability;
    }

    /** Returns the longest spin or park, in nanoseconds. */
    public static long maxDelayNanos() {
        return maxDelayNanos;
    }

    /** Returns how many classes got at least one point. */
    public static int instrumentedClasses() {
        return CLASSES.get();
    }

    /** Returns how many points were inserted into those classes. */
    public static long sites() {
        return SITES.sum();
    }

    /** Returns how many times instrumented code passed a point while the noise was on for its thread. */
    public static long points() {
        return POINTS.sum();
    }

    /** Returns how many of those points delayed their thread. */
    public static long delays() {
        return DELAYS.sum();
    }

    /** Records that the agent's premain or agentmain ran; only the agent calls it. */
    public static void markAttached() {
        attached = true;
    }

    /** Counts one instrumented class with {@code sitesInClass} points; only the agent calls it. */
    public static void countClass(int sitesInClass) {
        CLASSES.incrementAndGet();
        SITES.add(sitesInClass);
    }
}
