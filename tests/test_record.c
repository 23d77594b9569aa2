/*
 * test_record.c - `aftermalloc record` on real programs (demos/record/):
 * sort, python3 and sqlite3 from Debian, and tests/host/alloc_workload for
 * threads, fork, the memalign family, a crash and a program that never
 * ends. Each trace must replay, valid, through every policy, and the glibc
 * policy's peak footprint must be the one the program's own glibc reported
 * (mallinfo2 arena + hblkhd, sampled by librecord.so in the same run, kept in
 * the trace's first header field).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demos/cli/replay.h"
#include "demos/cli/trace.h"
#include "demos/record/record_log.h"
#include "libc/libc.h"
#include "tests/support_bin.h"
#include "tests/support_oracle.h"

/* A fresh path for a trace (the file does not exist). */
static char *trace_path(void)
{
	char *p = bin_temp_file("", 0, ".rep");

	unlink(p);
	return p;
}

/* `aftermalloc record -o out [opts...] -- args...`, opts and args NULL-terminated. */
static struct bin_out record(const char *out, const char *const *opts, const char *const *args)
{
	const char *argv[32];
	int n = 0;

	argv[n++] = "record";
	argv[n++] = "-o";
	argv[n++] = out;
	for (; opts && *opts; opts++)
		argv[n++] = *opts;
	argv[n++] = "--";
	for (; *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return bin_run(argv, NULL);
}

static struct trace *load(const char *path)
{
	struct trace *t = NULL;

	cr_assert_eq(trace_load(path, &t, stderr), 0, "%s does not read back", path);
	return t;
}

static size_t count_ops(const struct trace *t, char kind)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nr_ops; i++)
		n += t->ops[i].kind == kind;
	return n;
}

/*
 * Replay t through every policy, checked: all valid, except where a trace
 * asks for alignments beyond 16 bytes (big_alignments): the policies without
 * memalign cannot serve them, and best cannot align inside an mmapped chunk
 * (libc/best.c gives such a request up); their replays are invalid with
 * memalign's NULL as the reason. The glibc policy's peak footprint is the
 * program's, from the header.
 */
static void replay_every_policy(const struct trace *t, bool big_alignments)
{
	for (const struct malloc_ops *const *p = malloc_policies; *p; p++) {
		struct replay_opts o = {.policy = (*p)->name, .check = true};
		struct replay_result r;

		cr_assert_eq(replay_run(t, &o, &r), 0);
		if (big_alignments && (!(*p)->memalign || strcmp((*p)->name, "best") == 0) &&
		    !r.valid) {
			cr_assert(strstr(r.error, "memalign(") && strstr(r.error, "returned NULL"),
			          "%s: %s", (*p)->name, r.error);
			continue;
		}
		cr_assert(r.valid, "%s under %s: %s", t->path, (*p)->name, r.error);
		cr_assert_eq(r.ops, t->nr_ops);
		if (strcmp((*p)->name, "glibc") == 0)
			cr_assert_eq(
			    r.peak_footprint, t->heap_hint,
			    "%s: the glibc policy peaks at %llu bytes, the program's glibc "
			    "at %llu (mallinfo2 arena + hblkhd)",
			    t->path, (unsigned long long)r.peak_footprint,
			    (unsigned long long)t->heap_hint);
	}
}

/* Replay t through every policy, checked: all valid (the peak footprint is
   not compared: a trace of threads, whose arenas the simulation does not
   model, or one cut short). */
static void replay_valid_every_policy(const struct trace *t)
{
	for (const struct malloc_ops *const *p = malloc_policies; *p; p++) {
		struct replay_opts o = {.policy = (*p)->name, .check = true};
		struct replay_result r;

		cr_assert_eq(replay_run(t, &o, &r), 0);
		cr_assert(r.valid, "%s under %s: %s", t->path, (*p)->name, r.error);
	}
}

static const char *workload(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/alloc_workload", oracle_host_dir());
	return path;
}

/* ---- real Debian programs ------------------------------------------------ */

