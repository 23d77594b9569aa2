/*
 * glibc_malloc.c - the `glibc` policy: glibc 2.36's ptmalloc2, main arena
 * only, single-threaded (SINGLE_THREAD_P), default tunables, following
 * malloc/malloc.c function by function: __libc_malloc, tcache_get/put,
 * _int_malloc, malloc_consolidate, sysmalloc (+ sysmalloc_mmap and the mmap
 * fallback), __glibc_morecore, systrim, __libc_free, _int_free, munmap_chunk,
 * __libc_realloc, _int_realloc, __libc_calloc, _mid_memalign, _int_memalign,
 * __malloc_usable_size. Every header, link and count lives in simulated
 * memory and is reached through libc_ld64/libc_st64 (so it faults and
 * misses the TLB like the real one); main_arena, mp_, the tcache pointer and
 * tcache_key sit in the program's bss. The layout is in glibc_malloc.h.
 * Each iteration of a walk over a bin or a list the program can corrupt
 * into a cycle is charged as CPU time (libc_step, libc_walk_step), so
 * RLIMIT_CPU ends such a loop as it ends the real one.
 *
 * Differences from the real thing, on purpose:
 *  - tcache_key is a constant instead of getrandom's value.
 *  - no arenas but main_arena, no mallopt/tunables, no perturb, no THP.
 */
#include "glibc_malloc.h"

#include <stdlib.h>
#include <string.h>

#include "../kernel_sim/syscalls.h"
#include "../vm/panic.h"

struct gm {
	struct libc *lc;
	struct probe *pr;
	vaddr_t av, mp, gs;
};

/* ---- memory ------------------------------------------------------------ */

static uint64_t ld(struct gm *g, vaddr_t a)
{
	return libc_ld64(g->lc, a);
}

static void st(struct gm *g, vaddr_t a, uint64_t v)
{
	libc_st64(g->lc, a, v);
}

static uint32_t ld32(struct gm *g, vaddr_t a)
{
	return libc_ld32(g->lc, a);
}

static void st32(struct gm *g, vaddr_t a, uint32_t v)
{
	libc_st32(g->lc, a, v);
}

_Noreturn static void printerr(struct gm *g, const char *msg)
{
	libc_malloc_printerr(g->lc, msg);
}

/* chunk fields */
static uint64_t prev_size(struct gm *g, vaddr_t p)
{
	return ld(g, p);
}
static void set_prev_size(struct gm *g, vaddr_t p, uint64_t v)
{
	st(g, p, v);
}
static uint64_t size_nomask(struct gm *g, vaddr_t p)
{
	return ld(g, p + 8);
}
static uint64_t chunksize(struct gm *g, vaddr_t p)
{
	return ld(g, p + 8) & ~GM_SIZE_BITS;
}
static void set_head(struct gm *g, vaddr_t p, uint64_t v)
{
	st(g, p + 8, v);
}
static void set_foot(struct gm *g, vaddr_t p, uint64_t s)
{
	st(g, p + s, s);
}
static vaddr_t fd_of(struct gm *g, vaddr_t p)
{
	return ld(g, p + 16);
}
static vaddr_t bk_of(struct gm *g, vaddr_t p)
{
	return ld(g, p + 24);
}
static void set_fd(struct gm *g, vaddr_t p, vaddr_t v)
{
	st(g, p + 16, v);
}
static void set_bk(struct gm *g, vaddr_t p, vaddr_t v)
{
	st(g, p + 24, v);
}
static vaddr_t fdn_of(struct gm *g, vaddr_t p)
{
	return ld(g, p + 32);
}
static vaddr_t bkn_of(struct gm *g, vaddr_t p)
{
	return ld(g, p + 40);
}
static void set_fdn(struct gm *g, vaddr_t p, vaddr_t v)
{
	st(g, p + 32, v);
}
static void set_bkn(struct gm *g, vaddr_t p, vaddr_t v)
{
	st(g, p + 40, v);
}

static void set_head_size(struct gm *g, vaddr_t p, uint64_t s)
{
	st(g, p + 8, (ld(g, p + 8) & GM_SIZE_BITS) | s);
}

static bool inuse_bit_at_offset(struct gm *g, vaddr_t p, uint64_t s)
{
	return ld(g, p + s + 8) & GM_PREV_INUSE;
}

static void set_inuse_bit_at_offset(struct gm *g, vaddr_t p, uint64_t s)
{
	st(g, p + s + 8, ld(g, p + s + 8) | GM_PREV_INUSE);
}

static void clear_inuse_bit_at_offset(struct gm *g, vaddr_t p, uint64_t s)
{
	st(g, p + s + 8, ld(g, p + s + 8) & ~GM_PREV_INUSE);
}

static bool misaligned(vaddr_t p)
{
	return (p & GM_MALLOC_ALIGN_MASK) != 0;
}

/* Safe-linking (2.32+): PROTECT_PTR(pos, ptr) = (pos >> 12) ^ ptr. */
static vaddr_t protect_ptr(vaddr_t pos, vaddr_t ptr)
{
	return (pos >> 12) ^ ptr;
}

/* arena and mp_ fields */
static vaddr_t av_top(struct gm *g)
{
	return ld(g, g->av + AV_TOP);
}
static void set_av_top(struct gm *g, vaddr_t v)
{
	st(g, g->av + AV_TOP, v);
}
static uint64_t system_mem(struct gm *g)
{
	return ld(g, g->av + AV_SYSTEM_MEM);
}
static bool contiguous(struct gm *g)
{
	return !(ld32(g, g->av + AV_FLAGS) & GM_NONCONTIGUOUS_BIT);
}
static vaddr_t unsorted(struct gm *g)
{
	return gm_bin_at(g->av, 1);
}
static vaddr_t fastbin_slot(struct gm *g, unsigned idx)
{
	return g->av + AV_FASTBINS + 8ULL * idx;
}
static uint64_t mp_get(struct gm *g, unsigned off)
{
	return ld(g, g->mp + off);
}
static void mp_set(struct gm *g, unsigned off, uint64_t v)
{
	st(g, g->mp + off, v);
}
static int mp_get_int(struct gm *g, unsigned off)
{
	return (int)ld32(g, g->mp + off);
}
static void mp_set_int(struct gm *g, unsigned off, int v)
{
	st32(g, g->mp + off, (uint32_t)v);
}
static bool have_fastchunks(struct gm *g)
{
	return ld32(g, g->av + AV_HAVE_FASTCHUNKS) != 0;
}
static void set_have_fastchunks(struct gm *g, bool v)
{
	st32(g, g->av + AV_HAVE_FASTCHUNKS, v);
}
static vaddr_t tcache_ptr(struct gm *g)
{
	return ld(g, g->gs + GS_TCACHE);
}

static void mark_bin(struct gm *g, unsigned i)
{
	vaddr_t a = g->av + AV_BINMAP + 4ULL * (i >> 5);

	st32(g, a, ld32(g, a) | (1u << (i & 31)));
}

/* tcache counts are uint16_t: a 32-bit read-modify-write of the aligned pair */
static unsigned tc_count(struct gm *g, vaddr_t tc, size_t idx)
{
	uint32_t w = ld32(g, tc + TC_COUNTS + ((2 * idx) & ~3ULL));

	return (idx & 1) ? w >> 16 : w & 0xffff;
}

static void tc_set_count(struct gm *g, vaddr_t tc, size_t idx, unsigned v)
{
	vaddr_t a = tc + TC_COUNTS + ((2 * idx) & ~3ULL);
	uint32_t w = ld32(g, a);

	w = (idx & 1) ? (w & 0xffff) | (v << 16) : (w & 0xffff0000u) | (v & 0xffff);
	st32(g, a, w);
}

static void heap_ev(struct gm *g, const char *fn, const char *text, vaddr_t chunk, uint64_t size)
{
	EV(g->pr, LAYER_LIBC, EV_HEAP, fn, text, {"chunk", chunk}, {"size", size});
}

/* ---- host-side bookkeeping (walk/check only) ---------------------------- */

static struct glibc_priv *priv_get(struct gm *g)
{
	if (!g->lc->priv) {
		g->lc->priv = calloc(1, sizeof(struct glibc_priv));
		if (!g->lc->priv)
			panic("out of host memory");
	}
	return g->lc->priv;
}

static void priv_put(struct gm *g)
{
	struct glibc_priv *pv = g->lc->priv;

	if (pv && pv->nr_mmapped == 0 && pv->nr_segs == 0) {
		free(pv->mmapped);
		free(pv->segs);
		free(pv);
		g->lc->priv = NULL;
	}
}

