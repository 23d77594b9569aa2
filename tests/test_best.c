/*
 * test_best.c - the project's own allocator (libc/best.c): placement, exact
 * heap growth, in-place realloc, coalescing, mmapped big blocks, glibc-like
 * aborts on bad frees, with best's checker and kernel_check after every
 * operation; and its utilization on the public traces: a mean of at least
 * 0.95 over the 11 scored malloclab traces and never below real glibc, and
 * never below glibc on the traces of real programs (demos/traces/real/).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demos/cli/replay.h"
#include "kernel_sim/syscalls.h"
#include "libc/libc.h"
#include "tests/support_sim.h"
#include "tests/support_bin.h"

#define MiB (1ULL << 20)

static struct sim E;

static void boot(void)
{
	sim_boot(&E,
	         &(struct sim_opts){.phys_bytes = 16 * MiB, .task = "test_best", .policy = "best"});
}

static void teardown(void)
{
	sim_teardown(&E);
}

TestSuite(best, .init = boot, .fini = teardown);

static vaddr_t xmalloc(struct libc *lc, uint64_t n)
{
	vaddr_t p = libc_malloc(lc, n);

	cr_assert_neq(p, 0, "malloc(%llu) failed", (unsigned long long)n);
	cr_assert_eq(p & 15, 0, "malloc(%llu) = %#llx not 16-aligned", (unsigned long long)n,
	             (unsigned long long)p);
	sim_check(lc);
	return p;
}

static vaddr_t xrealloc(struct libc *lc, vaddr_t p, uint64_t n)
{
	vaddr_t q = libc_realloc(lc, p, n);

	cr_assert_neq(q, 0);
	sim_check(lc);
	return q;
}

struct count {
	unsigned used, free;
	uint64_t free_bytes;
};

static void count_cb(void *ctx, const struct chunk_info *ci)
{
	struct count *c = ctx;

	if (ci->in_use) {
		c->used++;
	} else {
		c->free++;
		c->free_bytes += ci->size;
	}
}

static struct count count(struct libc *lc)
{
	struct count c = {0};

	lc->ops->walk(lc, count_cb, &c);
	return c;
}

static void body_aligned(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p[64];

	for (int i = 0; i < 64; i++) {
		p[i] = xmalloc(lc, (uint64_t)(i * 37 % 700));
		cr_assert_geq(libc_malloc_usable_size(lc, p[i]), (uint64_t)(i * 37 % 700));
		libc_memset(lc, p[i], 0xaa, (uint64_t)(i * 37 % 700));
	}
	for (int i = 0; i < 64; i += 2)
		sim_xfree(lc, p[i]);
	for (int i = 1; i < 64; i += 2)
		sim_xfree(lc, p[i]);
	struct count c = count(lc);

	cr_assert_eq(c.used, 0);
	cr_assert_eq(c.free, 1, "everything coalesces into one chunk, got %u", c.free);
}

Test(best, blocks_are_16_aligned_and_all_frees_coalesce)
{
	sim_run(&E, body_aligned);
}

static void body_exact_growth(void *arg)
{
	struct libc *lc = arg;
	uint64_t f0, f1;
	vaddr_t p, q;

	p = xmalloc(lc, 1000); /* chunk 1008 */
	f0 = libc_footprint(lc);
	/* alignment pad (< 16) + chunk + 8-byte epilogue */
	cr_assert_geq(f0, 1008 + 8);
	cr_assert_lt(f0, 1008 + 8 + 16);
	q = xmalloc(lc, 2000); /* chunk 2016: the heap grows by exactly that */
	f1 = libc_footprint(lc);
	cr_assert_eq(f1 - f0, 2016);
	cr_assert_eq(q, p + 1008);
	cr_assert_eq(lc->st.mmap_calls, 0);
}

Test(best, heap_grows_by_exactly_what_is_missing)
{
	sim_run(&E, body_exact_growth);
}

