/*
 * test_replay.c - trace replay (demos/cli/replay.c): every malloclab trace under
 * every policy is a valid replay with the policy's checker after every op
 * (every Nth on the traces that make it quadratic); cmu traces under glibc
 * and best; invalid traces and buggy policies are caught with a reason; the
 * `replay` command's output and exit status.
 *
 * Budget: the biggest cmu traces (needle, exhaust, firefox-reddit*) run
 * with every block check (alignment, mapping, overlap, contents) but without
 * the policy's heap walk after each op, which would make them quadratic.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demos/cli/commands.h"
#include "demos/cli/replay.h"
#include "libc/libc.h"
#include "tests/support_bin.h"

static const char *const malloclab[] = {
    "amptjp", "binary",  "binary2", "cccp",     "coalescing", "cp-decl", "expr",
    "random", "random2", "realloc", "realloc2", "short1",     "short2",
};

static const char *traces_dir(void)
{
	static char dir[512];

	snprintf(dir, sizeof(dir), "%s/demos/traces", bin_root());
	return dir;
}

static struct trace *load(const char *rel)
{
	char path[640];
	struct trace *t;

	snprintf(path, sizeof(path), "%s/%s", traces_dir(), rel);
	cr_assert_eq(trace_load(path, &t, stderr), 0, "cannot load %s", path);
	return t;
}

static struct trace *parse(const char *text)
{
	struct trace *t;

	cr_assert_eq(trace_parse(text, strlen(text), "inline.rep", &t, stderr), 0);
	return t;
}

static void replay_ok(struct trace *t, const char *policy, bool check, bool heap_check,
                      struct replay_result *r)
{
	struct replay_opts o = {.policy = policy, .check = check, .heap_check = heap_check};

	cr_assert_eq(replay_run(t, &o, r), 0);
	cr_assert(r->valid, "%s under %s: %s", t->path, policy, r->error);
	cr_assert_eq(r->ops, t->nr_ops);
	cr_assert_gt(r->peak_footprint, 0);
	cr_assert_leq(r->peak_payload, r->peak_footprint, "%s under %s", t->path, policy);
	cr_assert_eq(r->peak_payload, trace_peak_payload(t));
}

/* ---- every malloclab trace under every policy ----------------------------- */

struct lab_case {
	char policy[16];
	char trace[16];
};

static void free_lab(struct criterion_test_params *p)
{
	cr_free(p->params);
}

ParameterizedTestParameters(replay, malloclab_trace_is_valid_under_policy)
{
	static const char *const pols[] = {"seed",    "firstfit", "nextfit",
	                                   "bestfit", "glibc",    "best"};
	size_t nt = sizeof(malloclab) / sizeof(malloclab[0]), n = 0;
	struct lab_case *c = cr_malloc(sizeof(*c) * 6 * nt);

	for (size_t i = 0; i < 6; i++)
		for (size_t j = 0; j < nt; j++) {
			strcpy(c[n].policy, pols[i]);
			strcpy(c[n].trace, malloclab[j]);
			n++;
		}
	return cr_make_param_array(struct lab_case, c, n, free_lab);
}

/* seed on realloc-bal builds a 1.4 GB heap (it never coalesces): the slowest case. */
ParameterizedTest(struct lab_case *c, replay, malloclab_trace_is_valid_under_policy, .timeout = 240)
{
	char rel[64];
	struct trace *t;
	struct replay_result r;
	struct replay_opts o = {.policy = c->policy, .check = true, .heap_check = true};

	snprintf(rel, sizeof(rel), "malloclab/%s-bal.rep", c->trace);
	t = load(rel);
	/* The policy checkers walk the whole heap: after every op on the
	   traces up to 6000 ops, after every 64th on the others. */
	o.heap_check_every = t->nr_ops <= 6000 ? 1 : 64;
	cr_assert_eq(replay_run(t, &o, &r), 0);
	cr_assert(r.valid, "%s under %s: %s", t->path, c->policy, r.error);
	cr_assert_eq(r.ops, t->nr_ops);
	cr_assert_leq(r.peak_payload, r.peak_footprint);
	cr_assert_eq(r.peak_payload, trace_peak_payload(t));
	trace_free(t);
}

