package org.dirtylog.kvm;

/** What a {@code KVM_SET_USER_MEMORY_REGION} did to one memslot ({@code enum kvm_mr_change}). */
public enum MemslotChange {
    /** A new slot. */
    CREATE,
    /** The slot is gone. */
    DELETE,
    /** New guest address, possibly new flags; fresh architecture state, the bitmaps kept if logging stays on. */
    MOVE,
    /** Same place, new flags: logging switched on or off. */
    FLAGS_ONLY
}
