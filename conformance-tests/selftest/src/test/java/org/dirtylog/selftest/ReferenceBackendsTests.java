package org.dirtylog.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Stream;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.Rule;
import org.dirtylog.conformance.RuleCatalogue;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.DirtyLogBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The three reference backends, found by name as the CLI finds them, are certified on every rule that applies. */
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
        // Every rule applies but those of the dirty ring, which the reference backends do not offer yet.
        Set<Capability> lacking = EnumSet.complementOf(EnumSet.copyOf(c.capabilities().features()));
        assertEquals(EnumSet.of(Capability.DIRTY_LOG_RING, Capability.SEQUENTIAL_WRITES), lacking,
                () -> name + " lacks only the ring's capabilities");
        List<String> notApplicable = c.results().stream().filter(r -> r.verdict() == Verdict.NOT_APPLICABLE)
                .map(r -> r.rule().id()).toList();
        List<String> ringRules = RuleCatalogue.rules().stream()
                .filter(r -> r.requires().stream().anyMatch(lacking::contains)).map(Rule::id).toList();
        assertEquals(ringRules, notApplicable, () -> name + ": NOT_APPLICABLE only where a capability is lacking");
        assertTrue(notApplicable.stream().allMatch(id -> id.startsWith("RING-")), notApplicable::toString);
        assertTrue(c.seconds() < 60, () -> name + " took " + c.seconds() + " s");
    }
}
