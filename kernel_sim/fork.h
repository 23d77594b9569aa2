/*
 * fork.h - process creation by fork (kernel/fork.c kernel_clone,
 * copy_process, copy_mm, dup_mm, dup_mmap; mm/memory.c copy_page_range
 * down to copy_present_pte). User space reaches it through sys_fork
 * (syscalls.h).
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

/* set_max_threads: the threads-max of a machine with this much RAM
   (RAM / (8 * THREAD_SIZE), at least 20). */
int set_max_threads(uint64_t totalram_pages);

#endif
