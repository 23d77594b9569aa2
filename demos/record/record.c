/*
 * record.c - `aftermalloc record [-o FILE.rep] -- CMD ARGS...`: run a real
 * program with librecord.so preloaded (demos/record/preload.c) and turn the
 * log of its allocator calls into a trace that `replay` reads.
 *
 * The program runs as a child with its own stdin, stdout and stderr; record
 * speaks on stderr only. Signals sent to record (kill, a timeout) are passed
 * on to the program; those the terminal sends reach both already. Record
 * ends with the program's exit status (128 + N when signal N killed it), after
 * writing the trace of every call the program made, also when it crashed or
 * was stopped: the log is in the file as it goes (record_log.h).
 *
 * Log to trace: each allocation gets an id (the one freed last, so there
 * are no more ids than blocks live at once), kept in a table from address
 * to id; a free or realloc names the id
 * of its address. What a trace cannot say is counted and left out: failed
 * calls (NULL), free(NULL), frees and reallocs of blocks allocated before
 * the library was in place or behind its back. realloc(p, 0), which frees in
 * glibc 2.36, is written `f ID`. The header's first field, the heap size the
 * CS:APP drivers ignore, is the program's peak footprint as glibc counted it
 * (mallinfo2 arena + hblkhd): what a replay through the glibc policy must
 * find again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The table from addresses to ids sees every call of a program: a
   multiplicative hash of the address (blocks are 16-byte aligned) instead of
   uthash's default, which is made for strings. */
#define HASH_FUNCTION(keyptr, keylen, hashv)                                                       \
	((hashv) = (unsigned)((*(const uint64_t *)(keyptr) >> 4) * 0x9E3779B97F4A7C15ull >> 32))
#include "../../vm/uthash_host.h"

#include "../cli/commands.h"
#include "../cli/output.h"
#include "../cli/trace.h"
#include "record_log.h"

#define RECORD_LIB "librecord.so"
/* --timeout at most a year (alarm's seconds are unsigned). */
#define RECORD_MAX_TIMEOUT (86400u * 365)

struct record_opts {
	const char *out;  /* -o */
	bool plain;       /* --plain: pure a/r/f */
	bool children;    /* --children: a trace for every other process too */
	bool quiet;       /* -q */
	unsigned timeout; /* --timeout SECS, 0: none */
	char **cmd;       /* CMD ARGS..., NULL-terminated */
};

/* What the conversion met, for the summary. */
struct conv_stats {
	uint64_t calls[AMREC__COUNT];
	uint64_t failed, free_null, unknown_free, unknown_realloc, realloc_zero;
	uint64_t ops, ids;
	uint64_t threads; /* distinct threads that called */
};

/* ---- the library ----------------------------------------------------------------- */

/*
 * librecord.so beside the binary: in build/ (build/aftermalloc,
 * build/lib/aftermalloc/), or installed (PREFIX/bin/aftermalloc,
 * PREFIX/lib/aftermalloc/). $AM_RECORD_LIB overrides both. 0 and path, or -1.
 */
static int find_library(char *path, size_t n)
{
	const char *env = getenv("AM_RECORD_LIB");
	static const char *const rel[] = {"lib/aftermalloc/" RECORD_LIB,
	                                  "../lib/aftermalloc/" RECORD_LIB};
	char exe[PATH_MAX];
	ssize_t len;
	char *slash;

	if (env && *env) {
		if (!realpath(env, path) || access(path, R_OK) != 0)
			return -1;
		return 0;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return -1;
	exe[len] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	slash[1] = 0;
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char cand[PATH_MAX + 64];

		snprintf(cand, sizeof(cand), "%s%s", exe, rel[i]);
		if (realpath(cand, path) && strlen(path) < n && access(path, R_OK) == 0)
			return 0;
	}
	return -1;
}

/* ---- log to trace ------------------------------------------------------------------ */

struct live {
	uint64_t addr;
	int32_t id;
	UT_hash_handle hh;
};

/* A thread seen in the log (the key is 64-bit: the table's hash reads 8 bytes). */
struct tid_seen {
	uint64_t tid;
	UT_hash_handle hh;
};

/* The conversion of one log. The trace's lines are written as the records
   are read, into text (its header, which counts them, goes before them once
   all are read): 10 to 20 bytes an operation, no array of struct trace_op. */