Test(record, sort_keeps_its_output_and_its_trace_replays_to_its_glibc_peak, .timeout = 120)
{
	char *in, *out = trace_path();
	size_t len = 0, cap = 1 << 20;
	char *text = malloc(cap);
	struct bin_out p;
	struct trace *t;

	/* 30000 numbers in a scrambled order: sort needs its buffers */
	for (unsigned i = 0; i < 30000; i++)
		len += (size_t)snprintf(text + len, cap - len, "%u\n", (i * 7919u) % 30000u + 1);
	in = bin_temp_file(text, len, ".txt");
	p = record(out, NULL, (const char *[]){"sort", "-n", in, NULL});
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert_eq(strncmp(p.out, "1\n2\n3\n", 6), 0, "sort's own output passes through");
	cr_assert(strstr(p.err, "aftermalloc record: sort: "), "%s", p.err);
	cr_assert(strstr(p.err, "peak footprint "), "%s", p.err);
	t = load(out);
	cr_assert_gt(t->nr_ops, 10);
	cr_assert_gt(t->heap_hint, 0);
	replay_every_policy(t, false);
	trace_free(t);
	unlink(in);
	unlink(out);
	free(in);
	free(out);
	free(text);
	bin_out_free(&p);
}

Test(record, python3_calloc_is_kept_and_replays_to_its_glibc_peak, .timeout = 120)
{
	char *out = trace_path();
	struct bin_out p;
	struct trace *t;

	cr_assert_eq(access("/usr/bin/python3", X_OK), 0, "python3 (DEB_PACKAGES) is missing");
	p = record(out, NULL,
	           (const char *[]){"/usr/bin/python3", "-c",
	                            "import json\n"
	                            "d = {str(i): list(range(i % 40)) for i in range(8000)}\n"
	                            "print(len(json.dumps(d)))",
	                            NULL});
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(strstr(p.out, "\n") && atoi(p.out) > 100000, "%s", p.out);
	t = load(out);
	cr_assert_gt(count_ops(t, TOP_CALLOC), 0, "python calls calloc: `c` ops");
	cr_assert_gt(count_ops(t, TOP_REALLOC), 0);
	replay_every_policy(t, false);
	trace_free(t);
	unlink(out);
	free(out);
	bin_out_free(&p);
}

Test(record, sqlite3_replays_to_its_glibc_peak, .timeout = 120)
{
	char *out = trace_path();
	struct bin_out p;
	struct trace *t;

	cr_assert_eq(access("/usr/bin/sqlite3", X_OK), 0, "sqlite3 (DEB_PACKAGES) is missing");
	p = record(out, NULL,
	           (const char *[]){"sqlite3", ":memory:",
	                            "create table t(a, b);"
	                            "with recursive c(x) as (select 1 union all select x + 1 "
	                            "from c where x < 5000) insert into t select x, "
	                            "hex(randomblob(40)) from c;"
	                            "create index i on t(b); select count(*) from t;",
	                            NULL});
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert_str_eq(p.out, "5000\n");
	t = load(out);
	cr_assert_gt(t->nr_ops, 10000);
	replay_every_policy(t, false);
	trace_free(t);
	unlink(out);
	free(out);
	bin_out_free(&p);
}

/* A real threaded program of Debian: python3 whose threads allocate at once.
   The trace holds every thread's calls in one order that replays valid
   through every policy. (No peak: glibc gives threads arenas of their own,
   which the simulation does not model.) */
Test(record, python3_threads_are_recorded_in_one_consistent_order, .timeout = 120)
{
	char *out = trace_path();
	struct bin_out p;
	struct trace *t;

	p = record(out, NULL,
	           (const char *[]){"/usr/bin/python3", "-c",
	                            "import threading\n"
	                            "def work(n):\n"
	                            "    d = {}\n"
	                            "    for i in range(20000):\n"
	                            "        d[i % 997] = bytes(i % 700) + str(i).encode()\n"
	                            "    return len(d)\n"
	                            "ts = [threading.Thread(target=work, args=(i,)) for i in "
	                            "range(4)]\n"
	                            "[t.start() for t in ts]\n"
	                            "[t.join() for t in ts]\n"
	                            "print('done')",
	                            NULL});
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert_str_eq(p.out, "done\n");
	cr_assert(strstr(p.err, " calls from 5 threads: "), "the main thread and 4: %s", p.err);
	t = load(out);
	cr_assert_gt(t->nr_ops, 20000);
	replay_valid_every_policy(t);
	trace_free(t);
	unlink(out);
	free(out);
	bin_out_free(&p);
}

