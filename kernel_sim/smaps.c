/*
 * smaps.c - /proc/PID/smaps_rollup, see smaps.h.
 */
#include "smaps.h"

#include <string.h>

#include "../vm/pagetable.h"
#include "lru.h"
#include "pgtable.h"
#include "rmap.h"
#include "swap.h"

/* smaps_page_accumulate for one page of size bytes with Pss share pss. */
static void smaps_page_accumulate(struct mem_size_stats *mss, uint64_t size, uint64_t pss,
                                  bool dirty, bool private)
{
	mss->pss += pss;
	mss->pss_anon += pss; /* every page the model maps is anonymous */
	if (dirty) {
		mss->pss_dirty += pss;
		if (private)
			mss->private_dirty += size;
		else
			mss->shared_dirty += size;
	} else {
		if (private)
			mss->private_clean += size;
		else
			mss->shared_clean += size;
	}
}

/* smaps_pte_entry and smaps_account for one PTE. */
static void smaps_pte_entry(struct kernel *k, pte_t e, struct mem_size_stats *mss)
{
	const uint64_t size = PAGE_SIZE;
	pfn_t pfn;
	const struct folio *f;
	uint32_t mapcount;
	bool dirty, young;

	if (is_swap_pte(e)) {
		unsigned n = swap_count(k, pte_swp_offset(e));

		mss->swap += size;
		mss->swap_pss += n >= 2 ? (size << PSS_SHIFT) / n : size << PSS_SHIFT;
		return;
	}
	if (!pte_present(e) || (e & PTE_SPECIAL))
		return; /* none, PROT_NONE without a page, or the zero page */
	pfn = pte_pfn(e);
	if (pfn == k->zero_pfn)
		return;
	f = pfn_folio(&k->lruvec, pfn);
	young = (e & PTE_A) || (f->flags & PG_referenced);
	dirty = (e & PTE_D) || (f->flags & PG_dirty);
	mss->resident += size;
	mss->anonymous += size;
	if (young)
		mss->referenced += size;
	mapcount = folio_rmap(k, pfn)->mapcount;
	if (phys_frame(&k->phys, pfn)->refcount == 1 || mapcount < 2) {
		smaps_page_accumulate(mss, size, size << PSS_SHIFT, dirty, true);
		return;
	}
	smaps_page_accumulate(mss, size, (size << PSS_SHIFT) / mapcount, dirty, false);
}

void smaps_gather_range(struct kernel *k, struct mm_struct *mm, vaddr_t lo, vaddr_t hi,
                        struct mem_size_stats *mss)
{
	memset(mss, 0, sizeof(*mss));
	if (!mm || mm->pgd == PFN_NONE)
		return;
	for (size_t i = 0; i < mm->nr_vmas; i++) {
		const struct vm_area_struct *v = &mm->vmas[i];
		vaddr_t start = v->vm_start > lo ? v->vm_start : lo;
		vaddr_t end = v->vm_end < hi ? v->vm_end : hi;
		pfn_t pt = PFN_NONE;
		vaddr_t pt_base = 1; /* no table looked up yet (never 2 MiB aligned) */

		for (vaddr_t va = start; va < end; va += PAGE_SIZE) {
			vaddr_t base = va & ~((PAGE_SIZE << 9) - 1);

			if (base != pt_base) {
				pt = pgtable_lookup(k, mm, va);
				pt_base = base;
			}
			if (pt == PFN_NONE) {
				/* walk_page_range skips a hole in the tables */
				va = base + (PAGE_SIZE << 9) - PAGE_SIZE;
				continue;
			}
			smaps_pte_entry(k, pt_get(&k->phys, pt, pt_index(va, 1)), mss);
		}
	}
}

void smaps_gather(struct kernel *k, struct mm_struct *mm, struct mem_size_stats *mss)
{
	smaps_gather_range(k, mm, 0, USER_VA_END, mss);
}

/* SEQ_PUT_DEC(str, val): the label padded as the kernel pads it, in kB. */
static void put_kb(FILE *out, const char *label, uint64_t bytes)
{
	fprintf(out, "%-16s%8llu kB\n", label, (unsigned long long)(bytes >> 10));
}

void proc_smaps_rollup(struct kernel *k, struct task *t, FILE *out)
{
	struct mm_struct *mm = t->mm;
	struct mem_size_stats mss;
	int len;

	if (!mm || !mm->nr_vmas)
		return;
	smaps_gather(k, mm, &mss);
	/* show_vma_header_prefix(first vma's start, last vma's end, 0, 0, 0, 0),
	   seq_pad, "[rollup]" */
	len = fprintf(out, "%08llx-%08llx ---p %08llx %02x:%02x %lu ",
	              (unsigned long long)mm->vmas[0].vm_start,
	              (unsigned long long)mm->vmas[mm->nr_vmas - 1].vm_end, 0ULL, 0, 0, 0UL);
	for (; len < 72; len++)
		fputc(' ', out);
	fputs(" [rollup]\n", out);
	put_kb(out, "Rss:", mss.resident);
	put_kb(out, "Pss:", mss.pss >> PSS_SHIFT);
	put_kb(out, "Pss_Dirty:", mss.pss_dirty >> PSS_SHIFT);
	put_kb(out, "Pss_Anon:", mss.pss_anon >> PSS_SHIFT);
	put_kb(out, "Pss_File:", 0);
	put_kb(out, "Pss_Shmem:", 0);
	put_kb(out, "Shared_Clean:", mss.shared_clean);
	put_kb(out, "Shared_Dirty:", mss.shared_dirty);
	put_kb(out, "Private_Clean:", mss.private_clean);
	put_kb(out, "Private_Dirty:", mss.private_dirty);
	put_kb(out, "Referenced:", mss.referenced);
	put_kb(out, "Anonymous:", mss.anonymous);
	put_kb(out, "KSM:", 0);
	put_kb(out, "LazyFree:", 0);
	put_kb(out, "AnonHugePages:", 0);
	put_kb(out, "ShmemPmdMapped:", 0);
	put_kb(out, "FilePmdMapped:", 0);
	put_kb(out, "Shared_Hugetlb:", 0);
	put_kb(out, "Private_Hugetlb:", 0);
	put_kb(out, "Swap:", mss.swap);
	put_kb(out, "SwapPss:", mss.swap_pss >> PSS_SHIFT);
	put_kb(out, "Locked:", 0);
}
