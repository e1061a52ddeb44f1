package org.dirtylog.conformance;

import org.dirtylog.spi.Capability;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserDirtyLog;

/** Checks of {@code KVM_CHECK_EXTENSION}. */
final class CapabilityChecks {

    private CapabilityChecks() {
    }

    static void userDirtyLogGenerationMatchesTheIoctls(Scenario s) {
        int declared = s.caps().userDirtyLogGeneration();
        IoctlResult<Integer> r = s.checkExtension(KvmApi.KVM_CAP_USER_DIRTY_LOG, "KVM_CAP_USER_DIRTY_LOG");
        Expect.value(r, declared, "KVM_CHECK_EXTENSION(KVM_CAP_USER_DIRTY_LOG) against the declared generation");
        if (!s.has(Capability.USER_DIRTY_LOG)) {
            var arg = s.mmap(KvmApi.PAGE_SIZE);
            new UserDirtyLog(0, 0, 0, 0).writeTo(arg.segment());
            Expect.errno(s.getUserDirtyLogAddr(arg.address(), "{slot=0}"), Errno.ENOTTY,
                    "KVM_GET_USER_DIRTY_LOG_ADDR without the capability");
            Expect.errno(s.switchDirtyLog(0), Errno.ENOTTY, "KVM_SWITCH_DIRTY_LOG without the capability");
        }
    }

    static void memslotCountIsPositiveAndItsLastIdWorks(Scenario s) {
        int nr = s.nrMemslots();
        var memory = s.mmap(KvmApi.PAGE_SIZE);
        long gpa = s.layout().allocateGpa(KvmApi.PAGE_SIZE);
        MemoryRegion last = new MemoryRegion(nr - 1, 0, gpa, KvmApi.PAGE_SIZE, memory.address());
        Expect.value(s.setUserMemoryRegion(last), 0, "creating slot " + (nr - 1) + " (KVM_CAP_NR_MEMSLOTS - 1)");
        Expect.value(s.setUserMemoryRegion(last.deletion()), 0, "deleting slot " + (nr - 1));
    }
}