static void body_small_large(void *arg)
{
	struct libc *lc = arg;
	vaddr_t s1, l1, s2, l2, big;
	uint64_t brks;

	s1 = xmalloc(lc, 64); /* small: the heap grows by 4096, s1 at its low end */
	brks = lc->st.brk_calls;
	cr_assert_geq(libc_footprint(lc), 4096 + 8);
	cr_assert_lt(libc_footprint(lc), 4096 + 8 + 16);
	l1 = xmalloc(lc, 448);
	s2 = xmalloc(lc, 64);
	l2 = xmalloc(lc, 448);
	cr_assert_eq(s2, s1 + 80, "small blocks gather low");
	cr_assert_eq(l2 + 464, l1, "large blocks gather high");
	cr_assert_gt(l1, s2);
	cr_assert_eq(lc->st.brk_calls, brks, "all four from the first 4 KiB");
	/* Freed large blocks coalesce into room for a bigger one. */
	sim_xfree(lc, l1);
	sim_xfree(lc, l2);
	big = xmalloc(lc, 512);
	cr_assert_geq(big, s2 + 80);
	cr_assert_eq(lc->st.brk_calls, brks);
}

Test(best, small_blocks_gather_low_and_large_ones_high)
{
	sim_run(&E, body_small_large);
}

static void body_realloc_end(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p, q;
	uint64_t f0;

	p = xmalloc(lc, 1000);
	libc_memset(lc, p, 0x5a, 1000);
	f0 = libc_footprint(lc);
	q = xrealloc(lc, p, 5000); /* chunk 1008 -> 5008 */
	cr_assert_eq(q, p, "the last block grows in place");
	cr_assert_eq(libc_footprint(lc) - f0, 4000);
	cr_assert_eq(libc_ld64(lc, p + 992), 0x5a5a5a5a5a5a5a5aULL);
	q = xrealloc(lc, p, 100);
	cr_assert_eq(q, p, "shrinks in place");
	cr_assert_eq(count(lc).free, 1);
}

Test(best, realloc_grows_the_last_block_in_place_and_shrinks_in_place)
{
	sim_run(&E, body_realloc_end);
}

static void body_realloc_next(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a, b, c, q;

	a = xmalloc(lc, 500);
	b = xmalloc(lc, 500);
	c = xmalloc(lc, 500);
	xmalloc(lc, 500); /* c is not the last block */
	libc_st64(lc, a, 0x1122334455667788ULL);
	sim_xfree(lc, b);
	q = xrealloc(lc, a, 900); /* absorbs b */
	cr_assert_eq(q, a);
	cr_assert_eq(libc_ld64(lc, q), 0x1122334455667788ULL);
	/* Slide back: c grows into the free rest before it. */
	sim_xfree(lc, q);
	libc_st64(lc, c + 488, 0xcafef00dULL);
	q = xrealloc(lc, c, 1200);
	cr_assert_lt(q, c, "moved back into the free chunk before it");
	cr_assert_eq(libc_ld64(lc, q + 488), 0xcafef00dULL);
}

Test(best, realloc_absorbs_the_next_free_chunk_or_slides_back)
{
	sim_run(&E, body_realloc_next);
}

static void body_mmap(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = xmalloc(lc, 300000);

	cr_assert_eq(lc->st.mmap_calls, 1);
	cr_assert_eq(lc->st.mmapped_bytes, PAGE_ALIGN(300000 + 32));
	libc_memset(lc, p, 1, 300000);
	p = xrealloc(lc, p, 303000); /* fits in the mapping (303104 bytes) */
	cr_assert_eq(lc->st.mmap_calls, 1);
	sim_xfree(lc, p);
	cr_assert_eq(lc->st.munmap_calls, 1);
	cr_assert_eq(lc->st.mmapped_bytes, 0);
	p = xmalloc(lc, 200000);
	cr_assert(p >= E.t->mm->start_brk && p < E.t->mm->brk, "200000 bytes come from the heap");
	cr_assert_eq(lc->st.mmap_calls, 1);
}

