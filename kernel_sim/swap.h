/*
 * swap.h - one swap area (mm/swapfile.c, mm/swap_state.c, mm/page_io.c,
 * include/linux/swapops.h, arch/x86/include/asm/pgtable_64.h).
 *
 * The area models a RAM-backed synchronous block device (zram-like,
 * SWP_SYNCHRONOUS_IO): its pages live in host memory reserved lazily
 * (MAP_NORESERVE) and bounded by its size, a write or a read completes at
 * once. Page 0 holds the swap header, so an area of N pages offers N - 1
 * slots (what /proc/swaps and SwapTotal show). swap_map[offset] counts the
 * references to each slot (PTEs holding its entry), plus SWAP_HAS_CACHE
 * while a folio for it is in the swap cache.
 *
 * A swap entry lives in a non-present PTE as x86-64 stores it: the type in
 * bits 63:59, the offset inverted (~offset) in bits 58:9 (the L1TF
 * mitigation: a PTE whose present bit is clear never holds the frame number
 * of real memory), bit 3 (_PAGE_PWT) as _PAGE_SWP_EXCLUSIVE. Swap entry of
 * type 0, offset 1, exclusive: 0x07fffffffffffc08.
 */
#ifndef KERNEL_SIM_SWAP_H
#define KERNEL_SIM_SWAP_H

#include <stdint.h>
#include <stdio.h>

#include "../vm/pagetable.h"
#include "../vm/types.h"

#define SWP_TYPE_BITS       5
#define SWP_OFFSET_SHIFT    14 /* SWP_OFFSET_FIRST_BIT (9) + SWP_TYPE_BITS */
#define _PAGE_SWP_EXCLUSIVE PTE_PWT

/* swap_map values (include/linux/swap.h) */
#define SWAP_HAS_CACHE 0x40 /* a folio for the slot is in the swap cache */
#define SWAP_MAP_MAX   0x3e /* most references a slot counts here */
#define SWAP_MAP_BAD   0x3f /* the header page */

/* swap_info_struct->flags */
#define SWP_USED    0x1
#define SWP_WRITEOK 0x2

#define SWAP_MIN_BYTES (10 * PAGE_SIZE) /* mkswap: "swap area needs to be at least 40 KiB" */
#define SWAP_MAX_BYTES (64ULL << 30)    /* the model's bound on the host memory it may use */
#define SWAP_DEV_NAME  "/dev/zram0"

/* __swp_entry_to_pte: the non-present PTE holding (type, offset). */
static inline pte_t swp_entry_to_pte(unsigned type, uint64_t offset)
{
	return (~offset << SWP_OFFSET_SHIFT >> SWP_TYPE_BITS) |
	       ((uint64_t)type << (64 - SWP_TYPE_BITS));
}
static inline unsigned pte_swp_type(pte_t e) { return (unsigned)(e >> (64 - SWP_TYPE_BITS)); }
static inline uint64_t pte_swp_offset(pte_t e) { return ~e << SWP_TYPE_BITS >> SWP_OFFSET_SHIFT; }
/* is_swap_pte: neither none nor present (x86's pte_present counts PROT_NONE, bit 8). */
static inline bool is_swap_pte(pte_t e) { return e && !(e & (PTE_P | PTE_G)); }

struct swap_info_struct {
	unsigned long flags; /* SWP_* */
	int prio;            /* -2 for the first area swapon gives no priority */
	uint64_t max;        /* pages of the device, header included */
	uint64_t pages;      /* usable slots: max - 1 */
	uint64_t inuse_pages;
	uint64_t cluster_next; /* where the search for a free slot starts */
	uint8_t *swap_map;     /* max counts */
	uint32_t *cache;       /* swap cache: pfn + 1 of the folio for each slot, 0 none */
	uint8_t *store;        /* the device's contents: max pages, lazily backed */
};

struct kernel;

/* Make the area (mkswap + swapon, also at boot for --swap): 0 or -errno as below. */
int swapon_area(struct kernel *k, uint64_t bytes);
/* swapon of an area of bytes: 0 or -errno (EINVAL size, EBUSY already on). */
int64_t sys_swapon(struct kernel *k, uint64_t bytes);
/* swapoff: every swapped page read back (try_to_unuse). 0 or -errno
   (EINVAL no area, ENOMEM not enough memory). */
int64_t sys_swapoff(struct kernel *k);
/* Free the area (kernel_shutdown). */
void swap_destroy(struct kernel *k);

/* total_swap_pages and the free ones (nr_swap_pages): 0 when no area. */
uint64_t swap_total_pages(const struct kernel *k);
uint64_t swap_free_pages(const struct kernel *k);

/*
 * add_to_swap: give anonymous folio pfn a slot (folio_alloc_swap) and put
 * it in the swap cache (PG_swapcache, dirty). false when no slot is free.
 */
bool add_to_swap(struct kernel *k, pfn_t pfn);
/* __delete_from_swap_cache: the folio leaves the cache; the slot drops SWAP_HAS_CACHE. */
void delete_from_swap_cache(struct kernel *k, pfn_t pfn);
/* swap_duplicate: one more PTE holds entry offset. */
void swap_duplicate(struct kernel *k, uint64_t offset);
/* swap_free: a PTE holding offset went away; the slot is freed at count 0. */
void swap_free(struct kernel *k, uint64_t offset);
/* The references swap_map counts for offset, without SWAP_HAS_CACHE (__swap_count). */
unsigned swap_count(const struct kernel *k, uint64_t offset);
/* add_to_swap_cache: a folio read back for a slot other PTEs still hold
   stays in the swap cache, where their faults find it. */
void add_to_swap_cache(struct kernel *k, pfn_t pfn, uint64_t offset);
/* swap_cache_get_folio: the folio in the swap cache for offset, or PFN_NONE. */
pfn_t swap_cache_get_folio(struct kernel *k, uint64_t offset);
/* swap_writepage: the folio's page goes to its slot (pswpout). */
void swap_writepage(struct kernel *k, pfn_t pfn);
/* swap_read_folio: the slot's page into frame pfn (pswpin). */
void swap_read_folio(struct kernel *k, pfn_t pfn, uint64_t offset);

/* /proc/swaps */
void swap_show(const struct kernel *k, FILE *out);
/* Slot counts consistent: inuse_pages equals the slots in use, the header
   is SWAP_MAP_BAD, a cached slot's folio is PG_swapcache for that slot.
   Returns #broken, reports the first. */
int swap_check(struct kernel *k, FILE *err);

#endif
