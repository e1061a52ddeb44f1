package org.dirtylog.arch.linuxkvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.time.Duration;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;
import org.junit.jupiter.api.Test;

/**
 * A guest that never looks at its stop flag: built here from the fd layer with the random loop's
 * {@code jne stopped} patched out, so {@code stop()} must time out, kick the vCPU out of
 * KVM_RUN and return {@code -ETIMEDOUT} instead of waiting forever.
 */
class StopTimeoutTests {

    private static final long JNE_STOPPED = 0x50;

    @Test
    void stopOfAGuestThatIgnoresTheFlagTimesOutAndKicksTheVcpu() {
        KvmDevice.assumeAvailable();
        try (Kvm kvm = Kvm.open(Kvm.DEVICE).value(); VmFd vm = kvm.createVm().value()) {
            UserMapping code = UserMapping.map(GuestProgram.PRIVATE_SIZE).value();
            UserMapping data = UserMapping.map(KvmApi.PAGE_SIZE).value();
            try {
                GuestProgram.install(code.segment());
                assertEquals(0x75, code.segment().get(ValueLayout.JAVA_BYTE, GuestProgram.CODE_GPA + JNE_STOPPED) & 0xff);
                code.segment().set(ValueLayout.JAVA_SHORT, GuestProgram.CODE_GPA + JNE_STOPPED, (short) 0x9090);
                vm.setUserMemoryRegion(1, 0, 0, GuestProgram.PRIVATE_SIZE, code.address()).value();
                vm.setUserMemoryRegion(0, 0, GuestProgram.KIT_BASE, KvmApi.PAGE_SIZE, data.address()).value();
                LinuxKvmVcpu vcpu = LinuxKvmVcpu.create(vm, 0, kvm.vcpuMmapSize().value(), code.segment(), 0, 300).value();
                try {
                    RandomWriter writer = vcpu.startRandomWrites(new RandomWrites(GuestProgram.KIT_BASE, 1, 4, 0)).value();
                    // Wide on purpose: without the kick stop() never returns; a slow machine must not fail here.
                    long millis = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                        long start = System.nanoTime();
                        assertEquals(Errno.ETIMEDOUT, writer.stop().errnoOrNull());
                        return (System.nanoTime() - start) / 1_000_000;
                    }, "stop() never kicked the vCPU out of KVM_RUN");
                    assertTrue(millis >= 300, "stop returned after " + millis + " ms, before its 300 ms timeout");
                    assertEquals(4L, data.segment().get(ValueLayout.JAVA_LONG, 0));
                    assertTrue(vcpu.startRandomWrites(new RandomWrites(GuestProgram.KIT_BASE, 1, 5, 0)).isOk(),
                            "the vCPU is free again after the kick");
                } finally {
                    vcpu.close();
                }
            } finally {
                code.unmap();
                data.unmap();
            }
        }
    }

    @Test
    void theFdLayerReportsKernelErrorsAsErrnoValues() {
        KvmDevice.assumeAvailable();
        try (Kvm kvm = Kvm.open(Kvm.DEVICE).value(); VmFd vm = kvm.createVm().value()) {
            assertEquals(IoctlResult.ok(KvmIoctls.KVM_API_VERSION), kvm.apiVersion());
            assertEquals(Errno.EINVAL, vm.setUserMemoryRegion(0, 0, 1, KvmApi.PAGE_SIZE, 0).errnoOrNull());
            assertEquals(Errno.ENOENT, vm.getDirtyLog(0, 0).errnoOrNull());
            VcpuFd vcpu = vm.createVcpu(0, kvm.vcpuMmapSize().value()).value();
            vcpu.close();
            assertEquals(Errno.EBADF, vcpu.run().errnoOrNull());
        }
    }
}