static void track_mmapped(struct gm *g, vaddr_t p)
{
	struct glibc_priv *pv = priv_get(g);

	if (pv->nr_mmapped == pv->cap_mmapped)
		GROW_ARRAY(pv->mmapped, pv->cap_mmapped, 16);
	pv->mmapped[pv->nr_mmapped++] = p;
}

static void untrack_mmapped(struct gm *g, vaddr_t p)
{
	struct glibc_priv *pv = g->lc->priv;

	for (size_t i = 0; pv && i < pv->nr_mmapped; i++) {
		if (pv->mmapped[i] == p) {
			pv->mmapped[i] = pv->mmapped[--pv->nr_mmapped];
			break;
		}
	}
	priv_put(g);
}

static void track_segment(struct gm *g, vaddr_t start)
{
	struct glibc_priv *pv = priv_get(g);

	if (pv->nr_segs == pv->cap_segs)
		GROW_ARRAY(pv->segs, pv->cap_segs, 8);
	pv->segs[pv->nr_segs++] = start;
}

/* ---- setup ---------------------------------------------------------------- */

static void gm_enter(struct gm *g, struct libc *lc)
{
	g->lc = lc;
	g->pr = &lc->k->probe;
	g->av = gm_main_arena(lc);
	g->mp = gm_mp(lc);
	g->gs = gm_statics(lc);
}

/* What the static initializers of main_arena, mp_ and global_max_fast put in
   the program's data: written at the first malloc (the bss is zero until
   then), together with ptmalloc_init. */
static void static_init(struct gm *g)
{
	mp_set(g, MP_TOP_PAD, GM_DEFAULT_TOP_PAD);
	mp_set_int(g, MP_N_MMAPS_MAX, GM_DEFAULT_MMAP_MAX);
	mp_set(g, MP_MMAP_THRESHOLD, GM_DEFAULT_MMAP_THRESHOLD);
	mp_set(g, MP_TRIM_THRESHOLD, GM_DEFAULT_TRIM_THRESHOLD);
	mp_set(g, MP_ARENA_TEST, 8);
	mp_set(g, MP_TCACHE_BINS, GM_TCACHE_MAX_BINS);
	mp_set(g, MP_TCACHE_MAX_BYTES, 63 * GM_MALLOC_ALIGNMENT + GM_MINSIZE - GM_SIZE_SZ);
	mp_set(g, MP_TCACHE_COUNT, GM_TCACHE_FILL_COUNT);
	st(g, g->av + AV_NEXT, g->av);
	st(g, g->av + AV_ATTACHED_THREADS, 1);
}

/* ptmalloc_init -> tcache_key_initialize, malloc_init_state(&main_arena) */
static void ptmalloc_init(struct gm *g)
{
	if (ld32(g, g->gs + GS_INITIALIZED))
		return;
	probe_call(g->pr, LAYER_LIBC, "ptmalloc_init");
	static_init(g);
	st32(g, g->gs + GS_INITIALIZED, 1);
	st(g, g->gs + GS_TCACHE_KEY, GM_TCACHE_KEY);
	for (unsigned i = 1; i < GM_NBINS; i++) {
		vaddr_t bin = gm_bin_at(g->av, i);

		set_fd(g, bin, bin);
		set_bk(g, bin, bin);
	}
	/* set_max_fast(DEFAULT_MXFAST): (128 + SIZE_SZ) & ~MALLOC_ALIGN_MASK = 128 */
	st(g, g->gs + GS_MAX_FAST, (GM_DEFAULT_MXFAST + GM_SIZE_SZ) & ~GM_MALLOC_ALIGN_MASK);
	set_have_fastchunks(g, false);
	set_av_top(g, unsorted(g)); /* initial_top: a fake chunk of size 0 */
	probe_ret(g->pr, LAYER_LIBC, "ptmalloc_init");
}

static void glibc_init(struct libc *lc)
{
	vaddr_t av = libc_static_alloc(lc, AV_SIZEOF);
	vaddr_t mp = libc_static_alloc(lc, MP_SIZEOF);
	vaddr_t gs = libc_static_alloc(lc, GS_SIZEOF);

	/* the policy's statics must be the program's first (see glibc_malloc.h) */
	if (av != gm_main_arena(lc) || mp != gm_mp(lc) || gs != gm_statics(lc))
		panic("glibc statics not at the start of the bss");
	lc->priv = NULL;
}

void glibc_malloc_release(struct libc *lc)
{
	struct glibc_priv *pv = lc->priv;

	if (lc->ops != &malloc_ops_glibc || !pv)
		return;
	free(pv->mmapped);
	free(pv->segs);
	free(pv);
	lc->priv = NULL;
}

/* ---- tcache --------------------------------------------------------------- */

static void tcache_put(struct gm *g, vaddr_t chunk, size_t tc_idx)
{
	vaddr_t tc = tcache_ptr(g);
	vaddr_t e = chunk + GM_CHUNK_HDR_SZ;
	vaddr_t slot = tc + TC_ENTRIES + 8 * tc_idx;

	probe_call(g->pr, LAYER_LIBC, "tcache_put", {"chunk", chunk}, {"tc_idx", tc_idx});
	st(g, e + 8, ld(g, g->gs + GS_TCACHE_KEY)); /* e->key = tcache_key */
	st(g, e, protect_ptr(e, ld(g, slot)));
	st(g, slot, e);
	tc_set_count(g, tc, tc_idx, tc_count(g, tc, tc_idx) + 1);
	heap_ev(g, "tcache_put", "to tcache", chunk, chunksize(g, chunk));
	probe_ret(g->pr, LAYER_LIBC, "tcache_put");
}

static vaddr_t tcache_get(struct gm *g, size_t tc_idx)
{
	vaddr_t tc = tcache_ptr(g);
	vaddr_t slot = tc + TC_ENTRIES + 8 * tc_idx;
	vaddr_t e;

	probe_call(g->pr, LAYER_LIBC, "tcache_get", {"tc_idx", tc_idx});
	e = ld(g, slot);
	if (misaligned(e))
		printerr(g, "malloc(): unaligned tcache chunk detected");
	st(g, slot, protect_ptr(e, ld(g, e))); /* REVEAL_PTR(e->next) */
	tc_set_count(g, tc, tc_idx, tc_count(g, tc, tc_idx) - 1);
	st(g, e + 8, 0);
	heap_ev(g, "tcache_get", "from tcache", e - GM_CHUNK_HDR_SZ,
	        chunksize(g, e - GM_CHUNK_HDR_SZ));
	probe_ret(g->pr, LAYER_LIBC, "tcache_get", {"ret", e});
	return e;
}

static vaddr_t int_malloc(struct gm *g, uint64_t bytes);

static void tcache_init(struct gm *g)
{
	vaddr_t victim;

	probe_call(g->pr, LAYER_LIBC, "tcache_init");
	victim = int_malloc(g, TC_SIZEOF);
	if (victim) {
		st(g, g->gs + GS_TCACHE, victim);
		libc_memset(g->lc, victim, 0, TC_SIZEOF);
	}
	probe_ret(g->pr, LAYER_LIBC, "tcache_init", {"tcache", victim});
}

static void maybe_init_tcache(struct gm *g)
{
	if (tcache_ptr(g) == 0)
		tcache_init(g);
}

/* ---- bins ------------------------------------------------------------------ */

/* unlink_chunk: take p off its doubly linked bin, fixing the nextsize skip
   list of a large bin. */
static void unlink_chunk(struct gm *g, vaddr_t p)
{
	uint64_t sz = chunksize(g, p);
	vaddr_t fd, bk;

	if (sz != prev_size(g, p + sz))
		printerr(g, "corrupted size vs. prev_size");
	fd = fd_of(g, p);
	bk = bk_of(g, p);
	if (bk_of(g, fd) != p || fd_of(g, bk) != p)
		printerr(g, "corrupted double-linked list");
	set_bk(g, fd, bk);
	set_fd(g, bk, fd);
	if (!gm_in_smallbin_range(size_nomask(g, p)) && fdn_of(g, p) != 0) {
		vaddr_t fdn = fdn_of(g, p), bkn = bkn_of(g, p);

		if (bkn_of(g, fdn) != p || fdn_of(g, bkn) != p)
			printerr(g, "corrupted double-linked list (not small)");
		if (fdn_of(g, fd) == 0) {
			if (fdn == p) {
				set_fdn(g, fd, fd);
				set_bkn(g, fd, fd);
			} else {
				set_fdn(g, fd, fdn);
				set_bkn(g, fd, bkn);
				set_bkn(g, fdn, fd);
				set_fdn(g, bkn, fd);
			}
		} else {
			set_bkn(g, fdn, bkn);
			set_fdn(g, bkn, fdn);
		}
	}
	heap_ev(g, "unlink_chunk", "unlinked from its bin", p, sz);
}

