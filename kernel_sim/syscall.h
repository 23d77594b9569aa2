/*
 * syscall.h - the kernel side of a system call: entry and exit
 * (arch/x86/entry/entry_64.S entry_SYSCALL_64, arch/x86/entry/common.c
 * do_syscall_64). Internal to kernel_sim/: user space calls the sys_*
 * functions of syscalls.h, which open and close the path with these.
 *
 * Events of one call, in order:
 *   EV_SYSCALL entry_SYSCALL_64 {nr, args...}
 *   EV_CALL    do_syscall_64 {nr}
 *   EV_CALL    __x64_sys_NAME {args...}
 *     ... the modelled path ...
 *   EV_RET     __x64_sys_NAME {ret}
 *   EV_RET     do_syscall_64 {ret}
 *   EV_SYSRET  entry_SYSCALL_64 {ret}
 */
#ifndef KERNEL_SIM_SYSCALL_H
#define KERNEL_SIM_SYSCALL_H

#include "task.h"

/*
 * Enter the kernel for syscall nr on behalf of k->current (which must exist
 * and be alive: a simulator bug otherwise, panic). sys_fn is the static name
 * "__x64_sys_NAME"; args are its arguments as event fields (at most 6).
 * Returns the current task.
 */
struct task *syscall_enter_f(struct kernel *k, unsigned nr, const char *sys_fn,
                             const struct ev_field *args, unsigned nargs);
#define syscall_enter(k, nr, sys_fn, ...)                                                          \
	syscall_enter_f((k), (nr), (sys_fn), EV_FIELDS_(__VA_ARGS__), EV_NF_(__VA_ARGS__))

/*
 * Leave the kernel: close __x64_sys_NAME and do_syscall_64 with ret, emit
 * EV_SYSRET. With opts.debug_checks every checker runs here and a broken
 * invariant is a panic.
 */
void syscall_exit(struct kernel *k, const char *sys_fn, int64_t ret);

#endif
