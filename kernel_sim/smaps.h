/*
 * smaps.h - /proc/PID/smaps_rollup (fs/proc/task_mmu.c show_smaps_rollup,
 * smaps_pte_entry, smaps_account, smaps_page_accumulate): every page the
 * process maps, summed over its VMAs, as Linux 6.x accounts it.
 *
 * A page mapped by one PTE (a reference count of 1, or a map count below 2)
 * is private: Private_Clean or Private_Dirty, all of it in Pss. A page
 * mapped by N >= 2 PTEs (shared since a fork) is Shared_Clean or
 * Shared_Dirty, and 1/N of it goes to Pss, in the kernel's fixed point
 * (PSS_SHIFT = 12 bits of fraction, truncated once at the end). Dirty is the
 * PTE's dirty bit or the folio's PG_dirty; Referenced the PTE's accessed bit
 * or PG_referenced. The zero page is a special mapping (vm_normal_page
 * returns NULL): it is not counted. A swap entry counts in Swap, and its
 * 1/N share (N: the slot's swap_map count) in SwapPss.
 */
#ifndef KERNEL_SIM_SMAPS_H
#define KERNEL_SIM_SMAPS_H

#include <stdio.h>

#include "task.h"

#define PSS_SHIFT 12

/* struct mem_size_stats: bytes, and Pss figures in bytes << PSS_SHIFT. */
struct mem_size_stats {
	uint64_t resident, shared_clean, shared_dirty, private_clean, private_dirty;
	uint64_t referenced, anonymous, swap;
	uint64_t pss, pss_anon, pss_dirty, swap_pss;
};

/* The figures of every VMA of mm (zero for NULL: a zombie has no mm). */
void smaps_gather(struct kernel *k, struct mm_struct *mm, struct mem_size_stats *mss);
/* ... of the pages of [lo, hi) only: /proc/PID/smaps of the VMA that is
   exactly that range. */
void smaps_gather_range(struct kernel *k, struct mm_struct *mm, vaddr_t lo, vaddr_t hi,
                        struct mem_size_stats *mss);

/* /proc/PID/smaps_rollup of t. A task without an address space (a zombie)
   prints nothing: Linux's read fails there (ESRCH). */
void proc_smaps_rollup(struct kernel *k, struct task *t, FILE *out);

#endif