Test(best, only_requests_of_256k_and_more_are_mmapped)
{
	sim_run(&E, body_mmap);
}

static void body_mremap(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = xmalloc(lc, 300000), q;
	uint64_t faults;

	for (uint64_t off = 0; off < 300000; off += 4096)
		libc_st64(lc, p + off, off ^ 0x5a5a);
	faults = E.t->min_flt;
	q = xrealloc(lc, p, 700000); /* mremap: the pages move, no copy */
	cr_assert_eq(lc->st.mmap_calls, 1);
	cr_assert_eq(lc->st.munmap_calls, 0);
	cr_assert_eq(lc->st.mmapped_bytes, PAGE_ALIGN(700000 + 32));
	cr_assert_eq(E.t->min_flt, faults, "no page copied, so no fault");
	for (uint64_t off = 0; off < 300000; off += 4096)
		cr_assert_eq(libc_ld64(lc, q + off), off ^ 0x5a5a);
	q = xrealloc(lc, q, 270000); /* shrinks the mapping */
	cr_assert_eq(lc->st.mmapped_bytes, PAGE_ALIGN(270000 + 32));
	cr_assert_eq(libc_ld64(lc, q + 4096), 4096 ^ 0x5a5a);
	q = xrealloc(lc, q, 5000); /* small: into the heap */
	cr_assert(q >= E.t->mm->start_brk && q < E.t->mm->brk);
	cr_assert_eq(lc->st.mmapped_bytes, 0);
	cr_assert_eq(libc_ld64(lc, q + 4096), 4096 ^ 0x5a5a);
}

Test(best, realloc_of_a_mapped_block_uses_mremap)
{
	sim_run(&E, body_mremap);
}

static void body_fit_before_mmap(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a, b, p;

	a = xmalloc(lc, 200000);
	b = xmalloc(lc, 200000);
	xmalloc(lc, 100); /* a and b are not the last chunk */
	sim_xfree(lc, a);
	sim_xfree(lc, b);
	p = xmalloc(lc, 300000);
	cr_assert_eq(lc->st.mmap_calls, 0, "the coalesced 400000 bytes of a and b fit");
	cr_assert(p >= a && p < b + 200000);
}

Test(best, a_big_request_takes_a_free_heap_chunk_that_fits_before_mapping)
{
	sim_run(&E, body_fit_before_mmap);
}

static void body_trim_before_mmap(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p, q;
	uint64_t f0, brk0;

	p = xmalloc(lc, 1000);
	brk0 = E.t->mm->brk;
	f0 = libc_footprint(lc);
	q = xmalloc(lc, 100000); /* the last chunk */
	sim_xfree(lc, q);
	cr_assert_eq(libc_footprint(lc), f0 + 100016, "a free top stays until memory is added");
	xmalloc(lc, 300000); /* does not fit the free top: a mapping */
	cr_assert_eq(lc->st.mmap_calls, 1);
	cr_assert_eq(E.t->mm->brk, brk0, "the free top went back to the kernel first");
	cr_assert_eq(libc_footprint(lc), f0 + PAGE_ALIGN(300000 + 32));
	cr_assert_eq(count(lc).free, 0);
	libc_memset(lc, p, 1, 1000);
	xmalloc(lc, 2000); /* the heap grows again from there */
	cr_assert_eq(E.t->mm->brk, brk0 + 2016);
}

Test(best, the_free_top_goes_back_before_a_mapping)
{
	sim_run(&E, body_trim_before_mmap);
}

static void body_batch(void *arg)
{
	struct libc *lc = arg;
	uint64_t f;

	xmalloc(lc, 20000); /* the heap is past SMALL_BATCH */
	f = libc_footprint(lc);
	xmalloc(lc, 32); /* small: a batch of 8 KiB */
	cr_assert_eq(libc_footprint(lc) - f, 8192);
}

