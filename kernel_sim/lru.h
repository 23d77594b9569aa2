/*
 * lru.h - what struct folio holds for reclaim, and the anonymous LRU lists
 * (include/linux/mm_types.h, include/linux/mmzone.h struct lruvec,
 * include/linux/mm_inline.h, mm/swap.c folio_add_lru).
 *
 * vm/phys.h's struct frame is 8 bytes and knows only the buddy allocator's
 * side of a page. The reclaim side (LRU links, PG_* flags, folio->swap for
 * the swap cache) is a second array indexed by pfn, reserved lazily like
 * RAM itself: a frame that never held an anonymous page never backs its
 * entry. The reverse map's side of the folio (folio->mapping, its anon_vma,
 * and folio->index) is rmap.h's struct anon_rmap.
 *
 * The classic two-list LRU (no MGLRU): new anonymous folios enter at the
 * head of inactive_anon (since Linux 5.9); reclaim takes from the tails.
 * Lists are doubly linked through pfns, O(1) to add and remove. One CPU and
 * no per-CPU folio batches: a folio is on its list as soon as it is added.
 */
#ifndef KERNEL_SIM_LRU_H
#define KERNEL_SIM_LRU_H

#include <stdint.h>
#include <stdio.h>

#include "../vm/types.h"

/* Folio flags (include/linux/page-flags.h), the ones reclaim reads. */
#define PG_lru        0x01 /* on an LRU list */
#define PG_active     0x02 /* ... the active one */
#define PG_referenced 0x04 /* seen referenced once by reclaim (second chance) */
#define PG_swapcache  0x08 /* in the swap cache: folio->swap is its slot */
#define PG_dirty      0x10 /* must be written before it can be dropped */
#define PG_swapbacked 0x20 /* anonymous: backed by swap, not by a file */

enum lru_list { LRU_INACTIVE_ANON, LRU_ACTIVE_ANON, NR_LRU_LISTS };

#define LRU_NONE UINT32_MAX

struct folio {
	uint32_t lru_prev, lru_next; /* pfns on the list, LRU_NONE at the ends */
	uint32_t flags;              /* PG_* */
	uint32_t swap;               /* PG_swapcache: the swap slot's offset */
};

struct lruvec {
	uint32_t head[NR_LRU_LISTS]; /* most recently added */
	uint32_t tail[NR_LRU_LISTS]; /* oldest: reclaim scans from here */
	uint64_t nr[NR_LRU_LISTS];   /* folios on each list (NR_INACTIVE_ANON, ...) */
	struct folio *folios;        /* nr_frames entries, lazily backed; owned */
	uint64_t nr_frames;
};

/* Reserve the folio array for nr_frames. 0, or -1 with errno. */
int lruvec_init(struct lruvec *l, uint64_t nr_frames);
void lruvec_destroy(struct lruvec *l);

static inline struct folio *pfn_folio(struct lruvec *l, pfn_t pfn)
{
	return &l->folios[pfn];
}

/* Put folio pfn at the head of list lru (it must be on none). */
void lruvec_add_folio(struct lruvec *l, pfn_t pfn, enum lru_list lru);
/* Put it at the tail (folio_rotate_reclaimable, a failed isolation). */
void lruvec_add_folio_tail(struct lruvec *l, pfn_t pfn, enum lru_list lru);
/* Take it off its list (it must be on one). Inline: every freed anonymous page comes here. */
void lruvec_del_folio_bad(pfn_t pfn);
static inline void lruvec_del_folio(struct lruvec *l, pfn_t pfn)
{
	struct folio *f = &l->folios[pfn];
	enum lru_list lru = (f->flags & PG_active) ? LRU_ACTIVE_ANON : LRU_INACTIVE_ANON;

	if (__builtin_expect(!(f->flags & PG_lru), 0))
		lruvec_del_folio_bad(pfn);
	if (f->lru_prev != LRU_NONE)
		l->folios[f->lru_prev].lru_next = f->lru_next;
	else
		l->head[lru] = f->lru_next;
	if (f->lru_next != LRU_NONE)
		l->folios[f->lru_next].lru_prev = f->lru_prev;
	else
		l->tail[lru] = f->lru_prev;
	f->lru_prev = f->lru_next = LRU_NONE;
	f->flags &= ~(uint32_t)PG_lru;
	l->nr[lru]--;
}

/* Link pfn at the head of list lru (no flags or counts changed). */
static inline void lru_link_head(struct lruvec *l, pfn_t pfn, enum lru_list lru)
{
	struct folio *f = &l->folios[pfn];
	uint32_t head = l->head[lru];

	f->lru_prev = LRU_NONE;
	f->lru_next = head;
	if (head != LRU_NONE)
		l->folios[head].lru_prev = (uint32_t)pfn;
	else
		l->tail[lru] = (uint32_t)pfn;
	l->head[lru] = (uint32_t)pfn;
}

/*
 * folio_add_lru_vma for a new anonymous folio: PG_swapbacked, then the head
 * of inactive_anon. Inline: the demand-zero fault calls it.
 */
static inline void folio_add_new_anon(struct lruvec *l, pfn_t pfn)
{
	struct folio *f = &l->folios[pfn];

	f->flags = PG_lru | PG_swapbacked;
	f->swap = 0;
	lru_link_head(l, pfn, LRU_INACTIVE_ANON);
	l->nr[LRU_INACTIVE_ANON]++;
}

/*
 * folio_mark_lazyfree (MADV_FREE): no longer swap-backed, not active, not
 * referenced, at the head of the inactive list (lru_lazyfree; see madvise.h).
 */
static inline void folio_mark_lazyfree(struct lruvec *l, pfn_t pfn)
{
	struct folio *f = &l->folios[pfn];

	if (!(f->flags & PG_lru) || (f->flags & PG_swapcache))
		return;
	lruvec_del_folio(l, pfn);
	f->flags &= ~(uint32_t)(PG_swapbacked | PG_active | PG_referenced);
	f->flags |= PG_lru;
	lru_link_head(l, pfn, LRU_INACTIVE_ANON);
	l->nr[LRU_INACTIVE_ANON]++;
}

/*
 * A folio is being freed (__folio_put -> lruvec_del_folio): off its list,
 * flags cleared. Nothing when it is on no list.
 */
static inline void folio_release(struct lruvec *l, pfn_t pfn)
{
	if (l->folios[pfn].flags & PG_lru)
		lruvec_del_folio(l, pfn);
	l->folios[pfn].flags = 0;
}

/*
 * Lists well formed (links agree both ways, no cycle, counts match),
 * every folio on a list has PG_lru and the list's PG_active. Returns
 * #broken, reports the first. O(folios on the lists).
 */
int lruvec_check(const struct lruvec *l, FILE *err);

#endif
