package org.dirtylog.arch.linuxkvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The guest: 64-bit x86 machine code entered directly in long mode (no firmware, no interrupts)
 * with identity-mapped page tables, and the layout of the backend's own memslot that holds it.
 *
 * <p>Backend memslot (guest physical 0 to {@link #PRIVATE_SIZE}, slot id = the highest):
 * <pre>
 *   0x00000  PML4            (entry 0 -> PDPT)
 *   0x01000  PDPT            (entries 0-3 -> the four PDs)
 *   0x02000  PD x 4          (2 MiB pages identity-mapping 0 .. 4 GiB)
 *   0x06000  code            ({@link #CODE})
 *   0x10000  vCPU 0 shared area, {@link #SHARED_AREA_SIZE} bytes; vCPU i at 0x10000 + i * 0x4000
 * </pre>
 * The kit's memslots live in {@code [KIT_BASE, KIT_LIMIT)}. Every guest store goes through the
 * shadow MMU, so a store to a logged slot is exactly what dirty logging must report.
 *
 * <p>Completion is signalled as in the kernel selftests: {@code out dx, al} to a port, which
 * exits to user space with KVM_EXIT_IO; {@code hlt} after it is never reached because the host
 * always reloads the registers before the next entry.
 */
final class GuestProgram {

    static final long PML4 = 0x0000;
    static final long PDPT = 0x1000;
    static final long PD = 0x2000;
    static final int PD_COUNT = 4;
    static final long CODE_GPA = 0x6000;
    static final long SHARED_BASE = 0x10000;
    static final long SHARED_AREA_SIZE = 0x4000;
    /** How many vCPUs have a shared area, so how many a VM of this backend can run. */
    static final int MAX_VCPUS = 8;
    static final long PRIVATE_SIZE = SHARED_BASE + MAX_VCPUS * SHARED_AREA_SIZE;

    /** First guest physical address the kit may use (1 MiB, above the backend memslot). */
    static final long KIT_BASE = 0x10_0000;
    /** First guest physical address past the identity map (4 GiB). */
    static final long KIT_LIMIT = (long) PD_COUNT << 30;

    /** Port of the OUT that ends a batch. */
    static final int PORT_BATCH_DONE = 0x10;
    /** Port of the OUT that ends random writing after the stop flag was seen. */
    static final int PORT_RANDOM_STOPPED = 0x11;

    // Batch shared area: u64 count, u64 unused, then count pairs (u64 gpa, u64 value).
    static final long BATCH_COUNT = 0;
    static final long BATCH_PAIRS = 16;
    static final int BATCH_CAPACITY = (int) ((SHARED_AREA_SIZE - BATCH_PAIRS) / 16);

    // Random shared area: the host writes all but WRITES; the guest writes WRITES.
    static final long RANDOM_STOP = 0;
    static final long RANDOM_FIRST_GPA = 8;
    static final long RANDOM_PAGES = 16;
    static final long RANDOM_ITERATION = 24;
    static final long RANDOM_SEED = 32;
    static final long RANDOM_WRITES = 40;

    static final long BATCH_ENTRY = CODE_GPA;
    static final long RANDOM_ENTRY = CODE_GPA + 0x25;
    /** The sequential writer; it shares the random writer's shared-area fields and stop port. */
    static final long SEQUENTIAL_ENTRY = CODE_GPA + 0x7e;
    /** First batch instruction inside the loop: before it, no write of the entry was made. */
    static final long BATCH_LOOP = CODE_GPA + 0x07;
    /** The batch's logged store; rip here means that store has not retired. */
    static final long BATCH_STORE = CODE_GPA + 0x13;
    /** The instruction after the batch's store: rip here means it retired but rsi does not count it yet. */
    static final long BATCH_AFTER_STORE = CODE_GPA + 0x16;

    /**
     * The guest code; on entry rdi holds the guest physical address of this vCPU's shared area.
     * Assembled by hand (encodings checked against GNU as); offsets on the left are relative
     * to {@link #CODE_GPA}.
     */
    static final byte[] CODE = bytes(
            // batch:                                  write count pairs, then OUT PORT_BATCH_DONE
            0x48, 0x8b, 0x0f,                         // 00 mov rcx, [rdi]          ; count
            0x48, 0x8d, 0x77, 0x10,                   // 03 lea rsi, [rdi+16]       ; first pair
            0x48, 0x85, 0xc9,                         // 07 loop: test rcx, rcx
            0x74, 0x13,                               // 0a jz done (0x1f)
            0x48, 0x8b, 0x06,                         // 0c mov rax, [rsi]          ; gpa
            0x48, 0x8b, 0x56, 0x08,                   // 0f mov rdx, [rsi+8]        ; value
            0x48, 0x89, 0x10,                         // 13 mov [rax], rdx          ; the logged store
            0x48, 0x83, 0xc6, 0x10,                   // 16 add rsi, 16
            0x48, 0xff, 0xc9,                         // 1a dec rcx
            0xeb, 0xe8,                               // 1d jmp loop (0x07)
            0x66, 0xba, PORT_BATCH_DONE, 0x00,        // 1f done: mov dx, PORT_BATCH_DONE
            0xee,                                     // 23 out dx, al              ; KVM_EXIT_IO
            0xf4,                                     // 24 hlt
            // random:                                 store iteration into pseudo-random pages until stop
            0x4c, 0x8b, 0x47, 0x08,                   // 25 mov r8, [rdi+8]         ; first gpa
            0x4c, 0x8b, 0x4f, 0x10,                   // 29 mov r9, [rdi+16]        ; pages
            0x4c, 0x8b, 0x57, 0x18,                   // 2d mov r10, [rdi+24]       ; iteration
            0x4c, 0x8b, 0x5f, 0x20,                   // 31 mov r11, [rdi+32]       ; LCG state = seed
            0x45, 0x31, 0xe4,                         // 35 xor r12d, r12d          ; writes = 0
            0x49, 0xbd, 0x2d, 0x7f, 0x95, 0x4c,       // 38 movabs r13, 6364136223846793005
            0x2d, 0xf4, 0x51, 0x58,                   //    (Knuth's MMIX multiplier)
            0x49, 0xbe, 0x4f, 0x81, 0x67, 0xf7,       // 42 movabs r14, 1442695040888963407
            0x7e, 0x7b, 0x05, 0x14,                   //    (MMIX increment)
            0x48, 0x83, 0x3f, 0x00,                   // 4c loop: cmp qword [rdi], 0 ; stop flag
            0x75, 0x26,                               // 50 jne stopped (0x78)
            0x4d, 0x0f, 0xaf, 0xdd,                   // 52 imul r11, r13
            0x4d, 0x01, 0xf3,                         // 56 add r11, r14            ; next LCG state
            0x4c, 0x89, 0xd8,                         // 59 mov rax, r11
            0x48, 0xc1, 0xe8, 0x21,                   // 5c shr rax, 33             ; high bits only
            0x31, 0xd2,                               // 60 xor edx, edx
            0x49, 0xf7, 0xf1,                         // 62 div r9                  ; rdx = page index
            0x48, 0xc1, 0xe2, 0x0c,                   // 65 shl rdx, 12
            0x4c, 0x01, 0xc2,                         // 69 add rdx, r8             ; page gpa
            0x4c, 0x89, 0x12,                         // 6c mov [rdx], r10          ; the logged store
            0x49, 0xff, 0xc4,                         // 6f inc r12
            0x4c, 0x89, 0x67, 0x28,                   // 72 mov [rdi+40], r12       ; after the store (TSO)
            0xeb, 0xd4,                               // 76 jmp loop (0x4c)
            0x66, 0xba, PORT_RANDOM_STOPPED, 0x00,    // 78 stopped: mov dx, PORT_RANDOM_STOPPED
            0xee,                                     // 7c out dx, al              ; KVM_EXIT_IO
            0xf4,                                     // 7d hlt
            // sequential:                             store iteration into pages 0, 1, ... in order, round
            //                                         and round, until stop (the selftest's dense pass)
            0x4c, 0x8b, 0x47, 0x08,                   // 7e mov r8, [rdi+8]         ; first gpa
            0x4c, 0x8b, 0x4f, 0x10,                   // 82 mov r9, [rdi+16]        ; pages
            0x4c, 0x8b, 0x57, 0x18,                   // 86 mov r10, [rdi+24]       ; iteration
            0x45, 0x31, 0xe4,                         // 8a xor r12d, r12d          ; writes = 0
            0x4c, 0x89, 0xc2,                         // 8d pass: mov rdx, r8       ; page 0
            0x4c, 0x89, 0xc9,                         // 90 mov rcx, r9             ; pages left
            0x48, 0x83, 0x3f, 0x00,                   // 93 loop: cmp qword [rdi], 0 ; stop flag
            0x75, 0xdf,                               // 97 jne stopped (0x78)
            0x4c, 0x89, 0x12,                         // 99 mov [rdx], r10          ; the logged store
            0x49, 0xff, 0xc4,                         // 9c inc r12
            0x4c, 0x89, 0x67, 0x28,                   // 9f mov [rdi+40], r12       ; after the store (TSO)
            0x48, 0x81, 0xc2, 0x00, 0x10, 0x00, 0x00, // a3 add rdx, 4096           ; next page
            0x48, 0xff, 0xc9,                         // aa dec rcx
            0x75, 0xe4,                               // ad jnz loop (0x93)
            0xeb, 0xdc);                              // af jmp pass (0x8d)

    private static final long PTE_PRESENT = 1;
    private static final long PTE_WRITABLE = 1 << 1;
    private static final long PTE_PAGE_SIZE = 1 << 7;

    private static final long CR0_PE = 1;
    private static final long CR0_PG = 1L << 31;
    private static final long CR4_PAE = 1 << 5;
    private static final long EFER_LME = 1 << 8;
    private static final long EFER_LMA = 1 << 10;

    private GuestProgram() {
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    /**
     * Returns how many writes of the current batch entry had retired when the batch guest left
     * guest mode with these registers: pairs are consumed in order, {@code rsi} points at the
     * next pair, and a store that retired before {@code add rsi, 16} ran is counted too. A store
     * that faulted (rip at it) has not retired: the vCPU re-executes it when it runs again.
     */
    static int batchWritesRetired(long rip, long rsi, long rdi) {
        if (rip < BATCH_LOOP || rip > BATCH_ENTRY + 0x1f) {
            return 0;
        }
        long consumed = (rsi - (rdi + BATCH_PAIRS)) / 16;
        return (int) (consumed + (rip == BATCH_AFTER_STORE ? 1 : 0));
    }

    /** Returns the guest physical address of vCPU {@code id}'s shared area. */
    static long sharedAreaGpa(int id) {
        return SHARED_BASE + id * SHARED_AREA_SIZE;
    }

    /** Writes the page tables and the code into the backend memslot's host mapping. */
    static void install(MemorySegment privateMemory) {
        // Native memory: privateMemory is the backend's own mapping, PRIVATE_SIZE bytes, zeroed.
        privateMemory.set(ValueLayout.JAVA_LONG, PML4, PDPT | PTE_PRESENT | PTE_WRITABLE);
        for (int i = 0; i < PD_COUNT; i++) {
            long pd = PD + i * 0x1000L;
            privateMemory.set(ValueLayout.JAVA_LONG, PDPT + i * 8L, pd | PTE_PRESENT | PTE_WRITABLE);
            for (int j = 0; j < 512; j++) {
                long frame = ((long) i << 30) | ((long) j << 21);
                privateMemory.set(ValueLayout.JAVA_LONG, pd + j * 8L,
                        frame | PTE_PRESENT | PTE_WRITABLE | PTE_PAGE_SIZE);
            }
        }
        MemorySegment.copy(MemorySegment.ofArray(CODE), 0, privateMemory, CODE_GPA, CODE.length);
    }

    /**
     * Turns a {@code kvm_sregs} read from a fresh vCPU into 64-bit long mode: paging on with
     * CR3 = {@link #PML4}, PAE, EFER.LME|LMA, a 64-bit code segment and flat data segments.
     * No GDT is needed because the guest never reloads a segment register.
     */
    static void setLongMode(MemorySegment sregs) {
        // Native memory: sregs is a kvm_sregs buffer owned by the vCPU.
        writeSegment(sregs, "cs", 0x08, 11, true);
        for (String data : new String[] {"ds", "es", "fs", "gs", "ss"}) {
            writeSegment(sregs, data, 0x10, 3, false);
        }
        sregs.set(ValueLayout.JAVA_LONG, KvmStructs.offsetOf(KvmStructs.KVM_SREGS, "cr3"), PML4);
        sregs.set(ValueLayout.JAVA_LONG, KvmStructs.offsetOf(KvmStructs.KVM_SREGS, "cr4"), CR4_PAE);
        sregs.set(ValueLayout.JAVA_LONG, KvmStructs.offsetOf(KvmStructs.KVM_SREGS, "cr0"), CR0_PE | CR0_PG);
        sregs.set(ValueLayout.JAVA_LONG, KvmStructs.offsetOf(KvmStructs.KVM_SREGS, "efer"), EFER_LME | EFER_LMA);
    }

    private static void writeSegment(MemorySegment sregs, String name, int selector, int type, boolean code) {
        long base = KvmStructs.offsetOf(KvmStructs.KVM_SREGS, name);
        // Native memory: a kvm_segment inside the caller's kvm_sregs buffer.
        sregs.set(ValueLayout.JAVA_LONG, base + field("base"), 0L);
        sregs.set(ValueLayout.JAVA_INT, base + field("limit"), 0xffff_ffff);
        sregs.set(ValueLayout.JAVA_SHORT, base + field("selector"), (short) selector);
        sregs.set(ValueLayout.JAVA_BYTE, base + field("type"), (byte) type);
        sregs.set(ValueLayout.JAVA_BYTE, base + field("present"), (byte) 1);
        sregs.set(ValueLayout.JAVA_BYTE, base + field("dpl"), (byte) 0);
        sregs.set(ValueLayout.JAVA_BYTE, base + field("db"), (byte) (code ? 0 : 1));
        sregs.set(ValueLayout.JAVA_BYTE, base + field("s"), (byte) 1);
        sregs.set(ValueLayout.JAVA_BYTE, base + field("l"), (byte) (code ? 1 : 0));
        sregs.set(ValueLayout.JAVA_BYTE, base + field("g"), (byte) 1);
        sregs.set(ValueLayout.JAVA_BYTE, base + field("unusable"), (byte) 0);
    }

    private static long field(String name) {
        return KvmStructs.offsetOf(KvmStructs.KVM_SEGMENT, name);
    }

    /** Fills a {@code kvm_regs} buffer for an entry at {@code rip} with rdi = {@code sharedGpa}. */
    static void setEntry(MemorySegment regs, long rip, long sharedGpa) {
        // Native memory: regs is a kvm_regs buffer owned by the vCPU.
        regs.fill((byte) 0);
        regs.set(ValueLayout.JAVA_LONG, KvmStructs.offsetOf(KvmStructs.KVM_REGS, "rip"), rip);
        regs.set(ValueLayout.JAVA_LONG, KvmStructs.offsetOf(KvmStructs.KVM_REGS, "rdi"), sharedGpa);
        // Bit 1 of RFLAGS is reserved and must be 1; IF stays 0: no interrupts in this guest.
        regs.set(ValueLayout.JAVA_LONG, KvmStructs.offsetOf(KvmStructs.KVM_REGS, "rflags"), 2L);
    }
}
