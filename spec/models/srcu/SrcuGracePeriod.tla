--------------------------- MODULE SrcuGracePeriod ---------------------------
(***************************************************************************)
(* The abstract contract of SRCU: a grace period that begins while some   *)
(* readers are inside their read-side critical sections ends only after   *)
(* each of those readers has left.  Readers that enter after the grace    *)
(* period began need not be waited for.  The concrete counter algorithm   *)
(* (SrcuCounters) must refine this spec.                                  *)
(***************************************************************************)
CONSTANT Readers

VARIABLES
    inside,   \* readers currently inside a read-side critical section
    gp,       \* "idle" (none yet), "waiting" (synchronize running), "ended"
    waitFor   \* readers that were inside when the current grace period began
              \* and have not left since

vars == <<inside, gp, waitFor>>

TypeOK ==
    /\ inside \subseteq Readers
    /\ gp \in {"idle", "waiting", "ended"}
    /\ waitFor \subseteq Readers

Init ==
    /\ inside = {}
    /\ gp = "idle"
    /\ waitFor = {}

ReadBegin(r) ==
    /\ r \notin inside
    /\ inside' = inside \cup {r}
    /\ UNCHANGED <<gp, waitFor>>

ReadEnd(r) ==
    /\ r \in inside
    /\ inside' = inside \ {r}
    /\ waitFor' = waitFor \ {r}
    /\ UNCHANGED gp

GracePeriodBegin ==
    /\ gp # "waiting"
    /\ gp' = "waiting"
    /\ waitFor' = inside
    /\ UNCHANGED inside

GracePeriodEnd ==
    /\ gp = "waiting"
    /\ waitFor = {}
    /\ gp' = "ended"
    /\ UNCHANGED <<inside, waitFor>>

Next ==
    \/ \E r \in Readers : ReadBegin(r) \/ ReadEnd(r)
    \/ GracePeriodBegin
    \/ GracePeriodEnd

Spec == Init /\ [][Next]_vars

(* A grace period that has ended left no reader behind that was inside    *)
(* when it began.                                                          *)
GracePeriodWaitsForPriorReaders == gp = "ended" => waitFor = {}
==============================================================================
