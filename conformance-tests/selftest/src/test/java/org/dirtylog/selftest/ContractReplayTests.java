package org.dirtylog.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import org.dirtylog.arch.x86.X86ReferenceBackend;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.defects.Arch;
import org.dirtylog.defects.Defect;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.DirtyLogBackend;
import org.junit.jupiter.api.Test;

/** MODEL-02, the TLC behaviours of the contract replayed, on a broken move and on a backend without GET. */
class ContractReplayTests {

    private static final long SEED = 1;

    @Test
    void aMoveThatDropsTheBitmapFailsAtTheGetThatLostThePages() {
        Certificate c = Certify.rules(Defect.MOVE_DROPS_BITMAP.backend(Arch.X86), SEED, "MODEL-02");
        RuleResult r = Certify.result(c, "MODEL-02");
        assertEquals(Verdict.FAIL, r.verdict(), r.message());
        assertTrue(r.message().matches("behaviour \\d+, TLC state \\d+ \\(HarvestInvoke get s\\d\\): .*NoLostWrite.*"),
                r.message());
        assertTrue(r.expected().startsWith("pages [") && r.actual().startsWith("pages ["), r.expected() + " / " + r.actual());
    }

    @Test
    void theCorrectX86ReferencePassesEveryBehaviour() {
        RuleResult r = Certify.result(Certify.rules(new X86ReferenceBackend(), SEED, "MODEL-02"), "MODEL-02");
        assertEquals(Verdict.PASS, r.verdict(), r.message());
    }

    @Test
    void aBackendWithoutGetDirtyLogIsNotApplicable() {
        Capabilities caps = new X86ReferenceBackend().capabilities();
        EnumSet<Capability> features = EnumSet.copyOf(caps.features());
        features.remove(Capability.GET_DIRTY_LOG);
        Capabilities noGet = new Capabilities(features, caps.userDirtyLogGeneration(), caps.maxVcpus(),
                caps.guestPhysBase(), caps.guestPhysLimit());
        DirtyLogBackend backend = new ForwardingBackend("x86-without-get", new X86ReferenceBackend()) {
            @Override
            public Capabilities capabilities() {
                return noGet;
            }
        };
        RuleResult r = Certify.result(Certify.rules(backend, SEED, "MODEL-02"), "MODEL-02");
        assertEquals(Verdict.NOT_APPLICABLE, r.verdict(), r.message());
        assertTrue(r.message().contains("get-dirty-log"), r.message());
    }
}
