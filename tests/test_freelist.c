/*
 * test_freelist.c - the textbook explicit-free-list allocators (libc/freelist.c):
 * firstfit, nextfit, bestfit. Splitting, immediate coalescing in all four
 * cases, the fit strategies side by side, in-place realloc, heap growth that
 * merges with a free last block, large requests by mmap, pointer validation
 * (SIGABRT through malloc_printerr), long random sequences. The policy's
 * checker and kernel_check run after every operation, inside task_run.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "kernel_sim/syscalls.h"
#include "libc/libc.h"
#include "tests/support_sim.h"

#define MiB        (1ULL << 20)
#define MAX_EVENTS 8192

static struct sim E;

static void boot(const char *policy)
{
	sim_boot(&E, &(struct sim_opts){.phys_bytes = 32 * MiB,
	                                .task = "test_freelist",
	                                .policy = policy,
	                                .max_events = MAX_EVENTS,
	                                .record = true});
}

static void teardown(void)
{
	sim_teardown(&E);
}

/* Block of user pointer p, found by the policy's walk. */
struct find {
	vaddr_t user;
	struct chunk_info ci;
	bool found;
	unsigned nfree, nblocks;
};

static void find_cb(void *ctx, const struct chunk_info *ci)
{
	struct find *f = ctx;

	if (ci->user == f->user) {
		f->ci = *ci;
		f->found = true;
	}
	f->nblocks++;
	f->nfree += !ci->in_use;
}

static struct find block_of(struct libc *lc, vaddr_t user)
{
	struct find f = {.user = user};

	lc->ops->walk(lc, find_cb, &f);
	return f;
}

/* Criterion re-executes the binary for each test: parameters must not hold
   pointers, so they name a policy by its index. */
static const char *policy_names[] = {"firstfit", "nextfit", "bestfit"};
static int policy_index[] = {0, 1, 2};

TestSuite(freelist, .fini = teardown);

/* ---- basic shape ----------------------------------------------------------- */

static void aligned(void *arg)
{
	struct libc *lc = arg;
	vaddr_t start = libc_sbrk(lc, 0);

	for (uint64_t n = 0; n < 600; n += 13) {
		vaddr_t p = sim_xmalloc(lc, n);
		struct find f = block_of(lc, p);

		cr_assert_eq(p & 15, 0);
		cr_assert_gt(p, start);
		cr_assert_leq(p + n, lc->curbrk);
		cr_assert(f.found && f.ci.in_use);
		cr_assert_geq(f.ci.size, n + 16);
		cr_assert_geq(f.ci.size, 32);
	}
}

ParameterizedTestParameters(freelist, malloc_returns_16_aligned_pointers_inside_the_heap)
{
	return cr_make_param_array(int, policy_index, 3);
}

ParameterizedTest(int *pi, freelist, malloc_returns_16_aligned_pointers_inside_the_heap)
{
	boot(policy_names[*pi]);
	sim_run(&E, aligned);
}

static void first_fault(void *arg)
{
	struct libc *lc = arg;
	uint64_t flt = E.t->min_flt;
	vaddr_t p, brk0;
	bool hdr_fault = false;

	E.nev = 0;
	p = sim_xmalloc(lc, 100);
	cr_assert_gt(E.t->min_flt, flt, "the first malloc took page faults");
	for (unsigned i = 0; i < E.nev; i++)
		if (E.ev[i].kind == EV_FAULT &&
		    (event_field(&E.ev[i], "addr", 0) & PAGE_MASK) == ((p - 8) & PAGE_MASK))
			hdr_fault = true;
	cr_assert(hdr_fault, "a store into the heap page of %#llx faulted", (unsigned long long)p);
	flt = E.t->min_flt;
	brk0 = lc->curbrk;
	libc_free(lc, sim_xmalloc(lc, 100));
	sim_check(lc);
	cr_assert_eq(E.t->min_flt, flt, "the second malloc touches mapped pages only");
	cr_assert_eq(lc->curbrk, brk0, "and needs no sbrk");
	cr_assert_eq(lc->curbrk & (PAGE_SIZE - 1), 0, "the heap grew to a page boundary");
}

