package org.dirtylog.conformance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.dirtylog.spi.Capability;

/**
 * The rules a backend is certified against, in report order. Ids are stable: a rule that
 * changes meaning gets a new id. Sources: the 2010 RFC ("KVM: introduce new API for
 * getting/switching dirty bitmaps", the sections 4.39 and 4.40 of the api.txt it adds), the kernel's {@code api.rst} (4.8 {@code KVM_GET_DIRTY_LOG}, 4.35
 * {@code KVM_SET_USER_MEMORY_REGION}, 8.29 the dirty ring), the kernel source where the note
 * was wrong, the kit's semantics note ({@code §n}, {@code docs/semantics.md}) and the TLA+ properties of
 * {@code spec/models/dirtylog/DirtyLog.tla} and {@code spec/models/ring/DirtyRing.tla}.
 */
public final class RuleCatalogue {

    private static final Duration QUICK = Duration.ofSeconds(10);
    private static final Duration LONG = Duration.ofSeconds(40);

    private static final Capability GET = Capability.GET_DIRTY_LOG;
    private static final Capability USER = Capability.USER_DIRTY_LOG;
    private static final Capability WRITES = Capability.GUEST_WRITES;
    private static final Capability MOVE = Capability.MEMSLOT_MOVE;
    private static final Capability MANUAL = Capability.MANUAL_DIRTY_LOG_PROTECT;
    private static final Capability INITIALLY_SET = Capability.DIRTY_LOG_INITIALLY_SET;
    private static final Capability RING = Capability.DIRTY_LOG_RING;
    private static final Capability SEQUENTIAL = Capability.SEQUENTIAL_WRITES;
    private static final Capability RANDOM = Capability.RANDOM_WRITES;

