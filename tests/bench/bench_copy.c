/*
 * bench_copy.c - bulk_copy_ratio: host memcpy bandwidth over the bandwidth
 * of cpu_copy between two 64 MiB simulated buffers (the simulated
 * process's memcpy, one translation of each side per page).
 *
 * Both sides are already backed (simulated: faulted in and written; host:
 * written), so neither copy pays a page fault; the ratio is
 * t(simulated copy) / t(host memcpy of the same size).
 */
#include <sys/mman.h>

#include "bench.h"

#define COPY_BYTES (64ULL << 20)

struct copy {
	struct bench_sim *s;
	vaddr_t src, dst;
	double secs;
};

/* Runs as the simulated process. */
static void sim_copy(void *arg)
{
	struct copy *x = arg;
	double t0 = bench_now();

	if (cpu_copy(&x->s->k.cpu, x->dst, x->src, COPY_BYTES))
		exit(2);
	x->secs = bench_now() - t0;
}

/* Fill the source with a pattern, and fault in the destination. */
static void sim_prepare(void *arg)
{
	struct copy *x = arg;

	cpu_fill(&x->s->k.cpu, x->src, 0x5a, COPY_BYTES);
	cpu_fill(&x->s->k.cpu, x->dst, 0, COPY_BYTES);
}

int main(void)
{
	int reps = bench_reps(9);
	double sim[reps], host[reps];
	struct bench_sim *s = calloc(1, sizeof(*s));
	struct copy x = {.s = s};
	uint8_t *a =
	    mmap(NULL, COPY_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *b =
	    mmap(NULL, COPY_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cJSON *o = cJSON_CreateObject();

	if (a == MAP_FAILED || b == MAP_FAILED)
		exit(2);
	memset(a, 0x5a, COPY_BYTES);
	memset(b, 0, COPY_BYTES);
	bench_sim_boot(s, 256ULL << 20);
	x.src = bench_mmap(s, COPY_BYTES);
	x.dst = bench_mmap(s, COPY_BYTES);
	if (task_run(&s->k, s->t, sim_prepare, &x) != 0)
		exit(2);
	task_run(&s->k, s->t, sim_copy, &x); /* warm-up */
	for (int i = 0; i < reps; i++) {
		double t0 = bench_now();

		memcpy(b, a, COPY_BYTES);
		BENCH_KEEP(b);
		host[i] = bench_now() - t0;
		if (task_run(&s->k, s->t, sim_copy, &x) != 0)
			exit(2);
		sim[i] = x.secs;
	}
	double hs = bench_median(host, reps), ss = bench_median(sim, reps);
	const double gib = (double)COPY_BYTES / (1u << 30);

	cJSON_AddNumberToObject(o, "bulk_copy_ratio", ss / hs);
	cJSON_AddNumberToObject(o, "host_memcpy_gib_s", gib / hs);
	cJSON_AddNumberToObject(o, "sim_copy_gib_s", gib / ss);
	cJSON_AddNumberToObject(o, "reps", reps);
	bench_emit(o);
	bench_sim_shutdown(s);
	munmap(a, COPY_BYTES);
	munmap(b, COPY_BYTES);
	free(s);
	return 0;
}
