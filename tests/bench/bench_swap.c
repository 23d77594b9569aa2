/*
 * bench_swap.c - memory pressure: what a page costs on its way out to swap
 * and back, how fast a thrashing program runs, and whether reclaim's
 * scanning per reclaimed page grows with RAM.
 *
 * swap_roundtrip_vs_copy_ratio: a program thrashes over twice its RAM
 * (64 MiB of RAM, 128 MiB of swap, a 128 MiB working set written one page
 * after another, round after round). In the steady state every store is a
 * major fault: do_swap_page reads the page back and reclaim writes another
 * out (kswapd and direct reclaim: isolation, folio_referenced, add_to_swap,
 * try_to_unmap, pageout, freeing). The time of a round over the pages swapped
 * in is one round trip with its fault; the reference is two host memcpy of a
 * page over buffers of the same size as the working set, taken in turn with
 * the rounds (the ratio of each pair, then the median).
 *
 * thrash_accesses_per_s: the same rounds as simulated stores per second of
 * CPU time (thrash_ns_per_access is its inverse, the figure with a target).
 *
 * reclaim_scan_growth: folios scanned per folio reclaimed (pgscan + pgrefill
 * over pgsteal) with 1 GiB of RAM over the same with 64 MiB, both
 * thrashing over 1.5x their RAM: 1 when scanning does not grow with RAM.
 * The time per reclaimed page at both sizes is reported beside it.
 */
#include <sys/mman.h>

#include "bench.h"

struct thrash {
	struct bench_sim *s;
	vaddr_t va;
	uint64_t pages;
};

static void thrash_pages(void *arg)
{
	struct thrash *x = arg;
	struct cpu *c = &x->s->k.cpu;

	for (uint64_t i = 0; i < x->pages; i++)
		cpu_store(c, x->va + i * PAGE_SIZE + 64, 8, i);
}

static void boot_swap(struct bench_sim *s, uint64_t phys, uint64_t swap)
{
	struct kernel_opts o;

	kernel_default_opts(&o);
	o.phys_bytes = phys;
	o.swap_bytes = swap;
	if (kernel_boot(&s->k, &o, stderr) < 0)
		exit(2);
	s->t = task_create(&s->k, "thrash");
	if (!s->t)
		exit(2);
}

/* One round over the working set; seconds. */
static double thrash_round(struct thrash *x)
{
	double t0 = bench_now();

	if (task_run(&x->s->k, x->s->t, thrash_pages, x) != 0) {
		fprintf(stderr, "bench_swap: the process died: %s\n", x->s->t->death.reason);
		exit(2);
	}
	return bench_now() - t0;
}

static double copy_round(uint8_t *a, uint8_t *b, uint64_t pages)
{
	double t0 = bench_now();

	for (uint64_t i = 0; i < pages; i++) {
		memcpy(b + i * PAGE_SIZE, a + i * PAGE_SIZE, PAGE_SIZE);
		BENCH_KEEP(b);
		memcpy(a + i * PAGE_SIZE, b + i * PAGE_SIZE, PAGE_SIZE);
		BENCH_KEEP(a);
	}
	return bench_now() - t0;
}

struct scan_cost {
	double scan_per_steal; /* folios scanned per folio reclaimed */
	double refill_per_steal; /* of them, on the active list (pgrefill) */
	double ns_per_steal;   /* CPU time of a round per folio reclaimed */
};

/* Thrash over 1.5x RAM of phys bytes: reclaim's scanning per reclaimed page. */
static struct scan_cost scan_cost(uint64_t phys, int rounds)
{
	struct bench_sim *s = calloc(1, sizeof(*s));
	struct thrash x = {.s = s};
	struct scan_cost r;
	const uint64_t *ev;
	uint64_t scan0, steal0, refill0;
	double t = 0;

