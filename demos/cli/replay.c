/*
 * replay.c - run a CS:APP malloc-lab trace through a malloc policy inside the
 * simulation and check every block (DESIGN.md, Trace replay).
 *
 * Follows the CS:APP driver (mdriver.c, eval_mm_valid and eval_mm_util):
 * alignment, bounds, overlap and payload-pattern checks, utilization as peak
 * payload over peak footprint. Semantics, checks and what the counters count
 * are in replay.h. The whole trace runs in one task_run: a fatal signal in
 * the allocator unwinds back here with the op that was running. The
 * command that prints reports is demos/cli/replay_cmd.c.
 */
#include <search.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../kernel_sim/kernel.h"
#include "../../kernel_sim/mm.h"
#include "../../libc/libc.h"
#include "../../vm/pagetable.h"
#include "commands.h"
#include "replay.h"

/* One trace id: its live block, also the key of the interval tree. 16
   bytes: each operation reads the one of its id, at random (needle.rep has
   150,675 ids), and the replay's time is not to be the harness's. */
struct rp_block {
	vaddr_t start; /* 0 when the id is not allocated (malloc never returns 0) */
	uint64_t size; /* bytes requested */
};

/* [start, end): end > start even for malloc(0). */
static inline vaddr_t blk_end(const struct rp_block *b)
{
	return b->start + (b->size ? b->size : 1);
}

static inline bool blk_live(const struct rp_block *b)
{
	return b->start != 0;
}

struct rp {
	const struct trace *t;
	const struct replay_opts *o;
	struct replay_result *r;
	struct kernel *k;
	struct task *task;
	struct libc lc;
	struct rp_block *blk; /* nr_ids */
	void *tree;           /* tsearch root: live rp_blocks by address */
	size_t i;             /* op running */
	uint64_t payload;     /* live requested bytes now */
	bool failed;
	bool lc_ready; /* libc_init ran: libc_fini at the end */
	FILE *chk;     /* memstream for the policy checker */
	char *chk_buf;
	size_t chk_len;
	size_t next_progress;
	/* Where the figures start: the counters when the measured pass began. */
	uint64_t hits0, misses0, faults0, brk0, mmap0, munmap0;
};

/* ---- helpers ---------------------------------------------------------------- */

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Disjoint intervals are totally ordered; overlapping ones compare equal, so
   a search for a new interval finds a live block it overlaps, if any (the
   one it overlaps lies on the search path: it is left of every node the new
   interval is left of, and right of every node it is right of). */
static int iv_cmp(const void *a, const void *b)
{
	const struct rp_block *x = a, *y = b;

	if (blk_end(x) <= y->start)
		return -1;
	if (blk_end(y) <= x->start)
		return 1;
	return 0;
}

static void iv_nofree(void *p)
{
	(void)p;
}

/* Error of the current op; the replay stops. */
static void rp_fail(struct rp *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rp_fail(struct rp *x, const char *fmt, ...)
{
	char msg[440];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->i < x->t->nr_ops)
		snprintf(x->r->error, sizeof(x->r->error), "op %zu (line %u): %s", x->i + 1,
		         x->t->ops[x->i].line, msg);
	else
		snprintf(x->r->error, sizeof(x->r->error), "at the end: %s", msg);
	x->failed = true;
}

/* After "returned NULL": how much simulated RAM there was, and how to have
   more (the default is bounded: replay_default_phys). */
static const char *null_hint(const struct rp *x, char *buf, size_t n)
{
	uint64_t mib = x->r->phys_bytes >> 20;

	if (x->o->phys_bytes)
		snprintf(buf, n, " (simulated RAM %llu MiB, --phys)", (unsigned long long)mib);
	else
		snprintf(buf, n, " (simulated RAM %llu MiB, the default; --phys raises it)",
		         (unsigned long long)mib);
	return buf;
}

