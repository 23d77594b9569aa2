/*
 * test_pthread.c - threads: clone3 with CLONE_VM | CLONE_THREAD makes a task
 * that shares the mm (one more of its mm_users) in the caller's thread
 * group; pthread_create maps its stack with a guard page below it, sized
 * from RLIMIT_STACK as the program started; a thread's exit clears its tid
 * word and gives its mm reference back; a fault in the guard page kills the
 * whole group; exit_group ends every thread; past threads-max
 * pthread_create fails with EAGAIN. The layout and fault counts against
 * the real glibc are in test_oracle_threads.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_sim/exit.h"
#include "kernel_sim/proc.h"
#include "kernel_sim/syscalls.h"
#include "libc/glibc_malloc.h"
#include "libc/pthread.h"
#include "tests/support_sim.h"

static struct sim S;

static void boot(void)
{
	sim_boot(&S, &(struct sim_opts){.task = "threads", .policy = "glibc"});
}

static void teardown(void)
{
	sim_teardown(&S);
}

TestSuite(pthread, .init = boot, .fini = teardown);

enum op { OP_CREATE, OP_START, OP_EXIT, OP_JOIN, OP_TOUCH, OP_MALLOC, OP_EXIT_GROUP };

struct step {
	enum op op;
	struct libc_thread *t;
	vaddr_t va;
	int err;
	int64_t ret;
};

static void run_step(void *arg)
{
	struct step *st = arg;
	struct libc *lc = &S.lc;

	switch (st->op) {
	case OP_CREATE:
		st->t = libc_pthread_create(lc, &st->err);
		break;
	case OP_START:
		libc_thread_start(lc, st->t);
		break;
	case OP_EXIT:
		libc_thread_exit(lc);
	case OP_JOIN:
		st->err = libc_pthread_join(lc, st->t);
		break;
	case OP_TOUCH:
		libc_st64(lc, st->va, 1);
		break;
	case OP_MALLOC:
		st->ret = (int64_t)libc_malloc(lc, 100);
		break;
	case OP_EXIT_GROUP:
		sys_exit_group(lc->k, 3);
		break;
	}
}

/* Run st as thread t (NULL: the main one); task_run's result. */
static int in(struct libc_thread *t, struct step *st)
{
	return sim_run_as(&S, t, run_step, st);
}

/* A started thread (asserts). */
static struct libc_thread *new_thread(void)
{
	struct step st = {.op = OP_CREATE};

	cr_assert_eq(in(NULL, &st), 0);
	cr_assert_not_null(st.t, "pthread_create: %d", st.err);
	st.op = OP_START;
	cr_assert_eq(in(st.t, &st), 0);
	sim_check(&S.lc);
	return st.t;
}

static void join(struct libc_thread *t)
{
	struct step st = {.op = OP_EXIT, .t = t};

	cr_assert_eq(in(t, &st), TASK_RUN_EXITED);
	st.op = OP_JOIN;
	cr_assert_eq(in(NULL, &st), 0);
	cr_assert_eq(st.err, 0);
	sim_check(&S.lc);
}

/* The 32-bit word at va (asserts it is mapped and present). */
static uint32_t peek32(vaddr_t va)
{
	uint64_t v;

	cr_assert(libc_peek64(&S.lc, va, &v));
	return (uint32_t)v;
}

static int status_threads(struct task *t)
{
	char *text = NULL, *p;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int n = -1;

	cr_assert_not_null(f);
	proc_status(&S.k, t, f);
	fclose(f);
	p = strstr(text, "Threads:\t");
	if (p)
		n = atoi(p + 9);
	free(text);
	return n;
}

Test(pthread, a_thread_shares_the_mm_and_joins_the_group)
{
	struct libc_thread *t = new_thread();
	struct task *tt = t->task;
	int tid = tt->pid;
	vaddr_t pd = t->pd;

	cr_assert_eq(tt->mm, S.t->mm);
	cr_assert_eq(S.t->mm->mm_users, 2);
	cr_assert_eq(tt->tgid, S.t->pid);
	cr_assert_neq(tt->pid, S.t->pid);
	cr_assert(tt->thread);
	cr_assert_eq(tt->group_leader, S.t);
	cr_assert_null(S.t->children, "a thread is nobody's child");
	cr_assert_eq(status_threads(S.t), 2);
	/* CLONE_PARENT_SETTID: the tid is in the struct pthread */
	cr_assert_eq(peek32(t->pd + PD_TID), (uint32_t)tt->pid);
	join(t);
	cr_assert_null(find_task_by_pid(&S.k, tid), "the thread was reaped");
	cr_assert_eq(S.t->mm->mm_users, 1);
	cr_assert_eq(status_threads(S.t), 1);
	/* CLONE_CHILD_CLEARTID: the kernel zeroed it at the thread's exit */
	cr_assert_eq(peek32(pd + PD_TID), 0);
}

