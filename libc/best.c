/*
 * best.c - the project's own allocator (DESIGN.md, policy "best"): highest
 * utilization without giving up speed. Segregated free lists with bounded
 * best fit, after the CS:APP textbook allocator (Bryant & O'Hallaron, 9.9)
 * and dlmalloc's boundary tags with a prev-in-use bit:
 *
 *   allocated:  | hdr: size|PA|A | payload ........................ |
 *   free:       | hdr: size|PA   | next | prev | ...... | footer: size |
 *               ^ chunk (= 8 mod 16)  ^ payload (16-aligned)
 *
 * 8-byte header, footer only in free chunks (the next chunk's PA bit says
 * whether this one is in use), chunk sizes multiples of 16, 32 at least.
 * The heap ends with an epilogue header (size 0, A). Free chunks sit on
 * one of 215 lists: exact sizes up to 1024, then four per power of two; a
 * bitmap of non-empty lists finds the next class in O(1); within a class
 * the best of the first BEST_SCAN chunks is taken.
 *
 * For utilization (peak payload / peak footprint): the heap grows by exactly
 * what is missing (extending a free last chunk), except that small requests
 * grow it by a batch (the heap's size, one to two pages); small chunks are
 * cut from the low end of a free chunk and large ones from the high end, so
 * small and large blocks gather apart and freed large blocks coalesce
 * (CS:APP binary-bal); realloc works in place whenever it can (shrink,
 * absorb the next free chunk, grow the heap under a last chunk, slide back
 * into a free previous chunk). Requests of MMAP_MIN and more take a free
 * chunk of the heap that fits, else a mapping of their own, which realloc
 * resizes with mremap; before mapping, the free last chunk of the heap is
 * given back to the kernel (the footprint peaks when memory is added, so
 * nothing unused is kept then). All metadata lives in simulated memory; the
 * roots (list heads, bitmap) in the bss. docs/libc.md compares it with glibc.
 */
#include <string.h>

#include "../kernel_sim/syscalls.h"
#include "libc.h"

#define HDR       8
#define MIN_CHUNK 32
#define A_BIT     1ULL /* this chunk is in use */
#define PA_BIT    2ULL /* the previous chunk is in use */
#define M_BIT     4ULL /* mmapped chunk */
#define FLAGS     15ULL

#define NR_EXACT    63 /* chunk sizes 32, 48, ..., 1024 */
#define NR_CLASSES  215
#define BEST_SCAN   64
#define SMALL_MAX   96   /* chunks up to this are "small" */
#define SMALL_GROW  4096 /* least heap growth for a small request, at first */
#define SMALL_BATCH 8192 /* ... and once the heap is that big */
#define MMAP_MIN    (256ULL << 10)
#define MMAP_HDR    32 /* mmapped: | next | prev | pad | hdr | payload */
#define MAX_REQUEST (1ULL << 60)

/* Roots in the bss. */
#define R_HEAP_LO 0  /* first chunk; 0 until the heap is set up */
#define R_EPI     8  /* the epilogue header */
#define R_MMAP    16 /* list of mmapped chunks (their mapping bases) */
#define R_BITMAP  24 /* 4 words: non-empty classes */
#define R_HEADS   64 /* NR_CLASSES list heads */
#define R_SIZE    (R_HEADS + 8 * NR_CLASSES)

static inline vaddr_t root(struct libc *lc, unsigned off)
{
	return lc->roots + off;
}

static inline uint64_t ld(struct libc *lc, vaddr_t a)
{
	return libc_ld64(lc, a);
}

static inline void st(struct libc *lc, vaddr_t a, uint64_t v)
{
	libc_st64(lc, a, v);
}

static inline uint64_t csize(uint64_t h)
{
	return h & ~FLAGS;
}

/* Class of a chunk size: 32..1024 exactly (16 apart), then four classes per
   power of two: 1040 -> 63, 2047 -> 66, 2048 -> 67. */
