/*
 * overcommit.c - __vm_enough_memory and the commit limit (mm/util.c,
 * mm/mmap.c init_user_reserve / init_admin_reserve); see overcommit.h.
 */
#include "overcommit.h"

#include "mmap.h"
#include "swap.h"
#include "syscalls.h"
#include "task.h"

uint64_t commit_limit_pages(uint64_t totalram, uint64_t hugetlb, int ratio, uint64_t kbytes,
                            uint64_t swap)
{
	uint64_t allowed;

	if (kbytes)
		allowed = kbytes >> (PAGE_SHIFT - 10);
	else
		allowed = (totalram - hugetlb) * (uint64_t)ratio / 100;
	return allowed + swap;
}

uint64_t vm_commit_limit(const struct kernel *k)
{
	return commit_limit_pages(k->buddy.managed, 0, k->sysctl.overcommit_ratio,
	                          k->sysctl.overcommit_kbytes, swap_total_pages(k));
}

uint64_t vm_committed_as(const struct kernel *k)
{
	uint64_t pages = 0;

	for (struct task *t = k->tasks; t; t = t->next_task) {
		const struct mm_struct *mm = task_mm(t);
		bool thread = false;

		for (const struct task *u = k->tasks; u != t; u = u->next_task)
			thread |= u->mm == mm;
		if (!mm || thread)
			continue; /* exited, or a thread of a process already counted */
		for (size_t i = 0; i < mm->nr_vmas; i++)
			if (mm->vmas[i].vm_flags & VM_ACCOUNT)
				pages += (mm->vmas[i].vm_end - mm->vmas[i].vm_start) >> PAGE_SHIFT;
	}
	return pages;
}

void init_reserves(struct kernel *k)
{
	uint64_t free_kbytes = k->buddy.free_pages << (PAGE_SHIFT - 10);

	k->sysctl.user_reserve_kbytes = free_kbytes / 32 < (1ULL << 17) ? free_kbytes / 32 : 1ULL << 17;
	k->sysctl.admin_reserve_kbytes = free_kbytes / 32 < (1ULL << 13) ? free_kbytes / 32 : 1ULL << 13;
}

int vm_enough_memory(struct kernel *k, uint64_t npages)
{
	int mode = k->sysctl.overcommit_memory;
	int ret = 0;

	probe_call(&k->probe, LAYER_KERNEL, "__vm_enough_memory", {"pages", npages});
	if (mode == OVERCOMMIT_GUESS) {
		if (npages > k->buddy.managed + swap_total_pages(k))
			ret = -SIM_ENOMEM;
	} else if (mode == OVERCOMMIT_NEVER) {
		/* vm_acct_memory(pages) first: the request counts in the comparison. */
		uint64_t committed = vm_committed_as(k) + npages;
		int64_t allowed = (int64_t)vm_commit_limit(k);

		/* cap_sys_admin: root keeps the admin reserve. */
		if (k->current) {
			uint64_t reserve = k->sysctl.user_reserve_kbytes >> (PAGE_SHIFT - 10);
			uint64_t share = task_mm(k->current)->total_vm / 32;

			allowed -= (int64_t)(share < reserve ? share : reserve);
		}
		if (!(allowed > 0 && committed < (uint64_t)allowed))
			ret = -SIM_ENOMEM;
	}
	if (ret)
		EV(&k->probe, LAYER_KERNEL, EV_NOTE, "__vm_enough_memory",
		   "not enough memory for the allocation",
		   {"pid", k->current ? (uint64_t)k->current->pid : 0},
		   {"bytes", npages << PAGE_SHIFT});
	probe_ret(&k->probe, LAYER_KERNEL, "__vm_enough_memory", {"ret", (uint64_t)(int64_t)ret});
	return ret;
}
