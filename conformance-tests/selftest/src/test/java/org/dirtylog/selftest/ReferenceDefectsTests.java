package org.dirtylog.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.dirtylog.arch.ia64.Ia64ReferenceBackend;
import org.dirtylog.arch.ppc.Book3sReferenceBackend;
import org.dirtylog.arch.x86.X86ReferenceBackend;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.kvm.Defect;
import org.dirtylog.kvm.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The reference backends built with each known defect are not certified, and the rules that
 * should catch the defect FAIL. Race defects are run on several seeds and must be caught on
 * every one: a rule that catches a race by luck would not pass this. For the three races the
 * oracle looks for (edde99ce, 6dbf79e7, no grace period) RACE-01 (switch) and RACE-02 (get)
 * are two independent chances, and one FAIL per seed is required; each also catches them alone
 * in most runs (the report of issue 4 gives the measured rates).
 */
class ReferenceDefectsTests {

    /** Which rules must catch each defect. */
    private static final Map<Defect, List<String>> CAUGHT_BY = Map.of(
            Defect.WRITE_PROTECT_BEFORE_SWAP, List.of("RACE-01", "RACE-02"),
            Defect.NON_ATOMIC_BIT_SET, List.of("RACE-03"),
            Defect.FLUSH_AFTER_UNLOCK, List.of("RACE-01", "RACE-02"),
            Defect.NO_FLUSH_ON_LOG_ENABLE, List.of("SLOT-LOG-03"),
            Defect.SWITCH_SKIPS_CLEAR, List.of("SWITCH-03", "GET-02"),
            Defect.NO_GRACE_PERIOD, List.of("RACE-01", "RACE-02"),
            Defect.STALE_BITS_AFTER_LOG_TOGGLE, List.of("SLOT-LOG-06"),
            Defect.MOVE_DROPS_BITMAP, List.of("SLOT-LOG-04", "MODEL-01"),
            Defect.CLEAN_GET_LEAVES_BUFFER, List.of("GET-03"),
            Defect.BITS_PAST_NPAGES, List.of("GET-04", "SWITCH-07", "USER-ADDR-01"));

    private static final Set<Defect> RACES = EnumSet.of(Defect.WRITE_PROTECT_BEFORE_SWAP, Defect.NON_ATOMIC_BIT_SET,
            Defect.FLUSH_AFTER_UNLOCK, Defect.NO_GRACE_PERIOD);

    /** Races where one FAIL among the listed rules per seed suffices (two harvest styles, same oracle). */
    private static final Set<Defect> EITHER_STYLE = EnumSet.of(Defect.WRITE_PROTECT_BEFORE_SWAP,
            Defect.FLUSH_AFTER_UNLOCK, Defect.NO_GRACE_PERIOD);

    /** Seeds each race defect is run with; every one must catch it. */
    private static final long[] RACE_SEEDS = {1, 2, 3};

    /**
     * The race rules run at default effort: their sparse phases judge every write (the catch
     * table of the README: each reference race defect failed RACE-01, RACE-02 and RACE-04 on
     * every seed measured), so a default certification is what the self-test shows.
     */
    private static final double RACE_EFFORT = 1;

    private static final Map<String, Function<Set<Defect>, ReferenceBackend>> ARCHES = Map.of(
            "x86", X86ReferenceBackend::new, "ppc", Book3sReferenceBackend::new, "ia64", Ia64ReferenceBackend::new);

    static Stream<Arguments> defects() {
        List<Arguments> out = new ArrayList<>();
        for (String arch : List.of("x86", "ppc", "ia64")) {
            for (Defect d : ARCHES.get(arch).apply(Set.of()).applicableDefects()) {
                out.add(Arguments.of(arch, d));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} + {1}")
    @MethodSource("defects")
    void theDefectIsCaughtByItsRules(String arch, Defect defect) {
        ReferenceBackend backend = ARCHES.get(arch).apply(Set.of(defect));
        List<String> rules = CAUGHT_BY.get(defect);
        long[] seeds = RACES.contains(defect) ? RACE_SEEDS : new long[] {1};
        for (long seed : seeds) {
            Certificate c = RACES.contains(defect)
                    ? Certify.rules(backend, seed, String.join(",", rules), RACE_EFFORT)
                    : Certify.rules(backend, seed, String.join(",", rules));
            List<RuleResult> results = rules.stream().map(id -> Certify.result(c, id)).toList();
            for (RuleResult r : results) {
                assertNotEquals(Verdict.ERROR, r.verdict(), () -> backend.name() + " seed " + seed + ": " + r.message());
            }
            if (EITHER_STYLE.contains(defect)) {
                assertTrue(results.stream().anyMatch(r -> r.verdict() == Verdict.FAIL),
                        () -> backend.name() + " seed " + seed + ": none of " + rules + " failed");
            } else {
                for (RuleResult r : results) {
                    assertEquals(Verdict.FAIL, r.verdict(), () -> backend.name() + " seed " + seed + ": " + r.rule().id() + " "
                            + r.verdict() + " " + r.message());
                }
            }
        }
    }

    @Test
    void everyDefectHasRulesThatCatchIt() {
        assertEquals(EnumSet.allOf(Defect.class), EnumSet.copyOf(CAUGHT_BY.keySet()));
    }
}
