/*
 * freelist.c - the textbook allocators "firstfit", "nextfit" and "bestfit":
 * an explicit doubly linked free list with boundary tags, after Bryant and
 * O'Hallaron, CS:APP 3e, section 9.9 (the implicit-list mm.c of 9.9.12 grown
 * into the explicit list of 9.9.13). One implementation; the fit strategy is
 * the only difference.
 *
 * Block (all in simulated memory; bp = the payload pointer malloc returns):
 *
 *        bp-8          bp              bp+8           bp+size-16  bp+size-8
 *   ... | size|a | pred link     | succ link     | ...  | size|a |  next block
 *       | header | (free blocks only: payload when allocated)  | footer |
 *
 * size is a multiple of 16 (so every bp is 16-aligned), at least 32 (header,
 * two links, footer); bit 0 = allocated. The heap opens with CS:APP's padding
 * word and an allocated 16-byte prologue and closes with a 0|1 epilogue
 * header, so coalescing needs no edge cases.
 *
 * Policy choices (documented, not textbook-mandated):
 *  - Freed (coalesced) blocks go to the head of the list (LIFO). When a block
 *    is split, the free remainder takes the block's place in the list, so
 *    next fit's rover resumes right there.
 *  - first fit: the first big-enough block from the head; next fit: the same
 *    from the roving pointer, wrapping once; best fit: the smallest
 *    big-enough block (an exact fit ends the scan).
 *  - Heap growth: when nothing fits, sbrk just enough for the request (less
 *    a free last block, which the new space merges with), rounded so that the
 *    new break lands on a page boundary: the kernel maps whole pages anyway,
 *    so the rounded tail costs no frame and saves the next small requests a
 *    system call. The footprint grows by at most one page more than needed.
 *  - Requests of FL_MMAP_THRESHOLD (128 KiB, glibc's initial mmap threshold;
 *    fixed here, no dynamic adjustment) or more get their own anonymous mmap:
 *    a 16-byte header {next mmapped chunk, size|M|a} then the payload; the
 *    chunks form an address-sorted list rooted in the bss. free munmaps them.
 *    Their bytes are counted in lc->st.mmapped_bytes by libc_mmap/munmap.
 *  - The allocator assumes it owns the break (as CS:APP's mem_sbrk): if the
 *    program moved it in between, growing fails (NULL), the memory is given
 *    back.
 *  - free and realloc validate the pointer where it is cheap (alignment,
 *    inside the heap, allocated bit, header == footer, on the mmapped list);
 *    a failure is malloc_printerr: "free(): invalid pointer" or
 *    "free(): double free detected", and SIGABRT.
 */
#include <stdlib.h>
#include <string.h>

#include "../kernel_sim/syscalls.h"
#include "../vm/hostmem.h"
#include "../vm/panic.h"
#include "libc.h"

#define WSIZE             8
#define DSIZE             16
#define FL_ALIGN          16
#define MIN_BLOCK         32
#define ALLOC_BIT         0x1ULL
#define MMAP_BIT          0x2ULL /* as glibc's IS_MMAPPED */
#define SIZE_MASK         (~0xfULL)
#define FL_MMAP_THRESHOLD (128 * 1024)

/* Roots in the bss, offsets from lc->roots. */
#define R_HEAP     0  /* heap start (16-aligned; 0 before the first malloc) */
#define R_FREE     8  /* free list head (bp) */
#define R_ROVER    16 /* next fit's roving pointer (bp or 0 = the head) */
#define R_END      24 /* heap end: the break as the allocator set it */
#define R_MMAP     32 /* first mmapped chunk (lowest address) */
#define ROOTS_SIZE 40

enum fit { FIT_FIRST, FIT_NEXT, FIT_BEST };

extern const struct malloc_ops malloc_ops_firstfit;
extern const struct malloc_ops malloc_ops_nextfit;
extern const struct malloc_ops malloc_ops_bestfit;

static enum fit fl_fit(struct libc *lc)
{
	if (lc->ops == &malloc_ops_nextfit)
		return FIT_NEXT;
	if (lc->ops == &malloc_ops_bestfit)
		return FIT_BEST;
	return FIT_FIRST;
}

/* ---- words in simulated memory ------------------------------------------ */

static uint64_t get_root(struct libc *lc, unsigned off)
{
	return libc_ld64(lc, lc->roots + off);
}
static void set_root(struct libc *lc, unsigned off, uint64_t v)
{
	libc_st64(lc, lc->roots + off, v);
}

