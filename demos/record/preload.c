/*
 * preload.c - librecord.so, the LD_PRELOAD library of `aftermalloc record`:
 * logs every malloc, calloc, realloc, free, posix_memalign, aligned_alloc,
 * memalign, valloc, pvalloc and reallocarray of a real program, with the
 * block each returned, into the raw log of demos/record/record_log.h.
 *
 * How it stays out of the way:
 * - no allocation inside a hook: the real calls are glibc's own entry points
 *   (__libc_malloc ...: no dlsym, which allocates), the log is a file
 *   mapped with mmap, paths are formatted by hand;
 * - thread safe: one mutex around the real call and its record, so the
 *   records' order is the order in which blocks changed hands (a free before
 *   the malloc that gets the same address back, in any thread); a thread
 *   that re-enters (a signal handler that allocates) goes straight to glibc.
 *   The mutex is taken only once the process has threads: until its first
 *   pthread_create (glibc's __libc_single_threaded, which never turns true
 *   again) no other thread can be inside a hook, and the lock was the
 *   largest part of a call's cost;
 * - fork safe: pthread_atfork takes the lock across fork; the child drops
 *   the parent's mapping and starts a log of its own (DIR/PID.raw);
 * - crash safe: the header and the ring the records go into are mapped
 *   MAP_SHARED, each record is in the file once stored; nothing needs
 *   flushing at exit (record_log.h);
 * - errno: the program sees the real call's errno, never the log's.
 *
 * It also measures what the recorded trace is checked against: glibc's own
 * count of the heap, mallinfo2() arena + hblkhd, whose peak it keeps in the
 * log's header. The footprint only changes when a call moves the break or
 * maps or unmaps a chunk, so mallinfo2 (a walk of the bins, too slow for
 * every call) runs only then: after a call if the break moved, or if the
 * call returned a chunk with IS_MMAPPED set or freed or reallocated one that
 * had it (read in the chunk's header, glibc 2.36's chunk layout, before the
 * real call: glibc's free and realloc read that same word first, so the
 * library reads nothing they would not). Exact for the main arena; glibc's
 * other arenas (threads) grow without moving the break: for them it samples
 * every 4096 calls as well.
 *
 * A call's own cost is kept small (docs/performance.md, record): no lock
 * while single-threaded, the record stored into the ring's pages that are
 * already there, the break read from glibc's variable; a flush, the first
 * call of a thread and a sample are out of line.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "record_log.h"

#define EXPORT __attribute__((visibility("default")))

/* glibc 2.36's own entry points (the symbols the public names alias). */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);
/* The break as glibc's sbrk keeps it (misc/sbrk.c: sbrk(0) returns it once
   set): read directly, not through a call per hook. */
extern void *__curbrk;

#define IS_MMAPPED 0x2 /* chunk size bit (malloc/malloc.c) */

enum { OFF = -1, UNSET = 0, ON = 1 };

static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
	int state; /* UNSET until the first call, then ON or OFF */
	int fd;
	struct amrec_header *hdr;  /* the header page and the ring after it, mapped */
	struct amrec_record *ring; /* AMREC_RING records: those from flushed on */
	uint64_t n;                /* records written */
	uint64_t flushed;          /* records written to the file after the ring */
	bool full;                 /* the file could not take the ring: no more records */
	void *brk;                 /* the break at the last sample */
} R = {.fd = -1};

/* 0 outside the hooks; inside, IN_HOOK, or LOCKED when it took rec_lock. */
enum { IN_HOOK = 1, LOCKED = 2 };
static __thread int in_hook __attribute__((tls_model("initial-exec")));
static __thread uint32_t my_tid __attribute__((tls_model("initial-exec")));

/* ---- the log ------------------------------------------------------------------ */

