/*
 * tlb.h - a set-associative TLB in front of the page walk.
 *
 * Entries cache a leaf translation (vpn -> pfn) with the permission bits the
 * walk found and whether the PTE's Dirty bit was already set (so the first
 * write through a clean entry re-walks to set D, as the CPU does).
 * Replacement is LRU within a set. The lookup is inline, and cpu.h's inline
 * path goes one step further, through struct tlb_fast below.
 */
#ifndef VM_TLB_H
#define VM_TLB_H

#include <stdio.h>

#include "types.h"

#define TLB_W 0x1  /* writable */
#define TLB_U 0x2  /* user */
#define TLB_NX 0x4
#define TLB_D 0x8  /* PTE already dirty */

/*
 * With PCID an entry is tagged by the address space it belongs to: its key
 * is the vpn with the PCID in the bits above it (a vpn has at most 52 bits,
 * a PCID 12), so key << PAGE_SHIFT is still the page's address and the low
 * bits still pick the set and the fast slot. Lookups, fills and single-page
 * invalidations use the current tag (struct tlb's tag): entries of other
 * address spaces stay cached but are never hit. Without PCID the tag is 0
 * and a key is a vpn.
 */
#define TLB_TAG_SHIFT 52
#define TLB_VPN_MASK ((1ULL << TLB_TAG_SHIFT) - 1)
static inline uint64_t tlb_key_vpn(uint64_t key) { return key & TLB_VPN_MASK; }
static inline unsigned tlb_key_pcid(uint64_t key) { return (unsigned)(key >> TLB_TAG_SHIFT); }

/*
 * 16 bytes, so that a set of 4 ways is one 64-byte host cache line (tlb.c
 * aligns the entries to 64 bytes): a lookup, hit or miss, reads one line
 * instead of the two or three of 24-byte entries. The pfn is as wide as a
 * frame of struct phys needs (PHYS_MAX_FRAMES, 512 GiB of RAM: tlb.c
 * asserts it); pfn and perm share the word that tlb_find does not read.
 * Print pfn with a cast (a bit-field of under 32 bits is promoted to int).
 */
#define TLB_PFN_BITS 28
struct tlb_entry {
	uint64_t vpn; /* key: va >> PAGE_SHIFT | PCID tag; TLB_VPN_NONE when invalid */
	union {
		struct {
			/* TLB_*, in the low bits: a fill stores pfn << 4 | perm,
			   with no mask */
			uint32_t perm : 32 - TLB_PFN_BITS;
			uint32_t pfn : TLB_PFN_BITS;
		};
		/* both: word & rights == rights tests perm with no mask */
		uint32_t word;
	};
	uint32_t lru; /* larger = more recently used; 0 when invalid, else >= 1 */
};

#define TLB_VPN_NONE UINT64_MAX

/*
 * The CPU's inline path (cpu.h) looks here first, as QEMU's softmmu looks in
 * its direct-mapped CPUTLBEntry table: TLB_FAST_SLOTS slots, the slot of a
 * page its vpn mod TLB_FAST_SLOTS (a constant: the inline path loads no
 * mask). A slot is armed only for the newest entry of its set (tlb->newest),
 * so a hit through it needs no LRU update, and the replacement order -- with
 * it every hit, miss and eviction -- is the one the set-associative TLB with
 * exact LRU makes. With more sets than slots, sets share a slot, and only
 * the one armed last has it. tlb.c clears a slot whenever its entry stops
 * being the newest of its set or changes; the CPU arms it after a
 * translation (it knows where RAM is). 32 bytes (TLB_FAST_SHIFT).
 */
struct tlb_fast {
	uint64_t read;    /* page address of e when user and kernel reads may use it
			     with no further check, else TLB_FAST_NONE */
	uint64_t write;   /* the same for writes: e is U, W and D */
	uintptr_t addend; /* host address of e's frame minus its page address */
	struct tlb_entry *e; /* NULL: the slot is not armed */
};

#define TLB_FAST_SLOTS 64
#define TLB_FAST_SHIFT 5 /* log2 of sizeof(struct tlb_fast) */

/* Never equal to an address masked as cpu.h masks it (bits 3-11 are clear). */
#define TLB_FAST_NONE UINT64_MAX

