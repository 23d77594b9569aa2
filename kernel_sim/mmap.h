/*
 * mmap.h - address-space operations shared by mmap, munmap and brk
 * (mm/mmap.c, mm/vma.c). Internal to kernel_sim/: user space reaches them
 * through sys_mmap, sys_munmap and sys_brk (syscalls.h).
 */
#ifndef KERNEL_SIM_MMAP_H
#define KERNEL_SIM_MMAP_H

#include "task.h"

#define MMAP_MIN_ADDR 0x10000ULL  /* vm.mmap_min_addr: 65536 */
#define TASK_SIZE     USER_VA_END /* highest user address + 1 (x86-64, 4 levels) */

/*
 * may_expand_vm: npages more pages of a mapping with flags stay within
 * RLIMIT_AS (total_vm) and, for a data mapping, RLIMIT_DATA (data_vm).
 * Emits may_expand_vm as a call.
 */
bool may_expand_vm(struct kernel *k, struct task *t, unsigned long flags, uint64_t npages);

/*
 * __vm_enough_memory with vm.overcommit_memory = 0 (heuristic): refuses only
 * a single request larger than all RAM (there is no swap). 0 or -ENOMEM.
 */
int vm_enough_memory(struct kernel *k, uint64_t npages);

/*
 * do_vmi_align_munmap: unmap [start, end) (page aligned, start < end) from
 * t's address space: split the VMAs that straddle an edge (__split_vma),
 * zap the pages (frames freed, TLB entries invalidated), free the page
 * tables that map nothing any more, remove the VMAs and unaccount them.
 * Unmapping a range with no VMA in it is a no-op. Always succeeds.
 */
void do_vmi_align_munmap(struct kernel *k, struct task *t, vaddr_t start, vaddr_t end);

#endif
