/*
 * glibc_internal.h - what the files of the `glibc` policy share: struct gm
 * (the policy's view of one call: its libc, probe and the addresses of
 * main_arena, mp_ and the other statics), the loads and stores of chunk
 * fields, bins and tcache counts through the MMU (malloc.c's macros:
 * chunksize, set_head, fd/bk, inuse_bit_at_offset, PROTECT_PTR, ...), and
 * the functions of malloc/malloc.c one file calls in another. Not for use
 * outside libc/glibc_*.c: the public view is glibc_malloc.h.
 *
 * The files, one concept each, as malloc/malloc.c's sections:
 *   glibc_malloc.c     the entry points (__libc_malloc, __libc_free, realloc,
 *                      calloc, memalign, malloc_usable_size), ptmalloc_init
 *   glibc_tcache.c     the per-thread cache (tcache_get, tcache_put, tcache_init)
 *   glibc_bins.c       the bins: _int_malloc, _int_free, malloc_consolidate
 *   glibc_sysmalloc.c  memory from the kernel and back: sysmalloc, systrim,
 *                      munmap_chunk, mremap_chunk
 *   glibc_check.c      the walker, checker and dump (read-only)
 */
#ifndef LIBC_GLIBC_INTERNAL_H
#define LIBC_GLIBC_INTERNAL_H

#include "glibc_malloc.h"

#include "../kernel_sim/syscalls.h"
#include "../vm/panic.h"

/*
 * One call into the policy. av is the arena the call works on now: glibc's
 * `mstate av` argument, passed here in the struct (set by the entry points,
 * arena_get, and __libc_free to the chunk's arena). tls is the running
 * thread's TLS block (its tcache and thread_arena).
 */
struct gm {
	struct libc *lc;
	struct probe *pr;
	vaddr_t av, mp, gs, tls;
	vaddr_t main; /* &main_arena */
};

static inline void gm_enter(struct gm *g, struct libc *lc)
{
	g->lc = lc;
	g->pr = &lc->k->probe;
	g->main = g->av = gm_main_arena(lc);
	g->mp = gm_mp(lc);
	g->gs = gm_statics(lc);
	g->tls = libc_tls(lc);
}

/* ---- memory ------------------------------------------------------------ */

static inline uint64_t ld(struct gm *g, vaddr_t a)
{
	return libc_ld64(g->lc, a);
}

static inline void st(struct gm *g, vaddr_t a, uint64_t v)
{
	libc_st64(g->lc, a, v);
}

static inline uint32_t ld32(struct gm *g, vaddr_t a)
{
	return libc_ld32(g->lc, a);
}

static inline void st32(struct gm *g, vaddr_t a, uint32_t v)
{
	libc_st32(g->lc, a, v);
}

_Noreturn static inline void printerr(struct gm *g, const char *msg)
{
	libc_malloc_printerr(g->lc, msg);
}

/* glibc's assert() inside malloc (__malloc_assert): the message, then abort. */
_Noreturn static inline void malloc_assert(struct gm *g, const char *fn, const char *assertion)
{
	char msg[200];

	snprintf(msg, sizeof(msg), "Fatal glibc error: malloc assertion failure in %s: %s", fn,
	         assertion);
	printerr(g, msg);
}

/* chunk fields */
static inline uint64_t prev_size(struct gm *g, vaddr_t p)
{
	return ld(g, p);
}
static inline void set_prev_size(struct gm *g, vaddr_t p, uint64_t v)
{
	st(g, p, v);
}
static inline uint64_t size_nomask(struct gm *g, vaddr_t p)
{
	return ld(g, p + 8);
}
static inline uint64_t chunksize(struct gm *g, vaddr_t p)
{
	return ld(g, p + 8) & ~GM_SIZE_BITS;
}
static inline void set_head(struct gm *g, vaddr_t p, uint64_t v)
{
	st(g, p + 8, v);
}
static inline void set_foot(struct gm *g, vaddr_t p, uint64_t s)
{
	st(g, p + s, s);
}
static inline vaddr_t fd_of(struct gm *g, vaddr_t p)
{
	return ld(g, p + 16);
}
static inline vaddr_t bk_of(struct gm *g, vaddr_t p)
{
	return ld(g, p + 24);
}
static inline void set_fd(struct gm *g, vaddr_t p, vaddr_t v)
{
	st(g, p + 16, v);
}
static inline void set_bk(struct gm *g, vaddr_t p, vaddr_t v)
{
	st(g, p + 24, v);
}
static inline vaddr_t fdn_of(struct gm *g, vaddr_t p)
{
	return ld(g, p + 32);
}
static inline vaddr_t bkn_of(struct gm *g, vaddr_t p)
{
	return ld(g, p + 40);
}
static inline void set_fdn(struct gm *g, vaddr_t p, vaddr_t v)
{
	st(g, p + 32, v);
}
static inline void set_bkn(struct gm *g, vaddr_t p, vaddr_t v)
{
	st(g, p + 40, v);
}

static inline void set_head_size(struct gm *g, vaddr_t p, uint64_t s)
{
	st(g, p + 8, (ld(g, p + 8) & GM_SIZE_BITS) | s);
}

