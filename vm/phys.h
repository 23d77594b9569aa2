/*
 * phys.h - physical RAM of the simulated machine and its frame table.
 *
 * RAM is one host mapping reserved with MAP_NORESERVE, so a frame costs the
 * host nothing until it is first written (a 4 GiB machine that touched 10 MiB
 * has a small RSS). Each frame has one small descriptor, struct frame, the
 * counterpart of Linux's struct page: who owns the frame, its buddy order and
 * free-list links, a reference count.
 *
 * Host pointers into RAM never leave vm/: the kernel reads and writes frames
 * through the functions below (zeroing, copying, 8-byte page-table entries).
 */
#ifndef VM_PHYS_H
#define VM_PHYS_H

#include <stdio.h>

#include "types.h"

/* What a frame holds (for the checkers and the viewer's colours). */
enum frame_kind {
	FK_FREE,      /* in the buddy allocator */
	FK_RESERVED,  /* never given to the buddy allocator (frame 0, "firmware") */
	FK_KERNEL,    /* allocated by the kernel for itself */
	FK_PAGETABLE, /* a page-table page (any level) */
	FK_ANON,      /* an anonymous user page */
	FK_ZERO,      /* the shared zero page */
	FK__COUNT
};

/* frame->flags */
#define FRAME_BUDDY 0x01 /* head of a free buddy block; order is valid (PageBuddy) */
#define FRAME_HEAD 0x02  /* head of an allocated block of 2^order frames */

/*
 * The free-list links are FRAME_LINK_BITS wide, which bounds RAM: at most
 * PHYS_MAX_FRAMES frames (512 GiB less one page).
 */
#define FRAME_LINK_BITS 27
#define FRAME_LINK_NONE ((1u << FRAME_LINK_BITS) - 1)
#define PHYS_MAX_FRAMES ((uint64_t)FRAME_LINK_NONE)
#define FRAME_PREV_LO_BITS 23 /* of prev, in the second word; the rest in the first */

/*
 * 8 bytes: Linux's struct page is 64. The head of a free block (FRAME_BUDDY)
 * has free-list links and no references; every other frame has a reference
 * count and no links: so the links share the word of the count -- next, and
 * the high bits of prev, whose low bits fill the second word with flags,
 * order and kind. Read the count with frame_refcount() (0 on a free head,
 * whose word is links), prev with frame_prev(); write refcount only on a
 * frame that is not FRAME_BUDDY, and only once it is not on a list. Half the
 * size of a 16-byte descriptor means half the cache lines the buddy
 * allocator's random frees reach (buddy_ns_per_op).
 */
struct frame {
	union {
		struct {
			uint32_t next : FRAME_LINK_BITS; /* FRAME_BUDDY: the next block on
							    its free list (pfn) */
			uint32_t prev_hi : 32 - FRAME_LINK_BITS; /* FRAME_BUDDY: see prev_lo */
		};
		int32_t refcount; /* otherwise: mappings + kernel references; 0 when free */
	};
	uint32_t prev_lo : FRAME_PREV_LO_BITS; /* FRAME_BUDDY: with prev_hi, the previous
						  block on its list (frame_prev) */
	uint32_t flags : 2;                    /* FRAME_* */
	uint32_t order : 4;                    /* block order when FRAME_BUDDY or FRAME_HEAD */
	uint32_t kind : 3;                     /* enum frame_kind */
};

/* The previous block on a free head's list (FRAME_LINK_NONE: none). */
static inline uint32_t frame_prev(const struct frame *f)
{
	return (uint32_t)f->prev_hi << FRAME_PREV_LO_BITS | f->prev_lo;
}

static inline void frame_set_prev(struct frame *f, uint32_t pfn)
{
	f->prev_lo = pfn & ((1u << FRAME_PREV_LO_BITS) - 1);
	f->prev_hi = pfn >> FRAME_PREV_LO_BITS;
}

/* The references to a frame: 0 for the head of a free block. */
static inline int32_t frame_refcount(const struct frame *f)
{
	return (f->flags & FRAME_BUDDY) ? 0 : f->refcount;
}

struct phys {
	uint64_t nr_frames;   /* RAM size / PAGE_SIZE */
	uint8_t *mem;         /* host reservation of nr_frames pages; private to vm/ */
	struct frame *frames; /* nr_frames descriptors, lazily backed too */
};

