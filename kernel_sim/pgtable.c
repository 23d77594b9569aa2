/*
 * pgtable.c - the kernel's side of the page tables: allocating the levels on
 * the way down (mm/memory.c __pud_alloc, __pmd_alloc, __pte_alloc), unmapping
 * a range (unmap_page_range -> zap_pte_range, then tlb_finish_mmu: flush,
 * then free the pages), freeing empty tables (free_pgtables ->
 * free_pgd_range ... free_pte_range) and tearing everything down at exit.
 *
 * Table pages are order-0 frames of kind FK_PAGETABLE with refcount 1; they
 * are zeroed when allocated (GFP_PGTABLE_USER has __GFP_ZERO).
 */
#include "pgtable.h"

#include <stdarg.h>
#include <stdlib.h>

#include "../vm/hostmem.h"
#include "../vm/pagetable.h"
#include "../vm/panic.h"
#include "swap.h"
#include "rmap.h"
#include "switch.h"

#define PT_TABLE_FLAGS (PTE_P | PTE_RW | PTE_US) /* _PAGE_TABLE without A/D */

/* Bytes mapped by one entry of a table at level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB, 4: 512 GiB). */
static inline uint64_t entry_span(int level)
{
	return 1ULL << (PAGE_SHIFT + 9 * (level - 1));
}

/* The first address of the next entry's span after a, or end (never past it). */
static inline vaddr_t span_next(vaddr_t a, int level, vaddr_t end)
{
	vaddr_t next = (a | (entry_span(level) - 1)) + 1;

	return next == 0 || next > end ? end : next;
}

/* A zeroed table page accounted to mm, or PFN_NONE. */
static pfn_t table_alloc(struct kernel *k, struct mm_struct *mm)
{
	pfn_t pfn = buddy_alloc(&k->buddy, 0, FK_PAGETABLE);

	if (pfn == PFN_NONE)
		return PFN_NONE;
	phys_zero_frame(&k->phys, pfn);
	mm->pgtables_bytes += PAGE_SIZE;
	return pfn;
}

static void table_free(struct kernel *k, struct mm_struct *mm, pfn_t pfn)
{
	struct frame *f = phys_frame(&k->phys, pfn);

	if (f->kind != FK_PAGETABLE)
		panic("pfn %#llx is a %s frame, not a page table", (unsigned long long)pfn,
		      frame_kind_name(f->kind));
	if (mm->pgtables_bytes < PAGE_SIZE)
		panic("pgtables_bytes underflow");
	mm->pgtables_bytes -= PAGE_SIZE;
	buddy_free(&k->buddy, pfn, 0);
}

bool pgd_alloc(struct kernel *k, struct mm_struct *mm)
{
	pfn_t pfn;

	probe_call(&k->probe, LAYER_KERNEL, "pgd_alloc");
	pfn = buddy_alloc(&k->buddy, 0, FK_PAGETABLE);
	if (pfn != PFN_NONE)
		phys_zero_frame(&k->phys, pfn);
	mm->pgd = pfn;
	probe_ret(&k->probe, LAYER_KERNEL, "pgd_alloc", {"ret", pfn == PFN_NONE ? 0 : pfn});
	return pfn != PFN_NONE;
}

/* Indexed by the level of the table that receives the new entry. */
static const char *const alloc_fn[] = {[4] = "pud_alloc", [3] = "pmd_alloc", [2] = "pte_alloc"};
static const char *const populate_fn[] = {
    [4] = "p4d_populate", [3] = "pud_populate", [2] = "pmd_populate"};

/* alloc_level's rare part: a new table for entry idx of table, linked
   (the *_populate event); its entry, or 0 when out of memory. */
static __attribute__((noinline)) pte_t populate_level(struct kernel *k, struct mm_struct *mm,
                                                      pfn_t table, int level, vaddr_t va)
{
	unsigned idx = pt_index(va, level);
	pfn_t n = table_alloc(k, mm);
	pte_t e;

	if (n == PFN_NONE)
		return 0;
	e = pte_mk(n, PT_TABLE_FLAGS);
	pt_set(&k->phys, table, idx, e);
	EV(&k->probe, LAYER_KERNEL, EV_PTE_SET, populate_fn[level], NULL, {"addr", va},
	   {"level", (uint64_t)level}, {"old", 0}, {"new", e});
	return e;
}

