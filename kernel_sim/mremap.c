/*
 * mremap.c - mremap(2) for anonymous private memory (mm/mremap.c, Linux
 * 6.16+ shape: struct vma_remap_struct).
 *
 * __x64_sys_mremap -> do_mremap: check_mremap_params, then the VMA at addr
 * (check_prep_vma: -EFAULT when there is none or the old range runs past
 * its end), then
 * - shrink: unmap the tail (shrink_vma -> do_vmi_munmap);
 * - grow: in place when [addr, addr + old_len) ends the VMA and the next
 *   range is free (vma_expandable; expand_vma_in_place, which merges with
 *   an equal next VMA: vma_merge_extend); else, with MREMAP_MAYMOVE, a new
 *   place (get_unmapped_area, 2 MiB aligned for a multiple of 2 MiB as for
 *   mmap) and move_vma: copy_vma makes (or merges) the VMA there,
 *   move_page_tables moves the PTEs (a whole page table at once when both
 *   sides are 2 MiB aligned: move_normal_pmd), then the old range is
 *   unmapped. No frame is copied and nothing faults: the pages keep their
 *   frames and contents at the new address.
 * - MREMAP_FIXED: mremap_to unmaps what is at new_addr first, then moves.
 * MREMAP_DONTUNMAP is not modelled (-EINVAL).
 */
#include "../vm/pagetable.h"
#include "../vm/panic.h"
#include "mmap.h"
#include "pgtable.h"
#include "syscall.h"
#include "syscalls.h"

#define K LAYER_KERNEL

struct vma_remap_struct {
	struct task *t;
	struct mm_struct *mm;
	vaddr_t addr, new_addr;
	uint64_t old_len, new_len;
	int flags;
};

/* move_ptes: [old, old + len) (inside one PT on each side) to new. */
static bool move_ptes(struct kernel *k, struct mm_struct *mm, vaddr_t old, vaddr_t new,
                      uint64_t len, bool *flush)
{
	pfn_t src = pgtable_lookup(k, mm, old), dst;

	if (src == PFN_NONE)
		return true;
	for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
		unsigned si = pt_index(old + off, 1), di;
		pte_t e = pt_get(&k->phys, src, si);

		if (pte_none(e))
			continue;
		dst = pgtable_alloc_walk(k, mm, new + off);
		if (dst == PFN_NONE)
			return false;
		di = pt_index(new + off, 1);
		if (!pte_none(pt_get(&k->phys, dst, di)))
			panic("move_ptes: %#llx is not empty", (unsigned long long)(new + off));
		pt_set(&k->phys, src, si, 0);
		EV(&k->probe, K, EV_PTE_CLEAR, "move_ptes", NULL, {"addr", old + off}, {"old", e});
		pt_set(&k->phys, dst, di, e); /* move_pte: the same entry, A and D kept */
		EV(&k->probe, K, EV_PTE_SET, "move_ptes", NULL, {"addr", new + off}, {"old", 0},
		   {"new", e}, {"level", 1});
		*flush = true;
	}
	return true;
}

/* move_normal_pmd: hand the whole page table of old (2 MiB aligned) to new
   (2 MiB aligned, its PD entry empty). false when it cannot be done so. */
static bool move_normal_pmd(struct kernel *k, struct mm_struct *mm, vaddr_t old, vaddr_t new,
                            bool *flush, bool *oom)
{
	pfn_t src = pmd_table_lookup(k, mm, old), dst;
	unsigned si = pt_index(old, 2), di = pt_index(new, 2);
	pte_t e;

	if (src == PFN_NONE)
		return true; /* nothing mapped below old */
	e = pt_get(&k->phys, src, si);
	if (pte_none(e))
		return true;
	dst = pmd_table_alloc(k, mm, new);
	if (dst == PFN_NONE) {
		*oom = true;
		return false;
	}
	if (!pte_none(pt_get(&k->phys, dst, di)))
		return false;
	probe_call(&k->probe, K, "move_normal_pmd", {"old", old}, {"new", new});
	pt_set(&k->phys, src, si, 0);
	EV(&k->probe, K, EV_PTE_CLEAR, "move_normal_pmd", NULL, {"addr", old}, {"level", 2},
	   {"old", e});
	pt_set(&k->phys, dst, di, e);
	EV(&k->probe, K, EV_PTE_SET, "move_normal_pmd", NULL, {"addr", new}, {"level", 2},
	   {"old", 0}, {"new", e});
	probe_ret(&k->probe, K, "move_normal_pmd", {"ret", 1});
	*flush = true;
	return true;
}

