/*
 * tlb.c - a set-associative TLB with LRU replacement within each set.
 *
 * The set of a page is vpn mod nsets (the low bits of the vpn), as in the
 * L1 dTLB of x86 cores (e.g. 64 entries, 4 ways, 16 sets). Recency is a
 * global clock stamped into an entry on each use; the victim of a full set
 * is the entry with the smallest stamp. Lookup is inline in tlb.h.
 */
#include "tlb.h"

#include <inttypes.h>
#include <stdlib.h>

#include "panic.h"

static void drop_fast(struct tlb *t)
{
	t->fast_read_vpn = TLB_VPN_NONE;
	t->fast_write_vpn = TLB_VPN_NONE;
	t->fast_host = NULL;
}

int tlb_init(struct tlb *t, unsigned entries, unsigned ways)
{
	unsigned sets;

	*t = (struct tlb){0};
	if (!entries || !ways || entries % ways)
		return -1;
	sets = entries / ways;
	if (sets & (sets - 1))
		return -1;
	t->e = calloc(entries, sizeof(*t->e));
	if (!t->e)
		return -1;
	t->nsets = sets;
	t->ways = ways;
	for (unsigned i = 0; i < entries; i++)
		t->e[i].vpn = TLB_VPN_NONE;
	t->mru = &t->e[0];
	drop_fast(t);
	return 0;
}

void tlb_destroy(struct tlb *t)
{
	free(t->e);
	*t = (struct tlb){0};
}

/*
 * The clock is 32 bits: before it wraps, restamp every entry with its rank in
 * its set (0..ways-1), which keeps the LRU order. tlb_lookup never checks:
 * 2^32 - 2^31 lookups without one insert in between would be needed to wrap.
 */
static void renormalize(struct tlb *t)
{
	for (unsigned s = 0; s < t->nsets; s++) {
		struct tlb_entry *set = &t->e[s * t->ways];

		for (unsigned i = 0; i < t->ways; i++) {
			uint32_t rank = 0;

			for (unsigned j = 0; j < t->ways; j++)
				rank +=
				    set[j].lru < set[i].lru || (set[j].lru == set[i].lru && j < i);
			set[i].lru = rank;
		}
	}
	t->clock = t->ways;
}

struct tlb_entry *tlb_lookup_set(struct tlb *t, uint64_t vpn)
{
	struct tlb_entry *set = &t->e[(vpn & (t->nsets - 1)) * t->ways];

	for (unsigned i = 0; i < t->ways; i++)
		if (set[i].vpn == vpn) {
			set[i].lru = ++t->clock;
			if (t->mru != &set[i]) {
				t->mru = &set[i];
				drop_fast(t);
			}
			return &set[i];
		}
	return NULL;
}

struct tlb_entry *tlb_insert(struct tlb *t, uint64_t vpn, uint64_t pfn, uint32_t perm)
{
	struct tlb_entry *set = &t->e[(vpn & (t->nsets - 1)) * t->ways];
	struct tlb_entry *victim = NULL;

	if (vpn == TLB_VPN_NONE)
		panic("vpn %#" PRIx64 " is the invalid marker", vpn);
	if (t->clock >= UINT32_MAX / 2)
		renormalize(t);
	for (unsigned i = 0; i < t->ways; i++) {
		if (set[i].vpn == vpn) {
			victim = &set[i]; /* refresh in place: never a vpn twice */
			break;
		}
		if (!victim || (victim->vpn != TLB_VPN_NONE &&
		                (set[i].vpn == TLB_VPN_NONE || set[i].lru < victim->lru)))
			victim = &set[i];
	}
	victim->vpn = vpn;
	victim->pfn = pfn;
	victim->perm = perm;
	victim->lru = ++t->clock;
	t->mru = victim;
	drop_fast(t);
	return victim;
}

void tlb_drop(struct tlb *t, uint64_t vpn)
{
	struct tlb_entry *set = &t->e[(vpn & (t->nsets - 1)) * t->ways];

	drop_fast(t);
	for (unsigned i = 0; i < t->ways; i++)
		if (set[i].vpn == vpn)
			set[i].vpn = TLB_VPN_NONE;
}

void tlb_invlpg(struct tlb *t, vaddr_t va)
{
	t->invlpgs++;
	tlb_drop(t, va >> PAGE_SHIFT);
}

