package org.dirtylog.conformance.model;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.KvmApi;

/**
 * The abstract model of the specification the model-based rule compares a backend against:
 * memslots as guest ranges, and per logged slot the set of pages dirtied since its last
 * harvest. It knows nothing of bitmaps' layout, SRCU or write protection; it is the user-space
 * contract of semantics §1-§3 (and RFC 4.39/4.40, api.rst 4.8/4.35) and nothing more.
 *
 * <p>Manual protect (§8): the VM's mode ({@code KVM_ENABLE_CAP} of
 * {@code KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2}, checked against the mask the backend reports); in
 * manual mode GET reports without clearing, and {@code KVM_CLEAR_DIRTY_LOG} (in either mode)
 * removes the pages it names; with INITIALLY_SET a bitmap allocated then starts with every page.
 *
 * <p>Where the specification leaves a choice, the model allows both: deleting a slot that does
 * not exist may return 0 or -EINVAL; after {@code KVM_GET_DIRTY_LOG} failed with -EFAULT in
 * legacy mode the pages it would have reported may or may not be reported later (§2 G4).
 */
public final class SpecModel {

    /** Slot ids the sequences use. */
    public static final int SLOT_IDS = 4;
    /** Pages per guest window; a window holds one slot at its start or at {@link #OVERLAP_OFFSET}. */
    public static final long WINDOW_PAGES = 256;
    /** Guest windows the sequences use. */
    public static final int WINDOWS = 6;
    /** Page offset that makes a slot overlap another in the same window. */
    public static final int OVERLAP_OFFSET = 16;
    /** Size in pages of each slot id: partial last words (67, 3, 130) and an exact one (64). */
    static final long[] SIZES = {67, 3, 130, 64};
    /** Pages added to a slot's size for a size-change request. */
    public static final long SIZE_CHANGE = 64;

    private static final long EINVAL = Errno.EINVAL.kernelReturn();
    private static final long ENOENT = Errno.ENOENT.kernelReturn();
    private static final long EEXIST = Errno.EEXIST.kernelReturn();
    private static final long EFAULT = Errno.EFAULT.kernelReturn();

    /** A memslot of the model. */
    static final class SlotState {
        long start;
        final long npages;
        int flags;
        final int memory;
        final Set<Long> dirty = new HashSet<>();
        final Set<Long> may = new HashSet<>();

        SlotState(long start, long npages, int flags, int memory) {
            this.start = start;
            this.npages = npages;
            this.flags = flags;
            this.memory = memory;
        }

        boolean logged() {
            return (flags & KvmApi.KVM_MEM_LOG_DIRTY_PAGES) != 0;
        }

        boolean overlaps(long otherStart, long otherPages) {
            return start < otherStart + otherPages && otherStart < start + npages;
        }
    }

    private final Map<Integer, SlotState> slots = new TreeMap<>();
    /** What KVM_CHECK_EXTENSION(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) reports: 0 without manual protect. */
    private final long manualMask;
    /** The VM's manual-protect mode: args[0] of the last successful KVM_ENABLE_CAP, 0 before any. */
    private long manual;

    /** Returns the model of a backend without manual protect. */
    public SpecModel() {
        this(0);
    }

    /** Returns the model of a backend whose manual-protect mask is {@code manualMask}. */
    public SpecModel(long manualMask) {
        this.manualMask = manualMask;
    }

    /** Returns the size in pages of slot id {@code slot}'s normal region. */
    public static long sizeOf(int slot) {
        return SIZES[slot];
    }

    /**
     * Returns {@code 0}..{@code 2}, {@code KVM_CAP_NR_MEMSLOTS-1} (the last selector, which the
     * runner maps to the highest slot id), {@code KVM_CAP_NR_MEMSLOTS} or {@code as0x7fff:0}
     * for a selector.
     */
    public static String slotName(int slot) {
        return switch (slot) {
            case Op.OUT_OF_RANGE -> "KVM_CAP_NR_MEMSLOTS";
            case Op.NO_ADDRESS_SPACE -> "as0x7fff:0";
            default -> slot == SLOT_IDS - 1 ? "KVM_CAP_NR_MEMSLOTS-1" : String.valueOf(slot);
        };
    }

    /** Returns the guest page number (from the start of window 0) of a window and page. */
    public static long pageOf(int window, long page) {
        return window * WINDOW_PAGES + page;
    }

    /** Returns true when slot id {@code slot} exists. */
    public boolean exists(int slot) {
        return slots.containsKey(slot);
    }

    /** Returns true when slot id {@code slot} exists with logging on. */
    public boolean logged(int slot) {
        SlotState s = slots.get(slot);
        return s != null && s.logged();
    }

    /** Returns the slot's first guest page, or -1 when it does not exist. */
    public long startOf(int slot) {
        SlotState s = slots.get(slot);
        return s == null ? -1 : s.start;
    }

    /** Returns the slot's flags, or 0 when it does not exist. */
    public int flagsOf(int slot) {
        SlotState s = slots.get(slot);
        return s == null ? 0 : s.flags;
    }

    /** Returns the slot's memory index, or 0 when it does not exist. */
    public int memoryOf(int slot) {
        SlotState s = slots.get(slot);
        return s == null ? 0 : s.memory;
    }

    /** Returns the pages of slot {@code slot} a GET must report now, empty when it has no log. */
    public Set<Long> dirtyOf(int slot) {
        SlotState s = slots.get(slot);
        return s == null || !s.logged() ? Set.of() : Set.copyOf(s.dirty);
    }

    /** Returns true while manual protect is on. */
    public boolean manualProtect() {
        return (manual & KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE) != 0;
    }

