package org.dirtylog.conformance.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.KvmApi;
import org.junit.jupiter.api.Test;

class SpecModelTests {

    private static final int LOG = KvmApi.KVM_MEM_LOG_DIRTY_PAGES;
    private static final long EINVAL = Errno.EINVAL.kernelReturn();
    private static final long ENOENT = Errno.ENOENT.kernelReturn();
    private static final long EEXIST = Errno.EEXIST.kernelReturn();
    private static final long EFAULT = Errno.EFAULT.kernelReturn();

    private static Op.SetRegion create(int slot, int flags, int window) {
        return new Op.SetRegion(slot, flags, window, 0, false, SpecModel.sizeOf(slot), 0);
    }

    @Test
    void aGetReportsTheWrittenPagesOnceThenNothing() {
        SpecModel m = new SpecModel();
        assertEquals(Set.of(0L), m.apply(create(0, LOG, 1)).returns());
        m.apply(new Op.Write(0, 1, 5));
        m.apply(new Op.Write(1, 1, 66));
        assertEquals(Set.of(5L, 66L), m.apply(new Op.Get(0, false)).must());
        assertEquals(Set.of(), m.apply(new Op.Get(0, false)).must());
    }

    @Test
    void aSwitchOnACleanSlotReturnsOneAndOnADirtyOneZero() {
        SpecModel m = new SpecModel();
        m.apply(create(1, LOG, 0));
        assertEquals(Set.of(1L), m.apply(new Op.Switch(1)).returns());
        m.apply(new Op.Write(0, 0, 2));
        assertEquals(Set.of(0L), m.apply(new Op.Switch(1)).returns());
    }

    @Test
    void errorsComeInKernelOrder() {
        SpecModel m = new SpecModel();
        m.apply(create(0, LOG, 0));
        assertEquals(Set.of(EINVAL), m.apply(new Op.Get(Op.OUT_OF_RANGE, true)).returns());
        assertEquals(Set.of(ENOENT), m.apply(new Op.Get(2, true)).returns());
        assertEquals(Set.of(EFAULT), m.apply(new Op.Get(0, true)).returns());
        assertEquals(Set.of(EEXIST), m.apply(new Op.SetRegion(2, LOG, 0, SpecModel.OVERLAP_OFFSET, false, 130, 0)).returns());
        assertEquals(Set.of(EINVAL), m.apply(new Op.SetRegion(0, LOG, 0, 0, false, 67 + 64, 0)).returns());
        assertEquals(Set.of(EINVAL), m.apply(new Op.SetRegion(0, LOG, 0, 0, false, 67, 1)).returns());
        assertEquals(Set.of(EFAULT), m.apply(new Op.Write(0, 3, 0)).returns());
    }

    @Test
    void aMoveKeepsPendingPagesAndAnOffOnCycleDropsThem() {
        SpecModel m = new SpecModel();
        m.apply(create(0, LOG, 0));
        m.apply(new Op.Write(0, 0, 3));
        m.apply(create(0, LOG, 2));
        assertEquals(Set.of(3L), m.apply(new Op.Get(0, false)).must());
        m.apply(new Op.Write(0, 2, 4));
        m.apply(create(0, 0, 2));
        m.apply(create(0, LOG, 2));
        assertEquals(Set.of(), m.apply(new Op.Get(0, false)).must());
    }

    @Test
    void pagesOfAFailedGetMayOrMayNotBeReportedLater() {
        SpecModel m = new SpecModel();
        m.apply(create(0, LOG, 0));
        m.apply(new Op.Write(0, 0, 7));
        m.apply(new Op.Get(0, true));
        Expectation e = m.apply(new Op.Get(0, false));
        assertEquals(Set.of(), e.must());
        assertEquals(Set.of(7L), e.may());
    }

    @Test
    void deletingASlotThatDoesNotExistMayReturnZeroOrEinval() {
        assertEquals(Set.of(0L, EINVAL), new SpecModel().apply(new Op.SetRegion(3, 0, 0, 0, false, 0, 0)).returns());
    }

    private static final long ENABLE = KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
    private static final long INITIALLY_SET = KvmApi.KVM_DIRTY_LOG_INITIALLY_SET;

    private static Op.Clear clear(int slot, long first, long num, Long... pages) {
        return new Op.Clear(slot, first, num, List.of(pages), false);
    }

