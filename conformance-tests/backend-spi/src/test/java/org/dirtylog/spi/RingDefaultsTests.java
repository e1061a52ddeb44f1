package org.dirtylog.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A backend written before the dirty ring existed answers the ring calls as a kernel without a ring does. */
class RingDefaultsTests {

    /** Implements only what the SPI had before the ring. */
    private static final class EarlierVm implements BackendVm {
        @Override
        public IoctlResult<Integer> checkExtension(long capability) {
            return IoctlResult.ok(0);
        }

        @Override
        public IoctlResult<UserMemory> mmap(long length) {
            return IoctlResult.err(Errno.ENOMEM);
        }

        @Override
        public IoctlResult<Integer> munmap(UserMemory memory) {
            return IoctlResult.err(Errno.EINVAL);
        }

        @Override
        public IoctlResult<MemorySegment> accessUser(long address, long length) {
            return IoctlResult.err(Errno.EFAULT);
        }

        @Override
        public IoctlResult<Integer> setUserMemoryRegion(MemoryRegion region) {
            return IoctlResult.ok(0);
        }

        @Override
        public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
            return IoctlResult.ok(0);
        }

        @Override
        public IoctlResult<Integer> getUserDirtyLogAddr(long argp) {
            return IoctlResult.err(Errno.ENOTTY);
        }

        @Override
        public IoctlResult<Integer> switchDirtyLog(int slot) {
            return IoctlResult.err(Errno.ENOTTY);
        }

        @Override
        public IoctlResult<BackendVcpu> createVcpu(int id) {
            return IoctlResult.ok(new EarlierVcpu());
        }

        @Override
        public void close() {
        }
    }

    /** Runs every batch to its end, as a vCPU without a ring does. */
    private static final class EarlierVcpu implements BackendVcpu {
        @Override
        public int id() {
            return 0;
        }

        @Override
        public IoctlResult<Integer> runWrites(List<GuestWrite> writes) {
            return IoctlResult.ok(writes.size());
        }

        @Override
        public IoctlResult<RandomWriter> startRandomWrites(RandomWrites writes) {
            return IoctlResult.ok(new RandomWriter() {
                @Override
                public long writesSoFar() {
                    return 0;
                }

                @Override
                public IoctlResult<Long> stop() {
                    return IoctlResult.ok(0L);
                }
            });
        }

        @Override
        public void close() {
        }
    }

    @Test
    void enabling_a_ring_is_invalid_as_on_a_kernel_whose_architecture_has_none() {
        BackendVm vm = new EarlierVm();
        assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(KvmApi.KVM_CAP_DIRTY_LOG_RING, 0, 65536).errnoOrNull());
        assertEquals(Errno.EINVAL, vm.enableDirtyLogRing(KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL, 0, 65536).errnoOrNull());
    }

    @Test
    void resetting_rings_is_invalid_as_on_a_vm_without_a_ring() {
        assertEquals(Errno.EINVAL, new EarlierVm().resetDirtyRings().errnoOrNull());
    }

    @Test
    void a_vcpu_has_no_ring_to_map_runs_every_batch_to_its_end_and_a_kick_returns_at_once() {
        BackendVcpu vcpu = new EarlierVm().createVcpu(0).value();
        assertEquals(Errno.EINVAL, vcpu.mmapDirtyRing(4096, KvmApi.PROT_READ | KvmApi.PROT_WRITE,
                KvmApi.MAP_SHARED).errnoOrNull());
        List<GuestWrite> writes = List.of(new GuestWrite(0x1000, 1), new GuestWrite(0x2000, 2));
        assertEquals(new VcpuRun(2, VcpuExit.DONE), vcpu.runWritesUntilExit(writes).value());
        assertEquals(0, vcpu.kick().value());
        assertEquals(Errno.ENOSYS, vcpu.startSequentialWrites(new RandomWrites(0x1000, 4, 1, 0)).errnoOrNull());
    }

    @Test
    void a_random_writer_never_waits_on_a_full_ring() {
        RandomWriter writer = new EarlierVm().createVcpu(0).value()
                .startRandomWrites(new RandomWrites(0x1000, 1, 1, 1)).value();
        assertFalse(writer.ringFull());
        assertEquals(0, writer.ringFullExits());
        assertEquals(Errno.EINVAL, writer.resume().errnoOrNull());
    }

    @Test
    void the_ring_capability_has_a_report_label() {
        assertEquals("dirty-log-ring", Capability.DIRTY_LOG_RING.label());
        assertEquals("sequential-writes", Capability.SEQUENTIAL_WRITES.label());
    }
}