/* No allocation inside a hook: what librecord.so calls of the C library is
   this list, none of which allocates (a hook that allocated would go
   through the library's own malloc, recursively; snprintf, dlsym, fopen,
   strdup all may). The real calls are glibc's __libc_* entry points; two of
   glibc's variables are read: __curbrk (the break, as sbrk keeps it) and
   __libc_single_threaded. */
Test(record, the_library_calls_nothing_that_allocates)
{
	static const char *const allowed[] = {
	    "__cxa_finalize", "__errno_location", "__libc_calloc", "__libc_free",
	    "__libc_malloc", "__libc_memalign", "__libc_pvalloc", "__libc_realloc",
	    "__libc_valloc", "__register_atfork", "close", "ftruncate", "getenv", "getpid",
	    "mallinfo2", "memcpy", "mmap", "munmap", "open", "pthread_mutex_init",
	    "pthread_mutex_lock", "pthread_mutex_unlock", "pwrite", "sbrk", "strlen", "syscall",
	    "sysconf", "__curbrk", "__libc_single_threaded",
	    /* weak, from the start files: no calls */
	    "_ITM_deregisterTMCloneTable", "_ITM_registerTMCloneTable", "__gmon_start__",
	};

	const char *bin = bin_path();
	char cmd[8400], line[256];
	unsigned n = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "nm -D --undefined-only '%.*slib/aftermalloc/librecord.so'",
	         (int)(strrchr(bin, '/') ? strrchr(bin, '/') - bin + 1 : 0), bin);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		char kind[4], sym[200], *at;
		bool ok = false;

		cr_assert_eq(sscanf(line, "%3s %199s", kind, sym), 2, "%s", line);
		if ((at = strchr(sym, '@')))
			*at = 0;
		for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
			ok |= strcmp(sym, allowed[i]) == 0;
		cr_assert(ok, "librecord.so calls %s, not known to be free of allocation", sym);
		n++;
	}
	cr_assert_eq(pclose(f), 0, "%s", cmd);
	cr_assert_gt(n, 10, "nm listed nothing: %s", cmd);
}

/* ---- threads, fork, alignment -------------------------------------------- */

/* "allocs A frees F" of alloc_workload's stdout. */
static void program_counts(const char *out, unsigned long *a, unsigned long *f)
{
	cr_assert_eq(sscanf(out, "allocs %lu frees %lu", a, f), 2, "%s", out);
}

Test(record, eight_threads_give_a_consistent_order, .timeout = 120)
{
	char *out = trace_path();
	unsigned long a, f;
	struct bin_out p;
	struct trace *t;

	p = record(out, NULL, (const char *[]){workload(), "threads", "8", NULL});
	cr_assert_eq(p.status, 0, "%s", p.err);
	program_counts(p.out, &a, &f);
	t = load(out);
	/* Every block of the program is there (and the C library's own). */
	cr_assert_geq(
	    count_ops(t, TOP_ALLOC) + count_ops(t, TOP_REALLOC) + count_ops(t, TOP_CALLOC), a);
	cr_assert_geq(count_ops(t, TOP_FREE), f);
	/* A free before the malloc that gets the same address back, across
	   threads: a replay that checks every block finds no double
	   allocation, no free of a free id. (The peak footprint is not
	   compared: glibc gave threads arenas of their own, which the
	   simulation does not model.) */
	replay_valid_every_policy(t);
	trace_free(t);
	unlink(out);
	free(out);
	bin_out_free(&p);
}