/* Put p (size, already headed and footed) first in the unsorted bin. */
static void unsorted_insert(struct gm *g, vaddr_t p, uint64_t size, const char *err)
{
	vaddr_t bck = unsorted(g), fwd = fd_of(g, bck);

	if (bk_of(g, fwd) != bck)
		printerr(g, err);
	set_bk(g, p, bck);
	set_fd(g, p, fwd);
	set_fd(g, bck, p);
	set_bk(g, fwd, p);
	if (!gm_in_smallbin_range(size)) {
		set_fdn(g, p, 0);
		set_bkn(g, p, 0);
	}
}

/* ---- malloc_consolidate ---------------------------------------------------- */

static void malloc_consolidate(struct gm *g)
{
	vaddr_t ub = unsorted(g);
	vaddr_t top = av_top(g);

	probe_call(g->pr, LAYER_LIBC, "malloc_consolidate");
	set_have_fastchunks(g, false);
	for (unsigned i = 0; i < GM_NFASTBINS; i++) {
		vaddr_t fb = fastbin_slot(g, i);
		vaddr_t p = ld(g, fb), nextp;

		st(g, fb, 0);
		while (p) {
			uint64_t size, nextsize;
			vaddr_t nextchunk;

			libc_step(g->lc);
			if (misaligned(p))
				printerr(g,
				         "malloc_consolidate(): unaligned fastbin chunk detected");
			if (gm_fastbin_index(chunksize(g, p)) != i)
				printerr(g, "malloc_consolidate(): invalid chunk size");
			nextp = protect_ptr(p + 16, fd_of(g, p));
			size = chunksize(g, p);
			nextchunk = p + size;
			nextsize = chunksize(g, nextchunk);
			if (!(size_nomask(g, p) & GM_PREV_INUSE)) {
				uint64_t prevsize = prev_size(g, p);

				size += prevsize;
				p -= prevsize;
				if (chunksize(g, p) != prevsize)
					printerr(g, "corrupted size vs. prev_size in fastbins");
				unlink_chunk(g, p);
			}
			if (nextchunk != top) {
				vaddr_t first;

				if (!inuse_bit_at_offset(g, nextchunk, nextsize)) {
					size += nextsize;
					unlink_chunk(g, nextchunk);
				} else {
					clear_inuse_bit_at_offset(g, nextchunk, 0);
				}
				first = fd_of(g, ub);
				set_fd(g, ub, p);
				set_bk(g, first, p);
				if (!gm_in_smallbin_range(size)) {
					set_fdn(g, p, 0);
					set_bkn(g, p, 0);
				}
				set_head(g, p, size | GM_PREV_INUSE);
				set_bk(g, p, ub);
				set_fd(g, p, first);
				set_foot(g, p, size);
				heap_ev(g, "malloc_consolidate",
				        "fastbin chunk coalesced to unsorted", p, size);
			} else {
				size += nextsize;
				set_head(g, p, size | GM_PREV_INUSE);
				set_av_top(g, p);
				top = p;
				heap_ev(g, "malloc_consolidate", "fastbin chunk merged into top", p,
				        size);
			}
			p = nextp;
		}
	}
	probe_ret(g->pr, LAYER_LIBC, "malloc_consolidate");
}

/* ---- sysmalloc --------------------------------------------------------- */

/* __glibc_morecore (malloc/morecore.c): __sbrk, NULL on failure. */
static vaddr_t morecore(struct gm *g, int64_t increment)
{
	vaddr_t r;

	probe_call(g->pr, LAYER_LIBC, "__glibc_morecore", {"increment", (uint64_t)increment});
	r = libc_sbrk(g->lc, increment);
	if (r == (vaddr_t)-1)
		r = 0;
	probe_ret(g->pr, LAYER_LIBC, "__glibc_morecore", {"ret", r});
	return r;
}

static vaddr_t gm_mmap(struct gm *g, uint64_t size)
{
	return libc_mmap(g->lc, 0, size, SIM_PROT_READ | SIM_PROT_WRITE,
	                 SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS);
}

/* sysmalloc_mmap: a chunk of its own, ALIGN_UP(nb + SIZE_SZ, pagesize) bytes
   at offset 0 of a fresh mapping (prev_size 0, M set). 0 on failure. */
static vaddr_t sysmalloc_mmap(struct gm *g, uint64_t nb)
{
	uint64_t size = PAGE_ALIGN(nb + GM_SIZE_SZ);
	vaddr_t mm;
	int n;

	probe_call(g->pr, LAYER_LIBC, "sysmalloc_mmap", {"nb", nb}, {"size", size});
	if (size <= nb) {
		mm = 0;
		goto out;
	}
	mm = gm_mmap(g, size);
	if (mm == LIBC_MAP_FAILED) {
		mm = 0;
		goto out;
	}
	set_prev_size(g, mm, 0);
	set_head(g, mm, size | GM_IS_MMAPPED);
	n = mp_get_int(g, MP_N_MMAPS) + 1;
	mp_set_int(g, MP_N_MMAPS, n);
	if (n > mp_get_int(g, MP_MAX_N_MMAPS))
		mp_set_int(g, MP_MAX_N_MMAPS, n);
	uint64_t sum = mp_get(g, MP_MMAPPED_MEM) + size;
	mp_set(g, MP_MMAPPED_MEM, sum);
	if (sum > mp_get(g, MP_MAX_MMAPPED_MEM))
		mp_set(g, MP_MAX_MMAPPED_MEM, sum);
	track_mmapped(g, mm);
	heap_ev(g, "sysmalloc_mmap", "mmapped chunk", mm, size);
out:
	probe_ret(g->pr, LAYER_LIBC, "sysmalloc_mmap", {"ret", mm});
	return mm ? mm + GM_CHUNK_HDR_SZ : 0;
}

static void int_free(struct gm *g, vaddr_t p, bool have_lock);

/* sysmalloc: the top chunk cannot serve nb. Mmap the request when it is
   above the threshold, else grow the heap with MORECORE (sbrk) by
   nb + top_pad + MINSIZE less what top already has, whole pages; fall back
   to an mmapped segment of at least 1 MiB when sbrk fails. */
