/*
 * test_oracle_threads.c - threads and their arenas in the glibc policy
 * against this machine's glibc 2.36 and kernel: tests/host/pthread_arenas.c
 * creates threads, has each make calls in turn, joins them, and prints
 * key=value lines (pointers as offsets from the initial break or in their
 * 64 MiB heap, VmSize changes, the maps lines of a thread's stack and
 * heap, resident pages, each thread's minor faults, mallinfo2 and
 * malloc_stats). The same sequence runs here through libc/pthread.c and
 * the kernel's clone3, each step in the task of the thread that makes it,
 * and must print the same lines.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_sim/proc.h"
#include "kernel_sim/syscalls.h"
#include "libc/glibc_malloc.h"
#include "libc/pthread.h"
#include "tests/support_oracle.h"
#include "tests/support_sim.h"
#include "vm/pagetable.h"

#define HEAP_MAX GM_HEAP_MAX_SIZE

static struct sim s;
static struct oracle_out out; /* the simulated side */
static vaddr_t heap;

static void putf(const char *fmt1, const char *key, long val)
{
	char k[64];

	snprintf(k, sizeof(k), fmt1, key);
	oracle_put(&out, k, val);
}

static void put_ptr(const char *key, vaddr_t p)
{
	if (p >= heap && p < s.lc.curbrk)
		oracle_put(&out, key, (long)(p - heap));
	else
		oracle_printf(&out, "%s=heap+%#lx\n", key, (unsigned long)(p & (HEAP_MAX - 1)));
}

static long vmsize_kb(void)
{
	return (long)(s.t->mm->total_vm << (PAGE_SHIFT - 10));
}

static long resident(vaddr_t p, uint64_t len)
{
	long r = 0;

	for (vaddr_t a = p & ~(PAGE_SIZE - 1); a < p + len; a += PAGE_SIZE)
		r += pte_present(pagewalk(&s.k.phys, s.t->mm->pgd, a, NULL));
	return r;
}

/* ---- one step in one thread's task ----------------------------------- */

enum op { OP_MALLOC, OP_FREE, OP_CALLOC, OP_CREATE, OP_START, OP_EXIT, OP_JOIN, OP_TRIM };

struct step {
	enum op op;
	uint64_t n;
	vaddr_t p, ret;
	struct libc_thread *t;
};

static void run_step(void *arg)
{
	struct step *st = arg;
	struct libc *lc = &s.lc;
	int err;

	switch (st->op) {
	case OP_MALLOC:
		st->ret = libc_malloc(lc, st->n);
		break;
	case OP_CALLOC:
		st->ret = libc_calloc(lc, 1, st->n);
		break;
	case OP_FREE:
		libc_free(lc, st->p);
		break;
	case OP_CREATE:
		st->t = libc_pthread_create(lc, &err);
		cr_assert_not_null(st->t, "pthread_create: error %d", err);
		break;
	case OP_START:
		libc_thread_start(lc, st->t);
		break;
	case OP_EXIT:
		libc_thread_exit(lc);
	case OP_JOIN:
		cr_assert_eq(libc_pthread_join(lc, st->t), 0);
		break;
	case OP_TRIM:
		st->ret = (vaddr_t)glibc_malloc_trim(lc, 0);
		break;
	}
}

/* Run st in thread t (NULL: the main thread); the task must not die. */
static void in(struct libc_thread *t, struct step *st)
{
	int r = sim_run_as(&s, t, run_step, st);

	cr_assert_eq(r, st->op == OP_EXIT ? TASK_RUN_EXITED : 0, "step %d ended with %d", st->op,
	             r);
	sim_kernel_check(&s.k);
	if (st->op != OP_EXIT)
		cr_assert_eq(glibc_malloc_check(&s.lc, stderr), 0);
}

static vaddr_t main_op(enum op op, uint64_t n, vaddr_t p)
{
	struct step st = {.op = op, .n = n, .p = p};

	in(NULL, &st);
	return st.ret;
}

struct worker {
	struct libc_thread *t;
	vaddr_t stack;
	uint64_t stack_size;
};

static struct worker workers[4];

static void start(struct worker *w, const char *key)
{
	uint64_t f0 = s.t->min_flt;
	long vm0 = vmsize_kb();
	struct step st = {.op = OP_CREATE};

	in(NULL, &st);
	w->t = st.t;
	putf("%s.create_faults", key, (long)(s.t->min_flt - f0));
	st.op = OP_START;
	in(w->t, &st);
	putf("%s.start_faults", key, (long)w->t->task->min_flt);
	putf("%s.vmsize_kb", key, vmsize_kb() - vm0);
	w->stack = w->t->stackblock;
	w->stack_size = w->t->stackblock_size;
	{
		char k[64];

		snprintf(k, sizeof(k), "%s.stack", key);
		oracle_put_maps(&out, &s.k, s.t, k, w->stack, w->stack + w->stack_size);
	}
	putf("%s.stack_resident", key, resident(w->stack, w->stack_size));
	putf("%s.pd_from_top", key, (long)(w->stack + w->stack_size - w->t->pd));
}

