/*
 * memlib.c - a policy of one's own as a malloc policy (memlib_host.h): the
 * adapter from a plugin's functions to struct malloc_ops, and the host side
 * of the CS:APP memory system of memlib.h (mem_sbrk, mem_heap_lo/hi,
 * mem_mmap, the mem_get/mem_put accessors), after the lab's memlib.c, which
 * models the heap with a host array: here the heap is the simulated
 * process's, and every access is the simulated CPU's.
 *
 * mm_init runs in the process, lazily, at its first malloc-family call (the
 * dispatch's init hook may run no simulated code). The accessors cost what
 * the built-in policies' libc_ld64 and libc_st64 cost, plus a test of the
 * mode: a plugin's replay is meant to stay within 1.3x of the same allocator
 * built in (make bench, plugin_vs_builtin_ratio).
 */
#include "memlib_host.h"

#include <stdlib.h>
#include <string.h>

#include "../kernel_sim/syscalls.h"
#include "../vm/hostmem.h"
#include "../vm/panic.h"

static void ops_init(struct libc *lc);

struct memlib *memlib_of(const struct libc *lc)
{
	if (!lc->ops || lc->ops->init != ops_init)
		return NULL;
	return (struct memlib *)((char *)lc->ops - offsetof(struct memlib, ops));
}

static struct memlib *self(struct libc *lc)
{
	return (struct memlib *)((char *)lc->ops - offsetof(struct memlib, ops));
}

static inline vaddr_t va_of(const void *p)
{
	return (vaddr_t)(uintptr_t)p;
}

static inline void *ptr_of(vaddr_t va)
{
	return (void *)(uintptr_t)va;
}

/* ---- calls into the plugin ------------------------------------------------ */

/* An operation: the accessors go through the MMU. A CS:APP plugin's
   functions are calls in the event stream ("mm_malloc" inside "malloc"),
   so that the steppers show them on the path and `o` leaves them. */
static inline void enter(struct memlib *m, const char *call)
{
	m->mode = MEMLIB_RUN;
	m->call = call;
	m->serial++;
	m->run_left = MEMLIB_RUN_BUDGET;
	if (!m->native)
		probe_call(&m->lc->k->probe, LAYER_LIBC, call);
}

static inline void leave(struct memlib *m)
{
	if (!m->native)
		probe_ret(&m->lc->k->probe, LAYER_LIBC, m->call);
	m->call = NULL;
	m->mode = MEMLIB_IDLE;
}

/* mm_init, once per process, before its first operation. When it fails
   the process aborts, with glibc's way of saying so (the call never
   returns). */
static void ensure_init(struct memlib *m)
{
	int r;

	if (m->inited)
		return;
	m->inited = true;
	enter(m, "mm_init");
	r = m->fn.init();
	leave(m);
	if (r < 0)
		libc_malloc_printerr(m->lc, "mm_init(): returned -1");
}

static void ops_init(struct libc *lc)
{
	struct memlib *m = self(lc);

	/* One process at a time: its globals are the plugin's. The loader
	   gives each simulation its own copy; a second process of the same
	   simulation (a fork) is refused at its first call (check_process). */
	if (m->lc && m->lc != lc)
		return;
	m->lc = lc;
	m->cpu = lc->cpu;
	m->inited = false;
	m->mode = MEMLIB_IDLE;
	m->call = NULL;
	if (m->native && m->native->init) {
		enter(m, "init");
		m->native->init(lc);
		leave(m);
	}
}

/* A call from a process the plugin is not bound to: that process aborts,
   as a real one would when its allocator's state is not there. */
static inline void check_process(struct memlib *m, struct libc *lc)
{
	if (__builtin_expect(m->lc != lc, 0))
		libc_malloc_printerr(lc, "a plugin serves one process: its globals are the host's, "
		                         "and this process is another");
}

static void ops_fini(struct libc *lc)
{
	struct memlib *m = self(lc);

	if (m->lc != lc)
		return;
	if (m->native && m->native->fini)
		m->native->fini(lc);
	m->lc = NULL;
	m->cpu = NULL;
	m->inited = false;
	m->mode = MEMLIB_IDLE;
	m->call = NULL;
}