/* Pattern byte at offset off of id's block: offset-dependent, so a block
   copied to a shifted place or another id's data does not match. Within an
   aligned 256-byte stretch of offsets the bytes climb by one, so a stretch
   is a slice of a ramp: written with memcpy, verified with memcmp. */
static inline uint8_t pat_byte(uint32_t seed, uint64_t off)
{
	return (uint8_t)(seed + off + (off >> 8) * 7);
}

static const uint8_t *pat_ramp(void)
{
	static uint8_t ramp[512]; /* constant once filled: ramp[i] = i mod 256 */

	if (ramp[511] != 255)
		for (unsigned i = 0; i < 512; i++)
			ramp[i] = (uint8_t)i;
	return ramp;
}

/* Expected bytes for [off, off+len) into buf. */
static void pat_fill(uint8_t *buf, uint32_t seed, uint64_t off, uint64_t len)
{
	const uint8_t *ramp = pat_ramp();

	while (len) {
		uint64_t seg = 256 - (off & 255);

		if (seg > len)
			seg = len;
		memcpy(buf, ramp + pat_byte(seed, off), seg);
		buf += seg;
		off += seg;
		len -= seg;
	}
}

static uint32_t pat_seed(int32_t id)
{
	return ((uint32_t)id * 2654435761u) >> 24;
}

/* The program stores the pattern into [from, to) of id's block at p. */
static void pat_write(struct rp *x, int32_t id, vaddr_t p, uint64_t from, uint64_t to)
{
	uint8_t buf[PAGE_SIZE];
	uint32_t seed = pat_seed(id);

	x->k->cpu.user = true;
	while (from < to) {
		vaddr_t va = p + from;
		uint64_t n = PAGE_SIZE - (va & (PAGE_SIZE - 1));

		if (n > to - from)
			n = to - from;
		pat_fill(buf, seed, from, n);
		if (cpu_write(&x->k->cpu, va, buf, n) < 0) {
			rp_fail(x, "store into block of id %d at %#llx faulted", id,
			        (unsigned long long)va);
			return;
		}
		from += n;
	}
}

/* Verify [0, n) of id's block at p through the side door. false (and the
   replay fails) when a byte differs or a page is not mapped. */
static bool pat_verify(struct rp *x, int32_t id, vaddr_t p, uint64_t n, const char *when)
{
	uint8_t buf[PAGE_SIZE], want[PAGE_SIZE];
	uint32_t seed = pat_seed(id);
	struct phys *ph = x->k->cpu.phys;
	uint64_t off = 0;

	while (off < n) {
		vaddr_t va = p + off;
		uint64_t len = PAGE_SIZE - (va & (PAGE_SIZE - 1));
		pte_t e;

		if (len > n - off)
			len = n - off;
		e = pagewalk(ph, x->k->cpu.cr3, va, NULL);
		if (!pte_present(e) || !phys_valid_pfn(ph, pte_pfn(e))) {
			rp_fail(x, "%s: block of id %d lost its page at %#llx (offset %llu)", when,
			        id, (unsigned long long)va, (unsigned long long)off);
			return false;
		}
		phys_read(ph, pfn_to_paddr(pte_pfn(e)) + (va & (PAGE_SIZE - 1)), buf, len);
		pat_fill(want, seed, off, len);
		if (memcmp(buf, want, len) != 0)
			for (uint64_t j = 0; j < len; j++)
				if (buf[j] != want[j]) {
					rp_fail(x,
					        "%s: payload of id %d corrupted at offset %llu "
					        "(%#llx): 0x%02x, expected 0x%02x",
					        when, id, (unsigned long long)(off + j),
					        (unsigned long long)(va + j), buf[j], want[j]);
					return false;
				}
		off += len;
	}
	return true;
}

/* calloc's block reads as zeroes (through the side door: a page never
   touched reads as zero too, as the zero page it would map). */
