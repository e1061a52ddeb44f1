package org.dirtylog.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** A backend written before manual protect existed answers the new calls as a kernel without them does. */
class BackendVmDefaultsTests {

    /** Implements only the methods the SPI had before manual protect. */
    private static final class EarlierVm implements BackendVm {
        @Override
        public IoctlResult<Integer> checkExtension(long capability) {
            return IoctlResult.ok(0);
        }

        @Override
        public IoctlResult<UserMemory> mmap(long length) {
            return IoctlResult.err(Errno.ENOMEM);
        }

        @Override
        public IoctlResult<Integer> munmap(UserMemory memory) {
            return IoctlResult.err(Errno.EINVAL);
        }

        @Override
        public IoctlResult<MemorySegment> accessUser(long address, long length) {
            return IoctlResult.err(Errno.EFAULT);
        }

        @Override
        public IoctlResult<Integer> setUserMemoryRegion(MemoryRegion region) {
            return IoctlResult.err(Errno.EINVAL);
        }

        @Override
        public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
            return IoctlResult.err(Errno.ENOENT);
        }

        @Override
        public IoctlResult<Integer> getUserDirtyLogAddr(long argp) {
            return IoctlResult.err(Errno.ENOTTY);
        }

        @Override
        public IoctlResult<Integer> switchDirtyLog(int slot) {
            return IoctlResult.err(Errno.ENOTTY);
        }

        @Override
        public IoctlResult<BackendVcpu> createVcpu(int id) {
            return IoctlResult.err(Errno.EINVAL);
        }

        @Override
        public void close() {
        }
    }

    @Test
    void enabling_manual_protect_is_einval_like_an_unknown_capability() {
        assertEquals(Errno.EINVAL, new EarlierVm().enableManualDirtyLogProtect(0, KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE)
                .errnoOrNull());
    }

    @Test
    void clear_dirty_log_is_enotty_like_an_unknown_ioctl() {
        assertEquals(Errno.ENOTTY, new EarlierVm().clearDirtyLog(new ClearDirtyLog(0, 64, 0, 0x1000)).errnoOrNull());
    }
}