static uint64_t hdr(struct libc *lc, vaddr_t bp)
{
	return libc_ld64(lc, bp - WSIZE);
}
static uint64_t bsize(struct libc *lc, vaddr_t bp)
{
	return hdr(lc, bp) & SIZE_MASK;
}
static bool balloc(struct libc *lc, vaddr_t bp)
{
	return hdr(lc, bp) & ALLOC_BIT;
}

/* Write header and footer of the block at bp. */
static void set_tags(struct libc *lc, vaddr_t bp, uint64_t size, bool alloc)
{
	uint64_t w = size | (alloc ? ALLOC_BIT : 0);

	libc_st64(lc, bp - WSIZE, w);
	libc_st64(lc, bp + size - DSIZE, w);
}

/* The previous block's footer sits just before our header. */
static vaddr_t prev_blk(struct libc *lc, vaddr_t bp)
{
	return bp - (libc_ld64(lc, bp - DSIZE) & SIZE_MASK);
}

static vaddr_t pred(struct libc *lc, vaddr_t bp)
{
	return libc_ld64(lc, bp);
}
static vaddr_t succ(struct libc *lc, vaddr_t bp)
{
	return libc_ld64(lc, bp + WSIZE);
}
static void set_pred(struct libc *lc, vaddr_t bp, vaddr_t v)
{
	libc_st64(lc, bp, v);
}
static void set_succ(struct libc *lc, vaddr_t bp, vaddr_t v)
{
	libc_st64(lc, bp + WSIZE, v);
}

/* ---- the free list ------------------------------------------------------- */

static void list_push(struct libc *lc, vaddr_t bp)
{
	vaddr_t head = get_root(lc, R_FREE);

	set_pred(lc, bp, 0);
	set_succ(lc, bp, head);
	if (head)
		set_pred(lc, head, bp);
	set_root(lc, R_FREE, bp);
}

static void list_remove(struct libc *lc, vaddr_t bp)
{
	vaddr_t p = pred(lc, bp), s = succ(lc, bp);

	if (p)
		set_succ(lc, p, s);
	else
		set_root(lc, R_FREE, s);
	if (s)
		set_pred(lc, s, p);
	/* The rover must never point at a block that left the list. */
	if (fl_fit(lc) == FIT_NEXT && get_root(lc, R_ROVER) == bp)
		set_root(lc, R_ROVER, s);
}

/* nb takes ob's place in the list (the remainder of a split). */
static void list_replace(struct libc *lc, vaddr_t ob, vaddr_t nb)
{
	vaddr_t p = pred(lc, ob), s = succ(lc, ob);

	set_pred(lc, nb, p);
	set_succ(lc, nb, s);
	if (p)
		set_succ(lc, p, nb);
	else
		set_root(lc, R_FREE, nb);
	if (s)
		set_pred(lc, s, nb);
	if (fl_fit(lc) == FIT_NEXT && get_root(lc, R_ROVER) == ob)
		set_root(lc, R_ROVER, nb);
}

/* ---- heap ---------------------------------------------------------------- */

static uint64_t adjust(uint64_t n)
{
	uint64_t a = (n + DSIZE + FL_ALIGN - 1) & ~(uint64_t)(FL_ALIGN - 1);

	return a < MIN_BLOCK ? MIN_BLOCK : a;
}

/* mm_init: padding, prologue, epilogue. 0, or -1 when sbrk fails. */
static int heap_init(struct libc *lc)
{
	vaddr_t cur = libc_sbrk(lc, 0), start;
	uint64_t pad;

	if (cur == (vaddr_t)-1)
		return -1;
	pad = (FL_ALIGN - (cur & (FL_ALIGN - 1))) & (FL_ALIGN - 1);
	if (libc_sbrk(lc, (int64_t)(pad + 4 * WSIZE)) != cur)
		return -1;
	start = cur + pad;
	libc_st64(lc, start, 0);                         /* alignment padding */
	libc_st64(lc, start + WSIZE, DSIZE | ALLOC_BIT); /* prologue header */
	libc_st64(lc, start + DSIZE, DSIZE | ALLOC_BIT); /* prologue footer */
	libc_st64(lc, start + 3 * WSIZE, 0 | ALLOC_BIT); /* epilogue header */
	set_root(lc, R_HEAP, start);
	set_root(lc, R_END, start + 4 * WSIZE);
	EV(&lc->k->probe, LAYER_LIBC, EV_HEAP, "mm_init", "prologue and epilogue",
	   {"start", start});
	return 0;
}

