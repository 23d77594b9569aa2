/*
 * test_lab.c - policies of one's own (plugins): the public headers
 * (libc/policy.h, libc/memlib.h), the adapter (libc/memlib.c), the loader
 * and compiler (demos/cli/plugin.c), the guard (demos/cli/plugin_guard.c),
 * the sandbox (demos/cli/sandbox.c), the mdriver report (demos/cli/mdriver.c)
 * and the commands that use them: `lab`, and `--malloc ./mm.so` for run,
 * step and replay.
 *
 * The two example plugins of demos/lab/ are built and replay every
 * malloc-lab trace: the seed plugin with exactly the figures of the built-in
 * `seed` policy (the same loads and stores in the same order), the textbook
 * implicit list with its mm_checkheap after every operation. A plugin that
 * goes wrong on purpose (tests/lab/mm-faulty.c, one fault per -DFAULT=N)
 * is caught and reported with exit status 1 while the other traces' results
 * stand; a file that does not compile is exit status 2.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "demos/cli/mdriver.h"
#include "demos/cli/plugin.h"
#include "demos/cli/plugin_guard.h"
#include "demos/cli/replay.h"
#include "demos/cli/session.h"
#include "kernel_sim/task.h"
#include "libc/memlib_host.h"
#include "tests/support_bin.h"

static const char *const malloclab[] = {
    "amptjp", "binary",  "binary2", "cccp",     "coalescing", "cp-decl", "expr",
    "random", "random2", "realloc", "realloc2", "short1",     "short2",
};
#define NR_MALLOCLAB (sizeof(malloclab) / sizeof(malloclab[0]))

/* ---- helpers -------------------------------------------------------------- */

static char *src_path(const char *rel)
{
	char *p;

	cr_assert_geq(asprintf(&p, "%s/%s", bin_root(), rel), 0);
	return p;
}

static char *trace_path(const char *name)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "malloclab/%s-bal.rep", name);
	return strdup(bin_trace_path(rel));
}

/* A fresh temporary directory (the caller removes what it puts there). */
static char *temp_dir(void)
{
	char *d = strdup("/tmp/aftermalloc-test-lab-XXXXXX");

	cr_assert(mkdtemp(d));
	return d;
}

/* rel (under the root) compiled as `lab` compiles it, with cflags as $CFLAGS,
   into dir/name; returns the shared object's path. */
static char *build_plugin(const char *dir, const char *rel, const char *cflags, const char *name)
{
	char *src = src_path(rel), *so;

	cr_assert_geq(asprintf(&so, "%s/%s", dir, name), 0);
	if (cflags)
		setenv("CFLAGS", cflags, 1);
	else
		unsetenv("CFLAGS");
	cr_assert_eq(plugin_compile(NULL, src, so, stderr), 0, "%s does not compile", src);
	unsetenv("CFLAGS");
	free(src);
	return so;
}

static void remove_dir(char *dir, char *so)
{
	if (so)
		remove(so);
	rmdir(dir);
	free(so);
	free(dir);
}

static struct trace *load(const char *name)
{
	char *path = trace_path(name);
	struct trace *t;

	cr_assert_eq(trace_load(path, &t, stderr), 0, "cannot load %s", path);
	free(path);
	return t;
}

static void expect_same_figures(const struct replay_result *a, const struct replay_result *b)
{
	cr_assert_eq(a->valid, b->valid, "%s: %s / %s", a->trace, a->error, b->error);
	cr_assert_eq(a->ops, b->ops, "%s", a->trace);
	cr_assert_eq(a->peak_payload, b->peak_payload, "%s", a->trace);
	cr_assert_eq(a->peak_footprint, b->peak_footprint, "%s", a->trace);
	cr_assert_eq(a->brk_calls, b->brk_calls, "%s", a->trace);
	cr_assert_eq(a->mmap_calls, b->mmap_calls, "%s", a->trace);
	cr_assert_eq(a->munmap_calls, b->munmap_calls, "%s", a->trace);
	cr_assert_eq(a->page_faults, b->page_faults, "%s", a->trace);
	cr_assert_eq(a->tlb_hits, b->tlb_hits, "%s", a->trace);
	cr_assert_eq(a->tlb_misses, b->tlb_misses, "%s", a->trace);
	cr_assert_eq(a->peak_frames, b->peak_frames, "%s", a->trace);
}

static char **trace_names(void)
{
	char **v = cr_malloc(NR_MALLOCLAB * sizeof(*v));

	for (size_t i = 0; i < NR_MALLOCLAB; i++) {
		v[i] = cr_malloc(strlen(malloclab[i]) + 1);
		strcpy(v[i], malloclab[i]);
	}
	return v;
}

static void free_names(struct criterion_test_params *p)
{
	char **v = p->params;

	for (size_t i = 0; i < p->length; i++)
		cr_free(v[i]);
	cr_free(v);
}

