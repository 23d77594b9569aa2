/*
 * pthread.h - threads of the simulated program, as glibc 2.36 makes them
 * (nptl/pthread_create.c, nptl/allocatestack.c, nptl/nptl-stack.c,
 * nptl/pthread_join_common.c, elf/dl-tls.c), as far as memory goes: the
 * stack and its guard, the struct pthread and the static TLS at the stack's
 * top, the DTV malloc'd by the creating thread, the stack cache, and what a
 * thread gives back when it ends (its tcache and arena, the unused part of
 * its stack).
 *
 * A thread is a task of its own that shares the process's mm (clone with
 * CLONE_VM | CLONE_THREAD | ...). The model runs one task at a time: the
 * caller (the session, replay) runs each step in the right task with
 * task_run and makes the thread current in libc with libc_set_self:
 *
 *   in the creator:   libc_pthread_create   mmap, mprotect, the struct pthread,
 *                                           the DTV, clone3
 *   in the new task:  libc_thread_start     start_thread's first stack frame
 *   in the thread:    libc_thread_exit      __libc_thread_freeres, the stack
 *                                           advice, exit (does not return)
 *   in the joiner:    libc_pthread_join     the thread's stack to the cache
 */
#ifndef LIBC_PTHREAD_H
#define LIBC_PTHREAD_H

#include "libc.h"

/* x86-64 glibc 2.36 as this machine's programs have it. */
#define PTHREAD_TCB_SIZE        0x940ULL /* sizeof (struct pthread): TLS_TCB_SIZE */
#define PTHREAD_STATIC_TLS      0x740ULL /* the static TLS below it: libc's block
                                            and the surplus (__nptl_tls_static_size_for_stack) */
#define PTHREAD_STACK_MIN       16384ULL
#define PTHREAD_STACK_DEFAULT   (2ULL << 20) /* ARCH_STACK_DEFAULT_SIZE: RLIMIT_STACK unlimited */
#define PTHREAD_STACK_CACHE_MAX (40ULL << 20) /* __nptl_stack_cache_maxsize */
#define PTHREAD_DTV_SURPLUS     14 /* DTV_SURPLUS */
#define PTHREAD_TLS_MODULES     1  /* dl_tls_max_dtv_idx: libc.so.6 alone has TLS */
#define PTHREAD_DTV_ENTRIES     (PTHREAD_TLS_MODULES + PTHREAD_DTV_SURPLUS + 2)
                                   /* allocate_dtv: calloc (dtv_length + 2, 16) */

/* Fields of struct pthread the model writes (offsets from the thread
   pointer, as x86-64 glibc 2.36 lays it out). */
#define PD_TCB              0x00  /* tcbhead_t.tcb: the thread pointer itself */
#define PD_DTV              0x08
#define PD_SELF             0x10
#define PD_MULTIPLE_THREADS 0x18
#define PD_TID              0x2d0
#define PD_STACKBLOCK       0x690
#define PD_STACKBLOCK_SIZE  0x698
#define PD_GUARDSIZE        0x6a0

/* __pthread_early_init: the default stack size, from RLIMIT_STACK's soft
   limit as the program started (else ARCH_STACK_DEFAULT_SIZE when it is
   unlimited), at least PTHREAD_STACK_MIN and the static TLS, whole pages.
   libc_init stores it in lc->stacksize. Runs no simulated code. */
uint64_t libc_pthread_default_stacksize(const struct task *t);

/*
 * pthread_create in the running thread: a new thread, created but not yet
 * run (call libc_thread_start in its task next). Its record is linked into
 * lc->threads and returned; NULL on failure with the error pthread_create
 * returns in *err (EAGAIN: clone refused, no task left (threads-max), or
 * no memory for the stack: glibc turns allocate_stack's ENOMEM into
 * EAGAIN). The kernel task is record->task.
 */
struct libc_thread *libc_pthread_create(struct libc *lc, int *err);

/* start_thread's first instructions, in the new thread's task: its first
   stack frame is written (the stack page below the static TLS faults in). */
void libc_thread_start(struct libc *lc, struct libc_thread *t);

/* The running thread returns from its start routine: its tcache and arena
   go back (glibc_thread_freeres for the glibc policy), the unused part of
   its stack is advised away (MADV_DONTNEED), and it exits. Never returns
   inside task_run (TASK_RUN_EXITED). */
_Noreturn void libc_thread_exit(struct libc *lc);

/* pthread_join in the running thread, of t, which has exited: its stack
   goes to the stack cache (the oldest cached ones are unmapped, their DTVs
   freed, past 40 MiB); t's record is freed. 0, or EINVAL (not joinable:
   not exited yet, or already joined), EDEADLK (t is the caller). */
int libc_pthread_join(struct libc *lc, struct libc_thread *t);

/* The thread with this tid, or NULL. */
struct libc_thread *libc_thread_find(struct libc *lc, int tid);

/*
 * fork's reclaim_stacks, for child, the libc of a process just forked from
 * parent's (libc_fork_child), in two halves. libc_pthread_fork_child, host
 * side, runs no simulated code: the child gets its own copy of the stack
 * cache, with the stacks of the parent's other threads in front (the
 * threads are not in the child, their stacks are: glibc caches them for
 * the child's next pthread_create); not the main thread's stack (not
 * glibc's), nor the forking thread's (the child runs on it).
 * libc_pthread_reclaim_stacks, in the child's task: each of those stacks
 * is marked free (its struct pthread's tid cleared: a store into a page
 * fork left shared).
 */
void libc_pthread_fork_child(struct libc *child, const struct libc *parent);
void libc_pthread_reclaim_stacks(struct libc *lc);

/* Free the host memory of every thread record and cached stack (the
   process is gone). Runs no simulated code. */
void libc_threads_release(struct libc *lc);

#endif
