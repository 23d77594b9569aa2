/*
 * mmap.c - anonymous private mmap and munmap (mm/mmap.c, mm/vma.c, mm/util.c).
 *
 * mmap: __x64_sys_mmap -> do_mmap -> get_unmapped_area (top-down below
 * mmap_base: vm_unmapped_area with VM_UNMAPPED_AREA_TOPDOWN) -> mmap_region,
 * which merges the new range with an adjacent anonymous VMA of the same
 * flags (vma_merge_new_range) or inserts a new one. No frame and no PTE: the
 * first touch faults. munmap: __x64_sys_munmap -> __vm_munmap ->
 * do_vmi_munmap -> do_vmi_align_munmap, which splits the VMAs straddling an
 * edge (__split_vma), zaps the pages and frees the emptied page tables.
 *
 * Only MAP_ANONYMOUS|MAP_PRIVATE with fd -1 is modelled; anything else is
 * -EINVAL. When the top-down search finds no room Linux retries bottom-up
 * above TASK_UNMAPPED_BASE; the model answers -ENOMEM instead.
 */
#include "mmap.h"

#include "../vm/pagetable.h"
#include "../vm/panic.h"
#include "pgtable.h"
#include "syscall.h"
#include "syscalls.h"

bool may_expand_vm(struct kernel *k, struct task *t, unsigned long flags, uint64_t npages)
{
	struct mm_struct *mm = t->mm;
	uint64_t as = t->rlim[SIM_RLIMIT_AS].cur, data = t->rlim[SIM_RLIMIT_DATA].cur;
	bool ok = true;

	probe_call(&k->probe, LAYER_KERNEL, "may_expand_vm", {"npages", npages});
	if (as != SIM_RLIM_INFINITY && mm->total_vm + npages > as >> PAGE_SHIFT)
		ok = false;
	/* is_data_mapping: private writable, not stack. */
	if ((flags & (VM_WRITE | VM_SHARED | VM_STACK)) == VM_WRITE && data != SIM_RLIM_INFINITY &&
	    mm->data_vm + npages > data >> PAGE_SHIFT) {
		/* "Workaround for Valgrind": a soft limit of 0 lets the mapping
		   through up to the hard limit, with a warning in the kernel log
		   (pr_warn_once; ignore_rlimit_data is false by default). */
		uint64_t hard = t->rlim[SIM_RLIMIT_DATA].max;

		if (data == 0 && (hard == SIM_RLIM_INFINITY || mm->data_vm + npages <= hard >> PAGE_SHIFT))
			EV(&k->probe, LAYER_KERNEL, EV_NOTE, "may_expand_vm",
			   "VmData exceeds the data ulimit 0: allowed up to the hard limit",
			   {"data_vm", mm->data_vm}, {"npages", npages});
		else
			ok = false;
	}
	probe_ret(&k->probe, LAYER_KERNEL, "may_expand_vm", {"ret", ok});
	return ok;
}

void ev_vma(struct kernel *k, const char *fn, const char *what, const struct vm_area_struct *v)
{
	EV(&k->probe, LAYER_KERNEL, EV_VMA, fn, what, {"start", v->vm_start}, {"end", v->vm_end},
	   {"flags", v->vm_flags});
}

struct vm_area_struct *split_vma(struct kernel *k, struct mm_struct *mm,
                                 struct vm_area_struct *vma, vaddr_t addr)
{
	vaddr_t start = vma->vm_start, end = vma->vm_end;
	unsigned long flags = vma->vm_flags;
	uint64_t anon_vma = vma->anon_vma, pgoff = vma->vm_pgoff;
	int kind = vma->kind;
	struct vm_area_struct *hi;

	probe_call(&k->probe, LAYER_KERNEL, "__split_vma", {"start", start}, {"end", end},
	           {"addr", addr});
	vma_set_range(mm, vma, start, addr);
	ev_vma(k, "__split_vma", "split", vma);
	hi = vma_insert(mm, addr, end, flags, kind);
	hi->anon_vma = anon_vma;
	hi->vm_pgoff = pgoff + ((addr - start) >> PAGE_SHIFT);
	ev_vma(k, "__split_vma", "split", hi);
	probe_ret(&k->probe, LAYER_KERNEL, "__split_vma", {"ret", 0});
	return hi;
}

