/*
 * test_pgtable.c - the kernel's page-table code (kernel_sim/pgtable.c):
 * allocating the levels (pud_alloc, pmd_alloc, pte_alloc), unmapping a range
 * (unmap_page_range, then flush and free), free_pgtables, pgd_free_all, and
 * pgtable_check catching broken invariants. kernel_check runs after every
 * operation.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kernel_sim/kernel.h"
#include "kernel_sim/pgtable.h"
#include "tests/support_sim.h"
#include "vm/pagetable.h"

#define MAX_EVENTS 8192

static struct kernel k;
static struct sim_recorder rec = {.cap = MAX_EVENTS};
static struct task *t;

static void boot(void)
{
	struct kernel_opts o;

	kernel_default_opts(&o);
	o.phys_bytes = 16ULL << 20;
	t = sim_kernel_boot(&k, &o, &rec, "pt");
}

static void shutdown(void)
{
	kernel_shutdown(&k);
}

static unsigned count(int kind, const char *fn)
{
	unsigned n = 0;

	for (unsigned i = 0; i < rec.n; i++)
		n += rec.ev[i].kind == kind && (!fn || strcmp(rec.ev[i].fn, fn) == 0);
	return n;
}

struct touch {
	vaddr_t va;
	uint64_t pages;
};

static void do_touch(void *arg)
{
	struct touch *tc = arg;

	for (uint64_t i = 0; i < tc->pages; i++)
		cr_assert_eq(cpu_store(&k.cpu, tc->va + i * PAGE_SIZE, 1, 0x5a), 0);
}

/* An anonymous VMA of pages pages at va, every page written once. */
static void map_and_touch(vaddr_t va, uint64_t pages)
{
	struct touch tc = {va, pages};

	vma_insert(t->mm, va, va + pages * PAGE_SIZE, VM_READ | VM_WRITE, VMA_ANON);
	cr_assert_eq(task_run(&k, t, do_touch, &tc), 0);
	sim_kernel_check(&k);
}

#define REGION 0x300000000000ULL /* a PML4 slot of its own */

TestSuite(pgtable, .init = boot, .fini = shutdown);

Test(pgtable, pgd_alloc_takes_a_zeroed_table_not_counted_in_pgtables_bytes)
{
	struct mm_struct mm;
	uint64_t free0 = k.buddy.free_pages;

	mm_init(&mm);
	cr_assert(pgd_alloc(&k, &mm));
	cr_assert_eq(free0 - k.buddy.free_pages, 1);
	cr_assert_eq(phys_frame(&k.phys, mm.pgd)->kind, FK_PAGETABLE);
	cr_assert_eq(mm.pgtables_bytes, 0);
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		cr_assert_eq(pt_get(&k.phys, mm.pgd, i), 0);
	pgd_free_all(&k, &mm);
	cr_assert_eq(mm.pgd, PFN_NONE);
	cr_assert_eq(k.buddy.free_pages, free0);
	mm_destroy(&mm);
	sim_kernel_check(&k);
}

Test(pgtable, alloc_walk_allocates_each_missing_level_once)
{
	uint64_t b0 = t->mm->pgtables_bytes;
	pfn_t pt, again;

	cr_assert_eq(pgtable_lookup(&k, t->mm, REGION), PFN_NONE);
	pt = pgtable_alloc_walk(&k, t->mm, REGION);
	cr_assert_neq(pt, PFN_NONE);
	sim_kernel_check(&k);
	cr_assert_eq(t->mm->pgtables_bytes, b0 + 3 * PAGE_SIZE);
	cr_assert_eq(count(EV_PTE_SET, NULL), 3);
	cr_assert_eq(count(EV_CALL, "p4d_alloc"), 1);
	cr_assert_eq(count(EV_CALL, "pud_alloc"), 1);
	cr_assert_eq(count(EV_CALL, "pmd_alloc"), 1);
	cr_assert_eq(count(EV_CALL, "pte_alloc"), 1);
	cr_assert_eq(pgtable_lookup(&k, t->mm, REGION), pt);
	cr_assert_eq(pgtable_lookup(&k, t->mm, REGION + 0x1ff000), pt, "same 2 MiB");
	/* intermediate entries are P|RW|US */
	{
		struct walk w;

		pagewalk(&k.phys, t->mm->pgd, REGION, &w);
		cr_assert_eq(w.depth, 4);
		for (int l = 0; l < 3; l++)
			cr_assert_eq(w.entry[l] & (PTE_P | PTE_RW | PTE_US | PTE_NX),
			             PTE_P | PTE_RW | PTE_US);
	}
	rec.n = 0;
	again = pgtable_alloc_walk(&k, t->mm, REGION + 0x1000);
	cr_assert_eq(again, pt);
	cr_assert_eq(count(EV_PTE_SET, NULL), 0);
	cr_assert_eq(t->mm->pgtables_bytes, b0 + 3 * PAGE_SIZE);
	/* the next 2 MiB needs one PT only */
	pgtable_alloc_walk(&k, t->mm, REGION + 0x200000);
	cr_assert_eq(t->mm->pgtables_bytes, b0 + 4 * PAGE_SIZE);
	sim_kernel_check(&k);
}

