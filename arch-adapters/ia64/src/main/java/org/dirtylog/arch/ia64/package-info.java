/**
 * IA64 harvest: vCPUs mark a VMM-side dirty log, merged into the memslot bitmap first thing in
 * every harvest (the core's sync step), then the in-place swap, a grace period (a write fault
 * marks and unprotects in two steps a TLB flush does not wait for) and a remote TLB flush.
 * Backend {@code reference-ia64}.
 */
package org.dirtylog.arch.ia64;
