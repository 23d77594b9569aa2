/*
 * test_gen.c - `aftermalloc gen` (demos/cli/gen.c): the same seed gives the
 * same bytes, the ratios and size distributions are what the options say,
 * and what it writes replays (every policy, checked), runs and quizzes.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demos/cli/replay.h"
#include "demos/cli/trace.h"
#include "libc/libc.h"
#include "tests/support_bin.h"

static struct bin_out gen(const char *const *args)
{
	const char *argv[24] = {"gen"};
	int n = 1;

	for (; *args && n < 23; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return bin_run(argv, NULL);
}

/* gen's trace on stdout, parsed. */
static struct trace *gen_trace(const char *const *args)
{
	struct bin_out p = gen(args);
	struct trace *t = NULL;

	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert_eq(trace_parse(p.out, p.out_len, "gen.rep", &t, stderr), 0);
	bin_out_free(&p);
	return t;
}

Test(gen, the_same_seed_gives_the_same_bytes_and_another_seed_others)
{
	struct bin_out a = gen((const char *[]){"-s", "42", "-n", "5000", NULL});
	struct bin_out b = gen((const char *[]){"-n", "5000", "--seed", "42", NULL});
	struct bin_out c = gen((const char *[]){"-s", "43", "-n", "5000", NULL});

	cr_assert_eq(a.status, 0, "%s", a.err);
	cr_assert_eq(a.out_len, b.out_len);
	cr_assert_eq(memcmp(a.out, b.out, a.out_len), 0);
	cr_assert(a.out_len != c.out_len || memcmp(a.out, c.out, a.out_len) != 0);
	bin_out_free(&a);
	bin_out_free(&b);
	bin_out_free(&c);
}

/* The generator itself, pinned: splitmix64 from the seed, so any machine. */
Test(gen, seed_1_is_this_workload_in_both_formats)
{
	struct bin_out p = gen((const char *[]){"-s", "1", "-n", "6", NULL});
	struct bin_out q = gen((const char *[]){"-s", "1", "-n", "6", "--format", "ams", NULL});

	cr_assert_str_eq(p.out, "0\n2\n6\n1\na 0 2321\na 1 3978\nf 0\na 0 3594\nr 1 3253\nf 0\n");
	cr_assert_str_eq(q.out, "# aftermalloc gen -s 1 -n 6 --sizes uniform:1-4096 --free-ratio "
	                        "0.45 --realloc-ratio 0.1\n"
	                        "# A random workload (OSTEP's malloc.py): the same options, the "
	                        "same file.\n"
	                        "# p[ID] is block ID; 2 ids, freed ones reused.\n"
	                        "p[0] = malloc 2321\np[1] = malloc 3978\nfree p[0]\n"
	                        "p[0] = malloc 3594\np[1] = realloc p[1] 3253\nfree p[0]\n");
	bin_out_free(&p);
	bin_out_free(&q);
}

Test(gen, the_ratios_are_the_share_of_frees_and_reallocs)
{
	struct trace *t = gen_trace((const char *[]){"-s", "9", "-n", "100000", "--free-ratio",
	                                             "0.3", "--realloc-ratio", "0.2", NULL});
	size_t f = 0, r = 0, a = 0;

	cr_assert_eq(t->nr_ops, 100000);
	for (size_t i = 0; i < t->nr_ops; i++) {
		f += t->ops[i].kind == TOP_FREE;
		r += t->ops[i].kind == TOP_REALLOC;
		a += t->ops[i].kind == TOP_ALLOC;
	}
	/* the live set grows (0.5 mallocs a step against 0.3 frees), so it is
	   never empty after the start: the shares are the ratios, within 1% */
	cr_assert(fabs((double)f / 1e5 - 0.3) < 0.01, "frees %zu", f);
	cr_assert(fabs((double)r / 1e5 - 0.2) < 0.01, "reallocs %zu", r);
	cr_assert_eq(a + f + r, 100000);
	trace_free(t);
}

