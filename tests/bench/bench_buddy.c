/*
 * bench_buddy.c - buddy_ns_per_op: one alloc or one free of the buddy
 * allocator, orders 0-3 at random, on 1 Mi frames (a 4 GiB machine) kept
 * near 50% occupancy; also given as a ratio to one host malloc+free pair.
 *
 * The sequence of operations comes from a generator (xorshift, fixed seed)
 * that both sides drive in the same way: op i allocates when the frames in
 * use are below half, else frees a block picked at random among those held
 * (the last held block takes the freed one's slot). The fill to half is not
 * timed. The host side runs the same sequence through malloc and free, a
 * block of order k being 16 << k bytes (the frames' sizes would make the
 * host hold 2 GiB and time its page faults); a pair is one malloc plus one
 * free, two operations.
 *
 * The harness keeps its own footprint small, so that the figure is the
 * allocator's: the operations are drawn as they run (no array of them to
 * stream through the caches) and a held block is one 32-bit word (pfn and
 * order) on the buddy side, one pointer with the order in its low bits on
 * the host side (malloc returns 16-byte aligned blocks).
 * No sink is attached: events cost what they cost without a viewer.
 * The frame table is backed by the host before the clock starts (each
 * repetition clears it and boots a fresh allocator over it): host page
 * faults are not the allocator's cost.
 */
#include "bench.h"

#define NR_OPS (1u << 19)
#define NR_FRAMES (1u << 20)

/* The generator: what op comes next depends only on its state and on the
   orders of the blocks held, which both sides keep in the same slots. */
struct gen {
	uint64_t rng;
	uint64_t used;  /* frames held */
	uint32_t nheld; /* blocks held */
};

static inline uint32_t gen_rand(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return (uint32_t)(g->rng >> 32);
}

/* Below half: allocate (with nothing held, used is 0, so never a free of nothing). */
static inline bool gen_wants_alloc(const struct gen *g)
{
	return g->used < NR_FRAMES / 2;
}

/* The order of the next allocation. */
static inline unsigned gen_alloc(struct gen *g)
{
	unsigned k = gen_rand(g) & 3;

	g->used += 1u << k;
	g->nheld++;
	return k;
}

/* The slot of the next block to free (multiply-shift: no division). */
static inline uint32_t gen_victim(struct gen *g)
{
	return (uint32_t)(((uint64_t)gen_rand(g) * g->nheld) >> 32);
}

static inline void gen_freed(struct gen *g, unsigned order)
{
	g->used -= 1u << order;
	g->nheld--;
}

static const struct gen gen_seed = {.rng = 0x9e3779b97f4a7c15ULL};

/* One operation on the buddy side; held[] has the blocks held, as pfn << 2 | order. */
static inline void buddy_op(struct buddy *b, struct gen *g, uint32_t *held)
{
	if (gen_wants_alloc(g)) {
		uint32_t slot = g->nheld;
		unsigned k = gen_alloc(g);
		pfn_t p = buddy_alloc(b, k, FK_KERNEL);

		if (p == PFN_NONE)
			exit(2);
		held[slot] = (uint32_t)p << 2 | k;
	} else {
		uint32_t v = gen_victim(g), h = held[v];

		gen_freed(g, h & 3);
		buddy_free(b, h >> 2, h & 3);
		held[v] = held[g->nheld];
	}
}

static double run_buddy(struct phys *ph, uint32_t *held)
{
	struct gen g = gen_seed;
	struct probe pr;
	struct buddy b;
	double t0;

	/* buddy_init wants descriptors as fresh from phys_init: all zero. */
	memset(ph->frames, 0, ph->nr_frames * sizeof(struct frame));
	probe_init(&pr);
	buddy_init(&b, ph, &pr, 1);
	while (gen_wants_alloc(&g)) /* fill to half, untimed */
		buddy_op(&b, &g, held);
	t0 = bench_now();
	for (unsigned i = 0; i < NR_OPS; i++)
		buddy_op(&b, &g, held);
	return (bench_now() - t0) * 1e9 / NR_OPS;
}

static inline void host_op(struct gen *g, uintptr_t *held)
{
	if (gen_wants_alloc(g)) {
		uint32_t slot = g->nheld;
		unsigned k = gen_alloc(g);
		void *p = malloc(16u << k);

		BENCH_KEEP(p);
		held[slot] = (uintptr_t)p | k;
	} else {
		uint32_t v = gen_victim(g);
		uintptr_t h = held[v];

		gen_freed(g, h & 3);
		free((void *)(h & ~(uintptr_t)3));
		held[v] = held[g->nheld];
	}
}

static double run_host(uintptr_t *held)
{
	struct gen g = gen_seed;
	double t0, dt;

	while (gen_wants_alloc(&g))
		host_op(&g, held);
	t0 = bench_now();
	for (unsigned i = 0; i < NR_OPS; i++)
		host_op(&g, held);
	dt = bench_now() - t0;
	while (g.nheld)
		free((void *)(held[--g.nheld] & ~(uintptr_t)3));
	return dt * 1e9 / NR_OPS;
}

int main(void)
{
	int reps = bench_reps(7);
	double sim[reps], host[reps];
	/* Never more blocks held than frames at half occupancy, plus one. */
	uint32_t *held = malloc((NR_FRAMES / 2 + 1) * sizeof(*held));
	uintptr_t *hheld = malloc((NR_FRAMES / 2 + 1) * sizeof(*hheld));
	cJSON *o = cJSON_CreateObject();
	struct phys ph;

	if (!held || !hheld || phys_init(&ph, (uint64_t)NR_FRAMES * PAGE_SIZE))
		exit(2);
	for (int i = -1; i < reps; i++) {
		if (i < 0) { /* back the frame table, warm up */
			run_buddy(&ph, held);
			continue;
		}
		sim[i] = run_buddy(&ph, held);
		host[i] = run_host(hheld);
	}
	double ns = bench_median(sim, reps), hns = bench_median(host, reps);

	cJSON_AddNumberToObject(o, "buddy_ns_per_op", ns);
	cJSON_AddNumberToObject(o, "host_malloc_free_pair_ns", 2 * hns);
	cJSON_AddNumberToObject(o, "buddy_vs_malloc_free_ratio", ns / (2 * hns));
	cJSON_AddNumberToObject(o, "ops", NR_OPS);
	cJSON_AddNumberToObject(o, "reps", reps);
	bench_emit(o);
	phys_destroy(&ph);
	free(held);
	free(hheld);
	return 0;
}