void do_vmi_align_munmap(struct kernel *k, struct task *t, vaddr_t start, vaddr_t end)
{
	struct mm_struct *mm = t->mm;
	struct vm_area_struct *vma;
	vaddr_t floor, ceiling;
	size_t i;

	if (start >= end || ((start | end) & ~PAGE_MASK) || end > TASK_SIZE)
		panic("bad range [%#llx, %#llx)", (unsigned long long)start,
		      (unsigned long long)end);
	probe_call(&k->probe, LAYER_KERNEL, "do_vmi_align_munmap", {"start", start}, {"end", end});
	vma = find_vma(mm, start);
	if (!vma || vma->vm_start >= end)
		goto out;
	/* update_hiwater_vm / update_hiwater_rss before the counters drop. */
	if (mm->total_vm > mm->hiwater_vm)
		mm->hiwater_vm = mm->total_vm;
	if (mm->rss_stat[MM_ANONPAGES] > mm->hiwater_rss)
		mm->hiwater_rss = mm->rss_stat[MM_ANONPAGES];

	/* vms_gather_munmap_vmas: make every VMA in the range lie wholly inside it. */
	if (vma->vm_start < start)
		split_vma(k, mm, vma, start);
	vma = find_vma(mm, end - 1);
	if (vma && vma->vm_start < end && vma->vm_end > end)
		split_vma(k, mm, vma, end);

	/* unmap_region: pages first (frames freed, TLB invalidated) ... */
	zap_page_range(k, mm, start, end);

	/* ... then the VMAs, so that their neighbours give free_pgtables its floor
	   and ceiling: tables wholly in the gap between them map nothing. */
	while ((vma = find_vma(mm, start)) && vma->vm_start < end) {
		ev_vma(k, "do_vmi_align_munmap", "remove", vma);
		vma_remove(mm, vma);
	}
	i = vma ? vma_index(mm, vma) : mm->nr_vmas;
	floor = i > 0 ? mm->vmas[i - 1].vm_end : 0;
	ceiling = vma ? vma->vm_start : TASK_SIZE;
	free_pgtables(k, mm, floor, ceiling);
out:
	probe_ret(&k->probe, LAYER_KERNEL, "do_vmi_align_munmap", {"ret", 0});
}

/*
 * do_vmi_munmap: start page aligned, the range inside user space, len
 * rounded up to pages and not 0. Unmapping nothing is success.
 */
int64_t do_vmi_munmap(struct kernel *k, struct task *t, vaddr_t start, uint64_t len)
{
	int64_t ret = 0;

	probe_call(&k->probe, LAYER_KERNEL, "do_vmi_munmap", {"start", start}, {"len", len});
	if ((start & ~PAGE_MASK) || start > TASK_SIZE || len > TASK_SIZE - start)
		ret = -SIM_EINVAL;
	else if ((len = PAGE_ALIGN(len)) == 0)
		ret = -SIM_EINVAL;
	else
		do_vmi_align_munmap(k, t, start, start + len);
	probe_ret(&k->probe, LAYER_KERNEL, "do_vmi_munmap", {"ret", (uint64_t)ret});
	return ret;
}

int64_t sys_munmap(struct kernel *k, vaddr_t addr, uint64_t len)
{
	struct task *t =
	    syscall_enter(k, SIM_NR_munmap, "__x64_sys_munmap", {"addr", addr}, {"len", len});
	int64_t ret;

	probe_call(&k->probe, LAYER_KERNEL, "__vm_munmap", {"start", addr}, {"len", len});
	ret = do_vmi_munmap(k, t, addr, len);
	probe_ret(&k->probe, LAYER_KERNEL, "__vm_munmap", {"ret", (uint64_t)ret});
	syscall_exit(k, "__x64_sys_munmap", ret);
	return ret;
}

/*
 * vm_unmapped_area, top-down: the highest range of len bytes in
 * [MMAP_MIN_ADDR, mmap_base) that fits between two VMAs, keeping the stack
 * guard gap below a VM_GROWSDOWN VMA (vm_start_gap). 0 when none.
 */
