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
 *   that re-enters (a signal handler that allocates) goes straight to glibc;
 * - fork safe: pthread_atfork takes the lock across fork; the child drops
 *   the parent's mapping and starts a log of its own (DIR/PID.raw);
 * - crash safe: the log is MAP_SHARED, each record is in the file once
 *   stored; nothing needs flushing at exit;
 * - errno: the program sees the real call's errno, never the log's.
 *
 * It also measures what the recorded trace is checked against: glibc's own
 * count of the heap, mallinfo2() arena + hblkhd, whose peak it keeps in the
 * log's header. The footprint only changes when a call moves the break or
 * maps or unmaps a chunk, so mallinfo2 (a walk of the bins, too slow for
 * every call) runs only then: after a call if sbrk(0) moved, or if the call
 * returned a chunk with IS_MMAPPED set (read in its header, glibc 2.36's
 * chunk layout) or freed or reallocated one that had it (remembered in a
 * table of live mmapped chunks, since the header of a pointer being freed
 * may not be readable). Exact for the main arena; glibc's other arenas
 * (threads) grow without moving the break: for them it samples every 4096
 * calls as well.
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

#define IS_MMAPPED 0x2 /* chunk size bit (malloc/malloc.c) */
#define MMAP_SLOTS (1u << 16)
#define SLOT_EMPTY ((uintptr_t)0)
#define SLOT_GONE  ((uintptr_t)1)

enum { OFF = -1, UNSET = 0, ON = 1 };

static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
	int state; /* UNSET until the first call, then ON or OFF */
	int fd;
	struct amrec_header *hdr;     /* the header page, mapped */
	struct amrec_record *chunk;   /* the mapped chunk records go into */
	uint64_t chunk_first;         /* index of chunk[0] */
	uint64_t n;                   /* records written */
	void *brk;                    /* sbrk(0) at the last sample */
	uintptr_t *mmapped;           /* open addressing: live mmapped chunks' pointers */
	unsigned nr_mmapped, nr_used; /* live entries; live + tombstones */
} R = {.fd = -1};

static __thread int in_hook __attribute__((tls_model("initial-exec")));
static __thread uint32_t my_tid __attribute__((tls_model("initial-exec")));

static const unsigned chunk_records = AMREC_CHUNK / sizeof(struct amrec_record);

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

