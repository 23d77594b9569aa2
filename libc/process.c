/*
 * process.c - glibc's fork, exit and waitpid over the simulated kernel's
 * fork, exit_group and wait4 (see process.h). The wrappers add no events
 * of their own: what they do beyond the system call (the atfork handlers,
 * the exit handlers) does nothing in a model with one thread, no stdio
 * buffers and no atexit, and the system call's events tell the story.
 */
#include "process.h"

#include "../kernel_sim/syscalls.h"
#include "glibc_malloc.h"

int64_t libc_fork(struct libc *lc)
{
	/* fork (posix/fork.c): the atfork handlers (malloc's lock of its
	   arenas among them, a no-op with one thread), then _Fork's system
	   call. */
	int64_t r = sys_fork(lc->k);

	if (r < 0) {
		lc->errno_ = (int)-r;
		return -1;
	}
	return r;
}

void libc_fork_child(struct libc *child, const struct libc *parent, struct task *t)
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
	glibc_malloc_fork(child, parent);
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
