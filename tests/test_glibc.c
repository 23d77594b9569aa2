/*
 * test_glibc.c - the `glibc` policy (libc/glibc_malloc.c): glibc 2.36's
 * ptmalloc2 main arena in simulated memory. The first malloc and its
 * top_pad, tcache LIFO reuse and safe-linking in memory, the fastbin and
 * unsorted bin after the tcache fills, coalescing into top and trimming,
 * the dynamic mmap threshold, calloc's clearing rule, realloc and memalign,
 * glibc's heap-corruption aborts with their exact messages, and random
 * sequences with contents verification. The policy's checker and
 * kernel_check run after every operation.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kernel_sim/syscalls.h"
#include "libc/glibc_malloc.h"
#include "libc/libc.h"
#include "tests/support_sim.h"

#define MiB        (1ULL << 20)
#define MAX_EVENTS 16384

static struct sim E;

static void boot(void)
{
	sim_boot(&E, &(struct sim_opts){.phys_bytes = 64 * MiB,
	                                .task = "test_glibc",
	                                .policy = "glibc",
	                                .max_events = MAX_EVENTS,
	                                .record = true});
	cr_assert_eq(E.lc.ops, &malloc_ops_glibc);
}

static void teardown(void)
{
	glibc_malloc_release(&E.lc);
	sim_teardown(&E);
}

TestSuite(glibc, .init = boot, .fini = teardown);

/* Run body, which must die of SIGABRT with glibc's message msg. */
static void run_abort(void (*body)(void *), const char *msg)
{
	char want[256];
	int sig = task_run(&E.k, E.t, body, &E.lc);

	cr_assert_eq(sig, SIM_SIGABRT, "expected SIGABRT, got signal %d", sig);
	cr_assert(E.t->dead);
	snprintf(want, sizeof(want), "%s\n", msg);
	cr_assert_eq(E.t->stderr_len, strlen(want), "stderr: '%.*s'", (int)E.t->stderr_len,
	             E.t->stderr_buf);
	cr_assert_eq(memcmp(E.t->stderr_buf, want, strlen(want)), 0, "stderr: '%.*s'",
	             (int)E.t->stderr_len, E.t->stderr_buf);
	/* the host goes on: the kernel is intact */
	cr_assert_eq(kernel_check(&E.k, stderr), 0);
}

static vaddr_t xmalloc(struct libc *lc, uint64_t n)
{
	vaddr_t p = libc_malloc(lc, n);

	cr_assert_neq(p, 0, "malloc(%llu) failed", (unsigned long long)n);
	cr_assert_eq(p & 15, 0);
	sim_check(lc);
	return p;
}

static uint64_t peek(struct libc *lc, vaddr_t a)
{
	uint64_t v = 0;

	cr_assert(libc_peek64(lc, a, &v), "peek %#llx", (unsigned long long)a);
	return v;
}

static struct glibc_info info(struct libc *lc)
{
	struct glibc_info gi;

	cr_assert(glibc_malloc_info(lc, &gi));
	return gi;
}

/* Where the walk puts the chunk whose user pointer is p. */
struct find {
	vaddr_t user;
	char where[32];
	bool top_last, mmapped_after, sorted;
	vaddr_t last;
	unsigned n;
};

static void find_cb(void *ctx, const struct chunk_info *ci)
{
	struct find *f = ctx;

	if (ci->chunk + 16 == f->user)
		snprintf(f->where, sizeof(f->where), "%s", ci->where);
	if (f->n && ci->chunk <= f->last && !ci->mmapped)
		f->sorted = false;
	f->last = ci->chunk;
	f->n++;
}

static const char *where(struct libc *lc, vaddr_t user, char *buf)
{
	struct find f = {.user = user, .sorted = true};

	lc->ops->walk(lc, find_cb, &f);
	cr_assert(f.sorted, "walk in address order");
	strcpy(buf, f.where);
	return buf;
}

static int count_calls(const char *fn)
{
	int n = 0;

	for (unsigned i = 0; i < E.nev; i++)
		if (E.ev[i].kind == EV_CALL && strcmp(E.ev[i].fn, fn) == 0)
			n++;
	return n;
}

/* ---- the first malloc ------------------------------------------------------ */

