/*
 * pagetable.c - the x86-64 4-level page-table format and the software walk.
 *
 * Tables live in simulated frames; entries are read and written as 8-byte
 * little-endian words of physical memory. pagewalk() is the side-effect-free
 * walk the kernel's checkers and the viewer use (like Linux's
 * follow_page / walk_page_range reading pgd -> pud -> pmd -> pte); the CPU's
 * own walk, which sets Accessed/Dirty and emits events, is in cpu.c.
 */
#include "pagetable.h"

#include <inttypes.h>
#include <string.h>

#include "panic.h"

/* The out-of-line halves of pt_get/pt_set (pagetable.h): they panic. */
pte_t pt_get_checked(struct phys *ph, pfn_t table_pfn, unsigned idx)
{
	if (idx >= PT_ENTRIES)
		panic("index %u in table %#" PRIx64, idx, table_pfn);
	return phys_read64(ph, pfn_to_paddr(table_pfn) + idx * sizeof(pte_t));
}

void pt_set_checked(struct phys *ph, pfn_t table_pfn, unsigned idx, pte_t e)
{
	if (idx >= PT_ENTRIES)
		panic("index %u in table %#" PRIx64, idx, table_pfn);
	phys_write64(ph, pfn_to_paddr(table_pfn) + idx * sizeof(pte_t), e);
}

/*
 * Stops at the first entry that is not present, or that points beyond RAM
 * (a broken table: reported as not present so that checkers can say so
 * instead of crashing). Huge pages (PSE) are not modelled: an upper-level
 * entry always points at the next table.
 */
pte_t pagewalk(struct phys *ph, pfn_t cr3_pfn, vaddr_t va, struct walk *w)
{
	struct walk local;
	pfn_t table = cr3_pfn;

	if (!w)
		w = &local;
	memset(w, 0, sizeof(*w));
	w->va = va;
	if (!vaddr_canonical(va) || !phys_valid_pfn(ph, table))
		return 0;
	for (int level = PT_LEVELS; level >= 1; level--) {
		int i = PT_LEVELS - level;
		pte_t e;

		w->table[i] = table;
		w->index[i] = pt_index(va, level);
		e = pt_get(ph, table, w->index[i]);
		w->entry[i] = e;
		w->depth = i + 1;
		if (!pte_present(e) || !phys_valid_pfn(ph, pte_pfn(e)))
			return 0;
		table = pte_pfn(e);
	}
	w->present = true;
	return w->entry[PT_LEVELS - 1];
}

const char *pt_level_name(int level)
{
	static const char *const names[PT_LEVELS + 1] = {"?", "PT", "PD", "PDPT", "PML4"};

	return level >= 1 && level <= PT_LEVELS ? names[level] : "?";
}

void pte_format_flags(pte_t e, char *buf, size_t len)
{
	static const struct {
		pte_t bit;
		const char *name;
	} flags[] = {
	    {PTE_P, "P"},     {PTE_RW, "RW"},
	    {PTE_US, "US"},   {PTE_PWT, "PWT"},
	    {PTE_PCD, "PCD"}, {PTE_A, "A"},
	    {PTE_D, "D"},     {PTE_PSE, "PSE"},
	    {PTE_G, "G"},     {PTE_SPECIAL, "SPECIAL"},
	    {PTE_NX, "NX"},
	};
	size_t at = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		int n;

		if (!(e & flags[i].bit))
			continue;
		n = snprintf(buf + at, len - at, "%s%s", at ? " " : "", flags[i].name);
		if (n < 0 || (size_t)n >= len - at)
			return;
		at += (size_t)n;
	}
	if (!at)
		snprintf(buf, len, "-");
}
