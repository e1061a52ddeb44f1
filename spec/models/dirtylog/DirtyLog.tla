------------------------------ MODULE DirtyLog ------------------------------
(***************************************************************************)
(* Dirty-page logging with double-buffered bitmaps (the 2010 RFC          *)
(* KVM_SWITCH_DIRTY_LOG / KVM_GET_DIRTY_LOG), for one memslot.            *)
(*                                                                         *)
(* Actors                                                                  *)
(*  - vCPUs: enter an SRCU read section, look the slot up in the          *)
(*    published memslots array (loading its active bitmap pointer), take  *)
(*    a write-protect fault if the page would fault (mark the page dirty  *)
(*    through the loaded pointer, make it writable), store, leave.        *)
(*  - one control thread (user space + the ioctl under slots_lock): runs  *)
(*    harvests (SWITCH + read of the cold bitmap, or GET) and turns       *)
(*    logging off and on (memslot replacement).                           *)
(*                                                                         *)
(* Each harvest runs the steps of Plan(op) in order; the plan depends on  *)
(* the architecture (Arch) and on whether the RFC's order or the          *)
(* reference implementation's order is used (Order).  GracePeriod is the  *)
(* abstract SRCU grace period (SrcuGracePeriod): it waits for every vCPU  *)
(* that was inside its read section when the memslots were updated.     *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets, TLC

CONSTANTS
    Vcpus,          \* set of vCPUs (model values)
    Pages,          \* pages of the slot (model values)
    Arch,           \* "x86", "ppc" (book3s PR) or "ia64"
    Order,          \* "rfc" or "reference"
    HarvestKinds,   \* subset of {"switch", "get"}
    MaxHarvests,    \* bound on harvests (keeps the state space finite)
    MaxLogToggles,  \* bound on LogOff/LogOn calls
    GracePeriods    \* FALSE: every GracePeriod step is left out (wrong)

ASSUME Arch \in {"x86", "ppc", "ia64"}
ASSUME Order \in {"rfc", "reference"}
ASSUME HarvestKinds \subseteq {"switch", "get"}
ASSUME MaxHarvests \in Nat /\ MaxLogToggles \in Nat /\ GracePeriods \in BOOLEAN

None == 0   \* null pointer for arrays and bitmaps

VARIABLES
    \* kernel memory
    published,     \* id of the memslots array vCPUs find (rcu pointer)
    arrays,        \* array id -> [logging, active, cold] (bitmap ids)
    bits,          \* bitmap id -> set of pages whose bit is set
    freedArrays,   \* memslots arrays already freed
    freedBitmaps,  \* bitmaps already freed
    wp,            \* pages whose next write faults (x86: spte read-only;
                   \* ppc/ia64: no shadow PTE / TLB entry)
    vmmLog,        \* ia64: the VMM's own dirty log
    logLock,       \* ia64: dirty_log_lock held by the control thread
    \* vCPUs
    pc,            \* "idle", "lookup", "access", "exit"
    page,          \* the page the vCPU writes in this section
    vslots,        \* memslots array the vCPU looked up (None outside)
    vbm,           \* active bitmap pointer the vCPU loaded (None: no log)
    prior,         \* inside SRCU when the memslots were last updated
    \* control thread
    op,            \* "none", "switch", "get", "logon", "logoff"
    step,          \* index into Plan(op)
    ret,           \* ioctl return: "0", "1", "EINVAL", "ENOENT", "none"
    harvests,      \* harvests begun
    toggles,       \* LogOn / LogOff calls begun
    oldArray,      \* array to free once the grace period is over
    oldBitmaps,    \* bitmaps to free with it
    userLogging,   \* user space has turned logging on (ioctl returned)
    \* history (for the properties only)
    owed,          \* pages with a completed, not yet reported write
    must,          \* owed when the current / last harvest was invoked
    reported,      \* pages the current / last harvest reported
    lastOp,        \* the last operation the control thread finished
    sincePrev,     \* pages written since the previous harvest was invoked
    sinceCur       \* pages written since the current harvest was invoked

memVars == <<published, arrays, bits, freedArrays, freedBitmaps, wp, vmmLog,
             logLock>>
vcpuVars == <<pc, page, vslots, vbm, prior>>
ctlVars == <<op, step, ret, harvests, toggles, oldArray, oldBitmaps,
             userLogging>>
histVars == <<owed, must, reported, lastOp, sincePrev, sinceCur>>
vars == <<memVars, vcpuVars, ctlVars, histVars>>

MaxArrays == 1 + MaxHarvests + MaxLogToggles
MaxBitmaps == 2 + 2 * MaxLogToggles
ArrayIds == 1..MaxArrays
BitmapIds == 1..MaxBitmaps
Memslot == [logging : BOOLEAN, active : BitmapIds \cup {None},
            cold : BitmapIds \cup {None}]

(***************************************************************************)
(* The plans.  Protect is the arch's way to make every page fault again.  *)
(***************************************************************************)
Protect == IF Arch = "x86" THEN "WriteProtect" ELSE "FlushShadowMappings"

SwitchCore ==
    CASE Arch = "x86" /\ Order = "rfc" ->
            <<"WriteProtect", "PublishMemslots", "GracePeriod",
              "FreeOldMemslots">>
      [] Arch = "x86" /\ Order = "reference" ->
            \* edde99ce: write-protect only after the swapped array is
            \* published and every vCPU using the old one has left
            <<"PublishMemslots", "GracePeriod", "FreeOldMemslots",
              "WriteProtect">>
      [] Arch = "ppc" /\ Order = "rfc" ->
            <<"SwapBitmaps", "FlushShadowMappings">>
      [] Arch = "ppc" /\ Order = "reference" ->
            \* a vCPU may hold the old active pointer: wait for it
            \* before the flush and before user space reads the bitmap
            <<"SwapBitmaps", "GracePeriod", "FlushShadowMappings">>
      [] Arch = "ia64" /\ Order = "rfc" ->
            <<"MergeVmmLog", "SwapBitmaps", "FlushShadowMappings">>
      [] Arch = "ia64" /\ Order = "reference" ->
            \* the generic reference swap; vCPUs mark the VMM log without
            \* dirty_log_lock here, so the lock may be held across it
            <<"MergeVmmLog", "SwapBitmaps", "GracePeriod",
              "FlushShadowMappings">>

RECURSIVE Without(_, _)
Without(s, x) ==
    IF s = <<>> THEN <<>>
    ELSE (IF Head(s) = x THEN <<>> ELSE <<Head(s)>>) \o Without(Tail(s), x)

(* KVM_GET_DIRTY_LOG on ppc and ia64 in the RFC does not swap: the generic *)
(* code copies the ACTIVE bitmap to user space, the arch code flushes and *)
(* then clears that bitmap (ia64: all under dirty_log_lock).              *)
GetCopiesActive == Arch # "x86" /\ Order = "rfc"

GetCore ==
    IF GetCopiesActive
       THEN (IF Arch = "ia64" THEN <<"MergeVmmLog">> ELSE <<>>)
            \o <<"CopyToUser", "FlushShadowMappings", "ClearActiveBitmap">>
       ELSE SwitchCore \o <<"CopyToUser">>

RawPlan(o) ==
    CASE o = "switch" -> SwitchCore \o <<"HarvestEnd", "ReadColdBitmap">>
      [] o = "get"    -> GetCore \o <<"HarvestEnd">>
      [] o = "logon"  -> <<"PublishMemslots", "GracePeriod", "FreeOldMemslots",
                           Protect, "RegionUpdateEnd">>
      [] o = "logoff" -> <<"PublishMemslots", "GracePeriod", "FreeOldMemslots",
                           "RegionUpdateEnd">>
      [] OTHER        -> <<>>

Plan(o) == IF GracePeriods THEN RawPlan(o) ELSE Without(RawPlan(o), "GracePeriod")

At(name) == op # "none" /\ step <= Len(Plan(op)) /\ Plan(op)[step] = name

IndexOf(o, name) == CHOOSE i \in 1..Len(Plan(o)) : Plan(o)[i] = name

Slot == arrays[published]
InSrcu == {v \in Vcpus : pc[v] # "idle"}

TypeOK ==
    /\ published \in ArrayIds
    /\ DOMAIN arrays \subseteq ArrayIds
    /\ \A a \in DOMAIN arrays : arrays[a] \in Memslot
    /\ DOMAIN bits \subseteq BitmapIds
    /\ \A b \in DOMAIN bits : bits[b] \subseteq Pages
    /\ freedArrays \subseteq ArrayIds /\ freedBitmaps \subseteq BitmapIds
    /\ wp \subseteq Pages /\ vmmLog \subseteq Pages /\ logLock \in BOOLEAN
    /\ pc \in [Vcpus -> {"idle", "lookup", "access", "exit"}]
    /\ page \in [Vcpus -> Pages]
    /\ vslots \in [Vcpus -> ArrayIds \cup {None}]
    /\ vbm \in [Vcpus -> BitmapIds \cup {None}]
    /\ prior \in [Vcpus -> BOOLEAN]
    /\ op \in {"none", "switch", "get", "logon", "logoff"}
    /\ step \in Nat
    /\ ret \in {"0", "1", "EINVAL", "ENOENT", "none"}
    /\ harvests \in 0..MaxHarvests /\ toggles \in 0..MaxLogToggles
    /\ oldArray \in ArrayIds \cup {None} /\ oldBitmaps \subseteq BitmapIds
    /\ userLogging \in BOOLEAN
    /\ owed \subseteq Pages /\ must \subseteq Pages /\ reported \subseteq Pages
    /\ lastOp \in {"none", "switch", "get", "logon", "logoff"}
    /\ sincePrev \subseteq Pages /\ sinceCur \subseteq Pages

Init ==
    /\ published = 1
    /\ arrays = (1 :> [logging |-> TRUE, active |-> 1, cold |-> 2])
    /\ bits = (1 :> {} @@ 2 :> {})
    /\ freedArrays = {} /\ freedBitmaps = {}
    /\ wp = Pages
    /\ vmmLog = {} /\ logLock = FALSE
    /\ pc = [v \in Vcpus |-> "idle"]
    /\ page \in [Vcpus -> Pages]
    /\ vslots = [v \in Vcpus |-> None]
    /\ vbm = [v \in Vcpus |-> None]
    /\ prior = [v \in Vcpus |-> FALSE]
    /\ op = "none" /\ step = 0 /\ ret = "none"
    /\ harvests = 0 /\ toggles = 0
    /\ oldArray = None /\ oldBitmaps = {}
    /\ userLogging = TRUE
    /\ owed = {} /\ must = {} /\ reported = {} /\ lastOp = "none"
    /\ sincePrev = {} /\ sinceCur = {}

(***************************************************************************)
(* vCPU actions                                                           *)
(***************************************************************************)

(* srcu_read_lock, and the guest picks the page it writes *)
VcpuEnterSrcu(v) ==
    /\ pc[v] = "idle"
    /\ \E p \in Pages : page' = [page EXCEPT ![v] = p]
    /\ pc' = [pc EXCEPT ![v] = "lookup"]
    /\ UNCHANGED <<memVars, vslots, vbm, prior, ctlVars, histVars>>

(* gfn_to_memslot + load of memslot->dirty_bitmap (mark_page_dirty's first *)
(* half): the pointer may be stale by the time the bit is set              *)
VcpuLookupSlot(v) ==
    /\ pc[v] = "lookup"
    /\ vslots' = [vslots EXCEPT ![v] = published]
    /\ vbm' = [vbm EXCEPT ![v] = IF Slot.logging THEN Slot.active ELSE None]
    /\ pc' = [pc EXCEPT ![v] = "access"]
    /\ UNCHANGED <<memVars, page, prior, ctlVars, histVars>>

(* The write-protect fault: set the page's bit through the loaded pointer *)
(* (ia64: in the VMM log; in the RFC under dirty_log_lock, in the         *)
(* reference implementation lock-free) and make the page writable.        *)
VcpuWriteFault(v) ==
    LET p == page[v] IN
    /\ pc[v] = "access"
    /\ p \in wp
    /\ IF Arch = "ia64"
          THEN /\ (Order = "rfc" => ~logLock)
               /\ vmmLog' = IF vbm[v] # None THEN vmmLog \cup {p} ELSE vmmLog
               /\ UNCHANGED bits
          ELSE /\ bits' = IF vbm[v] # None
                             THEN [bits EXCEPT ![vbm[v]] = @ \cup {p}]
                             ELSE bits
               /\ UNCHANGED vmmLog
    /\ wp' = wp \ {p}
    /\ sincePrev' = sincePrev \cup {p}
    /\ sinceCur' = sinceCur \cup {p}
    /\ UNCHANGED <<published, arrays, freedArrays, freedBitmaps, logLock,
                   vcpuVars, ctlVars, owed, must, reported, lastOp>>

(* The guest store completes (the page is writable). *)
VcpuStore(v) ==
    LET p == page[v] IN
    /\ pc[v] = "access"
    /\ p \notin wp
    /\ pc' = [pc EXCEPT ![v] = "exit"]
    /\ owed' = IF userLogging THEN owed \cup {p} ELSE owed
    /\ sincePrev' = sincePrev \cup {p}
    /\ sinceCur' = sinceCur \cup {p}
    /\ UNCHANGED <<memVars, page, vslots, vbm, prior, ctlVars, must, reported,
                   lastOp>>

(* srcu_read_unlock *)
VcpuExitSrcu(v) ==
    /\ pc[v] = "exit"
    /\ pc' = [pc EXCEPT ![v] = "idle"]
    /\ vslots' = [vslots EXCEPT ![v] = None]
    /\ vbm' = [vbm EXCEPT ![v] = None]
    /\ prior' = [prior EXCEPT ![v] = FALSE]
    /\ UNCHANGED <<memVars, page, ctlVars, histVars>>

(***************************************************************************)
(* Control thread: starting an operation                                  *)
(***************************************************************************)

(* KVM_SWITCH_DIRTY_LOG or KVM_GET_DIRTY_LOG entry, under slots_lock:     *)
(* -EINVAL (slot id out of range), -ENOENT (no dirty log), then (x86,     *)
(* ppc) the is_dirty test: clean returns 1 (SWITCH) or 0 with a zeroed    *)
(* buffer (GET, reported = {}).  ia64 tests after MergeVmmLog.           *)
HarvestBegin(kind, badSlot) ==
    /\ op = "none"
    /\ harvests < MaxHarvests
    /\ op' = kind
    /\ harvests' = harvests + 1
    /\ reported' = {}
    /\ CASE badSlot ->
              /\ ret' = "EINVAL" /\ step' = IndexOf(kind, "HarvestEnd")
              /\ must' = {}
              /\ UNCHANGED <<sincePrev, sinceCur>>
         [] ~Slot.logging ->
              /\ ret' = "ENOENT" /\ step' = IndexOf(kind, "HarvestEnd")
              /\ must' = {}
              /\ UNCHANGED <<sincePrev, sinceCur>>
         [] Arch # "ia64" /\ bits[Slot.active] = {} ->
              /\ ret' = IF kind = "switch" THEN "1" ELSE "0"
              /\ step' = IndexOf(kind, "HarvestEnd")
              /\ must' = owed
              /\ sincePrev' = sinceCur /\ sinceCur' = {}
         [] OTHER ->
              /\ ret' = "0" /\ step' = 1 /\ must' = owed
              /\ sincePrev' = sinceCur /\ sinceCur' = {}
    /\ UNCHANGED <<memVars, vcpuVars, toggles, oldArray, oldBitmaps,
                   userLogging, owed, lastOp>>

(* KVM_SET_USER_MEMORY_REGION clearing KVM_MEM_LOG_DIRTY_PAGES *)
LogOff ==
    /\ op = "none" /\ toggles < MaxLogToggles /\ Slot.logging
    /\ op' = "logoff" /\ step' = 1 /\ toggles' = toggles + 1
    /\ userLogging' = FALSE
    /\ owed' = {}
    /\ UNCHANGED <<memVars, vcpuVars, ret, harvests, oldArray, oldBitmaps,
                   must, reported, lastOp, sincePrev, sinceCur>>

(* KVM_SET_USER_MEMORY_REGION setting KVM_MEM_LOG_DIRTY_PAGES *)
LogOn ==
    /\ op = "none" /\ toggles < MaxLogToggles /\ ~Slot.logging
    /\ op' = "logon" /\ step' = 1 /\ toggles' = toggles + 1
    /\ UNCHANGED <<memVars, vcpuVars, ret, harvests, oldArray, oldBitmaps,
                   userLogging, histVars>>

(***************************************************************************)
(* Control thread: the steps of the plans                                 *)
(***************************************************************************)
Advance == step' = step + 1

(* kvm_mmu_slot_remove_write_access *)
WriteProtect ==
    /\ At("WriteProtect")
    /\ wp' = Pages
    /\ Advance
    /\ UNCHANGED <<published, arrays, bits, freedArrays, freedBitmaps, vmmLog,
                   logLock, vcpuVars, op, ret, harvests, toggles, oldArray,
                   oldBitmaps, userLogging, histVars>>

NewArrayId == Cardinality(DOMAIN arrays) + 1
NewBitmapId == Cardinality(DOMAIN bits) + 1

(* Build a copy of the memslots array and rcu_assign_pointer it: for a    *)
(* harvest the bitmap pointers are exchanged and the spare is cleared;    *)
(* for LogOff the copy has no bitmaps; for LogOn two fresh ones.          *)
PublishMemslots ==
    LET n == NewArrayId
        s == Slot
        b == NewBitmapId
    IN
    /\ At("PublishMemslots")
    /\ CASE op \in {"switch", "get"} ->
              /\ arrays' = arrays @@ (n :> [logging |-> TRUE, active |-> s.cold,
                                            cold |-> s.active])
              /\ bits' = [bits EXCEPT ![s.cold] = {}]
              /\ oldBitmaps' = {}
         [] op = "logoff" ->
              /\ arrays' = arrays @@ (n :> [logging |-> FALSE, active |-> None,
                                            cold |-> None])
              /\ bits' = bits
              /\ oldBitmaps' = {s.active, s.cold}
         [] op = "logon" ->
              /\ arrays' = arrays @@ (n :> [logging |-> TRUE, active |-> b,
                                            cold |-> b + 1])
              /\ bits' = bits @@ (b :> {} @@ (b + 1) :> {})
              /\ oldBitmaps' = {}
    /\ published' = n
    /\ oldArray' = published
    /\ prior' = [v \in Vcpus |-> pc[v] # "idle"]
    /\ Advance
    /\ UNCHANGED <<freedArrays, freedBitmaps, wp, vmmLog, logLock, pc, page,
                   vslots, vbm, op, ret, harvests, toggles, userLogging,
                   histVars>>

(* The generic in-place swap of kvm_update_dirty_log: clear the spare,    *)
(* exchange the two pointers of the published slot.                      *)
SwapBitmaps ==
    LET s == Slot IN
    /\ At("SwapBitmaps")
    /\ bits' = [bits EXCEPT ![s.cold] = {}]
    /\ arrays' = [arrays EXCEPT ![published] =
                    [@ EXCEPT !.active = s.cold, !.cold = s.active]]
    /\ prior' = [v \in Vcpus |-> pc[v] # "idle"]
    /\ Advance
    /\ UNCHANGED <<published, freedArrays, freedBitmaps, wp, vmmLog, logLock,
                   pc, page, vslots, vbm, op, ret, harvests, toggles, oldArray,
                   oldBitmaps, userLogging, histVars>>

