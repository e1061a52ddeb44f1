/**
 * x86 harvest: republish the memslots array with the bitmaps exchanged, grace period, free,
 * then write-protect and flush (the order of edde99ce). Backend {@code reference-x86}.
 */
package org.dirtylog.arch.x86;
