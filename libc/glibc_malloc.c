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

#include "../vm/hostmem.h"

/* ---- setup ---------------------------------------------------------------- */

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
	hostmem_free(pv->mmapped);
	hostmem_free(pv->segs);
	hostmem_free(pv);
	lc->priv = NULL;
}

/* A copy of n addresses (NULL for none). */
static vaddr_t *dup_addrs(const vaddr_t *a, size_t n)
{
	vaddr_t *c;

	if (!n)
		return NULL;
	c = hostmem_malloc(n * sizeof(*c));
	if (!c)
		host_oom("a copy of the mmapped chunks");
	memcpy(c, a, n * sizeof(*c));
	return c;
}

/* The host-side lists follow the process into its child: after fork the
   child's heap holds the same mmapped chunks and segments (copies). */
void glibc_malloc_fork(struct libc *child, const struct libc *parent)
{
	const struct glibc_priv *pv = parent->priv;
	struct glibc_priv *c;

	child->priv = NULL;
	if (parent->ops != &malloc_ops_glibc || !pv)
		return;
	c = hostmem_calloc(1, sizeof(*c));
	if (!c)
		host_oom("glibc's private state");
	c->mmapped = dup_addrs(pv->mmapped, pv->nr_mmapped);
	c->nr_mmapped = c->cap_mmapped = pv->nr_mmapped;
	c->segs = dup_addrs(pv->segs, pv->nr_segs);
	c->nr_segs = c->cap_segs = pv->nr_segs;
	child->priv = c;
}

/* ---- the public entry points ---------------------------------------------- */

/* __libc_malloc: tcache first, then _int_malloc on main_arena while the
   program has one thread, else on the thread's arena (arena_get). */
static vaddr_t glibc_malloc(struct libc *lc, uint64_t bytes)
{
	struct gm g;
	vaddr_t victim, av;
	uint64_t tbytes;
	size_t tc_idx;

	gm_enter(&g, lc);
	probe_call(g.pr, LAYER_LIBC, "__libc_malloc", {"bytes", bytes});
	gm_ptmalloc_init(&g);
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
	if (single_thread_p(&g)) {
		g.av = g.main;
		victim = gm_int_malloc(&g, bytes);
		goto out;
	}
	av = gm_arena_get(&g, bytes);
	victim = gm_int_malloc(&g, bytes);
	if (!victim && av) { /* retry in another arena */
		av = gm_arena_get_retry(&g, bytes);
		victim = gm_int_malloc(&g, bytes);
	}
	if (av)
		unlock(&g, av + AV_MUTEX);
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
		g->av = arena_for_chunk(g, p);
		gm_int_free(g, p, false);
	}
}

void gm_libc_free(struct gm *g, vaddr_t mem)
{
	probe_call(g->pr, LAYER_LIBC, "__libc_free", {"mem", mem});
	libc_free_body(g, mem);
	probe_ret(g->pr, LAYER_LIBC, "__libc_free");
}

/* __libc_free (free(NULL) is filtered by libc_free) */
static void glibc_free(struct libc *lc, vaddr_t mem)
{
	struct gm g;

	gm_enter(&g, lc);
	gm_libc_free(&g, mem);
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
			set_head_size(g, oldp, nb | arena_bit(g));
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
		set_head_size(g, newp, newsize | arena_bit(g));
		set_inuse_bit_at_offset(g, newp, newsize);
	} else {
		vaddr_t remainder = newp + nb;

		set_head_size(g, newp, nb | arena_bit(g));
		set_head(g, remainder, remainder_size | GM_PREV_INUSE | arena_bit(g));
		set_inuse_bit_at_offset(g, remainder, remainder_size);
		heap_ev(g, "_int_realloc", "tail split off", remainder, remainder_size);
		gm_int_free(g, remainder, true);
	}
	return newp + GM_CHUNK_HDR_SZ;
}

static vaddr_t int_realloc_call(struct gm *g, vaddr_t oldp, uint64_t oldsize, uint64_t nb)
{
	vaddr_t ret;

	probe_call(g->pr, LAYER_LIBC, "_int_realloc", {"chunk", oldp}, {"nb", nb});
	ret = int_realloc(g, oldp, oldsize, nb);
	probe_ret(g->pr, LAYER_LIBC, "_int_realloc", {"ret", ret});
	return ret;
}

/* __libc_realloc (libc_realloc has handled oldmem == 0 and bytes == 0). A
   chunk of the heap is resized in its own arena. */
