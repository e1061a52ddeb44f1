package org.dirtylog.spi;

/**
 * A dirty-logging implementation the kit can certify: the one class a third party writes
 * (plus its VM and vCPU types). Backends are found with {@link java.util.ServiceLoader}: list
 * the implementing class in {@code META-INF/services/org.dirtylog.spi.DirtyLogBackend} and give
 * it a public no-argument constructor. Construction must be cheap and must not touch hardware;
 * do that in {@link #availability()} or {@link #createVm()}.
 */
@Api(Api.Status.STABLE)
public interface DirtyLogBackend {

    /** Returns the stable name users pass to {@code --backend}, e.g. {@code reference-x86}. */
    String name();

    /** Returns one line saying what the backend is. */
    String description();

    /** Returns whether the backend can run here and, if not, why and how to fix it. */
    Availability availability();

    /** Returns what the backend supports; rules needing more are NOT_APPLICABLE. */
    Capabilities capabilities();

    /**
     * {@code KVM_CREATE_VM}: creates a fresh VM with no memslots and no vCPUs.
     * Errors: whatever stops the backend from creating one (e.g. {@code -EACCES}, {@code -ENODEV}).
     */
    IoctlResult<BackendVm> createVm();
}
