/*
 * seed.c - the allocator of the seed article (DESIGN.md, policy "seed"):
 * J. Bartlett's "Inside memory management" malloc, the classic tutorial one.
 * A control block {is_available, size} sits before every block; malloc walks
 * the blocks from managed_memory_start to last_valid_address and takes the
 * first available one that is big enough (no splitting), else grows the heap
 * by exactly the block with sbrk. free only marks the block available (no
 * coalescing). Its bugs are fixed -- 8-byte fields so the control block is 16
 * bytes and every payload 16-aligned, 64-bit sizes, sbrk failure checked --
 * its policy kept. It checks nothing on free by design: a double free or a
 * wild pointer silently corrupts the heap, as in the article.
 *
 *   managed_memory_start                          last_valid_address (= brk)
 *   | avail | size | payload ... | avail | size | payload ... |
 *   |<----------- size -------->|
 */
#include <string.h>

#include "../vm/panic.h"
#include "libc.h"

#define MCB_SIZE   16 /* struct mem_control_block { u64 is_available; u64 size; } */
#define MCB_AVAIL  0  /* offsets in the control block */
#define MCB_SIZEF  8
#define SEED_ALIGN 16

/* Roots in the bss (the article's globals; has_initialized is start != 0). */
#define ROOT_START 0 /* managed_memory_start */
#define ROOT_LAST  8 /* last_valid_address: end of the last block */

static vaddr_t root(struct libc *lc, unsigned off)
{
	return lc->roots + off;
}

static void seed_init(struct libc *lc)
{
	lc->roots = libc_static_alloc(lc, 16);
}

/* malloc_init of the article: learn the break; align it (a fix). 0 or -1. */
static int seed_heap_init(struct libc *lc)
{
	vaddr_t cur = libc_sbrk(lc, 0);
	uint64_t pad;

	if (cur == (vaddr_t)-1)
		return -1;
	pad = (SEED_ALIGN - (cur & (SEED_ALIGN - 1))) & (SEED_ALIGN - 1);
	if (pad) {
		if (libc_sbrk(lc, (int64_t)pad) == (vaddr_t)-1)
			return -1;
		cur += pad;
	}
	libc_st64(lc, root(lc, ROOT_START), cur);
	libc_st64(lc, root(lc, ROOT_LAST), cur);
	return 0;
}

static vaddr_t seed_malloc(struct libc *lc, uint64_t n)
{
	struct probe *p = &lc->k->probe;
	struct libc_walk w = {0};
	vaddr_t start, last, cur, old;
	uint64_t numbytes;

	if (n > (1ULL << 62))
		return 0;
	if (libc_ld64(lc, root(lc, ROOT_START)) == 0 && seed_heap_init(lc) < 0)
		return 0;
	numbytes = (n + MCB_SIZE + SEED_ALIGN - 1) & ~(uint64_t)(SEED_ALIGN - 1);
	start = libc_ld64(lc, root(lc, ROOT_START));
	last = libc_ld64(lc, root(lc, ROOT_LAST));
	/* A block whose size the program zeroed makes this walk endless, as in
	   the article's code: RLIMIT_CPU ends it (libc_walk_step). */
	for (cur = start; cur != last; cur += libc_ld64(lc, cur + MCB_SIZEF)) {
		libc_walk_step(lc, &w, cur);
		uint64_t size;

		if (libc_ld64(lc, cur + MCB_AVAIL) && (size = libc_ld64(lc, cur + MCB_SIZEF)) >= numbytes) {
			libc_st64(lc, cur + MCB_AVAIL, 0);
			/* the size just read: an event's fields make no access (probe.h) */
			EV(p, LAYER_LIBC, EV_HEAP, "malloc", "first fit: reuse an available block",
			   {"chunk", cur}, {"size", size});
			return cur + MCB_SIZE;
		}
	}
	/* Nothing fits: move the break by exactly this block. */
	old = libc_sbrk(lc, (int64_t)numbytes);
	if (old == (vaddr_t)-1)
		return 0;
	if (old != last) {
		/* The program moved the break behind our back: the heap would not
		   be contiguous. Give the memory back and fail (a fix: the article
		   assumed it owned the break). */
		libc_sbrk(lc, -(int64_t)numbytes);
		return 0;
	}
	/* The header write: on a fresh page this is the store that faults. */
	libc_st64(lc, old + MCB_AVAIL, 0);
	libc_st64(lc, old + MCB_SIZEF, numbytes);
	libc_st64(lc, root(lc, ROOT_LAST), old + numbytes);
	EV(p, LAYER_LIBC, EV_HEAP, "malloc", "sbrk: new block at the end", {"chunk", old},
	   {"size", numbytes});
	return old + MCB_SIZE;
}

