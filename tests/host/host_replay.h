/*
 * host_replay.h - replay of a CS:APP trace on the host's real glibc malloc,
 * shared by the two programs that do it: tests/host/glibc_replay.c (peak
 * footprint, the oracle of the simulated glibc policy) and
 * tests/bench/bench_host_replay.c (time, the reference of
 * replay_vs_glibc_ratio). Header-only: each program is one .c file that
 * links demos/cli/trace.c and nothing else of the project.
 *
 * The replay semantics are those of demos/cli/trace.h: `r ID 0` frees, `r` on a
 * free id allocates (glibc's realloc does both by itself), `f -1` is
 * free(NULL), still called; `c` is calloc, `m` memalign.
 *
 * What is measured must be the replay alone, on a heap the replay is the
 * first to use: the trace reader itself calls malloc, which would leave the
 * heap grown and fragmented, and glibc's mmap and trim thresholds raised
 * (freeing its big mmapped arrays raises them: fewer trims, fewer brk calls
 * in the replay). So host_trace_load() makes the calling process
 * fork a child that reads the trace and copies the operations into a memfd;
 * the caller maps the memfd, and its own heap was never touched. Everything
 * the replayer needs (the operations, the id -> block array of host_slots())
 * is mmapped, which mallinfo2() does not count and malloc does not manage.
 * After that the caller either replays at once (the footprint oracle: it
 * must call no stdio before it is done) or forks one child per repetition
 * (the timing: each repetition starts from the same untouched heap, as each
 * simulated replay boots a fresh machine, and the reading is not timed).
 */
#ifndef TESTS_HOST_HOST_REPLAY_H
#define TESTS_HOST_HOST_REPLAY_H

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demos/cli/trace.h"

/* One operation of the trace, without the line number the reader keeps. */
struct host_op {
	char kind;  /* TOP_ALLOC, TOP_REALLOC, TOP_FREE, TOP_CALLOC, TOP_MEMALIGN */
	int32_t id; /* block id, -1 for `f -1` */
	uint64_t size;
	uint64_t arg; /* calloc's number of elements, memalign's alignment */
};

/* The whole memfd: what the reading child wrote, mapped read-only by the caller. */
struct host_trace {
	uint64_t nr_ops, nr_ids;
	uint64_t peak_payload; /* trace_peak_payload() */
	struct host_op ops[];
};

/*
 * Read path in a forked child and map its operations. The caller's heap is
 * left as it was (untouched if the caller called neither malloc nor stdio
 * before), which is checked: if malloc had already been used, this fails.
 * Returns the mapping (never unmapped), or NULL after a message on stderr
 * (the reader's "PATH:LINE: message" for a bad trace).
 */
static inline const struct host_trace *host_trace_load(const char *path)
{
	int fd = memfd_create("host_replay", 0), status;
	struct host_trace *t;
	struct mallinfo2 mi;
	struct stat st;
	pid_t pid;

	if (fd < 0) {
		perror("host_replay: memfd_create");
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		perror("host_replay: fork");
		return NULL;
	}
	if (pid == 0) {
		struct trace *tr;
		size_t len;

		if (trace_load(path, &tr, stderr) < 0)
			_exit(2);
		len = sizeof(*t) + tr->nr_ops * sizeof(t->ops[0]);
		if (ftruncate(fd, (off_t)len) < 0)
			_exit(2);
		t = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (t == MAP_FAILED)
			_exit(2);
		*t = (struct host_trace){tr->nr_ops, tr->nr_ids, trace_peak_payload(tr)};
		for (size_t i = 0; i < tr->nr_ops; i++)
			t->ops[i] = (struct host_op){tr->ops[i].kind, tr->ops[i].id,
			                             tr->ops[i].size, tr->ops[i].arg};
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "host_replay: reading %s failed\n", path);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(*t)) {
		fprintf(stderr, "host_replay: %s: nothing read\n", path);
		return NULL;
	}
	t = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (t == MAP_FAILED) {
		perror("host_replay: mmap");
		return NULL;
	}
	/* mallinfo2 allocates nothing; it only sets up the (empty) main arena */
	mi = mallinfo2();
	if (mi.arena || mi.hblkhd) {
		fprintf(stderr, "host_replay: malloc was used before the replay\n");
		return NULL;
	}
	return t;
}

/* The id -> block array, all NULL, outside the heap; NULL on failure. */
static inline void **host_slots(const struct host_trace *t)
{
	void **p = mmap(NULL, (t->nr_ids + 1) * sizeof(void *), PROT_READ | PROT_WRITE,
	                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Do op on the host's malloc; slot[id] is block id, NULL when free. */
static inline void host_replay_op(void **slot, const struct host_op *op)
{
	switch (op->kind) {
	case TOP_ALLOC:
		slot[op->id] = malloc(op->size);
		break;
	case TOP_REALLOC:
		slot[op->id] = realloc(slot[op->id], op->size);
		break;
	case TOP_CALLOC:
		slot[op->id] = calloc(op->arg, op->size);
		break;
	case TOP_MEMALIGN:
		slot[op->id] = memalign(op->arg, op->size);
		break;
	default:
		if (op->id >= 0) {
			free(slot[op->id]);
			slot[op->id] = NULL;
		} else {
			free(NULL);
		}
		break;
	}
}

#endif
