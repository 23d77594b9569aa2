/*
 * fork_thread.c - the oracle for fork from a thread, glibc policy: a real
 * program on this machine's glibc 2.36 and kernel has a second thread
 * malloc, then fork; the child (one thread: the copy of the caller) looks
 * at its memory, mallocs and frees, starts a thread of its own and exits;
 * then the parent's threads malloc again, the forking thread is joined and
 * the main thread reaps the child it did not fork. tests/test_oracle_fork.c
 * makes the same calls in the simulation and compares every line.
 *
 * With the argument "main", the main thread forks instead, while the
 * second thread lives: the child's thread takes the second thread's cached
 * stack and its arena from free_list.
 *
 * Printed, key=value: pointers as offsets from the initial break (main
 * heap) or in their 64 MiB heap (heap+OFF); minor faults of each call
 * (getrusage deltas around the call alone: RUSAGE_THREAD in the parent,
 * the child being single-threaded); the child's VmSize and RssAnon against
 * the parent's at fork, its thread count and parent, the maps lines of the
 * forking thread's stack and of its arena's heap in the child; mallinfo2
 * and malloc_stats on each side; the wait status.
 *
 * The parent drives its second thread one call at a time through pipes
 * (as `in t` runs statements); the child sends its lines to the parent
 * through a pipe and exits, so the output comes in one order. No stdio, no
 * allocation but the scenario's. The child must not prefault with
 * mlockall: that would break copy-on-write of every page (mlock writes
 * them), so it touches its stack by hand.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "host_config.h"
#include "host_out.h"

#define HEAP_MAX HOST_HEAP_MAX

static char *heap; /* the initial break */

/* 64 KiB of stack below the caller written, so that the calls measured
   after it take no fault on their frames. */
static void __attribute__((noinline)) touch_stack(void)
{
	volatile char buf[64 * 1024];

	for (size_t i = 0; i < sizeof(buf); i += 512)
		buf[i] = 0;
}

/* ---- the child -------------------------------------------------------- */

static void *a, *p;      /* the second thread's block, the main thread's */
static void *t1_stack;   /* the second thread's stack mapping, guard included */
static size_t t1_stack_size;
static long fork_vmsize, fork_rss; /* the parent's, as the thread forks */
static pid_t parent_pid;
static void *t2_block;

static void *child_thread(void *arg)
{
	(void)arg;
	t2_block = malloc(200);
	return NULL;
}

static void *t1_pd; /* the second thread's struct pthread (pthread_t) */

/*
 * The child: one thread, running on the copy of the forking thread's stack.
 * Forked by the second thread, it reads its maps, VmSize and RssAnon,
 * mallocs and frees; forked by the main thread (of_main) while the second
 * thread lives, it finds that thread's stack in the stack cache
 * (reclaim_stacks) and its arena on free_list. Then a thread of its own,
 * and exit 3, its lines sent to the parent through out.
 */
static void child(int out, int of_main)
{
	char *h1 = (char *)((uintptr_t)a & ~(HEAP_MAX - 1));
	size_t at = host_out_len;
	long f0, vm0;
	void *x;
	pthread_t t2;

	touch_stack();
	put("c.threads", host_status("Threads"));
	if (!of_main) {
		put("c.ppid_is_parent", getppid() == parent_pid);
		put("c.vmsize_diff_kb", host_status("VmSize") - fork_vmsize);
		put("c.rss_anon_diff_kb", host_status("RssAnon") - fork_rss);
	}
	host_put_maps("c.t1_stack", (uintptr_t)t1_stack, (uintptr_t)t1_stack + t1_stack_size);
	if (!of_main) {
		host_put_maps("c.t1_heap", (uintptr_t)h1, (uintptr_t)h1 + HEAP_MAX);
		host_put_mallinfo("c.mi0");
	}

	/* the calling thread keeps its arena */
	f0 = host_thread_minflt();
	x = malloc(100);
	f0 = host_thread_minflt() - f0;
	host_put_ptr("c.x", x, heap);
	put("c.x.faults", f0);
	if (!of_main) {
		f0 = host_thread_minflt();
		free(p);
		put("c.free_p.faults", host_thread_minflt() - f0);
		f0 = host_thread_minflt();
		free(a);
		put("c.free_a.faults", host_thread_minflt() - f0);
		host_put_mallinfo("c.mi1");
	}

	/* a thread of the child: a new stack or the cached one, and an arena
	   nobody in the child is attached to (free_list) */
	vm0 = host_status("VmSize");
	if (pthread_create(&t2, NULL, child_thread, NULL) != 0)
		_exit(1);
	if (of_main)
		put("c.t2.same_stack", (void *)t2 == t1_pd);
	pthread_join(t2, NULL);
	put("c.t2.vmsize_kb", host_status("VmSize") - vm0);
	host_put_ptr("c.t2.m", t2_block, heap);
	host_put_mallinfo("c.mi2");
	stats("c.stats");
	if (write(out, host_out + at, host_out_len - at) != (ssize_t)(host_out_len - at) ||
	    host_out_full)
		_exit(1);
	_exit(3);
}

