package org.dirtylog.spec;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One entry of {@code models.json}: a model's expected and actual outcome.
 *
 * @param model                   the model's name
 * @param expected                the manifest's expectation
 * @param actual                  what TLC found ({@code holds}, {@code violates:P},
 *                                {@code deadlock}, {@code error})
 * @param ok                      whether {@code actual} equals {@code expected} and every action
 *                                was taken or its absence explained
 * @param distinctStates          distinct states TLC reported (-1: none)
 * @param expectedDistinctStates  the manifest's count (with one worker)
 * @param seconds                 wall-clock seconds
 * @param workers                 TLC worker threads used
 * @param trace                   file name of the counterexample, when there is one
 * @param traceSvg                file name of the counterexample drawn as an SVG swimlane
 *                                diagram ({@link TraceSvg}), next to {@code trace}
 * @param error                   {@code file:line: message} of a spec or config error
 * @param unexplainedNeverTaken   actions TLC never took that the manifest's {@code never_taken}
 *                                does not explain (each makes the model fail); omitted when none
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelReport(
        String model,
        String expected,
        String actual,
        boolean ok,
        @JsonProperty("distinct_states") long distinctStates,
        @JsonProperty("expected_distinct_states") long expectedDistinctStates,
        double seconds,
        int workers,
        String trace,
        @JsonProperty("trace_svg") String traceSvg,
        String error,
        @JsonProperty("unexplained_never_taken") @JsonInclude(JsonInclude.Include.NON_EMPTY)
        List<String> unexplainedNeverTaken) {
}
