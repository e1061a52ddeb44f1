package org.dirtylog.spi;

import java.util.EnumSet;
import java.util.Set;

/**
 * What a backend supports.
 *
 * @param features the capabilities it has
 * @param userDirtyLogGeneration the {@code KVM_CAP_USER_DIRTY_LOG} generation it implements,
 *                               0 when it has no RFC ioctls (mainline kernels)
 * @param maxVcpus how many vCPUs a VM of this backend can run at once
 */
@Api(Api.Status.STABLE)
public record Capabilities(Set<Capability> features, int userDirtyLogGeneration, int maxVcpus) {

    public Capabilities {
        features = features.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(features));
        if (features.contains(Capability.USER_DIRTY_LOG) != (userDirtyLogGeneration > 0)) {
            throw new IllegalArgumentException(
                    "USER_DIRTY_LOG must be listed exactly when the generation is >= 1");
        }
        if (maxVcpus < 1) {
            throw new IllegalArgumentException("maxVcpus must be >= 1: " + maxVcpus);
        }
    }

    /** Returns true when the backend has {@code capability}. */
    public boolean has(Capability capability) {
        return features.contains(capability);
    }
}
