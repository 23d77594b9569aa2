/*
 * process.h - glibc's process calls: fork (posix/fork.c, _Fork), exit
 * (stdlib/exit.c down to _exit) and waitpid (posix/waitpid.c over wait4).
 *
 * After fork the child runs the same program on a copy of the parent's
 * memory: glibc's state (main_arena, the tcache, every chunk) is memory, so
 * the child's malloc works on its copy with no code of its own. What the
 * model keeps on the host beside that memory (struct libc: the cached break,
 * errno, statistics, the policy's host-side lists) is the CPU's and the
 * thread's, and is copied into the child's struct libc by libc_fork_child.
 * A process that has had threads runs malloc's fork handlers around the
 * system call and, in the child, libc_fork_child_start.
 */
#ifndef LIBC_PROCESS_H
#define LIBC_PROCESS_H

#include "libc.h"

/* fork(): the child's pid in the parent, or -1 and errno (EAGAIN past the
   task limit, ENOMEM). The child is made, not run (kernel_sim/fork.h). */
int64_t libc_fork(struct libc *lc);

/*
 * The child's libc after a fork of parent's process: the same state, bound
 * to the child task t (its errno, break and statistics as the parent's were
 * when it forked; the policy's host-side lists and the stack cache copied),
 * with one thread, the copy of the one that forked (POSIX: the child has
 * only the calling thread; the stacks of the others are cached for its
 * next pthread_create, pthread.h). Runs no simulated code. True when the
 * process had threads: then the child has code to run before anything
 * else, libc_fork_child_start in its task. The child's libc is released
 * with libc_fini as any other.
 */
bool libc_fork_child(struct libc *child, const struct libc *parent, struct task *t);

/*
 * What fork does in the child before it returns there, in the child's task
 * (after libc_fork_child said so): malloc's arenas given back to the one
 * thread (glibc_malloc_fork_unlock_child) and the other threads' stacks
 * marked free (libc_pthread_reclaim_stacks). Their stores are the child's
 * first writes into pages fork left shared: copy-on-write faults.
 */
void libc_fork_child_start(struct libc *child);

/* exit(status): the process ends (exit_group); never returns inside
   task_run, which returns TASK_RUN_EXITED. No atexit handlers or stdio
   buffers exist in the model, so exit is _exit. */
void libc_exit(struct libc *lc, int status);

/* waitpid(pid, &status, 0) (pid -1: any child): the reaped child's pid and
   its wait status in *status, or -1 and errno (ECHILD: no such child;
   EAGAIN: the child has not exited, and the model cannot sleep). */
int64_t libc_waitpid(struct libc *lc, int pid, int *status);

#endif