static vaddr_t sysmalloc(struct gm *g, uint64_t nb)
{
	const uint64_t pagesize = PAGE_SIZE;
	vaddr_t old_top, old_end, brk = 0, snd_brk = 0, ret = 0;
	uint64_t old_size, size;
	bool tried_mmap = false;

	probe_call(g->pr, LAYER_LIBC, "sysmalloc", {"nb", nb});
	if (nb >= mp_get(g, MP_MMAP_THRESHOLD) &&
	    mp_get_int(g, MP_N_MMAPS) < mp_get_int(g, MP_N_MMAPS_MAX)) {
		ret = sysmalloc_mmap(g, nb);
		if (ret)
			goto out;
		tried_mmap = true;
	}
	(void)tried_mmap; /* only non-main arenas retry mmap */

	old_top = av_top(g);
	old_size = chunksize(g, old_top);
	old_end = old_top + old_size;

	size = nb + mp_get(g, MP_TOP_PAD) + GM_MINSIZE;
	if (contiguous(g))
		size -= old_size;
	size = (size + pagesize - 1) & ~(pagesize - 1);
	if (size > 0)
		brk = morecore(g, (int64_t)size);
	if (brk == 0) {
		/* sysmalloc_mmap_fallback: mmap as MORECORE, >= 1 MiB, non-contiguous from now on
		 */
		int64_t s = (int64_t)size;

		if (contiguous(g))
			s = (int64_t)((size + old_size + pagesize - 1) & ~(pagesize - 1));
		if ((uint64_t)s < GM_MMAP_AS_MORECORE_SIZE)
			s = GM_MMAP_AS_MORECORE_SIZE;
		if ((uint64_t)s > nb) {
			vaddr_t mbrk = gm_mmap(g, (uint64_t)s);

			if (mbrk != LIBC_MAP_FAILED) {
				st32(g, g->av + AV_FLAGS,
				     ld32(g, g->av + AV_FLAGS) | GM_NONCONTIGUOUS_BIT);
				size = (uint64_t)s;
				brk = mbrk;
				snd_brk = brk + size;
				/* arena memory for mallinfo2 (system_mem), and footprint for
				   libc_footprint (counted by libc_mmap): both see it */
			}
		}
	}
	if (brk != 0) {
		if (mp_get(g, MP_SBRK_BASE) == 0)
			mp_set(g, MP_SBRK_BASE, brk);
		st(g, g->av + AV_SYSTEM_MEM, system_mem(g) + size);

		if (brk == old_end && snd_brk == 0) {
			set_head(g, old_top, (size + old_size) | GM_PREV_INUSE);
			heap_ev(g, "sysmalloc", "top grown", old_top, size + old_size);
		} else if (contiguous(g) && old_size && brk < old_end) {
			printerr(g, "break adjusted to free malloc space");
		} else {
			uint64_t front_misalign, end_misalign, correction = 0;
			vaddr_t aligned_brk = brk;

			if (contiguous(g)) {
				if (old_size)
					st(g, g->av + AV_SYSTEM_MEM,
					   system_mem(g) + (brk - old_end));
				front_misalign = (brk + GM_CHUNK_HDR_SZ) & GM_MALLOC_ALIGN_MASK;
				if (front_misalign > 0) {
					correction = GM_MALLOC_ALIGNMENT - front_misalign;
					aligned_brk += correction;
				}
				correction += old_size;
				end_misalign = brk + size + correction;
				correction += ((end_misalign + pagesize - 1) & ~(pagesize - 1)) -
				              end_misalign;
				snd_brk = morecore(g, (int64_t)correction);
				if (snd_brk == 0) {
					correction = 0;
					snd_brk = morecore(g, 0);
				}
			} else {
				if (snd_brk == 0)
					snd_brk = morecore(g, 0);
				track_segment(g, aligned_brk);
			}
			if (snd_brk != 0) {
				/* A foreign sbrk came between (contiguous, but not at
				   old_end): the new top starts a segment of its own,
				   behind the fenceposts set below. */
				if (contiguous(g) && old_size != 0)
					track_segment(g, aligned_brk);
				set_av_top(g, aligned_brk);
				set_head(g, aligned_brk,
				         (snd_brk - aligned_brk + correction) | GM_PREV_INUSE);
				st(g, g->av + AV_SYSTEM_MEM, system_mem(g) + correction);
				heap_ev(g, "sysmalloc", "new top", aligned_brk,
				        snd_brk - aligned_brk + correction);
				if (old_size != 0) {
					/* double fencepost: the old top can never coalesce
					   with memory the arena does not own */
					old_size = (old_size - 2 * GM_CHUNK_HDR_SZ) &
					           ~GM_MALLOC_ALIGN_MASK;
					set_head(g, old_top, old_size | GM_PREV_INUSE);
					set_head(g, old_top + old_size,
					         GM_CHUNK_HDR_SZ | GM_PREV_INUSE);
					set_head(g, old_top + old_size + GM_CHUNK_HDR_SZ,
					         GM_CHUNK_HDR_SZ | GM_PREV_INUSE);
					if (old_size >= GM_MINSIZE)
						int_free(g, old_top, true);
				}
			}
		}
	}
	if (system_mem(g) > ld(g, g->av + AV_MAX_SYSTEM_MEM))
		st(g, g->av + AV_MAX_SYSTEM_MEM, system_mem(g));

	/* finally, do the allocation */
	{
		vaddr_t p = av_top(g);
		uint64_t sz = chunksize(g, p);

		if (sz >= nb + GM_MINSIZE) {
			set_av_top(g, p + nb);
			set_head(g, p, nb | GM_PREV_INUSE);
			set_head(g, p + nb, (sz - nb) | GM_PREV_INUSE);
			heap_ev(g, "sysmalloc", "split from top", p, nb);
			ret = p + GM_CHUNK_HDR_SZ;
		} else {
			g->lc->errno_ = SIM_ENOMEM;
		}
	}
out:
	probe_ret(g->pr, LAYER_LIBC, "sysmalloc", {"ret", ret});
	return ret;
}

/* systrim: give back whole pages of top beyond pad with a negative sbrk,
   when the break is still where the arena left it. 1 if it released. */
static int systrim(struct gm *g, uint64_t pad)
{
	vaddr_t top = av_top(g), current_brk, new_brk;
	int64_t top_size = (int64_t)chunksize(g, top);
	int64_t top_area = top_size - (int64_t)GM_MINSIZE - 1;
	int64_t extra, released;
	int ret = 0;

	probe_call(g->pr, LAYER_LIBC, "systrim", {"pad", pad}, {"top_size", (uint64_t)top_size});
	if (top_area <= (int64_t)pad)
		goto out;
	extra = (int64_t)((uint64_t)(top_area - (int64_t)pad) & ~(PAGE_SIZE - 1));
	if (extra == 0)
		goto out;
	current_brk = morecore(g, 0);
	if (current_brk == top + (uint64_t)top_size) {
		morecore(g, -extra);
		new_brk = morecore(g, 0);
		if (new_brk != 0) {
			released = (int64_t)(current_brk - new_brk);
			if (released != 0) {
				st(g, g->av + AV_SYSTEM_MEM, system_mem(g) - (uint64_t)released);
				set_head(g, top, (uint64_t)(top_size - released) | GM_PREV_INUSE);
				heap_ev(g, "systrim", "top trimmed", top,
				        (uint64_t)(top_size - released));
				ret = 1;
			}
		}
	}
out:
	probe_ret(g->pr, LAYER_LIBC, "systrim", {"ret", (uint64_t)ret});
	return ret;
}

/* munmap_chunk: validate and unmap an mmapped chunk. */
static void munmap_chunk(struct gm *g, vaddr_t p)
{
	uint64_t size = chunksize(g, p);
	vaddr_t mem = p + GM_CHUNK_HDR_SZ;
	vaddr_t block = p - prev_size(g, p);
	uint64_t total = prev_size(g, p) + size;
	uint64_t in_page = mem & (PAGE_SIZE - 1);

	probe_call(g->pr, LAYER_LIBC, "munmap_chunk", {"chunk", p}, {"size", total});
	if (((block | total) & (PAGE_SIZE - 1)) != 0 || (in_page & (in_page - 1)) != 0)
		printerr(g, "munmap_chunk(): invalid pointer");
	mp_set_int(g, MP_N_MMAPS, mp_get_int(g, MP_N_MMAPS) - 1);
	mp_set(g, MP_MMAPPED_MEM, mp_get(g, MP_MMAPPED_MEM) - total);
	untrack_mmapped(g, p);
	heap_ev(g, "munmap_chunk", "mmapped chunk unmapped", p, total);
	libc_munmap(g->lc, block, total);
	probe_ret(g->pr, LAYER_LIBC, "munmap_chunk");
}

/*
 * mremap_chunk: resize an mmapped chunk to hold nb with mremap (MREMAP_MAYMOVE):
 * the pages move with their contents, no copy and no fault. The chunk, or 0
 * when mremap failed (the caller falls back to malloc-copy-free).
 */
static vaddr_t mremap_chunk(struct gm *g, vaddr_t p, uint64_t nb)
{
	uint64_t offset = prev_size(g, p), size = chunksize(g, p);
	vaddr_t block = p - offset, mem = p + GM_CHUNK_HDR_SZ, cp;
	uint64_t total = offset + size, in_page = mem & (PAGE_SIZE - 1), new_size, sum;

	probe_call(g->pr, LAYER_LIBC, "mremap_chunk", {"chunk", p}, {"nb", nb});
	if (((block | total) & (PAGE_SIZE - 1)) != 0 || (in_page & (in_page - 1)) != 0)
		printerr(g, "mremap_chunk(): invalid pointer");
	/* the extra SIZE_SZ as in sysmalloc_mmap */
	new_size = PAGE_ALIGN(nb + offset + GM_SIZE_SZ);
	if (new_size == total)
		goto out;
	cp = libc_mremap(g->lc, block, total, new_size, SIM_MREMAP_MAYMOVE);
	if (cp == LIBC_MAP_FAILED) {
		p = 0;
		goto out;
	}
	untrack_mmapped(g, p);
	p = cp + offset;
	set_head(g, p, (new_size - offset) | GM_IS_MMAPPED);
	sum = mp_get(g, MP_MMAPPED_MEM) + new_size - total;
	mp_set(g, MP_MMAPPED_MEM, sum);
	if (sum > mp_get(g, MP_MAX_MMAPPED_MEM))
		mp_set(g, MP_MAX_MMAPPED_MEM, sum);
	track_mmapped(g, p);
	heap_ev(g, "mremap_chunk", "mmapped chunk remapped", p, new_size - offset);
out:
	probe_ret(g->pr, LAYER_LIBC, "mremap_chunk", {"ret", p});
	return p;
}

