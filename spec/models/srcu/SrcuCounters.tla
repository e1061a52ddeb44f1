---------------------------- MODULE SrcuCounters ----------------------------
(***************************************************************************)
(* The two-index SRCU algorithm with monotonic lock and unlock counts of  *)
(* Linux 4.11 (kernel/rcu/srcu.c, kept by Tree SRCU as srcu_lock_count /  *)
(* srcu_unlock_count), exactly as the Java org.dirtylog.kvm Srcu          *)
(* implements it: a counter `completed` whose low bit is the active       *)
(* index, and per stripe and index a lock and an unlock count that only   *)
(* grow.  synchronize() waits for the inactive index to drain, flips,     *)
(* then waits for the previously active index to drain.                   *)
(*                                                                         *)
(* Each step below is one atomic step of the implementation.  Memory is   *)
(* sequentially consistent here; the Java gets the orders this needs from *)
(* volatile counter accesses and the updater's fences (see Srcu).         *)
(* OneFlip = TRUE selects the known-wrong variant that skips the first    *)
(* wait: a reader that loaded the index before the flip and increments    *)
(* after it escapes the next grace period.                                *)
(***************************************************************************)
EXTENDS Naturals

CONSTANTS
    NReaders,   \* readers 1..NReaders
    NStripes,   \* counter stripes 1..NStripes; reader r uses StripeOf(r)
    MaxReads,   \* read-side sections per reader (bounds the counters)
    MaxSyncs,   \* synchronize() calls (bounds `completed`)
    OneFlip     \* TRUE: the wrong variant (one flip, one wait)

ASSUME NReaders \in Nat \ {0} /\ NStripes \in Nat \ {0}
ASSUME MaxReads \in Nat /\ MaxSyncs \in Nat /\ OneFlip \in BOOLEAN

Readers == 1..NReaders
Stripes == 1..NStripes
Indexes == {0, 1}
StripeOf(r) == ((r - 1) % NStripes) + 1

VARIABLES
    completed,    \* grace-period counter; active index = completed % 2
    lockCount,    \* [Stripes -> [Indexes -> Nat]]
    unlockCount,  \* [Stripes -> [Indexes -> Nat]]
    rpc,          \* reader pc: "out", "loaded" (index read), "inside"
    ridx,         \* index a reader loaded / holds
    reads,        \* read sections started per reader
    spc,          \* updater pc: "idle", "wait1", "wait2", "flip", "end"
    phase,        \* inside waitIdx: "unlocks" or "locks"
    widx,         \* index being waited for
    cursor,       \* next stripe to sum
    usum, lsum,   \* partial sums of unlock and lock counts
    syncs,        \* synchronize() calls begun
    waitFor       \* history: readers inside at SyncBegin that have not left

vars == <<completed, lockCount, unlockCount, rpc, ridx, reads, spc, phase,
          widx, cursor, usum, lsum, syncs, waitFor>>

Inside == {r \in Readers : rpc[r] = "inside"}

TypeOK ==
    /\ completed \in 0..MaxSyncs
    /\ lockCount \in [Stripes -> [Indexes -> 0..(NReaders * MaxReads)]]
    /\ unlockCount \in [Stripes -> [Indexes -> 0..(NReaders * MaxReads)]]
    /\ rpc \in [Readers -> {"out", "loaded", "inside"}]
    /\ ridx \in [Readers -> Indexes]
    /\ reads \in [Readers -> 0..MaxReads]
    /\ spc \in {"idle", "wait1", "flip", "wait2", "end"}
    /\ phase \in {"unlocks", "locks"}
    /\ widx \in Indexes
    /\ cursor \in 1..(NStripes + 1)
    /\ usum \in Nat /\ lsum \in Nat
    /\ syncs \in 0..MaxSyncs
    /\ waitFor \subseteq Readers

Init ==
    /\ completed = 0
    /\ lockCount = [s \in Stripes |-> [i \in Indexes |-> 0]]
    /\ unlockCount = [s \in Stripes |-> [i \in Indexes |-> 0]]
    /\ rpc = [r \in Readers |-> "out"]
    /\ ridx = [r \in Readers |-> 0]
    /\ reads = [r \in Readers |-> 0]
    /\ spc = "idle"
    /\ phase = "unlocks"
    /\ widx = 0
    /\ cursor = 1
    /\ usum = 0
    /\ lsum = 0
    /\ syncs = 0
    /\ waitFor = {}

SyncVars == <<completed, spc, phase, widx, cursor, usum, lsum, syncs>>

(* srcu_read_lock: idx = completed & 1 *)
ReadLockLoadIndex(r) ==
    /\ rpc[r] = "out"
    /\ reads[r] < MaxReads
    /\ rpc' = [rpc EXCEPT ![r] = "loaded"]
    /\ ridx' = [ridx EXCEPT ![r] = completed % 2]
    /\ reads' = [reads EXCEPT ![r] = @ + 1]
    /\ UNCHANGED <<lockCount, unlockCount, waitFor>> /\ UNCHANGED SyncVars

(* lockCount[stripe][idx]++; the section begins here *)
ReadLockIncrement(r) ==
    /\ rpc[r] = "loaded"
    /\ lockCount' = [lockCount EXCEPT ![StripeOf(r)][ridx[r]] = @ + 1]
    /\ rpc' = [rpc EXCEPT ![r] = "inside"]
    /\ UNCHANGED <<unlockCount, ridx, reads, waitFor>> /\ UNCHANGED SyncVars

(* unlockCount[stripe][idx]++; the section ends here *)
ReadUnlock(r) ==
    /\ rpc[r] = "inside"
    /\ unlockCount' = [unlockCount EXCEPT ![StripeOf(r)][ridx[r]] = @ + 1]
    /\ rpc' = [rpc EXCEPT ![r] = "out"]
    /\ waitFor' = waitFor \ {r}
    /\ UNCHANGED <<lockCount, ridx, reads>> /\ UNCHANGED SyncVars

StartWait(i) ==
    /\ widx' = i
    /\ phase' = "unlocks"
    /\ cursor' = 1
    /\ usum' = 0
    /\ lsum' = 0

(* mutex_lock; waitIdx(1 - (completed & 1)), skipped by the wrong variant *)
SyncBegin ==
    /\ spc = "idle"
    /\ syncs < MaxSyncs
    /\ spc' = IF OneFlip THEN "flip" ELSE "wait1"
    /\ StartWait(1 - (completed % 2))
    /\ syncs' = syncs + 1
    /\ waitFor' = Inside
    /\ UNCHANGED <<completed, lockCount, unlockCount, rpc, ridx, reads>>

Waiting == spc \in {"wait1", "wait2"}

(* u += unlockCount[cursor][widx], one stripe per step *)
SyncSumUnlocks ==
    /\ Waiting /\ phase = "unlocks"
    /\ usum' = usum + unlockCount[cursor][widx]
    /\ IF cursor = NStripes
          THEN phase' = "locks" /\ cursor' = 1
          ELSE phase' = phase /\ cursor' = cursor + 1
    /\ UNCHANGED <<completed, lockCount, unlockCount, rpc, ridx, reads, spc,
                   widx, lsum, syncs, waitFor>>

(* after a full fence: l += lockCount[cursor][widx]; at the last stripe  *)
(* either the index has drained (l = u) or the wait starts over          *)
SyncSumLocks ==
    /\ Waiting /\ phase = "locks"
    /\ LET l == lsum + lockCount[cursor][widx] IN
       IF cursor < NStripes
          THEN /\ lsum' = l /\ cursor' = cursor + 1
               /\ UNCHANGED <<spc, phase, usum>>
          ELSE IF l = usum
               THEN /\ spc' = IF spc = "wait1" THEN "flip" ELSE "end"
                    /\ lsum' = l /\ cursor' = cursor
                    /\ UNCHANGED <<phase, usum>>
               ELSE /\ phase' = "unlocks" /\ cursor' = 1
                    /\ usum' = 0 /\ lsum' = 0
                    /\ UNCHANGED spc
    /\ UNCHANGED <<completed, lockCount, unlockCount, rpc, ridx, reads, widx,
                   syncs, waitFor>>

(* completed++, then wait for the index that was active before the flip *)
SyncFlip ==
    /\ spc = "flip"
    /\ completed' = completed + 1
    /\ spc' = "wait2"
    /\ StartWait(1 - ((completed + 1) % 2))
    /\ UNCHANGED <<lockCount, unlockCount, rpc, ridx, reads, syncs, waitFor>>

(* mutex_unlock: the grace period is over *)
SyncEnd ==
    /\ spc = "end"
    /\ spc' = "idle"
    /\ UNCHANGED <<completed, lockCount, unlockCount, rpc, ridx, reads, phase,
                   widx, cursor, usum, lsum, syncs, waitFor>>

Next ==
    \/ \E r \in Readers :
          ReadLockLoadIndex(r) \/ ReadLockIncrement(r) \/ ReadUnlock(r)
    \/ SyncBegin \/ SyncSumUnlocks \/ SyncSumLocks \/ SyncFlip \/ SyncEnd

Spec == Init /\ [][Next]_vars

(***************************************************************************)
(* Refinement mapping: a reader is inside the abstract critical section   *)
(* from its lock increment to its unlock; the abstract grace period runs  *)
(* from SyncBegin to SyncEnd.                                             *)
(***************************************************************************)
AbstractGp ==
    IF spc = "idle" THEN (IF syncs = 0 THEN "idle" ELSE "ended") ELSE "waiting"

GracePeriod == INSTANCE SrcuGracePeriod
    WITH Readers <- Readers, inside <- Inside, gp <- AbstractGp,
         waitFor <- waitFor

RefinesGracePeriod == GracePeriod!Spec

GracePeriodWaitsForPriorReaders == GracePeriod!GracePeriodWaitsForPriorReaders
==============================================================================
