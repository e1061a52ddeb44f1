package org.dirtylog.conformance;

import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;

/** How calls and their results are written in scenarios and verdicts: as the kernel would print them. */
public final class CallText {

    private CallText() {
    }

    /** Returns a result as the kernel would print it: the value or {@code -EINVAL}. */
    public static String show(IoctlResult<?> r) {
        if (r == null) {
            return "(no result)";
        }
        return switch (r) {
            case IoctlResult.Ok<?> ok -> String.valueOf(ok.value() instanceof Number || ok.value() instanceof String
                    ? ok.value() : "0");
            case IoctlResult.Err<?> err -> err.errno().toString();
        };
    }

    /** Returns a slot id, with its address space when it is not 0 ({@code as1:3}). */
    public static String slot(int slot) {
        return (slot >>> KvmApi.ADDRESS_SPACE_SHIFT) == 0 ? String.valueOf(slot)
                : "as" + (slot >>> KvmApi.ADDRESS_SPACE_SHIFT) + ":" + (slot & 0xffff);
    }

    /** Returns {@code KVM_SET_USER_MEMORY_REGION(...)} with {@code memory} naming the user address. */
    public static String setUserMemoryRegion(MemoryRegion region, String memory) {
        String flags = region.flags() == 0 ? "0"
                : region.flags() == KvmApi.KVM_MEM_LOG_DIRTY_PAGES ? "LOG_DIRTY_PAGES"
                : "0x" + Integer.toHexString(region.flags());
        return "KVM_SET_USER_MEMORY_REGION(slot=" + slot(region.slot()) + ", flags=" + flags
                + ", gpa=0x" + Long.toHexString(region.guestPhysAddr())
                + ", size=" + (region.memorySize() % KvmApi.PAGE_SIZE == 0
                        ? region.npages() + " pages" : region.memorySize() + " bytes")
                + ", uaddr=" + memory + ")";
    }

    /** Returns {@code KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, ...)} as the kernel's names would show it. */
    public static String enableManualDirtyLogProtect(int flags, long args0) {
        String mode = args0 == 0 ? "0" : args0 == KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE ? "MANUAL_PROTECT_ENABLE"
                : args0 == (KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KvmApi.KVM_DIRTY_LOG_INITIALLY_SET)
                        ? "MANUAL_PROTECT_ENABLE|INITIALLY_SET" : hex(args0);
        return "KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, flags=" + flags + ", args[0]=" + mode + ")";
    }

    /** Returns {@code KVM_CLEAR_DIRTY_LOG(...)} with {@code bitmap} naming the user address. */
    public static String clearDirtyLog(ClearDirtyLog log, String bitmap) {
        return "KVM_CLEAR_DIRTY_LOG(slot=" + slot(log.slot()) + ", first_page=" + Long.toUnsignedString(log.firstPage())
                + ", num_pages=" + log.numPagesUnsigned() + ", dirty_bitmap=" + bitmap + ")";
    }

    /** Returns the name of a dirty-ring capability number ({@code KVM_CAP_DIRTY_LOG_RING_ACQ_REL}). */
    public static String ringCap(int capability) {
        return switch (capability) {
            case KvmApi.KVM_CAP_DIRTY_LOG_RING -> "KVM_CAP_DIRTY_LOG_RING";
            case KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL -> "KVM_CAP_DIRTY_LOG_RING_ACQ_REL";
            default -> "cap " + capability;
        };
    }

    /** Returns {@code mmap} protection bits as C would write them ({@code PROT_READ|PROT_WRITE}). */
    public static String prot(int prot) {
        StringBuilder b = new StringBuilder();
        append(b, prot, KvmApi.PROT_READ, "PROT_READ");
        append(b, prot, KvmApi.PROT_WRITE, "PROT_WRITE");
        append(b, prot, KvmApi.PROT_EXEC, "PROT_EXEC");
        return b.isEmpty() ? "PROT_NONE" : b.toString();
    }

    /** Returns {@code mmap} flags as C would write them ({@code MAP_SHARED}). */
    public static String mapFlags(int flags) {
        StringBuilder b = new StringBuilder();
        append(b, flags, KvmApi.MAP_SHARED, "MAP_SHARED");
        append(b, flags, KvmApi.MAP_PRIVATE, "MAP_PRIVATE");
        return b.isEmpty() ? "0" : b.toString();
    }

    private static void append(StringBuilder b, int bits, int bit, String name) {
        if ((bits & bit) != 0) {
            b.append(b.isEmpty() ? "" : "|").append(name);
        }
    }

    /** Returns {@code 0x...}. */
    public static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }
}