    @Test
    void enableCapAllowsOnlyWhatTheMaskReportsAndInitiallySetOnlyWithEnable() {
        SpecModel both = new SpecModel(ENABLE | INITIALLY_SET);
        assertEquals(Set.of(EINVAL), both.apply(new Op.EnableManualProtect(0, INITIALLY_SET)).returns());
        assertEquals(Set.of(EINVAL), both.apply(new Op.EnableManualProtect(0, ENABLE | 4)).returns());
        assertEquals(Set.of(EINVAL), both.apply(new Op.EnableManualProtect(1, ENABLE)).returns());
        assertEquals(Set.of(0L), both.apply(new Op.EnableManualProtect(0, ENABLE | INITIALLY_SET)).returns());
        assertEquals(Set.of(0L), both.apply(new Op.EnableManualProtect(0, 0)).returns());
        SpecModel enableOnly = new SpecModel(ENABLE);
        assertEquals(Set.of(EINVAL), enableOnly.apply(new Op.EnableManualProtect(0, ENABLE | INITIALLY_SET)).returns());
        assertEquals(Set.of(EINVAL), new SpecModel().apply(new Op.EnableManualProtect(0, ENABLE)).returns());
    }

    @Test
    void inManualModeGetDoesNotClearAndClearRemovesExactlyTheNamedPagesInRange() {
        SpecModel m = new SpecModel(ENABLE);
        m.apply(new Op.EnableManualProtect(0, ENABLE));
        m.apply(create(2, LOG, 0));
        m.apply(new Op.Write(0, 0, 5));
        m.apply(new Op.Write(0, 0, 129));
        assertEquals(Set.of(5L, 129L), m.apply(new Op.Get(2, false)).must());
        assertEquals(Set.of(EFAULT), m.apply(new Op.Get(2, true)).returns());
        assertEquals(Set.of(5L, 129L), m.apply(new Op.Get(2, false)).must(), "nothing is lost to a failed GET");
        assertEquals(Set.of(0L), m.apply(clear(2, 128, 2, 129L, 130L, 131L)).returns());
        assertEquals(Set.of(0L), m.apply(clear(2, 0, 64, 6L)).returns());
        assertEquals(Set.of(5L), m.apply(new Op.Get(2, false)).must());
    }

    @Test
    void clearChecksErrorsInTheKernelsOrder() {
        SpecModel m = new SpecModel(ENABLE);
        m.apply(create(2, LOG, 0));
        m.apply(create(0, 0, 1));
        assertEquals(Set.of(EINVAL), m.apply(new Op.Clear(Op.OUT_OF_RANGE, 0, 64, List.of(), true)).returns());
        assertEquals(Set.of(EINVAL), m.apply(new Op.Clear(3, 1, 64, List.of(), true)).returns());
        assertEquals(Set.of(ENOENT), m.apply(new Op.Clear(3, 0, 256, List.of(), true)).returns());
        assertEquals(Set.of(ENOENT), m.apply(new Op.Clear(0, 0, 67, List.of(), true)).returns());
        assertEquals(Set.of(EINVAL), m.apply(new Op.Clear(2, 0, 194, List.of(), true)).returns());
        assertEquals(Set.of(EINVAL), m.apply(new Op.Clear(2, 64, 32, List.of(), true)).returns());
        assertEquals(Set.of(EFAULT), m.apply(new Op.Clear(2, 0, 64, List.of(), true)).returns());
        assertEquals(Set.of(0L), m.apply(new Op.Clear(2, 64, 0, List.of(), true)).returns());
    }

    @Test
    void initiallySetFillsOnlyBitmapsAllocatedAfterItWasEnabled() {
        SpecModel m = new SpecModel(ENABLE | INITIALLY_SET);
        m.apply(create(1, LOG, 0));
        m.apply(new Op.EnableManualProtect(0, ENABLE | INITIALLY_SET));
        m.apply(create(3, LOG, 1));
        m.apply(create(0, 0, 2));
        m.apply(create(0, LOG, 2));
        assertEquals(Set.of(), m.apply(new Op.Get(1, false)).must());
        assertEquals(64, m.apply(new Op.Get(3, false)).must().size());
        assertEquals(67, m.apply(new Op.Get(0, false)).must().size());
    }

    @Test
    void clearWorksInLegacyModeAndPagesOfAFailedLegacyGetAreSettledByIt() {
        SpecModel m = new SpecModel(ENABLE);
        m.apply(create(0, LOG, 0));
        m.apply(new Op.Write(0, 0, 7));
        m.apply(new Op.Write(0, 0, 8));
        m.apply(new Op.Get(0, true));
        m.apply(clear(0, 0, 67, 7L));
        Expectation e = m.apply(new Op.Get(0, false));
        assertEquals(Set.of(), e.must());
        assertEquals(Set.of(8L), e.may());
    }
}
