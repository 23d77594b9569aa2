/*
 * test_golden.c - behaviour pinned while the simulator is made faster: what
 * every demo and a set of trace replays produce is compared with what is
 * checked in under tests/golden/, byte for byte (through digests where the
 * output is long).
 *
 *   run.txt            `run DEMO --json --events F` of every demo (demos/ and
 *                      demos/crash/), with its own policy and under each
 *                      policy, and with --seed 7: exit status, the number of
 *                      events and FNV-1a digests of the event log, of stdout
 *                      and of stderr
 *   replay_*.txt       `replay --json` of a set of traces under every policy,
 *                      with checks and with --no-check (the benchmark's
 *                      mode), each line as printed less its "secs"
 *   replay_events_*.txt the whole event stream of small replays, seen by a
 *                      sink (every field of every event, digested), and the
 *                      same replay without a sink: same figures, same number
 *                      of events
 *
 * A change that means to change behaviour (a new event, another policy
 * decision) regenerates the files with `make golden` and commits them with
 * the change, which shows in the diff what moved. A change meant to be
 * behaviour-neutral (an optimisation) must leave them alone.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demos/cli/replay.h"
#include "libc/libc.h"
#include "tests/support_bin.h"

/* ---- digests and the golden files ------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return h;
}

static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
	return fnv_bytes(h, &v, sizeof(v));
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	/* the terminating NUL too, so "ab"+"c" and "a"+"bc" differ */
	return s ? fnv_bytes(h, s, strlen(s) + 1) : fnv_u64(h, 0);
}

/* Lines built by a test, compared with (or written to) its golden file. */
struct lines {
	char *buf;
	size_t len;
	FILE *f;
};

static void lines_open(struct lines *l)
{
	/* Every test works from the project root: the paths in the outputs are
	   then relative, the same in every checkout. Criterion runs each test
	   in a process of its own. */
	cr_assert_eq(chdir(bin_root()), 0, "chdir %s", bin_root());
	l->f = open_memstream(&l->buf, &l->len);
	cr_assert(l->f);
}

/* Where a line of a differs from b: the first line that differs, both ways. */
static void report_diff(const char *name, const char *got, const char *want)
{
	const char *g = got, *w = want;
	unsigned line = 1;

	while (*g && *w) {
		const char *ge = strchrnul(g, '\n'), *we = strchrnul(w, '\n');

		if (ge - g != we - w || memcmp(g, w, (size_t)(ge - g)))
			break;
		g = *ge ? ge + 1 : ge;
		w = *we ? we + 1 : we;
		line++;
	}
	cr_log_error("tests/golden/%s line %u differs:\n  now:    %.*s\n  golden: %.*s", name,
	             line, (int)(strchrnul(g, '\n') - g), g, (int)(strchrnul(w, '\n') - w), w);
}

/* Compare what the test built with tests/golden/NAME, or write it there
   when AM_GOLDEN_UPDATE is set (`make golden`). */
static void lines_close(struct lines *l, const char *name)
{
	char path[256];
	size_t n;
	char *want;

	cr_assert_eq(fclose(l->f), 0);
	snprintf(path, sizeof(path), "tests/golden/%s", name);
	if (getenv("AM_GOLDEN_UPDATE")) {
		FILE *f = fopen(path, "w");

		cr_assert(f, "cannot write %s", path);
		cr_assert_eq(fwrite(l->buf, 1, l->len, f), l->len);
		cr_assert_eq(fclose(f), 0);
		free(l->buf);
		return;
	}
	want = bin_read_file(path, &n);
	if (n != l->len || memcmp(want, l->buf, n)) {
		report_diff(name, l->buf, want);
		cr_assert_fail("behaviour changed (tests/golden/%s): if the change is meant, "
		               "run `make golden` and commit the files with it",
		               name);
	}
	free(want);
	free(l->buf);
}

/* ---- demos ---------------------------------------------------------------------- */

/* One `run` of a demo: status, events and digests, one line. */
static void run_demo(struct lines *l, const char *demo, const char *policy, const char *seed)
{
	char events[] = "/tmp/am-golden-XXXXXX";
	const char *args[12] = {"run", demo, "--json", "--events", events};
	int fd = mkstemp(events), n = 5;
	uint64_t lines = 0;
	struct bin_out o;
	size_t len;
	char *ev;

	cr_assert_geq(fd, 0);
	close(fd);
	if (policy) {
		args[n++] = "--malloc";
		args[n++] = policy;
	}
	if (seed) {
		args[n++] = "--seed";
		args[n++] = seed;
	}
	o = bin_run(args, NULL);
	ev = bin_read_file(events, &len);
	unlink(events);
	for (size_t i = 0; i < len; i++)
		lines += ev[i] == '\n';
	fprintf(l->f,
	        "run %s malloc=%s seed=%s status=%d events=%llu events_fnv=%016llx "
	        "stdout_fnv=%016llx stderr_fnv=%016llx\n",
	        demo, policy ? policy : "-", seed ? seed : "-", o.status, (unsigned long long)lines,
	        (unsigned long long)fnv_bytes(FNV_OFFSET, ev, len),
	        (unsigned long long)fnv_bytes(FNV_OFFSET, o.out, o.out_len),
	        (unsigned long long)fnv_bytes(FNV_OFFSET, o.err, o.err_len));
	free(ev);
	bin_out_free(&o);
}

