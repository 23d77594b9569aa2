/*
 * mm-faulty.c - a plugin that goes wrong on purpose, for tests/test_lab.c.
 *
 * A bump allocator (16-byte header holding the size, never reuses a block)
 * that behaves until its FAULT_AT-th call into mm_malloc (default 100), then
 * does what -DFAULT=N says:
 *   1 dereferences the simulated address of its block directly (a store)
 *   2 stores through a wild host pointer
 *   3 spins for ever in its own code
 *   4 returns a block that is not 16-byte aligned
 *   5 returns the previous block again (an overlap)
 *   6 fails an assert (abort)
 *   7 calls exit(3)
 *   8 loops for ever reading simulated memory through the accessors
 *   9 divides by zero (SIGFPE)
 *  10 recurses without end (a stack overflow)
 *  11 returns a block outside its heap (past the break)
 *  12 overwrites the payload of the block it returned before
 *  13 stores (through mem_put64) where its process has no mapping
 * and, whatever FAULT, its mm_walk and mm_checkheap go wrong when
 * -DWALK_FAULT=1: mm_walk walks for ever (reading), mm_checkheap stores.
 * So a short trace (short1-bal.rep, 12 ops) stays valid and a long one fails.
 */
#include <assert.h>
#include <stdlib.h>

#include <aftermalloc/memlib.h>

#ifndef FAULT
#define FAULT 0
#endif
#ifndef WALK_FAULT
#define WALK_FAULT 0
#endif
#ifndef FAULT_AT
#define FAULT_AT 100
#endif

static unsigned calls;
static char *last;
static volatile int zero;
static volatile int *volatile wild = (int *)16;

int mm_init(void)
{
	calls = 0;
	last = NULL;
	return 0;
}

static int recurse(int depth)
{
	volatile char pad[256];

	pad[0] = (char)depth;
	if (zero == 0) /* always: the compiler cannot tell, so does not warn */
		return recurse(depth + 1) + pad[0];
	return pad[0];
}

static void *bump(size_t n)
{
	size_t size = (n + 16 + 15) & ~(size_t)15;
	char *p = mem_sbrk((intptr_t)size);

	if (p == (void *)-1)
		return NULL;
	mem_put64(p, size);
	return p + 16;
}

void *mm_malloc(size_t n)
{
	char *p;

	if (++calls == FAULT_AT) {
		switch (FAULT) {
		case 1:
			p = bump(n);
			*(size_t *)p = n; /* the bug: not mem_put64 */
			return p;
		case 2:
			*wild = 1;
			break;
		case 3:
			for (volatile unsigned long i = 0;; i++)
				;
		case 4:
			return (char *)bump(n) + 8;
		case 5:
			if (last)
				return last;
			break;
		case 6:
			assert(n == 0xdeadbeef);
			break;
		case 7:
			exit(3);
		case 8:
			while (mem_get64((char *)last - 16) != 1)
				;
			break;
		case 9:
			return (char *)bump(n) + 16 / zero;
		case 10:
			return (char *)bump(n) + recurse(0);
		case 11:
			return (char *)mem_heap_hi() + 1 + 4096;
		case 12:
			if (last)
				mem_put64(last, 0x5a5a5a5a5a5a5a5aULL);
			break;
		case 13:
			mem_put64((char *)mem_heap_hi() + 1 + (1 << 30), 1);
			break;
		}
	}
	p = bump(n);
	last = p;
	return p;
}

void mm_free(void *p)
{
	(void)p;
}

void *mm_realloc(void *p, size_t n)
{
	size_t have = mem_get64((char *)p - 16) - 16;
	void *q = mm_malloc(n);

	if (q)
		mem_memcpy(q, p, have < n ? have : n);
	return q;
}

void mm_walk(mm_visit_t visit, void *arg)
{
	char *p = mem_heap_lo(), *hi = (char *)mem_heap_hi() + 1;

	while (p < hi) {
		size_t size = mem_get64(p);

		visit(arg, p + 16, size, true);
#if WALK_FAULT
		continue; /* the bug: p never moves */
#endif
		p += size;
	}
}

bool mm_checkheap(int lineno)
{
	(void)lineno;
#if WALK_FAULT
	mem_put64(mem_heap_lo(), 0); /* a checker may only read */
#endif
	return true;
}
