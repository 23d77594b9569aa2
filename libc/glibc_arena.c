/*
 * glibc_arena.c - glibc 2.36's arenas and heaps (malloc/arena.c):
 * ptmalloc_init, arena_get and arena_get2 (get_free_list, _int_new_arena,
 * reused_arena), arena_get_retry, new_heap (alloc_new_heap), grow_heap,
 * shrink_heap (with check_may_shrink_heap), heap_trim and
 * __malloc_arena_thread_freeres.
 *
 * A thread's first malloc finds no arena in its thread_arena and takes one
 * in arena_get2: a free one (whose threads all exited), else a new one while
 * there are fewer than narenas_limit (8 per CPU, from __get_nprocs, once more
 * than arena_test arenas exist; M_ARENA_MAX when set), else the next in line
 * round robin (reused_arena). A non-main arena lives in heaps of its own:
 * HEAP_MAX_SIZE (64 MiB) reservations aligned to their size, so that a
 * chunk's heap is its address masked (heap_for_ptr). new_heap maps twice the
 * size PROT_NONE with MAP_NORESERVE, unmaps the unaligned head and the tail
 * and makes the part in use read-write; grow_heap makes more of it
 * read-write, shrink_heap gives pages back with MADV_DONTNEED, or maps them
 * PROT_NONE afresh under overcommit mode 2, so that the commit charge falls
 * too; heap_trim unmaps a whole heap whose arena's top starts at its start.
 *
 * Locks are stores to their words (one thread runs at a time, so a lock is
 * never found taken). The heaps' used bytes are the allocator's footprint,
 * their reservations are not: mmaps here are made uncounted and the used
 * part counted by libc_count_mapped, so that the footprint stays mallinfo2's
 * arena + hblkhd.
 */
#include "glibc_internal.h"

/* ---- ptmalloc_init ------------------------------------------------------ */

/* What the static initializers of main_arena, mp_, narenas and the other
   statics put in the program's data: written at the first malloc (the bss
   is zero until then), together with ptmalloc_init. */
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
	st(g, g->main + AV_NEXT, g->main);
	st(g, g->main + AV_ATTACHED_THREADS, 1);
	st(g, g->gs + GS_NARENAS, 1);
	st32(g, g->gs + GS_MAY_SHRINK_HEAP, (uint32_t)-1);
}

void gm_malloc_init_state(struct gm *g)
{
	for (unsigned i = 1; i < GM_NBINS; i++) {
		vaddr_t bin = gm_bin_at(g->av, i);

		set_fd(g, bin, bin);
		set_bk(g, bin, bin);
	}
	if (g->av != g->main)
		st32(g, g->av + AV_FLAGS, ld32(g, g->av + AV_FLAGS) | GM_NONCONTIGUOUS_BIT);
	else /* set_max_fast(DEFAULT_MXFAST): (128 + SIZE_SZ) & ~MALLOC_ALIGN_MASK = 128 */
		st(g, g->gs + GS_MAX_FAST,
		   (GM_DEFAULT_MXFAST + GM_SIZE_SZ) & ~GM_MALLOC_ALIGN_MASK);
	set_have_fastchunks(g, false);
	set_av_top(g, unsorted(g)); /* initial_top: a fake chunk of size 0 */
}

/* ptmalloc_init -> tcache_key_initialize, thread_arena = &main_arena,
   malloc_init_state(&main_arena), then the glibc.malloc tunables of the
   process's environment (GLIBC_TUNABLES). */
void gm_ptmalloc_init(struct gm *g)
{
	vaddr_t av = g->av;

	if (ld32(g, g->gs + GS_INITIALIZED))
		return;
	probe_call(g->pr, LAYER_LIBC, "ptmalloc_init");
	static_init(g);
	st32(g, g->gs + GS_INITIALIZED, 1);
	st(g, g->gs + GS_TCACHE_KEY, GM_TCACHE_KEY);
	st(g, g->tls + TLS_THREAD_ARENA, g->main);
	g->av = g->main;
	gm_malloc_init_state(g);
	gm_apply_tunables(g);
	g->av = av;
	probe_ret(g->pr, LAYER_LIBC, "ptmalloc_init");
}