static void run_demos(const char *pattern, const char *name)
{
	struct lines l;
	glob_t g;

	lines_open(&l);
	cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no demos match %s", pattern);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		run_demo(&l, g.gl_pathv[i], NULL, NULL);
		run_demo(&l, g.gl_pathv[i], NULL, "7");
		for (const struct malloc_ops *const *p = malloc_policies; *p; p++)
			run_demo(&l, g.gl_pathv[i], (*p)->name, NULL);
	}
	globfree(&g);
	lines_close(&l, name);
}

Test(golden, demo_runs_are_unchanged, .timeout = 300)
{
	run_demos("demos/*.ams", "run.txt");
}

Test(golden, crash_demo_runs_are_unchanged, .timeout = 300)
{
	run_demos("demos/crash/*.ams", "run_crash.txt");
}

/* ---- replays through the command ---------------------------------------------- */

/* `replay --json ARGS... TRACE`: each line as printed, less "secs". */
static void replay_cmd(struct lines *l, const char *trace, const char *malloc, bool check)
{
	char path[256];
	const char *args[8] = {"replay", "--json", "--malloc", malloc, path};
	struct bin_out o;
	char *s;

	snprintf(path, sizeof(path), "demos/traces/%s", trace);
	if (!check)
		args[5] = "--no-check";
	o = bin_run(args, NULL);
	cr_assert_eq(o.status, 0, "replay %s --malloc %s: status %d: %s", trace, malloc, o.status,
	             o.err);
	for (s = o.out; *s;) {
		char *nl = strchrnul(s, '\n'), *secs = strstr(s, ",\"secs\":");

		if (secs && secs < nl) {
			char *end = secs + 1;

			while (end < nl && *end != ',' && *end != '}')
				end++;
			fprintf(l->f, "%s %.*s%.*s\n", check ? "check" : "no-check",
			        (int)(secs - s), s, (int)(nl - end), end);
		} else {
			fprintf(l->f, "%s %.*s\n", check ? "check" : "no-check", (int)(nl - s), s);
		}
		s = *nl ? nl + 1 : nl;
	}
	bin_out_free(&o);
}

/* Traces on which `seed` (first fit over every block, no coalescing) takes
   seconds: replayed under every other policy. */
static bool seed_is_slow(const char *trace)
{
	static const char *const slow[] = {"realloc-bal", "boat",   "coalesce-big", "firefox-reddit",
	                                   "freeciv",     "mutt",   "needle",       "binary2-bal",
	                                   "exhaust",     "login",  NULL};

	for (int i = 0; slow[i]; i++)
		if (strstr(trace, slow[i]))
			return true;
	return false;
}

static void replay_traces(const char *const *traces, const char *name)
{
	struct lines l;

	lines_open(&l);
	for (int i = 0; traces[i]; i++) {
		if (!seed_is_slow(traces[i])) {
			replay_cmd(&l, traces[i], "all", true);
		} else {
			for (const struct malloc_ops *const *p = malloc_policies; *p; p++)
				if (strcmp((*p)->name, "seed"))
					replay_cmd(&l, traces[i], (*p)->name, true);
		}
		replay_cmd(&l, traces[i], "glibc", false);
		replay_cmd(&l, traces[i], "best", false);
	}
	lines_close(&l, name);
}

Test(golden, malloclab_replays_are_unchanged, .timeout = 300)
{
	static const char *const t[] = {
	    "malloclab/amptjp-bal.rep",     "malloclab/binary-bal.rep",   "malloclab/binary2-bal.rep",
	    "malloclab/cccp-bal.rep",       "malloclab/coalescing-bal.rep",
	    "malloclab/cp-decl-bal.rep",    "malloclab/expr-bal.rep",     "malloclab/random-bal.rep",
	    "malloclab/random2-bal.rep",    "malloclab/realloc-bal.rep",  "malloclab/realloc2-bal.rep",
	    "malloclab/short1-bal.rep",     "malloclab/short2-bal.rep",   NULL};

	replay_traces(t, "replay_malloclab.txt");
}

Test(golden, cmu_replays_are_unchanged, .timeout = 300)
{
	static const char *const t[] = {
	    "cmu/bash.rep",       "cmu/chrome.rep",   "cmu/coalesce-big.rep", "cmu/corners.rep",
	    "cmu/exhaust.rep",    "cmu/firefox.rep",  "cmu/freeciv.rep",      "cmu/fs.rep",
	    "cmu/hostname.rep",   "cmu/login.rep",    "cmu/lrucd.rep",        "cmu/ls.rep",
	    "cmu/merry-go-round.rep", "cmu/mutt.rep", "cmu/perl.rep",         "cmu/pulseaudio.rep",
	    "cmu/seglist.rep",    "cmu/xterm.rep",    NULL};

	replay_traces(t, "replay_cmu.txt");
}

