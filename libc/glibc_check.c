/*
 * glibc_check.c - walker, checker and dump of the `glibc` policy's heap, in
 * the spirit of glibc's do_check_malloc_state (malloc/malloc.c, MALLOC_DEBUG):
 * chunks tile each heap segment up to top, P bits agree with the state of the
 * previous chunk, the bins' links are consistent and hold chunks of their size
 * class, large bins are sorted, the binmap covers every non-empty bin, the
 * tcache counts agree with its lists, no two free chunks (outside tcache and
 * fastbins, which stay "in use") are adjacent. Every arena is checked: the
 * main one's heap from sbrk_base, each other's heaps (heap_info, from the
 * arena's first to the heap of its top), where every chunk in use carries
 * the A bit and every heap holds its arena and its sizes; and every
 * thread's tcache, which may hold chunks of any arena.
 *
 * Everything is read through libc_peek64: no fault, no event, no TLB effect,
 * so checking after every operation does not change what is measured.
 * The mmapped chunks come from the model's host-side list (glibc does not
 * know them; see struct glibc_priv).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/hostmem.h"
#include "glibc_malloc.h"

/* uthash's tables belong to the simulation's host memory too */
#define uthash_malloc(sz) hostmem_malloc(sz)
#define uthash_free(ptr, sz) hostmem_free(ptr)
#include "../vm/uthash_host.h"

/* Where a free chunk was found by the bin scan. */
enum where_kind { W_TCACHE, W_FAST, W_UNSORTED, W_SMALL, W_LARGE };

struct binned {
	vaddr_t chunk; /* key */
	int kind;      /* enum where_kind */
	unsigned idx;  /* bin index in its kind */
	bool seen;     /* met by the tiling walk */
	UT_hash_handle hh;
};

struct ck {
	struct libc *lc;
	struct glibc_priv *pv; /* never NULL: points to an empty one when lc has none */
	struct glibc_priv empty;
	vaddr_t main, mp, gs;
	FILE *err;
	int broken;
	bool ok; /* initialized heap to inspect */
	vaddr_t sbrk_base;
	uint64_t key;
	unsigned arena_nr;  /* the arena being walked: malloc_stats's number */
	vaddr_t av, top;    /* ... its malloc_state and top chunk */
	uint64_t top_size, system_mem;
	struct binned *set; /* uthash */
};

/* At most this many arenas are followed (a corrupted list may loop). */
#define CK_MAX_ARENAS 4096

/* Bound every list walk: a corrupted list may loop. */
#define CK_MAX_LIST 10000000UL

static void bad(struct ck *c, const char *fmt, ...)
{
	va_list ap;

	if (c->broken++ == 0 && c->err) {
		fprintf(c->err, "glibc heap check: ");
		va_start(ap, fmt);
		vfprintf(c->err, fmt, ap);
		va_end(ap);
		fputc('\n', c->err);
	}
}

static uint64_t pk(struct ck *c, vaddr_t a)
{
	uint64_t v = 0;

	if (!libc_peek64(c->lc, a, &v)) {
		bad(c, "unmapped read at %#llx", (unsigned long long)a);
		return 0;
	}
	return v;
}

static uint32_t pk32(struct ck *c, vaddr_t a)
{
	uint64_t v = pk(c, a & ~7ULL);

	return (uint32_t)(v >> (8 * (a & 4)));
}

static bool ck_begin(struct ck *c, struct libc *lc, FILE *err)
{
	memset(c, 0, sizeof(*c));
	c->lc = lc;
	c->pv = lc->priv ? lc->priv : &c->empty;
	c->err = err;
	if (lc->ops != &malloc_ops_glibc)
		return false;
	c->main = c->av = gm_main_arena(lc);
	c->mp = gm_mp(lc);
	c->gs = gm_statics(lc);
	uint64_t v;
	if (!libc_peek64(lc, c->gs + GS_INITIALIZED, &v) || (uint32_t)v == 0)
		return true; /* bss not even touched: nothing allocated yet */
	c->sbrk_base = pk(c, c->mp + MP_SBRK_BASE);
	c->key = pk(c, c->gs + GS_TCACHE_KEY);
	c->ok = true;
	return true;
}

/* Make av the arena walked now. */
static void ck_arena(struct ck *c, vaddr_t av, unsigned nr)
{
	c->av = av;
	c->arena_nr = nr;
	c->top = pk(c, av + AV_TOP);
	c->system_mem = pk(c, av + AV_SYSTEM_MEM);
	c->top_size = pk(c, c->top + 8) & ~GM_SIZE_BITS;
}

