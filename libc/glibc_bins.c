/*
 * glibc_bins.c - how glibc 2.36 keeps and finds free chunks (malloc/malloc.c:
 * unlink_chunk, malloc_consolidate, _int_malloc, _int_free): fastbins, the
 * unsorted bin, 62 small bins, 63 large bins sorted through their
 * fd_nextsize/bk_nextsize skip lists, the binmap, and the top chunk; each
 * of glibc's integrity checks aborts as glibc's malloc_printerr does. Each
 * iteration of a walk over a list the program can corrupt into a cycle is
 * charged as CPU time (libc_step, libc_walk_step), so RLIMIT_CPU ends such
 * a loop as it ends the real one.
 */
#include <stdlib.h>

#include "glibc_internal.h"

/* ---- bins ------------------------------------------------------------------ */

/* unlink_chunk: take p off its doubly linked bin, fixing the nextsize skip
   list of a large bin. */
void gm_unlink_chunk(struct gm *g, vaddr_t p)
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

void gm_malloc_consolidate(struct gm *g)
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
				gm_unlink_chunk(g, p);
			}
			if (nextchunk != top) {
				vaddr_t first;

				if (!inuse_bit_at_offset(g, nextchunk, nextsize)) {
					size += nextsize;
					gm_unlink_chunk(g, nextchunk);
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
	set_head(g, victim, nb | GM_PREV_INUSE | arena_bit(g));
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

/* What _int_malloc returns for victim: chunk2mem, filled by alloc_perturb. */
static vaddr_t chunk_out(struct gm *g, vaddr_t victim, uint64_t bytes)
{
	alloc_perturb(g, victim + GM_CHUNK_HDR_SZ, bytes);
	return victim + GM_CHUNK_HDR_SZ;
}

static vaddr_t int_malloc_body(struct gm *g, uint64_t bytes, uint64_t nb)
{
	vaddr_t tc = tcache_ptr(g);
	unsigned idx;
	vaddr_t victim, bin;
	uint64_t size;

	if (g->av == 0) { /* no usable arena: sysmalloc mmaps */
		victim = gm_sysmalloc(g, nb);
		if (victim)
			alloc_perturb(g, victim, bytes);
		return victim;
	}

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
					gm_tcache_put(g, tcv, tc_idx);
				}
			}
			return chunk_out(g, victim, bytes);
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
			set_non_main_arena(g, victim);
			heap_ev(g, "_int_malloc", "from small bin", victim, nb);
			size_t tc_idx = gm_csize2tidx(nb);
			if (tc && tc_idx < mp_get(g, MP_TCACHE_BINS)) {
				vaddr_t tcv;

				while (tc_count(g, tc, tc_idx) < mp_get(g, MP_TCACHE_COUNT) &&
				       (tcv = bk_of(g, bin)) != bin) {
					bck = bk_of(g, tcv);
					set_inuse_bit_at_offset(g, tcv, nb);
					set_non_main_arena(g, tcv);
					set_bk(g, bin, bck);
					set_fd(g, bck, bin);
					gm_tcache_put(g, tcv, tc_idx);
				}
			}
			return chunk_out(g, victim, bytes);
		}
	} else {
		idx = gm_largebin_index(nb);
		if (have_fastchunks(g))
			gm_malloc_consolidate(g);
	}

	uint64_t tcache_nb = 0;
	size_t tc_idx = gm_csize2tidx(nb);
	bool return_cached = false;
	uint64_t tcache_unsorted_count = 0;

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
				set_head(g, victim, nb | GM_PREV_INUSE | arena_bit(g));
				set_head(g, remainder, remainder_size | GM_PREV_INUSE);
				set_foot(g, remainder, remainder_size);
				heap_ev(g, "_int_malloc", "split last remainder", victim, nb);
				return chunk_out(g, victim, bytes);
			}

			/* remove from the unsorted list */
			set_bk(g, ub, bck);
			set_fd(g, bck, ub);

			if (size == nb) {
				set_inuse_bit_at_offset(g, victim, size);
				set_non_main_arena(g, victim);
				if (tcache_nb > 0 &&
				    tc_count(g, tc, tc_idx) < mp_get(g, MP_TCACHE_COUNT)) {
					/* fill the cache first, return one of them later */
					gm_tcache_put(g, victim, tc_idx);
					return_cached = true;
					continue;
				}
				heap_ev(g, "_int_malloc", "exact fit from unsorted", victim, nb);
				return chunk_out(g, victim, bytes);
			}
			bin_chunk(g, victim, size);
			/* as many chunks processed as allowed while filling the cache
			   (tcache_unsorted_limit, 0 by default: no limit): return a
			   cached one */
			++tcache_unsorted_count;
			if (return_cached && mp_get(g, MP_TCACHE_UNSORTED_LIMIT) > 0 &&
			    tcache_unsorted_count > mp_get(g, MP_TCACHE_UNSORTED_LIMIT))
				return gm_tcache_get(g, tc_idx);
			if (++iters >= 10000)
				break;
		}

		if (return_cached)
			return gm_tcache_get(g, tc_idx);

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
				gm_unlink_chunk(g, victim);
				if (remainder_size < GM_MINSIZE) {
					set_inuse_bit_at_offset(g, victim, size);
					set_non_main_arena(g, victim);
				} else
					split_to_unsorted(g, victim, size, nb,
					                  "malloc(): corrupted unsorted chunks",
					                  false);
				heap_ev(g, "_int_malloc", "best fit from large bin", victim, nb);
				return chunk_out(g, victim, bytes);
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

				gm_unlink_chunk(g, victim);
				if (remainder_size < GM_MINSIZE) {
					set_inuse_bit_at_offset(g, victim, size);
					set_non_main_arena(g, victim);
				} else
					split_to_unsorted(g, victim, size, nb,
					                  "malloc(): corrupted unsorted chunks 2",
					                  gm_in_smallbin_range(nb));
				heap_ev(g, "_int_malloc", "from a larger bin (binmap)", victim, nb);
				return chunk_out(g, victim, bytes);
			}
		}

	use_top:
		victim = av_top(g);
		size = chunksize(g, victim);
		if (size > system_mem(g))
			printerr(g, "malloc(): corrupted top size");
		if (size >= nb + GM_MINSIZE) {
			set_av_top(g, victim + nb);
			set_head(g, victim, nb | GM_PREV_INUSE | arena_bit(g));
			set_head(g, victim + nb, (size - nb) | GM_PREV_INUSE);
			heap_ev(g, "_int_malloc", "split from top", victim, nb);
			return chunk_out(g, victim, bytes);
		} else if (have_fastchunks(g)) {
			gm_malloc_consolidate(g);
			idx = gm_bin_index(nb);
		} else {
			victim = gm_sysmalloc(g, nb);
			if (victim)
				alloc_perturb(g, victim, bytes);
			return victim;
		}
	}
}