struct tlb {
	struct tlb_fast fast[TLB_FAST_SLOTS]; /* first: the inline path's table */
	struct tlb_entry **newest; /* nsets: the most recently used valid entry of
				      each set, or NULL */
	uint64_t set_mask;         /* nsets - 1: the set of vpn is vpn & set_mask */
	unsigned nsets, ways;      /* nsets a power of two */
	struct tlb_entry *e;       /* nsets * ways, set s at e[s * ways]; 64-byte
				      aligned, e_skew bytes into its allocation */
	uint32_t clock;
	uint32_t e_skew; /* (in what was padding: struct tlb keeps its size) */
	/* Changes whenever an entry, a stamp or the tag does: while it holds,
	   a lookup finds what the last one found (and the same victim). */
	uint64_t gen;
	uint64_t tag; /* the current PCID << TLB_TAG_SHIFT (0 without PCID) */
	/* Counted by the CPU: the hits of its slow path (cpu_tlb_hits() adds
	   those of the inline path) and every miss. */
	uint64_t slow_hits, misses;
	uint64_t invlpgs, flushes;
};

/* The slot of vpn. */
static inline struct tlb_fast *tlb_fast_slot(struct tlb *t, uint64_t vpn)
{
	return &t->fast[vpn & (TLB_FAST_SLOTS - 1)];
}

/* entries = sets * ways, both > 0, sets a power of two. 0 or -1. */
int tlb_init(struct tlb *t, unsigned entries, unsigned ways);
void tlb_destroy(struct tlb *t);

/* Below, vpn may be a plain vpn or a key of the current tag: the current
   tag is added. */
/* The set of vpn, stamping the entry found. NULL when vpn is not cached. */
struct tlb_entry *tlb_lookup_set(struct tlb *t, uint64_t vpn);

/* ---- for the CPU's slow path (vm/cpu.c), inline: a miss runs them all ---- */

/* Restamp every entry with its rank in its set: before the 32-bit clock
   wraps (tlb_fill checks; a lookup alone would need 2^31 in a row). */
void tlb_renormalize(struct tlb *t);

static inline void tlb_disarm_slot(struct tlb_fast *f)
{
	*f = (struct tlb_fast){TLB_FAST_NONE, TLB_FAST_NONE, 0, NULL};
}

/* e's slot no longer stands for e (e is about to change, or is no longer
   the newest of its set). */
static inline void tlb_disarm(struct tlb *t, const struct tlb_entry *e)
{
	struct tlb_fast *f;

	if (!e || e->vpn == TLB_VPN_NONE)
		return;
	f = tlb_fast_slot(t, e->vpn);
	if (f->e == e)
		tlb_disarm_slot(f);
}

/* e was just used: it becomes the newest of set s. */
static inline void tlb_make_newest(struct tlb *t, unsigned s, struct tlb_entry *e)
{
	e->lru = ++t->clock;
	t->gen++;
	if (t->newest[s] != e) {
		tlb_disarm(t, t->newest[s]);
		t->newest[s] = e;
	}
}

/*
 * vpn's entry in set s, else NULL and in *victim the entry a fill takes --
 * the first invalid, else the first with the smallest stamp (that is what
 * tlb_insert replaces) -- so that the fill after a walk need not search the
 * set again. An invalid entry's stamp is 0 and a valid one's at least 1
 * (tlb_make_newest, tlb_renormalize), so the first smallest stamp is the
 * first invalid entry when there is one: one search finds both. Stamps
 * nothing.
 */
static inline __attribute__((always_inline)) struct tlb_entry *
tlb_find(struct tlb *t, unsigned s, uint64_t vpn, struct tlb_entry **victim)
{
	struct tlb_entry *set = &t->e[s * t->ways], *end = set + t->ways;
	struct tlb_entry *hit = NULL, *old = set;
	uint32_t oldest = set->lru;

	/* Every way, with selects rather than branches: which way matches is
	   as good as random, and a mispredicted exit cost more than the rest.
	   On x86-64 the selects are conditional moves written as such: GCC
	   made branches of some of them once the four ways were written out
	   (a TLB miss of a replay looks up one set, or two with a fault). */
#if defined(__x86_64__)
#define TLB_FIND_WAY(way)                                                                          \
	do {                                                                                       \
		struct tlb_entry *e_ = (way);                                                      \
                                                                                                   \
		__asm__("cmp %[v], %[key]\n\tcmove %[e], %[hit]"                                   \
		        : [hit] "+r"(hit)                                                          \
		        : [v] "m"(e_->vpn), [key] "r"(vpn), [e] "r"(e_)                            \
		        : "cc");                                                                   \
		__asm__("cmp %[o], %[l]\n\tcmovb %[e], %[old]\n\tcmovb %[l], %[o]"                 \
		        : [old] "+r"(old), [o] "+r"(oldest)                                        \
		        : [l] "r"(e_->lru), [e] "r"(e_)                                            \
		        : "cc");                                                                   \
	} while (0)
#else
#define TLB_FIND_WAY(way)                                                                          \
	do {                                                                                       \
		uint64_t v_ = (way)->vpn;                                                          \
		uint32_t lru_ = (way)->lru;                                                        \
                                                                                                   \
		hit = v_ == vpn ? (way) : hit;                                                     \
		old = lru_ < oldest ? (way) : old;                                                 \
		oldest = lru_ < oldest ? lru_ : oldest;                                            \
	} while (0)
#endif
	if (t->ways == 4) {
		/* The usual geometry (64 entries, 4 ways) written out: no loop
		   counter, no exit branch; the same selects in the same order. */
		TLB_FIND_WAY(set);
		TLB_FIND_WAY(set + 1);
		TLB_FIND_WAY(set + 2);
		TLB_FIND_WAY(set + 3);
	} else {
		for (struct tlb_entry *e = set; e < end; e++)
			TLB_FIND_WAY(e);
	}
#undef TLB_FIND_WAY
	*victim = hit ? hit : old;
	return hit;
}

