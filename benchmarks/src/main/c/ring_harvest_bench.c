/*
 * Dirty-ring harvest in C: the baseline for org.dirtylog.bench.kvm.KvmRingBench, which runs the
 * same collector through the linux-kvm backend. Built and run by
 * arch-adapters/benchmarks/run-kvm-ring; not part of the tests.
 *
 *   ring_harvest_bench RING_ENTRIES ENTRIES_PER_ROUND ROUNDS [vcpu-thread|same-thread [per-entry|batched]]
 *
 * per-entry (the default) is api.rst's collector: per entry, load-acquire flags, read, store-release
 * RESET. batched takes the same entries with the fences batched: plain loads of flags up to the
 * first entry that is not DIRTY, one acquire fence, the reads, one release fence, plain stores of
 * RESET (a load followed by an acquire fence orders what follows as a load-acquire does; a release
 * fence orders what precedes before every later store). KvmRingBench has the same two.
 *
 * vcpu-thread (the default) runs KVM_RUN on a thread of its own and collects on the main thread,
 * as the linux-kvm backend does (its vCPU runs on a thread of the backend's) and as QEMU does (a
 * thread per vCPU, the dirty-ring reaper on another): the kernel writes the entries from the
 * vCPU's CPU and the collector may read them from another. same-thread runs the guest and the
 * collector on one thread, so the entries are still in that CPU's cache when collected.
 *
 * Each round a long-mode guest stores once into each of ENTRIES_PER_ROUND distinct pages of a
 * logged slot (untimed: KVM pushes one entry per store), then the collector is timed: for every
 * entry in order (position = index & (RING_ENTRIES - 1), a power of two), load-acquire
 * flags == DIRTY, read slot and offset, store-release RESET; then
 * KVM_RESET_DIRTY_RINGS, which must return ENTRIES_PER_ROUND. Prints per round
 *   c round N: <collect ns> <reset ns> <entries>
 * and a final line
 *   RESULT c-ring-harvest <entries/round> <median ns/round collect+reset> <median ns/round collect>
 * The first ten rounds warm up (the Java side's JIT needs them). Same setup as the Java side: the ring enabled with
 * KVM_CAP_DIRTY_LOG_RING_ACQ_REL when offered (else KVM_CAP_DIRTY_LOG_RING) right after
 * KVM_CREATE_VM, the slot at guest physical 1 GiB, guest code and page tables in a slot of their
 * own at 0, one vCPU.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef KVM_CAP_DIRTY_LOG_RING_ACQ_REL
#define KVM_CAP_DIRTY_LOG_RING_ACQ_REL 223
#endif

#define WARMUP_ROUNDS 10
#define PAGE 4096UL
#define SLOT_GPA (1UL << 30)
#define PRIVATE_BYTES 0x8000UL
#define CODE_GPA 0x6000UL
#define PORT_DONE 0x10

/* mov [rdi], rax; add rdi, 4096; dec rcx; jnz 0; mov dx, 0x10; out dx, al; hlt */
static const unsigned char code[] = {
	0x48, 0x89, 0x07, 0x48, 0x81, 0xc7, 0x00, 0x10, 0x00, 0x00,
	0x48, 0xff, 0xc9, 0x75, 0xf1, 0x66, 0xba, PORT_DONE, 0x00, 0xee, 0xf4,
};

