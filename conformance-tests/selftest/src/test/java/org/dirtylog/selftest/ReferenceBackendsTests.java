package org.dirtylog.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.spi.DirtyLogBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The three reference backends, found by name as the CLI finds them, are certified on every rule. */
class ReferenceBackendsTests {

    private static DirtyLogBackend byName(String name) {
        Stream<DirtyLogBackend> all = ServiceLoader.load(DirtyLogBackend.class).stream().map(ServiceLoader.Provider::get);
        return all.filter(b -> b.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " is not registered with ServiceLoader"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference-x86", "reference-ppc", "reference-ia64"})
    void theReferenceBackendIsCertifiedWithEveryRuleApplicable(String name) {
        Certificate c = Certify.all(byName(name), 20100504L);
        assertTrue(c.certified(), () -> name + ": " + Certify.problems(c));
        assertEquals(0, c.summary().get(Verdict.NOT_APPLICABLE), () -> name + " declares every capability");
        assertTrue(c.seconds() < 60, () -> name + " took " + c.seconds() + " s");
    }
}
