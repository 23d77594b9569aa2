/*
 * glibc_malloc.h - the `glibc` malloc policy: a model of glibc 2.36's
 * ptmalloc2 main arena (malloc/malloc.c, malloc/arena.c, malloc/morecore.c)
 * living in simulated memory. The policy itself is `malloc_ops_glibc`
 * (libc/policies.c); this header shares the memory layout between the
 * allocator (glibc_malloc.c) and its walker and checker (glibc_check.c), and
 * gives tests a few read-only views.
 *
 * Layout, as glibc 2.36 on x86-64 has it (SIZE_SZ 8, MALLOC_ALIGNMENT 16):
 *
 *   chunk:  +0 prev_size (valid only when the previous chunk is free)
 *           +8 size | A(4) | M(2) | P(1)
 *           +16 fd / user data starts here     (chunk2mem = chunk + 16)
 *           +24 bk
 *           +32 fd_nextsize, +40 bk_nextsize   (large free chunks only)
 *
 *   struct malloc_state main_arena (0x898 bytes), in the program's bss:
 *           +0 mutex, +4 flags, +8 have_fastchunks, +16 fastbinsY[10],
 *           +96 top, +104 last_remainder, +112 bins[254], +2144 binmap[4],
 *           +2160 next, +2168 next_free, +2176 attached_threads,
 *           +2184 system_mem, +2192 max_system_mem
 *   bin_at(i) is the fake chunk whose fd/bk are bins[2(i-1)], bins[2(i-1)+1],
 *   i.e. av + 112 + 16 (i-1) - 16; bin 1 is the unsorted bin, 2..63 the small
 *   bins, 64..126 the large bins.
 *
 *   struct tcache_perthread_struct (0x280 bytes, the heap's first chunk):
 *           +0 uint16_t counts[64], +128 tcache_entry *entries[64]
 *   tcache_entry (over the user data of a cached chunk): +0 next (mangled:
 *           PROTECT_PTR(&next, ptr) = (&next >> 12) ^ ptr), +8 key.
 */
#ifndef LIBC_GLIBC_MALLOC_H
#define LIBC_GLIBC_MALLOC_H

#include <stdio.h>

#include "libc.h"

#define GM_SIZE_SZ           8ULL
#define GM_MALLOC_ALIGNMENT  16ULL
#define GM_MALLOC_ALIGN_MASK 15ULL
#define GM_MINSIZE           32ULL
#define GM_CHUNK_HDR_SZ      16ULL

#define GM_PREV_INUSE     0x1ULL
#define GM_IS_MMAPPED     0x2ULL
#define GM_NON_MAIN_ARENA 0x4ULL
#define GM_SIZE_BITS      0x7ULL

#define GM_NBINS             128
#define GM_NSMALLBINS        64
#define GM_MIN_LARGE_SIZE    1024ULL /* NSMALLBINS * SMALLBIN_WIDTH */
#define GM_NFASTBINS         10
#define GM_BINMAPSIZE        4
#define GM_TCACHE_MAX_BINS   64
#define GM_TCACHE_FILL_COUNT 7

#define GM_DEFAULT_MXFAST                  128ULL /* 64 * SIZE_SZ / 4 */
#define GM_DEFAULT_TOP_PAD                 (128ULL * 1024)
#define GM_DEFAULT_MMAP_THRESHOLD          (128ULL * 1024)
#define GM_DEFAULT_MMAP_THRESHOLD_MAX      (32ULL * 1024 * 1024) /* 4 * 1024 * 1024 * sizeof(long) */
#define GM_DEFAULT_TRIM_THRESHOLD          (128ULL * 1024)
#define GM_DEFAULT_MMAP_MAX                65536
#define GM_FASTBIN_CONSOLIDATION_THRESHOLD 65536ULL
#define GM_MMAP_AS_MORECORE_SIZE           (1024ULL * 1024)