/* One level of the walk: the table entry idx of table points to, allocated
   and linked when missing. PFN_NONE when out of memory. Inline into the
   walk (every fault makes three), the allocation out of line. */
static inline __attribute__((always_inline)) pfn_t alloc_level(struct kernel *k,
                                                               struct mm_struct *mm, pfn_t table,
                                                               int level, vaddr_t va)
{
	struct probe *p = &k->probe;
	pte_t e = pt_get(&k->phys, table, pt_index(va, level));

	probe_call(p, LAYER_KERNEL, alloc_fn[level], {"addr", va});
	if (__builtin_expect(!pte_present(e), 0)) {
		e = populate_level(k, mm, table, level, va);
		if (!e) {
			probe_ret(p, LAYER_KERNEL, alloc_fn[level], {"ret", 0});
			return PFN_NONE;
		}
	}
	probe_ret(p, LAYER_KERNEL, alloc_fn[level], {"ret", pte_pfn(e)});
	return pte_pfn(e);
}

pfn_t pgtable_alloc_next(struct kernel *k, struct mm_struct *mm, pfn_t table, int level, vaddr_t va)
{
	if (level < 2 || level > 4)
		panic("level %d has no table below it to allocate", level);
	return alloc_level(k, mm, table, level, va);
}

/* The table at level `lowest` covering va (2: the PT, 3: the PD), allocating
   the missing levels above it. Inline: with a constant `lowest` the loop
   unrolls on the fault path. */
static inline pfn_t alloc_walk_to(struct kernel *k, struct mm_struct *mm, vaddr_t va, int lowest)
{
	struct probe *p = &k->probe;
	pfn_t table = mm->pgd;

	if (table == PFN_NONE)
		panic("mm has no pgd");
	/* p4d is folded into the pgd on 4-level paging: a call that changes nothing. */
	probe_call(p, LAYER_KERNEL, "p4d_alloc", {"addr", va});
	probe_ret(p, LAYER_KERNEL, "p4d_alloc", {"ret", table});
	/* Unrolled (every fault comes here): the index shifts and names become
	   constants. */
#pragma GCC unroll 3
	for (int level = 4; level >= lowest; level--) {
		table = alloc_level(k, mm, table, level, va);
		if (table == PFN_NONE)
			return PFN_NONE;
	}
	return table;
}

pfn_t pgtable_alloc_walk(struct kernel *k, struct mm_struct *mm, vaddr_t va)
{
	return alloc_walk_to(k, mm, va, 2);
}

pfn_t pmd_table_alloc(struct kernel *k, struct mm_struct *mm, vaddr_t va)
{
	return alloc_walk_to(k, mm, va, 3);
}

/* The table at level `lowest` covering va without allocating, or PFN_NONE. */
static pfn_t lookup_to(struct kernel *k, struct mm_struct *mm, vaddr_t va, int lowest)
{
	pfn_t table = mm->pgd;

	if (table == PFN_NONE)
		return PFN_NONE;
	for (int level = 4; level >= lowest; level--) {
		pte_t e = pt_get(&k->phys, table, pt_index(va, level));

		if (!pte_present(e))
			return PFN_NONE;
		table = pte_pfn(e);
	}
	return table;
}

/* What unmap_page_range gathered (struct mmu_gather): pages to flush and free. */
struct gather {
	vaddr_t flush[TLB_SINGLE_PAGE_FLUSH_CEILING];
	uint64_t nr_cleared;
	pfn_t *free;
	size_t nr_free, cap_free;
};