/* ---- the second thread, one call at a time ---------------------------- */

enum op { OP_MALLOC, OP_FORK, OP_EXIT };

static struct {
	pthread_t t;
	int go[2], done[2];
	enum op op;
	size_t n;
	void *ret;
	pid_t pid;
	int out;     /* the write end of the child's pipe */
	long faults; /* the thread's minor faults during the call */
	volatile int started;
} w;

static void *worker(void *arg)
{
	char c;

	(void)arg;
	touch_stack();
	w.started = 1;
	for (;;) {
		long f0;

		if (read(w.go[0], &c, 1) != 1)
			return NULL;
		f0 = host_thread_minflt();
		switch (w.op) {
		case OP_MALLOC:
			w.ret = malloc(w.n);
			break;
		case OP_FORK:
			fork_vmsize = host_status("VmSize");
			fork_rss = host_status("RssAnon");
			w.pid = fork();
			if (w.pid == 0)
				child(w.out, 0);
			break;
		case OP_EXIT:
			return NULL;
		}
		w.faults = host_thread_minflt() - f0;
		if (write(w.done[1], "x", 1) != 1)
			return NULL;
	}
}

static void run(enum op op, size_t n)
{
	char c;

	w.op = op;
	w.n = n;
	if (write(w.go[1], "x", 1) != 1 || read(w.done[0], &c, 1) != 1)
		_exit(1);
}

/* The stack mapping holding pd: its read-write VMA and the guard below. */
static void find_stack(uintptr_t pd)
{
	uintptr_t prev_lo = 0;

	for (char *s = host_read_maps(); *s;) {
		unsigned long lo, hi;
		char *nl = strchr(s, '\n');

		if (sscanf(s, "%lx-%lx", &lo, &hi) == 2) {
			if (lo <= pd && pd < hi) {
				t1_stack = (void *)prev_lo;
				t1_stack_size = hi - prev_lo;
				return;
			}
			prev_lo = lo;
		}
		if (!nl)
			break;
		s = nl + 1;
	}
	_exit(1);
}

int main(int argc, char **argv)
{
	/* "main": the main thread forks while the second thread lives */
	int from_main = argc > 1 && !strcmp(argv[1], "main");
	int from_child[2], status;
	long f0, n;
	void *q, *b;

	host_thp_off();
	host_prefault();
	if (host_stats_open() < 0 || pipe(w.go) || pipe(w.done) || pipe(from_child))
		return 1;
	parent_pid = getpid();
	heap = sbrk(0);
	p = malloc(100);
	host_put_ptr("p", p, heap);

	if (pthread_create(&w.t, NULL, worker, NULL) != 0)
		return 1;
	while (!w.started)
		usleep(1000);
	find_stack((uintptr_t)w.t);
	t1_pd = (void *)w.t;

	run(OP_MALLOC, 100);
	a = w.ret;
	host_put_ptr("t1.a", a, heap);
	put("t1.a.faults", w.faults);
	host_put_mallinfo("mi0");

	/* the second thread forks (or the main thread); the child runs to its
	   exit */
	w.out = from_child[1];
	if (from_main) {
		w.pid = fork();
		if (w.pid == 0)
			child(from_child[1], 1);
	} else {
		run(OP_FORK, 0);
	}
	close(from_child[1]);
	put("fork.ok", w.pid > 0);
	while ((n = read(from_child[0], host_out + host_out_len,
	                 sizeof(host_out) - 1 - host_out_len)) > 0)
		host_out_len += (size_t)n;
	close(from_child[0]);

	/* the parent's threads after the child is gone */
	f0 = host_thread_minflt();
	q = malloc(100);
	f0 = host_thread_minflt() - f0;
	host_put_ptr("q", q, heap);
	put("q.faults", f0);
	run(OP_MALLOC, 100);
	b = w.ret;
	host_put_ptr("t1.b", b, heap);
	put("t1.b.faults", w.faults);

	/* the forking thread ends; its child is the main thread's to reap */
	w.op = OP_EXIT;
	if (write(w.go[1], "x", 1) != 1)
		return 1;
	pthread_join(w.t, NULL);
	put("wait.pid_ok", waitpid(w.pid, &status, 0) == w.pid);
	put("wait.status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	host_put_mallinfo("mi1");
	stats("stats");
	_exit(host_out_write());
}
