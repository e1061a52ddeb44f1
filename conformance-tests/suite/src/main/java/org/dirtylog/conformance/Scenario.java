package org.dirtylog.conformance;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.GuestWrite;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;
import org.dirtylog.spi.UserDirtyLog;
import org.dirtylog.spi.UserMemory;

/**
 * One rule's run against a fresh VM: every backend call a check makes goes through here, so
 * that the calls and their results are recorded as the rule's scenario (shown for a FAIL), and
 * so that the VM, its vCPUs and running writers are released whatever happens.
 */
public final class Scenario implements AutoCloseable {

    /** Steps kept for the report; longer scenarios keep their first steps and a count. */
    static final int MAX_STEPS = 400;

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * A memslot the scenario created.
     *
     * @param id slot id
     * @param gpa first guest physical address
     * @param npages pages
     * @param flags flags it was created with
     * @param memory its backing user memory
     */
    public record Slot(int id, long gpa, long npages, int flags, UserMemory memory) {

        /** Returns the region that created the slot. */
        public MemoryRegion region() {
            return new MemoryRegion(id, flags, gpa, npages * KvmApi.PAGE_SIZE, memory.address());
        }

        /** Returns the guest physical address of page {@code page}. */
        public long gpaOf(long page) {
            return gpa + page * KvmApi.PAGE_SIZE;
        }

        /** Returns the first 8 bytes of page {@code page} as the host sees them (little-endian). */
        public long valueOf(long page) {
            return memory.segment().get(LE_LONG, page * KvmApi.PAGE_SIZE);
        }

        /** Returns the same slot at another guest physical address. */
        public Slot movedTo(long newGpa) {
            return new Slot(id, newGpa, npages, flags, memory);
        }
    }

    private final DirtyLogBackend backend;
    private final BackendVm vm;
    private final Capabilities caps;
    private final long seed;
    private final RunOptions options;
    private final SplittableRandom random;
    private final List<Step> steps = Collections.synchronizedList(new ArrayList<>());
    private final Map<Integer, BackendVcpu> vcpus = new LinkedHashMap<>();
    private final List<RandomWriter> running = Collections.synchronizedList(new ArrayList<>());
    private final Map<Long, String> memoryNames = new HashMap<>();
    private volatile int droppedSteps;
    private volatile String summary = "";
    private long nextGpa;
    private int nextSlotId;
    private long nextValue = 1;
    private int nrMemslots = -1;
    private final Map<Integer, UserMemory> getBuffers = new HashMap<>();
    private UserMemory argPage;
    private final List<Scenario> forks = Collections.synchronizedList(new ArrayList<>());
    private Scenario parent;

    Scenario(DirtyLogBackend backend, BackendVm vm, long seed, RunOptions options) {
        this.backend = backend;
        this.vm = vm;
        this.caps = backend.capabilities();
        this.seed = seed;
        this.options = options;
        this.random = new SplittableRandom(seed);
        this.nextGpa = caps.guestPhysBase();
    }

    /** Returns the backend's capabilities. */
    public Capabilities caps() {
        return caps;
    }

    /** Returns true when the backend has {@code capability}. */
    public boolean has(Capability capability) {
        return caps.has(capability);
    }

    /** Returns the VM under test, for calls the scenario does not wrap. */
    public BackendVm vm() {
        return vm;
    }

    /** Returns the backend under test. */
    public DirtyLogBackend backend() {
        return backend;
    }

    /** Returns the rule's seed. */
    public long seed() {
        return seed;
    }

    /** Returns the run options. */
    public RunOptions options() {
        return options;
    }

    /** Returns the rule's random source, derived from its seed. */
    public SplittableRandom random() {
        return random;
    }

    /** Returns the steps recorded so far, with a last line counting those not kept. */
    public List<Step> steps() {
        List<Step> out;
        synchronized (steps) {
            out = new ArrayList<>(steps);
        }
        if (droppedSteps > 0) {
            out.add(new Step("suite", "(" + droppedSteps + " further steps not kept)", ""));
        }
        return out;
    }