static void zap_pte(struct kernel *k, struct mm_struct *mm, pfn_t pt, vaddr_t va, struct gather *g)
{
	unsigned idx = pt_index(va, 1);
	pte_t old = pt_get(&k->phys, pt, idx);
	pfn_t pfn = pte_pfn(old);
	struct frame *f;

	pt_set(&k->phys, pt, idx, 0);
	EV(&k->probe, LAYER_KERNEL, EV_PTE_CLEAR, "zap_pte_range", NULL, {"addr", va},
	   {"old", old});
	if (g->nr_cleared < TLB_SINGLE_PAGE_FLUSH_CEILING)
		g->flush[g->nr_cleared] = va;
	g->nr_cleared++;
	if (pfn == k->zero_pfn)
		return; /* vm_normal_page() is NULL for the special zero page */
	if (!phys_valid_pfn(&k->phys, pfn))
		panic("leaf at %#llx maps pfn %#llx beyond RAM", (unsigned long long)va,
		      (unsigned long long)pfn);
	f = phys_frame(&k->phys, pfn);
	if (f->kind != FK_ANON || f->refcount < 1)
		panic("leaf at %#llx maps a %s frame (refcount %d)", (unsigned long long)va,
		      frame_kind_name(f->kind), frame_refcount(f));
	if (mm->rss_stat[MM_ANONPAGES] == 0)
		panic("MM_ANONPAGES underflow");
	mm->rss_stat[MM_ANONPAGES]--;
	folio_remove_rmap_pte(k, pfn);
	if (f->refcount > 1) {
		f->refcount--;
		return;
	}
	if (g->nr_free == g->cap_free)
		GROW_ARRAY(g->free, g->cap_free, 64);
	g->free[g->nr_free++] = pfn;
}

/* zap_pte_range's swap-entry case: free_swap_and_cache, MM_SWAPENTS down. */
static void zap_swap_pte(struct kernel *k, struct mm_struct *mm, pfn_t pt, vaddr_t va, pte_t old)
{
	pt_set(&k->phys, pt, pt_index(va, 1), 0);
	EV(&k->probe, LAYER_KERNEL, EV_PTE_CLEAR, "zap_pte_range", NULL, {"addr", va},
	   {"old", old});
	if (mm->rss_stat[MM_SWAPENTS] == 0)
		panic("MM_SWAPENTS underflow");
	mm->rss_stat[MM_SWAPENTS]--;
	swap_free(k, pte_swp_offset(old));
}

static void zap_level(struct kernel *k, struct mm_struct *mm, pfn_t table, int level, vaddr_t start,
                      vaddr_t end, struct gather *g)
{
	for (vaddr_t a = start; a < end;) {
		vaddr_t next = span_next(a, level, end);
		pte_t e = pt_get(&k->phys, table, pt_index(a, level));

		if (level == 1 && is_swap_pte(e)) {
			zap_swap_pte(k, mm, table, a, e);
		} else if (!pte_none(e)) {
			if (level == 1)
				zap_pte(k, mm, table, a, g);
			else
				zap_level(k, mm, pte_pfn(e), level - 1, a, next, g);
		}
		a = next;
	}
}

void zap_page_range(struct kernel *k, struct mm_struct *mm, vaddr_t start, vaddr_t end)
{
	struct probe *p = &k->probe;
	struct gather g = {0};

	if ((start | end) & ~PAGE_MASK || start > end || end > USER_VA_END)
		panic("bad range [%#llx, %#llx)", (unsigned long long)start,
		      (unsigned long long)end);
	if (mm->pgd == PFN_NONE || start == end)
		return;
	probe_call(p, LAYER_KERNEL, "unmap_page_range", {"start", start}, {"end", end});
	zap_level(k, mm, mm->pgd, 4, start, end, &g);
	probe_ret(p, LAYER_KERNEL, "unmap_page_range", {"ret", g.nr_cleared});

	/* tlb_finish_mmu: flush first, then give the pages back. */
	probe_call(p, LAYER_KERNEL, "tlb_finish_mmu", {"pages", g.nr_cleared});
	if (g.nr_cleared && flush_tlb_mm_gen(k, mm)) {
		probe_call(p, LAYER_KERNEL, "flush_tlb_mm_range", {"start", start}, {"end", end});
		if (g.nr_cleared > TLB_SINGLE_PAGE_FLUSH_CEILING)
			cpu_flush_tlb(&k->cpu);
		else
			for (uint64_t i = 0; i < g.nr_cleared; i++)
				cpu_invlpg(&k->cpu, g.flush[i]);
		probe_ret(p, LAYER_KERNEL, "flush_tlb_mm_range");
	}
	for (size_t i = 0; i < g.nr_free; i++) {
		/* free_swap_cache: a folio the swap cache still holds leaves it */
		if (pfn_folio(&k->lruvec, g.free[i])->flags & PG_swapcache)
			delete_from_swap_cache(k, g.free[i]);
		folio_release(&k->lruvec, g.free[i]); /* off the LRU as the last reference goes */
		buddy_free(&k->buddy, g.free[i], 0);
	}
	probe_ret(p, LAYER_KERNEL, "tlb_finish_mmu");
	hostmem_free(g.free);
}