static void first_malloc(void *arg)
{
	struct libc *lc = arg;
	vaddr_t start = libc_sbrk(lc, 0);
	vaddr_t p;
	const char *path[] = {"__libc_malloc", "ptmalloc_init",    "tcache_init", "_int_malloc",
	                      "sysmalloc",     "__glibc_morecore", "__sbrk",      "__brk"};
	unsigned k = 0;

	E.nev = 0;
	p = xmalloc(lc, 1);
	cr_assert_eq(lc->curbrk - start, 0x21000, "0x290 + top_pad 128 KiB + MINSIZE, paged");
	cr_assert_eq(p, start + 0x2a0, "after the 0x290-byte tcache_perthread_struct");
	cr_assert_eq(peek(lc, start + 8), 0x291, "the tcache chunk: 0x290 | P");
	cr_assert_eq(peek(lc, p - 8), 0x21, "malloc(1): a 32-byte chunk | P");
	struct glibc_info gi = info(lc);
	cr_assert_eq(gi.top, p + 0x10);
	cr_assert_eq(gi.top_size, 0x21000 - 0x2b0);
	cr_assert_eq(peek(lc, gi.top + 8), (0x21000 - 0x2b0) | 1);
	cr_assert_eq(gi.system_mem, 0x21000);
	cr_assert_eq(gi.tcache, start + 0x10);
	/* the modelled path, in order */
	for (unsigned i = 0; i < E.nev && k < 8; i++)
		if (E.ev[i].kind == EV_CALL && strcmp(E.ev[i].fn, path[k]) == 0)
			k++;
	cr_assert_eq(k, 8, "call path stops before %s", k < 8 ? path[k] : "");
	/* the second small malloc is served from top without a system call */
	uint64_t brks = lc->st.brk_calls;
	vaddr_t q = xmalloc(lc, 24);
	cr_assert_eq(q, p + 0x20);
	cr_assert_eq(lc->st.brk_calls, brks);
}

Test(glibc, first_malloc_grows_the_heap_by_0x21000_and_returns_start_plus_0x2a0)
{
	sim_run(&E, first_malloc);
}

/* ---- tcache ---------------------------------------------------------------- */

static void tcache_lifo(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = xmalloc(lc, 40), b = xmalloc(lc, 40), c = xmalloc(lc, 40);
	char buf[32];

	sim_xfree(lc, a);
	sim_xfree(lc, b);
	sim_xfree(lc, c);
	/* chunk 48 -> tcache[1]; the head is c, whose next is b, mangled */
	cr_assert_str_eq(where(lc, c, buf), "tcache[1]");
	cr_assert_eq(info(lc).tcache_counts[1], 3);
	cr_assert_eq(peek(lc, info(lc).tcache + 128 + 8), c, "entries[1] = c");
	cr_assert_eq(peek(lc, c), (c >> 12) ^ b, "safe-linking: PROTECT_PTR(&e->next, b)");
	cr_assert_eq(peek(lc, a), (a >> 12) ^ 0, "the last entry's next is mangled NULL");
	cr_assert_eq(peek(lc, b + 8), GM_TCACHE_KEY, "e->key = tcache_key");
	E.nev = 0;
	cr_assert_eq(xmalloc(lc, 33), c, "LIFO");
	cr_assert_eq(count_calls("_int_malloc"), 0, "served by tcache_get alone");
	cr_assert_eq(count_calls("tcache_get"), 1);
	cr_assert_eq(peek(lc, c + 8), 0, "the key is cleared on the way out");
	cr_assert_eq(xmalloc(lc, 40), b);
	cr_assert_eq(xmalloc(lc, 25), a);
	cr_assert_eq(info(lc).tcache_counts[1], 0);
}

Test(glibc, tcache_reuses_freed_chunks_last_in_first_out)
{
	sim_run(&E, tcache_lifo);
}