ParameterizedTestParameters(lab, seed_plugin_has_the_figures_of_the_builtin_seed)
{
	return cr_make_param_array(char *, trace_names(), NR_MALLOCLAB, free_names);
}

/* ---- the example plugins on every malloc-lab trace --------------------------- */

/* seed on realloc-bal builds a 1.4 GB heap: the slowest case, twice. */
ParameterizedTest(char **name, lab, seed_plugin_has_the_figures_of_the_builtin_seed, .timeout = 240)
{
	char *dir = temp_dir(), *so = build_plugin(dir, "demos/lab/mm-seed.c", NULL, "mm-seed.so");
	struct plugin *p = plugin_open(so, "mm-seed.c", NULL, stderr);
	struct trace *t = load(*name);
	struct replay_opts builtin = {.policy = "seed", .check = true};
	struct replay_opts plugin = {.check = true};
	struct replay_result a, b;

	cr_assert(p);
	plugin.ops = plugin_ops(p);
	cr_assert_eq(replay_run(t, &builtin, &a), 0);
	cr_assert_eq(replay_run(t, &plugin, &b), 0);
	cr_assert(a.valid, "%s: %s", t->path, a.error);
	expect_same_figures(&a, &b);
	cr_assert_str_eq(b.malloc, "mm-seed.c");
	trace_free(t);
	plugin_close(p);
	remove_dir(dir, so);
}

ParameterizedTestParameters(lab, implicit_plugin_replays_with_its_checker)
{
	return cr_make_param_array(char *, trace_names(), NR_MALLOCLAB, free_names);
}

ParameterizedTest(char **name, lab, implicit_plugin_replays_with_its_checker, .timeout = 240)
{
	char *dir = temp_dir();
	char *so = build_plugin(dir, "demos/lab/mm-implicit.c", NULL, "mm-implicit.so");
	struct plugin *p = plugin_open(so, NULL, NULL, stderr);
	struct trace *t = load(*name);
	struct replay_opts o = {.check = true, .heap_check = true};
	struct replay_result r;

	cr_assert(p);
	o.ops = plugin_ops(p);
	/* mm_checkheap walks the whole heap: every op on the small traces. */
	o.heap_check_every = t->nr_ops <= 6000 ? 1 : 64;
	cr_assert_eq(replay_run(t, &o, &r), 0);
	cr_assert(r.valid, "%s: %s", t->path, r.error);
	cr_assert_eq(r.ops, t->nr_ops);
	cr_assert_eq(r.peak_payload, trace_peak_payload(t));
	cr_assert_leq(r.peak_payload, r.peak_footprint);
	cr_assert_eq(r.mmap_calls, 0);
	trace_free(t);
	plugin_close(p);
	remove_dir(dir, so);
}

/* ---- the lab command ------------------------------------------------------------- */

static cJSON *parse_line(const char **text)
{
	const char *nl = strchr(*text, '\n');
	char *line;
	cJSON *j;

	cr_assert(nl, "no more lines in the output");
	line = strndup(*text, (size_t)(nl - *text));
	j = cJSON_Parse(line);
	cr_assert(j, "not JSON: %s", line);
	free(line);
	*text = nl + 1;
	return j;
}

static double jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert(cJSON_IsNumber(v), "no number %s", key);
	return v->valuedouble;
}

Test(lab, reports_the_seed_plugin_with_the_builtin_seed_s_figures, .timeout = 120)
{
	char *src = src_path("demos/lab/mm-seed.c"), *t1 = trace_path("short1"),
	     *t2 = trace_path("amptjp"), *t3 = trace_path("coalescing");
	const char *lab[] = {"lab", src, t1, t2, t3, "--json", NULL};
	const char *rep[] = {"replay", t1, t2, t3, "--malloc", "seed", "--json", NULL};
	static const char *const keys[] = {
	    "ops",        "peak_payload", "peak_footprint", "util",       "brk_calls",
	    "mmap_calls", "page_faults",  "tlb_hits",       "tlb_misses", "peak_frames"};
	struct bin_out a = bin_run(lab, NULL), b = bin_run(rep, NULL);
	const char *pa = a.out, *pb = b.out;
	cJSON *last, *sum;

	cr_assert_eq(a.status, 0, "%s", a.err);
	cr_assert_eq(b.status, 0, "%s", b.err);
	for (int i = 0; i < 3; i++) {
		cJSON *x = parse_line(&pa), *y = parse_line(&pb);

		cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(x, "valid")));
		cr_assert_str_eq(cJSON_GetObjectItem(x, "malloc")->valuestring, "mm-seed.c");
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			cr_assert_eq(jnum(x, keys[k]), jnum(y, keys[k]), "%s: %s",
			             cJSON_GetObjectItem(x, "trace")->valuestring, keys[k]);
		cr_assert_gt(jnum(x, "kops"), 0);
		cJSON_Delete(x);
		cJSON_Delete(y);
	}
	last = parse_line(&pa);
	sum = cJSON_GetObjectItem(last, "summary");
	cr_assert(sum);
	cr_assert_eq(jnum(sum, "traces"), 3);
	cr_assert_eq(jnum(sum, "valid"), 3);
	cr_assert_gt(jnum(sum, "ref_kops"), 0);
	cr_assert_float_eq(jnum(sum, "perf_index"), jnum(sum, "perf_util") + jnum(sum, "perf_thru"),
	                   1e-9);
	/* 60 points for util: the mean of the three traces' */
	cr_assert_float_eq(jnum(sum, "perf_util"), 60 * jnum(sum, "util"), 1e-9);
	cr_assert_eq(*pa, '\0');
	cJSON_Delete(last);
	bin_out_free(&a);
	bin_out_free(&b);
	free(src);
	free(t1);
	free(t2);
	free(t3);
}

