/*
 * mm-implicit.c - the textbook's allocator as a plugin: an implicit free list
 * with boundary tags, first fit, splitting and immediate coalescing, after
 * Bryant and O'Hallaron, CS:APP 3e, section 9.9.12 (this project's own code,
 * in the book's shape and with its macro names). Walk-through:
 * docs/lab-implicit.md.
 *
 * Words are 8 bytes (WSIZE) and blocks multiples of 16 (DSIZE), so every
 * payload is 16-aligned as x86-64 glibc's are; the book's 4-byte words and
 * 8-byte alignment are the 32-bit version of the same code. The heap:
 *
 *   | pad | prologue hdr 16/1 | prologue ftr 16/1 | block ... | epilogue hdr 0/1 |
 *                             ^ heap_listp
 *   block:  | hdr size/a | payload (bp) ...           | ftr size/a |
 *
 * Every access to the heap goes through GET and PUT, which are mem_get64 and
 * mem_put64: loads and stores of the simulated CPU. The rest is the book's
 * code, pointer arithmetic on char * included.
 */
#include <stdio.h>
#include <string.h>

#include <aftermalloc/memlib.h>

/* Basic constants and macros (CS:APP figure 9.43, 64-bit words) */
#define WSIZE     8         /* word and header/footer size (bytes) */
#define DSIZE     16        /* double word size (bytes): the alignment */
#define CHUNKSIZE (1 << 12) /* extend the heap by this amount (bytes) */

#define MAX(x, y) ((x) > (y) ? (x) : (y))

/* Pack a size and allocated bit into a word */
#define PACK(size, alloc) ((size) | (alloc))

/* Read and write a word at address p: through the simulated MMU */
#define GET(p)      mem_get64(p)
#define PUT(p, val) mem_put64((p), (val))

/* Read the size and allocated fields from address p */
#define GET_SIZE(p)  (GET(p) & ~(uint64_t)(DSIZE - 1))
#define GET_ALLOC(p) (GET(p) & 0x1)

/* Given block ptr bp, compute address of its header and footer */
#define HDRP(bp) ((char *)(bp)-WSIZE)
#define FTRP(bp) ((char *)(bp) + GET_SIZE(HDRP(bp)) - DSIZE)

/* Given block ptr bp, compute address of next and previous blocks */
#define NEXT_BLKP(bp) ((char *)(bp) + GET_SIZE(((char *)(bp)-WSIZE)))
#define PREV_BLKP(bp) ((char *)(bp)-GET_SIZE(((char *)(bp)-DSIZE)))

static char *heap_listp; /* the prologue block's payload */

static void *coalesce(void *bp)
{
	size_t prev_alloc = GET_ALLOC(FTRP(PREV_BLKP(bp)));
	size_t next_alloc = GET_ALLOC(HDRP(NEXT_BLKP(bp)));
	size_t size = GET_SIZE(HDRP(bp));

	if (prev_alloc && next_alloc) { /* case 1: no free neighbour */
		return bp;
	} else if (prev_alloc && !next_alloc) { /* case 2: the next is free */
		size += GET_SIZE(HDRP(NEXT_BLKP(bp)));
		PUT(HDRP(bp), PACK(size, 0));
		PUT(FTRP(bp), PACK(size, 0));
	} else if (!prev_alloc && next_alloc) { /* case 3: the previous is free */
		size += GET_SIZE(HDRP(PREV_BLKP(bp)));
		PUT(FTRP(bp), PACK(size, 0));
		PUT(HDRP(PREV_BLKP(bp)), PACK(size, 0));
		bp = PREV_BLKP(bp);
	} else { /* case 4: both are */
		size += GET_SIZE(HDRP(PREV_BLKP(bp))) + GET_SIZE(FTRP(NEXT_BLKP(bp)));
		PUT(HDRP(PREV_BLKP(bp)), PACK(size, 0));
		PUT(FTRP(NEXT_BLKP(bp)), PACK(size, 0));
		bp = PREV_BLKP(bp);
	}
	return bp;
}

/* A new free block of words words at the end of the heap (coalesced with a
   free last block), or NULL when the break cannot move. */
static void *extend_heap(size_t words)
{
	char *bp;
	size_t size = (words % 2) ? (words + 1) * WSIZE : words * WSIZE;

	if ((bp = mem_sbrk((intptr_t)size)) == (void *)-1)
		return NULL;
	PUT(HDRP(bp), PACK(size, 0));         /* free block header: the old epilogue */
	PUT(FTRP(bp), PACK(size, 0));         /* free block footer */
	PUT(HDRP(NEXT_BLKP(bp)), PACK(0, 1)); /* new epilogue header */
	return coalesce(bp);
}

int mm_init(void)
{
	if ((heap_listp = mem_sbrk(4 * WSIZE)) == (void *)-1)
		return -1;
	PUT(heap_listp, 0);                            /* alignment padding */
	PUT(heap_listp + (1 * WSIZE), PACK(DSIZE, 1)); /* prologue header */
	PUT(heap_listp + (2 * WSIZE), PACK(DSIZE, 1)); /* prologue footer */
	PUT(heap_listp + (3 * WSIZE), PACK(0, 1));     /* epilogue header */
	heap_listp += (2 * WSIZE);
	if (extend_heap(CHUNKSIZE / WSIZE) == NULL)
		return -1;
	return 0;
}

