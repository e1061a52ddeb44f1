package org.dirtylog.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
    void ruleSeedsDependOnTheRunSeedAndTheRule() {
        assertEquals(ConformanceRunner.ruleSeed(7, "MODEL-01"), ConformanceRunner.ruleSeed(7, "MODEL-01"));
        assertNotEquals(ConformanceRunner.ruleSeed(7, "MODEL-01"), ConformanceRunner.ruleSeed(8, "MODEL-01"));
        assertNotEquals(ConformanceRunner.ruleSeed(7, "RACE-01"), ConformanceRunner.ruleSeed(7, "RACE-02"));
    }
}
