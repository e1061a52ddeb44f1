------------------------------ MODULE DirtyRing ------------------------------
(***************************************************************************)
(* The dirty ring (KVM_CAP_DIRTY_LOG_RING / _ACQ_REL,                     *)
(* KVM_RESET_DIRTY_RINGS, KVM_EXIT_DIRTY_RING_FULL) for one logged        *)
(* memslot, as virt/kvm/dirty_ring.c and api.rst 8.29 describe it.        *)
(*                                                                         *)
(* Actors                                                                  *)
(*  - vCPUs: store to pages of the slot while in guest mode.  A store to   *)
(*    a page whose tracking is armed (write-protected, or D bit clear)     *)
(*    is logged: with a CPU log buffer (VMX PML) into that buffer, which   *)
(*    reaches the ring only at a VM exit; without one, the write fault     *)
(*    pushes the entry (kvm_dirty_ring_push).  A store KVM emulates        *)
(*    (kvm_vcpu_write_guest) pushes on every call, armed or not: the       *)
(*    kernel does not de-duplicate.  A push that makes the ring soft-full  *)
(*    (used >= size - reserved) stops the vCPU with                        *)
(*    KVM_EXIT_DIRTY_RING_FULL; KVM_RUN does not enter the guest again     *)
(*    while the ring stays soft-full.                                      *)
(*  - one collector (user space + the ioctl): a harvest kicks every vCPU  *)
(*    out of guest mode (flushing the log buffers), collects each ring in *)
(*    order from its own fetch index, marking each DIRTY entry RESET,     *)
(*    calls KVM_RESET_DIRTY_RINGS (which walks each ring from its reset   *)
(*    index while entries are RESET, zeroes them and re-arms tracking of  *)
(*    their pages), and only then reads the collected pages.              *)
(*                                                                         *)
(* Memory is sequentially consistent: the release store of flags by KVM   *)
(* and the acquire load by the collector are what makes that true on a    *)
(* weakly ordered machine (the Java stress tests, not this model, check   *)
(* publication order).  A push is one step (slot, offset, then flags).    *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets, TLC

CONSTANTS
    Vcpus,          \* set of vCPUs (model values)
    Pages,          \* pages of the logged slot (model values)
    RingSize,       \* entries per vCPU ring
    Reserved,       \* reserved entries: the soft limit is RingSize - Reserved
    PmlSize,        \* entries of the CPU's log buffer; 0 = none (a fault pushes)
    EmulatedWrites, \* TRUE: any store may be emulated by KVM and push again
    MaxWrites,      \* bound on guest stores (keeps the state space finite)
    MaxHarvests,    \* bound on harvests
    SoftFullExit,   \* FALSE: a push reaching the soft limit does not stop the vCPU (wrong)
    Order,          \* "reference", "read-before-reset" (wrong), "no-kick" (wrong)
    CollectorSkips  \* TRUE: the collector may step over a DIRTY entry (wrong)

ASSUME RingSize \in Nat \ {0} /\ Reserved \in 1..RingSize /\ PmlSize \in Nat
ASSUME EmulatedWrites \in BOOLEAN /\ SoftFullExit \in BOOLEAN /\ CollectorSkips \in BOOLEAN
ASSUME MaxWrites \in Nat /\ MaxHarvests \in Nat
ASSUME Order \in {"reference", "read-before-reset", "no-kick"}

None == "none"   \* page of a free entry
EMPTY == 0   \* flags of a free (or reset) entry
DIRTY == 1   \* KVM_DIRTY_GFN_F_DIRTY
RESET == 2   \* KVM_DIRTY_GFN_F_RESET
Empty == [flags |-> EMPTY, page |-> None]
Entry == [flags : {DIRTY, RESET}, page : Pages] \cup {Empty}
Positions == 0..(RingSize - 1)
SoftLimit == RingSize - Reserved

VARIABLES
    \* kernel and shared ring memory
    ring,          \* vCPU -> position -> entry (the mmapped struct kvm_dirty_gfn array)
    dirtyIdx,      \* vCPU -> kernel's dirty_index (next push)
    resetIdx,      \* vCPU -> kernel's reset_index (next entry to reset)
    pml,           \* vCPU -> pages logged in the CPU buffer, not yet in the ring
    armed,         \* pages whose next hardware store is logged (write-protect / D bit)
    \* vCPUs
    mode,          \* vCPU -> "guest" (in KVM_RUN, storing) or "user" (KVM_RUN returned)
    exit,          \* vCPU -> exit reason of the last return: "none", "kick", "ring_full"
    writes,        \* guest stores so far
    \* collector
    op,            \* "none" or "harvest"
    step,          \* index into Plan
    harvests,      \* harvests begun
    fetchIdx,      \* vCPU -> the collector's own fetch index
    collected,     \* pages collected by the current harvest
    marked,        \* entries the current harvest marked RESET
    resetCount,    \* entries the current KVM_RESET_DIRTY_RINGS reset so far
    resetDone,     \* KVM_RESET_DIRTY_RINGS of the current harvest returned
    \* history (for the properties only)
    unread,        \* pages with a completed store not read by the collector since
    must           \* unread when the current / last harvest was invoked, minus what it read

kernelVars == <<ring, dirtyIdx, resetIdx, pml, armed>>
vcpuVars == <<mode, exit, writes>>
ctlVars == <<op, step, harvests, fetchIdx, collected, marked, resetCount, resetDone>>
histVars == <<unread, must>>
vars == <<kernelVars, vcpuVars, ctlVars, histVars>>

Used(v) == dirtyIdx[v] - resetIdx[v]
At(v, i) == ring[v][i % RingSize]

(***************************************************************************)
(* The harvest plans.                                                     *)
(***************************************************************************)
Plan ==
    CASE Order = "reference" ->
            <<"Kick", "Collect", "Reset", "ReadPages", "HarvestEnd">>
      [] Order = "read-before-reset" ->
            \* the pages are copied while the collected ones are still writable
            <<"Kick", "Collect", "ReadPages", "Reset", "HarvestEnd">>
      [] Order = "no-kick" ->
            \* entries still in a CPU log buffer are not in the ring yet
            <<"Collect", "Reset", "ReadPages", "HarvestEnd">>

InStep(name) == op = "harvest" /\ step <= Len(Plan) /\ Plan[step] = name
Advance == step' = step + 1

TypeOK ==
    /\ ring \in [Vcpus -> [Positions -> Entry]]
    /\ dirtyIdx \in [Vcpus -> Nat] /\ resetIdx \in [Vcpus -> Nat]
    /\ \A v \in Vcpus : resetIdx[v] <= dirtyIdx[v]
    /\ pml \in [Vcpus -> Seq(Pages)]
    /\ armed \subseteq Pages
    /\ mode \in [Vcpus -> {"guest", "user"}]
    /\ exit \in [Vcpus -> {"none", "kick", "ring_full"}]
    /\ writes \in 0..MaxWrites
    /\ op \in {"none", "harvest"} /\ step \in Nat /\ harvests \in 0..MaxHarvests
    /\ fetchIdx \in [Vcpus -> Nat]
    /\ collected \subseteq Pages /\ marked \in Nat /\ resetCount \in Nat
    /\ resetDone \in BOOLEAN
    /\ unread \subseteq Pages /\ must \subseteq Pages

Init ==
    /\ ring = [v \in Vcpus |-> [i \in Positions |-> Empty]]
    /\ dirtyIdx = [v \in Vcpus |-> 0]
    /\ resetIdx = [v \in Vcpus |-> 0]
    /\ pml = [v \in Vcpus |-> <<>>]
    /\ armed = Pages                    \* logging on, every page protected
    /\ mode = [v \in Vcpus |-> "guest"]
    /\ exit = [v \in Vcpus |-> "none"]
    /\ writes = 0
    /\ op = "none" /\ step = 0 /\ harvests = 0
    /\ fetchIdx = [v \in Vcpus |-> 0]
    /\ collected = {} /\ marked = 0 /\ resetCount = 0 /\ resetDone = FALSE
    /\ unread = {}                      \* the first full copy is done
    /\ must = {}

(***************************************************************************)
(* Pushes (kvm_dirty_ring_push): entry at dirty_index mod size, then      *)
(* dirty_index++.  A push into a full ring overwrites the oldest entry    *)
(* not yet reset; RingNeverOverwrites says that never happens.            *)
(***************************************************************************)
PushedRing(r, d, s) ==
    [i \in Positions |->
        LET ks == {k \in 1..Len(s) : (d + k - 1) % RingSize = i} IN
        IF ks = {} THEN r[i]
        ELSE [flags |-> DIRTY, page |-> s[CHOOSE k \in ks : \A j \in ks : j <= k]]]

(* Push the pages of s into v's ring; the vCPU stays in guest mode only  *)
(* while its ring is below the soft limit (kvm_dirty_ring_check_request  *)
(* at the next guest entry), unless SoftFullExit is off.                  *)
PushAndCheck(v, s) ==
    /\ ring' = [ring EXCEPT ![v] = PushedRing(ring[v], dirtyIdx[v], s)]
    /\ dirtyIdx' = [dirtyIdx EXCEPT ![v] = @ + Len(s)]
    /\ IF SoftFullExit /\ dirtyIdx[v] + Len(s) - resetIdx[v] >= SoftLimit
          THEN /\ mode' = [mode EXCEPT ![v] = "user"]
               /\ exit' = [exit EXCEPT ![v] = "ring_full"]
          ELSE UNCHANGED <<mode, exit>>

(***************************************************************************)
(* vCPU actions                                                           *)
(***************************************************************************)

(* A store by the guest to page p, logged by the hardware if p is armed.  *)
VcpuStore(v, p) ==
    /\ mode[v] = "guest" /\ writes < MaxWrites
    /\ CASE p \in armed /\ PmlSize > 0 ->
              \* the CPU sets the D bit and logs the gpa in its PML buffer
              /\ Len(pml[v]) < PmlSize
              /\ pml' = [pml EXCEPT ![v] = Append(@, p)]
              /\ armed' = armed \ {p}
              /\ UNCHANGED <<ring, dirtyIdx, mode, exit>>
         [] p \in armed ->
              \* write-protect fault: mark_page_dirty_in_slot pushes, the spte becomes writable
              /\ armed' = armed \ {p}
              /\ PushAndCheck(v, <<p>>)
              /\ UNCHANGED pml
         [] OTHER ->
              \* the page is writable: nothing is logged
              UNCHANGED <<ring, dirtyIdx, pml, armed, mode, exit>>
    /\ writes' = writes + 1
    /\ unread' = unread \cup {p}
    /\ UNCHANGED <<resetIdx, ctlVars, must>>

(* A store KVM emulates (kvm_vcpu_write_guest -> mark_page_dirty_in_slot): *)
(* it pushes whether or not the page is armed, so one page may have many   *)
(* entries (every instruction on a host that emulates the guest).         *)
VcpuEmulatedStore(v, p) ==
    /\ EmulatedWrites
    /\ mode[v] = "guest" /\ writes < MaxWrites
    /\ PushAndCheck(v, <<p>>)
    /\ writes' = writes + 1
    /\ unread' = unread \cup {p}
    /\ UNCHANGED <<resetIdx, pml, armed, ctlVars, must>>

(* PML-full VM exit: KVM flushes the buffer into the ring (vmx_flush_pml_buffer) *)
(* and re-enters the guest unless the ring is now soft-full.                     *)
VcpuPmlFull(v) ==
    /\ mode[v] = "guest" /\ PmlSize > 0 /\ Len(pml[v]) = PmlSize
    /\ PushAndCheck(v, pml[v])
    /\ pml' = [pml EXCEPT ![v] = <<>>]
    /\ UNCHANGED <<resetIdx, armed, writes, ctlVars, histVars>>

(* KVM_RUN from user space: enters the guest only below the soft limit    *)
(* (otherwise it returns KVM_EXIT_DIRTY_RING_FULL at once, cf87ac73).    *)
VcpuEnter(v) ==
    /\ mode[v] = "user"
    /\ Used(v) < SoftLimit
    /\ mode' = [mode EXCEPT ![v] = "guest"]
    /\ exit' = [exit EXCEPT ![v] = "none"]
    /\ UNCHANGED <<kernelVars, writes, ctlVars, histVars>>

(***************************************************************************)
(* Collector                                                              *)
(***************************************************************************)

(* The harvest is invoked: every store that completed before this moment *)
(* and was not read since must be read by this harvest.                   *)
HarvestBegin ==
    /\ op = "none" /\ harvests < MaxHarvests
    /\ op' = "harvest" /\ step' = 1 /\ harvests' = harvests + 1
    /\ collected' = {} /\ marked' = 0 /\ resetCount' = 0 /\ resetDone' = FALSE
    /\ must' = unread
    /\ UNCHANGED <<kernelVars, vcpuVars, fetchIdx, unread>>

(* A signal to every vCPU thread: KVM_RUN returns and the VM exit flushes *)
(* the CPU log buffer into the ring.                                      *)
Kick ==
    /\ InStep("Kick")
    /\ ring' = [v \in Vcpus |-> PushedRing(ring[v], dirtyIdx[v], pml[v])]
    /\ dirtyIdx' = [v \in Vcpus |-> dirtyIdx[v] + Len(pml[v])]
    /\ pml' = [v \in Vcpus |-> <<>>]
    /\ mode' = [v \in Vcpus |-> "user"]
    /\ exit' = [v \in Vcpus |-> IF mode[v] = "guest" THEN "kick" ELSE exit[v]]
    /\ Advance
    /\ UNCHANGED <<resetIdx, armed, writes, op, harvests, fetchIdx, collected,
                   marked, resetCount, resetDone, histVars>>

(* Load-acquire flags == DIRTY, record (slot, offset), store-release     *)
(* flags = RESET, advance the fetch index.                                *)
CollectEntry(v) ==
    LET e == At(v, fetchIdx[v]) IN
    /\ InStep("Collect")
    /\ e.flags = DIRTY
    /\ ring' = [ring EXCEPT ![v][fetchIdx[v] % RingSize] = [e EXCEPT !.flags = RESET]]
    /\ fetchIdx' = [fetchIdx EXCEPT ![v] = @ + 1]
    /\ collected' = collected \cup {e.page}
    /\ marked' = marked + 1
    /\ UNCHANGED <<dirtyIdx, resetIdx, pml, armed, vcpuVars, op, step, harvests,
                   resetCount, resetDone, histVars>>

(* Wrong: a collector that steps over a DIRTY entry (leaves it DIRTY,    *)
(* never records it) and goes on with the next one.                      *)
CollectSkip(v) ==
    /\ CollectorSkips
    /\ InStep("Collect")
    /\ At(v, fetchIdx[v]).flags = DIRTY
    /\ fetchIdx' = [fetchIdx EXCEPT ![v] = @ + 1]
    /\ UNCHANGED <<kernelVars, vcpuVars, op, step, harvests, collected, marked,
                   resetCount, resetDone, histVars>>

(* Every ring's next entry is not DIRTY: this harvest's collection ends. *)
CollectEnd ==
    /\ InStep("Collect")
    /\ \A v \in Vcpus : At(v, fetchIdx[v]).flags # DIRTY
    /\ Advance
    /\ UNCHANGED <<kernelVars, vcpuVars, op, harvests, fetchIdx, collected, marked,
                   resetCount, resetDone, histVars>>

(* KVM_RESET_DIRTY_RINGS, one entry: the walk from reset_index goes on   *)
(* only while flags has RESET; the entry is zeroed (store-release) and   *)
(* tracking of its page is re-armed (kvm_arch_mmu_enable_log_dirty_pt_masked). *)
ResetEntry(v) ==
    LET e == At(v, resetIdx[v]) IN
    /\ InStep("Reset")
    /\ e.flags = RESET
    /\ ring' = [ring EXCEPT ![v][resetIdx[v] % RingSize] = Empty]
    /\ resetIdx' = [resetIdx EXCEPT ![v] = @ + 1]
    /\ armed' = armed \cup {e.page}
    /\ resetCount' = resetCount + 1
    /\ UNCHANGED <<dirtyIdx, pml, vcpuVars, op, step, harvests, fetchIdx, collected,
                   marked, resetDone, histVars>>

(* Every walk stopped at an entry without RESET: the TLB flush, and the  *)
(* ioctl returns resetCount.                                              *)
ResetEnd ==
    /\ InStep("Reset")
    /\ \A v \in Vcpus : At(v, resetIdx[v]).flags # RESET
    /\ resetDone' = TRUE
    /\ Advance
    /\ UNCHANGED <<kernelVars, vcpuVars, op, harvests, fetchIdx, collected, marked,
                   resetCount, histVars>>

(* User space copies the pages it collected. *)
ReadPages ==
    /\ InStep("ReadPages")
    /\ unread' = unread \ collected
    /\ must' = must \ collected
    /\ Advance
    /\ UNCHANGED <<kernelVars, vcpuVars, op, harvests, fetchIdx, collected, marked,
                   resetCount, resetDone>>

HarvestEnd ==
    /\ InStep("HarvestEnd")
    /\ op' = "none" /\ step' = 0
    /\ UNCHANGED <<kernelVars, vcpuVars, harvests, fetchIdx, collected, marked,
                   resetCount, resetDone, histVars>>

ControlStep ==
    \/ Kick \/ CollectEnd \/ ResetEnd \/ ReadPages \/ HarvestEnd
    \/ \E v \in Vcpus : CollectEntry(v) \/ CollectSkip(v) \/ ResetEntry(v)

VcpuStep(v) ==
    \/ \E p \in Pages : VcpuStore(v, p) \/ VcpuEmulatedStore(v, p)
    \/ VcpuPmlFull(v) \/ VcpuEnter(v)

Next ==
    \/ \E v \in Vcpus : VcpuStep(v)
    \/ HarvestBegin
    \/ ControlStep

Spec == Init /\ [][Next]_vars

(* The collector's steps are never starved; vCPUs need not store and      *)
(* user space need not start harvests.                                    *)
FairSpec == Spec /\ WF_vars(ControlStep)

(***************************************************************************)
(* Properties                                                              *)
(***************************************************************************)

(* Semantics §4 and §10: every store that completed before a harvest was *)
(* invoked is read by that harvest or was read after it completed.       *)
NoLostWrite == op = "none" => must = {}

(* A push never lands on an entry that was not reset: at most RingSize   *)
(* entries are between reset_index and dirty_index.                       *)
RingNeverOverwrites == \A v \in Vcpus : Used(v) <= RingSize

(* KVM_RESET_DIRTY_RINGS returns exactly the number of entries this      *)
(* harvest marked RESET (the selftest's "cleared == count").              *)
ResetCountMatches == resetDone => resetCount = marked

(* The cause behind RingNeverOverwrites: no vCPU is in guest mode while  *)
(* its ring is at or past the soft limit.                                 *)
SoftFullStopsVcpu == \A v \in Vcpus : mode[v] = "guest" => Used(v) < SoftLimit

(* Liveness: an entry the collector marked RESET is eventually reset.    *)
HarvestedEventuallyReset ==
    \A v \in Vcpus :
        (\E i \in Positions : ring[v][i].flags = RESET)
            ~> (\A i \in Positions : ring[v][i].flags # RESET)
==============================================================================