/* Every size an a or r of t asks for, checked by ok. */
static void sizes_are(struct trace *t, bool (*ok)(uint64_t), const char *what)
{
	for (size_t i = 0; i < t->nr_ops; i++)
		if (t->ops[i].kind != TOP_FREE)
			cr_assert(ok(t->ops[i].size), "%s: size %llu (op %zu)", what,
			          (unsigned long long)t->ops[i].size, i);
	trace_free(t);
}

static bool in_100_200(uint64_t n)
{
	return n >= 100 && n <= 200;
}

static bool pow2_16_4k(uint64_t n)
{
	return n >= 16 && n <= 4096 && !(n & (n - 1));
}

static bool is_64(uint64_t n)
{
	return n == 64;
}

static bool one_of_3(uint64_t n)
{
	return n == 24 || n == 1000 || n == 1 << 20;
}

Test(gen, sizes_follow_the_distribution_asked_for)
{
	struct trace *t;
	double sum = 0;
	size_t n = 0;

	sizes_are(gen_trace((const char *[]){"-s", "1", "-n", "3000", "--sizes", "uniform:100-200",
	                                     NULL}),
	          in_100_200, "uniform:100-200");
	sizes_are(
	    gen_trace((const char *[]){"-s", "1", "-n", "3000", "--sizes", "pow2:16-4K", NULL}),
	    pow2_16_4k, "pow2:16-4K");
	sizes_are(gen_trace((const char *[]){"-s", "1", "-n", "3000", "--sizes", "fixed:64", NULL}),
	          is_64, "fixed:64");
	sizes_are(gen_trace((const char *[]){"-s", "1", "-n", "3000", "--sizes",
	                                     "choice:24,1000,1M", NULL}),
	          one_of_3, "choice");
	t = gen_trace((const char *[]){"-s", "5", "-n", "50000", "--sizes", "exp:100", NULL});
	for (size_t i = 0; i < t->nr_ops; i++)
		if (t->ops[i].kind != TOP_FREE) {
			cr_assert_geq(t->ops[i].size, 1);
			sum += (double)t->ops[i].size;
			n++;
		}
	/* ceil() of an exponential of mean 100: mean about 100.5 */
	cr_assert(fabs(sum / (double)n - 100.5) < 3, "mean %.2f", sum / (double)n);
	trace_free(t);
}

Test(gen, its_trace_replays_valid_through_every_policy, .timeout = 60)
{
	struct trace *t = gen_trace((const char *[]){"-s", "11", "-n", "4000", "--sizes",
	                                             "pow2:8-128K", "--free-ratio", "0.4", NULL});

	for (const struct malloc_ops *const *p = malloc_policies; *p; p++) {
		struct replay_opts o = {.policy = (*p)->name, .check = true};
		struct replay_result r;

		cr_assert_eq(replay_run(t, &o, &r), 0);
		cr_assert(r.valid, "%s: %s", (*p)->name, r.error);
		cr_assert_eq(r.ops, 4000);
	}
	trace_free(t);
}

Test(gen, its_script_runs_and_the_quiz_asks_about_it, .timeout = 60)
{
	char *path = bin_temp_file("", 0, ".ams");
	struct bin_out p = gen((const char *[]){"-s", "2", "-n", "200", "-o", path, NULL});
	struct bin_out r, q;

	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert_eq(p.out_len, 0, "the file, not stdout");
	r = bin_run((const char *[]){"run", path, "--json", NULL}, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\"statements\":200,"), "%.300s", r.out);
	q = bin_run((const char *[]){"quiz", path, "--answers", NULL}, NULL);
	cr_assert_eq(q.status, 0, "%s", q.err);
	cr_assert(strstr(q.out, "line 4: p[0] = malloc "), "%.500s", q.out);
	cr_assert(strstr(q.out, " questions.\n"));
	unlink(path);
	free(path);
	bin_out_free(&p);
	bin_out_free(&r);
	bin_out_free(&q);
}

