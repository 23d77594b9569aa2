/*
 * run_bench.c - the runner of `make bench` (DESIGN.md, Benchmarks): runs
 * each benchmark program in a process of its own, reads the one JSON line
 * it prints, prints the table (figure, value, target, PASS or FAIL) and
 * writes the results file with the keys of DESIGN.md.
 *
 * Usage: run_bench --dir DIR --trace TRACE.rep --out FILE.json [--passes N]
 *                  [--lab-traces "T.rep ..."] [--record-lib LIB.so]
 *                  [--util-traces "DIR ..."]
 *                  [--scale [--budget SECS]]
 *        run_bench --report RESULTS.json...
 *        run_bench --profile PROFILE.json...
 * The table says each figure's value (the median of its passes), its
 * target, PASS or FAIL, and the spread of the passes; then the details the
 * figures come from, the host (CPU, load average at the start and the end)
 * and how many targets were met. --report prints the same table again from
 * results files (several: side by side, PASS when every run met a target),
 * which is how docs/performance.md quotes its runs.
 * The timed programs (TLB, copy, fault, buddy, swap, fork, replay) run in N passes
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
 * seconds, record's overhead), which alternate their own repetitions, and
 * the utilization margin of best over glibc on every trace of the folders of
 * --util-traces (bench_util: counts, no time).
 * --scale runs the slower sweeps instead (bench_policies: every policy,
 * trace prefixes) and writes them to FILE.json.
 * --profile prints, side by side, the instructions per demand-zero fault of
 * profiles written by tests/bench/fault_profile.sh (`make bench-profile`),
 * phase by phase: how docs/performance.md quotes them.
 * Exit status: 0 when every figure was measured (met or not: a miss is
 * reported, not an error), 1 when a benchmark failed to run, 2 bad usage
 * or (--report) a file that is not a results file.
 */
#include <cjson/cJSON.h>
#include <errno.h>
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
	double target;   /* value <= target is met (at_least: value >= target) */
	bool at_least;
	bool report;     /* no target: reported, counted in no "met" */
	double value;    /* the median of v[], once n > 0 */
	double v[MAX_PASSES];
	int n; /* passes that measured it */
};

/* Every figure of the table, in its order. The targets are those of
   DESIGN.md and of the issues that set them (issue 19: the MMU, the fault,
   the replays, the scale); results.json keeps them beside the values. */
static struct figure figs[] = {
    {.key = "tlb_hit_load_ratio", .target = 2.5},
    {.key = "bulk_copy_ratio", .target = 1},
    {.key = "fault_vs_zero_ratio", .target = 1.3},
    /* one buddy operation over one host malloc+free pair on the same
       sequence of orders (bench_buddy): at most one host malloc or one
       free. A ratio, as every speed target: the 50 ns it was once given
       is twice the time on one host that it is on another */
    {.key = "buddy_vs_malloc_free_ratio", .target = 0.5},
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
    /* issue 16: a trace's operations dealt to 4 threads, each in its own
       arena, cost at most 1.5x the single thread's per operation */
    {.key = "threads_replay_ratio", .target = 1.5},
    /* fork of 256 MiB touched: simulated over the host's fork() */
    {.key = "fork_vs_native_ratio", .target = 3},
    /* both sides replay the trace again in the same process: the
       allocators' own cost, without most of the page faults */
    {.key = "replay_vs_glibc_ratio_warm.glibc", .report = true},
    {.key = "replay_vs_glibc_ratio_warm.best", .report = true},
    {.key = "buddy_ns_per_op", .report = true},
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
    /* util (bench_util, run once: counts): best's smallest margin over
       the glibc policy's util on the traces of --util-traces (issue 20) */
    {.key = "best_vs_glibc_util_min", .target = 0, .at_least = true},
};
static const size_t nf = sizeof(figs) / sizeof(figs[0]);

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

/* ---- the report: printed from results.json's contents, as measured or
   read back (--report), so that a run's table can be printed again ---- */

/* The load average over the last minute, -1 when unreadable. */
static double loadavg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

/* What the figures depend on beyond the code: the CPU, how many, how busy. */
static void host_info(cJSON *res, double load_start)
{
	cJSON *h = cJSON_AddObjectToObject(res, "host");
	char line[512], model[256] = "unknown";
	FILE *f = fopen("/proc/cpuinfo", "r");
	int cpus = 0;

	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "processor", 9))
			cpus++;
		if (!strncmp(line, "model name", 10) && colon && !strcmp(model, "unknown")) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = 0;
		}
	}
	if (f)
		fclose(f);
	cJSON_AddStringToObject(h, "cpu", model);
	cJSON_AddNumberToObject(h, "cpus", cpus);
	cJSON_AddNumberToObject(h, "load_start", load_start);
	cJSON_AddNumberToObject(h, "load_end", loadavg());
}

