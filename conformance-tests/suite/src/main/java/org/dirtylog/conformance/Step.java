package org.dirtylog.conformance;

/**
 * One call of a scenario as it happened: what the suite asked and what the backend answered.
 *
 * @param actor {@code vm}, {@code vcpu0}, ... or {@code suite} for the suite's own reads
 * @param call the call with its arguments, e.g. {@code KVM_GET_DIRTY_LOG(slot=0)}
 * @param result what came back, e.g. {@code 0, pages [3, 66]} or {@code -ENOENT}
 */
public record Step(String actor, String call, String result) {
}