static unsigned size_class(uint64_t s)
{
	unsigned b, idx;

	if (s <= 1024)
		return (unsigned)(s / 16 - 2);
	b = 63 - (unsigned)__builtin_clzll(s);
	idx = NR_EXACT + (b - 10) * 4 + (unsigned)((s >> (b - 2)) & 3);
	return idx < NR_CLASSES ? idx : NR_CLASSES - 1;
}

static uint64_t request_to_chunk(uint64_t n)
{
	uint64_t c = (n + HDR + 15) & ~15ULL;

	return c < MIN_CHUNK ? MIN_CHUNK : c;
}

static bool is_large(uint64_t need)
{
	return need > SMALL_MAX;
}

/* ---- free lists -------------------------------------------------------- */

static void bitmap_set(struct libc *lc, unsigned idx, bool on)
{
	vaddr_t w = root(lc, R_BITMAP + 8 * (idx / 64));
	uint64_t v = ld(lc, w), bit = 1ULL << (idx % 64);

	st(lc, w, on ? v | bit : v & ~bit);
}

static void list_insert(struct libc *lc, vaddr_t c, uint64_t size)
{
	unsigned idx = size_class(size);
	vaddr_t head = ld(lc, root(lc, R_HEADS + 8 * idx));

	st(lc, c + 8, head);
	st(lc, c + 16, 0);
	if (head)
		st(lc, head + 16, c);
	else
		bitmap_set(lc, idx, true);
	st(lc, root(lc, R_HEADS + 8 * idx), c);
}

static void list_remove(struct libc *lc, vaddr_t c, uint64_t size)
{
	unsigned idx = size_class(size);
	vaddr_t next = ld(lc, c + 8), prev = ld(lc, c + 16);

	if (prev) {
		st(lc, prev + 8, next);
	} else {
		st(lc, root(lc, R_HEADS + 8 * idx), next);
		if (!next)
			bitmap_set(lc, idx, false);
	}
	if (next)
		st(lc, next + 16, prev);
}

/* First non-empty class >= idx, or NR_CLASSES. */
static unsigned next_class(struct libc *lc, unsigned idx)
{
	for (unsigned w = idx / 64; w < (NR_CLASSES + 63) / 64; w++) {
		uint64_t v = ld(lc, root(lc, R_BITMAP + 8 * w));

		if (w == idx / 64)
			v &= ~0ULL << (idx % 64);
		if (v)
			return w * 64 + (unsigned)__builtin_ctzll(v);
	}
	return NR_CLASSES;
}

/* A free chunk of at least need bytes, still on its list, or 0. */
static vaddr_t find_fit(struct libc *lc, uint64_t need)
{
	unsigned idx = size_class(need);

	for (idx = next_class(lc, idx); idx < NR_CLASSES; idx = next_class(lc, idx + 1)) {
		vaddr_t c = ld(lc, root(lc, R_HEADS + 8 * idx)), best = 0;
		uint64_t best_size = UINT64_MAX;

		if (idx < NR_EXACT)
			return c; /* every chunk of an exact class has the same size */
		for (unsigned n = 0; c && n < BEST_SCAN; n++, c = ld(lc, c + 8)) {
			uint64_t s = csize(ld(lc, c));

			if (s >= need && s < best_size) {
				best = c;
				best_size = s;
				if (s == need)
					break;
			}
		}
		if (best)
			return best;
	}
	return 0;
}

/* ---- chunks -------------------------------------------------------------- */

static void set_free(struct libc *lc, vaddr_t c, uint64_t size, uint64_t pa)
{
	st(lc, c, size | pa);
	st(lc, c + size - 8, size);
}

static void set_pa(struct libc *lc, vaddr_t c, bool on)
{
	uint64_t h = ld(lc, c);

	st(lc, c, on ? h | PA_BIT : h & ~PA_BIT);
}

