package org.dirtylog.conformance;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.dirtylog.conformance.model.Expectation;
import org.dirtylog.conformance.model.Op;
import org.dirtylog.conformance.model.OpGenerator;
import org.dirtylog.conformance.model.SpecModel;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.UserDirtyLog;
import org.dirtylog.spi.UserMemory;

/**
 * Runs one operation sequence against a backend (through a {@link Scenario} on a fresh VM)
 * and against a fresh {@link SpecModel}, and returns the first operation where they differ.
 */
public final class SequenceRunner {

    /** Where a backend and the model first differed. */
    public record Mismatch(int index, Op op, String expected, String actual) {
        /** Returns one line for reports. */
        public String describe() {
            return "op " + (index + 1) + " (" + op.describe() + "): expected " + expected + ", actual " + actual;
        }
    }

    /** The user-space view of a switch-style slot: the two addresses, which is active. */
    private record Bitmaps(long active, long cold) {
    }

    private final Scenario s;
    private final OpGenerator generator;
    private final long firstPage;
    private final UserMemory[][] memories = new UserMemory[SpecModel.SLOT_IDS][2];
    private final UserMemory getBuffer;
    private final UserMemory clearBuffer;
    private final Map<Integer, Bitmaps> bitmaps = new HashMap<>();

    /** Prepares the scenario's VM: user memory for every slot id and a harvest buffer. */
    public SequenceRunner(Scenario s, OpGenerator generator, long firstGpa) {
        this.s = s;
        this.generator = generator;
        this.firstPage = firstGpa >>> KvmApi.PAGE_SHIFT;
        for (int slot = 0; slot < SpecModel.SLOT_IDS; slot++) {
            for (int m = 0; m < 2; m++) {
                memories[slot][m] = s.mmap((SpecModel.sizeOf(slot) + SpecModel.SIZE_CHANGE) * KvmApi.PAGE_SIZE);
            }
        }
        getBuffer = s.mmap(KvmApi.PAGE_SIZE);
        clearBuffer = s.mmap(KvmApi.PAGE_SIZE);
    }