static inline bool inuse_bit_at_offset(struct gm *g, vaddr_t p, uint64_t s)
{
	return ld(g, p + s + 8) & GM_PREV_INUSE;
}

static inline void set_inuse_bit_at_offset(struct gm *g, vaddr_t p, uint64_t s)
{
	st(g, p + s + 8, ld(g, p + s + 8) | GM_PREV_INUSE);
}

static inline void clear_inuse_bit_at_offset(struct gm *g, vaddr_t p, uint64_t s)
{
	st(g, p + s + 8, ld(g, p + s + 8) & ~GM_PREV_INUSE);
}

static inline bool misaligned(vaddr_t p)
{
	return (p & GM_MALLOC_ALIGN_MASK) != 0;
}

/* Safe-linking (2.32+): PROTECT_PTR(pos, ptr) = (pos >> 12) ^ ptr. */
static inline vaddr_t protect_ptr(vaddr_t pos, vaddr_t ptr)
{
	return (pos >> 12) ^ ptr;
}

/* arena and mp_ fields */
static inline vaddr_t av_top(struct gm *g)
{
	return ld(g, g->av + AV_TOP);
}
static inline void set_av_top(struct gm *g, vaddr_t v)
{
	st(g, g->av + AV_TOP, v);
}
static inline uint64_t system_mem(struct gm *g)
{
	return ld(g, g->av + AV_SYSTEM_MEM);
}
static inline bool contiguous(struct gm *g)
{
	return !(ld32(g, g->av + AV_FLAGS) & GM_NONCONTIGUOUS_BIT);
}
static inline vaddr_t unsorted(struct gm *g)
{
	return gm_bin_at(g->av, 1);
}
static inline vaddr_t fastbin_slot(struct gm *g, unsigned idx)
{
	return g->av + AV_FASTBINS + 8ULL * idx;
}
static inline uint64_t mp_get(struct gm *g, unsigned off)
{
	return ld(g, g->mp + off);
}
static inline void mp_set(struct gm *g, unsigned off, uint64_t v)
{
	st(g, g->mp + off, v);
}
static inline int mp_get_int(struct gm *g, unsigned off)
{
	return (int)ld32(g, g->mp + off);
}
static inline void mp_set_int(struct gm *g, unsigned off, int v)
{
	st32(g, g->mp + off, (uint32_t)v);
}
static inline bool have_fastchunks(struct gm *g)
{
	return ld32(g, g->av + AV_HAVE_FASTCHUNKS) != 0;
}
static inline void set_have_fastchunks(struct gm *g, bool v)
{
	st32(g, g->av + AV_HAVE_FASTCHUNKS, v);
}
static inline vaddr_t tcache_ptr(struct gm *g)
{
	return ld(g, g->tls + TLS_TCACHE);
}

/* SINGLE_THREAD_P: no pthread_create yet (libc's flag in the bss). */
static inline bool single_thread_p(struct gm *g)
{
	return ld32(g, g->lc->data + LD_MULTIPLE_THREADS) == 0;
}

/* The A bit a chunk of the arena in use gets (av != &main_arena). */
static inline uint64_t arena_bit(struct gm *g)
{
	return g->av != g->main ? GM_NON_MAIN_ARENA : 0;
}

static inline void set_non_main_arena(struct gm *g, vaddr_t p)
{
	if (g->av != g->main)
		st(g, p + 8, ld(g, p + 8) | GM_NON_MAIN_ARENA);
}

/* heap_for_ptr: the heap of a non-main arena's chunk, by masking. */
static inline vaddr_t heap_for_ptr(vaddr_t p)
{
	return p & ~(GM_HEAP_MAX_SIZE - 1);
}

/* arena_for_chunk: main_arena, or the arena of the chunk's heap. */
static inline vaddr_t arena_for_chunk(struct gm *g, vaddr_t p)
{
	if (!(ld(g, p + 8) & GM_NON_MAIN_ARENA))
		return g->main;
	return ld(g, heap_for_ptr(p) + HI_AR_PTR);
}

/* __libc_lock_lock / unlock of a mutex word: a locked exchange and a store
   in the real library; stores here (one thread runs at a time). */
static inline void lock(struct gm *g, vaddr_t mutex)
{
	st32(g, mutex, 1);
}
static inline void unlock(struct gm *g, vaddr_t mutex)
{
	st32(g, mutex, 0);
}

/* alloc_perturb, free_perturb: fill with perturb_byte (M_PERTURB). */
static inline void alloc_perturb(struct gm *g, vaddr_t mem, uint64_t n)
{
	uint32_t b = ld32(g, g->gs + GS_PERTURB);

	if (__builtin_expect(b != 0, 0))
		libc_memset(g->lc, mem, (uint8_t)(b ^ 0xff), n);
}
static inline void free_perturb(struct gm *g, vaddr_t mem, uint64_t n)
{
	uint32_t b = ld32(g, g->gs + GS_PERTURB);

	if (__builtin_expect(b != 0, 0))
		libc_memset(g->lc, mem, (uint8_t)b, n);
}