Test(record, a_forked_child_gets_a_log_of_its_own, .timeout = 60)
{
	char *out = trace_path(), child[4200];
	struct bin_out p;
	struct trace *t, *c;
	const char *at;

	p = record(out, NULL, (const char *[]){workload(), "fork", NULL});
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(strstr(p.err, "1 other process ran with the library (--children writes "
	                        "their traces)"),
	          "%s", p.err);
	bin_out_free(&p);

	p = record(out, (const char *[]){"--children", NULL},
	           (const char *[]){workload(), "fork", NULL});
	cr_assert_eq(p.status, 0, "%s", p.err);
	t = load(out);
	/* the parent's 100 blocks (32, 40, ..., 824 bytes), none of the child's
	   (100 to 299), and the C library's (stdout's buffer) */
	{
		size_t parent = 0, child_sized = 0;

		for (size_t i = 0; i < t->nr_ops; i++) {
			const struct trace_op *op = &t->ops[i];

			if (op->kind != TOP_ALLOC)
				continue;
			parent += op->size >= 32 && op->size <= 824 && op->size % 8 == 0;
			child_sized += op->size >= 100 && op->size < 300 && op->size % 8 != 0;
		}
		cr_assert_eq(parent, 100);
		cr_assert_eq(child_sized, 0);
	}
	cr_assert_geq(count_ops(t, TOP_FREE), 100);
	/* FILE.PID.rep: the child's 200 blocks; its frees of the parent's
	   blocks are of blocks its trace never saw */
	at = strstr(p.err, ": pid ");
	cr_assert_not_null(at, "%s", p.err);
	snprintf(child, sizeof(child), "%.*s.%d.rep", (int)(strlen(out) - 4), out, atoi(at + 6));
	c = load(child);
	cr_assert_eq(count_ops(c, TOP_ALLOC), 200);
	cr_assert_eq(count_ops(c, TOP_FREE), 200);
	cr_assert(strstr(p.err, "50 frees of blocks never seen"), "%s", p.err);
	cr_assert_gt(c->heap_hint, 0, "the child's peak starts at the heap it inherited");
	replay_every_policy(t, false);
	trace_free(t);
	trace_free(c);
	unlink(child);
	unlink(out);
	free(out);
	bin_out_free(&p);
}

Test(record, the_memalign_family_is_kept_with_its_alignments, .timeout = 60)
{
	static const uint64_t want[] = {64, 4096, 256, 4096, 1 << 20};
	char *out = trace_path();
	struct bin_out p;
	struct trace *t;
	size_t k = 0;

	p = record(out, NULL, (const char *[]){workload(), "aligned", NULL});
	cr_assert_eq(p.status, 0, "%s", p.err);
	t = load(out);
	for (size_t i = 0; i < t->nr_ops; i++)
		if (t->ops[i].kind == TOP_MEMALIGN) {
			cr_assert_lt(k, 5);
			cr_assert_eq(t->ops[i].arg, want[k], "m #%zu: %llu", k,
			             (unsigned long long)t->ops[i].arg);
			k++;
		}
	cr_assert_eq(k, 5, "posix_memalign, aligned_alloc, memalign, valloc, memalign");
	cr_assert_eq(count_ops(t, TOP_CALLOC), 1);
	cr_assert_eq(count_ops(t, TOP_REALLOC), 1, "reallocarray's second call");
	/* a 1 MiB-aligned block and a 200000-byte one: mmapped chunks, whose
	   hblkhd the library follows through its table */
	cr_assert_gt(t->heap_hint, 1 << 20);
	replay_every_policy(t, true);
	trace_free(t);
	bin_out_free(&p);

	/* --plain: a/r/f only, the same footprint under glibc (calloc clears,
	   memalign(<= 16) is malloc; the big alignments now are plain mallocs) */
	p = record(out, (const char *[]){"--plain", NULL},
	           (const char *[]){workload(), "aligned", NULL});
	cr_assert_eq(p.status, 0, "%s", p.err);
	t = load(out);
	cr_assert_eq(count_ops(t, TOP_MEMALIGN) + count_ops(t, TOP_CALLOC), 0);
	cr_assert_eq(count_ops(t, TOP_ALLOC), 9);
	trace_free(t);
	unlink(out);
	free(out);
	bin_out_free(&p);
}

/* Forks while other threads allocate: glibc takes its malloc locks across
   fork, the library its own before them (pthread_atfork), so no child is
   left a lock held by a thread it does not have. 100 forks, each child's
   calls in a trace of its own. Without the atfork handlers this hangs
   within a few forks (the test's timeout). */
