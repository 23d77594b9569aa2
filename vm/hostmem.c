/*
 * hostmem.c - the host memory a simulation owns: libc outside an arena, an
 * allocator inside one, and the arena's snapshots (see hostmem.h).
 *
 * An arena is one MAP_NORESERVE reservation. Its first page holds the
 * allocator's state (struct hm_hdr), so a snapshot of the pages is a snapshot
 * of the allocator too. Above it, pages are handed out by a bump pointer
 * (`used`: the range snapshots copy) and a sorted list of free page runs,
 * coalesced; every free page and every page past `used` is zero (given back
 * with MADV_DONTNEED), so a map (simulated RAM, per-frame tables) is zero
 * without being written, and an untouched page costs nothing to snapshot.
 * Small blocks (up to HM_SMALL_MAX) come from size classes carved out of
 * 64 KiB slabs; larger ones are page runs with a header.
 */
#include "hostmem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "panic.h"

#if defined(__SANITIZE_ADDRESS__)
#define HM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HM_ASAN 1
#endif
#endif
#ifdef HM_ASAN
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif

struct hostmem *hostmem_cur;
unsigned hostmem_nr_arenas;

#define HM_PAGE 4096u
#define HM_SLAB (16 * HM_PAGE)
#define HM_NR_CLASSES 15
#define HM_SMALL_MAX (4096 - sizeof(struct hm_blk))
#define HM_MAGIC_USED 0x686d7573u /* "hmus" */
#define HM_MAGIC_FREE 0x686d6672u /* "hmfr" */
#define HM_MAGIC_HDR 0x686d6864u
#define HM_LARGE 0xffffffffu      /* hm_blk.cls of a page-run block */

/* Block sizes, header included: multiples of 16 (the payload's alignment). */
static const uint32_t hm_class_size[HM_NR_CLASSES] = {
	32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096,
};

struct hm_blk {
	uint32_t magic;
	uint32_t cls;  /* size class, or HM_LARGE */
	uint64_t size; /* payload bytes it can hold */
};
_Static_assert(sizeof(struct hm_blk) == 16, "payload alignment");

struct hm_run { /* a free page run (a small block) */
	uintptr_t start;
	size_t pages;
	struct hm_run *next;
};

/* The allocator's state: the arena's first page (restored with it). */
struct hm_hdr {
	uint32_t magic;
	size_t used;                     /* bytes from the base: the bump pointer */
	struct hm_blk *free[HM_NR_CLASSES];
	uintptr_t slab_cur, slab_end;    /* small blocks are carved here */
	struct hm_run *runs;             /* free page runs, by address */
	size_t allocated;                /* bytes of live blocks and maps */
	size_t nr_blocks;                /* live blocks (maps not counted) */
};

/* An arena (libc memory: the stepper owns it). */
struct hostmem {
	uint8_t *base;
	size_t limit;        /* bytes reserved */
	struct hm_hdr *hdr;  /* at base */
	int pagemap;         /* /proc/self/pagemap, or -1: scan instead */
	unsigned held;
	size_t snap_pages;   /* pages held by its snapshots, shared ones once */
	struct hostmem *next;
};

static struct hostmem *hm_arenas;

struct hostmem *hostmem_owner(const void *p)
{
	for (struct hostmem *h = hm_arenas; h; h = h->next)
		if ((const uint8_t *)p >= h->base && (const uint8_t *)p < h->base + h->limit)
			return h;
	return NULL;
}

/* ---- pages ---------------------------------------------------------------- */

static void hm_zero_pages(struct hostmem *h, uintptr_t start, size_t pages)
{
	(void)h;
	if (pages && madvise((void *)start, pages * HM_PAGE, MADV_DONTNEED))
		panic("madvise(MADV_DONTNEED) of %zu arena pages: %s", pages, strerror(errno));
}

static void *hm_small_alloc(struct hostmem *h, unsigned cls);
static void hm_small_free(struct hostmem *h, struct hm_blk *b);