static void ck_end(struct ck *c)
{
	struct binned *b, *tmp;

	HASH_ITER(hh, c->set, b, tmp)
	{
		HASH_DEL(c->set, b);
		hostmem_free(b);
	}
}

static void add_binned(struct ck *c, vaddr_t chunk, int kind, unsigned idx)
{
	struct binned *b;

	HASH_FIND(hh, c->set, &chunk, sizeof(chunk), b);
	if (b) {
		bad(c, "chunk %#llx is in two bins", (unsigned long long)chunk);
		return;
	}
	b = hostmem_calloc(1, sizeof(*b));
	if (!b)
		abort();
	b->chunk = chunk;
	b->kind = kind;
	b->idx = idx;
	HASH_ADD(hh, c->set, chunk, sizeof(b->chunk), b);
}

static struct binned *find_binned(struct ck *c, vaddr_t chunk)
{
	struct binned *b;

	HASH_FIND(hh, c->set, &chunk, sizeof(chunk), b);
	return b;
}

/* Scan one thread's tcache, checking its lists against its counts. */
static void scan_tcache(struct ck *c, vaddr_t tc)
{
	unsigned fill = (unsigned)pk(c, c->mp + MP_TCACHE_COUNT);

	if (tc) {
		for (unsigned i = 0; i < GM_TCACHE_MAX_BINS; i++) {
			uint32_t w = pk32(c, tc + TC_COUNTS + ((2 * i) & ~3U));
			unsigned count = (i & 1) ? w >> 16 : w & 0xffff;
			vaddr_t e = pk(c, tc + TC_ENTRIES + 8ULL * i);
			unsigned n = 0;

			while (e && n <= fill) {
				vaddr_t ch = e - GM_CHUNK_HDR_SZ;
				uint64_t sz = pk(c, ch + 8) & ~GM_SIZE_BITS;

				if (e & GM_MALLOC_ALIGN_MASK) {
					bad(c, "tcache[%u]: misaligned entry %#llx", i,
					    (unsigned long long)e);
					break;
				}
				if (gm_csize2tidx(sz) != i)
					bad(c, "tcache[%u]: chunk %#llx of size %#llx", i,
					    (unsigned long long)ch, (unsigned long long)sz);
				if (pk(c, e + 8) != c->key)
					bad(c, "tcache[%u]: chunk %#llx without the tcache key", i,
					    (unsigned long long)ch);
				add_binned(c, ch, W_TCACHE, i);
				n++;
				e = (e >> 12) ^ pk(c, e);
			}
			if (n != count)
				bad(c, "tcache[%u]: counts says %u, list has %u%s", i, count, n,
				    n > fill ? "+" : "");
		}
	}
}

/* Every thread's tcache. */
static void scan_tcaches(struct ck *c)
{
	for (const struct libc_thread *t = c->lc->threads; t; t = t->next)
		scan_tcache(c, pk(c, t->tls + TLS_TCACHE));
}

/* Scan the arena's fastbins and bins, checking their links. */
static void scan_bins(struct ck *c)
{
	vaddr_t av = c->av;

	for (unsigned i = 0; i < GM_NFASTBINS; i++) {
		vaddr_t p = pk(c, av + AV_FASTBINS + 8ULL * i);
		unsigned long n = 0;

		while (p && n++ < CK_MAX_LIST) {
			uint64_t sz = pk(c, p + 8) & ~GM_SIZE_BITS;

			if (p & GM_MALLOC_ALIGN_MASK) {
				bad(c, "fastbin[%u]: misaligned chunk %#llx", i,
				    (unsigned long long)p);
				break;
			}
			if (gm_fastbin_index(sz) != i)
				bad(c, "fastbin[%u]: chunk %#llx of size %#llx", i,
				    (unsigned long long)p, (unsigned long long)sz);
			add_binned(c, p, W_FAST, i);
			if (c->broken > 1000)
				return;
			p = ((p + 16) >> 12) ^ pk(c, p + 16);
		}
	}
	for (unsigned i = 1; i < GM_NBINS; i++) {
		vaddr_t bin = gm_bin_at(av, i);
		vaddr_t p = pk(c, bin + 16), prev = bin;
		uint32_t map = pk32(c, av + AV_BINMAP + 4ULL * (i >> 5));
		uint64_t last_size = UINT64_MAX;
		unsigned long n = 0;

		if (i != 1 && p != bin && !(map & (1u << (i & 31))))
			bad(c, "bin %u is not empty but its binmap bit is clear", i);
		while (p != bin && n++ < CK_MAX_LIST) {
			uint64_t sz = pk(c, p + 8) & ~GM_SIZE_BITS;
			int kind = i == 1 ? W_UNSORTED : i < GM_NSMALLBINS ? W_SMALL : W_LARGE;

			if (c->broken > 1000)
				return;
			if (p & GM_MALLOC_ALIGN_MASK) {
				bad(c, "bin %u: misaligned chunk %#llx", i, (unsigned long long)p);
				break;
			}
			if (pk(c, p + 24) != prev)
				bad(c, "bin %u: chunk %#llx's bk is not the previous one", i,
				    (unsigned long long)p);
			if (i != 1 && gm_bin_index(sz) != i)
				bad(c, "bin %u: chunk %#llx of size %#llx belongs to bin %u", i,
				    (unsigned long long)p, (unsigned long long)sz,
				    gm_bin_index(sz));
			if (kind == W_LARGE) {
				if (sz > last_size)
					bad(c, "large bin %u not sorted at %#llx", i,
					    (unsigned long long)p);
				last_size = sz;
			}
			add_binned(c, p, kind, i);
			prev = p;
			p = pk(c, p + 16);
		}
		if (pk(c, bin + 24) != prev)
			bad(c, "bin %u: the header's bk is not the last chunk", i);
	}
}

