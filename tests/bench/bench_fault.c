/*
 * bench_fault.c - fault_vs_zero_ratio: the time of one demand-zero write
 * fault, the whole of it (the store misses the TLB, the walk finds no PTE,
 * #PF -> exc_page_fault -> ... -> do_anonymous_page -> buddy_alloc ->
 * clear_page -> set_pte_at, and the retried store), over the time the host
 * takes to memset one 4 KiB page.
 *
 * Steady state: the simulated process maps a region, writes one word into
 * each page, unmaps it, and again; the frames go back to the buddy
 * allocator and come out again, already backed by the host. The cold figure
 * (a fresh machine, whose frames the host has never backed: every
 * clear_page takes a host page fault first) is reported beside it, and the
 * steady figure again on machines of 64 MiB, 1 GiB and 4 GiB.
 *
 * The reference memsets the pages of a host buffer of the same size as the
 * region, already backed, page by page: the same working set as the
 * frames the simulation recycles. Its rounds alternate with the fault
 * rounds, and the figure is the median of the ratios of each pair
 * (fault_vs_memset).
 */
#include <sys/mman.h>
#include <sys/resource.h>

#include "bench.h"

#define REGION_PAGES 1024 /* 4 MiB: one PT page per 512 faults */

struct touch {
	struct bench_sim *s;
	vaddr_t va;
	unsigned pages;
};

/* Runs as the simulated process: one store into each page, each one faults. */
static void touch_pages(void *arg)
{
	struct touch *x = arg;
	struct cpu *c = &x->s->k.cpu;

	for (unsigned i = 0; i < x->pages; i++)
		cpu_store(c, x->va + (uint64_t)i * PAGE_SIZE, 8, i);
}

/* ns per fault of one round: map, touch every page, unmap (only the touch is timed). */
static double fault_round(struct bench_sim *s)
{
	uint64_t len = (uint64_t)REGION_PAGES * PAGE_SIZE;
	struct touch x = {s, bench_mmap(s, len), REGION_PAGES};
	uint64_t faults = s->t->min_flt;
	double t0 = bench_now(), dt;

	if (task_run(&s->k, s->t, touch_pages, &x) != 0) {
		fprintf(stderr, "bench_fault: the process died: %s\n", s->t->death.reason);
		exit(2);
	}
	dt = bench_now() - t0;
	if (s->t->min_flt - faults != REGION_PAGES) {
		fprintf(stderr, "bench_fault: %llu faults, expected %d\n",
		        (unsigned long long)(s->t->min_flt - faults), REGION_PAGES);
		exit(2);
	}
	sys_munmap(&s->k, x.va, len);
	return dt * 1e9 / REGION_PAGES;
}

static long host_minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/*
 * Median steady-state ns per fault on a machine of phys bytes; *host_faults:
 * the host's own page faults per simulated fault in the timed rounds (0 when
 * the frames are recycled as they should be).
 */
static double fault_steady(uint64_t phys, int reps, double *host_faults)
{
	struct bench_sim *s = calloc(1, sizeof(*s));
	double v[reps];
	long flt;

	bench_sim_boot(s, phys);
	for (int i = 0; i < 2; i++)
		fault_round(s); /* back the frames on the host, warm the caches */
	flt = host_minflt();
	for (int i = 0; i < reps; i++)
		v[i] = fault_round(s);
	*host_faults = (double)(host_minflt() - flt) / ((double)reps * REGION_PAGES);
	bench_sim_shutdown(s);
	free(s);
	return bench_median(v, reps);
}

/* Median ns per fault of the first round on a fresh machine. */
static double fault_cold(uint64_t phys, int reps)
{
	double v[reps];

	for (int i = 0; i < reps; i++) {
		struct bench_sim *s = calloc(1, sizeof(*s));

		bench_sim_boot(s, phys);
		v[i] = fault_round(s);
		bench_sim_shutdown(s);
		free(s);
	}
	return bench_median(v, reps);
}

