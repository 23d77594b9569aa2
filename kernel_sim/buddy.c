/*
 * buddy.c - the buddy page allocator of one zone, after Linux's mm/page_alloc.c.
 *
 * Allocation follows __alloc_pages -> get_page_from_freelist -> rmqueue ->
 * __rmqueue_smallest -> expand: take the smallest non-empty free_area at or
 * above the request and halve it, putting each upper half on the next lower
 * list, until it has the requested order. Freeing follows __free_pages ->
 * __free_one_page: merge with the buddy at pfn ^ (1 << order) while that buddy
 * is a free block of the same order. One CPU, so no per-CPU lists (Linux
 * serves orders 0-3 from them first) and one migrate type.
 * The free lists are threaded through struct frame (pfn links), so every list
 * operation is O(1) and the allocator allocates no host memory. A free head's
 * link to the next block takes the word of its reference count (vm/phys.h).
 */
#include "buddy.h"

#include <inttypes.h>
#include <stdarg.h>

#include "../vm/panic.h"

/*
 * Events go to p, the probe when it has a sink, else NULL. A probe without a
 * sink only numbers events (probe.h), and every call opened here is closed
 * before buddy_alloc/buddy_free return, so then the events are only counted
 * and the sequence number is advanced once at the end (quiet_events): the
 * same numbering, none of the calls on the fast path (buddy_ns_per_op).
 */
#define BUDDY_CALL(p, fn, ...)                                                                     \
	do {                                                                                       \
		if (p)                                                                             \
			probe_call((p), LAYER_KERNEL, (fn), __VA_ARGS__);                          \
	} while (0)
#define BUDDY_RET(p, fn, ...)                                                                      \
	do {                                                                                       \
		if (p)                                                                             \
			probe_ret((p), LAYER_KERNEL, (fn), __VA_ARGS__);                           \
	} while (0)
#define BUDDY_EV(p, kind, fn, text, ...)                                                           \
	do {                                                                                       \
		if (p)                                                                             \
			EV((p), LAYER_KERNEL, (kind), (fn), (text), __VA_ARGS__);                  \
	} while (0)

static inline struct probe *tracing(const struct buddy *b)
{
	return b->probe && b->probe->sink ? b->probe : NULL;
}

/* Number the events that were not emitted because the probe has no sink. */
static inline void quiet_events(struct buddy *b, const struct probe *p, unsigned n)
{
	if (b->probe && !p)
		b->probe->others += n; /* balanced calls and returns: the depth is unchanged */
}

static inline struct frame *pfn_to_frame(const struct buddy *b, pfn_t pfn)
{
	return &b->phys->frames[pfn];
}

/* Whether [pfn, pfn + 2^order) lies inside [start_pfn, nr_frames). */
static inline bool block_in_range(const struct buddy *b, pfn_t pfn, unsigned order)
{
	return pfn >= b->start_pfn && pfn < b->phys->nr_frames &&
	       (1ULL << order) <= b->phys->nr_frames - pfn;
}

/*
 * add_to_free_list + set_buddy_order: pfn becomes the head of a free block of
 * 2^order frames (PageBuddy), pushed on the front of free_area[order] so that
 * the most recently freed block is reused first (it is cache-hot in Linux).
 * The block's other frames must already be FK_FREE, refcount 0, flags 0.
 */
static inline void add_to_free_list(struct buddy *b, pfn_t pfn, unsigned order)
{
	struct free_area *area = &b->free_area[order];
	struct frame *f = pfn_to_frame(b, pfn);

	f->next = area->head; /* the word of the reference count: a free head has none */
	frame_set_prev(f, FRAME_LINK_NONE);
	f->flags = FRAME_BUDDY;
	f->order = (uint8_t)order;
	f->kind = FK_FREE;
	if (area->head != FRAME_LINK_NONE)
		frame_set_prev(pfn_to_frame(b, area->head), (uint32_t)pfn);
	area->head = (uint32_t)pfn;
	area->nr_free++;
	b->nonempty |= 1u << order;
	b->free_pages += 1ULL << order;
}

/*
 * del_page_from_free_list: unlink the free block headed by pfn and clear its
 * buddy mark (__ClearPageBuddy), leaving an all-zero descriptor: the frame is
 * about to become a tail of a merged block or the head of an allocated one.
 */