pfn_t pgtable_lookup(struct kernel *k, struct mm_struct *mm, vaddr_t va)
{
	return lookup_to(k, mm, va, 2);
}

pfn_t pmd_table_lookup(struct kernel *k, struct mm_struct *mm, vaddr_t va)
{
	return lookup_to(k, mm, va, 3);
}

static void walk_level(struct kernel *k, pfn_t table, int level, vaddr_t start, vaddr_t end,
                       pte_entry_fn fn, void *ctx)
{
	for (vaddr_t a = start; a < end;) {
		vaddr_t next = span_next(a, level, end);
		unsigned idx = pt_index(a, level);
		pte_t e = pt_get(&k->phys, table, idx);

		if (!pte_none(e)) {
			if (level == 1)
				fn(k, ctx, table, idx, a, e);
			else
				walk_level(k, pte_pfn(e), level - 1, a, next, fn, ctx);
		}
		a = next;
	}
}

void walk_page_range(struct kernel *k, struct mm_struct *mm, vaddr_t start, vaddr_t end,
                     pte_entry_fn fn, void *ctx)
{
	if ((start | end) & ~PAGE_MASK || start > end || end > USER_VA_END)
		panic("bad range [%#llx, %#llx)", (unsigned long long)start,
		      (unsigned long long)end);
	if (mm->pgd != PFN_NONE)
		walk_level(k, mm->pgd, 4, start, end, fn, ctx);
}

void flush_tlb_mm_range(struct kernel *k, struct mm_struct *mm, vaddr_t start, vaddr_t end)
{
	struct probe *p = &k->probe;

	if (start >= end || !flush_tlb_mm_gen(k, mm))
		return;
	probe_call(p, LAYER_KERNEL, "flush_tlb_mm_range", {"start", start}, {"end", end});
	if ((end - start) >> PAGE_SHIFT > TLB_SINGLE_PAGE_FLUSH_CEILING)
		cpu_flush_tlb(&k->cpu);
	else
		for (vaddr_t a = start; a < end; a += PAGE_SIZE)
			cpu_invlpg(&k->cpu, a);
	probe_ret(p, LAYER_KERNEL, "flush_tlb_mm_range");
}

static bool table_empty(struct kernel *k, pfn_t table)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (!pte_none(pt_get(&k->phys, table, i)))
			return false;
	return true;
}

/*
 * Free the empty tables below table (a level-`level` table) whose whole span
 * lies in [lo, hi); visit only [start, end) = the part of [lo, hi) this table
 * covers.
 */
