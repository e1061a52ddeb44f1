package org.dirtylog.selftest;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.dirtylog.defects.ForwardingBackendVm;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;
import org.dirtylog.spi.UserMemory;
import org.dirtylog.spi.VcpuRun;

/**
 * A backend that forwards every call to a correct one, the manual-protect and ring methods too
 * (so a broken backend built on it declares no capability it does not implement); a broken backend of the self-test
 * overrides the one call it breaks, in {@link Vm} or {@link Vcpu}.
 */
class ForwardingBackend implements DirtyLogBackend {

    private final String name;
    final DirtyLogBackend delegate;

    ForwardingBackend(String name, DirtyLogBackend delegate) {
        this.name = name;
        this.delegate = delegate;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return "self-test: " + name + " (wraps " + delegate.name() + ")";
    }

    @Override
    public Availability availability() {
        return delegate.availability();
    }

    @Override
    public Capabilities capabilities() {
        return delegate.capabilities();
    }

    @Override
    public IoctlResult<BackendVm> createVm() {
        return delegate.createVm().map(this::wrap);
    }

    /** Returns the VM wrapper; broken backends return a subclass of {@link Vm}. */
    Vm wrap(BackendVm vm) {
        return new Vm(vm);
    }

    /** Forwards every VM call (defects' {@link ForwardingBackendVm}), wrapping the vCPUs it creates. */
    static class Vm extends ForwardingBackendVm {

        Vm(BackendVm d) {
            super(d);
        }

        @Override
        public IoctlResult<BackendVcpu> createVcpu(int id) {
            return delegate.createVcpu(id).map(this::wrap);
        }

        /** Returns the vCPU wrapper; broken backends return a subclass of {@link Vcpu}. */
        BackendVcpu wrap(BackendVcpu vcpu) {
            return vcpu;
        }
    }

    /** Forwards every vCPU call. */
    static class Vcpu implements BackendVcpu {
        final BackendVcpu d;

        Vcpu(BackendVcpu d) {
            this.d = d;
        }

        @Override
        public int id() {
            return d.id();
        }

        @Override
        public IoctlResult<Integer> runWrites(List<GuestWrite> writes) {
            return d.runWrites(writes);
        }

        @Override
        public IoctlResult<RandomWriter> startRandomWrites(RandomWrites writes) {
            return d.startRandomWrites(writes);
        }

        @Override
        public IoctlResult<RandomWriter> startSequentialWrites(RandomWrites writes) {
            return d.startSequentialWrites(writes);
        }

        @Override
        public IoctlResult<UserMemory> mmapDirtyRing(long length, int prot, int flags) {
            return d.mmapDirtyRing(length, prot, flags);
        }

        @Override
        public IoctlResult<VcpuRun> runWritesUntilExit(List<GuestWrite> writes) {
            return d.runWritesUntilExit(writes);
        }

        @Override
        public IoctlResult<Integer> kick() {
            return d.kick();
        }

        @Override
        public void close() {
            d.close();
        }
    }
}
