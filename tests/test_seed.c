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

#define MiB        (1ULL << 20)
#define MAX_EVENTS 8192
#define HDR        16 /* the control block */

struct env {
	struct kernel k;
	struct task *t;
	struct libc lc;
	unsigned nev;
	struct event ev[MAX_EVENTS];
};

static struct env E;

static void record(void *ctx, const struct event *ev)
{
	struct env *e = ctx;

	if (e->nev < MAX_EVENTS)
		e->ev[e->nev++] = *ev;
}

static void boot(void)
{
	struct kernel_opts o;

	kernel_default_opts(&o);
	o.phys_bytes = 16 * MiB;
	cr_assert_eq(kernel_boot(&E.k, &o, stderr), 0);
	E.t = task_create(&E.k, "test_seed");
	cr_assert_not_null(E.t);
	libc_init(&E.lc, &E.k, malloc_policy("seed"));
	probe_set_sink(&E.k.probe, record, &E);
}

static void teardown(void)
{
	/* A failed assertion inside task_run leaves the task running: leave
	   everything to the exit of the test's process. */
	if (E.t && E.t->exit_jmp)
		return;
	if (E.t)
		task_destroy(&E.k, E.t);
	kernel_shutdown(&E.k);
}

static void check(struct libc *lc)
{
	cr_assert_eq(lc->ops->check(lc, stderr), 0, "seed check failed");
	cr_assert_eq(kernel_check(lc->k, stderr), 0, "kernel_check failed");
}

static void run(void (*body)(void *))
{
	int sig = task_run(&E.k, E.t, body, &E.lc);

	cr_assert_eq(sig, 0, "process died of signal %d: %s", sig, E.t->death.reason);
	check(&E.lc);
}

static vaddr_t xmalloc(struct libc *lc, uint64_t n)
{
	vaddr_t p = libc_malloc(lc, n);

	check(lc);
	cr_assert_neq(p, 0, "malloc(%llu) failed", (unsigned long long)n);
	return p;
}

static void xfree(struct libc *lc, vaddr_t p)
{
	libc_free(lc, p);
	check(lc);
}

TestSuite(seed, .init = boot, .fini = teardown);

static void aligned(void *arg)
{
	struct libc *lc = arg;
	vaddr_t start = libc_sbrk(lc, 0);

	for (uint64_t n = 0; n < 300; n += 7) {
		vaddr_t p = xmalloc(lc, n);

		cr_assert_eq(p & 15, 0, "malloc(%llu) = %#llx", (unsigned long long)n,
		             (unsigned long long)p);
		cr_assert_geq(p, start + HDR);
		cr_assert_leq(p + n, lc->curbrk, "the block lies below the break");
		cr_assert_geq(libc_malloc_usable_size(lc, p), n);
	}
}

Test(seed, malloc_returns_16_aligned_pointers_inside_the_heap)
{
	run(aligned);
}

static void first_fault(void *arg)
{
	struct libc *lc = arg;
	uint64_t flt = E.t->min_flt;
	vaddr_t p;
	bool hdr_fault = false;

	E.nev = 0;
	p = xmalloc(lc, 100);
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
	run(first_fault);
}

static void grows_exactly(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a, b, brk0;

	a = xmalloc(lc, 1);
	brk0 = lc->curbrk;
	cr_assert_eq(brk0, a - HDR + 32, "1 byte costs a 32-byte block");
	b = xmalloc(lc, 100);
	cr_assert_eq(b, brk0 + HDR);
	cr_assert_eq(lc->curbrk, brk0 + 128, "sbrk(16 + 100 rounded to 16)");
	cr_assert_eq(lc->st.brk_calls, 3, "brk(0), then one brk per block");
}

Test(seed, the_heap_grows_by_exactly_one_block)
{
	run(grows_exactly);
}

static void no_split(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = xmalloc(lc, 200), b = xmalloc(lc, 10), c, d;
	vaddr_t brk0 = lc->curbrk;

	xfree(lc, a);
	c = xmalloc(lc, 10);
	cr_assert_eq(c, a, "first fit from the start");
	cr_assert_eq(libc_malloc_usable_size(lc, c), 208, "no split: the whole block");
	d = xmalloc(lc, 10);
	cr_assert_neq(d, a);
	cr_assert_eq(d, brk0 + HDR, "nothing else fits: the heap grows");
	xfree(lc, b);
	xfree(lc, c);
	xfree(lc, d);
}

Test(seed, reuses_the_first_available_block_without_splitting)
{
	run(no_split);
}

static void no_coalesce(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = xmalloc(lc, 96), b = xmalloc(lc, 96), c;
	vaddr_t brk0 = lc->curbrk;

	xfree(lc, a);
	xfree(lc, b);
	c = xmalloc(lc, 150);
	cr_assert_eq(c, brk0 + HDR, "two free neighbours are not merged");
}