static bool zero_verify(struct rp *x, int32_t id, vaddr_t p, uint64_t n)
{
	static const uint8_t zero[PAGE_SIZE];
	uint8_t buf[PAGE_SIZE];
	struct phys *ph = x->k->cpu.phys;
	uint64_t off = 0;

	while (off < n) {
		vaddr_t va = p + off;
		uint64_t len = PAGE_SIZE - (va & (PAGE_SIZE - 1));
		pte_t e;

		if (len > n - off)
			len = n - off;
		e = pagewalk(ph, x->k->cpu.cr3, va, NULL);
		if (pte_present(e) && phys_valid_pfn(ph, pte_pfn(e))) {
			phys_read(ph, pfn_to_paddr(pte_pfn(e)) + (va & (PAGE_SIZE - 1)), buf, len);
			if (memcmp(buf, zero, len) != 0) {
				uint64_t j = 0;

				while (buf[j] == 0)
					j++;
				rp_fail(x, "calloc'd block of id %d is not zero at offset %llu: 0x%02x",
				        id, (unsigned long long)(off + j), buf[j]);
				return false;
			}
		}
		off += len;
	}
	return true;
}

/* The checks of rp_place; false (and the replay fails) when one fails. */
static bool rp_check_block(struct rp *x, int32_t id, struct rp_block *b)
{
	const struct mm_struct *mm = x->task->mm;
	vaddr_t p = b->start, end = blk_end(b);

	if (p & 15) {
		rp_fail(x, "block of id %d at %#llx is not 16-byte aligned", id,
		        (unsigned long long)p);
		return false;
	}
	if (end < p) {
		rp_fail(x, "block of id %d at %#llx wraps around", id, (unsigned long long)p);
		return false;
	}
	if (!(p >= mm->start_brk && end <= mm->brk)) {
		struct vm_area_struct *v = vma_lookup((struct mm_struct *)mm, p);

		if (!v || v->kind != VMA_ANON || end > v->vm_end) {
			rp_fail(x,
			        "block of id %d [%#llx, %#llx) is outside the heap "
			        "[%#llx, %#llx) and any anonymous mapping",
			        id, (unsigned long long)p, (unsigned long long)end,
			        (unsigned long long)mm->start_brk, (unsigned long long)mm->brk);
			return false;
		}
	}
	void **node = tsearch(b, &x->tree, iv_cmp);

	if (!node) {
		rp_fail(x, "host out of memory");
		return false;
	}
	if (*node != b) {
		const struct rp_block *o = *node;

		rp_fail(x,
		        "block of id %d [%#llx, %#llx) overlaps live block of id %d "
		        "[%#llx, %#llx)",
		        id, (unsigned long long)p, (unsigned long long)end, (int)(o - x->blk),
		        (unsigned long long)o->start, (unsigned long long)blk_end(o));
		return false;
	}
	return true;
}

/* A block the allocator handed out: check it and make it live. */
static bool rp_place(struct rp *x, int32_t id, vaddr_t p, uint64_t n)
{
	struct rp_block *b = &x->blk[id];

	b->start = p;
	b->size = n;
	if (x->o->check && !rp_check_block(x, id, b)) {
		b->start = 0;
		return false;
	}
	x->payload += n;
	return true;
}

static void rp_unplace(struct rp *x, struct rp_block *b)
{
	if (x->o->check && !tdelete(b, &x->tree, iv_cmp))
		rp_fail(x, "replayer lost block of id %d", (int)(b - x->blk));
	b->start = 0;
	x->payload -= b->size;
}

/* ---- the operations ------------------------------------------------------- */

