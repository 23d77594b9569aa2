/*
 * test_glibc_oracle.c - the `glibc` policy against the real glibc 2.36 of
 * this machine (DESIGN.md, Fidelity to the real thing).
 *
 * 1. The same list of malloc/calloc/free calls runs in a real program
 *    (tests/host/glibc_calls.c, under strace) and in the simulation: the
 *    brk/mmap/munmap calls between the program's two getppid() markers must
 *    be the same, in the same order, with the same sizes and the same break
 *    offsets from the heap start; each returned pointer must sit at the same
 *    offset (or be mmapped at the same page offset); mallinfo2's arena and
 *    hblkhd and the minor faults of each call (getrusage) must agree.
 * 2. The peak footprint (mallinfo2 arena + hblkhd after every op) of the 11
 *    scored malloc-lab traces on the real glibc (tests/host/glibc_replay.c)
 *    and of replay_run with the glibc policy must be the same, to the byte;
 *    and on the traces of real programs (demos/traces/real/), with glibc's
 *    defaults and with GLIBC_TUNABLES that change the footprint.
 *
 * Needs AM_HOST (the built host programs; `make test` sets it) and strace
 * (the Makefile's deps step installs it).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demos/cli/replay.h"
#include "demos/cli/trace.h"
#include "kernel_sim/syscalls.h"
#include "libc/glibc_malloc.h"
#include "libc/libc.h"
#include "tests/support_bin.h"
#include "tests/support_oracle.h"

#define MAX_LINES 128
#define LINE      128

#define MAX_CALLS 32

/* A list of calls for tests/host/glibc_calls (its argument syntax). */
struct calls {
	size_t n;
	const char *c[MAX_CALLS];
};

/* malloc, free, the threshold raise, a heap growth and trim, calloc from
   reused and fresh memory, mmapped calloc, a second threshold raise */
static const struct calls mixed = {
    19,
    {"m1", "m100000", "m200000", "f2", "f1", "f0", "m200000", "m200000", "f7", "f6", "c10x100",
     "c1000x100", "m30", "f10", "f11", "m300000", "c1000x300", "f15", "f16"},
};

/* The heap grows to 0x52000 and is trimmed back to 0x21000; then a calloc
   grows top again. The installed glibc clears only what was the old top
   (9 pages: 10 faults with the new top's header), not the rest of the block,
   which lies below the heap's old maximum but is fresh from the kernel. */
static const struct calls calloc_after_trim = {
    10,
    {"m1", "m100000", "m100000", "m100000", "f3", "f2", "f1", "m100000", "c1x100000",
     "c1x60000"},
};

struct lines {
	unsigned n;
	char l[MAX_LINES][LINE];
};

static void add(struct lines *ls, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct lines *ls, const char *fmt, ...)
{
	va_list ap;

	cr_assert_lt(ls->n, MAX_LINES);
	va_start(ap, fmt);
	vsnprintf(ls->l[ls->n++], LINE, fmt, ap);
	va_end(ap);
}

/* ---- 1. the real program under strace ------------------------------------- */

/* Read the program's result lines into res (heap start in *heap). */
static void read_results(const char *path, struct lines *res, unsigned long long *heap)
{
	char line[512];
	FILE *f = fopen(path, "r");

	cr_assert_not_null(f, "%s", path);
	cr_assert(fgets(line, sizeof(line), f));
	cr_assert_eq(sscanf(line, "heap_start %llx", heap), 1);
	res->n = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		add(res, "%s", line);
	}
	fclose(f);
}

/* The last field of a result line: the minor faults of the call. */
static char *minflt_field(char *l)
{
	char *s = strrchr(l, ' ');

	cr_assert_not_null(s);
	return s + 1;
}

/*
 * Run the program: once under strace (system calls and results), then
 * twice more without it. The faults of a call are the least of the three
 * runs: the first execution of a libc code page may fault or not depending
 * on where ASLR put libc relative to the fault-around window, and such a
 * fault is not malloc's.
 */
