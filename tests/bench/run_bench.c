/*
 * run_bench.c - the runner of `make bench` (DESIGN.md, Benchmarks): runs
 * each benchmark program in a process of its own, reads the one JSON line
 * it prints, prints the table (figure, value, target, met or not) and
 * writes the results file with the keys of DESIGN.md.
 *
 * Usage: run_bench --dir DIR --trace TRACE.rep --out FILE.json
 *                  [--scale [--budget SECS]]
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

struct figure {
	const char *key;  /* results.json key */
	const char *unit; /* for the table */
	double target;    /* value <= target is met */
	double value;
	bool have;
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

/* Set the figure of key from o[field] and keep o under details[name]. */
static void take(struct figure *figs, size_t n, const char *key, double v)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(figs[i].key, key) && v >= 0) {
			figs[i].value = v;
			figs[i].have = true;
		}
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
	    {"dir", required_argument, NULL, 'd'},    {"trace", required_argument, NULL, 't'},
	    {"out", required_argument, NULL, 'o'},    {"scale", no_argument, NULL, 's'},
	    {"budget", required_argument, NULL, 'b'}, {NULL, 0, NULL, 0}};
	const char *dir = NULL, *trace = NULL, *out = NULL;
	bool do_scale = false;
	double budget = 120, t0 = wall_now();
	struct figure figs[] = {
	    {"tlb_hit_load_ratio", "x", 4, 0, false},
	    {"bulk_copy_ratio", "x", 1.5, 0, false},
	    {"fault_vs_zero_ratio", "x", 2, 0, false},
	    {"buddy_ns_per_op", "ns", 50, 0, false},
	    {"replay_vs_glibc_ratio.glibc", "x", 8, 0, false},
	    {"replay_vs_glibc_ratio.best", "x", 8, 0, false},
	    {"bytes_per_frame", "B", 64, 0, false},
	    {"idle_rss_mib", "MiB", 64, 0, false},
	};
	const size_t nf = sizeof(figs) / sizeof(figs[0]);
	cJSON *res = cJSON_CreateObject(), *det = cJSON_CreateObject();
	cJSON *tgt = cJSON_CreateObject(), *met = cJSON_CreateObject(), *rvg;
	cJSON *j, *host, *sim;
	char args[2048];
	int c, failed = 0;
	bool all = true;
	FILE *f;
	char *s;

	while ((c = getopt_long(argc, argv, "d:t:o:sb:", lo, NULL)) != -1) {
		switch (c) {
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
		default:
			return 2;
		}
	}
	if (!dir || !trace || !out) {
		fprintf(stderr, "usage: run_bench --dir DIR --trace TRACE.rep --out FILE.json "
		                "[--scale [--budget SECS]]\n");
		return 2;
	}
	if (do_scale)
		return scale(dir, trace, out, budget);

#define RUN(name, prog, a)                                                                         \
	do {                                                                                       \
		j = run(dir, prog, a);                                                             \
		if (j)                                                                             \
			cJSON_AddItemToObject(det, name, j);                                       \
		else                                                                               \
			failed++;                                                                  \
	} while (0)
	RUN("tlb", "bench_tlb", NULL);
	take(figs, nf, "tlb_hit_load_ratio", num(j, "tlb_hit_load_ratio"));
	RUN("copy", "bench_copy", NULL);
	take(figs, nf, "bulk_copy_ratio", num(j, "bulk_copy_ratio"));
	RUN("fault", "bench_fault", NULL);
	take(figs, nf, "fault_vs_zero_ratio", num(j, "fault_vs_zero_ratio"));
	RUN("buddy", "bench_buddy", NULL);
	take(figs, nf, "buddy_ns_per_op", num(j, "buddy_ns_per_op"));
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
	}
	RUN("frame", "bench_frame", NULL);
	take(figs, nf, "bytes_per_frame", num(j, "bytes_per_frame"));
	RUN("rss", "bench_rss", NULL);
	take(figs, nf, "idle_rss_mib", num(j, "idle_rss_mib"));
#undef RUN

	printf("\n%-30s %10s %10s  %s\n", "figure", "value", "target", "met");
	for (size_t i = 0; i < nf; i++) {
		bool ok = figs[i].have && figs[i].value <= figs[i].target;
		char tg[32];

		snprintf(tg, sizeof(tg), "<= %g", figs[i].target);
		all &= ok;
		if (figs[i].have) {
			printf("%-30s %10.2f %10s  %s\n", figs[i].key, figs[i].value, tg,
			       ok ? "yes" : "NO");
			cJSON_AddNumberToObject(res, figs[i].key, figs[i].value);
		} else {
			printf("%-30s %10s %10s  %s\n", figs[i].key, "-", tg, "not measured");
			cJSON_AddNullToObject(res, figs[i].key);
		}
		cJSON_AddNumberToObject(tgt, figs[i].key, figs[i].target);
		cJSON_AddBoolToObject(met, figs[i].key, ok);
	}
	/* The same two figures also nested, for readers that split keys at the dot. */
	rvg = cJSON_AddObjectToObject(res, "replay_vs_glibc_ratio");
	if (figs[4].have)
		cJSON_AddNumberToObject(rvg, "glibc", figs[4].value);
	if (figs[5].have)
		cJSON_AddNumberToObject(rvg, "best", figs[5].value);
	{
		cJSON *b = cJSON_GetObjectItem(det, "buddy"),
		      *t = cJSON_GetObjectItem(det, "fault");

		printf("\n  buddy: %.1f ns/op = %.2f x one host malloc+free pair (%.1f ns)\n",
		       num(b, "buddy_ns_per_op"), num(b, "buddy_vs_malloc_free_ratio"),
		       num(b, "host_malloc_free_pair_ns"));
		cJSON_AddNumberToObject(res, "buddy_vs_malloc_free_ratio",
		                        num(b, "buddy_vs_malloc_free_ratio"));
		printf("  fault: %.0f ns steady (memset of a page %.0f ns), %.0f ns cold; "
		       "64 MiB %.0f, 1 GiB %.0f, 4 GiB %.0f ns\n",
		       num(t, "fault_ns"), num(t, "memset_page_ns"), num(t, "fault_cold_ns"),
		       num(t, "fault_ns_64mib"), num(t, "fault_ns_1gib"), num(t, "fault_ns_4gib"));
	}
	cJSON_AddItemToObject(res, "targets", tgt);
	cJSON_AddItemToObject(res, "met", met);
	cJSON_AddBoolToObject(res, "all_met", all);
	cJSON_AddStringToObject(res, "trace", trace);
	cJSON_AddStringToObject(res, "timing", "median of repetitions, CPU time of the thread");
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
