package org.dirtylog.spec;

import java.util.List;

/**
 * The content of {@code models.json}: one entry per model that finished, and whether the run was
 * interrupted before the rest (Ctrl-C), in which case the models not listed were not checked.
 *
 * @param interrupted whether the run ended before every selected model was checked
 * @param models      the models checked, in the order they ran
 */
public record CheckReport(boolean interrupted, List<ModelReport> models) {
}
