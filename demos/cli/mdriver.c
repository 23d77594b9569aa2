/*
 * mdriver.c - reports in the CS:APP malloc-lab driver's shape (mdriver.h):
 * its default trace list, its printresults table with a trace's name where
 * mdriver prints its number and the kernel's columns added, its performance
 * index. `replay` and `lab` print through these alone.
 */
#include "mdriver.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

/* The traces the CS:APP driver scores (its config.h, DEFAULT_TRACEFILES):
   malloclab/ less short1-bal and short2-bal, which are for debugging. */
static const char *const default_traces[] = {
    "amptjp-bal.rep",     "cccp-bal.rep",    "cp-decl-bal.rep",  "expr-bal.rep",
    "coalescing-bal.rep", "random-bal.rep",  "random2-bal.rep",  "binary-bal.rep",
    "binary2-bal.rep",    "realloc-bal.rep", "realloc2-bal.rep",
};
#define NR_DEFAULT (sizeof(default_traces) / sizeof(default_traces[0]))

struct list {
	char **v;
	size_t n, cap;
};

/* Appends dir/name (name alone when dir is NULL); -1 when out of memory. */
static int list_add(struct list *l, const char *dir, const char *name)
{
	char *p;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (dir ? asprintf(&p, "%s/%s", dir, name) < 0 : !(p = strdup(name)))
		return -1;
	l->v[l->n++] = p;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.rep of dir, sorted by name. 0, 1 when dir cannot be read (errno
   says why), -1 when out of memory. */
static int every_rep(const char *dir, struct list *l)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t from = l->n;

	if (!d)
		return 1;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len <= 4 || strcmp(e->d_name + len - 4, ".rep") != 0)
			continue;
		if (list_add(l, dir, e->d_name) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	qsort(l->v + from, l->n - from, sizeof(*l->v), by_name);
	return 0;
}

int mdriver_traces(const char *cmd, const char *dir, char *const *names, size_t nr_names,
                   char ***paths, size_t *n, FILE *err)
{
	struct list l = {0};
	bool all = true;
	int rc = 0;

	for (size_t i = 0; i < nr_names && rc == 0; i++)
		rc = list_add(&l, dir && !strchr(names[i], '/') ? dir : NULL, names[i]);
	if (nr_names == 0 && dir) {
		for (size_t i = 0; i < NR_DEFAULT && all; i++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", dir, default_traces[i]);
			all = access(path, R_OK) == 0;
		}
		for (size_t i = 0; all && i < NR_DEFAULT && rc == 0; i++)
			rc = list_add(&l, dir, default_traces[i]);
		if (!all && (rc = every_rep(dir, &l)) > 0) {
			fprintf(err, "aftermalloc %s: %s: %s\n", cmd, dir, strerror(errno));
			mdriver_free_paths(l.v, l.n);
			return -1;
		}
		if (rc == 0 && l.n == 0) {
			fprintf(err, "aftermalloc %s: %s: no trace (*.rep) in this directory\n", cmd,
			        dir);
			free(l.v);
			return -1;
		}
	}
	if (rc < 0) {
		fprintf(err, "aftermalloc %s: out of memory\n", cmd);
		mdriver_free_paths(l.v, l.n);
		return -1;
	}
	*paths = l.v;
	*n = l.n;
	return 0;
}

