package org.dirtylog.selftest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.dirtylog.independent.IndependentBackends;
import org.dirtylog.spi.DirtyLogBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The race rules catch each race bug class in a backend that is not the reference: the
 * independent backend (written without reading the reference) with one bug each, in its
 * natural window. At default effort each class must be caught (one FAIL among RACE-01..04) on
 * one of seeds 1 to 3, tried in order: a natural-speed race is caught per seed at the rate the
 * README's catch table measured over seeds 1 to 10 (2026-12-02: five classes 10/10,
 * store-outside-guest-mode and non-atomic-bitmap-or 9/10; store-outside-guest-mode also missed
 * seed 1 once in a full build), so one seed would make the build a coin
 * toss for that class, while three seeds all missing is about one in a thousand.
 */
class IndependentVariantsTests {

    /** The race rules, tried one at a time on each seed ({@link Certify#firstFail}); the first FAIL is the catch. */
    private static final List<String> RULES = List.of("RACE-01", "RACE-02", "RACE-03", "RACE-04");
    private static final long[] SEEDS = {1, 2, 3};

    static Stream<String> variants() {
        return IndependentBackends.variants().stream().map(DirtyLogBackend::name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void theRaceRulesCatchTheVariantInItsNaturalWindow(String name) {
        assertTrue(Certify.firstFail(() -> IndependentBackends.named(name).orElseThrow(), SEEDS, RULES, 1.0, (r, seed) -> { })
                .isPresent(), () -> name + ": none of " + RULES + " failed on seeds " + Arrays.toString(SEEDS));
    }
}