	boot_swap(s, phys, phys);
	x.pages = phys / PAGE_SIZE * 3 / 2;
	x.va = bench_mmap(s, x.pages * PAGE_SIZE);
	ev = s->k.vmstat.event;
	thrash_round(&x); /* fill: the first round only starts the pressure */
	scan0 = ev[PGSCAN_KSWAPD] + ev[PGSCAN_DIRECT] + ev[PGREFILL];
	steal0 = ev[PGSTEAL_KSWAPD] + ev[PGSTEAL_DIRECT];
	refill0 = ev[PGREFILL];
	for (int i = 0; i < rounds; i++)
		t += thrash_round(&x);
	r.scan_per_steal =
	    (double)(ev[PGSCAN_KSWAPD] + ev[PGSCAN_DIRECT] + ev[PGREFILL] - scan0) /
	    (double)(ev[PGSTEAL_KSWAPD] + ev[PGSTEAL_DIRECT] - steal0);
	r.refill_per_steal = (double)(ev[PGREFILL] - refill0) /
	                     (double)(ev[PGSTEAL_KSWAPD] + ev[PGSTEAL_DIRECT] - steal0);
	r.ns_per_steal = t * 1e9 / (double)(ev[PGSTEAL_KSWAPD] + ev[PGSTEAL_DIRECT] - steal0);
	bench_sim_shutdown(s);
	free(s);
	return r;
}

int main(void)
{
	int reps = bench_reps(7);
	struct bench_sim *s = calloc(1, sizeof(*s));
	struct thrash x = {.s = s};
	double ratio[reps], acc_ns[reps], trip_ns[reps], copy_ns[reps];
	uint64_t pages = (128ULL << 20) / PAGE_SIZE;
	uint8_t *a, *b;
	struct scan_cost small, big;
	cJSON *o = cJSON_CreateObject();

	a = mmap(NULL, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b = mmap(NULL, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED || b == MAP_FAILED)
		exit(2);
	memset(a, 1, pages * PAGE_SIZE);
	memset(b, 2, pages * PAGE_SIZE);
	boot_swap(s, 64ULL << 20, 128ULL << 20);
	x.pages = pages;
	x.va = bench_mmap(s, pages * PAGE_SIZE);
	for (int i = 0; i < 2; i++) { /* fill RAM and swap, back the host's pages */
		thrash_round(&x);
		copy_round(a, b, pages);
	}
	for (int i = 0; i < reps; i++) {
		uint64_t in0 = s->k.vmstat.event[PSWPIN];
		double t = thrash_round(&x), c = copy_round(a, b, pages);
		uint64_t in = s->k.vmstat.event[PSWPIN] - in0;

		trip_ns[i] = t * 1e9 / (double)in;
		copy_ns[i] = c * 1e9 / (double)pages;
		ratio[i] = trip_ns[i] / copy_ns[i];
		acc_ns[i] = t * 1e9 / (double)pages;
	}
	bench_sim_shutdown(s);
	free(s);
	munmap(a, pages * PAGE_SIZE);
	munmap(b, pages * PAGE_SIZE);
	small = scan_cost(64ULL << 20, 2);
	big = scan_cost(1ULL << 30, 1);
	cJSON_AddNumberToObject(o, "swap_roundtrip_vs_copy_ratio", bench_median(ratio, reps));
	cJSON_AddNumberToObject(o, "swap_roundtrip_ns", bench_median(trip_ns, reps));
	cJSON_AddNumberToObject(o, "two_page_copies_ns", bench_median(copy_ns, reps));
	cJSON_AddNumberToObject(o, "thrash_ns_per_access", bench_median(acc_ns, reps));
	cJSON_AddNumberToObject(o, "thrash_accesses_per_s", 1e9 / bench_median(acc_ns, reps));
	cJSON_AddNumberToObject(o, "reclaim_scan_per_steal_64mib", small.scan_per_steal);
	cJSON_AddNumberToObject(o, "reclaim_scan_per_steal_1gib", big.scan_per_steal);
	cJSON_AddNumberToObject(o, "reclaim_scan_growth", big.scan_per_steal / small.scan_per_steal);
	cJSON_AddNumberToObject(o, "reclaim_refill_per_steal_64mib", small.refill_per_steal);
	cJSON_AddNumberToObject(o, "reclaim_refill_per_steal_1gib", big.refill_per_steal);
	cJSON_AddNumberToObject(o, "reclaim_ns_per_steal_64mib", small.ns_per_steal);
	cJSON_AddNumberToObject(o, "reclaim_ns_per_steal_1gib", big.ns_per_steal);
	cJSON_AddNumberToObject(o, "reps", reps);
	bench_emit(o);
	return 0;
}
