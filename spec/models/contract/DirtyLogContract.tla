-------------------------- MODULE DirtyLogContract --------------------------
(***************************************************************************)
(* The user-visible contract of dirty-page logging: what user space can   *)
(* observe, and nothing of bitmaps, SRCU, write protection or rings.      *)
(* Every architecture model (DirtyLog: x86, ppc, ia64; DirtyRing) refines *)
(* it: its MC module maps its variables onto these and TLC checks         *)
(* PROPERTY RefinesContract.                                              *)
(*                                                                         *)
(* Memslots are created at a location, moved, deleted, and have logging   *)
(* turned on and off.  Guest writes are concurrent with everything: a     *)
(* write to page p of slot s begins (Touch: from now on p may be          *)
(* reported) and completes at one point (Write: from now on p is owed).   *)
(* User space is one thread: region updates and harvests are serialised   *)
(* (slots_lock); a harvest of slot s is invoked (HarvestInvoke) and       *)
(* returns (HarvestReturn) with the set of pages it reports.  Kinds are   *)
(* how it harvests: "get" (KVM_GET_DIRTY_LOG), "switch" (KVM_SWITCH_DIRTY *)
(* _LOG + read of the cold bitmap), "getclear" (manual protect: GET, then *)
(* KVM_CLEAR_DIRTY_LOG of exactly what it returned; the harvest returns   *)
(* when CLEAR does) and "ring" (the dirty ring: kick, collect, reset,     *)
(* then read; the pages of slot s it collected).  All kinds promise the   *)
(* same thing; the kind is recorded so a behaviour says which ioctl ran.  *)
(*                                                                         *)
(* Kind "manual" is manual protect as user space may use it, GET and      *)
(* CLEAR each on its own (ManualGet, ManualClear): a GET reports the      *)
(* bitmap and clears nothing, so what it reports stays owed; a CLEAR of   *)
(* pages P is where user space takes P (it reads them after the CLEAR),   *)
(* so what was owed of P is discharged and a page of P must be written    *)
(* again before it may be reported again.  Trace validation of real runs  *)
(* uses it; the architecture models harvest with "getclear".              *)
(*                                                                         *)
(* The two properties are stated once, as the guard of HarvestReturn:     *)
(*   NoLostWrite (semantics §4, a MUST): the report contains every page   *)
(*     owed when the harvest was invoked (a write completed before the    *)
(*     invocation and not reported by an earlier harvest that returned    *)
(*     after it completed).                                               *)
(*   Precision (semantics §4, a SHOULD): every reported page was owed at  *)
(*     the invocation or touched since the previous successful harvest of *)
(*     the slot was invoked.                                              *)
(* A write that completes while the harvest runs may or may not be        *)
(* reported; if it is, it is no longer owed.  Under INITIALLY_SET every   *)
(* page of a new bitmap is owed (GET must report it until a CLEAR does).  *)
(*                                                                         *)
(* A harvest that fails with an errno (invalid slot id, no dirty log)     *)
(* is one step: it reports nothing and changes nothing.                   *)
(***************************************************************************)

CONSTANTS
    Slots,          \* memslot ids (model values or strings)
    Pages,          \* page offsets within a slot (every slot has them all)
    Locations,      \* guest-physical places a slot can be at; one slot per place
    Kinds,          \* harvest kinds in use: subset of {"get", "switch", "getclear", "ring"}
    InitiallySet    \* manual protect with KVM_DIRTY_LOG_INITIALLY_SET

HarvestKindNames == {"get", "switch", "getclear", "ring", "manual"}
ASSUME Kinds \subseteq HarvestKindNames
ASSUME InitiallySet \in BOOLEAN /\ (InitiallySet => Kinds = {"getclear"})

NoSlot == "none"    \* location of a slot id that is not in use
Idle == "none"      \* op when no harvest runs

