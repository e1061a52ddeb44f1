package org.dirtylog.kvm;

/**
 * What a VM's core is built from besides its architecture's hooks: how it allocates dirty logs
 * and how it waits for grace periods. The reference backends use {@link #KERNEL}; test
 * fixtures compose the correct core with one broken seam to rebuild a historical bug.
 *
 * @param bitmaps allocates every dirty log of the VM
 * @param gracePeriods waits for vCPUs after memslots or bitmaps were replaced
 * @param rings allocates the vCPUs' dirty rings
 */
public record CoreSeams(BitmapAllocator bitmaps, GracePeriodPolicy gracePeriods, RingAllocator rings) {

    /** The kernel's behaviour: atomic native bitmaps, a full grace period every time, the kernel's rings. */
    public static final CoreSeams KERNEL = new CoreSeams(BitmapAllocator.KERNEL, GracePeriodPolicy.KERNEL);

    public CoreSeams {
        if (bitmaps == null || gracePeriods == null || rings == null) {
            throw new IllegalArgumentException("every seam is required");
        }
    }

    /** Returns the seams {@code bitmaps} and {@code gracePeriods} with the kernel's dirty rings. */
    public CoreSeams(BitmapAllocator bitmaps, GracePeriodPolicy gracePeriods) {
        this(bitmaps, gracePeriods, RingAllocator.KERNEL);
    }

    /** Returns these seams with {@code allocator} in place of the bitmap allocator. */
    public CoreSeams withBitmaps(BitmapAllocator allocator) {
        return new CoreSeams(allocator, gracePeriods, rings);
    }

    /** Returns these seams with {@code policy} in place of the grace-period policy. */
    public CoreSeams withGracePeriods(GracePeriodPolicy policy) {
        return new CoreSeams(bitmaps, policy, rings);
    }

    /** Returns these seams with {@code allocator} in place of the ring allocator. */
    public CoreSeams withRings(RingAllocator allocator) {
        return new CoreSeams(bitmaps, gracePeriods, allocator);
    }
}
