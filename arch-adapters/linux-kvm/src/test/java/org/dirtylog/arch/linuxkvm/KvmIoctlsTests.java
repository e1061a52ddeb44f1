package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemoryLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Pins each request number computed from the layouts to the value of the {@code KVM_*} macro on x86-64. */
class KvmIoctlsTests {

    private static long request(String name) {
        return switch (name) {
            case "KVM_GET_API_VERSION" -> KvmIoctls.KVM_GET_API_VERSION;
            case "KVM_CREATE_VM" -> KvmIoctls.KVM_CREATE_VM;
            case "KVM_CHECK_EXTENSION" -> KvmIoctls.KVM_CHECK_EXTENSION;
            case "KVM_GET_VCPU_MMAP_SIZE" -> KvmIoctls.KVM_GET_VCPU_MMAP_SIZE;
            case "KVM_CREATE_VCPU" -> KvmIoctls.KVM_CREATE_VCPU;
            case "KVM_GET_DIRTY_LOG" -> KvmIoctls.KVM_GET_DIRTY_LOG;
            case "KVM_SET_USER_MEMORY_REGION" -> KvmIoctls.KVM_SET_USER_MEMORY_REGION;
            case "KVM_ENABLE_CAP" -> KvmIoctls.KVM_ENABLE_CAP;
            case "KVM_CLEAR_DIRTY_LOG" -> KvmIoctls.KVM_CLEAR_DIRTY_LOG;
            case "KVM_RESET_DIRTY_RINGS" -> KvmIoctls.KVM_RESET_DIRTY_RINGS;
            case "KVM_RUN" -> KvmIoctls.KVM_RUN;
            case "KVM_GET_REGS" -> KvmIoctls.KVM_GET_REGS;
            case "KVM_SET_REGS" -> KvmIoctls.KVM_SET_REGS;
            case "KVM_GET_SREGS" -> KvmIoctls.KVM_GET_SREGS;
            case "KVM_SET_SREGS" -> KvmIoctls.KVM_SET_SREGS;
            default -> throw new IllegalArgumentException(name);
        };
    }

    @ParameterizedTest(name = "{0} is {1}")
    @CsvSource({
        "KVM_GET_API_VERSION, 0xae00",
        "KVM_CREATE_VM, 0xae01",
        "KVM_CHECK_EXTENSION, 0xae03",
        "KVM_GET_VCPU_MMAP_SIZE, 0xae04",
        "KVM_CREATE_VCPU, 0xae41",
        "KVM_GET_DIRTY_LOG, 0x4010ae42",
        "KVM_SET_USER_MEMORY_REGION, 0x4020ae46",
        "KVM_ENABLE_CAP, 0x4068aea3",
        "KVM_CLEAR_DIRTY_LOG, 0xc018aec0",
        "KVM_RESET_DIRTY_RINGS, 0xaec7",
        "KVM_RUN, 0xae80",
        "KVM_GET_REGS, 0x8090ae81",
        "KVM_SET_REGS, 0x4090ae82",
        "KVM_GET_SREGS, 0x8138ae83",
        "KVM_SET_SREGS, 0x4138ae84",
    })
    void eachRequestNumberEqualsTheHeaderMacro(String name, String expected) {
        assertEquals(Long.decode(expected), request(name));
    }

    @Test
    void iowrSetsBothDirectionBitsLikeKvmGetSupportedCpuid() {
        // KVM_GET_SUPPORTED_CPUID = _IOWR(KVMIO, 0x05, struct kvm_cpuid2), an 8-byte header.
        assertEquals(0xc008ae05L, KvmIoctls.iowr(0x05, MemoryLayout.paddingLayout(8)));
    }

    @Test
    void aStructTooLargeForTheFourteenBitSizeFieldIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> KvmIoctls.iow(0x42, MemoryLayout.paddingLayout(1 << 14)));
    }
}