static inline void del_page_from_free_list(struct buddy *b, pfn_t pfn, unsigned order)
{
	struct free_area *area = &b->free_area[order];
	struct frame *f = pfn_to_frame(b, pfn);

	uint32_t prev = frame_prev(f);

	if (prev != FRAME_LINK_NONE)
		pfn_to_frame(b, prev)->next = f->next;
	else
		area->head = f->next;
	if (f->next != FRAME_LINK_NONE)
		frame_set_prev(pfn_to_frame(b, f->next), prev);
	*f = (struct frame){0};
	if (--area->nr_free == 0)
		b->nonempty &= ~(1u << order);
	b->free_pages -= 1ULL << order;
}

void buddy_init(struct buddy *b, struct phys *ph, struct probe *probe, pfn_t start_pfn)
{
	/* The tail of each list while building, so that the lists run in pfn
	   order and the first allocations come from low memory, as Linux's
	   __free_pages_core (FPI_TO_TAIL) arranges at boot. */
	uint32_t tail[NR_PAGE_ORDERS];
	pfn_t pfn;

	if (ph->nr_frames > PHYS_MAX_FRAMES)
		panic("%" PRIu64 " frames do not fit %d-bit free-list links", ph->nr_frames,
		      FRAME_LINK_BITS);
	if (start_pfn > ph->nr_frames)
		panic("start_pfn %#" PRIx64 " beyond %" PRIu64 " frames", start_pfn, ph->nr_frames);

	*b = (struct buddy){
	    .phys = ph,
	    .probe = probe,
	    .start_pfn = start_pfn,
	    .managed = ph->nr_frames - start_pfn,
	    .fail_after = -1,
	};
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
		b->free_area[o].head = FRAME_LINK_NONE;
		tail[o] = FRAME_LINK_NONE;
	}

	for (pfn = 0; pfn < start_pfn; pfn++) {
		struct frame *f = pfn_to_frame(b, pfn);

		*f = (struct frame){.refcount = 1, .kind = FK_RESERVED};
	}

	/*
	 * Largest naturally aligned block that still fits: from pfn 1 on a
	 * 16384-frame machine that is 1 (order 0), 2 (1), 4 (2), ... 512 (9),
	 * then 1024, 2048, ... (order 10). Only the head descriptors are written;
	 * the others stay as phys_init left them (zero: FK_FREE, refcount 0).
	 */
	for (pfn = start_pfn; pfn < ph->nr_frames;) {
		unsigned order = MAX_PAGE_ORDER;
		struct frame *f;

		while ((pfn & ((1ULL << order) - 1)) || (1ULL << order) > ph->nr_frames - pfn)
			order--;
		f = pfn_to_frame(b, pfn);
		*f = (struct frame){.next = FRAME_LINK_NONE};
		frame_set_prev(f, tail[order]);
		f->flags = FRAME_BUDDY;
		f->order = (uint8_t)order;
		if (tail[order] == FRAME_LINK_NONE)
			b->free_area[order].head = (uint32_t)pfn;
		else
			pfn_to_frame(b, tail[order])->next = (uint32_t)pfn;
		tail[order] = (uint32_t)pfn;
		b->free_area[order].nr_free++;
		b->nonempty |= 1u << order;
		b->free_pages += 1ULL << order;
		pfn += 1ULL << order;
	}
}

/*
 * expand: the block at pfn of order high was taken for a request of order
 * low. Halve it high - low times, each time putting the upper half
 * &page[size] on free_area of the halved order and keeping the lower half:
 * an order-3 block at 8 for an order-0 request leaves 12 (order 2),
 * 10 (order 1) and 9 (order 0) free and returns 8. Inline into
 * __rmqueue_smallest: nearly every order-0 allocation splits a block.
 */
static inline __attribute__((always_inline)) void
expand(struct buddy *b, struct probe *p, pfn_t pfn, unsigned low, unsigned high)
{
	uint64_t size = 1ULL << high;

	BUDDY_CALL(p, "expand", {"pfn", pfn}, {"low", low}, {"high", high});
	while (high > low) {
		high--;
		size >>= 1;
		add_to_free_list(b, pfn + size, high);
		BUDDY_EV(p, EV_BUDDY_SPLIT, "expand", NULL, {"pfn", pfn + size}, {"order", high});
	}
	BUDDY_RET(p, "expand", {"ret", 0});
}

