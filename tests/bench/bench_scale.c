/*
 * bench_scale.c - how the simulator's cost grows (DESIGN.md, Benchmarks):
 *
 *  - boot_secs_64gib, idle_rss_mib_64gib: a machine with 64 GiB of
 *    simulated RAM, booted in this fresh process (CPU time of the boot), and
 *    the process's whole VmRSS once its one process has written a word in
 *    each page of a 10 MiB mapping (idle_rss_mib's measure at 64 GiB);
 *  - replay_ns_per_op at 10^4, 10^5, 10^6 and 10^7 operations of a trace
 *    generated here (seeded, a steady state: at most 1024 blocks live, ids
 *    reused, so the heap does not grow with the length), replayed under
 *    glibc with --no-check; the time is the CPU time of the replay's pass
 *    (replay_result.cpu_secs: the process's first faults included, the
 *    boot not); and replay_scale_flatness, the largest of the four over
 *    the smallest. The sizes are measured in ROUNDS rounds, each of which
 *    replays every size in turn (the short traces several times: their
 *    median), and each size's figure is its median over the rounds: this
 *    machine is shared, and a slow spell of a few seconds would otherwise
 *    land on one size alone (the 10^7 replay takes seconds by itself) and
 *    move the flatness by as much as the simulator's own growth.
 *
 * Usage: bench_scale [MAX_OPS]   (default 10^7; the sizes stop there)
 * Prints one JSON line.
 */
#include "bench.h"
#include "demos/cli/replay.h"

#define LIVE_MAX 1024u
#define ROUNDS 3

/* xorshift64*: the generator's only source, so the trace is the same on
   every machine. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* Sizes spread over 16 B - 8 KiB (log-uniform), one in 1000 a big block of
   64 - 320 KiB (glibc mmaps those above its threshold). */
static uint64_t gen_size(uint64_t *s)
{
	uint64_t r = rnd(s);

	if (r % 1000 == 0)
		return (64 << 10) + (r >> 20) % (256 << 10);
	return (16ULL << (r >> 8) % 10) + (r >> 16) % 256;
}

/*
 * A steady workload of n operations: malloc while fewer than half the ids
 * are live, else malloc, realloc or free of a random live id (45/10/45), so
 * the live set wanders between LIVE_MAX/2 and LIVE_MAX.
 */
static struct trace *gen_trace(size_t n, uint64_t seed)
{
	struct trace *t = calloc(1, sizeof(*t));
	uint32_t live[LIVE_MAX], nlive = 0, freeids[LIVE_MAX], nfree = LIVE_MAX;
	uint64_t s = seed;

	if (!t || !(t->ops = calloc(n, sizeof(*t->ops))) || !(t->path = strdup("generated"))) {
		fprintf(stderr, "bench_scale: out of memory for %zu operations\n", n);
		exit(2);
	}
	for (uint32_t i = 0; i < LIVE_MAX; i++)
		freeids[i] = LIVE_MAX - 1 - i;
	for (size_t i = 0; i < n; i++) {
		struct trace_op *op = &t->ops[i];
		uint64_t r = rnd(&s) % 100;

		op->line = (uint32_t)(i + 1);
		if (nfree && (nlive < LIVE_MAX / 2 || r < 45)) {
			uint32_t id = freeids[--nfree];

			*op = (struct trace_op){.kind = TOP_ALLOC, .id = (int32_t)id, .size = gen_size(&s),
			                       .line = op->line};
			live[nlive++] = id;
		} else if (r < 55) {
			uint32_t id = live[rnd(&s) % nlive];

			*op = (struct trace_op){.kind = TOP_REALLOC, .id = (int32_t)id, .size = gen_size(&s),
			                       .line = op->line};
		} else {
			uint32_t k = (uint32_t)(rnd(&s) % nlive), id = live[k];

			*op = (struct trace_op){.kind = TOP_FREE, .id = (int32_t)id, .line = op->line};
			live[k] = live[--nlive];
			freeids[nfree++] = id;
		}
	}
	t->nr_ops = n;
	t->nr_ids = LIVE_MAX;
	t->header_ids = LIVE_MAX;
	t->header_ops = n;
	return t;
}

/* The median CPU time of reps replays of t under glibc, per operation. */
static double ns_per_op(const struct trace *t, int reps)
{
	struct replay_opts o = {.policy = "glibc", .check = false};
	double v[reps];

	for (int i = 0; i < reps; i++) {
		struct replay_result r;

		if (replay_run(t, &o, &r) < 0 || !r.valid) {
			fprintf(stderr, "bench_scale: the generated trace failed: %s\n", r.error);
			exit(2);
		}
		v[i] = r.cpu_secs * 1e9 / (double)t->nr_ops;
	}
	return bench_median(v, reps);
}

struct touch {
	struct bench_sim *s;
	vaddr_t va;
};

static void touch(void *arg)
{
	struct touch *x = arg;

	for (uint64_t off = 0; off < (10ULL << 20); off += PAGE_SIZE)
		cpu_store(&x->s->k.cpu, x->va + off, 8, off);
}

int main(int argc, char **argv)
{
	double max_ops = argc > 1 ? atof(argv[1]) : 1e7, t0, boot, lo = 0, hi = 0;
	struct bench_sim *s = calloc(1, sizeof(*s));
	struct touch x = {s, 0};
	cJSON *o = cJSON_CreateObject(), *per = cJSON_CreateObject();
	/* reps: replays of the size in one round, their median the round's figure */
	static const struct {
		double n;
		int reps;
	} sizes[] = {{1e4, 7}, {1e5, 3}, {1e6, 1}, {1e7, 1}};
	enum { NSIZES = sizeof(sizes) / sizeof(sizes[0]) };
	struct trace *traces[NSIZES] = {0};
	double v[NSIZES][ROUNDS];
	size_t n = 0;

	/* First, in the fresh process: the 64 GiB machine. */
	t0 = bench_now();
	bench_sim_boot(s, 64ULL << 30);
	boot = bench_now() - t0;
	x.va = bench_mmap(s, 10ULL << 20);
	if (task_run(&s->k, s->t, touch, &x) != 0)
		exit(2);
	cJSON_AddNumberToObject(o, "boot_secs_64gib", boot);
	cJSON_AddNumberToObject(o, "idle_rss_mib_64gib", bench_status_kib("VmRSS") / 1024.0);
	bench_sim_shutdown(s);
	free(s);

	while (n < NSIZES && sizes[n].n <= max_ops) {
		traces[n] = gen_trace((size_t)sizes[n].n, 0x9e3779b97f4a7c15ULL);
		n++;
	}
	for (int r = 0; r < ROUNDS; r++)
		for (size_t i = 0; i < n; i++)
			v[i][r] = ns_per_op(traces[i], sizes[i].reps);
	for (size_t i = 0; i < n; i++) {
		double ns = bench_median(v[i], ROUNDS);
		char key[16];

		snprintf(key, sizeof(key), "%.0e", sizes[i].n);
		cJSON_AddNumberToObject(per, key, ns);
		lo = lo == 0 || ns < lo ? ns : lo;
		hi = ns > hi ? ns : hi;
		trace_free(traces[i]);
	}
	cJSON_AddItemToObject(o, "replay_ns_per_op", per);
	cJSON_AddNumberToObject(o, "replay_scale_flatness", lo > 0 ? hi / lo : -1);
	cJSON_AddNumberToObject(o, "rounds", ROUNDS);
	bench_emit(o);
	return 0;
}