static void eighth_free(void *arg)
{
	struct libc *lc = arg;
	vaddr_t s[8], l[8];
	char buf[32];

	for (int i = 0; i < 8; i++) {
		s[i] = xmalloc(lc, 24);  /* chunk 32: fastbin size */
		l[i] = xmalloc(lc, 200); /* chunk 208: beyond global_max_fast */
	}
	vaddr_t guard = xmalloc(lc, 10);
	for (int i = 0; i < 8; i++) {
		sim_xfree(lc, s[i]);
		sim_xfree(lc, l[i]);
	}
	for (int i = 0; i < 7; i++) {
		cr_assert_str_eq(where(lc, s[i], buf), "tcache[0]");
		cr_assert_str_eq(where(lc, l[i], buf), "tcache[11]");
	}
	cr_assert_str_eq(where(lc, s[7], buf), "fastbin[0]", "the 8th small free");
	cr_assert_str_eq(where(lc, l[7], buf), "unsorted", "the 8th 200-byte free");
	cr_assert_eq(peek(lc, s[7]), (s[7] >> 12) ^ 0, "fastbin fd mangled too");
	/* fastbin chunks stay "in use": the next chunk's P is still set */
	cr_assert_eq(peek(lc, s[7] - 16 + 32 + 8) & 1, 1);
	/* the unsorted chunk is really free: footer and P cleared */
	cr_assert_eq(peek(lc, l[7] - 16 + 208 + 8) & 1, 0);
	cr_assert_eq(peek(lc, l[7] - 16 + 208), 208, "prev_size footer");
	/* the tcache is used first: 7 mallocs of each size drain it */
	for (int i = 6; i >= 0; i--)
		cr_assert_eq(xmalloc(lc, 24), s[i]);
	cr_assert_eq(xmalloc(lc, 24), s[7], "then the fastbin");
	/* a 300-byte request scans the unsorted bin: l[7] is sorted into its small bin */
	vaddr_t big = xmalloc(lc, 300);
	cr_assert_neq(big, l[7]);
	cr_assert_str_eq(where(lc, l[7], buf), "smallbin[13]");
	sim_xfree(lc, guard);
	sim_xfree(lc, big);
}

Test(glibc, the_eighth_free_goes_to_the_fastbin_or_the_unsorted_bin)
{
	sim_run(&E, eighth_free);
}

/* ---- coalescing, top, trimming --------------------------------------------- */

static void coalesce_trim(void *arg)
{
	struct libc *lc = arg;
	vaddr_t start = libc_sbrk(lc, 0);
	vaddr_t a = xmalloc(lc, 100000), b = xmalloc(lc, 100000), c = xmalloc(lc, 2000);
	vaddr_t d = xmalloc(lc, 2000);
	char buf[32];

	cr_assert_gt(lc->curbrk - start, 0x21000, "the heap grew past the first 132 KiB");
	vaddr_t brk_high = lc->curbrk;
	/* a 2000-byte chunk is too big for tcache and fastbins: freed for real */
	sim_xfree(lc, c);
	cr_assert_str_eq(where(lc, c, buf), "unsorted");
	/* b merges with c (forward) into one unsorted chunk */
	sim_xfree(lc, b);
	cr_assert_str_eq(where(lc, b, buf), "unsorted");
	E.nev = 0;
	sim_xfree(lc, d); /* borders top: b+c merge backward, the whole tail into top */
	struct glibc_info gi = info(lc);
	cr_assert_eq(gi.top, b - 16, "b, c and d all merged into top");
	cr_assert_gt(count_calls("systrim"), 0, "a free of >= 64 KiB checks the trim threshold");
	cr_assert_lt(lc->curbrk, brk_high, "sbrk(-n) gave pages back");
	/* what is left above the top chunk start: top_pad + MINSIZE, page-aligned down */
	cr_assert_geq(gi.top_size, GM_DEFAULT_TOP_PAD + GM_MINSIZE);
	cr_assert_lt(gi.top_size, GM_DEFAULT_TOP_PAD + GM_MINSIZE + PAGE_SIZE + 1);
	cr_assert_eq(gi.top + gi.top_size, lc->curbrk);
	sim_xfree(lc, a);
	cr_assert_eq(info(lc).top, a - 16);
}

Test(glibc, freeing_into_top_coalesces_and_trims_with_a_negative_sbrk)
{
	sim_run(&E, coalesce_trim);
}

static void threshold(void *arg)
{
	struct libc *lc = arg;
	vaddr_t start = libc_sbrk(lc, 0);
	vaddr_t small = xmalloc(lc, 1);
	vaddr_t p = xmalloc(lc, 200000);
	char buf[32];

	cr_assert(p < start || p >= lc->curbrk, "200000 bytes are mmapped");
	cr_assert_eq(p & 0xfff, 0x10, "chunk at offset 0 of the mapping");
	cr_assert_eq(peek(lc, p - 8), 0x31000 | 2, "ALIGN_UP(200016 + 8, 4096) | M");
	cr_assert_eq(peek(lc, p - 16), 0, "prev_size 0");
	cr_assert_str_eq(where(lc, p, buf), "mmapped");
	cr_assert_eq(info(lc).mmapped_mem, 0x31000);
	cr_assert_eq(libc_malloc_usable_size(lc, p), 0x31000 - 16);
	cr_assert_eq(lc->st.mmapped_bytes, 0x31000);
	sim_xfree(lc, p);
	struct glibc_info gi = info(lc);
	cr_assert_eq(gi.mmap_threshold, 0x31000, "threshold raised to the freed size");
	cr_assert_eq(gi.trim_threshold, 2 * 0x31000);
	cr_assert_eq(gi.mmapped_mem, 0);
	vaddr_t q = xmalloc(lc, 200000);
	cr_assert(q >= start && q < lc->curbrk, "now from the heap");
	cr_assert_eq(q, small + 0x20);
	sim_xfree(lc, q);
	sim_xfree(lc, small);
}

