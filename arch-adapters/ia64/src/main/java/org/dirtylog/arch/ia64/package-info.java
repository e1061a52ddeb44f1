/**
 * IA64 harvest: vCPUs mark a VMM-side dirty log, merged into the memslot bitmap under
 * {@code dirty_log_lock}, then the in-place swap and a remote TLB flush. Backend
 * {@code reference-ia64}.
 */
package org.dirtylog.arch.ia64;
