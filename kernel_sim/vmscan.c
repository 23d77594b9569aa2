/*
 * vmscan.c - page reclaim of anonymous memory, after mm/vmscan.c
 * (try_to_free_pages -> do_try_to_free_pages -> shrink_node ->
 * shrink_lruvec -> get_scan_count, shrink_list -> shrink_active_list /
 * shrink_inactive_list -> shrink_folio_list -> folio_check_references,
 * add_to_swap, try_to_unmap, pageout; kswapd -> balance_pgdat ->
 * kswapd_shrink_node) and mm/rmap.c (folio_referenced, try_to_unmap_one).
 *
 * What the model leaves out, and why it does not change the outcome here:
 * there are no file pages, so every file list is empty and get_scan_count
 * only chooses how much anon to scan; lru_note_cost is not kept, so
 * SCAN_FRACT weighs anon by swappiness alone (both costs 0); there are no
 * memory cgroups (the root is online, so a list shorter than 2^priority is
 * not scanned at that priority); writeback is synchronous (SWP_SYNCHRONOUS_IO),
 * so a folio written by pageout is freed in the same pass.
 *
 * The reverse map (rmap.h) finds every PTE of an anonymous folio, one per
 * process that shares it since fork: folio_referenced and try_to_unmap walk
 * them all.
 */
#include "vmscan.h"

#include "../vm/pagetable.h"
#include "../vm/panic.h"
#include "page_alloc.h"
#include "pgtable.h"
#include "rmap.h"
#include "switch.h"
#include "task.h"

#define K LAYER_KERNEL

enum scan_balance { SCAN_EQUAL, SCAN_FRACT, SCAN_ANON, SCAN_FILE };
enum folio_references { FOLIOREF_RECLAIM, FOLIOREF_KEEP, FOLIOREF_ACTIVATE };

struct scan_control {
	uint64_t nr_to_reclaim;
	uint64_t nr_reclaimed;
	uint64_t nr_scanned;
	int priority;
	bool kswapd; /* current_is_kswapd() */
	bool may_deactivate;
	bool force_deactivate;
	bool skipped_deactivate;
	bool file_is_tiny;
};

/* folio_referenced_one, for each PTE rmap_walk_anon finds. */
static bool folio_referenced_one(struct kernel *k, const struct rmap_hit *h, void *arg)
{
	unsigned *referenced = arg;
	pte_t e = pt_get(&k->phys, h->pt, h->idx);

	if (e & PTE_A) {
		pt_set(&k->phys, h->pt, h->idx, e & ~PTE_A);
		EV(&k->probe, K, EV_PTE_SET, "ptep_clear_flush_young", NULL, {"addr", h->address},
		   {"old", e}, {"new", e & ~PTE_A}, {"level", 1});
		(*referenced)++;
	}
	return true;
}

/*
 * folio_referenced: how many PTEs mapping the folio were young, clearing
 * their accessed bits (ptep_clear_flush_young: on x86 without a TLB flush,
 * so a page whose translation stays cached is not seen young again until
 * the entry is evicted, as on the real CPU). Every mapping counts: a page
 * shared since fork is looked at in each process (rmap_walk_anon).
 */
static unsigned folio_referenced(struct kernel *k, pfn_t pfn)
{
	unsigned referenced = 0;

	probe_call(&k->probe, K, "folio_referenced", {"pfn", pfn});
	rmap_walk_anon(k, pfn, folio_referenced_one, &referenced);
	probe_ret(&k->probe, K, "folio_referenced", {"ret", referenced});
	return referenced;
}

struct unmap_arg {
	pfn_t pfn;
	bool kept;      /* a lazily freed folio written since: not unmapped */
	bool discarded; /* a lazily freed, clean folio: its PTEs became none */
};

/*
 * try_to_unmap_one: this PTE becomes the folio's swap entry. A lazily freed
 * folio (MADV_FREE: not PG_swapbacked) whose PTE and folio are still clean
 * is discarded instead: the PTE becomes none, nothing is written. One
 * written since stays mapped and is swap-backed again (the walk stops, and
 * reclaim keeps it).
 */
