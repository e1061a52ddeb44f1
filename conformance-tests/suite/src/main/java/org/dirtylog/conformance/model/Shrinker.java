package org.dirtylog.conformance.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Minimises a failing sequence by deleting chunks of it (delta debugging, as in Zeller's
 * ddmin, restricted to complements): halves, quarters, ... down to single elements, keeping
 * every deletion after which the sequence still fails. The result is 1-minimal: removing any
 * single element makes it pass (unless the budget ran out first).
 */
public final class Shrinker {

    private Shrinker() {
    }

    /**
     * Returns a sub-sequence of {@code failing} for which {@code fails} still holds, as short as
     * {@code budget} evaluations of {@code fails} could make it.
     */
    public static <T> List<T> minimise(List<T> failing, Predicate<List<T>> fails, int budget) {
        List<T> current = List.copyOf(failing);
        int chunk = Math.max(1, current.size() / 2);
        int left = budget;
        while (true) {
            boolean removed = false;
            int start = 0;
            while (start < current.size()) {
                List<T> candidate = new ArrayList<>(current.subList(0, start));
                candidate.addAll(current.subList(Math.min(current.size(), start + chunk), current.size()));
                if (candidate.isEmpty() || candidate.size() == current.size()) {
                    start += chunk;
                    continue;
                }
                if (left-- <= 0) {
                    return current;
                }
                if (fails.test(candidate)) {
                    current = List.copyOf(candidate);
                    removed = true;
                } else {
                    start += chunk;
                }
            }
            if (chunk == 1 && !removed) {
                return current;
            }
            if (!removed) {
                chunk = Math.max(1, chunk / 2);
            }
        }
    }
}
