/*
 * test_oracle_fork_thread.c - fork from a thread, glibc policy, against this
 * machine's glibc 2.36 and kernel: tests/host/fork_thread.c has a second
 * thread malloc and fork; the child (one thread, the copy of the caller)
 * reads its maps, VmSize and RssAnon, mallocs and frees, starts a thread
 * of its own and exits 3; the parent's threads malloc again, the forking
 * thread is joined and the main thread reaps the child. The same calls run
 * here through libc/process.c (malloc's fork handlers, reclaim_stacks),
 * libc/pthread.c and the kernel's fork, exit and wait4, each in the task
 * of the thread that makes it, and must print the same lines: pointers,
 * each call's minor faults, the child's VMAs, mallinfo2, malloc_stats,
 * the wait status. A second run forks from the main thread while the
 * other thread lives: the child's stack cache and free_list get that
 * thread's stack and arena (reclaim_stacks, __malloc_fork_unlock_child).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_sim/proc.h"
#include "kernel_sim/syscalls.h"
#include "libc/glibc_malloc.h"
#include "libc/process.h"
#include "libc/pthread.h"
#include "tests/support_oracle.h"
#include "tests/support_sim.h"

#define HEAP_MAX GM_HEAP_MAX_SIZE

static struct sim s;
static struct libc clc; /* the child's libc */
static struct oracle_out out;
static vaddr_t heap;

static void put_ptr(struct libc *lc, const char *key, vaddr_t p)
{
	if (p >= heap && p < lc->curbrk)
		oracle_put(&out, key, (long)(p - heap));
	else
		oracle_printf(&out, "%s=heap+%#lx\n", key, (unsigned long)(p & (HEAP_MAX - 1)));
}

static long vmsize_kb(const struct task *t)
{
	return (long)(t->mm->total_vm << (PAGE_SHIFT - 10));
}

static long rss_anon_kb(const struct task *t)
{
	return (long)(t->mm->rss_stat[MM_ANONPAGES] << (PAGE_SHIFT - 10));
}

/* ---- one call in one thread's task ------------------------------------- */

enum op { OP_MALLOC, OP_FREE, OP_CREATE, OP_START, OP_EXIT, OP_JOIN, OP_FORK, OP_CHILD_START,
	  OP_PEXIT, OP_WAIT, OP_STATS };

struct step {
	struct libc *lc;
	enum op op;
	uint64_t n;
	vaddr_t p, ret;
	struct libc_thread *t;
	int64_t pid;
	int status;
};

static struct glibc_text text;

static void run_step(void *arg)
{
	struct step *st = arg;
	struct libc *lc = st->lc;
	int err;

	switch (st->op) {
	case OP_MALLOC:
		st->ret = libc_malloc(lc, st->n);
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
	case OP_FORK:
		st->pid = libc_fork(lc);
		break;
	case OP_CHILD_START:
		libc_fork_child_start(lc);
		break;
	case OP_PEXIT:
		libc_exit(lc, (int)st->n);
		break;
	case OP_WAIT:
		st->pid = libc_waitpid(lc, (int)st->n, &st->status);
		break;
	case OP_STATS:
		text.len = 0;
		glibc_malloc_stats(lc, &text);
		break;
	}
}

/* Run st in thread t of st->lc (NULL: its main thread); its task must not
   die (but for the exits); the thread running before runs again after. */
static void in(struct libc_thread *t, struct step *st)
{
	int r = sim_run_in(&s.k, st->lc, t, run_step, st);

	cr_assert_eq(r, st->op == OP_EXIT || st->op == OP_PEXIT ? TASK_RUN_EXITED : 0,
	             "step %d ended with %d", st->op, r);
	sim_kernel_check(&s.k);
	if (st->op != OP_EXIT && st->op != OP_PEXIT)
		cr_assert_eq(glibc_malloc_check(st->lc, stderr), 0);
}

/* A call in thread t of lc that returns an address; its minor faults (the
   thread's own, as RUSAGE_THREAD counts them) in key.faults. */
static vaddr_t call(struct libc *lc, struct libc_thread *t, enum op op, uint64_t n, vaddr_t p,
                    const char *key)
{
	struct task *task = (t ? t : &lc->main_thread)->task;
	uint64_t f0 = task->min_flt;
	struct step st = {.lc = lc, .op = op, .n = n, .p = p};
	char k[64];

	in(t, &st);
	if (op != OP_FREE)
		put_ptr(lc, key, st.ret);
	snprintf(k, sizeof(k), "%s.faults", key);
	oracle_put(&out, k, (long)(task->min_flt - f0));
	return st.ret;
}

static struct libc_thread *create(struct libc *lc)
{
	struct step st = {.lc = lc, .op = OP_CREATE};

	in(NULL, &st);
	st.op = OP_START;
	in(st.t, &st);
	return st.t;
}

static void join(struct libc *lc, struct libc_thread *t)
{
	struct step st = {.lc = lc, .op = OP_EXIT, .t = t};

	in(t, &st);
	st.op = OP_JOIN;
	in(NULL, &st);
}

static void stats(struct libc *lc, const char *tag)
{
	struct step st = {.lc = lc, .op = OP_STATS};

	in(NULL, &st);
	oracle_put_lines(&out, tag, text.s, text.len);
}

/* ---- the scenario, as tests/host/fork_thread.c ------------------------- */

/* The child, just forked by t1 (or by the main thread while t1 lives:
   of_main), as tests/host/fork_thread.c's child. */
