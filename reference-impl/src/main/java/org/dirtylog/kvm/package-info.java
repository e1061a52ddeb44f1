/**
 * The generic KVM dirty-log core: the Java equivalent of the dirty-logging part of
 * {@code virt/kvm/kvm_main.c} as it stands in the 2010 RFC, made correct.
 *
 * <p>Start with {@link org.dirtylog.kvm.Vm} (the vm ioctls), {@link org.dirtylog.kvm.DirtyLog}
 * (the order of every harvest, written once) and {@link org.dirtylog.kvm.ArchHooks} (the narrow
 * questions an architecture answers). Memslots are an immutable {@code Memslots} snapshot behind
 * one RCU pointer; vCPUs read it inside {@link org.dirtylog.kvm.Srcu} read sections; bitmaps are
 * {@link org.dirtylog.kvm.DirtyBitmap}s in native memory at real user addresses. A vCPU write
 * ({@link org.dirtylog.kvm.Vcpu}): enter SRCU, look up the slot, store in guest mode if the page
 * is writable, else exit to the fault handler (mark dirty, map writable) and retry. The core
 * knows no defects: test fixtures compose broken variants from {@link org.dirtylog.kvm.CoreSeams}
 * and decorated hooks.
 *
 * <h2>Locks, in the order they are taken</h2>
 * <ol>
 * <li>The VM's slots lock ({@code kvm->slots_lock}, a {@code ReentrantLock} in {@code Vm}):
 *     every ioctl that reads or replaces memslots or bitmaps, {@code mmap}/{@code munmap} (a GET
 *     keeps its buffer mapped from its check to its copy), vCPU creation and {@code close}.
 *     Every VM-side {@link org.dirtylog.kvm.ArchHooks} hook runs under it, so an architecture
 *     needs no lock of its own for state that only harvests and memslot changes touch (the
 *     kernel's ia64 {@code dirty_log_lock} serialised the VMM's marking against the merge; here
 *     vCPUs mark the VMM log lock-free, so it would guard nothing).</li>
 * <li>An {@link org.dirtylog.kvm.Srcu}'s grace-period mutex, inside {@code synchronize}: one
 *     waiter per SRCU at a time, which the two-index algorithm needs. In a VM every grace period
 *     is waited for under the slots lock, so the mutex is never contended there; it stays
 *     because {@code Srcu} is a primitive of its own, correct for any callers (its tests run two
 *     waiters at once). Each VM has two SRCUs: {@code kvm->srcu} (a vCPU's memslot lookup and
 *     all it does with the slot; what a memslot or bitmap grace period waits for) and guest mode
 *     (each store attempt; what a remote TLB flush waits for).</li>
 * </ol>
 * The vCPU's monitor ({@code vcpu->mutex}) keeps one batch of writes or one random writer per
 * vCPU at a time; it is never held together with the locks above: a vCPU only enters SRCU read
 * sections, and {@code Vm.close} releases the slots lock before it stops the vCPUs. Read
 * sections are not locks: a vCPU never blocks in one and never takes the slots lock, so a grace
 * period waited for under the slots lock always ends. Two leaf monitors take nothing inside
 * them: a {@code DirtyRing}'s (its pushes; the reset, under the slots lock, never takes it) and
 * a writer's ring-full handshake (the vCPU thread waits there outside every read section).
 * Nothing else locks: bitmaps, page tables and the user address space are lock-free, or changed
 * only under the slots lock. A {@code KVM_CLEAR_DIRTY_LOG} or ring reset and a write fault on the
 * same page need no lock between them either: the order of their steps keeps the page tracked
 * ({@code DirtyLog.writeFault}).
 */
package org.dirtylog.kvm;
