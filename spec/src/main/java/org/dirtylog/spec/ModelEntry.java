package org.dirtylog.spec;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One model of {@code spec/models/manifest.json}: which TLC model module and configuration to
 * check, what the result must be, how many distinct states TLC finds with one worker, and why
 * an action of the next-state relation is never taken, if one is not.
 *
 * @param name            the model's name, as given to {@code check --model}
 * @param spec            the specification the model checks, relative to {@code spec/models}
 * @param model           the {@code MC*.tla} module TLC loads, relative to {@code spec/models}
 * @param config          the {@code .cfg} file, relative to {@code spec/models}
 * @param constants       the constants the configuration sets (documentation; kept equal to the
 *                        configuration by a test)
 * @param expected        {@code holds} or {@code violates:<Property>}
 * @param distinctStates  distinct states TLC reports with {@code -workers 1}
 * @param tier            {@code ci} (checked by {@code mvn verify}) or {@code long}
 * @param summary         one line saying what the model shows
 * @param neverTaken      action name to the reason it is never taken in this model (an action
 *                        of another architecture, a bound of zero, a search that stops at a
 *                        violation); every other action must be taken at least once
 */
public record ModelEntry(
        String name,
        String spec,
        String model,
        String config,
        Map<String, String> constants,
        String expected,
        @JsonProperty("distinct_states") long distinctStates,
        String tier,
        String summary,
        @JsonProperty("never_taken") Map<String, String> neverTaken) {

    /** Keeps {@code never_taken} in manifest order; a missing one is empty. */
    public ModelEntry {
        neverTaken = neverTaken == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(neverTaken));
    }

    /**
     * Returns the actions {@code result} reports as never taken that {@link #neverTaken()} does not
     * explain, in TLC's order; empty when TLC reported no coverage.
     */
    public List<String> unexplainedUntakenActions(TlcResult result) {
        return result.untakenActions().stream().filter(a -> !neverTaken.containsKey(a)).toList();
    }

    /**
     * Returns the {@link #neverTaken()} entries naming an action that {@code result} reports as
     * taken or does not report at all (a stale or misspelt entry).
     */
    public List<String> staleNeverTakenEntries(TlcResult result) {
        Set<String> untaken = Set.copyOf(result.untakenActions());
        return neverTaken.keySet().stream().filter(a -> !untaken.contains(a)).toList();
    }

    /** Returns whether {@code mvn verify} and the default {@code check} run this model. */
    public boolean isCi() {
        return "ci".equals(tier);
    }

    /** Returns the TLA+ module name TLC is started with (the model file without {@code .tla}). */
    public String moduleName() {
        String file = model.substring(model.lastIndexOf('/') + 1);
        return file.endsWith(".tla") ? file.substring(0, file.length() - 4) : file;
    }

    /** Returns the folder under {@code spec/models} that holds the model, e.g. {@code srcu}. */
    public String folder() {
        int slash = model.lastIndexOf('/');
        return slash < 0 ? "" : model.substring(0, slash);
    }

    /** Returns the configuration's file name without its folder. */
    public String configFileName() {
        return config.substring(config.lastIndexOf('/') + 1);
    }
}
