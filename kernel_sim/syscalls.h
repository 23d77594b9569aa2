/*
 * syscalls.h - the system-call interface: the only part of the kernel that
 * user space (libc/) may call, exactly as a real program reaches the kernel
 * through the syscall instruction.
 *
 * Return values follow the kernel's convention (not glibc's): a result, or a
 * negative errno. Each call emits EV_SYSCALL ... EV_SYSRET around the
 * modelled path (entry_SYSCALL_64 -> do_syscall_64 -> __x64_sys_NAME).
 */
#ifndef KERNEL_SIM_SYSCALLS_H
#define KERNEL_SIM_SYSCALLS_H

#include <stddef.h>

#include "../vm/types.h"
#include "task.h"

/* x86-64 syscall numbers */
#define SIM_NR_read      0
#define SIM_NR_write     1
#define SIM_NR_close     3
#define SIM_NR_mmap      9
#define SIM_NR_mprotect  10
#define SIM_NR_munmap    11
#define SIM_NR_brk       12
#define SIM_NR_mremap    25
#define SIM_NR_madvise   28
#define SIM_NR_getpid    39
#define SIM_NR_exit      60
#define SIM_NR_clone     56
#define SIM_NR_fork      57
#define SIM_NR_wait4     61
#define SIM_NR_getrlimit 97
#define SIM_NR_setrlimit 160
#define SIM_NR_swapon    167
#define SIM_NR_swapoff   168
#define SIM_NR_exit_group 231
#define SIM_NR_clone3    435
#define SIM_NR_tgkill    234
#define SIM_NR_openat    257

#define SIM_AT_FDCWD   (-100)
#define SIM_O_RDONLY   0
#define SIM_O_CLOEXEC  0x80000

#define SIM_PROT_NONE     0x0
#define SIM_PROT_READ     0x1
#define SIM_PROT_WRITE    0x2
#define SIM_PROT_EXEC     0x4
#define SIM_MAP_PRIVATE   0x02
#define SIM_MAP_FIXED     0x10
#define SIM_MAP_ANONYMOUS 0x20
#define SIM_MAP_NORESERVE 0x4000
#define SIM_MAP_STACK     0x20000 /* a thread's stack: VM_NOHUGEPAGE (Linux 6.7+) */

#define SIM_MREMAP_MAYMOVE   1
#define SIM_MREMAP_FIXED     2
#define SIM_MREMAP_DONTUNMAP 4

#define SIM_MADV_NORMAL   0
#define SIM_MADV_WILLNEED 3
#define SIM_MADV_DONTNEED 4
#define SIM_MADV_FREE     8

#define SIM_EFAULT 14
#define SIM_ENOMEM 12
#define SIM_EINVAL 22
#define SIM_EPERM  1
#define SIM_ENOENT 2
#define SIM_EBUSY  16
#define SIM_ECHILD 10
#define SIM_EAGAIN 11
#define SIM_EDEADLK 35

#define SIM_SIGCHLD 17
#define SIM_WNOHANG 1

/* brk(2): returns the new break, or the old one when refused (never -errno). */
uint64_t sys_brk(struct kernel *k, uint64_t brk);
/* Anonymous private mappings only (fd -1, offset 0); addr is a hint unless MAP_FIXED. */
int64_t sys_mmap(struct kernel *k, vaddr_t addr, uint64_t len, int prot, int flags, int fd,
                 uint64_t off);
int64_t sys_munmap(struct kernel *k, vaddr_t addr, uint64_t len);
/* mprotect(2) (mprotect.c): 0, -EINVAL (start unaligned, unknown prot bits),
   -ENOMEM (a hole in the range, overflow, commit refused), -EACCES. */
int64_t sys_mprotect(struct kernel *k, vaddr_t start, uint64_t len, int prot);
/* madvise(2) (madvise.c): MADV_NORMAL, MADV_WILLNEED, MADV_DONTNEED, MADV_FREE;
   0, -EINVAL (unaligned, overflow, other behaviours), -ENOMEM (a hole). */
int64_t sys_madvise(struct kernel *k, vaddr_t start, uint64_t len, int behavior);
/* mremap(2) (mremap.c): the new address, or -EINVAL, -EFAULT, -ENOMEM.
   MREMAP_DONTUNMAP is not modelled (-EINVAL). */
int64_t sys_mremap(struct kernel *k, vaddr_t addr, uint64_t old_len, uint64_t new_len, int flags,
                   vaddr_t new_addr);
int64_t sys_setrlimit(struct kernel *k, int resource, const struct sim_rlimit *rl);
int64_t sys_getrlimit(struct kernel *k, int resource, struct sim_rlimit *rl);
/* swapon/swapoff of the one swap device (swap.h): 0 or -errno. */
int64_t sys_swapon(struct kernel *k, uint64_t bytes);
int64_t sys_swapoff(struct kernel *k);
/* write(2) to fd 1 or 2 of the current task: kept in task->stderr_buf (fd 2). */
int64_t sys_write(struct kernel *k, int fd, const char *buf, size_t n);
/* openat(AT_FDCWD, path, flags), read(2), close(2) of the files open.h
   lists: a descriptor (3 and up), a byte count; -ENOENT, -EACCES (a mode
   other than O_RDONLY), -EMFILE, -EBADF. buf is the caller's host buffer,
   as for sys_write. */
