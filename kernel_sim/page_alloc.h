/*
 * page_alloc.h - the zone's watermarks and the allocation slow path
 * (mm/page_alloc.c: calculate_min_free_kbytes, __setup_per_zone_wmarks,
 * __alloc_pages_slowpath).
 *
 * The buddy allocator (buddy.c) is the zone's free lists and the fast path;
 * this file decides what happens when the fast path finds free memory at
 * or below the low watermark: wake kswapd, try again down to the min
 * watermark, reclaim directly, retry while reclaim can still make progress,
 * and only then call the OOM killer.
 */
#ifndef KERNEL_SIM_PAGE_ALLOC_H
#define KERNEL_SIM_PAGE_ALLOC_H

#include <stdint.h>

#include "buddy.h"

struct kernel;

#define MAX_RECLAIM_RETRIES 16

/* calculate_min_free_kbytes: int_sqrt(lowmem_kbytes * 16) clamped to [128, 262144]. */
int calculate_min_free_kbytes(uint64_t lowmem_kbytes);

/*
 * __setup_per_zone_wmarks over nzones zones of managed pages each (all of
 * them lowmem): min is the zone's share of min_free_kbytes >> 2 pages,
 * low = min + max(min / 4, managed * scale_factor / 10000), high = low + the
 * same, promo = high + the same. wmark[z][WMARK_*] receive them. Pure: the
 * oracle runs it on the host's own zones.
 */
void compute_zone_wmarks(uint64_t min_free_kbytes, int watermark_scale_factor,
                         const uint64_t *managed, unsigned nzones, uint64_t (*wmark)[NR_WMARK]);

/* init_per_zone_wmark_min at boot: the default min_free_kbytes, the watermarks, the slow path. */
void page_alloc_init(struct kernel *k);
/* setup_per_zone_wmarks after a sysctl write. */
void setup_per_zone_wmarks(struct kernel *k);

/* The gfp_mask an allocation of a frame of kind carries (for the OOM report). */
unsigned page_alloc_gfp(int kind, const char **name);

#endif
