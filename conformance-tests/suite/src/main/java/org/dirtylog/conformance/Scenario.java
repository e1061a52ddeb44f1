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
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.DirtyGfn;
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
import org.dirtylog.spi.VcpuRun;

/**
 * One rule's run against a fresh VM, as the check sees it: the facade through which every
 * backend call goes, so that each call and its result lands in the rule's {@link Recorder}
 * (shown for a FAIL), places come from its {@link GuestLayout}, and the VM, its vCPUs and
 * running writers are released whatever happens. Assertions are {@link Expect}'s; the text of
 * calls is {@link CallText}'s.
 */
public final class Scenario implements AutoCloseable {

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
    private final Recorder recorder;
    private final GuestLayout layout;
    private final Perturbation perturbation;
    private final Map<Integer, BackendVcpu> vcpus = new LinkedHashMap<>();
    private final List<RandomWriter> running = Collections.synchronizedList(new ArrayList<>());
    private final ConcurrentSkipListMap<Long, UserMemory> memories = new ConcurrentSkipListMap<>();
    private final Map<Long, String> memoryNames = new ConcurrentHashMap<>();
    private int nrMemslots = -1;
    private final Map<Integer, UserMemory> getBuffers = new HashMap<>();
    private final Map<Integer, UserMemory> clearBuffers = new HashMap<>();
    private UserMemory argPage;
    // Guarded by this.
    private long resumedAfterRingFull;
    private final List<Scenario> forks = Collections.synchronizedList(new ArrayList<>());
    private final Scenario parent;
    /** The rule's trace with {@code --trace} (shared with forks), else null. */
    private final TraceLog trace;
    /** This VM's behaviour number in the trace: 0 for the rule's VM, 1.. for forks. */
    private final int behaviour;
    /** The thread the rule runs on (the one that built the rule's scenario) and when a call last returned on it. */
    private final Thread ruleThread;
    private final AtomicLong lastRuleThreadCall;
    /** Pages of each slot id as the last successful KVM_SET_USER_MEMORY_REGION gave it, to read GET buffers for the trace. */
    private final Map<Integer, Long> slotPages = new ConcurrentHashMap<>();

    Scenario(DirtyLogBackend backend, BackendVm vm, long seed, RunOptions options) {
        this(backend, vm, seed, options, Perturbation.forRule(backend, seed));
    }

    Scenario(DirtyLogBackend backend, BackendVm vm, long seed, RunOptions options, Perturbation perturbation) {
        this.backend = backend;
        this.perturbation = perturbation;
        this.vm = vm;
        this.caps = backend.capabilities();
        this.seed = seed;
        this.options = options;
        this.random = new SplittableRandom(seed);
        this.recorder = new Recorder();
        this.layout = new GuestLayout(caps);
        this.parent = null;
        this.trace = options.trace() ? new TraceLog() : null;
        this.behaviour = 0;
        this.ruleThread = Thread.currentThread();
        this.lastRuleThreadCall = new AtomicLong();
    }

    private Scenario(Scenario parent, BackendVm vm) {
        this.backend = parent.backend;
        this.vm = vm;
        this.caps = parent.caps;
        this.seed = parent.seed;
        this.options = parent.options;
        this.random = new SplittableRandom(parent.seed);
        // A fork keeps its own steps: the parent shows only what it replays itself.
        this.recorder = new Recorder();
        this.layout = new GuestLayout(caps);
        this.perturbation = parent.perturbation;
        this.parent = parent;
        this.trace = parent.trace;
        this.behaviour = trace != null ? trace.newBehaviour() : 0;
        this.ruleThread = parent.ruleThread;
        this.lastRuleThreadCall = parent.lastRuleThreadCall;
    }

    /** Returns the backend's capabilities. */
    public Capabilities caps() {
        return caps;
    }

