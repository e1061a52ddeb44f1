package org.dirtylog.conformance;

/**
 * What a race rule covered, for the certificate: how many vCPUs wrote while the kit harvested,
 * how many writes and harvests there were, how many writes the oracle could judge, and how the
 * schedule was perturbed.
 *
 * @param vcpus vCPUs writing at once
 * @param writers who drove them: kit threads running batches of writes, and/or the backend's
 *                random-writing guest
 * @param writes guest writes completed
 * @param harvests harvests run, while the vCPUs wrote and after they stopped
 * @param harvestStyles which harvest ioctl each slot used ({@code GET}, {@code SWITCH}, or per slot)
 * @param observations writes that completed and were not rewritten before the harvest that had
 *                     to report them, that harvest running while vCPUs wrote: the evidence the
 *                     verdict rests on
 * @param minObservations fewer observations than this is an ERROR (insufficient coverage)
 * @param perturbation how the schedule was perturbed
 */
public record Concurrency(int vcpus, String writers, long writes, long harvests, String harvestStyles,
                          long observations, long minObservations, Perturbation.Settings perturbation) {

    /** Returns one line for a verdict's message. */
    public String describe() {
        return vcpus + " vCPU" + (vcpus == 1 ? "" : "s") + " (" + writers + "), " + writes + " writes, " + harvests
                + " harvests (" + harvestStyles + "), " + observations + " judged writes (>= " + minObservations
                + " required); " + perturbation.describe();
    }
}
