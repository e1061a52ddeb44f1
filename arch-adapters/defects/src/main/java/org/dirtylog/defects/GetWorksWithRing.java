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
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;

/**
 * {@code KVM_GET_DIRTY_LOG} does not check for the dirty ring first: with the ring on it goes on
 * to the slot and buffer checks and copies the slot's bitmap, which nothing marks any more (the
 * marks go to the rings), so it returns 0 and reports a clean slot where the kernel answers
 * -ENXIO. Built at the ioctl boundary around the correct VM, like {@link CleanGetLeavesBuffer}:
 * where the correct VM answers -ENXIO, the fixture answers as a bitmap harvest of a clean slot
 * would.
 */
final class GetWorksWithRing implements DirtyLogBackend {

    private final ReferenceBackend correct;
    private final String name;

    GetWorksWithRing(ReferenceBackend correct, String name) {
        this.correct = correct;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return correct.description() + "; KVM_GET_DIRTY_LOG answers with the ring on (self-test fixture)";
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
        return correct.createVm().map(GetWorksWithRing::wrap);
    }

    private static BackendVm wrap(BackendVm vm) {
        Map<Integer, MemoryRegion> slots = new ConcurrentHashMap<>();
        return (BackendVm) Proxy.newProxyInstance(BackendVm.class.getClassLoader(), new Class<?>[] {BackendVm.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getDirtyLog" -> getDirtyLog(vm, slots, (Integer) args[0], (Long) args[1]);
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

    private static Object forward(Method method, BackendVm vm, Object[] args) throws Throwable {
        try {
            return method.invoke(vm, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
