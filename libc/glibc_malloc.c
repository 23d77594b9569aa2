/*
 * glibc_malloc.c - the `glibc` policy: glibc 2.36's ptmalloc2, main arena
 * only, single-threaded (SINGLE_THREAD_P), default tunables, following
 * malloc/malloc.c function by function. This file holds the entry points
 * (__libc_malloc, __libc_free, __libc_realloc with _int_realloc,
 * __libc_calloc, _mid_memalign with _int_memalign, __malloc_usable_size) and
 * ptmalloc_init; the others are listed in glibc_internal.h. Every header,
 * link and count lives in simulated memory and is reached through
 * libc_ld64/libc_st64 (so it faults and misses the TLB like the real one);
 * main_arena, mp_, the tcache pointer and tcache_key sit in the program's
 * bss. The layout is in glibc_malloc.h.
 *
 * Differences from the real thing, on purpose:
 *  - tcache_key is a constant instead of getrandom's value.
 *  - no arenas but main_arena, no mallopt/tunables, no perturb, no THP.
 */
#include "glibc_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- setup ---------------------------------------------------------------- */

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
	gm_maybe_init_tcache(&g);
	{
		vaddr_t tc = tcache_ptr(&g);

		if (tc_idx < mp_get(&g, MP_TCACHE_BINS) && tc && tc_count(&g, tc, tc_idx) > 0) {
			victim = gm_tcache_get(&g, tc_idx);
			goto out;
		}
	}
	victim = gm_int_malloc(&g, bytes);
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
		gm_munmap_chunk(g, p);
	} else {
		gm_maybe_init_tcache(g);
		gm_int_free(g, p, false);
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
			gm_unlink_chunk(g, next);
			heap_ev(g, "_int_realloc", "grown into next free chunk", oldp, newsize);
		} else {
			newmem = gm_int_malloc(g, nb - GM_MALLOC_ALIGN_MASK);
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
				gm_int_free(g, oldp, true);
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
		gm_int_free(g, remainder, true);
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
		gm_maybe_init_tcache(&g);
	if (oldp > (vaddr_t)-oldsize || misaligned(oldp))
		printerr(&g, "realloc(): invalid pointer");
	if (bytes > (uint64_t)INT64_MAX) {
		lc->errno_ = SIM_ENOMEM;
		goto out;
	}
	nb = gm_request2size(bytes);
	if (size_nomask(&g, oldp) & GM_IS_MMAPPED) {
		vaddr_t newp = gm_mremap_chunk(&g, oldp, nb);

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
		gm_munmap_chunk(&g, oldp);
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
	gm_maybe_init_tcache(&g);
	oldtop = av_top(&g);
	oldtopsize = chunksize(&g, oldtop);
	mem = gm_int_malloc(&g, sz);
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
	m = gm_int_malloc(g, nb + alignment + GM_MINSIZE);
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
			gm_untrack_mmapped(g, p);
			gm_track_mmapped(g, newp);
			return newp + GM_CHUNK_HDR_SZ;
		}
		set_head(g, newp, newsize | GM_PREV_INUSE);
		set_inuse_bit_at_offset(g, newp, newsize);
		set_head_size(g, p, leadsize);
		heap_ev(g, "_int_memalign", "leader given back", p, leadsize);
		gm_int_free(g, p, true);
		p = newp;
	}
	if (!(size_nomask(g, p) & GM_IS_MMAPPED)) {
		size = chunksize(g, p);
		if (size > nb + GM_MINSIZE) {
			vaddr_t remainder = p + nb;

			set_head(g, remainder, (size - nb) | GM_PREV_INUSE);
			set_head_size(g, p, nb);
			heap_ev(g, "_int_memalign", "trailer given back", remainder, size - nb);
			gm_int_free(g, remainder, true);
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
