/*
 * tlb.c - a set-associative TLB with LRU replacement within each set.
 *
 * The set of a page is vpn mod nsets (the low bits of the vpn), as in the
 * L1 dTLB of x86 cores (e.g. 64 entries, 4 ways, 16 sets). Recency is a
 * global clock stamped into an entry on each use; the victim of a full set
 * is the entry with the smallest stamp. Lookup is inline in tlb.h. Each set's
 * newest entry (tlb->newest) may stand in a slot of the table the CPU's
 * inline path reads first (struct tlb_fast, tlb.h).
 */
#include "tlb.h"

#include <inttypes.h>
#include <stdlib.h>

#include "hostmem.h"
#include "panic.h"
#include "phys.h"

_Static_assert(sizeof(struct tlb_fast) == 1u << TLB_FAST_SHIFT, "cpu.h indexes slots by shifts");
_Static_assert(sizeof(struct tlb_entry) == 16, "a set of 4 ways is one 64-byte line");
_Static_assert(PHYS_MAX_FRAMES <= 1ull << TLB_PFN_BITS, "every frame's pfn fits an entry");
_Static_assert(TLB_W + TLB_U + TLB_NX + TLB_D < 1u << (32 - TLB_PFN_BITS), "perm fits an entry");

#define TLB_ALIGN 64 /* a host cache line */

int tlb_init(struct tlb *t, unsigned entries, unsigned ways)
{
	unsigned sets;
	char *mem;

	*t = (struct tlb){0};
	if (!entries || !ways || entries % ways)
		return -1;
	sets = entries / ways;
	if (sets & (sets - 1))
		return -1;
	mem = hostmem_calloc(1, (size_t)entries * sizeof(*t->e) + TLB_ALIGN - 1);
	t->newest = hostmem_calloc(sets, sizeof(*t->newest));
	if (!mem || !t->newest) {
		hostmem_free(mem);
		tlb_destroy(t);
		return -1;
	}
	t->e_skew = (uint32_t)(-(uintptr_t)mem & (TLB_ALIGN - 1));
	t->e = (struct tlb_entry *)(mem + t->e_skew);
	t->nsets = sets;
	t->set_mask = sets - 1;
	t->ways = ways;
	for (unsigned i = 0; i < entries; i++)
		t->e[i] = (struct tlb_entry){.vpn = TLB_VPN_NONE, .lru = 0};
	for (unsigned i = 0; i < TLB_FAST_SLOTS; i++)
		tlb_disarm_slot(&t->fast[i]);
	return 0;
}

void tlb_destroy(struct tlb *t)
{
	if (t->e)
		hostmem_free((char *)t->e - t->e_skew);
	hostmem_free(t->newest);
	*t = (struct tlb){0};
}

/*
 * The clock is 32 bits: before it wraps, restamp every valid entry with 1 +
 * its rank in its set (1..ways), which keeps the LRU order; invalid entries
 * keep 0 (tlb_find). tlb_lookup never checks: 2^32 - 2^31 lookups without
 * one insert in between would be needed to wrap.
 */
void tlb_renormalize(struct tlb *t)
{
	t->gen++;
	for (unsigned s = 0; s < t->nsets; s++) {
		struct tlb_entry *set = &t->e[s * t->ways];

		for (unsigned i = 0; i < t->ways; i++) {
			uint32_t rank = 0;

			for (unsigned j = 0; j < t->ways; j++)
				rank +=
				    set[j].lru < set[i].lru || (set[j].lru == set[i].lru && j < i);
			set[i].lru = set[i].vpn == TLB_VPN_NONE ? 0 : rank + 1;
		}
	}
	t->clock = t->ways + 1;
}

struct tlb_entry *tlb_lookup_set(struct tlb *t, uint64_t vpn)
{
	struct tlb_entry *victim;

	return tlb_lookup_victim(t, vpn, &victim);
}

struct tlb_entry *tlb_insert(struct tlb *t, uint64_t vpn, uint64_t pfn, uint32_t perm)
{
	struct tlb_entry *victim;

