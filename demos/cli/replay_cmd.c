/*
 * replay_cmd.c - `aftermalloc replay`: traces through malloc policies
 * (demos/cli/replay.c does one), reported with the habits of the CS:APP
 * driver, mdriver.c: -f FILE, -t DIR (the traces it scores), -V, its table
 * with the kernel's columns and its performance index (demos/cli/mdriver.h,
 * shared with `lab`). The throughput reference is the simulated glibc
 * policy's on the same traces in the same run (replayed for the purpose when
 * it is not among the policies asked for), or --ref-kops.
 *
 * --plot FILE.png draws, for one trace, the footprint (with the live
 * payload), the RSS and the page faults against the operation number, one
 * line per policy (demos/plot/).
 *
 * A plugin (--malloc ./mm.so, docs/reference.md's lab) replays each trace
 * in a child process (demos/cli/sandbox.h).
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../kernel_sim/kernel.h"
#include "../../libc/glibc_malloc.h"
#include "../../libc/libc.h"
#include "../plot/plot.h"
#include "output.h"
#include "commands.h"
#include "mdriver.h"
#include "options.h"
#include "plugin.h"
#include "plugin_guard.h"
#include "replay.h"
#include "sandbox.h"

#define MAX_POLICIES 16
#define PLOT_POINTS  1600
/* Wall-clock seconds a plugin may take over one trace (sandbox.h). */
#define REPLAY_PLUGIN_TIMEOUT 600

/* Colours of the policies in a plot, in the order of malloc_policies. */
static const uint32_t policy_rgb[] = {0xd62728, 0x1f77b4, 0x2ca02c, 0x9467bd, 0xff7f0e, 0x17becf};

struct cmd {
	struct replay_opts o;
	bool json, verbose;
	const char *dir;  /* -t */
	const char *plot; /* --plot */
	FILE *plot_f;     /* its checked stream, open before any replay */
	double ref_kops;  /* --ref-kops, 0: glibc's in this run */
	const struct malloc_ops *pols[MAX_POLICIES]; /* NULL: the plugin */
	const char *names[MAX_POLICIES];
	int npol;
	struct sandbox_opts so; /* so.plugin: --malloc ./mm.so */
	struct libc_tunable tunables[LIBC_MAX_TUNABLES]; /* --tunable */
	unsigned nr_tunables;
	char **paths;           /* the traces, in order (mdriver_traces) */
	size_t ntr;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: aftermalloc replay TRACE.rep... [--malloc POLICY|all|./mm.so]\n"
	        "                          [--phys SIZE] [--json] [--no-check] [-f FILE]\n"
	        "                          [-t DIR] [-V] [--plot FILE.png] [--ref-kops N]\n"
	        "Replay CS:APP malloc-lab traces through a malloc policy of the simulated\n"
	        "process, checking every block (alignment, mapping, overlap, contents).\n"
	        "  -m, --malloc POLICY  seed, firstfit, nextfit, bestfit, glibc, best, a list\n"
	        "                       (glibc,best), or all (default glibc); or a plugin, your\n"
	        "                       own allocator (a path: see aftermalloc lab), each\n"
	        "                       trace replayed in a process of its own (limit: %d s)\n"
	        "  -p, --phys SIZE      simulated RAM (default 2G)\n"
	        "      --tunable T=V[:...] a glibc.malloc tunable, as GLIBC_TUNABLES sets it\n"
	        "                       (glibc.malloc.top_pad=0; repeatable; glibc policy only)\n"
	        "  -j, --json           one JSON object per trace and policy, a line each\n"
	        "  -n, --no-check       skip the block checks and payload writes (fast)\n"
	        "  -f, --file FILE      a trace (as the CS:APP driver's -f); may repeat\n"
	        "  -t, --tracedir DIR   the traces of DIR: the 11 the CS:APP driver scores when\n"
	        "                       DIR has them, else every *.rep; names are looked up there\n"
	        "  -V, --verbose        say what runs, and each replay's details\n"
	        "      --plot FILE.png  footprint, RSS and page faults against the operation,\n"
	        "                       one line per policy (one trace, built-in policies),\n"
	        "                       1280x800\n"
	        "      --ref-kops N     throughput reference of the index, in Kops/s (default:\n"
	        "                       the glibc policy's on the same traces, in this run)\n"
	        "  -h, --help           this text\n"
	        "Several traces or policies give mdriver's table: util, ops, secs, Kops a trace,\n"
	        "a Total row and the performance index, 60 x util + 40 x min(1, Kops / reference).\n"
	        "Several of both add each trace's util under every policy, the highest marked *.\n"
	        "Exit status: 0 all replays valid, 1 a replay invalid (reason on stderr),\n"
	        "2 bad usage or a malformed trace.\n",
	        REPLAY_PLUGIN_TIMEOUT);
}