/* struct malloc_state offsets */
#define AV_MUTEX             0
#define AV_FLAGS             4
#define AV_HAVE_FASTCHUNKS   8
#define AV_FASTBINS          16
#define AV_TOP               96
#define AV_LAST_REMAINDER    104
#define AV_BINS              112
#define AV_BINMAP            2144
#define AV_NEXT              2160
#define AV_NEXT_FREE         2168
#define AV_ATTACHED_THREADS  2176
#define AV_SYSTEM_MEM        2184
#define AV_MAX_SYSTEM_MEM    2192
#define AV_SIZEOF            2200
#define GM_NONCONTIGUOUS_BIT 2

/* struct malloc_par mp_ offsets (2.36: with thp_pagesize, hp_pagesize) */
#define MP_TRIM_THRESHOLD        0
#define MP_TOP_PAD               8
#define MP_MMAP_THRESHOLD        16
#define MP_ARENA_TEST            24
#define MP_ARENA_MAX             32
#define MP_THP_PAGESIZE          40
#define MP_HP_PAGESIZE           48
#define MP_HP_FLAGS              56 /* int */
#define MP_N_MMAPS               60 /* int */
#define MP_N_MMAPS_MAX           64 /* int */
#define MP_MAX_N_MMAPS           68 /* int */
#define MP_NO_DYN_THRESHOLD      72 /* int */
#define MP_MMAPPED_MEM           80
#define MP_MAX_MMAPPED_MEM       88
#define MP_SBRK_BASE             96
#define MP_TCACHE_BINS           104
#define MP_TCACHE_MAX_BYTES      112
#define MP_TCACHE_COUNT          120
#define MP_TCACHE_UNSORTED_LIMIT 128
#define MP_SIZEOF                136

#define TC_COUNTS  0
#define TC_ENTRIES 128
#define TC_SIZEOF  640

/* The rest of glibc's static data the model keeps in the bss (malloc.c,
   arena.c). Values other than zero are written by ptmalloc_init, as the
   program's data would hold them (the bss is zero until then). */
#define GS_TCACHE_KEY        0  /* static uintptr_t tcache_key */
#define GS_MAX_FAST          8  /* global_max_fast */
#define GS_INITIALIZED       16 /* __malloc_initialized (int) */
#define GS_PERTURB           20 /* perturb_byte (int) */
#define GS_NARENAS           24 /* arena.c's narenas (1 from the start) */
#define GS_FREE_LIST         32 /* arena.c's free_list: arenas no thread is attached to */
#define GS_NARENAS_LIMIT     40 /* arena_get2's static narenas_limit (0 until known) */
#define GS_NEXT_TO_USE       48 /* reused_arena's static next_to_use */
#define GS_ALIGNED_HEAP_AREA 56 /* alloc_new_heap's static aligned_heap_area */
#define GS_MAY_SHRINK_HEAP   64 /* check_may_shrink_heap's static int (-1 until read) */
#define GS_LIST_LOCK         68 /* list_lock (int) */
#define GS_FREE_LIST_LOCK    72 /* free_list_lock (int) */
#define GS_SIZEOF            80

/* glibc's __thread variables of malloc, at these offsets of each thread's
   static TLS block (libc_tls: the bss for the main thread, the top of its
   stack for another). */
#define TLS_TCACHE        0  /* tcache_perthread_struct *tcache */
#define TLS_THREAD_ARENA  8  /* mstate thread_arena */
#define TLS_SHUTTING_DOWN 16 /* bool tcache_shutting_down */
#define TLS_SIZEOF        24

/*
 * heap_info (arena.c): the header of each heap of a non-main arena. A heap
 * is a HEAP_MAX_SIZE-aligned reservation of HEAP_MAX_SIZE bytes, PROT_NONE
 * beyond its first mprotect_size bytes; a chunk's heap is its address with
 * the low bits masked off (heap_for_ptr). A new arena's malloc_state follows
 * the first heap's heap_info, and its first chunk follows that (at 0x8d0).
 */