    /** Returns the first mismatch of {@code ops} against the model, if any. */
    public Optional<Mismatch> run(List<Op> ops) {
        SpecModel model = new SpecModel(generator.manualMask());
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            Optional<String> pre = prepare(op, model);
            if (pre.isPresent()) {
                return Optional.of(new Mismatch(i, op, "KVM_GET_USER_DIRTY_LOG_ADDR " + Expectation.show(
                        model.userDirtyLogAddr(((Op.Switch) op).slot())), pre.get()));
            }
            Expectation e = model.apply(op);
            s.recorder().record("model", op.describe(), e.describe());
            Optional<String> diff = execute(op, e);
            if (diff.isPresent()) {
                return Optional.of(new Mismatch(i, op, e.describe(), diff.get()));
            }
        }
        return Optional.empty();
    }

    /** Returns the slot id of a selector: the last selector is the highest id, {@code KVM_CAP_NR_MEMSLOTS - 1}. */
    private int slotId(int selector) {
        return switch (selector) {
            case Op.OUT_OF_RANGE -> s.nrMemslots();
            case Op.NO_ADDRESS_SPACE -> 0x7fff << KvmApi.ADDRESS_SPACE_SHIFT;
            default -> selector == SpecModel.SLOT_IDS - 1 ? Math.max(s.nrMemslots() - 1, selector) : selector;
        };
    }

    private long gpa(long page) {
        return (firstPage + page) << KvmApi.PAGE_SHIFT;
    }

    /** Asks for a switch-style slot's addresses when user space does not know them; returns a mismatch. */
    private Optional<String> prepare(Op op, SpecModel model) {
        if (!(op instanceof Op.Switch sw) || sw.slot() < 0 || bitmaps.containsKey(sw.slot())) {
            return Optional.empty();
        }
        long expected = model.userDirtyLogAddr(sw.slot());
        IoctlResult<UserDirtyLog> r = s.userDirtyLogAddr(slotId(sw.slot()));
        if (r.kernelReturn() != expected && !(r.isOk() && expected == 0)) {
            return Optional.of(CallText.show(r));
        }
        if (r.isOk()) {
            bitmaps.put(sw.slot(), new Bitmaps(r.value().dirtyBitmap(), r.value().dirtyBitmapOld()));
        }
        return Optional.empty();
    }

    private Optional<String> execute(Op op, Expectation e) {
        return switch (op) {
            case Op.SetRegion r -> {
                long gpa = gpa(SpecModel.pageOf(r.window(), r.offsetPages())) + (r.misaligned() ? 8 : 0);
                int mem = r.slot() >= 0 ? r.slot() : 0;
                MemoryRegion region = new MemoryRegion(slotId(r.slot()), r.flags(), gpa, r.npages() * KvmApi.PAGE_SIZE,
                        memories[mem][r.memory()].address());
                IoctlResult<Integer> result = s.setUserMemoryRegion(region);
                if (result.isOk() && r.slot() >= 0) {
                    bitmaps.remove(r.slot());
                }
                yield compareReturn(result.kernelReturn(), e);
            }
            case Op.Write w -> {
                long gpa = gpa(SpecModel.pageOf(w.window(), w.page()));
                IoctlResult<Integer> result = s.runWrites(w.vcpu(), List.of(new GuestWrite(gpa, s.layout().nextValue())),
                        "gpa 0x" + Long.toHexString(gpa));
                yield compareReturn(result.kernelReturn(), e);
            }
            case Op.Get g -> {
                int slot = slotId(g.slot());
                long npages = g.slot() >= 0 ? SpecModel.sizeOf(g.slot()) : 1;
                getBuffer.segment().fill((byte) 0);
                IoctlResult<Integer> result = s.getDirtyLog(slot, g.badBuffer() ? GetDirtyLogChecks.UNMAPPED : getBuffer.address());
                Optional<String> ret = compareReturn(result.kernelReturn(), e);
                if (ret.isPresent() || !result.isOk()) {
                    yield ret;
                }
                UserBitmap got = UserBitmap.readFrom(getBuffer.segment(), npages);
                s.recorder().note("read the GET buffer", got.describe());
                yield compareBitmap(got, e);
            }
            case Op.EnableManualProtect en -> compareReturn(s.enableManualDirtyLogProtect(en.flags(), en.args0()).kernelReturn(), e);
            case Op.Clear c -> {
                long bits = (c.numPages() + 63) / 64 * 64;
                long[] words = new long[(int) Math.max(1, bits / 64)];
                for (long p : c.pages()) {
                    long bit = p - c.firstPage();
                    words[(int) (bit >>> 6)] |= 1L << (bit & 63);
                }
                new UserBitmap(words.length * 64L, words).writeTo(clearBuffer.segment());
                ClearDirtyLog log = new ClearDirtyLog(slotId(c.slot()), (int) c.numPages(), c.firstPage(),
                        c.badBuffer() ? GetDirtyLogChecks.UNMAPPED : clearBuffer.address());
                yield compareReturn(s.clearDirtyLog(log).kernelReturn(), e);
            }
            case Op.Switch sw -> {
                IoctlResult<Integer> result = s.switchDirtyLog(slotId(sw.slot()));
                Optional<String> ret = compareReturn(result.kernelReturn(), e);
                if (ret.isPresent() || !result.isOk() || result.value() != 0) {
                    yield ret;
                }
                Bitmaps b = bitmaps.get(sw.slot());
                bitmaps.put(sw.slot(), new Bitmaps(b.cold(), b.active()));
                IoctlResult<UserBitmap> cold = s.tryReadUserBitmap(b.active(), SpecModel.sizeOf(sw.slot()), "the cold bitmap");
                if (!cold.isOk()) {
                    yield Optional.of("the cold bitmap at " + CallText.hex(b.active()) + " is not readable: "
                            + CallText.show(cold));
                }
                UserBitmap got = cold.value();
                yield compareBitmap(got, e);
            }
        };
    }

    private static Optional<String> compareReturn(long actual, Expectation e) {
        return e.returns().contains(actual) ? Optional.empty() : Optional.of(Expectation.show(actual));
    }

    private static Optional<String> compareBitmap(UserBitmap got, Expectation e) {
        Set<Long> pages = new TreeSet<>(got.pages());
        Set<Long> allowed = new TreeSet<>(e.must());
        allowed.addAll(e.may());
        if (pages.containsAll(e.must()) && allowed.containsAll(pages) && got.bitsPastEnd().isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("0 with " + got.describe());
    }

    /** Returns the generator this runner's sequences come from. */
    public OpGenerator generator() {
        return generator;
    }
}