static vaddr_t unmapped_area_topdown(struct mm_struct *mm, uint64_t len)
{
	vaddr_t low = MMAP_MIN_ADDR, high = PAGE_ALIGN_DOWN(mm->mmap_base);

	for (size_t i = mm->nr_vmas + 1; i-- > 0;) {
		/* gap i lies between vmas[i - 1] and vmas[i] */
		vaddr_t gap_lo = i > 0 ? mm->vmas[i - 1].vm_end : 0;
		vaddr_t gap_hi = i < mm->nr_vmas ? vm_start_gap(&mm->vmas[i]) : TASK_SIZE;

		if (gap_lo >= high)
			continue;
		if (gap_hi > high)
			gap_hi = high;
		if (gap_lo < low)
			gap_lo = low;
		if (gap_hi <= low)
			break;
		if (gap_hi > gap_lo && gap_hi - gap_lo >= len)
			return gap_hi - len;
	}
	return 0;
}

/*
 * mm_get_unmapped_area (arch_get_unmapped_area_topdown): MAP_FIXED takes
 * addr as it is; a hint is used when the range is free (counting guard
 * gaps); else the top-down search. The address or -errno. No events of its
 * own: get_unmapped_area's call stands for it.
 */
static int64_t mm_get_unmapped_area(struct kernel *k, struct mm_struct *mm, vaddr_t addr,
                                    uint64_t len, int flags)
{
	int64_t ret;

	if (len > TASK_SIZE - MMAP_MIN_ADDR) {
		ret = -SIM_ENOMEM;
	} else if (flags & SIM_MAP_FIXED) {
		if (addr > TASK_SIZE - len)
			ret = -SIM_ENOMEM;
		else if (addr & ~PAGE_MASK)
			ret = -SIM_EINVAL;
		else
			ret = (int64_t)addr;
	} else {
		struct vm_area_struct *next;
		vaddr_t hint = PAGE_ALIGN(addr);

		ret = 0;
		if (addr && hint >= addr && hint >= MMAP_MIN_ADDR && hint <= TASK_SIZE - len) {
			/* every VMA before next ends at or below hint */
			next = find_vma(mm, hint);
			if (!next || hint + len <= vm_start_gap(next))
				ret = (int64_t)hint;
		}
		if (!ret)
			ret = (int64_t)unmapped_area_topdown(mm, len);
		if (!ret)
			ret = -SIM_ENOMEM;
	}
	return ret;
}

/*
 * __thp_get_unmapped_area with size PMD_SIZE and offset 0 (anonymous memory
 * has pgoff 0 here): search len + 2 MiB, then take the 2 MiB boundary inside
 * the padded range, the highest one when the range starts aligned (top-down).
 * 0 when the padded search fails (the caller retries without padding).
 */
static vaddr_t thp_get_unmapped_area(struct kernel *k, struct mm_struct *mm, vaddr_t addr,
                                     uint64_t len, int flags)
{
	uint64_t len_pad = len + PMD_SIZE;
	int64_t ret;
	vaddr_t off_sub;

	probe_call(&k->probe, LAYER_KERNEL, "thp_get_unmapped_area", {"addr", addr}, {"len", len});
	ret = len_pad < len ? -SIM_ENOMEM : mm_get_unmapped_area(k, mm, addr, len_pad, flags);
	if (ret < 0) {
		ret = 0;
	} else if ((vaddr_t)ret != addr) {
		off_sub = (0 - (vaddr_t)ret) & (PMD_SIZE - 1);
		ret += off_sub ? (int64_t)off_sub : (int64_t)PMD_SIZE;
	}
	probe_ret(&k->probe, LAYER_KERNEL, "thp_get_unmapped_area", {"ret", (uint64_t)ret});
	return (vaddr_t)ret;
}

int64_t get_unmapped_area(struct kernel *k, struct mm_struct *mm, vaddr_t addr, uint64_t len,
                          int flags)
{
	int64_t ret = 0;

	probe_call(&k->probe, LAYER_KERNEL, "get_unmapped_area", {"addr", addr}, {"len", len},
	           {"flags", (uint64_t)flags});
	/* Linux 6.7+ (CONFIG_TRANSPARENT_HUGEPAGE, whatever the THP mode): an
	   anonymous private mapping without a hint whose length is a multiple of
	   2 MiB is placed 2 MiB aligned, so that it can hold huge pages. */
	if (!addr && !(flags & SIM_MAP_FIXED) && len && !(len & (PMD_SIZE - 1)))
		ret = (int64_t)thp_get_unmapped_area(k, mm, addr, len, flags);
	if (!ret)
		ret = mm_get_unmapped_area(k, mm, addr, len, flags);
	probe_ret(&k->probe, LAYER_KERNEL, "get_unmapped_area", {"ret", (uint64_t)ret});
	return ret;
}