/* dst = dir "/" pid ".raw", without snprintf (which may allocate). */
static bool log_path(char *dst, size_t n, const char *dir, long pid)
{
	char num[24];
	size_t d = strlen(dir), k = 0, i = sizeof(num);

	do {
		num[--i] = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid && i);
	k = sizeof(num) - i;
	if (d + 1 + k + 5 > n)
		return false;
	memcpy(dst, dir, d);
	dst[d] = '/';
	memcpy(dst + d + 1, num + i, k);
	memcpy(dst + d + 1 + k, ".raw", 5);
	return true;
}

/* The ring is full: its records go to the file after those flushed before,
   then `flushed` says so, and only then may the ring be written over (a
   crash in between leaves them in the ring, record_log.h). False when the
   file cannot take them (disk full): the ring keeps its records, and this
   call and every later one are lost (counted in `truncated`). */
static bool ring_flush(void)
{
	const char *p = (const char *)R.ring;
	size_t left = AMREC_RING * sizeof(struct amrec_record);
	off_t off = (off_t)(AMREC_SPILL + R.flushed * sizeof(struct amrec_record));

	while (left) {
		ssize_t w = pwrite(R.fd, p, left, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		left -= (size_t)w;
		off += w;
	}
	R.flushed += AMREC_RING;
	__atomic_store_n(&R.hdr->flushed, R.flushed, __ATOMIC_RELEASE);
	return true;
}

/* Open DIR/PID.raw (truncating what an earlier image of this pid left).
   Under rec_lock. */
static void log_open(void)
{
	const char *dir = getenv(AMREC_ENV_DIR);
	char path[4096];
	void *m;

	R.state = OFF;
	if (!dir || !*dir || !log_path(path, sizeof(path), dir, (long)getpid()))
		return;
	R.fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (R.fd < 0)
		return;
	m = ftruncate(R.fd, AMREC_SPILL) < 0
	        ? MAP_FAILED
	        : mmap(NULL, AMREC_SPILL, PROT_READ | PROT_WRITE, MAP_SHARED, R.fd, 0);
	if (m == MAP_FAILED) {
		close(R.fd);
		R.fd = -1;
		return;
	}
	R.hdr = m;
	R.ring = (struct amrec_record *)((char *)m + AMREC_HEADER);
	memcpy(R.hdr->magic, AMREC_MAGIC, sizeof(R.hdr->magic));
	R.hdr->version = AMREC_VERSION;
	R.hdr->record_size = sizeof(struct amrec_record);
	R.hdr->pid = (int32_t)getpid();
	R.n = R.flushed = 0;
	R.full = false;
	R.brk = sbrk(0);
	/* The heap this process starts the log with: none for a program
	   starting, the parent's for a child of fork (its own from now on). */
	{
		struct mallinfo2 mi = mallinfo2();

		R.hdr->samples = 1;
		R.hdr->last_footprint = R.hdr->peak_footprint = mi.arena + mi.hblkhd;
		R.hdr->peak_arena = mi.arena;
		R.hdr->peak_hblkhd = mi.hblkhd;
	}
	R.state = ON;
}

/* ---- one call ------------------------------------------------------------------ */

/* mem's chunk was mmapped (mem not NULL, a block of glibc's). */
static bool chunk_is_mmapped(const void *mem)
{
	return (((const size_t *)mem)[-1] & IS_MMAPPED) != 0;
}

static void unlock(void)
{
	if (in_hook == LOCKED)
		pthread_mutex_unlock(&rec_lock);
	in_hook = 0;
}

/* Enter a hook: false when it must go straight to glibc (off, or re-entered). */
static inline __attribute__((always_inline)) bool enter(void)
{
	if (in_hook) {
		/* atomic: a signal may come before the thread has rec_lock */
		if (R.state == ON && R.hdr)
			__atomic_fetch_add(&R.hdr->reentered, 1, __ATOMIC_RELAXED);
		return false;
	}
	if (R.state == OFF)
		return false;
	/* Single-threaded, only this thread can be here: a thread is created
	   (and the flag cleared) outside any hook, never inside one. */
	if (__libc_single_threaded) {
		in_hook = IN_HOOK;
	} else {
		in_hook = LOCKED;
		pthread_mutex_lock(&rec_lock);
	}
	if (R.state == UNSET)
		log_open();
	if (R.state != ON) {
		unlock();
		return false;
	}
	return true;
}

/* Where the next record goes when leave's fast path cannot tell: the
   thread's first call (its id), a full ring (flushed first), a log that can
   take no more (NULL: the call is counted lost). */
static __attribute__((noinline)) struct amrec_record *slot_slow(void)
{
	int saved = errno;

	if (!my_tid)
		my_tid = (uint32_t)syscall(SYS_gettid);
	if (!R.full && R.n - R.flushed == AMREC_RING && !ring_flush())
		R.full = true;
	errno = saved;
	if (R.full) {
		R.hdr->truncated++; /* the log cannot grow: this and later calls are lost */
		return NULL;
	}
	return &R.ring[R.n - R.flushed];
}

/* The footprint may have changed: mallinfo2, the peak kept. brk: the break now. */
static __attribute__((noinline)) void sample(void *brk)
{
	int saved = errno;
	struct mallinfo2 mi = mallinfo2();
	uint64_t fp = mi.arena + mi.hblkhd;

	R.brk = brk;
	R.hdr->samples++;
	R.hdr->last_footprint = fp;
	if (fp > R.hdr->peak_footprint) {
		R.hdr->peak_footprint = fp;
		R.hdr->peak_arena = mi.arena;
		R.hdr->peak_hblkhd = mi.hblkhd;
	}
	errno = saved;
}

/* Record the call, sample the footprint if it may have changed, leave.
   mm_before: the call freed or reallocated a chunk that was mmapped. Only
   the slow paths may touch errno, and they put it back: the program sees
   the real call's. */
static inline __attribute__((always_inline)) void leave(int op, const void *ptr, uint64_t a,
                                                        uint64_t b, bool mm_before)
{
	struct amrec_record *r = &R.ring[R.n - R.flushed];
	void *brk = __curbrk;

	if (__builtin_expect(R.n - R.flushed == AMREC_RING || R.full || !my_tid, 0))
		r = slot_slow();
	if (r) {
		r->ptr = (uint64_t)(uintptr_t)ptr;
		r->a = a;
		r->b = b;
		r->tid = my_tid;
		r->op = (uint8_t)op;
		R.n++;
		__atomic_store_n(&R.hdr->records, R.n, __ATOMIC_RELEASE);
	}
	/* Every 4096 calls too: glibc's other arenas (threads) grow without
	   moving the break; there the peak is a sampled one. */
	if (__builtin_expect(mm_before || (ptr && op != AMREC_FREE && chunk_is_mmapped(ptr)) ||
	                         brk != R.brk || !brk || (R.n & 4095) == 0,
	                     0))
		sample(brk ? brk : sbrk(0));
	unlock();
}

/* ---- the hooks ------------------------------------------------------------------ */

EXPORT void *malloc(size_t n)
{
	void *p;

	if (!enter())
		return __libc_malloc(n);
	p = __libc_malloc(n);
	leave(AMREC_MALLOC, p, n, 0, false);
	return p;
}

EXPORT void *calloc(size_t nmemb, size_t size)
{
	void *p;

	if (!enter())
		return __libc_calloc(nmemb, size);
	p = __libc_calloc(nmemb, size);
	leave(AMREC_CALLOC, p, nmemb, size, false);
	return p;
}

EXPORT void *realloc(void *old, size_t n)
{
	bool was;
	void *p;

	if (!enter())
		return __libc_realloc(old, n);
	was = old && chunk_is_mmapped(old);
	p = __libc_realloc(old, n);
	/* A failed realloc keeps the old block, mapped or not. */
	leave(AMREC_REALLOC, p, (uint64_t)(uintptr_t)old, n, was && (p || n == 0));
	return p;
}

EXPORT void free(void *mem)
{
	bool was;

	if (!enter()) {
		__libc_free(mem);
		return;
	}
	was = mem && chunk_is_mmapped(mem);
	__libc_free(mem);
	leave(AMREC_FREE, NULL, (uint64_t)(uintptr_t)mem, 0, was);
}

/* As glibc 2.36's __posix_memalign: EINVAL unless a power-of-two multiple of
   sizeof(void *); then the same _mid_memalign that __libc_memalign is. */
EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	bool rec = enter();
	void *p = NULL;
	int ret = 0;

	if (align % sizeof(void *) != 0 || align == 0 ||
	    ((align / sizeof(void *)) & (align / sizeof(void *) - 1)) != 0)
		ret = EINVAL;
	else if (!(p = __libc_memalign(align, n)))
		ret = ENOMEM;
	else
		*out = p;
	if (rec)
		leave(AMREC_POSIX_MEMALIGN, p, align, n, false);
	return ret;
}