static void child(struct task *c, struct libc_thread *t1, vaddr_t p, vaddr_t a, long vm0,
                  long rss0, bool of_main)
{
	vaddr_t h1 = a & ~(HEAP_MAX - 1);
	struct libc_thread *t2;
	struct step st = {.lc = &clc};
	int threads = 0;
	long vm;

	for (const struct task *o = task_list_first(&s.k); o; o = task_list_next(o))
		threads += o->tgid == c->tgid && !o->dead;
	oracle_put(&out, "c.threads", threads);
	if (!of_main) {
		oracle_put(&out, "c.ppid_is_parent",
		           c->real_parent && c->real_parent->tgid == s.t->tgid);
		oracle_put(&out, "c.vmsize_diff_kb", vmsize_kb(c) - vm0);
		oracle_put(&out, "c.rss_anon_diff_kb", rss_anon_kb(c) - rss0);
	}
	oracle_put_maps(&out, &s.k, c, "c.t1_stack", t1->stackblock,
	                t1->stackblock + t1->stackblock_size);
	if (!of_main) {
		oracle_put_maps(&out, &s.k, c, "c.t1_heap", h1, h1 + HEAP_MAX);
		oracle_put_mallinfo(&out, &clc, "c.mi0");
	}

	/* the calling thread keeps its arena */
	call(&clc, NULL, OP_MALLOC, 100, 0, "c.x");
	if (!of_main) {
		call(&clc, NULL, OP_FREE, 0, p, "c.free_p");
		call(&clc, NULL, OP_FREE, 0, a, "c.free_a");
		oracle_put_mallinfo(&out, &clc, "c.mi1");
	}

	/* a thread of the child: a new stack or t1's cached one, and an arena
	   from free_list */
	vm = vmsize_kb(c);
	t2 = create(&clc);
	if (of_main)
		oracle_put(&out, "c.t2.same_stack", t2->pd == t1->pd);
	st.op = OP_MALLOC;
	st.n = 200;
	in(t2, &st);
	join(&clc, t2);
	oracle_put(&out, "c.t2.vmsize_kb", vmsize_kb(c) - vm);
	put_ptr(&clc, "c.t2.m", st.ret);
	oracle_put_mallinfo(&out, &clc, "c.mi2");
	stats(&clc, "c.stats");

	st.op = OP_PEXIT;
	st.n = 3;
	in(NULL, &st);
}

/* The scenario: t1 forks, or (from_main) the main thread while t1 lives. */
static void scenario(bool from_main)
{
	struct libc_thread *t1;
	struct task *c;
	struct step st = {.lc = &s.lc};
	vaddr_t p, a;
	long vm0, rss0;

	heap = s.t->mm->start_brk; /* sbrk(0) before the first malloc */
	st.op = OP_MALLOC;
	st.n = 100;
	in(NULL, &st);
	p = st.ret;
	put_ptr(&s.lc, "p", p);

	t1 = create(&s.lc);
	a = call(&s.lc, t1, OP_MALLOC, 100, 0, "t1.a");
	oracle_put_mallinfo(&out, &s.lc, "mi0");

	/* t1 forks; the child's libc is the copy, its first code runs now */
	vm0 = vmsize_kb(s.t);
	rss0 = rss_anon_kb(s.t);
	st.op = OP_FORK;
	in(from_main ? NULL : t1, &st);
	oracle_put(&out, "fork.ok", st.pid > 0);
	cr_assert_gt(st.pid, 0);
	c = find_task_by_pid(&s.k, (int)st.pid);
	cr_assert_not_null(c);
	libc_set_self(&s.lc, from_main ? &s.lc.main_thread : t1);
	if (libc_fork_child(&clc, &s.lc, c)) {
		struct step cs = {.lc = &clc, .op = OP_CHILD_START};

		in(NULL, &cs);
	}
	libc_set_self(&s.lc, &s.lc.main_thread);
	child(c, t1, p, a, vm0, rss0, from_main);

	/* the parent's threads after the child is gone */
	call(&s.lc, NULL, OP_MALLOC, 100, 0, "q");
	call(&s.lc, t1, OP_MALLOC, 100, 0, "t1.b");

	/* the forking thread ends; its child is the main thread's to reap */
	join(&s.lc, t1);
	st.op = OP_WAIT;
	st.n = (uint64_t)st.pid;
	{
		int64_t pid = st.pid;

		in(NULL, &st);
		oracle_put(&out, "wait.pid_ok", st.pid == pid);
	}
	oracle_put(&out, "wait.status", (st.status >> 8) & 0xff);
	oracle_put_mallinfo(&out, &s.lc, "mi1");
	stats(&s.lc, "stats");
}

static void run_oracle(bool from_main)
{
	static const char *const main_args[] = {"main", NULL};
	struct kernel_opts ko;
	char *real;

	oracle_kernel_opts(&ko);
	cr_assert_eq(kernel_boot(&s.k, &ko, stderr), 0);
	s.t = task_create(&s.k, "fork_thread");
	cr_assert_not_null(s.t);
	libc_init(&s.lc, &s.k, malloc_policy("glibc"));
	out.len = 0;
	scenario(from_main);
	real = oracle_run("fork_thread", from_main ? main_args : NULL);
	oracle_assert_same(from_main ? "fork from the main thread while a thread lives"
	                             : "fork from a thread",
	                   out.text, real);
	free(real);
	free(text.s);
	text.s = NULL;
	libc_fini(&clc);
	libc_fini(&s.lc);
	kernel_shutdown(&s.k);
}

Test(oracle_fork_thread, fork_from_a_thread_matches_the_real_kernel_and_glibc, .timeout = 60)
{
	run_oracle(false);
}

/* reclaim_stacks: the other thread's stack is cached in the child, its
   arena on free_list: the child's thread takes both */
Test(oracle_fork_thread, fork_from_main_caches_the_other_thread_s_stack_in_the_child,
     .timeout = 60)
{
	run_oracle(true);
}
