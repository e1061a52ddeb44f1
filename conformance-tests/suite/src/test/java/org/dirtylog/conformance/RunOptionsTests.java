package org.dirtylog.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RunOptionsTests {

    @Test
    void aGlobSelectsByPrefixAndACommaListSelectsEach() {
        RunOptions o = RunOptions.withSeed(1).withRules("GET-*, RACE-01");
        assertTrue(o.selects("GET-05"));
        assertTrue(o.selects("RACE-01"));
        assertFalse(o.selects("RACE-02"));
        assertFalse(o.selects("SLOT-LOG-01"));
    }

    @Test
    void noPatternSelectsEveryRule() {
        assertEquals(RuleCatalogue.rules().size(), new ConformanceRunner(RunOptions.withSeed(1), System.out).selectedRules().size());
    }

    @Test
    void theEffortIsAFiniteNumberWithinItsRange() {
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, 1e9, 1e300, 0, -1, 0.0999, 20.0001, 1e-300}) {
            assertThrows(IllegalArgumentException.class, () -> RunOptions.withSeed(1).withEffort(bad), () -> "effort " + bad);
        }
        assertEquals(0.1, RunOptions.withSeed(1).withEffort(RunOptions.MIN_EFFORT).effort());
        RunOptions most = RunOptions.withSeed(1).withEffort(RunOptions.MAX_EFFORT);
        assertEquals(20 * 42, most.scaled(42), "the largest budget still fits an int");
    }

    @Test
    void ruleTimeoutsGrowWithTheEffortAboveOneOnly() {
        Rule rule = RuleCatalogue.byId("RACE-01").orElseThrow();
        assertEquals(rule.timeout(), RunOptions.withSeed(1).withEffort(0.5).timeoutFor(rule));
        assertEquals(rule.timeout().multipliedBy(3), RunOptions.withSeed(1).withEffort(3).timeoutFor(rule));
    }

    @Test
    void ruleSeedsDependOnTheRunSeedAndTheRule() {
        assertEquals(ConformanceRunner.ruleSeed(7, "MODEL-01"), ConformanceRunner.ruleSeed(7, "MODEL-01"));
        assertNotEquals(ConformanceRunner.ruleSeed(7, "MODEL-01"), ConformanceRunner.ruleSeed(8, "MODEL-01"));
        assertNotEquals(ConformanceRunner.ruleSeed(7, "RACE-01"), ConformanceRunner.ruleSeed(7, "RACE-02"));
    }
}
