/*
 * mdriver.c - reports in the CS:APP malloc-lab driver's shape (mdriver.h):
 * its printresults table and its performance index, with a trace's name
 * where mdriver prints its number, and the kernel's columns added.
 */
#include "mdriver.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

bool mdriver_scored(const char *trace_path)
{
	const char *b = base_name(trace_path);

	return strcmp(b, "short1-bal.rep") != 0 && strcmp(b, "short2-bal.rep") != 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int mdriver_trace_dir(const char *cmd, const char *dir, char ***paths, size_t *n, FILE *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t nr = 0, cap = 0;

	if (!d) {
		fprintf(err, "aftermalloc %s: %s: %s\n", cmd, dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char *p;

		if (len < 5 || strcmp(e->d_name + len - 4, ".rep") != 0)
			continue;
		if (nr == cap) {
			char **nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));

			if (!nv)
				goto oom;
			v = nv;
		}
		if (asprintf(&p, "%s/%s", dir, e->d_name) < 0)
			goto oom;
		v[nr++] = p;
	}
	closedir(d);
	if (nr == 0) {
		fprintf(err, "aftermalloc %s: %s: no trace (*.rep) in this directory\n", cmd, dir);
		free(v);
		return -1;
	}
	qsort(v, nr, sizeof(*v), by_name);
	*paths = v;
	*n = nr;
	return 0;
oom:
	closedir(d);
	mdriver_free_paths(v, nr);
	fprintf(err, "aftermalloc %s: %s: out of memory\n", cmd, dir);
	return -1;
}

void mdriver_free_paths(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

void mdriver_compute(const struct mdriver_row *rows, size_t n, double ref_kops,
                     struct mdriver_index *ix)
{
	double util = 0, kops;

	*ix = (struct mdriver_index){.ref_kops = ref_kops};
	for (size_t i = 0; i < n; i++) {
		if (!rows[i].scored)
			continue;
		ix->scored++;
		if (!rows[i].r->valid)
			continue;
		ix->valid++;
		util += rows[i].r->util;
		if (rows[i].secs > 0) {
			ix->ops += (double)rows[i].r->ops;
			ix->secs += rows[i].secs;
		}
	}
	ix->util = ix->scored ? util / ix->scored : 0;
	kops = ix->secs > 0 ? ix->ops / 1e3 / ix->secs : 0;
	ix->p_util = 100 * MDRIVER_UTIL_WEIGHT * ix->util;
	ix->p_thru = ref_kops > 0 ? 100 * (1 - MDRIVER_UTIL_WEIGHT) *
	                                (kops >= ref_kops ? 1.0 : kops / ref_kops)
	                          : 0;
}

static void kernel_cols(FILE *f, const struct replay_result *r)
{
	fprintf(f, " %8llu %7llu %6llu %5llu %9llu", (unsigned long long)r->page_faults,
	        (unsigned long long)r->peak_frames, (unsigned long long)r->brk_calls,
	        (unsigned long long)r->mmap_calls, (unsigned long long)r->tlb_misses);
}

void mdriver_print_table(FILE *f, const struct mdriver_row *rows, size_t n, bool kernel)
{
	struct replay_result sum = {0};
	double util = 0, ops = 0, secs = 0;
	int scored = 0, errors = 0;

	fprintf(f, "%-20s %5s %5s %8s %10s %6s", "trace", "valid", "util", "ops", "secs", "Kops");
	if (kernel)
		fprintf(f, " %8s %7s %6s %5s %9s", "faults", "frames", "brk", "mmap", "tlbmiss");
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		const struct replay_result *r = rows[i].r;
		char name[24];

		snprintf(name, sizeof(name), "%s%s", rows[i].scored ? "" : "*",
		         base_name(r->trace));
		if (!r->valid) {
			fprintf(f, "%-20.20s %5s %5s %8s %10s %6s", name, "no", "-", "-", "-", "-");
			if (kernel)
				fprintf(f, " %8s %7s %6s %5s %9s", "-", "-", "-", "-", "-");
			fputc('\n', f);
			errors += rows[i].scored;
			scored += rows[i].scored;
			continue;
		}
		fprintf(f, "%-20.20s %5s %4.0f%% %8llu", name, "yes", r->util * 100,
		        (unsigned long long)r->ops);
		if (rows[i].secs > 0)
			fprintf(f, " %10.6f %6.0f", rows[i].secs,
			        (double)r->ops / 1e3 / rows[i].secs);
		else
			fprintf(f, " %10s %6s", "-", "-");
		if (kernel)
			kernel_cols(f, r);
		fputc('\n', f);
		if (!rows[i].scored)
			continue;
		scored++;
		util += r->util;
		if (rows[i].secs > 0) {
			ops += (double)r->ops;
			secs += rows[i].secs;
		}
		sum.page_faults += r->page_faults;
		if (r->peak_frames > sum.peak_frames)
			sum.peak_frames = r->peak_frames;
		sum.brk_calls += r->brk_calls;
		sum.mmap_calls += r->mmap_calls;
		sum.tlb_misses += r->tlb_misses;
	}
	if (errors || scored == 0) {
		fprintf(f, "%-20s %5s %5s %8s %10s %6s\n", "Total", "", "-", "-", "-", "-");
		return;
	}
	fprintf(f, "%-20s %5s %4.0f%% %8.0f", "Total", "", util / scored * 100, ops);
	if (secs > 0)
		fprintf(f, " %10.6f %6.0f", secs, ops / 1e3 / secs);
	else
		fprintf(f, " %10s %6s", "-", "-");
	if (kernel)
		kernel_cols(f, &sum);
	fputc('\n', f);
}

void mdriver_print_index(FILE *f, const struct mdriver_index *ix)
{
	int errors = ix->scored - ix->valid;

	if (ix->scored == 0) {
		fprintf(f, "No scored trace: no performance index\n");
		return;
	}
	if (errors) {
		fprintf(f, "Terminated with %d errors\n", errors);
		return;
	}
	fprintf(f, "Perf index = %.0f (util) + %.0f (thru) = %.0f/100\n", ix->p_util, ix->p_thru,
	        ix->p_util + ix->p_thru);
}