Test(best, small_requests_grow_a_big_heap_by_two_pages)
{
	sim_run(&E, body_batch);
}

static void body_memalign(void *arg)
{
	struct libc *lc = arg;
	uint64_t aligns[] = {32, 64, 256, 4096};

	for (int i = 0; i < 4; i++) {
		vaddr_t p;

		xmalloc(lc, 24);
		cr_assert_eq(libc_posix_memalign(lc, &p, aligns[i], 100), 0);
		cr_assert_eq(p & (aligns[i] - 1), 0);
		sim_check(lc);
		libc_memset(lc, p, 7, 100);
		sim_xfree(lc, p);
	}
}

Test(best, memalign_returns_aligned_blocks)
{
	sim_run(&E, body_memalign);
}

static void body_double_free(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = xmalloc(lc, 100);

	xmalloc(lc, 100);
	libc_free(lc, p);
	libc_free(lc, p);
}

Test(best, double_free_aborts_like_glibc)
{
	cr_assert_eq(task_run(&E.k, E.t, body_double_free, &E.lc), SIM_SIGABRT);
	cr_assert(strstr(E.t->stderr_buf, "free(): double free or corruption"), "%.*s",
	          (int)E.t->stderr_len, E.t->stderr_buf);
}

static void body_bad_pointer(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = xmalloc(lc, 100);

	libc_free(lc, p + 8);
}

Test(best, misaligned_pointer_aborts_like_glibc)
{
	cr_assert_eq(task_run(&E.k, E.t, body_bad_pointer, &E.lc), SIM_SIGABRT);
	cr_assert(strstr(E.t->stderr_buf, "free(): invalid pointer"), "%.*s", (int)E.t->stderr_len,
	          E.t->stderr_buf);
}

/* ---- utilization on the public traces ------------------------------------ */

static double util_under(const struct trace *t, const char *policy, bool check)
{
	struct replay_opts o = {.policy = policy, .check = check};
	struct replay_result r;

	cr_assert_eq(replay_run(t, &o, &r), 0);
	cr_assert(r.valid, "%s: %s: %s", t->path, policy, r.error);
	return r.util;
}

static double util_of(const char *rel, bool check)
{
	struct trace *t;
	double u;

	cr_assert_eq(trace_load(bin_trace_path(rel), &t, stderr), 0);
	u = util_under(t, "best", check);
	trace_free(t);
	return u;
}

/* Real glibc 2.36 on this host (tests/host/glibc_replay: mallinfo2 arena +
   hblkhd after every op), rounded down. */
