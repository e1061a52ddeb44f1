package org.dirtylog.conformance.model;

import java.util.ArrayList;
import java.util.List;
import org.dirtylog.spi.KvmApi;
import org.quicktheories.core.Gen;
import org.quicktheories.core.RandomnessSource;
import org.quicktheories.generators.Generate;

/**
 * QuickTheories generator of operation sequences. It keeps a {@link SpecModel} of its own
 * while generating so that most operations hit existing slots and pages (a purely random
 * sequence would almost never harvest a dirty page), and mixes in invalid arguments.
 *
 * <p>Harvest style is fixed per slot id within a sequence, because the RFC leaves open what
 * mixing the two on one slot does (4.40 note), and drawn per sequence when the backend has
 * {@code KVM_SWITCH_DIRTY_LOG}: across sequences every slot id, the highest one included, is
 * harvested both ways.
 *
 * <p>For a backend with manual protect a sequence is either an RFC sequence as above or a
 * manual-protect sequence: {@code KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)} turning
 * the mode on and off (valid and invalid arguments), {@code KVM_CLEAR_DIRTY_LOG} of what GET
 * would report, of all pages or of a few, over the whole slot or a 64-page chunk, with valid and
 * invalid ranges, and GET on every slot. The two never mix: no kernel ever had both, and what
 * manual protect would mean for the RFC's bitmaps is nowhere specified.
 */
public final class OpGenerator {

    private static final int LOG = KvmApi.KVM_MEM_LOG_DIRTY_PAGES;

    private final boolean hasSwitch;
    private final boolean hasMove;
    private final int vcpus;
    private final int minLength;
    private final int maxLength;
    private final long manualMask;

    /** Returns a generator for a backend without manual protect. */
    public OpGenerator(boolean hasSwitch, boolean hasMove, int vcpus, int minLength, int maxLength) {
        this(hasSwitch, hasMove, vcpus, minLength, maxLength, 0);
    }

    /**
     * Returns a generator for a backend whose manual-protect mask (the flags it declares) is
     * {@code manualMask}, 0 without manual protect.
     */
    public OpGenerator(boolean hasSwitch, boolean hasMove, int vcpus, int minLength, int maxLength, long manualMask) {
        this.hasSwitch = hasSwitch;
        this.hasMove = hasMove;
        this.vcpus = vcpus;
        this.minLength = minLength;
        this.maxLength = maxLength;
        this.manualMask = manualMask;
    }

    /** Returns the manual-protect mask the sequences assume, 0 without manual protect. */
    public long manualMask() {
        return manualMask;
    }

    /** Returns true when slot selector {@code slot} is harvested with {@code KVM_SWITCH_DIRTY_LOG} under {@code styles}. */
    private static boolean switchStyle(boolean[] styles, int slot) {
        return slot >= 0 && styles[slot];
    }

    /** Returns the generator of whole sequences. */
    public Gen<List<Op>> sequences() {
        return this::generate;
    }

    private List<Op> generate(RandomnessSource rs) {
        int length = Generate.range(minLength, maxLength).generate(rs);
        boolean manual = manualMask != 0 && (!hasSwitch || pick(rs, 0, 1) == 0);
        SpecModel shadow = new SpecModel(manualMask);
        boolean[] styles = new boolean[SpecModel.SLOT_IDS];
        for (int slot = 0; slot < styles.length; slot++) {
            styles[slot] = hasSwitch && !manual && pick(rs, 0, 1) == 1;
        }
        List<Op> ops = new ArrayList<>(length);
        for (int i = 0; i < length; i++) {
            Op op = manual && (i == 0 || pick(rs, 0, 99) < 18) ? manualOp(rs, shadow, i == 0) : next(rs, shadow, styles, manual);
            shadow.apply(op);
            ops.add(op);
        }
        return ops;
    }

