/*
 * glibc_stats.c - what glibc 2.36 tells about its heaps, and malloc_trim
 * (malloc/malloc.c: int_mallinfo, __libc_mallinfo2, __malloc_stats,
 * __malloc_info, mtrim, __malloc_trim).
 *
 * malloc_stats writes to stderr, which is unbuffered: one write(2) per
 * fprintf, as the real one makes. malloc_info writes to a FILE; the model's
 * is a stdout whose buffer is in static memory (setvbuf), so its text goes
 * out in one write(1) when the call returns, and no malloc of a stdio buffer
 * changes the heap being described. Both walk every arena with loads
 * through the MMU, as the program would. The mallinfo2 view for scripts'
 * built-ins reads the same fields without running the program
 * (libc_peek64), so that reading a figure changes nothing.
 */
#include "glibc_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/hostmem.h"

/* ---- reading arenas, by the program or by the checker's side door -------- */

struct rd {
	struct gm *g;    /* loads through the MMU, or */
	struct libc *lc; /* libc_peek64 (0 where unmapped) */
};

static uint64_t rd64(struct rd *r, vaddr_t a)
{
	uint64_t v = 0;

	if (r->g)
		return ld(r->g, a);
	libc_peek64(r->lc, a, &v);
	return v;
}

static uint32_t rd32(struct rd *r, vaddr_t a)
{
	if (r->g)
		return ld32(r->g, a);
	return (uint32_t)(rd64(r, a & ~7ULL) >> (8 * (a & 4)));
}

/* int_mallinfo: add arena av's figures to m. A corrupted list is walked at
   most this far (the program's own walk charges CPU time instead). */
#define MI_MAX_LIST 10000000UL

static void int_mallinfo(struct rd *r, vaddr_t av, vaddr_t main, vaddr_t mp,
                         struct glibc_mallinfo2 *m)
{
	uint64_t avail = rd64(r, rd64(r, av + AV_TOP) + 8) & ~GM_SIZE_BITS;
	uint64_t fastavail = 0, nblocks = 1, nfastblocks = 0;

	for (unsigned i = 0; i < GM_NFASTBINS; i++) {
		unsigned long n = 0;

		for (vaddr_t p = rd64(r, av + AV_FASTBINS + 8ULL * i); p && n < MI_MAX_LIST; n++) {
			if (r->g)
				libc_step(r->lc);
			if (p & GM_MALLOC_ALIGN_MASK) {
				if (r->g)
					printerr(
					    r->g,
					    "int_mallinfo(): unaligned fastbin chunk detected");
				break;
			}
			nfastblocks++;
			fastavail += rd64(r, p + 8) & ~GM_SIZE_BITS;
			p = protect_ptr(p + 16, rd64(r, p + 16));
		}
	}
	avail += fastavail;
	for (unsigned i = 1; i < GM_NBINS; i++) {
		vaddr_t b = gm_bin_at(av, i);
		unsigned long n = 0;

		for (vaddr_t p = rd64(r, b + 24); p != b && n < MI_MAX_LIST; n++) {
			if (r->g)
				libc_step(r->lc);
			nblocks++;
			avail += rd64(r, p + 8) & ~GM_SIZE_BITS;
			p = rd64(r, p + 24);
		}
	}
	m->smblks += nfastblocks;
	m->ordblks += nblocks;
	m->fordblks += avail;
	m->uordblks += rd64(r, av + AV_SYSTEM_MEM) - avail;
	m->arena += rd64(r, av + AV_SYSTEM_MEM);
	m->fsmblks += fastavail;
	if (av == main) {
		m->hblks = (uint32_t)rd32(r, mp + MP_N_MMAPS);
		m->hblkhd = rd64(r, mp + MP_MMAPPED_MEM);
		m->usmblks = 0;
		m->keepcost = rd64(r, rd64(r, av + AV_TOP) + 8) & ~GM_SIZE_BITS;
	}
}

