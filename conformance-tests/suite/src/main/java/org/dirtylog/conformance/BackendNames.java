package org.dirtylog.conformance;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The names {@code certify} and {@code backends} accept for a backend: 1 to 64 of
 * {@code A-Z a-z 0-9 . _ -}, not {@code .} or {@code ..}. A name is a folder of the report, so
 * anything else could leave it ({@code ..}, {@code a/b}) or collide with another
 * ({@code a/b} and {@code a_b} once cleaned). The reference backends built with a defect for the
 * self-test ({@code reference-x86+edde99ce}) are never loaded by name and are not held to this.
 */
public final class BackendNames {

    /** The pattern a name matches, besides not being {@code .} or {@code ..}. */
    public static final Pattern VALID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private BackendNames() {
    }

    /** Returns why {@code name} is not a valid backend name, or empty when it is. */
    public static Optional<String> problem(String name) {
        if (name == null) {
            return Optional.of("null is not a backend name");
        }
        if (VALID.matcher(name).matches() && !name.equals(".") && !name.equals("..")) {
            return Optional.empty();
        }
        String shown = name.length() > 64 ? "'" + name.substring(0, 64) + "...' (" + name.length() + " characters)"
                : "'" + name + "'";
        return Optional.of(shown + " is not a backend name (1 to 64 of A-Z a-z 0-9 . _ -, not . or ..)");
    }
}
