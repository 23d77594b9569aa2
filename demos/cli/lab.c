/*
 * lab.c - `aftermalloc lab MM.c`: the CS:APP malloc-lab driver (mdriver)
 * for an allocator of one's own, run inside the simulated process.
 *
 * The file is compiled with the system compiler into a shared object
 * (plugin_compile), loaded once in a child to see that it is a plugin
 * (sandbox_probe), then each trace is replayed in a child of its own
 * (sandbox_replay): once with every check of `replay` (alignment, inside the
 * heap or a mapping, no overlap, payload intact) for validity, utilization
 * and the kernel's counts, once with the checks off for the time. The report
 * is `replay`'s (demos/cli/mdriver.h): mdriver's table with the kernel's
 * columns, and its performance index, whose throughput reference is the
 * built-in glibc policy replaying the same traces with the checks off, in
 * this same run: what mdriver measures against the C library, in the
 * simulation's terms.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "output.h"
#include "mdriver.h"
#include "plugin.h"
#include "plugin_guard.h"
#include "sandbox.h"

#define DEFAULT_TIMEOUT 60.0

struct lab {
	const char *src;       /* MM.c or MM.so as given */
	const char *so;        /* the shared object run */
	char *tmp_so, *tmpdir; /* a compiled plugin kept only for this run */
	const char *keep;      /* -o: where the compiled plugin goes */
	bool json, verbose, check_heap;
	double timeout;
	double ref_kops; /* --ref-kops; 0: the glibc policy's in this run */
	uint64_t phys;
	char **paths; /* the traces, in order (mdriver_traces) */
	size_t nr_paths;
};

static void usage(FILE *f)
{
	fputs("usage: aftermalloc lab MM.c|MM.so [TRACE.rep...] [-t DIR] [-o FILE.so] [--json]\n"
	      "                       [--timeout SECS] [--check-heap] [--phys SIZE]\n"
	      "                       [--ref-kops N] [-V]\n"
	      "Compile an allocator written in the CS:APP malloc-lab shape (mm_init, mm_malloc,\n"
	      "mm_free, mm_realloc over mem_sbrk: #include <aftermalloc/memlib.h>), replay the\n"
	      "traces inside the simulated process as the lab's mdriver does, and add what it\n"
	      "cost the kernel: page faults, peak frames, brk and mmap calls, TLB misses.\n"
	      "  -t, --tracedir DIR  the traces of DIR: the 11 the CS:APP driver scores when\n"
	      "                      DIR has them (demos/traces/malloclab), else every *.rep;\n"
	      "                      TRACE names are looked up there\n"
	      "  -o, --output FILE   keep the compiled plugin (for --malloc FILE elsewhere)\n"
	      "  -j, --json          one JSON object a trace, then {\"summary\": ...}\n"
	      "      --timeout SECS  wall-clock limit of each trace's replay (default 60)\n"
	      "      --check-heap    run mm_checkheap after every operation\n"
	      "  -p, --phys SIZE     simulated RAM (default 2G)\n"
	      "      --ref-kops N    throughput reference of the index, in Kops/s (default:\n"
	      "                      the built-in glibc policy's on the same traces, in this run)\n"
	      "  -V, --verbose       say what runs, trace by trace, on stderr\n"
	      "  -h, --help          this text\n"
	      "The compiler is $CC (default cc), with $CFLAGS added. Each trace runs in a\n"
	      "process of its own: a crash or an endless loop in the allocator is reported\n"
	      "with the trace and the operation, and the other traces' results stand.\n"
	      "The report is replay's: mdriver's table with the kernel's columns, and the\n"
	      "performance index, 60 x util + 40 x min(1, Kops / reference).\n"
	      "Exit status: 0 every trace valid, 1 a trace invalid (a failed check, a crash,\n"
	      "the time limit), 2 bad usage, a file that does not compile or load, a\n"
	      "malformed trace.\n",
	      f);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* What the plugin printed on a trace, each line prefixed with the trace. */
static void relay_output(const char *trace, const char *text)
{
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		fprintf(stderr, "%s| %.*s\n", base_name(trace), len, p);
		p = nl ? nl + 1 : NULL;
	}
}

/* Compile src to a plugin: to -o FILE, or into a private directory. */
/* The compiled plugin kept only for this run, and its directory; also when
   a failed write ends the command (output_at_exit). */
static void remove_tmp(void *ctx)
{
	struct lab *l = ctx;

	if (l->tmp_so) {
		remove(l->tmp_so);
		remove(l->tmpdir);
	}
}