int64_t sys_openat(struct kernel *k, const char *path, int flags);
int64_t sys_read(struct kernel *k, int fd, char *buf, size_t n);
int64_t sys_close(struct kernel *k, int fd);
/* tgkill(getpid(), gettid(), sig) on itself: SIGABRT from abort(). Never returns
   when task_run is armed. */
int64_t sys_tgkill_self(struct kernel *k, int sig);

/* getpid(2): the current task's tgid. */
int64_t sys_getpid(struct kernel *k);
/* fork(2): the child's pid, or -EAGAIN / -ENOMEM (fork.h, kernel_clone).
   glibc's fork() does not make it (it calls clone, below); a program that
   makes the system call itself does. */
int64_t sys_fork(struct kernel *k);

/* clone3(2)'s flags (include/uapi/linux/sched.h) and arguments. */
#define SIM_CLONE_VM             0x00000100
#define SIM_CLONE_FS             0x00000200
#define SIM_CLONE_FILES          0x00000400
#define SIM_CLONE_SIGHAND        0x00000800
#define SIM_CLONE_THREAD         0x00010000
#define SIM_CLONE_SYSVSEM        0x00040000
#define SIM_CLONE_SETTLS         0x00080000
#define SIM_CLONE_PARENT_SETTID  0x00100000
#define SIM_CLONE_CHILD_CLEARTID 0x00200000
#define SIM_CLONE_CHILD_SETTID   0x01000000
#define SIM_CSIGNAL              0x000000ff /* the low byte: the exit signal */

struct sim_clone_args {
	uint64_t flags;
	vaddr_t parent_tid; /* CLONE_PARENT_SETTID: the new tid is stored there */
	vaddr_t child_tid;  /* CLONE_CHILD_CLEARTID: zeroed (and futex-woken) at its exit */
	vaddr_t stack;      /* the new task's stack: [stack, stack + stack_size) */
	uint64_t stack_size;
	vaddr_t tls;        /* CLONE_SETTLS: its thread pointer (fs base) */
};
/*
 * clone3(2): a new task. With CLONE_VM it shares the caller's mm (a thread
 * with CLONE_THREAD: same tgid, reaped when it exits); without, it is a
 * fork. The new tid, or -EINVAL (CLONE_THREAD without CLONE_SIGHAND, or
 * CLONE_SIGHAND without CLONE_VM, as copy_process checks), -EAGAIN (no task
 * left: threads-max), -ENOMEM.
 */
int64_t sys_clone3(struct kernel *k, const struct sim_clone_args *args);
/*
 * clone(2), x86-64's argument order: a new task as clone3 makes it, the
 * exit signal in flags' low byte (SIGCHLD for a fork). glibc 2.36's fork()
 * is clone(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD, 0, NULL,
 * &THREAD_SELF->tid, 0) (arch_fork). With CLONE_CHILD_SETTID the child's
 * tid is stored at child_tid in the child's memory as it first runs
 * (schedule_tail, fork.h); with CLONE_CHILD_CLEARTID it is zeroed when the
 * child exits while others share its mm. Returns as sys_clone3.
 */
int64_t sys_clone(struct kernel *k, uint64_t flags, vaddr_t newsp, vaddr_t parent_tid,
                  vaddr_t child_tid, vaddr_t tls);
/*
 * exit(2): the calling thread ends (exit_group ends them all). Its
 * clear_child_tid is zeroed and its futex woken (mm_release) while other
 * tasks share the mm. Never returns when task_run is armed: task_run
 * returns TASK_RUN_EXITED and a thread has been reaped by then.
 */
int64_t sys_exit(struct kernel *k, int status);
/*
 * exit_group(2) with status (its low 8 bits reach the parent: wait status
 * (status & 0xff) << 8). Never returns when task_run is armed: the task is
 * gone (a zombie for its parent's wait4) and task_run returns
 * TASK_RUN_EXITED.
 */
int64_t sys_exit_group(struct kernel *k, int status);
/*
 * wait4(2) for a child of current: pid > 0 that child, else any. Reaps a
 * zombie: its pid, and its wait status in *status (may be NULL). -ECHILD
 * when no child matches. When children match but none has exited: 0 with
 * SIM_WNOHANG, else -EAGAIN: the model cannot sleep until a child exits
 * (exit.c).
 */
int64_t sys_wait4(struct kernel *k, int pid, int *status, int options);

/*
 * Not a system call: what the linker tells a statically linked program about
 * its own image (the symbols __bss_start and _end). libc uses it to place its
 * static data (the allocator's roots) in the bss.
 */
void sim_program_image(struct kernel *k, vaddr_t *bss_start, vaddr_t *bss_end);

#endif
