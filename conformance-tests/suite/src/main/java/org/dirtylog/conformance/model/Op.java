package org.dirtylog.conformance.model;

import java.util.List;
import java.util.TreeSet;

/**
 * One operation of a model-based sequence, in the suite's abstract terms: slot selectors
 * 0..3 name real slot ids, {@link #OUT_OF_RANGE} and {@link #NO_ADDRESS_SPACE} name invalid
 * ones; guest addresses are a window number and a page inside it.
 */
public sealed interface Op {

    /** Slot selector for the id {@code KVM_CAP_NR_MEMSLOTS}, one past the last valid one. */
    int OUT_OF_RANGE = -1;
    /** Slot selector for slot 0 of address space 0x7fff. */
    int NO_ADDRESS_SPACE = -2;

    /** Returns the operation as one line for reports. */
    String describe();

    /**
     * {@code KVM_SET_USER_MEMORY_REGION}.
     *
     * @param slot slot selector
     * @param flags flags as passed
     * @param window guest window (1 MiB each) of the slot's start
     * @param offsetPages pages into the window (non-zero offsets make slots overlap)
     * @param misaligned add 8 bytes to the guest address (must give -EINVAL)
     * @param npages size in pages; 0 deletes
     * @param memory which of the slot id's two user mappings backs it (0 or 1)
     */
    record SetRegion(int slot, int flags, int window, int offsetPages, boolean misaligned, long npages, int memory)
            implements Op {
        @Override
        public String describe() {
            return "KVM_SET_USER_MEMORY_REGION slot " + SpecModel.slotName(slot) + " flags=0x" + Integer.toHexString(flags)
                    + " at window " + window + (offsetPages != 0 ? " + " + offsetPages + " pages" : "")
                    + (misaligned ? " + 8 bytes" : "") + ", " + npages + " pages, memory " + (memory == 0 ? "A" : "B");
        }
    }

    /**
     * One guest write on a vCPU.
     *
     * @param vcpu vCPU index
     * @param window guest window
     * @param page page inside the window
     */
    record Write(int vcpu, int window, long page) implements Op {
        @Override
        public String describe() {
            return "vcpu" + vcpu + " writes window " + window + " page " + page;
        }
    }

    /**
     * {@code KVM_GET_DIRTY_LOG}.
     *
     * @param slot slot selector
     * @param badBuffer pass an unmapped buffer (must give -EFAULT on a logged slot)
     */
    record Get(int slot, boolean badBuffer) implements Op {
        @Override
        public String describe() {
            return "KVM_GET_DIRTY_LOG slot " + SpecModel.slotName(slot) + (badBuffer ? " into an unmapped buffer" : "");
        }
    }

    /**
     * {@code KVM_SWITCH_DIRTY_LOG}, then a read of the cold bitmap when it returned 0.
     *
     * @param slot slot selector
     */
    record Switch(int slot) implements Op {
        @Override
        public String describe() {
            return "KVM_SWITCH_DIRTY_LOG slot " + SpecModel.slotName(slot) + " + read the cold bitmap";
        }
    }

    /**
     * {@code KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)}.
     *
     * @param flags the struct's flags (must be 0)
     * @param args0 the manual-protect mode asked for
     */
    record EnableManualProtect(int flags, long args0) implements Op {
        @Override
        public String describe() {
            return "KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) flags=" + flags + " args[0]=0x" + Long.toHexString(args0);
        }
    }

    /**
     * {@code KVM_CLEAR_DIRTY_LOG}.
     *
     * @param slot slot selector
     * @param firstPage first_page
     * @param numPages num_pages
     * @param pages slot pages whose bits are set in the user bitmap (bits outside
     *              {@code [firstPage, firstPage + ALIGN(numPages, 64))} cannot be expressed and are dropped)
     * @param badBuffer pass an unmapped bitmap (must give -EFAULT when anything is to be read)
     */
    record Clear(int slot, long firstPage, long numPages, List<Long> pages, boolean badBuffer) implements Op {
        public Clear {
            pages = List.copyOf(pages);
        }

        @Override
        public String describe() {
            return "KVM_CLEAR_DIRTY_LOG slot " + SpecModel.slotName(slot) + " first_page " + firstPage + " num_pages " + numPages
                    + (badBuffer ? " from an unmapped bitmap" : " of pages " + new TreeSet<>(pages));
        }
    }
}