void mdriver_free_paths(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

double mdriver_glibc_kops(struct trace *const *t, size_t n, const struct replay_opts *o)
{
	double ops = 0, secs = 0;

	for (size_t i = 0; i < n; i++) {
		struct replay_opts g = *o;
		struct replay_result r;

		g.policy = "glibc";
		g.ops = NULL;
		g.heap_check = false;
		g.sink = NULL;
		g.running_op = NULL;
		g.series = NULL;
		g.progress = false;
		if (replay_run(t[i], &g, &r) < 0 || !r.valid)
			return 0;
		ops += (double)r.ops;
		secs += r.secs;
	}
	return secs > 0 ? ops / 1e3 / secs : 0;
}

void mdriver_compute(const struct mdriver_row *rows, size_t n, double ref_kops,
                     struct mdriver_index *ix)
{
	double util = 0;

	*ix = (struct mdriver_index){.traces = (int)n, .ref_kops = ref_kops};
	for (size_t i = 0; i < n; i++) {
		if (!rows[i].r->valid)
			continue;
		ix->valid++;
		util += rows[i].r->util;
		if (rows[i].secs > 0) {
			ix->ops += (double)rows[i].r->ops;
			ix->secs += rows[i].secs;
		}
	}
	ix->util = n ? util / (double)n : 0;
	ix->kops = ix->secs > 0 ? ix->ops / 1e3 / ix->secs : 0;
	ix->p_util = 100 * MDRIVER_UTIL_WEIGHT * ix->util;
	ix->p_thru = ref_kops > 0 ? 100 * (1 - MDRIVER_UTIL_WEIGHT) *
	                                (ix->kops >= ref_kops ? 1.0 : ix->kops / ref_kops)
	                          : 0;
}

static void kernel_cols(FILE *f, const struct replay_result *r)
{
	fprintf(f, " %8llu %7llu %6llu %5llu %9llu\n", (unsigned long long)r->page_faults,
	        (unsigned long long)r->peak_frames, (unsigned long long)r->brk_calls,
	        (unsigned long long)r->mmap_calls, (unsigned long long)r->tlb_misses);
}

static void timing_cols(FILE *f, double ops, double secs)
{
	if (secs > 0)
		fprintf(f, " %10.6f %6.0f", secs, ops / 1e3 / secs);
	else
		fprintf(f, " %10s %6s", "-", "-");
}

void mdriver_print_header(FILE *f, const char *first)
{
	fprintf(f, "%-20s %5s %6s %8s %10s %6s %8s %7s %6s %5s %9s\n", first, "valid", "util",
	        "ops", "secs", "Kops", "faults", "frames", "brk", "mmap", "tlbmiss");
}

void mdriver_print_row(FILE *f, const struct mdriver_row *row)
{
	const struct replay_result *r = row->r;

	if (!r->valid) {
		fprintf(f, "%-20.20s %5s %6s %8s %10s %6s %8s %7s %6s %5s %9s\n", row->name, "no",
		        "-", "-", "-", "-", "-", "-", "-", "-", "-");
		return;
	}
	fprintf(f, "%-20.20s %5s %5.1f%% %8llu", row->name, "yes", r->util * 100,
	        (unsigned long long)r->ops);
	timing_cols(f, (double)r->ops, row->secs);
	kernel_cols(f, r);
}

void mdriver_print_total(FILE *f, const struct mdriver_row *rows, size_t n)
{
	struct replay_result sum = {0};
	double util = 0, ops = 0, secs = 0;
	bool all_valid = n > 0;

	for (size_t i = 0; i < n; i++)
		all_valid &= rows[i].r->valid;
	/* mdriver prints no mean when a trace failed: it would mean nothing. */
	if (!all_valid) {
		fprintf(f, "%-20s %5s %6s %8s %10s %6s\n", "Total", "", "-", "-", "-", "-");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct replay_result *r = rows[i].r;

		util += r->util;
		if (rows[i].secs > 0) {
			ops += (double)r->ops;
			secs += rows[i].secs;
		}
		sum.ops += r->ops;
		sum.page_faults += r->page_faults;
		if (r->peak_frames > sum.peak_frames)
			sum.peak_frames = r->peak_frames;
		sum.brk_calls += r->brk_calls;
		sum.mmap_calls += r->mmap_calls;
		sum.tlb_misses += r->tlb_misses;
	}
	fprintf(f, "%-20s %5s %5.1f%% %8llu", "Total", "", util / (double)n * 100,
	        (unsigned long long)sum.ops);
	timing_cols(f, ops, secs);
	kernel_cols(f, &sum);
}

void mdriver_print_table(FILE *f, const char *first, const struct mdriver_row *rows, size_t n)
{
	mdriver_print_header(f, first);
	for (size_t i = 0; i < n; i++)
		mdriver_print_row(f, &rows[i]);
	mdriver_print_total(f, rows, n);
}

void mdriver_print_index(FILE *f, const struct mdriver_index *ix, const char *ref_what)
{
	if (ix->ref_kops >= 10)
		fprintf(f, "Throughput reference: %s, %.0f Kops\n", ref_what, ix->ref_kops);
	else if (ix->ref_kops > 0)
		fprintf(f, "Throughput reference: %s, %.3g Kops\n", ref_what, ix->ref_kops);
	else
		fprintf(f, "Throughput reference: %s, not measured\n", ref_what);
	if (ix->valid < ix->traces || ix->traces == 0)
		fprintf(f, "Perf index: not scored, %d of %d traces invalid\n",
		        ix->traces - ix->valid, ix->traces);
	else
		fprintf(f, "Perf index = %.0f (util) + %.0f (thru) = %.0f/100\n", ix->p_util,
		        ix->p_thru, ix->p_util + ix->p_thru);
}
