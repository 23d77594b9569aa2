/*
 * glibc_tcache.c - glibc 2.36's per-thread cache (malloc/malloc.c:
 * tcache_put, tcache_get, tcache_init, MAYBE_INIT_TCACHE): 64 bins of up to
 * 7 chunks each, singly linked through the chunks' user data with safe-linking
 * (PROTECT_PTR), in a tcache_perthread_struct that is the heap's first chunk.
 * A cached chunk stays "in use" for the bins: its next chunk keeps P set.
 */
#include "glibc_internal.h"

/* ---- tcache --------------------------------------------------------------- */

void gm_tcache_put(struct gm *g, vaddr_t chunk, size_t tc_idx)
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

vaddr_t gm_tcache_get(struct gm *g, size_t tc_idx)
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

static void tcache_init(struct gm *g)
{
	vaddr_t victim;

	probe_call(g->pr, LAYER_LIBC, "tcache_init");
	victim = gm_int_malloc(g, TC_SIZEOF);
	if (victim) {
		st(g, g->gs + GS_TCACHE, victim);
		libc_memset(g->lc, victim, 0, TC_SIZEOF);
	}
	probe_ret(g->pr, LAYER_LIBC, "tcache_init", {"tcache", victim});
}

void gm_maybe_init_tcache(struct gm *g)
{
	if (tcache_ptr(g) == 0)
		tcache_init(g);
}
