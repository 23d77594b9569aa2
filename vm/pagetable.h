/*
 * pagetable.h - the x86-64 4-level page-table format and the page walk.
 *
 * A 48-bit canonical virtual address splits as:
 *
 *   63      48 47     39 38     30 29     21 20     12 11          0
 *  +----------+---------+---------+---------+---------+-------------+
 *  | sign ext | PML4    | PDPT    | PD      | PT      | offset      |
 *  | = bit 47 | (pgd)   | (pud)   | (pmd)   | (pte)   | in the page |
 *  +----------+---------+---------+---------+---------+-------------+
 *                9 bits    9 bits    9 bits    9 bits     12 bits
 *
 * Each table is one 4 KiB frame of 512 8-byte entries; p4d is folded.
 * An entry holds the flags below and the PFN of the next table (or of the
 * page, in a PT) in bits 12-51. Level numbers here: 4 = PML4 ... 1 = PT.
 */
#ifndef VM_PAGETABLE_H
#define VM_PAGETABLE_H

#include "phys.h"
#include "types.h"

#define PTE_P (1ULL << 0)       /* present */
#define PTE_RW (1ULL << 1)      /* writable */
#define PTE_US (1ULL << 2)      /* user accessible */
#define PTE_PWT (1ULL << 3)
#define PTE_PCD (1ULL << 4)
#define PTE_A (1ULL << 5)       /* accessed: set by the CPU on walk */
#define PTE_D (1ULL << 6)       /* dirty: set by the CPU on write */
#define PTE_PSE (1ULL << 7)
#define PTE_G (1ULL << 8)
#define PTE_SPECIAL (1ULL << 9) /* software: _PAGE_SPECIAL (zero page) */
#define PTE_NX (1ULL << 63)
#define PTE_PFN_MASK 0x000ffffffffff000ULL

#define PT_ENTRIES 512
#define PT_LEVELS 4

#define USER_VA_END 0x00007ffffffff000ULL /* TASK_SIZE_MAX */

static inline pfn_t pte_pfn(pte_t e) { return (e & PTE_PFN_MASK) >> PAGE_SHIFT; }
static inline pte_t pte_mk(pfn_t pfn, pte_t flags) { return (pfn << PAGE_SHIFT) | flags; }
static inline bool pte_present(pte_t e) { return e & PTE_P; }

/* Index of va in the table at level (4 = PML4 .. 1 = PT): bits 12+9*(level-1) .. */
static inline unsigned pt_index(vaddr_t va, int level)
{
	return (unsigned)(va >> (PAGE_SHIFT + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

/* Bits 63:48 equal bit 47. 0x00007fffffffffff yes, 0x0000800000000000 no. */
static inline bool vaddr_canonical(vaddr_t va)
{
	return (uint64_t)(((int64_t)(va << 16)) >> 16) == va;
}

/* Entry idx of the table in frame table_pfn. */
pte_t pt_get_checked(struct phys *ph, pfn_t table_pfn, unsigned idx);
__attribute__((cold)) void pt_set_checked(struct phys *ph, pfn_t table_pfn, unsigned idx, pte_t e);

/*
 * pt_get and pt_set are inline: the fault path reads and writes entries
 * several times per fault. An index inside the table of a frame in RAM is
 * read or written in place; anything else goes to the _checked versions,
 * which panic (a simulator bug).
 */
static inline bool pt_slot_ok(const struct phys *ph, pfn_t table_pfn, unsigned idx)
{
	return idx < PT_ENTRIES && phys_valid_pfn(ph, table_pfn);
}

static inline pte_t pt_get(struct phys *ph, pfn_t table_pfn, unsigned idx)
{
	pte_t e;

	if (__builtin_expect(!pt_slot_ok(ph, table_pfn, idx), 0))
		return pt_get_checked(ph, table_pfn, idx);
	__builtin_memcpy(&e, ph->mem + pfn_to_paddr(table_pfn) + idx * sizeof(pte_t), sizeof(e));
	return e;
}

static inline void pt_set(struct phys *ph, pfn_t table_pfn, unsigned idx, pte_t e)
{
	if (__builtin_expect(!pt_slot_ok(ph, table_pfn, idx), 0))
		pt_set_checked(ph, table_pfn, idx, e);
	else
		__builtin_memcpy(ph->mem + pfn_to_paddr(table_pfn) + idx * sizeof(pte_t), &e,
				 sizeof(e));
}

/* The result of a software walk, level by level (index 0 = PML4). */
struct walk {
	vaddr_t va;
	pfn_t table[PT_LEVELS]; /* frame of the table read at each level */
	unsigned index[PT_LEVELS];
	pte_t entry[PT_LEVELS];
	int depth;              /* how many levels were read (1..4) */
	bool present;           /* the leaf PTE is present */
};

/*
 * Walk the tables from the PML4 in cr3_pfn for va, without side effects (no
 * A/D update, no events): for the kernel, the checkers and the viewer.
 * Returns the leaf entry when present, else 0; w may be NULL.
 */
pte_t pagewalk(struct phys *ph, pfn_t cr3_pfn, vaddr_t va, struct walk *w);

/* Name of a level for display: 4 "PML4", 3 "PDPT", 2 "PD", 1 "PT". */
const char *pt_level_name(int level);
/* "P RW US A D NX" style flag string of e into buf. */
void pte_format_flags(pte_t e, char *buf, size_t len);

#endif
