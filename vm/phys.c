/*
 * phys.c - physical RAM and the frame table (Linux's mem_map of struct page).
 *
 * Both RAM and the descriptors are anonymous host mappings made with
 * MAP_NORESERVE: the host backs a page only when it is first written, so a
 * 4 GiB machine that touched 10 MiB costs about 10 MiB. A fresh descriptor
 * reads as all zeroes, which is FK_FREE with refcount 0. Freed frames can be
 * handed back to the host with MADV_DONTNEED (phys_discard_frame).
 *
 * RAM is 2 MiB-aligned and asks the host for transparent huge pages, as
 * Linux maps its own direct map of RAM with huge pages: the simulated
 * program's pages are scattered over RAM as the buddy allocator hands them
 * out, and with 4 KiB host pages nearly every access to a new simulated page
 * also missed the host's TLB (a third of a replay's time). The buddy
 * allocator hands out low frames first, so the backed huge pages stay few
 * (docs/performance.md, idle_rss_mib). The frame table keeps 4 KiB pages:
 * buddy_init writes one descriptor in 1024, which would back all of it.
 */
#include "phys.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>

#include "hostmem.h"
#include "panic.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "zero_loop.h"
#endif

#define PHYS_MIN_BYTES (1ULL << 20)
#define PHYS_MAX_ORDER 10 /* MAX_PAGE_ORDER of the buddy allocator */

_Static_assert(sizeof(struct frame) == 8, "struct frame grew: bytes_per_frame budget");
_Static_assert(FK__COUNT <= 8 && PHYS_MAX_ORDER < 16,
               "struct frame's kind or order field too narrow");

int phys_init(struct phys *ph, uint64_t bytes)
{
	memset(ph, 0, sizeof(*ph));
	if (bytes < PHYS_MIN_BYTES || bytes % PAGE_SIZE || bytes / PAGE_SIZE > PHYS_MAX_FRAMES) {
		errno = EINVAL;
		return -1;
	}
	ph->nr_frames = bytes / PAGE_SIZE;
	ph->mem = hostmem_map(bytes, true);
	if (!ph->mem)
		return -1;
	ph->frames = hostmem_map(ph->nr_frames * sizeof(struct frame), false);
	if (!ph->frames) {
		int e = errno;

		hostmem_unmap(ph->mem, bytes);
		ph->mem = NULL;
		errno = e;
		return -1;
	}
	return 0;
}

void phys_destroy(struct phys *ph)
{
	if (ph->mem)
		hostmem_unmap(ph->mem, ph->nr_frames * PAGE_SIZE);
	if (ph->frames)
		hostmem_unmap(ph->frames, ph->nr_frames * sizeof(struct frame));
	memset(ph, 0, sizeof(*ph));
}

/* The host bytes of frame pfn; panics on a pfn beyond RAM (a simulator bug). */
void phys_pfn_beyond_ram(const struct phys *ph, pfn_t pfn, const char *who)
{
	panic_at(who, "pfn %#" PRIx64 " beyond RAM (%" PRIu64 " frames)", pfn, ph->nr_frames);
}

void phys_zero_part_beyond_page(unsigned part)
{
	panic_at("phys_zero_frame_part", "part %u of a page of %u", part, PHYS_ZERO_PARTS);
}

static uint8_t *frame_mem(struct phys *ph, pfn_t pfn, const char *who)
{
	if (!phys_valid_pfn(ph, pfn))
		phys_pfn_beyond_ram(ph, pfn, who);
	return ph->mem + pfn_to_paddr(pfn);
}

/* The host bytes of [pa, pa+n), which must lie inside one frame. */
static uint8_t *range_mem(struct phys *ph, paddr_t pa, size_t n, const char *who)
{
	if (n > PAGE_SIZE || (pa & ~PAGE_MASK) + n > PAGE_SIZE)
		panic_at(who, "%zu bytes at %#" PRIx64 " cross a frame", n, pa);
	return frame_mem(ph, paddr_to_pfn(pa), who) + (pa & ~PAGE_MASK);
}

/*
 * clear_page. Linux picks its clear_page (rep stosq, rep stosb or a loop of
 * stores) by CPU feature when it boots; so does this one, for the host: a
 * loop of aligned vector stores, 32 bytes wide when the host has AVX2, else
 * 16 (SSE2, every x86-64). On the machine of docs/performance.md it zeroes a
 * page in about 47 ns where memset's rep stos takes 55, and the loads that
 * follow it (the rest of the page fault) wait less for its stores: a demand
 * fault is about 15 ns faster. Other hosts use memset.
 */
