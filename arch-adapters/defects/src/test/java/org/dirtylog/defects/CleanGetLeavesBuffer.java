package org.dirtylog.defects;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;

/**
 * {@code KVM_GET_DIRTY_LOG} on a clean slot returns 0 and leaves the caller's buffer as it was:
 * user space sees stale bits. The one defect at the ioctl boundary, where the bug lives (a
 * missing {@code clear_user} on the clean path): built around the correct VM, whose GET on a
 * clean slot writes all zeros, by putting back what the buffer held before.
 */
final class CleanGetLeavesBuffer implements DirtyLogBackend {

    private final ReferenceBackend correct;
    private final String name;

    CleanGetLeavesBuffer(ReferenceBackend correct, String name) {
        this.correct = correct;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return correct.description() + "; a GET on a clean slot leaves the buffer untouched (self-test fixture)";
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
        return correct.createVm().map(CleanGetLeavesBuffer::wrap);
    }

    private static BackendVm wrap(BackendVm vm) {
        Map<Integer, Long> npages = new ConcurrentHashMap<>();
        return (BackendVm) Proxy.newProxyInstance(BackendVm.class.getClassLoader(), new Class<?>[] {BackendVm.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getDirtyLog" -> getDirtyLog(vm, npages.get((Integer) args[0]), (Integer) args[0], (Long) args[1]);
                    case "setUserMemoryRegion" -> {
                        MemoryRegion r = (MemoryRegion) args[0];
                        IoctlResult<Integer> result = vm.setUserMemoryRegion(r);
                        if (result.isOk() && r.memorySize() == 0) {
                            npages.remove(r.slot());
                        } else if (result.isOk()) {
                            npages.put(r.slot(), r.npages());
                        }
                        yield result;
                    }
                    default -> forward(method, vm, args);
                });
    }

    private static IoctlResult<Integer> getDirtyLog(BackendVm vm, Long npages, int slot, long buffer) {
        IoctlResult<MemorySegment> user = npages == null ? null : vm.accessUser(buffer, KvmApi.dirtyBitmapBytes(npages));
        if (user == null || !user.isOk()) {
            return vm.getDirtyLog(slot, buffer);
        }
        // Native memory: the caller's buffer, before and after the correct GET.
        byte[] before = user.value().toArray(ValueLayout.JAVA_BYTE);
        IoctlResult<Integer> result = vm.getDirtyLog(slot, buffer);
        if (result.isOk() && user.value().elements(ValueLayout.JAVA_BYTE).allMatch(b -> b.get(ValueLayout.JAVA_BYTE, 0) == 0)) {
            MemorySegment.copy(before, 0, user.value(), ValueLayout.JAVA_BYTE, 0, before.length);
        }
        return result;
    }

    private static Object forward(Method method, BackendVm vm, Object[] args) throws Throwable {
        try {
            return method.invoke(vm, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