    /** Returns what the specification allows for {@code op} and applies its effect to the model. */
    public Expectation apply(Op op) {
        return switch (op) {
            case Op.SetRegion r -> setRegion(r);
            case Op.Write w -> write(w);
            case Op.Get g -> get(g);
            case Op.Switch sw -> switchLog(sw);
            case Op.EnableManualProtect e -> enableManualProtect(e);
            case Op.Clear c -> clear(c);
        };
    }

    /** Returns what {@code KVM_GET_USER_DIRTY_LOG_ADDR} must return for {@code slot} now. */
    public long userDirtyLogAddr(int slot) {
        if (slot < 0) {
            return EINVAL;
        }
        return logged(slot) ? 0 : ENOENT;
    }

    private Expectation setRegion(Op.SetRegion r) {
        // Check order of __kvm_set_memory_region: EINVAL (id, flags, alignment, size or uaddr change), then EEXIST.
        if (r.slot() < 0 || (r.flags() & ~KvmApi.KVM_MEM_LOG_DIRTY_PAGES) != 0 || r.misaligned()) {
            return Expectation.of(EINVAL);
        }
        SlotState old = slots.get(r.slot());
        long start = pageOf(r.window(), r.offsetPages());
        if (r.npages() == 0) {
            if (old == null) {
                return Expectation.anyOf(0L, EINVAL);
            }
            slots.remove(r.slot());
            return Expectation.of(0);
        }
        if (old != null && (r.npages() != old.npages || r.memory() != old.memory)) {
            return Expectation.of(EINVAL);
        }
        for (Map.Entry<Integer, SlotState> e : slots.entrySet()) {
            if (e.getKey() != r.slot() && e.getValue().overlaps(start, r.npages())) {
                return Expectation.of(EEXIST);
            }
        }
        if (old == null) {
            SlotState created = new SlotState(start, r.npages(), r.flags(), r.memory());
            slots.put(r.slot(), created);
            newBitmap(created);
            return Expectation.of(0);
        }
        boolean wasLogged = old.logged();
        old.start = start;
        old.flags = r.flags();
        if (!wasLogged || !old.logged()) {
            // Logging turned on gets a fresh bitmap (§3 S3), turned off frees it (§3 S4); a move keeps it (§3 S5).
            old.dirty.clear();
            old.may.clear();
            newBitmap(old);
        }
        return Expectation.of(0);
    }

    /** A bitmap allocated now: all pages dirty under INITIALLY_SET (§8 M3), else clean. */
    private void newBitmap(SlotState s) {
        if (s.logged() && (manual & KvmApi.KVM_DIRTY_LOG_INITIALLY_SET) != 0) {
            for (long p = 0; p < s.npages; p++) {
                s.dirty.add(p);
            }
        }
    }

    private Expectation enableManualProtect(Op.EnableManualProtect e) {
        // kvm_vm_ioctl_enable_cap_generic: ENABLE alone is always allowed, the full mask only with ENABLE.
        long allowed = (e.args0() & KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE) != 0 ? manualMask
                : KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
        if (manualMask == 0 || e.flags() != 0 || (e.args0() & ~allowed) != 0) {
            return Expectation.of(EINVAL);
        }
        manual = e.args0();
        return Expectation.of(0);
    }

    private Expectation clear(Op.Clear c) {
        // Check order of kvm_clear_dirty_log_protect (§8 C2).
        if (c.slot() < 0 || (c.firstPage() & 63) != 0) {
            return Expectation.of(EINVAL);
        }
        SlotState s = slots.get(c.slot());
        if (s == null || !s.logged()) {
            return Expectation.of(ENOENT);
        }
        long left = s.npages - c.firstPage();
        if (c.firstPage() > s.npages || c.numPages() > left || (c.numPages() < left && (c.numPages() & 63) != 0)) {
            return Expectation.of(EINVAL);
        }
        if (c.badBuffer() && c.numPages() > 0) {
            return Expectation.of(EFAULT);
        }
        for (long p : c.pages()) {
            if (p >= c.firstPage() && p < c.firstPage() + c.numPages()) {
                s.dirty.remove(p);
                s.may.remove(p);
            }
        }
        return Expectation.of(0);
    }

    private Expectation write(Op.Write w) {
        long page = pageOf(w.window(), w.page());
        for (SlotState s : slots.values()) {
            if (page >= s.start && page < s.start + s.npages) {
                if (s.logged()) {
                    s.dirty.add(page - s.start);
                }
                return Expectation.of(1);
            }
        }
        return Expectation.of(EFAULT);
    }

    private Expectation get(Op.Get g) {
        if (g.slot() < 0) {
            return Expectation.of(EINVAL);
        }
        SlotState s = slots.get(g.slot());
        if (s == null || !s.logged()) {
            return Expectation.of(ENOENT);
        }
        if (g.badBuffer()) {
            if (!manualProtect()) {
                s.may.addAll(s.dirty);
                s.dirty.clear();
            }
            return Expectation.of(EFAULT);
        }
        if (manualProtect()) {
            return Expectation.harvest(Set.of(0L), s.dirty, s.may);
        }
        return harvest(s, Set.of(0L));
    }

    private Expectation switchLog(Op.Switch sw) {
        if (sw.slot() < 0) {
            return Expectation.of(EINVAL);
        }
        SlotState s = slots.get(sw.slot());
        if (s == null || !s.logged()) {
            return Expectation.of(ENOENT);
        }
        Set<Long> returns = !s.dirty.isEmpty() ? Set.of(0L) : s.may.isEmpty() ? Set.of(1L) : Set.of(0L, 1L);
        return harvest(s, returns);
    }

    private static Expectation harvest(SlotState s, Set<Long> returns) {
        Expectation e = Expectation.harvest(returns, s.dirty, s.may);
        s.dirty.clear();
        s.may.clear();
        return e;
    }
}
