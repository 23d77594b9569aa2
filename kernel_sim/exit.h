/*
 * exit.h - the end of a process and its parent's wait (kernel/exit.c
 * do_exit, exit_mm, exit_notify, do_wait, wait_task_zombie, release_task;
 * kernel/fork.c mmput; mm/mmap.c exit_mmap). User space reaches them
 * through sys_exit_group and sys_wait4 (syscalls.h).
 */
#ifndef KERNEL_SIM_EXIT_H
#define KERNEL_SIM_EXIT_H

#include "task.h"

/*
 * Drop one user of mm; the last tears the address space down (exit_mmap:
 * unmap every VMA, a frame freed only when its last mapping goes; free the
 * page tables; unlink the anon_vmas) and frees it. The CPU is moved off it
 * first when it is loaded.
 */
void mmput(struct kernel *k, struct mm_struct *mm);

/*
 * do_exit of k->current with wait status code (exit: (status & 0xff) << 8):
 * exit_mm, then exit_notify (children go to another live thread of the
 * process, else to init, outside the model, which reaps them; the task
 * becomes a zombie for its parent's wait, or is
 * reaped at once when its parent is init). Unwinds to task_run when armed
 * (task_run returns TASK_RUN_EXITED), else returns.
 */
void do_exit(struct kernel *k, int code);

/*
 * The rest of the death of t, killed by a fatal signal while it ran and
 * left at rest since (force_fatal_signal and task_kill record the death
 * and unwind; in Linux the task itself goes on to do_group_exit(signo)
 * before it ever returns to user space): do_exit with wait status signo,
 * its address space torn down, a zombie for its parent (or released at
 * once, an orphan: t is freed then). Not from inside task_run of t.
 */
void exit_signaled(struct kernel *k, struct task *t);

/* The zombie t leaves the kernel (release_task): off its parent's children
   and the task list, freed. */
void release_task(struct kernel *k, struct task *t);

/*
 * Would wait4(pid) from t sleep? The child of t's process (any of its
 * threads' children, as do_wait looks) that matches pid and has not
 * exited, when none that matches has: the model cannot sleep (sys_wait4
 * returns -EAGAIN then). NULL when a zombie matches or no child does.
 */
const struct task *wait_would_block(const struct kernel *k, const struct task *t, int pid);

/* The other live tasks of t's thread group exit (with wait status code):
   the threads are reaped, the group leader waits as a zombie for its parent
   (or is reaped too when init is its parent): a group exit ends the whole
   process. A task that runs (task_run armed) is released by task_run. */
void zap_other_threads(struct kernel *k, struct task *t, int code);

#endif
