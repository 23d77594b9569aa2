/*
 * buddy.h - the buddy page allocator (mm/page_alloc.c, include/linux/mmzone.h).
 *
 * One zone ("Normal") over the machine's frames. free_area[order] for orders
 * 0..MAX_PAGE_ORDER holds blocks of 2^order frames in a doubly linked list
 * threaded through struct frame (next/prev pfns) and nr_free counting blocks.
 * Allocation (__rmqueue_smallest) takes the smallest non-empty order >= the
 * request and splits it (expand), keeping the low half. Freeing
 * (__free_one_page) merges with the buddy at pfn ^ (1 << order) while it is
 * free and of the same order. All list operations are O(1).
 */
#ifndef KERNEL_SIM_BUDDY_H
#define KERNEL_SIM_BUDDY_H

#include <stdio.h>

#include "../vm/phys.h"
#include "../vm/probe.h"

#define MAX_PAGE_ORDER 10
#define NR_PAGE_ORDERS (MAX_PAGE_ORDER + 1)

struct free_area {
	uint32_t head;    /* first pfn of the list, FRAME_LINK_NONE when empty */
	uint64_t nr_free; /* blocks (not pages) on the list */
};

/* zone->_watermark[] (include/linux/mmzone.h enum zone_watermarks) */
enum zone_watermarks { WMARK_MIN, WMARK_LOW, WMARK_HIGH, WMARK_PROMO, NR_WMARK };

/*
 * The allocation slow path (page_alloc.c's __alloc_pages_slowpath): called
 * by buddy_alloc inside __alloc_pages when get_page_from_freelist fails the
 * low watermark. Returns a block prepared by buddy_get_page_from_freelist,
 * or PFN_NONE.
 */
typedef pfn_t (*buddy_slowpath_t)(void *ctx, unsigned order, int kind);

struct buddy {
	struct phys *phys;   /* borrowed */
	struct probe *probe; /* borrowed; may be NULL */
	pfn_t start_pfn;     /* first frame managed (frames below are FK_RESERVED) */
	uint64_t managed;    /* frames managed */
	uint64_t free_pages; /* sum over orders of nr_free << order */
	struct free_area free_area[NR_PAGE_ORDERS];
	/* Bit o set when free_area[o] is not empty: __rmqueue_smallest finds
	   the smallest order >= the request with a block in one step instead
	   of a loop whose trip count the branch predictor keeps missing. */
	uint32_t nonempty;
	/*
	 * Fault injection (should_fail_alloc_page): fail_after = N: the next N
	 * allocations succeed, every later one fails until reset to -1.
	 * (An attempt counts even when it then fails for lack of memory.)
	 * -1, set by buddy_init, disables it.
	 */
	int64_t fail_after;
	/*
	 * Watermarks in pages (page_alloc.c sets them). The fast path of
	 * buddy_alloc takes a block only while free pages stay above
	 * watermark[WMARK_LOW], and only when a slow path is registered:
	 * without one (the allocator's own tests) there are no watermarks.
	 */
	uint64_t watermark[NR_WMARK];
	buddy_slowpath_t slowpath;
	void *slowpath_ctx;
	uint64_t allocs; /* successful buddy_alloc calls */
	uint64_t frees;  /* buddy_free calls */
	uint64_t failed; /* buddy_alloc calls that returned PFN_NONE (injected or real) */
};

/*
 * Give frames [start_pfn, nr_frames) to the allocator in the largest naturally
 * aligned blocks; frames below start_pfn become FK_RESERVED, refcount 1.
 * ph must be fresh from phys_init (descriptors all zero = FK_FREE, refcount
 * 0): only block heads are written, so a 4 GiB machine touches ~1/2 of its
 * descriptor pages, not all. Emits no events. Panics if start_pfn >
 * nr_frames or nr_frames does not fit the list links (PHYS_MAX_FRAMES).
 */
void buddy_init(struct buddy *b, struct phys *ph, struct probe *probe, pfn_t start_pfn);

/*
 * alloc_pages: a block of 2^order frames (order <= MAX_PAGE_ORDER), every
 * frame of it marked kind (not FK_FREE); the head has FRAME_HEAD, the order
 * and refcount 1, the other frames flags 0 and refcount 0 (Linux's tail
 * pages of a non-compound allocation). Contents are not cleared.
 * Returns the first pfn (aligned to 2^order), or PFN_NONE when no block is
 * free or fail_after injects a failure; the allocator is then unchanged.
 * Emits calls/returns of __alloc_pages -> get_page_from_freelist -> rmqueue
 * -> __rmqueue_smallest (-> expand when it splits), EV_BUDDY_SPLIT per half
 * and EV_FRAME_ALLOC. Panics on a bad order or kind. buddy_alloc_ready and
 * buddy_alloc_page_ready below mirror it: change them with it.
 */
pfn_t buddy_alloc(struct buddy *b, unsigned order, int kind);
/*
 * __zone_watermark_ok for order: free pages, less the 2^order - 1 that the
 * request takes beyond one page, stay above mark.
 */
static inline bool zone_watermark_ok(const struct buddy *b, unsigned order, uint64_t mark)
{
	uint64_t need = (1ULL << order) - 1;

	return b->free_pages > need && b->free_pages - need > mark;
}
/*
 * Whether buddy_alloc(b, order, ...) would now take a block straight from
 * the free lists: no injected failure due (fail_after), the zone above its
 * low watermark when a slow path is registered, a free block of order or
 * more. Then it neither fails nor enters the slow path (the fault's fast
 * path asks, kernel_sim/fault.c). Mirrors buddy_alloc: change both.
 */
