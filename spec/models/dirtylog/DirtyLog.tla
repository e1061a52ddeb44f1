------------------------------ MODULE DirtyLog ------------------------------
(***************************************************************************)
(* Dirty-page logging with double-buffered bitmaps (the 2010 RFC          *)
(* KVM_SWITCH_DIRTY_LOG / KVM_GET_DIRTY_LOG), for one memslot, and on x86 *)
(* manual protect: KVM_GET_DIRTY_LOG that only copies, then               *)
(* KVM_CLEAR_DIRTY_LOG of what it returned, re-arming page by page        *)
(* (HarvestKinds = {"getclear"}, see "Manual protect" below).             *)
(*                                                                         *)
(* Actors                                                                  *)
(*  - vCPUs: enter an SRCU read section, look the slot up in the          *)
(*    published memslots array (loading its active bitmap pointer), take  *)
(*    a write fault if the page is not mapped writable for them, store,   *)
(*    leave.  The fault is split as each architecture's code splits it    *)
(*    (see "vCPU actions").                                               *)
(*  - one control thread (user space + the ioctl under slots_lock): runs  *)
(*    harvests (SWITCH + read of the cold bitmap, or GET) and turns       *)
(*    logging off and on (memslot replacement).                           *)
(*                                                                         *)
(* Each operation runs the steps of Plan(op) in order; the plan depends   *)
(* on the architecture (Arch) and on whether the RFC's order or the       *)
(* reference implementation's order is used (Order).  GracePeriod is the  *)
(* abstract SRCU grace period (SrcuGracePeriod): it waits for every vCPU  *)
(* that was inside its read section when the memslots were updated.     *)
(*                                                                         *)
(* The module has three layers, kept apart so that a contract of the      *)
(* user-visible behaviour can later be refined by it: the mechanics       *)
(* (kernel memory, vCPUs, control thread), the history variables (what    *)
(* user space was promised, written only through the Hist* operators),    *)
(* and the properties, stated over the history and the mechanics.         *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets, TLC

CONSTANTS
    Vcpus,          \* set of vCPUs (model values)
    Pages,          \* pages of the slot (model values)
    Arch,           \* "x86", "ppc" (book3s PR) or "ia64"
    Order,          \* "rfc" or "reference"
    HarvestKinds,   \* subset of {"switch", "get"}, or {"getclear"}
    InitiallySet,   \* manual protect with KVM_DIRTY_LOG_INITIALLY_SET
    MaxHarvests,    \* bound on harvests (keeps the state space finite)
    MaxLogToggles,  \* bound on LogOff/LogOn calls
    Defects         \* known-wrong variants to check (normally {}), see below

(***************************************************************************)
(* Defects, each named after the reference implementation's Defect:       *)
(*  "NoGracePeriod"       every GracePeriod step is left out              *)
(*  "NoFlushOnLogEnable"  LogOn does not write-protect / flush (b64d740e) *)
(*  "SwitchSkipsClear"    the harvest does not clear the spare bitmap     *)
(*                        before it becomes active                        *)
(*  "GracePeriodWaitsForAllReaders"  the grace period waits until no vCPU *)
(*                        is inside SRCU, so readers that enter after it  *)
(*                        began can starve it                             *)
(*  "ClearReArmsFirst"    KVM_CLEAR_DIRTY_LOG re-arms a page's protection *)
(*                        before it clears the page's bit                 *)
(*  "ClearsUncollected"   the user breaks its duty (semantics §8 C4): its *)
(*                        CLEAR mask names a page its GET did not return  *)
(***************************************************************************)
DefectNames == {"NoGracePeriod", "NoFlushOnLogEnable", "SwitchSkipsClear",
                "GracePeriodWaitsForAllReaders", "ClearReArmsFirst",
                "ClearsUncollected"}

ASSUME Arch \in {"x86", "ppc", "ia64"}
ASSUME Order \in {"rfc", "reference"}
ASSUME HarvestKinds \subseteq {"switch", "get"} \/ HarvestKinds = {"getclear"}
\* Manual protect is x86's (the kit's PowerPC and IA64 have no KVM_CLEAR_DIRTY_LOG) and is
\* modelled in the reference order only.
ASSUME HarvestKinds = {"getclear"} => Arch = "x86" /\ Order = "reference"
ASSUME InitiallySet \in BOOLEAN /\ (InitiallySet => HarvestKinds = {"getclear"})
ASSUME MaxHarvests \in Nat /\ MaxLogToggles \in Nat
ASSUME Defects \subseteq DefectNames

None == 0   \* null pointer for arrays and bitmaps

VARIABLES
    \* kernel memory
    published,     \* id of the memslots array vCPUs find (rcu pointer)
    arrays,        \* array id -> [logging, active, cold] (bitmap ids)
    bits,          \* bitmap id -> set of pages whose bit is set
    freedArrays,   \* memslots arrays already freed
    freedBitmaps,  \* bitmaps already freed
    mapped,        \* vCPU -> pages it can store to without a fault
                   \* (x86: a writable spte, one set shared by every vCPU;
                   \* ppc: a shadow HPTE in the vCPU's own cache; ia64: a
                   \* translation in the vCPU's own VHPT/TLB)
    vmmLog,        \* ia64: the VMM's own dirty log
    logLock,       \* ia64: dirty_log_lock held by the control thread
    \* vCPUs
    pc,            \* "idle", "lookup", "access", "map", "mark", "exit"
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
    clearMask,     \* getclear: the user's KVM_CLEAR_DIRTY_LOG mask
    taken,         \* getclear: pages of the mask still to re-arm
    \* history: user space's view, for the properties only
    userLogging,   \* user space has turned logging on (ioctl returned)
    owed,          \* pages with a completed, not yet reported write
    must,          \* owed when the current / last harvest was invoked
    reported,      \* pages the current / last harvest reported
    lastOp,        \* the last operation the control thread finished
    sincePrev,     \* pages written since the previous harvest was invoked
    sinceCur,      \* pages written since the current harvest was invoked
    unclaimed,     \* INITIALLY_SET bits no CLEAR has cleared yet
    excused        \* what the current / last getclear reported of them

memVars == <<published, arrays, bits, freedArrays, freedBitmaps, mapped,
             vmmLog, logLock>>
vcpuVars == <<pc, page, vslots, vbm, prior>>
ctlVars == <<op, step, ret, harvests, toggles, oldArray, oldBitmaps,
            clearMask, taken>>
histVars == <<userLogging, owed, must, reported, lastOp, sincePrev, sinceCur,
             unclaimed, excused>>
vars == <<memVars, vcpuVars, ctlVars, histVars>>

MaxArrays == 1 + MaxHarvests + MaxLogToggles
MaxBitmaps == 2 + 2 * MaxLogToggles
ArrayIds == 1..MaxArrays
BitmapIds == 1..MaxBitmaps
Memslot == [logging : BOOLEAN, active : BitmapIds \cup {None},
            cold : BitmapIds \cup {None}]
Ops == {"none", "switch", "get", "getclear", "logon", "logoff"}
Harvests == {"switch", "get", "getclear"}

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
            \* the seed: kvm_update_dirty_log swaps the two pointers and
            \* clears nothing; the book3s tail flushes every vCPU's shadow
            \* PTEs, then memsets memslot->dirty_bitmap, the new active one
            <<"SwapBitmaps", "FlushShadowMappings", "ClearActiveBitmap">>
      [] Arch = "ppc" /\ Order = "reference" ->
            \* a vCPU may hold the old active pointer: wait for it
            \* before the flush and before user space reads the bitmap
            <<"SwapBitmaps", "GracePeriod", "FlushShadowMappings">>
      [] Arch = "ia64" /\ Order = "rfc" ->
            \* the seed, all under dirty_log_lock: sync the VMM log, the
            \* generic swap, kvm_flush_remote_tlbs, memset of the new
            \* active bitmap
            <<"MergeVmmLog", "SwapBitmaps", "FlushShadowMappings",
              "ClearActiveBitmap">>
      [] Arch = "ia64" /\ Order = "reference" ->
            \* the generic reference swap; vCPUs mark the VMM log without
            \* dirty_log_lock here, so the lock may be held across it
            <<"MergeVmmLog", "SwapBitmaps", "GracePeriod",
              "FlushShadowMappings">>

(* KVM_GET_DIRTY_LOG on ppc and ia64 in the RFC does not swap: the generic *)
(* code copies the ACTIVE bitmap to user space, the arch code flushes and *)
(* then clears that bitmap (ia64: all under dirty_log_lock).              *)
GetCopiesActive == Arch # "x86" /\ Order = "rfc"

GetCore ==
    IF GetCopiesActive
       THEN (IF Arch = "ia64" THEN <<"MergeVmmLog">> ELSE <<>>)
            \o <<"CopyToUser", "FlushShadowMappings", "ClearActiveBitmap">>
       ELSE SwitchCore \o <<"CopyToUser">>

(***************************************************************************)
(* Manual protect (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, x86).  A harvest is  *)
(* "getclear": KVM_GET_DIRTY_LOG copies the active bitmap and neither      *)
(* clears nor re-arms (kvm_get_dirty_log_protect in manual mode); user     *)
(* space then builds its mask (ClearBegin) and calls KVM_CLEAR_DIRTY_LOG   *)
(* (kvm_clear_dirty_log_protect): one atomic_long_fetch_andnot per 64-page *)
(* word (ClearBits; the model's pages share one word), then               *)
(* kvm_arch_mmu_enable_log_dirty_pt_masked for the bits that really were   *)
(* set, one page at a time (ReArmPage: write-protect the spte and flush;  *)
(* a write between the spte change and the flush that follows the loop     *)
(* completes before CLEAR returns, so this harvest covers it).  The        *)
(* harvest is invoked at GET and returns when CLEAR does.                  *)
(*                                                                         *)
(* The modelled user's duty (semantics §8 C4, an assumption of the model): *)
(* its mask is exactly the pages its GET returned, and it reads their      *)
(* contents only after CLEAR returned (what "the harvest returns at        *)
(* HarvestEnd" stands for).  "ClearsUncollected" drops the first half.    *)
(*                                                                         *)
(* With INITIALLY_SET every bitmap starts with every page set and turning  *)
(* logging on write-protects nothing (kvm_prepare_memory_region,           *)
(* kvm_mmu_slot_apply_flags): protection is armed page by page by CLEAR.   *)
(***************************************************************************)
Manual == HarvestKinds = {"getclear"}
ReArmsFirst == "ClearReArmsFirst" \in Defects
NewBitmapBits == IF InitiallySet THEN Pages ELSE {}

(* kvm_clear_dirty_log_protect clears the bits, then re-arms what it took; *)
(* the defect re-arms the mask first, then clears.                         *)
ClearCore ==
    IF ReArmsFirst THEN <<"ReArmPage", "ClearBits">> ELSE <<"ClearBits", "ReArmPage">>

(* b64d740e: turning logging on must make every page fault again; with     *)
(* INITIALLY_SET every page is dirty instead, and CLEAR arms protection.   *)
LogOnProtect ==
    IF "NoFlushOnLogEnable" \in Defects \/ InitiallySet THEN <<>> ELSE <<Protect>>

RawPlan(o) ==
    CASE o = "switch" -> SwitchCore \o <<"HarvestEnd", "ReadColdBitmap">>
      [] o = "get"    -> GetCore \o <<"HarvestEnd">>
      [] o = "getclear" -> <<"CopyToUser", "ClearBegin">> \o ClearCore \o <<"HarvestEnd">>
      [] o = "logon"  -> <<"PublishMemslots", "GracePeriod", "FreeOldMemslots">>
                         \o LogOnProtect \o <<"RegionUpdateEnd">>
      [] o = "logoff" -> <<"PublishMemslots", "GracePeriod", "FreeOldMemslots",
                           "RegionUpdateEnd">>
      [] OTHER        -> <<>>

RECURSIVE Without(_, _)
Without(s, x) ==
    IF s = <<>> THEN <<>>
    ELSE (IF Head(s) = x THEN <<>> ELSE <<Head(s)>>) \o Without(Tail(s), x)

(* A constant, so TLC computes it once. *)
Plans ==
    [o \in Ops |-> IF "NoGracePeriod" \in Defects
                      THEN Without(RawPlan(o), "GracePeriod")
                      ELSE RawPlan(o)]

Plan(o) == Plans[o]

At(name) == op # "none" /\ step <= Len(Plan(op)) /\ Plan(op)[step] = name

IndexOf(o, name) == CHOOSE i \in 1..Len(Plan(o)) : Plan(o)[i] = name

(* The harvest clears the spare bitmap before it becomes active: x86      *)
(* (clear_user of dirty_bitmap_old before the copy is built) and the      *)
(* reference swap.  The seed's in-place swap does not (ClearActiveBitmap  *)
(* clears after the flush instead).                                       *)
ClearsSpare(how) ==
    /\ "SwitchSkipsClear" \notin Defects
    /\ (how = "publish" \/ Order = "reference")

Slot == arrays[published]

(***************************************************************************)
(* How each architecture splits a write fault.                            *)
(*  x86: one step under mmu_lock: mark_page_dirty through the loaded      *)
(*    pointer and make the spte writable (sptes are shared: every vCPU    *)
(*    sees it; kvm_mmu_slot_remove_write_access takes mmu_lock too).      *)
(*  ppc book3s PR (kvmppc_mmu_map_page): mark_page_dirty, then insert the *)
(*    shadow HPTE into this vCPU's cache; no lock orders either against   *)
(*    the harvest's swap and flush.                                       *)
(*  ia64 in the RFC (vtlb.c thash_purge_and_insert): insert the           *)
(*    translation into this vCPU's VHPT/TLB, then mark_pages_dirty in the *)
(*    VMM log under dirty_log_lock; the guest retries the store after.    *)
(*  ia64 in the reference implementation: mark the VMM log without the    *)
(*    lock, then make the page writable (as on ppc).                      *)
(***************************************************************************)
SplitFault == Arch # "x86"
MapsBeforeMarking == Arch = "ia64" /\ Order = "rfc"
MarkLocked == Arch = "ia64" /\ Order = "rfc"

TypeOK ==
    /\ published \in ArrayIds
    /\ DOMAIN arrays \subseteq ArrayIds
    /\ \A a \in DOMAIN arrays : arrays[a] \in Memslot
    /\ DOMAIN bits \subseteq BitmapIds
    /\ \A b \in DOMAIN bits : bits[b] \subseteq Pages
    /\ freedArrays \subseteq ArrayIds /\ freedBitmaps \subseteq BitmapIds
    /\ mapped \in [Vcpus -> SUBSET Pages]
    /\ vmmLog \subseteq Pages /\ logLock \in BOOLEAN
    /\ pc \in [Vcpus -> {"idle", "lookup", "access", "map", "mark", "exit"}]
    /\ page \in [Vcpus -> Pages]
    /\ vslots \in [Vcpus -> ArrayIds \cup {None}]
    /\ vbm \in [Vcpus -> BitmapIds \cup {None}]
    /\ prior \in [Vcpus -> BOOLEAN]
    /\ op \in Ops
    /\ clearMask \subseteq Pages /\ taken \subseteq Pages
    /\ unclaimed \subseteq Pages /\ excused \subseteq Pages
    /\ step \in Nat
    /\ ret \in {"0", "1", "EINVAL", "ENOENT", "none"}
    /\ harvests \in 0..MaxHarvests /\ toggles \in 0..MaxLogToggles
    /\ oldArray \in ArrayIds \cup {None} /\ oldBitmaps \subseteq BitmapIds
    /\ userLogging \in BOOLEAN
    /\ owed \subseteq Pages /\ must \subseteq Pages /\ reported \subseteq Pages
    /\ lastOp \in Ops
    /\ sincePrev \subseteq Pages /\ sinceCur \subseteq Pages

Init ==
    /\ published = 1
    /\ arrays = (1 :> [logging |-> TRUE, active |-> 1, cold |-> 2])
    /\ bits = (1 :> NewBitmapBits @@ 2 :> {})
    /\ freedArrays = {} /\ freedBitmaps = {}
    \* INITIALLY_SET: logging was switched on without write-protecting, so
    \* every page may still be mapped writable from before
    /\ mapped = [v \in Vcpus |-> IF InitiallySet THEN Pages ELSE {}]
    /\ vmmLog = {} /\ logLock = FALSE
    /\ pc = [v \in Vcpus |-> "idle"]
    /\ page \in [Vcpus -> Pages]
    /\ vslots = [v \in Vcpus |-> None]
    /\ vbm = [v \in Vcpus |-> None]
    /\ prior = [v \in Vcpus |-> FALSE]
    /\ op = "none" /\ step = 0 /\ ret = "none"
    /\ harvests = 0 /\ toggles = 0
    /\ oldArray = None /\ oldBitmaps = {}
    /\ clearMask = {} /\ taken = {}
    /\ userLogging = TRUE
    /\ owed = {} /\ must = {} /\ reported = {} /\ lastOp = "none"
    /\ sincePrev = {} /\ sinceCur = {}
    /\ unclaimed = NewBitmapBits /\ excused = {}

(***************************************************************************)
(* History.  Only these operators change the history variables; the       *)
(* mechanics below call them at the points where user space could tell.  *)
(***************************************************************************)

(* A new bitmap was published with every page set (INITIALLY_SET). *)
HistBitmapAllocated(new) ==
    /\ unclaimed' = new
    /\ UNCHANGED <<userLogging, owed, must, reported, lastOp, sincePrev,
                   sinceCur, excused>>

(* A write to p was attempted (a fault or a store): precision counts it. *)
HistTouch(p) ==
    /\ sincePrev' = sincePrev \cup {p}
    /\ sinceCur' = sinceCur \cup {p}

(* A store to p completed: it is owed to user space while logging is on. *)
HistStore(p) ==
    /\ owed' = IF userLogging THEN owed \cup {p} ELSE owed
    /\ HistTouch(p)
    /\ UNCHANGED <<userLogging, must, reported, lastOp, unclaimed, excused>>

(* A harvest was invoked; ok: it got past the errno checks. *)
HistHarvestInvoked(ok) ==
    /\ reported' = {}
    /\ excused' = {}
    /\ IF ok
          THEN /\ must' = owed
               /\ sincePrev' = sinceCur /\ sinceCur' = {}
          ELSE /\ must' = {}
               /\ UNCHANGED <<sincePrev, sinceCur>>
    /\ UNCHANGED <<userLogging, owed, lastOp, unclaimed>>

(* The operation o is over; what it reported is no longer owed. *)
HistOpDone(o, r) ==
    /\ reported' = r
    /\ lastOp' = o
    /\ owed' = owed \ r
    /\ UNCHANGED <<userLogging, must, sincePrev, sinceCur, unclaimed, excused>>

(* User space turned logging off: nothing more is owed; the bitmap, and   *)
(* any INITIALLY_SET bit in it, is gone.                                   *)
HistLogOff ==
    /\ userLogging' = FALSE
    /\ owed' = {}
    /\ unclaimed' = {}
    /\ UNCHANGED <<must, reported, lastOp, sincePrev, sinceCur, excused>>

(* KVM_SET_USER_MEMORY_REGION returned with logging on or off. *)
HistRegionUpdated(o, logging) ==
    /\ userLogging' = logging
    /\ lastOp' = o
    /\ UNCHANGED <<owed, must, reported, sincePrev, sinceCur, unclaimed, excused>>

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

(* Set the page's bit through the loaded pointer; ia64: in the VMM log. *)
MarkDirty(v, p) ==
    IF Arch = "ia64"
       THEN /\ vmmLog' = IF vbm[v] # None THEN vmmLog \cup {p} ELSE vmmLog
            /\ UNCHANGED bits
       ELSE /\ bits' = IF vbm[v] # None
                          THEN [bits EXCEPT ![vbm[v]] = @ \cup {p}]
                          ELSE bits
            /\ UNCHANGED vmmLog

(* The mark-dirty half of a write fault.  x86: the whole fault.          *)
VcpuWriteFault(v) ==
    LET p == page[v] IN
    /\ IF MapsBeforeMarking
          THEN /\ pc[v] = "mark"
               /\ MarkLocked => ~logLock
               /\ pc' = [pc EXCEPT ![v] = "access"]
               /\ UNCHANGED mapped
          ELSE /\ pc[v] = "access"
               /\ p \notin mapped[v]
               /\ IF SplitFault
                     THEN /\ pc' = [pc EXCEPT ![v] = "map"]
                          /\ UNCHANGED mapped
                     ELSE /\ mapped' = [u \in Vcpus |-> mapped[u] \cup {p}]
                          /\ UNCHANGED pc
    /\ MarkDirty(v, p)
    /\ HistTouch(p)
    /\ UNCHANGED <<published, arrays, freedArrays, freedBitmaps, logLock,
                   page, vslots, vbm, prior, ctlVars,
                   userLogging, owed, must, reported, lastOp, unclaimed, excused>>

(* The mapping half of a split fault: the shadow HPTE (ppc) or the       *)
(* translation (ia64) goes into this vCPU's own cache.                   *)
VcpuMapPage(v) ==
    LET p == page[v] IN
    /\ SplitFault
    /\ IF MapsBeforeMarking
          THEN /\ pc[v] = "access"
               /\ p \notin mapped[v]
               /\ pc' = [pc EXCEPT ![v] = "mark"]
          ELSE /\ pc[v] = "map"
               /\ pc' = [pc EXCEPT ![v] = "access"]
    /\ mapped' = [mapped EXCEPT ![v] = @ \cup {p}]
    /\ UNCHANGED <<published, arrays, bits, freedArrays, freedBitmaps, vmmLog,
                   logLock, page, vslots, vbm, prior, ctlVars, histVars>>

(* The guest store completes (the page is mapped writable). *)
VcpuStore(v) ==
    LET p == page[v] IN
    /\ pc[v] = "access"
    /\ p \in mapped[v]
    /\ pc' = [pc EXCEPT ![v] = "exit"]
    /\ HistStore(p)
    /\ UNCHANGED <<memVars, page, vslots, vbm, prior, ctlVars>>

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
    /\ CASE badSlot ->
              /\ ret' = "EINVAL" /\ step' = IndexOf(kind, "HarvestEnd")
              /\ HistHarvestInvoked(FALSE)
         [] ~Slot.logging ->
              /\ ret' = "ENOENT" /\ step' = IndexOf(kind, "HarvestEnd")
              /\ HistHarvestInvoked(FALSE)
         [] Arch # "ia64" /\ kind # "getclear" /\ bits[Slot.active] = {} ->
              /\ ret' = IF kind = "switch" THEN "1" ELSE "0"
              /\ step' = IndexOf(kind, "HarvestEnd")
              /\ HistHarvestInvoked(TRUE)
         [] OTHER ->
              /\ ret' = "0" /\ step' = 1
              /\ HistHarvestInvoked(TRUE)
    /\ UNCHANGED <<memVars, vcpuVars, toggles, oldArray, oldBitmaps, clearMask,
                   taken>>

(* KVM_SET_USER_MEMORY_REGION clearing KVM_MEM_LOG_DIRTY_PAGES *)
LogOff ==
    /\ op = "none" /\ toggles < MaxLogToggles /\ Slot.logging
    /\ op' = "logoff" /\ step' = 1 /\ toggles' = toggles + 1
    /\ HistLogOff
    /\ UNCHANGED <<memVars, vcpuVars, ret, harvests, oldArray, oldBitmaps,
                   clearMask, taken>>

(* KVM_SET_USER_MEMORY_REGION setting KVM_MEM_LOG_DIRTY_PAGES *)
LogOn ==
    /\ op = "none" /\ toggles < MaxLogToggles /\ ~Slot.logging
    /\ op' = "logon" /\ step' = 1 /\ toggles' = toggles + 1
    /\ UNCHANGED <<memVars, vcpuVars, ret, harvests, oldArray, oldBitmaps,
                   clearMask, taken, histVars>>

(***************************************************************************)
(* Control thread: the steps of the plans                                 *)
(***************************************************************************)
Advance == step' = step + 1

NoMappings == [v \in Vcpus |-> {}]

(* kvm_mmu_slot_remove_write_access (and its TLB flush), under mmu_lock *)
WriteProtect ==
    /\ At("WriteProtect")
    /\ mapped' = NoMappings
    /\ Advance
    /\ UNCHANGED <<published, arrays, bits, freedArrays, freedBitmaps, vmmLog,
                   logLock, vcpuVars, op, ret, harvests, toggles, oldArray,
                   oldBitmaps, clearMask, taken, histVars>>

NewArrayId == Cardinality(DOMAIN arrays) + 1
NewBitmapId == Cardinality(DOMAIN bits) + 1

(* Build a copy of the memslots array and rcu_assign_pointer it: for a    *)
(* harvest the bitmap pointers are exchanged and the spare is cleared;    *)
(* for LogOff the copy has no bitmaps; for LogOn two fresh ones (the      *)
(* active one all set under INITIALLY_SET).                              *)
PublishMemslots ==
    LET n == NewArrayId
        s == Slot
        b == NewBitmapId
    IN
    /\ At("PublishMemslots")
    /\ CASE op \in {"switch", "get"} ->
              /\ arrays' = arrays @@ (n :> [logging |-> TRUE, active |-> s.cold,
                                            cold |-> s.active])
              /\ bits' = IF ClearsSpare("publish")
                            THEN [bits EXCEPT ![s.cold] = {}]
                            ELSE bits
              /\ oldBitmaps' = {}
         [] op = "logoff" ->
              /\ arrays' = arrays @@ (n :> [logging |-> FALSE, active |-> None,
                                            cold |-> None])
              /\ bits' = bits
              /\ oldBitmaps' = {s.active, s.cold}
         [] op = "logon" ->
              /\ arrays' = arrays @@ (n :> [logging |-> TRUE, active |-> b,
                                            cold |-> b + 1])
              /\ bits' = bits @@ (b :> NewBitmapBits @@ (b + 1) :> {})
              /\ oldBitmaps' = {}
    /\ published' = n
    /\ oldArray' = published
    /\ prior' = [v \in Vcpus |-> pc[v] # "idle"]
    /\ Advance
    /\ IF op = "logon" /\ InitiallySet
          THEN HistBitmapAllocated(NewBitmapBits)
          ELSE UNCHANGED histVars
    /\ UNCHANGED <<freedArrays, freedBitmaps, mapped, vmmLog, logLock, pc,
                   page, vslots, vbm, op, ret, harvests, toggles, clearMask,
                   taken>>

(* The generic in-place swap of kvm_update_dirty_log: exchange the two    *)
(* pointers of the published slot; the reference order clears the spare   *)
(* first, the seed's does not.                                            *)
SwapBitmaps ==
    LET s == Slot IN
    /\ At("SwapBitmaps")
    /\ bits' = IF ClearsSpare("swap") THEN [bits EXCEPT ![s.cold] = {}] ELSE bits
    /\ arrays' = [arrays EXCEPT ![published] =
                    [@ EXCEPT !.active = s.cold, !.cold = s.active]]
    /\ prior' = [v \in Vcpus |-> pc[v] # "idle"]
    /\ Advance
    /\ UNCHANGED <<published, freedArrays, freedBitmaps, mapped, vmmLog,
                   logLock, pc, page, vslots, vbm, op, ret, harvests, toggles,
                   oldArray, oldBitmaps, clearMask, taken, histVars>>

(* synchronize_srcu(_expedited): every vCPU that was inside its read     *)
(* section at the last update has left it (TLA+: SrcuGracePeriod).  The  *)
(* defect waits for every vCPU inside now, old or new.                   *)
GracePeriod ==
    /\ At("GracePeriod")
    /\ IF "GracePeriodWaitsForAllReaders" \in Defects
          THEN \A v \in Vcpus : pc[v] = "idle"
          ELSE \A v \in Vcpus : ~prior[v]
    /\ Advance
    /\ UNCHANGED <<memVars, vcpuVars, op, ret, harvests, toggles, oldArray,
                   oldBitmaps, clearMask, taken, histVars>>

(* kfree(old_slots), and the bitmaps LogOff dropped *)
FreeOldMemslots ==
    /\ At("FreeOldMemslots")
    /\ freedArrays' = freedArrays \cup {oldArray}
    /\ freedBitmaps' = freedBitmaps \cup oldBitmaps
    /\ oldArray' = None
    /\ oldBitmaps' = {}
    /\ Advance
    /\ UNCHANGED <<published, arrays, bits, mapped, vmmLog, logLock, vcpuVars,
                   op, ret, harvests, toggles, clearMask, taken, histVars>>

(* ppc: kvmppc_mmu_pte_pflush on every vCPU; ia64: kvm_flush_remote_tlbs *)
(* then spin_unlock(dirty_log_lock), unless ClearActiveBitmap still has  *)
(* to run under it.  One step for all vCPUs: flushing vCPU u commutes    *)
(* with every step of another vCPU, so a per-vCPU loop adds nothing.     *)
FlushShadowMappings ==
    /\ At("FlushShadowMappings")
    /\ mapped' = NoMappings
    /\ logLock' = (logLock /\ Plan(op)[step + 1] = "ClearActiveBitmap")
    /\ Advance
    /\ UNCHANGED <<published, arrays, bits, freedArrays, freedBitmaps, vmmLog,
                   vcpuVars, op, ret, harvests, toggles, oldArray, oldBitmaps,
                   clearMask, taken, histVars>>

(* ia64 kvm_ia64_sync_dirty_log under dirty_log_lock: move the VMM log   *)
(* into the active bitmap; then the is_dirty test                         *)
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
    /\ UNCHANGED <<published, arrays, freedArrays, freedBitmaps, mapped,
                   vcpuVars, op, harvests, toggles, oldArray, oldBitmaps,
                   clearMask, taken, histVars>>

(* The RFC's ppc/ia64 tail: memset(memslot->dirty_bitmap, 0, n) after    *)
(* the flush (GET: the bitmap just copied; SWITCH: the new active one),   *)
(* then (ia64) spin_unlock(dirty_log_lock)                                *)
ClearActiveBitmap ==
    /\ At("ClearActiveBitmap")
    /\ bits' = [bits EXCEPT ![Slot.active] = {}]
    /\ logLock' = FALSE
    /\ Advance
    /\ UNCHANGED <<published, arrays, freedArrays, freedBitmaps, mapped,
                   vmmLog, vcpuVars, op, ret, harvests, toggles, oldArray,
                   oldBitmaps, clearMask, taken, histVars>>

(* GET: copy_to_user of the cold bitmap after a switch, or of the active  *)
(* one in the RFC's ppc/ia64 path and in manual mode (nothing cleared,     *)
(* nothing re-armed; what INITIALLY_SET alone made dirty is noted for     *)
(* Precision).  A clean GET clears the user buffer and returns 0 (folded  *)
(* into HarvestBegin; not in manual mode, where GET is a plain copy).     *)
CopyToUser ==
    /\ At("CopyToUser")
    /\ reported' = IF op = "getclear" \/ GetCopiesActive
                      THEN bits[Slot.active] ELSE bits[Slot.cold]
    /\ excused' = IF op = "getclear" THEN bits[Slot.active] \cap unclaimed ELSE excused
    /\ Advance
    /\ UNCHANGED <<memVars, vcpuVars, op, ret, harvests, toggles, oldArray,
                   oldBitmaps, clearMask, taken, userLogging, owed, must,
                   lastOp, sincePrev, sinceCur, unclaimed>>

(* User space builds its KVM_CLEAR_DIRTY_LOG mask and calls the ioctl    *)
(* (its checks pass: the slot is logged, the range is the whole slot).    *)
(* The modelled user clears exactly what its GET returned; with the       *)
(* defect it also names one page it did not collect.  In the rearm-first  *)
(* order the pages to re-arm are the mask's set bits, taken here.          *)
ConsumerMasks ==
    IF "ClearsUncollected" \in Defects THEN {reported \cup {x} : x \in Pages}
                                      ELSE {reported}

ClearBegin ==
    /\ At("ClearBegin")
    /\ \E m \in ConsumerMasks :
          /\ clearMask' = m
          /\ taken' = IF ReArmsFirst THEN m \cap bits[Slot.active] ELSE {}
    /\ step' = step + (IF ReArmsFirst /\ taken' = {} THEN 2 ELSE 1)
    /\ UNCHANGED <<memVars, vcpuVars, op, ret, harvests, toggles, oldArray,
                   oldBitmaps, histVars>>

(* atomic_long_fetch_andnot(mask, word): the mask's bits leave the active  *)
(* bitmap in one step, and the ones that were set are the pages to re-arm  *)
(* (mask &= old; bits of clean pages re-arm nothing).                      *)
ClearBits ==
    /\ At("ClearBits")
    /\ bits' = [bits EXCEPT ![Slot.active] = @ \ clearMask]
    /\ taken' = IF ReArmsFirst THEN {} ELSE bits[Slot.active] \cap clearMask
    /\ step' = step + (IF ~ReArmsFirst /\ taken' = {} THEN 2 ELSE 1)
    /\ unclaimed' = unclaimed \ clearMask
    /\ UNCHANGED <<published, arrays, freedArrays, freedBitmaps, mapped, vmmLog,
                   logLock, vcpuVars, op, ret, harvests, toggles, oldArray,
                   oldBitmaps, clearMask, userLogging, owed, must, reported,
                   lastOp, sincePrev, sinceCur, excused>>

(* kvm_arch_mmu_enable_log_dirty_pt_masked for one page: write-protect its *)
(* spte under mmu_lock (the flush after the loop folded in, see above).   *)
ReArmPage ==
    /\ At("ReArmPage")
    /\ \E p \in taken :
          /\ mapped' = [v \in Vcpus |-> mapped[v] \ {p}]
          /\ taken' = taken \ {p}
    /\ step' = IF taken' = {} THEN step + 1 ELSE step
    /\ UNCHANGED <<published, arrays, bits, freedArrays, freedBitmaps, vmmLog,
                   logLock, vcpuVars, op, ret, harvests, toggles, oldArray,
                   oldBitmaps, clearMask, histVars>>

Finish == op' = "none" /\ step' = 0

(* The ioctl returns.  A SWITCH that returned 0 continues in user space  *)
(* with ReadColdBitmap; everything else is over.                          *)
HarvestEnd ==
    /\ At("HarvestEnd")
    /\ logLock' = FALSE
    /\ IF op = "switch" /\ ret = "0"
          THEN /\ Advance /\ UNCHANGED <<op, histVars>>
          ELSE /\ Finish /\ HistOpDone(op, reported)
    /\ clearMask' = {}
    /\ UNCHANGED <<published, arrays, bits, freedArrays, freedBitmaps, mapped,
                   vmmLog, vcpuVars, ret, harvests, toggles, oldArray,
                   oldBitmaps, taken>>

(* User space reads the cold bitmap it remembers (the old active one). *)
ReadColdBitmap ==
    /\ At("ReadColdBitmap")
    /\ Finish
    /\ HistOpDone(op, bits[Slot.cold])
    /\ UNCHANGED <<memVars, vcpuVars, ret, harvests, toggles, oldArray,
                   oldBitmaps, clearMask, taken>>

(* KVM_SET_USER_MEMORY_REGION returns *)
RegionUpdateEnd ==
    /\ At("RegionUpdateEnd")
    /\ Finish
    /\ HistRegionUpdated(op, Slot.logging)
    /\ UNCHANGED <<memVars, vcpuVars, ret, harvests, toggles, oldArray,
                   oldBitmaps, clearMask, taken>>

ControlStep ==
    \/ WriteProtect \/ PublishMemslots \/ SwapBitmaps \/ GracePeriod
    \/ FreeOldMemslots \/ FlushShadowMappings \/ MergeVmmLog \/ CopyToUser
    \/ ClearActiveBitmap \/ ClearBegin \/ ClearBits \/ ReArmPage
    \/ HarvestEnd \/ ReadColdBitmap \/ RegionUpdateEnd

VcpuProgress(v) ==
    \/ VcpuLookupSlot(v) \/ VcpuWriteFault(v) \/ VcpuMapPage(v)
    \/ VcpuStore(v) \/ VcpuExitSrcu(v)

Next ==
    \/ \E v \in Vcpus : VcpuEnterSrcu(v) \/ VcpuProgress(v)
    \/ \E k \in HarvestKinds, bad \in BOOLEAN : HarvestBegin(k, bad)
    \/ LogOff \/ LogOn
    \/ ControlStep

Spec == Init /\ [][Next]_vars

(* Steps of a started operation and vCPUs inside SRCU are never starved; *)
(* user space need not start new operations and vCPUs need not enter     *)
(* SRCU.                                                                  *)
FairSpec ==
    /\ Spec
    /\ WF_vars(ControlStep)
    /\ \A v \in Vcpus : WF_vars(VcpuProgress(v))

(***************************************************************************)
(* Properties                                                              *)
(***************************************************************************)
HarvestDone == op = "none" /\ lastOp \in Harvests

(* Semantics §4: every write that completed before a harvest was invoked *)
(* is reported by it, or by an earlier harvest that returned after it.   *)
NoLostWrite == HarvestDone => must \subseteq reported

(* A vCPU that mapped p before marking it (ia64 in the RFC) stores only  *)
(* after the mark.                                                        *)
MarkPending(v, p) == pc[v] = "mark" /\ page[v] = p /\ vbm[v] # None

(* The next write to p by any vCPU faults, or marks p before it stores. *)
WriteFaults(p) == \A v \in Vcpus : p \in mapped[v] => MarkPending(v, p)

(* Between operations, each page of a logged slot is dirty in the active *)
(* bitmap (or the ia64 VMM log) or its next write faults.                *)
DirtyOrWriteProtected ==
    (op = "none" /\ Slot.logging) =>
        \A p \in Pages : p \in bits[Slot.active] \cup vmmLog \/ WriteFaults(p)

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
    \A v \in Vcpus : pc[v] \in {"access", "map", "mark"} =>
        /\ vslots[v] \notin freedArrays
        /\ vbm[v] \notin freedBitmaps

(* Weaker (a SHOULD): every reported page was written (faulted or stored) *)
(* since the previous harvest of the slot was invoked; harvests that      *)
(* failed with an errno do not count.  Excused, by name as in             *)
(* dirty_log_test: a page dirty only because INITIALLY_SET set it and no  *)
(* CLEAR has cleared it since.                                            *)
Precision == HarvestDone => reported \subseteq sincePrev \cup excused

(* Liveness: a started harvest returns. *)
HarvestCompletes == (op \in Harvests) ~> (op = "none")

(* Liveness: a started KVM_SET_USER_MEMORY_REGION returns. *)
RegionUpdateCompletes == (op \in {"logon", "logoff"}) ~> (op = "none")
==============================================================================