static void seed_free(struct libc *lc, vaddr_t mem)
{
	/* No check of any kind: the article's free. */
	libc_st64(lc, mem - MCB_SIZE + MCB_AVAIL, 1);
	EV(&lc->k->probe, LAYER_LIBC, EV_HEAP, "free", "mark available", {"chunk", mem - MCB_SIZE});
}

static vaddr_t seed_realloc(struct libc *lc, vaddr_t mem, uint64_t n)
{
	uint64_t have = libc_ld64(lc, mem - MCB_SIZE + MCB_SIZEF) - MCB_SIZE;
	vaddr_t nmem;

	if (have >= n)
		return mem;
	nmem = seed_malloc(lc, n);
	if (!nmem)
		return 0;
	libc_memcpy(lc, nmem, mem, have);
	seed_free(lc, mem);
	return nmem;
}

static uint64_t seed_usable_size(struct libc *lc, vaddr_t mem)
{
	return libc_ld64(lc, mem - MCB_SIZE + MCB_SIZEF) - MCB_SIZE;
}

/* Heap bounds through the side door; false before the first malloc. */
static bool seed_bounds(struct libc *lc, vaddr_t *start, vaddr_t *last)
{
	if (!libc_peek64(lc, root(lc, ROOT_START), start) || *start == 0)
		return false;
	return libc_peek64(lc, root(lc, ROOT_LAST), last);
}

static void seed_walk(struct libc *lc, chunk_cb_t cb, void *ctx)
{
	vaddr_t start, last, cur;
	uint64_t avail, size;

	if (!seed_bounds(lc, &start, &last))
		return;
	for (cur = start; cur < last; cur += size) {
		struct chunk_info ci = {0};

		if (!libc_peek64(lc, cur + MCB_AVAIL, &avail) ||
		    !libc_peek64(lc, cur + MCB_SIZEF, &size) || size < MCB_SIZE)
			return; /* corrupt: the checker says why */
		ci.chunk = cur;
		ci.size = size;
		ci.user = cur + MCB_SIZE;
		ci.in_use = avail == 0;
		ci.where = avail ? "available" : "in use";
		ci.flags = avail;
		cb(ctx, &ci);
	}
}

static int seed_check(struct libc *lc, FILE *err)
{
	vaddr_t start, last, cur;
	uint64_t avail, size, start_raw;
	int bad = 0;

#define SEED_BAD(...)                                                                              \
	do {                                                                                       \
		if (bad++ == 0 && err) {                                                           \
			fprintf(err, "seed_check: " __VA_ARGS__);                                  \
			fputc('\n', err);                                                          \
		}                                                                                  \
	} while (0)

	if (!libc_peek64(lc, root(lc, ROOT_START), &start_raw) || start_raw == 0)
		return 0; /* no malloc yet (or the bss page never touched) */
	if (!seed_bounds(lc, &start, &last)) {
		SEED_BAD("roots unreadable");
		return bad;
	}
	if (start & (SEED_ALIGN - 1))
		SEED_BAD("heap start %#llx not 16-aligned", (unsigned long long)start);
	if (last < start)
		SEED_BAD("last_valid_address %#llx below the start %#llx", (unsigned long long)last,
		         (unsigned long long)start);
	if (lc->curbrk && last > lc->curbrk)
		SEED_BAD("heap end %#llx above the break %#llx", (unsigned long long)last,
		         (unsigned long long)lc->curbrk);
	for (cur = start; cur < last && bad == 0; cur += size) {
		if (!libc_peek64(lc, cur + MCB_AVAIL, &avail) ||
		    !libc_peek64(lc, cur + MCB_SIZEF, &size)) {
			SEED_BAD("control block at %#llx not mapped", (unsigned long long)cur);
			break;
		}
		if (cur & (SEED_ALIGN - 1))
			SEED_BAD("block %#llx not 16-aligned", (unsigned long long)cur);
		if (avail > 1)
			SEED_BAD("block %#llx: is_available = %llu", (unsigned long long)cur,
			         (unsigned long long)avail);
		if (size < MCB_SIZE || (size & (SEED_ALIGN - 1)) || size > last - cur) {
			SEED_BAD("block %#llx: bad size %llu", (unsigned long long)cur,
			         (unsigned long long)size);
			break;
		}
	}
	if (bad == 0 && cur != last)
		SEED_BAD("blocks end at %#llx, heap at %#llx", (unsigned long long)cur,
		         (unsigned long long)last);
#undef SEED_BAD
	return bad;
}

const struct malloc_ops malloc_ops_seed = {
    .name = "seed",
    .description = "the seed article's allocator: first fit, no split, no coalescing, sbrk",
    .init = seed_init,
    .malloc = seed_malloc,
    .free = seed_free,
    .realloc = seed_realloc,
    .calloc = NULL,
    .memalign = NULL,
    .usable_size = seed_usable_size,
    .walk = seed_walk,
    .check = seed_check,
};
