/*
 * process.c - glibc's fork, exit and waitpid over the simulated kernel's
 * clone, exit_group and wait4 (see process.h). In a process that never had
 * threads, fork is its system call: the atfork work glibc does then
 * changes no memory the model has (no stdio, no atfork handlers of the
 * program). Once the process has had threads, fork runs malloc's fork
 * handlers around the system call (glibc_malloc_fork_*) and the child
 * reclaims the stacks of the threads it does not have (pthread.c).
 */
#include "process.h"

#include "../kernel_sim/syscalls.h"
#include "glibc_malloc.h"
#include "pthread.h"

int64_t libc_fork(struct libc *lc)
{
	/* fork (posix/fork.c): multiple_threads = __libc_single_threaded ==
	   0; then, with threads, malloc's locks taken (the last of the
	   prepare handlers) before _Fork's system call and given back in the
	   parent after it */
	bool glibc = lc->ops == &malloc_ops_glibc;
	int64_t r;

	lc->fork_multiple_threads = libc_ld32(lc, lc->data + LD_MULTIPLE_THREADS) != 0;
	if (lc->fork_multiple_threads && glibc)
		glibc_malloc_fork_lock_parent(lc);
	/* _Fork: arch_fork (&THREAD_SELF->tid), the clone system call with no
	   new stack (sysdeps/unix/sysv/linux/arch-fork.h); the kernel stores
	   the child's tid in the child's copy of the caller's struct pthread.
	   The main thread's struct pthread is not in simulated memory (pd 0):
	   its pointer is NULL here, and no store is made (on the machine it is
	   a store into that thread's TCB page, the child's first fault). */
	r = sys_clone(lc->k, SIM_CLONE_CHILD_SETTID | SIM_CLONE_CHILD_CLEARTID | SIM_SIGCHLD, 0, 0,
	              lc->self->pd ? lc->self->pd + PD_TID : 0, 0);
	if (lc->fork_multiple_threads && glibc)
		glibc_malloc_fork_unlock_parent(lc);
	if (r < 0) {
		lc->errno_ = (int)-r;
		return -1;
	}
	return r;
}

bool libc_fork_child(struct libc *child, const struct libc *parent, struct task *t)
{
	*child = *parent;
	child->task = t;
	/* The child has one thread: a copy of the one that called fork (its
	   TLS and stack are in the copied memory), now the child's task. */
	child->main_thread = *parent->self;
	child->main_thread.tid = t->pid;
	child->main_thread.task = t;
	child->main_thread.next = NULL;
	child->main_thread.exited = false;
	child->main_thread.errno_ = parent->errno_;
	child->threads = child->self = &child->main_thread;
	libc_pthread_fork_child(child, parent);
	glibc_malloc_fork(child, parent);
	return child->fork_multiple_threads;
}

void libc_fork_child_start(struct libc *child)
{
	/* fork's child side: with threads, malloc's locks made afresh and the
	   arenas of the threads that are gone put on free_list; then, always,
	   reclaim_stacks (nothing to do without threads) */
	if (child->fork_multiple_threads && child->ops == &malloc_ops_glibc) {
		child->in_malloc++;
		glibc_malloc_fork_unlock_child(child);
		child->in_malloc--;
	}
	libc_pthread_reclaim_stacks(child);
}

void libc_exit(struct libc *lc, int status)
{
	sys_exit_group(lc->k, status);
	panic("exit_group returned outside task_run");
}

int64_t libc_waitpid(struct libc *lc, int pid, int *status)
{
	int64_t r = sys_wait4(lc->k, pid, status, 0);

	if (r < 0) {
		lc->errno_ = (int)-r;
		return -1;
	}
	return r;
}
