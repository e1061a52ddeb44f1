package org.dirtylog.spec;

/**
 * An error in a specification or model configuration, located for the user.
 *
 * @param file    the file at fault, as the user should open it
 * @param line    1-based line, or 0 when TLC gave none
 * @param message TLC's (or the pre-check's) message
 */
public record SpecError(String file, int line, String message) {

    /** Returns {@code file:line: message} (the line is left out when unknown). */
    public String describe() {
        return (line > 0 ? file + ":" + line : file) + ": " + message;
    }
}