static void run_real(const struct calls *calls, struct lines *sys, struct lines *res)
{
	char dir[] = "/tmp/glibc_oracle.XXXXXX";
	char cmd[4096], args[2048] = "", path[256], line[512];
	unsigned long long heap = 0, heap2;
	static struct lines again;
	FILE *f;
	int n = 0;

	cr_assert_not_null(mkdtemp(dir));
	for (size_t i = 0; i < calls->n; i++)
		n += snprintf(args + n, sizeof(args) - n, " %s", calls->c[i]);
	snprintf(
	    cmd, sizeof(cmd),
	    "strace -f -e trace=brk,mmap,munmap,getppid -o %s/strace %s/glibc_calls%s > %s/out",
	    dir, oracle_host_dir(), args, dir);
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
	snprintf(path, sizeof(path), "%s/out", dir);
	read_results(path, res, &heap);
	for (int run = 0; run < 2; run++) {
		snprintf(cmd, sizeof(cmd), "%s/glibc_calls%s > %s/out", oracle_host_dir(), args, dir);
		cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
		read_results(path, &again, &heap2);
		cr_assert_eq(again.n, res->n);
		for (unsigned i = 0; i < res->n; i++) {
			char *a = minflt_field(res->l[i]), *b = minflt_field(again.l[i]);

			if (strtoull(b, NULL, 10) < strtoull(a, NULL, 10))
				snprintf(a, LINE - (size_t)(a - res->l[i]), "%s", b);
		}
	}

	snprintf(path, sizeof(path), "%s/strace", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	int markers = 0;
	while (fgets(line, sizeof(line), f)) {
		char *s = strchr(line, ' ');
		unsigned long long a, len;

		if (!s)
			continue;
		s += strspn(s, " ");
		if (strncmp(s, "getppid(", 8) == 0) {
			markers++;
			continue;
		}
		if (markers != 1)
			continue;
		if (strncmp(s, "brk(NULL)", 9) == 0)
			add(sys, "brk NULL");
		else if (sscanf(s, "brk(%llx)", &a) == 1)
			add(sys, "brk +%#llx", a - heap);
		else if (sscanf(s, "mmap(NULL, %llu,", &len) == 1)
			add(sys, "mmap %llu", len);
		else if (sscanf(s, "munmap(%llx, %llu)", &a, &len) == 2)
			add(sys, "munmap %llu", len);
	}
	fclose(f);
	cr_assert_eq(markers, 2, "the two getppid() markers in %s", path);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* ---- 1. the same calls in the simulation ---------------------------------- */

struct sim {
	const struct calls *calls;
	struct kernel k;
	struct task *t;
	struct libc lc;
	bool recording;
	vaddr_t heap;
	struct lines sys, res;
};

static void sim_sink(void *ctx, const struct event *ev)
{
	struct sim *s = ctx;

	if (!s->recording || ev->kind != EV_CALL || ev->layer != LAYER_LIBC)
		return;
	if (strcmp(ev->fn, "__brk") == 0) {
		uint64_t a = event_field(ev, "addr", 0);

		if (a == 0)
			add(&s->sys, "brk NULL");
		else
			add(&s->sys, "brk +%#llx", (unsigned long long)(a - s->heap));
	} else if (strcmp(ev->fn, "__mmap") == 0) {
		add(&s->sys, "mmap %llu", (unsigned long long)event_field(ev, "len", 0));
	} else if (strcmp(ev->fn, "__munmap") == 0) {
		add(&s->sys, "munmap %llu", (unsigned long long)event_field(ev, "len", 0));
	}
}

static void sim_body(void *arg)
{
	struct sim *s = arg;
	struct libc *lc = &s->lc;
	vaddr_t ret[MAX_CALLS] = {0};

	s->heap = libc_sbrk(lc, 0); /* the program's sbrk(0): __curbrk known */
	s->recording = true;
	for (size_t i = 0; i < s->calls->n; i++) {
		const char *c = s->calls->c[i];
		char *end;
		unsigned long a = strtoul(c + 1, &end, 0), b = 0;
		uint64_t f0 = s->t->min_flt;
		struct glibc_info gi;
		char r[64];

		if (c[0] == 'c')
			b = strtoul(end + 1, &end, 0);
		if (c[0] == 'm')
			ret[i] = libc_malloc(lc, a);
		else if (c[0] == 'c')
			ret[i] = libc_calloc(lc, a, b);
		else
			libc_free(lc, ret[a]);
		uint64_t flt = s->t->min_flt - f0;
		cr_assert_eq(lc->ops->check(lc, stderr), 0);
		cr_assert(glibc_malloc_info(lc, &gi));
		if (c[0] == 'f')
			snprintf(r, sizeof(r), "-");
		else if (!ret[i])
			snprintf(r, sizeof(r), "null");
		else if (ret[i] >= s->heap && ret[i] < lc->curbrk)
			snprintf(r, sizeof(r), "0x%llx", (unsigned long long)(ret[i] - s->heap));
		else
			snprintf(r, sizeof(r), "mmap+0x%llx", (unsigned long long)(ret[i] & 0xfff));
		add(&s->res, "%zu %c %lu %s %llu %llu %llu", i, c[0], c[0] == 'c' ? a * b : a, r,
		    (unsigned long long)gi.system_mem, (unsigned long long)gi.mmapped_mem,
		    (unsigned long long)flt);
	}
	s->recording = false;
}

static void run_sim(struct sim *s)
{
	struct kernel_opts o;

	oracle_kernel_opts(&o); /* compare like with like: the host's zero page */
	o.phys_bytes = 64ULL << 20;
	cr_assert_eq(kernel_boot(&s->k, &o, stderr), 0);
	s->t = task_create(&s->k, "glibc_calls");
	cr_assert_not_null(s->t);
	libc_init(&s->lc, &s->k, malloc_policy("glibc"));
	probe_set_sink(&s->k.probe, sim_sink, s);
	int sig = task_run(&s->k, s->t, sim_body, s);
	cr_assert_eq(sig, 0, "died: %s", s->t->death.reason);
	glibc_malloc_release(&s->lc);
	task_destroy(&s->k, s->t);
	kernel_shutdown(&s->k);
}

static void compare(const char *what, const struct lines *real, const struct lines *sim)
{
	for (unsigned i = 0; i < real->n || i < sim->n; i++)
		cr_expect_str_eq(
		    i < sim->n ? sim->l[i] : "(none)", i < real->n ? real->l[i] : "(none)",
		    "%s #%u: simulation '%s', real glibc '%s'", what, i,
		    i < sim->n ? sim->l[i] : "(none)", i < real->n ? real->l[i] : "(none)");
	cr_assert_eq(sim->n, real->n, "%s: %u in the simulation, %u for real", what, sim->n,
	             real->n);
}

static void same_as_real(const struct calls *calls)
{
	static struct lines sys, res;
	static struct sim s;

	memset(&s, 0, sizeof(s));
	s.calls = calls;
	run_real(calls, &sys, &res);
	cr_assert_gt(sys.n, 0, "strace saw no brk/mmap between the markers");
	run_sim(&s);
	compare("system call", &sys, &s.sys);
	compare("call result (i op size where arena hblkhd minflt)", &res, &s.res);
}

Test(glibc_oracle, same_system_calls_pointers_arena_and_faults_as_real_glibc, .timeout = 60)
{
	same_as_real(&mixed);
}

Test(glibc_oracle, calloc_after_a_trim_clears_what_real_glibc_clears, .timeout = 60)
{
	same_as_real(&calloc_after_trim);
}

/* ---- 2. peak footprint of the malloc-lab traces ----------------------------- */

static const char *traces_dir(void)
{
	static char dir[1024];

	snprintf(dir, sizeof(dir), "%s/demos/traces/malloclab", bin_root());
	return dir;
}

/* Real glibc's peak footprint on the trace at path, with GLIBC_TUNABLES set
   to tunables when it is not NULL. */
static uint64_t real_peak_tuned(const char *path, const char *tunables)
{
	char cmd[2048], line[512];
	unsigned long long ops, payload, peak = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s%s%s%s/glibc_replay %s", tunables ? "GLIBC_TUNABLES=" : "",
	         tunables ? tunables : "", tunables ? " " : "", oracle_host_dir(), path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert(fgets(line, sizeof(line), p), "no output from %s", cmd);
	cr_assert_eq(pclose(p), 0, "%s failed", cmd);
	cr_assert_eq(
	    sscanf(line, "ops %llu peak_payload %llu peak_footprint %llu", &ops, &payload, &peak),
	    3, "unexpected output: %s", line);
	return peak;
}

static uint64_t real_peak(const char *path)
{
	return real_peak_tuned(path, NULL);
}

/* by value: criterion may run the test in another process image */
struct trace_name {
	char s[16];
};

ParameterizedTestParameters(glibc_oracle, peak_footprint_equals_real_glibc)
{
	static struct trace_name names[] = {{"amptjp"},     {"binary"},  {"binary2"}, {"cccp"},
	                                    {"coalescing"}, {"cp-decl"}, {"expr"},    {"random"},
	                                    {"random2"},    {"realloc"}, {"realloc2"}};

	return cr_make_param_array(struct trace_name, names, sizeof(names) / sizeof(names[0]));
}

ParameterizedTest(struct trace_name *tn, glibc_oracle,
                  peak_footprint_equals_real_glibc, .timeout = 60)
{
	const char *const *name = &(const char *){tn->s};

	char path[1200];
	struct trace *t;
	struct replay_result r;
	/* contents checks are replay.c's business (and slow on realloc): the
	   footprint does not depend on them */
	struct replay_opts o = {.policy = "glibc", .check = false};

	snprintf(path, sizeof(path), "%s/%s-bal.rep", traces_dir(), *name);
	uint64_t real = real_peak(path);
	cr_assert_eq(trace_load(path, &t, stderr), 0);
	cr_assert_eq(replay_run(t, &o, &r), 0);
	cr_assert(r.valid, "%s: %s", *name, r.error);
	cr_assert_eq(r.peak_footprint, real, "%s: peak footprint %llu simulated, %llu real glibc",
	             *name, (unsigned long long)r.peak_footprint, (unsigned long long)real);
	cr_assert_eq(r.peak_payload, trace_peak_payload(t));
	trace_free(t);
}

/*
 * The traces of real programs (demos/traces/real/), with glibc's defaults and
 * with the tunables that matter to the footprint (docs/libc.md, best against
 * glibc): the same peak footprint, to the byte, as the host's glibc given
 * the same GLIBC_TUNABLES (replay --tunable).
 */
Test(glibc_oracle, real_program_traces_peak_as_real_glibc_with_tunables, .timeout = 180)
{
	static const char *const tunables[] = {
	    NULL,
	    "glibc.malloc.top_pad=0",
	    "glibc.malloc.top_pad=0:glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0",
	    "glibc.malloc.top_pad=0:glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0:"
	    "glibc.malloc.trim_threshold=0",
	};
	static const char *const names[] = {"awk",    "bc",      "cc1",  "cppcheck", "jq",
	                                    "perl",   "python3", "sort", "sqlite3",  "tclsh"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[1200];
		struct trace *t;

		snprintf(path, sizeof(path), "%s/demos/traces/real/%s.rep", bin_root(), names[i]);
		cr_assert_eq(trace_load(path, &t, stderr), 0);
		for (size_t k = 0; k < sizeof(tunables) / sizeof(tunables[0]); k++) {
			struct libc_tunable list[LIBC_MAX_TUNABLES];
			struct replay_opts o = {.policy = "glibc", .check = false, .tunables = list};
			struct replay_result r;
			char err[256];
			uint64_t real = real_peak_tuned(path, tunables[k]);

			if (tunables[k])
				cr_assert_eq(glibc_tunables_parse(list, &o.nr_tunables,
				                                  LIBC_MAX_TUNABLES, tunables[k],
				                                  err, sizeof(err)),
				             0, "%s", err);
			cr_assert_eq(replay_run(t, &o, &r), 0);
			cr_assert(r.valid, "%s: %s", names[i], r.error);
			cr_assert_eq(r.peak_footprint, real,
			             "%s, %s: peak footprint %llu simulated, %llu real glibc",
			             names[i], tunables[k] ? tunables[k] : "defaults",
			             (unsigned long long)r.peak_footprint,
			             (unsigned long long)real);
		}
		trace_free(t);
	}
}