/* "all", a name, a comma list of names, or a plugin's path. */
static int parse_policies(struct cmd *c, const char *arg)
{
	char buf[256], why[160], *save = NULL;

	if (strcmp(arg, "all") == 0) {
		for (const struct malloc_ops *const *p = malloc_policies; *p && c->npol < MAX_POLICIES;
		     p++)
			c->pols[c->npol++] = *p;
	} else if (plugin_is_path(arg)) {
		const char *b = strrchr(arg, '/');

		/* Before anything is read: this may execute the command again. */
		plugin_guard_layout(true);
		c->so.plugin = arg;
		if (sandbox_probe(&c->so, stderr) < 0)
			return EXIT_BAD_INPUT;
		c->pols[0] = NULL;
		c->names[0] = b ? b + 1 : arg;
		c->npol = 1;
		return 0;
	} else {
		snprintf(buf, sizeof(buf), "%s", arg);
		for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			const struct malloc_ops *ops = malloc_policy(tok);

			if (!ops)
				return usage_error("replay",
				                   "--malloc: unknown malloc policy '%s' (%s, or all)", tok,
				                   sim_policy_names(why, sizeof(why)));
			if (c->npol < MAX_POLICIES)
				c->pols[c->npol++] = ops;
		}
	}
	for (int j = 0; j < c->npol; j++)
		c->names[j] = c->pols[j]->name;
	return c->npol ? 0 : usage_error("replay", "--malloc: no policy in '%s'", arg);
}

/* ---- reports ------------------------------------------------------------------- */

cJSON *replay_json(const struct replay_result *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "trace", r->trace);
	cJSON_AddStringToObject(o, "malloc", r->malloc);
	cJSON_AddNumberToObject(o, "ops", (double)r->ops);
	cJSON_AddBoolToObject(o, "valid", r->valid);
	if (r->valid)
		cJSON_AddNullToObject(o, "error");
	else
		cJSON_AddStringToObject(o, "error", r->error);
	cJSON_AddNumberToObject(o, "peak_payload", (double)r->peak_payload);
	cJSON_AddNumberToObject(o, "peak_footprint", (double)r->peak_footprint);
	cJSON_AddNumberToObject(o, "util", r->util);
	cJSON_AddNumberToObject(o, "brk_calls", (double)r->brk_calls);
	cJSON_AddNumberToObject(o, "mmap_calls", (double)r->mmap_calls);
	cJSON_AddNumberToObject(o, "munmap_calls", (double)r->munmap_calls);
	cJSON_AddNumberToObject(o, "page_faults", (double)r->page_faults);
	cJSON_AddNumberToObject(o, "tlb_hits", (double)r->tlb_hits);
	cJSON_AddNumberToObject(o, "tlb_misses", (double)r->tlb_misses);
	cJSON_AddNumberToObject(o, "peak_frames", (double)r->peak_frames);
	cJSON_AddNumberToObject(o, "secs", r->secs);
	return o;
}

