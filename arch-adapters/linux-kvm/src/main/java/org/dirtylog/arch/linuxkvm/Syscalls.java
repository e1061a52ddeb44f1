package org.dirtylog.arch.linuxkvm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The raw system calls of the backend, bound to the C library with {@link Linker}: every call
 * returns the kernel convention, a non-negative result or {@code -errno} (errno captured by the
 * linker right after the call, so no other call can overwrite it). No JNI, no native build.
 */
final class Syscalls {

    static final int O_RDWR = 0x2;
    static final int O_CLOEXEC = 0x80000;

    static final int PROT_NONE = 0x0;
    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int MAP_SHARED = 0x01;
    static final int MAP_PRIVATE = 0x02;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;

    /**
     * The signal that kicks a vCPU thread out of {@code KVM_RUN}: HotSpot installs a handler for
     * it that does nothing, so delivery interrupts the ioctl with {@code -EINTR} and is otherwise
     * harmless (a default disposition would kill the process, an ignored signal would not
     * interrupt anything).
     */
    static final int SIGPIPE = 13;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    /** The layout of the linker's call-state capture block that holds errno. */
    static final StructLayout CAPTURE_LAYOUT = CAPTURE;
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT),
            ERRNO_OPTION, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = downcall("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), ERRNO_OPTION);
    private static final MethodHandle IOCTL = downcall("ioctl",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG),
            ERRNO_OPTION, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = downcall("mmap",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
            ERRNO_OPTION);
    private static final MethodHandle MUNMAP = downcall("munmap",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
            ERRNO_OPTION);
    private static final MethodHandle PTHREAD_SELF = downcall("pthread_self",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG));
    private static final MethodHandle PTHREAD_KILL = downcall("pthread_kill",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));

    private Syscalls() {
    }

    @SuppressWarnings("restricted") // binding libc is this class's job; callers get kernel-convention results
    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("C library has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /** Returns the new file descriptor of {@code open(path, flags)}, or {@code -errno}. */
    static long open(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cPath = arena.allocateFrom(path);
            MemorySegment capture = arena.allocate(CAPTURE);
            // Native memory: cPath and capture live until the arena closes after the call.
            int r = (int) OPEN.invokeExact(capture, cPath, flags, 0);
            return r >= 0 ? r : -errno(capture);
        } catch (Throwable t) {
            throw linkageFailure("open", t);
        }
    }

    /** Returns 0 after {@code close(fd)}, or {@code -errno}. */
    static long close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            // Native memory: closing an fd has no pointer argument; capture is arena-owned.
            int r = (int) CLOSE.invokeExact(capture, fd);
            return r >= 0 ? r : -errno(capture);
        } catch (Throwable t) {
            throw linkageFailure("close", t);
        }
    }

    /**
     * Returns the result of {@code ioctl(fd, request, arg)} or {@code -errno}; {@code arg} is an
     * integer argument or the address of the argument struct, exactly as the C caller passes it.
     */
    static long ioctl(int fd, long request, long arg) {
        try (Arena arena = Arena.ofConfined()) {
            return ioctl(fd, request, arg, arena.allocate(CAPTURE));
        }
    }

    /** As {@link #ioctl(int, long, long)}, with a caller-owned errno capture segment. */
    static long ioctl(int fd, long request, long arg, MemorySegment capture) {
        try {
            // Native memory: arg points into a segment the caller keeps alive for the call.
            int r = (int) IOCTL.invokeExact(capture, fd, request, arg);
            return r >= 0 ? r : -errno(capture);
        } catch (Throwable t) {
            throw linkageFailure("ioctl", t);
        }
    }

    /** Returns the address of {@code mmap(NULL, length, prot, flags, fd, 0)}, or {@code -errno}. */
    static long mmap(long length, int prot, int flags, int fd) {
        return mmap(length, prot, flags, fd, 0);
    }

    /** Returns the address of {@code mmap(NULL, length, prot, flags, fd, offset)}, or {@code -errno}. */
    static long mmap(long length, int prot, int flags, int fd, long offset) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            // Native memory: the kernel picks the address; MAP_FAILED is (void *) -1.
            long r = (long) MMAP.invokeExact(capture, 0L, length, prot, flags, fd, offset);
            return r != -1L ? r : -errno(capture);
        } catch (Throwable t) {
            throw linkageFailure("mmap", t);
        }
    }

    /** Returns 0 after {@code munmap(address, length)}, or {@code -errno}. */
    static long munmap(long address, long length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            // Native memory: no segment may view [address, address + length) after this call.
            int r = (int) MUNMAP.invokeExact(capture, address, length);
            return r >= 0 ? r : -errno(capture);
        } catch (Throwable t) {
            throw linkageFailure("munmap", t);
        }
    }

    /** Returns the calling thread's {@code pthread_t}. */
    static long pthreadSelf() {
        try {
            return (long) PTHREAD_SELF.invokeExact();
        } catch (Throwable t) {
            throw linkageFailure("pthread_self", t);
        }
    }

    /**
     * Returns 0 after {@code pthread_kill(thread, signal)}, or {@code -errno}. The caller must
     * guarantee that {@code thread} has not exited.
     */
    static long pthreadKill(long thread, int signal) {
        try {
            int r = (int) PTHREAD_KILL.invokeExact(thread, signal);
            return -r;
        } catch (Throwable t) {
            throw linkageFailure("pthread_kill", t);
        }
    }

    /** Returns a capture segment for {@link #ioctl(int, long, long, MemorySegment)}. */
    static MemorySegment allocateCapture(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    private static int errno(MemorySegment capture) {
        // Native memory: capture was filled by the linker right after the call returned.
        return (int) ERRNO.get(capture, 0L);
    }

    private static LinkageError linkageFailure(String call, Throwable cause) {
        if (cause instanceof Error e && !(cause instanceof LinkageError)) {
            throw e;
        }
        LinkageError error = new LinkageError("downcall " + call + " failed");
        error.initCause(cause);
        return error;
    }
}