static inline bool buddy_alloc_ready(const struct buddy *b, unsigned order)
{
	if (b->fail_after == 0)
		return false;
	if (!b->slowpath)
		return (b->nonempty >> order) != 0;
	/* Above the watermark, at least one page is free: for order 0 that
	   is a free block (free_pages counts the blocks on the lists). */
	return zone_watermark_ok(b, order, b->watermark[WMARK_LOW]) &&
	       (order == 0 || (b->nonempty >> order) != 0);
}
/* The frame buddy_alloc_page_ready(b, ...) will take, changing nothing
   (buddy_alloc_ready(b, 0) said yes): the head of the lowest list with a
   block. */
static inline pfn_t buddy_page_ready_pfn(const struct buddy *b)
{
	return b->free_area[__builtin_ctz(b->nonempty)].head;
}

/*
 * buddy_alloc(b, 0, kind) once buddy_alloc_ready(b, 0) said yes, with no
 * sink on b->probe (the fault's fast path, kernel_sim/fault.c): the same
 * frame, the same descriptors, lists and counts; the events buddy_alloc
 * counts on b->probe are left to the caller, their number in *events
 * (the fast path adds them to the kernel's probe, which b->probe is,
 * without testing b->probe for NULL). Inline, and cheaper than the general
 * path in what it knows:
 * o, the lowest order with a block, is the one taken, and every list below
 * it is empty, so the split (expand) puts one block alone on each of
 * them, and the zone loses one page in all. Whole descriptors are written
 * at once (a bit-field store is a load, masks and a store). Mirrors
 * buddy_alloc: change both (tests/test_fastfault.c compares them).
 */
static inline pfn_t buddy_alloc_page_ready(struct buddy *b, int kind, uint64_t *events)
{
	struct frame *frames = b->phys->frames;
	uint32_t nonempty = b->nonempty;
	unsigned o = (unsigned)__builtin_ctz(nonempty);
	struct free_area *area = &b->free_area[o];
	pfn_t pfn = area->head, size = 1ULL << o;
	struct frame *f = &frames[pfn];
	uint32_t next = f->next;

	/* should_fail_alloc_page: fail_after is -1 (off) or, being ready, > 0 */
	if (b->fail_after > 0)
		b->fail_after--;
	b->free_pages--; /* 2^o pages off the lists, 2^o - 1 back on them */
	b->allocs++;
	/* buddy_alloc's count: __alloc_pages, get_page_from_freelist, rmqueue
	   and __rmqueue_smallest called and returned, the allocation; with a
	   split, expand's call and return and one event per half */
	*events = 9 + (o ? 2 + o : 0);
	/* del_page_from_free_list: pfn heads its list, so it has no prev */
	area->head = next;
	if (--area->nr_free == 0)
		nonempty &= ~(1u << o);
	b->nonempty = nonempty | (uint32_t)(size - 1);
	if (next != FRAME_LINK_NONE)
		frame_set_prev(&frames[next], FRAME_LINK_NONE);
	/* prep_new_page */
	*f = (struct frame){.refcount = 1, .flags = FRAME_HEAD, .order = 0, .kind = (unsigned)kind};
	/* expand: the upper halves, each alone on its list (empty until now) */
	while (area > b->free_area) {
		area--;
		size >>= 1;
		frames[pfn + size] =
		    (struct frame){.next = FRAME_LINK_NONE,
		                   .prev_hi = FRAME_LINK_NONE >> FRAME_PREV_LO_BITS,
		                   .prev_lo = FRAME_LINK_NONE & ((1u << FRAME_PREV_LO_BITS) - 1),
		                   .flags = FRAME_BUDDY,
		                   .order = (unsigned)(area - b->free_area),
		                   .kind = FK_FREE};
		area->head = (uint32_t)(pfn + size);
		area->nr_free = 1;
	}
	return pfn;
}

/*
 * get_page_from_freelist with a given watermark (0: none), for the slow
 * path's retries: a prepared block as buddy_alloc gives it (without its
 * EV_FRAME_ALLOC, which buddy_alloc emits), or PFN_NONE.
 */
pfn_t buddy_get_page_from_freelist(struct buddy *b, unsigned order, int kind, uint64_t mark);
/*
 * __free_pages: give back a block taken with buddy_alloc of that order; it
 * merges with free buddies. The caller's reference (refcount 0 or 1) is
 * dropped; every frame becomes FK_FREE, refcount 0. Panics ("buddy_free:
 * reason") on a double free, a pfn that is not the head of an allocated
 * block, a wrong order, or a frame still referenced (refcount > 1); these
 * checks stay on in release builds. Emits __free_pages -> __free_one_page,
 * EV_FRAME_FREE (the block as given) and EV_BUDDY_MERGE per merge.
 */
void buddy_free(struct buddy *b, pfn_t pfn, unsigned order);

/*
 * Free blocks aligned, in range, on the list of their order with FRAME_BUDDY,
 * all their frames FK_FREE/refcount 0; none with a free buddy of the same
 * order; links and nr_free consistent; free + allocated = managed.
 * O(nr_frames): reads every descriptor (on a big machine that backs them all).
 * Returns #broken invariants, reports the first to err (NULL: silent).
 */
int buddy_check(const struct buddy *b, FILE *err);
void buddy_dump(const struct buddy *b, FILE *out);
/* /proc/buddyinfo: "Node 0, zone   Normal " then "%6lu " per order 0..10, newline. */
void buddy_print_info(const struct buddy *b, FILE *out);

#endif