static const struct {
	const char *trace;
	double glibc;
} reference[] = {
    {"malloclab/amptjp-bal.rep", 0.9905},
    {"malloclab/binary-bal.rep", 0.5327},
    {"malloclab/binary2-bal.rep", 0.4261},
    {"malloclab/cccp-bal.rep", 0.9534},
    {"malloclab/coalescing-bal.rep", 0.0606},
    {"malloclab/cp-decl-bal.rep", 0.9770},
    {"malloclab/expr-bal.rep", 0.9735},
    {"malloclab/random-bal.rep", 0.9372},
    {"malloclab/random2-bal.rep", 0.9401},
    {"malloclab/realloc-bal.rep", 0.8161},
    {"malloclab/realloc2-bal.rep", 0.2080},
    {"cmu/bash.rep", 0.2937},
    {"cmu/boat.rep", 0.4888},
    {"cmu/chrome.rep", 0.4357},
    {"cmu/coalesce-big.rep", 0.6056},
    {"cmu/corners.rep", 0.9974},
    {"cmu/exhaust.rep", 0.3452},
    {"cmu/firefox-reddit.rep", 0.7086},
    {"cmu/firefox-reddit2.rep", 0.6966},
    {"cmu/firefox.rep", 0.4800},
    {"cmu/freeciv.rep", 0.8657},
    {"cmu/fs.rep", 0.6336},
    {"cmu/hostname.rep", 0.0454},
    {"cmu/login.rep", 0.8026},
    {"cmu/lrucd.rep", 0.0381},
    {"cmu/ls.1.rep", 0.1662},
    {"cmu/ls.rep", 0.1833},
    {"cmu/malloc-free.rep", 0.0085},
    {"cmu/malloc.rep", 0.0104},
    {"cmu/merry-go-round.rep", 0.0639},
    {"cmu/mutt.rep", 0.6036},
    {"cmu/needle.rep", 0.9919},
    {"cmu/nlydf.rep", 0.1615},
    {"cmu/perl.1.rep", 0.4416},
    {"cmu/perl.2.rep", 0.4419},
    {"cmu/perl.3.rep", 0.4401},
    {"cmu/perl.rep", 0.4430},
    {"cmu/pulseaudio.rep", 0.8590},
    {"cmu/qyqyc.rep", 0.0519},
    {"cmu/rm.1.rep", 0.1710},
    {"cmu/rm.rep", 0.1192},
    {"cmu/rulsr.rep", 0.0616},
    {"cmu/seglist.rep", 0.4598},
    {"cmu/stty.rep", 0.0465},
    {"cmu/tty.rep", 0.0757},
    {"cmu/xterm.rep", 0.7294},
};

Test(best_util, mean_over_the_11_scored_malloclab_traces_is_at_least_0_95, .timeout = 60)
{
	double sum = 0;

	for (int i = 0; i < 11; i++) {
		double u = util_of(reference[i].trace, true);

		cr_assert_geq(u, reference[i].glibc, "%s: best %.4f < glibc %.4f",
		              reference[i].trace, u, reference[i].glibc);
		sum += u;
	}
	cr_assert_geq(sum / 11, 0.95, "mean utilization %.4f", sum / 11);
}

Test(best_util, never_below_real_glibc_on_any_cmu_trace, .timeout = 60)
{
	for (size_t i = 11; i < sizeof(reference) / sizeof(reference[0]); i++) {
		/* Utilization does not depend on the checks: the big ones unchecked. */
		double u = util_of(reference[i].trace, false);

		cr_assert_geq(u, reference[i].glibc, "%s: best %.4f < glibc %.4f",
		              reference[i].trace, u, reference[i].glibc);
	}
}


/*
 * The traces of real programs (demos/traces/real/, every .rep there):
 * best's util at least the glibc policy's, and at least real glibc's, which
 * the recorder wrote into the header (the program's peak footprint,
 * mallinfo2 arena + hblkhd: trace.heap_hint) - both with the checks on.
 */
Test(best_util, never_below_glibc_on_any_real_program_trace, .timeout = 120)
{
	DIR *d = opendir(bin_trace_path("real"));
	struct dirent *e;
	int n = 0;

	cr_assert(d);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char rel[300];
		struct trace *t;
		double best, glibc, real;

		if (len < 5 || strcmp(e->d_name + len - 4, ".rep"))
			continue;
		snprintf(rel, sizeof(rel), "real/%s", e->d_name);
		cr_assert_eq(trace_load(bin_trace_path(rel), &t, stderr), 0);
		best = util_under(t, "best", true);
		glibc = util_under(t, "glibc", true);
		cr_assert_gt(t->heap_hint, 0, "%s: no peak footprint in the header", rel);
		real = (double)trace_peak_payload(t) / (double)t->heap_hint;
		cr_assert_geq(best, glibc, "%s: best %.4f < the glibc policy's %.4f", rel, best, glibc);
		cr_assert_geq(best, real, "%s: best %.4f < real glibc's %.4f", rel, best, real);
		trace_free(t);
		n++;
	}
	closedir(d);
	cr_assert_geq(n, 8, "%d traces in demos/traces/real/", n);
}