static void print_json(const struct replay_result *r)
{
	cJSON *o = replay_json(r);
	char *s = cJSON_PrintUnformatted(o);

	if (s)
		puts(s);
	free(s);
	cJSON_Delete(o);
}

static void print_summary(const struct trace *t, const struct replay_result *r)
{
	double ops = r->ops ? (double)r->ops : 1;

	printf("trace           %s (%zu ops, %u ids)\n", r->trace, t->nr_ops, t->nr_ids);
	printf("malloc          %s\n", r->malloc);
	printf("valid           %s%s%s\n", r->valid ? "yes" : "NO: ", r->valid ? "" : r->error, "");
	printf("ops run         %llu\n", (unsigned long long)r->ops);
	printf("peak payload    %llu bytes\n", (unsigned long long)r->peak_payload);
	printf("peak footprint  %llu bytes\n", (unsigned long long)r->peak_footprint);
	printf("utilization     %.3f\n", r->util);
	printf("system calls    brk %llu, mmap %llu, munmap %llu\n",
	       (unsigned long long)r->brk_calls, (unsigned long long)r->mmap_calls,
	       (unsigned long long)r->munmap_calls);
	printf("page faults     %llu (%.3f per op)\n", (unsigned long long)r->page_faults,
	       (double)r->page_faults / ops);
	printf("TLB             %llu hits, %llu misses (%.3f misses per op)\n",
	       (unsigned long long)r->tlb_hits, (unsigned long long)r->tlb_misses,
	       (double)r->tlb_misses / ops);
	printf("peak frames     %llu (%llu KiB: RSS + page tables)\n",
	       (unsigned long long)r->peak_frames, (unsigned long long)r->peak_frames * 4);
	printf("time            %.3f s (%.0f ops/s)\n", r->secs,
	       r->secs > 0 ? (double)r->ops / r->secs : 0.0);
}

/* ---- the plot ------------------------------------------------------------------ */

/* n bytes for a legend: "812 B", "1.16 MiB", "1.38 GiB" (three digits). */
static const char *human_bytes(char *buf, size_t len, uint64_t n)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int k = 0;

	while (v >= 1024 && k < 4) {
		v /= 1024;
		k++;
	}
	if (k == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, "%.*f %s", v >= 100 ? 0 : v >= 10 ? 1 : 2, v, unit[k]);
	return buf;
}