/* pages zeroed pages, or NULL when the reservation is full. */
static void *hm_pages_alloc(struct hostmem *h, size_t pages)
{
	struct hm_hdr *hd = h->hdr;
	struct hm_run **pp;

	for (pp = &hd->runs; *pp; pp = &(*pp)->next) {
		struct hm_run *r = *pp;
		uintptr_t start = r->start;

		if (r->pages < pages)
			continue;
		if (r->pages == pages) {
			*pp = r->next;
			hm_small_free(h, (struct hm_blk *)r - 1);
		} else {
			r->start += pages * HM_PAGE;
			r->pages -= pages;
		}
		return (void *)start;
	}
	if (pages > (h->limit - hd->used) / HM_PAGE)
		return NULL;
	hd->used += pages * HM_PAGE;
	return h->base + hd->used - pages * HM_PAGE;
}

/* Give pages back: zeroed, on the run list, or below the bump pointer. */
static void hm_pages_free(struct hostmem *h, void *p, size_t pages)
{
	struct hm_hdr *hd = h->hdr;
	uintptr_t start = (uintptr_t)p;
	struct hm_run **pp, *prev = NULL, *r;

	hm_zero_pages(h, start, pages);
	for (pp = &hd->runs; *pp && (*pp)->start < start; pp = &(*pp)->next)
		prev = *pp;
	if (prev && prev->start + prev->pages * HM_PAGE == start) {
		prev->pages += pages;
		r = prev;
	} else {
		struct hm_blk *b = hm_small_alloc(h, 1); /* may take a slab: relink */

		if (!b)
			host_oom("a free-run record of the stepper's arena");
		r = (struct hm_run *)(b + 1);
		r->start = start;
		r->pages = pages;
		for (pp = &hd->runs, prev = NULL; *pp && (*pp)->start < start; pp = &(*pp)->next)
			prev = *pp;
		r->next = *pp;
		*pp = r;
	}
	if (r->next && r->start + r->pages * HM_PAGE == r->next->start) {
		struct hm_run *n = r->next;

		r->pages += n->pages;
		r->next = n->next;
		hm_small_free(h, (struct hm_blk *)n - 1);
	}
	/* the last run: lower the bump pointer */
	if (!r->next && r->start + r->pages * HM_PAGE == (uintptr_t)h->base + hd->used) {
		for (pp = &hd->runs; *pp != r; pp = &(*pp)->next)
			;
		*pp = NULL;
		hd->used = r->start - (uintptr_t)h->base;
		hm_small_free(h, (struct hm_blk *)r - 1);
	}
}

/* ---- blocks --------------------------------------------------------------- */

static unsigned hm_class_of(size_t n)
{
	for (unsigned c = 0; c < HM_NR_CLASSES; c++)
		if (n + sizeof(struct hm_blk) <= hm_class_size[c])
			return c;
	return HM_NR_CLASSES;
}

/* A block of class cls, header filled. NULL when the arena is full. */
static void *hm_small_alloc(struct hostmem *h, unsigned cls)
{
	struct hm_hdr *hd = h->hdr;
	struct hm_blk *b = hd->free[cls];
	size_t sz = hm_class_size[cls];

	if (b) {
		hd->free[cls] = *(struct hm_blk **)(b + 1);
	} else {
		if (hd->slab_end - hd->slab_cur < sz) {
			void *s = hm_pages_alloc(h, HM_SLAB / HM_PAGE);

			if (!s)
				return NULL;
			hd->slab_cur = (uintptr_t)s;
			hd->slab_end = hd->slab_cur + HM_SLAB;
		}
		b = (struct hm_blk *)hd->slab_cur;
		hd->slab_cur += sz;
	}
	b->magic = HM_MAGIC_USED;
	b->cls = cls;
	b->size = sz - sizeof(*b);
	hd->allocated += sz;
	hd->nr_blocks++;
	return b;
}

static void hm_small_free(struct hostmem *h, struct hm_blk *b)
{
	struct hm_hdr *hd = h->hdr;

	b->magic = HM_MAGIC_FREE;
	*(struct hm_blk **)(b + 1) = hd->free[b->cls];
	hd->free[b->cls] = b;
	hd->allocated -= hm_class_size[b->cls];
	hd->nr_blocks--;
}

