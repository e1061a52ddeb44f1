/**
 * PowerPC book3s PR harvest: per-vCPU shadow PTEs cache writability; in-place bitmap swap,
 * grace period, flush of the slot's shadow PTEs. Backend {@code reference-ppc}.
 */
package org.dirtylog.arch.ppc;
