/*
 * mprotect.c - mprotect(2) (mm/mprotect.c, mm/vma.c).
 *
 * __x64_sys_mprotect -> do_mprotect_pkey walks the VMAs of the range (a hole
 * is -ENOMEM, after the parts before it were changed, as in Linux);
 * mprotect_fixup gives each part its new flags: it charges the commit when
 * a private mapping becomes writable (VM_ACCOUNT), then vma_modify_flags
 * merges the part with an equal neighbour (vma_merge_existing_range) or
 * splits it off (__split_vma); change_protection -> change_pte_range
 * rewrites each PTE with pte_modify (the frame, Accessed and Dirty stay),
 * making exclusive anonymous pages of a private writable VMA writable at
 * once (MM_CP_TRY_CHANGE_WRITABLE: no write fault follows), and the TLB is
 * flushed over what changed. PROT_NONE keeps the frames: the PTEs become
 * _PAGE_PROTNONE (pgtable.h) and any access faults with SEGV_ACCERR.
 */
#include "../vm/pagetable.h"
#include "mmap.h"
#include "pgtable.h"
#include "swap.h"
#include "syscall.h"
#include "syscalls.h"

#define K LAYER_KERNEL

#define SIM_EACCES 13
#define SIM_PROT_SEM 0x8 /* accepted and ignored on x86 (arch_validate_prot) */

/* vm_get_page_prot of a private mapping (protection_map): never writable,
   since a private page is copy-on-write until the write fault or the
   upgrade below; PROT_NONE is _PAGE_PROTNONE without present or user. */
static pte_t vm_get_page_prot(unsigned long vm_flags)
{
	pte_t prot;

	if (!(vm_flags & VM_ACCESS_FLAGS))
		return PTE_PROTNONE;
	prot = PTE_P | PTE_US;
	if (!(vm_flags & VM_EXEC))
		prot |= PTE_NX;
	return prot;
}

/* pte_modify: keep the frame, Accessed, Dirty and special; take the rest from prot. */
static pte_t pte_modify(pte_t e, pte_t prot)
{
	const pte_t keep = PTE_PFN_MASK | PTE_A | PTE_D | PTE_SPECIAL | PTE_PWT | PTE_PCD;

	return (e & keep) | prot;
}

struct change_prot {
	struct mm_struct *mm;
	unsigned long vm_flags;
	pte_t prot;
	bool try_writable;
	uint64_t pages;
	vaddr_t lo, hi; /* the range whose entries changed, for the flush */
};

/* can_change_pte_writable for a private mapping: an exclusive anonymous page
   (PageAnonExclusive: one reference) that is not PROT_NONE. */
static bool can_change_pte_writable(struct kernel *k, const struct change_prot *cp, pte_t e)
{
	pfn_t pfn = pte_pfn(e);
	const struct frame *f;

	if (!(cp->vm_flags & VM_WRITE) || pte_protnone(e) || pfn == k->zero_pfn)
		return false;
	f = phys_frame(&k->phys, pfn);
	return f->kind == FK_ANON && frame_refcount(f) == 1;
}

static void change_pte_entry(struct kernel *k, void *ctx, pfn_t pt, unsigned idx, vaddr_t va,
                             pte_t old)
{
	struct change_prot *cp = ctx;
	pte_t e;

	if (is_swap_pte(old))
		return; /* a swap entry carries no protection: do_swap_page uses the VMA's */
	e = pte_modify(old, cp->prot);

	if (cp->try_writable && !(e & PTE_RW) && can_change_pte_writable(k, cp, e))
		e |= PTE_RW; /* pte_mkwrite */
	if (e == old)
		return;
	pt_set(&k->phys, pt, idx, e);
	EV(&k->probe, K, EV_PTE_SET, "change_pte_range", NULL, {"addr", va}, {"old", old},
	   {"new", e}, {"level", 1});
	if (!cp->pages++)
		cp->lo = va;
	cp->hi = va + PAGE_SIZE;
}

/* change_protection: rewrite the PTEs of [start, end) for the VMA's new
   flags, flush the TLB over the entries that changed; the number changed. */
