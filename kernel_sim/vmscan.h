/*
 * vmscan.h - page reclaim (mm/vmscan.c, and mm/rmap.c's folio_referenced /
 * try_to_unmap for anonymous folios): direct reclaim from the allocation
 * slow path and kswapd's balance_pgdat.
 *
 * Reclaim scans the anonymous LRU from its tails. A folio whose PTE was
 * accessed since the last look (the accessed bit the CPU sets, cleared by
 * folio_referenced) gets a second chance on the inactive list, or goes to
 * the active list when it was already marked referenced; one that was not
 * gets a swap slot (add_to_swap), loses its PTE to a swap entry
 * (try_to_unmap), is written out (pageout) and freed. The active list is
 * aged into the inactive one when the inactive list is too small
 * (inactive_is_low).
 */
#ifndef KERNEL_SIM_VMSCAN_H
#define KERNEL_SIM_VMSCAN_H

#include <stdint.h>

struct kernel;

#define DEF_PRIORITY     12
#define SWAP_CLUSTER_MAX 32

/* try_to_free_pages: direct reclaim of SWAP_CLUSTER_MAX pages; returns pages reclaimed. */
uint64_t try_to_free_pages(struct kernel *k, unsigned order);

#endif
