package org.dirtylog.conformance;

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

    /** Returns {@code 0x...}. */
    public static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }
}