/* a, c and m: a new block for a free id. */
static void op_alloc(struct rp *x, const struct trace_op *op)
{
	uint64_t n = trace_op_bytes(op);
	vaddr_t p;

	if (blk_live(&x->blk[op->id])) {
		rp_fail(x, "%c %d: id %d is already allocated", op->kind, op->id, op->id);
		return;
	}
	switch (op->kind) {
	case TOP_CALLOC:
		p = libc_calloc(&x->lc, op->arg, op->size);
		break;
	case TOP_MEMALIGN:
		p = libc_memalign(&x->lc, op->arg, op->size);
		break;
	default:
		p = libc_malloc(&x->lc, op->size);
		break;
	}
	if (!p) {
		char hint[96];

		if (op->kind == TOP_ALLOC)
			rp_fail(x, "malloc(%llu) returned NULL%s", (unsigned long long)op->size,
			        null_hint(x, hint, sizeof(hint)));
		else
			rp_fail(x, "%s(%llu, %llu) returned NULL%s",
			        op->kind == TOP_CALLOC ? "calloc" : "memalign",
			        (unsigned long long)op->arg, (unsigned long long)op->size,
			        null_hint(x, hint, sizeof(hint)));
		return;
	}
	if (op->kind == TOP_MEMALIGN && x->o->check && p % op->arg) {
		rp_fail(x, "memalign(%llu, %llu) returned %#llx, not aligned",
		        (unsigned long long)op->arg, (unsigned long long)op->size,
		        (unsigned long long)p);
		return;
	}
	if (!rp_place(x, op->id, p, n) || !x->o->check)
		return;
	if (op->kind == TOP_CALLOC && !zero_verify(x, op->id, p, n))
		return;
	pat_write(x, op->id, p, 0, n);
}

static void op_realloc(struct rp *x, const struct trace_op *op)
{
	struct rp_block *b = &x->blk[op->id];
	vaddr_t oldp = 0, p;
	uint64_t oldn = 0, keep;

	if (blk_live(b)) {
		oldp = b->start;
		oldn = b->size;
		if (x->o->check && !pat_verify(x, op->id, oldp, oldn, "before realloc"))
			return;
		rp_unplace(x, b);
	}
	p = libc_realloc(&x->lc, oldp, op->size);
	if (oldp && op->size == 0) {
		if (p)
			rp_fail(x, "realloc(%#llx, 0) returned %#llx, not NULL",
			        (unsigned long long)oldp, (unsigned long long)p);
		return; /* freed: the id is unallocated */
	}
	if (!p) {
		if (op->size == 0)
			return; /* realloc(NULL, 0) may return NULL */
		char hint[96];

		rp_fail(x, "realloc(%#llx, %llu) returned NULL%s", (unsigned long long)oldp,
		        (unsigned long long)op->size, null_hint(x, hint, sizeof(hint)));
		return;
	}
	if (!rp_place(x, op->id, p, op->size) || !x->o->check)
		return;
	keep = oldn < op->size ? oldn : op->size;
	if (!pat_verify(x, op->id, p, keep, "after realloc"))
		return;
	pat_write(x, op->id, p, keep, op->size);
}

static void op_free(struct rp *x, const struct trace_op *op)
{
	struct rp_block *b;
	vaddr_t p;

	if (op->id < 0) {
		libc_free(&x->lc, 0);
		return;
	}
	b = &x->blk[op->id];
	if (!blk_live(b)) {
		rp_fail(x, "f %d: id %d is not allocated (double free, or never allocated)", op->id,
		        op->id);
		return;
	}
	if (x->o->check && !pat_verify(x, op->id, b->start, b->size, "at free"))
		return;
	p = b->start;
	rp_unplace(x, b);
	libc_free(&x->lc, p);
}

static uint64_t rp_frames(const struct rp *x)
{
	const struct mm_struct *mm = x->task->mm;

	/* RSS + the page-table pages below the PML4 + the PML4 itself. */
	return mm->rss_stat[MM_ANONPAGES] + mm->pgtables_bytes / PAGE_SIZE + 1;
}

static void rp_progress(struct rp *x, bool done)
{
	size_t n = x->t->nr_ops;
	unsigned pct = n ? (unsigned)(x->i * 100 / n) : 100;
	const char *base = strrchr(x->r->trace, '/');
	char bar[41];

	if (done) {
		fprintf(stderr, "\r%*s\r", 72, "");
		return;
	}
	memset(bar, '#', pct * 40 / 100);
	memset(bar + pct * 40 / 100, '.', 40 - pct * 40 / 100);
	bar[40] = '\0';
	fprintf(stderr, "\r%-12.12s %-8.8s [%s] %3u%%", base ? base + 1 : x->r->trace, x->r->malloc,
	        bar, pct);
	fflush(stderr);
	x->next_progress = x->i + (n / 100 ? n / 100 : 1);
}

