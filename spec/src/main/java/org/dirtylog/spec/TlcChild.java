package org.dirtylog.spec;

import java.io.IOException;
import java.io.InputStream;

/**
 * The main class of the child JVM {@link TlcRunner} starts: runs {@code tlc2.TLC.main} with the
 * given arguments and halts the JVM as soon as its standard input reaches end of file.
 *
 * <p>The parent never writes to that pipe and keeps it open for as long as it wants TLC to run,
 * so end of file means the parent closed it or died. A parent killed with SIGKILL runs no
 * shutdown hook and cannot stop its children; the kernel still closes its end of the pipe, and
 * this watcher then takes TLC down with it instead of leaving it to run for hours.
 */
public final class TlcChild {

    /** Exit status of a child whose parent went away. */
    public static final int PARENT_GONE = 129;

    private TlcChild() {
    }

    /** Starts the watcher of standard input, then TLC (which ends the JVM with its own status). */
    public static void main(String[] args) throws Exception {
        Thread watcher = new Thread(() -> {
            awaitEndOfFile(System.in);
            Runtime.getRuntime().halt(PARENT_GONE);
        }, "tlc-parent-watcher");
        watcher.setDaemon(true);
        watcher.start();
        tlc2.TLC.main(args);
    }

    private static void awaitEndOfFile(InputStream in) {
        byte[] ignored = new byte[64];
        try {
            while (in.read(ignored) >= 0) {
                // the parent writes nothing; anything read is discarded
            }
        } catch (IOException closed) {
            // a broken pipe is the parent going away too
        }
    }
}
