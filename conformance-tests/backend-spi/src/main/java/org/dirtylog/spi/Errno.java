package org.dirtylog.spi;

import java.util.HashMap;
import java.util.Map;

/**
 * A Linux errno as a value. Unknown numbers (a real kernel may return any) survive as
 * themselves; {@link #name()} then answers {@code "E<number>"}.
 *
 * @param value the positive errno number, as in {@code <asm-generic/errno-base.h>}
 */
@Api(Api.Status.STABLE)
public record Errno(int value) {

    /** Names of the errnos below, filled in as each constant is created (class init only). */
    private static final Map<Integer, String> NAMES = new HashMap<>();

    public static final Errno EPERM = named(1, "EPERM");
    public static final Errno ENOENT = named(2, "ENOENT");
    public static final Errno EINTR = named(4, "EINTR");
    public static final Errno EIO = named(5, "EIO");
    public static final Errno ENXIO = named(6, "ENXIO");
    public static final Errno E2BIG = named(7, "E2BIG");
    public static final Errno EBADF = named(9, "EBADF");
    public static final Errno EAGAIN = named(11, "EAGAIN");
    public static final Errno ENOMEM = named(12, "ENOMEM");
    public static final Errno EACCES = named(13, "EACCES");
    public static final Errno EFAULT = named(14, "EFAULT");
    public static final Errno EBUSY = named(16, "EBUSY");
    public static final Errno EEXIST = named(17, "EEXIST");
    public static final Errno ENODEV = named(19, "ENODEV");
    public static final Errno EINVAL = named(22, "EINVAL");
    public static final Errno ENOTTY = named(25, "ENOTTY");
    public static final Errno ENOSPC = named(28, "ENOSPC");
    public static final Errno ENOSYS = named(38, "ENOSYS");
    public static final Errno ETIMEDOUT = named(110, "ETIMEDOUT");

    public Errno {
        if (value <= 0) {
            throw new IllegalArgumentException("errno must be positive: " + value);
        }
    }

    private static Errno named(int value, String name) {
        NAMES.put(value, name);
        return new Errno(value);
    }

    /** Returns the errno for a negative kernel return value such as {@code -22}. */
    public static Errno fromKernelReturn(long negative) {
        return new Errno(Math.toIntExact(-negative));
    }

    /** Returns the symbolic name, {@code "EINVAL"}, or {@code "E<n>"} for an unknown number. */
    public String name() {
        return NAMES.getOrDefault(value, "E" + value);
    }

    /** Returns the value an ioctl handler returns for this error: {@code -value}. */
    public int kernelReturn() {
        return -value;
    }

    @Override
    public String toString() {
        return "-" + name();
    }
}