static int write_plot(const struct cmd *c, const struct trace *t, struct replay_series *s,
                      const struct replay_result *res)
{
	int np = c->npol;
	double *x = calloc((size_t)np * PLOT_POINTS, sizeof(double));
	double *y[4];
	struct plot_series *ser[3];
	char notes[MAX_POLICIES + 2][160], title[512], hb[32];
	const char *note_ptr[MAX_POLICIES + 3];
	int rc = -1;

	for (int k = 0; k < 4; k++)
		y[k] = calloc((size_t)np * PLOT_POINTS, sizeof(double));
	for (int k = 0; k < 3; k++)
		ser[k] = calloc((size_t)np + 1, sizeof(*ser[k]));
	if (!x || !y[0] || !y[1] || !y[2] || !y[3] || !ser[0] || !ser[1] || !ser[2]) {
		fprintf(stderr, "replay: out of memory for the plot\n");
		goto out;
	}
	for (int j = 0; j < np; j++) {
		double *xj = x + (size_t)j * PLOT_POINTS;
		uint32_t rgb = 0x000000;

		for (size_t i = 0; i < s[j].n; i++) {
			xj[i] = (double)s[j].op[i];
			y[0][(size_t)j * PLOT_POINTS + i] = (double)s[j].footprint[i];
			y[1][(size_t)j * PLOT_POINTS + i] = (double)s[j].rss_pages[i] * 4096;
			y[2][(size_t)j * PLOT_POINTS + i] = (double)s[j].faults[i];
			y[3][(size_t)j * PLOT_POINTS + i] = (double)s[j].payload[i];
		}
		for (size_t k = 0; malloc_policies[k]; k++)
			if (malloc_policies[k] == c->pols[j] &&
			    k < sizeof(policy_rgb) / sizeof(policy_rgb[0]))
				rgb = policy_rgb[k];
		for (int k = 0; k < 3; k++)
			ser[k][j] = (struct plot_series){
			    c->names[j], rgb,  xj, y[k] + (size_t)j * PLOT_POINTS,
			    s[j].n,           false};
		snprintf(notes[j], sizeof(notes[j]), "%s: peak %s, util %.1f%%, %llu fault%s%s",
		         c->names[j], human_bytes(hb, sizeof(hb), res[j].peak_footprint),
		         100 * res[j].util, (unsigned long long)res[j].page_faults,
		         res[j].page_faults == 1 ? "" : "s", res[j].valid ? "" : " (invalid)");
		note_ptr[j] = notes[j];
	}
	/* The payload is the trace's, the same under every policy: the first
	   policy's, drawn thin under the footprints. */
	ser[0][np] =
	    (struct plot_series){"live payload (the trace's)", 0x555555, x, y[3], s[0].n, true};
	snprintf(notes[np], sizeof(notes[np]), "%zu operations, peak payload %s", t->nr_ops,
	         human_bytes(hb, sizeof(hb), res[0].peak_payload));
	note_ptr[np] = notes[np];
	note_ptr[np + 1] = NULL;
	snprintf(title, sizeof(title), "replay %s", t->path);
	{
		const struct plot_panel panels[] = {
		    {"heap footprint (brk - start_brk + mmapped)", PLOT_BYTES, PLOT_LOG_AUTO,
		     ser[0], (size_t)np + 1},
		    {"resident memory (RSS)", PLOT_BYTES, PLOT_LOG_AUTO, ser[1], (size_t)np},
		    {"page faults so far", PLOT_COUNT, PLOT_LOG_AUTO, ser[2], (size_t)np},
		};
		const struct plot_spec spec = {title, "operation", 1280, 800, panels, 3, note_ptr};

		rc = plot_png(c->plot_f, c->plot, &spec, stderr);
	}
out:
	free(x);
	for (int k = 0; k < 4; k++)
		free(y[k]);
	for (int k = 0; k < 3; k++)
		free(ser[k]);
	return rc;
}

/* ---- the command ---------------------------------------------------------------- */

