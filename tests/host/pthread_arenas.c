/*
 * pthread_arenas.c - the oracle for threads and arenas in the glibc policy:
 * a real program on this machine's glibc 2.36 and kernel creates threads,
 * has each make calls in turn (the main thread hands a thread one call at a
 * time through a pipe and waits for it, so the order is fixed, as `in t`
 * runs statements), joins them, and prints key=value lines: pointers as
 * offsets from the initial break (main_arena) or from their 64 MiB heap,
 * VmSize changes in kB, the /proc/self/maps lines of a thread's stack and
 * heaps as sizes and permissions, resident pages (mincore), minor faults of
 * each thread (RUSAGE_THREAD), mallinfo2 and malloc_stats.
 * tests/test_oracle_threads.c makes the same calls in the simulation and
 * compares every line.
 *
 * No allocation but the scenario's: output goes to a static buffer, stdio
 * is not used, malloc_stats's stderr is a memfd. The program prefaults its
 * code and stack (ORACLES.md) and turns THP off.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "host_config.h"
#include "host_out.h"

#define HEAP_MAX HOST_HEAP_MAX

static char *heap; /* the initial break */

/* ---- threads that run one call at a time ------------------------------ */

enum op { OP_MALLOC, OP_FREE, OP_CALLOC, OP_EXIT };

struct job {
	enum op op;
	size_t n;
	void *p;
	void *ret;
	long faults; /* minor faults of the thread during the call */
};

struct worker {
	pthread_t t;
	int go[2], done[2];
	struct job job;
	long start_faults; /* the thread's own faults before its first job */
	volatile int started;
	void *stack;       /* its stack mapping, guard included */
	size_t stack_size;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char c;

	w->start_faults = host_thread_minflt();
	w->started = 1;
	for (;;) {
		long f0;

		if (read(w->go[0], &c, 1) != 1)
			return NULL;
		f0 = host_thread_minflt();
		switch (w->job.op) {
		case OP_MALLOC:
			w->job.ret = malloc(w->job.n);
			break;
		case OP_CALLOC:
			w->job.ret = calloc(1, w->job.n);
			break;
		case OP_FREE:
			free(w->job.p);
			break;
		case OP_EXIT:
			return NULL;
		}
		w->job.faults = host_thread_minflt() - f0;
		if (write(w->done[1], "x", 1) != 1)
			return NULL;
	}
}

static struct worker workers[4];

/* The thread's stack mapping: the read-write VMA holding its struct pthread
   and the guard below it, from /proc/self/maps (pthread_getattr_np would
   malloc). */
static void find_stack(struct worker *w)
{
	uintptr_t pd = (uintptr_t)w->t, prev_lo = 0;

	for (char *s = host_read_maps(); *s;) {
		unsigned long a, b;
		char *nl = strchr(s, '\n');

		if (sscanf(s, "%lx-%lx", &a, &b) == 2) {
			if (a <= pd && pd < b) {
				w->stack = (void *)prev_lo;
				w->stack_size = b - prev_lo;
				return;
			}
			prev_lo = a;
		}
		if (!nl)
			break;
		s = nl + 1;
	}
	_exit(1);
}

static void start(struct worker *w, const char *key)
{
	long f0 = host_thread_minflt(), vm0 = host_status("VmSize");
	char k[64];

	if (pipe(w->go) || pipe(w->done))
		_exit(1);
	pthread_create(&w->t, NULL, worker_main, w);
	snprintf(k, sizeof(k), "%s.create_faults", key);
	put(k, host_thread_minflt() - f0);
	/* the thread starts and blocks on its first read */
	while (!w->started)
		usleep(1000);
	snprintf(k, sizeof(k), "%s.start_faults", key);
	put(k, w->start_faults);
	snprintf(k, sizeof(k), "%s.vmsize_kb", key);
	put(k, host_status("VmSize") - vm0);
	find_stack(w);
	snprintf(k, sizeof(k), "%s.stack", key);
	host_put_maps(k, (uintptr_t)w->stack, (uintptr_t)w->stack + w->stack_size);
	snprintf(k, sizeof(k), "%s.stack_resident", key);
	put(k, host_resident((void *)w->stack, w->stack_size));
	snprintf(k, sizeof(k), "%s.pd_from_top", key);
	put(k, (long)((uintptr_t)w->stack + w->stack_size - (uintptr_t)w->t));
}