/* Heap setup: align the break so that chunks start at 8 mod 16 and put the
   epilogue there. 0 or -1. */
static int heap_init(struct libc *lc)
{
	vaddr_t cur = libc_sbrk(lc, 0), epi;

	if (cur == (vaddr_t)-1)
		return -1;
	epi = ((cur + 7) & ~15ULL) + 8; /* first address >= cur that is 8 mod 16 */
	if (libc_sbrk(lc, (int64_t)(epi + 8 - cur)) == (vaddr_t)-1)
		return -1;
	st(lc, epi, 0 | A_BIT | PA_BIT);
	st(lc, root(lc, R_HEAP_LO), epi);
	st(lc, root(lc, R_EPI), epi);
	return 0;
}

/* Grow the heap by x bytes (multiple of 16): a free chunk at the old
   epilogue, merged with a free last chunk. Returns the merged chunk, off
   the lists, or 0 when sbrk fails. */
static vaddr_t heap_extend(struct libc *lc, uint64_t x)
{
	vaddr_t epi = ld(lc, root(lc, R_EPI)), c = epi;
	uint64_t eh = ld(lc, epi), pa = eh & PA_BIT, size = x;

	if (libc_sbrk(lc, (int64_t)x) == (vaddr_t)-1)
		return 0;
	if (!pa) {
		uint64_t psize = ld(lc, epi - 8);

		c = epi - psize;
		list_remove(lc, c, psize);
		size += psize;
		pa = ld(lc, c) & PA_BIT;
	}
	set_free(lc, c, size, pa);
	st(lc, epi + x, 0 | A_BIT);
	st(lc, root(lc, R_EPI), epi + x);
	EV(&lc->k->probe, LAYER_LIBC, EV_HEAP, "malloc", "grow the heap (sbrk)", {"chunk", c},
	   {"size", size}, {"grow", x});
	return c;
}

/* Cut need bytes for use from free chunk c (off the lists). */
static vaddr_t place(struct libc *lc, vaddr_t c, uint64_t need)
{
	uint64_t h = ld(lc, c), cs = csize(h), pa = h & PA_BIT, rem = cs - need;

	if (rem < MIN_CHUNK) {
		st(lc, c, cs | A_BIT | pa);
		set_pa(lc, c + cs, true);
		return c;
	}
	if (is_large(need)) {
		/* Large at the high end: the free rest stays below. */
		set_free(lc, c, rem, pa);
		list_insert(lc, c, rem);
		st(lc, c + rem, need | A_BIT);
		set_pa(lc, c + cs, true);
		return c + rem;
	}
	st(lc, c, need | A_BIT | pa);
	set_free(lc, c + need, rem, PA_BIT);
	list_insert(lc, c + need, rem);
	return c;
}

/* Free chunk c of size s whose neighbours may be free: coalesce, list. */
static void release(struct libc *lc, vaddr_t c, uint64_t s, uint64_t pa)
{
	vaddr_t next = c + s;
	uint64_t nh = ld(lc, next);

	if (!(nh & A_BIT)) {
		list_remove(lc, next, csize(nh));
		s += csize(nh);
	}
	if (!pa) {
		uint64_t psize = ld(lc, c - 8);

		c -= psize;
		list_remove(lc, c, psize);
		s += psize;
		pa = ld(lc, c) & PA_BIT;
	}
	set_free(lc, c, s, pa);
	set_pa(lc, c + s, false);
	list_insert(lc, c, s);
}

/* ---- mmapped chunks ----------------------------------------------------- */

/* Give a free last chunk back to the kernel (negative sbrk): the epilogue
   moves down to where it began. */
