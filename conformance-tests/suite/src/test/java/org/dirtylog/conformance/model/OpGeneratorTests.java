package org.dirtylog.conformance.model;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OpGeneratorTests {

    @Test
    void everySlotSelectorIsHarvestedBothWaysAcrossSequencesAndNeverBothWaysInOne() {
        Set<String> seen = new HashSet<>();
        qt().withFixedSeed(1).withExamples(400).withShrinkCycles(0).forAll(new OpGenerator(true, true, 3, 5, 40).sequences())
                .checkAssert(ops -> {
                    Set<String> inSequence = new HashSet<>();
                    for (Op op : ops) {
                        if (op instanceof Op.Get g && g.slot() >= 0) {
                            inSequence.add(g.slot() + " GET");
                        } else if (op instanceof Op.Switch sw && sw.slot() >= 0) {
                            inSequence.add(sw.slot() + " SWITCH");
                        }
                    }
                    for (int slot = 0; slot < SpecModel.SLOT_IDS; slot++) {
                        assertFalse(inSequence.contains(slot + " GET") && inSequence.contains(slot + " SWITCH"),
                                "slot " + slot + " harvested both ways in one sequence");
                    }
                    seen.addAll(inSequence);
                });
        for (int slot = 0; slot < SpecModel.SLOT_IDS; slot++) {
            assertTrue(seen.contains(slot + " GET") && seen.contains(slot + " SWITCH"), "slot " + slot + ": " + seen);
        }
    }
}