Test(seed, never_coalesces_free_neighbours)
{
	run(no_coalesce);
}

static void realloc_contents(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = xmalloc(lc, 40), q;

	libc_memset(lc, p, 0x77, 40);
	q = libc_realloc(lc, p, 48);
	check(lc);
	cr_assert_eq(q, p, "48 bytes fit in the block");
	q = libc_realloc(lc, p, 500);
	check(lc);
	cr_assert_neq(q, p);
	cr_assert_eq(cpu_check_fill(lc->cpu, q, 0x77, 40), 0, "contents moved");
	cr_assert_eq(libc_malloc(lc, 40), p, "the old block was freed");
	check(lc);
}

Test(seed, realloc_keeps_contents)
{
	run(realloc_contents);
}

static void sbrk_fails(void *arg)
{
	struct libc *lc = arg;
	struct sim_rlimit rl;
	vaddr_t p = xmalloc(lc, 16);

	cr_assert_eq(sys_getrlimit(lc->k, SIM_RLIMIT_DATA, &rl), 0);
	rl.cur = (lc->curbrk - E.t->mm.start_brk) + (E.t->mm.end_data - E.t->mm.start_data) + 4096;
	cr_assert_eq(sys_setrlimit(lc->k, SIM_RLIMIT_DATA, &rl), 0);
	cr_assert_eq(libc_malloc(lc, 1 * MiB), 0, "sbrk failed: NULL");
	check(lc);
	cr_assert_eq(lc->errno_, SIM_ENOMEM);
	cr_assert_neq(libc_malloc(lc, 1000), 0, "a small block still fits the limit");
	check(lc);
	xfree(lc, p);
}

Test(seed, malloc_returns_null_when_sbrk_fails)
{
	run(sbrk_fails);
}

/* No checks by design: the same block is handed out twice afterwards. */
static void double_free(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = xmalloc(lc, 64), q, r;

	xfree(lc, p);
	xfree(lc, p);
	q = xmalloc(lc, 64);
	xfree(lc, q);
	r = xmalloc(lc, 64);
	cr_assert_eq(q, p);
	cr_assert_eq(r, p);
}

Test(seed, a_double_free_goes_unnoticed)
{
	run(double_free);
}

static void corrupt(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = xmalloc(lc, 64);

	xmalloc(lc, 64);
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
	run(corrupt);
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
		p[i] = xmalloc(lc, 32 * (i + 1));
	for (int i = 1; i < 6; i += 2)
		xfree(lc, p[i]);
	lc->ops->walk(lc, walk_cb, &n);
	cr_assert_eq(n, 6);
}

Test(seed, walk_reports_every_block_in_address_order)
{
	run(walk);
}

/* ---- random sequences -------------------------------------------------- */

#define NLIVE 64

struct live {
	vaddr_t p;
	uint64_t n;
	uint8_t pat;
};

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void verify(struct libc *lc, const struct live *l)
{
	cr_assert_eq(cpu_check_fill(lc->cpu, l->p, l->pat, l->n), 0,
	             "contents of %#llx (%llu bytes) changed", (unsigned long long)l->p,
	             (unsigned long long)l->n);
}

static uint64_t seed_value;

static void random_ops(void *arg)
{
	struct libc *lc = arg;
	struct live live[NLIVE] = {0};
	uint64_t s = seed_value;

	for (int op = 0; op < 2000; op++) {
		struct live *l = &live[rng_next(&s) % NLIVE];
		uint64_t n = rng_next(&s) % (rng_next(&s) % 8 == 0 ? 4000 : 200);
		unsigned r = rng_next(&s) % 3;

		if (l->p && r == 0) {
			verify(lc, l);
			xfree(lc, l->p);
			l->p = 0;
		} else if (l->p && r == 1) {
			verify(lc, l);
			l->p = libc_realloc(lc, l->p, n + 1);
			check(lc);
			cr_assert_neq(l->p, 0);
			cr_assert_eq(l->p & 15, 0);
			if (l->n > n + 1)
				l->n = n + 1;
			verify(lc, l);
			libc_memset(lc, l->p, l->pat, n + 1);
			l->n = n + 1;
		} else if (!l->p) {
			l->p = xmalloc(lc, n);
			cr_assert_eq(l->p & 15, 0);
			l->n = n;
			l->pat = (uint8_t)(op | 1);
			libc_memset(lc, l->p, l->pat, n);
		}
	}
	for (int i = 0; i < NLIVE; i++)
		if (live[i].p)
			verify(lc, &live[i]);
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
		run(random_ops);
	}
}