(* synchronize_srcu(_expedited): every vCPU that was inside its read     *)
(* section at the last update has left it (TLA+: SrcuGracePeriod).       *)
GracePeriod ==
    /\ At("GracePeriod")
    /\ \A v \in Vcpus : ~prior[v]
    /\ Advance
    /\ UNCHANGED <<memVars, vcpuVars, op, ret, harvests, toggles, oldArray,
                   oldBitmaps, userLogging, histVars>>

(* kfree(old_slots), and the bitmaps LogOff dropped *)
FreeOldMemslots ==
    /\ At("FreeOldMemslots")
    /\ freedArrays' = freedArrays \cup {oldArray}
    /\ freedBitmaps' = freedBitmaps \cup oldBitmaps
    /\ oldArray' = None
    /\ oldBitmaps' = {}
    /\ Advance
    /\ UNCHANGED <<published, arrays, bits, wp, vmmLog, logLock, vcpuVars, op,
                   ret, harvests, toggles, userLogging, histVars>>

(* ppc: kvmppc_mmu_pte_pflush on every vCPU; ia64: kvm_flush_remote_tlbs *)
(* then spin_unlock(dirty_log_lock), unless the RFC's GET still has to    *)
(* clear the bitmap under it                                              *)
FlushShadowMappings ==
    /\ At("FlushShadowMappings")
    /\ wp' = Pages
    /\ logLock' = (logLock /\ Plan(op)[step + 1] = "ClearActiveBitmap")
    /\ Advance
    /\ UNCHANGED <<published, arrays, bits, freedArrays, freedBitmaps, vmmLog,
                   vcpuVars, op, ret, harvests, toggles, oldArray, oldBitmaps,
                   userLogging, histVars>>

(* ia64 kvm_ia64_sync_dirty_log under dirty_log_lock: OR the VMM log into *)
(* the active bitmap and clear it; then the is_dirty test                 *)
MergeVmmLog ==
    LET merged == bits[Slot.active] \cup vmmLog IN
    /\ At("MergeVmmLog")
    /\ ~logLock
    /\ bits' = [bits EXCEPT ![Slot.active] = merged]
    /\ vmmLog' = {}
    /\ IF merged = {}
          THEN /\ logLock' = FALSE
               /\ ret' = IF op = "switch" THEN "1" ELSE "0"
               /\ step' = IndexOf(op, "HarvestEnd")
          ELSE /\ logLock' = TRUE
               /\ UNCHANGED ret
               /\ Advance
    /\ UNCHANGED <<published, arrays, freedArrays, freedBitmaps, wp, vcpuVars,
                   op, harvests, toggles, oldArray, oldBitmaps, userLogging,
                   histVars>>

(* RFC ppc/ia64 GET: memset(memslot->dirty_bitmap, 0, n) after the flush, *)
(* then (ia64) spin_unlock(dirty_log_lock)                                 *)
ClearActiveBitmap ==
    /\ At("ClearActiveBitmap")
    /\ bits' = [bits EXCEPT ![Slot.active] = {}]
    /\ logLock' = FALSE
    /\ Advance
    /\ UNCHANGED <<published, arrays, freedArrays, freedBitmaps, wp, vmmLog,
                   vcpuVars, op, ret, harvests, toggles, oldArray, oldBitmaps,
                   userLogging, histVars>>

(* GET: copy_to_user of the cold bitmap after a switch, or of the active  *)
(* one in the RFC's ppc/ia64 path.  A clean GET clears the user buffer    *)
(* and returns 0 (folded into HarvestBegin).                              *)
CopyToUser ==
    /\ At("CopyToUser")
    /\ reported' = IF GetCopiesActive THEN bits[Slot.active] ELSE bits[Slot.cold]
    /\ Advance
    /\ UNCHANGED <<memVars, vcpuVars, op, ret, harvests, toggles, oldArray,
                   oldBitmaps, userLogging, owed, must, lastOp, sincePrev,
                   sinceCur>>

Finish(o) ==
    /\ op' = "none" /\ step' = 0
    /\ lastOp' = o
    /\ owed' = owed \ reported'

(* The ioctl returns.  A SWITCH that returned 0 continues in user space  *)
(* with ReadColdBitmap; everything else is over.                          *)
HarvestEnd ==
    /\ At("HarvestEnd")
    /\ logLock' = FALSE
    /\ IF op = "switch" /\ ret = "0"
          THEN /\ Advance /\ UNCHANGED <<op, lastOp, owed, reported>>
          ELSE /\ UNCHANGED reported /\ Finish(op)
    /\ UNCHANGED <<published, arrays, bits, freedArrays, freedBitmaps, wp,
                   vmmLog, vcpuVars, ret, harvests, toggles, oldArray,
                   oldBitmaps, userLogging, must, sincePrev, sinceCur>>

(* User space reads the cold bitmap it remembers (the old active one). *)
ReadColdBitmap ==
    /\ At("ReadColdBitmap")
    /\ reported' = bits[Slot.cold]
    /\ Finish(op)
    /\ UNCHANGED <<memVars, vcpuVars, ret, harvests, toggles, oldArray,
                   oldBitmaps, userLogging, must, sincePrev, sinceCur>>

(* KVM_SET_USER_MEMORY_REGION returns *)
RegionUpdateEnd ==
    /\ At("RegionUpdateEnd")
    /\ userLogging' = Slot.logging
    /\ op' = "none" /\ step' = 0 /\ lastOp' = op
    /\ UNCHANGED <<memVars, vcpuVars, ret, harvests, toggles, oldArray,
                   oldBitmaps, owed, must, reported, sincePrev, sinceCur>>

ControlStep ==
    \/ WriteProtect \/ PublishMemslots \/ SwapBitmaps \/ GracePeriod
    \/ FreeOldMemslots \/ FlushShadowMappings \/ MergeVmmLog \/ CopyToUser
    \/ ClearActiveBitmap
    \/ HarvestEnd \/ ReadColdBitmap \/ RegionUpdateEnd

VcpuProgress(v) ==
    VcpuLookupSlot(v) \/ VcpuWriteFault(v) \/ VcpuStore(v) \/ VcpuExitSrcu(v)

Next ==
    \/ \E v \in Vcpus : VcpuEnterSrcu(v) \/ VcpuProgress(v)
    \/ \E k \in HarvestKinds, bad \in BOOLEAN : HarvestBegin(k, bad)
    \/ LogOff \/ LogOn
    \/ ControlStep

Spec == Init /\ [][Next]_vars

(* Harvest steps and vCPUs inside SRCU are never starved; user space need *)
(* not start new operations and vCPUs need not enter SRCU.                *)
FairSpec ==
    /\ Spec
    /\ WF_vars(ControlStep)
    /\ \A v \in Vcpus : WF_vars(VcpuProgress(v))

(***************************************************************************)
(* Properties                                                              *)
(***************************************************************************)
HarvestDone == op = "none" /\ lastOp \in {"switch", "get"}

(* Semantics §4: every write that completed before a harvest was invoked *)
(* is reported by it, or by an earlier harvest that returned after it.   *)
NoLostWrite == HarvestDone => must \subseteq reported

(* Between operations, each page of a logged slot is dirty in the active *)
(* bitmap (or the ia64 VMM log) or its next write faults.                *)
DirtyOrWriteProtected ==
    (op = "none" /\ Slot.logging) =>
        \A p \in Pages : p \in bits[Slot.active] \cup vmmLog \/ p \in wp

(* A SWITCH returns 1 only when the slot was clean (no completed write   *)
(* was waiting to be reported when it was invoked), and a 0 return hands *)
(* user space a non-empty cold bitmap.                                   *)
SwitchReturnsOneIffClean ==
    (op = "none" /\ lastOp = "switch") =>
        /\ ret = "1" => must = {}
        /\ ret = "0" => reported # {}

(* No vCPU that may still dereference its memslots array or bitmap       *)
(* pointer holds one that was freed.                                     *)
NoUseAfterFree ==
    \A v \in Vcpus : pc[v] = "access" =>
        /\ vslots[v] \notin freedArrays
        /\ vbm[v] \notin freedBitmaps

(* Weaker (a SHOULD): every reported page was written (faulted or stored) *)
(* since the previous harvest of the slot was invoked; harvests that      *)
(* failed with an errno do not count.                                    *)
Precision == HarvestDone => reported \subseteq sincePrev

(* Liveness: a started harvest returns. *)
HarvestCompletes == (op \in {"switch", "get"}) ~> (op = "none")
==============================================================================
