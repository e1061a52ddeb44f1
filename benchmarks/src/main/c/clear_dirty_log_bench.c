/*
 * KVM_CLEAR_DIRTY_LOG of a whole logged memslot in which every page is dirty, timed in C: the
 * baseline for org.dirtylog.bench.kvm.KvmClearBench, which runs the same loop through the
 * linux-kvm backend. Built and run by arch-adapters/benchmarks/run-kvm-clear; not part of the tests.
 *
 *   clear_dirty_log_bench SLOT_MIB ROUNDS CALLS
 *
 * Every page is made dirty without a guest: manual protect with KVM_DIRTY_LOG_INITIALLY_SET,
 * then logging switched off and on again, so KVM allocates a new bitmap with all npages bits
 * set. Each sample does that (not timed), then times one KVM_CLEAR_DIRTY_LOG(first_page 0,
 * num_pages npages) with an all-ones user bitmap: KVM clears every bit and re-arms tracking for
 * every page. Prints one line per measured round (mean of its CALLS samples) and a final line
 *   RESULT c-clear-dirty-log <slot MiB> <median ns/call> <min ns/call>
 * Same setup as the Java side: slot 0 at guest physical 1 GiB, untouched MAP_NORESERVE
 * anonymous memory, the user bitmap its own mapping; the first two rounds warm up.
 */
#include <errno.h>
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

#define WARMUP_ROUNDS 2

static void die(const char *what)
{
	fprintf(stderr, "clear_dirty_log_bench: %s: %s\n", what, strerror(errno));
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

static void set_region(int vm, struct kvm_userspace_memory_region *region, uint32_t flags)
{
	region->flags = flags;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
}

static uint64_t dirty_pages(int vm, uint64_t npages)
{
	size_t bytes = ((npages + 63) / 64) * 8;
	uint64_t *words = malloc(bytes), count = 0;
	struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = words };

	if (!words || ioctl(vm, KVM_GET_DIRTY_LOG, &log) < 0)
		die("KVM_GET_DIRTY_LOG");
	for (size_t i = 0; i < bytes / 8; i++)
		count += (uint64_t)__builtin_popcountll(words[i]);
	free(words);
	return count;
}

/* Checks once that the refill sets every page and that one CLEAR clears them all. */
static void check_setup(int vm, void *bitmap, uint64_t npages)
{
	uint64_t before = dirty_pages(vm, npages);
	struct kvm_clear_dirty_log log = { .slot = 0, .num_pages = (uint32_t)npages, .dirty_bitmap = bitmap };

	if (ioctl(vm, KVM_CLEAR_DIRTY_LOG, &log) < 0)
		die("KVM_CLEAR_DIRTY_LOG");
	uint64_t after = dirty_pages(vm, npages);
	if (before != npages || after != 0) {
		fprintf(stderr, "clear_dirty_log_bench: setup check failed: %llu dirty before CLEAR (want %llu), %llu after (want 0)\n",
			(unsigned long long)before, (unsigned long long)npages, (unsigned long long)after);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s SLOT_MIB ROUNDS CALLS\n", argv[0]);
		return 2;
	}
	uint64_t slot_bytes = strtoull(argv[1], NULL, 10) << 20;
	int rounds = atoi(argv[2]);
	int calls = atoi(argv[3]);
	uint64_t npages = slot_bytes >> 12;
	size_t bitmap_bytes = ((npages + 63) / 64) * 8;

	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
		.args = { KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET },
	};
	if (ioctl(vm, KVM_ENABLE_CAP, &cap) < 0)
		die("KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)");
	void *mem = mmap(NULL, slot_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap slot");
	size_t buffer_bytes = (bitmap_bytes + 4095) & ~(size_t)4095;
	void *bitmap = mmap(NULL, buffer_bytes, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (bitmap == MAP_FAILED)
		die("mmap bitmap");
	memset(bitmap, 0xff, bitmap_bytes);

	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 1ULL << 30,
		.memory_size = slot_bytes,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	set_region(vm, &region, KVM_MEM_LOG_DIRTY_PAGES);
	check_setup(vm, bitmap, npages);

	int64_t *per_call = calloc(rounds, sizeof(*per_call));
	int measured = 0;
	for (int r = 0; r < rounds + WARMUP_ROUNDS; r++) {
		int64_t total = 0;
		for (int i = 0; i < calls; i++) {
			/* A fresh bitmap with every page set (INITIALLY_SET), outside the measurement. */
			set_region(vm, &region, 0);
			set_region(vm, &region, KVM_MEM_LOG_DIRTY_PAGES);
			struct kvm_clear_dirty_log log = {
				.slot = 0, .num_pages = (uint32_t)npages, .first_page = 0, .dirty_bitmap = bitmap,
			};
			int64_t start = now_ns();
			if (ioctl(vm, KVM_CLEAR_DIRTY_LOG, &log) < 0)
				die("KVM_CLEAR_DIRTY_LOG");
			total += now_ns() - start;
		}
		int64_t ns = total / calls;
		if (r >= WARMUP_ROUNDS) {
			per_call[measured++] = ns;
			printf("c    round %d: %lld ns/call\n", measured, (long long)ns);
		}
	}
	qsort(per_call, measured, sizeof(*per_call), cmp_i64);
	printf("RESULT c-clear-dirty-log %llu %lld %lld\n", (unsigned long long)(slot_bytes >> 20),
	       (long long)per_call[measured / 2], (long long)per_call[0]);
	munmap(bitmap, buffer_bytes);
	munmap(mem, slot_bytes);
	close(vm);
	close(kvm);
	free(per_call);
	return 0;
}