static void die(const char *what)
{
	fprintf(stderr, "ring_harvest_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Identity map of 0..4 GiB with 2 MiB pages: PML4 at 0, PDPT at 0x1000, four PDs from 0x2000. */
static void page_tables(uint64_t *mem)
{
	mem[0] = 0x1000 | 3;
	for (uint64_t i = 0; i < 4; i++) {
		uint64_t pd = 0x2000 + i * 0x1000;

		mem[0x1000 / 8 + i] = pd | 3;
		for (uint64_t j = 0; j < 512; j++)
			mem[pd / 8 + j] = (i << 30) | (j << 21) | 0x83;
	}
}

static void long_mode(int vcpu)
{
	struct kvm_sregs sregs;
	struct kvm_segment seg = {
		.base = 0, .limit = 0xffffffff, .present = 1, .s = 1, .g = 1,
	};

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	seg.selector = 0x10;
	seg.type = 3;
	seg.db = 1;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg;
	seg.selector = 0x08;
	seg.type = 11;
	seg.db = 0;
	seg.l = 1;
	sregs.cs = seg;
	sregs.cr3 = 0;
	sregs.cr4 = 1 << 5;
	sregs.cr0 = 1 | (1UL << 31);
	sregs.efer = (1 << 8) | (1 << 10);
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
}

/* Stores value into pages first .. first + count - 1 of the slot; returns when the guest's OUT exits. */
static void guest_writes(int vcpu, struct kvm_run *run, uint64_t first, uint64_t count, uint64_t value)
{
	struct kvm_regs regs;

	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rdi = SLOT_GPA + first * PAGE;
	regs.rcx = count;
	regs.rax = value;
	regs.rflags = 2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN");
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == PORT_DONE)
			return;
		fprintf(stderr, "ring_harvest_bench: unexpected exit %u\n", run->exit_reason);
		exit(1);
	}
}

/* The vCPU thread of vcpu-thread mode: one guest_writes per post of go, then a post of done. */
struct vcpu_thread {
	int vcpu;
	struct kvm_run *run;
	uint64_t per_round;
	sem_t go, done;
};