Test(pgtable, alloc_walk_out_of_memory_returns_pfn_none_and_stays_consistent)
{
	uint64_t b0 = t->mm->pgtables_bytes;

	k.buddy.fail_after = 1; /* the PDPT is had, the PD is not */
	cr_assert_eq(pgtable_alloc_walk(&k, t->mm, REGION), PFN_NONE);
	cr_assert_eq(t->mm->pgtables_bytes, b0 + PAGE_SIZE);
	sim_kernel_check(&k);
	k.buddy.fail_after = -1;
	cr_assert_neq(pgtable_alloc_walk(&k, t->mm, REGION), PFN_NONE);
	cr_assert_eq(t->mm->pgtables_bytes, b0 + 3 * PAGE_SIZE);
	sim_kernel_check(&k);
}

Test(pgtable, zap_page_range_frees_frames_updates_rss_and_flushes_each_page)
{
	uint64_t free0, rss0;

	map_and_touch(REGION, 8);
	free0 = k.buddy.free_pages;
	rss0 = t->mm->rss_stat[MM_ANONPAGES];
	cr_assert_gt(tlb_count(&k.cpu.tlb), 0);
	rec.n = 0;
	zap_page_range(&k, t->mm, REGION + 2 * PAGE_SIZE, REGION + 5 * PAGE_SIZE);
	sim_kernel_check(&k);
	cr_assert_eq(t->mm->rss_stat[MM_ANONPAGES], rss0 - 3);
	cr_assert_eq(k.buddy.free_pages, free0 + 3);
	cr_assert_eq(count(EV_PTE_CLEAR, "zap_pte_range"), 3);
	cr_assert_eq(count(EV_TLB_FLUSH, NULL), 3, "one invlpg per page");
	cr_assert_eq(pagewalk(&k.phys, t->mm->pgd, REGION + 2 * PAGE_SIZE, NULL), 0);
	cr_assert_neq(pagewalk(&k.phys, t->mm->pgd, REGION + 5 * PAGE_SIZE, NULL), 0);
	/* the flush comes before the frames go back (tlb_finish_mmu) */
	{
		unsigned last_flush = 0, first_free = MAX_EVENTS;

		for (unsigned i = 0; i < rec.n; i++) {
			if (rec.ev[i].kind == EV_TLB_FLUSH)
				last_flush = i;
			if (rec.ev[i].kind == EV_FRAME_FREE && first_free == MAX_EVENTS)
				first_free = i;
		}
		cr_assert_lt(last_flush, first_free);
	}
	/* zapping again finds nothing */
	rec.n = 0;
	zap_page_range(&k, t->mm, REGION, REGION + 5 * PAGE_SIZE);
	cr_assert_eq(count(EV_PTE_CLEAR, NULL), 2);
	sim_kernel_check(&k);
}

Test(pgtable, zap_of_many_pages_flushes_the_whole_tlb_once)
{
	map_and_touch(REGION, 40);
	rec.n = 0;
	zap_page_range(&k, t->mm, REGION, REGION + 40 * PAGE_SIZE);
	sim_kernel_check(&k);
	cr_assert_eq(count(EV_TLB_FLUSH, NULL), 1);
	cr_assert_eq(count(EV_PTE_CLEAR, NULL), 40);
}

