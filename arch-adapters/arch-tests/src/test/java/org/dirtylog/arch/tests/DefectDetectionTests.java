package org.dirtylog.arch.tests;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.dirtylog.kvm.Defect;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each non-race defect, injected into each arch it applies to, makes the semantics rule that
 * guards against it fail: the rule tests can fail. (Race defects: {@link ConcurrencyTests}.)
 */
class DefectDetectionTests {

    private record Guard(Defect defect, String rule, Consumer<Guest> check) {
        @Override
        public String toString() {
            return defect.label() + " vs " + rule;
        }
    }

    private static final List<Guard> GUARDS = List.of(
            new Guard(Defect.SWITCH_SKIPS_CLEAR, "the spare is cleared before it becomes active",
                    SemanticsTests::theBitmapThatBecomesActiveWasClearedSoTheColdOneHoldsOnlyPagesSinceTheLastSwitch),
            new Guard(Defect.STALE_BITS_AFTER_LOG_TOGGLE, "S4 no stale bits after off/on",
                    SemanticsTests::noStaleBitSurvivesALoggingOffOnCycle),
            new Guard(Defect.MOVE_DROPS_BITMAP, "S5 a move keeps pending bits",
                    SemanticsTests::movingALoggedSlotKeepsItsPendingBitsAndWritesAtTheNewAddressAreLogged),
            new Guard(Defect.CLEAN_GET_LEAVES_BUFFER, "G1 a clean GET zeroes the buffer",
                    SemanticsTests::getOnACleanSlotReturnsZeroWithAnAllZeroBuffer),
            new Guard(Defect.BITS_PAST_NPAGES, "bits past npages are zero",
                    SemanticsTests::bitsAtOrPastNpagesAreZeroInBothBitmaps),
            new Guard(Defect.NO_FLUSH_ON_LOG_ENABLE, "S3 writes right after enabling are reported",
                    SemanticsTests::loggingSwitchedOnGivesAFreshBitmapAndWritesRightAfterAreReported));

    static Stream<Arguments> guardedDefects() {
        List<Arguments> cases = new ArrayList<>();
        for (Arch arch : Arch.values()) {
            for (Guard guard : GUARDS) {
                if (arch.backend().applicableDefects().contains(guard.defect())) {
                    cases.add(Arguments.of(arch, guard));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("guardedDefects")
    void theRuleThatGuardsAgainstADefectFailsWhenItIsInjected(Arch arch, Guard guard) {
        try (Guest g = new Guest(arch, EnumSet.of(guard.defect()))) {
            assertThrows(AssertionError.class, () -> guard.check().accept(g),
                    guard.rule() + " passed with " + guard.defect() + " injected on " + arch);
        }
    }
}