    /** Records a step. */
    public void record(String actor, String call, String result) {
        synchronized (steps) {
            if (steps.size() < MAX_STEPS) {
                steps.add(new Step(actor, call, result));
                return;
            }
        }
        droppedSteps++;
    }

    /** Sets the one line a PASS verdict shows, e.g. how many writes a randomized rule checked. */
    public void summarise(String line) {
        summary = line;
    }

    /** Returns the line set by {@link #summarise(String)}, empty if none. */
    public String summary() {
        return summary;
    }

    /** Records a note of the suite (a read of guest memory, a pause, a check). */
    public void note(String what, String result) {
        record("suite", what, result);
    }

    /**
     * Returns a scenario on a new VM of the same backend, for checks that need many fresh VMs
     * (the model-based rule); it is closed with this one if the check does not close it.
     */
    public Scenario fork() {
        IoctlResult<BackendVm> r = backend.createVm();
        if (!r.isOk()) {
            throw new BackendError("KVM_CREATE_VM failed with " + r.errnoOrNull());
        }
        Scenario fork = new Scenario(backend, r.value(), seed, options);
        fork.parent = this;
        forks.add(fork);
        return fork;
    }

    // ---- VM-level calls ------------------------------------------------------------------

    /** Returns {@code KVM_CHECK_EXTENSION(KVM_CAP_NR_MEMSLOTS)}, asked once per scenario. */
    public int nrMemslots() {
        if (nrMemslots < 0) {
            IoctlResult<Integer> r = checkExtension(KvmApi.KVM_CAP_NR_MEMSLOTS, "KVM_CAP_NR_MEMSLOTS");
            if (!r.isOk() || r.value() < 1) {
                throw new RuleFailure("KVM_CHECK_EXTENSION(KVM_CAP_NR_MEMSLOTS)", "a positive slot count",
                        String.valueOf(r.isOk() ? r.value() : r.errnoOrNull()));
            }
            nrMemslots = r.value();
        }
        return nrMemslots;
    }

    /** Returns {@code KVM_CHECK_EXTENSION(capability)} and records it. */
    public IoctlResult<Integer> checkExtension(long capability, String name) {
        IoctlResult<Integer> r = vm.checkExtension(capability);
        record("vm", "KVM_CHECK_EXTENSION(" + name + ")", show(r));
        return r;
    }

    /** Returns zeroed user memory of {@code bytes} bytes; a backend that cannot map it is an ERROR. */
    public UserMemory mmap(long bytes) {
        long length = (bytes + KvmApi.PAGE_SIZE - 1) & -KvmApi.PAGE_SIZE;
        IoctlResult<UserMemory> r = vm.mmap(length);
        if (!r.isOk()) {
            record("vm", "mmap(" + length + " bytes)", show(r));
            throw new BackendError("mmap of " + length + " bytes failed with " + r.errnoOrNull());
        }
        String name = "mem" + (memoryNames.size() + 1);
        memoryNames.put(r.value().address(), name);
        record("vm", "mmap(" + length + " bytes)", name + " = 0x" + Long.toHexString(r.value().address()));
        return r.value();
    }

    /** Returns a guest physical range of {@code bytes} bytes no other slot of the scenario uses. */
    public long allocateGpa(long bytes) {
        long start = nextGpa;
        long end = start + bytes;
        if (end > caps.guestPhysLimit() || end < start) {
            throw new NotApplicable("the backend's guest physical range [0x" + Long.toHexString(caps.guestPhysBase())
                    + ", 0x" + Long.toHexString(caps.guestPhysLimit()) + ") is too small for this rule");
        }
        // A one-page hole between slots keeps an off-by-one write from landing in a neighbour.
        nextGpa = end + KvmApi.PAGE_SIZE;
        return start;
    }

    /** Returns the next unused slot id of the scenario. */
    public int nextSlotId() {
        return nextSlotId++;
    }

