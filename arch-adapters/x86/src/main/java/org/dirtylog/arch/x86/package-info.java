/**
 * x86: the bitmaps are exchanged by republishing the memslots array, then grace period, free,
 * write-protect and flush (the order of edde99ce, which the core's harvest follows). Backend
 * {@code reference-x86}.
 */
package org.dirtylog.arch.x86;
