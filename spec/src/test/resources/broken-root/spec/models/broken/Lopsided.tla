------------------------------ MODULE Lopsided ------------------------------
(* A correct spec with an action that is never enabled. *)
EXTENDS Naturals
CONSTANT Limit
VARIABLE x
Init == x = 0
Up == x < Limit /\ x' = x + 1
Down == x < 0 /\ x' = x - 1
Next == Up \/ Down
Spec == Init /\ [][Next]_x
Bounded == x <= Limit
==============================================================================