	vpn |= t->tag;
	if (vpn == TLB_VPN_NONE)
		panic("vpn %#" PRIx64 " is the invalid marker", vpn);
	if (pfn >> TLB_PFN_BITS)
		panic("pfn %#" PRIx64 " is wider than an entry's", pfn);
	tlb_find(t, (unsigned)(vpn & t->set_mask), vpn, &victim);
	return tlb_fill(t, victim, vpn, pfn, perm);
}

void tlb_drop(struct tlb *t, uint64_t vpn)
{
	t->gen++;
	unsigned s = (unsigned)(vpn & t->set_mask);
	struct tlb_entry *set = &t->e[s * t->ways];

	vpn |= t->tag;
	for (unsigned i = 0; i < t->ways; i++)
		if (set[i].vpn == vpn) {
			tlb_disarm(t, &set[i]);
			if (t->newest[s] == &set[i])
				t->newest[s] = NULL;
			set[i].vpn = TLB_VPN_NONE;
			set[i].lru = 0;
		}
}

void tlb_invlpg(struct tlb *t, vaddr_t va)
{
	t->invlpgs++;
	tlb_drop(t, va >> PAGE_SHIFT);
}

void tlb_flush_all(struct tlb *t)
{
	t->gen++;
	t->flushes++;
	for (unsigned i = 0; i < TLB_FAST_SLOTS; i++)
		tlb_disarm_slot(&t->fast[i]);
	for (unsigned s = 0; s < t->nsets; s++)
		t->newest[s] = NULL;
	for (unsigned i = 0; i < t->nsets * t->ways; i++)
		t->e[i] = (struct tlb_entry){.vpn = TLB_VPN_NONE, .lru = 0};
}

void tlb_flush_pcid(struct tlb *t, unsigned pcid)
{
	t->gen++;
	t->flushes++;
	for (unsigned s = 0; s < t->nsets; s++) {
		struct tlb_entry *set = &t->e[s * t->ways];

		for (unsigned i = 0; i < t->ways; i++) {
			if (set[i].vpn == TLB_VPN_NONE || tlb_key_pcid(set[i].vpn) != pcid)
				continue;
			tlb_disarm(t, &set[i]);
			if (t->newest[s] == &set[i])
				t->newest[s] = NULL;
			set[i].vpn = TLB_VPN_NONE;
			set[i].lru = 0;
		}
	}
}

void tlb_set_pcid(struct tlb *t, unsigned pcid)
{
	t->gen++;
	t->tag = (uint64_t)pcid << TLB_TAG_SHIFT;
	for (unsigned i = 0; i < TLB_FAST_SLOTS; i++)
		tlb_disarm_slot(&t->fast[i]);
}

unsigned tlb_count(const struct tlb *t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->nsets * t->ways; i++)
		n += t->e[i].vpn != TLB_VPN_NONE;
	return n;
}

/* Every valid entry sits in the set of its vpn, no vpn twice, stamps <= clock;
   each fast slot holds its set's newest entry, tagged as its rights allow. */
