package org.dirtylog.arch.linuxkvm;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.UnionLayout;
import java.lang.foreign.ValueLayout;

/**
 * The x86-64 layouts of the {@code include/uapi/linux/kvm.h} structs the backend passes to the
 * kernel. Field names are the C names, so {@code byteOffset(groupElement("slot"))} reads like
 * {@code offsetof}. {@code KvmStructsTests} pins every size and offset used here to the values
 * of the uapi header.
 */
final class KvmStructs {

    /** {@code struct kvm_userspace_memory_region} (32 bytes), argument of KVM_SET_USER_MEMORY_REGION. */
    static final StructLayout KVM_USERSPACE_MEMORY_REGION = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("slot"),
            ValueLayout.JAVA_INT.withName("flags"),
            ValueLayout.JAVA_LONG.withName("guest_phys_addr"),
            ValueLayout.JAVA_LONG.withName("memory_size"),
            ValueLayout.JAVA_LONG.withName("userspace_addr"))
            .withName("kvm_userspace_memory_region");

    /** {@code struct kvm_dirty_log} (16 bytes), argument of KVM_GET_DIRTY_LOG. */
    static final StructLayout KVM_DIRTY_LOG = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("slot"),
            ValueLayout.JAVA_INT.withName("padding1"),
            ValueLayout.JAVA_LONG.withName("dirty_bitmap"))
            .withName("kvm_dirty_log");

    /**
     * {@code struct kvm_clear_dirty_log} (24 bytes), argument of KVM_CLEAR_DIRTY_LOG; the pointer
     * shares a union with the 64-bit {@code padding2}, so it is 8 bytes on every ABI.
     */
    static final StructLayout KVM_CLEAR_DIRTY_LOG = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("slot"),
            ValueLayout.JAVA_INT.withName("num_pages"),
            ValueLayout.JAVA_LONG.withName("first_page"),
            ValueLayout.JAVA_LONG.withName("dirty_bitmap"))
            .withName("kvm_clear_dirty_log");

    /** {@code struct kvm_enable_cap} (104 bytes), argument of KVM_ENABLE_CAP. */
    static final StructLayout KVM_ENABLE_CAP = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("cap"),
            ValueLayout.JAVA_INT.withName("flags"),
            MemoryLayout.sequenceLayout(4, ValueLayout.JAVA_LONG).withName("args"),
            MemoryLayout.sequenceLayout(64, ValueLayout.JAVA_BYTE).withName("pad"))
            .withName("kvm_enable_cap");

    /** {@code struct kvm_regs} (144 bytes): the general-purpose registers, rip and rflags. */
    static final StructLayout KVM_REGS = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("rax"), ValueLayout.JAVA_LONG.withName("rbx"),
            ValueLayout.JAVA_LONG.withName("rcx"), ValueLayout.JAVA_LONG.withName("rdx"),
            ValueLayout.JAVA_LONG.withName("rsi"), ValueLayout.JAVA_LONG.withName("rdi"),
            ValueLayout.JAVA_LONG.withName("rsp"), ValueLayout.JAVA_LONG.withName("rbp"),
            ValueLayout.JAVA_LONG.withName("r8"), ValueLayout.JAVA_LONG.withName("r9"),
            ValueLayout.JAVA_LONG.withName("r10"), ValueLayout.JAVA_LONG.withName("r11"),
            ValueLayout.JAVA_LONG.withName("r12"), ValueLayout.JAVA_LONG.withName("r13"),
            ValueLayout.JAVA_LONG.withName("r14"), ValueLayout.JAVA_LONG.withName("r15"),
            ValueLayout.JAVA_LONG.withName("rip"), ValueLayout.JAVA_LONG.withName("rflags"))
            .withName("kvm_regs");

    /** {@code struct kvm_segment} (24 bytes): a segment register as KVM sees it. */
    static final StructLayout KVM_SEGMENT = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("base"),
            ValueLayout.JAVA_INT.withName("limit"),
            ValueLayout.JAVA_SHORT.withName("selector"),
            ValueLayout.JAVA_BYTE.withName("type"),
            ValueLayout.JAVA_BYTE.withName("present"),
            ValueLayout.JAVA_BYTE.withName("dpl"),
            ValueLayout.JAVA_BYTE.withName("db"),
            ValueLayout.JAVA_BYTE.withName("s"),
            ValueLayout.JAVA_BYTE.withName("l"),
            ValueLayout.JAVA_BYTE.withName("g"),
            ValueLayout.JAVA_BYTE.withName("avl"),
            ValueLayout.JAVA_BYTE.withName("unusable"),
            ValueLayout.JAVA_BYTE.withName("padding"))
            .withName("kvm_segment");

    /** {@code struct kvm_dtable} (16 bytes): GDTR or IDTR. */
    static final StructLayout KVM_DTABLE = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("base"),
            ValueLayout.JAVA_SHORT.withName("limit"),
            MemoryLayout.sequenceLayout(3, ValueLayout.JAVA_SHORT).withName("padding"))
            .withName("kvm_dtable");

    /** {@code struct kvm_sregs} (312 bytes): segments, descriptor tables, control registers, EFER. */
    static final StructLayout KVM_SREGS = MemoryLayout.structLayout(
            KVM_SEGMENT.withName("cs"), KVM_SEGMENT.withName("ds"), KVM_SEGMENT.withName("es"),
            KVM_SEGMENT.withName("fs"), KVM_SEGMENT.withName("gs"), KVM_SEGMENT.withName("ss"),
            KVM_SEGMENT.withName("tr"), KVM_SEGMENT.withName("ldt"),
            KVM_DTABLE.withName("gdt"), KVM_DTABLE.withName("idt"),
            ValueLayout.JAVA_LONG.withName("cr0"), ValueLayout.JAVA_LONG.withName("cr2"),
            ValueLayout.JAVA_LONG.withName("cr3"), ValueLayout.JAVA_LONG.withName("cr4"),
            ValueLayout.JAVA_LONG.withName("cr8"), ValueLayout.JAVA_LONG.withName("efer"),
            ValueLayout.JAVA_LONG.withName("apic_base"),
            MemoryLayout.sequenceLayout(4, ValueLayout.JAVA_LONG).withName("interrupt_bitmap"))
            .withName("kvm_sregs");

    /** The {@code io} member of the {@code kvm_run} exit union (KVM_EXIT_IO). */
    static final StructLayout KVM_RUN_IO = MemoryLayout.structLayout(
            ValueLayout.JAVA_BYTE.withName("direction"),
            ValueLayout.JAVA_BYTE.withName("size"),
            ValueLayout.JAVA_SHORT.withName("port"),
            ValueLayout.JAVA_INT.withName("count"),
            ValueLayout.JAVA_LONG.withName("data_offset"))
            .withName("io");

    /** The {@code mmio} member of the {@code kvm_run} exit union (KVM_EXIT_MMIO). */
    static final StructLayout KVM_RUN_MMIO = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("phys_addr"),
            MemoryLayout.sequenceLayout(8, ValueLayout.JAVA_BYTE).withName("data"),
            ValueLayout.JAVA_INT.withName("len"),
            ValueLayout.JAVA_BYTE.withName("is_write"),
            MemoryLayout.paddingLayout(3))
            .withName("mmio");

    /** The 256-byte exit union of {@code kvm_run}; only the members the backend reads are named. */
    static final UnionLayout KVM_RUN_EXIT = MemoryLayout.unionLayout(
            KVM_RUN_IO, KVM_RUN_MMIO,
            ValueLayout.JAVA_INT.withName("internal_suberror"),
            MemoryLayout.sequenceLayout(256, ValueLayout.JAVA_BYTE).withName("padding"));

    /**
     * {@code struct kvm_run} (2352 bytes on x86-64), the page shared with the kernel through
     * {@code mmap} of the vCPU fd: exit information and the {@code immediate_exit} kick flag.
     */
    static final StructLayout KVM_RUN = MemoryLayout.structLayout(
            ValueLayout.JAVA_BYTE.withName("request_interrupt_window"),
            ValueLayout.JAVA_BYTE.withName("immediate_exit"),
            MemoryLayout.sequenceLayout(6, ValueLayout.JAVA_BYTE).withName("padding1"),
            ValueLayout.JAVA_INT.withName("exit_reason"),
            ValueLayout.JAVA_BYTE.withName("ready_for_interrupt_injection"),
            ValueLayout.JAVA_BYTE.withName("if_flag"),
            ValueLayout.JAVA_SHORT.withName("flags"),
            ValueLayout.JAVA_LONG.withName("cr8"),
            ValueLayout.JAVA_LONG.withName("apic_base"),
            KVM_RUN_EXIT.withName("exit"),
            ValueLayout.JAVA_LONG.withName("kvm_valid_regs"),
            ValueLayout.JAVA_LONG.withName("kvm_dirty_regs"),
            MemoryLayout.sequenceLayout(2048, ValueLayout.JAVA_BYTE).withName("s"))
            .withName("kvm_run");

    /** {@code KVM_EXIT_IO}: the guest executed IN or OUT. */
    static final int KVM_EXIT_IO = 2;
    /** {@code KVM_EXIT_HLT}: the guest halted with no interrupt controller to wake it. */
    static final int KVM_EXIT_HLT = 5;
    /** {@code KVM_EXIT_MMIO}: the guest touched a guest physical address outside every memslot. */
    static final int KVM_EXIT_MMIO = 6;
    /** {@code KVM_EXIT_SHUTDOWN}: triple fault. */
    static final int KVM_EXIT_SHUTDOWN = 8;
    /** {@code KVM_EXIT_FAIL_ENTRY}: the hardware refused the guest state. */
    static final int KVM_EXIT_FAIL_ENTRY = 9;
    /** {@code KVM_EXIT_INTERNAL_ERROR}: KVM could not emulate an instruction. */
    static final int KVM_EXIT_INTERNAL_ERROR = 17;
    /** {@code KVM_EXIT_DIRTY_RING_FULL}: the vCPU's dirty ring is soft-full; harvest and reset it first. */
    static final int KVM_EXIT_DIRTY_RING_FULL = 31;

    /** {@code KVM_EXIT_IO_OUT}: the {@code io.direction} of an OUT instruction. */
    static final int KVM_EXIT_IO_OUT = 1;

    private KvmStructs() {
    }

    /** Returns the byte offset of the member at {@code path} (names separated by '.') of {@code layout}. */
    static long offsetOf(GroupLayout layout, String path) {
        String[] names = path.split("\\.");
        MemoryLayout.PathElement[] elements = new MemoryLayout.PathElement[names.length];
        for (int i = 0; i < names.length; i++) {
            elements[i] = MemoryLayout.PathElement.groupElement(names[i]);
        }
        return layout.byteOffset(elements);
    }
}
