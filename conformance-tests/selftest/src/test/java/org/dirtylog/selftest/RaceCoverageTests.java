package org.dirtylog.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiPredicate;
import org.dirtylog.arch.x86.X86ReferenceBackend;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.Concurrency;
import org.dirtylog.conformance.ConformanceRunner;
import org.dirtylog.conformance.Perturbation;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.conformance.report.CertificateJson;
import org.dirtylog.example.MinimalBackend;
import org.dirtylog.defects.Arch;
import org.dirtylog.defects.Defect;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.UserMemory;
import org.junit.jupiter.api.Test;

/**
 * No capability switches concurrency off, every slot id is exercised, and a race rule says
 * what it covered: the holes of declaring less, of slots never harvested and of runs cut too
 * short are closed.
 */
class RaceCoverageTests {

    private static final long SEED = 20260101L;

    /** The reference x86 backend with the edde99ce bug, declaring {@code caps} instead of its own. */
    private static DirtyLogBackend edde99ceDeclaring(String name, Capabilities caps) {
        return new ForwardingBackend(name, Defect.WRITE_PROTECT_BEFORE_SWAP.backend(Arch.X86)) {
            @Override
            public Capabilities capabilities() {
                return caps;
            }
        };
    }

    private static Capabilities x86Caps() {
        return new X86ReferenceBackend().capabilities();
    }

    private static void assertSomeFail(Certificate c, String... ids) {
        assertFalse(c.certified(), () -> c.backend() + " was certified");
        assertTrue(List.of(ids).stream().anyMatch(id -> Certify.result(c, id).verdict() == Verdict.FAIL),
                () -> "none of " + List.of(ids) + " failed: " + Certify.problems(c));
    }

    @Test
    void edde99ceDeclaringOneVcpuIsNotCertified() {
        Capabilities caps = x86Caps();
        Capabilities one = new Capabilities(caps.features(), caps.userDirtyLogGeneration(), 1, caps.guestPhysBase(),
                caps.guestPhysLimit());
        Certificate c = Certify.rules(edde99ceDeclaring("edde99ce-one-vcpu", one), SEED, "RACE-*,PREC-01");
        assertSomeFail(c, "RACE-01", "RACE-02", "RACE-04");
        assertEquals(1, Certify.result(c, "RACE-02").concurrency().vcpus());
    }

    @Test
    void edde99ceDeclaringNoRandomWritesIsNotCertified() {
        Capabilities caps = x86Caps();
        EnumSet<Capability> features = EnumSet.copyOf(caps.features());
        features.remove(Capability.RANDOM_WRITES);
        Capabilities batchOnly = new Capabilities(features, caps.userDirtyLogGeneration(), caps.maxVcpus(),
                caps.guestPhysBase(), caps.guestPhysLimit());
        Certificate c = Certify.rules(edde99ceDeclaring("edde99ce-no-random-writes", batchOnly), SEED, "RACE-*,PREC-01");
        assertSomeFail(c, "RACE-01", "RACE-02", "RACE-04");
        for (String id : List.of("RACE-01", "RACE-02", "RACE-03", "RACE-04", "PREC-01")) {
            assertFalse(Certify.result(c, id).verdict() == Verdict.NOT_APPLICABLE, id + " was not applicable");
        }
    }

