package org.dirtylog.spi;

/**
 * Constants and arithmetic of the KVM dirty-log ABI that every backend shares: capability
 * numbers, memslot flags and the dirty bitmap geometry. Values are those of
 * {@code include/uapi/linux/kvm.h} and of the 2010 RFC.
 */
@Api(Api.Status.STABLE)
public final class KvmApi {

    /** Guest page size: 4 KiB on every architecture the kit models. */
    public static final long PAGE_SIZE = 4096;
    public static final int PAGE_SHIFT = 12;

    /** {@code KVM_MEM_LOG_DIRTY_PAGES}: the memslot flag that turns dirty logging on. */
    public static final int KVM_MEM_LOG_DIRTY_PAGES = 1;
    /** {@code KVM_MEM_READONLY}: a flag real kernels know; the reference rejects it as unknown. */
    public static final int KVM_MEM_READONLY = 1 << 1;

    /** {@code KVM_CAP_NR_MEMSLOTS}: how many memslots a VM may have. */
    public static final int KVM_CAP_NR_MEMSLOTS = 10;
    /** {@code KVM_CAP_USER_DIRTY_LOG} of the RFC: generation (>= 1) of the two RFC ioctls. */
    public static final int KVM_CAP_USER_DIRTY_LOG = 55;
    /**
     * {@code KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2}: {@code KVM_CHECK_EXTENSION} returns the mask of
     * manual-protect flags the VM accepts (0 without manual protect); {@code KVM_ENABLE_CAP} with
     * a subset of them in {@code args[0]} sets the mode.
     */
    public static final int KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 = 168;
    /** {@code KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE}: GET stops clearing; KVM_CLEAR_DIRTY_LOG clears. */
    public static final long KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE = 1;
    /** {@code KVM_DIRTY_LOG_INITIALLY_SET}: new bitmaps start all set; only together with ENABLE. */
    public static final long KVM_DIRTY_LOG_INITIALLY_SET = 1 << 1;

    /** Memslot ids: bits 16-31 of a slot id are the address-space id. */
    public static final int ADDRESS_SPACE_SHIFT = 16;

    /** Size in bytes of the {@code struct kvm_user_dirty_log} of the RFC. */
    public static final long USER_DIRTY_LOG_SIZE = 24;

    /**
     * {@code KVM_CAP_DIRTY_LOG_RING}: {@code KVM_CHECK_EXTENSION} returns the largest ring a vCPU
     * may have, in bytes (0: no ring with total-store-order semantics); {@code KVM_ENABLE_CAP}
     * with {@code args[0]} = the ring size in bytes turns the ring on.
     */
    public static final int KVM_CAP_DIRTY_LOG_RING = 192;
    /**
     * {@code KVM_CAP_DIRTY_LOG_RING_ACQ_REL}: the same ring, for user space that accesses
     * {@code flags} with load-acquire / store-release (the only ring weakly ordered
     * architectures offer).
     */
    public static final int KVM_CAP_DIRTY_LOG_RING_ACQ_REL = 223;
    /**
     * {@code KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP}: a backup bitmap for writes made without a
     * running vCPU (arm64); the kit does not use it.
     */
    public static final int KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP = 225;
    /** {@code KVM_DIRTY_LOG_PAGE_OFFSET} on x86 and arm64: the page offset of a vCPU's ring in its fd. */
    public static final long KVM_DIRTY_LOG_PAGE_OFFSET = 64;
    /**
     * {@code KVM_DIRTY_RING_MAX_ENTRIES} ({@code include/linux/kvm_host.h}): the most entries a
     * ring may have in every kernel so far, so {@code KVM_CHECK_EXTENSION} answers at most
     * 65536 x 16 bytes.
     */
    public static final long KVM_DIRTY_RING_MAX_ENTRIES = 65536;
    /**
     * {@code KVM_DIRTY_RING_RSVD_ENTRIES}: entries kept free above the soft limit, plus the CPU's
     * log-buffer size ({@code kvm_cpu_dirty_log_size}: 512 with VMX PML, else 0).
     */
    public static final long KVM_DIRTY_RING_RSVD_ENTRIES = 64;
    /** {@code KVM_EXIT_DIRTY_RING_FULL}: the {@code kvm_run.exit_reason} of a soft-full ring. */
    public static final int KVM_EXIT_DIRTY_RING_FULL = 31;

    /** {@code PROT_READ}, {@code PROT_WRITE}, {@code PROT_EXEC} of {@code mmap(2)}. */
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    public static final int PROT_EXEC = 0x4;
    /** {@code MAP_SHARED}, {@code MAP_PRIVATE} of {@code mmap(2)}. */
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;

    private KvmApi() {
    }

    /**
     * Returns the size in bytes of a dirty bitmap for {@code npages} pages:
     * {@code ALIGN(npages, 64) / 8}, computed in 64-bit arithmetic (the 87bf6e7d lesson).
     */
    public static long dirtyBitmapBytes(long npages) {
        if (npages < 0) {
            throw new IllegalArgumentException("npages must not be negative: " + npages);
        }
        return ((npages + 63) >>> 6) << 3;
    }

    /** Returns the number of pages in {@code bytes} bytes of guest memory. */
    public static long pages(long bytes) {
        return bytes >>> PAGE_SHIFT;
    }
}
