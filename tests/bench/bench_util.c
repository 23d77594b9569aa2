/*
 * bench_util.c - best_vs_glibc_util_min (docs/performance.md): every trace
 * of the folders named replayed under the glibc and best policies (checks
 * off, as `replay --no-check`: utilization does not depend on them), and
 * the smallest margin best's util has over glibc's, util(best) -
 * util(glibc), over all of them. The promise is that it is never
 * negative: best never uses more memory at its peak than glibc would.
 *
 * Usage: bench_util DIR...
 * Prints one JSON line: {"best_vs_glibc_util_min", "min_trace", "traces":
 * {"DIR/NAME.rep": {"glibc", "best", "margin"}, ...}}. Deterministic: the
 * runner runs it once, not in every pass.
 */
#include <dirent.h>

#include "bench.h"
#include "demos/cli/replay.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* util of policy on t (checks off); exits 2 when the replay cannot run or is invalid. */
static double util_of(const struct trace *t, const char *policy)
{
	struct replay_opts o = {.policy = policy, .check = false};
	struct replay_result r;

	if (replay_run(t, &o, &r) < 0)
		exit(2);
	if (!r.valid) {
		fprintf(stderr, "bench_util: %s: %s: invalid: %s\n", t->path, policy, r.error);
		exit(2);
	}
	return r.util;
}

int main(int argc, char **argv)
{
	cJSON *out = cJSON_CreateObject(), *all = cJSON_CreateObject();
	double min = 2;
	char min_trace[4096] = "";

	if (argc < 2) {
		fprintf(stderr, "usage: bench_util DIR...\n");
		return 2;
	}
	for (int a = 1; a < argc; a++) {
		DIR *d = opendir(argv[a]);
		struct dirent *e;
		char *names[4096];
		size_t n = 0;

		if (!d) {
			perror(argv[a]);
			return 2;
		}
		while ((e = readdir(d)) && n < sizeof(names) / sizeof(names[0])) {
			size_t len = strlen(e->d_name);

			if (len > 4 && !strcmp(e->d_name + len - 4, ".rep"))
				names[n++] = strdup(e->d_name);
		}
		closedir(d);
		qsort(names, n, sizeof(names[0]), by_name);
		for (size_t i = 0; i < n; i++) {
			char path[4096];
			struct trace *t;
			cJSON *o = cJSON_CreateObject();
			double g, b;

			snprintf(path, sizeof(path), "%s/%s", argv[a], names[i]);
			if (trace_load(path, &t, stderr) < 0)
				return 2;
			g = util_of(t, "glibc");
			b = util_of(t, "best");
			trace_free(t);
			cJSON_AddNumberToObject(o, "glibc", g);
			cJSON_AddNumberToObject(o, "best", b);
			cJSON_AddNumberToObject(o, "margin", b - g);
			cJSON_AddItemToObject(all, path, o);
			if (b - g < min) {
				min = b - g;
				snprintf(min_trace, sizeof(min_trace), "%s", path);
			}
			free(names[i]);
		}
	}
	cJSON_AddNumberToObject(out, "best_vs_glibc_util_min", min);
	cJSON_AddStringToObject(out, "min_trace", min_trace);
	cJSON_AddItemToObject(out, "traces", all);
	bench_emit(out);
	return 0;
}