/* ---- _int_malloc ------------------------------------------------------------ */

/* Split victim (size) into nb for the caller and a remainder put first in
   the unsorted bin. */
static void split_to_unsorted(struct gm *g, vaddr_t victim, uint64_t size, uint64_t nb,
                              const char *err, bool advertise)
{
	uint64_t remainder_size = size - nb;
	vaddr_t remainder = victim + nb;

	unsorted_insert(g, remainder, remainder_size, err);
	if (advertise)
		st(g, g->av + AV_LAST_REMAINDER, remainder);
	set_head(g, victim, nb | GM_PREV_INUSE);
	set_head(g, remainder, remainder_size | GM_PREV_INUSE);
	set_foot(g, remainder, remainder_size);
	heap_ev(g, "_int_malloc", "split, remainder to unsorted", remainder, remainder_size);
}

/* Sort victim (size) into its small or large bin (large bins are kept in
   decreasing size order with the fd_nextsize/bk_nextsize skip list). */
static void bin_chunk(struct gm *g, vaddr_t victim, uint64_t size)
{
	unsigned victim_index;
	vaddr_t bck, fwd;

	if (gm_in_smallbin_range(size)) {
		victim_index = gm_smallbin_index(size);
		bck = gm_bin_at(g->av, victim_index);
		fwd = fd_of(g, bck);
	} else {
		victim_index = gm_largebin_index(size);
		bck = gm_bin_at(g->av, victim_index);
		fwd = fd_of(g, bck);
		if (fwd != bck) {
			size |= GM_PREV_INUSE; /* or-ed in to speed comparisons */
			if (size < size_nomask(g, bk_of(g, bck))) {
				fwd = bck;
				bck = bk_of(g, bck);
				set_fdn(g, victim, fd_of(g, fwd));
				set_bkn(g, victim, bkn_of(g, fd_of(g, fwd)));
				set_bkn(g, fd_of(g, fwd), victim);
				set_fdn(g, bkn_of(g, victim), victim);
			} else {
				struct libc_walk w = {0};

				while (size < size_nomask(g, fwd)) {
					libc_walk_step(g->lc, &w, fwd);
					fwd = fdn_of(g, fwd);
				}
				if (size == size_nomask(g, fwd)) {
					fwd = fd_of(g,
					            fwd); /* always insert in the second position */
				} else {
					set_fdn(g, victim, fwd);
					set_bkn(g, victim, bkn_of(g, fwd));
					if (fdn_of(g, bkn_of(g, fwd)) != fwd)
						printerr(g, "malloc(): largebin double linked list "
						            "corrupted (nextsize)");
					set_bkn(g, fwd, victim);
					set_fdn(g, bkn_of(g, victim), victim);
				}
				bck = bk_of(g, fwd);
				if (fd_of(g, bck) != fwd)
					printerr(
					    g,
					    "malloc(): largebin double linked list corrupted (bk)");
			}
		} else {
			set_fdn(g, victim, victim);
			set_bkn(g, victim, victim);
		}
	}
	mark_bin(g, victim_index);
	set_bk(g, victim, bck);
	set_fd(g, victim, fwd);
	set_bk(g, fwd, victim);
	set_fd(g, bck, victim);
	heap_ev(g, "_int_malloc",
	        gm_in_smallbin_range(size & ~GM_SIZE_BITS) ? "sorted into a small bin"
	                                                   : "sorted into a large bin",
	        victim, size & ~GM_SIZE_BITS);
}

static vaddr_t int_malloc_body(struct gm *g, uint64_t bytes, uint64_t nb)
{
	vaddr_t tc = tcache_ptr(g);
	unsigned idx;
	vaddr_t victim, bin;
	uint64_t size;

	/* fastbins */
	if (nb <= ld(g, g->gs + GS_MAX_FAST)) {
		vaddr_t fb;

		idx = gm_fastbin_index(nb);
		fb = fastbin_slot(g, idx);
		victim = ld(g, fb);
		if (victim != 0) {
			if (misaligned(victim))
				printerr(g, "malloc(): unaligned fastbin chunk detected 2");
			st(g, fb, protect_ptr(victim + 16, fd_of(g, victim)));
			if (gm_fastbin_index(chunksize(g, victim)) != idx)
				printerr(g, "malloc(): memory corruption (fast)");
			heap_ev(g, "_int_malloc", "from fastbin", victim, nb);
			size_t tc_idx = gm_csize2tidx(nb);
			if (tc && tc_idx < mp_get(g, MP_TCACHE_BINS)) {
				vaddr_t tcv;

				while (tc_count(g, tc, tc_idx) < mp_get(g, MP_TCACHE_COUNT) &&
				       (tcv = ld(g, fb)) != 0) {
					if (misaligned(tcv))
						printerr(
						    g,
						    "malloc(): unaligned fastbin chunk detected 3");
					st(g, fb, protect_ptr(tcv + 16, fd_of(g, tcv)));
					tcache_put(g, tcv, tc_idx);
				}
			}
			return victim + GM_CHUNK_HDR_SZ;
		}
	}

	/* small bins: exact fit */
	if (gm_in_smallbin_range(nb)) {
		idx = gm_smallbin_index(nb);
		bin = gm_bin_at(g->av, idx);
		victim = bk_of(g, bin);
		if (victim != bin) {
			vaddr_t bck = bk_of(g, victim);

			if (fd_of(g, bck) != victim)
				printerr(g, "malloc(): smallbin double linked list corrupted");
			set_inuse_bit_at_offset(g, victim, nb);
			set_bk(g, bin, bck);
			set_fd(g, bck, bin);
			heap_ev(g, "_int_malloc", "from small bin", victim, nb);
			size_t tc_idx = gm_csize2tidx(nb);
			if (tc && tc_idx < mp_get(g, MP_TCACHE_BINS)) {
				vaddr_t tcv;

				while (tc_count(g, tc, tc_idx) < mp_get(g, MP_TCACHE_COUNT) &&
				       (tcv = bk_of(g, bin)) != bin) {
					bck = bk_of(g, tcv);
					set_inuse_bit_at_offset(g, tcv, nb);
					set_bk(g, bin, bck);
					set_fd(g, bck, bin);
					tcache_put(g, tcv, tc_idx);
				}
			}
			return victim + GM_CHUNK_HDR_SZ;
		}
	} else {
		idx = gm_largebin_index(nb);
		if (have_fastchunks(g))
			malloc_consolidate(g);
	}

	uint64_t tcache_nb = 0;
	size_t tc_idx = gm_csize2tidx(nb);
	bool return_cached = false;

	if (tc && tc_idx < mp_get(g, MP_TCACHE_BINS))
		tcache_nb = nb;

	for (;;) {
		int iters = 0;
		vaddr_t ub = unsorted(g);

		while ((victim = bk_of(g, ub)) != ub) {
			vaddr_t bck = bk_of(g, victim), next;

			libc_step(g->lc);
			size = chunksize(g, victim);
			next = victim + size;
			if (size <= GM_CHUNK_HDR_SZ || size > system_mem(g))
				printerr(g, "malloc(): invalid size (unsorted)");
			if (size_nomask(g, next) < GM_CHUNK_HDR_SZ ||
			    size_nomask(g, next) > system_mem(g))
				printerr(g, "malloc(): invalid next size (unsorted)");
			if ((prev_size(g, next) & ~GM_SIZE_BITS) != size)
				printerr(g, "malloc(): mismatching next->prev_size (unsorted)");
			if (fd_of(g, bck) != victim || fd_of(g, victim) != ub)
				printerr(g, "malloc(): unsorted double linked list corrupted");
			if (size_nomask(g, next) & GM_PREV_INUSE)
				printerr(g, "malloc(): invalid next->prev_inuse (unsorted)");

			/* the last-remainder rule: locality for runs of small requests */
			if (gm_in_smallbin_range(nb) && bck == ub &&
			    victim == ld(g, g->av + AV_LAST_REMAINDER) && size > nb + GM_MINSIZE) {
				uint64_t remainder_size = size - nb;
				vaddr_t remainder = victim + nb;

				set_bk(g, ub, remainder);
				set_fd(g, ub, remainder);
				st(g, g->av + AV_LAST_REMAINDER, remainder);
				set_bk(g, remainder, ub);
				set_fd(g, remainder, ub);
				if (!gm_in_smallbin_range(remainder_size)) {
					set_fdn(g, remainder, 0);
					set_bkn(g, remainder, 0);
				}
				set_head(g, victim, nb | GM_PREV_INUSE);
				set_head(g, remainder, remainder_size | GM_PREV_INUSE);
				set_foot(g, remainder, remainder_size);
				heap_ev(g, "_int_malloc", "split last remainder", victim, nb);
				return victim + GM_CHUNK_HDR_SZ;
			}

			/* remove from the unsorted list */
			set_bk(g, ub, bck);
			set_fd(g, bck, ub);

			if (size == nb) {
				set_inuse_bit_at_offset(g, victim, size);
				if (tcache_nb > 0 &&
				    tc_count(g, tc, tc_idx) < mp_get(g, MP_TCACHE_COUNT)) {
					/* fill the cache first, return one of them later */
					tcache_put(g, victim, tc_idx);
					return_cached = true;
					continue;
				}
				heap_ev(g, "_int_malloc", "exact fit from unsorted", victim, nb);
				return victim + GM_CHUNK_HDR_SZ;
			}
			bin_chunk(g, victim, size);
			/* tcache_unsorted_limit is 0 by default: no early return */
			if (++iters >= 10000)
				break;
		}

		if (return_cached)
			return tcache_get(g, tc_idx);

		/* large request: best fit in its own bin, through the skip list */
		if (!gm_in_smallbin_range(nb)) {
			bin = gm_bin_at(g->av, idx);
			victim = fd_of(g, bin);
			if (victim != bin && size_nomask(g, victim) >= nb) {
				struct libc_walk w = {0};

				victim = bkn_of(g, victim);
				while ((size = chunksize(g, victim)) < nb) {
					libc_walk_step(g->lc, &w, victim);
					victim = bkn_of(g, victim);
				}
				/* avoid removing the first of a size: the skip list stays */
				if (victim != bk_of(g, bin) &&
				    size_nomask(g, victim) == size_nomask(g, fd_of(g, victim)))
					victim = fd_of(g, victim);
				uint64_t remainder_size = size - nb;
				unlink_chunk(g, victim);
				if (remainder_size < GM_MINSIZE)
					set_inuse_bit_at_offset(g, victim, size);
				else
					split_to_unsorted(g, victim, size, nb,
					                  "malloc(): corrupted unsorted chunks",
					                  false);
				heap_ev(g, "_int_malloc", "best fit from large bin", victim, nb);
				return victim + GM_CHUNK_HDR_SZ;
			}
		}

		/* next larger non-empty bin, by the binmap */
		++idx;
		bin = gm_bin_at(g->av, idx);
		unsigned block = idx >> 5;
		uint32_t map = ld32(g, g->av + AV_BINMAP + 4ULL * block);
		uint32_t bit = 1u << (idx & 31);

		for (;;) {
			if (bit > map || bit == 0) {
				do {
					if (++block >= GM_BINMAPSIZE)
						goto use_top;
				} while ((map = ld32(g, g->av + AV_BINMAP + 4ULL * block)) == 0);
				bin = gm_bin_at(g->av, block << 5);
				bit = 1;
			}
			while ((bit & map) == 0) {
				bin += 16; /* next_bin */
				bit <<= 1;
			}
			victim = bk_of(g, bin);
			if (victim == bin) {
				/* a false alarm: clear the bit */
				map &= ~bit;
				st32(g, g->av + AV_BINMAP + 4ULL * block, map);
				bin += 16;
				bit <<= 1;
			} else {
				size = chunksize(g, victim);
				uint64_t remainder_size = size - nb;

				unlink_chunk(g, victim);
				if (remainder_size < GM_MINSIZE)
					set_inuse_bit_at_offset(g, victim, size);
				else
					split_to_unsorted(g, victim, size, nb,
					                  "malloc(): corrupted unsorted chunks 2",
					                  gm_in_smallbin_range(nb));
				heap_ev(g, "_int_malloc", "from a larger bin (binmap)", victim, nb);
				return victim + GM_CHUNK_HDR_SZ;
			}
		}

	use_top:
		victim = av_top(g);
		size = chunksize(g, victim);
		if (size > system_mem(g))
			printerr(g, "malloc(): corrupted top size");
		if (size >= nb + GM_MINSIZE) {
			set_av_top(g, victim + nb);
			set_head(g, victim, nb | GM_PREV_INUSE);
			set_head(g, victim + nb, (size - nb) | GM_PREV_INUSE);
			heap_ev(g, "_int_malloc", "split from top", victim, nb);
			return victim + GM_CHUNK_HDR_SZ;
		} else if (have_fastchunks(g)) {
			malloc_consolidate(g);
			idx = gm_bin_index(nb);
		} else {
			(void)bytes;
			return sysmalloc(g, nb);
		}
	}
}

