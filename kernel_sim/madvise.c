/*
 * madvise.c - madvise(2) for anonymous private memory (mm/madvise.c).
 *
 * __x64_sys_madvise -> do_madvise -> madvise_walk_vmas visits each VMA part
 * of the range (holes are skipped and make the result -ENOMEM, after the
 * mapped parts were handled, as in Linux):
 * - MADV_DONTNEED: madvise_dontneed_free -> zap_page_range_single: the
 *   pages go (frames freed, TLB flushed), the page tables and the VMA stay;
 *   the next touch faults a zeroed page.
 * - MADV_FREE: madvise_free_single_vma -> madvise_free_pte_range: each
 *   exclusive anonymous page is marked lazily free (folio_mark_lazyfree):
 *   its PTE made old and clean, the TLB flushed. The page stays mapped and
 *   counted in RSS, and the folio loses PG_swapbacked. Under memory
 *   pressure reclaim drops it while its PTE stays clean (vmscan.c); a later
 *   write dirties the PTE again, which takes the page back from the
 *   lazy-free state. See madvise.h.
 * - MADV_NORMAL, MADV_RANDOM... : MADV_NORMAL and MADV_WILLNEED change
 *   nothing for anonymous memory without swap; the other behaviours are not
 *   modelled and are -EINVAL (documented in docs/kernel.md).
 */
#include "madvise.h"

#include "../vm/pagetable.h"
#include "mmap.h"
#include "pgtable.h"
#include "syscall.h"
#include "syscalls.h"

#define K LAYER_KERNEL

bool pte_lazyfree(struct kernel *k, pte_t e)
{
	pfn_t pfn = pte_pfn(e);

	return pte_present(e) && !(e & PTE_D) && pfn != k->zero_pfn &&
	       phys_frame(&k->phys, pfn)->kind == FK_ANON &&
	       !(pfn_folio(&k->lruvec, pfn)->flags & PG_swapbacked);
}

struct free_walk {
	uint64_t pages;
	vaddr_t lo, hi;
};

/* madvise_free_pte_range, one entry: the zero page and shared pages are
   left alone (vm_normal_page NULL; folio_maybe_mapped_shared). */
static void madvise_free_pte(struct kernel *k, void *ctx, pfn_t pt, unsigned idx, vaddr_t va,
                             pte_t e)
{
	struct free_walk *w = ctx;
	pfn_t pfn = pte_pfn(e);
	pte_t n;

	if (!pte_present(e) || pfn == k->zero_pfn || frame_refcount(phys_frame(&k->phys, pfn)) != 1)
		return;
	probe_call(&k->probe, K, "folio_mark_lazyfree", {"pfn", pfn});
	folio_mark_lazyfree(&k->lruvec, pfn);
	n = e & ~(PTE_A | PTE_D); /* pte_mkold(pte_mkclean(ptent)) */
	if (n != e) {
		pt_set(&k->phys, pt, idx, n);
		EV(&k->probe, K, EV_PTE_SET, "madvise_free_pte_range", NULL, {"addr", va},
		   {"old", e}, {"new", n}, {"level", 1});
		if (!w->pages++)
			w->lo = va;
		w->hi = va + PAGE_SIZE;
	}
	probe_ret(&k->probe, K, "folio_mark_lazyfree");
}

static void madvise_free_single_vma(struct kernel *k, struct mm_struct *mm, vaddr_t start,
                                    vaddr_t end)
{
	struct free_walk w = {0};

	probe_call(&k->probe, K, "madvise_free_single_vma", {"start", start}, {"end", end});
	walk_page_range(k, mm, start, end, madvise_free_pte, &w);
	if (w.pages)
		flush_tlb_mm_range(k, mm, w.lo, w.hi); /* tlb_remove_tlb_entries */
	probe_ret(&k->probe, K, "madvise_free_single_vma", {"ret", w.pages});
}

/* madvise_dontneed_free: the part [start, end) of one VMA. */
static void madvise_dontneed_free(struct kernel *k, struct mm_struct *mm, vaddr_t start,
                                  vaddr_t end, int behavior)
{
	probe_call(&k->probe, K, "madvise_dontneed_free", {"start", start}, {"end", end},
	           {"behavior", (uint64_t)behavior});
	if (behavior == SIM_MADV_DONTNEED) {
		probe_call(&k->probe, K, "zap_page_range_single", {"start", start}, {"end", end});
		zap_page_range(k, mm, start, end);
		probe_ret(&k->probe, K, "zap_page_range_single");
	} else {
		madvise_free_single_vma(k, mm, start, end);
	}
	probe_ret(&k->probe, K, "madvise_dontneed_free", {"ret", 0});
}

static bool madvise_behavior_valid(int behavior)
{
	return behavior == SIM_MADV_NORMAL || behavior == SIM_MADV_WILLNEED ||
	       behavior == SIM_MADV_DONTNEED || behavior == SIM_MADV_FREE;
}

static int64_t do_madvise(struct kernel *k, struct task *t, vaddr_t start, uint64_t len_in,
                          int behavior)
{
	struct mm_struct *mm = t->mm;
	uint64_t len;
	vaddr_t end;
	int64_t ret = 0;

	probe_call(&k->probe, K, "do_madvise", {"start", start}, {"len", len_in},
	           {"behavior", (uint64_t)behavior});
	len = PAGE_ALIGN(len_in);
	if (!madvise_behavior_valid(behavior) || (start & ~PAGE_MASK) || (len_in && !len) ||
	    (end = start + len) < start) {
		ret = -SIM_EINVAL;
		goto out;
	}
	/* madvise_walk_vmas */
	while (start < end) {
		struct vm_area_struct *vma = find_vma(mm, start);
		vaddr_t tmp;

		if (!vma) {
			ret = -SIM_ENOMEM;
			break;
		}
		if (start < vma->vm_start) {
			ret = -SIM_ENOMEM; /* unmapped_error: the rest is still done */
			start = vma->vm_start;
			if (start >= end)
				break;
		}
		tmp = vma->vm_end < end ? vma->vm_end : end;
		if (behavior == SIM_MADV_DONTNEED || behavior == SIM_MADV_FREE)
			madvise_dontneed_free(k, mm, start, tmp, behavior);
		start = tmp;
	}
out:
	probe_ret(&k->probe, K, "do_madvise", {"ret", (uint64_t)ret});
	return ret;
}

int64_t sys_madvise(struct kernel *k, vaddr_t start, uint64_t len, int behavior)
{
	struct task *t = syscall_enter(k, SIM_NR_madvise, "__x64_sys_madvise", {"start", start},
	                               {"len", len}, {"behavior", (uint64_t)behavior});
	int64_t ret = do_madvise(k, t, start, len, behavior);

	syscall_exit(k, "__x64_sys_madvise", ret);
	return ret;
}
