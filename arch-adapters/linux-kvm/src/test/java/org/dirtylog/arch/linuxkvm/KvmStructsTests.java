package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.GroupLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Pins every struct size and member offset the backend uses to {@code /usr/include/linux/kvm.h}
 * on x86-64 (numbers printed with {@code sizeof}/{@code offsetof} by a C program against the
 * header of Linux 6.18's uapi; they have not changed since the structs were introduced).
 */
class KvmStructsTests {

    private static GroupLayout layout(String name) {
        return switch (name) {
            case "kvm_userspace_memory_region" -> KvmStructs.KVM_USERSPACE_MEMORY_REGION;
            case "kvm_dirty_log" -> KvmStructs.KVM_DIRTY_LOG;
            case "kvm_enable_cap" -> KvmStructs.KVM_ENABLE_CAP;
            case "kvm_regs" -> KvmStructs.KVM_REGS;
            case "kvm_segment" -> KvmStructs.KVM_SEGMENT;
            case "kvm_dtable" -> KvmStructs.KVM_DTABLE;
            case "kvm_sregs" -> KvmStructs.KVM_SREGS;
            case "kvm_run" -> KvmStructs.KVM_RUN;
            default -> throw new IllegalArgumentException(name);
        };
    }

    @ParameterizedTest(name = "sizeof(struct {0}) is {1}")
    @CsvSource({
        "kvm_userspace_memory_region, 32",
        "kvm_dirty_log, 16",
        "kvm_enable_cap, 104",
        "kvm_regs, 144",
        "kvm_segment, 24",
        "kvm_dtable, 16",
        "kvm_sregs, 312",
        "kvm_run, 2352",
    })
    void eachStructHasTheSizeOfTheUapiHeader(String struct, long size) {
        assertEquals(size, layout(struct).byteSize());
    }

    @ParameterizedTest(name = "offsetof(struct {0}, {1}) is {2}")
    @CsvSource({
        "kvm_userspace_memory_region, slot, 0",
        "kvm_userspace_memory_region, flags, 4",
        "kvm_userspace_memory_region, guest_phys_addr, 8",
        "kvm_userspace_memory_region, memory_size, 16",
        "kvm_userspace_memory_region, userspace_addr, 24",
        "kvm_dirty_log, slot, 0",
        "kvm_dirty_log, dirty_bitmap, 8",
        "kvm_enable_cap, cap, 0",
        "kvm_enable_cap, flags, 4",
        "kvm_enable_cap, args, 8",
        "kvm_enable_cap, pad, 40",
        "kvm_regs, rdi, 40",
        "kvm_regs, rip, 128",
        "kvm_regs, rflags, 136",
        "kvm_segment, limit, 8",
        "kvm_segment, selector, 12",
        "kvm_segment, type, 14",
        "kvm_segment, l, 19",
        "kvm_segment, unusable, 22",
        "kvm_sregs, cs, 0",
        "kvm_sregs, ds, 24",
        "kvm_sregs, gdt, 192",
        "kvm_sregs, idt, 208",
        "kvm_sregs, cr0, 224",
        "kvm_sregs, cr3, 240",
        "kvm_sregs, cr4, 248",
        "kvm_sregs, efer, 264",
        "kvm_sregs, apic_base, 272",
        "kvm_sregs, interrupt_bitmap, 280",
        "kvm_run, immediate_exit, 1",
        "kvm_run, exit_reason, 8",
        "kvm_run, exit.io.direction, 32",
        "kvm_run, exit.io.size, 33",
        "kvm_run, exit.io.port, 34",
        "kvm_run, exit.io.count, 36",
        "kvm_run, exit.io.data_offset, 40",
        "kvm_run, exit.mmio.phys_addr, 32",
        "kvm_run, exit.mmio.len, 48",
        "kvm_run, exit.mmio.is_write, 52",
        "kvm_run, exit.internal_suberror, 32",
        "kvm_run, kvm_valid_regs, 288",
        "kvm_run, kvm_dirty_regs, 296",
        "kvm_run, s, 304",
    })
    void eachMemberSitsAtTheOffsetOfTheUapiHeader(String struct, String member, long offset) {
        assertEquals(offset, KvmStructs.offsetOf(layout(struct), member));
    }
}
