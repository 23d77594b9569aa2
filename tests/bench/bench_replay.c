/*
 * bench_replay.c - the simulated side of replay_vs_glibc_ratio: a trace
 * replayed inside the simulation (demos/cli/replay.h replay_run, checks off as
 * `replay --no-check`), in operations per second of CPU time, for each
 * policy named.
 *
 * Usage: bench_replay TRACE.rep REPS POLICY...
 * Prints one JSON line: {"POLICY": {"sim_ops_per_s", "sim_secs", "valid",
 * "page_faults", "tlb_hits", "tlb_misses", "peak_frames", "phys_bytes",
 * "sim_warm_ops_per_s", "sim_warm_secs", "warm_page_faults"}, ...}.
 * Cold: the time is the whole of replay_run (boot, process, replay,
 * teardown): the boot and teardown are lazy and small beside 300k
 * operations. Warm (replay_opts.warm): the second pass of the trace in the
 * same process, after the first freed its blocks, the CPU time of that pass
 * alone (replay_result.cpu_secs), as bench_host_replay measures its own.
 */
#include "bench.h"
#include "demos/cli/replay.h"

int main(int argc, char **argv)
{
	struct trace *t;
	int reps = argc > 2 ? atoi(argv[2]) : 0;
	cJSON *out = cJSON_CreateObject();

	if (argc < 4 || reps < 1 || reps > 100) {
		fprintf(stderr, "usage: bench_replay TRACE.rep REPS POLICY...\n");
		return 2;
	}
	if (trace_load(argv[1], &t, stderr) < 0)
		return 2;
	for (int a = 3; a < argc; a++) {
		struct replay_opts o = {.policy = argv[a], .check = false};
		struct replay_result r;
		double secs[reps];
		cJSON *p = cJSON_CreateObject();

		for (int i = 0; i < reps; i++) {
			double t0 = bench_now();

			if (replay_run(t, &o, &r) < 0)
				return 2;
			secs[i] = bench_now() - t0;
			if (!r.valid)
				fprintf(stderr, "bench_replay: %s: invalid: %s\n", argv[a],
				        r.error);
		}
		double med = bench_median(secs, reps), warm[reps];
		struct replay_opts ow = o;
		struct replay_result rw;

		ow.warm = true;
		for (int i = 0; i < reps; i++) {
			if (replay_run(t, &ow, &rw) < 0)
				return 2;
			warm[i] = rw.cpu_secs;
			if (!rw.valid)
				fprintf(stderr, "bench_replay: %s: warm: invalid: %s\n", argv[a],
				        rw.error);
		}
		double wmed = bench_median(warm, reps);

		cJSON_AddNumberToObject(p, "sim_ops_per_s", (double)r.ops / med);
		cJSON_AddNumberToObject(p, "sim_secs", med);
		cJSON_AddBoolToObject(p, "valid", r.valid);
		cJSON_AddNumberToObject(p, "ops", (double)r.ops);
		cJSON_AddNumberToObject(p, "page_faults", (double)r.page_faults);
		cJSON_AddNumberToObject(p, "tlb_hits", (double)r.tlb_hits);
		cJSON_AddNumberToObject(p, "tlb_misses", (double)r.tlb_misses);
		cJSON_AddNumberToObject(p, "peak_frames", (double)r.peak_frames);
		cJSON_AddNumberToObject(p, "phys_bytes", (double)r.phys_bytes);
		cJSON_AddNumberToObject(p, "sim_warm_ops_per_s", (double)rw.ops / wmed);
		cJSON_AddNumberToObject(p, "sim_warm_secs", wmed);
		cJSON_AddNumberToObject(p, "warm_page_faults", (double)rw.page_faults);
		cJSON_AddNumberToObject(p, "reps", reps);
		cJSON_AddItemToObject(out, argv[a], p);
	}
	trace_free(t);
	bench_emit(out);
	return 0;
}