static void free_level(struct kernel *k, struct mm_struct *mm, pfn_t table, int level,
                       vaddr_t start, vaddr_t end, vaddr_t lo, vaddr_t hi)
{
	/* Named after the function that frees the table an entry at level points to. */
	static const char *const free_fn[] = {
	    [4] = "free_pud_range", [3] = "free_pmd_range", [2] = "free_pte_range"};

	for (vaddr_t a = start; a < end;) {
		vaddr_t next = span_next(a, level, end);
		unsigned idx = pt_index(a, level);
		pte_t e = pt_get(&k->phys, table, idx);
		vaddr_t base = a & ~(entry_span(level) - 1);

		if (!pte_none(e)) {
			pfn_t child = pte_pfn(e);

			if (level > 2)
				free_level(k, mm, child, level - 1, a, next, lo, hi);
			if (base >= lo && base + entry_span(level) <= hi && table_empty(k, child)) {
				pt_set(&k->phys, table, idx, 0);
				EV(&k->probe, LAYER_KERNEL, EV_PTE_CLEAR, free_fn[level], NULL,
				   {"addr", base}, {"level", (uint64_t)level}, {"old", e});
				table_free(k, mm, child);
			}
		}
		a = next;
	}
}

void free_pgtables(struct kernel *k, struct mm_struct *mm, vaddr_t start, vaddr_t end)
{
	if ((start | end) & ~PAGE_MASK || start > end || end > USER_VA_END)
		panic("bad range [%#llx, %#llx)", (unsigned long long)start,
		      (unsigned long long)end);
	if (mm->pgd == PFN_NONE || start == end)
		return;
	probe_call(&k->probe, LAYER_KERNEL, "free_pgtables", {"start", start}, {"end", end});
	free_level(k, mm, mm->pgd, 4, start, end, start, end);
	probe_ret(&k->probe, LAYER_KERNEL, "free_pgtables");
}

/* Free table (level `level`) and everything below; a present leaf is a leak (bug). */
static void free_all_level(struct kernel *k, struct mm_struct *mm, pfn_t table, int level,
                           vaddr_t base)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		pte_t e = pt_get(&k->phys, table, i);
		vaddr_t va = base + i * entry_span(level);

		if (pte_none(e))
			continue;
		if (level == 1)
			panic("leaf at %#llx still in use (zap first)", (unsigned long long)va);
		free_all_level(k, mm, pte_pfn(e), level - 1, va);
		table_free(k, mm, pte_pfn(e));
	}
}

void pgd_free_all(struct kernel *k, struct mm_struct *mm)
{
	if (mm->pgd == PFN_NONE)
		return;
	probe_call(&k->probe, LAYER_KERNEL, "pgd_free");
	free_all_level(k, mm, mm->pgd, 4, 0);
	if (mm->pgtables_bytes != 0)
		panic("pgtables_bytes %llu after freeing every table",
		      (unsigned long long)mm->pgtables_bytes);
	if (k->cpu.cr3 == mm->pgd)
		cpu_load_cr3(&k->cpu, PFN_NONE);
	if (phys_frame(&k->phys, mm->pgd)->kind != FK_PAGETABLE)
		panic("pgd pfn %#llx is not a page table", (unsigned long long)mm->pgd);
	buddy_free(&k->buddy, mm->pgd, 0);
	mm->pgd = PFN_NONE;
	probe_ret(&k->probe, LAYER_KERNEL, "pgd_free");
}

/* ---- checking and counting -------------------------------------------- */

struct pt_census {
	struct kernel *k;
	struct mm_struct *mm;
	FILE *err;
	int broken;
	uint64_t anon, zero, tables, swapents;
	uint8_t *seen; /* per pfn: times referenced (saturating), NULL when only counting */
};