/* A call into the plugin begins: the process is the plugin's, a CS:APP
   plugin's mm_init has run in it, the call is recorded. */
static inline struct memlib *begin(struct libc *lc, const char *call)
{
	struct memlib *m = self(lc);

	check_process(m, lc);
	if (!m->native)
		ensure_init(m);
	enter(m, call);
	return m;
}

static vaddr_t mm_ops_malloc(struct libc *lc, uint64_t n)
{
	struct memlib *m = begin(lc, "mm_malloc");
	void *r = m->fn.malloc(n);

	leave(m);
	return va_of(r);
}

static void mm_ops_free(struct libc *lc, vaddr_t p)
{
	struct memlib *m = begin(lc, "mm_free");

	m->fn.free(ptr_of(p));
	leave(m);
}

static vaddr_t mm_ops_realloc(struct libc *lc, vaddr_t p, uint64_t n)
{
	struct memlib *m = begin(lc, "mm_realloc");
	void *r = m->fn.realloc(ptr_of(p), n);

	leave(m);
	return va_of(r);
}

static vaddr_t mm_ops_calloc(struct libc *lc, uint64_t nmemb, uint64_t size)
{
	struct memlib *m = begin(lc, "mm_calloc");
	void *r = m->fn.calloc(nmemb, size);

	leave(m);
	return va_of(r);
}

/* ---- side calls: the walk and the checker ---------------------------------- */

void memlib_side_abort(struct memlib *m, const char *why)
{
	if (!m->side)
		panic("%s: no side call to abandon (%s)", m->name, why);
	snprintf(m->side_error, sizeof(m->side_error), "%s", why);
	siglongjmp(*m->side, 1);
}

struct walk_ctx {
	struct memlib *m;
	chunk_cb_t cb;
	void *ctx;
};

static void visit(void *arg, void *bp, size_t size, bool allocated)
{
	struct walk_ctx *w = arg;
	struct chunk_info ci = {0};

	ci.chunk = va_of(bp);
	ci.user = va_of(bp);
	ci.size = size;
	ci.in_use = allocated;
	ci.where = allocated ? "in use" : "free";
	ci.flags = allocated;
	/* The front end's callback is host code: not the plugin's. */
	w->m->mode = MEMLIB_IDLE;
	w->cb(w->ctx, &ci);
	w->m->mode = MEMLIB_PEEK;
}

/*
 * Run a side call: fn(arg) with the accessors on the side door. Returns
 * false when it was abandoned (m->side_error says why). The state of an
 * operation it interrupts (the steppers walk the heap while the program is
 * paused inside mm_malloc) is saved and restored.
 */
static bool side_call(struct memlib *m, const char *call, void (*fn)(void *), void *arg)
{
	sigjmp_buf jb;
	sigjmp_buf *volatile saved_side = m->side;
	const char *volatile saved_call = m->call;
	volatile enum memlib_mode saved_mode = m->mode;
	volatile bool ok = true;

	m->side_error[0] = '\0';
	m->peek_left = MEMLIB_PEEK_BUDGET;
	m->peek_cache.valid = false;
	m->side = &jb;
	if (sigsetjmp(jb, 1) == 0) {
		m->mode = MEMLIB_PEEK;
		m->call = call;
		m->serial++;
		fn(arg);
	} else {
		ok = false;
	}
	m->side = saved_side;
	m->call = saved_call;
	m->mode = saved_mode;
	return ok;
}

static void run_walk(void *arg)
{
	struct walk_ctx *w = arg;

	if (w->m->native)
		w->m->native->walk(w->m->lc, w->cb, w->ctx);
	else
		w->m->fn.walk(visit, w);
}

static void ops_walk(struct libc *lc, chunk_cb_t cb, void *ctx)
{
	struct memlib *m = self(lc);
	struct walk_ctx w = {m, cb, ctx};

	/* Not this plugin's process, or one whose mm_init has not run. */
	if (m->lc != lc || (!m->native && !m->inited))
		return;
	side_call(m, m->native ? "walk" : "mm_walk", run_walk, &w);
}

