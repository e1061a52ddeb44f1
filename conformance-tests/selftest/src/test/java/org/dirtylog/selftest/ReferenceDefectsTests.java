package org.dirtylog.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.Perturbation;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.defects.Arch;
import org.dirtylog.defects.Defect;
import org.dirtylog.spi.DirtyLogBackend;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The reference backends rebuilt with each known defect (the fixtures of
 * {@code arch-adapters/defects}: the correct core composed with one broken hook or seam, in the
 * bug's natural window) are not certified, and the rules that should catch the defect FAIL.
 * Race defects are run on seeds 1 to 3 until one catches them: the race rules (RACE-01 switch,
 * RACE-02 get, RACE-03 one word, RACE-04 two slots; CLEAR-09 with manual protect, for
 * {@code CLEAR_REARMS_FIRST} and x86 {@code FLUSH_AFTER_UNLOCK}; RING-11 and RING-13 for the ring
 * collector's race) are chances at the race, one FAIL among them is a catch, and all three seeds missing fails the
 * test (the README's catch table gives each one's rate over ten seeds). A seed fixes the kit's
 * choices, not the threads' schedule: a race caught on ten of ten seeds in one measurement
 * can still be missed on one seed in another run (CLEAR-09 on seed 3 was, once, in a whole
 * unloaded build), so no race is required to be caught on every seed.
 *
 * <p>Races that today's race rules miss in their natural window on some seeds are listed in
 * {@link #MISSED_IN_THEIR_NATURAL_WINDOW} and their assertion is disabled, not weakened: the
 * README ("The kit tests itself") gives the catch rate measured for each over 10 seeds.
 */
class ReferenceDefectsTests {

    /**
     * Which rules must catch each defect: every one of them for a deterministic defect, one of
     * them for a race (tried in this order: the cheapest, or the likeliest, first).
     */
    private static final Map<Defect, List<String>> CAUGHT_BY = Map.ofEntries(
            Map.entry(Defect.WRITE_PROTECT_BEFORE_SWAP, List.of("RACE-01", "RACE-02", "RACE-04")),
            Map.entry(Defect.NON_ATOMIC_BIT_SET, List.of("RACE-01", "RACE-02", "RACE-03", "RACE-04")),
            Map.entry(Defect.FLUSH_AFTER_UNLOCK, List.of("CLEAR-09", "RACE-01", "RACE-02", "RACE-04")),
            Map.entry(Defect.NO_FLUSH_ON_LOG_ENABLE, List.of("SLOT-LOG-03")),
            Map.entry(Defect.SWITCH_SKIPS_CLEAR, List.of("SWITCH-03", "GET-02")),
            Map.entry(Defect.NO_GRACE_PERIOD, List.of("RACE-01", "RACE-02", "RACE-04")),
            Map.entry(Defect.STALE_BITS_AFTER_LOG_TOGGLE, List.of("SLOT-LOG-06")),
            Map.entry(Defect.MOVE_DROPS_BITMAP, List.of("SLOT-LOG-04", "MODEL-01")),
            Map.entry(Defect.CLEAN_GET_LEAVES_BUFFER, List.of("GET-03")),
            Map.entry(Defect.BITS_PAST_NPAGES, List.of("GET-04", "SWITCH-07", "USER-ADDR-01")),
            Map.entry(Defect.CLEAR_REARMS_FIRST, List.of("CLEAR-09")),
            Map.entry(Defect.CLEAR_SKIPS_PARTIAL_WORD, List.of("CLEAR-06", "CLEAR-01")),
            Map.entry(Defect.CLEAR_READS_WORD_TOO_MANY, List.of("CLEAR-05")),
            Map.entry(Defect.GET_CLEARS_IN_MANUAL_MODE, List.of("MANUAL-03", "MANUAL-02")),
            Map.entry(Defect.INITIALLY_SET_IGNORED, List.of("MANUAL-04")),
            Map.entry(Defect.CLEAR_ERRNO_ORDER, List.of("CLEAR-04")),

            Map.entry(Defect.RESET_IGNORES_HARVEST_ORDER, List.of("RING-08")),
            Map.entry(Defect.NO_SOFT_FULL_EXIT, List.of("RING-10", "RING-11")),
            // RING-11 first: it takes a fraction of a second and sometimes catches it; RING-13 always has.
            Map.entry(Defect.FLAGS_BEFORE_FIELDS, List.of("RING-11", "RING-13")),
            Map.entry(Defect.RESET_REARMS_UNHARVESTED, List.of("RING-07", "RING-11", "RING-13")),
            Map.entry(Defect.GET_WORKS_WITH_RING, List.of("RING-09")),
            Map.entry(Defect.CLEAR_WORKS_WITH_RING, List.of("RING-09")));

    /**
     * Races of the dirty ring's collector, run like the bitmap races on {@link #RACE_SEEDS}; they
     * are not {@link Defect#isRace()} (that is the race rules' catch table).
     */
    private static final Set<Defect> RING_RACES = EnumSet.of(Defect.FLAGS_BEFORE_FIELDS);

    /**
     * Seeds each race defect is run with, in turn, until one catches it: one FAIL among the
     * listed rules on a seed is a catch (the rules are chances at one race: harvest styles,
     * slots, one word, a CLEAR re-arm, the ring collector; which of them meets the window on a
     * seed is the schedule's choice; the catch table in the README shows it per seed).
     */
    private static final long[] RACE_SEEDS = {1, 2, 3};

    /**
     * The race rules run at default effort: their sparse phases judge every write, so a default
     * certification is what the self-test shows.
     */
    private static final double RACE_EFFORT = 1;

    /**
     * Races the rules missed on some of seeds 1-10 at default effort in the catch table's
     * measurement (README, "The catch table", 2026-12-02, agent on): FLUSH_AFTER_UNLOCK on ppc
     * (5/10) and ia64 (7/10). The others were caught on 10/10 and are asserted (x86
     * FLUSH_AFTER_UNLOCK through CLEAR-09; the ring's flags-before-fields through RING-13,
     * {@code RingCatchTableTests}).
     */
    private static final Set<String> MISSED_IN_THEIR_NATURAL_WINDOW = Set.of(
            "PPC FLUSH_AFTER_UNLOCK", "IA64 FLUSH_AFTER_UNLOCK");

    /** Every defect on every arch it applies to. */
    static Stream<Arguments> defects() {
        return cases(d -> true);
    }

    static Stream<Arguments> defectsAsserted() {
        return cases(d -> !missed(d[0], d[1]));
    }

    static Stream<Arguments> racesMissedInTheirNaturalWindow() {
        return cases(d -> missed(d[0], d[1]));
    }

    private static boolean missed(Object arch, Object defect) {
        return MISSED_IN_THEIR_NATURAL_WINDOW.contains(arch + " " + defect);
    }

    private static Stream<Arguments> cases(Predicate<Object[]> which) {
        List<Arguments> out = new ArrayList<>();
        for (Arch arch : Arch.values()) {
            for (Defect d : Defect.values()) {
                if (d.appliesTo(arch) && which.test(new Object[] {arch, d})) {
                    out.add(Arguments.of(arch, d));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} + {1}")
    @MethodSource("defectsAsserted")
    void theDefectIsCaughtByItsRules(Arch arch, Defect defect) {
        assertCaught(arch, defect);
    }

    @Disabled("the race rules miss these reference races in their natural window on some of 10 seeds (rates and"
            + " the reason in the README's catch table): asserting them would make the build a coin toss")
    @ParameterizedTest(name = "{0} + {1}")
    @MethodSource("racesMissedInTheirNaturalWindow")
    void theRaceIsCaughtInItsNaturalWindow(Arch arch, Defect defect) {
        assertCaught(arch, defect);
    }

    private static void assertCaught(Arch arch, Defect defect) {
        DirtyLogBackend backend = defect.backend(arch);
        List<String> rules = CAUGHT_BY.get(defect);
        if (defect.isRace() || RING_RACES.contains(defect)) {
            assertRaceCaught(backend, rules, defect.isRace());
            return;
        }
        Certificate c = Certify.rules(backend, 1, String.join(",", rules));
        for (String id : rules) {
            RuleResult r = Certify.result(c, id);
            assertEquals(Verdict.FAIL, r.verdict(), () -> backend.name() + " seed 1: " + id + " " + r.verdict() + " "
                    + r.message());
        }
    }

    /**
     * A natural-speed race is caught per seed at the rate the catch table measured (10/10 for the
     * ones asserted here, which is not a certainty): seeds 1-3 in turn, and on each the listed
     * rules one at a time in the order {@link #CAUGHT_BY} gives (the cheapest, or the
     * likeliest, first); the first FAIL ends the test, and none on any seed fails it. No rule may ERROR.
     * The bitmap races' rules ({@code bitmapRace}) also show they ran with the agent.
     */
    private static void assertRaceCaught(DirtyLogBackend backend, List<String> rules, boolean bitmapRace) {
        boolean checkAgent = bitmapRace && Perturbation.agentAttached();
        assertTrue(Certify.firstFail(() -> backend, RACE_SEEDS, rules, RACE_EFFORT, (r, seed) -> {
            if (checkAgent) {
                assertPerturbedLikeTheCorrectBackend(backend, seed, r);
            }
        }).isPresent(), () -> backend.name() + ": none of " + rules + " failed on seeds " + Arrays.toString(RACE_SEEDS));
    }

    /**
     * A race fixture gets the agent's noise as the correct backend it is compared with does: a
     * catch rate measured with the agent off would not be the rate of the certificate users get.
     * The bitmap race rules (RACE-*, CLEAR-09) record what they ran with in the result's
     * concurrency when they pass, and when they FAIL after their concurrent part (RACE-03 may
     * FAIL before it); the ring rules record it only in their message, so the ring's race is not
     * checked here (it runs on the same {@code ComposedReferenceBackend} class).
     */
    private static void assertPerturbedLikeTheCorrectBackend(DirtyLogBackend backend, long seed, RuleResult r) {
        if (r.verdict() == Verdict.NOT_APPLICABLE) {
            return;
        }
        assertTrue(r.concurrency() != null || r.verdict() == Verdict.FAIL, () -> backend.name() + " seed " + seed + ": "
                + r.rule().id() + " passed without recording its concurrency");
        if (r.concurrency() != null) {
            assertTrue(r.concurrency().perturbation().agentOn(), () -> backend.name() + " seed " + seed + ": "
                    + r.rule().id() + " ran " + r.concurrency().perturbation().describe());
        }
    }

    @Test
    void everyDefectHasRulesThatCatchIt() {
        assertEquals(EnumSet.allOf(Defect.class), EnumSet.copyOf(CAUGHT_BY.keySet()));
    }

    @ParameterizedTest(name = "{0} + {1}")
    @MethodSource("defects")
    void theBrokenBackendIsNamedAfterTheCorrectOneAndItsDefect(Arch arch, Defect defect) {
        assertEquals(arch.backendName() + "+" + defect.label(), defect.backend(arch).name());
    }

    @Test
    void theNamesAreTheOnesReportsAndScriptsUse() {
        assertEquals("reference-x86+edde99ce", Defect.WRITE_PROTECT_BEFORE_SWAP.backend(Arch.X86).name());
        assertEquals("reference-ppc+50e92b3c", Defect.NON_ATOMIC_BIT_SET.backend(Arch.PPC).name());
        assertEquals("reference-ia64+6dbf79e7", Defect.FLUSH_AFTER_UNLOCK.backend(Arch.IA64).name());
        assertEquals("reference-x86+clean-get-leaves-buffer", Defect.CLEAN_GET_LEAVES_BUFFER.backend(Arch.X86).name());
        assertEquals("reference-x86+no-soft-full-exit", Defect.NO_SOFT_FULL_EXIT.backend(Arch.X86).name());
        assertEquals("reference-x86+get-works-with-ring", Defect.GET_WORKS_WITH_RING.backend(Arch.X86).name());
    }
}