    /** Returns true when the backend has {@code capability}. */
    public boolean has(Capability capability) {
        return caps.has(capability);
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

    /** Returns the rule's recorder of steps and its summary line. */
    public Recorder recorder() {
        return recorder;
    }

    /** Returns the schedule perturbation of this rule (the race rules turn it on while vCPUs write). */
    public Perturbation perturbation() {
        return perturbation;
    }

    /** Returns where the scenario places slots and which values its writes store. */
    public GuestLayout layout() {
        return layout;
    }

    private void record(String actor, String call, String result) {
        recorder.record(actor, call, result);
        if (Thread.currentThread() == ruleThread) {
            long now = System.nanoTime();
            lastRuleThreadCall.set(now == 0 ? 1 : now); // 0 means "no call yet"
        }
    }

    /**
     * Returns when (System.nanoTime) a backend call last returned on the thread that runs the
     * rule (forks included), or 0 before any: the runner's sign that a slow rule is still alive
     * (see {@link RunOptions#PROGRESS_TIMEOUTS}).
     */
    long lastCallReturnedOnRuleThread() {
        return lastRuleThreadCall.get();
    }

    /** Returns the rule's trace so far, or null without {@code --trace}. */
    public RuleTrace trace() {
        return trace == null ? null : trace.snapshot();
    }

    /**
     * Returns the trace clock now (the time a call begins), 0 without {@code --trace}; the ring
     * collector stamps its reads of ring memory with it too.
     */
    long t0() {
        return trace == null ? 0 : trace.now();
    }

    /** Adds an event of {@code op} begun at {@code t0} with the fields {@code fill} puts; nothing without {@code --trace}. */
    private void traced(String actor, String op, long t0, Consumer<ObjectNode> fill) {
        if (trace == null) {
            return;
        }
        ObjectNode n = trace.event(behaviour, actor, op, t0);
        fill.accept(n);
        trace.add(n);
    }

    /** Returns the pages set in the bitmap of {@code npages} pages at user address {@code address}, or null when unreadable. */
    private List<Long> pagesAt(long address, long npages) {
        IoctlResult<MemorySegment> r = vm.accessUser(address, KvmApi.dirtyBitmapBytes(npages));
        return r.isOk() ? UserBitmap.readFrom(r.value(), npages).pages() : null;
    }

    private static void putPages(ObjectNode n, List<Long> pages) {
        if (pages == null) {
            n.putNull("pages");
        } else {
            TraceLog.numbers(n, "pages", pages);
        }
    }

    private void note(String what, String result) {
        recorder.note(what, result);
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
        Scenario fork = new Scenario(this, r.value());
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
        long t0 = t0();
        IoctlResult<Integer> r = vm.checkExtension(capability);
        record("vm", "KVM_CHECK_EXTENSION(" + name + ")", CallText.show(r));
        traced("vm", "KVM_CHECK_EXTENSION", t0, n -> TraceLog.result(n.put("cap", name), r));
        return r;
    }

    /** Returns zeroed user memory of {@code bytes} bytes; a backend that cannot map it is an ERROR. */
    public UserMemory mmap(long bytes) {
        long length = (bytes + KvmApi.PAGE_SIZE - 1) & -KvmApi.PAGE_SIZE;
        long t0 = t0();
        IoctlResult<UserMemory> r = vm.mmap(length);
        traced("vm", "mmap", t0, n -> {
            n.put("length", length);
            TraceLog.result(n, r);
            if (r.isOk()) {
                n.put("addr", r.value().address());
            }
        });
        if (!r.isOk()) {
            record("vm", "mmap(" + length + " bytes)", CallText.show(r));
            throw new BackendError("mmap of " + length + " bytes failed with " + r.errnoOrNull());
        }
        String name = "mem" + (memoryNames.size() + 1);
        memoryNames.put(r.value().address(), name);
        memories.put(r.value().address(), r.value());
        record("vm", "mmap(" + length + " bytes)", name + " = 0x" + Long.toHexString(r.value().address()));
        return r.value();
    }

    /** Creates a slot of {@code npages} pages with {@code flags} and returns it; anything but 0 fails the rule. */
    public Slot createSlot(long npages, int flags) {
        return createSlot(layout.nextSlotId(), npages, flags);
    }

    /** Creates slot {@code id} of {@code npages} pages with {@code flags} and returns it; anything but 0 fails the rule. */
    public Slot createSlot(int id, long npages, int flags) {
        UserMemory memory = mmap(npages * KvmApi.PAGE_SIZE);
        Slot slot = new Slot(id, layout.allocateGpa(npages * KvmApi.PAGE_SIZE), npages, flags, memory);
        Expect.value(setUserMemoryRegion(slot.region()), 0, "creating slot " + slot.id());
        return slot;
    }

    /** {@code KVM_SET_USER_MEMORY_REGION}, recorded. */
    public IoctlResult<Integer> setUserMemoryRegion(MemoryRegion region) {
        long t0 = t0();
        IoctlResult<Integer> r = vm.setUserMemoryRegion(region);
        record("vm", describe(region), CallText.show(r));
        if (r.isOk()) {
            if (region.memorySize() == 0) {
                slotPages.remove(region.slot());
            } else {
                slotPages.put(region.slot(), region.memorySize() / KvmApi.PAGE_SIZE);
            }
        }
        traced("vm", "KVM_SET_USER_MEMORY_REGION", t0, n -> TraceLog.result(n.put("slot", region.slot())
                .put("flags", region.flags()).put("guest_phys_addr", region.guestPhysAddr())
                .put("memory_size", region.memorySize()).put("userspace_addr", region.userspaceAddr()), r));
        return r;
    }

    /** Returns a readable form of a memory region argument. */
    public String describe(MemoryRegion region) {
        return CallText.setUserMemoryRegion(region, memoryName(region.userspaceAddr()));
    }

    /**
     * Returns the scenario's name of user memory at {@code address}: {@code mem2} at the start of
     * a mapping, {@code mem2+0xff0} inside one, else the address.
     */
    private String memoryName(long address) {
        Map.Entry<Long, UserMemory> below = memories.floorEntry(address);
        if (below == null || address - below.getKey() >= below.getValue().length()) {
            return CallText.hex(address);
        }
        String name = memoryNames.get(below.getKey());
        return address == below.getKey() ? name : name + "+" + CallText.hex(address - below.getKey());
    }

    /** {@code KVM_GET_DIRTY_LOG} into {@code dirtyBitmap}, recorded. */
    public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
        long t0 = t0();
        IoctlResult<Integer> r = vm.getDirtyLog(slot, dirtyBitmap);
        recordGetDirtyLog(slot, dirtyBitmap, r);
        traced("vm", "KVM_GET_DIRTY_LOG", t0, n -> {
            TraceLog.result(n.put("slot", slot).put("dirty_bitmap", dirtyBitmap), r);
            Long npages = slotPages.get(slot);
            if (r.isOk() && npages != null) {
                putPages(n, pagesAt(dirtyBitmap, npages));
            }
        });
        return r;
    }