    @Test
    void aHarvestThatAlsoClearsTheOtherSlotIsCaughtByRace04() {
        DirtyLogBackend broken = new ForwardingBackend("get-clears-other-slots", new MinimalBackend()) {
            @Override
            Vm wrap(BackendVm vm) {
                return new BrokenBackends.SizedVm(vm) {
                    @Override
                    public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
                        IoctlResult<Integer> r = delegate.getDirtyLog(slot, dirtyBitmap);
                        for (Map.Entry<Integer, Long> other : npages.entrySet()) {
                            if (other.getKey() != slot) {
                                UserMemory scratch = scratchFor(other.getValue());
                                delegate.getDirtyLog(other.getKey(), scratch.address());
                            }
                        }
                        return r;
                    }

                    private final Map<Long, UserMemory> scratch = new ConcurrentHashMap<>();

                    private UserMemory scratchFor(long pages) {
                        long bytes = (KvmApi.dirtyBitmapBytes(pages) + KvmApi.PAGE_SIZE - 1) & -KvmApi.PAGE_SIZE;
                        return scratch.computeIfAbsent(bytes, b -> delegate.mmap(b).value());
                    }
                };
            }
        };
        Certificate c = Certify.rules(broken, SEED, "RACE-04");
        assertEquals(Verdict.FAIL, Certify.result(c, "RACE-04").verdict(), () -> Certify.result(c, "RACE-04").message());
    }

    /** Returns {@code correct} with {@code KVM_GET_DIRTY_LOG} failing -EINVAL on slot ids {@code bad} accepts. */
    private static DirtyLogBackend getFailsOn(String name, DirtyLogBackend correct, BiPredicate<Integer, Integer> bad) {
        return new ForwardingBackend(name, correct) {
            @Override
            Vm wrap(BackendVm vm) {
                return new Vm(vm) {
                    @Override
                    public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
                        int nr = delegate.checkExtension(KvmApi.KVM_CAP_NR_MEMSLOTS).value();
                        return bad.test(slot, nr) ? IoctlResult.err(Errno.EINVAL) : delegate.getDirtyLog(slot, dirtyBitmap);
                    }
                };
            }
        };
    }

    @Test
    void aGetThatFailsOnTheHighestSlotIdIsCaughtByModel01AndRace04() {
        DirtyLogBackend broken = getFailsOn("get-fails-on-last-slot", new MinimalBackend(), (slot, nr) -> slot == nr - 1);
        Certificate c = Certify.rules(broken, SEED, "CAP-02,RACE-04,MODEL-01");
        assertEquals(Verdict.PASS, Certify.result(c, "CAP-02").verdict(), "CAP-02 only creates and deletes the slot");
        assertEquals(Verdict.FAIL, Certify.result(c, "RACE-04").verdict(), () -> Certify.result(c, "RACE-04").message());
        assertEquals(Verdict.FAIL, Certify.result(c, "MODEL-01").verdict(), () -> Certify.result(c, "MODEL-01").message());
    }

    @Test
    void aGetThatFailsOnOddSlotIdsIsCaughtByModel01EvenWhereSwitchExists() {
        DirtyLogBackend broken = getFailsOn("get-fails-on-odd-slots", new X86ReferenceBackend(),
                (slot, nr) -> slot >= 0 && slot < nr && (slot & 1) == 1);
        Certificate c = Certify.rules(broken, SEED, "MODEL-01");
        assertEquals(Verdict.FAIL, Certify.result(c, "MODEL-01").verdict(), () -> Certify.result(c, "MODEL-01").message());
    }

    @Test
    void aRunAtTheLeastEffortIsNeverCertifiedAndNoRaceRulePassesOnThinEvidence() {
        // At effort 0.1 a phase has 3 harvests; the run adds phases until the judged writes reach
        // the minimum or the phase cap is hit, so each rule either has the evidence or is an ERROR.
        Certificate c = Certify.rules(new X86ReferenceBackend(), SEED, "RACE-01,RACE-02,RACE-04,PREC-01", RunOptions.MIN_EFFORT);
        assertFalse(c.certified());
        for (String id : List.of("RACE-01", "RACE-02", "RACE-04", "PREC-01")) {
            RuleResult r = Certify.result(c, id);
            Concurrency cov = r.concurrency();
            assertNotNull(cov, id + ": " + r.message());
            if (cov.observations() < cov.minObservations()) {
                assertEquals(Verdict.ERROR, r.verdict(), () -> id + ": " + r.message());
                assertTrue(r.message().startsWith("insufficient coverage"), r.message());
            } else {
                assertEquals(Verdict.PASS, r.verdict(), () -> id + ": " + r.message());
            }
        }
    }

    @Test
    void eachRaceRuleStatesTheConcurrencyItCoveredAndTheAgentsSettings() {
        assertTrue(Perturbation.agentAttached(), "the self-test JVM runs with -javaagent (see the module's pom)");
        Certificate c = Certify.rules(new X86ReferenceBackend(), SEED, "RACE-*,PREC-01");
        assertTrue(Certify.problems(c).isEmpty(), () -> Certify.problems(c));
        for (String id : List.of("RACE-01", "RACE-02", "RACE-04", "PREC-01")) {
            Concurrency cov = Certify.result(c, id).concurrency();
            assertNotNull(cov, id);
            assertEquals(4, cov.vcpus(), id);
            assertTrue(cov.writes() > 0 && cov.harvests() > 0, id);
            assertTrue(cov.observations() >= cov.minObservations(), id + ": " + cov.describe());
            assertEquals("agent", cov.perturbation().mode(), id);
            assertTrue(cov.perturbation().instrumentedClasses() > 0 && cov.perturbation().delays() > 0, id);
            assertEquals(ConformanceRunner.ruleSeed(SEED, id), cov.perturbation().seed(), id);
        }
        JsonNode race02 = CertificateJson.toJson(c).get("rules").get(1);
        assertEquals("RACE-02", race02.get("id").asText());
        JsonNode p = race02.get("concurrency").get("perturbation");
        assertEquals("agent", p.get("mode").asText());
        assertTrue(p.get("on").asBoolean());
        for (String field : List.of("probability", "max_delay_us", "seed", "instrumented_classes", "noise_points", "delays",
                "threads", "kit_side")) {
            assertTrue(p.has(field), "perturbation lacks " + field);
        }
        for (String field : List.of("vcpus", "writers", "writes", "harvests", "harvest_styles", "judged_writes",
                "min_judged_writes")) {
            assertTrue(race02.get("concurrency").has(field), "concurrency lacks " + field);
        }
        assertFalse(CertificateJson.toJson(c).get("rules").get(0).get("concurrency") == null, "RACE-01 has its record");
    }
}