static bool try_to_unmap_one(struct kernel *k, const struct rmap_hit *h, void *arg)
{
	struct unmap_arg *a = arg;
	struct folio *f = pfn_folio(&k->lruvec, a->pfn);
	struct frame *fr = phys_frame(&k->phys, a->pfn);
	pte_t old = pt_get(&k->phys, h->pt, h->idx);
	bool lazy = !(f->flags & PG_swapbacked);
	pte_t n = 0; /* discard: the next touch faults a zeroed page */

	if (lazy && ((old & PTE_D) || (f->flags & PG_dirty))) {
		f->flags |= PG_swapbacked; /* folio_set_swapbacked: keep it */
		a->kept = true;
		return false;
	}
	if (!lazy) {
		n = swp_entry_to_pte(0, f->swap);
		if (folio_rmap(k, a->pfn)->exclusive)
			n |= _PAGE_SWP_EXCLUSIVE; /* pte_swp_mkexclusive */
	}
	/* ptep_clear_flush: the translation must leave the TLB now. */
	pt_set(&k->phys, h->pt, h->idx, n);
	if (flush_tlb_mm_gen(k, h->mm))
		cpu_invlpg(&k->cpu, h->address);
	h->mm->rss_stat[MM_ANONPAGES]--;
	if (lazy) {
		a->discarded = true;
		EV(&k->probe, K, EV_PTE_CLEAR, "try_to_unmap_one", NULL, {"addr", h->address},
		   {"old", old});
	} else {
		if (old & PTE_D)
			f->flags |= PG_dirty; /* folio_mark_dirty */
		swap_duplicate(k, f->swap);
		h->mm->rss_stat[MM_SWAPENTS]++;
		EV(&k->probe, K, EV_PTE_SET, "try_to_unmap_one", NULL, {"addr", h->address},
		   {"old", old}, {"new", n}, {"level", 1});
	}
	folio_remove_rmap_pte(k, a->pfn);
	fr->refcount--; /* folio_put: isolation holds it now */
	return true;
}

/* try_to_unmap: every PTE of the folio, found by the reverse map, becomes
   its swap entry, or none (*discarded) for a lazily freed clean folio.
   true when no mapping is left. */
static bool try_to_unmap(struct kernel *k, pfn_t pfn, bool *discarded)
{
	struct unmap_arg a = {pfn, false, false};
	bool ok;

	probe_call(&k->probe, K, "try_to_unmap", {"pfn", pfn});
	rmap_walk_anon(k, pfn, try_to_unmap_one, &a);
	ok = !a.kept && folio_rmap(k, pfn)->mapcount == 0;
	*discarded = ok && a.discarded;
	probe_ret(&k->probe, K, "try_to_unmap", {"ret", ok});
	return ok;
}

/* pageout -> swap_writepage: synchronous, so the folio is clean at once. */
static void pageout(struct kernel *k, pfn_t pfn)
{
	struct folio *f = pfn_folio(&k->lruvec, pfn);

	probe_call(&k->probe, K, "pageout", {"pfn", pfn});
	f->flags &= ~(uint32_t)PG_dirty; /* folio_clear_dirty_for_io */
	swap_writepage(k, pfn);
	probe_ret(&k->probe, K, "pageout", {"ret", 0}); /* PAGE_SUCCESS */
}

static enum folio_references folio_check_references(struct kernel *k, pfn_t pfn)
{
	struct folio *f = pfn_folio(&k->lruvec, pfn);
	unsigned referenced_ptes = folio_referenced(k, pfn);
	bool referenced_folio = f->flags & PG_referenced;

	f->flags &= ~(uint32_t)PG_referenced; /* folio_test_clear_referenced */
	if (referenced_ptes) {
		/* Mapped folios start with a reference from the fault that made
		   them: look twice before activating. */
		f->flags |= PG_referenced;
		if (referenced_folio || referenced_ptes > 1)
			return FOLIOREF_ACTIVATE;
		return FOLIOREF_KEEP;
	}
	return FOLIOREF_RECLAIM;
}

/*
 * shrink_folio_list over the isolated folios list[0..n): each is either
 * freed (counted) or left in list[] with PG_active set when it should go to
 * the active list. Returns the number reclaimed; freed entries become PFN_NONE.
 */
