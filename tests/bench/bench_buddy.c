/*
 * bench_buddy.c - buddy_ns_per_op: one alloc or one free of the buddy
 * allocator, orders 0-3 at random, on 1 Mi frames (a 4 GiB machine) kept
 * near 50% occupancy; also given as a ratio to one host malloc+free pair.
 *
 * The sequence of operations is drawn before the clock starts (xorshift,
 * fixed seed): op i allocates when the frames in use are below half, else
 * frees a block picked at random among those held. The host side runs the
 * same sequence through malloc and free, a block of order k being
 * 16 << k bytes (the frames' sizes would make the host hold 2 GiB and time
 * its page faults); a pair is one malloc plus one free, two operations.
 * No sink is attached: events cost what they cost without a viewer.
 * The frame table is backed by the host before the clock starts (each
 * repetition clears it and boots a fresh allocator over it): host page
 * faults are not the allocator's cost.
 */
#include "bench.h"

#define NR_OPS (1u << 19)

struct op {
	uint8_t alloc; /* 1: allocate order; 0: free held[victim] */
	uint8_t order;
	uint32_t victim; /* index into the held blocks (free) */
};

struct block {
	pfn_t pfn;
	unsigned order;
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * The sequence, simulated on counts only so that it can be replayed on both
 * allocators: *held is how many blocks are held before it starts (the fill
 * to 50%, as allocs at the head of ops).
 */
static struct op *make_ops(uint64_t frames, size_t *nfill, size_t *nops)
{
	size_t cap = NR_OPS + frames, n = 0;
	struct op *ops = malloc(cap * sizeof(*ops));
	unsigned *orders = malloc(cap * sizeof(*orders)); /* order of each held block */
	size_t held = 0;
	uint64_t used = 0;

	while (used < frames / 2) { /* fill */
		unsigned k = next_rand() & 3;

		ops[n++] = (struct op){1, (uint8_t)k, 0};
		orders[held++] = k;
		used += 1u << k;
	}
	*nfill = n;
	for (unsigned i = 0; i < NR_OPS; i++) {
		if (used < frames / 2 || !held) {
			unsigned k = next_rand() & 3;

			ops[n++] = (struct op){1, (uint8_t)k, 0};
			orders[held++] = k;
			used += 1u << k;
		} else {
			uint32_t v = (uint32_t)(next_rand() % held);

			ops[n++] = (struct op){0, 0, v};
			used -= 1u << orders[v];
			orders[v] = orders[--held];
		}
	}
	*nops = n;
	free(orders);
	return ops;
}

static double run_buddy(struct phys *ph, const struct op *ops, size_t nfill, size_t nops,
                        struct block *held)
{
	struct probe pr;
	struct buddy b;
	size_t nheld = 0;
	double t0 = 0;

	/* buddy_init wants descriptors as fresh from phys_init: all zero. */
	memset(ph->frames, 0, ph->nr_frames * sizeof(struct frame));
	probe_init(&pr);
	buddy_init(&b, ph, &pr, 1);
	for (size_t i = 0; i < nops; i++) {
		if (i == nfill)
			t0 = bench_now();
		if (ops[i].alloc) {
			pfn_t p = buddy_alloc(&b, ops[i].order, FK_KERNEL);

			if (p == PFN_NONE)
				exit(2);
			held[nheld++] = (struct block){p, ops[i].order};
		} else {
			struct block *v = &held[ops[i].victim];

			buddy_free(&b, v->pfn, v->order);
			*v = held[--nheld];
		}
	}
	double dt = bench_now() - t0;

	return dt * 1e9 / (double)(nops - nfill);
}

static double run_host(const struct op *ops, size_t nfill, size_t nops, void **held)
{
	size_t nheld = 0;
	double t0 = 0, dt;

	for (size_t i = 0; i < nops; i++) {
		if (i == nfill)
			t0 = bench_now();
		if (ops[i].alloc) {
			held[nheld] = malloc(16u << ops[i].order);
			BENCH_KEEP(held[nheld]);
			nheld++;
		} else {
			free(held[ops[i].victim]);
			held[ops[i].victim] = held[--nheld];
		}
	}
	dt = bench_now() - t0;
	while (nheld)
		free(held[--nheld]);
	return dt * 1e9 / (double)(nops - nfill);
}

int main(void)
{
	int reps = bench_reps(7);
	double sim[reps], host[reps];
	size_t nfill, nops;
	struct op *ops = make_ops(1ULL << 20, &nfill, &nops);
	struct block *held = malloc(nops * sizeof(*held));
	void **hheld = malloc(nops * sizeof(*hheld));
	cJSON *o = cJSON_CreateObject();
	struct phys ph;

	if (phys_init(&ph, 4ULL << 30))
		exit(2);
	for (int i = -1; i < reps; i++) {
		if (i < 0) { /* back the frame table, warm up */
			run_buddy(&ph, ops, nfill, nops, held);
			continue;
		}
		sim[i] = run_buddy(&ph, ops, nfill, nops, held);
		host[i] = run_host(ops, nfill, nops, hheld);
	}
	double ns = bench_median(sim, reps), hns = bench_median(host, reps);

	cJSON_AddNumberToObject(o, "buddy_ns_per_op", ns);
	cJSON_AddNumberToObject(o, "host_malloc_free_pair_ns", 2 * hns);
	cJSON_AddNumberToObject(o, "buddy_vs_malloc_free_ratio", ns / (2 * hns));
	cJSON_AddNumberToObject(o, "ops", (double)(nops - nfill));
	cJSON_AddNumberToObject(o, "reps", reps);
	bench_emit(o);
	phys_destroy(&ph);
	free(ops);
	free(held);
	free(hheld);
	return 0;
}
