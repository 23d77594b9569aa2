/*
 * bench_host_replay.c - the reference of replay_vs_glibc_ratio: the host's
 * own glibc malloc, realloc and free replaying a CS:APP trace, in
 * operations per second of CPU time.
 *
 * Usage: bench_host_replay TRACE.rep [REPS]
 * Prints one JSON line: {"host_ops_per_s": median, "ops": N, "reps": R}.
 *
 * As tests/host/glibc_replay.c does, the trace is read with demos/trace.c
 * (the semantics of demos/trace.h: `r ID 0` frees, `r` on a free id
 * allocates, `f -1` is free(NULL)) and the operations are copied into
 * memory that malloc does not manage. Each repetition runs in a child forked
 * after the reader's memory went back, so each starts from the same heap,
 * as each simulated replay boots a fresh machine; the child writes no byte
 * of the blocks (the simulated replay with --no-check writes none either)
 * and calls no mallinfo (the simulated replay's footprint sampling reads
 * host-side state, which costs nothing alike).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "demos/trace.h"

struct rec {
	char kind;
	int32_t id;
	uint64_t size;
};

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The child: replay once, write the seconds it took to fd. */
static void replay_child(const struct rec *ops, size_t n, uint32_t nr_ids, int fd)
{
	void **p = mmap(NULL, ((size_t)nr_ids + 1) * sizeof(void *), PROT_READ | PROT_WRITE,
	                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double t0, dt;

	if (p == MAP_FAILED)
		_exit(2);
	t0 = cpu_now();
	for (size_t i = 0; i < n; i++) {
		const struct rec *r = &ops[i];

		switch (r->kind) {
		case 'a':
			p[r->id] = malloc(r->size);
			break;
		case 'r':
			p[r->id] = realloc(p[r->id], r->size);
			break;
		default:
			if (r->id >= 0) {
				free(p[r->id]);
				p[r->id] = NULL;
			} else {
				free(NULL);
			}
			break;
		}
		__asm__ volatile("" : : "r"(p) : "memory"); /* keep every call */
	}
	dt = cpu_now() - t0;
	if (write(fd, &dt, sizeof(dt)) != sizeof(dt))
		_exit(2);
	_exit(0);
}

int main(int argc, char **argv)
{
	struct trace *t;
	int reps = argc > 2 ? atoi(argv[2]) : 7;
	size_t n;
	uint32_t nr_ids;
	struct rec *ops;
	cJSON *o;
	char *s;

	if (argc < 2 || reps < 1 || reps > 100) {
		fprintf(stderr, "usage: bench_host_replay TRACE.rep [REPS]\n");
		return 2;
	}
	if (trace_load(argv[1], &t, stderr) < 0)
		return 2;
	n = t->nr_ops;
	nr_ids = t->nr_ids;
	ops = mmap(NULL, n * sizeof(*ops) + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	           -1, 0);
	if (ops == MAP_FAILED)
		return 2;
	for (size_t i = 0; i < n; i++)
		ops[i] = (struct rec){t->ops[i].kind, t->ops[i].id, t->ops[i].size};
	trace_free(t);

	double secs[reps];

	for (int i = 0; i < reps; i++) {
		int fds[2], status;
		pid_t pid;

		if (pipe(fds))
			return 2;
		fflush(NULL);
		pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0) {
			close(fds[0]);
			replay_child(ops, n, nr_ids, fds[1]);
		}
		close(fds[1]);
		if (read(fds[0], &secs[i], sizeof(secs[i])) != sizeof(secs[i]) ||
		    waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "bench_host_replay: the replaying child failed\n");
			return 2;
		}
		close(fds[0]);
	}
	qsort(secs, (size_t)reps, sizeof(double), cmp_double);

	double med = reps % 2 ? secs[reps / 2] : (secs[reps / 2 - 1] + secs[reps / 2]) / 2;

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "host_ops_per_s", (double)n / med);
	cJSON_AddNumberToObject(o, "host_secs", med);
	cJSON_AddNumberToObject(o, "ops", (double)n);
	cJSON_AddNumberToObject(o, "reps", reps);
	s = cJSON_PrintUnformatted(o);
	puts(s);
	free(s);
	cJSON_Delete(o);
	return 0;
}