/* ---- heaps -------------------------------------------------------------- */

static vaddr_t heap_mmap(struct gm *g, vaddr_t addr, uint64_t len, int prot, int flags)
{
	vaddr_t r;

	g->lc->uncounted++;
	r = libc_mmap(g->lc, addr, len, prot, flags | SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS);
	g->lc->uncounted--;
	return r;
}

static void heap_munmap(struct gm *g, vaddr_t addr, uint64_t len)
{
	g->lc->uncounted++;
	libc_munmap(g->lc, addr, len);
	g->lc->uncounted--;
}

/*
 * alloc_new_heap (new_heap without huge pages): a heap of at least size
 * bytes, top_pad more if that stays within HEAP_MAX_SIZE, whole pages. The
 * reservation is aligned to HEAP_MAX_SIZE: a double-size mapping is trimmed
 * to the aligned part, and when it happened to start aligned, its second
 * half is remembered (aligned_heap_area) and tried first next time. 0 when
 * no memory or address space is left.
 */
vaddr_t gm_new_heap(struct gm *g, uint64_t size, uint64_t top_pad)
{
	const uint64_t max = GM_HEAP_MAX_SIZE, pagesize = PAGE_SIZE;
	vaddr_t p1, p2 = LIBC_MAP_FAILED, h = 0, aligned;

	probe_call(g->pr, LAYER_LIBC, "new_heap", {"size", size}, {"top_pad", top_pad});
	if (size + top_pad < GM_HEAP_MIN_SIZE)
		size = GM_HEAP_MIN_SIZE;
	else if (size + top_pad <= max)
		size += top_pad;
	else if (size > max)
		goto out;
	else
		size = max;
	size = (size + pagesize - 1) & ~(pagesize - 1);

	aligned = ld(g, g->gs + GS_ALIGNED_HEAP_AREA);
	if (aligned) {
		p2 = heap_mmap(g, aligned, max, SIM_PROT_NONE, SIM_MAP_NORESERVE);
		st(g, g->gs + GS_ALIGNED_HEAP_AREA, 0);
		if (p2 != LIBC_MAP_FAILED && (p2 & (max - 1))) {
			heap_munmap(g, p2, max);
			p2 = LIBC_MAP_FAILED;
		}
	}
	if (p2 == LIBC_MAP_FAILED) {
		p1 = heap_mmap(g, 0, max << 1, SIM_PROT_NONE, SIM_MAP_NORESERVE);
		if (p1 != LIBC_MAP_FAILED) {
			uint64_t ul;

			p2 = (p1 + (max - 1)) & ~(max - 1);
			ul = p2 - p1;
			if (ul)
				heap_munmap(g, p1, ul);
			else
				st(g, g->gs + GS_ALIGNED_HEAP_AREA, p2 + max);
			heap_munmap(g, p2 + max, max - ul);
		} else {
			/* maybe a mapping of only max_size happens to be aligned */
			p2 = heap_mmap(g, 0, max, SIM_PROT_NONE, SIM_MAP_NORESERVE);
			if (p2 == LIBC_MAP_FAILED)
				goto out;
			if (p2 & (max - 1)) {
				heap_munmap(g, p2, max);
				goto out;
			}
		}
	}
	if (libc_mprotect(g->lc, p2, size, SIM_PROT_READ | SIM_PROT_WRITE) != 0) {
		heap_munmap(g, p2, max);
		goto out;
	}
	h = p2;
	st(g, h + HI_SIZE, size);
	st(g, h + HI_MPROTECT_SIZE, size);
	st(g, h + HI_PAGESIZE, pagesize);
	libc_count_mapped(g->lc, (int64_t)size);
	EV(g->pr, LAYER_LIBC, EV_HEAP, "new_heap", "new heap (64 MiB reserved)", {"heap", h},
	   {"size", size});
out:
	probe_ret(g->pr, LAYER_LIBC, "new_heap", {"ret", h});
	return h;
}