struct check_ctx {
	struct memlib *m;
	FILE *err;
	int bad;
};

static void run_check(void *arg)
{
	struct check_ctx *c = arg;

	if (c->m->native)
		c->bad = c->m->native->check(c->m->lc, c->err);
	else
		c->bad = c->m->fn.checkheap(0) ? 0 : 1;
}

static int ops_check(struct libc *lc, FILE *err)
{
	struct memlib *m = self(lc);
	struct check_ctx c = {m, err, 0};

	if (m->lc != lc || (!m->native && !m->inited))
		return 0;
	if (!side_call(m, m->native ? "check" : "mm_checkheap", run_check, &c)) {
		if (err)
			fprintf(err, "%s\n", m->side_error);
		return 1;
	}
	if (c.bad && err && !m->native)
		fprintf(err, "mm_checkheap returned false\n");
	return c.bad;
}

/* ---- native plugins: their own ops, each call recorded ------------------- */

static vaddr_t nat_malloc(struct libc *lc, uint64_t n)
{
	struct memlib *m = begin(lc, "malloc");
	vaddr_t r = m->native->malloc(lc, n);

	leave(m);
	return r;
}

static void nat_free(struct libc *lc, vaddr_t p)
{
	struct memlib *m = begin(lc, "free");

	m->native->free(lc, p);
	leave(m);
}

static vaddr_t nat_realloc(struct libc *lc, vaddr_t p, uint64_t n)
{
	struct memlib *m = begin(lc, "realloc");
	vaddr_t r = m->native->realloc(lc, p, n);

	leave(m);
	return r;
}

static vaddr_t nat_calloc(struct libc *lc, uint64_t nmemb, uint64_t size)
{
	struct memlib *m = begin(lc, "calloc");
	vaddr_t r = m->native->calloc(lc, nmemb, size);

	leave(m);
	return r;
}

static vaddr_t nat_memalign(struct libc *lc, uint64_t align, uint64_t n)
{
	struct memlib *m = begin(lc, "memalign");
	vaddr_t r = m->native->memalign(lc, align, n);

	leave(m);
	return r;
}

static uint64_t nat_usable_size(struct libc *lc, vaddr_t p)
{
	struct memlib *m = begin(lc, "usable_size");
	uint64_t r = m->native->usable_size(lc, p);

	leave(m);
	return r;
}

/* ---- construction ------------------------------------------------------------ */

static struct memlib *alloc_adapter(const char *name)
{
	struct memlib *m = hostmem_calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->ops.name = m->name;
	m->ops.description = m->description;
	m->ops.init = ops_init;
	m->ops.fini = ops_fini;
	return m;
}

struct memlib *memlib_new(const char *name, const struct memlib_fns *fns)
{
	struct memlib *m;

	if (!fns->init || !fns->malloc || !fns->free || !fns->realloc)
		return NULL;
	m = alloc_adapter(name);
	if (!m)
		return NULL;
	m->fn = *fns;
	snprintf(m->description, sizeof(m->description), "%s: a CS:APP mm_* plugin", name);
	m->ops.malloc = mm_ops_malloc;
	m->ops.free = mm_ops_free;
	m->ops.realloc = mm_ops_realloc;
	m->ops.calloc = fns->calloc ? mm_ops_calloc : NULL;
	m->ops.walk = fns->walk ? ops_walk : NULL;
	m->ops.check = fns->checkheap ? ops_check : NULL;
	return m;
}

struct memlib *memlib_new_native(const char *name, const struct malloc_ops *ops)
{
	struct memlib *m;

	if (!ops->malloc || !ops->free || !ops->realloc)
		return NULL;
	m = alloc_adapter(name);
	if (!m)
		return NULL;
	m->native = ops;
	snprintf(m->description, sizeof(m->description), "%s: %s", name,
	         ops->description ? ops->description : "a plugin policy");
	m->ops.malloc = nat_malloc;
	m->ops.free = nat_free;
	m->ops.realloc = nat_realloc;
	m->ops.calloc = ops->calloc ? nat_calloc : NULL;
	m->ops.memalign = ops->memalign ? nat_memalign : NULL;
	m->ops.usable_size = ops->usable_size ? nat_usable_size : NULL;
	m->ops.walk = ops->walk ? ops_walk : NULL;
	m->ops.check = ops->check ? ops_check : NULL;
	return m;
}

