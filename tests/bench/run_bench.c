/*
 * run_bench.c - the runner of `make bench` (DESIGN.md, Benchmarks): runs
 * each benchmark program in a process of its own, reads the one JSON line
 * it prints, prints the table (figure, value, target, met or not) and
 * writes the results file with the keys of DESIGN.md.
 *
 * Usage: run_bench --dir DIR --trace TRACE.rep --out FILE.json [--passes N]
 *                  [--lab-traces "T.rep ..."] [--record-lib LIB.so]
 *                  [--scale [--budget SECS]]
 * The timed programs (TLB, copy, fault, buddy, replay) run in N passes
 * (default 5), one after the other, each pass all of them in turn; each
 * pass's figure is a median over the program's own repetitions, against a
 * reference measured in that same program run, and the figure reported is
 * the median over the passes. The passes are spread over the tens of seconds
 * the bench takes, so that a few seconds of a busy host (another process, a
 * neighbour on a shared machine) move at most one or two of them; every
 * pass's value is kept in the results file and its spread printed.
 * plugin_vs_builtin_ratio.seed (bench_lab) runs in each pass on the
 * --lab-traces (the seed plugin's replay against the built-in seed's). The
 * counts that do not depend on speed (bytes per frame, idle RSS) run once,
 * and so do the workloads' (bench_workloads, with --record-lib: gen's
 * seconds, record's overhead), which alternate their own repetitions.
 * --scale runs the slower sweeps instead (bench_policies: every policy,
 * trace prefixes) and writes them to FILE.json.
 * Exit status: 0 when every figure was measured (met or not: a miss is
 * reported, not an error), 1 when a benchmark failed to run, 2 bad usage.
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/bench/stats.h"

#define MAX_PASSES 31

struct figure {
	const char *key; /* results.json key */
	double target;   /* value <= target is met */
	bool report;     /* no target: reported, counted in no "met" */
	double value;    /* the median of v[], once n > 0 */
	double v[MAX_PASSES];
	int n; /* passes that measured it */
};

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Run cmd (a shell command line), parse the last line it printed as JSON. */
static cJSON *run(const char *dir, const char *prog, const char *args)
{
	char cmd[4096], line[1 << 16], last[1 << 16] = "";
	double t0 = wall_now();
	FILE *p;
	cJSON *j;

	snprintf(cmd, sizeof(cmd), "'%s/%s' %s", dir, prog, args ? args : "");
	fprintf(stderr, "bench: %-18s ", prog);
	fflush(stderr);
	p = popen(cmd, "r");
	if (!p) {
		perror("popen");
		return NULL;
	}
	while (fgets(line, sizeof(line), p))
		memcpy(last, line, strlen(line) + 1);
	if (pclose(p) != 0) {
		fprintf(stderr, "failed (%s)\n", cmd);
		return NULL;
	}
	j = cJSON_Parse(last);
	fprintf(stderr, "%s (%.1f s)\n", j ? "done" : "unreadable output", wall_now() - t0);
	return j;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* One pass's value of the figure key (negative: not measured). */
static void take(struct figure *figs, size_t n, const char *key, double v)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(figs[i].key, key) && v >= 0 && figs[i].n < MAX_PASSES)
			figs[i].v[figs[i].n++] = v;
}

/* The median of v[0..n) and, in *lo and *hi, the smallest and largest; v
   is left in its order (the passes' order, kept in results.json). */
static double median_range(const double *v, int n, double *lo, double *hi)
{
	double s[MAX_PASSES];
	double m;

	memcpy(s, v, (size_t)n * sizeof(*v));
	m = bench_median(s, n); /* sorts s */
	*lo = s[0];
	*hi = s[n - 1];
	return m;
}

/* The median over the passes of det[name][*][sub][key], or of
   det[name][*][key] when sub is NULL (-1 when none has it). */
static double median_in(const cJSON *det, const char *name, const char *sub, const char *key)
{
	double v[MAX_PASSES], lo, hi;
	int n = 0;
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(det, name)) {
		const cJSON *o = sub ? cJSON_GetObjectItemCaseSensitive(e, sub) : e;

		if (num(o, key) >= 0 && n < MAX_PASSES)
			v[n++] = num(o, key);
	}
	return n ? median_range(v, n, &lo, &hi) : -1;
}