/* The benchmark's trace, in the benchmark's mode. */
Test(golden, needle_replays_are_unchanged, .timeout = 300)
{
	struct lines l;

	lines_open(&l);
	for (const struct malloc_ops *const *p = malloc_policies; *p; p++)
		if (strcmp((*p)->name, "seed") && strcmp((*p)->name, "bestfit"))
			replay_cmd(&l, "cmu/needle.rep", (*p)->name, false);
	lines_close(&l, "replay_needle.txt");
}

/* ---- event streams of replays ---------------------------------------------------- */

struct digest {
	uint64_t h, n;
};

/* Every field of every event, in order. */
static void digest_sink(void *ctx, const struct event *ev)
{
	struct digest *d = ctx;
	uint64_t h = d->h;

	h = fnv_u64(h, ev->seq);
	h = fnv_u64(h, (uint64_t)ev->layer << 32 | (uint64_t)ev->kind << 16 | ev->depth);
	h = fnv_str(h, ev->fn);
	h = fnv_str(h, ev->text);
	h = fnv_u64(h, ev->nf);
	for (unsigned i = 0; i < ev->nf; i++) {
		h = fnv_str(h, ev->f[i].key);
		h = fnv_u64(h, ev->f[i].val);
	}
	d->h = h;
	d->n++;
}

/* The figures of a replay that do not depend on time, one string. */
static void figures(const struct replay_result *r, char *buf, size_t len)
{
	snprintf(buf, len,
	         "ops=%llu valid=%d peak_payload=%llu peak_footprint=%llu brk=%llu mmap=%llu "
	         "munmap=%llu faults=%llu tlb_hits=%llu tlb_misses=%llu peak_frames=%llu",
	         (unsigned long long)r->ops, r->valid, (unsigned long long)r->peak_payload,
	         (unsigned long long)r->peak_footprint, (unsigned long long)r->brk_calls,
	         (unsigned long long)r->mmap_calls, (unsigned long long)r->munmap_calls,
	         (unsigned long long)r->page_faults, (unsigned long long)r->tlb_hits,
	         (unsigned long long)r->tlb_misses, (unsigned long long)r->peak_frames);
}

static void replay_streams(const char *const *t, const char *name)
{
	struct lines l;

	lines_open(&l);
	for (int i = 0; t[i]; i++) {
		char path[256], with[512], without[512];
		struct trace *tr;

		snprintf(path, sizeof(path), "demos/traces/%s", t[i]);
		cr_assert_eq(trace_load(path, &tr, stderr), 0, "cannot load %s", path);
		for (const struct malloc_ops *const *p = malloc_policies; *p; p++) {
			for (int check = 1; check >= 0; check--) {
				struct digest d = {FNV_OFFSET, 0};
				struct replay_opts o = {.policy = (*p)->name,
				                        .check = check,
				                        .sink = digest_sink,
				                        .sink_ctx = &d};
				struct replay_result r;

				cr_assert_eq(replay_run(tr, &o, &r), 0);
				figures(&r, with, sizeof(with));
				cr_assert_eq(r.events, d.n, "%s %s: %llu events counted, %llu seen",
				             t[i], (*p)->name, (unsigned long long)r.events,
				             (unsigned long long)d.n);
				fprintf(l.f, "events %s malloc=%s check=%d n=%llu fnv=%016llx %s\n", t[i],
				        (*p)->name, check, (unsigned long long)d.n,
				        (unsigned long long)d.h, with);
				/* No sink: the path replay and the benchmark take. */
				o.sink = NULL;
				cr_assert_eq(replay_run(tr, &o, &r), 0);
				figures(&r, without, sizeof(without));
				cr_assert_str_eq(without, with, "%s %s: a sink changed the figures:\n%s\n%s",
				                 t[i], (*p)->name, with, without);
				cr_assert_eq(r.events, d.n, "%s %s: %llu events without a sink, %llu with",
				             t[i], (*p)->name, (unsigned long long)r.events,
				             (unsigned long long)d.n);
			}
		}
		trace_free(tr);
	}
	lines_close(&l, name);
}

Test(golden, malloclab_replay_event_streams_are_unchanged, .timeout = 300)
{
	static const char *const t[] = {"malloclab/amptjp-bal.rep", "malloclab/cccp-bal.rep",
	                                "malloclab/coalescing-bal.rep",
	                                "malloclab/realloc2-bal.rep", "malloclab/short1-bal.rep",
	                                NULL};

	replay_streams(t, "replay_events_malloclab.txt");
}

Test(golden, cmu_replay_event_streams_are_unchanged, .timeout = 300)
{
	static const char *const t[] = {"cmu/bash.rep", "cmu/corners.rep", "cmu/perl.rep",
	                                "cmu/ls.rep", NULL};

	replay_streams(t, "replay_events_cmu.txt");
}