static void *vcpu_thread_main(void *arg)
{
	struct vcpu_thread *t = arg;

	for (;;) {
		while (sem_wait(&t->go) < 0)
			if (errno != EINTR)
				die("sem_wait");
		guest_writes(t->vcpu, t->run, 0, t->per_round, 1);
		if (sem_post(&t->done) < 0)
			die("sem_post");
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 6) {
		fprintf(stderr, "usage: %s RING_ENTRIES ENTRIES_PER_ROUND ROUNDS [vcpu-thread|same-thread [per-entry|batched]]\n",
			argv[0]);
		return 2;
	}
	int batched = argc == 6 && strcmp(argv[5], "batched") == 0;
	if (argc == 6 && !batched && strcmp(argv[5], "per-entry") != 0) {
		fprintf(stderr, "ring_harvest_bench: collector must be per-entry or batched, not '%s'\n", argv[5]);
		return 2;
	}
	int own_thread = argc < 5 || strcmp(argv[4], "vcpu-thread") == 0;
	if (argc >= 5 && !own_thread && strcmp(argv[4], "same-thread") != 0) {
		fprintf(stderr, "ring_harvest_bench: mode must be vcpu-thread or same-thread, not '%s'\n", argv[4]);
		return 2;
	}
	uint64_t ring_entries = strtoull(argv[1], NULL, 10);
	uint64_t per_round = strtoull(argv[2], NULL, 10);
	int rounds = atoi(argv[3]);
	uint64_t ring_bytes = ring_entries * sizeof(struct kvm_dirty_gfn);
	uint64_t slot_bytes = per_round * PAGE;

	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	struct kvm_enable_cap cap = { .args = { ring_bytes } };
	cap.cap = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING_ACQ_REL) > 0
		? KVM_CAP_DIRTY_LOG_RING_ACQ_REL : KVM_CAP_DIRTY_LOG_RING;
	if (ioctl(vm, KVM_ENABLE_CAP, &cap) < 0)
		die("KVM_ENABLE_CAP dirty ring");

	void *private_mem = mmap(NULL, PRIVATE_BYTES, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *mem = mmap(NULL, slot_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (private_mem == MAP_FAILED || mem == MAP_FAILED)
		die("mmap");
	page_tables(private_mem);
	memcpy((char *)private_mem + CODE_GPA, code, sizeof(code));
	struct kvm_userspace_memory_region code_slot = {
		.slot = 1, .guest_phys_addr = 0, .memory_size = PRIVATE_BYTES,
		.userspace_addr = (uint64_t)private_mem,
	};
	struct kvm_userspace_memory_region logged = {
		.slot = 0, .flags = KVM_MEM_LOG_DIRTY_PAGES, .guest_phys_addr = SLOT_GPA,
		.memory_size = slot_bytes, .userspace_addr = (uint64_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &code_slot) < 0 ||
	    ioctl(vm, KVM_SET_USER_MEMORY_REGION, &logged) < 0)
		die("KVM_SET_USER_MEMORY_REGION");

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	struct kvm_dirty_gfn *ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu,
					  KVM_DIRTY_LOG_PAGE_OFFSET * PAGE);
	if (run == MAP_FAILED || ring == MAP_FAILED)
		die("mmap vcpu");
	long_mode(vcpu);

	int64_t *total = calloc(rounds, sizeof(int64_t));
	int64_t *collect = calloc(rounds, sizeof(int64_t));
	uint64_t fetch = 0, checksum = 0;
	struct vcpu_thread t = { .vcpu = vcpu, .run = run, .per_round = per_round };
	pthread_t tid;

	if (own_thread) {
		if (sem_init(&t.go, 0, 0) < 0 || sem_init(&t.done, 0, 0) < 0)
			die("sem_init");
		if ((errno = pthread_create(&tid, NULL, vcpu_thread_main, &t)) != 0)
			die("pthread_create");
	}
	for (int r = 0; r < rounds + WARMUP_ROUNDS; r++) {
		if (own_thread) {
			if (sem_post(&t.go) < 0)
				die("sem_post");
			while (sem_wait(&t.done) < 0)
				if (errno != EINTR)
					die("sem_wait");
		} else {
			guest_writes(vcpu, run, 0, per_round, 1);
		}
		int64_t t0 = now_ns();
		uint64_t taken = 0;
		if (batched) {
			uint64_t mask = ring_entries - 1, n = 0;

			while (n < ring_entries &&
			       __atomic_load_n(&ring[(fetch + n) & mask].flags, __ATOMIC_RELAXED) == KVM_DIRTY_GFN_F_DIRTY)
				n++;
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			for (uint64_t k = 0; k < n; k++) {
				struct kvm_dirty_gfn *e = &ring[(fetch + k) & mask];

				checksum += e->slot + e->offset;
			}
			__atomic_thread_fence(__ATOMIC_RELEASE);
			for (uint64_t k = 0; k < n; k++)
				__atomic_store_n(&ring[(fetch + k) & mask].flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELAXED);
			fetch += n;
			taken = n;
		}
		for (; !batched;) {
			struct kvm_dirty_gfn *e = &ring[fetch & (ring_entries - 1)];

			if (__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) != KVM_DIRTY_GFN_F_DIRTY)
				break;
			checksum += e->slot + e->offset;
			__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
			fetch++;
			taken++;
		}
		int64_t t1 = now_ns();
		int reset = ioctl(vm, KVM_RESET_DIRTY_RINGS, 0);
		int64_t t2 = now_ns();
		if (reset < 0)
			die("KVM_RESET_DIRTY_RINGS");
		if ((uint64_t)reset != taken || taken < per_round) {
			fprintf(stderr, "ring_harvest_bench: round %d collected %lu, reset %d, expected >= %lu\n",
				r, taken, reset, per_round);
			return 1;
		}
		if (r >= WARMUP_ROUNDS) {
			int i = r - WARMUP_ROUNDS;

			total[i] = t2 - t0;
			collect[i] = t1 - t0;
			printf("c    round %d: collect %ld ns, reset %ld ns, %lu entries\n", i + 1,
			       (long)(t1 - t0), (long)(t2 - t1), taken);
		}
	}
	qsort(total, rounds, sizeof(int64_t), cmp_i64);
	qsort(collect, rounds, sizeof(int64_t), cmp_i64);
	printf("RESULT c-ring-harvest %lu %ld %ld (checksum %lu, %s, %s)\n", per_round, (long)total[rounds / 2],
	       (long)collect[rounds / 2], checksum, own_thread ? "vcpu-thread" : "same-thread",
	       batched ? "batched" : "per-entry");
	/* The vCPU thread waits on go for ever; exit ends it. */
	return 0;
}