static const char *where_name(const struct binned *b, char *buf, size_t len)
{
	switch (b ? b->kind : -1) {
	case W_TCACHE:
		snprintf(buf, len, "tcache[%u]", b->idx);
		break;
	case W_FAST:
		snprintf(buf, len, "fastbin[%u]", b->idx);
		break;
	case W_UNSORTED:
		snprintf(buf, len, "unsorted");
		break;
	case W_SMALL:
		snprintf(buf, len, "smallbin[%u]", b->idx);
		break;
	case W_LARGE:
		snprintf(buf, len, "largebin[%u]", b->idx);
		break;
	default:
		snprintf(buf, len, "in use");
	}
	return buf;
}

static int cmp_vaddr(const void *a, const void *b)
{
	vaddr_t x = *(const vaddr_t *)a, y = *(const vaddr_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Walk one heap segment from its first chunk: up to top (the segment that
 * holds it) or to the double fencepost that sysmalloc leaves at the end of
 * an abandoned segment. cb may be NULL (check only).
 */
static void walk_segment(struct ck *c, vaddr_t start, chunk_cb_t cb, void *ctx)
{
	vaddr_t p = start;
	bool prev_free = false; /* the previous chunk is in a regular bin */
	uint64_t prev_sz = 0;
	unsigned long n = 0;

	while (n++ < CK_MAX_LIST && c->broken <= 1000) {
		uint64_t head = pk(c, p + 8), sz = head & ~GM_SIZE_BITS;
		struct chunk_info ci;
		char buf[32];

		if (p == c->top) {
			if (!(head & GM_PREV_INUSE))
				bad(c, "top %#llx has P clear", (unsigned long long)p);
			if (prev_free)
				bad(c, "free chunk %#llx borders top",
				    (unsigned long long)(p - prev_sz));
			if (sz < GM_MINSIZE)
				bad(c, "top %#llx smaller than MINSIZE", (unsigned long long)p);
			/* glibc 2.29's check before it splits top ("corrupted top
			   size"): an overflow into top's header shows here first. */
			if (sz > c->system_mem)
				bad(c, "top %#llx has size %#llx, more than the arena's system_mem %#llx",
				    (unsigned long long)p, (unsigned long long)sz,
				    (unsigned long long)c->system_mem);
			if (cb) {
				ci = (struct chunk_info){.chunk = p,
				                         .size = sz,
				                         .user = 0,
				                         .in_use = false,
				                         .top = true,
				                         .where = "top",
				                         .flags = head & GM_SIZE_BITS,
				                         .arena = c->arena_nr};
				cb(ctx, &ci);
			}
			return;
		}
		if (c->av == c->main && sz == GM_CHUNK_HDR_SZ) {
			/* fencepost pair at the end of an abandoned segment */
			if ((pk(c, p + 24) & ~GM_SIZE_BITS) != GM_CHUNK_HDR_SZ)
				bad(c, "lone fencepost at %#llx", (unsigned long long)p);
			return;
		}
		if (c->av != c->main && (sz == 0 || sz == GM_CHUNK_HDR_SZ)) {
			/* sysmalloc's fencepost at the end of a heap: a chunk of
			   CHUNK_HDR_SZ (when there was room), then a size of 0 */
			if (sz != 0 && (pk(c, p + 24) & ~GM_SIZE_BITS) != 0)
				bad(c, "heap fencepost at %#llx not closed", (unsigned long long)p);
			return;
		}
		if (sz < GM_MINSIZE || (sz & GM_MALLOC_ALIGN_MASK) || (p & GM_MALLOC_ALIGN_MASK)) {
			bad(c, "chunk %#llx has a bad size %#llx", (unsigned long long)p,
			    (unsigned long long)sz);
			return;
		}
		if (head & GM_IS_MMAPPED)
			bad(c, "heap chunk %#llx has M set", (unsigned long long)p);
		if (c->av == c->main && (head & GM_NON_MAIN_ARENA))
			bad(c, "main_arena chunk %#llx has A set", (unsigned long long)p);
		if (!!(head & GM_PREV_INUSE) == prev_free)
			bad(c, "chunk %#llx: P=%d but the previous chunk is %s",
			    (unsigned long long)p, (int)(head & GM_PREV_INUSE),
			    prev_free ? "free" : "in use");
		if (prev_free && pk(c, p) != prev_sz)
			bad(c, "chunk %#llx: prev_size %#llx, previous chunk has %#llx",
			    (unsigned long long)p, (unsigned long long)pk(c, p),
			    (unsigned long long)prev_sz);
		if (c->top > p && p + sz > c->top) {
			bad(c, "chunk %#llx overlaps top", (unsigned long long)p);
			return;
		}
		struct binned *b = find_binned(c, p);
		bool regular = b && b->kind != W_TCACHE && b->kind != W_FAST;

		if (c->av != c->main && !regular && !(head & GM_NON_MAIN_ARENA))
			bad(c, "chunk %#llx of arena %u in use without the A bit",
			    (unsigned long long)p, c->arena_nr);
		if (b) {
			b->seen = true;
			if (regular && prev_free)
				bad(c, "adjacent free chunks at %#llx", (unsigned long long)p);
		}
		if (cb) {
			ci = (struct chunk_info){.chunk = p,
			                         .size = sz,
			                         .user = p + GM_CHUNK_HDR_SZ,
			                         .in_use = b == NULL,
			                         .where = where_name(b, buf, sizeof(buf)),
			                         .flags = head & GM_SIZE_BITS,
			                         .arena = c->arena_nr};
			cb(ctx, &ci);
		}
		prev_free = regular;
		prev_sz = sz;
		p += sz;
	}
}

/* The first chunk of a non-main arena's heap h: after the malloc_state in
   the arena's first heap (aligned as _int_new_arena does), else right
   after the heap_info. */
static vaddr_t heap_first_chunk(vaddr_t h, vaddr_t av)
{
	vaddr_t p;

	if (av != h + HI_SIZEOF)
		return h + HI_SIZEOF;
	p = av + AV_SIZEOF;
	if ((p + GM_CHUNK_HDR_SZ) & GM_MALLOC_ALIGN_MASK)
		p += GM_MALLOC_ALIGNMENT - ((p + GM_CHUNK_HDR_SZ) & GM_MALLOC_ALIGN_MASK);
	return p;
}

/* A non-main arena's heaps, oldest first, and their sizes. */
static void walk_heaps(struct ck *c, chunk_cb_t cb, void *ctx, bool check)
{
	vaddr_t heaps[GM_MAX_HEAPS_WALKED];
	unsigned n = 0;
	uint64_t sum = 0;

	for (vaddr_t h = c->top & ~(GM_HEAP_MAX_SIZE - 1); h && n < GM_MAX_HEAPS_WALKED;
	     h = pk(c, h + HI_PREV)) {
		uint64_t size = pk(c, h + HI_SIZE), mps = pk(c, h + HI_MPROTECT_SIZE);

		if (h & (GM_HEAP_MAX_SIZE - 1)) {
			bad(c, "arena %u: heap %#llx not aligned", c->arena_nr,
			    (unsigned long long)h);
			return;
		}
		if (pk(c, h + HI_AR_PTR) != c->av)
			bad(c, "heap %#llx belongs to arena %#llx, not %#llx", (unsigned long long)h,
			    (unsigned long long)pk(c, h + HI_AR_PTR), (unsigned long long)c->av);
		if (size > mps || mps > GM_HEAP_MAX_SIZE || (size & (PAGE_SIZE - 1)))
			bad(c, "heap %#llx: size %#llx, mprotect_size %#llx", (unsigned long long)h,
			    (unsigned long long)size, (unsigned long long)mps);
		sum += size;
		heaps[n++] = h;
	}
	if (n == 0)
		return;
	if (check && sum != c->system_mem)
		bad(c, "arena %u: system_mem %#llx, its heaps hold %#llx", c->arena_nr,
		    (unsigned long long)c->system_mem, (unsigned long long)sum);
	if (check && c->top + c->top_size != heaps[0] + pk(c, heaps[0] + HI_SIZE))
		bad(c, "arena %u: top %#llx does not end its heap", c->arena_nr,
		    (unsigned long long)c->top);
	while (n-- > 0)
		walk_segment(c, heap_first_chunk(heaps[n], c->av), cb, ctx);
}

/* The arenas in malloc_stats's order, from main_arena along next. */
static unsigned arenas(struct ck *c, vaddr_t *out, unsigned max)
{
	unsigned n = 0;
	vaddr_t av = c->main;

	do {
		out[n++] = av;
		av = pk(c, av + AV_NEXT);
	} while (av && av != c->main && n < max);
	if (av != c->main)
		bad(c, "the list of arenas does not come back to main_arena");
	return n;
}

static void walk_all(struct ck *c, chunk_cb_t cb, void *ctx, bool check)
{
	static vaddr_t list[CK_MAX_ARENAS];
	unsigned n;

	scan_tcaches(c);
	n = arenas(c, list, CK_MAX_ARENAS);
	for (unsigned i = 0; i < n; i++) {
		ck_arena(c, list[i], i);
		scan_bins(c);
		if (i == 0) {
			if (c->sbrk_base) {
				vaddr_t start = c->sbrk_base;

				start += (GM_MALLOC_ALIGNMENT -
				          ((start + GM_CHUNK_HDR_SZ) & GM_MALLOC_ALIGN_MASK)) &
				         GM_MALLOC_ALIGN_MASK;
				walk_segment(c, start, cb, ctx);
			}
			for (unsigned j = 0; j < c->pv->nr_segs; j++)
				walk_segment(c, c->pv->segs[j], cb, ctx);
		} else {
			walk_heaps(c, cb, ctx, check);
		}
		if (check && i == 0 && c->sbrk_base && c->pv->nr_segs == 0) {
			vaddr_t end = c->top + c->top_size;

			if (c->top_size <= c->system_mem && end - c->sbrk_base != c->system_mem)
				bad(c, "system_mem %#llx but the heap spans %#llx",
				    (unsigned long long)c->system_mem,
				    (unsigned long long)(end - c->sbrk_base));
			if (c->lc->curbrk && end > c->lc->curbrk)
				bad(c, "top ends at %#llx beyond the break %#llx",
				    (unsigned long long)end, (unsigned long long)c->lc->curbrk);
		}
	}
	ck_arena(c, c->main, 0);
}

static void walk_mmapped(struct ck *c, chunk_cb_t cb, void *ctx, uint64_t *total)
{
	size_t n = c->pv->nr_mmapped;
	vaddr_t *v = n ? hostmem_malloc(n * sizeof(*v)) : NULL;

	*total = 0;
	if (n && !v)
		abort();
	if (n) {
		memcpy(v, c->pv->mmapped, n * sizeof(*v));
		qsort(v, n, sizeof(*v), cmp_vaddr);
	}
	for (size_t i = 0; i < n; i++) {
		vaddr_t p = v[i];
		uint64_t head = pk(c, p + 8), sz = head & ~GM_SIZE_BITS, off = pk(c, p);

		if (!(head & GM_IS_MMAPPED))
			bad(c, "mmapped chunk %#llx lost its M bit", (unsigned long long)p);
		if (((p - off) | (off + sz)) & (PAGE_SIZE - 1))
			bad(c, "mmapped chunk %#llx not page-aligned (offset %#llx size %#llx)",
			    (unsigned long long)p, (unsigned long long)off, (unsigned long long)sz);
		*total += off + sz;
		if (cb) {
			struct chunk_info ci = {.chunk = p,
			                        .size = sz,
			                        .user = p + GM_CHUNK_HDR_SZ,
			                        .in_use = true,
			                        .mmapped = true,
			                        .where = "mmapped",
			                        .flags = head & GM_SIZE_BITS};
			cb(ctx, &ci);
		}
	}
	hostmem_free(v);
}

/* The `where` string of a chunk_info lives only during the callback. */
void glibc_malloc_walk(struct libc *lc, chunk_cb_t cb, void *ctx)
{
	struct ck c;
	uint64_t total;

	if (!ck_begin(&c, lc, NULL))
		return;
	if (c.ok)
		walk_all(&c, cb, ctx, false);
	walk_mmapped(&c, cb, ctx, &total);
	ck_end(&c);
}

int glibc_malloc_check(struct libc *lc, FILE *err)
{
	struct ck c;
	struct binned *b, *tmp;
	uint64_t total;

	if (!ck_begin(&c, lc, err))
		return 0;
	if (c.ok) {
		walk_all(&c, NULL, NULL, true);
		HASH_ITER(hh, c.set, b, tmp)
		{
			if (!b->seen)
				bad(&c, "binned chunk %#llx is not in the heap",
				    (unsigned long long)b->chunk);
		}
	}
	walk_mmapped(&c, NULL, NULL, &total);
	if (c.ok || c.pv->nr_mmapped) {
		uint64_t mm = pk(&c, c.mp + MP_MMAPPED_MEM);
		uint32_t n = pk32(&c, c.mp + MP_N_MMAPS);

		if (mm != total)
			bad(&c, "mp_.mmapped_mem %#llx, mmapped chunks add up to %#llx",
			    (unsigned long long)mm, (unsigned long long)total);
		if (n != c.pv->nr_mmapped)
			bad(&c, "mp_.n_mmaps %u, %zu mmapped chunks", n, c.pv->nr_mmapped);
	}
	ck_end(&c);
	return c.broken;
}

bool glibc_malloc_info(struct libc *lc, struct glibc_info *gi)
{
	struct ck c;
	vaddr_t mp;

	memset(gi, 0, sizeof(*gi));
	if (!ck_begin(&c, lc, NULL) || (!c.ok && !c.pv->nr_mmapped && !c.sbrk_base))
		return false;
	if (c.ok)
		ck_arena(&c, c.main, 0);
	mp = c.mp;
	gi->sbrk_base = c.sbrk_base;
	gi->top = c.top;
	gi->top_size = c.top_size;
	gi->system_mem = c.system_mem;
	gi->max_system_mem = pk(&c, c.av + AV_MAX_SYSTEM_MEM);
	gi->mmapped_mem = pk(&c, mp + MP_MMAPPED_MEM);
	gi->n_mmaps = pk32(&c, mp + MP_N_MMAPS);
	gi->mmap_threshold = pk(&c, mp + MP_MMAP_THRESHOLD);
	gi->trim_threshold = pk(&c, mp + MP_TRIM_THRESHOLD);
	gi->top_pad = pk(&c, mp + MP_TOP_PAD);
	gi->tcache = pk(&c, libc_tls(lc) + TLS_TCACHE);
	for (unsigned i = 0; gi->tcache && i < GM_TCACHE_MAX_BINS; i++) {
		uint32_t w = pk32(&c, gi->tcache + TC_COUNTS + ((2 * i) & ~3U));

		gi->tcache_counts[i] = (i & 1) ? w >> 16 : w & 0xffff;
	}
	ck_end(&c);
	return true;
}

static void dump_cb(void *ctx, const struct chunk_info *ci)
{
	FILE *out = ctx;

	fprintf(out, "  %#014llx %#10llx %c%c%c %s\n", (unsigned long long)ci->chunk,
	        (unsigned long long)ci->size, ci->flags & GM_NON_MAIN_ARENA ? 'A' : '-',
	        ci->flags & GM_IS_MMAPPED ? 'M' : '-', ci->flags & GM_PREV_INUSE ? 'P' : '-',
	        ci->where);
}

void glibc_malloc_dump(struct libc *lc, FILE *out)
{
	struct glibc_info gi;

	if (!glibc_malloc_info(lc, &gi)) {
		fprintf(out, "glibc malloc: not initialized\n");
		return;
	}
	fprintf(out,
	        "glibc malloc: sbrk_base %#llx top %#llx (%#llx bytes) system_mem %llu "
	        "mmapped_mem %llu (%llu chunks) mmap_threshold %llu trim_threshold %llu\n",
	        (unsigned long long)gi.sbrk_base, (unsigned long long)gi.top,
	        (unsigned long long)gi.top_size, (unsigned long long)gi.system_mem,
	        (unsigned long long)gi.mmapped_mem, (unsigned long long)gi.n_mmaps,
	        (unsigned long long)gi.mmap_threshold, (unsigned long long)gi.trim_threshold);
	glibc_malloc_walk(lc, dump_cb, out);
}