/* The figure's target as the table prints it, and its verdict in res:
   "PASS", "FAIL", or "" for a figure reported without a target. */
static const char *verdict(const cJSON *res, const struct figure *fg, char *tg, size_t n)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(res, "targets"),
	                                                  fg->key);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(res, "met"), fg->key);

	if (fg->report || !cJSON_IsNumber(t)) {
		snprintf(tg, n, "-");
		return "";
	}
	snprintf(tg, n, fg->at_least ? ">= %g" : "<= %g", t->valuedouble);
	return cJSON_IsTrue(m) ? "PASS" : "FAIL";
}

/* One run: each figure with its value, target, PASS or FAIL and the spread
   of its passes, then the details the figures come from. */
static void report(const cJSON *res)
{
	const cJSON *pv = cJSON_GetObjectItem(res, "passes_values");
	const cJSON *det = cJSON_GetObjectItem(res, "details"), *h = cJSON_GetObjectItem(res, "host");
	const cJSON *j;
	int passes = (int)num(res, "passes"), nt = 0, npass = 0;

	if (passes > 1)
		printf("\n%-33s %10s %10s  %-6s %s\n", "figure", "value", "target", "result",
		       "passes (min - max)");
	else
		printf("\n%-33s %10s %10s  %s\n", "figure", "value", "target", "result");
	for (size_t i = 0; i < nf; i++) {
		const struct figure *fg = &figs[i];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(res, fg->key);
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(pv, fg->key);
		char tg[32], line[256];
		const char *vd = verdict(res, fg, tg, sizeof(tg));
		int len;

		nt += *vd != 0;
		npass += !strcmp(vd, "PASS");
		if (!cJSON_IsNumber(v)) {
			printf("%-33s %10s %10s  %-6s not measured\n", fg->key, "-", tg, vd);
			continue;
		}
		len = snprintf(line, sizeof(line), "%-33s %10.*f %10s  %-6s", fg->key,
		               fg->at_least ? 4 : 2, v->valuedouble, tg, vd);
		if (cJSON_GetArraySize(a) > 1) {
			double vals[MAX_PASSES], lo, hi;
			int n = 0;

			cJSON_ArrayForEach(j, a) if (n < MAX_PASSES) vals[n++] = j->valuedouble;
			median_range(vals, n, &lo, &hi);
			len += snprintf(line + len, sizeof(line) - (size_t)len, " %d (%.2f - %.2f)", n,
			                lo, hi);
		}
		while (len > 0 && line[len - 1] == ' ')
			line[--len] = 0; /* no trailing blanks: the docs quote these lines */
		puts(line);
	}
	printf("\n  buddy: %.1f ns/op = %.2f x one host malloc+free pair (%.1f ns)\n",
	       median_of(det, "buddy", "buddy_ns_per_op"),
	       median_of(det, "buddy", "buddy_vs_malloc_free_ratio"),
	       median_of(det, "buddy", "host_malloc_free_pair_ns"));
	printf("  fault: %.0f ns steady (memset of a page %.0f ns), %.0f ns cold; "
	       "64 MiB %.0f, 1 GiB %.0f, 4 GiB %.0f ns\n",
	       median_of(det, "fault", "fault_ns"), median_of(det, "fault", "memset_page_ns"),
	       median_of(det, "fault", "fault_cold_ns"), median_of(det, "fault", "fault_ns_64mib"),
	       median_of(det, "fault", "fault_ns_1gib"), median_of(det, "fault", "fault_ns_4gib"));
	printf("  replay: host %.0f ns/op cold, %.0f warm; simulated glibc %.0f / %.0f, "
	       "best %.0f / %.0f\n",
	       1e9 / median_of(det, "host_replay", "host_ops_per_s"),
	       1e9 / median_of(det, "host_replay", "host_warm_ops_per_s"),
	       1e9 / median_in(det, "replay", "glibc", "sim_ops_per_s"),
	       1e9 / median_in(det, "replay", "glibc", "sim_warm_ops_per_s"),
	       1e9 / median_in(det, "replay", "best", "sim_ops_per_s"),
	       1e9 / median_in(det, "replay", "best", "sim_warm_ops_per_s"));
	if (cJSON_GetObjectItem(det, "fork"))
		printf("  fork of 256 MiB touched: simulated %.2f ms, host %.2f ms\n",
		       median_of(det, "fork", "sim_fork_ms"), median_of(det, "fork", "host_fork_ms"));
	if (passes > 1)
		printf("  (each a median over the %d passes)\n", passes);
	j = cJSON_GetObjectItem(det, "scale");
	j = j ? cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "replay_ns_per_op") : NULL;
	if (j) {
		printf("  scale: glibc replay of a generated trace, ns/op:");
		for (const cJSON *e = j->child; e; e = e->next)
			printf(" %s ops %.0f;", e->string, e->valuedouble);
		putchar('\n');
	}
	if (h)
		printf("  host: %s, %.0f CPUs, load average %.2f at the start, %.2f at the end\n",
		       cJSON_GetStringValue(cJSON_GetObjectItem(h, "cpu")), num(h, "cpus"),
		       num(h, "load_start"), num(h, "load_end"));
	printf("\n%d of %d targets met: %s\n", npass, nt,
	       npass == nt ? "PASS, every target met" : "FAIL, some targets missed");
}

