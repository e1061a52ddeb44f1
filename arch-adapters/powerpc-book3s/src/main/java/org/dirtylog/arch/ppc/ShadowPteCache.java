package org.dirtylog.arch.ppc;

/**
 * One vCPU's shadow PTEs (book3s PR's hashed page table cache): a direct-mapped cache of the
 * pages this vCPU may store to without faulting. An entry is valid only while its slot's
 * flush generation is unchanged, so flushing a slot from every vCPU is one generation bump
 * ({@code kvmppc_mmu_pte_pflush}). Touched only by the thread running the vCPU.
 */
final class ShadowPteCache {

    private static final int ENTRIES = 1 << 13;
    private static final int MASK = ENTRIES - 1;

    private final long[] gfns = new long[ENTRIES];
    private final long[] generations = new long[ENTRIES];

    /** Returns true when {@code gfn} is cached writable in flush generation {@code generation}. */
    boolean isWritable(long gfn, long generation) {
        int i = (int) (gfn & MASK);
        return generations[i] == generation && gfns[i] == gfn;
    }

    /** Caches {@code gfn} as writable in {@code generation}, evicting whatever shared its entry. */
    void install(long gfn, long generation) {
        int i = (int) (gfn & MASK);
        gfns[i] = gfn;
        generations[i] = generation;
    }
}
