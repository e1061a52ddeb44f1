package org.dirtylog.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.dirtylog.arch.x86.X86ReferenceBackend;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.example.MinimalBackend;
import org.dirtylog.spi.DirtyLogBackend;
import org.junit.jupiter.api.Test;

/**
 * SPI-level broken backends (wrapping the correct {@code example-minimal}) are not certified,
 * and the rule that should catch each one does. Every run covers every rule that can call what
 * the breaker broke, so a defect that only some unrelated rule noticed would also show here:
 * the whole catalogue for {@code example-minimal}, every rule but the manual-protect, CLEAR and
 * ring ones (which never call the RFC ioctls) for the RFC breakers.
 */
class BrokenBackendsTests {

    private static final long SEED = 20101004L;

    private static Certificate certifyBroken(UnaryOperator<DirtyLogBackend> breaker) {
        return Certify.all(breaker.apply(new MinimalBackend()), SEED);
    }

    /**
     * Every rule that may call an RFC ioctl (KVM_GET_USER_DIRTY_LOG_ADDR, KVM_SWITCH_DIRTY_LOG).
     * The MANUAL, CLEAR and RING rules call neither, and cost two thirds of a whole x86 run.
     */
    private static final String RULES_THAT_CALL_THE_RFC_IOCTLS = "CAP-*,USER-ADDR-*,SWITCH-*,GET-*,SLOT-*,RACE-*,PREC-*,MODEL-*";

    /** The RFC ioctls need a correct backend that has them: the reference x86 one. */
    private static Certificate certifyBrokenRfc(UnaryOperator<DirtyLogBackend> breaker) {
        return Certify.rules(breaker.apply(new X86ReferenceBackend()), SEED, RULES_THAT_CALL_THE_RFC_IOCTLS);
    }

    private static void assertCaughtBy(Certificate c, Verdict verdict, String... rules) {
        assertFalse(c.certified(), () -> c.backend() + " was certified");
        for (String id : rules) {
            RuleResult r = Certify.result(c, id);
            assertEquals(verdict, r.verdict(), () -> id + " on " + c.backend() + ": " + r.message());
        }
    }

    @Test
    void theUnbrokenWrapperIsCertifiedSoTheWrapperItselfBreaksNothing() {
        Certificate c = Certify.all(new ForwardingBackend("forwarding-only", new MinimalBackend()), SEED);
        assertTrue(c.certified(), () -> Certify.problems(c));
    }

    @Test
    void enoentReportedAsEinvalIsCaughtByTheErrnoOrderRuleAndTheModel() {
        Certificate c = certifyBroken(BrokenBackends::enoentAsEinval);
        assertCaughtBy(c, Verdict.FAIL, "GET-05", "SLOT-04", "SLOT-LOG-02", "MODEL-01");
        RuleResult r = Certify.result(c, "GET-05");
        assertEquals("-ENOENT", r.expected());
        assertEquals("-EINVAL", r.actual());
    }

    @Test
    void efaultCheckedBeforeEnoentIsCaughtByTheErrnoOrderRule() {
        Certificate c = certifyBroken(BrokenBackends::faultBeforeNoEntry);
        assertCaughtBy(c, Verdict.FAIL, "GET-05");
        assertEquals(Verdict.PASS, Certify.result(c, "GET-01").verdict());
    }

    @Test
    void aCleanGetThatLeavesTheBufferIsCaughtByTheWholeBufferRule() {
        assertCaughtBy(certifyBroken(BrokenBackends::cleanGetLeavesBuffer), Verdict.FAIL, "GET-03");
    }

    @Test
    void bitsPastNpagesAreCaughtByTheBitmapFormatRuleAndTheModel() {
        Certificate c = certifyBroken(BrokenBackends::bitsPastNpages);
        assertCaughtBy(c, Verdict.FAIL, "GET-04", "RACE-02", "MODEL-01");
    }

    @Test
    void aMoveThatDropsPendingPagesIsCaughtByTheMoveRule() {
        Certificate c = certifyBroken(BrokenBackends::moveDropsPending);
        assertCaughtBy(c, Verdict.FAIL, "SLOT-LOG-04");
    }

    @Test
    void aBackendThatThrowsGetsErrorsAndTheRunGoesOn() {
        Certificate c = certifyBroken(BrokenBackends::throwsOnLogToggle);
        assertCaughtBy(c, Verdict.ERROR, "SLOT-LOG-01", "SLOT-LOG-02", "SLOT-LOG-03");
        assertTrue(Certify.result(c, "SLOT-LOG-01").message().contains("IllegalStateException"));
        assertEquals(Verdict.PASS, Certify.result(c, "SLOT-LOG-05").verdict(), "the rule after the errors still ran");
    }

    @Test
    void aVcpuThatCrashesInItsRandomWritingGuestIsAnErrorOfTheRaceRuleThatRunsIt() {
        Certificate c = certifyBroken(BrokenBackends::vcpuCrashes);
        assertCaughtBy(c, Verdict.ERROR, "RACE-02");
        assertEquals(Verdict.PASS, Certify.result(c, "PREC-01").verdict(), "PREC-01 drives the vCPUs with batches only");
        assertTrue(Certify.result(c, "RACE-02").message().contains("-EIO"), Certify.result(c, "RACE-02").message());
    }

    @Test
    void aHangingBackendTimesOutRuleByRuleWithoutHangingTheRun() {
        Certificate c = Certify.rules(BrokenBackends.hangsInGetDirtyLog(new MinimalBackend()), SEED, "GET-0*,SLOT-04",
                Duration.ofMillis(700));
        assertCaughtBy(c, Verdict.ERROR, "GET-01", "GET-02", "GET-03", "GET-04", "GET-05", "GET-06");
        for (String hung : List.of("GET-01", "GET-02", "GET-03", "GET-04", "GET-05", "GET-06")) {
            assertTrue(Certify.result(c, hung).message().startsWith("timed out"), Certify.result(c, hung).message());
        }
        assertEquals(Verdict.PASS, Certify.result(c, "GET-07").verdict(), "GET-07 only makes a failing GET");
        // The run reached the rules after the six hung ones: each hang ended at its own timeout.
        assertEquals(Verdict.PASS, Certify.result(c, "SLOT-04").verdict(), "SLOT-04 runs after six hung rules");
    }

    @Test
    void aSwitchThatAnswersZeroOnACleanSlotIsCaughtBySwitch01() {
        Certificate c = certifyBrokenRfc(BrokenBackends::switchZeroOnClean);
        assertCaughtBy(c, Verdict.FAIL, "SWITCH-01");
        assertEquals(Verdict.PASS, Certify.result(c, "GET-01").verdict(), "GET is not what is broken");
    }

    @Test
    void aSwitchThatAnswersEinvalForAMissingSlotIsCaughtBySwitch06() {
        assertCaughtBy(certifyBrokenRfc(BrokenBackends::switchEnoentAsEinval), Verdict.FAIL, "SWITCH-06");
    }

    @Test
    void getUserDirtyLogAddrWithoutEfaultForABadArgumentIsCaughtByUserAddr04() {
        assertCaughtBy(certifyBrokenRfc(BrokenBackends::userAddrNoFault), Verdict.FAIL, "USER-ADDR-04");
    }
}
