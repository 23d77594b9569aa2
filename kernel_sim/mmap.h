/*
 * mmap.h - address-space operations shared by mmap, munmap and brk
 * (mm/mmap.c, mm/vma.c). Internal to kernel_sim/: user space reaches them
 * through sys_mmap, sys_munmap and sys_brk (syscalls.h).
 */
#ifndef KERNEL_SIM_MMAP_H
#define KERNEL_SIM_MMAP_H

#include "overcommit.h"
#include "task.h"

#define MMAP_MIN_ADDR 0x10000ULL  /* vm.mmap_min_addr: 65536 */
#define TASK_SIZE     USER_VA_END /* highest user address + 1 (x86-64, 4 levels) */

/*
 * may_expand_vm: npages more pages of a mapping with flags stay within
 * RLIMIT_AS (total_vm) and, for a data mapping, RLIMIT_DATA (data_vm).
 * Emits may_expand_vm as a call.
 */
bool may_expand_vm(struct kernel *k, struct task *t, unsigned long flags, uint64_t npages);


#define PMD_SIZE      (1ULL << 21) /* 2 MiB: what one PMD entry maps, a huge page */

/*
 * __get_unmapped_area for anonymous private memory: MAP_FIXED takes addr as
 * it is, a free hint is taken, a length that is a multiple of 2 MiB without
 * a hint gets a 2 MiB aligned place (thp_get_unmapped_area, Linux 6.7+),
 * else the highest gap below mmap_base. The address, or -errno.
 */
int64_t get_unmapped_area(struct kernel *k, struct mm_struct *mm, vaddr_t addr, uint64_t len,
                          int flags);

/* EV_VMA from fn: what ("new", "split", "expand", "remove", "flags") happened to v. */
void ev_vma(struct kernel *k, const char *fn, const char *what, const struct vm_area_struct *v);

/* calc_vm_prot_bits: PROT_* to VM_READ/VM_WRITE/VM_EXEC. */
unsigned long calc_vm_prot_bits(int prot);

/* __split_vma: cut vma at addr (page aligned, strictly inside it); both
   halves keep flags, kind and anon_vma. Returns the upper half; pointers
   into mm->vmas, vma included, are invalid afterwards except vma's slot,
   which holds the lower half. */
struct vm_area_struct *split_vma(struct kernel *k, struct mm_struct *mm,
                                 struct vm_area_struct *vma, vaddr_t addr);

/* is_mergeable_vma + is_mergeable_anon_vma: same flags and kind, and the
   anon_vmas compatible (one of them none, or the same). */
bool vma_mergeable(const struct vm_area_struct *v, unsigned long flags, int kind,
                   uint64_t anon_vma);

/* prev's page offsets continue with pgoff right after it (the other merge
   condition: pages keep their offset, so a moved VMA merges only with
   neighbours whose offsets line up). */
bool vma_pgoff_follows(const struct vm_area_struct *prev, uint64_t pgoff);

/*
 * vma_merge_new_range: [addr, end) is free; extend the VMA ending at addr
 * and/or the one starting at end when they are mergeable with (vm_flags,
 * kind, anon_vma) and their offsets continue pgoff, the offset of addr;
 * all three merge when both are. Returns the VMA that now covers the
 * range, or NULL when none could be extended (the caller inserts one and
 * gives it pgoff).
 */
struct vm_area_struct *vma_merge_new_range(struct kernel *k, struct mm_struct *mm, vaddr_t addr,
                                           vaddr_t end, unsigned long vm_flags, int kind,
                                           uint64_t anon_vma, uint64_t pgoff);

/*
 * do_vmi_align_munmap: unmap [start, end) (page aligned, start < end) from
 * t's address space: split the VMAs that straddle an edge (__split_vma),
 * zap the pages (frames freed, TLB entries invalidated), free the page
 * tables that map nothing any more, remove the VMAs and unaccount them.
 * Unmapping a range with no VMA in it is a no-op. Always succeeds.
 */
void do_vmi_align_munmap(struct kernel *k, struct task *t, vaddr_t start, vaddr_t end);

/* do_vmi_munmap: munmap's checks (start page aligned, the range inside user
   space, len not 0 once rounded up to pages), then do_vmi_align_munmap.
   0 or -EINVAL. */
int64_t do_vmi_munmap(struct kernel *k, struct task *t, vaddr_t start, uint64_t len);

#endif