/* CPU time of the calling thread (the simulated process runs on it). */
static double cpu_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The counters the figures are differences of, as they stand now. */
static void rp_baseline(struct rp *x)
{
	x->hits0 = cpu_tlb_hits(&x->k->cpu);
	x->misses0 = x->k->cpu.tlb.misses;
	x->faults0 = x->task->min_flt + x->task->maj_flt;
	x->brk0 = x->lc.st.brk_calls;
	x->mmap0 = x->lc.st.mmap_calls;
	x->munmap0 = x->lc.st.munmap_calls;
}

/* The point of op x->i in o->series: the largest values of its ops, the
   faults after its last. */
static void series_add(struct rp *x, uint64_t fp)
{
	struct replay_series *s = x->o->series;
	size_t k = (size_t)(x->i / s->every);
	uint64_t rss = x->task->mm->rss_stat[MM_ANONPAGES];

	if (k >= s->max_points)
		return;
	if (k == s->n) {
		s->n++;
		s->payload[k] = s->footprint[k] = s->rss_pages[k] = 0;
	}
	s->op[k] = x->i + 1;
	if (x->payload > s->payload[k])
		s->payload[k] = x->payload;
	if (fp > s->footprint[k])
		s->footprint[k] = fp;
	if (rss > s->rss_pages[k])
		s->rss_pages[k] = rss;
	s->faults[k] = x->task->min_flt + x->task->maj_flt - x->faults0;
}

void replay_series_free(struct replay_series *s)
{
	free(s->op);
	free(s->payload);
	free(s->footprint);
	free(s->rss_pages);
	free(s->faults);
	s->op = s->payload = s->footprint = s->rss_pages = s->faults = NULL;
	s->n = 0;
}

/* Room for o->series' points. -1 when the host has none. */
static int series_init(struct replay_series *s, size_t nr_ops)
{
	size_t m = s->max_points < 2 ? 2 : s->max_points;

	replay_series_free(s);
	s->max_points = m;
	s->every = nr_ops / m + (nr_ops % m != 0);
	if (!s->every)
		s->every = 1;
	s->op = calloc(m, sizeof(*s->op));
	s->payload = calloc(m, sizeof(*s->payload));
	s->footprint = calloc(m, sizeof(*s->footprint));
	s->rss_pages = calloc(m, sizeof(*s->rss_pages));
	s->faults = calloc(m, sizeof(*s->faults));
	if (!s->op || !s->payload || !s->footprint || !s->rss_pages || !s->faults) {
		replay_series_free(s);
		return -1;
	}
	return 0;
}

/* Every operation of the trace, once. */
static void rp_pass(struct rp *x)
{
	const struct trace *t = x->t;
	struct replay_result *r = x->r;

	for (; x->i < t->nr_ops; x->i++) {
		const struct trace_op *op = &t->ops[x->i];
		uint64_t fp, fr;

		if (x->o->progress && x->i >= x->next_progress)
			rp_progress(x, false);
		if (x->o->running_op)
			*x->o->running_op = x->i;
		switch (op->kind) {
		case TOP_ALLOC:
		case TOP_CALLOC:
		case TOP_MEMALIGN:
			op_alloc(x, op);
			break;
		case TOP_REALLOC:
			op_realloc(x, op);
			break;
		default:
			op_free(x, op);
			break;
		}
		if (x->failed)
			return;
		r->ops = x->i + 1;
		if (x->payload > r->peak_payload)
			r->peak_payload = x->payload;
		fp = libc_footprint(&x->lc);
		if (fp > r->peak_footprint)
			r->peak_footprint = fp;
		fr = rp_frames(x);
		if (fr > r->peak_frames)
			r->peak_frames = fr;
		if (x->o->series)
			series_add(x, fp);
		if (x->o->heap_check && x->lc.ops->check &&
		    (x->o->heap_check_every <= 1 || (x->i + 1) % x->o->heap_check_every == 0 ||
		     x->i + 1 == t->nr_ops)) {
			rewind(x->chk);
			if (x->lc.ops->check(&x->lc, x->chk) > 0) {
				fflush(x->chk);
				char *nl = memchr(x->chk_buf, '\n', x->chk_len);

				rp_fail(x, "heap check: %.*s",
				        (int)(nl ? (size_t)(nl - x->chk_buf) : x->chk_len),
				        x->chk_buf);
				return;
			}
		}
	}
	if (x->o->check)
		for (uint32_t id = 0; id < t->nr_ids; id++)
			if (blk_live(&x->blk[id]) && !pat_verify(x, (int32_t)id, x->blk[id].start,
			                                   x->blk[id].size, "at the end"))
				return;
}

