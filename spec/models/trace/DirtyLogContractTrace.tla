----------------------- MODULE DirtyLogContractTrace -----------------------
(***************************************************************************)
(* Trace validation: is a run the suite recorded (certify --trace) a      *)
(* behaviour of the user-visible contract DirtyLogContract?               *)
(*                                                                         *)
(* The kit generates module TraceData from the recorded events: Traces is *)
(* a sequence of behaviours (one per VM a rule used), each a sequence of   *)
(* elements, and TSlots, TPages, TLocations the values they name.  An     *)
(* element names the contract action that explains one recorded call (a  *)
(* call may need two: a GET is HarvestInvoke then HarvestReturn with the  *)
(* pages the buffer held) and carries the event's seq.  Variable i points *)
(* at the next element of behaviour b; every step takes one element and  *)
(* must be that contract action, with the recorded arguments and result.  *)
(*                                                                         *)
(* TLC explores every state the elements can lead to.  Reached records,   *)
(* per behaviour, the furthest element reached (TLC register b) and       *)
(* prints it with the contract's state there; a behaviour whose furthest  *)
(* point is past its last element conforms, any other is rejected at the *)
(* element after its furthest point, which no state reached so far can    *)
(* take.  Deadlock checking is off: the end of a trace is not an error.   *)
(***************************************************************************)
EXTENDS Naturals, Sequences, TLC, DirtyLogContract, TraceData

VARIABLES b, i

traceVars == <<vars, b, i>>

ASSUME \A x \in 1..Len(Traces) : TLCSet(x, 0)

(* A VM starts with no memslot; Init allows this state among others. *)
TraceInit ==
    /\ loc = [s \in Slots |-> NoSlot]
    /\ logging = [s \in Slots |-> FALSE]
    /\ owed = [s \in Slots |-> {}]
    /\ touched = [s \in Slots |-> {}]
    /\ op = Idle
    /\ opSlot = CHOOSE s \in Slots : TRUE
    /\ must = {} /\ may = {} /\ reported = {}
    /\ Init
    /\ b \in 1..Len(Traces)
    /\ i = 1

(* The contract action element e names, with its recorded arguments. *)
Explains(e) ==
    \/ e.a = "create" /\ CreateSlot(e.s, e.l, e.on)
    \/ e.a = "delete" /\ DeleteSlot(e.s)
    \/ e.a = "move" /\ MoveSlot(e.s, e.l)
    \/ e.a = "logging" /\ SetLogging(e.s, e.on)
    \/ e.a = "touch" /\ Touch(e.s, e.p)
    \/ e.a = "write" /\ Write(e.s, e.p)
    \/ e.a = "invoke" /\ HarvestInvoke(e.k, e.s)
    \/ e.a = "fail" /\ HarvestFail(e.k, e.s)
    \/ e.a = "return" /\ HarvestReturn(e.r)
    \/ e.a = "mget" /\ ManualGet(e.s, e.r)
    \/ e.a = "mclear" /\ ManualClear(e.s, e.ps)
    \/ e.a = "iset" /\ InitiallySetBitmap(e.s, e.ps)
    (* A harvest whose result user space never read (the copy failed with *)
    (* -EFAULT, or the cold bitmap was not read): some allowed result.    *)
    \/ e.a = "unobserved" /\ \E r \in {must, may} : HarvestReturn(r)
    (* A GET that failed with -EFAULT: the harvest ran and user space never *)
    (* saw its result, or it failed before it changed anything.             *)
    \/ e.a = "maybe_invoke" /\ (HarvestInvoke(e.k, e.s) \/ HarvestFail(e.k, e.s))
    \/ e.a = "maybe_return" /\ IF op # Idle THEN \E r \in {must, may} : HarvestReturn(r) ELSE UNCHANGED vars
    (* A call that changes nothing the contract sees (a failed region    *)
    (* update, one that changes only other flags).                        *)
    \/ e.a = "same" /\ UNCHANGED vars

TraceNext ==
    /\ i <= Len(Traces[b])
    /\ Explains(Traces[b][i])
    /\ i' = i + 1
    /\ UNCHANGED b

TraceSpec == TraceInit /\ [][TraceNext]_traceVars

ContractState == [loc |-> loc, logging |-> logging, owed |-> owed, touched |-> touched, op |-> op,
                  opSlot |-> opSlot, must |-> must, may |-> may, reported |-> reported]

(* Not a property: an invariant that always holds and prints each new     *)
(* furthest point of a behaviour with the contract's state there.         *)
Reached ==
    IF i > TLCGet(b)
    THEN TLCSet(b, i) /\ PrintT(<<"dirtylog-trace", b, i, ContractState>>)
    ELSE TRUE
==============================================================================
