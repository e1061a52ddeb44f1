package org.dirtylog.defects;

import java.lang.foreign.MemorySegment;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserMemory;

/**
 * A VM that forwards every ioctl to a correct VM; a defect at the ioctl boundary overrides the
 * one call it breaks. Every method of {@link BackendVm}, default ones included, is forwarded
 * ({@code DefectTests} checks it), so the broken VM differs from the correct one in that call only.
 * Public for the self-test's broken backends, which are built the same way.
 */
public abstract class ForwardingBackendVm implements BackendVm {

    /** The correct VM every call goes to unless a subclass overrides it. */
    protected final BackendVm delegate;

    protected ForwardingBackendVm(BackendVm delegate) {
        this.delegate = delegate;
    }

    @Override
    public IoctlResult<Integer> checkExtension(long capability) {
        return delegate.checkExtension(capability);
    }

    @Override
    public IoctlResult<UserMemory> mmap(long length) {
        return delegate.mmap(length);
    }

    @Override
    public IoctlResult<Integer> munmap(UserMemory memory) {
        return delegate.munmap(memory);
    }

    @Override
    public IoctlResult<MemorySegment> accessUser(long address, long length) {
        return delegate.accessUser(address, length);
    }

    @Override
    public IoctlResult<Integer> setUserMemoryRegion(MemoryRegion region) {
        return delegate.setUserMemoryRegion(region);
    }

    @Override
    public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
        return delegate.getDirtyLog(slot, dirtyBitmap);
    }

    @Override
    public IoctlResult<Integer> getUserDirtyLogAddr(long argp) {
        return delegate.getUserDirtyLogAddr(argp);
    }

    @Override
    public IoctlResult<Integer> switchDirtyLog(int slot) {
        return delegate.switchDirtyLog(slot);
    }

    @Override
    public IoctlResult<Integer> enableManualDirtyLogProtect(int flags, long args0) {
        return delegate.enableManualDirtyLogProtect(flags, args0);
    }

    @Override
    public IoctlResult<Integer> clearDirtyLog(ClearDirtyLog log) {
        return delegate.clearDirtyLog(log);
    }

    @Override
    public IoctlResult<BackendVcpu> createVcpu(int id) {
        return delegate.createVcpu(id);
    }

    @Override
    public IoctlResult<Integer> enableDirtyLogRing(int capability, int flags, long args0) {
        return delegate.enableDirtyLogRing(capability, flags, args0);
    }

    @Override
    public IoctlResult<Integer> resetDirtyRings() {
        return delegate.resetDirtyRings();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