Test(replay, seed_runs_out_of_memory_on_realloc_bal)
{
	struct trace *t = load("malloclab/realloc-bal.rep");
	struct replay_opts o = {.policy = "seed", .check = true, .phys_bytes = 8ULL << 20};
	struct replay_result r;

	cr_assert_eq(replay_run(t, &o, &r), 0);
	cr_assert_not(r.valid);
	cr_assert(strstr(r.error, "killed by SIGKILL") && strstr(r.error, "out of memory"), "%s",
	          r.error);
	cr_assert_lt(r.ops, t->nr_ops);
	trace_free(t);
}

/* ---- cmu traces ---------------------------------------------------------- */

static const char *const cmu_huge[] = {"needle", "exhaust", "firefox-reddit", "firefox-reddit2"};
static const char *const cmu[] = {
    "bash",    "boat",        "chrome",   "coalesce-big",   "corners",    "firefox",
    "freeciv", "fs",          "hostname", "login",          "lrucd",      "ls.1",
    "ls",      "malloc-free", "malloc",   "merry-go-round", "mutt",       "nlydf",
    "perl.1",  "perl.2",      "perl.3",   "perl",           "pulseaudio", "qyqyc",
    "rm.1",    "rm",          "rulsr",    "seglist",        "stty",       "tty",
    "xterm",
};

static void cmu_all(const char *policy)
{
	for (size_t i = 0; i < sizeof(cmu) / sizeof(cmu[0]); i++) {
		char rel[64];
		struct replay_result r;

		snprintf(rel, sizeof(rel), "cmu/%s.rep", cmu[i]);
		struct trace *t = load(rel);

		replay_ok(t, policy, true, t->nr_ops <= 2000, &r);
		trace_free(t);
	}
}

Test(replay, every_cmu_trace_is_valid_under_glibc, .timeout = 120)
{
	cmu_all("glibc");
}

Test(replay, every_cmu_trace_is_valid_under_best, .timeout = 120)
{
	cmu_all("best");
}

static void cmu_huge_checked(const char *policy)
{
	for (size_t i = 0; i < sizeof(cmu_huge) / sizeof(cmu_huge[0]); i++) {
		char rel[64];
		struct replay_result r;

		snprintf(rel, sizeof(rel), "cmu/%s.rep", cmu_huge[i]);
		struct trace *t = load(rel);

		replay_ok(t, policy, true, false, &r);
		trace_free(t);
	}
}

Test(replay, the_biggest_cmu_traces_are_valid_under_glibc, .timeout = 240)
{
	cmu_huge_checked("glibc");
}

Test(replay, the_biggest_cmu_traces_are_valid_under_best, .timeout = 240)
{
	cmu_huge_checked("best");
}

/* ---- semantics and invalid replays ----------------------------------------- */

static void replay_bad(const char *text, const char *policy, const struct malloc_ops *ops,
                       const char *reason)
{
	struct trace *t = parse(text);
	struct replay_opts o = {.policy = policy, .ops = ops, .check = true, .heap_check = !ops};
	struct replay_result r;

	cr_assert_eq(replay_run(t, &o, &r), 0);
	cr_assert_not(r.valid, "accepted: %s", text);
	cr_assert(strstr(r.error, reason), "error '%s' lacks '%s'", r.error, reason);
	trace_free(t);
}

Test(replay, freeing_an_id_twice_is_an_invalid_replay)
{
	replay_bad("0\n1\n3\n0\na 0 10\nf 0\nf 0\n", "glibc", NULL,
	           "op 3 (line 7): f 0: id 0 is not allocated");
	replay_bad("0\n1\n1\n0\nf 0\n", "best", NULL, "op 1 (line 5): f 0: id 0 is not allocated");
}

Test(replay, allocating_an_allocated_id_is_an_invalid_replay)
{
	replay_bad("0\n1\n2\n0\na 0 10\na 0 20\n", "best", NULL,
	           "op 2 (line 6): a 0: id 0 is already allocated");
}

Test(replay, realloc_to_zero_frees_and_the_id_becomes_unallocated)
{
	const char *const pols[] = {"seed", "firstfit", "nextfit", "bestfit", "glibc", "best"};

	for (int i = 0; i < 6; i++) {
		struct trace *t =
		    parse("0\n2\n6\n0\nf -1\na 0 100\nr 0 0\na 0 50\nr 1 30\nr 1 300\n");
		struct replay_result r;

		replay_ok(t, pols[i], true, true, &r);
		trace_free(t);
		replay_bad("0\n1\n3\n0\na 0 100\nr 0 0\nf 0\n", pols[i], NULL,
		           "op 3 (line 7): f 0: id 0 is not allocated");
	}
}