/* Merge bp (free, tags written, not on the list) with free neighbours;
   returns the merged block, not on the list. */
static vaddr_t coalesce(struct libc *lc, vaddr_t bp)
{
	uint64_t size = bsize(lc, bp);
	vaddr_t nb = bp + size;
	bool next_free = !balloc(lc, nb);
	bool prev_free = !(libc_ld64(lc, bp - DSIZE) & ALLOC_BIT);

	if (next_free) {
		list_remove(lc, nb);
		size += bsize(lc, nb);
	}
	if (prev_free) {
		vaddr_t pb = prev_blk(lc, bp);

		list_remove(lc, pb);
		size += bsize(lc, pb);
		bp = pb;
	}
	if (next_free || prev_free) {
		set_tags(lc, bp, size, false);
		EV(&lc->k->probe, LAYER_LIBC, EV_HEAP, "coalesce", "merge with free neighbours",
		   {"chunk", bp - WSIZE}, {"size", size});
	}
	return bp;
}

/* extend_heap: grow so that a block of asize fits at the end; returns the
   (free, listed) block or 0. */
static vaddr_t extend_heap(struct libc *lc, uint64_t asize)
{
	vaddr_t end = get_root(lc, R_END), old, bp;
	uint64_t last_ftr = libc_ld64(lc, end - DSIZE);
	uint64_t need = asize, inc;

	/* A free last block merges with the new space: ask only for the rest. */
	if (!(last_ftr & ALLOC_BIT))
		need -= last_ftr & SIZE_MASK;
	inc = PAGE_ALIGN(end + need) - end;
	if (inc > INT64_MAX)
		return 0;
	old = libc_sbrk(lc, (int64_t)inc);
	if (old == (vaddr_t)-1)
		return 0;
	if (old != end) {
		libc_sbrk(lc, -(int64_t)inc);
		return 0;
	}
	/* The old epilogue becomes the new block's header. */
	bp = old;
	set_tags(lc, bp, inc, false);
	libc_st64(lc, bp + inc - WSIZE, 0 | ALLOC_BIT); /* new epilogue */
	set_root(lc, R_END, old + inc);
	EV(&lc->k->probe, LAYER_LIBC, EV_HEAP, "extend_heap", "sbrk: heap grows",
	   {"chunk", bp - WSIZE}, {"size", inc});
	bp = coalesce(lc, bp);
	list_push(lc, bp);
	return bp;
}

/* A free list the program linked into a cycle makes these walks endless,
   as in CS:APP's code: RLIMIT_CPU ends them (libc_walk_step). */
static vaddr_t find_fit(struct libc *lc, uint64_t asize)
{
	struct libc_walk w = {0}, w2 = {0};
	vaddr_t bp, best = 0, start;
	uint64_t sz, best_sz = UINT64_MAX;

	switch (fl_fit(lc)) {
	case FIT_FIRST:
		for (bp = get_root(lc, R_FREE); bp; bp = succ(lc, bp)) {
			libc_walk_step(lc, &w, bp);
			if (bsize(lc, bp) >= asize)
				return bp;
		}
		return 0;
	case FIT_NEXT:
		start = get_root(lc, R_ROVER);
		for (bp = start ? start : get_root(lc, R_FREE); bp; bp = succ(lc, bp)) {
			libc_walk_step(lc, &w, bp);
			if (bsize(lc, bp) >= asize)
				return bp;
		}
		if (!start)
			return 0;
		for (bp = get_root(lc, R_FREE); bp && bp != start; bp = succ(lc, bp)) {
			libc_walk_step(lc, &w2, bp);
			if (bsize(lc, bp) >= asize)
				return bp;
		}
		return 0;
	case FIT_BEST:
		for (bp = get_root(lc, R_FREE); bp; bp = succ(lc, bp)) {
			libc_walk_step(lc, &w, bp);
			sz = bsize(lc, bp);
			if (sz >= asize && sz < best_sz) {
				best = bp;
				best_sz = sz;
				if (sz == asize)
					break;
			}
		}
		return best;
	}
	return 0;
}

/* Allocate asize at the free listed block bp, splitting when the remainder
   can be a block of its own. */