#define HI_AR_PTR        0  /* the arena this heap belongs to */
#define HI_PREV          8  /* the arena's previous heap (0 for its first) */
#define HI_SIZE          16 /* bytes in use for the arena */
#define HI_MPROTECT_SIZE 24 /* bytes made read-write so far */
#define HI_PAGESIZE      32
#define HI_SIZEOF        48 /* with pad: sizeof(heap_info) + 2 * SIZE_SZ is 16-aligned */
#define GM_HEAP_MIN_SIZE (32ULL * 1024)
#define GM_MAX_HEAPS_WALKED 4096 /* heaps of one arena the walker follows */
#define GM_HEAP_MAX_SIZE (2 * GM_DEFAULT_MMAP_THRESHOLD_MAX) /* 64 MiB */

/* mallopt's parameters (malloc.h). */
#define GM_M_MXFAST         1
#define GM_M_TRIM_THRESHOLD (-1)
#define GM_M_TOP_PAD        (-2)
#define GM_M_MMAP_THRESHOLD (-3)
#define GM_M_MMAP_MAX       (-4)
#define GM_M_CHECK_ACTION   (-5)
#define GM_M_PERTURB        (-6)
#define GM_M_ARENA_TEST     (-7)
#define GM_M_ARENA_MAX      (-8)

/* The value tcache_key_initialize would draw from getrandom: fixed, so that
   runs are deterministic. */
#define GM_TCACHE_KEY 0x2b7e151628aed2a6ULL

/*
 * Host-side bookkeeping (lc->priv, NULL when empty). glibc itself does not
 * know its mmapped chunks (only their count and bytes in mp_), nor where
 * non-contiguous heap segments start: the model keeps them here only so that
 * walk() and check() can find them. Nothing in the allocation paths reads
 * this. It is allocated with the first mmapped chunk and freed with the last
 * one, so that a process which frees its blocks leaves no host memory behind
 * (released by ops->fini, glibc_malloc_release).
 */
struct glibc_priv {
	vaddr_t *mmapped; /* chunk addresses of live mmapped chunks */
	size_t nr_mmapped, cap_mmapped;
	vaddr_t *segs; /* starts of heap segments after the first: mmap as morecore,
			  or a new top past a foreign sbrk (no fixed bound: each
			  foreign sbrk makes one) */
	size_t nr_segs, cap_segs;
};

/*
 * Where main_arena, mp_ and the other statics are: the policy carves them,
 * in this order, as the first static data of the program (glibc_init), so
 * they sit at the start of the bss and need no pointer kept anywhere.
 */
#define GM_AV_OFF 0ULL
#define GM_MP_OFF ((AV_SIZEOF + 15ULL) & ~15ULL)
#define GM_GS_OFF (GM_MP_OFF + ((MP_SIZEOF + 15ULL) & ~15ULL))

static inline vaddr_t gm_main_arena(const struct libc *lc)
{
	return lc->static_base + GM_AV_OFF;
}
static inline vaddr_t gm_mp(const struct libc *lc)
{
	return lc->static_base + GM_MP_OFF;
}
static inline vaddr_t gm_statics(const struct libc *lc)
{
	return lc->static_base + GM_GS_OFF;
}

extern const struct malloc_ops malloc_ops_glibc;

/* Read-only views for tests and `show heap` (no faults, no events: libc_peek64). */
struct glibc_info {
	vaddr_t sbrk_base, top;
	uint64_t top_size;
	uint64_t system_mem, max_system_mem; /* mallinfo2().arena = system_mem */
	uint64_t mmapped_mem;                /* mallinfo2().hblkhd */
	uint64_t n_mmaps;
	uint64_t mmap_threshold, trim_threshold, top_pad;
	vaddr_t tcache;
	uint64_t tcache_counts[GM_TCACHE_MAX_BINS];
};
/* false when the policy is not glibc or malloc has never run */
bool glibc_malloc_info(struct libc *lc, struct glibc_info *gi);

