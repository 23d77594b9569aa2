/*
 * test_seed.c - the seed article's allocator (libc/seed.c): first fit from
 * the heap start, no splitting, no coalescing, the heap grown by exactly one
 * block, nothing checked on free. The policy's checker and kernel_check run
 * after every operation, inside task_run on a booted kernel.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kernel_sim/syscalls.h"
#include "libc/libc.h"
#include "tests/support_sim.h"

#define MiB        (1ULL << 20)
#define MAX_EVENTS 8192
#define HDR        16 /* the control block */

static struct sim E;

static void boot(void)
{
	sim_boot(&E, &(struct sim_opts){.phys_bytes = 16 * MiB,
	                                .task = "test_seed",
	                                .policy = "seed",
	                                .max_events = MAX_EVENTS,
	                                .record = true});
}

static void teardown(void)
{
	sim_teardown(&E);
}

TestSuite(seed, .init = boot, .fini = teardown);

static void aligned(void *arg)
{
	struct libc *lc = arg;
	vaddr_t start = libc_sbrk(lc, 0);

	for (uint64_t n = 0; n < 300; n += 7) {
		vaddr_t p = sim_xmalloc(lc, n);

		cr_assert_eq(p & 15, 0, "malloc(%llu) = %#llx", (unsigned long long)n,
		             (unsigned long long)p);
		cr_assert_geq(p, start + HDR);
		cr_assert_leq(p + n, lc->curbrk, "the block lies below the break");
		cr_assert_geq(libc_malloc_usable_size(lc, p), n);
	}
}

Test(seed, malloc_returns_16_aligned_pointers_inside_the_heap)
{
	sim_run(&E, aligned);
}

static void first_fault(void *arg)
{
	struct libc *lc = arg;
	uint64_t flt = E.t->min_flt;
	vaddr_t p;
	bool hdr_fault = false;

	E.nev = 0;
	p = sim_xmalloc(lc, 100);
	cr_assert_gt(E.t->min_flt, flt, "the first malloc took page faults");
	for (unsigned i = 0; i < E.nev; i++)
		if (E.ev[i].kind == EV_FAULT && event_field(&E.ev[i], "addr", 0) == p - HDR)
			hdr_fault = true;
	cr_assert(hdr_fault, "the header store at %#llx faulted", (unsigned long long)(p - HDR));
	flt = E.t->min_flt;
	libc_st64(lc, p, 1);
	cr_assert_eq(E.t->min_flt, flt, "the page is mapped now");
}

Test(seed, the_first_malloc_header_write_takes_the_page_fault)
{
	sim_run(&E, first_fault);
}

static void grows_exactly(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a, b, brk0;

	a = sim_xmalloc(lc, 1);
	brk0 = lc->curbrk;
	cr_assert_eq(brk0, a - HDR + 32, "1 byte costs a 32-byte block");
	b = sim_xmalloc(lc, 100);
	cr_assert_eq(b, brk0 + HDR);
	cr_assert_eq(lc->curbrk, brk0 + 128, "sbrk(16 + 100 rounded to 16)");
	cr_assert_eq(lc->st.brk_calls, 3, "brk(0), then one brk per block");
}

Test(seed, the_heap_grows_by_exactly_one_block)
{
	sim_run(&E, grows_exactly);
}

static void no_split(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = sim_xmalloc(lc, 200), b = sim_xmalloc(lc, 10), c, d;
	vaddr_t brk0 = lc->curbrk;

	sim_xfree(lc, a);
	c = sim_xmalloc(lc, 10);
	cr_assert_eq(c, a, "first fit from the start");
	cr_assert_eq(libc_malloc_usable_size(lc, c), 208, "no split: the whole block");
	d = sim_xmalloc(lc, 10);
	cr_assert_neq(d, a);
	cr_assert_eq(d, brk0 + HDR, "nothing else fits: the heap grows");
	sim_xfree(lc, b);
	sim_xfree(lc, c);
	sim_xfree(lc, d);
}

Test(seed, reuses_the_first_available_block_without_splitting)
{
	sim_run(&E, no_split);
}

static void no_coalesce(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = sim_xmalloc(lc, 96), b = sim_xmalloc(lc, 96), c;
	vaddr_t brk0 = lc->curbrk;

	sim_xfree(lc, a);
	sim_xfree(lc, b);
	c = sim_xmalloc(lc, 150);
	cr_assert_eq(c, brk0 + HDR, "two free neighbours are not merged");
}

Test(seed, never_coalesces_free_neighbours)
{
	sim_run(&E, no_coalesce);
}