Test(replay, statistics_add_up)
{
	struct trace *t = parse("0\n3\n5\n0\na 0 100\na 1 5000\nr 0 4000\nf 1\na 2 300000\n");
	struct replay_result r;

	replay_ok(t, "glibc", true, true, &r);
	cr_assert_eq(r.peak_payload, 304000);
	cr_assert_gt(r.mmap_calls, 0); /* glibc mmaps 300000 bytes */
	cr_assert_geq(r.brk_calls, 1);
	cr_assert_gt(r.page_faults, 0);
	cr_assert_gt(r.tlb_misses, 0);
	cr_assert_gt(r.tlb_hits, r.tlb_misses);
	cr_assert_gt(r.peak_frames, 300000 / 4096);
	cr_assert_float_eq(r.util, (double)r.peak_payload / (double)r.peak_footprint, 1e-12);
	cr_assert_str_eq(r.malloc, "glibc");
	cr_assert_str_eq(r.trace, "inline.rep");
	trace_free(t);
}

/* The figures count the trace's operations, not the process's start-up
   (docs/reference.md, What is counted): one malloc of 100 bytes under
   seed touches one new page, so one fault; the start-up took two more. */
Test(replay, figures_count_from_the_first_operation)
{
	struct trace *t = parse("0\n1\n1\n0\na 0 100\n");
	struct replay_opts o = {.policy = "seed", .check = false};
	struct replay_result r;

	cr_assert_eq(replay_run(t, &o, &r), 0);
	cr_assert(r.valid, "%s", r.error);
	cr_assert_eq(r.page_faults, 1);
	trace_free(t);
}

Test(replay, no_check_skips_the_program_s_stores)
{
	struct trace *t = load("malloclab/binary-bal.rep");
	struct replay_opts o = {.policy = "best", .check = false};
	struct replay_result fast, full;

	cr_assert_eq(replay_run(t, &o, &fast), 0);
	o.check = true;
	cr_assert_eq(replay_run(t, &o, &full), 0);
	cr_assert(fast.valid && full.valid);
	/* The same allocator work, without the payload stores. */
	cr_assert_eq(fast.peak_footprint, full.peak_footprint);
	cr_assert_eq(fast.brk_calls, full.brk_calls);
	cr_assert_lt(fast.tlb_hits, full.tlb_hits);
	trace_free(t);
}

/* The benchmark's warm pass: the second run of the trace in the same process
   finds the heap the first left (less what free trimmed), so it takes far
   fewer faults; its figures
   are its own, every block is checked as in the first. */
Test(replay, a_warm_replay_measures_the_second_pass_on_the_heap_the_first_left)
{
	struct trace *t = load("malloclab/amptjp-bal.rep");
	struct replay_opts o = {.policy = "glibc", .check = true};
	struct replay_result cold, warm;

	cr_assert_eq(replay_run(t, &o, &cold), 0);
	o.warm = true;
	cr_assert_eq(replay_run(t, &o, &warm), 0);
	cr_assert(cold.valid && warm.valid, "%s", warm.error);
	cr_assert_eq(warm.ops, t->nr_ops);
	cr_assert_eq(warm.peak_payload, cold.peak_payload);
	cr_assert_lt(warm.page_faults, cold.page_faults / 2, "%llu faults warm, %llu cold",
	             (unsigned long long)warm.page_faults, (unsigned long long)cold.page_faults);
	cr_assert_lt(warm.brk_calls, cold.brk_calls);
	cr_assert_gt(warm.tlb_hits, 0);
	cr_assert_gt(warm.cpu_secs, 0);
	trace_free(t);
}

/* ---- deliberately broken policies, built on best ---------------------------- */

extern const struct malloc_ops malloc_ops_best;

/* Hands out the second block 32 bytes into the first. */
static vaddr_t overlap_first;

static vaddr_t overlap_malloc(struct libc *lc, uint64_t n)
{
	if (overlap_first)
		return overlap_first + 32;
	return overlap_first = malloc_ops_best.malloc(lc, n);
}

