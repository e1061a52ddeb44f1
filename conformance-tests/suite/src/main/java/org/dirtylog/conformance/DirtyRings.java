package org.dirtylog.conformance;

import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;

/**
 * How the suite turns a dirty ring on, as the kernel selftest's library does
 * ({@code vm_enable_dirty_ring}): with {@code KVM_CAP_DIRTY_LOG_RING_ACQ_REL} when the backend
 * offers it, else {@code KVM_CAP_DIRTY_LOG_RING}, at a size between the smallest the backend
 * accepts and the largest it reports.
 *
 * @param capability the capability used to enable the ring
 * @param bytes the ring size in bytes
 */
record DirtyRings(int capability, long bytes) {

    /** The smallest ring size any kernel accepts: one page (and at least 64 reserved entries). */
    static final long PAGE = KvmApi.PAGE_SIZE;

    /** Returns the number of {@code struct kvm_dirty_gfn} entries of the ring. */
    long entries() {
        return bytes / org.dirtylog.spi.DirtyGfn.SIZE;
    }

    /**
     * Returns the ring capability to enable and the largest ring it reports: ACQ_REL when
     * {@code KVM_CHECK_EXTENSION} reports it non-zero, else the plain one. A backend that
     * declares the ring but reports neither fails the rule.
     */
    static DirtyRings offered(Scenario s) {
        long acqRel = largest(s, KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL);
        if (acqRel > 0) {
            return new DirtyRings(KvmApi.KVM_CAP_DIRTY_LOG_RING_ACQ_REL, acqRel);
        }
        long tso = largest(s, KvmApi.KVM_CAP_DIRTY_LOG_RING);
        Expect.that(tso > 0, "KVM_CHECK_EXTENSION of KVM_CAP_DIRTY_LOG_RING_ACQ_REL and KVM_CAP_DIRTY_LOG_RING of a "
                + "backend that declares the dirty ring", "a ring size from at least one", "0 from both");
        return new DirtyRings(KvmApi.KVM_CAP_DIRTY_LOG_RING, tso);
    }

    /** Returns {@code KVM_CHECK_EXTENSION(capability)}, 0 for an error. */
    static long largest(Scenario s, int capability) {
        IoctlResult<Integer> r = s.checkExtension(capability, CallText.ringCap(capability));
        return r.isOk() ? Integer.toUnsignedLong(r.value()) : 0;
    }

    /**
     * Enables a ring of {@code preferred} bytes (clamped to the largest offered; a smaller
     * power of two when the backend refuses it as too small is raised) and returns it; a backend
     * that accepts no power of two between one page and its largest fails the rule.
     */
    static DirtyRings enable(Scenario s, long preferred) {
        DirtyRings offered = offered(s);
        long bytes = Math.min(preferred, offered.bytes);
        while (true) {
            IoctlResult<Integer> r = s.enableDirtyLogRing(offered.capability, bytes);
            if (r.isOk()) {
                return new DirtyRings(offered.capability, bytes);
            }
            Expect.that(Errno.EINVAL.equals(r.errnoOrNull()) && bytes < offered.bytes,
                    "enabling a ring of " + bytes + " bytes (" + offered.bytes + " offered)",
                    "0, or -EINVAL for a ring below the smallest size", CallText.show(r));
            bytes *= 2;
        }
    }

    /** Enables the smallest ring the backend accepts (one page upwards) and returns it. */
    static DirtyRings enableSmallest(Scenario s) {
        return enable(s, PAGE);
    }
}