static vaddr_t int_malloc(struct gm *g, uint64_t bytes)
{
	vaddr_t ret;
	uint64_t nb;

	if (bytes > (uint64_t)INT64_MAX) {
		g->lc->errno_ = SIM_ENOMEM;
		return 0;
	}
	nb = gm_request2size(bytes);
	probe_call(g->pr, LAYER_LIBC, "_int_malloc", {"bytes", bytes}, {"nb", nb});
	ret = int_malloc_body(g, bytes, nb);
	probe_ret(g->pr, LAYER_LIBC, "_int_malloc", {"ret", ret});
	return ret;
}

/* ---- _int_free -------------------------------------------------------------- */

static void int_free_body(struct gm *g, vaddr_t p, bool have_lock)
{
	uint64_t size = chunksize(g, p);
	vaddr_t tc;

	if (p > (vaddr_t)-size || misaligned(p))
		printerr(g, "free(): invalid pointer");
	if (size < GM_MINSIZE || (size & GM_MALLOC_ALIGN_MASK))
		printerr(g, "free(): invalid size");

	tc = tcache_ptr(g);
	size_t tc_idx = gm_csize2tidx(size);
	if (tc && tc_idx < mp_get(g, MP_TCACHE_BINS)) {
		vaddr_t e = p + GM_CHUNK_HDR_SZ;

		if (ld(g, e + 8) == ld(g, g->gs + GS_TCACHE_KEY)) {
			uint64_t cnt = 0;

			/* probably a double free: make sure before aborting (a bin longer
			   than tcache_count is a cycle: glibc 2.33's BZ #27052 fix) */
			for (vaddr_t tmp = ld(g, tc + TC_ENTRIES + 8 * tc_idx); tmp;
			     tmp = protect_ptr(tmp, ld(g, tmp)), cnt++) {
				libc_step(g->lc);
				if (cnt >= mp_get(g, MP_TCACHE_COUNT))
					printerr(g, "free(): too many chunks detected in tcache");
				if (misaligned(tmp))
					printerr(g, "free(): unaligned chunk detected in tcache 2");
				if (tmp == e)
					printerr(g, "free(): double free detected in tcache 2");
			}
		}
		if (tc_count(g, tc, tc_idx) < mp_get(g, MP_TCACHE_COUNT)) {
			tcache_put(g, p, tc_idx);
			return;
		}
	}

	if (size <= ld(g, g->gs + GS_MAX_FAST)) {
		vaddr_t next = p + size;
		unsigned idx;
		vaddr_t fb, old;

		if (size_nomask(g, next) <= GM_CHUNK_HDR_SZ || chunksize(g, next) >= system_mem(g))
			printerr(g, "free(): invalid next size (fast)");
		set_have_fastchunks(g, true);
		idx = gm_fastbin_index(size);
		fb = fastbin_slot(g, idx);
		old = ld(g, fb);
		if (old == p)
			printerr(g, "double free or corruption (fasttop)");
		set_fd(g, p, protect_ptr(p + 16, old));
		st(g, fb, p);
		if (have_lock && old != 0 && gm_fastbin_index(chunksize(g, old)) != idx)
			printerr(g, "invalid fastbin entry (free)");
		heap_ev(g, "_int_free", "to fastbin", p, size);
		return;
	}

	if (!(size_nomask(g, p) & GM_IS_MMAPPED)) {
		vaddr_t top = av_top(g);
		vaddr_t nextchunk = p + size;
		uint64_t nextsize;

		if (p == top)
			printerr(g, "double free or corruption (top)");
		if (contiguous(g) && nextchunk >= top + chunksize(g, top))
			printerr(g, "double free or corruption (out)");
		if (!(size_nomask(g, nextchunk) & GM_PREV_INUSE))
			printerr(g, "double free or corruption (!prev)");
		nextsize = chunksize(g, nextchunk);
		if (size_nomask(g, nextchunk) <= GM_CHUNK_HDR_SZ || nextsize >= system_mem(g))
			printerr(g, "free(): invalid next size (normal)");

		if (!(size_nomask(g, p) & GM_PREV_INUSE)) {
			uint64_t prevsize = prev_size(g, p);

			size += prevsize;
			p -= prevsize;
			if (chunksize(g, p) != prevsize)
				printerr(g, "corrupted size vs. prev_size while consolidating");
			unlink_chunk(g, p);
			heap_ev(g, "_int_free", "coalesced with previous", p, size);
		}
		if (nextchunk != top) {
			if (!inuse_bit_at_offset(g, nextchunk, nextsize)) {
				unlink_chunk(g, nextchunk);
				size += nextsize;
				heap_ev(g, "_int_free", "coalesced with next", p, size);
			} else {
				clear_inuse_bit_at_offset(g, nextchunk, 0);
			}
			unsorted_insert(g, p, size, "free(): corrupted unsorted chunks");
			set_head(g, p, size | GM_PREV_INUSE);
			set_foot(g, p, size);
			heap_ev(g, "_int_free", "to unsorted", p, size);
		} else {
			size += nextsize;
			set_head(g, p, size | GM_PREV_INUSE);
			set_av_top(g, p);
			heap_ev(g, "_int_free", "merged into top", p, size);
		}

		if (size >= GM_FASTBIN_CONSOLIDATION_THRESHOLD) {
			if (have_fastchunks(g))
				malloc_consolidate(g);
			if (chunksize(g, av_top(g)) >= mp_get(g, MP_TRIM_THRESHOLD))
				systrim(g, mp_get(g, MP_TOP_PAD));
		}
	} else {
		munmap_chunk(g, p);
	}
}