vaddr_t gm_int_malloc(struct gm *g, uint64_t bytes)
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
			gm_tcache_put(g, p, tc_idx);
			return;
		}
	}

	if (size <= ld(g, g->gs + GS_MAX_FAST)) {
		vaddr_t next = p + size;
		unsigned idx;
		vaddr_t fb, old;

		if (size_nomask(g, next) <= GM_CHUNK_HDR_SZ || chunksize(g, next) >= system_mem(g)) {
			/* without the lock, the test is made again with it */
			if (!have_lock) {
				lock(g, g->av + AV_MUTEX);
				unlock(g, g->av + AV_MUTEX);
			}
			printerr(g, "free(): invalid next size (fast)");
		}
		free_perturb(g, p + GM_CHUNK_HDR_SZ, size - GM_CHUNK_HDR_SZ);
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
		vaddr_t top, nextchunk = p + size;
		uint64_t nextsize;

		if (single_thread_p(g))
			have_lock = true;
		if (!have_lock)
			lock(g, g->av + AV_MUTEX);
		top = av_top(g);

		if (p == top)
			printerr(g, "double free or corruption (top)");
		if (contiguous(g) && nextchunk >= top + chunksize(g, top))
			printerr(g, "double free or corruption (out)");
		if (!(size_nomask(g, nextchunk) & GM_PREV_INUSE))
			printerr(g, "double free or corruption (!prev)");
		nextsize = chunksize(g, nextchunk);
		if (size_nomask(g, nextchunk) <= GM_CHUNK_HDR_SZ || nextsize >= system_mem(g))
			printerr(g, "free(): invalid next size (normal)");
		free_perturb(g, p + GM_CHUNK_HDR_SZ, size - GM_CHUNK_HDR_SZ);

		if (!(size_nomask(g, p) & GM_PREV_INUSE)) {
			uint64_t prevsize = prev_size(g, p);

			size += prevsize;
			p -= prevsize;
			if (chunksize(g, p) != prevsize)
				printerr(g, "corrupted size vs. prev_size while consolidating");
			gm_unlink_chunk(g, p);
			heap_ev(g, "_int_free", "coalesced with previous", p, size);
		}
		if (nextchunk != top) {
			if (!inuse_bit_at_offset(g, nextchunk, nextsize)) {
				gm_unlink_chunk(g, nextchunk);
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
				gm_malloc_consolidate(g);
			if (g->av == g->main) {
				if (chunksize(g, av_top(g)) >= mp_get(g, MP_TRIM_THRESHOLD))
					gm_systrim(g, mp_get(g, MP_TOP_PAD));
			} else {
				/* always: the heap may go away even if top is small */
				vaddr_t heap = heap_for_ptr(av_top(g));

				if (ld(g, heap + HI_AR_PTR) != g->av)
					malloc_assert(g, "_int_free", "heap->ar_ptr == av");
				gm_heap_trim(g, heap, mp_get(g, MP_TOP_PAD));
			}
		}
		if (!have_lock)
			unlock(g, g->av + AV_MUTEX);
	} else {
		gm_munmap_chunk(g, p);
	}
}

void gm_int_free(struct gm *g, vaddr_t p, bool have_lock)
{
	probe_call(g->pr, LAYER_LIBC, "_int_free", {"chunk", p});
	int_free_body(g, p, have_lock);
	probe_ret(g->pr, LAYER_LIBC, "_int_free");
}