Test(record, forks_while_threads_allocate_neither_hang_nor_mix_the_logs, .timeout = 120)
{
	char *out = trace_path();
	struct bin_out p;
	struct trace *t;
	unsigned children = 0;
	const char *at;

	p = record(out, (const char *[]){"--children", NULL},
	           (const char *[]){workload(), "forkthreads", "100", NULL});
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(strstr(p.err, " calls from 6 threads: "), "main, its helper and 4: %s", p.err);
	for (at = p.err; (at = strstr(at, "aftermalloc record: pid ")); at++) {
		char child[4200], *pid = strchr(at + 24, ':');
		struct trace *c;

		cr_assert_not_null(pid);
		cr_assert(strncmp(pid, ": 200 calls from 1 thread: malloc 100, ", 39) == 0, "%.80s",
		          at);
		snprintf(child, sizeof(child), "%.*s.%d.rep", (int)(strlen(out) - 4), out,
		         atoi(at + 24));
		c = load(child);
		cr_assert_eq(count_ops(c, TOP_ALLOC), 100, "%s", child);
		cr_assert_eq(count_ops(c, TOP_FREE), 100, "%s", child);
		cr_assert_gt(c->heap_hint, 0, "%s: a child starts with its parent's heap", child);
		trace_free(c);
		unlink(child);
		children++;
	}
	cr_assert_eq(children, 100);
	t = load(out);
	replay_valid_every_policy(t);
	trace_free(t);
	unlink(out);
	free(out);
	bin_out_free(&p);
}

/* ---- programs that end badly ---------------------------------------------- */

Test(record, a_crash_keeps_the_calls_before_it_and_its_signal, .timeout = 60)
{
	char *out = trace_path();
	struct bin_out p;
	struct trace *t;

	p = record(out, NULL, (const char *[]){workload(), "crash", "300", NULL});
	cr_assert_eq(p.status, 128 + SIGSEGV, "%s", p.err);
	cr_assert(strstr(p.err, "was killed by SIGSEGV; the trace holds its calls until then"),
	          "%s", p.err);
	t = load(out);
	cr_assert_geq(count_ops(t, TOP_ALLOC), 300);
	replay_every_policy(t, false);
	trace_free(t);
	unlink(out);
	free(out);
	bin_out_free(&p);
}

/* The allocations of size bytes in t. */
static size_t count_allocs_of(const struct trace *t, uint64_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nr_ops; i++)
		n += t->ops[i].kind == TOP_ALLOC && t->ops[i].size == size;
	return n;
}

/* The log's ring (record_log.h) is flushed to the file only when full, and
   nothing runs at the end of a program killed by a signal or ended by
   _exit: the calls since the last flush are in the ring's mapped pages
   alone. 3 rings and 2000 calls more, so that a log which lost the ring (or
   the flushed records) misses hundreds of them. */
#define PAST_THE_RING (3 * AMREC_RING + 2000)

Test(record, a_program_that_dies_or_exits_abruptly_keeps_every_call, .timeout = 120)
{
	static const struct {
		const char *mode;
		int status;
		const char *says;
	} ends[] = {
	    {"crash", 128 + SIGSEGV, "was killed by SIGSEGV"},
	    {"kill", 128 + SIGKILL, "was killed by SIGKILL"},
	    {"exit", 0, NULL},
	};
	char n[16];

	snprintf(n, sizeof(n), "%u", PAST_THE_RING);
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		char *out = trace_path();
		struct bin_out p;
		struct trace *t;

		p = record(out, NULL, (const char *[]){workload(), ends[i].mode, n, NULL});
		cr_assert_eq(p.status, ends[i].status, "%s: %s", ends[i].mode, p.err);
		if (ends[i].says)
			cr_assert(strstr(p.err, ends[i].says), "%s", p.err);
		t = load(out);
		cr_assert_geq(count_allocs_of(t, 64), PAST_THE_RING, "%s: %zu of the %u mallocs",
		              ends[i].mode, count_allocs_of(t, 64), PAST_THE_RING);
		replay_every_policy(t, false);
		trace_free(t);
		unlink(out);
		free(out);
		bin_out_free(&p);
	}
}

/* A forked child's ring is its own (the parent's mapping is dropped at the
   fork): a child that fills it several times and ends by _exit. */
Test(record, a_forked_child_that_exits_abruptly_keeps_every_call, .timeout = 60)
{
	char *out = trace_path(), n[16], child[4200];
	struct bin_out p;
	struct trace *c;
	const char *at;

	snprintf(n, sizeof(n), "%u", PAST_THE_RING);
	p = record(out, (const char *[]){"--children", NULL},
	           (const char *[]){workload(), "forkexit", n, NULL});
	cr_assert_eq(p.status, 0, "%s", p.err);
	at = strstr(p.err, "aftermalloc record: pid ");
	cr_assert_not_null(at, "%s", p.err);
	snprintf(child, sizeof(child), "%.*s.%d.rep", (int)(strlen(out) - 4), out, atoi(at + 24));
	c = load(child);
	cr_assert_geq(count_allocs_of(c, 64), PAST_THE_RING, "%zu of the child's %u mallocs",
	              count_allocs_of(c, 64), PAST_THE_RING);
	trace_free(c);
	unlink(child);
	unlink(out);
	free(out);
	bin_out_free(&p);
}