    private static final List<Rule> RULES = List.of(
            must("CAP-01", CapabilityChecks::userDirtyLogGenerationMatchesTheIoctls,
                    "KVM_CHECK_EXTENSION(KVM_CAP_USER_DIRTY_LOG) returns the generation the backend "
                    + "declares (0 without the RFC ioctls); without them both RFC ioctls return -ENOTTY",
                    "RFC 4.39; semantics §1"),
            must("CAP-02", CapabilityChecks::memslotCountIsPositiveAndItsLastIdWorks,
                    "KVM_CHECK_EXTENSION(KVM_CAP_NR_MEMSLOTS) returns a positive slot count and the "
                    + "highest slot id below it can be created", "api.rst 4.35; semantics §3 S1"),

            must("USER-ADDR-01", UserDirtyLogAddrChecks::logSlotHasTwoDistinctCleanBitmaps,
                    "On a logged slot KVM_GET_USER_DIRTY_LOG_ADDR returns 0 and two distinct "
                    + "readable bitmaps of ALIGN(npages, 64) / 8 bytes, both all zero on a fresh slot",
                    "RFC 4.39; semantics §1, §3 S3", USER),
            must("USER-ADDR-02", UserDirtyLogAddrChecks::slotOutOfRangeIsInvalid,
                    "KVM_GET_USER_DIRTY_LOG_ADDR with a slot id at or past KVM_CAP_NR_MEMSLOTS, "
                    + "or in an address space that does not exist, returns -EINVAL", "RFC 4.39; semantics §1", USER),
            must("USER-ADDR-03", UserDirtyLogAddrChecks::slotWithoutLogIsNoEntry,
                    "KVM_GET_USER_DIRTY_LOG_ADDR on a slot that does not exist or has logging off "
                    + "returns -ENOENT", "RFC 4.39; semantics §1", USER),
            must("USER-ADDR-04", UserDirtyLogAddrChecks::unmappedArgumentIsFault,
                    "KVM_GET_USER_DIRTY_LOG_ADDR with an unmapped argument pointer returns -EFAULT "
                    + "and the next valid call succeeds", "RFC 4.39; semantics §1", USER),
            must("USER-ADDR-05", UserDirtyLogAddrChecks::addressesSurviveSwitches,
                    "The two bitmap addresses stay the same across switches (only their roles "
                    + "change), so user space can remember them as RFC 4.40 asks", "RFC 4.39, 4.40", USER, WRITES),

            must("SWITCH-01", SwitchDirtyLogChecks::cleanSlotReturnsOneAndSwitchesNothing,
                    "KVM_SWITCH_DIRTY_LOG on a clean slot returns 1 and switches nothing",
                    "RFC 4.40; TLA+ SwitchReturnsOneIffClean", USER),
            must("SWITCH-02", SwitchDirtyLogChecks::switchAfterWritesReturnsZeroAndColdHoldsThem,
                    "After guest writes KVM_SWITCH_DIRTY_LOG returns 0 and the previously active "
                    + "bitmap, now cold, holds exactly the written pages", "RFC 4.40; TLA+ NoLostWrite", USER, WRITES),
            must("SWITCH-03", SwitchDirtyLogChecks::activatedBitmapWasCleared,
                    "The bitmap a switch makes active was cleared first: pages of an older harvest "
                    + "are not reported again unless written again", "RFC 4.40; TLA+ Precision", USER, WRITES),
            must("SWITCH-04", SwitchDirtyLogChecks::writesAfterSwitchAreLoggedAgain,
                    "Writes after a switch are logged in the new active bitmap and reported by the "
                    + "next switch, also for pages written before it", "RFC 4.40; TLA+ DirtyOrWriteProtected",
                    USER, WRITES),
            must("SWITCH-05", SwitchDirtyLogChecks::slotOutOfRangeIsInvalid,
                    "KVM_SWITCH_DIRTY_LOG with a slot id at or past KVM_CAP_NR_MEMSLOTS, or in an "
                    + "address space that does not exist, returns -EINVAL", "RFC 4.40; semantics §1", USER),
            must("SWITCH-06", SwitchDirtyLogChecks::slotWithoutLogIsNoEntry,
                    "KVM_SWITCH_DIRTY_LOG on a slot that does not exist or has logging off returns "
                    + "-ENOENT", "RFC 4.40; semantics §1", USER),
            must("SWITCH-07", SwitchDirtyLogChecks::noBitsPastNpages,
                    "The RFC bitmaps have no bit set at or past npages (slot of 2^k + 3 pages, "
                    + "every page written)", "RFC 4.40 (log format of 4.7); semantics §1", USER, WRITES),

            must("GET-01", GetDirtyLogChecks::reportsExactlyTheWrittenPages,
                    "KVM_GET_DIRTY_LOG returns 0 and reports exactly the pages written since the slot "
                    + "was created", "api.rst 4.8; semantics §2 G1; TLA+ NoLostWrite", GET, WRITES),
            must("GET-02", GetDirtyLogChecks::clearsWhatItReturnsAndReArms,
                    "KVM_GET_DIRTY_LOG clears what it returns and re-arms tracking: write P, GET has P, "
                    + "GET has not, write P, GET has P", "api.rst 4.8; semantics §2 G2; TLA+ DirtyOrWriteProtected",
                    GET, WRITES),
            must("GET-03", GetDirtyLogChecks::writesTheWholeBuffer,
                    "KVM_GET_DIRTY_LOG writes all ALIGN(npages, 64) / 8 bytes of the buffer, zero words "
                    + "included: a clean slot gives 0 and an all-zero buffer", "api.rst 4.8; semantics §2 G1, §6",
                    GET, WRITES),
            must("GET-04", GetDirtyLogChecks::noBitsOrBytesPastTheBitmap,
                    "KVM_GET_DIRTY_LOG sets no bit at or past npages and writes no byte past the "
                    + "bitmap's size (slot of 2^k + 3 pages)", "api.rst 4.8; semantics §1, §6", GET, WRITES),
            must("GET-05", GetDirtyLogChecks::errorsInKernelOrder,
                    "KVM_GET_DIRTY_LOG checks its errors in order: -EINVAL (slot id out of range), "
                    + "-ENOENT (no slot or logging off), -EFAULT (buffer not writable)",
                    "api.rst 4.8; semantics §2 G4", GET),
            must("GET-06", GetDirtyLogChecks::faultLeavesTheVmUsable,
                    "After KVM_GET_DIRTY_LOG returned -EFAULT the VM stays usable: the next call "
                    + "succeeds and reports later writes", "api.rst 4.8; semantics §2 G4", GET, WRITES),
            must("GET-07", GetDirtyLogChecks::unknownAddressSpaceIsInvalid,
                    "A slot id whose address-space bits (16-31) name no address space gives -EINVAL",
                    "api.rst 4.8; semantics §2 G5", GET),

            must("SLOT-01", MemslotChecks::invalidArgumentsAreRejectedAndChangeNothing,
                    "KVM_SET_USER_MEMORY_REGION returns -EINVAL for a slot id out of range, an unknown "
                    + "flag, an unaligned size, guest or user address, and a size or user address change; the "
                    + "failed call changes nothing", "api.rst 4.35; semantics §3 S1, S2", GET, WRITES),
            must("SLOT-02", MemslotChecks::overlapIsExistAndChangesNothing,
                    "A slot overlapping another slot's guest range gives -EEXIST and changes nothing",
                    "api.rst 4.35; semantics §3 S1", GET, WRITES),
            must("SLOT-03", MemslotChecks::identicalCallIsANoOp,
                    "Repeating the call that created a slot returns 0 and changes nothing: pending "
                    + "dirty pages stay", "api.rst 4.35; semantics §3 S2", GET, WRITES),
            must("SLOT-04", MemslotChecks::sizeZeroDeletes,
                    "Size 0 deletes a slot: its guest addresses fault (-EFAULT from the vCPU) and "
                    + "KVM_GET_DIRTY_LOG returns -ENOENT", "api.rst 4.35; semantics §3 S1", GET, WRITES),

            must("SLOT-LOG-01", LogLifecycleChecks::loggingStartsWithACleanBitmap,
                    "Creating a slot with KVM_MEM_LOG_DIRTY_PAGES, or turning the flag on, gives "
                    + "an all-zero bitmap even when the pages were written before", "api.rst 4.35; semantics §3 S3",
                    GET, WRITES),
            must("SLOT-LOG-02", LogLifecycleChecks::offAndOnLeavesNoStaleBits,
                    "Turning logging off makes the dirty-log ioctls return -ENOENT; turning it on "
                    + "again leaves no stale bits", "api.rst 4.35; semantics §3 S4, §6", GET, WRITES),
            must("SLOT-LOG-03", LogLifecycleChecks::writesRightAfterEnablingAreReported,
                    "Writes right after logging is turned on are reported, also to pages the guest "
                    + "wrote just before", "semantics §6 b64d740e; TLA+ DirtyOrWriteProtected", GET, WRITES),
            must("SLOT-LOG-04", LogLifecycleChecks::moveKeepsPendingBits,
                    "Moving a logged slot keeps its pending dirty pages, and writes at the new "
                    + "address are logged at the same page index", "api.rst 4.35; semantics §3 S5",
                    GET, WRITES, MOVE),
            must("SLOT-LOG-05", LogLifecycleChecks::deleteLosesBits,
                    "Deleting a logged slot loses its dirty pages: re-creating the slot id starts "
                    + "with an all-zero bitmap", "api.rst 4.35; semantics §3 S5", GET, WRITES),
            must("SLOT-LOG-06", LogLifecycleChecks::offAndOnGivesFreshRfcBitmaps,
                    "After logging off and on, both RFC bitmaps are all zero and the first switch "
                    + "reports only the writes made since", "RFC 4.39; semantics §3 S4, §6", USER, WRITES),

            race("RACE-01", ConcurrencyChecks::noLostWriteWithSwitchDirtyLog,
                    Level.MUST, "No lost write with KVM_SWITCH_DIRTY_LOG: while every vCPU the backend has (up to 4) "
                    + "runs batches of writes of distinct values into a 2^15 + 3 page slot and the kit harvests back to "
                    + "back, each write is reported by the first harvest invoked after it completed or an earlier one "
                    + "that returned after it; too few judged writes is an ERROR; with random writes also the selftest "
                    + "oracle (2^11 + 3 pages)", "semantics §4; RFC 4.40; TLA+ NoLostWrite", USER, WRITES),
            race("RACE-02", ConcurrencyChecks::noLostWriteWithGetDirtyLog,
                    Level.MUST, "No lost write with KVM_GET_DIRTY_LOG under the same oracles",
                    "semantics §4; api.rst 4.8; TLA+ NoLostWrite", GET, WRITES),
            race("RACE-03", ConcurrencyChecks::concurrentWritesToOneWordAreAllReported,
                    Level.MUST, "Concurrent guest writes to pages sharing one 64-bit bitmap word "
                    + "are all reported (the bit set is atomic)", "semantics §6 50e92b3c; TLA+ NoLostWrite",
                    WRITES),
            race("RACE-04", ConcurrencyChecks::harvestingOneSlotLeavesTheOtherLogged,
                    Level.MUST, "Harvesting one of two logged slots (the lowest free id and KVM_CAP_NR_MEMSLOTS - 1, "
                    + "each with a harvest ioctl drawn from the seed) neither clears the other's log nor leaves its pages "
                    + "writable and unlogged: under concurrent writes to both, every write is reported",
                    "api.rst 4.8; RFC 4.40; semantics §4; TLA+ NoLostWrite", WRITES),
            race("PREC-01", ConcurrencyChecks::harvestsReportOnlyRecentWrites,
                    Level.SHOULD, "Under concurrent writes a harvest reports only pages written since "
                    + "the harvest before it began (a write racing with that harvest may be reported twice)",
                    "semantics §4 precision; TLA+ Precision", GET, WRITES),
            must("MANUAL-01", ManualProtectChecks::maskMatchesTheDeclaredCapabilities,
                    "KVM_CHECK_EXTENSION(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) returns a mask with bit 0 "
                    + "(MANUAL_PROTECT_ENABLE) set, and bit 1 (INITIALLY_SET) set exactly when the backend declares "
                    + "initially-set", "api.rst 7.18; semantics §8 M1; kvm_vm_ioctl_check_extension_generic", MANUAL),
            must("MANUAL-02", ManualProtectChecks::enableCapRejectsWhatTheMaskDoesNotAllowAndChangesNothing,
                    "KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) returns 0 for args[0] 0, ENABLE and (when "
                    + "declared) ENABLE with INITIALLY_SET, and -EINVAL for flags other than 0, INITIALLY_SET without "
                    + "ENABLE or any bit outside the mask; a failed call leaves the mode as it was",
                    "api.rst 7.18; semantics §8 M2; kvm_vm_ioctl_enable_cap_generic", MANUAL, GET, WRITES),
            must("MANUAL-03", ManualProtectChecks::getInManualModeNeitherClearsNorReArms,
                    "With manual protect on KVM_GET_DIRTY_LOG neither clears nor re-arms: pages stay reported until "
                    + "KVM_CLEAR_DIRTY_LOG clears them, a GET that fails with -EFAULT loses nothing, and turning "
                    + "manual protect off makes GET clear again", "api.rst 4.8, 7.18; semantics §2 G3, G4, §8 M3; "
                    + "kvm_get_dirty_log_protect", MANUAL, GET, WRITES),
            must("MANUAL-04", ManualProtectChecks::initiallySetReportsEveryPageUntilCleared,
                    "With INITIALLY_SET every bitmap allocated afterwards (a slot created with logging, or logging "
                    + "turned on) reports every page and no bit past npages until cleared, a bitmap allocated before "
                    + "stays as it was, and KVM_CLEAR_DIRTY_LOG arms tracking for the pages it clears",
                    "api.rst 7.18; semantics §8 M3; kvm_prepare_memory_region, kvm_mmu_slot_apply_flags",
                    MANUAL, INITIALLY_SET, GET, WRITES),

            must("CLEAR-01", ClearDirtyLogChecks::clearsExactlyTheDirtyPagesItNames,
                    "KVM_CLEAR_DIRTY_LOG returns 0 and clears exactly the dirty pages its bitmap names; bits for clean "
                    + "pages are ignored and those pages stay tracked", "api.rst 4.117; semantics §8 C1; "
                    + "kvm_clear_dirty_log_protect", MANUAL, GET, WRITES),
            must("CLEAR-02", ClearDirtyLogChecks::clearReArmsTrackingOfWhatItCleared,
                    "KVM_CLEAR_DIRTY_LOG re-arms tracking of the pages it clears before it returns: a write after it "
                    + "is reported by the next GET", "api.rst 4.117; semantics §8 C1; "
                    + "kvm_arch_mmu_enable_log_dirty_pt_masked; TLA+ DirtyOrWriteProtected", MANUAL, GET, WRITES),
            must("CLEAR-03", ClearDirtyLogChecks::rangeChecksAreTheKernels,
                    "KVM_CLEAR_DIRTY_LOG checks the range as the kernel does: on 100 pages (first_page, num_pages) "
                    + "(0,64), (64,36), (0,100), (64,0) return 0, and (64,32), (0,128), (0,99), (128,0), a first_page "
                    + "not a multiple of 64 and unsigned overflows return -EINVAL", "api.rst 4.117; semantics §8 C2; "
                    + "kvm_clear_dirty_log_protect; fixes 98938aa8, 76d58e0f", MANUAL),
            must("CLEAR-04", ClearDirtyLogChecks::errorsInKernelOrder,
                    "KVM_CLEAR_DIRTY_LOG checks its errors in order: -EINVAL (slot id or address space), -EINVAL "
                    + "(first_page not a multiple of 64), -ENOENT (no slot or logging off), -EINVAL (range), -EFAULT "
                    + "(bitmap not readable)", "api.rst 4.117; semantics §8 C2; kvm_clear_dirty_log_protect", MANUAL),
            must("CLEAR-05", ClearDirtyLogChecks::readsExactlyTheBitmapsBytes,
                    "KVM_CLEAR_DIRTY_LOG reads exactly ALIGN(num_pages, 64) / 8 bytes of the bitmap: one ending right "
                    + "before an unmapped page works, one with a byte unmapped gives -EFAULT, num_pages 0 reads nothing",
                    "semantics §8 C3; kvm_clear_dirty_log_protect; fix 4ddc9204", MANUAL, GET, WRITES),
            must("CLEAR-06", ClearDirtyLogChecks::thePartialLastWordIsProcessed,
                    "KVM_CLEAR_DIRTY_LOG processes a partial last word and ignores its bits past the slot's end (slot "
                    + "of 100 pages, first_page 64, num_pages 36, all 64 bits set)", "api.rst 4.117; semantics §8 C1, "
                    + "C3; kvm_clear_dirty_log_protect", MANUAL, GET, WRITES),
            must("CLEAR-07", ClearDirtyLogChecks::aFailedClearChangesNothing,
                    "A KVM_CLEAR_DIRTY_LOG that fails changes nothing: after each error case, given all-ones bitmap "
                    + "words, GET reports the same pages and they stay tracked", "semantics §8 C2; "
                    + "kvm_clear_dirty_log_protect", MANUAL, GET, WRITES),
            must("CLEAR-08", ClearDirtyLogChecks::clearWorksWithManualProtectOff,
                    "KVM_CLEAR_DIRTY_LOG works with manual protect off: it clears and re-arms what it names, and GET "
                    + "then reports and clears the rest", "api.rst 4.117; semantics §8 C1; kvm_vm_ioctl_clear_dirty_log",
                    MANUAL, GET, WRITES),
            race("CLEAR-09", ConcurrencyChecks::noLostWriteWithGetAndClear,
                    Level.MUST, "No lost write when each harvest is GET then KVM_CLEAR_DIRTY_LOG of exactly what GET "
                    + "returned (manual protect, INITIALLY_SET when declared), under the oracles of RACE-01: each write "
                    + "is reported by the first harvest invoked after it completed or an earlier one that returned after "
                    + "it", "semantics §8 C4, §10; dirty_log_test -M clear-log; TLA+ NoLostWrite", MANUAL, GET, WRITES),
            race("CLEAR-10", ConcurrencyChecks::getAndClearReportOnlyRecentWrites,
                    Level.SHOULD, "Under concurrent writes a GET+CLEAR harvest reports only pages written since the "
                    + "previous one began, except the slot's first harvest under INITIALLY_SET (the selftest's "
                    + "allowance)", "semantics §10 precision; dirty_log_test -M clear-log; TLA+ Precision",
                    MANUAL, GET, WRITES),

            race("MODEL-01", ModelChecks::sequencesAgreeWithTheModel,
                    Level.MUST, "Random sequences of memslot changes, guest writes on several vCPUs, "
                    + "harvests of every kind the backend has (each slot's kind drawn per sequence; KVM_CAP_NR_MEMSLOTS - 1 "
                    + "is one of the slot ids), manual protect on and off with KVM_CLEAR_DIRTY_LOG, logging on/off and "
                    + "invalid arguments give the results of the suite's abstract model of the specification",
                    "semantics §1-§3, §8; RFC 4.39, 4.40; api.rst 4.8, 4.35, 4.117, 7.18", GET, WRITES),
            race("MODEL-02", ContractReplayChecks::simulatedBehavioursHold, Level.MUST,
                    "Behaviours of the TLA+ contract from TLC -simulate (two slot ids, three places, three pages; "
                    + "slots created, moved, deleted, logging toggled, guest writes, harvests by KVM_GET_DIRTY_LOG, "
                    + "KVM_SWITCH_DIRTY_LOG, GET+CLEAR and the dirty ring as the backend offers them, and failed ones), "
                    + "replayed on fresh VMs: every harvest reports every page owed when it was invoked and no page "
                    + "outside what the contract allows", "TLA+ DirtyLogContract (TLC -simulate)", GET, WRITES),

            must("RING-01", DirtyRingChecks::capabilitiesReportTheLargestRing,
                    "KVM_CHECK_EXTENSION of KVM_CAP_DIRTY_LOG_RING and _ACQ_REL returns the largest ring in bytes, "
                    + "non-zero for at least one: a power of two of at least one page that a fresh VM accepts, while "
                    + "twice it is -E2BIG", "api.rst 8.29; kvm_main.c kvm_vm_ioctl_check_extension_generic; "
                    + "semantics §9 R1", RING),
            must("RING-02", DirtyRingChecks::enableChecksTheSizeInKernelOrder,
                    "KVM_ENABLE_CAP of the ring checks the size in the kernel's order: 0 or not a power of two is "
                    + "-EINVAL (also above the largest), below the smallest accepted size (a page, and 64 reserved "
                    + "entries plus the CPU log buffer) -EINVAL, above the largest -E2BIG; failed calls leave the ring "
                    + "off", "api.rst 8.29; kvm_main.c kvm_vm_ioctl_enable_dirty_log_ring; semantics §9 R1 (corrected)",
                    RING),
            must("RING-03", DirtyRingChecks::enableOnlyOnceAndBeforeTheFirstVcpu,
                    "The ring is enabled once and before the first KVM_CREATE_VCPU: again (by either capability) or "
                    + "after a vCPU exists is -EINVAL, an over-large size is -E2BIG even then (checked first), and a "
                    + "capability KVM_CHECK_EXTENSION reports as 0 is -EINVAL", "api.rst 8.29; kvm_main.c "
                    + "kvm_vm_ioctl_enable_cap_generic, kvm_vm_ioctl_enable_dirty_log_ring; 7a2726ec; semantics §9 R1 "
                    + "(corrected)", RING),
            must("RING-04", DirtyRingChecks::ringIsMappedSharedFromTheVcpuFd,
                    "A vCPU's ring is the mmap of its fd at KVM_DIRTY_LOG_PAGE_OFFSET: MAP_SHARED mappings, read-write "
                    + "or read-only, show the same zeroed entries the backend pushes; MAP_PRIVATE is -EINVAL, PROT_EXEC "
                    + "is refused, and without a ring there is nothing to map", "api.rst 8.29; kvm_main.c kvm_vcpu_mmap; "
                    + "semantics §9 R2", RING, WRITES),
            must("RING-05", DirtyRingChecks::entriesNameSlotAndOffsetInTheWritingVcpusRing,
                    "A store to a logged page pushes a DIRTY entry into the ring of the vCPU that made it, with slot = "
                    + "(as_id << 16) + id and offset = gfn - base_gfn, in the order of the stores (a page may repeat: the "
                    + "kernel pushes on every mark)", "api.rst 8.29; kvm_main.c mark_page_dirty_in_slot; dirty_ring.c "
                    + "kvm_dirty_ring_push; semantics §9 R2, R3 (corrected)", RING, WRITES),
            must("RING-06", DirtyRingChecks::onlyLoggedSlotsPushEntries,
                    "Only slots with KVM_MEM_LOG_DIRTY_PAGES push entries: stores to an unlogged slot push none, turning "
                    + "the flag on makes them push, turning it off stops them", "api.rst 8.29; kvm_main.c "
                    + "mark_page_dirty_in_slot; semantics §9 R3", RING, WRITES),
            must("RING-07", DirtyRingChecks::aPageIsPushedAgainAfterItsEntryWasReset,
                    "A page whose entry was harvested and reset is pushed again at its next store: "
                    + "KVM_RESET_DIRTY_RINGS re-arms its tracking", "api.rst 8.29; dirty_ring.c kvm_dirty_ring_reset; "
                    + "semantics §9 R3 (corrected), R5; TLA+ ResetEntry", RING, WRITES),
            must("RING-08", DirtyRingChecks::resetResetsOnlyTheHarvestedPrefixAndCountsIt,
                    "KVM_RESET_DIRTY_RINGS resets only the contiguous run of RESET entries from the reset index "
                    + "(it stops at the first unharvested entry), zeroes them and returns how many; without a ring it "
                    + "is -EINVAL", "api.rst 8.29; dirty_ring.c kvm_dirty_ring_reset; kvm_main.c "
                    + "kvm_vm_ioctl_reset_dirty_pages; semantics §9 R5 (corrected); TLA+ ResetCountMatches", RING, WRITES),
            must("RING-09", DirtyRingChecks::getDirtyLogIsNoDeviceWithTheRing,
                    "With the ring on, KVM_GET_DIRTY_LOG returns -ENXIO before any other check: slots logged before or "
                    + "after the ring was enabled, a slot id out of range, a missing slot, an unmapped buffer; where "
                    + "manual protect is offered, KVM_CLEAR_DIRTY_LOG answers the same",
                    "kvm_main.c kvm_vm_ioctl_get_dirty_log, kvm_clear_dirty_log_protect; semantics §8 C2, §9 R8 (corrected)", RING, GET),
            must("RING-10", DirtyRingChecks::aFullRingStopsTheVcpuBeforeAnEntryIsLost,
                    "A vCPU that keeps storing to new pages stops with KVM_EXIT_DIRTY_RING_FULL before its ring "
                    + "overwrites an unharvested entry (every completed store's page is in the ring, in order), does "
                    + "not enter the guest again while the ring is soft-full, and goes on after the harvest and reset",
                    "dirty_ring.c kvm_dirty_ring_push, kvm_dirty_ring_check_request; cf87ac73; semantics §9 R6; "
                    + "TLA+ RingNeverOverwrites", RING, WRITES),
            ringRace("RING-11", RingOracle::noLostWrite, Level.MUST,
                    "No lost write with the dirty ring (kick, collect in order, mark RESET, KVM_RESET_DIRTY_RINGS, then "
                    + "read the pages): a dense sequential and a random writer refill the smallest ring to its soft "
                    + "limit over and over; a page whose value changed between two reads is collected by the next "
                    + "harvest or the one after it, and each reset returns what was harvested", "semantics §4, §10; "
                    + "api.rst 8.29; dirty_log_test.c dirty-ring mode; TLA+ NoLostWrite", RING, RANDOM, SEQUENTIAL),
            ringRace("RING-12", RingOracle::reportsOnlyPagesWrittenInTheIteration, Level.SHOULD,
                    "Precision with the dirty ring: a page collected in an iteration holds that iteration's value, "
                    + "except the selftest's two ring allowances by name (the last entry of a vCPU's ring in the "
                    + "iteration, LAST_ENTRY_NOT_RETIRED; the previous iteration's last entry holding the previous "
                    + "value, PREVIOUS_LAST_ENTRY_REPLAYED)", "semantics §10 (corrected); dirty_log_test.c "
                    + "vm_dirty_log_verify (mainline 2025)", RING, RANDOM, SEQUENTIAL),
            race("RING-13", ConcurrencyChecks::noLostWriteWithTheDirtyRing, Level.MUST,
                    "No lost write with the dirty ring under the selftest oracle of RACE-01/02 (2^11 + 3 pages, the "
                    + "backend's random writers on every vCPU, bursts of harvests while they write), each harvest a "
                    + "kick, an in-order collection of every ring and KVM_RESET_DIRTY_RINGS before the pages are read",
                    "semantics §4, §10; api.rst 8.29; TLA+ NoLostWrite", RING, RANDOM));

