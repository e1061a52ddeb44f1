package org.dirtylog.arch.linuxkvm;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.dirtylog.spi.Errno;

/**
 * A file descriptor that is closed exactly once and never used after that: ioctls hold the read
 * lock, {@link #close()} takes the write lock. Without it a harvest racing with close could
 * issue its ioctl on a descriptor number the process has already reused for another file.
 */
final class OwnedFd implements AutoCloseable {

    private final int fd;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    OwnedFd(int fd) {
        this.fd = fd;
    }

    /** Returns the descriptor number (for logging and mmap while the owner keeps it open). */
    int number() {
        return fd;
    }

    /** Returns {@code ioctl(fd, request, arg)} or {@code -errno}; {@code -EBADF} once closed. */
    long ioctl(long request, long arg) {
        lock.readLock().lock();
        try {
            return closed ? Errno.EBADF.kernelReturn() : Syscalls.ioctl(fd, request, arg);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** As {@link #ioctl(long, long)}, with a caller-owned errno capture segment (no allocation). */
    long ioctl(long request, long arg, MemorySegment capture) {
        lock.readLock().lock();
        try {
            return closed ? Errno.EBADF.kernelReturn() : Syscalls.ioctl(fd, request, arg, capture);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Returns {@code mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)} or {@code -errno}. */
    long mmapShared(long length) {
        lock.readLock().lock();
        try {
            return closed ? Errno.EBADF.kernelReturn()
                    : Syscalls.mmap(length, Syscalls.PROT_READ | Syscalls.PROT_WRITE, Syscalls.MAP_SHARED, fd);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Closes the descriptor after every ioctl in flight returned. Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                Syscalls.close(fd);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}