static struct hm_blk *hm_blk_of(struct hostmem *h, void *p)
{
	struct hm_blk *b = (struct hm_blk *)p - 1;

	if ((uintptr_t)p % 16 || b->magic != HM_MAGIC_USED ||
	    (b->cls != HM_LARGE && b->cls >= HM_NR_CLASSES))
		panic("%p is not a live block of the arena at %p", p, (void *)h->base);
	return b;
}

void *hostmem_arena_malloc(struct hostmem *h, size_t n)
{
	unsigned cls = hm_class_of(n);
	struct hm_blk *b;

	if (cls < HM_NR_CLASSES) {
		b = hm_small_alloc(h, cls);
		return b ? b + 1 : NULL;
	}
	if (n > h->limit)
		return NULL;
	size_t pages = (n + sizeof(*b) + HM_PAGE - 1) / HM_PAGE;

	b = hm_pages_alloc(h, pages);
	if (!b)
		return NULL;
	b->magic = HM_MAGIC_USED;
	b->cls = HM_LARGE;
	b->size = pages * HM_PAGE - sizeof(*b);
	h->hdr->allocated += pages * HM_PAGE;
	h->hdr->nr_blocks++;
	return b + 1;
}

void *hostmem_arena_calloc(struct hostmem *h, size_t nmemb, size_t size)
{
	size_t n;
	void *p;

	if (__builtin_mul_overflow(nmemb, size, &n))
		return NULL;
	p = hostmem_arena_malloc(h, n);
	/* page-run blocks are fresh zero pages */
	if (p && ((struct hm_blk *)p - 1)->cls != HM_LARGE)
		memset(p, 0, n);
	return p;
}

void hostmem_arena_free(struct hostmem *h, void *p)
{
	struct hm_blk *b;

	if (!p)
		return;
	b = hm_blk_of(h, p);
	if (b->cls != HM_LARGE) {
		hm_small_free(h, b);
		return;
	}
	size_t pages = (b->size + sizeof(*b)) / HM_PAGE;

	h->hdr->allocated -= pages * HM_PAGE;
	h->hdr->nr_blocks--;
	hm_pages_free(h, b, pages);
}

void *hostmem_arena_realloc(struct hostmem *h, void *p, size_t n)
{
	struct hm_blk *b;
	void *q;

	if (!p)
		return hostmem_arena_malloc(h, n);
	if (!n) {
		hostmem_arena_free(h, p);
		return NULL;
	}
	b = hm_blk_of(h, p);
	if (n <= b->size)
		return p;
	q = hostmem_arena_malloc(h, n);
	if (!q)
		return NULL;
	memcpy(q, p, b->size);
	hostmem_arena_free(h, p);
	return q;
}

/* ---- maps ----------------------------------------------------------------- */

static void *hm_mmap(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

#define HUGE_BYTES (2ULL << 20)

/* At a 2 MiB boundary, with MADV_HUGEPAGE (a host without transparent huge
   pages refuses the advice: 4 KiB pages then). */
static void *hm_mmap_huge(size_t bytes)
{
	uint8_t *p = hm_mmap(bytes + HUGE_BYTES), *a;
	size_t head;

	if (!p)
		return NULL;
	a = (uint8_t *)(((uintptr_t)p + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1));
	head = (size_t)(a - p);
	if (head)
		munmap(p, head);
	munmap(a + bytes, HUGE_BYTES - head);
	madvise(a, bytes, MADV_HUGEPAGE);
	return a;
}

void *hostmem_map(size_t bytes, bool huge)
{
	struct hostmem *h = hostmem_cur;
	void *p;

	if (!h)
		return huge ? hm_mmap_huge(bytes) : hm_mmap(bytes);
	p = bytes <= h->limit ? hm_pages_alloc(h, (bytes + HM_PAGE - 1) / HM_PAGE) : NULL;
	if (!p) {
		errno = ENOMEM; /* as mmap says it */
		return NULL;
	}
	h->hdr->allocated += (bytes + HM_PAGE - 1) / HM_PAGE * HM_PAGE;
	return p;
}

void hostmem_unmap(void *p, size_t bytes)
{
	struct hostmem *h = hostmem_nr_arenas ? hostmem_owner(p) : NULL;

	if (!h) {
		munmap(p, bytes);
		return;
	}
	h->hdr->allocated -= (bytes + HM_PAGE - 1) / HM_PAGE * HM_PAGE;
	hm_pages_free(h, p, (bytes + HM_PAGE - 1) / HM_PAGE);
}

/* ---- host resources ------------------------------------------------------- */

void hostmem_hold(void)
{
	if (hostmem_cur)
		hostmem_cur->held++;
}

void hostmem_release(void)
{
	if (hostmem_cur) {
		if (!hostmem_cur->held)
			panic("hostmem_release without hostmem_hold");
		hostmem_cur->held--;
	}
}

unsigned hostmem_held(const struct hostmem *h)
{
	return h->held;
}

FILE *hostmem_open_memstream(char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);

	if (f)
		hostmem_hold();
	return f;
}

