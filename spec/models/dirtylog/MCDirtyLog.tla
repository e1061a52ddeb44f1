----------------------------- MODULE MCDirtyLog -----------------------------
(* Model of DirtyLog for TLC; the .cfg files pick the arch, the order and *)
(* the bounds.  vCPUs and pages are interchangeable model values.         *)
EXTENDS DirtyLog, TLC

Symmetry == Permutations(Vcpus) \cup Permutations(Pages)

(* State constraint: explore only behaviours in which every bitmap        *)
(* pointer a vCPU holds is the active one, so a loss found under it needs *)
(* no vCPU holding a stale pointer.                                       *)
PointersCurrent == \A v \in Vcpus : vbm[v] \in {None, Slot.active}
==============================================================================