Test(lab, prints_mdriver_s_table_and_performance_index, .timeout = 120)
{
	char *src = src_path("demos/lab/mm-implicit.c"), *t = trace_path("short2");
	const char *args[] = {"lab", src, t, NULL};
	struct bin_out o = bin_run(args, NULL);

	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_assert(strstr(o.out, "Results for mm malloc ("), "%s", o.out);
	/* replay's table (demos/cli/mdriver.c): the same header */
	cr_assert(strstr(o.out, "trace                valid   util      ops       secs   Kops   "
	                        "faults  frames    brk  mmap   tlbmiss\n"),
	          "%s", o.out);
	cr_assert(strstr(o.out, "\nshort2-bal.rep         yes  89.3%       12 "), "%s", o.out);
	cr_assert(strstr(o.out, "        6      15      7     0        12\nTotal "), "%s", o.out);
	cr_assert(strstr(o.out, "Throughput reference: the built-in glibc policy on the same "
	                        "traces, "),
	          "%s", o.out);
	cr_assert(strstr(o.out, "\nPerf index = 54 (util) + "), "%s", o.out);
	bin_out_free(&o);
	free(src);
	free(t);
}

Test(lab, tracedir_replays_every_trace_of_the_directory_in_order, .timeout = 60)
{
	char *src = src_path("demos/lab/mm-seed.c"), *dir = temp_dir(), *a, *b;
	const char *args[] = {"lab", src, "-t", dir, NULL};
	struct bin_out o;
	char *tb, *ta;

	cr_assert_geq(asprintf(&a, "%s/b-first.rep", dir), 0);
	cr_assert_geq(asprintf(&b, "%s/a-second.rep", dir), 0);
	cr_assert_eq(symlink(bin_trace_path("cmu/malloc-free.rep"), a), 0);
	cr_assert_eq(symlink(bin_trace_path("malloclab/short1-bal.rep"), b), 0);
	o = bin_run(args, NULL);
	cr_assert_eq(o.status, 0, "%s", o.err);
	ta = strstr(o.out, "a-second.rep");
	tb = strstr(o.out, "b-first.rep");
	cr_assert(ta && tb && ta < tb, "%s", o.out);
	cr_assert(strstr(o.out, "Perf index = "), "%s", o.out);
	bin_out_free(&o);
	remove(a);
	remove(b);
	free(a);
	free(b);
	remove_dir(dir, NULL);
	free(src);
}

Test(lab, bad_usage_exits_2)
{
	char *src = src_path("demos/lab/mm-seed.c");
	const char *none[] = {"lab", NULL};
	const char *no_trace[] = {"lab", src, NULL};
	const char *not_c[] = {"lab", "mm.txt", "x.rep", NULL};
	const char *no_dir[] = {"lab", src, "-t", "/nonexistent-dir", NULL};
	const char *bad_timeout[] = {"lab", src, "x.rep", "--timeout", "soon", NULL};
	const char *const *cases[] = {none, no_trace, not_c, no_dir, bad_timeout};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bin_out o = bin_run(cases[i], NULL);

		cr_assert_eq(o.status, 2, "case %zu: %s", i, o.err);
		cr_assert_eq(o.out_len, 0, "case %zu: %s", i, o.out);
		cr_assert_gt(o.err_len, 0);
		bin_out_free(&o);
	}
	free(src);
}