int hostmem_close_memstream(FILE *f, char **buf, size_t *len)
{
	int r = fclose(f);

	if (hostmem_cur) {
		char *libc_buf = *buf;

		if (libc_buf) {
			*buf = hostmem_malloc(*len + 1);
			if (!*buf)
				host_oom("a memory stream's buffer");
			memcpy(*buf, libc_buf, *len + 1);
			free(libc_buf);
		}
		hostmem_release();
	}
	return r;
}

/* ---- arenas --------------------------------------------------------------- */

struct hostmem *hostmem_create(size_t reserve)
{
	struct hostmem *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->limit = (reserve + HM_PAGE - 1) / HM_PAGE * HM_PAGE;
	if (h->limit < 2 * HM_PAGE || !(h->base = hm_mmap(h->limit))) {
		free(h);
		return NULL;
	}
	h->hdr = (struct hm_hdr *)h->base;
	h->hdr->magic = HM_MAGIC_HDR;
	h->hdr->used = HM_PAGE;
	h->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	h->next = hm_arenas;
	hm_arenas = h;
	hostmem_nr_arenas++;
	return h;
}

void hostmem_destroy(struct hostmem *h)
{
	struct hostmem **pp;

	if (!h)
		return;
	if (hostmem_cur == h)
		panic("destroying the arena entered");
	for (pp = &hm_arenas; *pp != h; pp = &(*pp)->next)
		if (!*pp)
			panic("hostmem_destroy of an unknown arena");
	*pp = h->next;
	hostmem_nr_arenas--;
	if (h->pagemap >= 0)
		close(h->pagemap);
	munmap(h->base, h->limit);
	free(h);
}

struct hostmem *hostmem_enter(struct hostmem *h)
{
	struct hostmem *prev = hostmem_cur;

	hostmem_cur = h;
	return prev;
}

void hostmem_leave(struct hostmem *prev)
{
	hostmem_cur = prev;
}

size_t hostmem_used(const struct hostmem *h)
{
	return h->hdr->used;
}

size_t hostmem_allocated(const struct hostmem *h)
{
	return h->hdr->allocated;
}