    /** Creates a slot of {@code npages} pages with {@code flags} and returns it; anything but 0 fails the rule. */
    public Slot createSlot(long npages, int flags) {
        UserMemory memory = mmap(npages * KvmApi.PAGE_SIZE);
        Slot slot = new Slot(nextSlotId(), allocateGpa(npages * KvmApi.PAGE_SIZE), npages, flags, memory);
        expectValue(setUserMemoryRegion(slot.region()), 0, "creating slot " + slot.id());
        return slot;
    }

    /** {@code KVM_SET_USER_MEMORY_REGION}, recorded. */
    public IoctlResult<Integer> setUserMemoryRegion(MemoryRegion region) {
        IoctlResult<Integer> r = vm.setUserMemoryRegion(region);
        record("vm", describe(region), show(r));
        return r;
    }

    /** Returns a readable form of a memory region argument. */
    public String describe(MemoryRegion region) {
        String flags = region.flags() == 0 ? "0"
                : region.flags() == KvmApi.KVM_MEM_LOG_DIRTY_PAGES ? "LOG_DIRTY_PAGES"
                : "0x" + Integer.toHexString(region.flags());
        String mem = memoryNames.get(region.userspaceAddr());
        return "KVM_SET_USER_MEMORY_REGION(slot=" + slotName(region.slot()) + ", flags=" + flags
                + ", gpa=0x" + Long.toHexString(region.guestPhysAddr())
                + ", size=" + (region.memorySize() % KvmApi.PAGE_SIZE == 0
                        ? region.npages() + " pages" : region.memorySize() + " bytes")
                + ", uaddr=" + (mem != null ? mem : "0x" + Long.toHexString(region.userspaceAddr())) + ")";
    }

    private static String slotName(int slot) {
        return (slot >>> KvmApi.ADDRESS_SPACE_SHIFT) == 0 ? String.valueOf(slot)
                : "as" + (slot >>> KvmApi.ADDRESS_SPACE_SHIFT) + ":" + (slot & 0xffff);
    }

