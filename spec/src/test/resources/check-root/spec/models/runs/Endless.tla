------------------------------- MODULE Endless ------------------------------
(* A model TLC never finishes: x counts up without bound, so the run lasts until it is stopped. *)
EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == x' = x + 1
Spec == Init /\ [][Next]_x
Natural == x \in Nat
==============================================================================