static uint64_t change_protection(struct kernel *k, struct mm_struct *mm, unsigned long vm_flags,
                                  vaddr_t start, vaddr_t end)
{
	/* vma_wants_manual_pte_write_upgrade: private and writable */
	struct change_prot cp = {.mm = mm,
	                         .vm_flags = vm_flags,
	                         .prot = vm_get_page_prot(vm_flags),
	                         .try_writable = (vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE};

	probe_call(&k->probe, K, "change_protection", {"start", start}, {"end", end},
	           {"prot", cp.prot});
	walk_page_range(k, mm, start, end, change_pte_entry, &cp);
	if (cp.pages)
		flush_tlb_mm_range(k, mm, cp.lo, cp.hi);
	probe_ret(&k->probe, K, "change_protection", {"ret", cp.pages});
	return cp.pages;
}

/*
 * vma_modify_flags: make [start, end) of vma (inside it) one VMA with
 * newflags, merging with prev when start is vma's start and prev ends
 * there with newflags (the same for next at end), else splitting vma at the
 * edges. Accounting follows the pages (vm_stat_account). Returns the VMA
 * that holds the range now.
 */
static struct vm_area_struct *vma_modify_flags(struct kernel *k, struct mm_struct *mm,
                                               struct vm_area_struct *vma, vaddr_t start,
                                               vaddr_t end, unsigned long newflags)
{
	size_t i = vma_index(mm, vma);
	struct vm_area_struct *prev = i > 0 ? &mm->vmas[i - 1] : NULL;
	struct vm_area_struct *next = i + 1 < mm->nr_vmas ? &mm->vmas[i + 1] : NULL;
	uint64_t av = vma->anon_vma;
	uint64_t pgoff = vma->vm_pgoff + ((start - vma->vm_start) >> PAGE_SHIFT);
	int kind = vma->kind;
	bool left, right;

	left = start == vma->vm_start && prev && prev->vm_end == start &&
	       vma_mergeable(prev, newflags, kind, av) && vma_pgoff_follows(prev, pgoff);
	right = end == vma->vm_end && next && next->vm_start == end &&
	        vma_mergeable(next, newflags, kind, av) &&
	        next->vm_pgoff == pgoff + ((end - start) >> PAGE_SHIFT);
	if (left && right && prev->anon_vma && next->anon_vma && prev->anon_vma != next->anon_vma)
		right = false;

	if (left) {
		vaddr_t new_end = right ? next->vm_end : end;

		if (!av)
			av = right && next->anon_vma ? next->anon_vma : prev->anon_vma;
		if (right) {
			ev_vma(k, "vma_merge_existing_range", "remove", next);
			vma_remove(mm, next);
		}
		if (end == vma->vm_end) {
			ev_vma(k, "vma_merge_existing_range", "remove", vma);
			vma_remove(mm, vma);
		} else {
			vma_set_range(mm, vma, end, vma->vm_end);
		}
		prev = &mm->vmas[i - 1];
		vma_set_range(mm, prev, prev->vm_start, new_end);
		prev->anon_vma = av ? av : prev->anon_vma;
		ev_vma(k, "vma_merge_existing_range", "expand", prev);
		return prev;
	}
	if (right) {
		if (!av)
			av = next->anon_vma;
		if (start == vma->vm_start) {
			ev_vma(k, "vma_merge_existing_range", "remove", vma);
			vma_remove(mm, vma);
			next = &mm->vmas[i];
		} else {
			vma_set_range(mm, vma, vma->vm_start, start);
		}
		vma_set_range(mm, next, start, next->vm_end);
		next->anon_vma = av;
		ev_vma(k, "vma_merge_existing_range", "expand", next);
		return next;
	}
	if (start > vma->vm_start) {
		split_vma(k, mm, vma, start);
		vma = &mm->vmas[i + 1];
	}
	if (end < vma->vm_end)
		split_vma(k, mm, vma, end);
	vma = vma_lookup(mm, start);
	vm_stat_account(mm, vma->vm_flags, -(int64_t)((end - start) >> PAGE_SHIFT));
	vma->vm_flags = newflags;
	vm_stat_account(mm, newflags, (int64_t)((end - start) >> PAGE_SHIFT));
	ev_vma(k, "vma_modify_flags", "flags", vma);
	return vma;
}

/* mprotect_fixup: [start, end) lies in vma; 0 or -ENOMEM (commit refused). */
static int64_t mprotect_fixup(struct kernel *k, struct task *t, struct vm_area_struct *vma,
                              vaddr_t start, vaddr_t end, unsigned long newflags)
{
	struct mm_struct *mm = t->mm;
	unsigned long oldflags = vma->vm_flags;
	uint64_t nrpages = (end - start) >> PAGE_SHIFT;
	int64_t ret = 0;

	probe_call(&k->probe, K, "mprotect_fixup", {"start", start}, {"end", end},
	           {"newflags", newflags});
	if (newflags == oldflags)
		goto out;
	if (newflags & VM_WRITE) {
		/* Check space limits when the area turns into data. */
		if (!may_expand_vm(k, t, newflags, nrpages) && may_expand_vm(k, t, oldflags, nrpages)) {
			ret = -SIM_ENOMEM;
			goto out;
		}
		if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE))) {
			if (vm_enough_memory(k, nrpages)) {
				ret = -SIM_ENOMEM;
				goto out;
			}
			newflags |= VM_ACCOUNT;
		}
	} else if ((oldflags & VM_ACCOUNT) && !vma->anon_vma) {
		/* never written: read-only now, it needs no commit any more */
		newflags &= ~VM_ACCOUNT;
	}
	vma = vma_modify_flags(k, mm, vma, start, end, newflags);
	change_protection(k, mm, newflags, start, end);
