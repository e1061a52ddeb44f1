package org.dirtylog.spec;

/**
 * How often TLC took one action of the next-state relation, from its {@code -coverage} report
 * (message 2772, {@code <Action line ... of module M>: distinct:generated}).
 *
 * @param action          the action's name as the spec defines it, e.g. {@code VcpuStore}
 * @param distinctStates  new distinct states the action found
 * @param generatedStates states the action generated, new or already seen
 */
public record ActionCoverage(String action, long distinctStates, long generatedStates) {

    /** Returns whether the action was enabled and taken in at least one state. */
    public boolean taken() {
        return generatedStates > 0;
    }
}