/*
 * move_page_tables: move the entries of [old, old + len) to [new, new + len),
 * extent by extent (up to the next 2 MiB boundary of either side). Returns
 * the bytes moved: less than len only when a page table could not be had.
 */
static uint64_t move_page_tables(struct kernel *k, struct mm_struct *mm, vaddr_t old, vaddr_t new,
                                 uint64_t len)
{
	uint64_t done = 0;
	bool flush = false;

	probe_call(&k->probe, K, "move_page_tables", {"old", old}, {"new", new}, {"len", len});
	while (done < len) {
		vaddr_t o = old + done, n = new + done;
		uint64_t extent = PMD_SIZE - (o & (PMD_SIZE - 1));
		bool oom = false;

		if (extent > PMD_SIZE - (n & (PMD_SIZE - 1)))
			extent = PMD_SIZE - (n & (PMD_SIZE - 1));
		if (extent > len - done)
			extent = len - done;
		if (!(extent == PMD_SIZE && move_normal_pmd(k, mm, o, n, &flush, &oom))) {
			if (oom || !move_ptes(k, mm, o, n, extent, &flush))
				break;
		}
		done += extent;
	}
	if (flush)
		flush_tlb_mm_range(k, mm, old, old + done);
	probe_ret(&k->probe, K, "move_page_tables", {"ret", done});
	return done;
}

/*
 * move_vma: copy_vma at new_addr (merging with an equal neighbour there),
 * move the page tables, unmap the source. On a failed move the entries go
 * back and the new range is unmapped instead (-ENOMEM).
 */
static int64_t move_vma(struct kernel *k, struct vma_remap_struct *vrm)
{
	struct mm_struct *mm = vrm->mm;
	struct vm_area_struct *vma = vma_lookup(mm, vrm->addr), *new_vma;
	unsigned long flags = vma->vm_flags;
	uint64_t anon_vma = vma->anon_vma, moved;
	/* the pages keep their offsets; a VMA never faulted takes the new
	   address's, so that it can merge there (copy_vma) */
	uint64_t pgoff = anon_vma ? vma->vm_pgoff + ((vrm->addr - vma->vm_start) >> PAGE_SHIFT)
	                          : vrm->new_addr >> PAGE_SHIFT;
	vaddr_t hiwater_vm;
	int kind = vma->kind == VMA_HEAP || vma->kind == VMA_STACK ? VMA_ANON : vma->kind;
	int64_t ret = (int64_t)vrm->new_addr;

	probe_call(&k->probe, K, "move_vma", {"old", vrm->addr}, {"new", vrm->new_addr},
	           {"len", vrm->new_len});
	if ((flags & VM_ACCOUNT) && vm_enough_memory(k, vrm->new_len >> PAGE_SHIFT)) {
		ret = -SIM_ENOMEM; /* vrm_charge */
		goto out;
	}
	probe_call(&k->probe, K, "copy_vma", {"addr", vrm->new_addr}, {"len", vrm->new_len});
	new_vma = vma_merge_new_range(k, mm, vrm->new_addr, vrm->new_addr + vrm->new_len, flags,
	                              kind, anon_vma, pgoff);
	if (!new_vma) {
		new_vma = vma_insert(mm, vrm->new_addr, vrm->new_addr + vrm->new_len, flags, kind);
		new_vma->anon_vma = anon_vma;
		new_vma->vm_pgoff = pgoff;
		ev_vma(k, "copy_vma", "new", new_vma);
	} else if (!new_vma->anon_vma) {
		new_vma->anon_vma = anon_vma;
	}
	probe_ret(&k->probe, K, "copy_vma", {"ret", new_vma->vm_start});
	moved = move_page_tables(k, mm, vrm->addr, vrm->new_addr, vrm->old_len);
	hiwater_vm = mm->hiwater_vm;
	if (moved < vrm->old_len) {
		/* "On error, move entries back from new area to old, which will
		   succeed since page tables still there". */
		move_page_tables(k, mm, vrm->new_addr, vrm->addr, moved);
		do_vmi_align_munmap(k, vrm->t, vrm->new_addr, vrm->new_addr + vrm->new_len);
		ret = -SIM_ENOMEM;
	} else {
		/* unmap_source_vma */
		do_vmi_align_munmap(k, vrm->t, vrm->addr, vrm->addr + vrm->old_len);
	}
	mm->hiwater_vm = hiwater_vm;
out:
	probe_ret(&k->probe, K, "move_vma", {"ret", (uint64_t)ret});
	return ret;
}

