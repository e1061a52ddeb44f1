package org.dirtylog.defects;

import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;

/**
 * {@code KVM_CLEAR_DIRTY_LOG} copies one word more than {@code ALIGN(num_pages, 64) / 8} bytes
 * from the user bitmap (4ddc9204: a size computed from the slot, not from {@code num_pages}): a
 * bitmap that ends right before unmapped memory fails with -EFAULT, and {@code num_pages} 0 reads
 * a word. Built around the correct VM: when the word after the bitmap is not readable, the call
 * goes to the correct VM with an unmapped bitmap, so every earlier check answers first and
 * -EFAULT comes last, as the copy's failure would.
 */
final class ClearReadsWordTooMany extends ForwardingBackendVm {

    /** Never user memory: the first page of the address space. */
    private static final long UNMAPPED = 0;

    ClearReadsWordTooMany(BackendVm delegate) {
        super(delegate);
    }

    @Override
    public IoctlResult<Integer> clearDirtyLog(ClearDirtyLog log) {
        if (delegate.accessUser(log.dirtyBitmap(), log.bitmapBytes() + Long.BYTES).isOk()) {
            return delegate.clearDirtyLog(log);
        }
        IoctlResult<Integer> checked = delegate.clearDirtyLog(
                new ClearDirtyLog(log.slot(), log.numPages(), log.firstPage(), UNMAPPED));
        return checked.isOk() ? IoctlResult.err(Errno.EFAULT) : checked;
    }
}
