package org.dirtylog.kvm;

/**
 * A known bug the reference implementation can be built with, so that the kit can show its
 * tests catch it. The default is none; each constant is checked at one point of the code
 * through a final field. Race defects widen their own window (a {@code Thread.yield()} at the
 * racy point) so that a test catches them every run, not by luck.
 */
public enum Defect {

    /** edde99ce: x86 write-protects before the bitmap swap; a write after the harvest is never reported. */
    WRITE_PROTECT_BEFORE_SWAP("edde99ce"),
    /** 50e92b3c: a bitmap word is set by plain read-modify-write; two vCPUs dirtying one word lose a bit. */
    NON_ATOMIC_BIT_SET("50e92b3c"),
    /** 6dbf79e7: the harvest returns before the remote TLB flush completes; a cached writable mapping skips the fault and the write is not logged. */
    FLUSH_AFTER_UNLOCK("6dbf79e7"),
    /** b64d740e: no write-protect/flush when logging is switched on; writes just after enabling are not reported. */
    NO_FLUSH_ON_LOG_ENABLE("b64d740e"),
    /** The spare bitmap is not cleared before it becomes active; user space sees pages from two harvests ago. */
    SWITCH_SKIPS_CLEAR("switch-skips-clear"),
    /** No grace period after the swap; a vCPU still holding the old active bitmap marks it after user space read it, and the old memslots array is freed while in use. */
    NO_GRACE_PERIOD("no-grace-period"),
    /** Logging off then on reuses the old bitmaps uncleared; user space sees pages dirtied before the toggle. */
    STALE_BITS_AFTER_LOG_TOGGLE("stale-bits-after-log-toggle"),
    /** Moving a logged slot gives it fresh bitmaps; pages dirtied before the move are never reported. */
    MOVE_DROPS_BITMAP("move-drops-bitmap"),
    /** KVM_GET_DIRTY_LOG on a clean slot leaves the caller's buffer untouched; user space sees stale bits. */
    CLEAN_GET_LEAVES_BUFFER("clean-get-leaves-buffer"),
    /** New bitmaps carry set bits at and past npages in the last word; user space sees pages that do not exist. */
    BITS_PAST_NPAGES("bits-past-npages");

    private final String label;

    Defect(String label) {
        this.label = label;
    }

    /** Returns the fix id or short slug used in backend names, e.g. {@code edde99ce}. */
    public String label() {
        return label;
    }
}