/* grow_heap: diff more bytes in use (whole pages), made read-write past
   what already is. 0, -1 past HEAP_MAX_SIZE, -2 when mprotect failed. */
int gm_grow_heap(struct gm *g, vaddr_t h, int64_t diff)
{
	uint64_t pagesize = ld(g, h + HI_PAGESIZE), size = ld(g, h + HI_SIZE);
	uint64_t mprotect_size = ld(g, h + HI_MPROTECT_SIZE), new_size;
	int ret = 0;

	probe_call(g->pr, LAYER_LIBC, "grow_heap", {"heap", h}, {"diff", (uint64_t)diff});
	diff = (int64_t)(((uint64_t)diff + pagesize - 1) & ~(pagesize - 1));
	new_size = size + (uint64_t)diff;
	if (new_size > GM_HEAP_MAX_SIZE) {
		ret = -1;
		goto out;
	}
	if (new_size > mprotect_size) {
		if (libc_mprotect(g->lc, h + mprotect_size, new_size - mprotect_size,
		                  SIM_PROT_READ | SIM_PROT_WRITE) != 0) {
			ret = -2;
			goto out;
		}
		st(g, h + HI_MPROTECT_SIZE, new_size);
	}
	st(g, h + HI_SIZE, new_size);
	libc_count_mapped(g->lc, diff);
	EV(g->pr, LAYER_LIBC, EV_HEAP, "grow_heap", "heap grown", {"heap", h}, {"size", new_size});
out:
	probe_ret(g->pr, LAYER_LIBC, "grow_heap", {"ret", (uint64_t)(int64_t)ret});
	return ret;
}

/* check_may_shrink_heap (malloc-sysdep.h): overcommit mode 2, read once
   from /proc/sys/vm/overcommit_memory. */
static bool check_may_shrink_heap(struct gm *g)
{
	int v = (int)ld32(g, g->gs + GS_MAY_SHRINK_HEAP);
	char buf[4];

	if (v >= 0)
		return v;
	v = libc_read_file(g->lc, "/proc/sys/vm/overcommit_memory", buf, sizeof(buf)) > 0 &&
	    buf[0] == '2';
	st32(g, g->gs + GS_MAY_SHRINK_HEAP, (uint32_t)v);
	return v;
}

/* shrink_heap: diff fewer bytes in use. The pages go back with
   MADV_DONTNEED (they stay read-write and reserved: the next touch faults
   a zeroed page), or, in overcommit mode 2, are mapped afresh PROT_NONE so
   that they stop counting in Committed_AS. 0, -1, -2 as glibc. */
static int shrink_heap(struct gm *g, vaddr_t h, int64_t diff)
{
	int64_t new_size = (int64_t)ld(g, h + HI_SIZE) - diff;
	int ret = 0;

	probe_call(g->pr, LAYER_LIBC, "shrink_heap", {"heap", h}, {"diff", (uint64_t)diff});
	if (new_size < (int64_t)HI_SIZEOF) {
		ret = -1;
		goto out;
	}
	if (check_may_shrink_heap(g)) {
		if (heap_mmap(g, h + (uint64_t)new_size, (uint64_t)diff, SIM_PROT_NONE,
		              SIM_MAP_FIXED) == LIBC_MAP_FAILED) {
			ret = -2;
			goto out;
		}
		st(g, h + HI_MPROTECT_SIZE, (uint64_t)new_size);
	} else {
		libc_madvise(g->lc, h + (uint64_t)new_size, (uint64_t)diff, SIM_MADV_DONTNEED);
	}
	st(g, h + HI_SIZE, (uint64_t)new_size);
	libc_count_mapped(g->lc, -diff);
	EV(g->pr, LAYER_LIBC, EV_HEAP, "shrink_heap", "heap shrunk", {"heap", h},
	   {"size", (uint64_t)new_size});
out:
	probe_ret(g->pr, LAYER_LIBC, "shrink_heap", {"ret", (uint64_t)(int64_t)ret});
	return ret;
}