/* Reserve RAM of bytes (a multiple of PAGE_SIZE, >= 1 MiB, at most
   PHYS_MAX_FRAMES pages). 0, or -1 with errno (EINVAL, or mmap's). */
int phys_init(struct phys *ph, uint64_t bytes);
void phys_destroy(struct phys *ph);

static inline struct frame *phys_frame(struct phys *ph, pfn_t pfn) { return &ph->frames[pfn]; }
static inline bool phys_valid_pfn(const struct phys *ph, pfn_t pfn) { return pfn < ph->nr_frames; }

/* Panics: pfn is beyond RAM (a simulator bug); who names the caller. */
_Noreturn void phys_pfn_beyond_ram(const struct phys *ph, pfn_t pfn, const char *who);

/*
 * The loop that zeroes one page for clear_page, chosen for the host (phys.c):
 * never NULL. Called only by phys_zero_frame below, with the page's host
 * address (phys_zero_part below: the same for a part).
 */
extern void (*phys_zero_page)(uint8_t *page);

/*
 * Frame contents: pfn must be valid (panic otherwise). phys_zero_frame is
 * inline, with the loop called directly: every demand-zero fault zeroes a
 * frame, and a call to a function that checks the pfn and then picks the
 * loop cost 13 instructions of the fault's few hundred.
 */
static inline void phys_zero_frame(struct phys *ph, pfn_t pfn)
{
	if (__builtin_expect(!phys_valid_pfn(ph, pfn), 0))
		phys_pfn_beyond_ram(ph, pfn, "phys_zero_frame");
	/* Frames are page aligned in the host (ph->mem comes from mmap). */
	phys_zero_page(ph->mem + pfn_to_paddr(pfn));
}

/*
 * The same zeroing in PHYS_ZERO_PARTS parts of PHYS_ZERO_PART_BYTES, for a
 * caller with other work to do before the frame is used (the fault's fast
 * path): the host runs work put between the parts while its memory takes
 * the stores of the part before, where work before or after a whole page
 * waits for them (docs/performance.md, "clear_page in parts"). The frame
 * is zero once every part was called, in any order. Panics as
 * phys_zero_frame, and on a part beyond the page.
 */
#define PHYS_ZERO_PARTS 4
#define PHYS_ZERO_PART_BYTES (PAGE_SIZE / PHYS_ZERO_PARTS)
/* The loop that zeroes PHYS_ZERO_PART_BYTES (phys.c, as phys_zero_page). */
extern void (*phys_zero_part)(uint8_t *part);
_Noreturn void phys_zero_part_beyond_page(unsigned part);

static inline void phys_zero_frame_part(struct phys *ph, pfn_t pfn, unsigned part)
{
	if (__builtin_expect(!phys_valid_pfn(ph, pfn), 0))
		phys_pfn_beyond_ram(ph, pfn, "phys_zero_frame_part");
	if (__builtin_expect(part >= PHYS_ZERO_PARTS, 0))
		phys_zero_part_beyond_page(part);
	phys_zero_part(ph->mem + pfn_to_paddr(pfn) + part * PHYS_ZERO_PART_BYTES);
}

/* For tests: true makes phys_zero_frame (and its parts) use the loop every
   x86-64 host has (SSE2) instead of the widest one this host has; false
   goes back. */
void phys_zero_use_baseline(bool on);
void phys_copy_frame(struct phys *ph, pfn_t dst, pfn_t src);
void phys_fill_frame(struct phys *ph, pfn_t pfn, uint8_t byte); /* junk on free (debug) */
/* Give a free frame's host memory back (MADV_DONTNEED); it reads as zero after. */
void phys_discard_frame(struct phys *ph, pfn_t pfn);
uint64_t phys_read64(struct phys *ph, paddr_t pa);  /* pa 8-byte aligned */
void phys_write64(struct phys *ph, paddr_t pa, uint64_t v);
/* Copy bytes between host buffers and physical memory inside one frame. */
void phys_read(struct phys *ph, paddr_t pa, void *buf, size_t n);
void phys_write(struct phys *ph, paddr_t pa, const void *buf, size_t n);

/* Frames of each kind, counted by a scan (for checks, /proc and the viewer). */
void phys_count_kinds(const struct phys *ph, uint64_t counts[FK__COUNT]);
const char *frame_kind_name(int kind);
/* Descriptor invariants (kind/flags/refcount agree). Returns #broken, reports the first to err. */
int phys_check(const struct phys *ph, FILE *err);
void phys_dump(const struct phys *ph, FILE *out);

#endif
