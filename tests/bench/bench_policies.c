/*
 * bench_policies.c - the scale sweeps of docs/performance.md (make
 * bench-scale): a trace replayed under every policy (replay --no-check), and
 * under glibc on prefixes of the trace (1/8, 1/4, 1/2, all) to see how the
 * replay time grows with the trace's length.
 *
 * Usage: bench_policies TRACE.rep BUDGET_SECS
 * Each replay runs in a child process of its own, so that its host RSS
 * (ru_maxrss) is its own, and is killed when it has run BUDGET_SECS of wall
 * time (seed, first fit with no coalescing, is slow by design: it walks
 * every block of the heap on each malloc). Prints one JSON line:
 * {"policies": {POLICY: {...}}, "prefixes": [{...}, ...]}.
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "demos/cli/replay.h"
#include "libc/libc.h"

struct child_out {
	double cpu_secs;
	uint64_t ops, page_faults, peak_frames, phys_bytes;
	bool valid;
};

/* Replay t (its first nr_ops) under policy in a child; fill o with what it reports. */
static cJSON *run_one(const struct trace *t, size_t nr_ops, const char *policy, double budget)
{
	struct trace part = *t;
	int fds[2], status = 0;
	struct rusage ru;
	struct child_out co = {0};
	double w0 = 0, wall;
	bool killed = false;
	cJSON *o = cJSON_CreateObject();
	struct timespec ts;
	pid_t pid;

	part.nr_ops = nr_ops;
	if (pipe(fds))
		exit(2);
	fflush(NULL);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	w0 = ts.tv_sec + ts.tv_nsec * 1e-9;
	pid = fork();
	if (pid < 0)
		exit(2);
	if (pid == 0) {
		struct replay_opts ro = {.policy = policy, .check = false};
		struct replay_result r;
		double t0 = bench_now();

		close(fds[0]);
		if (replay_run(&part, &ro, &r) < 0)
			_exit(2);
		co = (struct child_out){bench_now() - t0, r.ops,        r.page_faults,
		                        r.peak_frames,    r.phys_bytes, r.valid};
		if (write(fds[1], &co, sizeof(co)) != sizeof(co))
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	for (;;) {
		pid_t w = wait4(pid, &status, WNOHANG, &ru);

		clock_gettime(CLOCK_MONOTONIC, &ts);
		wall = ts.tv_sec + ts.tv_nsec * 1e-9 - w0;
		if (w == pid)
			break;
		if (!killed && wall > budget) {
			kill(pid, SIGKILL);
			killed = true;
		}
		usleep(20000);
	}
	if (killed || read(fds[0], &co, sizeof(co)) != sizeof(co)) {
		cJSON_AddBoolToObject(o, "finished", false);
		cJSON_AddNumberToObject(o, "budget_secs", budget);
		cJSON_AddNumberToObject(o, "cpu_secs_at_kill",
		                        ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
		                            ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6);
	} else {
		cJSON_AddBoolToObject(o, "finished", true);
		cJSON_AddBoolToObject(o, "valid", co.valid);
		cJSON_AddNumberToObject(o, "cpu_secs", co.cpu_secs);
		cJSON_AddNumberToObject(o, "ops", (double)co.ops);
		cJSON_AddNumberToObject(o, "sim_ops_per_s", co.ops / co.cpu_secs);
		cJSON_AddNumberToObject(o, "page_faults", (double)co.page_faults);
		cJSON_AddNumberToObject(o, "peak_frames", (double)co.peak_frames);
		cJSON_AddNumberToObject(o, "phys_bytes", (double)co.phys_bytes);
	}
	cJSON_AddNumberToObject(o, "wall_secs", wall);
	cJSON_AddNumberToObject(o, "host_maxrss_mib", ru.ru_maxrss / 1024.0);
	close(fds[0]);
	return o;
}

int main(int argc, char **argv)
{
	struct trace *t;
	double budget = argc > 2 ? atof(argv[2]) : 0;
	cJSON *out = cJSON_CreateObject(), *pol = cJSON_CreateObject();
	cJSON *pre = cJSON_CreateArray();

	if (argc < 3 || budget <= 0) {
		fprintf(stderr, "usage: bench_policies TRACE.rep BUDGET_SECS\n");
		return 2;
	}
	if (trace_load(argv[1], &t, stderr) < 0)
		return 2;
	for (const struct malloc_ops *const *p = malloc_policies; *p; p++) {
		fprintf(stderr, "  replaying under %s...\n", (*p)->name);
		cJSON_AddItemToObject(pol, (*p)->name, run_one(t, t->nr_ops, (*p)->name, budget));
	}
	for (int d = 8; d >= 1; d /= 2) {
		cJSON *o = run_one(t, t->nr_ops / d, "glibc", budget);

		cJSON_AddNumberToObject(o, "fraction", 1.0 / d);
		cJSON_AddItemToArray(pre, o);
	}
	cJSON_AddItemToObject(out, "policies", pol);
	cJSON_AddItemToObject(out, "prefixes", pre);
	cJSON_AddNumberToObject(out, "budget_secs", budget);
	trace_free(t);
	bench_emit(out);
	return 0;
}