static void heap_trim(struct libc *lc)
{
	vaddr_t epi = ld(lc, root(lc, R_EPI)), c;
	uint64_t size;

	if (ld(lc, epi) & PA_BIT)
		return; /* the last chunk is in use */
	size = ld(lc, epi - 8);
	c = epi - size;
	/* A shrink the kernel refuses (the break above RLIMIT_DATA: sys_brk
	   checks the limit before anything else) returns the old, higher
	   break, which glibc's sbrk reports as a success: look at where the
	   break is, as glibc's systrim does with MORECORE (0). */
	if (libc_sbrk(lc, -(int64_t)size) == (vaddr_t)-1 || lc->curbrk != c + 8)
		return;
	list_remove(lc, c, size);
	st(lc, c, 0 | A_BIT | PA_BIT); /* no two free chunks touch: the one before is in use */
	st(lc, root(lc, R_EPI), c);
	EV(&lc->k->probe, LAYER_LIBC, EV_HEAP, "malloc", "give the free top back (sbrk)",
	   {"chunk", c}, {"size", size});
}

static vaddr_t mmap_alloc(struct libc *lc, uint64_t n)
{
	uint64_t len = PAGE_ALIGN(n + MMAP_HDR);
	vaddr_t m, head;

	/* The footprint (heap + mappings) peaks when memory is added: keep no
	   unused top then. */
	if (ld(lc, root(lc, R_HEAP_LO)))
		heap_trim(lc);
	m = libc_mmap(lc, 0, len, SIM_PROT_READ | SIM_PROT_WRITE,
	              SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS);
	if (m == LIBC_MAP_FAILED)
		return 0;
	head = ld(lc, root(lc, R_MMAP));
	st(lc, m, head);
	st(lc, m + 8, 0);
	if (head)
		st(lc, head + 8, m);
	st(lc, root(lc, R_MMAP), m);
	st(lc, m + MMAP_HDR - 8, len | M_BIT | A_BIT);
	return m + MMAP_HDR;
}

/* Resize the mapping of mmapped chunk p (header h) to hold n bytes with
   mremap, which moves pages rather than bytes and never holds the old and
   the new mapping at once. The chunk, or 0 when mremap failed. */
static vaddr_t mmap_resize(struct libc *lc, vaddr_t p, uint64_t h, uint64_t n)
{
	vaddr_t m = p - MMAP_HDR, nm, next, prev;
	uint64_t len = PAGE_ALIGN(n + MMAP_HDR);

	if (len == csize(h))
		return p;
	nm = libc_mremap(lc, m, csize(h), len, SIM_MREMAP_MAYMOVE);
	if (nm == LIBC_MAP_FAILED)
		return 0;
	/* The list links moved with the mapping: point the neighbours at it. */
	next = ld(lc, nm);
	prev = ld(lc, nm + 8);
	st(lc, prev ? prev : root(lc, R_MMAP), nm);
	if (next)
		st(lc, next + 8, nm);
	st(lc, nm + MMAP_HDR - 8, len | M_BIT | A_BIT);
	EV(&lc->k->probe, LAYER_LIBC, EV_HEAP, "realloc", "resize the mapping (mremap)",
	   {"chunk", nm}, {"size", len});
	return nm + MMAP_HDR;
}

static void mmap_free(struct libc *lc, vaddr_t p, uint64_t h)
{
	vaddr_t m = p - MMAP_HDR, next = ld(lc, m), prev = ld(lc, m + 8);

	if (prev)
		st(lc, prev, next);
	else
		st(lc, root(lc, R_MMAP), next);
	if (next)
		st(lc, next + 8, prev);
	libc_munmap(lc, m, csize(h));
}

/* ---- the malloc family ---------------------------------------------------- */

static void best_init(struct libc *lc)
{
	lc->roots = libc_static_alloc(lc, R_SIZE);
}