static uint64_t shrink_folio_list(struct kernel *k, pfn_t *list, unsigned n)
{
	uint64_t reclaimed = 0;

	probe_call(&k->probe, K, "shrink_folio_list", {"nr", n});
	for (unsigned i = 0; i < n; i++) {
		pfn_t pfn = list[i];
		struct folio *f = pfn_folio(&k->lruvec, pfn);
		enum folio_references ref = folio_check_references(k, pfn);
		bool discarded;

		if (ref == FOLIOREF_ACTIVATE)
			goto activate;
		if (ref == FOLIOREF_KEEP) {
			EV(&k->probe, K, EV_NOTE, "shrink_folio_list",
			   "referenced once: kept on the inactive list", {"pfn", pfn});
			continue;
		}
		/* A lazily freed folio needs no slot: it is dropped, not written. */
		if ((f->flags & PG_swapbacked) && !(f->flags & PG_swapcache) && !add_to_swap(k, pfn))
			goto activate; /* no slot: keep it in memory */
		if (!try_to_unmap(k, pfn, &discarded))
			goto activate;
		if (discarded) {
			count_vm_events(&k->vmstat, PGLAZYFREED, 1);
			EV(&k->probe, K, EV_NOTE, "shrink_folio_list",
			   "lazily freed and clean: dropped without a write", {"pfn", pfn});
		} else {
			if (f->flags & PG_dirty)
				pageout(k, pfn);
			/* __remove_mapping: out of the swap cache, then freed. */
			delete_from_swap_cache(k, pfn);
		}
		folio_release(&k->lruvec, pfn);
		buddy_free(&k->buddy, pfn, 0);
		list[i] = PFN_NONE;
		reclaimed++;
		continue;
activate:
		f->flags |= PG_active;
		count_vm_events(&k->vmstat, PGACTIVATE, 1);
		EV(&k->probe, K, EV_NOTE, "shrink_folio_list", "referenced again: activated",
		   {"pfn", pfn});
	}
	probe_ret(&k->probe, K, "shrink_folio_list", {"ret", reclaimed});
	return reclaimed;
}

/* isolate_lru_folios: up to nr from the tail of lru into list; returns how many. */
static unsigned isolate_lru_folios(struct kernel *k, enum lru_list lru, uint64_t nr, pfn_t *list)
{
	unsigned n = 0;

	while (n < nr && k->lruvec.tail[lru] != LRU_NONE) {
		pfn_t pfn = k->lruvec.tail[lru];

		lruvec_del_folio(&k->lruvec, pfn);
		list[n++] = pfn;
	}
	return n;
}

static uint64_t shrink_inactive_list(struct kernel *k, uint64_t nr_to_scan, struct scan_control *sc)
{
	pfn_t list[SWAP_CLUSTER_MAX];
	unsigned n;
	uint64_t reclaimed = 0;

	probe_call(&k->probe, K, "shrink_inactive_list", {"nr_to_scan", nr_to_scan});
	n = isolate_lru_folios(k, LRU_INACTIVE_ANON, nr_to_scan, list);
	count_vm_events(&k->vmstat, sc->kswapd ? PGSCAN_KSWAPD : PGSCAN_DIRECT, n);
	count_vm_events(&k->vmstat, PGSCAN_ANON, n);
	sc->nr_scanned += n;
	if (n) {
		reclaimed = shrink_folio_list(k, list, n);
		/* move_folios_to_lru: what is left goes back to the head of its list. */
		for (unsigned i = 0; i < n; i++) {
			pfn_t pfn = list[i];

			if (pfn == PFN_NONE)
				continue;
			lruvec_add_folio(&k->lruvec, pfn,
			                 (pfn_folio(&k->lruvec, pfn)->flags & PG_active)
			                     ? LRU_ACTIVE_ANON
			                     : LRU_INACTIVE_ANON);
		}
		count_vm_events(&k->vmstat, sc->kswapd ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT, reclaimed);
		count_vm_events(&k->vmstat, PGSTEAL_ANON, reclaimed);
	}
	probe_ret(&k->probe, K, "shrink_inactive_list", {"ret", reclaimed});
	return reclaimed;
}

/*
 * shrink_active_list: anonymous folios all go to the inactive list
 * (executable anon is not protected, as in Linux); folio_referenced clears
 * their accessed bits on the way, so the inactive list judges them afresh.
 */
