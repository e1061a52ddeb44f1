package org.dirtylog.perturbation;

import java.lang.instrument.Instrumentation;
import java.lang.instrument.UnmodifiableClassException;
import java.util.ArrayList;
import java.util.List;

/** Installs the agent once {@link PerturbationAgent} put the jar on the bootstrap class path. */
public final class Installer {

    private Installer() {
    }

    /**
     * Configures {@link Noise} from {@code args}, registers the transformer and, when
     * {@code late}, rewrites the eligible classes loaded so far.
     *
     * @throws IllegalArgumentException naming an unknown or out-of-range option
     */
    public static void install(String args, Instrumentation inst, boolean late) {
        Options options = Options.parse(args);
        Noise.configure(options.probability(), options.maxDelayNanos());
        NoiseTransformer transformer = new NoiseTransformer(options.include());
        inst.addTransformer(transformer, true);
        Noise.markAttached();
        if (late) {
            List<Class<?>> loaded = new ArrayList<>();
            for (Class<?> c : inst.getAllLoadedClasses()) {
                if (inst.isModifiableClass(c) && !c.isHidden()
                        && transformer.eligible(c.getName().replace('.', '/'), c.getClassLoader())) {
                    loaded.add(c);
                }
            }
            try {
                if (!loaded.isEmpty()) {
                    inst.retransformClasses(loaded.toArray(new Class<?>[0]));
                }
            } catch (UnmodifiableClassException e) {
                throw new IllegalStateException("dirtylog perturbation agent: " + e.getMessage(), e);
            }
        }
        if (options.onSeed() != null) {
            Noise.start(options.onSeed());
        }
    }

    /** The agent's parsed options. */
    record Options(double probability, long maxDelayNanos, List<String> include, Long onSeed) {

        /**
         * Returns the options in {@code args}.
         *
         * @throws IllegalArgumentException naming the option that is unknown or out of range
         */
        static Options parse(String args) {
            double p = Noise.DEFAULT_PROBABILITY;
            long max = Noise.DEFAULT_MAX_DELAY_NANOS;
            List<String> include = new ArrayList<>();
            Long on = null;
            if (args != null && !args.isBlank()) {
                for (String part : args.split(",")) {
                    int eq = part.indexOf('=');
                    String key = eq < 0 ? part.trim() : part.substring(0, eq).trim();
                    String value = eq < 0 ? "" : part.substring(eq + 1).trim();
                    try {
                        switch (key) {
                            case "probability" -> p = Double.parseDouble(value);
                            case "maxDelayMicros" -> max = Long.parseLong(value) * 1000;
                            case "include" -> {
                                for (String pkg : value.split(";")) {
                                    if (!pkg.isBlank()) {
                                        include.add(pkg.trim().replace('.', '/') + "/");
                                    }
                                }
                            }
                            case "on" -> on = Long.parseLong(value);
                            default -> throw new IllegalArgumentException("dirtylog perturbation agent: unknown option '"
                                    + key + "' (known: probability, maxDelayMicros, include, on)");
                        }
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("dirtylog perturbation agent: option " + key + " needs a number, got '"
                                + value + "'", e);
                    }
                }
            }
            if (!(p >= 0 && p <= 1) || max < 0 || max > 10_000_000) {
                throw new IllegalArgumentException("dirtylog perturbation agent: probability must be in [0, 1] and "
                        + "maxDelayMicros in [0, 10000]");
            }
            return new Options(p, max, include, on);
        }
    }
}