/* First fit: the first free block of at least asize bytes, or NULL. */
static void *find_fit(size_t asize)
{
	for (char *bp = heap_listp; GET_SIZE(HDRP(bp)) > 0; bp = NEXT_BLKP(bp))
		if (!GET_ALLOC(HDRP(bp)) && asize <= GET_SIZE(HDRP(bp)))
			return bp;
	return NULL;
}

/* Allocate asize bytes at the start of free block bp; split off the rest
   when it can be a block of its own (at least 2 * DSIZE). */
static void place(void *bp, size_t asize)
{
	size_t csize = GET_SIZE(HDRP(bp));

	if ((csize - asize) >= (2 * DSIZE)) {
		PUT(HDRP(bp), PACK(asize, 1));
		PUT(FTRP(bp), PACK(asize, 1));
		bp = NEXT_BLKP(bp);
		PUT(HDRP(bp), PACK(csize - asize, 0));
		PUT(FTRP(bp), PACK(csize - asize, 0));
	} else {
		PUT(HDRP(bp), PACK(csize, 1));
		PUT(FTRP(bp), PACK(csize, 1));
	}
}

void *mm_malloc(size_t size)
{
	size_t asize;      /* adjusted block size */
	size_t extendsize; /* amount to extend the heap if no fit */
	char *bp;

	/* The book returns NULL for size 0; glibc, and the traces, want a block. */
	if (size > ((size_t)1 << 48))
		return NULL; /* more than any heap: the book's int arithmetic would wrap */
	/* Room for the header and footer, rounded up to the alignment. */
	if (size <= DSIZE)
		asize = 2 * DSIZE;
	else
		asize = DSIZE * ((size + (DSIZE) + (DSIZE - 1)) / DSIZE);
	if ((bp = find_fit(asize)) != NULL) {
		place(bp, asize);
		return bp;
	}
	extendsize = MAX(asize, CHUNKSIZE);
	if ((bp = extend_heap(extendsize / WSIZE)) == NULL)
		return NULL;
	place(bp, asize);
	return bp;
}

void mm_free(void *bp)
{
	size_t size = GET_SIZE(HDRP(bp));

	PUT(HDRP(bp), PACK(size, 0));
	PUT(FTRP(bp), PACK(size, 0));
	coalesce(bp);
}

/* The lab's naive realloc: a new block, the payload copied, the old freed. */
void *mm_realloc(void *ptr, size_t size)
{
	size_t oldsize = GET_SIZE(HDRP(ptr)) - DSIZE;
	void *newptr = mm_malloc(size);

	if (newptr == NULL)
		return NULL;
	mem_memcpy(newptr, ptr, size < oldsize ? size : oldsize);
	mm_free(ptr);
	return newptr;
}

/* Every block from the prologue to the epilogue (`show heap`, the viewer). */
void mm_walk(mm_visit_t visit, void *arg)
{
	if (!heap_listp)
		return;
	for (char *bp = NEXT_BLKP(heap_listp); GET_SIZE(HDRP(bp)) > 0; bp = NEXT_BLKP(bp))
		visit(arg, bp, GET_SIZE(HDRP(bp)), GET_ALLOC(HDRP(bp)));
}

/* The invariants: prologue and epilogue in place, every block aligned,
   inside the heap, its header equal to its footer, no two free blocks side
   by side (coalescing is immediate). */
bool mm_checkheap(int lineno)
{
	char *bp, *hi = (char *)mem_heap_hi() + 1;
	bool prev_free = false;

	if (GET(HDRP(heap_listp)) != PACK(DSIZE, 1) || GET(heap_listp) != PACK(DSIZE, 1)) {
		fprintf(stderr, "mm_checkheap(%d): bad prologue\n", lineno);
		return false;
	}
	for (bp = NEXT_BLKP(heap_listp); GET_SIZE(HDRP(bp)) > 0; bp = NEXT_BLKP(bp)) {
		if ((uintptr_t)bp % DSIZE || bp + GET_SIZE(HDRP(bp)) > hi) {
			fprintf(stderr, "mm_checkheap(%d): block %p misaligned or past the heap\n",
			        lineno, bp);
			return false;
		}
		if (GET(HDRP(bp)) != GET(FTRP(bp))) {
			fprintf(stderr, "mm_checkheap(%d): block %p: header != footer\n", lineno,
			        bp);
			return false;
		}
		if (prev_free && !GET_ALLOC(HDRP(bp))) {
			fprintf(stderr, "mm_checkheap(%d): block %p: two free blocks in a row\n",
			        lineno, bp);
			return false;
		}
		prev_free = !GET_ALLOC(HDRP(bp));
	}
	if (bp != hi || !GET_ALLOC(HDRP(bp))) { /* the epilogue: the last word */
		fprintf(stderr, "mm_checkheap(%d): bad epilogue at %p\n", lineno, HDRP(bp));
		return false;
	}
	return true;
}
