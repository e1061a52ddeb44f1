package org.dirtylog.spi;

/**
 * The continuous writing mode of the kernel's {@code dirty_log_test}: the vCPU picks pages
 * {@code firstGpa + k * PAGE_SIZE}, {@code 0 <= k < pages}, pseudo-randomly from {@code seed}
 * and stores {@code iteration} into the first 8 bytes of each, until told to stop.
 *
 * @param firstGpa guest physical address of page 0 of the range, page aligned
 * @param pages number of pages in the range
 * @param iteration the value every write stores
 * @param seed seed of the page choice (different vCPUs should get different seeds)
 */
@Api(Api.Status.STABLE)
public record RandomWrites(long firstGpa, long pages, long iteration, long seed) {

    public RandomWrites {
        if ((firstGpa & (KvmApi.PAGE_SIZE - 1)) != 0 || pages < 1) {
            throw new IllegalArgumentException("page-aligned start and at least one page required");
        }
    }
}