/* tlb_lookup_set, and the victim of tlb_find when vpn is not cached (valid
   until the TLB changes). */
static inline __attribute__((always_inline)) struct tlb_entry *
tlb_lookup_victim(struct tlb *t, uint64_t vpn, struct tlb_entry **victim)
{
	unsigned s = (unsigned)(vpn & t->set_mask);
	struct tlb_entry *e = tlb_find(t, s, vpn | t->tag, victim);

	if (e)
		tlb_make_newest(t, s, e);
	return e;
}

/* Fill victim, as tlb_find gave it for vpn (with the current tag, <
   TLB_VPN_NONE; nothing changed since), and make it the newest of its set. */
static inline struct tlb_entry *tlb_fill(struct tlb *t, struct tlb_entry *victim, uint64_t vpn,
                                         uint64_t pfn, uint32_t perm)
{
	vpn |= t->tag;
	if (__builtin_expect(t->clock >= UINT32_MAX / 2, 0))
		tlb_renormalize(t);
	tlb_disarm(t, victim); /* also when refreshed in place: new rights */
	victim->vpn = vpn;
	victim->pfn = (uint32_t)pfn; /* a frame of RAM: fits (tlb.c) */
	victim->perm = perm;
	tlb_make_newest(t, (unsigned)(vpn & t->set_mask), victim);
	return victim;
}

/* ---- */

/*
 * The entry of vpn (< TLB_VPN_NONE), or NULL; it becomes the newest of its
 * set. Counts nothing (the CPU counts hits and misses). The common case --
 * the newest entry of the set -- costs one compare and no restamp.
 */
static inline struct tlb_entry *tlb_lookup(struct tlb *t, uint64_t vpn)
{
	struct tlb_entry *e = t->newest[vpn & t->set_mask];

	vpn |= t->tag;
	if (__builtin_expect(e && e->vpn == vpn, 1))
		return e;
	return tlb_lookup_set(t, vpn);
}

/* Fill (or refresh) the entry of vpn, evicting the set's LRU entry. */
struct tlb_entry *tlb_insert(struct tlb *t, uint64_t vpn, uint64_t pfn, uint32_t perm);
void tlb_invlpg(struct tlb *t, vaddr_t va); /* drop one page's entry */
/* Drop vpn's entry, not counted as an invlpg: what a fault on the page does. */
void tlb_drop(struct tlb *t, uint64_t vpn);
/* Every entry, whatever its tag (a CR3 write without PCID). */
void tlb_flush_all(struct tlb *t);
/* The entries of one PCID (a CR3 write with PCID and no NOFLUSH bit, or
   flush_tlb_local). Counted as a flush. */
void tlb_flush_pcid(struct tlb *t, unsigned pcid);
/* Make pcid current: later lookups see only its entries (the fast slots,
   armed for the old one, are cleared). */
void tlb_set_pcid(struct tlb *t, unsigned pcid);
/* Valid entries now. */
unsigned tlb_count(const struct tlb *t);
/* No vpn twice, sets hold their vpns, each set's newest entry is the newest,
   an armed fast slot holds the newest entry of its set, with tags its
   rights allow. Returns #broken. */
int tlb_check(const struct tlb *t, FILE *err);
void tlb_dump(const struct tlb *t, FILE *out);

#endif