int hostmem_check(const struct hostmem *h, FILE *err)
{
	const struct hm_hdr *hd = h->hdr;
	uintptr_t lo = (uintptr_t)h->base + HM_PAGE, hi = (uintptr_t)h->base + hd->used;
	size_t free_pages = 0, free_small = 0;
	const struct hm_run *prev = NULL;

#define HM_BAD(...)                                                                                \
	do {                                                                                       \
		fprintf(err, "hostmem: " __VA_ARGS__);                                             \
		fputc('\n', err);                                                                  \
		return -1;                                                                         \
	} while (0)
	if (hd->magic != HM_MAGIC_HDR)
		HM_BAD("arena header overwritten");
	if (hd->used % HM_PAGE || hd->used < HM_PAGE || hd->used > h->limit)
		HM_BAD("used %zu outside [%u, %zu]", hd->used, HM_PAGE, h->limit);
	if (hd->slab_cur > hd->slab_end || (hd->slab_end && (hd->slab_cur < lo || hd->slab_end > hi)))
		HM_BAD("the small-block slab [%#" PRIxPTR ", %#" PRIxPTR ") is outside the arena",
		       hd->slab_cur, hd->slab_end);
	for (unsigned c = 0; c < HM_NR_CLASSES; c++) {
		size_t n = 0;

		for (const struct hm_blk *b = hd->free[c]; b; b = *(struct hm_blk *const *)(b + 1)) {
			if ((uintptr_t)b < lo || (uintptr_t)b + hm_class_size[c] > hi)
				HM_BAD("free block %p of class %u outside the arena", (void *)b, c);
			if (b->magic != HM_MAGIC_FREE || b->cls != c)
				HM_BAD("block %p on the free list of class %u is not a free one of it",
				       (void *)b, c);
			if (++n > h->limit / hm_class_size[c])
				HM_BAD("the free list of class %u loops", c);
			free_small += hm_class_size[c];
		}
	}
	for (const struct hm_run *r = hd->runs; r; r = r->next) {
		if (!r->pages || r->start % HM_PAGE || r->start < lo || r->start + r->pages * HM_PAGE > hi)
			HM_BAD("free run %#" PRIxPTR "+%zu pages outside the arena", r->start, r->pages);
		if (prev && prev->start + prev->pages * HM_PAGE >= r->start)
			HM_BAD("free runs %#" PRIxPTR " and %#" PRIxPTR " overlap, touch or are unsorted",
			       prev->start, r->start);
		if (!r->next && r->start + r->pages * HM_PAGE == hi)
			HM_BAD("the last free run ends at the bump pointer (it should have lowered it)");
		free_pages += r->pages;
		prev = r;
	}
	if (hd->allocated + free_pages * HM_PAGE + free_small > hd->used)
		HM_BAD("%zu bytes allocated, %zu pages and %zu small bytes free: more than the %zu used",
		       hd->allocated, free_pages, free_small, hd->used);
#undef HM_BAD
	return 0;
}

/* ---- snapshots ------------------------------------------------------------ */

struct hm_page {
	size_t refs;
	uint8_t data[HM_PAGE];
};

struct hostmem_snap {
	struct hostmem *h;
	size_t used;          /* the arena's used bytes then */
	size_t nr;            /* pages stored */
	uint32_t *idx;        /* their page numbers, ascending */
	struct hm_page **pg;
	size_t own;           /* pages this snapshot allocated */
	size_t read;          /* bytes taking it read: pagemap entries, touched pages */
};

/* Sanitizer builds: ASan poisons the frames of the coroutine stack that lives
   in the arena; a copy in or out of it must not be checked against them. */
static void hm_unpoison(struct hostmem *h, size_t bytes)
{
#ifdef HM_ASAN
	__asan_unpoison_memory_region(h->base, bytes);
#else
	(void)h;
	(void)bytes;
#endif
}

#define HM_PM_CHUNK 512

/* Which of pages [first, first+n) the host ever backed (present or
   swapped): an untouched page of a private anonymous mapping reads as zero.
   Without pagemap, all of them. */
static void hm_touched(struct hostmem *h, size_t first, size_t n, bool *out)
{
	uint64_t pm[HM_PM_CHUNK];
	off_t off = (off_t)(((uintptr_t)h->base / HM_PAGE + first) * sizeof(uint64_t));

	if (h->pagemap < 0 || pread(h->pagemap, pm, n * sizeof(uint64_t), off) !=
	                              (ssize_t)(n * sizeof(uint64_t))) {
		for (size_t i = 0; i < n; i++)
			out[i] = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (pm[i] >> 62) != 0; /* bit 63 present, bit 62 swapped */
}

static bool hm_page_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < HM_PAGE / sizeof(*w); i += 8)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
			return false;
	return true;
}

struct hostmem_snap *hostmem_snap_take(struct hostmem *h, const struct hostmem_snap *prev)
{
	struct hostmem_snap *s = calloc(1, sizeof(*s));
	size_t np = h->hdr->used / HM_PAGE, j = 0, cap = 0;
	bool touched[HM_PM_CHUNK];

