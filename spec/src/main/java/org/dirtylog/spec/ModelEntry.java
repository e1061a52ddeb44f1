package org.dirtylog.spec;

import java.util.Map;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One model of {@code spec/models/manifest.json}: which TLC model module and configuration to
 * check, what the result must be, and how many distinct states TLC finds with one worker.
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
        String summary) {

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