struct conv {
	char *text; /* the trace's operations, one a line */
	size_t len, cap_text;
	uint64_t nr_ops;
	bool extended;         /* a c or m line (the extensions) */
	struct tid_seen *tids; /* uthash by tid */
	uint64_t last_tid;     /* the thread of the record before (most calls follow one) */
	struct live *live;     /* uthash by addr */
	struct live *spare;    /* entries to reuse (linked through hh.next) */
	int32_t *free_ids;     /* a stack of ids to reuse */
	size_t nr_free, cap_free;
	int32_t next_id;
	struct conv_stats *st;
	const struct record_opts *o;
};

/* The op's line, after the others (trace_op_line: as trace_write writes it). */
static int conv_push(struct conv *c, char kind, int32_t id, uint64_t size, uint64_t arg)
{
	const struct trace_op op = {.kind = kind, .id = id, .size = size, .arg = arg};

	if (c->cap_text - c->len < TRACE_LINE_MAX) {
		size_t cap = c->cap_text ? 2 * c->cap_text : 1u << 16;
		char *n = realloc(c->text, cap);

		if (!n)
			return -1;
		c->text = n;
		c->cap_text = cap;
	}
	c->len += trace_op_line(c->text + c->len, &op, c->o->plain);
	c->nr_ops++;
	c->extended |= kind == TOP_CALLOC || kind == TOP_MEMALIGN;
	return 0;
}

/* The id of the live block at addr, forgotten and free for reuse; -1 when
   none, -2 when out of host memory. */
static int32_t conv_release(struct conv *c, uint64_t addr)
{
	struct live *l;
	int32_t id;

	HASH_FIND(hh, c->live, &addr, sizeof(addr), l);
	if (!l)
		return -1;
	if (c->nr_free == c->cap_free) {
		size_t cap = c->cap_free ? 2 * c->cap_free : 256;
		int32_t *n = realloc(c->free_ids, cap * sizeof(*n));

		if (!n)
			return -2;
		c->free_ids = n;
		c->cap_free = cap;
	}
	id = l->id;
	HASH_DEL(c->live, l);
	l->hh.next = c->spare;
	c->spare = l;
	c->free_ids[c->nr_free++] = id;
	return id;
}

/* A new block at addr: the id it gets (the one freed last, so that there
   are no more ids than blocks ever live at once), or -1 (out of host memory
   or ids). */
static int32_t conv_alloc(struct conv *c, uint64_t addr)
{
	struct live *l;
	int32_t id;

	/* Already live: freed behind the hooks (by glibc itself, or a path the
	   library does not see). The trace frees it where it learns it. */
	id = conv_release(c, addr);
	if (id == -2 || (id >= 0 && conv_push(c, TOP_FREE, id, 0, 0) < 0))
		return -1;
	if (id >= 0)
		c->st->unknown_free++;
	if (c->nr_free) {
		id = c->free_ids[--c->nr_free];
	} else {
		if (c->next_id == (int32_t)TRACE_MAX_IDS)
			return -1;
		id = c->next_id++;
	}
	if (c->spare) {
		l = c->spare;
		c->spare = l->hh.next;
	} else if (!(l = malloc(sizeof(*l)))) {
		return -1;
	}
	l->addr = addr;
	l->id = id;
	HASH_ADD(hh, c->live, addr, sizeof(l->addr), l);
	return id;
}

/* Count r's thread once. -1 when out of host memory. */
static int conv_thread(struct conv *c, uint64_t tid)
{
	struct tid_seen *ts;

	if (tid == c->last_tid)
		return 0;
	c->last_tid = tid;
	HASH_FIND(hh, c->tids, &tid, sizeof(tid), ts);
	if (ts)
		return 0;
	if (!(ts = malloc(sizeof(*ts))))
		return -1;
	ts->tid = tid;
	HASH_ADD(hh, c->tids, tid, sizeof(ts->tid), ts);
	c->st->threads++;
	return 0;
}