/* A log that cannot grow (here the file size limit, SIGXFSZ ignored so that
   the write fails instead of killing the program) keeps the calls until
   then, says how many were lost, and the program goes on. */
Test(record, a_log_that_cannot_grow_keeps_what_it_has_and_counts_the_rest, .timeout = 60)
{
	struct rlimit lim = {.rlim_cur = AMREC_SPILL + AMREC_RING * 16, .rlim_max = RLIM_INFINITY};
	char *out = trace_path(), n[16];
	struct bin_out p;
	struct trace *t;

	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	snprintf(n, sizeof(n), "%u", PAST_THE_RING);
	p = record(out, NULL, (const char *[]){workload(), "exit", n, NULL});
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(strstr(p.err, " calls lost: the log could not grow"), "%s", p.err);
	t = load(out);
	/* The ring's calls: the first AMREC_RING (the flush of the half ring
	   the limit allows is not counted: `flushed` counts whole rings). */
	cr_assert_leq(t->nr_ops, AMREC_RING);
	cr_assert_gt(count_allocs_of(t, 64), AMREC_RING / 2);
	replay_valid_every_policy(t);
	trace_free(t);
	unlink(out);
	free(out);
	bin_out_free(&p);
}

Test(record, a_program_that_never_ends_is_stopped_by_the_timeout, .timeout = 60)
{
	char *out = trace_path();
	struct bin_out p;
	struct trace *t;

	p = record(out, (const char *[]){"--timeout", "1", NULL},
	           (const char *[]){workload(), "hang", "100", NULL});
	cr_assert_eq(p.status, 128 + SIGTERM, "%s", p.err);
	cr_assert(strstr(p.err, "was killed by SIGTERM (--timeout)"), "%s", p.err);
	t = load(out);
	cr_assert_geq(count_ops(t, TOP_ALLOC), 100);
	trace_free(t);
	unlink(out);
	free(out);
	bin_out_free(&p);
}

Test(record, a_signal_sent_to_record_reaches_the_program, .timeout = 60)
{
	char *out = trace_path(), *errp = bin_temp_file("", 0, ".txt");
	const char *argv[] = {bin_path(), "record", "-o", out, "--",
	                      workload(), "hang",   "10", NULL};
	struct trace *t;
	size_t len;
	char *err;
	int st, fd;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		fd = open(errp, O_WRONLY);
		dup2(fd, 2);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	/* the program has started once its "allocs" line is out; give it a
	   second, then signal record, not the program */
	sleep(1);
	cr_assert_eq(kill(pid, SIGTERM), 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "record itself died of a signal");
	cr_assert_eq(WEXITSTATUS(st), 128 + SIGTERM);
	err = bin_read_file(errp, &len);
	cr_assert(strstr(err, "was killed by SIGTERM; the trace holds"), "%s", err);
	t = load(out);
	cr_assert_geq(count_ops(t, TOP_ALLOC), 10);
	trace_free(t);
	unlink(out);
	unlink(errp);
	free(err);
	free(out);
	free(errp);
}

Test(record, the_program_s_exit_status_is_record_s, .timeout = 60)
{
	char *out = trace_path();
	struct bin_out p;

	p = record(out, NULL, (const char *[]){"sh", "-c", "exit 3", NULL});
	cr_assert_eq(p.status, 3, "%s", p.err);
	cr_assert(strstr(p.err, "aftermalloc record: sh exited with status 3\n"), "%s", p.err);
	cr_assert_eq(access(out, R_OK), 0, "the trace is written all the same");
	bin_out_free(&p);
	p = record(out, NULL, (const char *[]){"sh", "-c", "kill -ABRT $$", NULL});
	cr_assert_eq(p.status, 128 + SIGABRT, "%s", p.err);
	cr_assert(strstr(p.err, "sh was killed by SIGABRT; the trace holds its calls until then"),
	          "%s", p.err);
	bin_out_free(&p);
	unlink(out);
	free(out);
}

/* Ctrl-C: SIGINT to the whole process group, record and the program (as
   the terminal sends it). The program dies of it, record lives on to say
   so, keeps the trace and exits 128 + SIGINT. */