    /** Returns a KVM_ENABLE_CAP or KVM_CLEAR_DIRTY_LOG; {@code opening} starts the sequence in a manual mode. */
    private Op manualOp(RandomnessSource rs, SpecModel m, boolean opening) {
        long enable = KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
        if (opening || pick(rs, 0, 17) < 4) {
            return switch (pick(rs, 0, opening ? 1 : 6)) {
                case 0 -> new Op.EnableManualProtect(0, manualMask);
                case 1 -> new Op.EnableManualProtect(0, enable);
                case 2 -> new Op.EnableManualProtect(0, 0);
                case 3 -> new Op.EnableManualProtect(0, KvmApi.KVM_DIRTY_LOG_INITIALLY_SET);
                case 4 -> new Op.EnableManualProtect(0, enable | 4);
                case 5 -> new Op.EnableManualProtect(1, enable);
                default -> new Op.EnableManualProtect(0, manualMask);
            };
        }
        List<Integer> logged = new ArrayList<>();
        for (int s = 0; s < SpecModel.SLOT_IDS; s++) {
            if (m.logged(s)) {
                logged.add(s);
            }
        }
        int slot = !logged.isEmpty() && pick(rs, 0, 9) < 8 ? logged.get(pick(rs, 0, logged.size() - 1))
                : pick(rs, 0, 19) == 0 ? Op.OUT_OF_RANGE : pick(rs, 0, SpecModel.SLOT_IDS - 1);
        long npages = slot >= 0 ? SpecModel.sizeOf(slot) : 64;
        long words = (npages + 63) / 64;
        long first = 0;
        long num = npages;
        int range = pick(rs, 0, 9);
        if (range >= 5 && range < 8) {
            first = 64L * pick(rs, 0, (int) words - 1);
            num = Math.min(64, npages - first);
        } else if (range >= 8) {
            long[][] invalid = {{1, 64}, {0, npages + 64}, {0, 32}, {64 * words + 64, 0}, {0, 0}};
            long[] c = invalid[pick(rs, 0, invalid.length - 1)];
            first = c[0];
            num = c[1];
        }
        List<Long> pages = new ArrayList<>();
        int mask = pick(rs, 0, 19);
        long bits = (num + 63) / 64 * 64;
        if (mask < 12) {
            pages.addAll(m.dirtyOf(Math.max(slot, 0)));
        } else if (mask < 17) {
            for (long p = first; p < first + bits; p++) {
                pages.add(p);
            }
        } else if (bits > 0) {
            for (int k = pick(rs, 1, 3); k > 0; k--) {
                pages.add(first + pick(rs, 0, (int) bits - 1));
            }
        }
        long from = first;
        long to = first + bits;
        pages.removeIf(p -> p < from || p >= to);
        return new Op.Clear(slot, first, num, pages, pick(rs, 0, 12) == 0);
    }

    private static int pick(RandomnessSource rs, int lowInclusive, int highInclusive) {
        return Generate.range(lowInclusive, highInclusive).generate(rs);
    }

    private Op next(RandomnessSource rs, SpecModel m, boolean[] styles, boolean manual) {
        List<Integer> existing = new ArrayList<>();
        List<Integer> logged = new ArrayList<>();
        for (int s = 0; s < SpecModel.SLOT_IDS; s++) {
            if (m.exists(s)) {
                existing.add(s);
            }
            if (m.logged(s)) {
                logged.add(s);
            }
        }
        int kind = pick(rs, 0, 99);
        if (existing.isEmpty() && kind < 55) {
            kind = 60;
        }
        if (kind < 35) {
            int slot = existing.get(pick(rs, 0, existing.size() - 1));
            long start = m.startOf(slot);
            long page = start + pick(rs, 0, (int) SpecModel.sizeOf(slot) - 1);
            if (pick(rs, 0, 9) == 0) {
                page = pick(rs, 0, (int) (SpecModel.WINDOWS * SpecModel.WINDOW_PAGES) - 1);
            }
            return new Op.Write(pick(rs, 0, vcpus - 1), (int) (page / SpecModel.WINDOW_PAGES), page % SpecModel.WINDOW_PAGES);
        }
        if (kind < 55) {
            List<Integer> from = logged.isEmpty() ? existing : logged;
            int slot = from.get(pick(rs, 0, from.size() - 1));
            return switchStyle(styles, slot) ? new Op.Switch(slot) : new Op.Get(slot, pick(rs, 0, 9) == 0);
        }
        if (kind < 70) {
            int slot = pick(rs, 0, SpecModel.SLOT_IDS - 1);
            if (m.exists(slot)) {
                return region(slot, m.flagsOf(slot) ^ LOG, m, m.startOf(slot), m.memoryOf(slot));
            }
            int window = pick(rs, 0, SpecModel.WINDOWS - 1);
            int offset = pick(rs, 0, 4) == 0 ? SpecModel.OVERLAP_OFFSET : 0;
            int flags = pick(rs, 0, 9) < 7 ? LOG : 0;
            return new Op.SetRegion(slot, flags, window, offset, false, SpecModel.sizeOf(slot), pick(rs, 0, 1));
        }
        if (kind < 80 && !existing.isEmpty()) {
            int slot = existing.get(pick(rs, 0, existing.size() - 1));
            int choice = pick(rs, 0, 2);
            if (choice == 0 && hasMove) {
                long start = pick(rs, 0, SpecModel.WINDOWS - 1) * SpecModel.WINDOW_PAGES
                        + (pick(rs, 0, 3) == 0 ? SpecModel.OVERLAP_OFFSET : 0);
                return region(slot, m.flagsOf(slot), m, start, m.memoryOf(slot));
            }
            if (choice == 1) {
                return new Op.SetRegion(slot, m.flagsOf(slot), window(m.startOf(slot)), offset(m.startOf(slot)), false, 0,
                        m.memoryOf(slot));
            }
            return region(slot, m.flagsOf(slot), m, m.startOf(slot), m.memoryOf(slot));
        }
        return invalid(rs, m, existing, styles, manual);
    }

