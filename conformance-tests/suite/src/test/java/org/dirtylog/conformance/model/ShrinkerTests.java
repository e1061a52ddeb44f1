package org.dirtylog.conformance.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

class ShrinkerTests {

    /** Fails when {@code a} occurs somewhere before {@code b}. */
    private static Predicate<List<Integer>> ordered(int a, int b) {
        return l -> l.contains(a) && l.contains(b) && l.indexOf(a) < l.lastIndexOf(b);
    }

    @Test
    void aFailureNeedingTwoElementsInOrderShrinksToExactlyThoseTwo() {
        qt().withExamples(200).forAll(lists().of(integers().between(0, 20)).ofSizeBetween(0, 60)).checkAssert(noise -> {
            List<Integer> failing = new java.util.ArrayList<>(noise);
            failing.add(failing.size() / 3, 100);
            failing.add(101);
            List<Integer> minimal = Shrinker.minimise(failing, ordered(100, 101), 10_000);
            assertEquals(List.of(100, 101), minimal);
        });
    }

    @Test
    void theResultIsOneMinimalWhenEveryElementMatters() {
        List<Integer> all = List.of(1, 2, 3, 4, 5);
        assertEquals(all, Shrinker.minimise(all, l -> l.size() == 5, 1000));
    }

    @Test
    void theBudgetBoundsTheEvaluationsAndStillReturnsAFailingSequence() {
        int[] calls = {0};
        List<Integer> failing = java.util.stream.IntStream.range(0, 100).boxed().toList();
        List<Integer> out = Shrinker.minimise(failing, l -> {
            calls[0]++;
            return l.contains(50);
        }, 5);
        assertEquals(5, calls[0]);
        assertEquals(true, out.contains(50));
    }
}
