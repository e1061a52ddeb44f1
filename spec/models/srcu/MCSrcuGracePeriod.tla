-------------------------- MODULE MCSrcuGracePeriod --------------------------
(* Model of the abstract SrcuGracePeriod spec for TLC.                     *)
EXTENDS SrcuGracePeriod
==============================================================================