Test(gen, bad_usage_exits_2_and_says_why)
{
	static const struct {
		const char *args[8], *msg;
	} cases[] = {
	    {{"-n", "10"}, "-s SEED and -n OPS are both needed"},
	    {{"-s", "1"}, "-s SEED and -n OPS are both needed"},
	    {{"-s", "x", "-n", "1"}, "-s: bad seed 'x'"},
	    {{"-s", "1", "-n", "200M"}, "-n: bad number of operations '200M' (0 to 100M)"},
	    {{"-s", "1", "-n", "1", "--sizes", "uniform:9-3"}, "--sizes: 'uniform:9-3' is not"},
	    {{"-s", "1", "-n", "1", "--sizes", "pow2:3-64"}, "--sizes: 'pow2:3-64': pow2's MIN and MAX must be powers of two"},
	    {{"-s", "1", "-n", "1", "--sizes", "normal:5"}, "--sizes: 'normal:5' is not"},
	    {{"-s", "1", "-n", "1", "--sizes", "fixed:0"}, "--sizes: 'fixed:0' is not"},
	    {{"-s", "1", "-n", "1", "--free-ratio", "1.5"},
	     "--free-ratio: '1.5' is not a number from 0 to 1"},
	    {{"-s", "1", "-n", "1", "--free-ratio", "0.6", "--realloc-ratio", "0.5"},
	     "--free-ratio and --realloc-ratio add up to more than 1"},
	    {{"-s", "1", "-n", "1", "-o", "x.txt"}, "x.txt: name the file .rep or .ams"},
	    {{"-s", "1", "-n", "1", "-o", "/nonexistent-dir/x.rep"},
	     "/nonexistent-dir/x.rep: No such file or directory"},
	    {{"-s", "1", "-n", "1", "extra"}, "unexpected argument 'extra'"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bin_out p = gen(cases[i].args);

		cr_assert_eq(p.status, 2, "case %zu", i);
		cr_assert(strstr(p.err, cases[i].msg), "case %zu: %s", i, p.err);
		cr_assert_eq(p.out_len, 0);
		bin_out_free(&p);
	}
}

/* The peak RSS in KiB of `aftermalloc gen ARGS` with stdout and stderr to
   /dev/null, and its exit status in *status. */
static long gen_maxrss_kib(const char *const *args, int *status)
{
	const char *argv[24] = {bin_path(), "gen"};
	struct rusage ru;
	int n = 2, st;
	pid_t pid;

	for (; *args && n < 23; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	cr_assert_eq(wait4(pid, &st, 0, &ru), pid);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return ru.ru_maxrss;
}

/* gen writes as it draws: the host keeps 4 bytes per id, nothing per
   operation (a million operations used to hold 40 MB, the 100M that -n
   allows would have been gigabytes). */
Test(gen, host_memory_does_not_grow_with_the_operations, .timeout = 60)
{
	int st1, st2;
	long small, big;

	big = gen_maxrss_kib((const char *[]){"-s", "1", "-n", "4000000", "--format", "rep", "-o",
	                                      "/dev/null", NULL},
	                     &st2);
	small = gen_maxrss_kib(
	    (const char *[]){"-s", "1", "-n", "1000", "--format", "rep", "-o", "/dev/null", NULL},
	    &st1);
	cr_assert_eq(st1, 0);
	cr_assert_eq(st2, 0);
	cr_assert_lt(big - small, 8 * 1024,
	             "4M operations took %ld KiB more than 1000 (a trace_op each would be 128 MB)",
	             big - small);
}

/* replay reads at most TRACE_MAX_IDS ids: a workload with more blocks live
   at once is refused before any file is made, not written unreadable. */
Test(gen, more_ids_than_a_trace_holds_is_refused_before_writing, .timeout = 60)
{
	char *path = bin_temp_file("", 0, ".rep");
	struct bin_out p;

	unlink(path);
	p = gen((const char *[]){"-s", "1", "-n", "17000000", "--free-ratio", "0",
	                         "--realloc-ratio", "0", "-o", path, NULL});
	cr_assert_eq(p.status, 2, "%s", p.err);
	cr_assert(strstr(p.err, "aftermalloc gen: more than 16777216 blocks live at once by "
	                        "operation 16777217: more than a trace holds"),
	          "%s", p.err);
	cr_assert_eq(access(path, F_OK), -1, "no file is left");
	bin_out_free(&p);
	free(path);
}