/*
 * heap_trim: after a free into g->av, whose top lies in heap. While the top
 * chunk starts a heap (it is all that heap holds) and the previous heap has
 * room enough to keep the pad, unmap the heap: the previous heap's last
 * chunk (behind its fencepost) becomes top. Then give back top's whole pages
 * beyond pad when top reaches trim_threshold (shrink_heap). 1 if a heap was
 * shrunk, else 0.
 */
int gm_heap_trim(struct gm *g, vaddr_t heap, uint64_t pad)
{
	vaddr_t top_chunk = av_top(g), p, prev_heap;
	int64_t new_size, top_size, top_area, extra, prev_sz, misalign;
	const uint64_t max = GM_HEAP_MAX_SIZE;
	uint64_t heap_pagesize = ld(g, heap + HI_PAGESIZE);
	int ret = 0;

	probe_call(g->pr, LAYER_LIBC, "heap_trim", {"heap", heap}, {"pad", pad});
	while (top_chunk == heap + HI_SIZEOF) {
		libc_step(g->lc); /* each pass unmaps a heap: bounded */
		prev_heap = ld(g, heap + HI_PREV);
		prev_sz =
		    (int64_t)ld(g, prev_heap + HI_SIZE) - (int64_t)(GM_MINSIZE - 2 * GM_SIZE_SZ);
		p = prev_heap + (uint64_t)prev_sz;
		misalign = (int64_t)(p & GM_MALLOC_ALIGN_MASK);
		p -= (uint64_t)misalign;
		if (size_nomask(g, p) != (0 | GM_PREV_INUSE))
			malloc_assert(g, "heap_trim", "chunksize_nomask (p) == (0 | PREV_INUSE)");
		p -= prev_size(g, p);
		new_size =
		    (int64_t)chunksize(g, p) + (int64_t)(GM_MINSIZE - 2 * GM_SIZE_SZ) + misalign;
		if (!(new_size > 0 && new_size < (int64_t)(2 * GM_MINSIZE)))
			malloc_assert(g, "heap_trim",
			              "new_size > 0 && new_size < (long) (2 * MINSIZE)");
		if (!(size_nomask(g, p) & GM_PREV_INUSE))
			new_size += (int64_t)prev_size(g, p);
		if (!(new_size > 0 && (uint64_t)new_size < max))
			malloc_assert(g, "heap_trim", "new_size > 0 && new_size < max_size");
		if ((uint64_t)new_size + (max - ld(g, prev_heap + HI_SIZE)) <
		    pad + GM_MINSIZE + heap_pagesize)
			break;
		st(g, g->av + AV_SYSTEM_MEM, system_mem(g) - ld(g, heap + HI_SIZE));
		libc_count_mapped(g->lc, -(int64_t)ld(g, heap + HI_SIZE));
		if (heap + max == ld(g, g->gs + GS_ALIGNED_HEAP_AREA))
			st(g, g->gs + GS_ALIGNED_HEAP_AREA, 0);
		EV(g->pr, LAYER_LIBC, EV_HEAP, "heap_trim", "heap unmapped", {"heap", heap},
		   {"size", ld(g, heap + HI_SIZE)});
		heap_munmap(g, heap, max);
		heap = prev_heap;
		heap_pagesize = ld(g, heap + HI_PAGESIZE);
		if (!(size_nomask(g, p) & GM_PREV_INUSE)) { /* consolidate backward */
			p -= prev_size(g, p);
			gm_unlink_chunk(g, p);
		}
		if (((p + (uint64_t)new_size) & (heap_pagesize - 1)) != 0)
			malloc_assert(
			    g, "heap_trim",
			    "((unsigned long) ((char *) p + new_size) & (heap->pagesize - "
			    "1)) == 0");
		if (p + (uint64_t)new_size != heap + ld(g, heap + HI_SIZE))
			malloc_assert(g, "heap_trim",
			              "((char *) p + new_size) == ((char *) heap + heap->size)");
		set_av_top(g, p);
		top_chunk = p;
		set_head(g, top_chunk, (uint64_t)new_size | GM_PREV_INUSE);
	}

	/* as systrim: keep the pad, give back whole pages */
	top_size = (int64_t)chunksize(g, top_chunk);
	if ((uint64_t)top_size < mp_get(g, MP_TRIM_THRESHOLD))
		goto out;
	top_area = top_size - (int64_t)GM_MINSIZE - 1;
	if (top_area < 0 || (uint64_t)top_area <= pad)
		goto out;
	extra = (int64_t)(((uint64_t)top_area - pad) & ~(heap_pagesize - 1));
	if (extra == 0)
		goto out;
	if (shrink_heap(g, heap, extra) != 0)
		goto out;
	st(g, g->av + AV_SYSTEM_MEM, system_mem(g) - (uint64_t)extra);
	set_head(g, top_chunk, (uint64_t)(top_size - extra) | GM_PREV_INUSE);
	heap_ev(g, "heap_trim", "top trimmed", top_chunk, (uint64_t)(top_size - extra));
	ret = 1;
out:
	probe_ret(g->pr, LAYER_LIBC, "heap_trim", {"ret", (uint64_t)ret});
	return ret;
}