ParameterizedTestParameters(freelist, the_first_malloc_takes_the_page_fault)
{
	return cr_make_param_array(int, policy_index, 3);
}

ParameterizedTest(int *pi, freelist, the_first_malloc_takes_the_page_fault)
{
	boot(policy_names[*pi]);
	sim_run(&E, first_fault);
}

/* ---- split and coalesce ---------------------------------------------------- */

static void split(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = sim_xmalloc(lc, 100);
	struct find f = block_of(lc, a), rest = block_of(lc, a + 112 + 16);

	cr_assert_eq(f.ci.size, 128, "100 + 16 rounded to 16");
	cr_assert(rest.found && !rest.ci.in_use, "the remainder is a free block");
	cr_assert(rest.ci.top);
	cr_assert_eq(rest.ci.chunk + rest.ci.size + 8, lc->curbrk, "it reaches the epilogue");
	cr_assert_eq(f.nfree, 1);
}

Test(freelist, malloc_splits_and_keeps_the_remainder_free)
{
	boot("firstfit");
	sim_run(&E, split);
}

static void coalesce(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = sim_xmalloc(lc, 100), b = sim_xmalloc(lc, 100), c = sim_xmalloc(lc, 100);
	vaddr_t guard = sim_xmalloc(lc, 100);
	struct find f;

	(void)guard;
	sim_xfree(lc, b);
	f = block_of(lc, b);
	cr_assert(f.found && !f.ci.in_use && f.ci.size == 128);
	cr_assert_eq(f.nfree, 2, "b and the tail");
	sim_xfree(lc, a); /* next is free */
	f = block_of(lc, a);
	cr_assert(f.found && !f.ci.in_use);
	cr_assert_eq(f.ci.size, 256, "a merged with b");
	cr_assert_not(block_of(lc, b).found, "b is gone inside a");
	sim_xfree(lc, c); /* previous is free */
	f = block_of(lc, a);
	cr_assert_eq(f.ci.size, 384, "a+b+c");
	cr_assert_eq(f.nfree, 2);
	sim_xfree(lc, guard); /* both neighbours free: everything is one block */
	f = block_of(lc, a);
	cr_assert(f.ci.top);
	cr_assert_eq(f.nfree, 1);
	cr_assert_eq(f.nblocks, 1);
}

ParameterizedTestParameters(freelist, free_coalesces_the_middle_of_three_then_its_neighbours)
{
	return cr_make_param_array(int, policy_index, 3);
}

ParameterizedTest(int *pi, freelist, free_coalesces_the_middle_of_three_then_its_neighbours)
{
	boot(policy_names[*pi]);
	sim_run(&E, coalesce);
}

/* ---- fit strategies ----------------------------------------------------- */

struct fit_result {
	vaddr_t blk[3], tail, got;
};

/* Three free 128-byte blocks between allocated separators, freed in order
   (LIFO list: blk2, blk1, blk0, then the tail the allocations were split
   from). First fit restarts at the head; next fit resumes at its rover,
   which was left on the remainder of its last split: the tail. */
static struct fit_result fit_result;

static void fit_sequence(void *arg)
{
	struct libc *lc = arg;
	vaddr_t sep = 0;

	for (int i = 0; i < 3; i++) {
		fit_result.blk[i] = sim_xmalloc(lc, 112);
		sep = sim_xmalloc(lc, 16);
	}
	fit_result.tail = sep + 32;
	for (int i = 0; i < 3; i++)
		sim_xfree(lc, fit_result.blk[i]);
	fit_result.got = sim_xmalloc(lc, 112);
}

Test(freelist, nextfit_resumes_where_firstfit_restarts)
{
	boot("firstfit");
	sim_run(&E, fit_sequence);
	cr_assert_eq(fit_result.got, fit_result.blk[2], "first fit takes the head");
	teardown();
	boot("nextfit");
	sim_run(&E, fit_sequence);
	cr_assert_eq(fit_result.got, fit_result.tail, "next fit goes on from the rover");
}