static double median_of(const cJSON *det, const char *name, const char *key)
{
	return median_in(det, name, NULL, key);
}

/* Keep o, one pass's output of a program, in the array det[name]. */
static void keep(cJSON *det, const char *name, cJSON *o)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(det, name);

	if (!a)
		a = cJSON_AddArrayToObject(det, name);
	cJSON_AddItemToArray(a, o);
}

static int scale(const char *dir, const char *trace, const char *out, double budget)
{
	char args[2048];
	cJSON *j;
	FILE *f;
	char *s;

	snprintf(args, sizeof(args), "'%s' %g", trace, budget);
	j = run(dir, "bench_policies", args);
	if (!j)
		return 1;
	printf("%-10s %10s %12s %10s %12s\n", "policy", "cpu s", "ops/s", "faults", "host RSS MiB");
	for (cJSON *p = cJSON_GetObjectItem(j, "policies")->child; p; p = p->next) {
		if (cJSON_IsTrue(cJSON_GetObjectItem(p, "finished")))
			printf("%-10s %10.2f %12.0f %10.0f %12.1f\n", p->string, num(p, "cpu_secs"),
			       num(p, "sim_ops_per_s"), num(p, "page_faults"),
			       num(p, "host_maxrss_mib"));
		else
			printf("%-10s unfinished after %.0f s wall (%.1f s CPU), RSS %.1f MiB\n",
			       p->string, num(p, "wall_secs"), num(p, "cpu_secs_at_kill"),
			       num(p, "host_maxrss_mib"));
	}
	printf("\nglibc on prefixes of the trace:\n%-10s %10s %10s %12s\n", "fraction", "ops",
	       "cpu s", "ops/s");
	for (cJSON *p = cJSON_GetObjectItem(j, "prefixes")->child; p; p = p->next)
		printf("%-10.3f %10.0f %10.3f %12.0f\n", num(p, "fraction"), num(p, "ops"),
		       num(p, "cpu_secs"), num(p, "sim_ops_per_s"));
	s = cJSON_Print(j);
	f = fopen(out, "w");
	if (!f || fputs(s, f) < 0 || fputc('\n', f) < 0 || fclose(f)) {
		perror(out);
		return 1;
	}
	printf("\nwrote %s\n", out);
	free(s);
	cJSON_Delete(j);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"dir", required_argument, NULL, 'd'},        {"trace", required_argument, NULL, 't'},
	    {"out", required_argument, NULL, 'o'},        {"scale", no_argument, NULL, 's'},
	    {"budget", required_argument, NULL, 'b'},     {"passes", required_argument, NULL, 'p'},
	    {"lab-traces", required_argument, NULL, 'l'}, {"record-lib", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0}};
	const char *dir = NULL, *trace = NULL, *out = NULL, *lab_traces = NULL, *record_lib = NULL;
	bool do_scale = false;
	double budget = 120, t0 = wall_now();
	int passes = 5;
	struct figure figs[] = {
	    {.key = "tlb_hit_load_ratio", .target = 2.5},
	    {.key = "bulk_copy_ratio", .target = 1},
	    {.key = "fault_vs_zero_ratio", .target = 1.3},
	    {.key = "buddy_ns_per_op", .target = 50},
	    {.key = "replay_vs_glibc_ratio.glibc", .target = 4},
	    {.key = "replay_vs_glibc_ratio.best", .target = 3},
	    {.key = "bytes_per_frame", .target = 64},
	    {.key = "idle_rss_mib", .target = 64},
	    {.key = "swap_roundtrip_vs_copy_ratio", .target = 4},
	    /* 2000 ns an access: at least 500k simulated accesses a second */
	    {.key = "thrash_ns_per_access", .target = 2000},
	    /* reclaim's scanning per reclaimed page, 1 GiB over 64 MiB */
	    {.key = "reclaim_scan_growth", .target = 1.25},
	    {.key = "plugin_vs_builtin_ratio.seed", .target = 1.3},
	    /* both sides replay the trace again in the same process: the
	       allocators' own cost, without most of the page faults */
	    {.key = "replay_vs_glibc_ratio_warm.glibc", .report = true},
	    {.key = "replay_vs_glibc_ratio_warm.best", .report = true},
	    /* scale (bench_scale, run once): 64 GiB of simulated RAM, and the
	       replay time per operation over 10^4 - 10^7 operations */
	    {.key = "boot_secs_64gib", .target = 0.2},
	    {.key = "idle_rss_mib_64gib", .target = 256},
	    {.key = "replay_scale_flatness", .target = 1.5},
	    /* workloads (bench_workloads, run once): gen writes a million
	       operations in 2 s; record adds at most 2x to a real program */
	    {.key = "gen_1m_secs", .target = 2},
	    {.key = "gen_1m_script_secs", .target = 2},
	    {.key = "record_overhead_ratio", .target = 2},
	};
	const size_t nf = sizeof(figs) / sizeof(figs[0]);
	cJSON *res = cJSON_CreateObject(), *det = cJSON_CreateObject();
	cJSON *tgt = cJSON_CreateObject(), *met = cJSON_CreateObject(), *rvg, *spread;
	cJSON *j, *host, *sim;
	char args[2048], *end;
	int c, failed = 0;
	bool all = true;
	FILE *f;
	char *s;

	while ((c = getopt_long(argc, argv, "d:t:o:sb:p:l:r:", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			record_lib = optarg;
			break;
		case 'l':
			lab_traces = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 't':
			trace = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			do_scale = true;
			break;
		case 'b':
			budget = atof(optarg);
			break;
		case 'p':
			passes = (int)strtol(optarg, &end, 10);
			if (*end || passes < 1 || passes > MAX_PASSES) {
				fprintf(stderr, "run_bench: --passes %s: a number from 1 to %d\n",
				        optarg, MAX_PASSES);
				return 2;
			}
			break;
		default:
			return 2;
		}
	}
	if (!dir || !trace || !out) {
		fprintf(stderr, "usage: run_bench --dir DIR --trace TRACE.rep --out FILE.json "
		                "[--passes N] [--lab-traces \"T.rep ...\"] [--record-lib LIB.so] "
		                "[--scale [--budget SECS]]\n");
		return 2;
	}
	if (do_scale)
		return scale(dir, trace, out, budget);

#define RUN(name, prog, a)                                                                         \
	do {                                                                                       \
		j = run(dir, prog, a);                                                             \
		if (j)                                                                             \
			keep(det, name, j);                                                        \
		else                                                                               \
			failed++;                                                                  \
	} while (0)
	for (int pass = 1; pass <= passes; pass++) {
		fprintf(stderr, "bench: pass %d of %d\n", pass, passes);
		RUN("tlb", "bench_tlb", NULL);
		take(figs, nf, "tlb_hit_load_ratio", num(j, "tlb_hit_load_ratio"));
		RUN("copy", "bench_copy", NULL);
		take(figs, nf, "bulk_copy_ratio", num(j, "bulk_copy_ratio"));
		RUN("fault", "bench_fault", NULL);
		take(figs, nf, "fault_vs_zero_ratio", num(j, "fault_vs_zero_ratio"));
		RUN("buddy", "bench_buddy", NULL);
		take(figs, nf, "buddy_ns_per_op", num(j, "buddy_ns_per_op"));
		RUN("swap", "bench_swap", NULL);
		take(figs, nf, "swap_roundtrip_vs_copy_ratio",
		     num(j, "swap_roundtrip_vs_copy_ratio"));
		take(figs, nf, "thrash_ns_per_access", num(j, "thrash_ns_per_access"));
		take(figs, nf, "reclaim_scan_growth", num(j, "reclaim_scan_growth"));
		snprintf(args, sizeof(args), "'%s' 7", trace);
		RUN("host_replay", "bench_host_replay", args);
		host = j;
		snprintf(args, sizeof(args), "'%s' 3 glibc best", trace);
		RUN("replay", "bench_replay", args);
		sim = j;
		if (host && sim) {
			double h = num(host, "host_ops_per_s");

			take(figs, nf, "replay_vs_glibc_ratio.glibc",
			     h / num(cJSON_GetObjectItem(sim, "glibc"), "sim_ops_per_s"));
			take(figs, nf, "replay_vs_glibc_ratio.best",
			     h / num(cJSON_GetObjectItem(sim, "best"), "sim_ops_per_s"));
			h = num(host, "host_warm_ops_per_s");
			take(figs, nf, "replay_vs_glibc_ratio_warm.glibc",
			     h / num(cJSON_GetObjectItem(sim, "glibc"), "sim_warm_ops_per_s"));
			take(figs, nf, "replay_vs_glibc_ratio_warm.best",
			     h / num(cJSON_GetObjectItem(sim, "best"), "sim_warm_ops_per_s"));
		}
		if (lab_traces) {
			snprintf(args, sizeof(args), "demos/lab/mm-seed.c '%s/mm-seed.so' 3 %s",
			         dir, lab_traces);
			RUN("lab", "bench_lab", args);
			take(figs, nf, "plugin_vs_builtin_ratio.seed",
			     num(j, "plugin_vs_builtin_ratio"));
		}
	}
	RUN("frame", "bench_frame", NULL);
	take(figs, nf, "bytes_per_frame", num(j, "bytes_per_frame"));
	RUN("rss", "bench_rss", NULL);
	take(figs, nf, "idle_rss_mib", num(j, "idle_rss_mib"));
	RUN("scale", "bench_scale", NULL);
	take(figs, nf, "boot_secs_64gib", num(j, "boot_secs_64gib"));
	take(figs, nf, "idle_rss_mib_64gib", num(j, "idle_rss_mib_64gib"));
	take(figs, nf, "replay_scale_flatness", num(j, "replay_scale_flatness"));
	if (record_lib) {
		snprintf(args, sizeof(args), "'%s' '%s'", record_lib, dir);
		RUN("workloads", "bench_workloads", args);
		take(figs, nf, "gen_1m_secs", num(j, "gen_1m_secs"));
		take(figs, nf, "gen_1m_script_secs", num(j, "gen_1m_script_secs"));
		take(figs, nf, "record_overhead_ratio", num(j, "record_overhead_ratio"));
	}
#undef RUN

	spread = cJSON_CreateObject();
	printf("\n%-33s %10s %10s  %-4s %s\n", "figure", "value", "target", "met",
	       passes > 1 ? "passes (min - max)" : "");
	for (size_t i = 0; i < nf; i++) {
		struct figure *fg = &figs[i];
		double lo = 0, hi = 0;
		char tg[32];
		bool ok;

		if (fg->n)
			fg->value = median_range(fg->v, fg->n, &lo, &hi);
		ok = fg->n && (fg->report || fg->value <= fg->target);
		snprintf(tg, sizeof(tg), fg->report ? "-" : "<= %g", fg->target);
		all &= ok;
		if (fg->n) {
			cJSON *a = cJSON_AddArrayToObject(spread, fg->key);

			printf("%-33s %10.2f %10s  %-4s", fg->key, fg->value, tg,
			       fg->report ? "" : ok ? "yes" : "NO");
			if (fg->n > 1)
				printf(" %d (%.2f - %.2f)", fg->n, lo, hi);
			putchar('\n');
			cJSON_AddNumberToObject(res, fg->key, fg->value);
			for (int k = 0; k < fg->n; k++)
				cJSON_AddItemToArray(a, cJSON_CreateNumber(fg->v[k]));
		} else {
			printf("%-33s %10s %10s  %s\n", fg->key, "-", tg, "not measured");
			cJSON_AddNullToObject(res, fg->key);
		}
		if (fg->report)
			continue;
		cJSON_AddNumberToObject(tgt, fg->key, fg->target);
		cJSON_AddBoolToObject(met, fg->key, ok);
	}
	/* The same two figures also nested, for readers that split keys at the dot. */
	rvg = cJSON_AddObjectToObject(res, "replay_vs_glibc_ratio");
	if (figs[4].n)
		cJSON_AddNumberToObject(rvg, "glibc", figs[4].value);
	if (figs[5].n)
		cJSON_AddNumberToObject(rvg, "best", figs[5].value);
	for (size_t i = 0; i < nf; i++)
		if (!strcmp(figs[i].key, "plugin_vs_builtin_ratio.seed") && figs[i].n)
			cJSON_AddNumberToObject(
			    cJSON_AddObjectToObject(res, "plugin_vs_builtin_ratio"), "seed",
			    figs[i].value);
	rvg = cJSON_AddObjectToObject(res, "replay_vs_glibc_ratio_warm");
	for (size_t i = 0; i < nf; i++)
		if (figs[i].n && !strncmp(figs[i].key, "replay_vs_glibc_ratio_warm.", 27))
			cJSON_AddNumberToObject(rvg, figs[i].key + 27, figs[i].value);
	{
		double br = median_of(det, "buddy", "buddy_vs_malloc_free_ratio");

		printf("\n  buddy: %.1f ns/op = %.2f x one host malloc+free pair (%.1f ns)\n",
		       median_of(det, "buddy", "buddy_ns_per_op"), br,
		       median_of(det, "buddy", "host_malloc_free_pair_ns"));
		cJSON_AddNumberToObject(res, "buddy_vs_malloc_free_ratio", br);
		printf("  fault: %.0f ns steady (memset of a page %.0f ns), %.0f ns cold; "
		       "64 MiB %.0f, 1 GiB %.0f, 4 GiB %.0f ns\n",
		       median_of(det, "fault", "fault_ns"),
		       median_of(det, "fault", "memset_page_ns"),
		       median_of(det, "fault", "fault_cold_ns"),
		       median_of(det, "fault", "fault_ns_64mib"),
		       median_of(det, "fault", "fault_ns_1gib"),
		       median_of(det, "fault", "fault_ns_4gib"));
		printf("  replay: host %.0f ns/op cold, %.0f warm; simulated glibc %.0f / %.0f, "
		       "best %.0f / %.0f\n",
		       1e9 / median_of(det, "host_replay", "host_ops_per_s"),
		       1e9 / median_of(det, "host_replay", "host_warm_ops_per_s"),
		       1e9 / median_in(det, "replay", "glibc", "sim_ops_per_s"),
		       1e9 / median_in(det, "replay", "glibc", "sim_warm_ops_per_s"),
		       1e9 / median_in(det, "replay", "best", "sim_ops_per_s"),
		       1e9 / median_in(det, "replay", "best", "sim_warm_ops_per_s"));
		if (passes > 1)
			printf("  (each a median over the %d passes)\n", passes);
		j = cJSON_GetObjectItem(det, "scale");
		j = j ? cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "replay_ns_per_op") : NULL;
		if (j) {
			printf("  scale: glibc replay of a generated trace, ns/op:");
			for (cJSON *e = j->child; e; e = e->next)
				printf(" %s ops %.0f;", e->string, e->valuedouble);
			putchar('\n');
		}
	}
	cJSON_AddItemToObject(res, "targets", tgt);
	cJSON_AddItemToObject(res, "met", met);
	cJSON_AddBoolToObject(res, "all_met", all);
	cJSON_AddStringToObject(res, "trace", trace);
	cJSON_AddNumberToObject(res, "passes", passes);
	cJSON_AddStringToObject(res, "timing",
	                        "median over the passes of each pass's median of repetitions, "
	                        "CPU time of the thread");
	cJSON_AddItemToObject(res, "passes_values", spread); /* in the order of the passes */
	cJSON_AddItemToObject(res, "details", det);
	s = cJSON_Print(res);
	f = fopen(out, "w");
	if (!f || fputs(s, f) < 0 || fputc('\n', f) < 0 || fclose(f)) {
		perror(out);
		return 1;
	}
	printf("\n%s; wrote %s in %.0f s\n", all ? "every target met" : "some targets missed", out,
	       wall_now() - t0);
	free(s);
	cJSON_Delete(res);
	return failed ? 1 : 0;
}