out:
	probe_ret(&k->probe, K, "mprotect_fixup", {"ret", (uint64_t)ret});
	return ret;
}

static int64_t do_mprotect_pkey(struct kernel *k, struct task *t, vaddr_t start, uint64_t len,
                                int prot)
{
	struct mm_struct *mm = t->mm;
	struct vm_area_struct *vma;
	vaddr_t end, tmp;
	int64_t ret = 0;

	probe_call(&k->probe, K, "do_mprotect_pkey", {"start", start}, {"len", len},
	           {"prot", (uint64_t)prot});
	if (start & ~PAGE_MASK) {
		ret = -SIM_EINVAL;
		goto out;
	}
	if (!len)
		goto out;
	len = PAGE_ALIGN(len);
	end = start + len;
	if (end <= start) {
		ret = -SIM_ENOMEM;
		goto out;
	}
	if (prot & ~(SIM_PROT_READ | SIM_PROT_WRITE | SIM_PROT_EXEC | SIM_PROT_SEM)) {
		ret = -SIM_EINVAL;
		goto out;
	}
	vma = find_vma(mm, start);
	if (!vma || vma->vm_start >= end || vma->vm_start > start) {
		ret = -SIM_ENOMEM;
		goto out;
	}
	for (tmp = start; tmp < end;) {
		unsigned long newflags;
		vaddr_t part_end;

		vma = find_vma(mm, tmp);
		if (!vma || vma->vm_start > tmp) {
			ret = -SIM_ENOMEM; /* a hole: what came before it stays changed */
			break;
		}
		newflags = calc_vm_prot_bits(prot) | (vma->vm_flags & ~VM_ACCESS_FLAGS);
		/* newflags >> 4 puts VM_MAY* in place of VM_* */
		if ((newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS) {
			ret = -SIM_EACCES;
			break;
		}
		part_end = vma->vm_end < end ? vma->vm_end : end;
		ret = mprotect_fixup(k, t, vma, tmp, part_end, newflags);
		if (ret)
			break;
		tmp = part_end;
	}
out:
	probe_ret(&k->probe, K, "do_mprotect_pkey", {"ret", (uint64_t)ret});
	return ret;
}

int64_t sys_mprotect(struct kernel *k, vaddr_t start, uint64_t len, int prot)
{
	struct task *t = syscall_enter(k, SIM_NR_mprotect, "__x64_sys_mprotect", {"start", start},
	                               {"len", len}, {"prot", (uint64_t)prot});
	int64_t ret = do_mprotect_pkey(k, t, start, len, prot);

	syscall_exit(k, "__x64_sys_mprotect", ret);
	return ret;
}
