package org.dirtylog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.dirtylog.arch.linuxkvm.LinuxKvmBackend;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.ConformanceRunner;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.spi.Availability;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The real kernel against the catalogue: the rules that judge {@code KVM_GET_DIRTY_LOG}, memslots,
 * logging, the races, manual protect and the model, in place of an oracle of the backend's own.
 * The dirty ring's rules are left out: this host's kernel loses ring entries (the README says
 * how it was found), which is its certificate's finding, not a regression of the kit.
 */
class LinuxKvmCatalogueTests {

    private static final String RULES = "CAP-*,GET-*,SLOT-*,RACE-*,PREC-01,MANUAL-*,CLEAR-*,MODEL-*";

    @Test
    void theHostKernelPassesEveryRuleItHasTheCapabilitiesFor() {
        LinuxKvmBackend backend = new LinuxKvmBackend();
        Availability a = backend.availability();
        Assumptions.assumeTrue(a.available(), () -> "linux-kvm unavailable here: " + a.reason());
        Certificate c = new ConformanceRunner(RunOptions.withSeed(20261201L).withRules(RULES), System.out).certify(backend);
        List<RuleResult> judged = c.results().stream().filter(r -> r.verdict() != Verdict.NOT_APPLICABLE).toList();
        assertTrue(judged.stream().anyMatch(r -> r.rule().id().equals("RACE-02")), "RACE-02 judged the kernel");
        List<String> bad = judged.stream().filter(r -> r.verdict() != Verdict.PASS)
                .map(r -> r.rule().id() + " " + r.verdict() + ": " + r.message()).toList();
        assertEquals(List.of(), bad);
    }
}
