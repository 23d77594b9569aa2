/*
 * fuzz_decode.h - what each fuzz harness does with one input, shared by the
 * libFuzzer harnesses (tests/fuzz/fuzz_*.c) and the Criterion regression
 * suite (tests/test_regress.c), which replays every input a fuzzer ever
 * crashed on through exactly the same code.
 *
 * Header-only (static functions) because the unit binary links tests/test_*.c
 * and the model, nothing else of tests/.
 *
 *   fuzz_script_one  the scenario parser: script_parse, then script_check and
 *                    script_dump on what it accepted.
 *   fuzz_trace_one   the trace reader: the input written to a memfd and read
 *                    back with trace_load through /proc/self/fd/N, as a user's
 *                    file; then its invariants and trace_peak_payload.
 *   fuzz_ops_one     a program decoded from the bytes, run on a booted kernel
 *                    with one of the malloc policies (see the comment there).
 *
 * Each returns the number of findings (0: fine) after describing the first on
 * err. The harnesses abort() on a finding; the regression test asserts 0.
 */
#ifndef TESTS_FUZZ_DECODE_H
#define TESTS_FUZZ_DECODE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../demos/cli/script.h"
#include "../../demos/cli/trace.h"
#include "../../kernel_sim/kernel.h"
#include "../../kernel_sim/proc.h"
#include "../../kernel_sim/syscalls.h"
#include "../../libc/libc.h"

#define FUZZ_UNUSED __attribute__((unused))

/* Where dumps go: output is exercised, never looked at. */
static FILE *fuzz_null(void)
{
	static FILE *null;

	if (!null)
		null = fopen("/dev/null", "w");
	if (!null)
		abort();
	return null;
}

/* ---- scenario scripts ---------------------------------------------------- */

static FUZZ_UNUSED int fuzz_script_one(const uint8_t *data, size_t size, FILE *err)
{
	char *text = malloc(size + 1);
	struct script *sc = NULL;
	int bad = 0;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = 0;
	if (script_parse("fuzz.ams", text, &sc, fuzz_null()) == 0) {
		bad = script_check(sc, err);
		/* Every variable read is defined on an earlier line. */
		for (size_t i = 0; i < sc->nr_stmts && !bad; i++)
			if (sc->stmts[i].dest >= sc->nr_vars) {
				fprintf(err, "statement %zu assigns variable %d of %d\n", i,
				        sc->stmts[i].dest, sc->nr_vars);
				bad++;
			}
		script_dump(sc, fuzz_null());
		script_free(sc);
	}
	free(text);
	return bad;
}

/* ---- traces -------------------------------------------------------------- */