VARIABLES
    loc,        \* slot -> its location, or NoSlot
    logging,    \* slot -> KVM_MEM_LOG_DIRTY_PAGES is set (as the last update returned)
    owed,       \* slot -> pages a harvest must report: completed writes (and
                \*         INITIALLY_SET pages) no harvest has reported yet
    touched,    \* slot -> pages whose write began since the slot's last
                \*         successful harvest was invoked
    op,         \* the harvest running (a kind), or Idle
    opSlot,     \* the slot it harvests (meaningful while op # Idle)
    must,       \* what the running harvest must report (owed at invocation)
    may,        \* what it may report (owed at invocation, touched since)
    reported    \* what the last harvest reported ({} while one runs)

vars == <<loc, logging, owed, touched, op, opSlot, must, may, reported>>

TypeOK ==
    /\ loc \in [Slots -> Locations \cup {NoSlot}]
    /\ logging \in [Slots -> BOOLEAN]
    /\ owed \in [Slots -> SUBSET Pages]
    /\ touched \in [Slots -> SUBSET Pages]
    /\ op \in Kinds \cup {Idle}
    /\ opSlot \in Slots
    /\ must \subseteq Pages /\ may \subseteq Pages /\ reported \subseteq Pages

(* A freshly allocated bitmap: every page owed under INITIALLY_SET. *)
NewBitmap(on) == IF on /\ InitiallySet THEN Pages ELSE {}

(* Any placement of slots, each at its own location, with a fresh bitmap *)
(* where logging is on; no write has begun.  (From the empty placement    *)
(* the region updates reach all of them.)                                 *)
Init ==
    /\ loc \in [Slots -> Locations \cup {NoSlot}]
    /\ \A s, t \in Slots : s # t /\ loc[s] # NoSlot => loc[s] # loc[t]
    /\ logging \in [Slots -> BOOLEAN]
    /\ \A s \in Slots : loc[s] = NoSlot => ~logging[s]
    /\ owed = [s \in Slots |-> NewBitmap(logging[s])]
    /\ touched = [s \in Slots |-> {}]
    /\ op = Idle
    /\ opSlot = CHOOSE s \in Slots : TRUE
    /\ must = {} /\ may = {} /\ reported = {}

Free(l) == \A t \in Slots : loc[t] # l

(***************************************************************************)
(* Region updates (KVM_SET_USER_MEMORY_REGION), each at the point it      *)
(* returns; they do not overlap a harvest.                                 *)
(***************************************************************************)
CreateSlot(s, l, on) ==
    /\ op = Idle /\ loc[s] = NoSlot /\ Free(l)
    /\ loc' = [loc EXCEPT ![s] = l]
    /\ logging' = [logging EXCEPT ![s] = on]
    /\ owed' = [owed EXCEPT ![s] = NewBitmap(on)]
    /\ UNCHANGED <<touched, op, opSlot, must, may, reported>>

(* Deleting a slot frees its bitmap: nothing is owed for it any more. *)
DeleteSlot(s) ==
    /\ op = Idle /\ loc[s] # NoSlot
    /\ loc' = [loc EXCEPT ![s] = NoSlot]
    /\ logging' = [logging EXCEPT ![s] = FALSE]
    /\ owed' = [owed EXCEPT ![s] = {}]
    /\ UNCHANGED <<touched, op, opSlot, must, may, reported>>

(* A move keeps the bitmap (semantics §3 S5). *)
MoveSlot(s, l) ==
    /\ op = Idle /\ loc[s] # NoSlot /\ loc[s] # l /\ Free(l)
    /\ loc' = [loc EXCEPT ![s] = l]
    /\ UNCHANGED <<logging, owed, touched, op, opSlot, must, may, reported>>

(* Logging turned on gets a fresh bitmap, turned off drops it (§3 S3, S4). *)
SetLogging(s, on) ==
    /\ op = Idle /\ loc[s] # NoSlot /\ logging[s] # on
    /\ logging' = [logging EXCEPT ![s] = on]
    /\ owed' = [owed EXCEPT ![s] = NewBitmap(on)]
    /\ UNCHANGED <<loc, touched, op, opSlot, must, may, reported>>

(***************************************************************************)
(* Guest writes                                                           *)
(***************************************************************************)
Running(s) == op # Idle /\ opSlot = s

(* A write to p begins (a fault, or an emulated store): the running and  *)
(* the next harvest of s may report p.                                    *)
Touch(s, p) ==
    /\ loc[s] # NoSlot
    /\ touched' = [touched EXCEPT ![s] = @ \cup {p}]
    /\ may' = IF Running(s) THEN may \cup {p} ELSE may
    /\ UNCHANGED <<loc, logging, owed, op, opSlot, must, reported>>

(* A write to p completes: owed while logging is on. *)
Write(s, p) ==
    /\ loc[s] # NoSlot
    /\ owed' = IF logging[s] THEN [owed EXCEPT ![s] = @ \cup {p}] ELSE owed
    /\ touched' = [touched EXCEPT ![s] = @ \cup {p}]
    /\ may' = IF Running(s) THEN may \cup {p} ELSE may
    /\ UNCHANGED <<loc, logging, op, opSlot, must, reported>>

(***************************************************************************)
(* Harvests                                                               *)
(***************************************************************************)

(* The harvest is invoked on a slot with a dirty log. *)
HarvestInvoke(k, s) ==
    /\ k # "manual"     \* manual protect's GET and CLEAR are steps of their own
    /\ op = Idle
    /\ loc[s] # NoSlot /\ logging[s]
    /\ op' = k /\ opSlot' = s
    /\ must' = owed[s]
    /\ may' = owed[s] \cup touched[s]
    /\ touched' = [touched EXCEPT ![s] = {}]
    /\ reported' = {}
    /\ UNCHANGED <<loc, logging, owed>>

(* A harvest of s fails with an errno (-EINVAL: always possible, e.g. a   *)
(* bad slot id; -ENOENT: s has no dirty log): it reports nothing and      *)
(* changes nothing else, whatever runs meanwhile.                          *)
HarvestFail(k, s) ==
    /\ op = Idle
    /\ reported' = {}
    /\ UNCHANGED <<loc, logging, owed, touched, op, opSlot, must, may>>

(* The harvest returns r: NoLostWrite (must \subseteq r) and Precision   *)
(* (r \subseteq may).  What it reported is no longer owed.                *)
HarvestReturn(r) ==
    /\ op # Idle
    /\ must \subseteq r /\ r \subseteq may
    /\ owed' = [owed EXCEPT ![opSlot] = @ \ r]
    /\ reported' = r
    /\ op' = Idle /\ must' = {} /\ may' = {}
    /\ UNCHANGED <<loc, logging, touched, opSlot>>

(***************************************************************************)
(* Manual protect, GET and CLEAR on their own (kind "manual")             *)
(***************************************************************************)

(* KVM_GET_DIRTY_LOG with manual protect on: one step (user space is one *)
(* thread, and a write racing it is a Touch or Write before or after).   *)
(* NoLostWrite: every owed page is reported; Precision: every reported    *)
(* page is owed or was touched since it was last cleared.  Nothing is     *)
(* discharged: the bits stay set until a CLEAR.                           *)
ManualGet(s, r) ==
    /\ "manual" \in Kinds
    /\ op = Idle /\ loc[s] # NoSlot /\ logging[s]
    /\ owed[s] \subseteq r /\ r \subseteq owed[s] \cup touched[s]
    /\ reported' = r
    /\ UNCHANGED <<loc, logging, owed, touched, op, opSlot, must, may>>

(* KVM_CLEAR_DIRTY_LOG of pages ps (the bits of its user bitmap, first    *)
(* page added) returned 0: user space takes ps.                          *)
ManualClear(s, ps) ==
    /\ "manual" \in Kinds
    /\ op = Idle /\ loc[s] # NoSlot /\ logging[s]
    /\ owed' = [owed EXCEPT ![s] = @ \ ps]
    /\ touched' = [touched EXCEPT ![s] = @ \ ps]
    /\ reported' = {}
    /\ UNCHANGED <<loc, logging, op, opSlot, must, may>>

(* A bitmap allocated under KVM_DIRTY_LOG_INITIALLY_SET, named with its   *)
(* pages ps: every one of them is owed, as NewBitmap(TRUE) makes them.    *)
(* Trace validation names it right after the region update that          *)
(* allocated the bitmap, since its slots differ in size and the constant  *)
(* InitiallySet gives every slot the one page set Pages.                  *)
InitiallySetBitmap(s, ps) ==
    /\ "manual" \in Kinds
    /\ op = Idle /\ loc[s] # NoSlot /\ logging[s]
    /\ owed' = [owed EXCEPT ![s] = @ \cup ps]
    /\ UNCHANGED <<loc, logging, touched, op, opSlot, must, may, reported>>

Next ==
    \/ \E s \in Slots :
          \/ \E l \in Locations, on \in BOOLEAN : CreateSlot(s, l, on)
          \/ DeleteSlot(s)
          \/ \E l \in Locations : MoveSlot(s, l)
          \/ \E on \in BOOLEAN : SetLogging(s, on)
          \/ \E p \in Pages : Touch(s, p) \/ Write(s, p)
          \/ \E k \in Kinds : HarvestInvoke(k, s) \/ HarvestFail(k, s)
    \/ \E r \in SUBSET Pages : HarvestReturn(r)

Spec == Init /\ [][Next]_vars

(* The contract with manual protect's GET and CLEAR on their own: what    *)
(* user space may do once KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 is on, and    *)
(* what trace validation checks recorded runs against.  Spec, which the   *)
(* architecture models refine and TLC -simulate draws MODEL-02 from,     *)
(* harvests with whole GET+CLEAR pairs ("getclear") instead.              *)
NextWithManual ==
    \/ Next
    \/ \E s \in Slots, r \in SUBSET Pages :
          ManualGet(s, r) \/ ManualClear(s, r) \/ InitiallySetBitmap(s, r)

SpecWithManual == Init /\ [][NextWithManual]_vars

==============================================================================