/* Several runs side by side (the three runs docs/performance.md shows):
   each figure's value and verdict in each, PASS when every run met it. */
static void report_runs(cJSON **res, int n)
{
	int nt = 0, npass = 0;

	printf("%-33s", "figure");
	for (int r = 0; r < n; r++)
		printf("  %6s %-2d %5s", "run", r + 1, "");
	printf(" %10s  %s\n", "target", "result");
	for (size_t i = 0; i < nf; i++) {
		const struct figure *fg = &figs[i];
		char tg[32], line[1024];
		bool all = true, target = false;
		int len = snprintf(line, sizeof(line), "%-33s", fg->key);

		for (int r = 0; r < n && len < (int)sizeof(line) - 64; r++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(res[r], fg->key);
			const char *vd = verdict(res[r], fg, tg, sizeof(tg));

			target |= *vd != 0;
			all &= !strcmp(vd, "PASS");
			if (cJSON_IsNumber(v))
				len += snprintf(line + len, sizeof(line) - (size_t)len, "  %9.*f %-5s",
				                fg->at_least ? 4 : 2, v->valuedouble, vd);
			else
				len += snprintf(line + len, sizeof(line) - (size_t)len, "  %9s %-5s",
				                "-", vd);
		}
		verdict(res[0], fg, tg, sizeof(tg));
		len += snprintf(line + len, sizeof(line) - (size_t)len, " %10s  %s", tg,
		                !target ? "" : all ? "PASS" : "FAIL");
		while (len > 0 && line[len - 1] == ' ')
			line[--len] = 0;
		puts(line);
		nt += target;
		npass += target && all;
	}
	putchar('\n');
	for (int r = 0; r < n; r++) {
		const cJSON *h = cJSON_GetObjectItem(res[r], "host");

		if (h)
			printf("run %d: %s, %.0f CPUs, load average %.2f at the start, %.2f at the end\n",
			       r + 1, cJSON_GetStringValue(cJSON_GetObjectItem(h, "cpu")),
			       num(h, "cpus"), num(h, "load_start"), num(h, "load_end"));
	}
	printf("%d of %d targets met in every run: %s\n", npass, nt,
	       npass == nt ? "PASS" : "FAIL");
}