Test(lab, a_file_that_does_not_compile_exits_2_with_the_compiler_s_messages, .timeout = 60)
{
	static const char bad[] = "#include <aftermalloc/memlib.h>\n"
	                          "int mm_init(void) { return 0 }\n";
	char *src = bin_temp_file(bad, sizeof(bad) - 1, ".c");
	const char *args[] = {"lab", src, bin_trace_path("malloclab/short1-bal.rep"), NULL};
	struct bin_out o = bin_run(args, NULL);

	cr_assert_eq(o.status, 2, "%s", o.err);
	cr_assert(strstr(o.err, "error:"), "the compiler's own words: %s", o.err);
	cr_assert(strstr(o.err, ":2:"), "the line: %s", o.err);
	cr_assert(strstr(o.err, "compilation failed"), "%s", o.err);
	cr_assert_eq(o.out_len, 0);
	bin_out_free(&o);
	unlink(src);
	free(src);
}

Test(lab, a_file_that_is_not_a_plugin_exits_2_and_says_why, .timeout = 60)
{
	static const char missing[] = "#include <aftermalloc/memlib.h>\n"
	                              "int mm_init(void) { return 0; }\n"
	                              "void *mm_malloc(size_t n) { return mem_sbrk(n); }\n"
	                              "void mm_free(void *p) { (void)p; }\n";
	static const char foreign[] = "int mm_init(void) { return 0; }\n";
	char *a = bin_temp_file(missing, sizeof(missing) - 1, ".c");
	char *b = bin_temp_file(foreign, sizeof(foreign) - 1, ".c");
	const char *t = bin_trace_path("malloclab/short1-bal.rep");
	const char *args_a[] = {"lab", a, t, NULL}, *args_b[] = {"lab", b, t, NULL};
	struct bin_out oa = bin_run(args_a, NULL), ob = bin_run(args_b, NULL);

	cr_assert_eq(oa.status, 2, "%s", oa.err);
	cr_assert(strstr(oa.err, "no mm_realloc"), "%s", oa.err);
	cr_assert_eq(ob.status, 2, "%s", ob.err);
	cr_assert(strstr(ob.err, "not an aftermalloc plugin"), "%s", ob.err);
	bin_out_free(&oa);
	bin_out_free(&ob);
	unlink(a);
	unlink(b);
	free(a);
	free(b);
}

/* ---- a plugin that goes wrong ------------------------------------------------------ */

/* Text, not pointers: Criterion hands parameters to another process. */
struct fault_case {
	int fault;
	char says[64];    /* in the reason */
	char or_says[64]; /* another acceptable reason (a sanitizer's build), or "" */
	char at[32];      /* the operation reported, when not the faulty call's */
};

