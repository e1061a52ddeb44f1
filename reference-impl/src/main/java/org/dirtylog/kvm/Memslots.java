package org.dirtylog.kvm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * An immutable snapshot of a VM's memslots ({@code struct kvm_memslots}), published through one
 * reference (the RCU pointer) and replaced whole under the slots lock. vCPUs read it inside an
 * SRCU read section; it is "freed" ({@link #free()}) only after a grace period, and a vCPU
 * that finds its snapshot freed reports a use-after-free.
 */
final class Memslots {

    private final Memslot[] byId;
    private final Memslot[] byGfn;
    private volatile boolean freed;

    Memslots(int slotLimit) {
        this(new Memslot[slotLimit]);
    }

    private Memslots(Memslot[] byId) {
        this.byId = byId;
        List<Memslot> present = new ArrayList<>();
        for (Memslot slot : byId) {
            if (slot != null) {
                present.add(slot);
            }
        }
        present.sort(Comparator.comparingLong(Memslot::baseGfn));
        this.byGfn = present.toArray(new Memslot[0]);
    }

    /** Returns the slot with id {@code id}, or null. */
    Memslot get(int id) {
        return byId[id];
    }

    /** Returns the slot limit ({@code KVM_MEMORY_SLOTS}). */
    int limit() {
        return byId.length;
    }

    /** Returns the present slots ordered by base gfn. */
    List<Memslot> slots() {
        return List.of(byGfn);
    }

    /** Returns the slot containing {@code gfn}, or null ({@code gfn_to_memslot}). TLA+: VcpuLookupSlot(v). */
    Memslot lookup(long gfn) {
        int lo = 0;
        int hi = byGfn.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Memslot slot = byGfn[mid];
            if (gfn < slot.baseGfn()) {
                hi = mid - 1;
            } else if (gfn - slot.baseGfn() >= slot.npages()) {
                lo = mid + 1;
            } else {
                return slot;
            }
        }
        return null;
    }

    /** Returns a copy with {@code slot} installed at its id. */
    Memslots with(Memslot slot) {
        Memslot[] next = Arrays.copyOf(byId, byId.length);
        next[slot.id()] = slot;
        return new Memslots(next);
    }

    /** Returns a copy without slot {@code id}. */
    Memslots without(int id) {
        Memslot[] next = Arrays.copyOf(byId, byId.length);
        next[id] = null;
        return new Memslots(next);
    }

    /** Marks the snapshot freed. TLA+: FreeOldMemslots. */
    void free() {
        freed = true;
    }

    /** Returns true once the snapshot was freed. */
    boolean isFreed() {
        return freed;
    }
}