/* A backed host buffer of REGION_PAGES pages, the reference's working set. */
static uint8_t *memset_buffer(void)
{
	size_t len = (size_t)REGION_PAGES * PAGE_SIZE;
	uint8_t *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED)
		exit(2);
	memset(buf, 1, len);
	return buf;
}

/* ns to memset one page: one round over the REGION_PAGES pages of buf. */
static double memset_round(uint8_t *buf)
{
	double t0 = bench_now();

	for (unsigned i = 0; i < REGION_PAGES; i++) {
		memset(buf + (size_t)i * PAGE_SIZE, 0, PAGE_SIZE);
		BENCH_KEEP(buf);
	}
	return (bench_now() - t0) * 1e9 / REGION_PAGES;
}

/*
 * The headline figure: rounds of faults and rounds of the reference taken
 * in turn, the ratio of each pair, the median of those ratios. The machine
 * these numbers come from is shared: a load that comes or goes between the
 * two measurements would move a ratio of two medians taken minutes apart,
 * not one of pairs taken within a millisecond.
 */
static void fault_vs_memset(uint64_t phys, int reps, double *ratio, double *fault_ns,
                            double *memset_ns, double *host_faults)
{
	struct bench_sim *s = calloc(1, sizeof(*s));
	uint8_t *buf = memset_buffer();
	double r[reps], f[reps], m[reps];
	long flt;

	bench_sim_boot(s, phys);
	for (int i = 0; i < 2; i++) { /* back the frames on the host, warm the caches */
		fault_round(s);
		memset_round(buf);
	}
	flt = host_minflt();
	for (int i = 0; i < reps; i++) {
		/* Each timed round follows an untimed one of its own kind, so that
		   it finds its working set as back-to-back rounds would, not
		   evicted by the other's. */
		memset_round(buf);
		m[i] = memset_round(buf);
		fault_round(s);
		f[i] = fault_round(s);
		r[i] = f[i] / m[i];
	}
	*host_faults = (double)(host_minflt() - flt) / (2.0 * reps * REGION_PAGES);
	*ratio = bench_median(r, reps);
	*fault_ns = bench_median(f, reps);
	*memset_ns = bench_median(m, reps);
	bench_sim_shutdown(s);
	free(s);
	munmap(buf, (size_t)REGION_PAGES * PAGE_SIZE);
}

int main(void)
{
	int reps = bench_reps(15);
	/* BENCH_STEADY=1: the steady state on 64 MiB alone (for profilers). */
	bool steady_only = getenv("BENCH_STEADY") != NULL;
	double hf, hf_1g = 0, hf_4g = 0, ratio, steady, zero;
	double cold, at_1g, at_4g;
	cJSON *o = cJSON_CreateObject();

	fault_vs_memset(64ULL << 20, reps, &ratio, &steady, &zero, &hf);
	cold = steady_only ? 0 : fault_cold(64ULL << 20, 5);
	at_1g = steady_only ? 0 : fault_steady(1ULL << 30, reps, &hf_1g);
	at_4g = steady_only ? 0 : fault_steady(4ULL << 30, reps, &hf_4g);
	cJSON_AddNumberToObject(o, "fault_vs_zero_ratio", ratio);
	cJSON_AddNumberToObject(o, "fault_ns", steady);
	cJSON_AddNumberToObject(o, "memset_page_ns", zero);
	cJSON_AddNumberToObject(o, "fault_cold_ns", cold);
	cJSON_AddNumberToObject(o, "fault_cold_vs_zero_ratio", cold / zero);
	cJSON_AddNumberToObject(o, "fault_ns_64mib", steady);
	cJSON_AddNumberToObject(o, "fault_ns_1gib", at_1g);
	cJSON_AddNumberToObject(o, "fault_ns_4gib", at_4g);
	cJSON_AddNumberToObject(o, "host_faults_per_fault_64mib", hf);
	cJSON_AddNumberToObject(o, "host_faults_per_fault_1gib", hf_1g);
	cJSON_AddNumberToObject(o, "host_faults_per_fault_4gib", hf_4g);
	cJSON_AddNumberToObject(o, "reps", reps);
	bench_emit(o);
	return 0;
}
