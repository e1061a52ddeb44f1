----------------------------- MODULE MCDirtyRing -----------------------------
(* Model of DirtyRing for TLC; the .cfg files pick the ring geometry, the *)
(* collector's order and the bounds.  vCPUs and pages are interchangeable *)
(* model values.                                                          *)
EXTENDS DirtyRing, TLC

Symmetry == Permutations(Vcpus) \cup Permutations(Pages)
==============================================================================