Test(glibc, freeing_an_mmapped_chunk_raises_the_mmap_threshold)
{
	sim_run(&E, threshold);
}

/* ---- calloc, realloc, memalign ---------------------------------------------- */

static void calloc_clears(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = xmalloc(lc, 100), guard = xmalloc(lc, 1);

	libc_memset(lc, p, 0xff, 100);
	sim_xfree(lc, p);
	/* calloc bypasses the tcache: _int_malloc, then clear (reused memory) */
	vaddr_t q = libc_calloc(lc, 10, 10);
	sim_check(lc);
	cr_assert_neq(q, 0);
	for (int i = 0; i < 100; i += 8)
		cr_assert_eq(peek(lc, q + i), 0);
	/* a fresh mmapped chunk is not cleared: no store, so no page fault */
	uint64_t flt = E.t->min_flt;
	E.nev = 0;
	vaddr_t m = libc_calloc(lc, 1000, 1000);
	sim_check(lc);
	cr_assert_eq(E.t->min_flt - flt, 1, "only the header store faulted");
	libc_free(lc, m);
	libc_free(lc, q);
	libc_free(lc, guard);
	sim_check(lc);
}

Test(glibc, calloc_clears_reused_memory_but_not_fresh_mmapped_memory)
{
	sim_run(&E, calloc_clears);
}

static void realloc_paths(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = xmalloc(lc, 100), q;

	libc_memset(lc, p, 0x5a, 100);
	q = libc_realloc(lc, p, 1000);
	sim_check(lc);
	cr_assert_eq(q, p, "grown in place into top");
	q = libc_realloc(lc, q, 200);
	sim_check(lc);
	cr_assert_eq(q, p, "shrunk in place, the tail split off");
	vaddr_t wall = xmalloc(lc, 10);
	q = libc_realloc(lc, p, 5000);
	sim_check(lc);
	cr_assert_neq(q, p, "moved: malloc, copy, free");
	for (int i = 0; i < 96; i += 8)
		cr_assert_eq(peek(lc, q + i), 0x5a5a5a5a5a5a5a5aULL);
	/* an mmapped block grown: no mremap here, malloc-copy-munmap */
	vaddr_t m = xmalloc(lc, 300000);
	libc_memset(lc, m, 0x33, 300000);
	vaddr_t m2 = libc_realloc(lc, m, 600000);
	sim_check(lc);
	cr_assert_neq(m2, 0);
	cr_assert_eq(peek(lc, m2 + 299992), 0x3333333333333333ULL);
	cr_assert_eq(libc_realloc(lc, m2, 500000), m2, "still fits: unchanged");
	cr_assert_eq(libc_realloc(lc, q, 0), 0, "realloc(p, 0) frees");
	sim_check(lc);
	libc_free(lc, m2);
	libc_free(lc, wall);
	sim_check(lc);
}

Test(glibc, realloc_grows_into_top_shrinks_in_place_and_moves_when_blocked)
{
	sim_run(&E, realloc_paths);
}

static void memalign_paths(void *arg)
{
	struct libc *lc = arg;
	vaddr_t ps[12];
	int n = 0;

	for (uint64_t al = 32; al <= 65536; al <<= 2) {
		vaddr_t p;

		cr_assert_eq(libc_posix_memalign(lc, &p, al, 100 + al), 0);
		sim_check(lc);
		cr_assert_eq(p % al, 0, "aligned to %llu", (unsigned long long)al);
		cr_assert_geq(libc_malloc_usable_size(lc, p), 100 + al);
		libc_memset(lc, p, 0x11, 100 + al);
		ps[n++] = p;
	}
	vaddr_t big;
	cr_assert_eq(libc_posix_memalign(lc, &big, 4096, 1 << 20), 0);
	sim_check(lc);
	cr_assert_eq(big % 4096, 0, "mmapped and aligned: prev_size holds the offset");
	libc_free(lc, big);
	sim_check(lc);
	for (int i = 0; i < n; i++)
		sim_xfree(lc, ps[i]);
}