static int conv_record(struct conv *c, const struct amrec_record *r)
{
	struct conv_stats *st = c->st;
	int32_t id;

	st->calls[r->op]++;
	if (conv_thread(c, r->tid) < 0)
		return -1;
	switch (r->op) {
	case AMREC_FREE:
		if (!r->a) {
			st->free_null++;
			return 0;
		}
		id = conv_release(c, r->a);
		if (id == -2)
			return -1;
		if (id < 0) {
			st->unknown_free++;
			return 0;
		}
		return conv_push(c, TOP_FREE, id, 0, 0);
	case AMREC_REALLOC:
	case AMREC_REALLOCARRAY:
		if (r->a && !r->ptr && r->b != 0) {
			st->failed++; /* the old block stays */
			return 0;
		}
		if (r->a) {
			struct live *l;

			HASH_FIND(hh, c->live, &r->a, sizeof(r->a), l);
			if (!l) {
				st->unknown_realloc++;
			} else if (r->b == 0) {
				/* glibc 2.36: realloc(p, 0) frees p, returns NULL */
				st->realloc_zero++;
				id = conv_release(c, r->a);
				return id < 0 ? -1 : conv_push(c, TOP_FREE, id, 0, 0);
			} else {
				id = l->id;
				HASH_DEL(c->live, l);
				if (r->ptr != r->a) {
					/* freed behind the hooks: see conv_alloc */
					int32_t old = conv_release(c, r->ptr);

					if (old == -2 ||
					    (old >= 0 && conv_push(c, TOP_FREE, old, 0, 0) < 0))
						return -1;
					if (old >= 0)
						st->unknown_free++;
				}
				l->addr = r->ptr;
				HASH_ADD(hh, c->live, addr, sizeof(l->addr), l);
				return conv_push(c, TOP_REALLOC, id, r->b, 0);
			}
		}
		if (!r->ptr) {
			if (r->b)
				st->failed++;
			return 0;
		}
		id = conv_alloc(c, r->ptr);
		return id < 0 ? -1 : conv_push(c, TOP_ALLOC, id, r->b, 0);
	case AMREC_MALLOC:
	case AMREC_CALLOC:
	case AMREC_POSIX_MEMALIGN:
	case AMREC_ALIGNED_ALLOC:
	case AMREC_MEMALIGN:
	case AMREC_VALLOC:
	case AMREC_PVALLOC:
		if (!r->ptr) {
			st->failed++;
			return 0;
		}
		id = conv_alloc(c, r->ptr);
		if (id < 0)
			return -1;
		if (r->op == AMREC_MALLOC)
			return conv_push(c, TOP_ALLOC, id, r->a, 0);
		if (r->op == AMREC_CALLOC)
			return conv_push(c, TOP_CALLOC, id, r->b, r->a);
		{
			/* memalign's alignment as glibc rounds it: a power of two,
			   at least 16 (pvalloc: the size in whole pages). */
			uint64_t align = r->a < 16 ? 16 : r->a, size = r->b;

			while (align & (align - 1))
				align += align & -align;
			if (r->op == AMREC_PVALLOC)
				size = (size + r->a - 1) / r->a * r->a;
			return conv_push(c, TOP_MEMALIGN, id, size, align);
		}
	default:
		return 0; /* an op of a later version of the library: skipped */
	}
}

/* The records flushed after the ring are read a window at a time. */
#define CONV_WINDOW (16u << 20)

/* The n records flushed to the file after the ring, converted. Each window
   is mapped with MAP_POPULATE: one call maps its pages (they are in the page
   cache, the program has just written them), no fault a page and no copy
   (pread's copy was an eighth of record's time). -1 after a message. */
static int conv_flushed(struct conv *c, const char *path, int fd, uint64_t n)
{
	const size_t per_window = CONV_WINDOW / sizeof(struct amrec_record);
	off_t off = AMREC_SPILL;
	struct stat sb;

	if (fstat(fd, &sb) < 0 ||
	    (uint64_t)sb.st_size < AMREC_SPILL + n * sizeof(struct amrec_record))
		return cmd_error("record", "%s: shorter than its header says", path), -1;
	while (n) {
		size_t k = n < per_window ? (size_t)n : per_window,
		       len = k * sizeof(struct amrec_record);
		const struct amrec_record *r =
		    mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, off);
		int rc = 0;

		if (r == MAP_FAILED)
			return cmd_error("record", "%s: %s", path, strerror(errno)), -1;
		for (size_t i = 0; i < k && !rc; i++)
			if (r[i].op < AMREC__COUNT && conv_record(c, &r[i]) < 0)
				rc = cmd_error("record", "out of memory converting %s", path);
		munmap((void *)r, len);
		if (rc)
			return -1;
		off += (off_t)len;
		n -= k;
	}
	return 0;
}