static void best_sequence(void *arg)
{
	struct libc *lc = arg;
	const uint64_t sizes[] = {400, 96, 200, 500};
	vaddr_t blk[4];

	for (int i = 0; i < 4; i++) {
		blk[i] = sim_xmalloc(lc, sizes[i]);
		sim_xmalloc(lc, 16);
	}
	for (int i = 0; i < 4; i++)
		sim_xfree(lc, blk[i]);
	fit_result.blk[0] = blk[1];
	fit_result.blk[1] = blk[3];
	fit_result.got = sim_xmalloc(lc, 90);
}

Test(freelist, bestfit_picks_the_tightest_block)
{
	boot("bestfit");
	sim_run(&E, best_sequence);
	cr_assert_eq(fit_result.got, fit_result.blk[0], "the 112-byte block");
	teardown();
	boot("firstfit");
	sim_run(&E, best_sequence);
	cr_assert_eq(fit_result.got, fit_result.blk[1], "first fit: the head, the 512-byte block");
}

/* ---- realloc ------------------------------------------------------------- */

static void realloc_in_place(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = sim_xmalloc(lc, 100), b = sim_xmalloc(lc, 200), c = sim_xmalloc(lc, 16), q;

	libc_memset(lc, a, 0x31, 100);
	sim_xfree(lc, b);
	q = libc_realloc(lc, a, 250);
	sim_check(lc);
	cr_assert_eq(q, a, "grown into the free neighbour");
	cr_assert_eq(cpu_check_fill(lc->cpu, a, 0x31, 100), 0);
	cr_assert_eq(block_of(lc, a).ci.size, 272);
	cr_assert_eq(block_of(lc, a + 272).ci.in_use, false, "the rest stays free (split)");
	q = libc_realloc(lc, a, 20);
	sim_check(lc);
	cr_assert_eq(q, a, "shrunk in place");
	cr_assert_eq(block_of(lc, a).ci.size, 48);
	cr_assert_eq(cpu_check_fill(lc->cpu, a, 0x31, 20), 0);
	q = libc_realloc(lc, a, 1000);
	sim_check(lc);
	cr_assert_neq(q, a, "c blocks the way: moved");
	cr_assert_eq(cpu_check_fill(lc->cpu, q, 0x31, 20), 0, "contents moved");
	cr_assert_not(block_of(lc, a).ci.in_use, "the old block was freed");
	sim_xfree(lc, q);
	sim_xfree(lc, c);
}

ParameterizedTestParameters(freelist, realloc_grows_and_shrinks_in_place_and_keeps_contents)
{
	return cr_make_param_array(int, policy_index, 3);
}

ParameterizedTest(int *pi, freelist, realloc_grows_and_shrinks_in_place_and_keeps_contents)
{
	boot(policy_names[*pi]);
	sim_run(&E, realloc_in_place);
}

/* ---- heap growth and mmap --------------------------------------------------- */

static void growth(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = sim_xmalloc(lc, 100), brk0 = lc->curbrk, b;
	uint64_t tail = brk0 - a - 128; /* the free block after a, header to epilogue */

	/* The free tail is `tail` bytes; ask for more: only the rest is sbrk'd. */
	b = sim_xmalloc(lc, tail + PAGE_SIZE);
	cr_assert_eq(b, a + 112 + 16, "the new block starts at the old free tail");
	cr_assert_eq(lc->curbrk, PAGE_ALIGN(b - 8 + tail + PAGE_SIZE + 16 + 8),
	             "the break moved just past the block, to a page boundary");
	cr_assert_eq(lc->curbrk & (PAGE_SIZE - 1), 0);
}

Test(freelist, heap_growth_merges_with_the_free_last_block)
{
	boot("firstfit");
	sim_run(&E, growth);
}

