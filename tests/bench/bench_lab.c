/*
 * bench_lab.c - plugin_vs_builtin_ratio: a policy of one's own replayed as
 * a plugin, against the same allocator built in. The seed article's
 * allocator is both: the built-in `seed` policy (libc/seed.c) and the plugin
 * demos/lab/mm-seed.c, which makes the same loads and stores in the same
 * order. The plugin is compiled here exactly as `aftermalloc lab` compiles it
 * (plugin_compile) and loaded in this process; both replay the same traces
 * with the checks off (`replay --no-check`), in alternation, REPS times; the
 * figure is the median over the repetitions of plugin time / built-in time
 * (CPU time of the thread, boot and teardown included: small beside the
 * replay). Target <= 1.3.
 *
 * Usage: bench_lab PLUGIN.c OUT.so REPS TRACE.rep...
 * Prints one JSON line: {"plugin_vs_builtin_ratio", "builtin_secs",
 * "plugin_secs", "ops", "same_figures", "traces"}.
 */
#include "bench.h"
#include "demos/cli/plugin.h"
#include "demos/cli/plugin_guard.h"
#include "demos/cli/replay.h"

/* All traces through ops: the seconds; *ops the operations; *sum a
   digest of the figures (faults, TLB, brk) that must be equal for both. */
static double replay_all(struct trace **t, int n, const struct malloc_ops *ops, uint64_t *nops,
                         uint64_t *sum)
{
	double t0 = bench_now();

	*nops = 0;
	*sum = 0;
	for (int i = 0; i < n; i++) {
		struct replay_opts o = {.ops = ops, .check = false};
		struct replay_result r;

		if (replay_run(t[i], &o, &r) < 0 || !r.valid) {
			fprintf(stderr, "bench_lab: %s under %s: %s\n", t[i]->path, ops->name,
			        r.error);
			exit(1);
		}
		*nops += r.ops;
		*sum = *sum * 31 + r.page_faults * 7 + r.tlb_hits * 3 + r.tlb_misses + r.brk_calls +
		       r.peak_frames;
	}
	return bench_now() - t0;
}

int main(int argc, char **argv)
{
	int reps = argc > 3 ? atoi(argv[3]) : 0, n = argc - 4;
	struct trace **t;
	struct plugin *p;
	const struct malloc_ops *builtin = malloc_policy("seed");
	double ratio[100], bsecs[100], psecs[100];
	uint64_t bops = 0, pops = 0, bsum = 0, psum = 0;
	cJSON *out = cJSON_CreateObject();

	if (argc < 5 || reps < 1 || reps > 100) {
		fprintf(stderr, "usage: bench_lab PLUGIN.c OUT.so REPS TRACE.rep...\n");
		return 2;
	}
	plugin_guard_layout(true);
	if (plugin_compile("bench_lab", argv[1], argv[2], stderr) < 0)
		return 2;
	p = plugin_open(argv[2], NULL, "bench_lab", stderr);
	if (!p)
		return 2;
	t = calloc((size_t)n, sizeof(*t));
	for (int i = 0; i < n; i++)
		if (trace_load(argv[4 + i], &t[i], stderr) < 0)
			return 2;
	for (int i = 0; i < reps; i++) {
		/* Alternate which goes first, so that a slow patch of the host
		   does not always fall on the same side. */
		if (i % 2 == 0) {
			bsecs[i] = replay_all(t, n, builtin, &bops, &bsum);
			psecs[i] = replay_all(t, n, plugin_ops(p), &pops, &psum);
		} else {
			psecs[i] = replay_all(t, n, plugin_ops(p), &pops, &psum);
			bsecs[i] = replay_all(t, n, builtin, &bops, &bsum);
		}
		ratio[i] = psecs[i] / bsecs[i];
	}
	cJSON_AddNumberToObject(out, "plugin_vs_builtin_ratio", bench_median(ratio, reps));
	cJSON_AddNumberToObject(out, "builtin_secs", bench_median(bsecs, reps));
	cJSON_AddNumberToObject(out, "plugin_secs", bench_median(psecs, reps));
	cJSON_AddNumberToObject(out, "ops", (double)bops);
	cJSON_AddBoolToObject(out, "same_figures", bops == pops && bsum == psum);
	cJSON_AddNumberToObject(out, "traces", n);
	cJSON_AddNumberToObject(out, "reps", reps);
	for (int i = 0; i < n; i++)
		trace_free(t[i]);
	free(t);
	plugin_close(p);
	bench_emit(out);
	return 0;
}