static void place(struct libc *lc, vaddr_t bp, uint64_t asize)
{
	uint64_t csize = bsize(lc, bp);
	bool next = fl_fit(lc) == FIT_NEXT;

	if (csize - asize >= MIN_BLOCK) {
		vaddr_t rb = bp + asize;

		set_tags(lc, rb, csize - asize, false);
		list_replace(lc, bp, rb);
		set_tags(lc, bp, asize, true);
		if (next)
			set_root(lc, R_ROVER, rb);
		EV(&lc->k->probe, LAYER_LIBC, EV_HEAP, "place", "split", {"chunk", bp - WSIZE},
		   {"size", asize}, {"rest", csize - asize});
	} else {
		vaddr_t s = succ(lc, bp);

		list_remove(lc, bp);
		set_tags(lc, bp, csize, true);
		if (next)
			set_root(lc, R_ROVER, s);
		EV(&lc->k->probe, LAYER_LIBC, EV_HEAP, "place", "whole block",
		   {"chunk", bp - WSIZE}, {"size", csize});
	}
}

/* ---- mmapped chunks -------------------------------------------------------- */

static vaddr_t mmap_chunk(struct libc *lc, uint64_t n)
{
	uint64_t len = PAGE_ALIGN(n + DSIZE);
	struct libc_walk w = {0};
	vaddr_t m, cur, prev = 0;

	if (len < n)
		return 0;
	m = libc_mmap(lc, 0, len, SIM_PROT_READ | SIM_PROT_WRITE,
	              SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS);
	if (m == LIBC_MAP_FAILED)
		return 0;
	/* Keep the list sorted by address (walk order). */
	for (cur = get_root(lc, R_MMAP); cur && cur < m; cur = libc_ld64(lc, cur)) {
		libc_walk_step(lc, &w, cur);
		prev = cur;
	}
	libc_st64(lc, m, cur);
	libc_st64(lc, m + WSIZE, len | MMAP_BIT | ALLOC_BIT);
	if (prev)
		libc_st64(lc, prev, m);
	else
		set_root(lc, R_MMAP, m);
	EV(&lc->k->probe, LAYER_LIBC, EV_HEAP, "mmap_chunk", "own mapping", {"chunk", m},
	   {"size", len});
	return m + DSIZE;
}

/* Unlink m from the mmapped list; false when it is not on it. */
static bool mmap_unlink(struct libc *lc, vaddr_t m)
{
	struct libc_walk w = {0};
	vaddr_t cur, prev = 0;

	for (cur = get_root(lc, R_MMAP); cur && cur <= m; cur = libc_ld64(lc, cur)) {
		libc_walk_step(lc, &w, cur);
		if (cur == m) {
			if (prev)
				libc_st64(lc, prev, libc_ld64(lc, m));
			else
				set_root(lc, R_MMAP, libc_ld64(lc, m));
			return true;
		}
		prev = cur;
	}
	return false;
}

static bool mmap_listed(struct libc *lc, vaddr_t m)
{
	struct libc_walk w = {0};
	vaddr_t cur;

	for (cur = get_root(lc, R_MMAP); cur && cur <= m; cur = libc_ld64(lc, cur)) {
		libc_walk_step(lc, &w, cur);
		if (cur == m)
			return true;
	}
	return false;
}

/* ---- pointer validation ---------------------------------------------------- */

enum chunk_kind { CK_HEAP, CK_MMAP };

/* Validate a pointer handed to free/realloc/malloc_usable_size (musl-style:
   always on). Dies with SIGABRT via malloc_printerr when it is not one
   malloc returned and that is still allocated, as far as cheap checks see. */
static enum chunk_kind validate(struct libc *lc, vaddr_t bp, const char *invalid, const char *dfree)
{
	vaddr_t start = get_root(lc, R_HEAP), end;
	uint64_t h, size;

	if (bp & (FL_ALIGN - 1))
		libc_malloc_printerr(lc, invalid);
	end = start ? get_root(lc, R_END) : 0;
	if (start && bp >= start + 4 * WSIZE && bp < end) {
		h = hdr(lc, bp);
		size = h & SIZE_MASK;
		if (size < MIN_BLOCK || (h & MMAP_BIT) || size > end - bp)
			libc_malloc_printerr(lc, invalid);
		if (libc_ld64(lc, bp + size - DSIZE) != h)
			libc_malloc_printerr(lc, invalid);
		if (!(h & ALLOC_BIT))
			libc_malloc_printerr(lc, dfree);
		return CK_HEAP;
	}
	if (((bp - DSIZE) & (PAGE_SIZE - 1)) || !mmap_listed(lc, bp - DSIZE))
		libc_malloc_printerr(lc, invalid);
	return CK_MMAP;
}

