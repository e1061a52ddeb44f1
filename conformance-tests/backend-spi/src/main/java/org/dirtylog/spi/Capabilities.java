package org.dirtylog.spi;

import java.util.EnumSet;
import java.util.Set;

/**
 * What a backend supports.
 *
 * <p>The kit places its memslots inside {@code [guestPhysBase, guestPhysLimit)} and uses slot
 * ids from 0 upwards, and the highest id, {@code KVM_CAP_NR_MEMSLOTS - 1}. A backend that needs
 * memslots of its own (guest code, a page shared with the host) must put them outside that
 * range, give them the highest slot ids and leave them out of its {@code KVM_CAP_NR_MEMSLOTS}.
 *
 * @param features the capabilities it has
 * @param userDirtyLogGeneration the {@code KVM_CAP_USER_DIRTY_LOG} generation it implements,
 *                               0 when it has no RFC ioctls (mainline kernels)
 * @param maxVcpus how many vCPUs a VM of this backend can run at once
 * @param guestPhysBase lowest guest physical address the kit may use for its memslots
 * @param guestPhysLimit first guest physical address past what the kit may use (and what the
 *                       backend's vCPUs can write)
 */
@Api(Api.Status.STABLE)
public record Capabilities(Set<Capability> features, int userDirtyLogGeneration, int maxVcpus,
                           long guestPhysBase, long guestPhysLimit) {

    public Capabilities {
        features = features.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(features));
        if (features.contains(Capability.USER_DIRTY_LOG) != (userDirtyLogGeneration > 0)) {
            throw new IllegalArgumentException(
                    "USER_DIRTY_LOG must be listed exactly when the generation is >= 1");
        }
        if (features.contains(Capability.DIRTY_LOG_INITIALLY_SET) && !features.contains(Capability.MANUAL_DIRTY_LOG_PROTECT)) {
            throw new IllegalArgumentException("DIRTY_LOG_INITIALLY_SET needs MANUAL_DIRTY_LOG_PROTECT");
        }
        if (maxVcpus < 1) {
            throw new IllegalArgumentException("maxVcpus must be >= 1: " + maxVcpus);
        }
        if ((guestPhysBase & (KvmApi.PAGE_SIZE - 1)) != 0 || guestPhysLimit <= guestPhysBase) {
            throw new IllegalArgumentException("guest physical range must be page aligned and non-empty");
        }
    }

    /** Returns true when the backend has {@code capability}. */
    public boolean has(Capability capability) {
        return features.contains(capability);
    }
}