/* ---- arenas ------------------------------------------------------------- */

static vaddr_t thread_arena(struct gm *g)
{
	return ld(g, g->tls + TLS_THREAD_ARENA);
}

/* detach_arena: the thread leaves replaced (free_list_lock held). */
static void detach_arena(struct gm *g, vaddr_t replaced)
{
	if (replaced) {
		uint64_t n = ld(g, replaced + AV_ATTACHED_THREADS);

		if (n == 0)
			malloc_assert(g, "detach_arena", "replaced_arena->attached_threads > 0");
		st(g, replaced + AV_ATTACHED_THREADS, n - 1);
	}
}

/*
 * _int_new_arena: a heap for size bytes (or a minimal one), the arena's
 * malloc_state right after the heap_info, its top chunk after that, 16-byte
 * aligned (heap + 0x8d0). The arena goes first after main_arena in the list,
 * becomes the thread's, and is returned locked in g->av. 0 when no heap can
 * be had.
 */
static vaddr_t int_new_arena(struct gm *g, uint64_t size)
{
	const uint64_t overhead = HI_SIZEOF + AV_SIZEOF + GM_MALLOC_ALIGNMENT;
	vaddr_t h, a, ptr, replaced;
	uint64_t hsize, misalign;

	probe_call(g->pr, LAYER_LIBC, "_int_new_arena", {"size", size});
	h = gm_new_heap(g, size + overhead, mp_get(g, MP_TOP_PAD));
	if (!h) {
		/* maybe size does not fit one heap: a minimal arena, and let
		   _int_malloc mmap the request */
		h = gm_new_heap(g, overhead, mp_get(g, MP_TOP_PAD));
		if (!h) {
			a = 0;
			goto out;
		}
	}
	a = h + HI_SIZEOF;
	st(g, h + HI_AR_PTR, a);
	g->av = a;
	gm_malloc_init_state(g);
	st(g, a + AV_ATTACHED_THREADS, 1);
	hsize = ld(g, h + HI_SIZE);
	st(g, a + AV_SYSTEM_MEM, hsize);
	st(g, a + AV_MAX_SYSTEM_MEM, hsize);
	ptr = a + AV_SIZEOF;
	misalign = (ptr + GM_CHUNK_HDR_SZ) & GM_MALLOC_ALIGN_MASK;
	if (misalign > 0)
		ptr += GM_MALLOC_ALIGNMENT - misalign;
	set_av_top(g, ptr);
	set_head(g, ptr, (h + hsize - ptr) | GM_PREV_INUSE);

	replaced = thread_arena(g);
	st(g, g->tls + TLS_THREAD_ARENA, a);
	unlock(g, a + AV_MUTEX); /* __libc_lock_init */
	lock(g, g->gs + GS_LIST_LOCK);
	st(g, a + AV_NEXT, ld(g, g->main + AV_NEXT));
	st(g, g->main + AV_NEXT, a);
	unlock(g, g->gs + GS_LIST_LOCK);
	lock(g, g->gs + GS_FREE_LIST_LOCK);
	detach_arena(g, replaced);
	unlock(g, g->gs + GS_FREE_LIST_LOCK);
	lock(g, a + AV_MUTEX);
	EV(g->pr, LAYER_LIBC, EV_HEAP, "_int_new_arena", "new arena", {"arena", a}, {"heap", h},
	   {"size", hsize});
out:
	probe_ret(g->pr, LAYER_LIBC, "_int_new_arena", {"ret", a});
	return a;
}

