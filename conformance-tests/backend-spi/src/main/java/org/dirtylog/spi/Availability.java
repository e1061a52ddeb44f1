package org.dirtylog.spi;

/**
 * Whether a backend can run on this machine, and if not, why (and how to fix it).
 *
 * @param available true when {@link DirtyLogBackend#createVm()} can be expected to work
 * @param reason one line for a person: empty when available, else the cause and the fix
 */
@Api(Api.Status.STABLE)
public record Availability(boolean available, String reason) {

    public static final Availability AVAILABLE = new Availability(true, "");

    public Availability {
        if (!available && (reason == null || reason.isBlank())) {
            throw new IllegalArgumentException("an unavailable backend must say why");
        }
        reason = reason == null ? "" : reason;
    }

    /** Returns an unavailable verdict with the given one-line reason. */
    public static Availability unavailable(String reason) {
        return new Availability(false, reason);
    }
}
