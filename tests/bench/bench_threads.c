/*
 * bench_threads.c - threads_replay_ratio: a trace replayed with its
 * operations dealt to 4 threads (block ID's operations to thread ID % 4,
 * in the trace's order, so the threads interleave op by op, each in its own
 * arena) over the same trace replayed by the main thread alone, in CPU time
 * per operation, glibc policy. Both replays run here, in turn, the same
 * loop over the same operations: the single one in one task_run, as
 * `replay` runs a trace; the threaded one switches to the next operation's
 * thread whenever it changes (libc_set_self and task_run: a context switch
 * with no CR3 write, the mm being shared), and its threads first take their
 * arenas and then the pages those heaps grow into. What the ratio measures
 * is what threads cost the model: the switches, the arena of each thread,
 * its tcache, the locks glibc takes once the program is multi-threaded.
 *
 * Usage: bench_threads TRACE.rep REPS
 * Prints {"threads_replay_ratio", "single_ns_per_op", "threads_ns_per_op",
 * "ops", "threads", "switches"}.
 */
#include "bench.h"
#include "demos/cli/replay.h"
#include "libc/libc.h"
#include "libc/pthread.h"

#define NR_THREADS 4

struct rp {
	struct kernel k;
	struct task *t;
	struct libc lc;
	struct libc_thread *th[NR_THREADS];
	unsigned nthreads;
	const struct trace *tr;
	vaddr_t *ptr;
	size_t i;      /* the next operation */
	unsigned cur;  /* the thread running now */
	uint64_t switches;
};

static unsigned thread_of(const struct rp *x, const struct trace_op *op)
{
	return x->nthreads == 1 || op->id < 0 ? 0 : (unsigned)op->id % x->nthreads;
}

/* The operations from x->i on, while they are the running thread's. */
static void run_ops(void *arg)
{
	struct rp *x = arg;
	struct libc *lc = &x->lc;

	for (; x->i < x->tr->nr_ops; x->i++) {
		const struct trace_op *op = &x->tr->ops[x->i];

		if (thread_of(x, op) != x->cur)
			return;
		switch (op->kind) {
		case 'a':
			x->ptr[op->id] = libc_malloc(lc, op->size);
			break;
		case 'c':
			x->ptr[op->id] = libc_calloc(lc, op->arg, op->size);
			break;
		case 'm':
			x->ptr[op->id] = libc_memalign(lc, op->arg, op->size);
			break;
		case 'r':
			x->ptr[op->id] = libc_realloc(lc, x->ptr[op->id], op->size);
			break;
		case 'f':
			if (op->id >= 0) {
				libc_free(lc, x->ptr[op->id]);
				x->ptr[op->id] = 0;
			}
			break;
		}
	}
}

static void create(void *arg)
{
	struct rp *x = arg;
	int err;

	for (unsigned i = 1; i < x->nthreads; i++) {
		x->th[i] = libc_pthread_create(&x->lc, &err);
		if (!x->th[i]) {
			fprintf(stderr, "bench_threads: pthread_create: %d\n", err);
			exit(2);
		}
	}
}

static void start(void *arg)
{
	struct rp *x = arg;

	libc_thread_start(&x->lc, x->th[x->cur]);
}

static int in(struct rp *x, unsigned th, void (*fn)(void *))
{
	x->cur = th;
	libc_set_self(&x->lc, x->th[th]);
	return task_run(&x->k, x->th[th]->task, fn, x);
}

/* Replay tr with nthreads threads; CPU seconds of the operations alone. */
static double replay(const struct trace *tr, unsigned nthreads, uint64_t *switches)
{
	struct rp *x = calloc(1, sizeof(*x));
	struct kernel_opts o;
	double t0, secs;

	kernel_default_opts(&o);
	o.phys_bytes = replay_default_phys(tr);
	o.debug_checks = false;
	if (!x || kernel_boot(&x->k, &o, stderr) < 0)
		exit(2);
	x->t = task_create(&x->k, "replay");
	x->ptr = calloc(tr->nr_ids + 1, sizeof(*x->ptr));
	if (!x->t || !x->ptr)
		exit(2);
	x->tr = tr;
	x->nthreads = nthreads;
	libc_init(&x->lc, &x->k, malloc_policy("glibc"));
	x->th[0] = &x->lc.main_thread;
	if (in(x, 0, create) != 0)
		exit(2);
	for (unsigned i = 1; i < nthreads; i++)
		if (in(x, i, start) != 0)
			exit(2);
	t0 = bench_now();
	while (x->i < tr->nr_ops) {
		if (in(x, thread_of(x, &tr->ops[x->i]), run_ops) != 0) {
			fprintf(stderr, "bench_threads: the process died at op %zu: %s\n", x->i,
			        x->t->death.reason);
			exit(2);
		}
		x->switches++;
	}
	secs = bench_now() - t0;
	*switches = x->switches;
	libc_set_self(&x->lc, &x->lc.main_thread);
	libc_fini(&x->lc);
	kernel_shutdown(&x->k);
	free(x->ptr);
	free(x);
	return secs;
}

int main(int argc, char **argv)
{
	struct trace *t;
	int reps = argc > 2 ? atoi(argv[2]) : 0;
	uint64_t sw1 = 0, sw4 = 0;
	cJSON *out = cJSON_CreateObject();

	if (argc < 3 || reps < 1 || reps > 100) {
		fprintf(stderr, "usage: bench_threads TRACE.rep REPS\n");
		return 2;
	}
	if (trace_load(argv[1], &t, stderr) < 0)
		return 2;
	{
		double one[reps], four[reps], ratio[reps];

		/* in turn, so that a slow moment of the machine hits both */
		for (int i = 0; i < reps; i++) {
			one[i] = replay(t, 1, &sw1);
			four[i] = replay(t, NR_THREADS, &sw4);
			ratio[i] = four[i] / one[i];
		}
		cJSON_AddNumberToObject(out, "threads_replay_ratio", bench_median(ratio, reps));
		cJSON_AddNumberToObject(out, "single_ns_per_op",
		                        bench_median(one, reps) * 1e9 / (double)t->nr_ops);
		cJSON_AddNumberToObject(out, "threads_ns_per_op",
		                        bench_median(four, reps) * 1e9 / (double)t->nr_ops);
	}
	cJSON_AddNumberToObject(out, "ops", (double)t->nr_ops);
	cJSON_AddNumberToObject(out, "threads", NR_THREADS);
	cJSON_AddNumberToObject(out, "switches", (double)sw4);
	trace_free(t);
	bench_emit(out);
	return 0;
}
