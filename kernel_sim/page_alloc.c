/*
 * page_alloc.c - watermarks and the allocation slow path of mm/page_alloc.c
 * (init_per_zone_wmark_min, calculate_min_free_kbytes,
 * __setup_per_zone_wmarks, __alloc_pages_slowpath, wake_all_kswapds,
 * __alloc_pages_direct_reclaim, should_reclaim_retry,
 * __alloc_pages_may_oom); see page_alloc.h.
 *
 * The slow path runs inside buddy_alloc's __alloc_pages, which calls it
 * through the hook registered here when get_page_from_freelist finds the
 * zone at or below its low watermark. One zone, one CPU: no zonelist walk,
 * no per-CPU lists, no compaction (order-0 pages are all the model asks
 * for outside boot), no high-atomic reserves to unreserve.
 */
#include "page_alloc.h"

#include "kernel.h"
#include "oom.h"
#include "vmscan.h"

#define K LAYER_KERNEL

/* int_sqrt (lib/math/int_sqrt.c): the largest r with r * r <= x. */
static uint64_t int_sqrt(uint64_t x)
{
	uint64_t r = 0, bit = 1ULL << 62;

	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

int calculate_min_free_kbytes(uint64_t lowmem_kbytes)
{
	uint64_t v = int_sqrt(lowmem_kbytes * 16);

	return v < 128 ? 128 : v > 262144 ? 262144 : (int)v;
}

void compute_zone_wmarks(uint64_t min_free_kbytes, int watermark_scale_factor,
                         const uint64_t *managed, unsigned nzones, uint64_t (*wmark)[NR_WMARK])
{
	uint64_t pages_min = min_free_kbytes >> (PAGE_SHIFT - 10);
	uint64_t lowmem = 0;

	for (unsigned z = 0; z < nzones; z++)
		lowmem += managed[z];
	for (unsigned z = 0; z < nzones; z++) {
		uint64_t tmp = lowmem ? pages_min * managed[z] / lowmem : 0;
		/* mult_frac(managed, scale, 10000): without overflow in the product */
		uint64_t frac = managed[z] / 10000 * (uint64_t)watermark_scale_factor +
		                managed[z] % 10000 * (uint64_t)watermark_scale_factor / 10000;

		wmark[z][WMARK_MIN] = tmp;
		tmp = (tmp >> 2) > frac ? tmp >> 2 : frac;
		wmark[z][WMARK_LOW] = wmark[z][WMARK_MIN] + tmp;
		wmark[z][WMARK_HIGH] = wmark[z][WMARK_LOW] + tmp;
		wmark[z][WMARK_PROMO] = wmark[z][WMARK_HIGH] + tmp;
	}
}

void setup_per_zone_wmarks(struct kernel *k)
{
	uint64_t managed = k->buddy.managed;

	compute_zone_wmarks((uint64_t)k->sysctl.min_free_kbytes, k->sysctl.watermark_scale_factor,
	                    &managed, 1, &k->buddy.watermark);
}

unsigned page_alloc_gfp(int kind, const char **name)
{
	if (kind == FK_PAGETABLE) {
		*name = "GFP_KERNEL_ACCOUNT|__GFP_ZERO"; /* GFP_PGTABLE_USER */
		return 0x400dc0;
	}
	*name = "GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO"; /* vma_alloc_zeroed_movable_folio */
	return 0x140dca;
}

/* wakeup_kswapd: unless the node is balanced at high or hopeless, kswapd becomes runnable. */
static void wake_all_kswapds(struct kernel *k, unsigned order)
{
	struct probe *p = &k->probe;
	bool wake = !k->kswapd.running && !k->kswapd.runnable &&
	            k->kswapd.failures < MAX_RECLAIM_RETRIES &&
	            !zone_watermark_ok(&k->buddy, order, k->buddy.watermark[WMARK_HIGH]);

	probe_call(p, K, "wake_all_kswapds", {"order", order});
	if (wake) {
		k->kswapd.runnable = true;
		EV(p, K, EV_NOTE, "wakeup_kswapd", "kswapd0 woken: free pages below the low watermark",
		   {"free", k->buddy.free_pages}, {"low", k->buddy.watermark[WMARK_LOW]},
		   {"high", k->buddy.watermark[WMARK_HIGH]});
	}
	probe_ret(p, K, "wake_all_kswapds", {"ret", wake});
}

/* zone_reclaimable_pages: the anonymous LRU counts only while swap has room. */
static uint64_t zone_reclaimable_pages(struct kernel *k)
{
	if (!swap_free_pages(k))
		return 0;
	return k->lruvec.nr[LRU_INACTIVE_ANON] + k->lruvec.nr[LRU_ACTIVE_ANON];
}

/*
 * should_reclaim_retry: keep trying while reclaim made progress, at most
 * MAX_RECLAIM_RETRIES rounds without, and only while free plus reclaimable
 * pages would clear the min watermark.
 */
static bool should_reclaim_retry(struct kernel *k, unsigned order, bool progress,
                                 unsigned *no_progress_loops)
{
	uint64_t available = zone_reclaimable_pages(k) + k->buddy.free_pages;
	uint64_t need = (1ULL << order) - 1, min = k->buddy.watermark[WMARK_MIN];
	bool ret;

	probe_call(&k->probe, K, "should_reclaim_retry", {"order", order}, {"progress", progress},
	           {"loops", *no_progress_loops});
	if (progress)
		*no_progress_loops = 0;
	else
		(*no_progress_loops)++;
	ret = *no_progress_loops <= MAX_RECLAIM_RETRIES && available > need &&
	      available - need > min;
	probe_ret(&k->probe, K, "should_reclaim_retry", {"ret", ret});
	return ret;
}

static pfn_t __alloc_pages_direct_reclaim(struct kernel *k, unsigned order, int kind,
                                          bool *progress)
{
	pfn_t pfn = PFN_NONE;
	uint64_t reclaimed;

	probe_call(&k->probe, K, "__alloc_pages_direct_reclaim", {"order", order});
	reclaimed = try_to_free_pages(k, order);
	*progress = reclaimed > 0;
	if (reclaimed)
		pfn = buddy_get_page_from_freelist(&k->buddy, order, kind,
		                                   k->buddy.watermark[WMARK_MIN]);
	probe_ret(&k->probe, K, "__alloc_pages_direct_reclaim",
	          {"ret", pfn == PFN_NONE ? 0 : pfn});
	return pfn;
}

/*
 * __alloc_pages_may_oom: one more try at the high watermark (another
 * task may have freed memory meanwhile), then the OOM killer. When it kills
 * the allocating task itself, the kill unwinds out of here.
 */
static pfn_t __alloc_pages_may_oom(struct kernel *k, unsigned order, int kind, bool *progress)
{
	pfn_t pfn;

	probe_call(&k->probe, K, "__alloc_pages_may_oom", {"order", order});
	*progress = false;
	pfn = buddy_get_page_from_freelist(&k->buddy, order, kind, k->buddy.watermark[WMARK_HIGH]);
	if (pfn == PFN_NONE && k->current)
		*progress = out_of_memory(k, order, kind);
	probe_ret(&k->probe, K, "__alloc_pages_may_oom", {"ret", pfn == PFN_NONE ? 0 : pfn});
	return pfn;
}

static pfn_t __alloc_pages_slowpath(void *ctx, unsigned order, int kind)
{
	struct kernel *k = ctx;
	struct buddy *b = &k->buddy;
	unsigned no_progress_loops = 0;
	bool progress;
	pfn_t pfn;

	probe_call(&k->probe, K, "__alloc_pages_slowpath", {"order", order},
	           {"free", b->free_pages});
	wake_all_kswapds(k, order);
	/* ALLOC_WMARK_MIN: the reserve between min and low is for exactly this. */
	pfn = buddy_get_page_from_freelist(b, order, kind, b->watermark[WMARK_MIN]);
	if (pfn != PFN_NONE || k->kswapd.running)
		goto out; /* kswapd itself never reclaims for its own allocations */
	for (;;) {
		pfn = __alloc_pages_direct_reclaim(k, order, kind, &progress);
		if (pfn != PFN_NONE)
			break;
		if (should_reclaim_retry(k, order, progress, &no_progress_loops)) {
			pfn = buddy_get_page_from_freelist(b, order, kind, b->watermark[WMARK_MIN]);
			if (pfn != PFN_NONE)
				break;
			continue;
		}
		pfn = __alloc_pages_may_oom(k, order, kind, &progress);
		if (pfn != PFN_NONE || !progress)
			break;
		no_progress_loops = 0;
	}
out:
	probe_ret(&k->probe, K, "__alloc_pages_slowpath", {"ret", pfn == PFN_NONE ? 0 : pfn});
	return pfn;
}

void page_alloc_init(struct kernel *k)
{
	/* nr_free_buffer_pages before any watermark: every managed page. */
	k->sysctl.min_free_kbytes = calculate_min_free_kbytes(k->buddy.managed << (PAGE_SHIFT - 10));
	k->sysctl.user_min_free_kbytes = -1;
	k->sysctl.watermark_scale_factor = 10;
	k->sysctl.overcommit_memory = OVERCOMMIT_GUESS;
	k->sysctl.overcommit_ratio = 50;
	k->sysctl.swappiness = 60;
	setup_per_zone_wmarks(k);
	k->buddy.slowpath = __alloc_pages_slowpath;
	k->buddy.slowpath_ctx = k;
}