Test(pthread, the_stack_is_rlimit_stack_with_a_guard_page_below)
{
	struct libc_thread *t = new_thread();
	struct vm_area_struct *guard, *stack;

	cr_assert_eq(t->stackblock_size, (8ULL << 20) + PAGE_SIZE);
	cr_assert_eq(t->guardsize, PAGE_SIZE);
	guard = vma_lookup(S.t->mm, t->stackblock);
	stack = vma_lookup(S.t->mm, t->stackblock + PAGE_SIZE);
	cr_assert_not_null(guard);
	cr_assert_not_null(stack);
	cr_assert_eq(guard->vm_end, t->stackblock + PAGE_SIZE);
	cr_assert_eq(guard->vm_flags & VM_ACCESS_FLAGS, 0, "the guard is PROT_NONE");
	cr_assert_eq(stack->vm_flags & VM_ACCESS_FLAGS, VM_READ | VM_WRITE);
	cr_assert(stack->vm_flags & VM_NOHUGEPAGE, "MAP_STACK");
	cr_assert_eq(stack->vm_end, t->stackblock + t->stackblock_size);
	cr_assert_eq(t->pd, (t->stackblock + t->stackblock_size - PTHREAD_TCB_SIZE) & ~63ULL);
	join(t);
}

Test(pthread, unlimited_rlimit_stack_gives_two_mib_read_at_start_up)
{
	struct libc_thread *t;

	/* glibc reads RLIMIT_STACK once, in __pthread_early_init */
	S.t->rlim[SIM_RLIMIT_STACK].cur = SIM_RLIM_INFINITY;
	cr_assert_eq(libc_pthread_default_stacksize(S.t), 2ULL << 20);
	S.t->rlim[SIM_RLIMIT_STACK].cur = 100;
	cr_assert_eq(libc_pthread_default_stacksize(S.t), PTHREAD_STACK_MIN);
	S.t->rlim[SIM_RLIMIT_STACK].cur = 8ULL << 20;
	S.lc.stacksize = 2ULL << 20;
	t = new_thread();
	cr_assert_eq(t->stackblock_size, (2ULL << 20) + PAGE_SIZE);
	join(t);
}

Test(pthread, a_store_into_the_guard_page_kills_every_thread)
{
	struct libc_thread *t = new_thread();
	struct step st = {.op = OP_TOUCH, .va = t->stackblock + 8};
	int r = in(t, &st);

	cr_assert_eq(r, SIM_SIGSEGV);
	cr_assert_eq(t->task->death.code, SIM_SEGV_ACCERR);
	cr_assert(S.t->dead, "complete_signal: the whole group dies");
	cr_assert_eq(S.t->death.signo, SIM_SIGSEGV);
}

Test(pthread, exit_group_in_a_thread_ends_the_process)
{
	struct libc_thread *t = new_thread();
	struct step st = {.op = OP_EXIT_GROUP};
	struct mm_struct *mm = S.t->mm;

	cr_assert_eq(mm->mm_users, 2);
	cr_assert_eq(in(t, &st), TASK_RUN_EXITED);
	cr_assert(S.t->dead);
	/* the leader: a zombie (pid 1 of its namespace, whose parent is outside),
	   with the group's exit status; the thread: reaped */
	cr_assert_eq(S.t->exit_state, EXIT_ZOMBIE);
	cr_assert_eq(S.t->exit_code, 3 << 8);
	cr_assert_null(S.t->mm);
	cr_assert_eq(S.k.nr_tasks, 1);
	sim_kernel_check(&S.k);
}

Test(pthread, clone3_checks_its_flags)
{
	struct sim_clone_args a = {.flags = SIM_CLONE_VM | SIM_CLONE_THREAD};

	S.k.current = S.t;
	cr_assert_eq(sys_clone3(&S.k, &a), -SIM_EINVAL, "CLONE_THREAD without CLONE_SIGHAND");
	a.flags = SIM_CLONE_SIGHAND;
	cr_assert_eq(sys_clone3(&S.k, &a), -SIM_EINVAL, "CLONE_SIGHAND without CLONE_VM");
	cr_assert_eq(S.k.nr_tasks, 1);
}

Test(pthread, past_threads_max_pthread_create_fails_with_eagain)
{
	struct step st = {.op = OP_CREATE};
	struct libc_thread *t1, *t2;
	int tasks = S.k.nr_tasks;
	vaddr_t stack1;

	S.k.max_threads = tasks + 1;
	t1 = new_thread();
	cr_assert_eq(in(NULL, &st), 0);
	cr_assert_null(st.t);
	cr_assert_eq(st.err, SIM_EAGAIN);
	cr_assert_eq(S.t->mm->mm_users, 2, "nothing left behind");
	sim_check(&S.lc);
	/* its stack went to the cache: the next thread takes it */
	stack1 = t1->stackblock;
	join(t1);
	t2 = new_thread();
	cr_assert_eq(t2->stackblock, stack1);
	join(t2);
}

Test(pthread, threads_malloc_in_arenas_of_their_own)
{
	struct libc_thread *t1 = new_thread(), *t2 = new_thread();
	struct step a = {.op = OP_MALLOC}, b = {.op = OP_MALLOC}, m = {.op = OP_MALLOC};

	cr_assert_eq(in(t1, &a), 0);
	cr_assert_eq(in(t2, &b), 0);
	cr_assert_eq(in(NULL, &m), 0);
	cr_assert_neq(a.ret & ~(GM_HEAP_MAX_SIZE - 1), b.ret & ~(GM_HEAP_MAX_SIZE - 1));
	cr_assert_lt((uint64_t)m.ret, S.lc.curbrk, "main_arena is the brk heap");
	sim_check(&S.lc);
	join(t1);
	join(t2);
}