int tlb_check(const struct tlb *t, FILE *err)
{
	int broken = 0;

#define BROKEN(...)                                                                                \
	do {                                                                                       \
		if (!broken++ && err)                                                              \
			fprintf(err, "tlb_check: " __VA_ARGS__);                                   \
	} while (0)

	if (!t->e || !t->newest || !t->ways || !t->nsets || (t->nsets & (t->nsets - 1)) ||
	    t->set_mask != t->nsets - 1)
		BROKEN("bad geometry: %u sets x %u ways\n", t->nsets, t->ways);
	if (broken)
		return broken;
	for (unsigned s = 0; s < t->nsets; s++) {
		const struct tlb_entry *set = &t->e[s * t->ways];
		const struct tlb_entry *nw = t->newest[s];

		if (nw && (nw < set || nw >= set + t->ways || nw->vpn == TLB_VPN_NONE)) {
			BROKEN("set %u's newest entry is not a valid entry of the set\n", s);
			continue;
		}
		for (unsigned i = 0; i < t->ways; i++) {
			/* tlb_find takes the first smallest stamp for the first invalid way */
			if (set[i].vpn == TLB_VPN_NONE) {
				if (set[i].lru != 0)
					BROKEN("set %u way %u: invalid but stamped %u (not 0)\n", s,
					       i, set[i].lru);
				continue;
			}
			if (set[i].lru == 0)
				BROKEN("vpn %#" PRIx64 " in set %u: valid but stamped 0\n",
				       set[i].vpn, s);
			if ((set[i].vpn & t->set_mask) != s)
				BROKEN("vpn %#" PRIx64 " in set %u, belongs to set %" PRIu64 "\n",
				       set[i].vpn, s, set[i].vpn & t->set_mask);
			if (set[i].lru > t->clock)
				BROKEN("vpn %#" PRIx64 " stamped %u after the clock %u\n",
				       set[i].vpn, set[i].lru, t->clock);
			for (unsigned j = 0; j < i; j++)
				if (set[j].vpn == set[i].vpn)
					BROKEN("vpn %#" PRIx64 " twice in set %u\n", set[i].vpn, s);
			/* hits through a fast slot skip the restamp: it must be the newest */
			if (nw && nw != set + i && set[i].lru > nw->lru)
				BROKEN("vpn %#" PRIx64 " newer than set %u's newest entry\n",
				       set[i].vpn, s);
		}
	}
	for (unsigned i = 0; i < TLB_FAST_SLOTS; i++) {
		const struct tlb_fast *f = &t->fast[i];
		const struct tlb_entry *e = f->e;

		if (!e) {
			if (f->read != TLB_FAST_NONE || f->write != TLB_FAST_NONE)
				BROKEN("fast slot %u has tags and no entry\n", i);
			continue;
		}
		if (e < t->e || e >= t->e + t->nsets * t->ways || e->vpn == TLB_VPN_NONE ||
		    (e->vpn & ~TLB_VPN_MASK) != t->tag ||
		    (e->vpn & (TLB_FAST_SLOTS - 1)) != i || t->newest[e->vpn & t->set_mask] != e) {
			BROKEN("fast slot %u is not armed for the newest entry of a set\n", i);
			continue;
		}
		if (f->read != TLB_FAST_NONE &&
		    (f->read != e->vpn << PAGE_SHIFT || !(e->perm & TLB_U)))
			BROKEN("fast slot %u: read tag %#" PRIx64 " is not its user entry's\n", i,
			       f->read);
		if (f->write != TLB_FAST_NONE &&
		    (f->write != e->vpn << PAGE_SHIFT ||
		     (e->perm & (TLB_U | TLB_W | TLB_D)) != (TLB_U | TLB_W | TLB_D)))
			BROKEN("fast slot %u: write tag %#" PRIx64
			       " is not its dirty writable user entry's\n",
			       i, f->write);
	}
#undef BROKEN
	return broken;
}

void tlb_dump(const struct tlb *t, FILE *out)
{
	fprintf(out,
	        "tlb: %u entries (%u sets x %u ways), %u valid; slow-path hits %" PRIu64 " misses %" PRIu64
	        " invlpg %" PRIu64 " flushes %" PRIu64 "\n",
	        t->nsets * t->ways, t->nsets, t->ways, tlb_count(t), t->slow_hits, t->misses, t->invlpgs,
	        t->flushes);
	for (unsigned s = 0; s < t->nsets; s++)
		for (unsigned i = 0; i < t->ways; i++) {
			const struct tlb_entry *e = &t->e[s * t->ways + i];

			if (e->vpn == TLB_VPN_NONE)
				continue;
			fprintf(out,
			        "  set %2u way %u: va %#014" PRIx64 " -> pfn %#" PRIx64
			        " %s%s%s%s lru %u\n",
			        s, i, e->vpn << PAGE_SHIFT, (uint64_t)e->pfn,
			        e->perm & TLB_W ? "W" : "R", e->perm & TLB_U ? "U" : "S",
			        e->perm & TLB_D ? "D" : "-", e->perm & TLB_NX ? " NX" : "", e->lru);
		}
}
