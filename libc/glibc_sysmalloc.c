/*
 * glibc_sysmalloc.c - glibc 2.36's traffic with the kernel (malloc/malloc.c:
 * sysmalloc with sysmalloc_mmap and the mmap fallback, systrim,
 * munmap_chunk, mremap_chunk; malloc/morecore.c __glibc_morecore): the heap
 * grows with sbrk by the request plus top_pad, large requests get mappings
 * of their own, a large free top shrinks the break again. The host-side
 * lists of mmapped chunks and heap segments (struct glibc_priv) are kept
 * here, where those are made; only walk() and check() read them.
 */
#include <stdlib.h>

#include "../vm/hostmem.h"
#include "glibc_internal.h"

/* ---- host-side bookkeeping (walk/check only) ---------------------------- */

static struct glibc_priv *priv_get(struct gm *g)
{
	if (!g->lc->priv) {
		g->lc->priv = hostmem_calloc(1, sizeof(struct glibc_priv));
		if (!g->lc->priv)
			host_oom("glibc's private state");
	}
	return g->lc->priv;
}

static void priv_put(struct gm *g)
{
	struct glibc_priv *pv = g->lc->priv;

	if (pv && pv->nr_mmapped == 0 && pv->nr_segs == 0) {
		hostmem_free(pv->mmapped);
		hostmem_free(pv->segs);
		hostmem_free(pv);
		g->lc->priv = NULL;
	}
}

void gm_track_mmapped(struct gm *g, vaddr_t p)
{
	struct glibc_priv *pv = priv_get(g);

	if (pv->nr_mmapped == pv->cap_mmapped)
		GROW_ARRAY(pv->mmapped, pv->cap_mmapped, 16);
	pv->mmapped[pv->nr_mmapped++] = p;
}

void gm_untrack_mmapped(struct gm *g, vaddr_t p)
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

void gm_track_segment(struct gm *g, vaddr_t start)
{
	struct glibc_priv *pv = priv_get(g);

	if (pv->nr_segs == pv->cap_segs)
		GROW_ARRAY(pv->segs, pv->cap_segs, 8);
	pv->segs[pv->nr_segs++] = start;
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
	gm_track_mmapped(g, mm);
	heap_ev(g, "sysmalloc_mmap", "mmapped chunk", mm, size);
out:
	probe_ret(g->pr, LAYER_LIBC, "sysmalloc_mmap", {"ret", mm});
	return mm ? mm + GM_CHUNK_HDR_SZ : 0;
}

/*
 * sysmalloc's part for a non-main arena: grow the heap of its top
 * (grow_heap), else start a new heap for it (new_heap) behind a fencepost
 * that closes the old one, the old top freed; else, when it was not tried,
 * an mmapped chunk. Returns that chunk's user pointer, else 0 (the new top
 * is carved by the caller, which fails if it is still too small).
 */
static vaddr_t sysmalloc_heap(struct gm *g, uint64_t nb, vaddr_t old_top, uint64_t old_size,
                              bool tried_mmap)
{
	vaddr_t old_heap = heap_for_ptr(old_top), heap;
	uint64_t old_heap_size = ld(g, old_heap + HI_SIZE);

	if ((int64_t)(GM_MINSIZE + nb - old_size) > 0 &&
	    gm_grow_heap(g, old_heap, (int64_t)(GM_MINSIZE + nb - old_size)) == 0) {
		uint64_t hsize = ld(g, old_heap + HI_SIZE);

		st(g, g->av + AV_SYSTEM_MEM, system_mem(g) + hsize - old_heap_size);
		set_head(g, old_top, (old_heap + hsize - old_top) | GM_PREV_INUSE);
		heap_ev(g, "sysmalloc", "top grown", old_top, old_heap + hsize - old_top);
	} else if ((heap = gm_new_heap(g, nb + GM_MINSIZE + HI_SIZEOF, mp_get(g, MP_TOP_PAD)))) {
		uint64_t hsize = ld(g, heap + HI_SIZE);

		st(g, heap + HI_AR_PTR, g->av);
		st(g, heap + HI_PREV, old_heap);
		st(g, g->av + AV_SYSTEM_MEM, system_mem(g) + hsize);
		set_av_top(g, heap + HI_SIZEOF);
		set_head(g, heap + HI_SIZEOF, (hsize - HI_SIZEOF) | GM_PREV_INUSE);
		heap_ev(g, "sysmalloc", "new top in a new heap", heap + HI_SIZEOF, hsize - HI_SIZEOF);
		/* the fencepost takes MINSIZE bytes: it may become top again */
		old_size = (old_size - GM_MINSIZE) & ~GM_MALLOC_ALIGN_MASK;
		set_head(g, old_top + old_size + GM_CHUNK_HDR_SZ, 0 | GM_PREV_INUSE);
		if (old_size >= GM_MINSIZE) {
			set_head(g, old_top + old_size, GM_CHUNK_HDR_SZ | GM_PREV_INUSE);
			set_foot(g, old_top + old_size, GM_CHUNK_HDR_SZ);
			set_head(g, old_top, old_size | GM_PREV_INUSE | GM_NON_MAIN_ARENA);
			gm_int_free(g, old_top, true);
		} else {
			set_head(g, old_top, (old_size + GM_CHUNK_HDR_SZ) | GM_PREV_INUSE);
			set_foot(g, old_top, old_size + GM_CHUNK_HDR_SZ);
		}
	} else if (!tried_mmap) {
		return sysmalloc_mmap(g, nb);
	}
	return 0;
}