static void census_report(struct pt_census *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void census_report(struct pt_census *c, const char *fmt, ...)
{
	if (c->err && c->broken == 0) {
		va_list ap;

		fputs("pgtable_check: ", c->err);
		va_start(ap, fmt);
		vfprintf(c->err, fmt, ap);
		va_end(ap);
		fputc('\n', c->err);
	}
	c->broken++;
}

static void census_seen(struct pt_census *c, pfn_t pfn)
{
	if (c->seen && c->seen[pfn] < UINT8_MAX)
		c->seen[pfn]++;
}

static void census_leaf(struct pt_census *c, vaddr_t va, pte_t e)
{
	struct kernel *k = c->k;
	pfn_t pfn = pte_pfn(e);
	struct vm_area_struct *vma;
	const struct frame *f;

	if (!phys_valid_pfn(&k->phys, pfn)) {
		census_report(c, "leaf at %#llx maps pfn %#llx beyond RAM", (unsigned long long)va,
		              (unsigned long long)pfn);
		return;
	}
	f = phys_frame(&k->phys, pfn);
	if (!pte_present(e) && !pte_protnone(e))
		census_report(c, "leaf at %#llx neither present nor PROT_NONE: %#llx",
		              (unsigned long long)va, (unsigned long long)e);
	if (pte_present(e) && !(e & PTE_US))
		census_report(c, "user leaf at %#llx without US", (unsigned long long)va);
	if (pte_protnone(e) && (e & (PTE_RW | PTE_US)))
		census_report(c, "PROT_NONE leaf at %#llx keeps RW or US", (unsigned long long)va);
	if (pfn == k->zero_pfn) {
		c->zero++;
		if (f->kind != FK_ZERO)
			census_report(c, "zero page pfn %#llx is a %s frame",
			              (unsigned long long)pfn, frame_kind_name(f->kind));
		if ((e & PTE_RW) || !(e & PTE_SPECIAL))
			census_report(c, "zero page mapped at %#llx writable or not special",
			              (unsigned long long)va);
	} else {
		c->anon++;
		census_seen(c, pfn);
		if (f->kind != FK_ANON || f->refcount < 1)
			census_report(c, "leaf at %#llx maps pfn %#llx, a %s frame (refcount %d)",
			              (unsigned long long)va, (unsigned long long)pfn,
			              frame_kind_name(f->kind), frame_refcount(f));
		if (e & PTE_SPECIAL)
			census_report(c, "anonymous leaf at %#llx marked special",
			              (unsigned long long)va);
	}
	vma = vma_lookup(c->mm, va);
	if (!vma) {
		census_report(c, "leaf at %#llx outside every VMA", (unsigned long long)va);
		return;
	}
	if (pte_protnone(e) != !(vma->vm_flags & VM_ACCESS_FLAGS))
		census_report(c, "leaf at %#llx is %s but its VMA is %s", (unsigned long long)va,
		              pte_protnone(e) ? "PROT_NONE" : "accessible",
		              vma->vm_flags & VM_ACCESS_FLAGS ? "accessible" : "PROT_NONE");
	if ((e & PTE_RW) && !(vma->vm_flags & VM_WRITE))
		census_report(c, "leaf at %#llx writable in a read-only VMA",
		              (unsigned long long)va);
	if (pte_present(e) && !(e & PTE_NX) && !(vma->vm_flags & VM_EXEC))
		census_report(c, "leaf at %#llx executable in a non-exec VMA",
		              (unsigned long long)va);
}

/* A swap entry: type 0, a slot of the area in use, inside a VMA. */
static void census_swap(struct pt_census *c, vaddr_t va, pte_t e)
{
	struct kernel *k = c->k;
	uint64_t off = pte_swp_offset(e);

	c->swapents++;
	if (pte_swp_type(e) != 0 || !k->swap || off == 0 || off >= k->swap->max ||
	    swap_count(k, off) == 0)
		census_report(c, "swap PTE %#llx at %#llx names no slot in use",
		              (unsigned long long)e, (unsigned long long)va);
	if (!vma_lookup(c->mm, va))
		census_report(c, "swap PTE at %#llx outside every VMA", (unsigned long long)va);
}

static void census_level(struct pt_census *c, pfn_t table, int level, vaddr_t base)
{
	struct kernel *k = c->k;

	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		pte_t e = pt_get(&k->phys, table, i);
		vaddr_t va = base + i * entry_span(level);
		pfn_t child = pte_pfn(e);
		const struct frame *f;

		if (level == 1 && is_swap_pte(e)) {
			census_swap(c, va, e);
			continue;
		}
		if (pte_none(e))
			continue;
		if (level == 4 && i >= PT_ENTRIES / 2) {
			census_report(c, "PML4 entry %u in the kernel half is present", i);
			continue;
		}
		if (level == 1) {
			census_leaf(c, va, e);
			continue;
		}
		if ((e & PT_TABLE_FLAGS) != PT_TABLE_FLAGS) {
			census_report(c, "%s entry for %#llx lacks P|RW|US: %#llx",
			              pt_level_name(level), (unsigned long long)va,
			              (unsigned long long)e);
		}
		if (!phys_valid_pfn(&k->phys, child)) {
			census_report(c, "%s entry for %#llx points beyond RAM",
			              pt_level_name(level), (unsigned long long)va);
			continue;
		}
		f = phys_frame(&k->phys, child);
		if (f->kind != FK_PAGETABLE || f->refcount != 1) {
			census_report(c, "%s entry for %#llx points at a %s frame (refcount %d)",
			              pt_level_name(level), (unsigned long long)va,
			              frame_kind_name(f->kind), frame_refcount(f));
			continue;
		}
		if (c->seen && c->seen[child]) {
			census_report(c, "table pfn %#llx referenced twice",
			              (unsigned long long)child);
			continue;
		}
		census_seen(c, child);
		c->tables++;
		census_level(c, child, level - 1, va);
	}
}

