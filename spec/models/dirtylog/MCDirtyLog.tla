----------------------------- MODULE MCDirtyLog -----------------------------
(* Model of DirtyLog for TLC; the .cfg files pick the arch, the order and *)
(* the bounds.  vCPUs and pages are interchangeable model values.         *)
EXTENDS DirtyLog, TLC

Symmetry == Permutations(Vcpus) \cup Permutations(Pages)

(* State constraint: explore only behaviours in which every bitmap        *)
(* pointer a vCPU holds is the active one, so a loss found under it needs *)
(* no vCPU holding a stale pointer.                                       *)
PointersCurrent == \A v \in Vcpus : vbm[v] \in {None, Slot.active}

(***************************************************************************)
(* Refinement mapping onto DirtyLogContract: the model's one memslot is    *)
(* the contract's slot "slot" at place "here".                             *)
(*  - A harvest runs (contract op) from HarvestBegin to the step that      *)
(*    calls HistOpDone, unless it failed with an errno: a failed harvest   *)
(*    is the contract's one-step HarvestFail (at HarvestBegin).           *)
(*  - owed: completed writes not yet reported, and the INITIALLY_SET bits  *)
(*    no CLEAR has cleared (the contract owes those too).  The model sets  *)
(*    them when LogOn publishes, the contract when LogOn returns; and      *)
(*    ClearBits takes them before the harvest returns, the contract when  *)
(*    it returns: until then the view adds back what this harvest's GET    *)
(*    reported of them (excused).                                          *)
(*  - touched is sinceCur; may is sincePrev plus what is owed at the       *)
(*    invocation.                                                          *)
(***************************************************************************)
ContractSlot == "slot"

HarvestRunning == op \in Harvests /\ ret \notin {"EINVAL", "ENOENT"}

UnclaimedView ==
    CASE op = "logon" -> {}
      [] op = "getclear" /\ step > IndexOf("getclear", "ClearBits") -> unclaimed \cup excused
      [] OTHER -> unclaimed

Contract == INSTANCE DirtyLogContract
    WITH Slots <- {ContractSlot},
         Pages <- Pages,
         Locations <- {"here"},
         Kinds <- HarvestKinds,
         InitiallySet <- InitiallySet,
         loc <- [s \in {ContractSlot} |-> "here"],
         logging <- [s \in {ContractSlot} |-> userLogging],
         owed <- [s \in {ContractSlot} |-> owed \cup UnclaimedView],
         touched <- [s \in {ContractSlot} |-> sinceCur],
         op <- IF HarvestRunning THEN op ELSE "none",
         opSlot <- ContractSlot,
         must <- IF HarvestRunning THEN must \cup UnclaimedView ELSE {},
         may <- IF HarvestRunning THEN sincePrev \cup must \cup UnclaimedView ELSE {},
         reported <- IF HarvestRunning THEN {} ELSE reported

RefinesContract == Contract!Spec
==============================================================================