/* Convert the log at path (record_log.h) into c: the records flushed to the
   file after the ring, then those in the ring. *hdr: its header. 0, or -1
   after a message. */
static int convert(const char *path, struct conv *c, struct amrec_header *hdr)
{
	const struct amrec_header *h;
	struct amrec_record *ring = NULL;
	uint64_t flushed, records, in_ring;
	struct stat sb;
	void *m;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	memset(c->st, 0, sizeof(*c->st));
	if (fd < 0 || fstat(fd, &sb) < 0 || (size_t)sb.st_size < AMREC_HEADER) {
		cmd_error("record", "%s: %s", path,
		          fd < 0 ? strerror(errno) : "not a log (too short)");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	m = mmap(NULL, AMREC_HEADER, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		cmd_error("record", "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	h = m;
	if (memcmp(h->magic, AMREC_MAGIC, sizeof(h->magic)) != 0 ||
	    h->record_size != sizeof(struct amrec_record)) {
		cmd_error("record", "%s: not a log of this version of librecord.so", path);
		goto out;
	}
	if ((size_t)sb.st_size < AMREC_SPILL) {
		cmd_error("record", "%s: not a log (too short)", path);
		goto out;
	}
	ring = malloc(AMREC_RING * sizeof(*ring));
	if (!ring) {
		cmd_error("record", "out of memory");
		goto out;
	}
	/* A process may still be writing its log (a child that outlived the
	   program): the ring is taken with the count of flushed records it goes
	   with, again if a flush came in between (the writer raises `flushed`
	   before it writes over the ring). */
	for (;;) {
		flushed = __atomic_load_n(&h->flushed, __ATOMIC_ACQUIRE);
		records = __atomic_load_n(&h->records, __ATOMIC_ACQUIRE);
		in_ring = records < flushed ? 0 : records - flushed;
		if (in_ring > AMREC_RING)
			in_ring = AMREC_RING;
		if (pread(fd, ring, in_ring * sizeof(*ring), AMREC_HEADER) !=
		    (ssize_t)(in_ring * sizeof(*ring))) {
			cmd_error("record", "%s: %s", path, "cannot read its ring");
			goto out;
		}
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&h->flushed, __ATOMIC_ACQUIRE) == flushed)
			break;
	}
	*hdr = *h;
	hdr->flushed = flushed;
	hdr->records = flushed + in_ring;
	if (conv_flushed(c, path, fd, flushed) < 0)
		goto out;
	for (uint64_t i = 0; i < in_ring; i++)
		if (ring[i].op < AMREC__COUNT && conv_record(c, &ring[i]) < 0) {
			cmd_error("record", "out of memory converting %s", path);
			goto out;
		}
	c->st->ops = c->nr_ops;
	c->st->ids = (uint64_t)c->next_id;
	rc = 0;
out:
	free(ring);
	munmap(m, AMREC_HEADER);
	close(fd);
	return rc;
}

/* What convert kept, freed (its text stays). */
static void conv_release_tables(struct conv *c)
{
	struct live *l, *tmp;
	struct tid_seen *ts, *tt;

	HASH_ITER(hh, c->live, l, tmp)
	{
		HASH_DEL(c->live, l);
		free(l);
	}
	HASH_ITER(hh, c->tids, ts, tt)
	{
		HASH_DEL(c->tids, ts);
		free(ts);
	}
	while (c->spare) {
		l = c->spare;
		c->spare = l->hh.next;
		free(l);
	}
	free(c->free_ids);
}

/* ---- running the program ------------------------------------------------------------ */

static volatile sig_atomic_t child_pid, timed_out;

/* A signal for record goes to the program too, unless the terminal sent it
   (SI_KERNEL): then the program, in the same process group, has it already. */
static void forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (child_pid > 0 && si->si_code != SI_KERNEL)
		kill(child_pid, sig);
}

/* --timeout: SIGTERM first, SIGKILL two seconds later. */
static void on_alarm(int sig)
{
	(void)sig;
	if (child_pid <= 0)
		return;
	kill(child_pid, timed_out ? SIGKILL : SIGTERM);
	timed_out = 1;
	alarm(2);
}