#if defined(__x86_64__)
__attribute__((target("avx2"))) static void zero_page_avx2(uint8_t *p)
{
	ZERO_WITH(__m256i, p, PAGE_SIZE);
}

__attribute__((target("avx2"))) static void zero_part_avx2(uint8_t *p)
{
	ZERO_WITH(__m256i, p, PHYS_ZERO_PART_BYTES);
}

static void zero_page_sse2(uint8_t *p)
{
	ZERO_WITH(__m128i, p, PAGE_SIZE);
}

static void zero_part_sse2(uint8_t *p)
{
	ZERO_WITH(__m128i, p, PHYS_ZERO_PART_BYTES);
}

/* The first clear_page, whole or a part, asks the CPU which loops to use
   (phys_zero_page and phys_zero_part point here until then). */
static void zero_pick(void)
{
	bool avx2 = __builtin_cpu_supports("avx2");

	phys_zero_page = avx2 ? zero_page_avx2 : zero_page_sse2;
	phys_zero_part = avx2 ? zero_part_avx2 : zero_part_sse2;
}

static void zero_page_pick(uint8_t *p)
{
	zero_pick();
	phys_zero_page(p);
}

static void zero_part_pick(uint8_t *p)
{
	zero_pick();
	phys_zero_part(p);
}

void (*phys_zero_page)(uint8_t *page) = zero_page_pick;
void (*phys_zero_part)(uint8_t *part) = zero_part_pick;

void phys_zero_use_baseline(bool on)
{
	phys_zero_page = on ? zero_page_sse2 : zero_page_pick;
	phys_zero_part = on ? zero_part_sse2 : zero_part_pick;
}
#else
static void zero_page_memset(uint8_t *p)
{
	memset(p, 0, PAGE_SIZE);
}

static void zero_part_memset(uint8_t *p)
{
	memset(p, 0, PHYS_ZERO_PART_BYTES);
}

void (*phys_zero_page)(uint8_t *page) = zero_page_memset;
void (*phys_zero_part)(uint8_t *part) = zero_part_memset;

void phys_zero_use_baseline(bool on)
{
	(void)on;
}
#endif

void phys_copy_frame(struct phys *ph, pfn_t dst, pfn_t src)
{
	uint8_t *d = frame_mem(ph, dst, __func__);
	uint8_t *s = frame_mem(ph, src, __func__);

	if (d != s)
		memcpy(d, s, PAGE_SIZE);
}

void phys_fill_frame(struct phys *ph, pfn_t pfn, uint8_t byte)
{
	memset(frame_mem(ph, pfn, __func__), byte, PAGE_SIZE);
}

void phys_discard_frame(struct phys *ph, pfn_t pfn)
{
	if (madvise(frame_mem(ph, pfn, __func__), PAGE_SIZE, MADV_DONTNEED))
		panic("madvise(MADV_DONTNEED) of pfn %#" PRIx64 ": %s", pfn, strerror(errno));
}

uint64_t phys_read64(struct phys *ph, paddr_t pa)
{
	uint64_t v;

	if (pa & 7)
		panic("unaligned physical address %#" PRIx64, pa);
	memcpy(&v, range_mem(ph, pa, 8, __func__), 8);
	return v;
}

void phys_write64(struct phys *ph, paddr_t pa, uint64_t v)
{
	if (pa & 7)
		panic("unaligned physical address %#" PRIx64, pa);
	memcpy(range_mem(ph, pa, 8, __func__), &v, 8);
}

void phys_read(struct phys *ph, paddr_t pa, void *buf, size_t n)
{
	if (n)
		memcpy(buf, range_mem(ph, pa, n, __func__), n);
}

void phys_write(struct phys *ph, paddr_t pa, const void *buf, size_t n)
{
	if (n)
		memcpy(range_mem(ph, pa, n, __func__), buf, n);
}

void phys_count_kinds(const struct phys *ph, uint64_t counts[FK__COUNT])
{
	memset(counts, 0, FK__COUNT * sizeof(counts[0]));
	for (uint64_t pfn = 0; pfn < ph->nr_frames; pfn++) {
		unsigned k = ph->frames[pfn].kind;

		/* A corrupt kind is phys_check's to report; count it nowhere. */
		if (k < FK__COUNT)
			counts[k]++;
	}
}

const char *frame_kind_name(int kind)
{
	static const char *const names[FK__COUNT] = {
	    [FK_FREE] = "free",           [FK_RESERVED] = "reserved", [FK_KERNEL] = "kernel",
	    [FK_PAGETABLE] = "pagetable", [FK_ANON] = "anon",         [FK_ZERO] = "zero",
	};

	return kind >= 0 && kind < FK__COUNT ? names[kind] : "?";
}

