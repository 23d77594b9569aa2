/*
 * overcommit.h - the commit accounting of mm/util.c: __vm_enough_memory,
 * vm_commit_limit and Committed_AS (vm_committed_as).
 *
 * Every private writable mapping and the heap carry VM_ACCOUNT (as in
 * Linux: accountable_mapping, do_brk_flags, the stack's VM_STACK_FLAGS);
 * their pages are what the kernel has promised. Committed_AS is kept here
 * as the kernel's counter would read: the pages of every VM_ACCOUNT VMA of
 * every process (the kernel charges a mapping when it is made and uncharges
 * it when it goes, so the two agree), recounted when asked.
 */
#ifndef KERNEL_SIM_OVERCOMMIT_H
#define KERNEL_SIM_OVERCOMMIT_H

#include <stdint.h>

struct kernel;

/*
 * __vm_enough_memory(current->mm, npages, cap_sys_admin = 1: the simulated
 * program runs as root): mode 1 never refuses; mode 0 refuses a single
 * request of more pages than RAM + swap; mode 2 refuses when Committed_AS
 * with the request would reach CommitLimit less the user reserve
 * (min(total_vm / 32, user_reserve_kbytes)). 0 or -ENOMEM, with the
 * kernel's warning as an event on refusal.
 */
int vm_enough_memory(struct kernel *k, uint64_t npages);
/* vm_commit_limit: overcommit_kbytes, else (RAM - hugetlb) * ratio / 100, plus swap. */
uint64_t vm_commit_limit(const struct kernel *k);
/* The same from its inputs, in pages (for the oracle on the host's own totals). */
uint64_t commit_limit_pages(uint64_t totalram, uint64_t hugetlb, int ratio, uint64_t kbytes,
                            uint64_t swap);
/* vm_committed_as in pages. */
uint64_t vm_committed_as(const struct kernel *k);
/* init_admin_reserve / init_user_reserve from the free memory at boot. */
void init_reserves(struct kernel *k);

#endif