    private Op invalid(RandomnessSource rs, SpecModel m, List<Integer> existing, boolean[] styles, boolean manual) {
        int slot = existing.isEmpty() ? 0 : existing.get(pick(rs, 0, existing.size() - 1));
        long start = m.exists(slot) ? m.startOf(slot) : 0;
        return switch (pick(rs, 0, 8)) {
            case 0 -> new Op.SetRegion(slot, LOG | (1 << 16), window(start), offset(start), false, SpecModel.sizeOf(slot),
                    m.memoryOf(slot));
            case 1 -> new Op.SetRegion(slot, m.flagsOf(slot), window(start), offset(start), true, SpecModel.sizeOf(slot),
                    m.memoryOf(slot));
            case 2 -> new Op.SetRegion(slot, m.flagsOf(slot), window(start), offset(start), false,
                    SpecModel.sizeOf(slot) + SpecModel.SIZE_CHANGE, m.memoryOf(slot));
            case 3 -> new Op.SetRegion(slot, m.flagsOf(slot), window(start), offset(start), false, SpecModel.sizeOf(slot),
                    1 - m.memoryOf(slot));
            case 4 -> new Op.SetRegion(pick(rs, 0, 1) == 0 ? Op.OUT_OF_RANGE : Op.NO_ADDRESS_SPACE, LOG, 0, 0, false, 1, 0);
            case 5 -> new Op.Get(pick(rs, 0, 1) == 0 ? Op.OUT_OF_RANGE : Op.NO_ADDRESS_SPACE, pick(rs, 0, 1) == 0);
            case 6 -> hasSwitch && !manual ? new Op.Switch(pick(rs, 0, 1) == 0 ? Op.OUT_OF_RANGE : Op.NO_ADDRESS_SPACE)
                    : new Op.Get(Op.OUT_OF_RANGE, false);
            case 7 -> {
                int any = pick(rs, 0, SpecModel.SLOT_IDS - 1);
                yield switchStyle(styles, any) ? new Op.Switch(any) : new Op.Get(any, pick(rs, 0, 1) == 0);
            }
            default -> {
                int window = pick(rs, 0, SpecModel.WINDOWS - 1);
                int other = pick(rs, 0, SpecModel.SLOT_IDS - 1);
                yield new Op.SetRegion(other, LOG, window, SpecModel.OVERLAP_OFFSET, false, SpecModel.sizeOf(other),
                        pick(rs, 0, 1));
            }
        };
    }

    private static Op region(int slot, int flags, SpecModel m, long start, int memory) {
        return new Op.SetRegion(slot, flags, window(start), offset(start), false, SpecModel.sizeOf(slot), memory);
    }

    private static int window(long start) {
        return (int) (start / SpecModel.WINDOW_PAGES);
    }

    private static int offset(long start) {
        return (int) (start % SpecModel.WINDOW_PAGES);
    }
}