static vaddr_t best_malloc(struct libc *lc, uint64_t n)
{
	uint64_t need, avail = 0, grow;
	vaddr_t c, epi;

	if (n > MAX_REQUEST)
		return 0;
	if (!ld(lc, root(lc, R_HEAP_LO))) {
		if (n >= MMAP_MIN)
			return mmap_alloc(lc, n); /* no heap yet, nothing fits */
		if (heap_init(lc) < 0)
			return 0;
	}
	need = request_to_chunk(n);
	c = find_fit(lc, need);
	if (c) {
		list_remove(lc, c, csize(ld(lc, c)));
		return place(lc, c, need) + HDR;
	}
	if (n >= MMAP_MIN)
		return mmap_alloc(lc, n); /* nothing in the heap fits */
	epi = ld(lc, root(lc, R_EPI));
	if (!(ld(lc, epi) & PA_BIT))
		avail = ld(lc, epi - 8); /* the free last chunk is extended */
	grow = need - avail;
	if (!is_large(need)) {
		/* A batch for small chunks: one page while the heap is smaller
		   than SMALL_BATCH, then SMALL_BATCH, so that small blocks gather
		   in runs apart from large ones without a small program paying
		   for room it never uses. */
		uint64_t batch = epi - ld(lc, root(lc, R_HEAP_LO)) < SMALL_BATCH ? SMALL_GROW
		                                                                 : SMALL_BATCH;

		if (avail + grow < batch)
			grow = batch - avail;
	}
	c = heap_extend(lc, grow);
	if (!c)
		return 0;
	return place(lc, c, need) + HDR;
}

/* The chunk of p, validated as glibc's free does (misaligned or outside the
   heap: "invalid pointer"; not in use: "double free or corruption"). */
static vaddr_t chunk_of(struct libc *lc, vaddr_t p, const char *fn, uint64_t *h)
{
	vaddr_t c = p - HDR;
	char msg[96];

	*h = 0;
	if (!(p & 15)) {
		vaddr_t lo = ld(lc, root(lc, R_HEAP_LO)), epi = ld(lc, root(lc, R_EPI));

		if (lo && c >= lo && c < epi) {
			*h = ld(lc, c);
			if (!(*h & A_BIT) || (*h & M_BIT) || csize(*h) < MIN_CHUNK ||
			    c + csize(*h) > epi) {
				snprintf(msg, sizeof(msg), "%s: double free or corruption", fn);
				libc_malloc_printerr(lc, msg);
			}
			return c;
		}
		*h = ld(lc, p - 8);
		if ((*h & (M_BIT | A_BIT)) == (M_BIT | A_BIT))
			return 0; /* mmapped */
	}
	snprintf(msg, sizeof(msg), "%s: invalid pointer", fn);
	libc_malloc_printerr(lc, msg);
}

static void best_free(struct libc *lc, vaddr_t p)
{
	uint64_t h;
	vaddr_t c = chunk_of(lc, p, "free()", &h);

	if (!c) {
		mmap_free(lc, p, h);
		return;
	}
	EV(&lc->k->probe, LAYER_LIBC, EV_HEAP, "free", "coalesce and list", {"chunk", c},
	   {"size", csize(h)});
	release(lc, c, csize(h), h & PA_BIT);
}