    private static final Map<String, Rule> BY_ID = index();

    private RuleCatalogue() {
    }

    /** Returns every rule, in report order. */
    public static List<Rule> rules() {
        return RULES;
    }

    /** Returns the rule with {@code id}, if the catalogue has it. */
    public static Optional<Rule> byId(String id) {
        return Optional.ofNullable(BY_ID.get(id));
    }

    private static Rule must(String id, Rule.Check check, String statement, String source, Capability... requires) {
        return new Rule(id, statement, source, Level.MUST, caps(requires), 1, QUICK, check);
    }

    private static Rule race(String id, Rule.Check check, Level level, String statement, String source,
                             Capability... requires) {
        return new Rule(id, statement, source, level, caps(requires), 1, LONG, check);
    }

    private static Rule ringRace(String id, Rule.Check check, Level level, String statement, String source,
                                 Capability... requires) {
        return new Rule(id, statement, source, level, caps(requires), 1, LONG, check);
    }

        private static EnumSet<Capability> caps(Capability... requires) {
        EnumSet<Capability> set = EnumSet.noneOf(Capability.class);
        set.addAll(List.of(requires));
        return set;
    }

    private static Map<String, Rule> index() {
        Map<String, Rule> map = new LinkedHashMap<>();
        for (Rule r : RULES) {
            if (map.put(r.id(), r) != null) {
                throw new IllegalStateException("duplicate rule id " + r.id());
            }
        }
        return map;
    }

    /** Returns the ids of the rules, in order. */
    public static List<String> ids() {
        return new ArrayList<>(BY_ID.keySet());
    }
}
