/*
 * fork.h - process creation by fork (kernel/fork.c kernel_clone,
 * copy_process, copy_mm, dup_mm, dup_mmap; mm/memory.c copy_page_range
 * down to copy_present_pte; kernel/sched/core.c schedule_tail). User space
 * reaches it through sys_clone (glibc's fork), sys_clone3 (pthread_create)
 * and sys_fork (syscalls.h).
 */
#ifndef KERNEL_SIM_FORK_H
#define KERNEL_SIM_FORK_H

#include "syscalls.h"
#include "task.h"

/*
 * kernel_clone of k->current. Without CLONE_VM (fork): a new process with
 * a copy of the parent's address space in which every private writable
 * page is shared copy-on-write (both PTEs write-protected, the frame's
 * reference and map counts raised), the zero page shared as it is, and page
 * tables of its own in simulated frames. With CLONE_VM (a thread, with
 * CLONE_THREAD): the same mm, one more of its users. The new task is made,
 * not run: it runs when task_run runs it (wake_up_new_task only puts it on
 * the run queue). Returns its pid (tid), -EINVAL for flags copy_process
 * refuses, -EAGAIN when k->max_threads tasks exist, -ENOMEM when simulated
 * memory for its tables runs out (nothing is left behind then).
 */
int64_t kernel_clone(struct kernel *k, const struct sim_clone_args *args);

/*
 * schedule_tail: what a task made by kernel_clone does first when it first
 * runs (ret_from_fork; task_run calls it): with CLONE_CHILD_SETTID, put_user
 * of its tid at set_child_tid, in its own address space -- after a fork a
 * copy-on-write page, so the child's first fault. Emits its events only
 * when it has that store to make. An address no VMA maps is skipped (the
 * store's fault is fixed up, not a signal, in Linux).
 */
void schedule_tail(struct kernel *k, struct task *t);

/* set_max_threads: the threads-max of a machine with this much RAM
   (RAM / (8 * THREAD_SIZE), at least 20). */
int set_max_threads(uint64_t totalram_pages);

#endif