static FUZZ_UNUSED int fuzz_trace_one(const uint8_t *data, size_t size, FILE *err)
{
	struct trace *t = NULL;
	char path[64];
	int bad = 0, fd = memfd_create("fuzz.rep", MFD_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		abort();
	while (done < size) {
		ssize_t w = write(fd, data + done, size - done);

		if (w <= 0)
			abort();
		done += (size_t)w;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (trace_load(path, &t, fuzz_null()) == 0) {
		for (size_t i = 0; i < t->nr_ops && !bad; i++) {
			const struct trace_op *op = &t->ops[i];

			if (op->kind != TOP_ALLOC && op->kind != TOP_REALLOC &&
			    op->kind != TOP_FREE && op->kind != TOP_CALLOC &&
			    op->kind != TOP_MEMALIGN) {
				fprintf(err, "op %zu: kind %d\n", i, op->kind);
				bad++;
			} else if (op->id < -1 || (op->id == -1 && op->kind != TOP_FREE) ||
			           (op->id >= 0 && (uint32_t)op->id >= t->nr_ids) ||
			           t->nr_ids > TRACE_MAX_IDS) {
				fprintf(err, "op %zu (line %u): id %d of %u\n", i, op->line, op->id,
				        t->nr_ids);
				bad++;
			} else if (i && op->line <= t->ops[i - 1].line) {
				fprintf(err, "op %zu: line %u after %u\n", i, op->line,
				        t->ops[i - 1].line);
				bad++;
			}
		}
		(void)trace_peak_payload(t);
		trace_free(t);
	}
	close(fd);
	return bad;
}

/* ---- programs of operations ---------------------------------------------- */

/*
 * Input: a configuration byte pair, then operations until the input ends
 * (at most FZ_MAX_OPS). Missing bytes read as 0, so every input decodes.
 *
 *   byte 0   malloc policy (index into malloc_policies, modulo their number)
 *   byte 1   bit 0: no zero page; bit 1: ASLR (seed: next byte);
 *            bits 2-3: simulated RAM 2, 4, 4 or 8 MiB (small: the checkers
 *            read every frame); bit 4: fail_after (next byte), set once the
 *            task exists
 *   then     opcode byte, then its operands (see enum fz_op)
 *
 * Every operation runs inside task_run. After each: kernel_check (always),
 * and the policy's checker plus the host-side block checks (alignment, no
 * overlap, usable size, contents written by the program intact) while the
 * program has stayed within its rights. A program that stores outside the
 * blocks and mappings it owns, frees what it does not own, moves the break
 * under malloc or maps over its heap may corrupt its allocator: that is its
 * own fault (it is "tainted"), and from then on only the kernel's invariants
 * must hold. A fatal signal ends the program. At the end the task exits and
 * the buddy allocator must be exactly as at boot (nothing leaked).
 */

#define FZ_MAX_OPS         400
#define FZ_BLOCKS          24
#define FZ_REGIONS         8
#define FZ_MAX_FILL        (64 * 1024) /* bytes a store writes at most */
#define FZ_MAX_TOUCH_PAGES 192         /* pages a touch or read visits at most */
#define FZ_MAX_VERIFY      4096        /* bytes of a block compared in full; beyond, samples */

enum fz_op {
	FZ_SBRK,
	FZ_SYS_BRK,
	FZ_LIBC_BRK,
	FZ_MMAP,
	FZ_MUNMAP,
	FZ_STORE,
	FZ_LOAD,
	FZ_TOUCH,
	FZ_READ,
	FZ_SETRLIMIT,
	FZ_MALLOC,
	FZ_FREE,
	FZ_REALLOC,
	FZ_CALLOC,
	FZ_MEMALIGN,
	FZ_USABLE,
	FZ_WALK,
	FZ_SHOW,
	FZ__COUNT
};

struct fz_block {
	bool live;
	vaddr_t p;
	uint64_t n;      /* bytes requested */
	uint8_t pattern; /* every byte of [p, p+n) holds it (while not tainted) */
};

struct fz_region {
	bool live;
	vaddr_t start;
	uint64_t len;
	bool writable;
};

struct fz {
	const uint8_t *in;
	size_t left;
	FILE *err;
	int bad;
	bool tainted;
	const char *why_tainted;
	struct kernel k;
	struct task *t;
	struct libc lc;
	struct fz_block b[FZ_BLOCKS];
	struct fz_region r[FZ_REGIONS];
	vaddr_t dead_ptrs[FZ_BLOCKS]; /* pointers freed: candidates for wild frees */
	uint8_t next_pattern;
	unsigned op_index;
	enum fz_op op;
};

static uint8_t fz_u8(struct fz *z)
{
	if (!z->left)
		return 0;
	z->left--;
	return *z->in++;
}

static uint64_t fz_u64(struct fz *z)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)fz_u8(z) << (8 * i);
	return v;
}

static const char *const fz_op_names[FZ__COUNT] = {
    "sbrk",      "sys_brk", "brk",  "mmap",    "munmap", "store",    "load",   "touch", "read",
    "setrlimit", "malloc",  "free", "realloc", "calloc", "memalign", "usable", "walk",  "show",
};