Test(glibc, posix_memalign_returns_aligned_blocks_and_gives_back_the_rest)
{
	sim_run(&E, memalign_paths);
}

/* ---- heap-corruption checks ------------------------------------------------ */

static void double_free_tcache(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = libc_malloc(lc, 50);

	libc_free(lc, p);
	libc_free(lc, p);
	cr_assert_fail("the second free returned");
}

Test(glibc, double_free_in_tcache_aborts_with_glibcs_message)
{
	run_abort(double_free_tcache, "free(): double free detected in tcache 2");
	cr_assert_eq(E.t->death.signo, SIM_SIGABRT);
}

static void double_free_fasttop(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p[8];

	for (int i = 0; i < 8; i++)
		p[i] = libc_malloc(lc, 20);
	for (int i = 0; i < 8; i++)
		libc_free(lc, p[i]);
	libc_free(lc, p[7]); /* key was never set: it is in the fastbin's head */
	cr_assert_fail("returned");
}

Test(glibc, double_free_at_the_fastbin_head_is_fasttop)
{
	run_abort(double_free_fasttop, "double free or corruption (fasttop)");
}

static void double_free_prev(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = libc_malloc(lc, 2000);

	libc_malloc(lc, 10);
	libc_free(lc, a);
	libc_free(lc, a);
	cr_assert_fail("returned");
}

Test(glibc, double_free_of_a_binned_chunk_is_prev)
{
	run_abort(double_free_prev, "double free or corruption (!prev)");
}

static void bad_pointer(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = libc_malloc(lc, 64);

	libc_free(lc, a + 8);
	cr_assert_fail("returned");
}

Test(glibc, free_of_a_misaligned_pointer_is_invalid_pointer)
{
	run_abort(bad_pointer, "free(): invalid pointer");
}

static void bad_size(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = libc_malloc(lc, 64);

	libc_st64(lc, a - 8, 0x11); /* a 16-byte chunk cannot exist */
	libc_free(lc, a);
	cr_assert_fail("returned");
}

Test(glibc, free_of_a_chunk_with_a_tiny_size_is_invalid_size)
{
	run_abort(bad_size, "free(): invalid size");
}

static void bad_next_size(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = libc_malloc(lc, 2000), b = libc_malloc(lc, 2000);

	libc_st64(lc, b - 8, 0x1); /* a's next chunk now claims size 0 */
	libc_free(lc, a);
	cr_assert_fail("returned");
}

Test(glibc, an_overflow_into_the_next_header_is_invalid_next_size)
{
	run_abort(bad_next_size, "free(): invalid next size (normal)");
}

static void top_size(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = libc_malloc(lc, 24);

	libc_st64(lc, a + 24, 0xffffffffffffff01ULL); /* the house of force */
	libc_malloc(lc, 5000);
	cr_assert_fail("returned");
}

Test(glibc, an_overwritten_top_size_is_caught)
{
	run_abort(top_size, "malloc(): corrupted top size");
}

static void unsorted_corrupt(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = libc_malloc(lc, 2000);

	libc_malloc(lc, 10);
	libc_free(lc, a);
	libc_st64(lc, a + 8, a + 0x1000); /* bk of the unsorted chunk */
	libc_malloc(lc, 3000);
	cr_assert_fail("returned");
}

Test(glibc, a_corrupted_unsorted_link_is_caught)
{
	run_abort(unsorted_corrupt, "malloc(): unsorted double linked list corrupted");
}

static void munmap_bad(void *arg)
{
	struct libc *lc = arg;
	vaddr_t m = libc_malloc(lc, 300000);

	libc_st64(lc, m - 16, 8); /* prev_size: the mapping would start mid-page */
	libc_free(lc, m);
	cr_assert_fail("returned");
}

Test(glibc, a_bad_mmapped_chunk_is_caught_by_munmap_chunk)
{
	run_abort(munmap_bad, "munmap_chunk(): invalid pointer");
}

static void prev_size_corrupt(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = libc_malloc(lc, 2000), b = libc_malloc(lc, 2000);

	libc_malloc(lc, 10);
	libc_free(lc, a);                 /* unsorted, footer = 2016 in b's prev_size */
	libc_st64(lc, b - 16, 2016 - 16); /* the footer lies */
	libc_free(lc, b);                 /* consolidates backward by the footer */
	cr_assert_fail("returned");
}