/* ---- the malloc family ------------------------------------------------------ */

static vaddr_t fl_malloc(struct libc *lc, uint64_t n)
{
	uint64_t asize;
	vaddr_t bp;

	if (n > (1ULL << 62))
		return 0;
	if (n >= FL_MMAP_THRESHOLD) {
		bp = mmap_chunk(lc, n);
		if (bp)
			return bp;
		/* mmap refused: try the heap, as glibc's sysmalloc does the other way round. */
	}
	if (get_root(lc, R_HEAP) == 0 && heap_init(lc) < 0)
		return 0;
	asize = adjust(n);
	bp = find_fit(lc, asize);
	if (!bp)
		bp = extend_heap(lc, asize);
	if (!bp)
		return 0;
	place(lc, bp, asize);
	return bp;
}

static void free_block(struct libc *lc, vaddr_t bp)
{
	set_tags(lc, bp, bsize(lc, bp), false);
	bp = coalesce(lc, bp);
	list_push(lc, bp);
}

static void fl_free(struct libc *lc, vaddr_t bp)
{
	if (validate(lc, bp, "free(): invalid pointer", "free(): double free detected") ==
	    CK_MMAP) {
		vaddr_t m = bp - DSIZE;
		uint64_t len = libc_ld64(lc, m + WSIZE) & SIZE_MASK;

		mmap_unlink(lc, m);
		if (libc_munmap(lc, m, len) < 0)
			libc_malloc_printerr(lc, "munmap_chunk(): invalid pointer");
		return;
	}
	free_block(lc, bp);
}

static vaddr_t fl_realloc(struct libc *lc, vaddr_t bp, uint64_t n)
{
	uint64_t asize, csize, have;
	vaddr_t nb, nbp;

	if (n > (1ULL << 62))
		return 0;
	if (validate(lc, bp, "realloc(): invalid pointer", "realloc(): invalid old size") ==
	    CK_MMAP) {
		have = (libc_ld64(lc, bp - WSIZE) & SIZE_MASK) - DSIZE;
		if (n <= have && n >= FL_MMAP_THRESHOLD)
			return bp;
		goto move;
	}
	asize = adjust(n);
	csize = bsize(lc, bp);
	have = csize - DSIZE;
	if (asize <= csize) {
		/* Shrink in place; the cut-off tail is freed (and coalesced). */
		if (csize - asize >= MIN_BLOCK) {
			set_tags(lc, bp, asize, true);
			set_tags(lc, bp + asize, csize - asize, true);
			free_block(lc, bp + asize);
		}
		return bp;
	}
	nb = bp + csize;
	if (!balloc(lc, nb) && csize + bsize(lc, nb) >= asize) {
		uint64_t total = csize + bsize(lc, nb);

		list_remove(lc, nb);
		if (total - asize >= MIN_BLOCK) {
			set_tags(lc, bp, asize, true);
			set_tags(lc, bp + asize, total - asize, false);
			list_push(lc, bp + asize);
		} else {
			set_tags(lc, bp, total, true);
		}
		EV(&lc->k->probe, LAYER_LIBC, EV_HEAP, "realloc", "grow into the next free block",
		   {"chunk", bp - WSIZE}, {"size", total < asize + MIN_BLOCK ? total : asize});
		return bp;
	}
move:
	nbp = fl_malloc(lc, n);
	if (!nbp)
		return 0;
	libc_memcpy(lc, nbp, bp, have < n ? have : n);
	fl_free(lc, bp);
	return nbp;
}

static uint64_t fl_usable_size(struct libc *lc, vaddr_t bp)
{
	if (validate(lc, bp, "malloc_usable_size(): invalid pointer",
	             "malloc_usable_size(): invalid pointer") == CK_MMAP)
		return (libc_ld64(lc, bp - WSIZE) & SIZE_MASK) - DSIZE;
	return bsize(lc, bp) - DSIZE;
}

static void fl_init(struct libc *lc)
{
	lc->roots = libc_static_alloc(lc, ROOTS_SIZE);
}

/* ---- walk and check (side door: no faults, no events) ---------------------- */

static bool peek(struct libc *lc, vaddr_t va, uint64_t *v)
{
	return libc_peek64(lc, va, v);
}