void memlib_delete(struct memlib *m)
{
	if (m && m->lc)
		panic("plugin %s deleted while bound to a process", m->name);
	hostmem_free(m);
}

/* ---- the memory system of memlib.h ----------------------------------------- */

/* An accessor called where it may not be: outside any call into the
   plugin (a constructor, another thread), or a store in a side call. */
static _Noreturn void misuse(struct memlib *m, const char *fn)
{
	char why[160];

	if (m->mode == MEMLIB_PEEK) {
		snprintf(why, sizeof(why), "%s stored into simulated memory (%s may only read)",
		         m->call, fn);
		memlib_side_abort(m, why);
	}
	fprintf(stderr,
	        "aftermalloc: %s: %s called outside mm_init, mm_malloc, mm_free, mm_realloc, "
	        "mm_calloc, mm_checkheap and mm_walk\n",
	        m->name, fn);
	abort();
}

/* The operation used up MEMLIB_RUN_BUDGET: the process dies of SIGXCPU,
   with the reason on its stderr. */
static _Noreturn void endless(struct memlib *m)
{
	char why[256];
	int n = snprintf(why, sizeof(why),
	                 "%s: %s made %llu accesses to simulated memory without returning: an "
	                 "endless loop?\n",
	                 m->name, m->call, (unsigned long long)MEMLIB_RUN_BUDGET);

	sys_write(m->lc->k, 2, why, (size_t)n < sizeof(why) ? (size_t)n : sizeof(why) - 1);
	m->call = NULL;
	m->mode = MEMLIB_IDLE;
	account_user_time_to_limit(m->lc->k);
	panic("%s: not run inside task_run", why);
}

/* An access of an operation (else a side call's, or a misuse): counted
   against the operation's budget. */
static inline bool in_run(struct memlib *m)
{
	if (__builtin_expect(m->mode != MEMLIB_RUN, 0))
		return false;
	if (__builtin_expect(--m->run_left == 0, 0))
		endless(m);
	return true;
}

/* A read through the side door, for a side call. */
static uint64_t peek(struct memlib *m, vaddr_t va, unsigned size)
{
	uint64_t v = 0;
	char why[160];

	if (m->peek_left-- == 0) {
		snprintf(why, sizeof(why), "%s made over %llu reads: an endless walk?", m->call,
		         (unsigned long long)MEMLIB_PEEK_BUDGET);
		memlib_side_abort(m, why);
	}
	if (!libc_peek_cached(m->lc, &m->peek_cache, va, &v, size)) {
		snprintf(why, sizeof(why), "%s read %#llx, which is not mapped", m->call,
		         (unsigned long long)va);
		memlib_side_abort(m, why);
	}
	return v;
}

uint64_t memlib_get64(struct memlib *m, const void *p)
{
	uint64_t v;

	if (__builtin_expect(!in_run(m), 0)) {
		if (m->mode != MEMLIB_PEEK)
			misuse(m, "mem_get64");
		return peek(m, va_of(p), 8);
	}
	/* libc_ld64's path (libc.h): the inline one, else out of line. */
	return cpu_load_fast(m->cpu, va_of(p), 8, &v) ? v : libc_load_slow(m->lc, va_of(p), 8);
}

void memlib_put64(struct memlib *m, void *p, uint64_t v)
{
	if (__builtin_expect(!in_run(m), 0))
		misuse(m, "mem_put64");
	if (!cpu_store_fast(m->cpu, va_of(p), 8, v))
		libc_store_slow(m->lc, va_of(p), 8, v);
}

uint64_t memlib_get(struct memlib *m, const void *p, unsigned size)
{
	uint64_t v;

	if (size != 1 && size != 2 && size != 4 && size != 8)
		size = 8;
	if (__builtin_expect(!in_run(m), 0)) {
		if (m->mode != MEMLIB_PEEK)
			misuse(m, "mem_get");
		return peek(m, va_of(p), size);
	}
	return cpu_load_fast(m->cpu, va_of(p), size, &v) ? v
	                                                 : libc_load_slow(m->lc, va_of(p), size);
}

