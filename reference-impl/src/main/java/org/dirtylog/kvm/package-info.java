/**
 * The generic KVM dirty-log core: the Java equivalent of the dirty-logging part of
 * {@code virt/kvm/kvm_main.c} as it stands in the 2010 RFC, made correct.
 *
 * <p>Start with {@link org.dirtylog.kvm.Vm} (the vm ioctls) and {@link org.dirtylog.kvm.ArchHooks}
 * (what an architecture supplies). Memslots are an immutable {@link org.dirtylog.kvm.Memslots}
 * snapshot behind one RCU pointer; vCPUs read it inside {@link org.dirtylog.kvm.Srcu} read
 * sections; bitmaps are {@link org.dirtylog.kvm.DirtyBitmap}s in native memory at real user
 * addresses. A vCPU write: enter SRCU, look up the slot, store in guest mode if the page is
 * writable, else exit to the fault handler (mark dirty, map writable) and retry.
 * {@link org.dirtylog.kvm.Defect} lists the known bugs the core can be built with.
 */
package org.dirtylog.kvm;
