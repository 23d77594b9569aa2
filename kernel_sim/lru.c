/*
 * lru.c - the anonymous LRU lists of one node (mm/swap.c, mm_inline.h's
 * lruvec_add_folio / lruvec_del_folio); see lru.h.
 */
#include "lru.h"

#include <errno.h>

#include "../vm/hostmem.h"
#include "../vm/panic.h"
#include "vmstat.h"

const char *const vm_event_names[NR_VM_EVENT_ITEMS] = {
    [PGPGIN] = "pgpgin",
    [PGPGOUT] = "pgpgout",
    [PSWPIN] = "pswpin",
    [PSWPOUT] = "pswpout",
    [ALLOCSTALL_NORMAL] = "allocstall_normal",
    [PGACTIVATE] = "pgactivate",
    [PGDEACTIVATE] = "pgdeactivate",
    [PGFAULT] = "pgfault",
    [PGMAJFAULT] = "pgmajfault",
    [PGREFILL] = "pgrefill",
    [PGSTEAL_KSWAPD] = "pgsteal_kswapd",
    [PGSTEAL_DIRECT] = "pgsteal_direct",
    [PGSCAN_KSWAPD] = "pgscan_kswapd",
    [PGSCAN_DIRECT] = "pgscan_direct",
    [PGSCAN_ANON] = "pgscan_anon",
    [PGSTEAL_ANON] = "pgsteal_anon",
    [PGROTATED] = "pgrotated",
    [PGLAZYFREED] = "pglazyfreed",
    [OOM_KILL] = "oom_kill",
};

int lruvec_init(struct lruvec *l, uint64_t nr_frames)
{
	void *m;

	for (int i = 0; i < NR_LRU_LISTS; i++) {
		l->head[i] = l->tail[i] = LRU_NONE;
		l->nr[i] = 0;
	}
	l->nr_frames = nr_frames;
	/* MAP_NORESERVE (hostmem_map): a 4 GiB machine that touched 10 MiB backs
	   10 MiB/4096 entries. */
	m = hostmem_map(nr_frames * sizeof(struct folio), false);
	if (!m) {
		l->folios = NULL;
		return -1;
	}
	l->folios = m;
	return 0;
}

void lruvec_destroy(struct lruvec *l)
{
	if (l->folios)
		hostmem_unmap(l->folios, l->nr_frames * sizeof(struct folio));
	l->folios = NULL;
}

static void link_tail(struct lruvec *l, pfn_t pfn, enum lru_list lru)
{
	struct folio *f = &l->folios[pfn];
	uint32_t tail = l->tail[lru];

	f->lru_next = LRU_NONE;
	f->lru_prev = tail;
	if (tail != LRU_NONE)
		l->folios[tail].lru_next = (uint32_t)pfn;
	else
		l->head[lru] = (uint32_t)pfn;
	l->tail[lru] = (uint32_t)pfn;
}

static void mark_on(struct lruvec *l, pfn_t pfn, enum lru_list lru)
{
	struct folio *f = &l->folios[pfn];

	if (f->flags & PG_lru)
		panic("lruvec_add_folio: pfn %#llx already on a list", (unsigned long long)pfn);
	f->flags |= PG_lru;
	if (lru == LRU_ACTIVE_ANON)
		f->flags |= PG_active;
	else
		f->flags &= ~(uint32_t)PG_active;
	l->nr[lru]++;
}

void lruvec_add_folio(struct lruvec *l, pfn_t pfn, enum lru_list lru)
{
	mark_on(l, pfn, lru);
	lru_link_head(l, pfn, lru);
}

void lruvec_add_folio_tail(struct lruvec *l, pfn_t pfn, enum lru_list lru)
{
	mark_on(l, pfn, lru);
	link_tail(l, pfn, lru);
}

void lruvec_del_folio_bad(pfn_t pfn)
{
	panic("lruvec_del_folio: pfn %#llx is on no list", (unsigned long long)pfn);
}

int lruvec_check(const struct lruvec *l, FILE *err)
{
	static const char *const names[NR_LRU_LISTS] = {"inactive_anon", "active_anon"};
	int broken = 0;

	for (int lru = 0; lru < NR_LRU_LISTS; lru++) {
		uint64_t n = 0;
		uint32_t prev = LRU_NONE;
		const char *why = NULL;
		uint32_t at = LRU_NONE;

		for (uint32_t pfn = l->head[lru]; pfn != LRU_NONE; pfn = l->folios[pfn].lru_next) {
			const struct folio *f = &l->folios[pfn];

			at = pfn;
			if (pfn >= l->nr_frames) {
				why = "a link beyond RAM";
				break;
			}
			if (++n > l->nr[lru]) {
				why = "more folios than counted (or a cycle)";
				break;
			}
			if (f->lru_prev != prev) {
				why = "a prev link that disagrees";
				break;
			}
			if (!(f->flags & PG_lru) || !!(f->flags & PG_active) != (lru == LRU_ACTIVE_ANON)) {
				why = "flags that do not match the list";
				break;
			}
			prev = pfn;
		}
		if (!why && n != l->nr[lru])
			why = "a count that disagrees";
		if (!why && l->tail[lru] != prev)
			why = "a tail that is not the last folio";
		if (why) {
			if (!broken && err)
				fprintf(err, "lruvec_check: %s list has %s (pfn %#x, %llu counted)\n",
				        names[lru], why, at, (unsigned long long)l->nr[lru]);
			broken++;
		}
	}
	return broken;
}