static void overlap_free(struct libc *lc, vaddr_t p)
{
}

/* Scribbles over the first payload bytes of the block freed before. */
static vaddr_t scribble_last;

static void scribble_free(struct libc *lc, vaddr_t p)
{
	malloc_ops_best.free(lc, p);
}

static vaddr_t scribble_malloc(struct libc *lc, uint64_t n)
{
	vaddr_t p = malloc_ops_best.malloc(lc, n);

	if (scribble_last)
		libc_st64(lc, scribble_last, 0xdeadbeefdeadbeefULL);
	scribble_last = p;
	return p;
}

static vaddr_t misalign_malloc(struct libc *lc, uint64_t n)
{
	vaddr_t p = malloc_ops_best.malloc(lc, n + 16);

	return p ? p + 8 : 0;
}

static void abort_free(struct libc *lc, vaddr_t p)
{
	libc_malloc_printerr(lc, "free(): double free detected in tcache 2");
}

static vaddr_t wild_malloc(struct libc *lc, uint64_t n)
{
	return 0x10000000ULL; /* nothing is mapped there */
}

static struct malloc_ops broken(vaddr_t (*m)(struct libc *, uint64_t),
                                void (*f)(struct libc *, vaddr_t))
{
	struct malloc_ops o = malloc_ops_best;

	o.name = "broken";
	o.check = NULL;
	if (m)
		o.malloc = m;
	if (f)
		o.free = f;
	return o;
}

Test(replay, overlapping_blocks_are_caught)
{
	struct malloc_ops o = broken(overlap_malloc, overlap_free);

	overlap_first = 0;
	replay_bad("0\n2\n2\n0\na 0 100\na 1 10\n", "broken", &o, "op 2 (line 6): block of id 1");
	overlap_first = 0;
	replay_bad("0\n2\n2\n0\na 0 100\na 1 10\n", "broken", &o, "overlaps live block of id 0");
}

Test(replay, corrupted_contents_are_caught_at_free)
{
	struct malloc_ops o = broken(scribble_malloc, scribble_free);

	scribble_last = 0;
	replay_bad("0\n2\n3\n0\na 0 100\na 1 100\nf 0\n", "broken", &o,
	           "op 3 (line 7): at free: payload of id 0 corrupted at offset 0");
}

Test(replay, corrupted_contents_are_caught_at_the_end)
{
	struct malloc_ops o = broken(scribble_malloc, scribble_free);

	scribble_last = 0;
	replay_bad("0\n2\n2\n0\na 0 100\na 1 100\n", "broken", &o,
	           "at the end: payload of id 0 corrupted");
}

Test(replay, misaligned_blocks_are_caught)
{
	struct malloc_ops o = broken(misalign_malloc, NULL);

	replay_bad("0\n1\n1\n0\na 0 100\n", "broken", &o, "is not 16-byte aligned");
}

Test(replay, blocks_outside_any_mapping_are_caught)
{
	struct malloc_ops o = broken(wild_malloc, NULL);

	replay_bad("0\n1\n1\n0\na 0 100\n", "broken", &o, "is outside the heap");
}

Test(replay, a_process_killed_by_the_allocator_is_an_invalid_replay_with_its_reason)
{
	struct malloc_ops o = broken(NULL, abort_free);

	replay_bad("0\n1\n2\n0\na 0 100\nf 0\n", "broken", &o,
	           "op 2 (line 6): killed by SIGABRT: free(): double free detected in tcache 2");
}

/* Flips the PA bit in the header of the block it returns, as a program
   writing before its block would. */
static vaddr_t corrupt_malloc(struct libc *lc, uint64_t n)
{
	vaddr_t p = malloc_ops_best.malloc(lc, n);

	libc_st64(lc, p - 8, libc_ld64(lc, p - 8) ^ 2);
	return p;
}

Test(replay, policy_checker_failures_are_caught)
{
	struct malloc_ops o = broken(corrupt_malloc, NULL);
	struct trace *t = parse("0\n2\n2\n0\na 0 100\na 1 100\n");
	struct replay_opts ro = {.ops = &o, .check = true, .heap_check = true};
	struct replay_result r;

	o.check = malloc_ops_best.check;
	cr_assert_eq(replay_run(t, &ro, &r), 0);
	cr_assert_not(r.valid);
	cr_assert(strstr(r.error, "op 1 (line 5): heap check: best: chunk") &&
	              strstr(r.error, "PA bit"),
	          "%s", r.error);
	trace_free(t);
}