/* get_free_list: an arena no thread is attached to, made the thread's and
   locked; 0 when there is none. */
static vaddr_t get_free_list(struct gm *g)
{
	vaddr_t replaced = thread_arena(g);
	vaddr_t result = ld(g, g->gs + GS_FREE_LIST);

	if (result) {
		lock(g, g->gs + GS_FREE_LIST_LOCK);
		result = ld(g, g->gs + GS_FREE_LIST);
		if (result) {
			st(g, g->gs + GS_FREE_LIST, ld(g, result + AV_NEXT_FREE));
			if (ld(g, result + AV_ATTACHED_THREADS) != 0)
				malloc_assert(g, "get_free_list", "result->attached_threads == 0");
			st(g, result + AV_ATTACHED_THREADS, 1);
			detach_arena(g, replaced);
		}
		unlock(g, g->gs + GS_FREE_LIST_LOCK);
		if (result) {
			lock(g, result + AV_MUTEX);
			st(g, g->tls + TLS_THREAD_ARENA, result);
			EV(g->pr, LAYER_LIBC, EV_HEAP, "get_free_list",
			   "arena reused from free_list", {"arena", result});
		}
	}
	return result;
}

/* remove_from_free_list (free_list_lock held). */
static void remove_from_free_list(struct gm *g, vaddr_t arena)
{
	vaddr_t previous = g->gs + GS_FREE_LIST, p;
	struct libc_walk w = {0};

	for (p = ld(g, previous); p; p = ld(g, p + AV_NEXT_FREE)) {
		libc_walk_step(g->lc, &w, p);
		if (ld(g, p + AV_ATTACHED_THREADS) != 0)
			malloc_assert(g, "remove_from_free_list", "p->attached_threads == 0");
		if (p == arena) {
			st(g, previous, ld(g, p + AV_NEXT_FREE));
			break;
		}
		previous = p + AV_NEXT_FREE;
	}
}

/* reused_arena: the next arena in line (round robin from next_to_use) that
   can be locked at once, avoiding avoid; made the thread's. Every lock is
   free here (one thread runs at a time), so it is next_to_use itself. */
static vaddr_t reused_arena(struct gm *g, vaddr_t avoid)
{
	vaddr_t next_to_use = ld(g, g->gs + GS_NEXT_TO_USE), result, replaced;
	struct libc_walk w = {0};

	if (!next_to_use)
		next_to_use = g->main;
	result = next_to_use;
	do {
		libc_walk_step(g->lc, &w, result);
		if (ld32(g, result + AV_MUTEX) == 0) { /* __libc_lock_trylock */
			lock(g, result + AV_MUTEX);
			goto out;
		}
		result = ld(g, result + AV_NEXT);
	} while (result != next_to_use);
	if (result == avoid)
		result = ld(g, result + AV_NEXT);
	lock(g, result + AV_MUTEX);
out:
	replaced = thread_arena(g);
	lock(g, g->gs + GS_FREE_LIST_LOCK);
	detach_arena(g, replaced);
	remove_from_free_list(g, result);
	st(g, result + AV_ATTACHED_THREADS, ld(g, result + AV_ATTACHED_THREADS) + 1);
	unlock(g, g->gs + GS_FREE_LIST_LOCK);
	st(g, g->tls + TLS_THREAD_ARENA, result);
	st(g, g->gs + GS_NEXT_TO_USE, ld(g, result + AV_NEXT));
	EV(g->pr, LAYER_LIBC, EV_HEAP, "reused_arena", "arena shared (limit reached)",
	   {"arena", result});
	return result;
}