/* aligned_alloc is memalign in glibc 2.36 (the same symbol). */
EXPORT void *aligned_alloc(size_t align, size_t n)
{
	void *p;

	if (!enter())
		return __libc_memalign(align, n);
	p = __libc_memalign(align, n);
	leave(AMREC_ALIGNED_ALLOC, p, align, n, false);
	return p;
}

EXPORT void *memalign(size_t align, size_t n)
{
	void *p;

	if (!enter())
		return __libc_memalign(align, n);
	p = __libc_memalign(align, n);
	leave(AMREC_MEMALIGN, p, align, n, false);
	return p;
}

EXPORT void *valloc(size_t n)
{
	void *p;

	if (!enter())
		return __libc_valloc(n);
	p = __libc_valloc(n);
	leave(AMREC_VALLOC, p, (uint64_t)sysconf(_SC_PAGESIZE), n, false);
	return p;
}

EXPORT void *pvalloc(size_t n)
{
	void *p;

	if (!enter())
		return __libc_pvalloc(n);
	p = __libc_pvalloc(n);
	leave(AMREC_PVALLOC, p, (uint64_t)sysconf(_SC_PAGESIZE), n, false);
	return p;
}

/* glibc's reallocarray calls its realloc internally, past any preload. */
EXPORT void *reallocarray(void *old, size_t nmemb, size_t size)
{
	size_t n;
	bool was;
	void *p;

	if (__builtin_mul_overflow(nmemb, size, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	if (!enter())
		return __libc_realloc(old, n);
	was = old && chunk_is_mmapped(old);
	p = __libc_realloc(old, n);
	leave(AMREC_REALLOCARRAY, p, (uint64_t)(uintptr_t)old, n, was && (p || n == 0));
	return p;
}

/* ---- fork and exit ------------------------------------------------------------ */

static void before_fork(void)
{
	pthread_mutex_lock(&rec_lock);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&rec_lock);
}

/* The child: the parent's log is not its own. Start again at its next call. */
static void after_fork_child(void)
{
	if (R.hdr)
		munmap(R.hdr, AMREC_SPILL);
	if (R.fd >= 0)
		close(R.fd);
	R.ring = NULL;
	R.hdr = NULL;
	R.fd = -1;
	if (R.state == ON)
		R.state = UNSET;
	my_tid = 0;
	pthread_mutex_init(&rec_lock, NULL);
}

__attribute__((constructor)) static void rec_init(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
	/* Open the log now, so that a program that never allocates has one. */
	pthread_mutex_lock(&rec_lock);
	if (R.state == UNSET)
		log_open();
	pthread_mutex_unlock(&rec_lock);
}

__attribute__((destructor)) static void rec_fini(void)
{
	if (R.state == ON && R.hdr)
		__atomic_store_n(&R.hdr->ended, 1, __ATOMIC_RELEASE);
}