bool glibc_mallinfo2_view(struct libc *lc, struct glibc_mallinfo2 *m)
{
	struct rd r = {.lc = lc};
	vaddr_t main = gm_main_arena(lc), av = main;
	uint64_t v;
	unsigned n = 0;

	memset(m, 0, sizeof(*m));
	if (lc->ops != &malloc_ops_glibc)
		return false;
	if (!libc_peek64(lc, gm_statics(lc) + GS_INITIALIZED, &v) || (uint32_t)v == 0) {
		m->ordblks = 1; /* what mallinfo2 finds after its ptmalloc_init */
		return true;
	}
	do {
		int_mallinfo(&r, av, main, gm_mp(lc), m);
		av = rd64(&r, av + AV_NEXT);
	} while (av && av != main && ++n < 1u << 20);
	return true;
}

/* ---- output ------------------------------------------------------------- */

/* Append n bytes to the caller's text (grown on the host: the caller owns
   and frees it, so that an unwind of the process leaks nothing). */
static void out_add(struct glibc_text *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 1024;

		while (cap < o->len + n + 1)
			cap *= 2;
		o->s = hostmem_realloc(o->s, cap);
		if (!o->s)
			host_oom("malloc_info's text");
		o->cap = cap;
	}
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

/* fprintf(stderr, ...): one write(2) of the formatted text. */
static void eprintf(struct gm *g, struct glibc_text *o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void eprintf(struct gm *g, struct glibc_text *o, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	sys_write(g->lc->k, 2, buf, (size_t)n);
	out_add(o, buf, (size_t)n);
}

/* fprintf(fp, ...) into the static stdout buffer: written out at the end. */
static void fpr(struct glibc_text *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fpr(struct glibc_text *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		out_add(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* __malloc_stats: per arena its system and in-use bytes, then the totals
   with the mmapped chunks. */
void glibc_malloc_stats(struct libc *lc, struct glibc_text *o)
{
	struct gm g;
	struct rd r = {.g = &g, .lc = lc};
	unsigned in_use_b, system_b;

	gm_enter(&g, lc);
	probe_call(g.pr, LAYER_LIBC, "__malloc_stats");
	gm_ptmalloc_init(&g);
	in_use_b = system_b = (unsigned)mp_get(&g, MP_MMAPPED_MEM);
	g.av = g.main;
	for (int i = 0;; i++) {
		struct glibc_mallinfo2 mi = {0};

		lock(&g, g.av + AV_MUTEX);
		int_mallinfo(&r, g.av, g.main, g.mp, &mi);
		eprintf(&g, o, "Arena %d:\n", i);
		eprintf(&g, o, "system bytes     = %10u\n", (unsigned)mi.arena);
		eprintf(&g, o, "in use bytes     = %10u\n", (unsigned)mi.uordblks);
		system_b += (unsigned)mi.arena;
		in_use_b += (unsigned)mi.uordblks;
		unlock(&g, g.av + AV_MUTEX);
		g.av = ld(&g, g.av + AV_NEXT);
		if (g.av == g.main)
			break;
	}
	eprintf(&g, o, "Total (incl. mmap):\n");
	eprintf(&g, o, "system bytes     = %10u\n", system_b);
	eprintf(&g, o, "in use bytes     = %10u\n", in_use_b);
	eprintf(&g, o, "max mmap regions = %10u\n", (unsigned)mp_get_int(&g, MP_MAX_N_MMAPS));
	eprintf(&g, o, "max mmap bytes   = %10lu\n", (unsigned long)mp_get(&g, MP_MAX_MMAPPED_MEM));
	probe_ret(g.pr, LAYER_LIBC, "__malloc_stats");
}

/* One size class of malloc_info: fastbins 0..9, then bins 1..127. */
struct size_class {
	uint64_t from, to, total, count;
};

/* __malloc_info(0, stdout): the XML of every arena's free chunks by size
   class, its system memory and address space, then the totals. */
void glibc_malloc_info_xml(struct libc *lc, struct glibc_text *o)
{
	struct gm g;
	size_t start = o->len;
	uint64_t total_nblocks = 0, total_nfastblocks = 0, total_avail = 0, total_fastavail = 0;
	uint64_t total_system = 0, total_max_system = 0, total_aspace = 0;
	uint64_t total_aspace_mprotect = 0;
	struct size_class sizes[GM_NFASTBINS + GM_NBINS - 1];
	int nr = 0;

	gm_enter(&g, lc);
	probe_call(g.pr, LAYER_LIBC, "__malloc_info", {"options", 0});
	gm_ptmalloc_init(&g);
	fpr(o, "<malloc version=\"1\">\n");
	g.av = g.main;
	do {
		uint64_t nblocks = 1, nfastblocks = 0, avail, fastavail = 0;
		uint64_t heap_size = 0, heap_mprotect_size = 0, heap_count = 0;

		fpr(o, "<heap nr=\"%d\">\n<sizes>\n", nr++);
		lock(&g, g.av + AV_MUTEX);
		avail = chunksize(&g, av_top(&g));
		for (unsigned i = 0; i < GM_NFASTBINS; i++) {
			vaddr_t p = ld(&g, fastbin_slot(&g, i));

			memset(&sizes[i], 0, sizeof(sizes[i]));
			if (p) {
				uint64_t nthis = 0, thissize = chunksize(&g, p);

				while (p) {
					libc_step(lc);
					if (misaligned(p))
						printerr(&g,
						         "__malloc_info(): unaligned fastbin chunk "
						         "detected");
					nthis++;
					p = protect_ptr(p + 16, fd_of(&g, p));
				}
				fastavail += nthis * thissize;
				nfastblocks += nthis;
				sizes[i].from = thissize - (GM_MALLOC_ALIGNMENT - 1);
				sizes[i].to = thissize;
				sizes[i].count = nthis;
			}
			sizes[i].total = sizes[i].count * sizes[i].to;
		}
		for (unsigned i = 1; i < GM_NBINS; i++) {
			struct size_class *c = &sizes[GM_NFASTBINS - 1 + i];
			vaddr_t bin = gm_bin_at(g.av, i), r = fd_of(&g, bin);

			*c = (struct size_class){.from = ~0ULL};
			if (r != 0) {
				while (r != bin) {
					uint64_t r_size = size_nomask(&g, r);

					libc_step(lc);
					c->count++;
					c->total += r_size;
					c->from = r_size < c->from ? r_size : c->from;
					c->to = r_size > c->to ? r_size : c->to;
					r = fd_of(&g, r);
				}
			}
			if (c->count == 0)
				c->from = 0;
			nblocks += c->count;
			avail += c->total;
		}
		if (g.av != g.main) {
			vaddr_t heap = heap_for_ptr(av_top(&g));

			do {
				libc_step(lc);
				heap_size += ld(&g, heap + HI_SIZE);
				heap_mprotect_size += ld(&g, heap + HI_MPROTECT_SIZE);
				heap = ld(&g, heap + HI_PREV);
				heap_count++;
			} while (heap != 0);
		}
		unlock(&g, g.av + AV_MUTEX);
		total_nfastblocks += nfastblocks;
		total_fastavail += fastavail;
		total_nblocks += nblocks;
		total_avail += avail;
		for (unsigned i = 0; i < GM_NFASTBINS + GM_NBINS - 1; i++)
			if (sizes[i].count != 0 && i != GM_NFASTBINS)
				fpr(o,
				    "  <size from=\"%llu\" to=\"%llu\" total=\"%llu\" "
				    "count=\"%llu\"/>\n",
				    (unsigned long long)sizes[i].from,
				    (unsigned long long)sizes[i].to,
				    (unsigned long long)sizes[i].total,
				    (unsigned long long)sizes[i].count);
		if (sizes[GM_NFASTBINS].count != 0)
			fpr(o,
			    "  <unsorted from=\"%llu\" to=\"%llu\" total=\"%llu\" "
			    "count=\"%llu\"/>\n",
			    (unsigned long long)sizes[GM_NFASTBINS].from,
			    (unsigned long long)sizes[GM_NFASTBINS].to,
			    (unsigned long long)sizes[GM_NFASTBINS].total,
			    (unsigned long long)sizes[GM_NFASTBINS].count);
		total_system += system_mem(&g);
		total_max_system += ld(&g, g.av + AV_MAX_SYSTEM_MEM);
		fpr(o,
		    "</sizes>\n<total type=\"fast\" count=\"%llu\" size=\"%llu\"/>\n"
		    "<total type=\"rest\" count=\"%llu\" size=\"%llu\"/>\n"
		    "<system type=\"current\" size=\"%llu\"/>\n"
		    "<system type=\"max\" size=\"%llu\"/>\n",
		    (unsigned long long)nfastblocks, (unsigned long long)fastavail,
		    (unsigned long long)nblocks, (unsigned long long)avail,
		    (unsigned long long)system_mem(&g),
		    (unsigned long long)ld(&g, g.av + AV_MAX_SYSTEM_MEM));
		if (g.av != g.main) {
			fpr(o,
			    "<aspace type=\"total\" size=\"%llu\"/>\n"
			    "<aspace type=\"mprotect\" size=\"%llu\"/>\n"
			    "<aspace type=\"subheaps\" size=\"%llu\"/>\n",
			    (unsigned long long)heap_size, (unsigned long long)heap_mprotect_size,
			    (unsigned long long)heap_count);
			total_aspace += heap_size;
			total_aspace_mprotect += heap_mprotect_size;
		} else {
			fpr(o,
			    "<aspace type=\"total\" size=\"%llu\"/>\n"
			    "<aspace type=\"mprotect\" size=\"%llu\"/>\n",
			    (unsigned long long)system_mem(&g), (unsigned long long)system_mem(&g));
			total_aspace += system_mem(&g);
			total_aspace_mprotect += system_mem(&g);
		}
		fpr(o, "</heap>\n");
		g.av = ld(&g, g.av + AV_NEXT);
	} while (g.av != g.main);
	fpr(o,
	    "<total type=\"fast\" count=\"%llu\" size=\"%llu\"/>\n"
	    "<total type=\"rest\" count=\"%llu\" size=\"%llu\"/>\n"
	    "<total type=\"mmap\" count=\"%d\" size=\"%llu\"/>\n"
	    "<system type=\"current\" size=\"%llu\"/>\n"
	    "<system type=\"max\" size=\"%llu\"/>\n"
	    "<aspace type=\"total\" size=\"%llu\"/>\n"
	    "<aspace type=\"mprotect\" size=\"%llu\"/>\n"
	    "</malloc>\n",
	    (unsigned long long)total_nfastblocks, (unsigned long long)total_fastavail,
	    (unsigned long long)total_nblocks, (unsigned long long)total_avail,
	    mp_get_int(&g, MP_N_MMAPS), (unsigned long long)mp_get(&g, MP_MMAPPED_MEM),
	    (unsigned long long)total_system, (unsigned long long)total_max_system,
	    (unsigned long long)total_aspace, (unsigned long long)total_aspace_mprotect);
	/* the stdout buffer is flushed: one write */
	sys_write(lc->k, 1, o->s + start, o->len - start);
	probe_ret(g.pr, LAYER_LIBC, "__malloc_info", {"ret", 0});
}

/* ---- malloc_trim -------------------------------------------------------- */

/* mtrim: consolidate, then madvise(MADV_DONTNEED) the whole pages inside
   every free chunk of the unsorted bin and of the bins of page size and
   more; for main_arena, systrim its top too. 1 if anything was released. */
static int mtrim(struct gm *g, uint64_t pad)
{
	const uint64_t ps = PAGE_SIZE, psm1 = ps - 1;
	const unsigned psindex = gm_bin_index(ps);
	int result = 0;

	probe_call(g->pr, LAYER_LIBC, "mtrim", {"arena", g->av}, {"pad", pad});
	gm_malloc_consolidate(g);
	for (unsigned i = 1; i < GM_NBINS; ++i) {
		vaddr_t bin;

		if (!(i == 1 || i >= psindex))
			continue;
		bin = gm_bin_at(g->av, i);
		for (vaddr_t p = bk_of(g, bin); p != bin; p = bk_of(g, p)) {
			uint64_t size = chunksize(g, p);

			libc_step(g->lc);
			/* sizeof (struct malloc_chunk) is 48 */
			if (size > psm1 + 48) {
				vaddr_t paligned_mem = (p + 48 + psm1) & ~psm1;

				size -= paligned_mem - p;
				if (size > psm1) {
					heap_ev(g, "mtrim", "free pages given back", p,
					        size & ~psm1);
					libc_madvise(g->lc, paligned_mem, size & ~psm1,
					             SIM_MADV_DONTNEED);
					result = 1;
				}
			}
		}
	}
	if (g->av == g->main)
		result |= gm_systrim(g, pad);
	probe_ret(g->pr, LAYER_LIBC, "mtrim", {"ret", (uint64_t)result});
	return result;
}

int glibc_malloc_trim(struct libc *lc, uint64_t pad)
{
	struct gm g;
	int result = 0;

	gm_enter(&g, lc);
	lc->in_malloc++;
	probe_call(g.pr, LAYER_LIBC, "__malloc_trim", {"pad", pad});
	gm_ptmalloc_init(&g);
	g.av = g.main;
	do {
		lock(&g, g.av + AV_MUTEX);
		result |= mtrim(&g, pad);
		unlock(&g, g.av + AV_MUTEX);
		g.av = ld(&g, g.av + AV_NEXT);
	} while (g.av != g.main);
	probe_ret(g.pr, LAYER_LIBC, "__malloc_trim", {"ret", (uint64_t)result});
	lc->in_malloc--;
	return result;
}

/* ---- the arenas view (show arenas, the viewer) --------------------------- */

unsigned glibc_arenas_view(struct libc *lc, struct glibc_arena_view *out, unsigned max)
{
	struct rd r = {.lc = lc};
	vaddr_t main = gm_main_arena(lc), av = main, gs = gm_statics(lc);
	unsigned n = 0;
	uint64_t v;

	if (lc->ops != &malloc_ops_glibc || !libc_peek64(lc, gs + GS_INITIALIZED, &v) ||
	    (uint32_t)v == 0)
		return 0;
	do {
		if (n < max) {
			struct glibc_arena_view *a = &out[n];

			memset(a, 0, sizeof(*a));
			a->nr = n;
			a->av = av;
			a->top = rd64(&r, av + AV_TOP);
			a->top_size = rd64(&r, a->top + 8) & ~GM_SIZE_BITS;
			a->system_mem = rd64(&r, av + AV_SYSTEM_MEM);
			a->max_system_mem = rd64(&r, av + AV_MAX_SYSTEM_MEM);
			a->attached_threads = rd64(&r, av + AV_ATTACHED_THREADS);
			for (vaddr_t f = rd64(&r, gs + GS_FREE_LIST), k = 0; f && k < 1u << 20;
			     f = rd64(&r, f + AV_NEXT_FREE), k++)
				if (f == av)
					a->on_free_list = true;
			int_mallinfo(&r, av, main, gm_mp(lc), &a->mi);
			if (av != main) {
				for (vaddr_t h = heap_for_ptr(a->top); h && a->nr_heaps < 1u << 20;
				     h = rd64(&r, h + HI_PREV)) {
					if (a->nr_heaps < GLIBC_VIEW_HEAPS)
						a->heaps[a->nr_heaps] = (struct glibc_heap_view){
						    h, rd64(&r, h + HI_SIZE),
						    rd64(&r, h + HI_MPROTECT_SIZE)};
					a->nr_heaps++;
				}
			}
		}
		n++;
		av = rd64(&r, av + AV_NEXT);
	} while (av && av != main && n < 1u << 20);
	return n;
}

int glibc_thread_arena(struct libc *lc, const struct libc_thread *t)
{
	struct rd r = {.lc = lc};
	vaddr_t main = gm_main_arena(lc), av = main, ta;
	uint64_t v;
	int n = 0;

	if (lc->ops != &malloc_ops_glibc || !t || !libc_peek64(lc, t->tls + TLS_THREAD_ARENA, &v) ||
	    !v)
		return -1;
	ta = (vaddr_t)v;
	do {
		if (av == ta)
			return n;
		n++;
		av = rd64(&r, av + AV_NEXT);
	} while (av && av != main && n < 1 << 20);
	return -1;
}

void glibc_arenas_dump(struct libc *lc, FILE *out)
{
	struct glibc_arena_view *a;
	unsigned n = glibc_arenas_view(lc, NULL, 0), shown;
	vaddr_t gs = gm_statics(lc);
	uint64_t narenas = 0, limit = 0;

	if (n == 0) {
		fprintf(out, "no arena yet: malloc has not run\n");
		return;
	}
	a = hostmem_calloc(n, sizeof(*a));
	if (!a)
		host_oom("the statistics' arenas");
	shown = glibc_arenas_view(lc, a, n);
	libc_peek64(lc, gs + GS_NARENAS, &narenas);
	libc_peek64(lc, gs + GS_NARENAS_LIMIT, &limit);
	for (unsigned i = 0; i < shown && i < n; i++) {
		fprintf(
		    out,
		    "arena %u%s at %#llx: system %llu (max %llu), in use %llu, free %llu in %llu "
		    "chunk%s, top %#llx (%llu bytes), %llu thread%s%s\n",
		    a[i].nr, a[i].nr == 0 ? " (main_arena)" : "", (unsigned long long)a[i].av,
		    (unsigned long long)a[i].system_mem, (unsigned long long)a[i].max_system_mem,
		    (unsigned long long)a[i].mi.uordblks, (unsigned long long)a[i].mi.fordblks,
		    (unsigned long long)(a[i].mi.ordblks + a[i].mi.smblks),
		    a[i].mi.ordblks + a[i].mi.smblks == 1 ? "" : "s", (unsigned long long)a[i].top,
		    (unsigned long long)a[i].top_size, (unsigned long long)a[i].attached_threads,
		    a[i].attached_threads == 1 ? "" : "s",
		    a[i].on_free_list ? ", on free_list" : "");
		for (unsigned h = 0; h < a[i].nr_heaps && h < GLIBC_VIEW_HEAPS; h++)
			fprintf(
			    out,
			    "  heap %#llx: %llu bytes in use, %llu read-write, %llu MiB reserved\n",
			    (unsigned long long)a[i].heaps[h].heap,
			    (unsigned long long)a[i].heaps[h].size,
			    (unsigned long long)a[i].heaps[h].mprotect_size,
			    (unsigned long long)(GM_HEAP_MAX_SIZE >> 20));
		if (a[i].nr_heaps > GLIBC_VIEW_HEAPS)
			fprintf(out, "  ... %u heaps in all\n", a[i].nr_heaps);
	}
	/* the threads oldest first: the list has the newest first */
	unsigned nt = 0, ti = 0;
	const struct libc_thread **order;

	for (const struct libc_thread *t = lc->threads; t; t = t->next)
		nt++;
	order = hostmem_calloc(nt ? nt : 1, sizeof(*order));
	if (!order)
		host_oom("the statistics' threads");
	for (const struct libc_thread *t = lc->threads; t; t = t->next)
		order[nt - 1 - ti++] = t;
	for (ti = 0; ti < nt; ti++) {
		const struct libc_thread *t = order[ti];
		uint64_t ta = 0, tc = 0;
		unsigned nr = 0;

		libc_peek64(lc, t->tls + TLS_THREAD_ARENA, &ta);
		libc_peek64(lc, t->tls + TLS_TCACHE, &tc);
		for (unsigned i = 0; i < shown; i++)
			if (a[i].av == ta)
				nr = a[i].nr;
		if (ta)
			fprintf(out, "thread %d: arena %u, tcache %#llx\n", t->tid, nr,
			        (unsigned long long)tc);
		else
			fprintf(out, "thread %d: no arena yet\n", t->tid);
	}
	hostmem_free(order);
	if (limit)
		fprintf(out, "narenas %llu, narenas_limit %llu\n", (unsigned long long)narenas,
		        (unsigned long long)limit);
	else
		fprintf(out,
		        "narenas %llu, narenas_limit not set yet (arena_max, or 8 per CPU "
		        "once arenas outnumber arena_test)\n",
		        (unsigned long long)narenas);
	hostmem_free(a);
}