/*
 * opts.warm: the trace once, then every block still live freed (by id), and
 * the figures begin again for a second pass on a heap that is already
 * there.
 */
static void rp_warm_up(struct rp *x)
{
	struct replay_result *r = x->r;

	rp_pass(x);
	if (x->failed)
		return;
	for (uint32_t id = 0; id < x->t->nr_ids; id++)
		if (blk_live(&x->blk[id])) {
			vaddr_t p = x->blk[id].start;

			rp_unplace(x, &x->blk[id]);
			libc_free(&x->lc, p);
		}
	x->i = 0;
	x->next_progress = 0;
	if (x->o->series)
		x->o->series->n = 0; /* the course of the measured pass */
	r->ops = r->peak_payload = r->peak_footprint = r->peak_frames = 0;
	rp_baseline(x);
}

/* Runs as the simulated process (inside task_run). */
static void rp_body(void *arg)
{
	struct rp *x = arg;
	double t0;

	if (x->o->warm)
		rp_warm_up(x);
	if (x->failed)
		return;
	t0 = cpu_secs();
	rp_pass(x);
	x->r->cpu_secs = cpu_secs() - t0;
}

uint64_t replay_default_phys(const struct trace *t)
{
	/*
	 * One size for every trace, and a bounded one: a replay costs the host
	 * at most this much memory (frames are backed when first written), and
	 * reserves this much address space (so it runs under `ulimit -v 4G`).
	 * 2 GiB, because a policy that never coalesces (seed) turns
	 * realloc-bal's 0.6 MB of payload into a 1.4 GB heap. A trace that
	 * needs more fails with malloc's NULL and the hint of null_hint;
	 * --phys raises it.
	 */
	(void)t;
	return REPLAY_DEFAULT_PHYS;
}

static void death_reason(struct rp *x, int sig)
{
	const struct task_death *d = &x->task->death;
	const char *name = sig == SIM_SIGABRT   ? "SIGABRT"
	                   : sig == SIM_SIGSEGV ? "SIGSEGV"
	                   : sig == SIM_SIGKILL ? "SIGKILL"
	                   : sig == SIM_SIGXCPU ? "SIGXCPU"
	                   : sig == 4           ? "SIGILL" /* a plugin's own crash */
	                   : sig == 7           ? "SIGBUS"
	                   : sig == 8           ? "SIGFPE"
	                                        : "a signal";
	char msg[400];
	size_t n = x->task->stderr_len;

	/* glibc's own words when it wrote any ("free(): double free detected in
	   tcache 2"), else the kernel's reason. */
	if (n > 0) {
		const char *s = x->task->stderr_buf;

		while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\0'))
			n--;
		const char *last = memrchr(s, '\n', n);

		if (last) {
			n -= (size_t)(last + 1 - s);
			s = last + 1;
		}
		snprintf(msg, sizeof(msg), "%.*s", (int)n, s);
	} else if (d->addr == 0) { /* no address: SIGXCPU, SIGKILL, #GP */
		snprintf(msg, sizeof(msg), "%s", d->reason);
	} else {
		snprintf(msg, sizeof(msg), "%s at %#llx", d->reason, (unsigned long long)d->addr);
	}
	x->failed = false; /* rp_fail sets it again */
	rp_fail(x, "killed by %s: %s", name, msg);
}