static void int_free(struct gm *g, vaddr_t p, bool have_lock)
{
	probe_call(g->pr, LAYER_LIBC, "_int_free", {"chunk", p});
	int_free_body(g, p, have_lock);
	probe_ret(g->pr, LAYER_LIBC, "_int_free");
}

/* ---- the public entry points ---------------------------------------------- */

/* __libc_malloc: tcache first, then _int_malloc on main_arena. */
static vaddr_t glibc_malloc(struct libc *lc, uint64_t bytes)
{
	struct gm g;
	vaddr_t victim;
	uint64_t tbytes;
	size_t tc_idx;

	gm_enter(&g, lc);
	probe_call(g.pr, LAYER_LIBC, "__libc_malloc", {"bytes", bytes});
	ptmalloc_init(&g);
	if (bytes > (uint64_t)INT64_MAX) {
		lc->errno_ = SIM_ENOMEM;
		victim = 0;
		goto out;
	}
	tbytes = gm_request2size(bytes);
	tc_idx = gm_csize2tidx(tbytes);
	maybe_init_tcache(&g);
	{
		vaddr_t tc = tcache_ptr(&g);

		if (tc_idx < mp_get(&g, MP_TCACHE_BINS) && tc && tc_count(&g, tc, tc_idx) > 0) {
			victim = tcache_get(&g, tc_idx);
			goto out;
		}
	}
	victim = int_malloc(&g, bytes);
out:
	probe_ret(g.pr, LAYER_LIBC, "__libc_malloc", {"ret", victim});
	return victim;
}

static void libc_free_body(struct gm *g, vaddr_t mem)
{
	vaddr_t p = mem - GM_CHUNK_HDR_SZ;
	uint64_t raw = size_nomask(g, p);

	if (raw & GM_IS_MMAPPED) {
		/* the dynamic mmap threshold: the next request of this size will
		   come from the heap */
		if (!mp_get_int(g, MP_NO_DYN_THRESHOLD) && raw > mp_get(g, MP_MMAP_THRESHOLD) &&
		    raw <= GM_DEFAULT_MMAP_THRESHOLD_MAX) {
			mp_set(g, MP_MMAP_THRESHOLD, raw & ~GM_SIZE_BITS);
			mp_set(g, MP_TRIM_THRESHOLD, 2 * (raw & ~GM_SIZE_BITS));
			EV(g->pr, LAYER_LIBC, EV_HEAP, "__libc_free", "mmap threshold raised",
			   {"mmap_threshold", raw & ~GM_SIZE_BITS},
			   {"trim_threshold", 2 * (raw & ~GM_SIZE_BITS)});
		}
		munmap_chunk(g, p);
	} else {
		maybe_init_tcache(g);
		int_free(g, p, false);
	}
}

/* __libc_free (free(NULL) is filtered by libc_free) */
static void glibc_free(struct libc *lc, vaddr_t mem)
{
	struct gm g;

	gm_enter(&g, lc);
	probe_call(g.pr, LAYER_LIBC, "__libc_free", {"mem", mem});
	libc_free_body(&g, mem);
	probe_ret(g.pr, LAYER_LIBC, "__libc_free");
}

/* _int_realloc: grow into top or a free next chunk, shrink and split, else
   malloc-copy-free. Returns the user pointer or 0 (old block untouched). */
static vaddr_t int_realloc(struct gm *g, vaddr_t oldp, uint64_t oldsize, uint64_t nb)
{
	vaddr_t newp, next, newmem;
	uint64_t newsize, nextsize;

	if (size_nomask(g, oldp) <= GM_CHUNK_HDR_SZ || oldsize >= system_mem(g) ||
	    oldsize != chunksize(g, oldp))
		printerr(g, "realloc(): invalid old size");
	next = oldp + oldsize;
	nextsize = chunksize(g, next);
	if (size_nomask(g, next) <= GM_CHUNK_HDR_SZ || nextsize >= system_mem(g))
		printerr(g, "realloc(): invalid next size");

	if (oldsize >= nb) {
		newp = oldp;
		newsize = oldsize;
	} else {
		vaddr_t top = av_top(g);

		if (next == top && (newsize = oldsize + nextsize) >= nb + GM_MINSIZE) {
			set_head_size(g, oldp, nb);
			set_av_top(g, oldp + nb);
			set_head(g, oldp + nb, (newsize - nb) | GM_PREV_INUSE);
			heap_ev(g, "_int_realloc", "grown into top", oldp, nb);
			return oldp + GM_CHUNK_HDR_SZ;
		} else if (next != top && !inuse_bit_at_offset(g, next, nextsize) &&
		           (newsize = oldsize + nextsize) >= nb) {
			newp = oldp;
			unlink_chunk(g, next);
			heap_ev(g, "_int_realloc", "grown into next free chunk", oldp, newsize);
		} else {
			newmem = int_malloc(g, nb - GM_MALLOC_ALIGN_MASK);
			if (newmem == 0)
				return 0;
			newp = newmem - GM_CHUNK_HDR_SZ;
			newsize = chunksize(g, newp);
			if (newp == next) {
				newsize += oldsize;
				newp = oldp;
			} else {
				libc_memcpy(g->lc, newmem, oldp + GM_CHUNK_HDR_SZ,
				            oldsize - GM_CHUNK_HDR_SZ + GM_SIZE_SZ);
				heap_ev(g, "_int_realloc", "moved (malloc, copy, free)", newp,
				        newsize);
				int_free(g, oldp, true);
				return newmem;
			}
		}
	}

	uint64_t remainder_size = newsize - nb;

	if (remainder_size < GM_MINSIZE) {
		set_head_size(g, newp, newsize);
		set_inuse_bit_at_offset(g, newp, newsize);
	} else {
		vaddr_t remainder = newp + nb;

		set_head_size(g, newp, nb);
		set_head(g, remainder, remainder_size | GM_PREV_INUSE);
		set_inuse_bit_at_offset(g, remainder, remainder_size);
		heap_ev(g, "_int_realloc", "tail split off", remainder, remainder_size);
		int_free(g, remainder, true);
	}
	return newp + GM_CHUNK_HDR_SZ;
}

