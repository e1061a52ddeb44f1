package org.dirtylog.defects;

import java.lang.foreign.MemorySegment;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.dirtylog.kvm.ReferenceBackend;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.ClearDirtyLog;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;

/**
 * A bitmap ioctl that does not check for the dirty ring first. {@code KVM_GET_DIRTY_LOG} with the
 * ring on goes on to the slot and buffer checks and copies the slot's bitmap, which nothing marks
 * any more (the marks go to the rings), so it returns 0 and reports a clean slot where the kernel
 * answers -ENXIO; with {@link #clear}, {@code KVM_CLEAR_DIRTY_LOG} instead goes on and returns 0,
 * clearing bits nothing set. Built at the ioctl boundary around the correct VM, like
 * {@link CleanGetLeavesBuffer}: where the correct VM answers -ENXIO, the fixture answers as the
 * bitmap ioctl on a clean slot would.
 */
final class GetWorksWithRing implements DirtyLogBackend {

    private final ReferenceBackend correct;
    private final String name;
    /** False: KVM_GET_DIRTY_LOG lets the ring through; true: KVM_CLEAR_DIRTY_LOG does. */
    private final boolean clear;

    GetWorksWithRing(ReferenceBackend correct, String name, boolean clear) {
        this.correct = correct;
        this.name = name;
        this.clear = clear;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return correct.description() + (clear ? "; KVM_CLEAR_DIRTY_LOG" : "; KVM_GET_DIRTY_LOG")
                + " answers with the ring on (self-test fixture)";
    }

    @Override
    public Availability availability() {
        return correct.availability();
    }

    @Override
    public Capabilities capabilities() {
        return correct.capabilities();
    }

    @Override
    public IoctlResult<BackendVm> createVm() {
        return correct.createVm().map(this::wrap);
    }

    private BackendVm wrap(BackendVm vm) {
        Map<Integer, MemoryRegion> slots = new ConcurrentHashMap<>();
        return (BackendVm) Proxy.newProxyInstance(BackendVm.class.getClassLoader(), new Class<?>[] {BackendVm.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getDirtyLog" -> clear ? vm.getDirtyLog((Integer) args[0], (Long) args[1])
                            : getDirtyLog(vm, slots, (Integer) args[0], (Long) args[1]);
                    case "clearDirtyLog" -> clear ? clearDirtyLog(vm, (ClearDirtyLog) args[0])
                            : vm.clearDirtyLog((ClearDirtyLog) args[0]);
                    case "setUserMemoryRegion" -> {
                        MemoryRegion r = (MemoryRegion) args[0];
                        IoctlResult<Integer> result = vm.setUserMemoryRegion(r);
                        if (result.isOk() && r.memorySize() == 0) {
                            slots.remove(r.slot());
                        } else if (result.isOk()) {
                            slots.put(r.slot(), r);
                        }
                        yield result;
                    }
                    default -> forward(method, vm, args);
                });
    }

    private static IoctlResult<Integer> getDirtyLog(BackendVm vm, Map<Integer, MemoryRegion> slots, int slot, long buffer) {
        IoctlResult<Integer> result = vm.getDirtyLog(slot, buffer);
        if (!Errno.ENXIO.equals(result.errnoOrNull())) {
            return result;
        }
        MemoryRegion r = slots.get(slot);
        if (r == null || (r.flags() & KvmApi.KVM_MEM_LOG_DIRTY_PAGES) == 0) {
            return IoctlResult.err(Errno.ENOENT);
        }
        IoctlResult<MemorySegment> user = vm.accessUser(buffer, KvmApi.dirtyBitmapBytes(r.npages()));
        if (!user.isOk()) {
            return IoctlResult.err(Errno.EFAULT);
        }
        // Native memory: the clean slot's all-zero bitmap copied to the caller.
        user.value().fill((byte) 0);
        return IoctlResult.ok(0);
    }

    /** Where the correct VM answers -ENXIO, 0: a CLEAR of bits nothing set (slot and range checks skipped too). */
    private static IoctlResult<Integer> clearDirtyLog(BackendVm vm, ClearDirtyLog log) {
        IoctlResult<Integer> result = vm.clearDirtyLog(log);
        return Errno.ENXIO.equals(result.errnoOrNull()) ? IoctlResult.ok(0) : result;
    }

    private static Object forward(Method method, BackendVm vm, Object[] args) throws Throwable {
        try {
            return method.invoke(vm, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