static vaddr_t glibc_realloc(struct libc *lc, vaddr_t oldmem, uint64_t bytes)
{
	struct gm g;
	vaddr_t oldp = oldmem - GM_CHUNK_HDR_SZ, ret = 0, ar_ptr;
	uint64_t oldsize, nb;

	gm_enter(&g, lc);
	probe_call(g.pr, LAYER_LIBC, "__libc_realloc", {"oldmem", oldmem}, {"bytes", bytes});
	gm_ptmalloc_init(&g);
	oldsize = chunksize(&g, oldp);
	if (!(size_nomask(&g, oldp) & GM_IS_MMAPPED)) {
		gm_maybe_init_tcache(&g);
		g.av = arena_for_chunk(&g, oldp);
	}
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
	if (single_thread_p(&g)) {
		ret = int_realloc_call(&g, oldp, oldsize, nb);
		goto out;
	}
	ar_ptr = g.av;
	lock(&g, ar_ptr + AV_MUTEX);
	ret = int_realloc_call(&g, oldp, oldsize, nb);
	unlock(&g, ar_ptr + AV_MUTEX);
	if (ret == 0) { /* try harder, in other arenas */
		ret = glibc_malloc(lc, bytes);
		if (ret) {
			libc_memcpy(lc, ret, oldmem, oldsize - GM_SIZE_SZ);
			g.av = ar_ptr;
			gm_int_free(&g, oldp, false);
		}
	}
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
	vaddr_t oldtop = 0, mem = 0, p, av;
	uint64_t sz = n * elem, oldtopsize = 0, csz;
	bool single;

	gm_enter(&g, lc);
	probe_call(g.pr, LAYER_LIBC, "__libc_calloc", {"bytes", sz});
	if (sz > (uint64_t)INT64_MAX) {
		lc->errno_ = SIM_ENOMEM;
		goto out;
	}
	gm_ptmalloc_init(&g);
	gm_maybe_init_tcache(&g);
	single = single_thread_p(&g);
	av = single ? (g.av = g.main) : gm_arena_get(&g, sz);
	if (av) {
		oldtop = av_top(&g);
		oldtopsize = chunksize(&g, oldtop);
		if (av != g.main) {
			/* a heap's part beyond its mprotect_size is fresh too */
			vaddr_t heap = heap_for_ptr(oldtop);
			uint64_t fresh = heap + ld(&g, heap + HI_MPROTECT_SIZE) - oldtop;

			if (oldtopsize < fresh)
				oldtopsize = fresh;
		}
	}
	mem = gm_int_malloc(&g, sz);
	if (!single) {
		if (mem == 0 && av) {
			av = gm_arena_get_retry(&g, sz);
			mem = gm_int_malloc(&g, sz);
		}
		if (av)
			unlock(&g, av + AV_MUTEX);
	}
	if (mem == 0)
		goto out;
	p = mem - GM_CHUNK_HDR_SZ;
	csz = chunksize(&g, p);
	if (size_nomask(&g, p) & GM_IS_MMAPPED) {
		if (ld32(&g, g.gs + GS_PERTURB)) { /* the perturb byte went in */
			libc_memset(lc, mem, 0, sz);
			goto out;
		}
		EV(g.pr, LAYER_LIBC, EV_HEAP, "__libc_calloc", "mmapped: not cleared", {"chunk", p},
		   {"size", csz});
		goto out;
	}
	if (ld32(&g, g.gs + GS_PERTURB) == 0 && p == oldtop && csz > oldtopsize)
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
		set_head(g, newp, newsize | GM_PREV_INUSE | arena_bit(g));
		set_inuse_bit_at_offset(g, newp, newsize);
		set_head_size(g, p, leadsize | arena_bit(g));
		heap_ev(g, "_int_memalign", "leader given back", p, leadsize);
		gm_int_free(g, p, true);
		p = newp;
	}
	if (!(size_nomask(g, p) & GM_IS_MMAPPED)) {
		size = chunksize(g, p);
		if (size > nb + GM_MINSIZE) {
			vaddr_t remainder = p + nb;

			set_head(g, remainder, (size - nb) | GM_PREV_INUSE | arena_bit(g));
			set_head_size(g, p, nb);
			heap_ev(g, "_int_memalign", "trailer given back", remainder, size - nb);
			gm_int_free(g, remainder, true);
		}
	}
	return p + GM_CHUNK_HDR_SZ;
}

static vaddr_t int_memalign_call(struct gm *g, uint64_t alignment, uint64_t bytes)
{
	vaddr_t ret;

	probe_call(g->pr, LAYER_LIBC, "_int_memalign", {"alignment", alignment}, {"bytes", bytes});
	ret = int_memalign(g, alignment, bytes);
	probe_ret(g->pr, LAYER_LIBC, "_int_memalign", {"ret", ret});
	return ret;
}

/* _mid_memalign (posix_memalign has checked the alignment) */
static vaddr_t glibc_memalign(struct libc *lc, uint64_t alignment, uint64_t bytes)
{
	struct gm g;
	vaddr_t ret, av;

	if (alignment <= GM_MALLOC_ALIGNMENT)
		return glibc_malloc(lc, bytes);
	gm_enter(&g, lc);
	probe_call(g.pr, LAYER_LIBC, "_mid_memalign", {"alignment", alignment}, {"bytes", bytes});
	gm_ptmalloc_init(&g);
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
	if (single_thread_p(&g)) {
		g.av = g.main;
		ret = int_memalign_call(&g, alignment, bytes);
		goto out;
	}
	av = gm_arena_get(&g, bytes + alignment + GM_MINSIZE);
	ret = int_memalign_call(&g, alignment, bytes);
	if (!ret && av) {
		av = gm_arena_get_retry(&g, bytes);
		ret = int_memalign_call(&g, alignment, bytes);
	}
	if (av)
		unlock(&g, av + AV_MUTEX);
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
