package org.dirtylog.defects;

import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.IoctlResult;

/**
 * {@code KVM_GET_DIRTY_LOG} ignores manual protect: it clears and re-arms as without it, so a page
 * is reported once and gone before user space clears it. Built around the correct VM: a GET in
 * manual mode turns manual protect off for the call and back on after.
 */
final class GetClearsInManualMode extends ForwardingBackendVm {

    /** The last accepted KVM_ENABLE_CAP argument; calls come from one thread at a time in the rules that use it. */
    private volatile long mode;

    GetClearsInManualMode(BackendVm delegate) {
        super(delegate);
    }

    @Override
    public IoctlResult<Integer> enableManualDirtyLogProtect(int flags, long args0) {
        IoctlResult<Integer> result = delegate.enableManualDirtyLogProtect(flags, args0);
        if (result.isOk()) {
            mode = args0;
        }
        return result;
    }

    @Override
    public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
        long manual = mode;
        if (manual == 0) {
            return delegate.getDirtyLog(slot, dirtyBitmap);
        }
        delegate.enableManualDirtyLogProtect(0, 0);
        try {
            return delegate.getDirtyLog(slot, dirtyBitmap);
        } finally {
            delegate.enableManualDirtyLogProtect(0, manual);
        }
    }
}