static void big(void *arg)
{
	struct libc *lc = arg;
	vaddr_t brk0 = libc_sbrk(lc, 0), p, q;
	struct find f;

	p = sim_xmalloc(lc, 128 * 1024);
	cr_assert_eq(lc->st.mmap_calls, 1, "the threshold request is mmapped");
	cr_assert_eq(lc->curbrk, brk0, "the heap did not move");
	cr_assert_eq(p & (PAGE_SIZE - 1), 16);
	cr_assert_eq(lc->st.mmapped_bytes, PAGE_ALIGN(128 * 1024 + 16));
	f = block_of(lc, p);
	cr_assert(f.found && f.ci.mmapped && f.ci.in_use);
	libc_memset(lc, p, 0x44, 128 * 1024);
	q = libc_realloc(lc, p, 300 * 1024);
	sim_check(lc);
	cr_assert_eq(cpu_check_fill(lc->cpu, q, 0x44, 128 * 1024), 0);
	cr_assert_eq(lc->st.mmapped_bytes, PAGE_ALIGN(300 * 1024 + 16));
	cr_assert_eq(libc_footprint(lc), lc->curbrk - E.t->mm->start_brk + lc->st.mmapped_bytes);
	sim_xfree(lc, q);
	cr_assert_eq(lc->st.mmapped_bytes, 0);
	cr_assert_eq(lc->st.munmap_calls, 2);
	p = sim_xmalloc(lc, 128 * 1024 - 1);
	cr_assert_eq(lc->st.mmap_calls, 2, "below the threshold: from the heap");
	cr_assert_gt(lc->curbrk, brk0);
	sim_xfree(lc, p);
}

ParameterizedTestParameters(freelist, large_requests_are_mmapped_and_counted)
{
	return cr_make_param_array(int, policy_index, 3);
}

ParameterizedTest(int *pi, freelist, large_requests_are_mmapped_and_counted)
{
	boot(policy_names[*pi]);
	sim_run(&E, big);
}

static void sbrk_fails(void *arg)
{
	struct libc *lc = arg;
	struct sim_rlimit rl;
	vaddr_t p = sim_xmalloc(lc, 16);

	cr_assert_eq(sys_getrlimit(lc->k, SIM_RLIMIT_DATA, &rl), 0);
	rl.cur = (lc->curbrk - E.t->mm->start_brk) + (E.t->mm->end_data - E.t->mm->start_data);
	cr_assert_eq(sys_setrlimit(lc->k, SIM_RLIMIT_DATA, &rl), 0);
	cr_assert_eq(libc_malloc(lc, 64 * 1024), 0, "sbrk failed: NULL");
	sim_check(lc);
	cr_assert_eq(lc->errno_, SIM_ENOMEM);
	cr_assert_neq(libc_malloc(lc, 1000), 0, "what is left of the page still serves");
	sim_check(lc);
	sim_xfree(lc, p);
}

Test(freelist, malloc_returns_null_when_sbrk_fails)
{
	boot("firstfit");
	sim_run(&E, sbrk_fails);
}

/* ---- pointer validation ---------------------------------------------------- */

static void double_free(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = sim_xmalloc(lc, 64);

	sim_xmalloc(lc, 64);
	sim_xfree(lc, p);
	libc_free(lc, p);
	cr_assert_fail("the double free returned");
}

ParameterizedTestParameters(freelist, a_double_free_aborts_the_process)
{
	return cr_make_param_array(int, policy_index, 3);
}

ParameterizedTest(int *pi, freelist, a_double_free_aborts_the_process)
{
	const char *msg = "free(): double free detected\n";

	boot(policy_names[*pi]);
	cr_assert_eq(task_run(&E.k, E.t, double_free, &E.lc), SIM_SIGABRT);
	cr_assert(E.t->dead);
	cr_assert_eq(E.t->stderr_len, strlen(msg));
	cr_assert_eq(memcmp(E.t->stderr_buf, msg, strlen(msg)), 0);
	cr_assert_eq(kernel_check(&E.k, stderr), 0);
}

static vaddr_t bad_ptr_kind;

static void bad_free(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = sim_xmalloc(lc, 64);

	libc_memset(lc, p, 0, 64);
	switch (bad_ptr_kind) {
	case 0:
		libc_free(lc, p + 32); /* inside a block: its "header" is payload */
		break;
	case 1:
		libc_free(lc, p + 8); /* misaligned */
		break;
	default:
		libc_free(lc, 0x7f0000000010ULL); /* nowhere near the heap */
		break;
	}
	cr_assert_fail("free of a bad pointer returned");
}

