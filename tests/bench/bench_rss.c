/*
 * bench_rss.c - idle_rss_mib: the host RSS of a 4 GiB simulated machine
 * whose one process has touched 10 MiB (written one word in each page of a
 * 10 MiB anonymous mapping), in MiB: the whole process's VmRSS, the program
 * and its libraries included.
 *
 * Simulated RAM and the frame table are reserved lazily (vm/phys.c): what
 * the machine costs is what it touched, 10 MiB of frames, the page-table
 * pages, the descriptors buddy_init writes (the heads of its free blocks)
 * and those of the frames used. Run in a process of its own, fresh.
 */
#include "bench.h"

#define TOUCH_BYTES (10ULL << 20)

struct touch {
	struct bench_sim *s;
	vaddr_t va;
};

static void touch(void *arg)
{
	struct touch *x = arg;

	for (uint64_t off = 0; off < TOUCH_BYTES; off += PAGE_SIZE)
		cpu_store(&x->s->k.cpu, x->va + off, 8, off);
}

int main(void)
{
	struct bench_sim *s = calloc(1, sizeof(*s));
	long before = bench_status_kib("VmRSS"), booted, after;
	struct touch x = {s, 0};
	cJSON *o = cJSON_CreateObject();

	bench_sim_boot(s, 4ULL << 30);
	booted = bench_status_kib("VmRSS");
	x.va = bench_mmap(s, TOUCH_BYTES);
	if (task_run(&s->k, s->t, touch, &x) != 0)
		exit(2);
	after = bench_status_kib("VmRSS");
	cJSON_AddNumberToObject(o, "idle_rss_mib", after / 1024.0);
	cJSON_AddNumberToObject(o, "rss_before_boot_mib", before / 1024.0);
	cJSON_AddNumberToObject(o, "rss_after_boot_mib", booted / 1024.0);
	cJSON_AddNumberToObject(o, "touched_mib", (double)TOUCH_BYTES / (1 << 20));
	cJSON_AddNumberToObject(o, "sim_rss_pages", (double)s->t->mm->rss_stat[MM_ANONPAGES]);
	bench_emit(o);
	bench_sim_shutdown(s);
	free(s);
	return 0;
}