	if (!s)
		return NULL;
	s->h = h;
	s->used = h->hdr->used;
	hm_unpoison(h, s->used);
	for (size_t c = 0; c < np; c += HM_PM_CHUNK) {
		size_t n = np - c < HM_PM_CHUNK ? np - c : HM_PM_CHUNK;

		hm_touched(h, c, n, touched);
		s->read += n * sizeof(uint64_t);
		for (size_t k = 0; k < n; k++) {
			size_t i = c + k;
			const uint8_t *p = h->base + i * HM_PAGE;
			struct hm_page *pg = NULL;

			if (!touched[k])
				continue;
			s->read += HM_PAGE;
			while (prev && j < prev->nr && prev->idx[j] < i)
				j++;
			if (prev && j < prev->nr && prev->idx[j] == i &&
			    !memcmp(prev->pg[j]->data, p, HM_PAGE)) {
				pg = prev->pg[j];
				pg->refs++;
			} else if (!hm_page_zero(p)) {
				pg = malloc(sizeof(*pg));
				if (!pg)
					goto oom;
				pg->refs = 1;
				memcpy(pg->data, p, HM_PAGE);
				s->own++;
				h->snap_pages++;
			} else {
				continue;
			}
			if (s->nr == cap) {
				size_t ncap = cap ? 2 * cap : 256;
				uint32_t *ni = realloc(s->idx, ncap * sizeof(*ni));

				if (ni)
					s->idx = ni;
				struct hm_page **npg = ni ? realloc(s->pg, ncap * sizeof(*npg)) : NULL;

				if (!npg) {
					if (!--pg->refs) {
						free(pg);
						h->snap_pages--;
					}
					goto oom;
				}
				s->pg = npg;
				cap = ncap;
			}
			s->idx[s->nr] = (uint32_t)i;
			s->pg[s->nr++] = pg;
		}
	}
	return s;
oom:
	hostmem_snap_free(s);
	return NULL;
}

void hostmem_snap_restore(struct hostmem *h, const struct hostmem_snap *s)
{
	size_t cur = h->hdr->used, np = s->used / HM_PAGE, j = 0, zstart = 0, zlen = 0;
	bool touched[HM_PM_CHUNK];

	hm_unpoison(h, cur > s->used ? cur : s->used);
	for (size_t c = 0; c < np; c += HM_PM_CHUNK) {
		size_t n = np - c < HM_PM_CHUNK ? np - c : HM_PM_CHUNK;

		hm_touched(h, c, n, touched);
		for (size_t k = 0; k < n; k++) {
			size_t i = c + k;
			uint8_t *p = h->base + i * HM_PAGE;

			if (j < s->nr && s->idx[j] == i) {
				const uint8_t *d = s->pg[j++]->data;

				if (!touched[k] || memcmp(p, d, HM_PAGE))
					memcpy(p, d, HM_PAGE);
				continue;
			}
			if (!touched[k])
				continue;
			/* zero in the snapshot: give the page back, a run at a time */
			if (zlen && zstart + zlen == i) {
				zlen++;
			} else {
				hm_zero_pages(h, (uintptr_t)(h->base + zstart * HM_PAGE), zlen);
				zstart = i;
				zlen = 1;
			}
		}
	}
	hm_zero_pages(h, (uintptr_t)(h->base + zstart * HM_PAGE), zlen);
	if (cur > s->used)
		hm_zero_pages(h, (uintptr_t)(h->base + s->used), (cur - s->used) / HM_PAGE);
	if (h->hdr->used != s->used)
		panic("the restored arena header says %zu bytes used, the snapshot %zu",
		      h->hdr->used, s->used);
}

void hostmem_snap_free(struct hostmem_snap *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr; i++)
		if (!--s->pg[i]->refs) {
			free(s->pg[i]);
			s->h->snap_pages--;
		}
	free(s->idx);
	free(s->pg);
	free(s);
}

size_t hostmem_snap_pages(const struct hostmem_snap *s)
{
	return s->nr;
}

size_t hostmem_snap_read(const struct hostmem_snap *s)
{
	return s->read;
}

size_t hostmem_snaps_bytes(const struct hostmem *h)
{
	return h->snap_pages * sizeof(struct hm_page);
}