ParameterizedTestParameters(lab, a_faulty_plugin_is_caught_and_the_other_results_stand)
{
	static struct fault_case cases[] = {
	    {1, "dereferenced the simulated address 0x5555555", "", ""},
	    {2, "SIGSEGV at host address 0x10 (a wild pointer?)", "", ""},
	    {3, "an endless loop?", "", ""},
	    {4, "is not 16-byte aligned", "", ""},
	    {5, "overlaps live block of id 98", "", ""},
	    {6, "called abort()", "", ""},
	    {7, "exited with status 3", "", ""},
	    {8, "an endless loop?", "", ""},
	    {9, "SIGFPE", "", ""},
	    {10, "mm_malloc overflowed its stack", "crashed the process running the trace", ""},
	    {11, "is outside the heap [0x555555559000, ", "", ""},
	    /* seen when the trace frees the block */
	    {12, "at free: payload of id 98 corrupted at offset 0 ", "", "op 5686 (line 5690)"},
	    {13, "killed by SIGSEGV: SEGV_MAPERR at 0x5555", "", ""},
	};

	return cr_make_param_array(struct fault_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct fault_case *c, lab, a_faulty_plugin_is_caught_and_the_other_results_stand,
                  .timeout = 120)
{
	char *src = src_path("tests/lab/mm-faulty.c"), flags[32], where[96];
	char *t1 = trace_path("short1"), *t2 = trace_path("amptjp");
	const char *args[] = {"lab", src, t1, t2, "--timeout", "8", NULL};
	struct bin_out o;

	snprintf(flags, sizeof(flags), "-DFAULT=%d", c->fault);
	setenv("CFLAGS", flags, 1);
	o = bin_run(args, NULL);
	cr_assert_eq(o.status, 1, "fault %d: %s", c->fault, o.err);
	/* The trace, the op, the reason. */
	snprintf(where, sizeof(where), "amptjp-bal.rep: mm-faulty.c: invalid replay: %s: ",
	         c->at[0] ? c->at : "op 100 (line 104)");
	cr_assert(strstr(o.err, where), "fault %d: %s", c->fault, o.err);
	cr_assert(strstr(o.err, c->says) || (c->or_says[0] && strstr(o.err, c->or_says)),
	          "fault %d: %s", c->fault, o.err);
	/* The other trace's result stands. */
	cr_assert(strstr(o.out, "\nshort1-bal.rep         yes  49.4%       12 "), "fault %d: %s",
	          c->fault, o.out);
	cr_assert(strstr(o.out, "\namptjp-bal.rep          no      -        -"), "%s", o.out);
	cr_assert(strstr(o.out, "Perf index: not scored, 1 of 2 traces invalid\n"), "%s", o.out);
	bin_out_free(&o);
	free(src);
	free(t1);
	free(t2);
}

Test(lab, replay_of_a_plugin_keeps_the_other_traces_results, .timeout = 60)
{
	char *dir = temp_dir(),
	     *so = build_plugin(dir, "tests/lab/mm-faulty.c", "-DFAULT=1", "f.so");
	char *t1 = trace_path("short1"), *t2 = trace_path("amptjp");
	const char *args[] = {"replay", t1, t2, "--malloc", so, NULL};
	struct bin_out o = bin_run(args, NULL);

	cr_assert_eq(o.status, 1, "%s", o.err);
	cr_assert(strstr(o.out, "Results for malloc policy f.so:"), "%s", o.out);
	cr_assert(strstr(o.out, "\nshort1-bal.rep         yes  49.4%       12 "), "%s", o.out);
	cr_assert(strstr(o.out, "\namptjp-bal.rep          no      -        -"), "%s", o.out);
	cr_assert(strstr(o.err, "op 100 (line 104): killed by SIGSEGV: f.so: mm_malloc "
	                        "dereferenced the simulated address 0x5555555"),
	          "%s", o.err);
	bin_out_free(&o);
	free(t1);
	free(t2);
	remove_dir(dir, so);
}

/* ---- run and step with a plugin ----------------------------------------------------- */

static const char heap_script[] = "p = malloc 100\n"
                                  "q = malloc 5000\n"
                                  "free p\n"
                                  "show heap\n";

/* `aftermalloc CMD SCRIPT --malloc PLUGIN`, the plugin built from rel with
   cflags (named NAME.so in a temporary directory), input its stdin; the
   script is a file under the root when script_rel, else the text script. */
static struct bin_out with_plugin(const char *cmd, const char *script, bool script_rel,
                                  const char *rel, const char *cflags, const char *name,
                                  const char *input)
{
	char *dir = temp_dir(), *so = build_plugin(dir, rel, cflags, name);
	char *path = script_rel ? src_path(script) : bin_script_file(script);
	const char *args[] = {cmd, path, "--malloc", so, NULL};
	struct bin_out o = bin_run(args, input);

	if (!script_rel)
		unlink(path);
	free(path);
	remove_dir(dir, so);
	return o;
}

Test(lab, run_shows_the_plugin_s_heap_through_mm_walk, .timeout = 60)
{
	struct bin_out o =
	    with_plugin("run", heap_script, false, "demos/lab/mm-implicit.c", NULL, "i.so", NULL);

	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_assert(strstr(o.out, "malloc policy i.so"), "%s", o.out);
	cr_assert(strstr(o.out, "0x555555559020       0x80 0x555555559020  0     free   free\n"),
	          "%s", o.out);
	cr_assert(strstr(o.out, "0x5555555590a0     0x13a0 0x5555555590a0  0x1   in use"), "%s",
	          o.out);
	cr_assert(strstr(o.out, "3 blocks: 1 in use (5024 bytes), 2 free (4096 bytes); policy "
	                        "i.so"),
	          "%s", o.out);
	bin_out_free(&o);
}

Test(lab, step_shows_the_plugin_s_functions_on_the_path, .timeout = 60)
{
	struct bin_out o = with_plugin("step", heap_script, false, "demos/lab/mm-implicit.c", NULL,
	                               "i.so", "f\nb\nf\nq\n");

	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_assert(strstr(o.out, "path  line 1 `p = malloc 100` > malloc > mm_init > [#PF]"), "%s",
	          o.out);
	bin_out_free(&o);
}

Test(lab, a_direct_dereference_kills_the_simulated_process_not_the_tool, .timeout = 60)
{
	struct bin_out o = with_plugin("run", "p = malloc 100\n", false, "tests/lab/mm-faulty.c",
	                               "-DFAULT=1 -DFAULT_AT=1", "f.so", NULL);

	cr_assert_eq(o.status, 1, "%s", o.err);
	cr_assert(strstr(o.out, "killed by SIGSEGV (SEGV_ACCERR)"), "%s", o.out);
	cr_assert(strstr(o.err, "f.so: mm_malloc dereferenced the simulated address "
	                        "0x555555559010 directly (a store)"),
	          "%s", o.err);
	bin_out_free(&o);
}

/* In the tool's own process (run, step, view) nothing but the guard stands
   between the plugin and the session: an endless loop through the
   accessors, a stack overflow and exit() are still reported as what they
   are, the first two as the simulated process's death. */
struct in_process_case {
	char script[40];
	char flags[32];
	int status;
	char out[40];  /* in the report */
	char err[128]; /* on stderr */
};

ParameterizedTestParameters(lab, in_process_a_fault_is_reported_as_what_it_is)
{
	static struct in_process_case cases[] = {
	    {"p = malloc 100\nq = malloc 100\n", "-DFAULT=8 -DFAULT_AT=2", 1,
	     "killed by SIGXCPU (SI_KERNEL)",
	     "f.so: mm_malloc made 268435456 accesses to simulated memory without returning: an "
	     "endless loop?"},
	    {"p = malloc 100\nq = malloc 100\n", "-DFAULT=10 -DFAULT_AT=1", 1, "killed by SIGSEGV",
	     "f.so: mm_malloc overflowed its stack (SIGSEGV at "},
	    {"p = malloc 100\n", "-DFAULT=7 -DFAULT_AT=1", 3, "",
	     "aftermalloc: f.so: mm_malloc called exit(3): the plugin runs in this process, which "
	     "ends with it\n"},
	};

	return cr_make_param_array(struct in_process_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct in_process_case *c, lab, in_process_a_fault_is_reported_as_what_it_is,
                  .timeout = 120)
{
	struct bin_out o =
	    with_plugin("run", c->script, false, "tests/lab/mm-faulty.c", c->flags, "f.so", NULL);

	cr_assert_eq(o.status, c->status, "%s: %s", c->flags, o.err);
	cr_assert(strstr(o.out, c->out), "%s: %s", c->flags, o.out);
	cr_assert(strstr(o.err, c->err), "%s: %s", c->flags, o.err);
	bin_out_free(&o);
}

/* The seed-walk demo's expects hold with the seed plugin too. */
Test(lab, the_seed_walk_demo_runs_unchanged_on_the_seed_plugin, .timeout = 60)
{
	struct bin_out o = with_plugin("run", "demos/seed-walk.ams", true, "demos/lab/mm-seed.c",
	                               NULL, "s.so", NULL);

	cr_assert_eq(o.status, 0, "%s\n%s", o.out, o.err);
	cr_assert(strstr(o.out, "malloc policy s.so"), "%s", o.out);
	bin_out_free(&o);
}

/* ---- in this process: sessions, side calls, the guard ------------------------------- */

/* Two sessions of one plugin file at once (view --compare A,A): each its
   own copy, its own globals. */
Test(lab, one_plugin_file_serves_two_simulations_at_once, .timeout = 60)
{
	char *dir = temp_dir(), *so = build_plugin(dir, "demos/lab/mm-implicit.c", NULL, "i.so");
	struct script *sc;
	struct session_opts o;
	struct session *a, *b;
	static const char text[] = "p = malloc 100\nq = malloc 200\n";

	cr_assert_eq(script_parse("two.ams", text, &sc, stderr), 0);
	session_default_opts(&o);
	o.policy = so;
	a = session_create(sc, &o, stderr);
	b = session_create(sc, &o, stderr);
	cr_assert(a && b);
	cr_assert_neq(a->lc->ops, b->lc->ops);
	while (!session_done(a)) {
		cr_assert_eq(session_step(a), SESSION_OK);
		cr_assert_eq(session_step(b), SESSION_OK);
		cr_assert_eq(a->res.ret, b->res.ret);
		cr_assert_eq(session_check(a, stderr), 0);
		cr_assert_eq(session_check(b, stderr), 0);
	}
	session_destroy(a);
	session_destroy(b);
	script_free(sc);
	remove_dir(dir, so);
}

static void count_block(void *ctx, const struct chunk_info *ci)
{
	(void)ci;
	++*(int *)ctx;
}

/* A walk that never ends and a checker that stores are side calls cut
   short, with the reason; the process goes on. */
Test(lab, a_bad_walk_or_checker_is_abandoned_not_fatal, .timeout = 60)
{
	char *dir = temp_dir();
	char *so = build_plugin(dir, "tests/lab/mm-faulty.c", "-DWALK_FAULT=1", "w.so");
	struct script *sc;
	struct session_opts o;
	struct session *s;
	struct memlib *m;
	char *buf = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&buf, &len);
	int n = 0;

	cr_assert_eq(script_parse("w.ams", "p = malloc 100\nq = malloc 200\n", &sc, stderr), 0);
	session_default_opts(&o);
	o.policy = so;
	s = session_create(sc, &o, stderr);
	cr_assert(s);
	cr_assert_eq(session_step(s), SESSION_OK);
	m = memlib_of(s->lc);
	cr_assert(m);
	s->lc->ops->walk(s->lc, count_block, &n);
	cr_assert_gt(n, 1000, "the walk saw the same block again and again: %d", n);
	cr_assert(strstr(m->side_error, "an endless walk?"), "%s", m->side_error);
	cr_assert_eq(s->lc->ops->check(s->lc, err), 1);
	fflush(err);
	cr_assert(strstr(buf, "mm_checkheap stored into simulated memory"), "%s", buf);
	cr_assert_eq(m->mode, MEMLIB_IDLE);
	/* The program goes on. */
	cr_assert_eq(session_step(s), SESSION_OK);
	cr_assert(s->res.ret > 0);
	fclose(err);
	free(buf);
	session_destroy(s);
	script_free(sc);
	remove_dir(dir, so);
}

/*
 * This test process has host memory in the ranges the guard reserves: ASLR
 * put a library or the heap there, about one run in eight. The command
 * re-executes itself then (plugin_guard.c, REEXEC_TRIES); the test does the
 * same: it runs again in a fresh process (this binary, filtered to it,
 * without the BXFI_MAP by which Criterion's sandbox tells its workers), up
 * to 8 deep, and passes when that run passed. Skipped only when all 8
 * collided (about one in 10^7).
 */
static void guard_test_in_fresh_process(void)
{
	const char *env = getenv("AM_GUARD_TEST_DEPTH");
	int depth = env ? atoi(env) : 0;
	char cmd[256], out[4096] = "";
	size_t len = 0, got;
	FILE *f;
	int st;

	if (depth >= 8)
		cr_skip_test("host memory in the simulated ranges in 8 processes in a row");
	snprintf(cmd, sizeof(cmd),
	         "env -u BXFI_MAP AM_GUARD_TEST_DEPTH=%d /proc/%d/exe --filter "
	         "'lab/the_guard_covers_the_simulated_layout' 2>&1",
	         depth + 1, (int)getpid());
	f = popen(cmd, "r");
	cr_assert(f, "%s", cmd);
	while (len < sizeof(out) - 1 && (got = fread(out + len, 1, sizeof(out) - 1 - len, f)) > 0)
		len += got;
	out[len] = 0;
	st = pclose(f);
	if (strstr(out, "Tested: 0 "))
		cr_skip_test("host memory in the simulated ranges in 8 processes in a row");
	cr_assert(st == 0 && strstr(out, "Tested: 1 | Passing: 1 "), "%s:\n%s", cmd, out);
}

/* What a simulated process uses lies in the ranges the guard keeps unmapped. */
Test(lab, the_guard_covers_the_simulated_layout)
{
	struct kernel *k = calloc(1, sizeof(*k));
	struct kernel_opts ko;
	struct task *t;
	const struct mm_struct *mm;

	kernel_default_opts(&ko);
	cr_assert_eq(kernel_boot(k, &ko, stderr), 0);
	t = task_create(k, "guard");
	cr_assert(t);
	mm = t->mm;
	plugin_guard_layout(false);
	if (!plugin_guard_covers(GUARD_IMAGE_START) ||
	    !plugin_guard_covers(GUARD_TOP_END - GUARD_TOP_BYTES)) {
		task_destroy(k, t);
		kernel_shutdown(k);
		free(k);
		guard_test_in_fresh_process();
		return;
	}
	cr_assert(plugin_guard_covers(mm->start_code));
	cr_assert(plugin_guard_covers(mm->start_brk));
	cr_assert(plugin_guard_covers(mm->start_brk + (16ULL << 30)), "16 GiB of heap");
	cr_assert(plugin_guard_covers(mm->mmap_base - 1));
	cr_assert(plugin_guard_covers(mm->mmap_base - (1ULL << 30)), "1 GiB of mappings");
	cr_assert(plugin_guard_covers(mm->start_stack));
	cr_assert_not(plugin_guard_covers(GUARD_IMAGE_START - 1));
	task_destroy(k, t);
	kernel_shutdown(k);
	free(k);
}

/* ---- the installed interface --------------------------------------------------------- */

Test(lab, installed_headers_and_pkg_config_build_plugins, .timeout = 120)
{
	char *prefix = temp_dir(), *cmd, *so;
	const char *natives[] = {"demos/lab/mm-seed.c", "tests/lab/native-bump.c"};

	for (size_t i = 0; i < 2; i++) {
		cr_assert_geq(asprintf(&so, "%s/p%zu.so", prefix, i), 0);
		/* Outside the tree: the file alone in PREFIX, the headers found
		   through pkg-config alone. */
		cr_assert_geq(asprintf(&cmd,
		                       "cd '%s' && make -s install-dev PREFIX='%s' >/dev/null && "
		                       "cp %s '%s/mm.c' && cd '%s' && "
		                       "export PKG_CONFIG_PATH='%s/share/pkgconfig' && "
		                       "cc -O2 $(pkg-config --variable=plugin_flags aftermalloc) "
		                       "$(pkg-config --cflags aftermalloc) mm.c -o '%s' && rm mm.c",
		                       bin_root(), prefix, natives[i], prefix, prefix, prefix, so),
		              0);
		cr_assert_eq(system(cmd), 0, "%s", cmd);
		free(cmd);

		char *t1 = strdup(bin_trace_path("cmu/malloc-free.rep")),
		     *t2 = strdup(bin_trace_path("malloclab/amptjp-bal.rep"));
		const char *args[] = {"replay", t1, t2, "--malloc", so, "--json", NULL};
		struct bin_out o = bin_run(args, NULL);

		cr_assert_eq(o.status, 0, "%s: %s", natives[i], o.err);
		cr_assert(strstr(o.out, "\"valid\":true"), "%s", o.out);
		if (i == 0) {
			/* The seed plugin built from the installed header alone has
			   the built-in seed's figures, trace by trace. */
			static const char *const keys[] = {
			    "ops",        "peak_payload", "peak_footprint", "util",
			    "brk_calls",  "mmap_calls",   "munmap_calls",   "page_faults",
			    "tlb_hits",   "tlb_misses",   "peak_frames"};
			const char *bargs[] = {"replay", t1, t2, "--malloc", "seed", "--json", NULL};
			struct bin_out b = bin_run(bargs, NULL);
			const char *pa = o.out, *pb = b.out;

			cr_assert_eq(b.status, 0, "%s", b.err);
			for (int k = 0; k < 2; k++) {
				cJSON *x = parse_line(&pa), *y = parse_line(&pb);

				cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(x, "valid")), "%s", o.out);
				for (size_t n = 0; n < sizeof(keys) / sizeof(keys[0]); n++)
					cr_assert_eq(jnum(x, keys[n]), jnum(y, keys[n]), "%s: %s",
					             cJSON_GetObjectItem(x, "trace")->valuestring,
					             keys[n]);
				cJSON_Delete(x);
				cJSON_Delete(y);
			}
			bin_out_free(&b);
		}
		bin_out_free(&o);
		free(t1);
		free(t2);
		remove(so);
		free(so);
	}
	cr_assert_geq(asprintf(&cmd, "rm -r '%s'", prefix), 0);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	free(prefix);
}