static int parse_args(int argc, char **argv, struct cmd *c, bool *help)
{
	enum { OPT_PLOT = 256, OPT_REF, OPT_TUNABLE };
	static const struct option longopts[] = {
	    {"malloc", required_argument, NULL, 'm'},
	    {"phys", required_argument, NULL, 'p'},
	    {"json", no_argument, NULL, 'j'},
	    {"no-check", no_argument, NULL, 'n'},
	    {"file", required_argument, NULL, 'f'},
	    {"tracedir", required_argument, NULL, 't'},
	    {"verbose", no_argument, NULL, 'V'},
	    {"plot", required_argument, NULL, OPT_PLOT},
	    {"ref-kops", required_argument, NULL, OPT_REF},
	    {"tunable", required_argument, NULL, OPT_TUNABLE},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *policy = "glibc";
	char **files = calloc((size_t)argc + 1, sizeof(*files));
	int nfiles = 0, ch, rc;
	struct kernel_opts ko;
	char why[512], *end;

	if (!files)
		return EXIT_BAD_INPUT;
	optind = 0;
	opterr = 0;
	kernel_default_opts(&ko);
	while ((ch = getopt_long(argc, argv, ":m:p:jnf:t:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			policy = optarg;
			break;
		case 'p':
			if (parse_size(optarg, &c->o.phys_bytes) < 0 || c->o.phys_bytes == 0) {
				free(files);
				return usage_error("replay", "--phys: bad size '%s'", optarg);
			}
			ko.phys_bytes = c->o.phys_bytes;
			if (kernel_opts_problem(&ko, why, sizeof(why))) {
				free(files);
				return usage_error("replay", "--phys %s: %s", optarg, why);
			}
			break;
		case 'j':
			c->json = true;
			break;
		case 'n':
			c->o.check = false;
			break;
		case 'f':
			files[nfiles++] = optarg;
			break;
		case 't':
			c->dir = optarg;
			break;
		case 'V':
			c->verbose = true;
			break;
		case OPT_PLOT:
			c->plot = optarg;
			break;
		case OPT_REF:
			errno = 0;
			c->ref_kops = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(c->ref_kops > 0)) {
				free(files);
				return usage_error("replay", "--ref-kops: '%s' is not a positive number",
				                   optarg);
			}
			break;
		case OPT_TUNABLE:
			if (glibc_tunables_parse(c->tunables, &c->nr_tunables, LIBC_MAX_TUNABLES,
			                         optarg, why, sizeof(why)) < 0) {
				free(files);
				return usage_error("replay", "--tunable: %s", why);
			}
			break;
		case 'h':
			*help = true;
			free(files);
			return 0;
		case ':':
			free(files);
			return usage_error("replay", "option '%s' needs a value", argv[optind - 1]);
		default:
			free(files);
			return usage_error("replay", "unknown option '%s'", argv[optind - 1]);
		}
	}
	for (int i = optind; i < argc; i++)
		files[nfiles++] = argv[i];
	if (nfiles == 0 && !c->dir) {
		free(files);
		return usage_error("replay", "no trace given (TRACE.rep, -f FILE or -t DIR)");
	}
	rc = mdriver_traces("replay", c->dir, files, (size_t)nfiles, &c->paths, &c->ntr, stderr);
	free(files);
	if (rc < 0)
		return EXIT_BAD_INPUT;
	rc = parse_policies(c, policy);
	if (rc)
		return rc;
	for (int j = 0; j < c->npol && c->nr_tunables; j++)
		if (!c->pols[j] || strcmp(c->names[j], "glibc"))
			return usage_error("replay",
			                   "--tunable: glibc.malloc tunables are glibc's, not %s's",
			                   c->names[j]);
	c->o.tunables = c->tunables;
	c->o.nr_tunables = c->nr_tunables;
	if (c->plot && c->ntr != 1)
		return usage_error("replay", "--plot draws one trace, not %zu", c->ntr);
	if (c->plot && c->so.plugin)
		return usage_error("replay", "--plot draws the built-in policies, not a plugin");
	return 0;
}

/* A policy's rows, each row named by the trace, or by the policy when there
   is one trace. */
static void start_table(const struct cmd *c, int j, const struct trace *const *tr)
{
	const char *nocheck = c->o.check ? "" : " (--no-check)";

	if (c->ntr > 1) {
		printf("%sResults for malloc policy %s%s:\n", j && !c->verbose ? "\n" : "",
		       c->names[j], nocheck);
		mdriver_print_header(stdout, "trace");
	} else if (j == 0) {
		printf("%s%s:\n", tr[0]->path, nocheck);
		mdriver_print_header(stdout, "malloc");
	}
}

/*
 * Several traces under several policies: each trace's util under every
 * policy side by side, "*" before the highest as printed (before each of
 * them, on a tie), "-" for an invalid replay (res: npol x ntr).
 */
static void print_util_by_trace(const struct cmd *c, struct trace *const *tr,
                                const struct replay_result *res)
{
	int w[MAX_POLICIES];

	printf("\nutil by trace (* the highest):\n%-20s", "trace");
	for (int j = 0; j < c->npol; j++) {
		int len = (int)strlen(c->names[j]);

		w[j] = len < 8 ? 8 : len > 20 ? 20 : len;
		printf(" %*.*s", w[j], w[j], c->names[j]);
	}
	putchar('\n');
	for (size_t i = 0; i < c->ntr; i++) {
		const char *base = strrchr(tr[i]->path, '/');
		long top = -1; /* in tenths of a percent, as printed */

		for (int j = 0; j < c->npol; j++) {
			const struct replay_result *r = &res[(size_t)j * c->ntr + i];

			if (r->valid && lround(1000 * r->util) > top)
				top = lround(1000 * r->util);
		}
		printf("%-20.20s", base ? base + 1 : tr[i]->path);
		for (int j = 0; j < c->npol; j++) {
			const struct replay_result *r = &res[(size_t)j * c->ntr + i];
			char cell[24];

			if (!r->valid)
				snprintf(cell, sizeof(cell), "-");
			else
				snprintf(cell, sizeof(cell), "%s%.1f%%",
				         lround(1000 * r->util) == top ? "*" : "", 100 * r->util);
			printf(" %*s", w[j], cell);
		}
		putchar('\n');
	}
}

/* The index of each policy (rows: npol x ntr), against glibc's throughput
   in this run or --ref-kops: mdriver's lines for one policy, a line a
   policy for several. */
static void print_indexes(struct cmd *c, struct trace **tr, const struct mdriver_row *rows)
{
	struct mdriver_index ix;
	double ref = c->ref_kops;
	const char *what = c->ref_kops > 0 ? "--ref-kops" : MDRIVER_REF_GLIBC;

	for (int j = 0; j < c->npol && ref <= 0; j++)
		if (c->pols[j] && strcmp(c->names[j], "glibc") == 0) {
			mdriver_compute(rows + (size_t)j * c->ntr, c->ntr, 0, &ix);
			ref = ix.kops;
		}
	if (ref <= 0)
		ref = mdriver_glibc_kops(tr, c->ntr, &c->o);
	if (c->ntr > 1 && c->npol == 1) {
		mdriver_compute(rows, c->ntr, ref, &ix);
		mdriver_print_index(stdout, &ix, what);
		return;
	}
	printf("\n%-9s %7s %6s %8s %6s   (thru: against %s%.1f Kops/s)\n", "malloc", "valid", "util",
	       "Kops", "index", c->ref_kops > 0 ? "--ref-kops " : "the glibc policy's ", ref);
	for (int j = 0; j < c->npol; j++) {
		char valid[32], idx[16];

		mdriver_compute(rows + (size_t)j * c->ntr, c->ntr, ref, &ix);
		snprintf(valid, sizeof(valid), "%d/%d", ix.valid, ix.traces);
		if (ix.valid < ix.traces)
			snprintf(idx, sizeof(idx), "-");
		else
			snprintf(idx, sizeof(idx), "%.0f", ix.p_util + ix.p_thru);
		printf("%-9s %7s %5.1f%% %8.1f %6s\n", c->names[j], valid, 100 * ix.util, ix.kops,
		       idx);
	}
}

int cmd_replay(int argc, char **argv)
{
	struct cmd c = {.o = {.check = true},
	                .so = {.cmd = "replay", .timeout = REPLAY_PLUGIN_TIMEOUT}};
	struct replay_series series[MAX_POLICIES];
	struct replay_result plot_res[MAX_POLICIES], *res = NULL;
	struct mdriver_row *rows = NULL;
	struct trace **tr = NULL;
	bool help = false, table, defer;
	int status, rc, j;
	size_t i;

	memset(series, 0, sizeof(series));
	status = parse_args(argc, argv, &c, &help);
	if (help) {
		usage(stdout);
		goto out;
	}
	if (status)
		goto out;
	tr = calloc(c.ntr, sizeof(*tr));
	res = calloc(c.ntr * (size_t)c.npol, sizeof(*res));
	rows = calloc(c.ntr * (size_t)c.npol, sizeof(*rows));
	if (!tr || !res || !rows) {
		status = cmd_error("replay", "out of memory");
		goto out;
	}
	for (i = 0; i < c.ntr; i++)
		if (trace_load_for("replay", c.paths[i], &tr[i], stderr) < 0) {
			status = EXIT_BAD_INPUT;
			goto out;
		}
	if (c.plot && !(c.plot_f = output_open(c.plot, false))) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	table = c.ntr > 1 || c.npol > 1;
	/* -V, as mdriver -V: each replay's details as it runs, the table after
	   them; else the rows as they come. */
	defer = table && c.verbose && !c.json;
	for (j = 0; j < c.npol; j++) {
		if (table && !c.json && !defer)
			start_table(&c, j, (const struct trace *const *)tr);
		for (i = 0; i < c.ntr; i++) {
			const char *base = strrchr(tr[i]->path, '/');
			struct replay_result *r = &res[(size_t)j * c.ntr + i];
			struct mdriver_row *row = &rows[(size_t)j * c.ntr + i];

			c.o.policy = c.names[j];
			c.o.progress = isatty(2) && !c.json && tr[i]->nr_ops >= 20000;
			c.o.series = c.plot ? &series[j] : NULL;
			if (c.plot)
				series[j].max_points = PLOT_POINTS;
			if (c.verbose && !c.json) {
				if (defer && c.ntr > 1 && j > 0 && i == 0)
					putchar('\n'); /* after the last policy's table */
				printf("Reading tracefile: %s\n", tr[i]->path);
				printf(
				    "Checking %s for correctness, efficiency, and performance.\n",
				    c.names[j]);
			}
			if (c.pols[j]) {
				rc = replay_run(tr[i], &c.o, r);
			} else {
				char *got = NULL;

				rc = sandbox_replay(tr[i], &c.o, &c.so, r, &got);
				/* What the plugin printed, on stderr (stdout is the report's). */
				if (got)
					fputs(got, stderr);
				free(got);
			}
			/* The simulation could not be set up: RAM of that size cannot
			   boot (a bad --phys), said on stderr already. */
			if (rc < 0) {
				status = EXIT_BAD_INPUT;
				goto out;
			}
			*row = (struct mdriver_row){
			    .name = c.ntr > 1 ? (base ? base + 1 : tr[i]->path) : c.names[j],
			    .r = r,
			    .secs = r->secs};
			if (!r->valid) {
				fprintf(stderr, "%s: %s: invalid replay: %s\n", r->trace, r->malloc,
				        r->error);
				if (status == 0)
					status = EXIT_SIM_FAILED;
			}
			if (c.plot)
				plot_res[j] = *r;
			if (c.json)
				print_json(r);
			else if (c.verbose || !table)
				print_summary(tr[i], r);
			if (table && !c.json && !defer)
				mdriver_print_row(stdout, row);
			fflush(stdout);
		}
		if (defer && (c.ntr > 1 || j == c.npol - 1)) {
			/* the policy's table (one trace: every policy's, after the last) */
			size_t first = c.ntr > 1 ? (size_t)j * c.ntr : 0;

			putchar('\n');
			start_table(&c, c.ntr > 1 ? j : 0, (const struct trace *const *)tr);
			for (size_t k = first; k < ((size_t)j + 1) * c.ntr; k++)
				mdriver_print_row(stdout, &rows[k]);
		}
		if (table && !c.json && c.ntr > 1)
			mdriver_print_total(stdout, rows + (size_t)j * c.ntr, c.ntr);
	}
	if (c.ntr > 1 && c.npol > 1 && !c.json)
		print_util_by_trace(&c, tr, res);
	if (table && !c.json)
		print_indexes(&c, tr, rows);
	if (c.plot && write_plot(&c, tr[0], series, plot_res) < 0)
		status = EXIT_BAD_INPUT;
out:
	output_close(c.plot_f); /* a failed write ends the command there (output.h) */
	for (j = 0; j < MAX_POLICIES; j++)
		replay_series_free(&series[j]);
	for (i = 0; tr && i < c.ntr; i++)
		trace_free(tr[i]);
	free(tr);
	free(res);
	free(rows);
	if (c.paths)
		mdriver_free_paths(c.paths, c.ntr);
	return status;
}
