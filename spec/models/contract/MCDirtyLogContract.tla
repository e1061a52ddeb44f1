------------------------- MODULE MCDirtyLogContract -------------------------
(* Model of DirtyLogContract for TLC; the .cfg files set the bounds.       *)
(* Slots and pages are interchangeable model values.                       *)
EXTENDS DirtyLogContract, TLC

Symmetry == Permutations(Slots) \cup Permutations(Pages)
==============================================================================