static void shrink_active_list(struct kernel *k, uint64_t nr_to_scan, struct scan_control *sc)
{
	pfn_t list[SWAP_CLUSTER_MAX];
	unsigned n;

	probe_call(&k->probe, K, "shrink_active_list", {"nr_to_scan", nr_to_scan});
	n = isolate_lru_folios(k, LRU_ACTIVE_ANON, nr_to_scan, list);
	count_vm_events(&k->vmstat, PGREFILL, n);
	sc->nr_scanned += n;
	for (unsigned i = 0; i < n; i++) {
		folio_referenced(k, list[i]);
		pfn_folio(&k->lruvec, list[i])->flags &= ~(uint32_t)PG_active;
		lruvec_add_folio(&k->lruvec, list[i], LRU_INACTIVE_ANON);
	}
	count_vm_events(&k->vmstat, PGDEACTIVATE, n);
	probe_ret(&k->probe, K, "shrink_active_list", {"ret", n});
}

/* inactive_is_low: inactive * inactive_ratio < active, the ratio sqrt(10 x GiB) or 1. */
static bool inactive_is_low(const struct kernel *k)
{
	uint64_t inactive = k->lruvec.nr[LRU_INACTIVE_ANON], active = k->lruvec.nr[LRU_ACTIVE_ANON];
	uint64_t gb = (inactive + active) >> (30 - PAGE_SHIFT);
	uint64_t ratio = 1;

	if (gb) {
		for (ratio = 1; (ratio + 1) * (ratio + 1) <= 10 * gb; ratio++)
			;
	}
	return inactive * ratio < active;
}

/* get_scan_count: how many folios of each list to scan at this priority. */
static void get_scan_count(struct kernel *k, struct scan_control *sc, uint64_t nr[NR_LRU_LISTS])
{
	enum scan_balance balance;

	if (!swap_free_pages(k))
		balance = SCAN_FILE; /* no swap space: anon cannot be reclaimed */
	else if (!sc->priority && k->sysctl.swappiness)
		balance = SCAN_EQUAL;
	else if (sc->file_is_tiny)
		balance = SCAN_ANON;
	else
		balance = SCAN_FRACT;
	for (int lru = 0; lru < NR_LRU_LISTS; lru++) {
		uint64_t scan = k->lruvec.nr[lru] >> sc->priority;

		if (balance == SCAN_FILE)
			scan = 0;
		else if (balance == SCAN_FRACT) /* ap / (ap + fp) with both costs 0 */
			scan = scan * (uint64_t)k->sysctl.swappiness / 200;
		nr[lru] = scan;
	}
}

static void shrink_lruvec(struct kernel *k, struct scan_control *sc)
{
	uint64_t nr[NR_LRU_LISTS], reclaimed = 0;
	bool proportional = !sc->kswapd && sc->priority == DEF_PRIORITY;

	probe_call(&k->probe, K, "shrink_lruvec", {"priority", (uint64_t)sc->priority});
	get_scan_count(k, sc, nr);
	while (nr[LRU_INACTIVE_ANON]) {
		for (int lru = 0; lru < NR_LRU_LISTS; lru++) {
			uint64_t scan = nr[lru] < SWAP_CLUSTER_MAX ? nr[lru] : SWAP_CLUSTER_MAX;

			if (!scan)
				continue;
			nr[lru] -= scan;
			if (lru == LRU_ACTIVE_ANON) {
				if (sc->may_deactivate)
					shrink_active_list(k, scan, sc);
				else
					sc->skipped_deactivate = true;
			} else {
				reclaimed += shrink_inactive_list(k, scan, sc);
			}
		}
		if (reclaimed >= sc->nr_to_reclaim && !proportional)
			break; /* no file lists to balance against: stop */
	}
	sc->nr_reclaimed += reclaimed;
	if (swap_free_pages(k) && inactive_is_low(k))
		shrink_active_list(k, SWAP_CLUSTER_MAX, sc);
	probe_ret(&k->probe, K, "shrink_lruvec", {"ret", reclaimed});
}

