package org.dirtylog.conformance.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The folder one certification run writes its report into, held for the whole run.
 *
 * <p>{@link #open} checks the folder before any rule runs: it is created if missing, must not be
 * a file, must be writable, and must be empty unless the caller replaces an earlier report in
 * it; a lock file ({@value #LOCK}, an OS file lock) keeps a second run out while this one holds
 * it. {@link #clear} then removes the earlier report before the first result is written, so a
 * certificate left from an earlier run never stands beside this run's. Every file is written to
 * a temporary name and renamed into place, so a crash leaves either the old state or a whole
 * file, never a truncated one.
 */
public final class ReportFolder implements AutoCloseable {

    /** The lock file; it stays in the folder (deleting it could let two runs lock different files). */
    public static final String LOCK = ".dirtylog.lock";

    /** Marks a folder as a DirtyLog report, so {@code --replace} may empty it. */
    public static final String MARKER = ".dirtylog-report";

    /** The files a report folder holds, in it and in one sub-folder per backend. */
    private static final Set<String> REPORT_FILES = Set.of("index.html", "certificate.json", "junit.xml", "output.log",
            MARKER, LOCK);

    /** Why a folder cannot hold the report: one line for the user. */
    public static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    private final Path dir;
    private final Path created;
    private final FileChannel channel;
    private final FileLock lock;
    private boolean written;

    private ReportFolder(Path dir, Path created, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.created = created;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Returns the folder {@code dir}, created if missing and locked for this run.
     *
     * @param replace whether an earlier report in {@code dir} may be replaced; a folder holding
     *                anything else is refused either way
     * @throws Refused when {@code dir} is a file, cannot be created or written, is locked by
     *                 another run, or is not empty and may not be replaced
     */
    public static ReportFolder open(Path dir, boolean replace) throws Refused {
        Path d = dir.toAbsolutePath().normalize();
        if (Files.exists(d) && !Files.isDirectory(d)) {
            throw new Refused("report folder " + d + " is a file, not a folder");
        }
        Path created = null;
        Path existing = d;
        for (; existing != null && !Files.exists(existing); existing = existing.getParent()) {
            created = existing;
        }
        if (existing != null && !Files.isDirectory(existing)) {
            throw new Refused("cannot create report folder " + d + ": " + existing + " is a file");
        }
        try {
            Files.createDirectories(d);
        } catch (FileAlreadyExistsException | NotDirectoryException e) {
            throw new Refused("cannot create report folder " + d + ": part of that path is a file");
        } catch (IOException | SecurityException e) {
            throw new Refused("cannot create report folder " + d + ": " + describe(e));
        }
        boolean lockExisted = Files.exists(d.resolve(LOCK));
        if (created == null && !lockExisted) {
            // A folder no run has used is refused before anything is written into it; one with
            // a lock file is first checked for a run holding it, which is the better message.
            checkContents(d, replace);
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(d.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException | SecurityException e) {
            deleteIfCreated(d, created);
            throw new Refused("cannot write to report folder " + d + ": " + describe(e));
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new Refused("cannot lock report folder " + d + ": " + describe(e));
        }
        if (lock == null) {
            closeQuietly(channel);
            throw new Refused("another certify run is writing to " + d + "; wait for it to end or choose another --report");
        }
        ReportFolder folder = new ReportFolder(d, created, channel, lock);
        try {
            // Again under the lock: another run may have written here since the first look.
            checkContents(d, replace);
        } catch (Refused e) {
            folder.close();
            if (!lockExisted) {
                try {
                    Files.deleteIfExists(d.resolve(LOCK));
                } catch (IOException ignored) {
                    // The refusal is what the user needs to read.
                }
            }
            throw e;
        }
        return folder;
    }

    /** Refuses {@code d} when it holds anything but the lock, unless {@code replace} and it holds a report. */
    private static void checkContents(Path d, boolean replace) throws Refused {
        List<Path> entries;
        try (Stream<Path> s = Files.list(d)) {
            entries = s.filter(p -> !p.getFileName().toString().equals(LOCK)).sorted().toList();
            if (entries.isEmpty()) {
                return;
            }
            if (!replace) {
                throw new Refused("report folder " + d + " is not empty; choose a new or empty folder, or add --replace "
                        + "to replace the earlier report in it");
            }
            if (!isReport(d)) {
                throw new Refused("report folder " + d + " holds files that are not a DirtyLog report (e.g. "
                        + entries.get(0).getFileName() + "); choose another folder");
            }
        } catch (IOException | UncheckedIOException e) {
            throw new Refused("cannot read report folder " + d + ": " + describe(e));
        }
    }

    /** Returns the folder's absolute path. */
    public Path dir() {
        return dir;
    }

    /** Removes everything an earlier report left in the folder and marks the folder as a report. */
    public void clear() throws IOException {
        for (Path entry : entries()) {
            try (Stream<Path> walk = Files.walk(entry)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        write(MARKER, "A DirtyLog Kit report folder: ./dirtylog certify --replace may replace it.\n"
                .getBytes(StandardCharsets.UTF_8));
    }

    /** Writes {@code content} to {@code relative} (a file name, or {@code backend/file}) through a temporary file and a rename. */
    public void write(String relative, byte[] content) throws IOException {
        Path target = dir.resolve(relative).normalize();
        if (!target.startsWith(dir) || target.equals(dir)) {
            throw new IllegalArgumentException(relative + " is outside the report folder");
        }
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            Files.write(tmp, content);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            written = true;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Releases the lock; a folder this run created and never wrote to is removed again. */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // Closing the channel below releases the lock as well.
        }
        closeQuietly(channel);
        if (!written) {
            deleteIfCreated(dir, created);
        }
    }

    private List<Path> entries() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().equals(LOCK)).sorted().toList();
        }
    }

    /** Returns true when {@code dir} holds a report: the marker, or only report files (as kits before the marker wrote). */
    private static boolean isReport(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve(MARKER))) {
            return true;
        }
        boolean certificate = false;
        try (Stream<Path> top = Files.list(dir)) {
            for (Path p : top.toList()) {
                if (Files.isDirectory(p)) {
                    try (Stream<Path> sub = Files.list(p)) {
                        for (Path q : sub.toList()) {
                            if (!Files.isRegularFile(q) || !isReportFile(q)) {
                                return false;
                            }
                            certificate |= q.getFileName().toString().equals("certificate.json");
                        }
                    }
                } else if (!isReportFile(p)) {
                    return false;
                } else {
                    certificate |= p.getFileName().toString().equals("certificate.json");
                }
            }
        }
        return certificate;
    }

    private static boolean isReportFile(Path p) {
        String name = p.getFileName().toString();
        int tmp = name.indexOf(".tmp-");
        return REPORT_FILES.contains(tmp > 0 ? name.substring(0, tmp) : name);
    }

    /** Removes {@code d} and its ancestors up to {@code created}, the highest folder this run created, if any. */
    private static void deleteIfCreated(Path d, Path created) {
        if (created == null) {
            return;
        }
        try {
            Files.deleteIfExists(d.resolve(LOCK));
            for (Path p = d; p != null && p.startsWith(created); p = p.getParent()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // Leaving an empty folder behind is harmless; the refusal message matters more.
        }
    }

    private static void closeQuietly(FileChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // Nothing was written through the lock channel.
        }
    }

    private static String describe(Exception e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or folder: " + e.getMessage();
        }
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
