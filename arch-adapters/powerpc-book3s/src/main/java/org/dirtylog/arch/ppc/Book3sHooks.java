package org.dirtylog.arch.ppc;

import java.util.concurrent.atomic.AtomicLong;
import org.dirtylog.kvm.ArchContext;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.ArchMemslot;
import org.dirtylog.kvm.Memslot;
import org.dirtylog.kvm.Vcpu;

/**
 * PowerPC book3s PR ({@code arch/powerpc/kvm/book3s.c}): writability is cached only in per-vCPU
 * shadow PTEs, and re-arming a slot flushes them. The harvest is the core's in-place exchange,
 * made safe by its grace period.
 */
public final class Book3sHooks implements ArchHooks {

    private final AtomicLong generations = new AtomicLong();

    @Override
    public String name() {
        return "ppc";
    }

    @Override
    public ArchMemslot createArchMemslot(ArchContext kvm, long npages) {
        return new Book3sMemslot(generations.incrementAndGet());
    }

    @Override
    public Object createArchVcpu(int id) {
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
     * range). TLA+: FlushShadowMappings.
     */
    @Override
    public void writeProtectSlot(ArchContext kvm, Memslot slot) {
        ((Book3sMemslot) slot.arch()).flush(generations.incrementAndGet());
    }
}