static void fz_fail(struct fz *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fz_fail(struct fz *z, const char *fmt, ...)
{
	va_list ap;

	if (!z->bad++) {
		fprintf(z->err, "fuzz_ops: op %u (%s), policy %s: ", z->op_index,
		        fz_op_names[z->op], z->lc.ops ? z->lc.ops->name : "?");
		va_start(ap, fmt);
		vfprintf(z->err, fmt, ap);
		va_end(ap);
		fputc('\n', z->err);
	}
}

static void fz_taint(struct fz *z, const char *why)
{
	if (!z->tainted) {
		z->tainted = true;
		z->why_tainted = why;
	}
}

/* Sizes: small, medium, around pages, around glibc's thresholds, huge. */
static uint64_t fz_size(struct fz *z)
{
	static const uint64_t special[32] = {
	    0,
	    1,
	    15,
	    16,
	    17,
	    24,
	    0x1ff8,
	    0x20000,
	    0x1fff0,
	    0x21000,
	    0x20001,
	    200000,
	    0x7fff0,
	    1 << 20,
	    4 << 20,
	    32 << 20,
	    1ULL << 30,
	    1ULL << 32,
	    1ULL << 40,
	    1ULL << 47,
	    1ULL << 62,
	    1ULL << 63,
	    INT64_MAX,
	    UINT64_MAX,
	    UINT64_MAX - 15,
	    UINT64_MAX - 4095,
	    UINT64_MAX - 0x21000,
	    (uint64_t) - (1LL << 32),
	    0x7ffffffff000,
	    0x800000000000,
	    PAGE_SIZE - 1,
	    PAGE_SIZE + 1,
	};
	uint8_t b = fz_u8(z);

	switch (b >> 5) {
	case 0:
		return b & 31;
	case 1:
		return 16 * (uint64_t)(b & 31) + fz_u8(z);
	case 2:
		return fz_u8(z) | (uint64_t)fz_u8(z) << 8;
	case 3:
		return ((uint64_t)(b & 31) + 1) * PAGE_SIZE;
	case 4:
		return ((uint64_t)fz_u8(z) + 1) * PAGE_SIZE + (b & 31) - 16;
	case 5:
	case 6:
		return special[b & 31];
	default:
		return fz_u64(z);
	}
}

/* Offsets from a base: small either way, whole pages, or anything. */
static int64_t fz_offset(struct fz *z)
{
	uint8_t b = fz_u8(z);

	switch (b >> 6) {
	case 0:
		return b & 63;
	case 1:
		return -(int64_t)(b & 63) - 1;
	case 2:
		return ((int64_t)(b & 63) - 32) * (int64_t)PAGE_SIZE;
	default:
		return (int64_t)fz_u64(z);
	}
}

/* An address: a block, a region, a landmark of the layout, a wild one. */
static vaddr_t fz_addr(struct fz *z)
{
	const struct mm_struct *mm = z->t->mm;
	uint8_t b = fz_u8(z) % (FZ_BLOCKS + FZ_REGIONS + 12);
	vaddr_t base;

	if (b < FZ_BLOCKS)
		base = z->b[b].p ? z->b[b].p : z->dead_ptrs[b];
	else if ((b -= FZ_BLOCKS) < FZ_REGIONS)
		base = z->r[b].start;
	else
		switch (b - FZ_REGIONS) {
		case 0:
			base = mm->start_brk;
			break;
		case 1:
			base = mm->brk;
			break;
		case 2:
			base = mm->mmap_base;
			break;
		case 3:
			base = mm->start_stack;
			break;
		case 4:
			base = mm->start_code;
			break;
		case 5:
			base = mm->start_data;
			break;
		case 6:
			base = 0;
			break;
		case 7:
			base = 0x0000800000000000ULL; /* first non-canonical */
			break;
		case 8:
			base = 0xffffffffff600000ULL; /* the kernel's half */
			break;
		case 9:
			base = 0x00007ffffffff000ULL; /* the last user page */
			break;
		case 10:
			base = z->lc.curbrk;
			break;
		default:
			base = fz_u64(z);
			break;
		}
	return base + (uint64_t)fz_offset(z);
}

/* [a, a+n) inside a live block (the pattern byte of it via *blk) or a writable
   region the program mapped itself. n may be 0. */
static bool fz_owned(struct fz *z, vaddr_t a, uint64_t n, bool write, int *blk)
{
	if (a + n < a)
		return false;
	*blk = -1;
	for (int i = 0; i < FZ_BLOCKS; i++)
		if (z->b[i].live && a >= z->b[i].p && a + n <= z->b[i].p + z->b[i].n) {
			*blk = i;
			return true;
		}
	for (int i = 0; i < FZ_REGIONS; i++)
		if (z->r[i].live && a >= z->r[i].start && a + n <= z->r[i].start + z->r[i].len)
			return !write || z->r[i].writable;
	return false;
}

/* The live block that starts at p, or -1. */
static int fz_find_block(struct fz *z, vaddr_t p)
{
	for (int i = 0; i < FZ_BLOCKS; i++)
		if (z->b[i].live && z->b[i].p == p)
			return i;
	return -1;
}

static bool fz_overlaps_block(struct fz *z, vaddr_t a, uint64_t n)
{
	for (int i = 0; i < FZ_BLOCKS; i++)
		if (z->b[i].live && a < z->b[i].p + z->b[i].n && z->b[i].p < a + n)
			return true;
	return false;
}

/* The contents the program wrote are still there (runs in the task). */
static void fz_verify(struct fz *z, int i, uint64_t upto)
{
	struct fz_block *bl = &z->b[i];
	uint8_t buf[256];
	uint64_t n = upto < bl->n ? upto : bl->n;

	if (z->tainted)
		return;
	for (uint64_t off = 0; off < n;) {
		uint64_t chunk = n - off < sizeof(buf) ? n - off : sizeof(buf);

		if (cpu_read(&z->k.cpu, bl->p + off, buf, chunk) < 0)
			return; /* killed: the caller sees it */
		for (uint64_t j = 0; j < chunk; j++)
			if (buf[j] != bl->pattern) {
				fz_fail(
				    z,
				    "block %d at %#llx (%llu bytes): byte %llu is %#x, wrote %#x",
				    i, (unsigned long long)bl->p, (unsigned long long)bl->n,
				    (unsigned long long)(off + j), buf[j], bl->pattern);
				return;
			}
		off += chunk;
		/* Big blocks: the first pages, then one sample a page. */
		if (off >= FZ_MAX_VERIFY && n - off > 256) {
			uint64_t next = (off + PAGE_SIZE) & ~(uint64_t)(PAGE_SIZE - 1);

			off = next < n ? next : n;
		}
	}
}

/* A block malloc (or realloc, calloc, memalign) returned: check and fill it. */
static void fz_new_block(struct fz *z, int i, vaddr_t p, uint64_t n, uint64_t align)
{
	struct fz_block *bl = &z->b[i];

	bl->live = false;
	if (!p)
		return;
	if (!z->tainted) {
		uint64_t u;

		if (p & (align - 1))
			fz_fail(z, "%#llx is not aligned to %llu", (unsigned long long)p,
			        (unsigned long long)align);
		if (fz_overlaps_block(z, p, n ? n : 1))
			fz_fail(z, "[%#llx, +%llu) overlaps a live block", (unsigned long long)p,
			        (unsigned long long)n);
		u = libc_malloc_usable_size(&z->lc, p);
		if (u < n)
			fz_fail(z, "usable size %llu < %llu requested", (unsigned long long)u,
			        (unsigned long long)n);
	}
	bl->live = true;
	bl->p = p;
	bl->n = n;
	bl->pattern = (uint8_t)(++z->next_pattern | 1);
	/* Fill what was asked (big blocks: one byte a page, enough to fault them in). */
	if (n <= FZ_MAX_FILL) {
		cpu_fill(&z->k.cpu, p, bl->pattern, n);
	} else {
		bl->n = FZ_MAX_FILL; /* only this much is ours to verify */
		cpu_fill(&z->k.cpu, p, bl->pattern, FZ_MAX_FILL);
	}
}

static void fz_drop_block(struct fz *z, int i)
{
	z->dead_ptrs[i] = z->b[i].p;
	z->b[i].live = false;
	z->b[i].p = 0;
}

static int fz_free_region_slot(struct fz *z)
{
	for (int i = 0; i < FZ_REGIONS; i++)
		if (!z->r[i].live)
			return i;
	return (int)(z->op_index % FZ_REGIONS); /* forget one: it stays mapped */
}

static void fz_op_mmap(struct fz *z)
{
	uint64_t len = fz_size(z);
	uint8_t prot = fz_u8(z), fl = fz_u8(z);
	vaddr_t hint = (fl & 0x2) ? fz_addr(z) : 0;
	int flags = SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS;
	int64_t r;
	int blk;

	if ((fl & 0x3) == 0x3)
		flags |= SIM_MAP_FIXED;
	if (fl & 0x4)
		flags &= ~SIM_MAP_ANONYMOUS; /* refused: a file mapping without a file */
	if (fl & 0x8)
		flags &= ~SIM_MAP_PRIVATE;
	/* MAP_FIXED replaces whatever was there, the heap included: unless that
	   is a mapping of the program's own, the allocator's state is not ours
	   to vouch for any more. */
	if ((flags & SIM_MAP_FIXED) && !(fz_owned(z, hint, len, false, &blk) && blk < 0))
		fz_taint(z, "MAP_FIXED over memory the program does not own");
	if (fl & 0x10)
		r = sys_mmap(&z->k, hint, len, prot & 7, flags, (fl & 0x20) ? 3 : -1,
		             (fl & 0x40) ? PAGE_SIZE : 0);
	else
		r = (int64_t)libc_mmap(&z->lc, hint, len, prot & 7, flags);
	if (r < 0 && r > -4096)
		return;
	if ((vaddr_t)r == LIBC_MAP_FAILED)
		return;
	if (flags & SIM_MAP_FIXED)
		for (int i = 0; i < FZ_REGIONS; i++)
			if (z->r[i].live && (vaddr_t)r < z->r[i].start + z->r[i].len &&
			    z->r[i].start < (vaddr_t)r + len)
				z->r[i].live = false;
	if (!z->tainted && fz_overlaps_block(z, (vaddr_t)r, len))
		fz_fail(z, "mmap returned [%#llx, +%#llx) over a live block", (unsigned long long)r,
		        (unsigned long long)len);
	{
		int i = fz_free_region_slot(z);

		z->r[i] = (struct fz_region){true, (vaddr_t)r, len, (prot & SIM_PROT_WRITE) != 0};
	}
}

static void fz_op_munmap(struct fz *z)
{
	vaddr_t a = fz_addr(z);
	uint64_t len = fz_size(z);
	int blk;

	/* The kernel unmaps whole pages: [a, PAGE_ALIGN(a + len)) must be the
	   program's, not just the bytes it named (an sbrk of 0x18 bytes shares
	   its page with the heap malloc builds next). */
	uint64_t end = a + len, span = end < a ? len : PAGE_ALIGN(end) - a;

	if (!fz_owned(z, a, span, false, &blk) || blk >= 0)
		fz_taint(z, "munmap of memory the program does not own");
	if (sys_munmap(&z->k, a, len) == 0)
		for (int i = 0; i < FZ_REGIONS; i++)
			if (z->r[i].live && a < z->r[i].start + z->r[i].len &&
			    z->r[i].start < a + len)
				z->r[i].live = false;
}

static void fz_op_brk(struct fz *z)
{
	vaddr_t old = z->t->mm->brk;

	switch (z->op) {
	case FZ_SBRK: {
		int64_t inc = (int64_t)fz_size(z);
		vaddr_t r;

		if (fz_u8(z) & 1)
			inc = (int64_t)(0 - (uint64_t)inc); /* INT64_MIN stays itself */
		r = libc_sbrk(&z->lc, inc);
		if (r == (vaddr_t)-1 || inc == 0)
			break;
		/* glibc copes with foreign sbrk growth (non-contiguous heap); the
		   others own the whole heap. A shrink is never the program's to do. */
		if (inc < 0 || strcmp(z->lc.ops->name, "glibc") != 0) {
			fz_taint(z, "sbrk under malloc");
		} else {
			int i = fz_free_region_slot(z);

			z->r[i] = (struct fz_region){true, r, (uint64_t)inc, true};
		}
		break;
	}
	case FZ_SYS_BRK:
		sys_brk(&z->k, fz_addr(z));
		break;
	default:
		libc_brk(&z->lc, fz_addr(z));
		break;
	}
	if (z->t->mm->brk != old && z->op != FZ_SBRK)
		fz_taint(z, "brk under malloc");
}

static void fz_op_access(struct fz *z)
{
	vaddr_t a = fz_addr(z);
	int blk;

	switch (z->op) {
	case FZ_STORE: {
		uint64_t n = fz_size(z) % (FZ_MAX_FILL + 1);
		uint8_t byte = fz_u8(z);

		if (!fz_owned(z, a, n, true, &blk))
			fz_taint(z, "store outside what the program owns");
		else if (blk >= 0)
			byte = z->b[blk].pattern; /* keep the block's contents checkable */
		cpu_fill(&z->k.cpu, a, byte, n);
		break;
	}
	case FZ_LOAD: {
		unsigned size = fz_u8(z) % 9;
		uint64_t v;
		uint8_t buf[8];

		if (size == 1 || size == 2 || size == 4 || size == 8) {
			cpu_load(&z->k.cpu, a, size, &v);
		} else if (cpu_read(&z->k.cpu, a, buf, size) == 0 &&
		           fz_owned(z, a, size, false, &blk) && blk >= 0 && !z->tainted) {
			for (unsigned j = 0; j < size; j++)
				if (buf[j] != z->b[blk].pattern)
					fz_fail(z, "load %#llx: byte %u is %#x, block %d holds %#x",
					        (unsigned long long)a, j, buf[j], blk,
					        z->b[blk].pattern);
		}
		break;
	}
	default: {
		uint64_t len = fz_size(z), pages = 0;
		bool write = z->op == FZ_TOUCH;
		uint64_t v;

		if (len > FZ_MAX_TOUCH_PAGES * PAGE_SIZE)
			len = FZ_MAX_TOUCH_PAGES * PAGE_SIZE;
		if (write && !fz_owned(z, a, len, true, &blk))
			fz_taint(z, "touch outside what the program owns");
		else if (write && blk >= 0)
			break; /* a byte of 0 would change its contents */
		for (vaddr_t va = a; va - a < len && pages < FZ_MAX_TOUCH_PAGES; pages++) {
			if (write)
				cpu_store(&z->k.cpu, va, 1, 0);
			else
				cpu_load(&z->k.cpu, va, 1, &v);
			va = PAGE_ALIGN_DOWN(va) + PAGE_SIZE;
			if (va == 0)
				break;
		}
		break;
	}
	}
}

static void fz_op_setrlimit(struct fz *z)
{
	static const int res[4] = {SIM_RLIMIT_DATA, SIM_RLIMIT_STACK, SIM_RLIMIT_AS, 7};
	struct sim_rlimit rl;
	uint8_t b = fz_u8(z);

	rl.cur = fz_size(z);
	rl.max = (b & 4) ? fz_size(z) : SIM_RLIM_INFINITY;
	sys_setrlimit(&z->k, res[b & 3], &rl);
	if (b & 8)
		sys_getrlimit(&z->k, res[b & 3], &rl);
}

static void fz_op_malloc_family(struct fz *z)
{
	int i = fz_u8(z) % FZ_BLOCKS;
	struct fz_block *bl = &z->b[i];
	struct libc *lc = &z->lc;

	/* The seed allocator checks nothing (by design, as in the article): on
	   a heap the program corrupted, its first-fit walk may loop for ever
	   (a block of size 0), as the real one would. Not a finding. */
	if (z->tainted && strcmp(lc->ops->name, "seed") == 0)
		return;

	switch (z->op) {
	case FZ_MALLOC: {
		uint64_t n = fz_size(z);

		if (bl->live) { /* the slot's old block: freed first, as a program would */
			fz_verify(z, i, FZ_MAX_VERIFY);
			libc_free(lc, bl->p);
			fz_drop_block(z, i);
		}
		fz_new_block(z, i, libc_malloc(lc, n), n, 16);
		break;
	}
	case FZ_CALLOC: {
		uint64_t nm = fz_size(z), sz = fz_size(z);
		vaddr_t p;

		if (bl->live) {
			libc_free(lc, bl->p);
			fz_drop_block(z, i);
		}
		p = libc_calloc(lc, nm, sz);
		if (p && !z->tainted) {
			uint64_t n = nm * sz, chk = n < FZ_MAX_VERIFY ? n : FZ_MAX_VERIFY;

			if (sz && n / sz != nm)
				fz_fail(z, "calloc(%llu, %llu) overflows yet returned %#llx",
				        (unsigned long long)nm, (unsigned long long)sz,
				        (unsigned long long)p);
			if (cpu_check_fill(&z->k.cpu, p, 0, chk) == 1)
				fz_fail(z, "calloc(%llu, %llu) = %#llx is not zeroed",
				        (unsigned long long)nm, (unsigned long long)sz,
				        (unsigned long long)p);
		}
		fz_new_block(z, i, p, nm * sz, 16);
		break;
	}
	case FZ_FREE: {
		uint8_t how = fz_u8(z) % 8;

		if (how == 0) {
			libc_free(lc, 0);
		} else if (bl->live && how < 6) {
			fz_verify(z, i, FZ_MAX_VERIFY);
			libc_free(lc, bl->p);
			fz_drop_block(z, i);
		} else {
			/* A double free or a pointer malloc never returned. */
			vaddr_t p = how == 7 ? fz_addr(z) : z->dead_ptrs[i];
			int blk = fz_find_block(z, p);

			if (p && blk < 0)
				fz_taint(z, "free of a pointer malloc did not return");
			libc_free(lc, p);
			if (blk >= 0)
				fz_drop_block(z, blk);
		}
		break;
	}
	case FZ_REALLOC: {
		uint64_t n = fz_size(z);
		vaddr_t p;

		if (!bl->live) {
			p = libc_realloc(lc, 0, n);
			fz_new_block(z, i, p, n, 16);
			break;
		}
		fz_verify(z, i, FZ_MAX_VERIFY);
		p = libc_realloc(lc, bl->p, n);
		if (!p && n) /* failed: the old block is untouched */
			break;
		if (!p) { /* realloc(p, 0) freed it */
			fz_drop_block(z, i);
			break;
		}
		{
			uint64_t keep = bl->n < n ? bl->n : n;

			/* The old contents moved with the block. */
			bl->p = p;
			bl->n = keep;
			fz_verify(z, i, FZ_MAX_VERIFY);
			bl->live = false;
			fz_new_block(z, i, p, n, 16);
		}
		break;
	}
	case FZ_MEMALIGN: {
		static const uint64_t aligns[16] = {
		    0,   1,    8,       16,      24,         32,         48, 64,
		    256, 4096, 1 << 16, 1 << 20, 1ULL << 40, 1ULL << 63, 3,  UINT64_MAX};
		uint64_t al = aligns[fz_u8(z) % 16], n = fz_size(z);
		vaddr_t p = 0;
		int rc;

		if (bl->live) {
			libc_free(lc, bl->p);
			fz_drop_block(z, i);
		}
		rc = libc_posix_memalign(lc, &p, al, n);
		if (rc == 0 && !z->tainted && (al < sizeof(void *) || (al & (al - 1))))
			fz_fail(z, "posix_memalign accepted alignment %llu",
			        (unsigned long long)al);
		fz_new_block(z, i, rc == 0 ? p : 0, n, rc == 0 && al > 16 ? al : 16);
		break;
	}
	default: { /* FZ_USABLE */
		if (bl->live) {
			uint64_t u = libc_malloc_usable_size(lc, bl->p);

			if (u < bl->n && !z->tainted)
				fz_fail(z, "usable size %llu < %llu", (unsigned long long)u,
				        (unsigned long long)bl->n);
		} else if (libc_malloc_usable_size(lc, 0) != 0) {
			fz_fail(z, "malloc_usable_size(NULL) != 0");
		}
		break;
	}
	}
}

/* What the walker reports: every live block is in use, blocks disjoint. */
struct fz_walk {
	struct fz *z;
	unsigned in_use;
};

static void fz_walk_cb(void *ctx, const struct chunk_info *ci)
{
	struct fz_walk *w = ctx;

	if (ci->in_use)
		w->in_use++;
}

static void fz_op_walk(struct fz *z)
{
	struct fz_walk w = {.z = z};
	unsigned live = 0;

	if (!z->lc.ops->walk || z->tainted)
		return;
	z->lc.ops->walk(&z->lc, fz_walk_cb, &w);
	for (int i = 0; i < FZ_BLOCKS; i++)
		live += z->b[i].live;
	if (w.in_use < live)
		fz_fail(z, "the heap walk shows %u blocks in use, the program holds %u", w.in_use,
		        live);
}

static void fz_op_show(struct fz *z)
{
	FILE *out = fuzz_null();
	vaddr_t a = fz_addr(z);

	switch (fz_u8(z) % 6) {
	case 0:
		proc_maps(&z->k, z->t, out);
		break;
	case 1:
		proc_buddyinfo(&z->k, out);
		break;
	case 2:
		proc_meminfo(&z->k, out);
		break;
	case 3:
		proc_status(&z->k, z->t, out);
		break;
	case 4:
		proc_pagetable(&z->k, z->t, a, out);
		break;
	default:
		proc_tlb(&z->k, out);
		break;
	}
}

static void fz_run_op(void *arg)
{
	struct fz *z = arg;

	switch (z->op) {
	case FZ_SBRK:
	case FZ_SYS_BRK:
	case FZ_LIBC_BRK:
		fz_op_brk(z);
		break;
	case FZ_MMAP:
		fz_op_mmap(z);
		break;
	case FZ_MUNMAP:
		fz_op_munmap(z);
		break;
	case FZ_STORE:
	case FZ_LOAD:
	case FZ_TOUCH:
	case FZ_READ:
		fz_op_access(z);
		break;
	case FZ_SETRLIMIT:
		fz_op_setrlimit(z);
		break;
	case FZ_WALK:
		fz_op_walk(z);
		break;
	case FZ_SHOW:
		fz_op_show(z);
		break;
	default:
		fz_op_malloc_family(z);
		break;
	}
}

/* The program's end while it behaved: free every block (contents checked). */
static void fz_free_all(void *arg)
{
	struct fz *z = arg;

	for (int i = 0; i < FZ_BLOCKS; i++)
		if (z->b[i].live) {
			fz_verify(z, i, FZ_MAX_VERIFY);
			libc_free(&z->lc, z->b[i].p);
			fz_drop_block(z, i);
		}
}

static void fz_trace(struct fz *z, FILE *out)
{
	fprintf(out, "op %3u %-9s brk %#llx%s%s%s\n", z->op_index, fz_op_names[z->op],
	        (unsigned long long)z->t->mm->brk, z->tainted ? " tainted: " : "",
	        z->tainted ? z->why_tainted : "", z->t->dead ? " DEAD" : "");
	for (int i = 0; i < FZ_BLOCKS; i++)
		if (z->b[i].live)
			fprintf(out, "    block %2d %#llx +%llu\n", i,
			        (unsigned long long)z->b[i].p, (unsigned long long)z->b[i].n);
	for (int i = 0; i < FZ_REGIONS; i++)
		if (z->r[i].live)
			fprintf(out, "    region %d %#llx +%#llx\n", i,
			        (unsigned long long)z->r[i].start, (unsigned long long)z->r[i].len);
}

static void fz_check(struct fz *z)
{
	if (kernel_check(&z->k, z->err))
		fz_fail(z, "kernel_check%s%s", z->tainted ? " (program tainted: " : "",
		        z->tainted ? z->why_tainted : "");
	else if (!z->t->dead && !z->tainted && z->lc.ops->check && z->lc.ops->check(&z->lc, z->err))
		fz_fail(z, "the %s heap checker", z->lc.ops->name);
}

static FUZZ_UNUSED int fuzz_ops_one(const uint8_t *data, size_t size, FILE *err)
{
	static const uint64_t phys_mib[4] = {2, 4, 4, 8};
	struct fz *z = calloc(1, sizeof(*z));
	struct kernel_opts ko;
	const struct malloc_ops *ops;
	uint64_t boot_free, boot_nr_free[NR_PAGE_ORDERS];
	unsigned nr_policies = 0;
	uint8_t cfg;
	int bad;
	/* FUZZ_TRACE=1: what each operation did, to stderr (for a crash's story). */
	FILE *trace = getenv("FUZZ_TRACE") ? stderr : NULL;

	if (!z)
		abort();
	z->in = data;
	z->left = size;
	z->err = err;
	while (malloc_policies[nr_policies])
		nr_policies++;
	ops = malloc_policies[fz_u8(z) % nr_policies];
	cfg = fz_u8(z);
	kernel_default_opts(&ko);
	ko.zero_page = !(cfg & 1);
	if (cfg & 2) {
		ko.aslr = true;
		ko.seed = fz_u8(z) + 1;
	}
	ko.phys_bytes = phys_mib[(cfg >> 2) & 3] << 20;
	if (kernel_boot(&z->k, &ko, err) < 0) {
		fz_fail(z, "kernel_boot");
		free(z);
		return 1;
	}
	boot_free = z->k.buddy.free_pages;
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		boot_nr_free[o] = z->k.buddy.free_area[o].nr_free;
	z->t = task_create(&z->k, "fuzz");
	if (!z->t) {
		fz_fail(z, "task_create on %llu MiB", (unsigned long long)(ko.phys_bytes >> 20));
		kernel_shutdown(&z->k);
		free(z);
		return 1;
	}
	libc_init(&z->lc, &z->k, ops);
	if (cfg & 0x10)
		z->k.buddy.fail_after = fz_u8(z);

	for (z->op_index = 0; z->left && z->op_index < FZ_MAX_OPS && !z->bad; z->op_index++) {
		z->op = (enum fz_op)(fz_u8(z) % FZ__COUNT);
		task_run(&z->k, z->t, fz_run_op, z);
		if (trace)
			fz_trace(z, trace);
		fz_check(z);
		if (z->t->dead)
			break;
	}
	if (!z->bad && !z->t->dead && !z->tainted) {
		z->op = FZ_FREE;
		task_run(&z->k, z->t, fz_free_all, z);
		fz_check(z);
	}
	z->k.buddy.fail_after = -1;

	/* Exit: every frame and every table page comes back. */
	libc_fini(&z->lc);
	task_destroy(&z->k, z->t);
	if (!z->bad && kernel_check(&z->k, err))
		fz_fail(z, "kernel_check after the exit");
	if (!z->bad && z->k.buddy.free_pages != boot_free)
		fz_fail(z, "%lld frames leaked after the exit",
		        (long long)(boot_free - z->k.buddy.free_pages));
	for (int o = 0; o < NR_PAGE_ORDERS && !z->bad; o++)
		if (z->k.buddy.free_area[o].nr_free != boot_nr_free[o])
			fz_fail(z, "order %d: %llu free blocks after the exit, %llu at boot", o,
			        (unsigned long long)z->k.buddy.free_area[o].nr_free,
			        (unsigned long long)boot_nr_free[o]);
	kernel_shutdown(&z->k);
	bad = z->bad;
	free(z);
	return bad;
}

#endif