static vaddr_t best_realloc(struct libc *lc, vaddr_t p, uint64_t n)
{
	uint64_t h, need, cs, pa, old_usable;
	vaddr_t c, next, q;

	if (n > MAX_REQUEST)
		return 0;
	c = chunk_of(lc, p, "realloc()", &h);
	if (!c) {
		uint64_t len = csize(h);

		if (n >= MMAP_MIN) {
			q = mmap_resize(lc, p, h, n);
			if (q)
				return q;
		}
		q = best_malloc(lc, n); /* into the heap, or mremap failed */
		if (q) {
			libc_memcpy(lc, q, p, n < len - MMAP_HDR ? n : len - MMAP_HDR);
			mmap_free(lc, p, h);
		}
		return q;
	}
	need = request_to_chunk(n);
	cs = csize(h);
	pa = h & PA_BIT;
	old_usable = cs - HDR;
	next = c + cs;
	if (need <= cs) {
		/* Shrink in place; a rest big enough becomes free. */
		if (cs - need >= MIN_CHUNK) {
			st(lc, c, need | A_BIT | pa);
			st(lc, c + need, (cs - need) | PA_BIT | A_BIT);
			release(lc, c + need, cs - need, PA_BIT);
		}
		return p;
	}
	uint64_t nh = ld(lc, next), ns = (nh & A_BIT) ? 0 : csize(nh);
	vaddr_t epi = ld(lc, root(lc, R_EPI));

	if (next == epi || (ns && next + ns == epi && cs + ns < need)) {
		/* The last chunk (or the one before a free last chunk): grow the
		   heap under it by what is missing. */
		if (!heap_extend(lc, need - cs - ns))
			goto move;
		/* heap_extend made [next, new epilogue) one free chunk, off the
		   lists (maybe smaller than MIN_CHUNK): take it all. */
		st(lc, c, need | A_BIT | pa);
		set_pa(lc, c + need, true);
		return p;
	}
	if (ns && cs + ns >= need) {
		list_remove(lc, next, ns);
		uint64_t total = cs + ns;

		if (total - need >= MIN_CHUNK) {
			st(lc, c, need | A_BIT | pa);
			set_free(lc, c + need, total - need, PA_BIT);
			list_insert(lc, c + need, total - need);
		} else {
			st(lc, c, total | A_BIT | pa);
			set_pa(lc, c + total, true);
		}
		return p;
	}
	if (!pa) {
		/* Slide back into a free previous chunk (and a free next one). */
		uint64_t psize = ld(lc, c - 8), total = psize + cs + ns;
		vaddr_t prev = c - psize;

		if (total >= need) {
			uint64_t ppa = ld(lc, prev) & PA_BIT;

			list_remove(lc, prev, psize);
			if (ns)
				list_remove(lc, next, ns);
			libc_memcpy(lc, prev + HDR, p, old_usable);
			if (total - need >= MIN_CHUNK) {
				st(lc, prev, need | A_BIT | ppa);
				set_free(lc, prev + need, total - need, PA_BIT);
				set_pa(lc, prev + total, false);
				list_insert(lc, prev + need, total - need);
			} else {
				st(lc, prev, total | A_BIT | ppa);
				set_pa(lc, prev + total, true);
			}
			return prev + HDR;
		}
	}
move:
	q = best_malloc(lc, n);
	if (!q)
		return 0;
	libc_memcpy(lc, q, p, old_usable < n ? old_usable : n);
	best_free(lc, p);
	return q;
}

static vaddr_t best_memalign(struct libc *lc, uint64_t align, uint64_t n)
{
	vaddr_t p, c, a;
	uint64_t h, cs, lead;

	if (align <= 16)
		return best_malloc(lc, n);
	if (n > MAX_REQUEST || align > MAX_REQUEST)
		return 0;
	/* Room for a leading free chunk of MIN_CHUNK before the aligned payload. */
	p = best_malloc(lc, n + align + MIN_CHUNK);
	if (!p || !(p & (align - 1)))
		return p;
	c = chunk_of(lc, p, "memalign()", &h);
	if (!c) {
		/* An mmapped chunk cannot be split here: give the rest up. */
		best_free(lc, p);
		return 0;
	}
	cs = csize(h);
	a = (p + MIN_CHUNK + align - 1) & ~(align - 1);
	lead = a - p;
	/* Chunk c keeps [c, c+lead) as a free chunk; [c+lead, c+cs) is in use. */
	st(lc, c + lead, (cs - lead) | A_BIT);
	st(lc, c, lead | (h & PA_BIT) | A_BIT);
	release(lc, c, lead, h & PA_BIT);
	best_realloc(lc, a, n ? n : 1); /* shrink: frees the tail */
	return a;
}

