package org.dirtylog.example;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;

/** A vCPU of {@link MinimalVm}: runs write batches on the caller's thread, random writes on its own. */
final class MinimalVcpu implements BackendVcpu {

    private final int id;
    private final MinimalVm vm;
    private Writer writer;

    MinimalVcpu(int id, MinimalVm vm) {
        this.id = id;
        this.vm = vm;
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public synchronized IoctlResult<Integer> runWrites(List<GuestWrite> writes) {
        if (writer != null) {
            return IoctlResult.err(Errno.EBUSY);
        }
        for (GuestWrite w : writes) {
            if (!vm.guestWrite(w.gpa(), w.value())) {
                return IoctlResult.err(Errno.EFAULT);
            }
        }
        return IoctlResult.ok(writes.size());
    }

    @Override
    public synchronized IoctlResult<RandomWriter> startRandomWrites(RandomWrites writes) {
        if (writer != null) {
            return IoctlResult.err(Errno.EBUSY);
        }
        writer = new Writer(writes);
        writer.thread.start();
        return IoctlResult.ok(writer);
    }

    @Override
    public void close() {
        Writer w;
        synchronized (this) {
            w = writer;
        }
        if (w != null) {
            w.stop();
        }
    }

    /** The selftest guest: stores the iteration into random pages until stopped. */
    private final class Writer implements RandomWriter {
        private final Thread thread;
        private final AtomicLong writes = new AtomicLong();
        private volatile boolean stopping;
        private volatile boolean faulted;

        Writer(RandomWrites w) {
            SplittableRandom random = new SplittableRandom(w.seed());
            thread = Thread.ofPlatform().daemon().name("example-minimal-vcpu" + id).unstarted(() -> {
                while (!stopping) {
                    long page = random.nextLong(w.pages());
                    if (!vm.guestWrite(w.firstGpa() + page * KvmApi.PAGE_SIZE, w.iteration())) {
                        faulted = true;
                        return;
                    }
                    writes.incrementAndGet();
                }
            });
        }

        @Override
        public long writesSoFar() {
            return writes.get();
        }

        @Override
        public IoctlResult<Long> stop() {
            stopping = true;
            boolean interrupted = false;
            while (true) {
                try {
                    thread.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            synchronized (MinimalVcpu.this) {
                if (writer == this) {
                    writer = null;
                }
            }
            return faulted ? IoctlResult.err(Errno.EFAULT) : IoctlResult.ok(writes.get());
        }
    }
}
