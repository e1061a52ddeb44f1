------------------------------- MODULE Counter ------------------------------
(* A model TLC finishes at once. *)
EXTENDS Naturals
CONSTANT Limit
VARIABLE x
Init == x = 0
Next == x < Limit /\ x' = x + 1
Spec == Init /\ [][Next]_x
Bounded == x <= Limit
==============================================================================