static bool peek_roots(struct libc *lc, uint64_t r[ROOTS_SIZE / 8])
{
	for (unsigned i = 0; i < ROOTS_SIZE / 8; i++)
		if (!peek(lc, lc->roots + 8 * i, &r[i]))
			return false;
	return true;
}

static void fl_walk(struct libc *lc, chunk_cb_t cb, void *ctx)
{
	uint64_t r[ROOTS_SIZE / 8], h, nh;
	vaddr_t bp, end, m;

	if (!peek_roots(lc, r))
		return;
	if (r[R_HEAP / 8]) {
		end = r[R_END / 8];
		for (bp = r[R_HEAP / 8] + 4 * WSIZE; bp < end; bp += h & SIZE_MASK) {
			struct chunk_info ci = {0};

			if (!peek(lc, bp - WSIZE, &h) || (h & SIZE_MASK) == 0 ||
			    (h & SIZE_MASK) > end - bp)
				break;
			ci.chunk = bp - WSIZE;
			ci.size = h & SIZE_MASK;
			ci.user = bp;
			ci.in_use = h & ALLOC_BIT;
			ci.top =
			    !ci.in_use && peek(lc, bp + ci.size - WSIZE, &nh) && nh == ALLOC_BIT;
			ci.where = ci.in_use ? "in use" : "free list";
			ci.flags = h & ~SIZE_MASK;
			cb(ctx, &ci);
		}
	}
	for (m = r[R_MMAP / 8]; m;) {
		struct chunk_info ci = {0};
		vaddr_t next;

		if (!peek(lc, m, &next) || !peek(lc, m + WSIZE, &h))
			break;
		ci.chunk = m;
		ci.size = h & SIZE_MASK;
		ci.user = m + DSIZE;
		ci.in_use = true;
		ci.mmapped = true;
		ci.where = "mmapped";
		ci.flags = h & ~SIZE_MASK;
		cb(ctx, &ci);
		if (next <= m)
			break;
		m = next;
	}
}

static int cmp_vaddr(const void *a, const void *b)
{
	vaddr_t x = *(const vaddr_t *)a, y = *(const vaddr_t *)b;

	return x < y ? -1 : x > y;
}

