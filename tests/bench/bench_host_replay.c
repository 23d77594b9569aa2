/*
 * bench_host_replay.c - the reference of replay_vs_glibc_ratio: the host's
 * own glibc malloc, realloc and free replaying a CS:APP trace, in
 * operations per second of CPU time.
 *
 * Usage: bench_host_replay TRACE.rep [REPS]
 * Prints one JSON line: {"host_ops_per_s": median, "host_secs": median,
 * "host_warm_ops_per_s": median, "host_warm_secs": median, "ops": N,
 * "reps": R}.
 *
 * host_replay.h reads the trace (untimed) without touching this process's
 * heap; each repetition then runs in a child forked from it, so each starts
 * from the same untouched heap. The child writes no byte of the blocks (the
 * simulated replay with --no-check writes none either) and calls no
 * mallinfo (the simulated replay's footprint sampling reads host-side
 * state, which costs nothing alike). After that cold pass the child frees
 * every block still live (by id) and replays the trace again, timed too:
 * the warm figure, on a heap that is already there, as the simulated
 * replay's warm pass (bench_replay).
 */
#include "bench.h"
#include "tests/host/host_replay.h"

/* The child's passes: the operations, timed. */
static double replay_pass(const struct host_trace *t, void **slot)
{
	double t0 = bench_now();

	for (uint64_t i = 0; i < t->nr_ops; i++) {
		host_replay_op(slot, &t->ops[i]);
		BENCH_KEEP(slot); /* keep every call */
	}
	return bench_now() - t0;
}

/* The child: replay cold, free what is live, replay warm; write both times
   to fd. */
static void replay_child(const struct host_trace *t, void **slot, int fd)
{
	double dt[2];

	dt[0] = replay_pass(t, slot);
	for (uint64_t id = 0; id <= t->nr_ids; id++) {
		free(slot[id]);
		slot[id] = NULL;
		BENCH_KEEP(slot);
	}
	dt[1] = replay_pass(t, slot);
	if (write(fd, dt, sizeof(dt)) != sizeof(dt))
		_exit(2);
	_exit(0);
}

int main(int argc, char **argv)
{
	const struct host_trace *t;
	int reps = argc > 2 ? atoi(argv[2]) : 7;
	void **slot;
	cJSON *o;

	if (argc < 2 || reps < 1 || reps > 100) {
		fprintf(stderr, "usage: bench_host_replay TRACE.rep [REPS]\n");
		return 2;
	}
	t = host_trace_load(argv[1]);
	/* mapped here, untouched: each child writes its own copy */
	if (!t || !(slot = host_slots(t)))
		return 2;

	double secs[reps], warm[reps];

	for (int i = 0; i < reps; i++) {
		int fds[2], status;
		pid_t pid;

		if (pipe(fds))
			return 2;
		pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0) {
			close(fds[0]);
			replay_child(t, slot, fds[1]);
		}
		close(fds[1]);
		double dt[2];

		if (read(fds[0], dt, sizeof(dt)) != sizeof(dt) ||
		    waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "bench_host_replay: the replaying child failed\n");
			return 2;
		}
		close(fds[0]);
		secs[i] = dt[0];
		warm[i] = dt[1];
	}

	double med = bench_median(secs, reps), wmed = bench_median(warm, reps);

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "host_ops_per_s", (double)t->nr_ops / med);
	cJSON_AddNumberToObject(o, "host_secs", med);
	cJSON_AddNumberToObject(o, "host_warm_ops_per_s", (double)t->nr_ops / wmed);
	cJSON_AddNumberToObject(o, "host_warm_secs", wmed);
	cJSON_AddNumberToObject(o, "ops", (double)t->nr_ops);
	cJSON_AddNumberToObject(o, "reps", reps);
	bench_emit(o);
	return 0;
}