/* vma_expandable: [vm_end, vm_end + delta) is free and inside user space. */
static bool vma_expandable(struct mm_struct *mm, const struct vm_area_struct *vma, uint64_t delta)
{
	vaddr_t end = vma->vm_end + delta;
	struct vm_area_struct *next;

	if (end < vma->vm_end || end > TASK_SIZE)
		return false;
	next = find_vma(mm, vma->vm_end);
	return !next || next->vm_start >= end;
}

/* expand_vma_in_place (vma_merge_extend): grow vma by delta, merging with
   the next VMA when it starts at the new end and is mergeable. */
static int64_t expand_vma_in_place(struct kernel *k, struct vma_remap_struct *vrm,
                                   struct vm_area_struct *vma, uint64_t delta)
{
	vaddr_t start = vma->vm_start, old_end = vma->vm_end;
	unsigned long flags = vma->vm_flags;
	uint64_t anon_vma = vma->anon_vma;
	int kind = vma->kind;
	struct mm_struct *mm = vrm->mm;

	probe_call(&k->probe, K, "expand_vma_in_place", {"start", start}, {"delta", delta});
	if ((flags & VM_ACCOUNT) && vm_enough_memory(k, delta >> PAGE_SHIFT)) {
		probe_ret(&k->probe, K, "expand_vma_in_place", {"ret", (uint64_t)-SIM_ENOMEM});
		return -SIM_ENOMEM;
	}
	if (!vma_merge_new_range(k, mm, old_end, old_end + delta, flags, kind, anon_vma,
	                         vma->vm_pgoff + ((old_end - start) >> PAGE_SHIFT)))
		panic("expand_vma_in_place: no VMA ends at %#llx", (unsigned long long)old_end);
	probe_ret(&k->probe, K, "expand_vma_in_place", {"ret", 0});
	return 0;
}

/* check_mremap_params: the argument checks made before any VMA is looked at. */
static int64_t check_mremap_params(struct vma_remap_struct *vrm)
{
	bool implies_new_addr = vrm->flags & SIM_MREMAP_FIXED;

	if (vrm->flags & ~(SIM_MREMAP_FIXED | SIM_MREMAP_MAYMOVE | SIM_MREMAP_DONTUNMAP))
		return -SIM_EINVAL;
	if (vrm->flags & SIM_MREMAP_DONTUNMAP)
		return -SIM_EINVAL; /* not modelled */
	if (vrm->addr & ~PAGE_MASK)
		return -SIM_EINVAL;
	if (!vrm->new_len || vrm->new_len > TASK_SIZE)
		return -SIM_EINVAL;
	if (!implies_new_addr)
		return 0;
	if (vrm->new_addr > TASK_SIZE - vrm->new_len || (vrm->new_addr & ~PAGE_MASK))
		return -SIM_EINVAL;
	if (!(vrm->flags & SIM_MREMAP_MAYMOVE))
		return -SIM_EINVAL;
	/* the target may not overlap the source */
	if (vrm->new_addr < vrm->addr + vrm->old_len && vrm->addr < vrm->new_addr + vrm->new_len)
		return -SIM_EINVAL;
	return 0;
}