static int build(struct lab *l)
{
	if (ends_with(l->src, ".so")) {
		l->so = l->src;
		return 0;
	}
	if (!ends_with(l->src, ".c"))
		return usage_error("lab", "'%s' is not a C file (.c) or a plugin (.so)", l->src);
	if (access(l->src, R_OK) < 0)
		return cmd_error("lab", "%s: %s", l->src, strerror(errno));
	if (l->keep) {
		l->so = l->keep;
	} else {
		const char *tmp = getenv("TMPDIR");

		if (asprintf(&l->tmpdir, "%s/aftermalloc-lab-XXXXXX", tmp && *tmp ? tmp : "/tmp") <
		        0 ||
		    !mkdtemp(l->tmpdir) || asprintf(&l->tmp_so, "%s/mm.so", l->tmpdir) < 0) {
			return cmd_error("lab", "cannot make a temporary directory: %s",
			                 strerror(errno));
		}
		l->so = l->tmp_so;
		output_at_exit(remove_tmp, l);
	}
	if (l->verbose)
		fprintf(stderr, "aftermalloc lab: compiling %s into %s\n", l->src, l->so);
	return plugin_compile("lab", l->src, l->so, stderr) < 0 ? EXIT_BAD_INPUT : 0;
}

static int parse(int argc, char **argv, struct lab *l, bool *help)
{
	static const struct option lo[] = {
	    {"tracedir", required_argument, NULL, 't'},
	    {"output", required_argument, NULL, 'o'},
	    {"json", no_argument, NULL, 'j'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"check-heap", no_argument, NULL, 'c'},
	    {"phys", required_argument, NULL, 'p'},
	    {"ref-kops", required_argument, NULL, 'R'},
	    {"verbose", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL;
	char *end;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:o:jp:Vh", lo, NULL)) != -1) {
		switch (c) {
		case 't':
			dir = optarg;
			break;
		case 'o':
			l->keep = optarg;
			break;
		case 'j':
			l->json = true;
			break;
		case 'T':
			l->timeout = strtod(optarg, &end);
			if (*end || end == optarg || !(l->timeout > 0) || l->timeout > 1e6)
				return usage_error(
				    "lab", "--timeout: '%s' is not a number of seconds", optarg);
			break;
		case 'c':
			l->check_heap = true;
			break;
		case 'p':
			if (parse_size(optarg, &l->phys) < 0 || l->phys == 0)
				return usage_error("lab", "--phys: bad size '%s'", optarg);
			break;
		case 'R':
			errno = 0;
			l->ref_kops = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(l->ref_kops > 0))
				return usage_error("lab", "--ref-kops: '%s' is not a positive number",
				                   optarg);
			break;
		case 'V':
			l->verbose = true;
			break;
		case 'h':
			*help = true;
			return 0;
		case ':':
			return usage_error("lab", "option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("lab", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("lab", "no allocator given (MM.c)");
	l->src = argv[optind++];
	if (optind >= argc && !dir)
		return usage_error("lab", "no trace given (TRACE.rep..., or -t DIR such as "
		                          "demos/traces/malloclab)");
	if (mdriver_traces("lab", dir, argv + optind, (size_t)(argc - optind), &l->paths,
	                   &l->nr_paths, stderr) < 0)
		return EXIT_BAD_INPUT;
	return 0;
}

static void print_json_row(const struct mdriver_row *row)
{
	cJSON *o = replay_json(row->r);
	char *s;

	if (row->secs > 0) {
		cJSON_AddNumberToObject(o, "timed_secs", row->secs);
		cJSON_AddNumberToObject(o, "kops", (double)row->r->ops / 1e3 / row->secs);
	} else {
		cJSON_AddNullToObject(o, "timed_secs");
		cJSON_AddNullToObject(o, "kops");
	}
	s = cJSON_PrintUnformatted(o);
	if (s)
		puts(s);
	free(s);
	cJSON_Delete(o);
}

static void print_json_summary(const struct lab *l, const struct mdriver_index *ix)
{
	cJSON *o = cJSON_CreateObject(), *sm = cJSON_AddObjectToObject(o, "summary");
	char *s;

	cJSON_AddStringToObject(sm, "malloc", base_name(l->src));
	cJSON_AddNumberToObject(sm, "traces", (double)l->nr_paths);
	cJSON_AddNumberToObject(sm, "valid", ix->valid);
	cJSON_AddNumberToObject(sm, "util", ix->util);
	cJSON_AddNumberToObject(sm, "kops", ix->kops);
	cJSON_AddNumberToObject(sm, "ref_kops", ix->ref_kops);
	if (ix->valid == ix->traces) {
		cJSON_AddNumberToObject(sm, "perf_index", ix->p_util + ix->p_thru);
		cJSON_AddNumberToObject(sm, "perf_util", ix->p_util);
		cJSON_AddNumberToObject(sm, "perf_thru", ix->p_thru);
	} else {
		cJSON_AddNullToObject(sm, "perf_index");
	}
	s = cJSON_PrintUnformatted(o);
	if (s)
		puts(s);
	free(s);
	cJSON_Delete(o);
}

/* One trace: the checked replay, then the timed one, in children. -1 when
   the replay could not be set up (said on stderr). */
static int run_trace(const struct lab *l, const struct trace *t, const struct sandbox_opts *so,
                     struct replay_result *r, double *secs)
{
	struct replay_opts o = {.check = true, .phys_bytes = l->phys, .heap_check = l->check_heap};
	struct replay_result timed;
	char *out = NULL;

	*secs = -1;
	if (l->verbose)
		fprintf(stderr,
		        "aftermalloc lab: %s: checking %s for correctness and utilization\n",
		        t->path, base_name(l->src));
	if (sandbox_replay(t, &o, so, r, &out) < 0)
		return -1;
	if (out)
		relay_output(t->path, out);
	free(out);
	out = NULL;
	if (!r->valid) {
		fprintf(stderr, "%s: %s: invalid replay: %s\n", r->trace, r->malloc, r->error);
		return 0;
	}
	if (l->verbose)
		fprintf(stderr, "aftermalloc lab: %s: timing %s (checks off)\n", t->path,
		        base_name(l->src));
	o.check = false;
	o.heap_check = false;
	if (sandbox_replay(t, &o, so, &timed, &out) < 0)
		return -1;
	free(out); /* the same run once more: what it printed was shown */
	if (!timed.valid) {
		/* Valid with the checks and not without them: the checks' stores
		   changed what the allocator did (it reads payload bytes?). */
		fprintf(stderr, "%s: %s: invalid replay without the checks: %s\n", r->trace,
		        r->malloc, timed.error);
		r->valid = false;
		snprintf(r->error, sizeof(r->error), "timed replay: %.480s", timed.error);
		return 0;
	}
	*secs = timed.secs;
	return 0;
}

int cmd_lab(int argc, char **argv)
{
	struct lab l = {.timeout = DEFAULT_TIMEOUT};
	struct sandbox_opts so = {0};
	struct trace **tr = NULL;
	struct replay_result *res = NULL;
	struct mdriver_row *rows = NULL;
	struct mdriver_index ix;
	bool help = false;
	int status = parse(argc, argv, &l, &help);
	bool ref_given = l.ref_kops > 0;
	size_t loaded = 0;

	if (status || help) {
		if (help)
			usage(stdout);
		goto out;
	}
	/* First of all, while executing again costs nothing (nothing read or
	   written yet): keep the simulated addresses unmapped in the host. */
	plugin_guard_layout(true);
	tr = calloc(l.nr_paths, sizeof(*tr));
	res = calloc(l.nr_paths, sizeof(*res));
	rows = calloc(l.nr_paths, sizeof(*rows));
	if (!tr || !res || !rows) {
		status = cmd_error("lab", "out of memory");
		goto out;
	}
	for (; loaded < l.nr_paths; loaded++)
		if (trace_load_for("lab", l.paths[loaded], &tr[loaded], stderr) < 0) {
			status = EXIT_BAD_INPUT;
			goto out;
		}
	status = build(&l);
	if (status)
		goto out;
	so = (struct sandbox_opts){.cmd = "lab",
	                           .plugin = l.so,
	                           .name = base_name(l.src),
	                           .timeout = l.timeout,
	                           .spin = l.timeout / 2 < 5 ? l.timeout / 2 : 5};
	if (sandbox_probe(&so, stderr) < 0) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	/* The reasons of invalid traces on stderr as they come, the table at
	   the end, as mdriver prints them. */
	for (size_t i = 0; i < l.nr_paths; i++) {
		rows[i].name = base_name(tr[i]->path);
		rows[i].r = &res[i];
		if (run_trace(&l, tr[i], &so, &res[i], &rows[i].secs) < 0) {
			status = EXIT_BAD_INPUT;
			goto out;
		}
		if (!res[i].valid)
			status = EXIT_SIM_FAILED;
		if (l.json) {
			print_json_row(&rows[i]);
			fflush(stdout);
		}
	}
	if (l.ref_kops <= 0) {
		struct replay_opts o = {.phys_bytes = l.phys};

		if (l.verbose)
			fprintf(stderr, "aftermalloc lab: timing the reference, the built-in "
			                "glibc policy\n");
		l.ref_kops = mdriver_glibc_kops(tr, l.nr_paths, &o);
	}
	mdriver_compute(rows, l.nr_paths, l.ref_kops, &ix);
	if (l.json) {
		print_json_summary(&l, &ix);
	} else {
		printf("Results for mm malloc (%s):\n", l.src);
		mdriver_print_table(stdout, "trace", rows, l.nr_paths);
		mdriver_print_index(stdout, &ix, ref_given ? "--ref-kops" : MDRIVER_REF_GLIBC);
	}
out:
	for (size_t i = 0; i < loaded; i++)
		trace_free(tr[i]);
	free(tr);
	free(res);
	free(rows);
	if (l.paths)
		mdriver_free_paths(l.paths, l.nr_paths);
	remove_tmp(&l);
	output_at_exit_remove(remove_tmp, &l);
	free(l.tmp_so);
	free(l.tmpdir);
	return status;
}