/*
 * __rmqueue_smallest: the smallest free block of at least order, split down
 * to order. *found is the order of the block taken (order when none).
 */
static inline __attribute__((always_inline)) pfn_t
rmqueue_smallest(struct buddy *b, struct probe *p, unsigned order, unsigned *found)
{
	pfn_t pfn = PFN_NONE;
	/* The orders >= order that have a block (Linux scans them in turn). */
	uint32_t orders = b->nonempty & ~((1u << order) - 1);

	*found = order;
	BUDDY_CALL(p, "__rmqueue_smallest", {"order", order});
	if (orders) {
		unsigned o = (unsigned)__builtin_ctz(orders);

		pfn = b->free_area[o].head;
		del_page_from_free_list(b, pfn, o);
		if (o > order)
			expand(b, p, pfn, order, o);
		*found = o;
	}
	BUDDY_RET(p, "__rmqueue_smallest", {"ret", pfn});
	return pfn;
}

/*
 * prep_new_page: mark every frame of the new block with its owner. The tails
 * are all-zero descriptors (free-block invariant), so only kind changes there.
 */
static void prep_new_page(struct buddy *b, pfn_t pfn, unsigned order, int kind)
{
	struct frame *f = pfn_to_frame(b, pfn);
	uint64_t n = 1ULL << order;

	*f = (struct frame){
	    .refcount = 1, .flags = FRAME_HEAD, .order = order, .kind = (unsigned)kind};
	for (uint64_t i = 1; i < n; i++)
		f[i].kind = (uint8_t)kind;
}

/*
 * get_page_from_freelist -> rmqueue -> __rmqueue_smallest, after the zone's
 * watermark check. Returns the block or PFN_NONE; *quiet counts the events
 * not emitted for lack of a sink.
 */
static inline __attribute__((always_inline)) pfn_t
get_page_from_freelist(struct buddy *b, struct probe *p, unsigned order, int kind, uint64_t mark,
                       unsigned *quiet)
{
	unsigned found;
	pfn_t pfn;

	BUDDY_CALL(p, "get_page_from_freelist", {"order", order});
	if (mark && !zone_watermark_ok(b, order, mark)) {
		BUDDY_EV(p, EV_NOTE, "zone_watermark_ok", "free pages at or below the watermark",
		         {"free", b->free_pages}, {"mark", mark}, {"order", order});
		BUDDY_RET(p, "get_page_from_freelist", {"ret", PFN_NONE});
		*quiet += 3;
		return PFN_NONE;
	}
	BUDDY_CALL(p, "rmqueue", {"order", order});
	pfn = rmqueue_smallest(b, p, order, &found);
	BUDDY_RET(p, "rmqueue", {"ret", pfn});
	if (pfn != PFN_NONE)
		prep_new_page(b, pfn, order, kind);
	BUDDY_RET(p, "get_page_from_freelist", {"ret", pfn});
	/* 3 calls and returns, expand's call, return and splits */
	*quiet += 6 + (found > order ? 2 + found - order : 0);
	return pfn;
}

pfn_t buddy_get_page_from_freelist(struct buddy *b, unsigned order, int kind, uint64_t mark)
{
	struct probe *p = tracing(b);
	unsigned quiet = 0;
	pfn_t pfn = get_page_from_freelist(b, p, order, kind, mark, &quiet);

	quiet_events(b, p, quiet);
	return pfn;
}