    private void recordGetDirtyLog(int slot, long dirtyBitmap, IoctlResult<Integer> r) {
        record("vm", "KVM_GET_DIRTY_LOG(slot=" + CallText.slot(slot) + ", dirty_bitmap=" + memoryName(dirtyBitmap) + ")",
                CallText.show(r));
    }

    /** Returns the bitmap {@code KVM_GET_DIRTY_LOG} copied for {@code slot}; anything but 0 fails the rule. */
    public UserBitmap getDirtyLog(Slot slot) {
        return getDirtyLog(slot, () -> { });
    }

    /**
     * Returns the bitmap {@code KVM_GET_DIRTY_LOG} copied for {@code slot}, running
     * {@code atReturn} the moment the ioctl returned (before anything is recorded), for checks
     * that must observe guest memory as close to a harvest's end as they can.
     */
    public UserBitmap getDirtyLog(Slot slot, Runnable atReturn) {
        UserMemory buffer = getBuffers.computeIfAbsent(slot.id(), id -> mmap(KvmApi.dirtyBitmapBytes(slot.npages())));
        buffer.segment().fill((byte) 0);
        long t0 = t0();
        IoctlResult<Integer> r = vm.getDirtyLog(slot.id(), buffer.address());
        // Traced before atReturn runs, so whatever it calls follows the GET in the trace.
        traced("vm", "KVM_GET_DIRTY_LOG", t0, n -> {
            TraceLog.result(n.put("slot", slot.id()).put("dirty_bitmap", buffer.address()), r);
            if (r.isOk()) {
                putPages(n, UserBitmap.readFrom(buffer.segment(), slot.npages()).pages());
            }
        });
        atReturn.run();
        recordGetDirtyLog(slot.id(), buffer.address(), r);
        UserBitmap bitmap = UserBitmap.readFrom(buffer.segment(), slot.npages());
        Expect.value(r, 0, "KVM_GET_DIRTY_LOG(slot=" + slot.id() + ")");
        note("read dirty_bitmap of slot " + slot.id(), bitmap.describe());
        return bitmap;
    }

    /** {@code KVM_SWITCH_DIRTY_LOG}, recorded. */
    public IoctlResult<Integer> switchDirtyLog(int slot) {
        return switchDirtyLog(slot, r -> { });
    }

    /**
     * {@code KVM_SWITCH_DIRTY_LOG}, recorded, running {@code atReturn} with its result the moment
     * the ioctl returned (before anything is recorded), for checks that must observe memory as
     * close to a harvest's end as they can.
     */
    public IoctlResult<Integer> switchDirtyLog(int slot, Consumer<IoctlResult<Integer>> atReturn) {
        long t0 = t0();
        IoctlResult<Integer> r = vm.switchDirtyLog(slot);
        // Traced before atReturn runs, so the cold-bitmap copy it makes follows the SWITCH in the trace.
        traced("vm", "KVM_SWITCH_DIRTY_LOG", t0, n -> TraceLog.result(n.put("slot", slot), r));
        atReturn.accept(r);
        record("vm", "KVM_SWITCH_DIRTY_LOG(slot=" + CallText.slot(slot) + ")", CallText.show(r));
        return r;
    }

