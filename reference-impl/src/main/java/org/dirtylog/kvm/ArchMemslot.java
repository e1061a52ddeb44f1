package org.dirtylog.kvm;

/**
 * Architecture-private state of one memslot (the kernel's {@code struct kvm_arch_memory_slot}):
 * its shadow page table, write-protect generation or VMM dirty log. Created by
 * {@link ArchHooks#createArchMemslot(ArchContext, long)} when a slot is created or moved, kept
 * across flag changes and bitmap exchanges, and closed under the slots lock after the grace
 * period that retires it.
 */
public interface ArchMemslot extends AutoCloseable {

    /** Releases the state's resources. Idempotent. */
    @Override
    void close();
}