pfn_t buddy_alloc(struct buddy *b, unsigned order, int kind)
{
	struct probe *p = tracing(b);
	unsigned quiet = 0;
	pfn_t pfn;

	if (order > MAX_PAGE_ORDER)
		panic("order %u > MAX_PAGE_ORDER", order);
	if (kind <= FK_FREE || kind >= FK__COUNT)
		panic("bad frame kind %d", kind);

	BUDDY_CALL(p, "__alloc_pages", {"order", order});
	/* should_fail_alloc_page: see struct buddy for the exact meaning of fail_after. */
	if (b->fail_after >= 0) {
		if (b->fail_after == 0) {
			b->failed++;
			BUDDY_EV(p, EV_NOTE, "should_fail_alloc_page",
			         "injected failure (fail_after)", {"order", order});
			BUDDY_RET(p, "__alloc_pages", {"ret", PFN_NONE});
			quiet_events(b, p, 3);
			return PFN_NONE;
		}
		b->fail_after--;
	}

	pfn = get_page_from_freelist(b, p, order, kind, b->slowpath ? b->watermark[WMARK_LOW] : 0,
	                             &quiet);
	if (pfn == PFN_NONE && b->slowpath) {
		/* Its events are its own: flush the count of ours so far first. */
		quiet_events(b, p, quiet);
		quiet = 0;
		pfn = b->slowpath(b->slowpath_ctx, order, kind);
		p = tracing(b);
	}
	if (pfn == PFN_NONE) {
		b->failed++;
	} else {
		b->allocs++;
		BUDDY_EV(p, EV_FRAME_ALLOC, "__alloc_pages", NULL, {"pfn", pfn}, {"order", order});
	}
	BUDDY_RET(p, "__alloc_pages", {"ret", pfn});
	/* __alloc_pages' call and return, the allocation */
	quiet_events(b, p, quiet + 2 + (pfn != PFN_NONE));
	return pfn;
}

/*
 * The checks of free_pages_prepare / bad_page, kept on in every build:
 * pfn must be the head of an allocated block of exactly this order whose
 * frames all still belong to it. Then every descriptor is reset to zero
 * (FK_FREE, refcount 0). Debug builds do not fill the frames with junk
 * (phys_fill_frame): that would back the host memory of every freed frame,
 * which a 4 GiB machine must not pay for.
 */
static void free_pages_prepare(struct buddy *b, pfn_t pfn, unsigned order)
{
	struct frame *f;
	uint64_t n = 1ULL << order;

	if (order > MAX_PAGE_ORDER)
		panic("order %u > MAX_PAGE_ORDER (pfn %#" PRIx64 ")", order, pfn);
	if (!block_in_range(b, pfn, order))
		panic("pfn %#" PRIx64 " order %u outside the managed frames [%#" PRIx64
		      ", %#" PRIx64 ")",
		      pfn, order, b->start_pfn, b->phys->nr_frames);
	if (pfn & (n - 1))
		panic("pfn %#" PRIx64 " not aligned to order %u", pfn, order);
	f = pfn_to_frame(b, pfn);
	if ((f->flags & FRAME_BUDDY) || f->kind == FK_FREE)
		panic("double free of pfn %#" PRIx64 " (order %u): it is already free", pfn, order);
	if (!(f->flags & FRAME_HEAD))
		panic("pfn %#" PRIx64 " is not the head of an allocated block", pfn);
	if (f->order != order)
		panic("wrong order: pfn %#" PRIx64 " freed with order %u, allocated with order %u",
		      pfn, order, f->order);
	if (f->refcount < 0 || f->refcount > 1)
		panic("pfn %#" PRIx64 " still referenced (refcount %d)", pfn, (int)f->refcount);
	for (uint64_t i = 1; i < n; i++) {
		if (f[i].kind == FK_FREE || (f[i].flags & (FRAME_BUDDY | FRAME_HEAD)))
			panic("frame %#" PRIx64 " of the order-%u block at %#" PRIx64
			      " is not its tail (kind %d, flags %#x)",
			      pfn + i, order, pfn, f[i].kind, f[i].flags);
	}
	for (uint64_t i = 0; i < n; i++)
		f[i] = (struct frame){0};
}

/*
 * __free_one_page: merge, then put the block on its list; returns the final order.
 * The buddy of the order-o block at pfn is pfn ^ (1 << o): page 8's order-1
 * buddy is page 10 (8 ^ 2), and page 10's is page 8. If it heads a free block
 * of the same order, take it off its list; the merged block starts at the
 * lower of the two (pfn & buddy: 8 & 10 = 8) and has order o + 1: then
 * page 8's order-2 buddy is page 12 (8 ^ 4), and so on. A buddy outside the
 * managed range (below start_pfn, beyond the last frame) never merges.
 */
