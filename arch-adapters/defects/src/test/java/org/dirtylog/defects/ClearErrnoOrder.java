package org.dirtylog.defects;

import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;

/**
 * {@code KVM_CLEAR_DIRTY_LOG} copies the user bitmap before it checks its other arguments: an
 * unreadable bitmap answers -EFAULT where the kernel answers -EINVAL or -ENOENT. Built around the
 * correct VM, which then checks as usual.
 */
final class ClearErrnoOrder extends ForwardingBackendVm {

    ClearErrnoOrder(BackendVm delegate) {
        super(delegate);
    }

    @Override
    public IoctlResult<Integer> clearDirtyLog(ClearDirtyLog log) {
        if (log.bitmapBytes() > 0 && !delegate.accessUser(log.dirtyBitmap(), log.bitmapBytes()).isOk()) {
            return IoctlResult.err(Errno.EFAULT);
        }
        return delegate.clearDirtyLog(log);
    }
}
