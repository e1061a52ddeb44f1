package org.dirtylog.spi;

/**
 * The outcome of {@link BackendVcpu#runWritesUntilExit}: how many of the given writes completed,
 * in order, and why the run returned.
 *
 * @param writes writes that completed (the first {@code writes} of the list)
 * @param exit {@link VcpuExit#DONE} when all completed, else the exit that stopped the vCPU
 */
@Api(Api.Status.EXPERIMENTAL)
public record VcpuRun(int writes, VcpuExit exit) {

    public VcpuRun {
        if (writes < 0 || exit == null) {
            throw new IllegalArgumentException("writes must be >= 0 and an exit given");
        }
    }
}
