package org.dirtylog.defects;

import org.dirtylog.kvm.GracePeriodPolicy;
import org.dirtylog.kvm.Srcu;

/**
 * The RFC's in-place swap, and any exchange, without a grace period. Built as a grace-period
 * policy that returns at once after a bitmap exchange: a vCPU that loaded the old active bitmap
 * marks it after user space read it, and on x86 the old memslots array is freed while vCPUs
 * still use it.
 */
final class NoGracePeriod implements GracePeriodPolicy {

    @Override
    public void bitmapsExchanged(Srcu srcu) {
    }
}