/* NARENAS_FROM_NCORES on 64-bit: 8 per core. */
#define NARENAS_FROM_NCORES(n) ((uint64_t)(n)*8)

static vaddr_t arena_get2(struct gm *g, uint64_t size, vaddr_t avoid)
{
	vaddr_t a;

	probe_call(g->pr, LAYER_LIBC, "arena_get2", {"size", size});
	a = get_free_list(g);
	if (a == 0) {
		uint64_t limit = ld(g, g->gs + GS_NARENAS_LIMIT), n;

		if (limit == 0) {
			if (mp_get(g, MP_ARENA_MAX) != 0) {
				limit = mp_get(g, MP_ARENA_MAX);
			} else if (ld(g, g->gs + GS_NARENAS) > mp_get(g, MP_ARENA_TEST)) {
				int cpus = libc_get_nprocs(g->lc);

				limit = NARENAS_FROM_NCORES(cpus >= 1 ? cpus : 2);
			}
			st(g, g->gs + GS_NARENAS_LIMIT, limit);
		}
		/* (size_t) 0 - 1 is the largest number: no limit yet */
		n = ld(g, g->gs + GS_NARENAS);
		if (n <= limit - 1) {
			st(g, g->gs + GS_NARENAS, n + 1);
			a = int_new_arena(g, size);
			if (a == 0)
				st(g, g->gs + GS_NARENAS, ld(g, g->gs + GS_NARENAS) - 1);
		} else {
			a = reused_arena(g, avoid);
		}
	}
	probe_ret(g->pr, LAYER_LIBC, "arena_get2", {"ret", a});
	return a;
}

vaddr_t gm_arena_get(struct gm *g, uint64_t size)
{
	vaddr_t a = thread_arena(g);

	if (a)
		lock(g, a + AV_MUTEX);
	else
		a = arena_get2(g, size, 0);
	g->av = a;
	return a;
}

/* arena_get_retry: main_arena after a failure in another (maybe out of
   mmapped space), else another arena (sbrk failed, mmap may not). */
vaddr_t gm_arena_get_retry(struct gm *g, uint64_t bytes)
{
	vaddr_t av = g->av;

	probe_call(g->pr, LAYER_LIBC, "arena_get_retry", {"arena", av});
	unlock(g, av + AV_MUTEX);
	if (av != g->main) {
		av = g->main;
		lock(g, av + AV_MUTEX);
	} else {
		av = arena_get2(g, bytes, av);
	}
	g->av = av;
	probe_ret(g->pr, LAYER_LIBC, "arena_get_retry", {"ret", av});
	return av;
}

/* __malloc_arena_thread_freeres: a thread ends. Its tcache goes back to the
   arenas first, then the thread leaves its arena, which joins free_list
   when no thread is attached any more. */
void gm_arena_thread_freeres(struct gm *g)
{
	vaddr_t a;

	probe_call(g->pr, LAYER_LIBC, "__malloc_arena_thread_freeres");
	gm_tcache_thread_shutdown(g);
	a = thread_arena(g);
	st(g, g->tls + TLS_THREAD_ARENA, 0);
	if (a) {
		uint64_t n;

		lock(g, g->gs + GS_FREE_LIST_LOCK);
		n = ld(g, a + AV_ATTACHED_THREADS);
		if (n == 0)
			malloc_assert(g, "__malloc_arena_thread_freeres",
			              "a->attached_threads > 0");
		st(g, a + AV_ATTACHED_THREADS, --n);
		if (n == 0) {
			st(g, a + AV_NEXT_FREE, ld(g, g->gs + GS_FREE_LIST));
			st(g, g->gs + GS_FREE_LIST, a);
			EV(g->pr, LAYER_LIBC, EV_HEAP, "__malloc_arena_thread_freeres",
			   "arena to free_list", {"arena", a});
		}
		unlock(g, g->gs + GS_FREE_LIST_LOCK);
	}
	probe_ret(g->pr, LAYER_LIBC, "__malloc_arena_thread_freeres");
}

