/*
 * brk.c - the brk system call (mm/mmap.c SYSCALL_DEFINE1(brk), do_brk_flags
 * in mm/vma.c), step by step as LINUX-PATH.md describes it:
 * below start_brk -> refuse; check_data_rlimit; same page -> just store the
 * (unaligned) break; shrink -> do_vmi_align_munmap of the freed pages; grow ->
 * check_brk_limits, then do_brk_flags, which only extends or creates the heap
 * VMA: no frame and no PTE, the first touch of each page faults.
 * The call never fails with -ENOMEM: a refusal returns the old break.
 */
#include "../vm/pagetable.h"
#include "mmap.h"
#include "syscall.h"
#include "syscalls.h"

/* VM_DATA_DEFAULT_FLAGS of the heap (without VM_MAYEXEC) plus VM_ACCOUNT. */
#define BRK_VM_FLAGS (VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT)

/* check_data_rlimit (include/linux/mm.h): the heap plus the initialised data
   must stay within RLIMIT_DATA. 0 or -ENOSPC. */
static int check_data_rlimit(struct kernel *k, struct task *t, vaddr_t brk)
{
	struct mm_struct *mm = t->mm;
	uint64_t rlim = t->rlim[SIM_RLIMIT_DATA].cur;
	int ret = 0;

	probe_call(&k->probe, LAYER_KERNEL, "check_data_rlimit", {"rlim", rlim}, {"new", brk},
	           {"start", mm->start_brk});
	if (rlim != SIM_RLIM_INFINITY &&
	    (brk - mm->start_brk) + (mm->end_data - mm->start_data) > rlim)
		ret = -28; /* -ENOSPC */
	probe_ret(&k->probe, LAYER_KERNEL, "check_data_rlimit", {"ret", (uint64_t)(int64_t)ret});
	return ret;
}

/*
 * check_brk_limits: [addr, addr + len) must lie in user space
 * (get_unmapped_area with MAP_FIXED), and the next VMA must start at least a
 * page above the new end, counting the stack guard gap below a stack
 * (vm_start_gap). Linux 6.x tests the second condition in brk() itself, right
 * after check_brk_limits; it is folded in here. 0 or -ENOMEM.
 */
static int check_brk_limits(struct kernel *k, struct task *t, vaddr_t addr, uint64_t len)
{
	struct vm_area_struct *next;
	int ret = 0;

	probe_call(&k->probe, LAYER_KERNEL, "check_brk_limits", {"addr", addr}, {"len", len});
	if (len > TASK_SIZE || addr > TASK_SIZE - len) {
		ret = -SIM_ENOMEM;
	} else {
		next = find_vma(t->mm, addr);
		if (next && addr + len + PAGE_SIZE > vm_start_gap(next))
			ret = -SIM_ENOMEM;
	}
	probe_ret(&k->probe, LAYER_KERNEL, "check_brk_limits", {"ret", (uint64_t)(int64_t)ret});
	return ret;
}

/*
 * do_brk_flags: account len bytes at addr (page aligned) to the heap: extend
 * the heap VMA when it ends at addr, else insert a new one. total_vm and
 * data_vm grow through the VMA accounting. 0 or -ENOMEM (limits).
 */
static int do_brk_flags(struct kernel *k, struct task *t, vaddr_t addr, uint64_t len)
{
	struct mm_struct *mm = t->mm;
	struct vm_area_struct *vma, *next;
	uint64_t npages = len >> PAGE_SHIFT;
	int ret = 0;

	probe_call(&k->probe, LAYER_KERNEL, "do_brk_flags", {"addr", addr}, {"len", len});
	if (!may_expand_vm(k, t, BRK_VM_FLAGS, npages) || vm_enough_memory(k, npages)) {
		ret = -SIM_ENOMEM;
		goto out;
	}
	next = find_vma(mm, addr);
	vma = next ? vma_prev(mm, next) : (mm->nr_vmas ? &mm->vmas[mm->nr_vmas - 1] : NULL);
	if (vma && vma->vm_end == addr && vma->kind == VMA_HEAP && vma->vm_flags == BRK_VM_FLAGS) {
		vma_set_range(mm, vma, vma->vm_start, addr + len);
		EV(&k->probe, LAYER_KERNEL, EV_VMA, "vma_merge_new_range", "expand",
		   {"start", vma->vm_start}, {"end", vma->vm_end}, {"flags", vma->vm_flags});
	} else {
		vma = vma_insert(mm, addr, addr + len, BRK_VM_FLAGS, VMA_HEAP);
		EV(&k->probe, LAYER_KERNEL, EV_VMA, "do_brk_flags", "new", {"start", vma->vm_start},
		   {"end", vma->vm_end}, {"flags", vma->vm_flags});
	}
out:
	probe_ret(&k->probe, LAYER_KERNEL, "do_brk_flags", {"ret", (uint64_t)(int64_t)ret});
	return ret;
}

static void set_brk(struct kernel *k, struct mm_struct *mm, vaddr_t brk)
{
	if (mm->brk == brk)
		return;
	EV(&k->probe, LAYER_KERNEL, EV_BRK, "__x64_sys_brk", NULL, {"old", mm->brk}, {"new", brk});
	mm->brk = brk;
}

uint64_t sys_brk(struct kernel *k, uint64_t brk)
{
	struct task *t = syscall_enter(k, SIM_NR_brk, "__x64_sys_brk", {"brk", brk});
	struct mm_struct *mm = t->mm;
	vaddr_t origbrk = mm->brk, newbrk, oldbrk;
	struct vm_area_struct *vma;

	if (brk < mm->start_brk)
		goto out;
	if (check_data_rlimit(k, t, brk))
		goto out;
	newbrk = PAGE_ALIGN(brk);
	oldbrk = PAGE_ALIGN(mm->brk);
	if (oldbrk == newbrk) {
		set_brk(k, mm, brk);
		goto success;
	}
	if (brk <= mm->brk) {
		/* Always allow shrinking, provided something is mapped there. */
		vma = find_vma(mm, newbrk);
		if (!vma || vma->vm_start >= oldbrk)
			goto out;
		set_brk(k, mm, brk);
		do_vmi_align_munmap(k, t, newbrk, oldbrk);
		goto success;
	}
	if (check_brk_limits(k, t, oldbrk, newbrk - oldbrk))
		goto out;
	if (do_brk_flags(k, t, oldbrk, newbrk - oldbrk))
		goto out;
	set_brk(k, mm, brk);
success:
	syscall_exit(k, "__x64_sys_brk", (int64_t)mm->brk);
	return mm->brk;
out:
	set_brk(k, mm, origbrk);
	syscall_exit(k, "__x64_sys_brk", (int64_t)origbrk);
	return origbrk;
}