static uint64_t best_usable_size(struct libc *lc, vaddr_t p)
{
	uint64_t h;
	vaddr_t c = chunk_of(lc, p, "malloc_usable_size()", &h);

	return c ? csize(h) - HDR : csize(h) - MMAP_HDR;
}

/* ---- walker and checker (side door: no faults, no events) ------------------ */

static uint64_t peek(struct libc *lc, vaddr_t a, bool *ok)
{
	uint64_t v = 0;

	if (!libc_peek64(lc, a, &v))
		*ok = false;
	return v;
}

static void best_walk(struct libc *lc, chunk_cb_t cb, void *ctx)
{
	bool ok = true;
	vaddr_t lo, epi, c, m;
	uint64_t n;

	if (!lc->roots)
		return;
	lo = peek(lc, root(lc, R_HEAP_LO), &ok);
	epi = peek(lc, root(lc, R_EPI), &ok);
	for (c = lo; ok && lo && c < epi;) {
		uint64_t h = peek(lc, c, &ok), s = csize(h);
		struct chunk_info ci = {.chunk = c,
		                        .size = s,
		                        .user = c + HDR,
		                        .in_use = h & A_BIT,
		                        .top = !(h & A_BIT) && c + s == epi,
		                        .flags = h & FLAGS};

		if (!ok || s < MIN_CHUNK)
			break;
		ci.where = ci.in_use ? "in use" : ci.top ? "top" : "free list";
		cb(ctx, &ci);
		c += s;
	}
	/* The list cannot be longer than the mmaps made: a corrupted one may loop. */
	for (m = peek(lc, root(lc, R_MMAP), &ok), n = 0; ok && m && n++ < lc->st.mmap_calls;
	     m = peek(lc, m, &ok)) {
		uint64_t h = peek(lc, m + MMAP_HDR - 8, &ok);
		struct chunk_info ci = {.chunk = m,
		                        .size = csize(h),
		                        .user = m + MMAP_HDR,
		                        .in_use = true,
		                        .mmapped = true,
		                        .where = "mmapped",
		                        .flags = h & FLAGS};

		if (!ok)
			break;
		cb(ctx, &ci);
	}
}

#define CHK(cond, ...)                                                                             \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			if (bad++ == 0 && err) {                                                   \
				fprintf(err, "best: " __VA_ARGS__);                                \
				fputc('\n', err);                                                  \
			}                                                                          \
		}                                                                                  \
	} while (0)