int replay_run(const struct trace *t, const struct replay_opts *o, struct replay_result *r)
{
	const struct malloc_ops *ops = o->ops ? o->ops : malloc_policy(o->policy);
	struct kernel_opts ko;
	bool booted = false;
	struct rp *x;
	double t0;
	uint64_t seq0 = 0;
	int sig, ret = -1;

	memset(r, 0, sizeof(*r));
	r->trace = t->path;
	r->malloc = ops ? ops->name : o->policy;
	if (!ops) {
		cmd_error("replay", "unknown malloc policy '%s'", o->policy);
		return -1;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return -1;
	x->t = t;
	x->o = o;
	x->r = r;
	x->blk = calloc(t->nr_ids ? t->nr_ids : 1, sizeof(*x->blk));
	x->k = calloc(1, sizeof(*x->k));
	x->chk = open_memstream(&x->chk_buf, &x->chk_len);
	if (!x->blk || !x->k || !x->chk || (o->series && series_init(o->series, t->nr_ops) < 0)) {
		cmd_error("replay", "host out of memory");
		goto out;
	}
	kernel_default_opts(&ko);
	ko.phys_bytes = o->phys_bytes ? o->phys_bytes : replay_default_phys(t);
	r->phys_bytes = ko.phys_bytes;
	if (kernel_boot(x->k, &ko, stderr) < 0)
		goto out;
	booted = true;
	if (o->sink)
		probe_set_sink(&x->k->probe, o->sink, o->sink_ctx);
	seq0 = probe_seq(&x->k->probe);
	x->task = task_create(x->k, "replay");
	if (!x->task) {
		cmd_error("replay", "cannot create the process");
		goto out;
	}
	libc_init(&x->lc, x->k, ops);
	x->lc_ready = true;
	if (o->nr_tunables)
		memcpy(x->lc.tunables, o->tunables, o->nr_tunables * sizeof(*o->tunables));
	x->lc.nr_tunables = o->nr_tunables;

	/* The figures count from the first operation on, as run's from the
	   first statement (docs/reference.md, What is counted): the process's
	   start-up is not the trace's. (r->events, for the tests, counts from
	   the process's creation.) */
	rp_baseline(x);
	t0 = now_secs();
	sig = task_run(x->k, x->task, rp_body, x);
	if (sig)
		death_reason(x, sig);
	r->secs = now_secs() - t0;
	if (o->progress)
		rp_progress(x, true);
	r->valid = !x->failed;
	r->util = r->peak_footprint ? (double)r->peak_payload / (double)r->peak_footprint : 0;
	r->brk_calls = x->lc.st.brk_calls - x->brk0;
	r->mmap_calls = x->lc.st.mmap_calls - x->mmap0;
	r->munmap_calls = x->lc.st.munmap_calls - x->munmap0;
	r->page_faults = x->task->min_flt + x->task->maj_flt - x->faults0;
	r->tlb_hits = cpu_tlb_hits(&x->k->cpu) - x->hits0;
	r->tlb_misses = x->k->cpu.tlb.misses - x->misses0;
	ret = 0;
out:
	if (x->tree)
		tdestroy(x->tree, iv_nofree);
	if (x->lc_ready)
		libc_fini(&x->lc);
	if (x->task)
		task_destroy(x->k, x->task);
	if (booted) {
		r->events = probe_seq(&x->k->probe) - seq0;
		probe_set_sink(&x->k->probe, NULL, NULL);
		kernel_shutdown(x->k);
	}
	free(x->k);
	if (x->chk)
		fclose(x->chk);
	free(x->chk_buf);
	free(x->blk);
	free(x);
	return ret;
}