Test(record, ctrl_c_ends_the_program_and_keeps_its_trace, .timeout = 60)
{
	char *out = trace_path(), *outp = bin_temp_file("", 0, ".txt");
	char *errp = bin_temp_file("", 0, ".txt");
	const char *argv[] = {bin_path(), "record", "-o", out, "--",
	                      workload(), "hang",   "50", NULL};
	struct trace *t;
	size_t len = 0;
	char *text = NULL;
	int st;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		setpgid(0, 0); /* a process group of its own, as a shell's job */
		dup2(open(outp, O_WRONLY), 1);
		dup2(open(errp, O_WRONLY), 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	/* the program is running once its "allocs" line is out */
	for (int i = 0; i < 300 && !(text && strstr(text, "allocs 50")); i++) {
		free(text);
		usleep(100000);
		text = bin_read_file(outp, &len);
	}
	cr_assert(text && strstr(text, "allocs 50"), "the program never started");
	cr_assert_eq(kill(-pid, SIGINT), 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "record itself died of a signal");
	cr_assert_eq(WEXITSTATUS(st), 128 + SIGINT);
	free(text);
	text = bin_read_file(errp, &len);
	cr_assert(strstr(text, "was killed by SIGINT; the trace holds its calls until then"), "%s",
	          text);
	t = load(out);
	cr_assert_geq(count_ops(t, TOP_ALLOC), 50);
	trace_free(t);
	unlink(out);
	unlink(outp);
	unlink(errp);
	free(text);
	free(out);
	free(outp);
	free(errp);
}

/* ---- bad usage -------------------------------------------------------------- */

Test(record, bad_usage_exits_2_and_says_why)
{
	char *out = trace_path(), marker[64] = "/tmp/am_test_marker_XXXXXX";
	struct bin_out p;
	int fd = mkstemp(marker);

	close(fd);
	unlink(marker);
	p = bin_run((const char *[]){"record", NULL}, NULL);
	cr_assert_eq(p.status, 2);
	cr_assert(strstr(p.err, "no program given"), "%s", p.err);
	bin_out_free(&p);

	p = record(out, NULL, (const char *[]){"/nonexistent/prog", NULL});
	cr_assert_eq(p.status, 2);
	cr_assert(strstr(p.err, "aftermalloc record: /nonexistent/prog: No such file or directory"),
	          "%s", p.err);
	bin_out_free(&p);

	/* an output that cannot be written: said before the program runs */
	p = record("/nonexistent-dir/x.rep", NULL, (const char *[]){"touch", marker, NULL});
	cr_assert_eq(p.status, 2);
	cr_assert(strstr(p.err, "/nonexistent-dir/x.rep: No such file or directory"), "%s", p.err);
	cr_assert_neq(access(marker, F_OK), 0, "the program ran");
	bin_out_free(&p);

	p = bin_run((const char *[]){"record", "--timeout", "0", "--", "true", NULL}, NULL);
	cr_assert_eq(p.status, 2);
	cr_assert(strstr(p.err, "--timeout: bad number of seconds '0' (1 to 31536000, a year)"),
	          "%s", p.err);
	bin_out_free(&p);

	setenv("AM_RECORD_LIB", "/nonexistent/librecord.so", 1);
	p = record(out, NULL, (const char *[]){"true", NULL});
	unsetenv("AM_RECORD_LIB");
	cr_assert_eq(p.status, 2);
	cr_assert(strstr(p.err, "cannot find librecord.so"), "%s", p.err);
	bin_out_free(&p);
	unlink(out);
	free(out);
}

Test(record, the_library_does_nothing_without_its_directory)
{
	char lib[4200], cmd[8400];
	const char *bin = bin_path();

	/* build/aftermalloc -> build/lib/aftermalloc/librecord.so */
	snprintf(lib, sizeof(lib), "%.*slib/aftermalloc/librecord.so",
	         (int)(strrchr(bin, '/') ? strrchr(bin, '/') - bin + 1 : 0), bin);
	cr_assert_eq(access(lib, R_OK), 0, "%s", lib);
	snprintf(cmd, sizeof(cmd),
	         "env -u AM_RECORD_DIR LD_PRELOAD=%s sh -c 'seq 1 2000 | sort -rn | head -1' "
	         "| grep -qx 2000",
	         lib);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}
