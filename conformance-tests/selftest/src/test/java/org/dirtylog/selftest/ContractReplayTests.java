package org.dirtylog.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import org.dirtylog.arch.ppc.Book3sReferenceBackend;
import org.dirtylog.arch.x86.X86ReferenceBackend;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.defects.Arch;
import org.dirtylog.defects.Defect;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.IoctlResult;
import org.junit.jupiter.api.Test;

/**
 * MODEL-02, the TLC behaviours of the contract replayed: on a broken move, a SWITCH that leaves
 * the recycled bitmap dirty, a backend without GET, and backends that lack a harvest kind.
 */
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

    /**
     * Backends broken in one harvest kind only, GET right (so the 60 GET behaviours pass): each
     * fails in a behaviour TLC drew with that kind, for the guard the bug breaks.
     */
    @Test
    void aBugInOneHarvestKindFailsInABehaviourDrawnWithThatKind() {
        assertFailsIn(new ForwardingBackend("x86-switch-always-clean", new X86ReferenceBackend()) {
            @Override
            Vm wrap(BackendVm vm) {
                return new Vm(vm) {
                    @Override
                    public IoctlResult<Integer> switchDirtyLog(int slot) {
                        return IoctlResult.ok(1);
                    }
                };
            }
        }, "switch", "SWITCH", "lost a write \\(NoLostWrite\\)");
        assertFailsIn(new ForwardingBackend("x86-clear-clears-nothing", new X86ReferenceBackend()) {
            @Override
            Vm wrap(BackendVm vm) {
                return new Vm(vm) {
                    @Override
                    public IoctlResult<Integer> clearDirtyLog(ClearDirtyLog log) {
                        return IoctlResult.ok(0);
                    }
                };
            }
        }, "getclear", "GET\\+CLEAR", "reported a page never written since the last harvest \\(Precision\\)");
        assertFailsIn(new ForwardingBackend("x86-reset-rearms-nothing", new X86ReferenceBackend()) {
            @Override
            Vm wrap(BackendVm vm) {
                return new Vm(vm) {
                    @Override
                    public IoctlResult<Integer> resetDirtyRings() {
                        return IoctlResult.ok(0);
                    }
                };
            }
        }, "ring", "RING", "lost a write \\(NoLostWrite\\)");
    }

    private static void assertFailsIn(DirtyLogBackend backend, String kind, String label, String guard) {
        RuleResult r = Certify.result(Certify.rules(backend, SEED, "MODEL-02"), "MODEL-02");
        assertEquals(Verdict.FAIL, r.verdict(), backend.name() + ": " + r.message());
        assertTrue(r.message().matches("behaviour \\d+, TLC state \\d+ \\(HarvestInvoke " + kind + " s\\d\\): the " + label
                + " harvest of slot \\d " + guard + ".*"), backend.name() + ": " + r.message());
    }

    @Test
    void theCorrectX86ReferencePassesEveryBehaviourOfEveryKind() {
        RuleResult r = Certify.result(Certify.rules(new X86ReferenceBackend(), SEED, "MODEL-02"), "MODEL-02");
        assertEquals(Verdict.PASS, r.verdict(), r.message());
        assertTrue(r.message().matches("180 TLC behaviours of DirtyLogContract \\(\\d+ steps; harvests: 75 GET, 44 SWITCH, "
                + "44 GET\\+CLEAR, 44 RING\\) held"), r.message());
    }

    @Test
    void behavioursOfAKindTheBackendLacksAreNotReplayedAndTheSummarySaysSo() {
        RuleResult r = Certify.result(Certify.rules(new Book3sReferenceBackend(), SEED, "MODEL-02"), "MODEL-02");
        assertEquals(Verdict.PASS, r.verdict(), r.message());
        assertTrue(r.message().matches("100 TLC behaviours of DirtyLogContract \\(\\d+ steps; harvests: 75 GET, 44 SWITCH\\) "
                + "held; not replayed: 40 of kind getclear \\(no [a-z-]+\\), 40 of kind ring \\(no [a-z-]+\\)"),
                r.message());
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