static const int forwarded[] = {SIGINT,  SIGTERM, SIGHUP,   SIGQUIT,
                                SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM};

/* SIGALRM is passed on too, unless --timeout uses it. */
static void handle_signals(bool timeout)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
	if (!timeout)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

/* The child, after fork: the program, in place of this process. */
static _Noreturn void exec_program(const struct record_opts *o, const char *lib, const char *dir)
{
	const char *pre = getenv("LD_PRELOAD");
	char *preload;

	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		signal(forwarded[i], SIG_DFL);
	if (asprintf(&preload, "%s%s%s", lib, pre && *pre ? " " : "", pre ? pre : "") < 0)
		_exit(127);
	setenv("LD_PRELOAD", preload, 1);
	setenv(AMREC_ENV_DIR, dir, 1);
	execvp(o->cmd[0], o->cmd);
	fprintf(stderr, "aftermalloc record: %s: %s\n", o->cmd[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

static const char *signal_name(int sig)
{
	const char *d = sigabbrev_np(sig);
	static char buf[16];

	if (!d)
		return "an unknown signal";
	snprintf(buf, sizeof(buf), "SIG%s", d);
	return buf;
}

/* ---- the command -------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: aftermalloc record [-o FILE.rep] [options] [--] CMD [ARGS...]\n"
	      "\n"
	      "Run a real program with an LD_PRELOAD library that logs its malloc, calloc,\n"
	      "realloc, free, posix_memalign, aligned_alloc, memalign, valloc, pvalloc and\n"
	      "reallocarray calls, and write them as a trace for `aftermalloc replay`.\n"
	      "The program keeps its stdin, stdout and stderr; record reports on stderr.\n"
	      "\n"
	      "  -o, --output FILE   the trace (default: CMD.rep, after the program's name)\n"
	      "      --plain         only the CS:APP operations a/r/f, for other drivers:\n"
	      "                      calloc becomes `a ID NMEMB*SIZE`, memalign `a ID SIZE`\n"
	      "                      (default: also `c ID NMEMB SIZE` and `m ID ALIGN SIZE`)\n"
	      "      --children      also a trace for each other process that ran with the\n"
	      "                      library (forked or executed): FILE.PID.rep\n"
	      "      --timeout SECS  stop the program after SECS seconds (SIGTERM, then\n"
	      "                      SIGKILL 2 s later); the trace keeps what it did\n"
	      "  -q, --quiet         no summary\n"
	      "\n"
	      "The trace's first header field is the program's peak heap footprint as glibc\n"
	      "counted it (mallinfo2 arena + hblkhd). Signals sent to record go on to the\n"
	      "program. Exit status: the program's (128 + N when signal N killed it, also\n"
	      "after --timeout); 2 bad usage, a program that cannot run, or a trace that\n"
	      "cannot be written.\n",
	      f);
}

static void print_summary(const char *name, const char *out, const struct conv_stats *st,
                          const struct amrec_header *h)
{
	uint64_t aligned = st->calls[AMREC_POSIX_MEMALIGN] + st->calls[AMREC_ALIGNED_ALLOC] +
	                   st->calls[AMREC_MEMALIGN] + st->calls[AMREC_VALLOC] +
	                   st->calls[AMREC_PVALLOC];

	fprintf(stderr,
	        "aftermalloc record: %s: %llu calls from %llu thread%s: malloc %llu, calloc %llu, "
	        "realloc %llu, free %llu, memalign family %llu\n",
	        name, (unsigned long long)h->records, (unsigned long long)st->threads,
	        st->threads == 1 ? "" : "s", (unsigned long long)st->calls[AMREC_MALLOC],
	        (unsigned long long)st->calls[AMREC_CALLOC],
	        (unsigned long long)(st->calls[AMREC_REALLOC] + st->calls[AMREC_REALLOCARRAY]),
	        (unsigned long long)st->calls[AMREC_FREE], (unsigned long long)aligned);
	fprintf(stderr, "aftermalloc record: %s: %llu operation%s, %llu id%s", out,
	        (unsigned long long)st->ops, st->ops == 1 ? "" : "s", (unsigned long long)st->ids,
	        st->ids == 1 ? "" : "s");
	if (st->failed || st->free_null || st->unknown_free || st->unknown_realloc)
		fprintf(stderr,
		        " (left out: %llu failed calls, %llu free(NULL), %llu frees of "
		        "blocks never seen)",
		        (unsigned long long)st->failed, (unsigned long long)st->free_null,
		        (unsigned long long)(st->unknown_free));
	fputc('\n', stderr);
	fprintf(stderr,
	        "aftermalloc record: peak footprint %llu bytes (mallinfo2 arena %llu + hblkhd "
	        "%llu)\n",
	        (unsigned long long)h->peak_footprint, (unsigned long long)h->peak_arena,
	        (unsigned long long)h->peak_hblkhd);
	if (h->reentered)
		fprintf(stderr,
		        "aftermalloc record: %llu calls made inside a hook (a signal handler that "
		        "allocates) went to glibc unlogged\n",
		        (unsigned long long)h->reentered);
	if (h->truncated)
		fprintf(stderr, "aftermalloc record: %llu calls lost: the log could not grow\n",
		        (unsigned long long)h->truncated);
}

/* Write the trace of log path to out. 0, or EXIT_BAD_INPUT after a message. */
static int write_trace(const char *log, const char *out, const char *name,
                       const struct record_opts *o)
{
	struct conv_stats st;
	struct amrec_header h;
	struct conv c = {.st = &st, .o = o};
	FILE *f;
	int rc = 0;

	rc = convert(log, &c, &h);
	conv_release_tables(&c);
	if (rc < 0) {
		free(c.text);
		return EXIT_BAD_INPUT;
	}
	f = output_open(out, false);
	if (!f) {
		rc = EXIT_BAD_INPUT;
	} else {
		/* The header as trace_write writes it: the heap size (the peak
		   footprint), ids, operations, weight 1. A failed write ends the
		   command in the stream (output.h). */
		if (fprintf(f, "%llu\n%u\n%llu\n1\n", (unsigned long long)h.peak_footprint,
		            (unsigned)c.next_id, (unsigned long long)c.nr_ops) < 0 ||
		    (c.len && fwrite(c.text, 1, c.len, f) != c.len) || fflush(f) != 0 || ferror(f))
			rc = cmd_error("record", "%s: %s", out, strerror(errno));
		output_close(f);
	}
	if (!rc && !o->quiet)
		print_summary(name, out, &st, &h);
	if (!rc && !o->quiet && !o->plain && c.extended)
		fprintf(stderr,
		        "aftermalloc record: %s uses the c/m extension (calloc, memalign); "
		        "--plain writes only a/r/f\n",
		        out);
	free(c.text);
	return rc;
}

/* The other processes' logs (forks, programs they ran), each to its trace. */
static int other_logs(const char *dir, pid_t main_pid, const struct record_opts *o,
                      unsigned *nr_others)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	*nr_others = 0;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char log[PATH_MAX + 300], out[PATH_MAX + 32], name[32];
		long pid = strtol(e->d_name, NULL, 10);
		size_t l = strlen(o->out);

		if (pid <= 0 || pid == main_pid || !strstr(e->d_name, ".raw"))
			continue;
		(*nr_others)++;
		if (!o->children)
			continue;
		if (l > 4 && strcmp(o->out + l - 4, ".rep") == 0)
			l -= 4;
		snprintf(log, sizeof(log), "%s/%s", dir, e->d_name);
		snprintf(out, sizeof(out), "%.*s.%ld.rep", (int)l, o->out, pid);
		snprintf(name, sizeof(name), "pid %ld", pid);
		if (write_trace(log, out, name, o))
			rc = EXIT_BAD_INPUT;
	}
	closedir(d);
	return rc;
}

static void remove_dir(const char *dir);

/* A failed write ends the command: the logs go with it (output_at_exit). */
static void remove_dir_hook(void *dir)
{
	remove_dir(dir);
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char p[PATH_MAX];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int parse_args(int argc, char **argv, struct record_opts *o, bool *help)
{
	enum { OPT_PLAIN = 256, OPT_CHILDREN, OPT_TIMEOUT };
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"plain", no_argument, NULL, OPT_PLAIN},
	    {"children", no_argument, NULL, OPT_CHILDREN},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {0, 0, 0, 0},
	};
	uint64_t v;
	int c;

	optind = 0;
	opterr = 0;
	/* '+': options end at CMD, so its own options are its own. */
	while ((c = getopt_long(argc, argv, "+:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->out = optarg;
			break;
		case OPT_PLAIN:
			o->plain = true;
			break;
		case OPT_CHILDREN:
			o->children = true;
			break;
		case OPT_TIMEOUT:
			if (parse_size(optarg, &v) < 0 || v == 0 || v > RECORD_MAX_TIMEOUT)
				return usage_error(
				    "record",
				    "--timeout: bad number of seconds '%s' (1 to %u, a year)",
				    optarg, RECORD_MAX_TIMEOUT);
			o->timeout = (unsigned)v;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			*help = true;
			return 0;
		case ':':
			return usage_error("record", "option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("record", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error(
		    "record", "no program given (aftermalloc record [-o FILE.rep] -- CMD ...)");
	o->cmd = argv + optind;
	return 0;
}

int cmd_record(int argc, char **argv)
{
	struct record_opts o = {0};
	/* dir is static: output_at_exit may remove it after this returns. */
	static char dir[PATH_MAX];
	char lib[PATH_MAX], log[PATH_MAX + 32], defout[PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	bool help = false;
	int rc, status = 0, exit_rc;
	unsigned others = 0;
	pid_t pid;
	FILE *f;

	rc = parse_args(argc, argv, &o, &help);
	if (help) {
		usage(stdout);
		return 0;
	}
	if (rc)
		return rc;
	if (!o.out) {
		const char *base = strrchr(o.cmd[0], '/');

		snprintf(defout, sizeof(defout), "%s.rep", base ? base + 1 : o.cmd[0]);
		o.out = defout;
	}
	if (find_library(lib, sizeof(lib)) < 0)
		return cmd_error("record",
		                 "cannot find %s beside the binary (lib/aftermalloc/ or "
		                 "../lib/aftermalloc/; AM_RECORD_LIB overrides)",
		                 RECORD_LIB);
	/* The trace must be writable before the program runs. */
	f = output_open(o.out, true);
	if (!f)
		return EXIT_BAD_INPUT;
	output_close(f);
	snprintf(dir, sizeof(dir), "%s/aftermalloc-record.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return cmd_error("record", "%s: %s", dir, strerror(errno));
	output_at_exit(remove_dir_hook, dir);

	handle_signals(o.timeout > 0);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		remove_dir(dir);
		return cmd_error("record", "fork: %s", strerror(errno));
	}
	if (pid == 0)
		exec_program(&o, lib, dir);
	child_pid = pid;
	if (o.timeout)
		alarm(o.timeout);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			remove_dir(dir);
			return cmd_error("record", "waitpid: %s", strerror(errno));
		}
	alarm(0);
	child_pid = 0;

	exit_rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	snprintf(log, sizeof(log), "%s/%d.raw", dir, (int)pid);
	if (access(log, R_OK) != 0) {
		remove_dir(dir);
		if (WIFEXITED(status) && (exit_rc == 126 || exit_rc == 127))
			return EXIT_BAD_INPUT; /* could not run: execvp said why */
		cmd_error("record",
		          "%s made no log: it did not load %s (a static or set-uid program?)",
		          o.cmd[0], RECORD_LIB);
		return EXIT_BAD_INPUT;
	}
	if (o.quiet)
		;
	else if (WIFSIGNALED(status))
		fprintf(
		    stderr,
		    "aftermalloc record: %s was killed by %s%s; the trace holds its calls until "
		    "then\n",
		    o.cmd[0], signal_name(WTERMSIG(status)), timed_out ? " (--timeout)" : "");
	else if (exit_rc)
		fprintf(stderr, "aftermalloc record: %s exited with status %d\n", o.cmd[0],
		        exit_rc);
	rc = write_trace(log, o.out, o.cmd[0], &o);
	if (!rc)
		rc = other_logs(dir, pid, &o, &others);
	if (!rc && others && !o.children && !o.quiet)
		fprintf(stderr,
		        "aftermalloc record: %u other process%s ran with the library (--children "
		        "writes their traces)\n",
		        others, others == 1 ? "" : "es");
	remove_dir(dir);
	return rc ? rc : exit_rc;
}