/* Reads path's JSON, or NULL after a message. */
static cJSON *read_json(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	FILE *m;
	cJSON *j;
	int ch;

	if (!f) {
		fprintf(stderr, "run_bench: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	m = open_memstream(&text, &len);
	if (!m) {
		fclose(f);
		fprintf(stderr, "run_bench: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	while ((ch = getc(f)) != EOF)
		putc(ch, m);
	fclose(f);
	fclose(m);
	j = cJSON_Parse(text);
	free(text);
	return j;
}

/* --report FILE...: the table of results files written by earlier runs.
   0 printed, 2 a file unreadable or not a results file. */
static int report_files(char **files, int n)
{
	cJSON *res[MAX_PASSES];
	int rc = 0;

	if (n > MAX_PASSES) {
		fprintf(stderr, "run_bench: --report: at most %d files\n", MAX_PASSES);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		res[i] = read_json(files[i]);
		if (!res[i] || !cJSON_IsObject(cJSON_GetObjectItem(res[i], "targets"))) {
			if (res[i])
				fprintf(stderr, "run_bench: %s: not a results file of run_bench\n",
				        files[i]);
			for (int k = 0; k <= i; k++)
				cJSON_Delete(res[k]);
			return 2;
		}
	}
	if (n == 1)
		report(res[0]);
	else
		report_runs(res, n);
	for (int i = 0; i < n; i++)
		cJSON_Delete(res[i]);
	return rc;
}

/*
 * --profile FILE...: the phases of a demand-zero write fault, instructions
 * per fault, one column a profile (tests/bench/fault_profile.sh). The
 * kernel's functions are inclusive; the CPU's part is the whole less the
 * kernel's handler, and the handler's rest is what its named callees leave.
 * 0 printed, 2 a file unreadable or not a profile.
 */
static int profile_files(char **files, int n)
{
	static const struct {
		const char *label, *key;
	} rows[] = {
	    {"the whole fault (the store, its miss and the retry)", "total"},
	    {"  the CPU: TLB lookup, walks, #PF, the retried store", NULL},
	    {"  the kernel: exc_page_fault ... set_pte_at", "exc_trap"},
	    {"    find_vma", "find_vma"},
	    {"    __handle_mm_fault's walk (pgtable_alloc_walk)", "pgtable_alloc_walk"},
	    {"    __alloc_pages (buddy_alloc)", "buddy_alloc"},
	    {"    clear_page (phys_zero_frame)", "phys_zero_frame"},
	    {"    the rest: events, checks, rmap, LRU, the PTE", NULL},
	};
	const size_t nrows = sizeof(rows) / sizeof(rows[0]);
	const cJSON *pf[MAX_PASSES];
	cJSON *doc[MAX_PASSES];
	int rc = 0, loaded = 0;

	if (n > MAX_PASSES) {
		fprintf(stderr, "run_bench: --profile: at most %d files\n", MAX_PASSES);
		return 2;
	}
	for (; loaded < n; loaded++) {
		doc[loaded] = read_json(files[loaded]);
		pf[loaded] = cJSON_GetObjectItem(doc[loaded], "per_fault");
		if (!doc[loaded] || !cJSON_IsObject(pf[loaded])) {
			if (doc[loaded])
				fprintf(stderr, "run_bench: %s: not a fault profile\n", files[loaded]);
			cJSON_Delete(doc[loaded]);
			rc = 2;
			break;
		}
	}
	if (!rc) {
		printf("%-54s", "instructions per fault (callgrind)");
		for (int i = 0; i < n; i++) {
			const cJSON *c = cJSON_GetObjectItem(doc[i], "label");

			printf(" %10s", cJSON_IsString(c) ? c->valuestring : "?");
		}
		printf("\n");
		for (size_t r = 0; r < nrows; r++) {
			printf("%-54s", rows[r].label);
			for (int i = 0; i < n; i++) {
				double v;

				if (rows[r].key)
					v = num(pf[i], rows[r].key);
				else if (r == 1)
					v = num(pf[i], "total") - num(pf[i], "exc_trap");
				else
					v = num(pf[i], "exc_trap") - num(pf[i], "find_vma") -
					    num(pf[i], "pgtable_alloc_walk") - num(pf[i], "buddy_alloc") -
					    num(pf[i], "phys_zero_frame");
				printf(" %10.0f", v);
			}
			printf("\n");
		}
	}
	for (int i = 0; i < loaded; i++)
		cJSON_Delete(doc[i]);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"dir", required_argument, NULL, 'd'},        {"trace", required_argument, NULL, 't'},
	    {"out", required_argument, NULL, 'o'},        {"scale", no_argument, NULL, 's'},
	    {"budget", required_argument, NULL, 'b'},     {"passes", required_argument, NULL, 'p'},
	    {"lab-traces", required_argument, NULL, 'l'}, {"record-lib", required_argument, NULL, 'r'},
	    {"report", no_argument, NULL, 'R'},           {"util-traces", required_argument, NULL, 'u'},
	    {"profile", no_argument, NULL, 'P'},          {NULL, 0, NULL, 0}};
	const char *dir = NULL, *trace = NULL, *out = NULL, *lab_traces = NULL, *record_lib = NULL;
	const char *util_traces = NULL;
	bool do_scale = false, do_report = false, do_profile = false;
	double budget = 120, t0 = wall_now(), load_start = loadavg();
	int passes = 5;
	cJSON *res = cJSON_CreateObject(), *det = cJSON_CreateObject();
	cJSON *tgt = cJSON_CreateObject(), *met = cJSON_CreateObject(), *rvg, *spread;
	cJSON *j, *host, *sim;
	char args[2048], *end;
	int c, failed = 0;
	bool all = true;
	FILE *f;
	char *s;

	while ((c = getopt_long(argc, argv, "d:t:o:sb:p:l:r:Ru:P", lo, NULL)) != -1) {
		switch (c) {
		case 'R':
			do_report = true;
			break;
		case 'P':
			do_profile = true;
			break;
		case 'u':
			util_traces = optarg;
			break;
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
	if (do_report && !do_profile && optind < argc)
		return report_files(argv + optind, argc - optind);
	if (do_profile && !do_report && optind < argc)
		return profile_files(argv + optind, argc - optind);
	if (!dir || !trace || !out || do_report || do_profile || optind < argc) {
		fprintf(stderr, "usage: run_bench --dir DIR --trace TRACE.rep --out FILE.json "
		                "[--passes N] [--lab-traces \"T.rep ...\"] [--record-lib LIB.so] "
		                "[--util-traces \"DIR ...\"] [--scale [--budget SECS]]\n"
		                "       run_bench --report RESULTS.json...\n"
		                "       run_bench --profile PROFILE.json...\n");
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
		take(figs, nf, "buddy_vs_malloc_free_ratio", num(j, "buddy_vs_malloc_free_ratio"));
		take(figs, nf, "buddy_ns_per_op", num(j, "buddy_ns_per_op"));
		RUN("swap", "bench_swap", NULL);
		take(figs, nf, "swap_roundtrip_vs_copy_ratio",
		     num(j, "swap_roundtrip_vs_copy_ratio"));
		take(figs, nf, "thrash_ns_per_access", num(j, "thrash_ns_per_access"));
		take(figs, nf, "reclaim_scan_growth", num(j, "reclaim_scan_growth"));
		RUN("fork", "bench_fork", NULL);
		take(figs, nf, "fork_vs_native_ratio", num(j, "fork_vs_native_ratio"));
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
		snprintf(args, sizeof(args), "'%s' 3", trace);
		RUN("threads", "bench_threads", args);
		take(figs, nf, "threads_replay_ratio", num(j, "threads_replay_ratio"));
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
	if (util_traces) {
		const cJSON *m;

		RUN("util", "bench_util", util_traces);
		/* a margin may be negative: not through take(), which drops those */
		m = j ? cJSON_GetObjectItemCaseSensitive(j, "best_vs_glibc_util_min") : NULL;
		for (size_t i = 0; i < nf && cJSON_IsNumber(m); i++)
			if (!strcmp(figs[i].key, "best_vs_glibc_util_min"))
				figs[i].v[figs[i].n++] = m->valuedouble;
	}
#undef RUN

	spread = cJSON_CreateObject();
	for (size_t i = 0; i < nf; i++) {
		struct figure *fg = &figs[i];
		double lo, hi;
		bool ok;

		if (fg->n)
			fg->value = median_range(fg->v, fg->n, &lo, &hi);
		ok = fg->n && (fg->report || (fg->at_least ? fg->value >= fg->target
		                                           : fg->value <= fg->target));
		all &= ok;
		if (fg->n) {
			cJSON *a = cJSON_AddArrayToObject(spread, fg->key);

			cJSON_AddNumberToObject(res, fg->key, fg->value);
			for (int k = 0; k < fg->n; k++)
				cJSON_AddItemToArray(a, cJSON_CreateNumber(fg->v[k]));
		} else {
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
	cJSON_AddItemToObject(res, "targets", tgt);
	cJSON_AddItemToObject(res, "met", met);
	cJSON_AddBoolToObject(res, "all_met", all);
	cJSON_AddStringToObject(res, "trace", trace);
	cJSON_AddNumberToObject(res, "passes", passes);
	cJSON_AddStringToObject(res, "timing",
	                        "median over the passes of each pass's median of repetitions, "
	                        "CPU time of the thread");
	host_info(res, load_start);
	cJSON_AddItemToObject(res, "passes_values", spread); /* in the order of the passes */
	cJSON_AddItemToObject(res, "details", det);
	report(res);
	s = cJSON_Print(res);
	f = fopen(out, "w");
	if (!f || fputs(s, f) < 0 || fputc('\n', f) < 0 || fclose(f)) {
		perror(out);
		return 1;
	}
	printf("wrote %s in %.0f s\n", out, wall_now() - t0);
	free(s);
	cJSON_Delete(res);
	return failed ? 1 : 0;
}