/* shrink_node: prepare_scan_control, then the node's one lruvec. */
static void shrink_node(struct kernel *k, struct scan_control *sc)
{
	uint64_t before = sc->nr_reclaimed;
	uint64_t high = k->buddy.watermark[WMARK_HIGH];

	probe_call(&k->probe, K, "shrink_node", {"priority", (uint64_t)sc->priority});
	sc->may_deactivate = sc->force_deactivate || inactive_is_low(k);
	sc->file_is_tiny = k->buddy.free_pages <= high &&
	                   !(sc->may_deactivate &&
	                     (k->lruvec.nr[LRU_INACTIVE_ANON] >> sc->priority));
	shrink_lruvec(k, sc);
	if (sc->nr_reclaimed > before)
		k->kswapd.failures = 0;
	probe_ret(&k->probe, K, "shrink_node", {"ret", sc->nr_reclaimed - before});
}

uint64_t try_to_free_pages(struct kernel *k, unsigned order)
{
	struct scan_control sc = {.nr_to_reclaim = SWAP_CLUSTER_MAX, .priority = DEF_PRIORITY};

	probe_call(&k->probe, K, "try_to_free_pages", {"order", order});
	probe_call(&k->probe, K, "do_try_to_free_pages", {"nr_to_reclaim", sc.nr_to_reclaim});
	count_vm_events(&k->vmstat, ALLOCSTALL_NORMAL, 1);
	for (;;) {
		do {
			sc.nr_scanned = 0;
			shrink_node(k, &sc);
			if (sc.nr_reclaimed >= sc.nr_to_reclaim)
				break;
		} while (--sc.priority >= 0);
		if (sc.nr_reclaimed || !sc.skipped_deactivate || sc.force_deactivate)
			break;
		/* The active list held what could be reclaimed: age it too, once. */
		sc.priority = DEF_PRIORITY;
		sc.force_deactivate = true;
		sc.skipped_deactivate = false;
	}
	probe_ret(&k->probe, K, "do_try_to_free_pages", {"ret", sc.nr_reclaimed});
	probe_ret(&k->probe, K, "try_to_free_pages", {"ret", sc.nr_reclaimed});
	return sc.nr_reclaimed;
}

/* pgdat_balanced: free pages above the high watermark. */
static bool pgdat_balanced(const struct kernel *k)
{
	return zone_watermark_ok(&k->buddy, 0, k->buddy.watermark[WMARK_HIGH]);
}

/*
 * balance_pgdat: age the active list, then shrink the node at falling
 * priority until it is balanced at the high watermark. A run that reclaims
 * nothing counts as a kswapd failure; after MAX_RECLAIM_RETRIES of them
 * kswapd is not woken again until direct reclaim makes progress.
 */
static void balance_pgdat(struct kernel *k)
{
	struct scan_control sc = {.priority = DEF_PRIORITY, .kswapd = true};
	uint64_t high = k->buddy.watermark[WMARK_HIGH];

	probe_call(&k->probe, K, "balance_pgdat", {"free", k->buddy.free_pages}, {"high", high});
	do {
		uint64_t before = sc.nr_reclaimed;
		bool raise_priority;

		if (pgdat_balanced(k))
			break;
		if (swap_free_pages(k) && inactive_is_low(k))
			shrink_active_list(k, SWAP_CLUSTER_MAX, &sc); /* age_active_anon */
		/* kswapd_shrink_node */
		sc.nr_to_reclaim = high > SWAP_CLUSTER_MAX ? high : SWAP_CLUSTER_MAX;
		sc.nr_scanned = 0;
		probe_call(&k->probe, K, "kswapd_shrink_node", {"priority", (uint64_t)sc.priority});
		shrink_node(k, &sc);
		raise_priority = sc.nr_scanned < sc.nr_to_reclaim;
		probe_ret(&k->probe, K, "kswapd_shrink_node", {"ret", !raise_priority});
		if (raise_priority || sc.nr_reclaimed == before)
			sc.priority--;
	} while (sc.priority >= 1);
	if (!sc.nr_reclaimed)
		k->kswapd.failures++;
	probe_ret(&k->probe, K, "balance_pgdat", {"ret", sc.nr_reclaimed});
}

void kswapd_run(struct kernel *k)
{
	k->kswapd.runnable = false;
	k->kswapd.running = true;
	k->kswapd.runs++;
	probe_call(&k->probe, K, "kswapd", {"free", k->buddy.free_pages});
	balance_pgdat(k);
	probe_ret(&k->probe, K, "kswapd", {"ret", k->buddy.free_pages});
	k->kswapd.running = false;
}
