package org.dirtylog.spi;

import java.util.function.Function;

/**
 * The outcome of an ioctl-shaped call: a value or an {@link Errno}, never an exception for a
 * user error. Mirrors the kernel convention of "non-negative value or negative errno" while
 * keeping the error typed.
 *
 * @param <T> the type of the success value
 */
@Api(Api.Status.STABLE)
public sealed interface IoctlResult<T> permits IoctlResult.Ok, IoctlResult.Err {

    /** A successful call and the value it produced. */
    record Ok<T>(T value) implements IoctlResult<T> {
    }

    /** A failed call and the errno it failed with. */
    record Err<T>(Errno errno) implements IoctlResult<T> {
        public Err {
            if (errno == null) {
                throw new IllegalArgumentException("errno is required");
            }
        }
    }

    static <T> IoctlResult<T> ok(T value) {
        return new Ok<>(value);
    }

    static <T> IoctlResult<T> err(Errno errno) {
        return new Err<>(errno);
    }

    /**
     * Returns the result of a call that returns an int in kernel style: {@code r >= 0} is the
     * value, {@code r < 0} is {@code -errno}.
     */
    static IoctlResult<Integer> ofKernelReturn(long r) {
        return r >= 0 ? ok(Math.toIntExact(r)) : err(Errno.fromKernelReturn(r));
    }

    /** Returns true for {@link Ok}. */
    default boolean isOk() {
        return this instanceof Ok;
    }

    /** Returns the value of an {@link Ok}; throws {@link IllegalStateException} on an {@link Err}. */
    default T value() {
        return switch (this) {
            case Ok<T> ok -> ok.value();
            case Err<T> err -> throw new IllegalStateException("ioctl failed with " + err.errno());
        };
    }

    /** Returns the errno of an {@link Err}, or null for an {@link Ok}. */
    default Errno errnoOrNull() {
        return this instanceof Err<T> err ? err.errno() : null;
    }

    /** Returns the kernel-style int: the value for an Ok of a Number, {@code -errno} for an Err. */
    default long kernelReturn() {
        return switch (this) {
            case Ok<T> ok -> ok.value() instanceof Number n ? n.longValue() : 0L;
            case Err<T> err -> err.errno().kernelReturn();
        };
    }

    /** Returns this result with its success value mapped; errors pass through unchanged. */
    default <U> IoctlResult<U> map(Function<? super T, ? extends U> f) {
        return switch (this) {
            case Ok<T> ok -> ok(f.apply(ok.value()));
            case Err<T> err -> err(err.errno());
        };
    }
}