/* Pages of [start, end) that VMAs already cover (count_vma_pages_range). */
static uint64_t mapped_pages(struct mm_struct *mm, vaddr_t start, vaddr_t end)
{
	uint64_t n = 0;

	for (struct vm_area_struct *v = find_vma(mm, start);
	     v && v < mm->vmas + mm->nr_vmas && v->vm_start < end; v++) {
		vaddr_t s = v->vm_start > start ? v->vm_start : start;
		vaddr_t e = v->vm_end < end ? v->vm_end : end;

		n += (e - s) >> PAGE_SHIFT;
	}
	return n;
}

bool vma_mergeable(const struct vm_area_struct *v, unsigned long flags, int kind,
                   uint64_t anon_vma)
{
	return v->kind == kind && v->vm_flags == flags &&
	       (!v->anon_vma || !anon_vma || v->anon_vma == anon_vma);
}

bool vma_pgoff_follows(const struct vm_area_struct *prev, uint64_t pgoff)
{
	return prev->vm_pgoff + ((prev->vm_end - prev->vm_start) >> PAGE_SHIFT) == pgoff;
}

struct vm_area_struct *vma_merge_new_range(struct kernel *k, struct mm_struct *mm, vaddr_t addr,
                                           vaddr_t end, unsigned long vm_flags, int kind,
                                           uint64_t anon_vma, uint64_t pgoff)
{
	struct vm_area_struct *prev, *next;
	uint64_t pages = (end - addr) >> PAGE_SHIFT;
	size_t i;

	next = find_vma(mm, addr);
	i = next ? vma_index(mm, next) : mm->nr_vmas;
	prev = i > 0 ? &mm->vmas[i - 1] : NULL;
	if (prev && (prev->vm_end != addr || !vma_mergeable(prev, vm_flags, kind, anon_vma) ||
	             !vma_pgoff_follows(prev, pgoff)))
		prev = NULL;
	if (next && (next->vm_start != end || !vma_mergeable(next, vm_flags, kind, anon_vma) ||
	             next->vm_pgoff != pgoff + pages))
		next = NULL;
	/* all three must share one anon_vma (is_mergeable_anon_vma of prev and next) */
	if (prev && next && prev->anon_vma && next->anon_vma && prev->anon_vma != next->anon_vma)
		next = NULL;
	if (prev && next) {
		vaddr_t next_end = next->vm_end;
		uint64_t av = prev->anon_vma ? prev->anon_vma : next->anon_vma;

		ev_vma(k, "vma_merge_new_range", "remove", next);
		vma_remove(mm, next);
		prev = &mm->vmas[i - 1];
		vma_set_range(mm, prev, prev->vm_start, next_end);
		prev->anon_vma = av;
		ev_vma(k, "vma_merge_new_range", "expand", prev);
		return prev;
	}
	if (prev) {
		vma_set_range(mm, prev, prev->vm_start, end);
		ev_vma(k, "vma_merge_new_range", "expand", prev);
		return prev;
	}
	if (next) {
		vma_set_range(mm, next, addr, next->vm_end);
		ev_vma(k, "vma_merge_new_range", "expand", next);
		return next;
	}
	return NULL;
}

/*
 * mmap_region: check the limits (the pages MAP_FIXED replaces do not count
 * twice), unmap what is in the way, then extend a neighbour or insert a VMA.
 */
