package org.dirtylog.spec;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An exclusive lock on a folder for one run, held on a lock file inside it: a second run into
 * the same folder, in this JVM or another, is refused instead of deleting the first one's work.
 * The operating system drops the lock when the holding process dies, however it dies; the file
 * itself stays (removing it would let a third run lock a fresh file while the first still runs).
 */
final class FolderLock implements AutoCloseable {

    // Lock files this JVM holds. POSIX drops every lock a process has on a file when it closes
    // any descriptor of that file, so a second attempt in this JVM must not even open the file.
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path key;
    private final FileChannel channel;
    private final FileLock lock;

    private FolderLock(Path key, FileChannel channel, FileLock lock) {
        this.key = key;
        this.channel = channel;
        this.lock = lock;
    }

    /** Returns the lock on {@code file} (created if missing), or empty when another run holds it. */
    static Optional<FolderLock> tryAcquire(Path file) throws IOException {
        Path key = file.toAbsolutePath().normalize();
        if (!HELD.add(key)) {
            return Optional.empty();
        }
        FileLock lock = null;
        FileChannel channel = null;
        try {
            channel = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            lock = channel.tryLock();
        } catch (OverlappingFileLockException heldInThisJvm) {
            lock = null;
        } finally {
            if (lock == null) {
                HELD.remove(key);
                if (channel != null) {
                    channel.close();
                }
            }
        }
        return lock == null ? Optional.empty() : Optional.of(new FolderLock(key, channel, lock));
    }

    /** Releases the lock. */
    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
            HELD.remove(key);
        }
    }
}