/* sysmalloc: the top chunk cannot serve nb. Mmap the request when it is
   above the threshold, else grow the heap with MORECORE (sbrk) by
   nb + top_pad + MINSIZE less what top already has, whole pages; fall back
   to an mmapped segment of at least 1 MiB when sbrk fails. */
vaddr_t gm_sysmalloc(struct gm *g, uint64_t nb)
{
	const uint64_t pagesize = PAGE_SIZE;
	vaddr_t old_top, old_end, brk = 0, snd_brk = 0, ret = 0;
	uint64_t old_size, size;
	bool tried_mmap = false;

	probe_call(g->pr, LAYER_LIBC, "sysmalloc", {"nb", nb});
	if (g->av == 0 || (nb >= mp_get(g, MP_MMAP_THRESHOLD) &&
	                   mp_get_int(g, MP_N_MMAPS) < mp_get_int(g, MP_N_MMAPS_MAX))) {
		ret = sysmalloc_mmap(g, nb);
		if (ret)
			goto out;
		tried_mmap = true;
	}
	if (g->av == 0) /* no usable arena, and mmap failed too */
		goto out;
	old_top = av_top(g);
	old_size = chunksize(g, old_top);
	old_end = old_top + old_size;

	if (g->av != g->main) {
		ret = sysmalloc_heap(g, nb, old_top, old_size, tried_mmap);
		if (ret)
			goto out;
		goto alloc;
	}

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
				gm_track_segment(g, aligned_brk);
			}
			if (snd_brk != 0) {
				/* A foreign sbrk came between (contiguous, but not at
				   old_end): the new top starts a segment of its own,
				   behind the fenceposts set below. */
				if (contiguous(g) && old_size != 0)
					gm_track_segment(g, aligned_brk);
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
						gm_int_free(g, old_top, true);
				}
			}
		}
	}
alloc:
	if (system_mem(g) > ld(g, g->av + AV_MAX_SYSTEM_MEM))
		st(g, g->av + AV_MAX_SYSTEM_MEM, system_mem(g));

	/* finally, do the allocation */
	{
		vaddr_t p = av_top(g);
		uint64_t sz = chunksize(g, p);

		if (sz >= nb + GM_MINSIZE) {
			set_av_top(g, p + nb);
			set_head(g, p, nb | GM_PREV_INUSE | arena_bit(g));
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
int gm_systrim(struct gm *g, uint64_t pad)
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
void gm_munmap_chunk(struct gm *g, vaddr_t p)
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
	gm_untrack_mmapped(g, p);
	heap_ev(g, "munmap_chunk", "mmapped chunk unmapped", p, total);
	libc_munmap(g->lc, block, total);
	probe_ret(g->pr, LAYER_LIBC, "munmap_chunk");
}

/*
 * mremap_chunk: resize an mmapped chunk to hold nb with mremap (MREMAP_MAYMOVE):
 * the pages move with their contents, no copy and no fault. The chunk, or 0
 * when mremap failed (the caller falls back to malloc-copy-free).
 */
vaddr_t gm_mremap_chunk(struct gm *g, vaddr_t p, uint64_t nb)
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
	gm_untrack_mmapped(g, p);
	p = cp + offset;
	set_head(g, p, (new_size - offset) | GM_IS_MMAPPED);
	sum = mp_get(g, MP_MMAPPED_MEM) + new_size - total;
	mp_set(g, MP_MMAPPED_MEM, sum);
	if (sum > mp_get(g, MP_MAX_MMAPPED_MEM))
		mp_set(g, MP_MAX_MMAPPED_MEM, sum);
	gm_track_mmapped(g, p);
	heap_ev(g, "mremap_chunk", "mmapped chunk remapped", p, new_size - offset);
out:
	probe_ret(g->pr, LAYER_LIBC, "mremap_chunk", {"ret", p});
	return p;
}