/* __libc_realloc (libc_realloc has handled oldmem == 0 and bytes == 0). */
static vaddr_t glibc_realloc(struct libc *lc, vaddr_t oldmem, uint64_t bytes)
{
	struct gm g;
	vaddr_t oldp = oldmem - GM_CHUNK_HDR_SZ, ret = 0;
	uint64_t oldsize, nb;

	gm_enter(&g, lc);
	probe_call(g.pr, LAYER_LIBC, "__libc_realloc", {"oldmem", oldmem}, {"bytes", bytes});
	ptmalloc_init(&g);
	oldsize = chunksize(&g, oldp);
	if (!(size_nomask(&g, oldp) & GM_IS_MMAPPED))
		maybe_init_tcache(&g);
	if (oldp > (vaddr_t)-oldsize || misaligned(oldp))
		printerr(&g, "realloc(): invalid pointer");
	if (bytes > (uint64_t)INT64_MAX) {
		lc->errno_ = SIM_ENOMEM;
		goto out;
	}
	nb = gm_request2size(bytes);
	if (size_nomask(&g, oldp) & GM_IS_MMAPPED) {
		vaddr_t newp = mremap_chunk(&g, oldp, nb);

		if (newp) {
			ret = newp + GM_CHUNK_HDR_SZ;
			goto out;
		}
		if (oldsize - GM_SIZE_SZ >= nb) {
			ret = oldmem;
			goto out;
		}
		ret = glibc_malloc(lc, bytes);
		if (ret == 0)
			goto out;
		libc_memcpy(lc, ret, oldmem, oldsize - GM_CHUNK_HDR_SZ);
		munmap_chunk(&g, oldp);
		goto out;
	}
	probe_call(g.pr, LAYER_LIBC, "_int_realloc", {"chunk", oldp}, {"nb", nb});
	ret = int_realloc(&g, oldp, oldsize, nb);
	probe_ret(g.pr, LAYER_LIBC, "_int_realloc", {"ret", ret});
out:
	probe_ret(g.pr, LAYER_LIBC, "__libc_realloc", {"ret", ret});
	return ret;
}

/* __libc_calloc: _int_malloc (no tcache), then clear, except memory that is
   known fresh from the kernel: a mmapped chunk, or, when the block is carved
   from the old top and the heap grew for it, the part beyond the old top.
   malloc.c (MORECORE_CLEARS 1) would also clear the main arena's heap up to
   its old maximum (sbrk_base + max_system_mem), as memory trimmed and taken
   again may not read as zero; Debian's build of 2.36 (2.36-9+deb12u14,
   disassembled) has no trace of that test, and after a trim clears only the
   old top: tests/test_glibc_oracle.c, calloc_after_a_trim. */
static vaddr_t glibc_calloc(struct libc *lc, uint64_t n, uint64_t elem)
{
	struct gm g;
	vaddr_t oldtop, mem = 0, p;
	uint64_t sz = n * elem, oldtopsize, csz;

	gm_enter(&g, lc);
	probe_call(g.pr, LAYER_LIBC, "__libc_calloc", {"bytes", sz});
	if (sz > (uint64_t)INT64_MAX) {
		lc->errno_ = SIM_ENOMEM;
		goto out;
	}
	ptmalloc_init(&g);
	maybe_init_tcache(&g);
	oldtop = av_top(&g);
	oldtopsize = chunksize(&g, oldtop);
	mem = int_malloc(&g, sz);
	if (mem == 0)
		goto out;
	p = mem - GM_CHUNK_HDR_SZ;
	csz = chunksize(&g, p);
	if (size_nomask(&g, p) & GM_IS_MMAPPED) {
		EV(g.pr, LAYER_LIBC, EV_HEAP, "__libc_calloc", "mmapped: not cleared", {"chunk", p},
		   {"size", csz});
		goto out;
	}
	if (p == oldtop && csz > oldtopsize)
		csz = oldtopsize;
	EV(g.pr, LAYER_LIBC, EV_HEAP, "__libc_calloc", "cleared", {"chunk", p},
	   {"size", csz - GM_SIZE_SZ});
	libc_memset(lc, mem, 0, csz - GM_SIZE_SZ);
out:
	probe_ret(g.pr, LAYER_LIBC, "__libc_calloc", {"ret", mem});
	return mem;
}

/* _int_memalign (2.36): malloc nb + alignment + MINSIZE, give back the
   leading and trailing space. */
static vaddr_t int_memalign(struct gm *g, uint64_t alignment, uint64_t bytes)
{
	uint64_t nb, leadsize, newsize, size;
	vaddr_t m, p, brk, newp;

	if (bytes > (uint64_t)INT64_MAX) {
		g->lc->errno_ = SIM_ENOMEM;
		return 0;
	}
	nb = gm_request2size(bytes);
	m = int_malloc(g, nb + alignment + GM_MINSIZE);
	if (m == 0)
		return 0;
	p = m - GM_CHUNK_HDR_SZ;
	if (m % alignment != 0) {
		brk = ((m + alignment - 1) & -alignment) - GM_CHUNK_HDR_SZ;
		if (brk - p < GM_MINSIZE)
			brk += alignment;
		newp = brk;
		leadsize = brk - p;
		newsize = chunksize(g, p) - leadsize;
		if (size_nomask(g, p) & GM_IS_MMAPPED) {
			set_prev_size(g, newp, prev_size(g, p) + leadsize);
			set_head(g, newp, newsize | GM_IS_MMAPPED);
			/* the host-side list follows the chunk header */
			untrack_mmapped(g, p);
			track_mmapped(g, newp);
			return newp + GM_CHUNK_HDR_SZ;
		}
		set_head(g, newp, newsize | GM_PREV_INUSE);
		set_inuse_bit_at_offset(g, newp, newsize);
		set_head_size(g, p, leadsize);
		heap_ev(g, "_int_memalign", "leader given back", p, leadsize);
		int_free(g, p, true);
		p = newp;
	}
	if (!(size_nomask(g, p) & GM_IS_MMAPPED)) {
		size = chunksize(g, p);
		if (size > nb + GM_MINSIZE) {
			vaddr_t remainder = p + nb;

			set_head(g, remainder, (size - nb) | GM_PREV_INUSE);
			set_head_size(g, p, nb);
			heap_ev(g, "_int_memalign", "trailer given back", remainder, size - nb);
			int_free(g, remainder, true);
		}
	}
	return p + GM_CHUNK_HDR_SZ;
}

/* _mid_memalign (posix_memalign has checked the alignment) */
static vaddr_t glibc_memalign(struct libc *lc, uint64_t alignment, uint64_t bytes)
{
	struct gm g;
	vaddr_t ret;

	if (alignment <= GM_MALLOC_ALIGNMENT)
		return glibc_malloc(lc, bytes);
	gm_enter(&g, lc);
	probe_call(g.pr, LAYER_LIBC, "_mid_memalign", {"alignment", alignment}, {"bytes", bytes});
	ptmalloc_init(&g);
	if (alignment < GM_MINSIZE)
		alignment = GM_MINSIZE;
	if (alignment > (UINT64_MAX >> 1) + 1) {
		lc->errno_ = SIM_EINVAL;
		ret = 0;
		goto out;
	}
	if (alignment & (alignment - 1)) {
		uint64_t a = GM_MALLOC_ALIGNMENT * 2;

		while (a < alignment)
			a <<= 1;
		alignment = a;
	}
	probe_call(g.pr, LAYER_LIBC, "_int_memalign", {"alignment", alignment}, {"bytes", bytes});
	ret = int_memalign(&g, alignment, bytes);
	probe_ret(g.pr, LAYER_LIBC, "_int_memalign", {"ret", ret});
out:
	probe_ret(g.pr, LAYER_LIBC, "_mid_memalign", {"ret", ret});
	return ret;
}

/* __malloc_usable_size / musable */
static uint64_t glibc_usable_size(struct libc *lc, vaddr_t mem)
{
	struct gm g;
	vaddr_t p = mem - GM_CHUNK_HDR_SZ;
	uint64_t raw;

	gm_enter(&g, lc);
	raw = size_nomask(&g, p);
	if (raw & GM_IS_MMAPPED)
		return (raw & ~GM_SIZE_BITS) - GM_CHUNK_HDR_SZ;
	if (inuse_bit_at_offset(&g, p, raw & ~GM_SIZE_BITS))
		return (raw & ~GM_SIZE_BITS) - GM_SIZE_SZ;
	return 0;
}

const struct malloc_ops malloc_ops_glibc = {
    .name = "glibc",
    .description = "glibc 2.36 ptmalloc2 main arena: tcache, fastbins, bins, top, "
                   "sysmalloc with top_pad, dynamic mmap threshold, trimming",
    .init = glibc_init,
    .malloc = glibc_malloc,
    .free = glibc_free,
    .realloc = glibc_realloc,
    .calloc = glibc_calloc,
    .memalign = glibc_memalign,
    .usable_size = glibc_usable_size,
    .walk = glibc_malloc_walk,
    .check = glibc_malloc_check,
    .fini = glibc_malloc_release,
};