static int64_t do_mremap(struct kernel *k, struct vma_remap_struct *vrm)
{
	struct mm_struct *mm = vrm->mm;
	struct vm_area_struct *vma;
	uint64_t old_len, delta;
	int64_t ret;

	probe_call(&k->probe, K, "do_mremap", {"addr", vrm->addr}, {"old_len", vrm->old_len},
	           {"new_len", vrm->new_len}, {"flags", (uint64_t)vrm->flags},
	           {"new_addr", vrm->new_addr});
	/* PAGE_ALIGN of a length near 2^64 wraps to 0: then "new_len silly" */
	vrm->old_len = PAGE_ALIGN(vrm->old_len);
	vrm->new_len = PAGE_ALIGN(vrm->new_len);
	ret = check_mremap_params(vrm);
	if (ret)
		goto out;

	/* check_prep_vma */
	vma = vma_lookup(mm, vrm->addr);
	if (!vma) {
		ret = -SIM_EFAULT;
		goto out;
	}
	if (!(vrm->flags & SIM_MREMAP_FIXED) && vrm->new_len <= vrm->old_len) {
		/* no resize, or a shrink (mremap_at): nothing more is checked, and
		   the range unmapped may cross VMAs and holes */
		ret = (int64_t)vrm->addr;
		if (vrm->new_len < vrm->old_len) {
			probe_call(&k->probe, K, "shrink_vma", {"addr", vrm->addr + vrm->new_len});
			delta = do_vmi_munmap(k, vrm->t, vrm->addr + vrm->new_len,
			                      vrm->old_len - vrm->new_len);
			probe_ret(&k->probe, K, "shrink_vma", {"ret", delta});
			if (delta)
				ret = (int64_t)delta;
		}
		goto out;
	}
	if (!vrm->old_len) {
		ret = -SIM_EINVAL; /* "attempted to duplicate a private mapping" */
		goto out;
	}
	old_len = vrm->old_len;
	if (old_len > vma->vm_end - vrm->addr) {
		ret = -SIM_EFAULT;
		goto out;
	}
	if (vrm->new_len > old_len &&
	    !may_expand_vm(k, vrm->t, vma->vm_flags, (vrm->new_len - old_len) >> PAGE_SHIFT)) {
		ret = -SIM_ENOMEM;
		goto out;
	}

	if (vrm->flags & SIM_MREMAP_FIXED) {
		/* mremap_to: clear the target, shrink the source, then move */
		probe_call(&k->probe, K, "mremap_to", {"new_addr", vrm->new_addr});
		do_vmi_align_munmap(k, vrm->t, vrm->new_addr, vrm->new_addr + vrm->new_len);
		if (old_len > vrm->new_len) {
			do_vmi_align_munmap(k, vrm->t, vrm->addr + vrm->new_len, vrm->addr + old_len);
			vrm->old_len = vrm->new_len;
		}
		ret = move_vma(k, vrm);
		probe_ret(&k->probe, K, "mremap_to", {"ret", (uint64_t)ret});
		goto out;
	}

	/* expand_vma */
	delta = vrm->new_len - old_len;
	if (vrm->addr + old_len == vma->vm_end && vma_expandable(mm, vma, delta)) {
		ret = expand_vma_in_place(k, vrm, vma, delta);
		if (!ret)
			ret = (int64_t)vrm->addr;
		goto out;
	}
	if (!(vrm->flags & SIM_MREMAP_MAYMOVE)) {
		ret = -SIM_ENOMEM;
		goto out;
	}
	ret = get_unmapped_area(k, mm, 0, vrm->new_len, 0); /* vrm_set_new_addr */
	if (ret < 0)
		goto out;
	vrm->new_addr = (vaddr_t)ret;
	ret = move_vma(k, vrm);
out:
	probe_ret(&k->probe, K, "do_mremap", {"ret", (uint64_t)ret});
	return ret;
}

int64_t sys_mremap(struct kernel *k, vaddr_t addr, uint64_t old_len, uint64_t new_len, int flags,
                   vaddr_t new_addr)
{
	struct task *t = syscall_enter(k, SIM_NR_mremap, "__x64_sys_mremap", {"addr", addr},
	                               {"old_len", old_len}, {"new_len", new_len},
	                               {"flags", (uint64_t)flags}, {"new_addr", new_addr});
	struct vma_remap_struct vrm = {.t = t,
	                               .mm = t->mm,
	                               .addr = addr,
	                               .new_addr = new_addr,
	                               .old_len = old_len,
	                               .new_len = new_len,
	                               .flags = flags};
	int64_t ret = do_mremap(k, &vrm);

	syscall_exit(k, "__x64_sys_mremap", ret);
	return ret;
}