static int best_check(struct libc *lc, FILE *err)
{
	bool ok = true;
	int bad = 0;
	vaddr_t lo, epi, c, m;
	uint64_t nfree = 0, nlisted = 0, prev_in_use = 1, prev_free = 0, mapped = 0, n;

	if (!lc->roots)
		return 0;
	lo = peek(lc, root(lc, R_HEAP_LO), &ok);
	epi = peek(lc, root(lc, R_EPI), &ok);
	CHK(ok, "roots unreadable");
	if (ok && lo) {
		CHK((lo & 15) == 8 && (epi & 15) == 8 && epi >= lo, "heap bounds %#llx %#llx",
		    (unsigned long long)lo, (unsigned long long)epi);
		CHK(lc->curbrk == epi + 8, "brk %#llx is not after the epilogue %#llx",
		    (unsigned long long)lc->curbrk, (unsigned long long)epi);
		for (c = lo; c < epi;) {
			uint64_t h = peek(lc, c, &ok), s = csize(h);

			CHK(ok, "chunk %#llx unreadable", (unsigned long long)c);
			if (!ok)
				break;
			CHK(s >= MIN_CHUNK && !(s & 15) && c + s <= epi,
			    "chunk %#llx: bad size %llu", (unsigned long long)c,
			    (unsigned long long)s);
			if (s < MIN_CHUNK || c + s > epi)
				break;
			CHK(!(h & M_BIT), "chunk %#llx: M bit in the heap", (unsigned long long)c);
			CHK(!!(h & PA_BIT) == !!prev_in_use, "chunk %#llx: PA bit %d, previous %s",
			    (unsigned long long)c, !!(h & PA_BIT), prev_in_use ? "in use" : "free");
			if (!(h & A_BIT)) {
				nfree++;
				CHK(!prev_free, "chunks %#llx and its predecessor are both free",
				    (unsigned long long)c);
				CHK(peek(lc, c + s - 8, &ok) == s, "chunk %#llx: footer disagrees",
				    (unsigned long long)c);
			}
			prev_in_use = h & A_BIT;
			prev_free = !prev_in_use;
			c += s;
		}
		CHK(c == epi, "chunks do not tile the heap up to the epilogue");
		if (c == epi) {
			uint64_t eh = peek(lc, epi, &ok);

			CHK(csize(eh) == 0 && (eh & A_BIT), "bad epilogue %#llx",
			    (unsigned long long)eh);
			CHK(!!(eh & PA_BIT) == !!prev_in_use, "epilogue PA bit wrong");
		}
	}
	for (unsigned idx = 0; ok && idx < NR_CLASSES; idx++) {
		vaddr_t head = peek(lc, root(lc, R_HEADS + 8 * idx), &ok), prev = 0;
		uint64_t word = peek(lc, root(lc, R_BITMAP + 8 * (idx / 64)), &ok);

		CHK(!!head == !!(word & (1ULL << (idx % 64))), "class %u: bitmap disagrees", idx);
		for (c = head; ok && c; c = peek(lc, c + 8, &ok)) {
			uint64_t h = peek(lc, c, &ok);

			CHK(c >= lo && c < epi, "class %u: %#llx outside the heap", idx,
			    (unsigned long long)c);
			if (!(c >= lo && c < epi))
				break;
			CHK(!(h & A_BIT), "class %u: chunk %#llx is in use", idx,
			    (unsigned long long)c);
			CHK(size_class(csize(h)) == idx, "class %u: chunk %#llx of size %llu", idx,
			    (unsigned long long)c, (unsigned long long)csize(h));
			CHK(peek(lc, c + 16, &ok) == prev, "class %u: chunk %#llx: bad prev link",
			    idx, (unsigned long long)c);
			prev = c;
			if (++nlisted > nfree + 1)
				break; /* a cycle */
		}
	}
	CHK(nlisted == nfree, "%llu free chunks, %llu listed", (unsigned long long)nfree,
	    (unsigned long long)nlisted);
	for (m = peek(lc, root(lc, R_MMAP), &ok), n = 0; ok && m; m = peek(lc, m, &ok)) {
		uint64_t h = peek(lc, m + MMAP_HDR - 8, &ok);

		if (n++ == lc->st.mmap_calls) {
			CHK(false, "mmapped list longer than the %llu mmaps made (a cycle?)",
			    (unsigned long long)lc->st.mmap_calls);
			break;
		}
		CHK((h & (M_BIT | A_BIT)) == (M_BIT | A_BIT) && !(m & (PAGE_SIZE - 1)) &&
		        !(csize(h) & (PAGE_SIZE - 1)),
		    "mmapped chunk %#llx: bad header", (unsigned long long)m);
		mapped += csize(h);
		if (mapped > lc->st.mmapped_bytes)
			break;
	}
	CHK(mapped == lc->st.mmapped_bytes, "mmapped chunks %llu bytes, libc counts %llu",
	    (unsigned long long)mapped, (unsigned long long)lc->st.mmapped_bytes);
	return bad;
}

const struct malloc_ops malloc_ops_best = {
    .name = "best",
    .description = "segregated best fit, 8-byte headers, in-place realloc: highest utilization",
    .init = best_init,
    .malloc = best_malloc,
    .free = best_free,
    .realloc = best_realloc,
    .calloc = NULL,
    .memalign = best_memalign,
    .usable_size = best_usable_size,
    .walk = best_walk,
    .check = best_check,
};