Test(pgtable, zap_of_a_zero_page_mapping_frees_no_frame)
{
	uint64_t free0, v;

	vma_insert(t->mm, REGION, REGION + PAGE_SIZE, VM_READ | VM_WRITE, VMA_ANON);
	k.cpu.user = true;
	cr_assert_eq(cpu_load(&k.cpu, REGION, 8, &v), 0);
	k.cpu.user = false;
	sim_kernel_check(&k);
	free0 = k.buddy.free_pages;
	zap_page_range(&k, t->mm, REGION, REGION + PAGE_SIZE);
	sim_kernel_check(&k);
	cr_assert_eq(k.buddy.free_pages, free0);
	cr_assert_eq(phys_frame(&k.phys, k.zero_pfn)->kind, FK_ZERO);
}

Test(pgtable, free_pgtables_frees_only_empty_tables_wholly_inside_the_range)
{
	uint64_t b0 = t->mm->pgtables_bytes, free0;

	/* two PTs under one PD under one PDPT: [REGION, +2M) and [+2M, +4M) */
	map_and_touch(REGION, 1);
	map_and_touch(REGION + 0x200000, 1);
	cr_assert_eq(t->mm->pgtables_bytes, b0 + 4 * PAGE_SIZE);
	zap_page_range(&k, t->mm, REGION, REGION + PAGE_SIZE);
	vma_remove(t->mm, vma_lookup(t->mm, REGION));
	sim_kernel_check(&k);

	/* a range that does not cover the whole first PT: nothing freed */
	free_pgtables(&k, t->mm, REGION, REGION + 0x100000);
	cr_assert_eq(t->mm->pgtables_bytes, b0 + 4 * PAGE_SIZE);
	sim_kernel_check(&k);

	/* the first PT's whole span: that PT goes, the PD (still used) stays */
	free0 = k.buddy.free_pages;
	free_pgtables(&k, t->mm, REGION, REGION + 0x200000);
	cr_assert_eq(t->mm->pgtables_bytes, b0 + 3 * PAGE_SIZE);
	cr_assert_eq(k.buddy.free_pages, free0 + 1);
	cr_assert_eq(pgtable_lookup(&k, t->mm, REGION), PFN_NONE);
	cr_assert_neq(pgtable_lookup(&k, t->mm, REGION + 0x200000), PFN_NONE);
	sim_kernel_check(&k);

	/* empty everything, then free the whole PML4 slot: PT, PD and PDPT go */
	zap_page_range(&k, t->mm, REGION + 0x200000, REGION + 0x201000);
	vma_remove(t->mm, vma_lookup(t->mm, REGION + 0x200000));
	free_pgtables(&k, t->mm, REGION, REGION + (1ULL << 39));
	cr_assert_eq(t->mm->pgtables_bytes, b0);
	cr_assert_eq(pt_get(&k.phys, t->mm->pgd, pt_index(REGION, 4)), 0);
	sim_kernel_check(&k);
}

Test(pgtable, free_pgtables_never_frees_a_table_that_still_maps)
{
	uint64_t b0;

	map_and_touch(REGION, 1);
	b0 = t->mm->pgtables_bytes;
	free_pgtables(&k, t->mm, REGION, REGION + (1ULL << 39));
	cr_assert_eq(t->mm->pgtables_bytes, b0);
	sim_kernel_check(&k);
}

Test(pgtable, pgtable_count_sees_anon_zero_and_tables)
{
	uint64_t anon, zero, tables, v;

	map_and_touch(REGION, 3);
	vma_insert(t->mm, REGION + 0x10000, REGION + 0x12000, VM_READ | VM_WRITE, VMA_ANON);
	k.cpu.user = true;
	cr_assert_eq(cpu_load(&k.cpu, REGION + 0x10000, 8, &v), 0);
	cr_assert_eq(cpu_load(&k.cpu, REGION + 0x11000, 8, &v), 0);
	k.cpu.user = false;
	sim_kernel_check(&k);
	pgtable_count(&k, t->mm, &anon, &zero, &tables);
	cr_assert_eq(anon, t->mm->rss_stat[MM_ANONPAGES]);
	cr_assert_eq(anon, TASK_START_RSS + 3);
	cr_assert_eq(zero, 2);
	cr_assert_eq(tables * PAGE_SIZE, t->mm->pgtables_bytes);
}

