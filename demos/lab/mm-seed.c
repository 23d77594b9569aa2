/*
 * mm-seed.c - the seed article's allocator (J. Bartlett, "Inside memory
 * management") as a plugin in the CS:APP malloc-lab shape: the same policy,
 * the same loads and stores in the same order as the built-in `seed` policy
 * (libc/seed.c), so that `aftermalloc lab demos/lab/mm-seed.c` reports the
 * figures `aftermalloc replay --malloc seed` does. Walk-through:
 * docs/lab-seed.md.
 *
 * Each block has a 16-byte control block before the payload:
 *
 *   start                                             last (= the break)
 *   | avail | size | payload ... | avail | size | payload ... |
 *   |<----------- size -------->|
 *
 * malloc takes the first available block big enough (no splitting), else
 * moves the break by exactly the new block; free marks the block available
 * (no coalescing, no checks). The two roots, the heap's start and end, live
 * in the simulated program's bss (mem_bss), as the article's globals do.
 */
#include <aftermalloc/memlib.h>

#define MCB     16 /* control block: { uint64_t is_available; uint64_t size; } */
#define AVAIL   0  /* field offsets */
#define SIZE    8
#define ALIGN   16
#define MAX_REQ (1ULL << 62)

/* The lab's macros, on 64-bit words of simulated memory. */
#define GET(p)      mem_get64(p)
#define PUT(p, val) mem_put64((p), (val))

static char *roots; /* [0] managed_memory_start, [8] last_valid_address */

#define START (roots + 0)
#define LAST  (roots + 8)

int mm_init(void)
{
	roots = mem_bss(16);
	return roots ? 0 : -1;
}

/* The article's malloc_init, at the first malloc: learn the break, align it. */
static int heap_init(void)
{
	char *cur = mem_sbrk(0);
	uintptr_t pad;

	if (cur == (void *)-1)
		return -1;
	pad = (ALIGN - ((uintptr_t)cur & (ALIGN - 1))) & (ALIGN - 1);
	if (pad) {
		if (mem_sbrk((intptr_t)pad) == (void *)-1)
			return -1;
		cur += pad;
	}
	PUT(START, (uintptr_t)cur);
	PUT(LAST, (uintptr_t)cur);
	return 0;
}

void *mm_malloc(size_t n)
{
	char *start, *last, *cur, *old;
	size_t numbytes;

	if (n > MAX_REQ)
		return NULL;
	if (GET(START) == 0 && heap_init() < 0)
		return NULL;
	numbytes = (n + MCB + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	start = (char *)GET(START);
	last = (char *)GET(LAST);
	for (cur = start; cur != last; cur += GET(cur + SIZE))
		if (GET(cur + AVAIL) && GET(cur + SIZE) >= numbytes) {
			PUT(cur + AVAIL, 0);
			return cur + MCB;
		}
	/* Nothing fits: move the break by exactly this block. */
	old = mem_sbrk((intptr_t)numbytes);
	if (old == (void *)-1)
		return NULL;
	if (old != last) { /* someone else moved the break: give it back */
		mem_sbrk(-(intptr_t)numbytes);
		return NULL;
	}
	/* The header's store: on a fresh page, this is what faults. */
	PUT(old + AVAIL, 0);
	PUT(old + SIZE, numbytes);
	PUT(LAST, (uintptr_t)(old + numbytes));
	return old + MCB;
}

void mm_free(void *p)
{
	PUT((char *)p - MCB + AVAIL, 1);
}

void *mm_realloc(void *p, size_t n)
{
	size_t have = GET((char *)p - MCB + SIZE) - MCB;
	void *q;

	if (have >= n)
		return p;
	q = mm_malloc(n);
	if (!q)
		return NULL;
	mem_memcpy(q, p, have);
	mm_free(p);
	return q;
}

/* Every block, in address order (`show heap`, the viewer). */
void mm_walk(mm_visit_t visit, void *arg)
{
	char *cur, *last;
	size_t size;

	if (!roots || GET(START) == 0)
		return;
	last = (char *)GET(LAST);
	for (cur = (char *)GET(START); cur < last; cur += size) {
		size = GET(cur + SIZE);
		if (size < MCB)
			return; /* corrupt: mm_checkheap says why */
		visit(arg, cur + MCB, size, GET(cur + AVAIL) == 0);
	}
}

bool mm_checkheap(int lineno)
{
	char *start, *last, *cur;
	uint64_t avail, size;

	if (!roots || GET(START) == 0)
		return true;
	start = (char *)GET(START);
	last = (char *)GET(LAST);
	if ((uintptr_t)start % ALIGN || last < start || last > (char *)mem_heap_hi() + 1) {
		fprintf(stderr, "mm_checkheap(%d): heap [%p, %p) out of bounds\n", lineno,
		        (void *)start, (void *)last);
		return false;
	}
	for (cur = start; cur < last; cur += size) {
		avail = GET(cur + AVAIL);
		size = GET(cur + SIZE);
		if (avail > 1 || size < MCB || size % ALIGN || size > (size_t)(last - cur)) {
			fprintf(stderr, "mm_checkheap(%d): block %p: avail %llu, size %llu\n",
			        lineno, (void *)cur, (unsigned long long)avail,
			        (unsigned long long)size);
			return false;
		}
	}
	return true;
}