static int64_t mmap_region(struct kernel *k, struct task *t, vaddr_t addr, uint64_t len,
                           unsigned long vm_flags)
{
	struct mm_struct *mm = t->mm;
	vaddr_t end = addr + len;
	uint64_t npages = len >> PAGE_SHIFT;
	int64_t ret = (int64_t)addr;

	probe_call(&k->probe, LAYER_KERNEL, "mmap_region", {"addr", addr}, {"len", len},
	           {"vm_flags", vm_flags});
	if (!may_expand_vm(k, t, vm_flags, npages - mapped_pages(mm, addr, end))) {
		ret = -SIM_ENOMEM;
		goto out;
	}
	if ((vm_flags & VM_ACCOUNT) && vm_enough_memory(k, npages)) {
		ret = -SIM_ENOMEM;
		goto out;
	}
	if (mapped_pages(mm, addr, end))
		do_vmi_align_munmap(k, t, addr, end);
	if (!vma_merge_new_range(k, mm, addr, end, vm_flags, VMA_ANON, 0, addr >> PAGE_SHIFT))
		ev_vma(k, "mmap_region", "new", vma_insert(mm, addr, end, vm_flags, VMA_ANON));
out:
	probe_ret(&k->probe, LAYER_KERNEL, "mmap_region", {"ret", (uint64_t)ret});
	return ret;
}

unsigned long calc_vm_prot_bits(int prot)
{
	return (prot & SIM_PROT_READ ? VM_READ : 0) | (prot & SIM_PROT_WRITE ? VM_WRITE : 0) |
	       (prot & SIM_PROT_EXEC ? VM_EXEC : 0);
}

/* do_mmap's flags: the VM_MAY* bits, VM_NORESERVE for MAP_NORESERVE (with
   overcommit 0 or 1), VM_NOHUGEPAGE for MAP_STACK (calc_vm_flag_bits, as
   Linux does since 6.7: a thread's stack gets no huge pages), and
   VM_ACCOUNT for a private writable mapping that reserves
   (accountable_mapping). */
static unsigned long prot_to_vm_flags(const struct kernel *k, int prot, int flags)
{
	unsigned long f = calc_vm_prot_bits(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

	/* vm.overcommit_memory = 2 ignores MAP_NORESERVE: everything is charged */
	if ((flags & SIM_MAP_NORESERVE) && k->sysctl.overcommit_memory != OVERCOMMIT_NEVER)
		f |= VM_NORESERVE;
	if (flags & SIM_MAP_STACK)
		f |= VM_NOHUGEPAGE;
	if ((f & (VM_NORESERVE | VM_WRITE)) == VM_WRITE)
		f |= VM_ACCOUNT;
	return f;
}

static int64_t do_mmap(struct kernel *k, struct task *t, vaddr_t addr, uint64_t len, int prot,
                       int flags)
{
	int64_t ret;

	probe_call(&k->probe, LAYER_KERNEL, "do_mmap", {"addr", addr}, {"len", len},
	           {"prot", (uint64_t)prot}, {"flags", (uint64_t)flags});
	if (!len) {
		ret = -SIM_EINVAL;
	} else if (PAGE_ALIGN(len) == 0 || PAGE_ALIGN(len) < len) {
		ret = -SIM_ENOMEM; /* rounding up overflowed */
	} else {
		len = PAGE_ALIGN(len);
		ret = get_unmapped_area(k, t->mm, addr, len, flags);
		if (ret >= 0)
			ret = mmap_region(k, t, (vaddr_t)ret, len, prot_to_vm_flags(k, prot, flags));
	}
	probe_ret(&k->probe, LAYER_KERNEL, "do_mmap", {"ret", (uint64_t)ret});
	return ret;
}

int64_t sys_mmap(struct kernel *k, vaddr_t addr, uint64_t len, int prot, int flags, int fd,
                 uint64_t off)
{
	struct task *t =
	    syscall_enter(k, SIM_NR_mmap, "__x64_sys_mmap", {"addr", addr}, {"len", len},
	                  {"prot", (uint64_t)prot}, {"flags", (uint64_t)flags},
	                  {"fd", (uint64_t)(int64_t)fd}, {"off", off});
	const int known = SIM_MAP_PRIVATE | SIM_MAP_FIXED | SIM_MAP_ANONYMOUS | SIM_MAP_NORESERVE |
	                  SIM_MAP_STACK;
	const int needed = SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS;
	int64_t ret;

	if ((flags & needed) != needed || (flags & ~known) || fd != -1 || (off & ~PAGE_MASK) ||
	    (prot & ~(SIM_PROT_READ | SIM_PROT_WRITE | SIM_PROT_EXEC)))
		ret = -SIM_EINVAL;
	else
		ret = do_mmap(k, t, addr, len, prot, flags);
	syscall_exit(k, "__x64_sys_mmap", ret);
	return ret;
}