    // ---- manual protect -------------------------------------------------------------------

    /**
     * Returns {@code KVM_CHECK_EXTENSION(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)}, the mask of
     * manual-protect flags; an error fails the rule.
     */
    public long manualProtectMask() {
        IoctlResult<Integer> r = checkExtension(KvmApi.KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2");
        Expect.that(r.isOk(), "KVM_CHECK_EXTENSION(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)", "a mask", CallText.show(r));
        return r.value();
    }

    /**
     * Returns the manual-protect flags the backend declares: ENABLE, and INITIALLY_SET when it
     * declares {@link Capability#DIRTY_LOG_INITIALLY_SET}; what the kernel's own selftest enables.
     */
    public long declaredManualFlags() {
        return KvmApi.KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE
                | (has(Capability.DIRTY_LOG_INITIALLY_SET) ? KvmApi.KVM_DIRTY_LOG_INITIALLY_SET : 0);
    }

    /** {@code KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)}, recorded. */
    public IoctlResult<Integer> enableManualDirtyLogProtect(int flags, long args0) {
        long t0 = t0();
        IoctlResult<Integer> r = vm.enableManualDirtyLogProtect(flags, args0);
        record("vm", CallText.enableManualDirtyLogProtect(flags, args0), CallText.show(r));
        traced("vm", "KVM_ENABLE_CAP", t0, n -> TraceLog.result(n.put("cap", "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2")
                .put("flags", flags).put("args0", args0), r));
        return r;
    }

    /** Sets the manual-protect mode to {@code args0}; anything but 0 fails the rule. */
    public void enableManualProtect(long args0) {
        Expect.value(enableManualDirtyLogProtect(0, args0), 0, CallText.enableManualDirtyLogProtect(0, args0));
    }

    /** {@code KVM_CLEAR_DIRTY_LOG}, recorded. */
    public IoctlResult<Integer> clearDirtyLog(ClearDirtyLog log) {
        List<Long> mask = trace == null ? null : clearMask(log);
        long t0 = t0();
        IoctlResult<Integer> r = vm.clearDirtyLog(log);
        record("vm", CallText.clearDirtyLog(log, memoryName(log.dirtyBitmap())), CallText.show(r));
        traceClear(log, mask, t0, r);
        return r;
    }

    /**
     * Returns the slot pages whose bits the user bitmap of {@code log} sets (bit {@code i} is page
     * {@code first_page + i}, over {@code ALIGN(num_pages, 64)} bits), read before the call, or
     * null when that memory is not readable.
     */
    private List<Long> clearMask(ClearDirtyLog log) {
        long bits = (Integer.toUnsignedLong(log.numPages()) + 63) / 64 * 64;
        if (bits == 0 || bits > (1L << 24)) {
            return bits == 0 ? List.of() : null;
        }
        List<Long> relative = pagesAt(log.dirtyBitmap(), bits);
        return relative == null ? null : relative.stream().map(p -> p + log.firstPage()).toList();
    }

    private void traceClear(ClearDirtyLog log, List<Long> mask, long t0, IoctlResult<Integer> r) {
        traced("vm", "KVM_CLEAR_DIRTY_LOG", t0, n -> {
            TraceLog.result(n.put("slot", log.slot()).put("first_page", log.firstPage())
                    .put("num_pages", Integer.toUnsignedLong(log.numPages())).put("dirty_bitmap", log.dirtyBitmap()), r);
            putPages(n, mask);
        });
    }

    /** Clears {@code pages} of the whole slot (first_page 0, num_pages npages); anything but 0 fails the rule. */
    public void clearDirtyLog(Slot slot, UserBitmap pages) {
        clearDirtyLog(slot, pages, () -> { });
    }

    /**
     * Clears {@code pages} of the whole slot through a user bitmap of the scenario, running
     * {@code atReturn} the moment the ioctl returned (before anything is recorded); anything but
     * 0 fails the rule.
     */
    public void clearDirtyLog(Slot slot, UserBitmap pages, Runnable atReturn) {
        UserMemory buffer = clearBuffers.computeIfAbsent(slot.id(), id -> mmap(KvmApi.dirtyBitmapBytes(slot.npages())));
        pages.writeTo(buffer.segment());
        ClearDirtyLog log = new ClearDirtyLog(slot.id(), Math.toIntExact(slot.npages()), 0, buffer.address());
        long t0 = t0();
        IoctlResult<Integer> r = vm.clearDirtyLog(log);
        traceClear(log, pages.pages(), t0, r);
        atReturn.run();
        record("vm", CallText.clearDirtyLog(log, memoryName(buffer.address())) + " of " + pages.describe(), CallText.show(r));
        Expect.value(r, 0, "KVM_CLEAR_DIRTY_LOG(slot=" + slot.id() + ") of " + pages.describe());
    }

    /**
     * Returns one page of user memory whose next page is not user memory (checked with
     * {@link BackendVm#accessUser}): two single pages are mapped and, when the kernel placed one
     * right after the other, the second is unmapped again; a backend that maps neither next to
     * the other already has a hole after the first. A backend where neither works makes the rule
     * NOT_APPLICABLE.
     */
    public UserMemory pageBeforeAHole() {
        for (int attempt = 0; attempt < 4; attempt++) {
            UserMemory a = mmap(KvmApi.PAGE_SIZE);
            UserMemory b = mmap(KvmApi.PAGE_SIZE);
            UserMemory lower = a.address() < b.address() ? a : b;
            UserMemory upper = lower == a ? b : a;
            List<UserMemory> candidates = List.of(a, b);
            if (lower.address() + KvmApi.PAGE_SIZE == upper.address()) {
                IoctlResult<Integer> r = vm.munmap(upper);
                record("vm", "munmap(" + memoryName(upper.address()) + ", the page right after "
                        + memoryName(lower.address()) + ")", CallText.show(r));
                if (!r.isOk()) {
                    throw new BackendError("munmap of a page this scenario mapped failed with " + r.errnoOrNull());
                }
                memories.remove(upper.address());
                candidates = List.of(lower);
            }
            for (UserMemory candidate : candidates) {
                IoctlResult<MemorySegment> next = vm.accessUser(candidate.address() + KvmApi.PAGE_SIZE, 1);
                if (Errno.EFAULT.equals(next.errnoOrNull())) {
                    note("the byte after " + memoryName(candidate.address()) + " is not user memory", "-EFAULT");
                    return candidate;
                }
            }
        }
        throw new NotApplicable("in four tries the backend mapped no page of user memory followed by a hole");
    }

    /** {@code KVM_GET_USER_DIRTY_LOG_ADDR} with the argument at user address {@code argp}, recorded. */
    public IoctlResult<Integer> getUserDirtyLogAddr(long argp, String argName) {
        long t0 = t0();
        IoctlResult<Integer> r = vm.getUserDirtyLogAddr(argp);
        record("vm", "KVM_GET_USER_DIRTY_LOG_ADDR(" + argName + ")", CallText.show(r));
        traced("vm", "KVM_GET_USER_DIRTY_LOG_ADDR", t0, n -> {
            TraceLog.result(n.put("argp", argp), r);
            // The struct as the call left it: the slot asked for and, on success, the two addresses.
            IoctlResult<MemorySegment> arg = r.isOk() ? vm.accessUser(argp, UserDirtyLog.LAYOUT.byteSize()) : null;
            if (arg != null && arg.isOk()) {
                UserDirtyLog out = UserDirtyLog.readFrom(arg.value());
                n.put("slot", out.slot()).put("dirty_bitmap", out.dirtyBitmap()).put("dirty_bitmap_old", out.dirtyBitmapOld());
            }
        });
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
        IoctlResult<Integer> r = getUserDirtyLogAddr(argPage.address(), "{slot=" + CallText.slot(slot) + "}");
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
        Expect.that(r.isOk(), "KVM_GET_USER_DIRTY_LOG_ADDR(slot=" + slot.id() + ") of a logged slot", "0", CallText.show(r));
        return r.value();
    }

    /** Returns a copy of the bitmap for {@code npages} pages at user address {@code address}; unreadable fails the rule. */
    public UserBitmap readUserBitmap(long address, long npages, String name) {
        IoctlResult<UserBitmap> r = tryReadUserBitmap(address, npages, name);
        if (!r.isOk()) {
            throw new RuleFailure("reading " + name + " at " + CallText.hex(address),
                    "readable user memory of " + KvmApi.dirtyBitmapBytes(npages) + " bytes", r.errnoOrNull().toString());
        }
        return r.value();
    }

    /** Returns a copy of the bitmap for {@code npages} pages at user address {@code address}, or the errno of the access; recorded. */
    public IoctlResult<UserBitmap> tryReadUserBitmap(long address, long npages, String name) {
        long t0 = t0();
        IoctlResult<MemorySegment> r = vm.accessUser(address, KvmApi.dirtyBitmapBytes(npages));
        if (!r.isOk()) {
            record("suite", "read " + name + " at " + CallText.hex(address), CallText.show(r));
            traced("suite", "read_bitmap", t0, n -> TraceLog.result(n.put("addr", address).put("npages", npages), r));
            return IoctlResult.err(r.errnoOrNull());
        }
        UserBitmap bitmap = UserBitmap.readFrom(r.value(), npages);
        traced("suite", "read_bitmap", t0, n -> putPages(TraceLog.result(n.put("addr", address).put("npages", npages), r),
                bitmap.pages()));
        note("read " + name, bitmap.describe());
        return IoctlResult.ok(bitmap);
    }

    /**
     * Returns a copy of the bitmap at {@code address}, or null when it is not readable, WITHOUT
     * recording it: for a harvest that must copy the cold bitmap before anything else happens.
     */
    public UserBitmap copyUserBitmap(long address, long npages) {
        long t0 = t0();
        IoctlResult<MemorySegment> r = vm.accessUser(address, KvmApi.dirtyBitmapBytes(npages));
        UserBitmap bitmap = r.isOk() ? UserBitmap.readFrom(r.value(), npages) : null;
        traced("suite", "read_bitmap", t0, n -> putPages(TraceLog.result(n.put("addr", address).put("npages", npages), r),
                bitmap == null ? null : bitmap.pages()));
        return bitmap;
    }

    // ---- vCPUs -----------------------------------------------------------------------------

    /** Returns vCPU {@code id}, created on first use; a backend that cannot create it is an ERROR. */
    public synchronized BackendVcpu vcpu(int id) {
        BackendVcpu vcpu = vcpus.get(id);
        if (vcpu == null) {
            long t0 = t0();
            IoctlResult<BackendVcpu> r = vm.createVcpu(id);
            record("vm", "KVM_CREATE_VCPU(" + id + ")", r.isOk() ? "0" : CallText.show(r));
            traced("vm", "KVM_CREATE_VCPU", t0, n -> TraceLog.result(n.put("vcpu", id), r));
            if (!r.isOk()) {
                throw new BackendError("KVM_CREATE_VCPU(" + id + ") failed with " + r.errnoOrNull());
            }
            vcpu = r.value();
            vcpus.put(id, vcpu);
        }
        return vcpu;
    }

    /** Runs guest writes to {@code pages} of {@code slot} on vCPU {@code vcpu}; a failing vCPU is an ERROR. */
    public void write(int vcpu, Slot slot, long... pages) {
        List<GuestWrite> writes = new ArrayList<>();
        List<Long> list = new ArrayList<>();
        for (long p : pages) {
            writes.add(new GuestWrite(slot.gpaOf(p), layout.nextValue()));
            list.add(p);
        }
        IoctlResult<Integer> r = runWrites(vcpu, writes, "pages " + UserBitmap.abbreviate(list) + " of slot " + slot.id());
        if (!r.isOk() || r.value() != writes.size()) {
            throw new BackendError("vcpu" + vcpu + " failed to run " + writes.size() + " guest writes inside slot "
                    + slot.id() + ": " + CallText.show(r));
        }
    }

    /** Runs {@code writes} on vCPU {@code vcpu} and returns the backend's result, recorded. */
    public IoctlResult<Integer> runWrites(int vcpu, List<GuestWrite> writes, String what) {
        BackendVcpu v = vcpu(vcpu);
        long t0 = t0();
        IoctlResult<Integer> r = v.runWrites(writes);
        record("vcpu" + vcpu, "run " + writes.size() + " write(s): " + what, CallText.show(r));
        traced("vcpu" + vcpu, "KVM_RUN", t0, n -> TraceLog.result(TraceLog.numbers(n.put("vcpu", vcpu), "gpas",
                writes.stream().map(GuestWrite::gpa).toList()), r));
        return r;
    }

    /** Starts random writes on vCPU {@code vcpu}; a vCPU that cannot start is an ERROR. */
    public RandomWriter startRandomWrites(int vcpu, RandomWrites writes) {
        BackendVcpu v = vcpu(vcpu);
        long t0 = t0();
        IoctlResult<RandomWriter> r = v.startRandomWrites(writes);
        traceWriterStart(vcpu, "random", writes, t0, r);
        record("vcpu" + vcpu, "start random writes of iteration " + writes.iteration() + " over "
                + writes.pages() + " pages", r.isOk() ? "running" : CallText.show(r));
        if (!r.isOk()) {
            throw new BackendError("vcpu" + vcpu + " could not start random writes: " + r.errnoOrNull());
        }
        running.add(r.value());
        return r.value();
    }

    /**
     * Traces the start of a writer: from {@code t0} on, until its stop returns, the vCPU may
     * write any page of {@code [first_gpa, first_gpa + pages * 4096)}: the write window.
     */
    private void traceWriterStart(int vcpu, String kind, RandomWrites writes, long t0, IoctlResult<?> r) {
        traced("vcpu" + vcpu, "writer_start", t0, n -> {
            n.put("vcpu", vcpu).put("kind", kind).put("first_gpa", writes.firstGpa()).put("pages", writes.pages())
                    .put("iteration", writes.iteration());
            n.put("ret", r.isOk() ? 0 : r.kernelReturn());
            if (!r.isOk()) {
                n.put("errno", r.errnoOrNull().name());
            }
        });
    }

    /** Stops a random writer and returns its write count; a vCPU that crashed is an ERROR. */
    public long stop(int vcpu, RandomWriter writer) {
        long t0 = t0();
        IoctlResult<Long> r = writer.stop();
        traced("vcpu" + vcpu, "writer_stop", t0, n -> TraceLog.result(n.put("vcpu", vcpu), r));
        running.remove(writer);
        record("vcpu" + vcpu, "stop random writes", r.isOk() ? r.value() + " writes" : CallText.show(r));
        if (!r.isOk()) {
            throw new BackendError("vcpu" + vcpu + " stopped abnormally: " + r.errnoOrNull());
        }
        return r.value();
    }

    // ---- dirty ring -------------------------------------------------------------------------

    /** {@code KVM_ENABLE_CAP(capability, args[0] = bytes)} of a dirty ring, recorded. */
    public IoctlResult<Integer> enableDirtyLogRing(int capability, long bytes) {
        long t0 = t0();
        IoctlResult<Integer> r = vm.enableDirtyLogRing(capability, 0, bytes);
        traced("vm", "KVM_ENABLE_CAP", t0, n -> TraceLog.result(n.put("cap", CallText.ringCap(capability)).put("args0", bytes), r));
        record("vm", "KVM_ENABLE_CAP(" + CallText.ringCap(capability) + ", args[0]=" + bytes + ")", CallText.show(r));
        return r;
    }

    /** {@code KVM_RESET_DIRTY_RINGS}, recorded. */
    public IoctlResult<Integer> resetDirtyRings() {
        long t0 = t0();
        IoctlResult<Integer> r = vm.resetDirtyRings();
        traced("vm", "KVM_RESET_DIRTY_RINGS", t0, n -> TraceLog.result(n, r));
        record("vm", "KVM_RESET_DIRTY_RINGS", CallText.show(r));
        return r;
    }

    /**
     * {@code KVM_RESET_DIRTY_RINGS} WITHOUT recording it: for a harvest that must read guest
     * memory right after the reset returned and records one step for the whole harvest.
     */
    public IoctlResult<Integer> resetDirtyRingsUnrecorded() {
        long t0 = t0();
        IoctlResult<Integer> r = vm.resetDirtyRings();
        traced("vm", "KVM_RESET_DIRTY_RINGS", t0, n -> TraceLog.result(n, r));
        return r;
    }

    /**
     * Traces what the ring collector took from vCPU {@code vcpu}'s ring, begun at {@code t0} at
     * fetch index {@code from}: the entries' count and, per raw {@code slot} field
     * ({@code as_id << 16 | id}), the offsets, each once. A ring harvest's result lives in ring memory, not in
     * any call's return, so without this event trace validation could not see what it reported.
     */
    void traceRingCollect(int vcpu, long t0, long from, List<DirtyGfn> taken) {
        traced("suite", "collect_ring", t0, n -> {
            n.put("vcpu", vcpu).put("from", from).put("count", taken.size());
            Map<Integer, TreeSet<Long>> bySlot = new TreeMap<>();
            for (DirtyGfn e : taken) {
                bySlot.computeIfAbsent(e.slot(), k -> new TreeSet<>()).add(e.offset());
            }
            ArrayNode slots = n.putArray("slots");
            bySlot.forEach((slot, offsets) -> TraceLog.numbers(slots.addObject().put("slot", slot), "pages", offsets));
            n.put("ret", 0);
        });
    }

    /** Maps vCPU {@code vcpu}'s dirty ring ({@code mmap} of its fd at KVM_DIRTY_LOG_PAGE_OFFSET), recorded. */
    public IoctlResult<UserMemory> mmapDirtyRing(int vcpu, long length, int prot, int flags) {
        BackendVcpu v = vcpu(vcpu);
        long t0 = t0();
        IoctlResult<UserMemory> r = v.mmapDirtyRing(length, prot, flags);
        traced("vcpu" + vcpu, "mmap_dirty_ring", t0, n -> {
            n.put("vcpu", vcpu).put("length", length).put("prot", prot).put("flags", flags);
            n.put("ret", r.isOk() ? 0 : r.kernelReturn());
            if (r.isOk()) {
                n.put("addr", r.value().address());
            } else {
                n.put("errno", r.errnoOrNull().name());
            }
        });
        record("vcpu" + vcpu, "mmap(" + length + " bytes, " + CallText.prot(prot) + ", " + CallText.mapFlags(flags)
                + ", vcpu fd, KVM_DIRTY_LOG_PAGE_OFFSET)", r.isOk() ? CallText.hex(r.value().address()) : CallText.show(r));
        return r;
    }

    /** Runs {@code writes} on vCPU {@code vcpu} until they are done or the vCPU exits; recorded. */
    public IoctlResult<VcpuRun> runWritesUntilExit(int vcpu, List<GuestWrite> writes, String what) {
        BackendVcpu v = vcpu(vcpu);
        long t0 = t0();
        IoctlResult<VcpuRun> r = v.runWritesUntilExit(writes);
        traced("vcpu" + vcpu, "KVM_RUN", t0, n -> {
            TraceLog.numbers(n.put("vcpu", vcpu), "gpas", writes.stream().map(GuestWrite::gpa).toList());
            n.put("ret", r.isOk() ? 0 : r.kernelReturn());
            if (r.isOk()) {
                n.put("done", r.value().writes()).put("exit", r.value().exit().name());
            } else {
                n.put("errno", r.errnoOrNull().name());
            }
        });
        record("vcpu" + vcpu, "run " + writes.size() + " write(s) until an exit: " + what,
                r.isOk() ? r.value().writes() + " done, " + r.value().exit() : CallText.show(r));
        return r;
    }

    /** Kicks vCPU {@code vcpu} out of guest mode and waits until it left; a failing kick is an ERROR. */
    public void kick(int vcpu) {
        BackendVcpu v = vcpu(vcpu);
        long t0 = t0();
        IoctlResult<Integer> r = v.kick();
        traced("vcpu" + vcpu, "kick", t0, n -> TraceLog.result(n.put("vcpu", vcpu), r));
        if (!r.isOk()) {
            record("vcpu" + vcpu, "kick", CallText.show(r));
            throw new BackendError("kicking vcpu" + vcpu + " failed: " + r.errnoOrNull());
        }
    }

    /** Returns the ids of the vCPUs created so far, in creation order. */
    public synchronized List<Integer> vcpuIds() {
        return List.copyOf(vcpus.keySet());
    }

    /** Starts sequential writes on vCPU {@code vcpu}; a vCPU that cannot start is an ERROR. */
    public RandomWriter startSequentialWrites(int vcpu, RandomWrites writes) {
        BackendVcpu v = vcpu(vcpu);
        long t0 = t0();
        IoctlResult<RandomWriter> r = v.startSequentialWrites(writes);
        traceWriterStart(vcpu, "sequential", writes, t0, r);
        record("vcpu" + vcpu, "start sequential writes of iteration " + writes.iteration() + " over "
                + writes.pages() + " pages", r.isOk() ? "running" : CallText.show(r));
        if (!r.isOk()) {
            throw new BackendError("vcpu" + vcpu + " could not start sequential writes: " + r.errnoOrNull());
        }
        running.add(r.value());
        return r.value();
    }

    /** Returns how many times {@link #resumeWritersOnFullRings()} resumed a writer that waited on a full ring. */
    public synchronized long resumedAfterRingFull() {
        return resumedAfterRingFull;
    }

    /**
     * Resumes every running writer that waits on a full ring (after the caller reset the rings)
     * and returns how many it resumed. A resume the backend refuses is an ERROR.
     */
    public int resumeWritersOnFullRings() {
        List<RandomWriter> writers;
        synchronized (running) {
            writers = new ArrayList<>(running);
        }
        int resumed = 0;
        for (RandomWriter w : writers) {
            if (w.ringFull()) {
                IoctlResult<Integer> r = w.resume();
                if (!r.isOk()) {
                    throw new BackendError("resuming a writer after KVM_RESET_DIRTY_RINGS failed: " + r.errnoOrNull());
                }
                resumed++;
            }
        }
        synchronized (this) {
            resumedAfterRingFull += resumed;
        }
        return resumed;
    }

    /** Releases writers, vCPUs and the VM and turns the perturbation off; safe to call twice. */
    @Override
    public void close() {
        if (parent == null) {
            perturbation.off();
        }
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
