--------------------------- MODULE MCSrcuCounters ---------------------------
(* Model of SrcuCounters for TLC; constants are set in the .cfg files.    *)
EXTENDS SrcuCounters
==============================================================================
