package org.dirtylog.conformance.isolation;

import java.time.Duration;

/**
 * How long the parent waits on a child JVM.
 *
 * @param metadataTimeout how long a backend's constructor, {@code name()}, {@code description()},
 *                        {@code availability()} or {@code capabilities()} may take
 * @param watchdog how long a child may stay silent (it says it is alive every second) before it
 *                 is killed; a rule may also run at most its timeout plus this much
 */
public record Limits(Duration metadataTimeout, Duration watchdog) {

    /** The system property that sets {@link #metadataTimeout()} in whole seconds. */
    public static final String METADATA_TIMEOUT_PROPERTY = "dirtylog.metadata-timeout";
    /** The system property that sets {@link #watchdog()} in whole seconds. */
    public static final String WATCHDOG_PROPERTY = "dirtylog.watchdog";

    /** The defaults: 10 s per metadata call, 30 s of silence. */
    public static final Limits DEFAULT = new Limits(Duration.ofSeconds(10), Duration.ofSeconds(30));

    /**
     * Returns the limits set by the system properties {@value #METADATA_TIMEOUT_PROPERTY} and
     * {@value #WATCHDOG_PROPERTY} (whole seconds from 1 to 3600), the defaults otherwise.
     *
     * @throws IllegalArgumentException with one line naming the property when a value is not
     *                                  such a number
     */
    public static Limits fromSystemProperties() {
        return new Limits(seconds(METADATA_TIMEOUT_PROPERTY, DEFAULT.metadataTimeout()),
                seconds(WATCHDOG_PROPERTY, DEFAULT.watchdog()));
    }

    private static Duration seconds(String property, Duration fallback) {
        String v = System.getProperty(property);
        if (v == null) {
            return fallback;
        }
        if (v.matches("[0-9]{1,4}") && Integer.parseInt(v) >= 1 && Integer.parseInt(v) <= 3600) {
            return Duration.ofSeconds(Integer.parseInt(v));
        }
        throw new IllegalArgumentException("-D" + property + " needs whole seconds from 1 to 3600, not '" + v + "'");
    }
}
