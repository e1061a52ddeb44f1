package org.dirtylog.arch.tests;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.dirtylog.defects.Arch;
import org.dirtylog.kvm.Vcpu;
import org.dirtylog.kvm.Vm;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserDirtyLog;
import org.dirtylog.spi.UserMemory;

/** A VM with one logged slot of {@code 2^k + 3} pages, a vCPU and a scratch page of user memory. */
final class Guest implements AutoCloseable {

    static final int SLOT = 0;
    static final long NPAGES = (1 << 10) + 3;
    static final long GPA = 1L << 30;

    final Vm vm;
    final UserMemory memory;
    final UserMemory scratch;
    final Vcpu vcpu;
    MemoryRegion region;

    Guest(Arch arch) {
        vm = arch.backend().createReferenceVm();
        memory = vm.mmap(NPAGES * KvmApi.PAGE_SIZE).value();
        scratch = vm.mmap(16 * KvmApi.PAGE_SIZE).value();
        region = new MemoryRegion(SLOT, KvmApi.KVM_MEM_LOG_DIRTY_PAGES, GPA, NPAGES * KvmApi.PAGE_SIZE, memory.address());
        ok(vm.setUserMemoryRegion(region));
        vcpu = (Vcpu) vm.createVcpu(0).value();
    }

    static <T> T ok(IoctlResult<T> result) {
        if (!result.isOk()) {
            throw new AssertionError("expected success, got " + result.errnoOrNull());
        }
        return result.value();
    }

    IoctlResult<Integer> set(MemoryRegion r) {
        IoctlResult<Integer> result = vm.setUserMemoryRegion(r);
        if (result.isOk()) {
            if (r.slot() == SLOT && r.memorySize() != 0) {
                region = r;
            }
        }
        return result;
    }

    void write(long... pages) {
        List<GuestWrite> writes = new ArrayList<>();
        for (long page : pages) {
            writes.add(new GuestWrite(region.guestPhysAddr() + page * KvmApi.PAGE_SIZE + 8, page + 1000));
        }
        ok(vcpu.runWrites(writes));
    }

    long bitmapBytes() {
        return KvmApi.dirtyBitmapBytes(NPAGES);
    }

    /** Returns the pages of a GET_DIRTY_LOG into the scratch page. */
    BitSet getDirtyLog() {
        ok(vm.getDirtyLog(SLOT, scratch.address()));
        return bits(scratch.segment(), bitmapBytes() * 8);
    }

    /** Returns the struct of KVM_GET_USER_DIRTY_LOG_ADDR for the slot. */
    UserDirtyLog addresses() {
        MemorySegment arg = scratch.segment().asSlice(8192, KvmApi.USER_DIRTY_LOG_SIZE);
        new UserDirtyLog(SLOT, 0, 0, 0).writeTo(arg);
        ok(vm.getUserDirtyLogAddr(scratch.address() + 8192));
        return UserDirtyLog.readFrom(arg);
    }

    /** Returns the bits of the bitmap at user address {@code address}, read through the raw address. */
    BitSet bitmapAt(long address) {
        // Native memory: exactly what user space does with the RFC's exported addresses.
        return bits(MemorySegment.ofAddress(address).reinterpret(bitmapBytes()), bitmapBytes() * 8);
    }

    static BitSet bits(MemorySegment segment, long nbits) {
        BitSet set = new BitSet();
        for (long word = 0; word < nbits / 64; word++) {
            long w = segment.get(ValueLayout.JAVA_LONG_UNALIGNED, word * 8);
            for (int b = 0; b < 64; b++) {
                if ((w & (1L << b)) != 0) {
                    set.set((int) (word * 64 + b));
                }
            }
        }
        return set;
    }

    static BitSet of(long... pages) {
        BitSet set = new BitSet();
        for (long p : pages) {
            set.set((int) p);
        }
        return set;
    }

    @Override
    public void close() {
        vm.close();
    }
}
