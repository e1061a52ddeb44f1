package org.dirtylog.arch.ppc;

import java.util.concurrent.atomic.AtomicLong;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.ArchMemslot;
import org.dirtylog.kvm.Memslot;
import org.dirtylog.kvm.Vcpu;
import org.dirtylog.kvm.Vm;

/**
 * PowerPC book3s PR ({@code arch/powerpc/kvm/book3s.c}): writability is cached only in per-vCPU
 * shadow PTEs; the harvest is the generic in-place swap (made safe with a grace period, see
 * {@link ArchHooks#updateDirtyLog}) followed by a flush of the slot's shadow PTEs on every vCPU.
 */
public final class Book3sHooks implements ArchHooks {

    private final AtomicLong generations = new AtomicLong();

    @Override
    public String name() {
        return "ppc";
    }

    @Override
    public ArchMemslot createArchMemslot(Vm vm, long npages) {
        return new Book3sMemslot(generations.incrementAndGet());
    }

    @Override
    public Object createArchVcpu(Vm vm, int id) {
        return new ShadowPteCache();
    }

    @Override
    public boolean isWritable(Vcpu vcpu, Memslot slot, long page) {
        return ((ShadowPteCache) vcpu.arch()).isWritable(slot.baseGfn() + page,
                ((Book3sMemslot) slot.arch()).flushGeneration());
    }

    @Override
    public void makeWritable(Vcpu vcpu, Memslot slot, long page) {
        ((ShadowPteCache) vcpu.arch()).install(slot.baseGfn() + page,
                ((Book3sMemslot) slot.arch()).flushGeneration());
    }

    /**
     * Flushes every vCPU's shadow PTEs of the slot ({@code kvmppc_mmu_pte_pflush} over the slot's
     * range), then waits until no vCPU still stores through one it looked up before.
     * TLA+: FlushShadowMappings.
     */
    @Override
    public void writeProtectSlot(Vm vm, Memslot slot) {
        ((Book3sMemslot) slot.arch()).flush(generations.incrementAndGet());
        vm.flushRemoteTlbs();
    }
}
