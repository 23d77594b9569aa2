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

/* tcache_init: the thread's tcache_perthread_struct, the first chunk it
   takes from its arena (arena_get: a thread's first malloc chooses its
   arena here). Not once the thread is shutting down. */
static void tcache_init(struct gm *g)
{
	vaddr_t victim = 0, av;

	if (ld32(g, g->tls + TLS_SHUTTING_DOWN))
		return;
	probe_call(g->pr, LAYER_LIBC, "tcache_init");
	av = gm_arena_get(g, TC_SIZEOF);
	victim = gm_int_malloc(g, TC_SIZEOF);
	if (!victim && av) {
		av = gm_arena_get_retry(g, TC_SIZEOF);
		victim = gm_int_malloc(g, TC_SIZEOF);
	}
	if (av)
		unlock(g, av + AV_MUTEX);
	if (victim) {
		st(g, g->tls + TLS_TCACHE, victim);
		libc_memset(g->lc, victim, 0, TC_SIZEOF);
	}
	probe_ret(g->pr, LAYER_LIBC, "tcache_init", {"tcache", victim});
}

void gm_maybe_init_tcache(struct gm *g)
{
	if (tcache_ptr(g) == 0)
		tcache_init(g);
}

/* tcache_thread_shutdown: every cached chunk and the tcache itself go back
   to their arenas (__libc_free, the tcache disabled first). */
void gm_tcache_thread_shutdown(struct gm *g)
{
	vaddr_t tc = tcache_ptr(g);

	st32(g, g->tls + TLS_SHUTTING_DOWN, 1);
	if (!tc)
		return;
	probe_call(g->pr, LAYER_LIBC, "tcache_thread_shutdown", {"tcache", tc});
	st(g, g->tls + TLS_TCACHE, 0);
	for (unsigned i = 0; i < GM_TCACHE_MAX_BINS; i++) {
		vaddr_t slot = tc + TC_ENTRIES + 8ULL * i, e;

		while ((e = ld(g, slot)) != 0) {
			libc_step(g->lc);
			if (misaligned(e))
				printerr(g, "tcache_thread_shutdown(): unaligned tcache chunk detected");
			st(g, slot, protect_ptr(e, ld(g, e)));
			gm_libc_free(g, e);
		}
	}
	gm_libc_free(g, tc);
	probe_ret(g->pr, LAYER_LIBC, "tcache_thread_shutdown");
}
