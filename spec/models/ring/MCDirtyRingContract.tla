------------------------- MODULE MCDirtyRingContract -------------------------
(* DirtyRing with a record of the stores, refining DirtyLogContract; the  *)
(* .cfg files pick the ring geometry, the collector's order and bounds.   *)
EXTENDS DirtyRing, TLC

Symmetry == Permutations(Vcpus) \cup Permutations(Pages)

(***************************************************************************)
(* Refinement of DirtyLogContract.  DirtyRing keeps no record of which    *)
(* pages were written since a harvest was invoked, which precision needs; *)
(* SpecWithHistory adds it (two history variables, as DirtyLog's         *)
(* sincePrev / sinceCur, changed by the stores and HarvestBegin only) and *)
(* leaves every other step as DirtyRing takes it.                         *)
(***************************************************************************)
VARIABLES
    storedPrev,  \* pages stored to since the previous harvest was invoked
    storedCur    \* pages stored to since the current / last harvest was invoked

HistStored(p) ==
    /\ storedPrev' = storedPrev \cup {p}
    /\ storedCur' = storedCur \cup {p}

HStore(v, p) == VcpuStore(v, p) /\ HistStored(p)

HEmulatedStore(v, p) == VcpuEmulatedStore(v, p) /\ HistStored(p)

HHarvestBegin ==
    /\ HarvestBegin
    /\ storedPrev' = storedCur
    /\ storedCur' = {}

HOther ==
    /\ \/ ControlStep
       \/ \E v \in Vcpus : VcpuPmlFull(v) \/ VcpuEnter(v)
    /\ UNCHANGED <<storedPrev, storedCur>>

SpecWithHistory ==
    /\ Init /\ storedPrev = {} /\ storedCur = {}
    /\ [][\/ \E v \in Vcpus, p \in Pages : HStore(v, p) \/ HEmulatedStore(v, p)
          \/ HHarvestBegin
          \/ HOther]_<<vars, storedPrev, storedCur>>

(* The contract's harvest of the ring's one slot runs from HarvestBegin to *)
(* ReadPages (user space reads the collected pages: what it reports).     *)
ContractSlot == "slot"

ReadDone == step > CHOOSE i \in 1..Len(Plan) : Plan[i] = "ReadPages"

HarvestRunning == op = "harvest" /\ ~ReadDone

Contract == INSTANCE DirtyLogContract
    WITH Slots <- {ContractSlot},
         Pages <- Pages,
         Locations <- {"here"},
         Kinds <- {"ring"},
         InitiallySet <- FALSE,
         loc <- [s \in {ContractSlot} |-> "here"],
         logging <- [s \in {ContractSlot} |-> TRUE],
         owed <- [s \in {ContractSlot} |-> unread],
         touched <- [s \in {ContractSlot} |-> storedCur],
         op <- IF HarvestRunning THEN "ring" ELSE "none",
         opSlot <- ContractSlot,
         must <- IF HarvestRunning THEN must ELSE {},
         may <- IF HarvestRunning THEN must \cup storedPrev ELSE {},
         reported <- IF HarvestRunning THEN {} ELSE collected

RefinesContract == Contract!Spec
==============================================================================