/* struct mallinfo2 (malloc.h). */
struct glibc_mallinfo2 {
	uint64_t arena;    /* non-mmapped space from the system: every arena's system_mem */
	uint64_t ordblks;  /* free chunks (top counts one per arena) */
	uint64_t smblks;   /* free fastbin chunks */
	uint64_t hblks;    /* mmapped chunks */
	uint64_t hblkhd;   /* bytes in mmapped chunks */
	uint64_t usmblks;  /* always 0 */
	uint64_t fsmblks;  /* bytes in free fastbin chunks */
	uint64_t uordblks; /* bytes in use (arena - fordblks) */
	uint64_t fordblks; /* free bytes, top included */
	uint64_t keepcost; /* main_arena's top: what malloc_trim could give back */
};

/*
 * The malloc.h calls beyond the malloc family. Each runs simulated code
 * (inside task_run, as libc_malloc); the policy must be glibc.
 *   glibc_mallopt       mallopt(param, value): 1, or 0 when the value is refused
 *   glibc_malloc_trim   malloc_trim(pad): 1 when memory went back to the kernel
 *   glibc_malloc_stats  malloc_stats(): its lines go to fd 2 (one write each)
 *   glibc_malloc_info_xml  malloc_info(0, stdout): the XML, one write(1) at the
 *                       end (stdout buffered in static memory)
 * The printers append what they print to *text, which the caller owns and
 * frees (free(text->s)), so that a process killed inside leaks nothing.
 */
struct glibc_text {
	char *s;
	size_t len, cap;
};
int glibc_mallopt(struct libc *lc, int param, int value);
int glibc_malloc_trim(struct libc *lc, uint64_t pad);
void glibc_malloc_stats(struct libc *lc, struct glibc_text *text);
void glibc_malloc_info_xml(struct libc *lc, struct glibc_text *text);
/* mallinfo2() as the program would get it now, read without running it
   (libc_peek64): false when the policy is not glibc. */
bool glibc_mallinfo2_view(struct libc *lc, struct glibc_mallinfo2 *m);
/* __malloc_arena_thread_freeres of the running thread (libc_tls): its
   tcache back to the arenas, its arena to free_list when it was the last
   thread attached. Runs simulated code; libc's thread exit calls it. */
void glibc_thread_freeres(struct libc *lc);

/*
 * malloc's fork handlers (__malloc_fork_lock_parent before the system
 * call, __malloc_fork_unlock_parent after it in the parent,
 * __malloc_fork_unlock_child in the child, in the child's task): every
 * arena locked across the fork, unlocked after it; in the child, every
 * arena but the forking thread's goes to free_list, attached to no
 * thread. Only for the glibc policy, and only when the process has had
 * threads (fork runs them then); nothing before the first malloc.
 */
void glibc_malloc_fork_lock_parent(struct libc *lc);
void glibc_malloc_fork_unlock_parent(struct libc *lc);
void glibc_malloc_fork_unlock_child(struct libc *lc);

/*
 * GLIBC_TUNABLES: add the glibc.malloc.NAME=VALUE entries of spec (several
 * separated by ':') to list (*n of max used). 0, or -1 with the reason in
 * err: an unknown name, one the model cannot honour (hugetlb, check), a
 * value that is not a number or out of the tunable's range (which glibc
 * would silently ignore). glibc_tunable_name(i): the names, NULL past the
 * last.
 */
int glibc_tunables_parse(struct libc_tunable *list, unsigned *n, unsigned max, const char *spec,
                         char *err, size_t errlen);
const char *glibc_tunable_name(unsigned i);

/* One arena as `show arenas` and the viewer show it, read without running
   the program (libc_peek64). */
#define GLIBC_VIEW_HEAPS 8
struct glibc_heap_view {
	vaddr_t heap;
	uint64_t size, mprotect_size;
};
struct glibc_arena_view {
	unsigned nr;              /* malloc_stats's number: 0 main_arena, then list order */
	vaddr_t av;               /* its malloc_state */
	vaddr_t top;
	uint64_t top_size;
	uint64_t system_mem, max_system_mem;
	uint64_t attached_threads;
	bool on_free_list;        /* no thread attached: the next new thread takes it */
	struct glibc_mallinfo2 mi; /* this arena's part of mallinfo2 */
	unsigned nr_heaps;        /* non-main: its heaps (the newest, top's, first) */
	struct glibc_heap_view heaps[GLIBC_VIEW_HEAPS];
};
/* Up to max arenas into out; returns how many the program has (0 when the
   policy is not glibc or malloc has not run). */