static inline void mark_bin(struct gm *g, unsigned i)
{
	vaddr_t a = g->av + AV_BINMAP + 4ULL * (i >> 5);

	st32(g, a, ld32(g, a) | (1u << (i & 31)));
}

/* tcache counts are uint16_t: a 32-bit read-modify-write of the aligned pair */
static inline unsigned tc_count(struct gm *g, vaddr_t tc, size_t idx)
{
	uint32_t w = ld32(g, tc + TC_COUNTS + ((2 * idx) & ~3ULL));

	return (idx & 1) ? w >> 16 : w & 0xffff;
}

static inline void tc_set_count(struct gm *g, vaddr_t tc, size_t idx, unsigned v)
{
	vaddr_t a = tc + TC_COUNTS + ((2 * idx) & ~3ULL);
	uint32_t w = ld32(g, a);

	w = (idx & 1) ? (w & 0xffff) | (v << 16) : (w & 0xffff0000u) | (v & 0xffff);
	st32(g, a, w);
}

static inline void heap_ev(struct gm *g, const char *fn, const char *text, vaddr_t chunk,
                           uint64_t size)
{
	EV(g->pr, LAYER_LIBC, EV_HEAP, fn, text, {"chunk", chunk}, {"size", size});
}

/* ---- glibc_sysmalloc.c ------------------------------------------------------ */

/* Host-side lists of mmapped chunks and heap segments (struct glibc_priv),
   for walk() and check() only. */
void gm_track_mmapped(struct gm *g, vaddr_t p);
void gm_untrack_mmapped(struct gm *g, vaddr_t p);
void gm_track_segment(struct gm *g, vaddr_t start);

/* sysmalloc: serve nb when top cannot (mmap, or grow the heap). The user
   pointer, or 0 with errno ENOMEM. */
vaddr_t gm_sysmalloc(struct gm *g, uint64_t nb);
/* systrim: give back the top's whole pages beyond pad. 1 if it released. */
int gm_systrim(struct gm *g, uint64_t pad);
/* munmap_chunk: validate and unmap an mmapped chunk (aborts on a bad one). */
void gm_munmap_chunk(struct gm *g, vaddr_t p);
/* mremap_chunk: resize an mmapped chunk to hold nb. The chunk, or 0. */
vaddr_t gm_mremap_chunk(struct gm *g, vaddr_t p, uint64_t nb);

/* ---- glibc_bins.c ------------------------------------------------------------ */

/* unlink_chunk: take p off its bin (aborts on corrupted links). */
void gm_unlink_chunk(struct gm *g, vaddr_t p);
void gm_malloc_consolidate(struct gm *g);
/* _int_malloc: the user pointer, or 0 (errno ENOMEM). */
vaddr_t gm_int_malloc(struct gm *g, uint64_t bytes);
/* _int_free of chunk p (not mmapped by the caller's test, as glibc). */
void gm_int_free(struct gm *g, vaddr_t p, bool have_lock);

/* ---- glibc_malloc.c ------------------------------------------------------------- */

/* __libc_free of mem (not 0) from inside the policy. */
void gm_libc_free(struct gm *g, vaddr_t mem);

/* ---- glibc_tcache.c ------------------------------------------------------------ */

void gm_tcache_put(struct gm *g, vaddr_t chunk, size_t tc_idx);
vaddr_t gm_tcache_get(struct gm *g, size_t tc_idx);
void gm_maybe_init_tcache(struct gm *g);
/* tcache_thread_shutdown: free the thread's cached chunks and its tcache. */
void gm_tcache_thread_shutdown(struct gm *g);

/* ---- glibc_arena.c -------------------------------------------------------------- */

/* ptmalloc_init: the first call of any entry point (tunables applied). */
void gm_ptmalloc_init(struct gm *g);
/* malloc_init_state of g->av: empty bins, initial top. */
void gm_malloc_init_state(struct gm *g);
/* arena_get: the thread's arena, locked, in g->av (arena_get2 on its first
   call); 0 when no arena can be had (then g->av is 0 too). */
vaddr_t gm_arena_get(struct gm *g, uint64_t size);
/* arena_get_retry after a failed allocation in g->av. */
vaddr_t gm_arena_get_retry(struct gm *g, uint64_t bytes);
/* grow_heap, shrink_heap, new_heap, heap_trim (arena.c). */
int gm_grow_heap(struct gm *g, vaddr_t h, int64_t diff);
vaddr_t gm_new_heap(struct gm *g, uint64_t size, uint64_t top_pad);
int gm_heap_trim(struct gm *g, vaddr_t heap, uint64_t pad);
/* __malloc_arena_thread_freeres: the tcache, then the arena to free_list. */
void gm_arena_thread_freeres(struct gm *g);

/* ---- glibc_mallopt.c -------------------------------------------------------------- */

/* ptmalloc_init's TUNABLE_GET calls: the process's glibc.malloc tunables. */
void gm_apply_tunables(struct gm *g);
/* set_max_fast (malloc.c): global_max_fast from an M_MXFAST value. */
void gm_set_max_fast(struct gm *g, uint64_t s);

#endif
