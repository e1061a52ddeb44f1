package org.dirtylog.spi;

import java.util.Map;

/**
 * A Linux errno as a value. Unknown numbers (a real kernel may return any) survive as
 * themselves; {@link #name()} then answers {@code "E<number>"}.
 *
 * @param value the positive errno number, as in {@code <asm-generic/errno-base.h>}
 */
@Api(Api.Status.STABLE)
public record Errno(int value) {

    public static final Errno EPERM = new Errno(1);
    public static final Errno ENOENT = new Errno(2);
    public static final Errno EINTR = new Errno(4);
    public static final Errno EIO = new Errno(5);
    public static final Errno E2BIG = new Errno(7);
    public static final Errno EBADF = new Errno(9);
    public static final Errno EAGAIN = new Errno(11);
    public static final Errno ENOMEM = new Errno(12);
    public static final Errno EACCES = new Errno(13);
    public static final Errno EFAULT = new Errno(14);
    public static final Errno EBUSY = new Errno(16);
    public static final Errno EEXIST = new Errno(17);
    public static final Errno ENODEV = new Errno(19);
    public static final Errno EINVAL = new Errno(22);
    public static final Errno ENOTTY = new Errno(25);
    public static final Errno ENOSPC = new Errno(28);
    public static final Errno ENOSYS = new Errno(38);
    public static final Errno ETIMEDOUT = new Errno(110);

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(1, "EPERM"), Map.entry(2, "ENOENT"), Map.entry(4, "EINTR"),
            Map.entry(5, "EIO"), Map.entry(7, "E2BIG"), Map.entry(9, "EBADF"),
            Map.entry(11, "EAGAIN"), Map.entry(12, "ENOMEM"), Map.entry(13, "EACCES"),
            Map.entry(14, "EFAULT"), Map.entry(16, "EBUSY"), Map.entry(17, "EEXIST"),
            Map.entry(19, "ENODEV"), Map.entry(22, "EINVAL"), Map.entry(25, "ENOTTY"),
            Map.entry(28, "ENOSPC"), Map.entry(38, "ENOSYS"), Map.entry(110, "ETIMEDOUT"));

    public Errno {
        if (value <= 0) {
            throw new IllegalArgumentException("errno must be positive: " + value);
        }
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