void memlib_put(struct memlib *m, void *p, unsigned size, uint64_t v)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		size = 8;
	if (__builtin_expect(!in_run(m), 0))
		misuse(m, "mem_put");
	if (!cpu_store_fast(m->cpu, va_of(p), size, v))
		libc_store_slow(m->lc, va_of(p), size, v);
}

void memlib_memset(struct memlib *m, void *p, int c, size_t n)
{
	if (!in_run(m))
		misuse(m, "mem_memset");
	libc_memset(m->lc, va_of(p), (uint8_t)c, n);
}

void memlib_memcpy(struct memlib *m, void *dst, const void *src, size_t n)
{
	if (!in_run(m))
		misuse(m, "mem_memcpy");
	libc_memcpy(m->lc, va_of(dst), va_of(src), n);
}

void memlib_read(struct memlib *m, void *host_dst, const void *src, size_t n)
{
	if (m->mode == MEMLIB_PEEK) {
		char why[160];

		if (m->peek_left < n / 8 + 1) {
			snprintf(why, sizeof(why), "%s read too much: an endless walk?", m->call);
			memlib_side_abort(m, why);
		}
		m->peek_left -= n / 8 + 1;
		if (!libc_peek_cached(m->lc, &m->peek_cache, va_of(src), host_dst, n)) {
			snprintf(why, sizeof(why), "%s read [%#llx, +%zu), which is not mapped",
			         m->call, (unsigned long long)va_of(src), n);
			memlib_side_abort(m, why);
		}
		return;
	}
	if (!in_run(m))
		misuse(m, "mem_read");
	libc_read(m->lc, host_dst, va_of(src), n);
}

void memlib_write(struct memlib *m, void *dst, const void *host_src, size_t n)
{
	if (!in_run(m))
		misuse(m, "mem_write");
	libc_write(m->lc, va_of(dst), host_src, n);
}

void *memlib_sbrk(struct memlib *m, intptr_t incr)
{
	if (!in_run(m))
		misuse(m, "mem_sbrk");
	return ptr_of(libc_sbrk(m->lc, incr));
}

/* The heap's bounds as the program knows them: the first break it learned
   (glibc learns it at start-up with brk(0); a plugin that has not called
   mem_sbrk yet learns it here, with the same system call). */
static void learn_break(struct memlib *m)
{
	if (!libc_start_brk(m->lc))
		libc_sbrk(m->lc, 0);
}

void *memlib_heap_lo(struct memlib *m)
{
	if (m->mode == MEMLIB_IDLE)
		misuse(m, "mem_heap_lo");
	if (in_run(m))
		learn_break(m);
	return ptr_of(libc_start_brk(m->lc));
}

void *memlib_heap_hi(struct memlib *m)
{
	if (m->mode == MEMLIB_IDLE)
		misuse(m, "mem_heap_hi");
	if (in_run(m))
		learn_break(m);
	return ptr_of(libc_curbrk(m->lc) - 1);
}

void *memlib_bss(struct memlib *m, size_t n)
{
	struct libc *lc = m->lc;
	uint64_t sz = (n + 15) & ~(uint64_t)15;

	if (!in_run(m))
		misuse(m, "mem_bss");
	/* The image is the tool's: running out is the plugin's finding here,
	   not a panic as for a built-in policy. */
	if (sz < n || sz > lc->static_end - lc->static_next)
		return NULL;
	return ptr_of(libc_static_alloc(lc, n));
}

void *memlib_mmap(struct memlib *m, void *addr, size_t len, int prot, int flags)
{
	if (!in_run(m))
		misuse(m, "mem_mmap");
	return ptr_of(libc_mmap(m->lc, va_of(addr), len, prot, flags));
}

int memlib_munmap(struct memlib *m, void *addr, size_t len)
{
	if (!in_run(m))
		misuse(m, "mem_munmap");
	return libc_munmap(m->lc, va_of(addr), len);
}