Test(pgtable, pgtable_check_catches_broken_invariants)
{
	pfn_t pt;
	pte_t e;

	map_and_touch(REGION, 2);
	pt = pgtable_lookup(&k, t->mm, REGION);

	t->mm->rss_stat[MM_ANONPAGES]++;
	cr_assert_gt(pgtable_check(&k, t->mm, NULL), 0, "RSS");
	t->mm->rss_stat[MM_ANONPAGES]--;

	t->mm->pgtables_bytes += PAGE_SIZE;
	cr_assert_gt(pgtable_check(&k, t->mm, NULL), 0, "pgtables_bytes");
	t->mm->pgtables_bytes -= PAGE_SIZE;

	e = pt_get(&k.phys, pt, 0);
	phys_frame(&k.phys, pte_pfn(e))->refcount = 2;
	cr_assert_gt(kernel_check(&k, NULL), 0, "refcount vs mappings (rmap_check)");
	phys_frame(&k.phys, pte_pfn(e))->refcount = 1;

	pt_set(&k.phys, pt, 5, e); /* the same frame mapped twice */
	cr_assert_gt(kernel_check(&k, NULL), 0, "double mapping (rmap_check)");
	pt_set(&k.phys, pt, 5, 0);

	{
		/* A leaf onto the head of a free block: its count word is a free-list
		   link, and the report must say refcount 0, not the link. */
		pte_t e1 = pt_get(&k.phys, pt, 1);
		pfn_t head = k.buddy.free_area[MAX_PAGE_ORDER].head;
		char *msg = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&msg, &len);

		cr_assert_neq(head, FRAME_LINK_NONE);
		cr_assert_neq(phys_frame(&k.phys, head)->next, 0, "the head's word must hold a link");
		pt_set(&k.phys, pt, 1, pte_mk(head, PTE_P | PTE_US | PTE_RW | PTE_NX));
		cr_assert_gt(pgtable_check(&k, t->mm, m), 0, "a leaf onto a free frame");
		fclose(m);
		cr_assert(strstr(msg, "a free frame (refcount 0)"), "%s", msg);
		free(msg);
		pt_set(&k.phys, pt, 1, e1);
	}

	{
		pte_t e1 = pt_get(&k.phys, pt, 1);

		pt_set(&k.phys, pt, 1,
		       pte_mk(k.zero_pfn, PTE_P | PTE_US | PTE_RW | PTE_SPECIAL | PTE_NX));
		cr_assert_gt(pgtable_check(&k, t->mm, NULL), 0, "writable zero page");
		pt_set(&k.phys, pt, 1, e1);
	}

	/* a leaf outside every VMA */
	pt_set(&k.phys, pt, 100, pte_mk(k.zero_pfn, PTE_P | PTE_US | PTE_SPECIAL | PTE_NX));
	cr_assert_gt(pgtable_check(&k, t->mm, NULL), 0, "outside VMA");
	pt_set(&k.phys, pt, 100, 0);

	/* a table entry pointing at an anonymous frame */
	pt_set(&k.phys, t->mm->pgd, pt_index(REGION, 4) + 1,
	       pte_mk(pte_pfn(e), PTE_P | PTE_RW | PTE_US));
	cr_assert_gt(pgtable_check(&k, t->mm, NULL), 0, "table entry at a data frame");
	pt_set(&k.phys, t->mm->pgd, pt_index(REGION, 4) + 1, 0);
	sim_kernel_check(&k);
}

Test(pgtable, pgd_free_all_returns_every_table)
{
	struct mm_struct *mm = t->mm;
	uint64_t tables;

	map_and_touch(REGION, 1);
	map_and_touch(0x100000000000ULL, 1);
	pgtable_count(&k, mm, NULL, NULL, &tables);
	cr_assert_eq(tables, 12, "3 for text+data, 3 for the stack, 3 + 3 here");
	for (size_t i = 0; i < mm->nr_vmas; i++)
		zap_page_range(&k, mm, mm->vmas[i].vm_start, mm->vmas[i].vm_end);
	{
		uint64_t free0 = k.buddy.free_pages;

		pgd_free_all(&k, mm);
		cr_assert_eq(k.buddy.free_pages, free0 + tables + 1);
	}
	cr_assert_eq(mm->pgtables_bytes, 0);
	cr_assert_eq(k.cpu.cr3, PFN_NONE);
	cr_assert_eq(pgtable_check(&k, mm, stderr), 0);
}