    /** {@code KVM_GET_DIRTY_LOG} into {@code dirtyBitmap}, recorded. */
    public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
        IoctlResult<Integer> r = vm.getDirtyLog(slot, dirtyBitmap);
        recordGetDirtyLog(slot, dirtyBitmap, r);
        return r;
    }

    private void recordGetDirtyLog(int slot, long dirtyBitmap, IoctlResult<Integer> r) {
        String mem = memoryNames.get(dirtyBitmap);
        record("vm", "KVM_GET_DIRTY_LOG(slot=" + slotName(slot) + ", dirty_bitmap="
                + (mem != null ? mem : "0x" + Long.toHexString(dirtyBitmap)) + ")", show(r));
    }

    /** Returns the bitmap {@code KVM_GET_DIRTY_LOG} copied for {@code slot}; anything but 0 fails the rule. */
    public DirtyBitmap getDirtyLog(Slot slot) {
        return getDirtyLog(slot, () -> { });
    }

    /**
     * Returns the bitmap {@code KVM_GET_DIRTY_LOG} copied for {@code slot}, running
     * {@code atReturn} the moment the ioctl returned (before anything is recorded), for checks
     * that must observe guest memory as close to a harvest's end as they can.
     */
    public DirtyBitmap getDirtyLog(Slot slot, Runnable atReturn) {
        UserMemory buffer = getBuffers.computeIfAbsent(slot.id(), id -> mmap(KvmApi.dirtyBitmapBytes(slot.npages())));
        buffer.segment().fill((byte) 0);
        IoctlResult<Integer> r = vm.getDirtyLog(slot.id(), buffer.address());
        atReturn.run();
        recordGetDirtyLog(slot.id(), buffer.address(), r);
        expectValue(r, 0, "KVM_GET_DIRTY_LOG(slot=" + slot.id() + ")");
        DirtyBitmap bitmap = DirtyBitmap.readFrom(buffer.segment(), slot.npages());
        note("read dirty_bitmap of slot " + slot.id(), bitmap.describe());
        return bitmap;
    }

    /** {@code KVM_SWITCH_DIRTY_LOG}, recorded. */
    public IoctlResult<Integer> switchDirtyLog(int slot) {
        IoctlResult<Integer> r = vm.switchDirtyLog(slot);
        record("vm", "KVM_SWITCH_DIRTY_LOG(slot=" + slotName(slot) + ")", show(r));
        return r;
    }

    /** {@code KVM_GET_USER_DIRTY_LOG_ADDR} with the argument at user address {@code argp}, recorded. */
    public IoctlResult<Integer> getUserDirtyLogAddr(long argp, String argName) {
        IoctlResult<Integer> r = vm.getUserDirtyLogAddr(argp);
        record("vm", "KVM_GET_USER_DIRTY_LOG_ADDR(" + argName + ")", show(r));
        return r;
    }

    /**
     * Returns the struct {@code KVM_GET_USER_DIRTY_LOG_ADDR} filled in for {@code slot}, or its
     * errno. The struct goes through user memory, as with a real kernel.
     */
    public IoctlResult<UserDirtyLog> userDirtyLogAddr(int slot) {
        if (argPage == null) {
            argPage = mmap(KvmApi.PAGE_SIZE);
        }
        MemorySegment arg = argPage.segment();
        new UserDirtyLog(slot, 0, 0, 0).writeTo(arg);
        IoctlResult<Integer> r = getUserDirtyLogAddr(argPage.address(), "{slot=" + slotName(slot) + "}");
        if (!r.isOk()) {
            return IoctlResult.err(r.errnoOrNull());
        }
        UserDirtyLog out = UserDirtyLog.readFrom(arg);
        note("read struct kvm_user_dirty_log", "dirty_bitmap=0x" + Long.toHexString(out.dirtyBitmap())
                + ", dirty_bitmap_old=0x" + Long.toHexString(out.dirtyBitmapOld()));
        return IoctlResult.ok(out);
    }

    /** Returns the two bitmap addresses of a logged slot; anything but 0 fails the rule. */
    public UserDirtyLog userDirtyLogAddrOf(Slot slot) {
        IoctlResult<UserDirtyLog> r = userDirtyLogAddr(slot.id());
        expect(r.isOk(), "KVM_GET_USER_DIRTY_LOG_ADDR(slot=" + slot.id() + ") of a logged slot", "0", show(r));
        return r.value();
    }

    /** Returns a copy of the bitmap for {@code npages} pages at user address {@code address}. */
    public DirtyBitmap readUserBitmap(long address, long npages, String name) {
        IoctlResult<MemorySegment> r = vm.accessUser(address, KvmApi.dirtyBitmapBytes(npages));
        if (!r.isOk()) {
            record("suite", "read " + name + " at 0x" + Long.toHexString(address), show(r));
            throw new RuleFailure("reading " + name + " at 0x" + Long.toHexString(address),
                    "readable user memory of " + KvmApi.dirtyBitmapBytes(npages) + " bytes", r.errnoOrNull().toString());
        }
        DirtyBitmap bitmap = DirtyBitmap.readFrom(r.value(), npages);
        note("read " + name, bitmap.describe());
        return bitmap;
    }

    // ---- vCPUs -----------------------------------------------------------------------------

    /** Returns vCPU {@code id}, created on first use; a backend that cannot create it is an ERROR. */
    public synchronized BackendVcpu vcpu(int id) {
        BackendVcpu vcpu = vcpus.get(id);
        if (vcpu == null) {
            IoctlResult<BackendVcpu> r = vm.createVcpu(id);
            record("vm", "KVM_CREATE_VCPU(" + id + ")", r.isOk() ? "0" : show(r));
            if (!r.isOk()) {
                throw new BackendError("KVM_CREATE_VCPU(" + id + ") failed with " + r.errnoOrNull());
            }
            vcpu = r.value();
            vcpus.put(id, vcpu);
        }
        return vcpu;
    }

    /** Returns a fresh value for a guest write, so that every write changes the page. */
    public synchronized long nextValue() {
        return nextValue++;
    }

    /** Runs guest writes to {@code pages} of {@code slot} on vCPU {@code vcpu}; a failing vCPU is an ERROR. */
    public void write(int vcpu, Slot slot, long... pages) {
        List<GuestWrite> writes = new ArrayList<>();
        List<Long> list = new ArrayList<>();
        for (long p : pages) {
            writes.add(new GuestWrite(slot.gpaOf(p), nextValue()));
            list.add(p);
        }
        IoctlResult<Integer> r = runWrites(vcpu, writes, "pages " + DirtyBitmap.abbreviate(list) + " of slot " + slot.id());
        if (!r.isOk() || r.value() != writes.size()) {
            throw new BackendError("vcpu" + vcpu + " failed to run " + writes.size() + " guest writes inside slot "
                    + slot.id() + ": " + show(r));
        }
    }

    /** Runs {@code writes} on vCPU {@code vcpu} and returns the backend's result, recorded. */
    public IoctlResult<Integer> runWrites(int vcpu, List<GuestWrite> writes, String what) {
        IoctlResult<Integer> r = vcpu(vcpu).runWrites(writes);
        record("vcpu" + vcpu, "run " + writes.size() + " write(s): " + what, show(r));
        return r;
    }

    /** Starts random writes on vCPU {@code vcpu}; a vCPU that cannot start is an ERROR. */
    public RandomWriter startRandomWrites(int vcpu, RandomWrites writes) {
        IoctlResult<RandomWriter> r = vcpu(vcpu).startRandomWrites(writes);
        record("vcpu" + vcpu, "start random writes of iteration " + writes.iteration() + " over "
                + writes.pages() + " pages", r.isOk() ? "running" : show(r));
        if (!r.isOk()) {
            throw new BackendError("vcpu" + vcpu + " could not start random writes: " + r.errnoOrNull());
        }
        running.add(r.value());
        return r.value();
    }

    /** Stops a random writer and returns its write count; a vCPU that crashed is an ERROR. */
    public long stop(int vcpu, RandomWriter writer) {
        IoctlResult<Long> r = writer.stop();
        running.remove(writer);
        record("vcpu" + vcpu, "stop random writes", r.isOk() ? r.value() + " writes" : show(r));
        if (!r.isOk()) {
            throw new BackendError("vcpu" + vcpu + " stopped abnormally: " + r.errnoOrNull());
        }
        return r.value();
    }

    // ---- expectations ----------------------------------------------------------------------

    /** Fails the rule unless {@code condition}. */
    public static void expect(boolean condition, String what, String expected, String actual) {
        if (!condition) {
            throw new RuleFailure(what, expected, actual);
        }
    }

    /** Fails the rule unless {@code r} is the value {@code expected}. */
    public static void expectValue(IoctlResult<Integer> r, int expected, String what) {
        expect(r.isOk() && r.value() == expected, what, String.valueOf(expected), show(r));
    }

    /** Fails the rule unless {@code r} failed with {@code expected}. */
    public static void expectErrno(IoctlResult<?> r, Errno expected, String what) {
        expect(expected.equals(r.errnoOrNull()), what, expected.toString(), show(r));
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

    /** Releases writers, vCPUs and the VM; safe to call twice. */
    @Override
    public void close() {
        List<Scenario> openForks;
        synchronized (forks) {
            openForks = new ArrayList<>(forks);
            forks.clear();
        }
        openForks.forEach(Scenario::close);
        List<RandomWriter> left;
        synchronized (running) {
            left = new ArrayList<>(running);
            running.clear();
        }
        for (RandomWriter w : left) {
            w.stop();
        }
        synchronized (this) {
            vcpus.values().forEach(BackendVcpu::close);
            vcpus.clear();
        }
        vm.close();
        if (parent != null) {
            parent.forks.remove(this);
        }
    }
}