static unsigned free_one_page(struct buddy *b, struct probe *p, pfn_t pfn, unsigned order)
{
	BUDDY_CALL(p, "__free_one_page", {"pfn", pfn}, {"order", order});
	while (order < MAX_PAGE_ORDER) {
		/* find_buddy_page_pfn: computed and validated together. */
		pfn_t buddy = pfn ^ (1ULL << order);
		const struct frame *bf;

		if (!block_in_range(b, buddy, order))
			break;
		bf = pfn_to_frame(b, buddy);
		if (!(bf->flags & FRAME_BUDDY) || bf->order != order)
			break;
		del_page_from_free_list(b, buddy, order);
		BUDDY_EV(p, EV_BUDDY_MERGE, "__free_one_page", NULL, {"pfn", pfn}, {"buddy", buddy},
		         {"order", order});
		pfn &= buddy;
		order++;
	}
	add_to_free_list(b, pfn, order);
	BUDDY_RET(p, "__free_one_page", {"pfn", pfn}, {"order", order});
	return order;
}

void buddy_free(struct buddy *b, pfn_t pfn, unsigned order)
{
	struct probe *p = tracing(b);
	unsigned merged;

	BUDDY_CALL(p, "__free_pages", {"pfn", pfn}, {"order", order});
	free_pages_prepare(b, pfn, order);
	b->frees++;
	BUDDY_EV(p, EV_FRAME_FREE, "__free_pages", NULL, {"pfn", pfn}, {"order", order});
	merged = free_one_page(b, p, pfn, order);
	BUDDY_RET(p, "__free_pages", {"ret", 0});
	/* 2 calls and returns, the free, one event per merge */
	quiet_events(b, p, 5 + merged - order);
}

/* ---- checker, dump, /proc/buddyinfo ------------------------------------- */

struct check {
	FILE *err;
	int broken;
};

static void __attribute__((format(printf, 2, 3))) broken(struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->broken++ == 0 && c->err) {
		fputs("buddy_check: ", c->err);
		va_start(ap, fmt);
		vfprintf(c->err, fmt, ap);
		va_end(ap);
		fputc('\n', c->err);
	}
}

/* One list: links, block heads, alignment, range, frames, unmerged buddies. */
static uint64_t check_list(const struct buddy *b, unsigned o, struct check *c)
{
	const uint64_t n = 1ULL << o;
	uint64_t count = 0, limit = b->managed / n + 1;
	uint32_t prev = FRAME_LINK_NONE;

	for (uint32_t pfn = b->free_area[o].head; pfn != FRAME_LINK_NONE;) {
		const struct frame *f;
		pfn_t buddy = pfn ^ n;

		if (++count > limit) {
			broken(c, "order %u: list longer than %" PRIu64 " blocks (a cycle?)", o,
			       limit);
			break;
		}
		if (!block_in_range(b, pfn, o)) {
			broken(c, "order %u: block %#x outside the managed range", o, pfn);
			break;
		}
		f = pfn_to_frame(b, pfn);
		if (frame_prev(f) != prev)
			broken(c, "order %u: block %#x has prev %#x, expected %#x", o, pfn,
			       frame_prev(f), prev);
		if (pfn & (n - 1))
			broken(c, "order %u: block %#x not aligned to its order", o, pfn);
		if (!(f->flags & FRAME_BUDDY) || (f->flags & FRAME_HEAD) || f->order != o)
			broken(c, "order %u: block %#x has flags %#x order %u", o, pfn, f->flags,
			       f->order);
		for (uint64_t i = 0; i < n; i++) {
			if (f[i].kind != FK_FREE || frame_refcount(&f[i]) != 0)
				broken(c,
				       "order %u: frame %#" PRIx64
				       " of free block %#x has kind %d refcount %d",
				       o, pfn + i, pfn, f[i].kind, (int)frame_refcount(&f[i]));
			if (i && f[i].flags)
				broken(c,
				       "order %u: tail frame %#" PRIx64
				       " of free block %#x has flags %#x",
				       o, pfn + i, pfn, f[i].flags);
		}
		if (o < MAX_PAGE_ORDER && block_in_range(b, buddy, o)) {
			const struct frame *bf = pfn_to_frame(b, buddy);

			if ((bf->flags & FRAME_BUDDY) && bf->order == o)
				broken(c,
				       "order %u: free block %#x and its buddy %#" PRIx64
				       " not merged",
				       o, pfn, buddy);
		}
		prev = pfn;
		pfn = f->next;
	}
	return count;
}