void pgtable_count(struct kernel *k, struct mm_struct *mm, uint64_t *anon, uint64_t *zero,
                   uint64_t *tables)
{
	struct pt_census c = {.k = k, .mm = mm};

	if (mm->pgd != PFN_NONE)
		census_level(&c, mm->pgd, 4, 0);
	if (anon)
		*anon = c.anon;
	if (zero)
		*zero = c.zero;
	if (tables)
		*tables = c.tables;
}

int pgtable_check(struct kernel *k, struct mm_struct *mm, FILE *err)
{
	struct pt_census c = {.k = k, .mm = mm, .err = err};
	const struct frame *f;

	if (mm->pgd == PFN_NONE) {
		if (mm->pgtables_bytes || mm->rss_stat[MM_ANONPAGES])
			census_report(&c, "no pgd but %llu table bytes, %llu anon pages",
			              (unsigned long long)mm->pgtables_bytes,
			              (unsigned long long)mm->rss_stat[MM_ANONPAGES]);
		return c.broken;
	}
	if (!phys_valid_pfn(&k->phys, mm->pgd))
		return census_report(&c, "pgd pfn %#llx beyond RAM", (unsigned long long)mm->pgd),
		       c.broken;
	f = phys_frame(&k->phys, mm->pgd);
	if (f->kind != FK_PAGETABLE || f->refcount != 1)
		census_report(&c, "pgd pfn %#llx is a %s frame (refcount %d)",
		              (unsigned long long)mm->pgd, frame_kind_name(f->kind),
		              frame_refcount(f));
	c.seen = hostmem_calloc(k->phys.nr_frames, 1);
	if (!c.seen)
		host_oom("the page-table census");
	c.seen[mm->pgd] = 1;
	census_level(&c, mm->pgd, 4, 0);
	if (c.swapents != mm->rss_stat[MM_SWAPENTS])
		census_report(&c, "MM_SWAPENTS %llu, swap PTEs %llu",
		              (unsigned long long)mm->rss_stat[MM_SWAPENTS],
		              (unsigned long long)c.swapents);
	if (c.anon != mm->rss_stat[MM_ANONPAGES])
		census_report(&c, "MM_ANONPAGES %llu, present anonymous leaves %llu",
		              (unsigned long long)mm->rss_stat[MM_ANONPAGES],
		              (unsigned long long)c.anon);
	if (c.tables * PAGE_SIZE != mm->pgtables_bytes)
		census_report(&c, "pgtables_bytes %llu, table pages below the pgd %llu",
		              (unsigned long long)mm->pgtables_bytes, (unsigned long long)c.tables);
	if (mm->hiwater_rss < mm->rss_stat[MM_ANONPAGES])
		census_report(&c, "hiwater_rss %llu < rss %llu",
		              (unsigned long long)mm->hiwater_rss,
		              (unsigned long long)mm->rss_stat[MM_ANONPAGES]);
	hostmem_free(c.seen);
	return c.broken;
}
