package org.dirtylog.arch.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Stream;
import org.dirtylog.arch.tests.SelftestOracle.Harvest;
import org.dirtylog.arch.tests.SelftestOracle.Report;
import org.dirtylog.kvm.Defect;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Four vCPUs, a harvest about every millisecond, the §4 oracle: on every arch, with SWITCH and with GET. */
class ConcurrencyTests {

    private static final int VCPUS = 4;
    private static final long WRITES = 1_000_000;
    private static final long HARVESTS = 300;
    /** A cap far beyond a normal run, reached only on a stalled machine. */
    private static final long CAP_MILLIS = 300_000;

    static Stream<Arguments> archAndHarvest() {
        List<Arguments> cases = new ArrayList<>();
        for (Arch arch : Arch.values()) {
            for (Harvest mode : Harvest.values()) {
                cases.add(Arguments.of(arch, mode));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("archAndHarvest")
    void noWriteIsLostAndNoFreedMemoryIsUsedWhileFourVcpusWriteAMillionTimes(Arch arch, Harvest mode) {
        Report report = SelftestOracle.run(arch.backend(), mode, VCPUS, WRITES, HARVESTS, CAP_MILLIS, false);
        System.out.println(arch + " " + mode + ": " + report);
        assertEquals(0, report.lostPages(), "completed writes a harvest failed to report: " + report);
        assertEquals(0, report.useAfterFree(), "vCPU uses of a freed memslots array or bitmap: " + report);
        assertEquals(0, report.bitsPastNpages(), report.toString());
        // The run ends when both counts are reached (about 2 s here); the cap only guards against a hang.
        assumeTrue(report.writes() >= WRITES && report.harvests() >= HARVESTS, () -> "machine too slow: after "
                + CAP_MILLIS / 1000 + " s only " + report + "; nothing was lost, but the run is too short to mean much");
    }

    /** Every injected race defect that applies to the arch, under the harvest mode that exposes it. */
    static Stream<Arguments> raceDefects() {
        List<Arguments> cases = new ArrayList<>();
        EnumSet<Defect> races = EnumSet.of(Defect.WRITE_PROTECT_BEFORE_SWAP, Defect.NON_ATOMIC_BIT_SET,
                Defect.FLUSH_AFTER_UNLOCK, Defect.NO_GRACE_PERIOD);
        for (Arch arch : Arch.values()) {
            for (Defect defect : races) {
                if (arch.backend().applicableDefects().contains(defect)) {
                    cases.add(Arguments.of(arch, defect, Harvest.SWITCH));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("raceDefects")
    void theSameOracleCatchesEachInjectedRaceDefect(Arch arch, Defect defect, Harvest mode) {
        Report report = SelftestOracle.run(arch.backend(EnumSet.of(defect)), mode, VCPUS, WRITES, HARVESTS, 20_000, true);
        assertFalse(report.clean(), defect + " went unnoticed on " + arch + ": " + report);
        System.out.println(arch + " " + defect + ": " + report);
    }
}