Test(freelist, a_free_of_a_pointer_never_returned_aborts_the_process)
{
	const char *msg = "free(): invalid pointer\n";

	for (bad_ptr_kind = 0; bad_ptr_kind < 3; bad_ptr_kind++) {
		if (bad_ptr_kind) {
			teardown();
		}
		boot(policy_names[bad_ptr_kind]);
		cr_assert_eq(task_run(&E.k, E.t, bad_free, &E.lc), SIM_SIGABRT, "case %llu",
		             (unsigned long long)bad_ptr_kind);
		cr_assert_eq(E.t->stderr_len, strlen(msg));
		cr_assert_eq(memcmp(E.t->stderr_buf, msg, strlen(msg)), 0);
		cr_assert_eq(kernel_check(&E.k, stderr), 0);
	}
}

static void corrupt(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = sim_xmalloc(lc, 64), b = sim_xmalloc(lc, 64);

	sim_xmalloc(lc, 64);
	libc_st64(lc, a + 64, 96 | 1); /* a's footer (80|1) */
	cr_assert_gt(lc->ops->check(lc, NULL), 0, "header != footer");
	libc_st64(lc, a + 64, 80 | 1);
	cr_assert_eq(lc->ops->check(lc, stderr), 0);
	sim_xfree(lc, b);
	libc_st64(lc, b, 0x1234); /* b's pred link */
	cr_assert_gt(lc->ops->check(lc, NULL), 0, "list links inconsistent");
	libc_st64(lc, b, 0);
	cr_assert_eq(lc->ops->check(lc, stderr), 0);
	libc_st64(lc, b - 8, 80 | 1); /* b marked allocated in the header only */
	cr_assert_gt(lc->ops->check(lc, NULL), 0, "tags disagree");
	libc_st64(lc, b - 8, 80);
}

Test(freelist, the_checker_finds_damaged_tags_and_links)
{
	boot("firstfit");
	sim_run(&E, corrupt);
}

/* ---- random sequences -------------------------------------------------- */

#define NLIVE 128

static uint64_t rand_seed;

static uint64_t rand_size(uint64_t *s)
{
	unsigned k = sim_rng_next(s) % 64;

	if (k == 0)
		return 100000 + sim_rng_next(s) % 200000; /* sometimes mmapped */
	if (k < 8)
		return sim_rng_next(s) % 5000;
	return sim_rng_next(s) % 300;
}

static void random_ops(void *arg)
{
	struct libc *lc = arg;
	struct sim_live live[NLIVE] = {0};
	uint64_t s = rand_seed;

	for (int op = 0; op < 3000; op++) {
		struct sim_live *l = &live[sim_rng_next(&s) % NLIVE];
		uint64_t n = rand_size(&s);
		unsigned r = sim_rng_next(&s) % 3;

		if (l->p && r == 0) {
			sim_live_free(lc, l);
		} else if (l->p && r == 1) {
			sim_live_realloc(lc, l, n + 1);
		} else if (!l->p) {
			sim_live_malloc(lc, l, n, (uint8_t)(op | 1));
			cr_assert_geq(libc_malloc_usable_size(lc, l->p), n);
		}
	}
	for (int i = 0; i < NLIVE; i++) {
		if (live[i].p) {
			sim_verify_live(lc, &live[i]);
			sim_xfree(lc, live[i].p);
		}
	}
	cr_assert_eq(lc->st.mmapped_bytes, 0, "every mapping was given back");
	cr_assert_eq(block_of(lc, 0).nfree, 1, "everything coalesced into one free block");
}

struct rand_param {
	int policy; /* index into policy_names */
	uint64_t seed;
};

ParameterizedTestParameters(freelist, random_sequences_keep_the_heap_valid_and_contents_intact)
{
	static struct rand_param p[] = {
	    {0, 1}, {0, 0x9e3779b97f4a7c15ULL}, {1, 2}, {1, 0xdeadbeefcafeULL},
	    {2, 3}, {2, 0x123456789abcdefULL},
	};

	return cr_make_param_array(struct rand_param, p, sizeof(p) / sizeof(p[0]));
}

ParameterizedTest(struct rand_param *p, freelist,
                  random_sequences_keep_the_heap_valid_and_contents_intact)
{
	boot(policy_names[p->policy]);
	rand_seed = p->seed;
	sim_run(&E, random_ops);
}
