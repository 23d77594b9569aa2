/*
 * bench_tlb.c - tlb_hit_load_ratio: the time of an 8-byte load through the
 * simulated MMU that hits the TLB, over a native 8-byte load of the same
 * bytes.
 *
 * The simulated process reads a 16 KiB buffer (4 pages, all in the TLB
 * after the first pass) 8 bytes at a time, in order, summing what it reads:
 * the common case of allocator code walking its own headers, mostly the
 * inline path of cpu.h (the page of the last access) and, once a page,
 * the out-of-line TLB lookup. The native loop reads a host buffer of the same
 * size the same way, each load a real 8-byte load (volatile: the compiler may
 * neither vectorise nor drop it).
 */
#include <sys/mman.h>

#include "bench.h"

#define BUF_BYTES (16u << 10)
#define PASSES    256 /* 2 Mi loads a repetition */

struct loads {
	struct bench_sim *s;
	vaddr_t va;
	uint64_t sum;
	double secs;
};

/* Runs as the simulated process. */
static void sim_loads(void *arg)
{
	struct loads *x = arg;
	struct cpu *c = &x->s->k.cpu;
	const vaddr_t va = x->va; /* in a register, as the native loop's buf */
	uint64_t sum = 0;
	double t0 = bench_now();

	for (int p = 0; p < PASSES; p++)
		for (vaddr_t off = 0; off < BUF_BYTES; off += 8) {
			uint64_t v;

			cpu_load(c, va + off, 8, &v);
			sum += v;
		}
	x->secs = bench_now() - t0;
	x->sum = sum;
}

static double native_loads(const uint8_t *buf, uint64_t *out)
{
	uint64_t sum = 0;
	double t0 = bench_now();

	for (int p = 0; p < PASSES; p++)
		for (size_t off = 0; off < BUF_BYTES; off += 8)
			sum += *(const volatile uint64_t *)(buf + off);
	*out = sum;
	return bench_now() - t0;
}

int main(void)
{
	int reps = bench_reps(15);
	double sim[reps], nat[reps];
	const double nloads = (double)PASSES * (BUF_BYTES / 8);
	struct bench_sim *s = calloc(1, sizeof(*s));
	uint8_t *buf = malloc(BUF_BYTES);
	struct loads x = {.s = s};
	uint64_t hits0, misses0, nsum = 0;
	cJSON *o = cJSON_CreateObject();

	bench_sim_boot(s, 64ULL << 20);
	x.va = bench_mmap(s, BUF_BYTES);
	for (size_t i = 0; i < BUF_BYTES; i++)
		buf[i] = (uint8_t)(i * 7);
	/* The same bytes in both buffers; the writes also fault the pages in. */
	cpu_write(&s->k.cpu, x.va, buf, BUF_BYTES);
	task_run(&s->k, s->t, sim_loads, &x); /* warm: fills the TLB */
	hits0 = cpu_tlb_hits(&s->k.cpu);
	misses0 = s->k.cpu.tlb.misses;
	for (int i = 0; i < reps; i++) {
		nat[i] = native_loads(buf, &nsum) * 1e9 / nloads;
		if (task_run(&s->k, s->t, sim_loads, &x) != 0)
			exit(2);
		sim[i] = x.secs * 1e9 / nloads;
	}
	if (x.sum != nsum) {
		fprintf(stderr, "bench_tlb: sums differ: %llx vs %llx\n", (unsigned long long)x.sum,
		        (unsigned long long)nsum);
		exit(2);
	}
	if (s->k.cpu.tlb.misses != misses0) {
		fprintf(stderr, "bench_tlb: TLB misses in the timed loops\n");
		exit(2);
	}
	double sim_ns = bench_median(sim, reps), nat_ns = bench_median(nat, reps);

	cJSON_AddNumberToObject(o, "tlb_hit_load_ratio", sim_ns / nat_ns);
	cJSON_AddNumberToObject(o, "sim_load_ns", sim_ns);
	cJSON_AddNumberToObject(o, "native_load_ns", nat_ns);
	cJSON_AddNumberToObject(o, "tlb_hits", (double)(cpu_tlb_hits(&s->k.cpu) - hits0));
	cJSON_AddNumberToObject(o, "reps", reps);
	bench_emit(o);
	bench_sim_shutdown(s);
	free(s);
	free(buf);
	return 0;
}
