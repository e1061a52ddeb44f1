----------------------------- MODULE MCDirtyLog -----------------------------
(* Model of DirtyLog for TLC; the .cfg files pick the arch, the order and *)
(* the bounds.  vCPUs and pages are interchangeable model values.         *)
EXTENDS DirtyLog, TLC

Symmetry == Permutations(Vcpus) \cup Permutations(Pages)
==============================================================================
