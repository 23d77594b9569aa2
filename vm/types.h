/*
 * types.h - the address types of the simulated machine.
 *
 * Every address in the simulation is one of these; an address of one kind is
 * never silently used as another (STYLE.md, rule 2). All are 64-bit so that a
 * 4 GiB machine and the full 48-bit virtual space fit.
 */
#ifndef VM_TYPES_H
#define VM_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t vaddr_t; /* simulated virtual address */
typedef uint64_t paddr_t; /* simulated physical address */
typedef uint64_t pfn_t;   /* physical frame number = paddr >> PAGE_SHIFT */
typedef uint64_t pte_t;   /* one x86-64 page-table entry, any level */

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ULL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & PAGE_MASK)
#define PAGE_ALIGN_DOWN(x) ((x) & PAGE_MASK)
#define PFN_NONE ((pfn_t)-1)

static inline pfn_t paddr_to_pfn(paddr_t pa) { return pa >> PAGE_SHIFT; }
static inline paddr_t pfn_to_paddr(pfn_t pfn) { return pfn << PAGE_SHIFT; }

#endif