unsigned glibc_arenas_view(struct libc *lc, struct glibc_arena_view *out, unsigned max);
/* The arena thread t uses (its thread_arena), numbered as glibc_arenas_view
   numbers them; -1 when it has none yet (its first malloc makes or picks
   one) or the policy is not glibc. Read without running the program. */
int glibc_thread_arena(struct libc *lc, const struct libc_thread *t);
/* `show arenas`: every arena, its heaps, which thread uses which. */
void glibc_arenas_dump(struct libc *lc, FILE *out);

/* Free the host-side bookkeeping (lc->priv) of a libc whose process is gone:
   struct malloc_ops has no fini hook, so the owner of the libc calls this. */
void glibc_malloc_release(struct libc *lc);
/* The child's copy of that bookkeeping after fork (libc_fork_child). */
void glibc_malloc_fork(struct libc *child, const struct libc *parent);

/* The walker and the checker (glibc_check.c). */
void glibc_malloc_walk(struct libc *lc, chunk_cb_t cb, void *ctx);
int glibc_malloc_check(struct libc *lc, FILE *err);
void glibc_malloc_dump(struct libc *lc, FILE *out);

/* Bin indices (malloc.c's smallbin_index, largebin_index_64). */
static inline unsigned gm_smallbin_index(uint64_t sz)
{
	return (unsigned)(sz >> 4);
}

static inline unsigned gm_largebin_index(uint64_t sz)
{
	if ((sz >> 6) <= 48)
		return 48 + (unsigned)(sz >> 6);
	if ((sz >> 9) <= 20)
		return 91 + (unsigned)(sz >> 9);
	if ((sz >> 12) <= 10)
		return 110 + (unsigned)(sz >> 12);
	if ((sz >> 15) <= 4)
		return 119 + (unsigned)(sz >> 15);
	if ((sz >> 18) <= 2)
		return 124 + (unsigned)(sz >> 18);
	return 126;
}

static inline bool gm_in_smallbin_range(uint64_t sz)
{
	return sz < GM_MIN_LARGE_SIZE;
}

static inline unsigned gm_bin_index(uint64_t sz)
{
	return gm_in_smallbin_range(sz) ? gm_smallbin_index(sz) : gm_largebin_index(sz);
}

/* fastbin_index(sz): chunk size 32 -> 0, 48 -> 1, ... 128 -> 6 */
static inline unsigned gm_fastbin_index(uint64_t sz)
{
	return (unsigned)(sz >> 4) - 2;
}

/* csize2tidx: chunk size 32 -> 0, 48 -> 1, ..., 1040 -> 63 */
static inline uint64_t gm_csize2tidx(uint64_t sz)
{
	return (sz - GM_MINSIZE + GM_MALLOC_ALIGNMENT - 1) / GM_MALLOC_ALIGNMENT;
}

/* bin_at(av, i): the fake chunk of bin i */
static inline vaddr_t gm_bin_at(vaddr_t av, unsigned i)
{
	return av + AV_BINS + 16ULL * (i - 1) - 16;
}

/* request2size: max(MINSIZE, (req + SIZE_SZ + MALLOC_ALIGN_MASK) & ~MALLOC_ALIGN_MASK) */
static inline uint64_t gm_request2size(uint64_t req)
{
	if (req + GM_SIZE_SZ + GM_MALLOC_ALIGN_MASK < GM_MINSIZE)
		return GM_MINSIZE;
	return (req + GM_SIZE_SZ + GM_MALLOC_ALIGN_MASK) & ~GM_MALLOC_ALIGN_MASK;
}

#endif