static void realloc_contents(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = sim_xmalloc(lc, 40), q;

	libc_memset(lc, p, 0x77, 40);
	q = libc_realloc(lc, p, 48);
	sim_check(lc);
	cr_assert_eq(q, p, "48 bytes fit in the block");
	q = libc_realloc(lc, p, 500);
	sim_check(lc);
	cr_assert_neq(q, p);
	cr_assert_eq(cpu_check_fill(lc->cpu, q, 0x77, 40), 0, "contents moved");
	cr_assert_eq(libc_malloc(lc, 40), p, "the old block was freed");
	sim_check(lc);
}

Test(seed, realloc_keeps_contents)
{
	sim_run(&E, realloc_contents);
}

static void sbrk_fails(void *arg)
{
	struct libc *lc = arg;
	struct sim_rlimit rl;
	vaddr_t p = sim_xmalloc(lc, 16);

	cr_assert_eq(sys_getrlimit(lc->k, SIM_RLIMIT_DATA, &rl), 0);
	rl.cur = (lc->curbrk - E.t->mm->start_brk) + (E.t->mm->end_data - E.t->mm->start_data) + 4096;
	cr_assert_eq(sys_setrlimit(lc->k, SIM_RLIMIT_DATA, &rl), 0);
	cr_assert_eq(libc_malloc(lc, 1 * MiB), 0, "sbrk failed: NULL");
	sim_check(lc);
	cr_assert_eq(lc->errno_, SIM_ENOMEM);
	cr_assert_neq(libc_malloc(lc, 1000), 0, "a small block still fits the limit");
	sim_check(lc);
	sim_xfree(lc, p);
}

Test(seed, malloc_returns_null_when_sbrk_fails)
{
	sim_run(&E, sbrk_fails);
}

/* No checks by design: the same block is handed out twice afterwards. */
static void double_free(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = sim_xmalloc(lc, 64), q, r;

	sim_xfree(lc, p);
	sim_xfree(lc, p);
	q = sim_xmalloc(lc, 64);
	sim_xfree(lc, q);
	r = sim_xmalloc(lc, 64);
	cr_assert_eq(q, p);
	cr_assert_eq(r, p);
}

Test(seed, a_double_free_goes_unnoticed)
{
	sim_run(&E, double_free);
}

static void corrupt(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = sim_xmalloc(lc, 64);

	sim_xmalloc(lc, 64);
	libc_st64(lc, p - HDR + 8, 72); /* size no longer a multiple of 16 */
	cr_assert_gt(lc->ops->check(lc, NULL), 0, "the checker sees a bad size");
	libc_st64(lc, p - HDR + 8, 80);
	libc_st64(lc, p - HDR, 2);
	cr_assert_gt(lc->ops->check(lc, NULL), 0, "the checker sees a bad flag");
	libc_st64(lc, p - HDR, 0);
	cr_assert_eq(lc->ops->check(lc, stderr), 0);
}

Test(seed, the_checker_finds_a_damaged_control_block)
{
	sim_run(&E, corrupt);
}

static void walk_cb(void *ctx, const struct chunk_info *ci)
{
	unsigned *n = ctx;

	cr_assert_eq(ci->user, ci->chunk + HDR);
	cr_assert_eq(ci->in_use, (*n % 2) == 0, "every other block was freed");
	(*n)++;
}

static void walk(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p[6];
	unsigned n = 0;

	for (int i = 0; i < 6; i++)
		p[i] = sim_xmalloc(lc, 32 * (i + 1));
	for (int i = 1; i < 6; i += 2)
		sim_xfree(lc, p[i]);
	lc->ops->walk(lc, walk_cb, &n);
	cr_assert_eq(n, 6);
}

Test(seed, walk_reports_every_block_in_address_order)
{
	sim_run(&E, walk);
}

/* ---- random sequences -------------------------------------------------- */

#define NLIVE 64

static uint64_t seed_value;

static void random_ops(void *arg)
{
	struct libc *lc = arg;
	struct sim_live live[NLIVE] = {0};
	uint64_t s = seed_value;

	for (int op = 0; op < 2000; op++) {
		struct sim_live *l = &live[sim_rng_next(&s) % NLIVE];
		uint64_t n = sim_rng_next(&s) % (sim_rng_next(&s) % 8 == 0 ? 4000 : 200);
		unsigned r = sim_rng_next(&s) % 3;

		if (l->p && r == 0) {
			sim_live_free(lc, l);
		} else if (l->p && r == 1) {
			sim_live_realloc(lc, l, n + 1);
		} else if (!l->p) {
			sim_live_malloc(lc, l, n, (uint8_t)(op | 1));
		}
	}
	for (int i = 0; i < NLIVE; i++)
		if (live[i].p)
			sim_verify_live(lc, &live[i]);
}

Test(seed, random_sequences_keep_the_heap_valid_and_contents_intact)
{
	const uint64_t seeds[] = {1, 0x9e3779b97f4a7c15ULL};

	for (unsigned i = 0; i < 2; i++) {
		if (i) {
			teardown();
			boot();
		}
		seed_value = seeds[i];
		sim_run(&E, random_ops);
	}
}