/* Map the chunk starting at record index first (the file grown to hold it). */
static bool map_chunk(uint64_t first)
{
	off_t off = (off_t)(AMREC_HEADER + first * sizeof(struct amrec_record));
	void *m;

	if (ftruncate(R.fd, off + (off_t)AMREC_CHUNK) < 0)
		return false;
	m = mmap(NULL, AMREC_CHUNK, PROT_READ | PROT_WRITE, MAP_SHARED, R.fd, off);
	if (m == MAP_FAILED)
		return false;
	if (R.chunk)
		munmap(R.chunk, AMREC_CHUNK);
	R.chunk = m;
	R.chunk_first = first;
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
	m = mmap(NULL, AMREC_HEADER, PROT_READ | PROT_WRITE, MAP_SHARED, R.fd, 0);
	/* A child of fork keeps the table it inherited: its live chunks are
	   the parent's. */
	if (!R.mmapped) {
		void *t = mmap(NULL, MMAP_SLOTS * sizeof(uintptr_t), PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		R.mmapped = t == MAP_FAILED ? NULL : t;
		R.nr_mmapped = R.nr_used = 0;
	}
	if (m == MAP_FAILED || !R.mmapped || !map_chunk(0)) {
		if (m != MAP_FAILED)
			munmap(m, AMREC_HEADER);
		close(R.fd);
		R.fd = -1;
		return;
	}
	R.hdr = m;
	memcpy(R.hdr->magic, AMREC_MAGIC, sizeof(R.hdr->magic));
	R.hdr->version = AMREC_VERSION;
	R.hdr->record_size = sizeof(struct amrec_record);
	R.hdr->pid = (int32_t)getpid();
	R.n = 0;
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

/* ---- the table of live mmapped chunks ----------------------------------------- */

static unsigned slot_of(uintptr_t p)
{
	return (unsigned)((p >> 4) * 0x9E3779B97F4A7C15ull >> 48) & (MMAP_SLOTS - 1);
}

/* Remember p (when the table is too full, count it lost: then every free
   samples). */
static void mmapped_add(uintptr_t p)
{
	unsigned i = slot_of(p);

	if (R.nr_used >= MMAP_SLOTS / 4 * 3) {
		R.hdr->mmapped_lost++;
		return;
	}
	while (R.mmapped[i] != SLOT_EMPTY && R.mmapped[i] != SLOT_GONE)
		i = (i + 1) & (MMAP_SLOTS - 1);
	if (R.mmapped[i] == SLOT_EMPTY)
		R.nr_used++;
	R.mmapped[i] = p;
	R.nr_mmapped++;
}

/* Was p a live mmapped chunk? It is forgotten. */
static bool mmapped_take(uintptr_t p)
{
	unsigned i = slot_of(p);

	if (!p)
		return false;
	while (R.mmapped[i] != SLOT_EMPTY) {
		if (R.mmapped[i] == p) {
			R.mmapped[i] = SLOT_GONE;
			R.nr_mmapped--;
			return true;
		}
		i = (i + 1) & (MMAP_SLOTS - 1);
	}
	return R.hdr->mmapped_lost > 0; /* may be one the table had no room for */
}

static bool chunk_is_mmapped(const void *mem)
{
	return (((const size_t *)mem)[-1] & IS_MMAPPED) != 0;
}

/* ---- one call ------------------------------------------------------------------ */

/* Enter a hook: false when it must go straight to glibc (off, or re-entered). */
static bool enter(void)
{
	if (in_hook) {
		/* atomic: a signal may come before the thread has rec_lock */
		if (R.state == ON && R.hdr)
			__atomic_fetch_add(&R.hdr->reentered, 1, __ATOMIC_RELAXED);
		return false;
	}
	if (R.state == OFF)
		return false;
	in_hook = 1;
	pthread_mutex_lock(&rec_lock);
	if (R.state == UNSET)
		log_open();
	if (R.state != ON) {
		pthread_mutex_unlock(&rec_lock);
		in_hook = 0;
		return false;
	}
	return true;
}

/* Record the call, sample the footprint if it may have changed, leave.
   mm_before: the call freed or reallocated a chunk that was mmapped. */
static void leave(int op, const void *ptr, uint64_t a, uint64_t b, bool mm_before)
{
	int saved = errno;
	bool sample = mm_before;

	if (R.n - R.chunk_first == chunk_records && !map_chunk(R.n)) {
		R.hdr->truncated++; /* the log cannot grow: this and later calls are lost */
	} else {
		struct amrec_record *r = &R.chunk[R.n - R.chunk_first];

		if (!my_tid)
			my_tid = (uint32_t)syscall(SYS_gettid);
		r->ptr = (uint64_t)(uintptr_t)ptr;
		r->a = a;
		r->b = b;
		r->tid = my_tid;
		__atomic_store_n(&r->op, (uint8_t)op, __ATOMIC_RELEASE);
		R.n++;
		__atomic_store_n(&R.hdr->records, R.n, __ATOMIC_RELEASE);
	}
	if (ptr && op != AMREC_FREE && chunk_is_mmapped(ptr)) {
		mmapped_add((uintptr_t)ptr);
		sample = true;
	}
	/* Every 4096 calls too: glibc's other arenas (threads) grow without
	   moving the break; there the peak is a sampled one. */
	if (sample || sbrk(0) != R.brk || (R.n & 4095) == 0) {
		struct mallinfo2 mi = mallinfo2();
		uint64_t fp = mi.arena + mi.hblkhd;

		R.brk = sbrk(0);
		R.hdr->samples++;
		R.hdr->last_footprint = fp;
		if (fp > R.hdr->peak_footprint) {
			R.hdr->peak_footprint = fp;
			R.hdr->peak_arena = mi.arena;
			R.hdr->peak_hblkhd = mi.hblkhd;
		}
	}
	pthread_mutex_unlock(&rec_lock);
	in_hook = 0;
	errno = saved;
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
	p = __libc_realloc(old, n);
	/* A failed realloc keeps the old block, mapped or not. */
	was = (p || n == 0) && mmapped_take((uintptr_t)old);
	leave(AMREC_REALLOC, p, (uint64_t)(uintptr_t)old, n, was);
	return p;
}

EXPORT void free(void *mem)
{
	bool was;

	if (!enter()) {
		__libc_free(mem);
		return;
	}
	was = mmapped_take((uintptr_t)mem);
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
	p = __libc_realloc(old, n);
	was = (p || n == 0) && mmapped_take((uintptr_t)old);
	leave(AMREC_REALLOCARRAY, p, (uint64_t)(uintptr_t)old, n, was);
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
	if (R.chunk)
		munmap(R.chunk, AMREC_CHUNK);
	if (R.hdr)
		munmap(R.hdr, AMREC_HEADER);
	if (R.fd >= 0)
		close(R.fd);
	R.chunk = NULL;
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
