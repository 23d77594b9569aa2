/*
 * tlb.h - a set-associative TLB in front of the page walk.
 *
 * Entries cache a leaf translation (vpn -> pfn) with the permission bits the
 * walk found and whether the PTE's Dirty bit was already set (so the first
 * write through a clean entry re-walks to set D, as the CPU does).
 * Replacement is LRU within a set. The lookup is inline: it is the fast path
 * of every load and store (and cpu.h's inline path goes one step further,
 * through the fast_* tags below).
 */
#ifndef VM_TLB_H
#define VM_TLB_H

#include <stdio.h>

#include "types.h"

#define TLB_W 0x1  /* writable */
#define TLB_U 0x2  /* user */
#define TLB_NX 0x4
#define TLB_D 0x8  /* PTE already dirty */

struct tlb_entry {
	uint64_t vpn;  /* va >> PAGE_SHIFT; TLB_VPN_NONE when invalid */
	uint64_t pfn;
	uint32_t perm; /* TLB_* */
	uint32_t lru;  /* larger = more recently used */
};

#define TLB_VPN_NONE UINT64_MAX

struct tlb {
	unsigned nsets, ways; /* nsets a power of two */
	struct tlb_entry *e;  /* nsets * ways, set s at e[s * ways] */
	/* The entry last returned by tlb_lookup or tlb_insert: it holds the
	   newest stamp, so a lookup that finds it again need not restamp.
	   Never NULL after tlb_init (points at an invalid entry at first). */
	struct tlb_entry *mru;
	/* A front for the CPU's inline path, as QEMU's softmmu TLB keeps
	   addr_read / addr_write / addend: the vpn of the mru entry when it
	   may be read (resp. written) in either mode with no further check, and
	   the host address of its frame. Set by the CPU after a translation;
	   reset to TLB_VPN_NONE whenever the mru entry changes or any entry is
	   invalidated, so a tag match is always a hit on the mru entry. */
	uint64_t fast_read_vpn, fast_write_vpn;
	uint8_t *fast_host;
	uint32_t clock;
	uint64_t hits, misses, invlpgs, flushes; /* hits/misses: counted by the CPU */
};

/* entries = sets * ways, both > 0, sets a power of two. 0 or -1. */
int tlb_init(struct tlb *t, unsigned entries, unsigned ways);
void tlb_destroy(struct tlb *t);

/* The set of vpn, stamping the entry found. NULL when vpn is not cached. */
struct tlb_entry *tlb_lookup_set(struct tlb *t, uint64_t vpn);

/*
 * The entry of vpn (< TLB_VPN_NONE), or NULL. Counts nothing (the CPU counts hits and
 * misses). The common case -- the same page as the last lookup -- costs one
 * compare: that entry is already the most recently used of its set.
 */
static inline struct tlb_entry *tlb_lookup(struct tlb *t, uint64_t vpn)
{
	if (__builtin_expect(t->mru->vpn == vpn, 1))
		return t->mru;
	return tlb_lookup_set(t, vpn);
}

/* Fill (or refresh) the entry of vpn, evicting the set's LRU entry. */
struct tlb_entry *tlb_insert(struct tlb *t, uint64_t vpn, uint64_t pfn, uint32_t perm);
void tlb_invlpg(struct tlb *t, vaddr_t va); /* drop one page's entry */
/* Drop vpn's entry, not counted as an invlpg: what a fault on the page does. */
void tlb_drop(struct tlb *t, uint64_t vpn);
void tlb_flush_all(struct tlb *t);
/* Valid entries now. */
unsigned tlb_count(const struct tlb *t);
/* No vpn twice, sets hold their vpns, mru and fast tags agree. Returns #broken. */
int tlb_check(const struct tlb *t, FILE *err);
void tlb_dump(const struct tlb *t, FILE *out);

#endif