void glibc_thread_freeres(struct libc *lc)
{
	struct gm g;

	gm_enter(&g, lc);
	if (ld32(&g, g.gs + GS_INITIALIZED))
		gm_arena_thread_freeres(&g);
}

/* ---- fork --------------------------------------------------------------- */

/*
 * The fork handlers of malloc (arena.c), which fork runs when the process
 * has had threads: before the system call every arena is locked (and
 * list_lock), so that no other thread holds one in the middle of a change
 * when the address space is copied; after it the parent unlocks them, and
 * the child, whose only thread is the one that forked, makes its locks
 * afresh and puts every arena but that thread's on free_list, attached to
 * no thread, for the next thread it creates. Each is a store into pages
 * that fork left shared: the first on each side takes a copy-on-write
 * fault. Nothing happens before the first malloc (__malloc_initialized).
 * Each arena's step is charged (libc_step): the list is the program's
 * memory.
 */
void glibc_malloc_fork_lock_parent(struct libc *lc)
{
	struct gm g;

	gm_enter(&g, lc);
	if (!ld32(&g, g.gs + GS_INITIALIZED))
		return;
	probe_call(g.pr, LAYER_LIBC, "__malloc_fork_lock_parent");
	/* free_list_lock is not taken: the child builds free_list anew */
	lock(&g, g.gs + GS_LIST_LOCK);
	for (vaddr_t a = g.main;;) {
		libc_step(lc);
		lock(&g, a + AV_MUTEX);
		a = ld(&g, a + AV_NEXT);
		if (a == g.main)
			break;
	}
	probe_ret(g.pr, LAYER_LIBC, "__malloc_fork_lock_parent");
}

void glibc_malloc_fork_unlock_parent(struct libc *lc)
{
	struct gm g;

	gm_enter(&g, lc);
	if (!ld32(&g, g.gs + GS_INITIALIZED))
		return;
	probe_call(g.pr, LAYER_LIBC, "__malloc_fork_unlock_parent");
	for (vaddr_t a = g.main;;) {
		libc_step(lc);
		unlock(&g, a + AV_MUTEX);
		a = ld(&g, a + AV_NEXT);
		if (a == g.main)
			break;
	}
	unlock(&g, g.gs + GS_LIST_LOCK);
	probe_ret(g.pr, LAYER_LIBC, "__malloc_fork_unlock_parent");
}

void glibc_malloc_fork_unlock_child(struct libc *lc)
{
	struct gm g;
	vaddr_t mine, free_list = 0;

	gm_enter(&g, lc);
	if (!ld32(&g, g.gs + GS_INITIALIZED))
		return;
	probe_call(g.pr, LAYER_LIBC, "__malloc_fork_unlock_child");
	unlock(&g, g.gs + GS_FREE_LIST_LOCK); /* __libc_lock_init */
	mine = thread_arena(&g);
	if (mine)
		st(&g, mine + AV_ATTACHED_THREADS, 1);
	st(&g, g.gs + GS_FREE_LIST, 0);
	for (vaddr_t a = g.main;;) {
		libc_step(lc);
		unlock(&g, a + AV_MUTEX);
		if (a != mine) {
			/* no thread of the child is attached to it */
			st(&g, a + AV_ATTACHED_THREADS, 0);
			st(&g, a + AV_NEXT_FREE, free_list);
			free_list = a;
			st(&g, g.gs + GS_FREE_LIST, a);
			EV(g.pr, LAYER_LIBC, EV_HEAP, "__malloc_fork_unlock_child",
			   "arena to free_list (its threads are not in the child)", {"arena", a});
		}
		a = ld(&g, a + AV_NEXT);
		if (a == g.main)
			break;
	}
	unlock(&g, g.gs + GS_LIST_LOCK);
	probe_ret(g.pr, LAYER_LIBC, "__malloc_fork_unlock_child");
}