/* Frames a kernel or user owns: they hold a reference while allocated. */
static bool kind_allocated(unsigned kind)
{
	return kind == FK_KERNEL || kind == FK_PAGETABLE || kind == FK_ANON || kind == FK_ZERO;
}

/*
 * Invariants of each descriptor:
 *   - kind is a known enum frame_kind, order <= MAX_PAGE_ORDER;
 *   - FK_FREE frames have refcount 0; refcounts are never negative;
 *   - FRAME_BUDDY only on FK_FREE frames, never with FRAME_HEAD, and a free
 *     block of 2^order frames is aligned to its size and inside RAM;
 *   - allocated kinds have refcount > 0, except the tail frames of a block
 *     whose head (FRAME_HEAD, order k) covers them, as Linux's tail pages.
 * Reads every descriptor: on a host without the shared zero page (see
 * DESIGN.md) the scan backs the whole frame table, 8 bytes per frame.
 */
int phys_check(const struct phys *ph, FILE *err)
{
	int broken = 0;
	uint64_t tail_end = 0; /* frames below this are tails of the last head */

#define BROKEN(...)                                                                                \
	do {                                                                                       \
		if (!broken++ && err)                                                              \
			fprintf(err, "phys_check: " __VA_ARGS__);                                  \
	} while (0)

	for (uint64_t pfn = 0; pfn < ph->nr_frames; pfn++) {
		const struct frame *f = &ph->frames[pfn];
		bool tail = pfn < tail_end;

		if (f->kind >= FK__COUNT)
			BROKEN("pfn %#" PRIx64 ": unknown kind %u\n", pfn, f->kind);
		if (f->order > PHYS_MAX_ORDER)
			BROKEN("pfn %#" PRIx64 ": order %u > %d\n", pfn, f->order, PHYS_MAX_ORDER);
		if (frame_refcount(f) < 0)
			BROKEN("pfn %#" PRIx64 ": refcount %d\n", pfn, frame_refcount(f));
		if (f->kind == FK_FREE && frame_refcount(f) != 0)
			BROKEN("pfn %#" PRIx64 ": free with refcount %d\n", pfn, frame_refcount(f));
		if ((f->flags & FRAME_BUDDY) && f->kind != FK_FREE)
			BROKEN("pfn %#" PRIx64 ": PageBuddy on a %s frame\n", pfn,
			       frame_kind_name(f->kind));
		if ((f->flags & FRAME_BUDDY) && (f->flags & FRAME_HEAD))
			BROKEN("pfn %#" PRIx64 ": both buddy and allocated head\n", pfn);
		if ((f->flags & FRAME_BUDDY) && f->order <= PHYS_MAX_ORDER &&
		    ((pfn & ((1ULL << f->order) - 1)) || pfn + (1ULL << f->order) > ph->nr_frames))
			BROKEN("pfn %#" PRIx64 ": free block of order %u misaligned or past RAM\n",
			       pfn, f->order);
		/* (PageBuddy on an allocated kind is reported above; its count is a link.) */
		if (kind_allocated(f->kind) && !(f->flags & FRAME_BUDDY) && f->refcount <= 0 &&
		    !tail)
			BROKEN("pfn %#" PRIx64 ": %s frame with refcount %d\n", pfn,
			       frame_kind_name(f->kind), f->refcount);
		if ((f->flags & FRAME_HEAD) && f->order <= PHYS_MAX_ORDER)
			tail_end = pfn + (1ULL << f->order);
	}
#undef BROKEN
	return broken;
}

/* A summary, then the runs of frames of one kind (RAM is large). */
void phys_dump(const struct phys *ph, FILE *out)
{
	uint64_t counts[FK__COUNT];
	uint64_t start = 0;

	phys_count_kinds(ph, counts);
	fprintf(out, "phys: %" PRIu64 " frames (%" PRIu64 " KiB)", ph->nr_frames,
	        ph->nr_frames * (uint64_t)(PAGE_SIZE / 1024));
	for (int k = 0; k < FK__COUNT; k++)
		fprintf(out, " %s=%" PRIu64, frame_kind_name(k), counts[k]);
	fputc('\n', out);
	for (uint64_t pfn = 1; pfn <= ph->nr_frames; pfn++) {
		unsigned kind = ph->frames[start].kind;

		if (pfn < ph->nr_frames && ph->frames[pfn].kind == kind)
			continue;
		fprintf(out, "  pfn %#9" PRIx64 "-%#9" PRIx64 " %-9s (%" PRIu64 " frames)\n", start,
		        pfn - 1, frame_kind_name(kind), pfn - start);
		start = pfn;
	}
}