/* ---- the report ------------------------------------------------------------------------ */

Test(mdriver, the_index_is_mdriver_s_formula)
{
	struct replay_result r[2] = {
	    {.trace = "a/amptjp-bal.rep", .valid = true, .util = 0.9, .ops = 1000},
	    {.trace = "a/cccp-bal.rep", .valid = true, .util = 0.5, .ops = 3000},
	};
	struct mdriver_row rows[2] = {{"amptjp-bal.rep", &r[0], 0.5}, {"cccp-bal.rep", &r[1], 1.5}};
	struct mdriver_index ix;

	mdriver_compute(rows, 2, 4.0, &ix); /* 4000 ops in 2 s: 2 Kops of a reference 4 */
	cr_assert_eq(ix.traces, 2);
	cr_assert_float_eq(ix.util, 0.7, 1e-12);
	cr_assert_float_eq(ix.kops, 2.0, 1e-12);
	cr_assert_float_eq(ix.p_util, 42, 1e-9);
	cr_assert_float_eq(ix.p_thru, 20, 1e-9);
	mdriver_compute(rows, 2, 1.0, &ix); /* faster than the reference: capped */
	cr_assert_float_eq(ix.p_thru, 40, 1e-9);
	r[1].valid = false;
	mdriver_compute(rows, 2, 1.0, &ix);
	cr_assert_eq(ix.valid, 1);
}

/* -t DIR: mdriver's eleven traces when DIR has them, in its order; a name
   without a directory is looked up in DIR, a path is taken as it is. */
Test(mdriver, tracedir_gives_mdriver_s_default_list)
{
	char *dir = src_path("demos/traces/malloclab"), **v;
	char *const names[] = {"short1-bal.rep", "demos/x.rep"};
	size_t n;

	cr_assert_eq(mdriver_traces("t", dir, NULL, 0, &v, &n, stderr), 0);
	cr_assert_eq(n, 11);
	cr_assert(strstr(v[0], "/amptjp-bal.rep") && strstr(v[10], "/realloc2-bal.rep"));
	for (size_t i = 0; i < n; i++)
		cr_assert_null(strstr(v[i], "short"), "%s", v[i]);
	mdriver_free_paths(v, n);
	cr_assert_eq(mdriver_traces("t", dir, names, 2, &v, &n, stderr), 0);
	cr_assert_eq(n, 2);
	cr_assert(strstr(v[0], "malloclab/short1-bal.rep"), "%s", v[0]);
	cr_assert_str_eq(v[1], "demos/x.rep");
	mdriver_free_paths(v, n);
	free(dir);
}