/* Run one job in w and wait for it. */
static void *run(struct worker *w, enum op op, size_t n, void *p, const char *key)
{
	char c, k[64];
	long vm0 = host_status("VmSize");

	w->job = (struct job){.op = op, .n = n, .p = p};
	if (write(w->go[1], "x", 1) != 1 || read(w->done[0], &c, 1) != 1)
		_exit(1);
	if (op != OP_FREE) {
		host_put_ptr(key, w->job.ret, heap);
	}
	snprintf(k, sizeof(k), "%s.faults", key);
	put(k, w->job.faults);
	snprintf(k, sizeof(k), "%s.vmsize_kb", key);
	put(k, host_status("VmSize") - vm0);
	return w->job.ret;
}

static void join(struct worker *w, const char *key)
{
	long vm0 = host_status("VmSize");
	char k[64];

	w->job.op = OP_EXIT;
	if (write(w->go[1], "x", 1) != 1)
		_exit(1);
	pthread_join(w->t, NULL);
	close(w->go[0]);
	close(w->go[1]);
	close(w->done[0]);
	close(w->done[1]);
	snprintf(k, sizeof(k), "%s.join_vmsize_kb", key);
	put(k, host_status("VmSize") - vm0);
	snprintf(k, sizeof(k), "%s.stack_resident_after", key);
	put(k, host_resident((void *)w->stack, w->stack_size));
}

int main(void)
{
	void *p, *a1, *b1, *c1, *t3p;
	char *h1;

	host_thp_off();
	host_prefault();
	if (host_stats_open() < 0)
		return 1;
	heap = sbrk(0);
	p = malloc(1);
	host_put_ptr("p", p, heap);

	/* a thread: its stack (8 MiB and a guard page, two pages touched), and
	   the DTV its creation callocs in main_arena */
	start(&workers[0], "t1");
	host_put_ptr("after_create", malloc(1), heap);

	/* its first malloc makes arena 1: 64 MiB reserved, 132 KiB read-write */
	a1 = run(&workers[0], OP_MALLOC, 100, NULL, "t1.a");
	h1 = (char *)((uintptr_t)a1 & ~(HEAP_MAX - 1));
	host_put_maps("t1.heap", (uintptr_t)h1, (uintptr_t)h1 + HEAP_MAX);
	put("t1.heap_resident", host_resident((void *)h1, 0x21000));
	host_put_mallinfo("mi1");

	/* the heap grows by mprotect */
	b1 = run(&workers[0], OP_MALLOC, 100000, NULL, "t1.b");
	c1 = run(&workers[0], OP_MALLOC, 100000, NULL, "t1.c");
	host_put_maps("t1.heap_grown", (uintptr_t)h1, (uintptr_t)h1 + HEAP_MAX);
	host_put_mallinfo("mi2");

	/* main frees a chunk of arena 1: it goes back to arena 1 */
	free(b1);
	host_put_mallinfo("mi3");
	stats("stats1");

	/* a second thread, while the first lives: arena 2 */
	start(&workers[1], "t2");
	run(&workers[1], OP_MALLOC, 200, NULL, "t2.a");
	host_put_mallinfo("mi4");

	/* the first thread ends: its stack is cached, its arena freed for the next */
	run(&workers[0], OP_FREE, 0, c1, "t1.free_c");
	run(&workers[0], OP_FREE, 0, a1, "t1.free_a");
	join(&workers[0], "t1");
	stats("stats2");
	start(&workers[2], "t3");
	put("t3.same_stack", workers[2].stack == workers[0].stack);
	t3p = run(&workers[2], OP_MALLOC, 100, NULL, "t3.a");
	put("t3.same_arena", ((uintptr_t)t3p & ~(HEAP_MAX - 1)) == (uintptr_t)h1);
	run(&workers[2], OP_CALLOC, 50000, NULL, "t3.calloc");

	/* malloc_trim gives the free pages of every arena back */
	put("trim", malloc_trim(0));
	put("t1.heap_resident_after_trim", host_resident((void *)h1, 0x21000));
	host_put_mallinfo("mi5");
	stats("stats3");

	join(&workers[1], "t2");
	join(&workers[2], "t3");
	_exit(host_out_write());
}