Test(glibc, a_lying_footer_is_caught_when_consolidating)
{
	run_abort(prev_size_corrupt, "corrupted size vs. prev_size while consolidating");
}

/* ---- walk, usable size, random sequences --------------------------------- */

static void walk_order(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = xmalloc(lc, 100), m = xmalloc(lc, 1 << 20), b = xmalloc(lc, 3000);
	char buf[32];

	sim_xfree(lc, a);
	struct find f = {.sorted = true};
	lc->ops->walk(lc, find_cb, &f);
	cr_assert_eq(f.n, 5, "tcache struct, a, b, top, then the mmapped chunk");
	cr_assert_eq(f.last, m - 16, "mmapped chunks come after the heap");
	cr_assert_str_eq(where(lc, b, buf), "in use");
	cr_assert_eq(libc_malloc_usable_size(lc, b), 3000, "chunk 3008 - SIZE_SZ");
	cr_assert_str_eq(where(lc, a, buf), "tcache[5]", "chunk 112");
}

Test(glibc, walk_lists_heap_chunks_in_address_order_then_mmapped_chunks)
{
	sim_run(&E, walk_order);
}

static void verify(struct libc *lc, const struct sim_live *b)
{
	uint64_t want = 0x0101010101010101ULL * b->pat;

	/* spot checks: the first, middle and last words */
	uint64_t offs[3] = {0, (b->n / 2) & ~7ULL, (b->n - 8) & ~7ULL};
	for (int i = 0; i < 3; i++)
		if (b->n >= 8)
			cr_assert_eq(libc_ld64(lc, b->p + offs[i]), want,
			             "block %#llx (%llu) at +%llu", (unsigned long long)b->p,
			             (unsigned long long)b->n, (unsigned long long)offs[i]);
}

static void random_ops(void *arg)
{
	struct libc *lc = arg;
	struct sim_live blk[64] = {0};
	uint64_t s = 0x9e3779b97f4a7c15ULL;

	for (int step = 0; step < 1500; step++) {
		struct sim_live *b = &blk[sim_rng_next(&s) % 64];
		uint64_t r = sim_rng_next(&s) % 100;
		uint64_t n;

		switch (sim_rng_next(&s) % 10) {
		case 0:
			n = 8 + sim_rng_next(&s) % 300000; /* sometimes mmapped */
			break;
		case 1:
		case 2:
			n = 8 + sim_rng_next(&s) % 5000;
			break;
		default:
			n = 8 + sim_rng_next(&s) % 200;
		}
		if (b->p) {
			verify(lc, b);
			if (r < 60) {
				libc_free(lc, b->p);
				b->p = 0;
			} else {
				uint64_t keep = n < b->n ? n : b->n;
				vaddr_t q = libc_realloc(lc, b->p, n);

				cr_assert_neq(q, 0);
				b->p = q;
				b->n = keep;
				verify(lc, b);
				libc_memset(lc, q, b->pat, n);
				b->n = n;
			}
		} else {
			b->pat = (uint8_t)(1 + sim_rng_next(&s) % 250);
			if (r < 15) {
				b->p = libc_calloc(lc, 1, n);
				cr_assert_neq(b->p, 0);
				for (uint64_t o = 0; o + 8 <= n; o += (n / 4 + 8) & ~7ULL)
					cr_assert_eq(libc_ld64(lc, b->p + o), 0, "calloc cleared");
			} else if (r < 25) {
				cr_assert_eq(libc_posix_memalign(lc, &b->p, 64ULL << (r % 6), n),
				             0);
				cr_assert_eq(b->p % (64ULL << (r % 6)), 0);
			} else {
				b->p = libc_malloc(lc, n);
			}
			cr_assert_neq(b->p, 0);
			cr_assert_geq(libc_malloc_usable_size(lc, b->p), n);
			libc_memset(lc, b->p, b->pat, n);
			b->n = n;
		}
		sim_check(lc);
	}
	for (int i = 0; i < 64; i++) {
		if (blk[i].p) {
			verify(lc, &blk[i]);
			libc_free(lc, blk[i].p);
			sim_check(lc);
		}
	}
	cr_assert_eq(info(lc).mmapped_mem, 0);
}

Test(glibc, random_sequences_keep_contents_and_heap_invariants)
{
	sim_run(&E, random_ops);
}