/* ---- the command ------------------------------------------------------------ */

static char *write_tmp(const char *text)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/test_replay_XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Run cmd_replay with stdout into a string. */
static int run_cmd(char **out, int argc, char **argv)
{
	char path[] = "/tmp/test_replay_out_XXXXXX";
	int fd = mkstemp(path), saved = dup(1), rc;
	FILE *f;
	long n;

	fflush(stdout);
	dup2(fd, 1);
	rc = cmd_replay(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	f = fdopen(fd, "r");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*out = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(*out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	unlink(path);
	return rc;
}

Test(replay_cmd, json_prints_one_object_per_policy_a_line)
{
	char *good = strdup(write_tmp("0\n2\n3\n0\na 0 10\na 1 20\nf 0\n"));
	char *argv[] = {"replay", good, "--malloc", "all", "--json", NULL};
	char *out;
	int lines = 0;

	cr_assert_eq(run_cmd(&out, 5, argv), 0);
	for (char *s = out; (s = strchr(s, '\n')); s++)
		lines++;
	cr_assert_eq(lines, 6, "%s", out);
	cr_assert(strstr(out, "{\"trace\":\"") && strstr(out, "\"malloc\":\"best\"") &&
	              strstr(out, "\"valid\":true") && strstr(out, "\"error\":null") &&
	              strstr(out, "\"peak_payload\":30") && strstr(out, "\"util\":") &&
	              strstr(out, "\"tlb_misses\":") && strstr(out, "\"peak_frames\":") &&
	              strstr(out, "\"secs\":"),
	          "%s", out);
	free(out);
	unlink(good);
	free(good);
}

Test(replay_cmd, exit_status_tells_valid_invalid_and_bad_input)
{
	char *good = strdup(write_tmp("0\n2\n3\n0\na 0 10\na 1 20\nf 0\n"));
	char *twice = strdup(write_tmp("0\n1\n2\n0\na 0 10\nf 0\nf 0\n"));
	char *bad = strdup(write_tmp("0\n1\n1\n0\nq 0 10\n"));
	char *out;

	{
		char *argv[] = {"replay", good, "-m", "best", NULL};

		cr_assert_eq(run_cmd(&out, 4, argv), 0);
		cr_assert(strstr(out, "utilization"), "%s", out);
		free(out);
	}
	{
		char *argv[] = {"replay", good, twice, "--malloc", "glibc", NULL};

		cr_assert_eq(run_cmd(&out, 5, argv), EXIT_SIM_FAILED);
		cr_assert(strstr(out, "Perf index: not scored, 1 of 2 traces invalid"), "%s", out);
		free(out);
	}
	{
		char *argv[] = {"replay", bad, NULL};

		cr_assert_eq(run_cmd(&out, 2, argv), EXIT_BAD_INPUT);
		cr_assert_str_eq(out, "");
		free(out);
	}
	{
		char *argv[] = {"replay", good, "--malloc", "nosuch", NULL};

		cr_assert_eq(run_cmd(&out, 4, argv), EXIT_BAD_INPUT);
		free(out);
	}
	{
		char *argv[] = {"replay", "--frobnicate", good, NULL};

		cr_assert_eq(run_cmd(&out, 3, argv), EXIT_BAD_INPUT);
		free(out);
	}
	{
		char *argv[] = {"replay", NULL};

		cr_assert_eq(run_cmd(&out, 1, argv), EXIT_BAD_INPUT);
		free(out);
	}
	{
		char *argv[] = {"replay", "--help", NULL};

		cr_assert_eq(run_cmd(&out, 2, argv), 0);
		cr_assert(strstr(out, "usage: aftermalloc replay"), "%s", out);
		free(out);
	}
	{
		char *argv[] = {"replay", good, "--phys", "32M", "--no-check", NULL};

		cr_assert_eq(run_cmd(&out, 5, argv), 0);
		free(out);
	}
	unlink(good);
	unlink(twice);
	unlink(bad);
	free(good);
	free(twice);
	free(bad);
}