static vaddr_t run(struct worker *w, enum op op, uint64_t n, vaddr_t p, const char *key)
{
	struct task *task = w->t->task;
	uint64_t f0 = task->min_flt;
	long vm0 = vmsize_kb();
	struct step st = {.op = op, .n = n, .p = p};

	in(w->t, &st);
	if (op != OP_FREE)
		put_ptr(key, st.ret);
	putf("%s.faults", key, (long)(task->min_flt - f0));
	putf("%s.vmsize_kb", key, vmsize_kb() - vm0);
	return st.ret;
}

static void join(struct worker *w, const char *key)
{
	long vm0 = vmsize_kb();
	int tid = w->t->tid;
	struct step st = {.op = OP_EXIT, .t = w->t};

	in(w->t, &st);
	cr_assert_null(find_task_by_pid(&s.k, tid), "thread %d not reaped", tid);
	st.op = OP_JOIN;
	in(NULL, &st);
	putf("%s.join_vmsize_kb", key, vmsize_kb() - vm0);
	putf("%s.stack_resident_after", key, resident(w->stack, w->stack_size));
}

static struct glibc_text text;

static void stats_body(void *arg)
{
	(void)arg;
	text.len = 0;
	glibc_malloc_stats(&s.lc, &text);
}

static void stats(const char *tag)
{
	cr_assert_eq(task_run(&s.k, s.t, stats_body, NULL), 0);
	oracle_put_lines(&out, tag, text.s, text.len);
}

static void scenario(void)
{
	vaddr_t a1, b1, c1, t3p, h1;

	heap = s.t->mm->start_brk; /* sbrk(0) before the first malloc */
	put_ptr("p", main_op(OP_MALLOC, 1, 0));

	start(&workers[0], "t1");
	put_ptr("after_create", main_op(OP_MALLOC, 1, 0));

	a1 = run(&workers[0], OP_MALLOC, 100, 0, "t1.a");
	h1 = a1 & ~(HEAP_MAX - 1);
	oracle_put_maps(&out, &s.k, s.t, "t1.heap", h1, h1 + HEAP_MAX);
	oracle_put(&out, "t1.heap_resident", resident(h1, 0x21000));
	oracle_put_mallinfo(&out, &s.lc, "mi1");

	b1 = run(&workers[0], OP_MALLOC, 100000, 0, "t1.b");
	c1 = run(&workers[0], OP_MALLOC, 100000, 0, "t1.c");
	oracle_put_maps(&out, &s.k, s.t, "t1.heap_grown", h1, h1 + HEAP_MAX);
	oracle_put_mallinfo(&out, &s.lc, "mi2");

	main_op(OP_FREE, 0, b1);
	oracle_put_mallinfo(&out, &s.lc, "mi3");
	stats("stats1");

	start(&workers[1], "t2");
	run(&workers[1], OP_MALLOC, 200, 0, "t2.a");
	oracle_put_mallinfo(&out, &s.lc, "mi4");

	run(&workers[0], OP_FREE, 0, c1, "t1.free_c");
	run(&workers[0], OP_FREE, 0, a1, "t1.free_a");
	join(&workers[0], "t1");
	stats("stats2");
	start(&workers[2], "t3");
	oracle_put(&out, "t3.same_stack", workers[2].stack == workers[0].stack);
	t3p = run(&workers[2], OP_MALLOC, 100, 0, "t3.a");
	oracle_put(&out, "t3.same_arena", (t3p & ~(HEAP_MAX - 1)) == h1);
	run(&workers[2], OP_CALLOC, 50000, 0, "t3.calloc");

	oracle_put(&out, "trim", (long)main_op(OP_TRIM, 0, 0));
	oracle_put(&out, "t1.heap_resident_after_trim", resident(h1, 0x21000));
	oracle_put_mallinfo(&out, &s.lc, "mi5");
	stats("stats3");

	join(&workers[1], "t2");
	join(&workers[2], "t3");
}

Test(oracle_threads, two_threads_their_arenas_stacks_and_the_stack_cache)
{
	struct kernel_opts ko;
	char *real;

	oracle_kernel_opts(&ko);
	cr_assert_eq(kernel_boot(&s.k, &ko, stderr), 0);
	s.t = task_create(&s.k, "pthread_arenas");
	cr_assert_not_null(s.t);
	libc_init(&s.lc, &s.k, malloc_policy("glibc"));
	out.len = 0;
	scenario();
	real = oracle_run("pthread_arenas", NULL);
	oracle_assert_same("threads and arenas", out.text, real);
	free(real);
	free(text.s);
	libc_fini(&s.lc);
	kernel_shutdown(&s.k);
}
