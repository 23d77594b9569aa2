/*
 * pgtable.h - the kernel's side of the page tables (mm/memory.c, mm/pgtable-generic.c).
 *
 * Page-table pages are frames from the buddy allocator (kind FK_PAGETABLE),
 * accounted in mm->pgtables_bytes (PageTables in /proc/meminfo, VmPTE).
 * Entries are read and written through vm/pagetable.h (pt_get/pt_set).
 *
 * As in Linux (mm_inc_nr_ptes/pmds/puds), pgtables_bytes counts the PT, PD
 * and PDPT pages, not the PML4 itself (pgd_alloc does not account it).
 * Intermediate entries are P|RW|US: permissions are enforced at the leaf.
 */
#ifndef KERNEL_SIM_PGTABLE_H
#define KERNEL_SIM_PGTABLE_H

#include <stdio.h>

#include "../vm/pagetable.h"
#include "task.h"

/*
 * A PROT_NONE page keeps its frame: the leaf loses _PAGE_PRESENT, so the CPU
 * faults on any access, and carries _PAGE_PROTNONE (the global bit, which no
 * user leaf uses otherwise) so the kernel still sees a mapping
 * (arch/x86/include/asm/pgtable_types.h). Linux's pte_present() is true for
 * both; vm/'s pte_present() is the hardware's view (P only). A leaf is
 * empty (pte_none) only when all zero: kernel walks skip those alone.
 */
#define PTE_PROTNONE PTE_G
static inline bool pte_protnone(pte_t e)
{
	return (e & (PTE_P | PTE_PROTNONE)) == PTE_PROTNONE;
}
static inline bool pte_none(pte_t e)
{
	return e == 0;
}
/* Linux's pte_present() of a leaf: it maps a page, accessible or PROT_NONE. */
static inline bool pte_maps_page(pte_t e)
{
	return (e & (PTE_P | PTE_PROTNONE)) != 0;
}

/* A fresh zeroed PML4 for mm (pgd_alloc). false when out of memory. */
bool pgd_alloc(struct kernel *k, struct mm_struct *mm);

/*
 * The PT frame covering va, allocating missing levels on the way
 * (p4d_alloc -> pud_alloc -> pmd_alloc -> pte_alloc, emitting their events).
 * PFN_NONE when a page-table page cannot be had (out of memory).
 */
pfn_t pgtable_alloc_walk(struct kernel *k, struct mm_struct *mm, vaddr_t va);

/* The table that entry pt_index(va, level) of table (a level 4, 3 or 2
   table) points to, allocating a zeroed one when the entry is empty: one
   step of pgtable_alloc_walk, with its events. PFN_NONE when out of memory. */
pfn_t pgtable_alloc_next(struct kernel *k, struct mm_struct *mm, pfn_t table, int level, vaddr_t va);

/* The PT frame covering va without allocating, or PFN_NONE. */
pfn_t pgtable_lookup(struct kernel *k, struct mm_struct *mm, vaddr_t va);

/*
 * zap_page_range / unmap_page_range: clear every present leaf in
 * [start, end) (page aligned), drop the frame's reference (freeing anonymous
 * frames to the buddy allocator, never the zero page), update RSS, and
 * invalidate the TLB entries (flush_tlb_mm_range -> invlpg).
 */
void zap_page_range(struct kernel *k, struct mm_struct *mm, vaddr_t start, vaddr_t end);

/* The PD (level-2 table) covering va, allocating the PDPT and PD on the way
   (pud_alloc, pmd_alloc); PFN_NONE when out of memory. */
pfn_t pmd_table_alloc(struct kernel *k, struct mm_struct *mm, vaddr_t va);
/* The PD covering va without allocating, or PFN_NONE. */
pfn_t pmd_table_lookup(struct kernel *k, struct mm_struct *mm, vaddr_t va);

/*
 * walk_page_range with a pte_entry callback: fn is called for every leaf of
 * [start, end) (page aligned) that is not pte_none (present or PROT_NONE),
 * with the PT frame and index holding it. fn may rewrite that entry and may
 * allocate tables elsewhere, but must not free tables.
 */
typedef void (*pte_entry_fn)(struct kernel *k, void *ctx, pfn_t pt, unsigned idx, vaddr_t va,
                             pte_t e);
void walk_page_range(struct kernel *k, struct mm_struct *mm, vaddr_t start, vaddr_t end,
                     pte_entry_fn fn, void *ctx);

/* flush_tlb_mm_range: invalidate [start, end) (page aligned) of mm when it
   is the loaded address space: page by page up to
   TLB_SINGLE_PAGE_FLUSH_CEILING pages, else the whole TLB. */
void flush_tlb_mm_range(struct kernel *k, struct mm_struct *mm, vaddr_t start, vaddr_t end);

/* free_pgtables: free the page-table pages that map nothing any more below
   [start, end) (only tables wholly inside the range that are empty). */
void free_pgtables(struct kernel *k, struct mm_struct *mm, vaddr_t start, vaddr_t end);

/* Free every page-table page of mm, including the pgd (exit_mmap, after zap). */
void pgd_free_all(struct kernel *k, struct mm_struct *mm);

/*
 * Invariants: every present entry points at an allocated frame of the right
 * kind (table pages FK_PAGETABLE, leaves FK_ANON or the zero page), user
 * leaves lie inside a VMA, RSS equals the present anonymous leaves,
 * pgtables_bytes equals the table pages, no frame both free and mapped.
 * (Frame refcounts against the mappings of every mm: rmap_check.)
 * Returns #broken, reports the first.
 */
int pgtable_check(struct kernel *k, struct mm_struct *mm, FILE *err);

/* Count present leaves of mm (anon frames and zero-page mappings) and the
   table pages below the PML4 (so tables * PAGE_SIZE == pgtables_bytes). Any
   pointer may be NULL. */
void pgtable_count(struct kernel *k, struct mm_struct *mm, uint64_t *anon, uint64_t *zero,
		   uint64_t *tables);

/* Number of pages flushed one by one before zap_page_range flushes the whole
   TLB instead (tlb_single_page_flush_ceiling, arch/x86/mm/tlb.c). */
#define TLB_SINGLE_PAGE_FLUSH_CEILING 33

#endif