int buddy_check(const struct buddy *b, FILE *err)
{
	struct check c = {.err = err};
	const struct phys *ph = b->phys;
	uint64_t free_pages = 0, heads = 0, blocks = 0, allocated = 0;

	if (b->start_pfn > ph->nr_frames || b->managed != ph->nr_frames - b->start_pfn) {
		broken(&c, "managed %" PRIu64 " != %" PRIu64 " frames - start_pfn %#" PRIx64,
		       b->managed, ph->nr_frames, b->start_pfn);
		return c.broken;
	}
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
		uint64_t count = check_list(b, o, &c);

		if (count != b->free_area[o].nr_free)
			broken(&c,
			       "order %u: nr_free %" PRIu64 " but %" PRIu64 " blocks on the list",
			       o, b->free_area[o].nr_free, count);
		free_pages += b->free_area[o].nr_free << o;
		blocks += b->free_area[o].nr_free;
		if (!(b->nonempty >> o & 1) != !b->free_area[o].nr_free)
			broken(&c, "order %u: nonempty bit %u but nr_free %" PRIu64, o,
			       b->nonempty >> o & 1, b->free_area[o].nr_free);
	}
	if (b->nonempty >> NR_PAGE_ORDERS)
		broken(&c, "nonempty %#x has bits above order %d", b->nonempty, MAX_PAGE_ORDER);
	if (free_pages != b->free_pages)
		broken(&c, "free_pages %" PRIu64 " != %" PRIu64 " counted on the lists",
		       b->free_pages, free_pages);

	for (pfn_t pfn = 0; pfn < b->start_pfn; pfn++) {
		const struct frame *f = pfn_to_frame(b, pfn);

		if (f->kind == FK_FREE || (f->flags & FRAME_BUDDY))
			broken(&c, "frame %#" PRIx64 " below start_pfn is free", pfn);
	}
	for (pfn_t pfn = b->start_pfn; pfn < ph->nr_frames; pfn++) {
		const struct frame *f = pfn_to_frame(b, pfn);

		if (f->flags & FRAME_BUDDY)
			heads++;
		if (f->kind != FK_FREE)
			allocated++;
		if ((f->flags & FRAME_HEAD) &&
		    (f->order > MAX_PAGE_ORDER || (pfn & ((1ULL << f->order) - 1)) ||
		     !block_in_range(b, pfn, f->order)))
			broken(&c, "allocated block %#" PRIx64 " of order %u misplaced", pfn,
			       f->order);
	}
	/* A buddy-marked head on no list would be lost memory. */
	if (heads != blocks)
		broken(&c, "%" PRIu64 " frames marked FRAME_BUDDY, %" PRIu64 " blocks on the lists",
		       heads, blocks);
	if (free_pages + allocated != b->managed)
		broken(&c, "free %" PRIu64 " + allocated %" PRIu64 " != managed %" PRIu64,
		       free_pages, allocated, b->managed);
	return c.broken;
}

/* State and the first blocks of each list; safe on a corrupted allocator. */
void buddy_dump(const struct buddy *b, FILE *out)
{
	fprintf(out,
	        "buddy: frames [%#" PRIx64 ", %#" PRIx64 "), managed %" PRIu64 ", free %" PRIu64
	        " pages\n",
	        b->start_pfn, b->phys->nr_frames, b->managed, b->free_pages);
	fprintf(out,
	        "buddy: allocs %" PRIu64 " frees %" PRIu64 " failed %" PRIu64 " fail_after %" PRId64
	        "\n",
	        b->allocs, b->frees, b->failed, b->fail_after);
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
		unsigned shown = 0;

		fprintf(out, "  order %2u: nr_free %6" PRIu64 " ", o, b->free_area[o].nr_free);
		for (uint32_t pfn = b->free_area[o].head; pfn != FRAME_LINK_NONE;
		     pfn = pfn_to_frame(b, pfn)->next) {
			if (shown++ == 8) {
				fputs(" ...", out);
				break;
			}
			fprintf(out, " %#x", pfn);
			if (pfn >= b->phys->nr_frames) {
				fputs(" (beyond RAM: corrupt link)", out);
				break;
			}
		}
		fputc('\n', out);
	}
}

/* mm/vmstat.c frag_show_print: one line per zone. */
void buddy_print_info(const struct buddy *b, FILE *out)
{
	fprintf(out, "Node %d, zone %8s ", 0, "Normal");
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
		fprintf(out, "%6lu ", (unsigned long)b->free_area[o].nr_free);
	fputc('\n', out);
}
