package org.dirtylog.conformance;

import java.util.ArrayList;
import java.util.List;

/**
 * The steps of one rule's scenario, in the order they happened: every call the suite made with
 * the backend's answer, and the suite's own reads. A FAIL verdict shows them. Thread-safe:
 * vCPU threads record while the harvester does.
 */
public final class Recorder {

    /** Steps kept for the report; longer scenarios keep their first steps and a count. */
    static final int MAX_STEPS = 400;

    private final List<Step> steps = new ArrayList<>();
    private int dropped;
    private volatile String summary = "";
    private volatile Concurrency concurrency;

    /** Records a step. */
    public synchronized void record(String actor, String call, String result) {
        if (steps.size() < MAX_STEPS) {
            steps.add(new Step(actor, call, result));
        } else {
            dropped++;
        }
    }

    /** Records a note of the suite (a read of guest memory, a pause, a check). */
    public void note(String what, String result) {
        record("suite", what, result);
    }

    /** Returns the steps recorded so far, with a last line counting those not kept. */
    public synchronized List<Step> steps() {
        List<Step> out = new ArrayList<>(steps);
        if (dropped > 0) {
            out.add(new Step("suite", "(" + dropped + " further steps not kept)", ""));
        }
        return out;
    }

    /** Sets the one line a PASS verdict shows, e.g. how many writes a randomized rule checked. */
    public void summarise(String line) {
        summary = line;
    }

    /** Records what a race rule covered, for the certificate. */
    public void concurrency(Concurrency covered) {
        concurrency = covered;
    }

    /** Returns what a race rule covered, or null. */
    public Concurrency concurrency() {
        return concurrency;
    }

    /** Returns the line set by {@link #summarise(String)}, empty if none. */
    public String summary() {
        return summary;
    }
}