void tlb_flush_all(struct tlb *t)
{
	t->flushes++;
	drop_fast(t);
	for (unsigned i = 0; i < t->nsets * t->ways; i++)
		t->e[i].vpn = TLB_VPN_NONE;
}

unsigned tlb_count(const struct tlb *t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->nsets * t->ways; i++)
		n += t->e[i].vpn != TLB_VPN_NONE;
	return n;
}

/* Every valid entry sits in the set of its vpn, no vpn twice, stamps <= clock. */
int tlb_check(const struct tlb *t, FILE *err)
{
	int broken = 0;

#define BROKEN(...)                                                                                \
	do {                                                                                       \
		if (!broken++ && err)                                                              \
			fprintf(err, "tlb_check: " __VA_ARGS__);                                   \
	} while (0)

	if (!t->e || !t->ways || !t->nsets || (t->nsets & (t->nsets - 1)))
		BROKEN("bad geometry: %u sets x %u ways\n", t->nsets, t->ways);
	if (broken)
		return broken;
	if (t->mru < t->e || t->mru >= t->e + t->nsets * t->ways) {
		BROKEN("mru %p outside the entries\n", (void *)t->mru);
		return broken;
	}
	if (t->fast_read_vpn != TLB_VPN_NONE &&
	    (t->fast_read_vpn != t->mru->vpn || !(t->mru->perm & TLB_U) || !t->fast_host))
		BROKEN("fast read tag %#" PRIx64 " is not the mru user entry\n", t->fast_read_vpn);
	if (t->fast_write_vpn != TLB_VPN_NONE &&
	    (t->fast_write_vpn != t->mru->vpn ||
	     (t->mru->perm & (TLB_U | TLB_W | TLB_D)) != (TLB_U | TLB_W | TLB_D)))
		BROKEN("fast write tag %#" PRIx64 " is not the mru dirty writable user entry\n",
		       t->fast_write_vpn);
	for (unsigned s = 0; s < t->nsets; s++) {
		const struct tlb_entry *set = &t->e[s * t->ways];

		for (unsigned i = 0; i < t->ways; i++) {
			if (set[i].vpn == TLB_VPN_NONE)
				continue;
			if ((set[i].vpn & (t->nsets - 1)) != s)
				BROKEN("vpn %#" PRIx64 " in set %u, belongs to set %" PRIu64 "\n",
				       set[i].vpn, s, set[i].vpn & (t->nsets - 1));
			if (set[i].lru > t->clock)
				BROKEN("vpn %#" PRIx64 " stamped %u after the clock %u\n",
				       set[i].vpn, set[i].lru, t->clock);
			for (unsigned j = 0; j < i; j++)
				if (set[j].vpn == set[i].vpn)
					BROKEN("vpn %#" PRIx64 " twice in set %u\n", set[i].vpn, s);
			/* lookups skip restamping the mru entry: it must be the newest */
			if (t->mru->vpn != TLB_VPN_NONE && set + i != t->mru &&
			    (t->mru->vpn & (t->nsets - 1)) == s && set[i].lru > t->mru->lru)
				BROKEN("vpn %#" PRIx64 " newer than the mru entry\n", set[i].vpn);
		}
	}
#undef BROKEN
	return broken;
}

void tlb_dump(const struct tlb *t, FILE *out)
{
	fprintf(out,
	        "tlb: %u entries (%u sets x %u ways), %u valid; hits %" PRIu64 " misses %" PRIu64
	        " invlpg %" PRIu64 " flushes %" PRIu64 "\n",
	        t->nsets * t->ways, t->nsets, t->ways, tlb_count(t), t->hits, t->misses, t->invlpgs,
	        t->flushes);
	for (unsigned s = 0; s < t->nsets; s++)
		for (unsigned i = 0; i < t->ways; i++) {
			const struct tlb_entry *e = &t->e[s * t->ways + i];

			if (e->vpn == TLB_VPN_NONE)
				continue;
			fprintf(out,
			        "  set %2u way %u: va %#014" PRIx64 " -> pfn %#" PRIx64
			        " %s%s%s%s lru %u\n",
			        s, i, e->vpn << PAGE_SHIFT, e->pfn, e->perm & TLB_W ? "W" : "R",
			        e->perm & TLB_U ? "U" : "S", e->perm & TLB_D ? "D" : "-",
			        e->perm & TLB_NX ? " NX" : "", e->lru);
		}
}
