/*
 * KVM_GET_DIRTY_LOG on a clean, logged memslot, timed in C: the baseline for
 * org.dirtylog.bench.kvm.KvmBench, which runs the same loop through the linux-kvm backend.
 * Built and run by benchmarks/run-kvm; not part of the tests.
 *
 *   get_dirty_log_bench SLOT_MIB ROUNDS CALLS
 *
 * Prints one line per measured round and a final line
 *   RESULT c-get-dirty-log <slot MiB> <median ns/call> <min ns/call>
 * Same setup as the Java side: the slot at guest physical 1 GiB, slot id 0, MAP_NORESERVE
 * anonymous memory never touched, the bitmap buffer its own mapping; the first five rounds warm up.
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

#define WARMUP_ROUNDS 5

static void die(const char *what)
{
	fprintf(stderr, "get_dirty_log_bench: %s: %s\n", what, strerror(errno));
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
	void *mem = mmap(NULL, slot_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap slot");
	size_t buffer_bytes = (bitmap_bytes + 4095) & ~(size_t)4095;
	void *bitmap = mmap(NULL, buffer_bytes, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (bitmap == MAP_FAILED)
		die("mmap bitmap");

	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.flags = KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = 1ULL << 30,
		.memory_size = slot_bytes,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");

	int64_t *per_call = calloc(rounds, sizeof(*per_call));
	int measured = 0;
	for (int r = 0; r < rounds + WARMUP_ROUNDS; r++) {
		int64_t start = now_ns();
		for (int i = 0; i < calls; i++) {
			struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = bitmap };

			if (ioctl(vm, KVM_GET_DIRTY_LOG, &log) < 0)
				die("KVM_GET_DIRTY_LOG");
		}
		int64_t ns = (now_ns() - start) / calls;
		if (r >= WARMUP_ROUNDS) {
			per_call[measured++] = ns;
			printf("c    round %d: %lld ns/call\n", measured, (long long)ns);
		}
	}
	qsort(per_call, measured, sizeof(*per_call), cmp_i64);
	printf("RESULT c-get-dirty-log %llu %lld %lld\n", (unsigned long long)(slot_bytes >> 20),
	       (long long)per_call[measured / 2], (long long)per_call[0]);
	munmap(bitmap, buffer_bytes);
	munmap(mem, slot_bytes);
	close(vm);
	close(kvm);
	free(per_call);
	return 0;
}