static int fl_check(struct libc *lc, FILE *err)
{
	uint64_t r[ROOTS_SIZE / 8], h, f, w;
	vaddr_t start, end, bp, prev, m, *frees = NULL;
	size_t nfree = 0, cap = 0, nlist = 0;
	uint64_t mapped = 0;
	bool prev_free = false, rover_found = false;
	int bad = 0;

#define FL_BAD(...)                                                                                \
	do {                                                                                       \
		if (bad++ == 0 && err) {                                                           \
			fprintf(err, "%s_check: ", lc->ops->name);                                 \
			fprintf(err, __VA_ARGS__);                                                 \
			fputc('\n', err);                                                          \
		}                                                                                  \
	} while (0)
#define X(v) ((unsigned long long)(v))

	if (!peek_roots(lc, r)) {
		/* The bss page was never touched: nothing allocated yet. */
		return 0;
	}
	start = r[R_HEAP / 8];
	end = r[R_END / 8];
	if (!start) {
		if (r[R_FREE / 8] || r[R_ROVER / 8] || end)
			FL_BAD("free list or heap end set before the heap exists");
		goto mmapped;
	}
	if (start & (FL_ALIGN - 1))
		FL_BAD("heap start %#llx not 16-aligned", X(start));
	if (end < start + 4 * WSIZE || (end & (FL_ALIGN - 1)))
		FL_BAD("heap end %#llx bad (start %#llx)", X(end), X(start));
	if (lc->curbrk && end > lc->curbrk)
		FL_BAD("heap end %#llx above the break %#llx", X(end), X(lc->curbrk));
	if (!peek(lc, start + WSIZE, &h) || !peek(lc, start + DSIZE, &f) ||
	    h != (DSIZE | ALLOC_BIT) || f != h)
		FL_BAD("prologue damaged");
	if (!peek(lc, end - WSIZE, &h) || h != ALLOC_BIT)
		FL_BAD("epilogue at %#llx damaged", X(end - WSIZE));
	if (bad)
		goto out;

	/* Implicit walk: tags, alignment, tiling, no two adjacent free blocks. */
	for (bp = start + 4 * WSIZE; bp < end; bp += h & SIZE_MASK) {
		uint64_t size;

		if (!peek(lc, bp - WSIZE, &h)) {
			FL_BAD("header of %#llx not mapped", X(bp));
			goto out;
		}
		size = h & SIZE_MASK;
		if ((bp & (FL_ALIGN - 1)) || size < MIN_BLOCK || size > end - bp ||
		    (h & MMAP_BIT) || (h & 0xc)) {
			FL_BAD("block %#llx: bad header %#llx", X(bp), X(h));
			goto out;
		}
		if (!peek(lc, bp + size - DSIZE, &f) || f != h) {
			FL_BAD("block %#llx: header %#llx != footer %#llx", X(bp), X(h), X(f));
			goto out;
		}
		if (!(h & ALLOC_BIT)) {
			if (prev_free)
				FL_BAD("block %#llx: two adjacent free blocks", X(bp));
			if (nfree == cap)
				GROW_ARRAY(frees, cap, 64);
			frees[nfree++] = bp;
		}
		prev_free = !(h & ALLOC_BIT);
	}
	if (bp != end)
		FL_BAD("blocks end at %#llx, epilogue at %#llx", X(bp), X(end - WSIZE));

	/* Explicit list: links consistent, entries are free blocks, counts agree. */
	prev = 0;
	for (bp = r[R_FREE / 8]; bp; bp = w) {
		if (++nlist > nfree) {
			FL_BAD("free list has more entries than the %zu free blocks (a cycle?)",
			       nfree);
			break;
		}
		if (!bsearch(&bp, frees, nfree, sizeof(*frees), cmp_vaddr)) {
			FL_BAD("list entry %#llx is not a free block", X(bp));
			break;
		}
		if (!peek(lc, bp, &w) || w != prev) {
			FL_BAD("list entry %#llx: pred %#llx, expected %#llx", X(bp), X(w),
			       X(prev));
			break;
		}
		if (bp == r[R_ROVER / 8])
			rover_found = true;
		prev = bp;
		if (!peek(lc, bp + WSIZE, &w))
			break;
	}
	if (bad == 0 && nlist != nfree)
		FL_BAD("%zu free blocks, %zu on the free list", nfree, nlist);
	if (r[R_ROVER / 8] && !rover_found && bad == 0)
		FL_BAD("rover %#llx not on the free list", X(r[R_ROVER / 8]));

mmapped:
	/* Mmapped chunks: page aligned, flagged, sorted; their bytes are libc's count. */
	for (m = r[R_MMAP / 8], prev = 0; m; prev = m, m = w) {
		if ((m & (PAGE_SIZE - 1)) || m <= prev) {
			FL_BAD("mmapped chunk %#llx misplaced", X(m));
			break;
		}
		if (!peek(lc, m, &w) || !peek(lc, m + WSIZE, &h)) {
			FL_BAD("mmapped chunk %#llx not mapped", X(m));
			break;
		}
		if ((h & ~SIZE_MASK) != (MMAP_BIT | ALLOC_BIT) ||
		    (h & SIZE_MASK & (PAGE_SIZE - 1)) || (h & SIZE_MASK) == 0) {
			FL_BAD("mmapped chunk %#llx: bad header %#llx", X(m), X(h));
			break;
		}
		mapped += h & SIZE_MASK;
	}
	if (bad == 0 && mapped != lc->st.mmapped_bytes)
		FL_BAD("mmapped chunks hold %llu bytes, libc counts %llu", X(mapped),
		       X(lc->st.mmapped_bytes));
out:
	hostmem_free(frees);
#undef X
#undef FL_BAD
	return bad;
}

#define FREELIST_OPS(NAME, DESC)                                                                   \
	{                                                                                          \
		.name = NAME, .description = DESC, .init = fl_init, .malloc = fl_malloc,           \
		.free = fl_free, .realloc = fl_realloc, .calloc = NULL, .memalign = NULL,          \
		.usable_size = fl_usable_size, .walk = fl_walk, .check = fl_check,                 \
	}

const struct malloc_ops malloc_ops_firstfit =
    FREELIST_OPS("firstfit", "explicit free list, boundary tags, first fit from the head (CS:APP)");
const struct malloc_ops malloc_ops_nextfit =
    FREELIST_OPS("nextfit", "explicit free list, boundary tags, next fit from a roving pointer");
const struct malloc_ops malloc_ops_bestfit =
    FREELIST_OPS("bestfit", "explicit free list, boundary tags, best fit: the tightest block");
