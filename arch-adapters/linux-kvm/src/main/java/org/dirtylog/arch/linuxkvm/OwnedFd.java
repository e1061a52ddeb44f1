package org.dirtylog.arch.linuxkvm;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.StampedLock;
import org.dirtylog.spi.Errno;

/**
 * A file descriptor that is closed exactly once and never used after that: calls hold a read
 * stamp, {@link #close()} takes the write lock. Without it a harvest racing with close could
 * issue its ioctl on a descriptor number the process has already reused for another file.
 */
final class OwnedFd implements AutoCloseable {

    /** A system call on the descriptor, run while it is guaranteed open. */
    @FunctionalInterface
    interface Call {
        /** Returns the call's result or {@code -errno}. */
        long on(int fd);
    }

    private final int fd;
    private final StampedLock lock = new StampedLock();
    private boolean closed;

    OwnedFd(int fd) {
        this.fd = fd;
    }

    /** Returns {@code call}'s result with the descriptor held open, or {@code -EBADF} once closed. */
    long call(Call call) {
        long stamp = lock.readLock();
        try {
            return closed ? Errno.EBADF.kernelReturn() : call.on(fd);
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** Returns {@code ioctl(fd, request, arg)} or {@code -errno}; {@code -EBADF} once closed. */
    long ioctl(long request, long arg) {
        return call(n -> Syscalls.ioctl(n, request, arg));
    }

    /** As {@link #ioctl(long, long)}, with a caller-owned errno capture segment (no allocation). */
    long ioctl(long request, long arg, MemorySegment capture) {
        return call(n -> Syscalls.ioctl(n, request, arg, capture));
    }

    /** Returns {@code mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)} or {@code -errno}. */
    long mmapShared(long length) {
        return call(n -> Syscalls.mmap(length, Syscalls.PROT_READ | Syscalls.PROT_WRITE, Syscalls.MAP_SHARED, n));
    }

    /** Returns {@code mmap(NULL, length, prot, flags, fd, offset)} or {@code -errno}; {@code -EBADF} once closed. */
    long mmap(long length, int prot, int flags, long offset) {
        return call(n -> Syscalls.mmap(length, prot, flags, n, offset));
    }

    /** Closes the descriptor after every call in flight returned. Idempotent. */
    @Override
    public void close() {
        long stamp = lock.writeLock();
        try {
            if (!closed) {
                closed = true;
                Syscalls.close(fd);
            }
        } finally {
            lock.unlockWrite(stamp);
        }
    }
}
