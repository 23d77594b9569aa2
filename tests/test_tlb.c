/*
 * test_tlb.c - the set-associative TLB: geometry, lookup, LRU, invalidation,
 * its checker and its dump.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "vm/tlb.h"

static struct tlb T;

static void setup(void)
{
	cr_assert_eq(tlb_init(&T, 64, 4), 0);
}

static void teardown(void)
{
	tlb_destroy(&T);
}

static void check(void)
{
	cr_assert_eq(tlb_check(&T, stderr), 0);
}

/* The k-th vpn that falls into set s. */
static uint64_t vpn_in_set(unsigned s, unsigned k)
{
	return s + (uint64_t)k * T.nsets;
}

TestSuite(tlb, .init = setup, .fini = teardown);

Test(tlb, geometry_is_sets_times_ways)
{
	struct tlb t;

	cr_assert_eq(T.nsets, 16);
	cr_assert_eq(T.ways, 4);
	cr_assert_eq(tlb_count(&T), 0);
	cr_assert_eq(tlb_init(&t, 48, 4), -1, "12 sets is not a power of two");
	cr_assert_eq(tlb_init(&t, 10, 4), -1, "not a multiple of the ways");
	cr_assert_eq(tlb_init(&t, 0, 4), -1);
	cr_assert_eq(tlb_init(&t, 8, 0), -1);
	cr_assert_eq(tlb_init(&t, 1, 1), 0);
	tlb_destroy(&t);
	check();
}

Test(tlb, insert_then_lookup_finds_only_that_page)
{
	struct tlb_entry *e;

	tlb_insert(&T, 0x12345, 0x77, TLB_W | TLB_U);
	check();
	e = tlb_lookup(&T, 0x12345);
	cr_assert_not_null(e);
	cr_assert_eq(e->pfn, 0x77);
	cr_assert_eq(e->perm, TLB_W | TLB_U);
	cr_assert_null(tlb_lookup(&T, 0x12346));
	cr_assert_null(tlb_lookup(&T, 0x12345 + T.nsets), "same set, other page");
	cr_assert_eq(tlb_count(&T), 1);
}

Test(tlb, insert_of_a_present_page_refreshes_it)
{
	tlb_insert(&T, 5, 1, 0);
	tlb_insert(&T, 5, 2, TLB_W | TLB_D);
	check();
	cr_assert_eq(tlb_count(&T), 1);
	cr_assert_eq(tlb_lookup(&T, 5)->pfn, 2);
	cr_assert_eq(tlb_lookup(&T, 5)->perm, TLB_W | TLB_D);
}

Test(tlb, full_set_evicts_its_least_recently_used_entry)
{
	for (unsigned k = 0; k < 4; k++)
		tlb_insert(&T, vpn_in_set(3, k), 100 + k, 0);
	/* Use k=0 again: k=1 is now the oldest. */
	cr_assert_not_null(tlb_lookup(&T, vpn_in_set(3, 0)));
	tlb_insert(&T, vpn_in_set(3, 4), 104, 0);
	check();
	cr_assert_null(tlb_lookup(&T, vpn_in_set(3, 1)));
	cr_assert_not_null(tlb_lookup(&T, vpn_in_set(3, 0)));
	cr_assert_not_null(tlb_lookup(&T, vpn_in_set(3, 2)));
	cr_assert_not_null(tlb_lookup(&T, vpn_in_set(3, 3)));
	cr_assert_not_null(tlb_lookup(&T, vpn_in_set(3, 4)));
	cr_assert_eq(tlb_count(&T), 4, "other sets untouched");
}

Test(tlb, eviction_prefers_an_invalid_way)
{
	for (unsigned k = 0; k < 4; k++)
		tlb_insert(&T, vpn_in_set(1, k), k, 0);
	tlb_invlpg(&T, vpn_in_set(1, 2) << 12);
	tlb_insert(&T, vpn_in_set(1, 9), 9, 0);
	check();
	for (unsigned k = 0; k < 4; k++)
		cr_assert_eq(tlb_lookup(&T, vpn_in_set(1, k)) != NULL, k != 2);
}

/* tlb_find looks at every way (selects, no early exit): a page cached in the
   last way behind invalid ones is found, and a miss takes the first invalid
   way, before any valid one however old. */
Test(tlb, find_sees_every_way_and_takes_the_first_invalid_one)
{
	struct tlb_entry *set = &T.e[4 * T.ways];

	for (unsigned k = 0; k < 4; k++)
		tlb_insert(&T, vpn_in_set(4, k), k, 0);
	for (unsigned k = 0; k < 3; k++)
		tlb_invlpg(&T, vpn_in_set(4, k) << 12);
	cr_assert_eq(set[3].vpn, vpn_in_set(4, 3), "k=3 is in the last way");
	cr_assert_eq(tlb_lookup(&T, vpn_in_set(4, 3)), &set[3]);
	cr_assert_eq(tlb_insert(&T, vpn_in_set(4, 7), 7, 0), &set[0]);
	cr_assert_eq(tlb_insert(&T, vpn_in_set(4, 8), 8, 0), &set[1]);
	check();
	/* Full again: the oldest stamp loses, wherever its way is. */
	tlb_insert(&T, vpn_in_set(4, 9), 9, 0);
	cr_assert_not_null(tlb_lookup(&T, vpn_in_set(4, 7)));
	cr_assert_not_null(tlb_lookup(&T, vpn_in_set(4, 3)));
	cr_assert_eq(tlb_insert(&T, vpn_in_set(4, 10), 10, 0), &set[1], "k=8 was the oldest");
	check();
}

Test(tlb, invlpg_drops_one_page_and_is_counted)
{
	tlb_insert(&T, 0x400, 1, 0);
	tlb_insert(&T, 0x401, 2, 0);
	tlb_invlpg(&T, (0x400ULL << 12) + 0xfff);
	check();
	cr_assert_null(tlb_lookup(&T, 0x400));
	cr_assert_not_null(tlb_lookup(&T, 0x401));
	cr_assert_eq(T.invlpgs, 1);
	tlb_invlpg(&T, 0x999000); /* not cached: harmless */
	cr_assert_eq(tlb_count(&T), 1);
}

Test(tlb, flush_all_empties_and_is_counted)
{
	for (uint64_t v = 0; v < 64; v++)
		tlb_insert(&T, v, v, 0);
	cr_assert_eq(tlb_count(&T), 64);
	tlb_flush_all(&T);
	check();
	cr_assert_eq(tlb_count(&T), 0);
	cr_assert_eq(T.flushes, 1);
	for (uint64_t v = 0; v < 64; v++)
		cr_assert_null(tlb_lookup(&T, v));
}

Test(tlb, lru_order_survives_the_clock_renormalization)
{
	for (unsigned k = 0; k < 4; k++)
		tlb_insert(&T, vpn_in_set(7, k), k, 0);
	cr_assert_not_null(tlb_lookup(&T, vpn_in_set(7, 0)));
	T.clock = UINT32_MAX / 2; /* as after 2^31 lookups: the next insert renormalizes */
	for (unsigned i = 0; i < T.nsets * T.ways; i++)
		if (T.e[i].vpn != TLB_VPN_NONE)
			T.e[i].lru += UINT32_MAX / 2 - 100;
	tlb_insert(&T, vpn_in_set(7, 4), 4, 0);
	check();
	cr_assert_lt(T.clock, 100u);
	cr_assert_null(tlb_lookup(&T, vpn_in_set(7, 1)), "k=1 was the LRU entry");
	cr_assert_not_null(tlb_lookup(&T, vpn_in_set(7, 0)));
}

Test(tlb, check_reports_an_entry_in_the_wrong_set_or_twice_or_stamped_wrong)
{
	FILE *devnull = fopen("/dev/null", "w");

	tlb_insert(&T, vpn_in_set(2, 0), 1, 0);
	tlb_insert(&T, vpn_in_set(2, 1), 2, 0);
	cr_assert_eq(tlb_check(&T, devnull), 0);
	T.e[2 * T.ways + 1].vpn = vpn_in_set(2, 0); /* duplicate */
	cr_assert_eq(tlb_check(&T, devnull), 1);
	T.e[2 * T.ways + 1].vpn = vpn_in_set(5, 0); /* wrong set */
	cr_assert_eq(tlb_check(&T, devnull), 1);
	T.e[2 * T.ways + 1].vpn = vpn_in_set(2, 1); /* as it was */
	cr_assert_eq(tlb_check(&T, devnull), 0);
	T.e[2 * T.ways + 2].lru = 5; /* an invalid way stamped: tlb_find would skip it */
	cr_assert_eq(tlb_check(&T, devnull), 1);
	T.e[2 * T.ways + 2].lru = 0;
	T.e[2 * T.ways].lru = 0; /* a valid way stamped 0: taken as if invalid */
	cr_assert_eq(tlb_check(&T, devnull), 1);
	T.e[2 * T.ways].lru = 1;
	cr_assert_eq(tlb_check(&T, devnull), 0);
	fclose(devnull);
}

Test(tlb, dump_lists_valid_entries)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	tlb_insert(&T, 0x555555554, 0x1ab, TLB_W | TLB_U | TLB_D);
	tlb_dump(&T, out);
	fclose(out);
	cr_assert_not_null(strstr(buf, "64 entries"));
	cr_assert_not_null(strstr(buf, "0x555555554000"));
	cr_assert_not_null(strstr(buf, "pfn 0x1ab WUD"));
	free(buf);
}

Test(tlb, drop_is_not_counted_as_invlpg)
{
	tlb_insert(&T, 0x10, 1, 0);
	tlb_drop(&T, 0x10);
	cr_assert_null(tlb_lookup(&T, 0x10));
	cr_assert_eq(T.invlpgs, 0);
	check();
}

/* e's slot armed as the CPU arms it after a translation. */
static void arm_fast(struct tlb_entry *e)
{
	static uint8_t frame[4096];
	struct tlb_fast *f = tlb_fast_slot(&T, e->vpn);

	cr_assert_eq(T.newest[e->vpn & T.set_mask], e, "e is the newest entry of its set");
	f->e = e;
	f->addend = (uintptr_t)frame - (e->vpn << PAGE_SHIFT);
	f->read = e->vpn << PAGE_SHIFT;
	f->write = e->vpn << PAGE_SHIFT;
}

Test(tlb, fast_slot_follows_the_newest_entry_of_its_set_and_dies_with_it)
{
	struct tlb_entry *e = tlb_insert(&T, vpn_in_set(2, 0), 1, TLB_U | TLB_W | TLB_D);
	struct tlb_fast *f = tlb_fast_slot(&T, vpn_in_set(2, 0));

	cr_assert_eq(T.newest[2], e);
	arm_fast(e);
	check();
	cr_assert_eq(tlb_lookup(&T, vpn_in_set(2, 0)), e, "same page: tags kept");
	cr_assert_eq(f->read, vpn_in_set(2, 0) << PAGE_SHIFT);
	tlb_insert(&T, vpn_in_set(3, 0), 2, TLB_U);
	cr_assert_eq(f->e, e, "an entry of another set leaves the slot alone");
	cr_assert_eq(f->read, vpn_in_set(2, 0) << PAGE_SHIFT);
	tlb_insert(&T, vpn_in_set(2, 1), 2, TLB_U);
	cr_assert_neq(T.newest[2], e, "another entry of the set became the newest");
	cr_assert_null(f->e);
	cr_assert_eq(f->read, TLB_FAST_NONE);
	cr_assert_eq(f->write, TLB_FAST_NONE);
	check();

	arm_fast(tlb_lookup(&T, vpn_in_set(2, 0)));
	cr_assert_eq(T.newest[2], e, "a lookup makes it the newest again");
	tlb_invlpg(&T, vpn_in_set(2, 1) << PAGE_SHIFT); /* an older entry of the set */
	cr_assert_eq(f->read, vpn_in_set(2, 0) << PAGE_SHIFT);
	tlb_invlpg(&T, vpn_in_set(2, 0) << PAGE_SHIFT);
	cr_assert_null(f->e);
	cr_assert_null(T.newest[2]);
	cr_assert_eq(f->read, TLB_FAST_NONE);
	tlb_insert(&T, vpn_in_set(2, 0), 1, TLB_U | TLB_W | TLB_D);
	arm_fast(tlb_lookup(&T, vpn_in_set(2, 0)));
	tlb_insert(&T, vpn_in_set(2, 0), 1, TLB_U); /* refreshed in place: new rights */
	cr_assert_null(f->e);
	arm_fast(tlb_lookup(&T, vpn_in_set(2, 0)));
	tlb_flush_all(&T);
	cr_assert_eq(f->write, TLB_FAST_NONE);
	cr_assert_null(f->e);
	cr_assert_null(T.newest[2]);
	check();
}

Test(tlb, sets_beyond_the_slots_share_them)
{
	struct tlb big;
	struct tlb_entry *a, *b;

	cr_assert_eq(tlb_init(&big, 4 * TLB_FAST_SLOTS, 1), 0); /* 256 sets of one way */
	a = tlb_insert(&big, 5, 1, TLB_U);
	b = tlb_insert(&big, 5 + TLB_FAST_SLOTS, 2, TLB_U); /* another set, the same slot */
	tlb_fast_slot(&big, 5)->e = a;
	tlb_fast_slot(&big, 5)->read = 5ULL << PAGE_SHIFT;
	cr_assert_eq(tlb_check(&big, stderr), 0);
	tlb_fast_slot(&big, 5)->e = b; /* the other set takes it */
	tlb_fast_slot(&big, 5)->read = (5ULL + TLB_FAST_SLOTS) << PAGE_SHIFT;
	cr_assert_eq(tlb_check(&big, stderr), 0);
	tlb_invlpg(&big, 5ULL << PAGE_SHIFT); /* a's set: b's slot stays */
	cr_assert_eq(tlb_fast_slot(&big, 5)->e, b);
	cr_assert_eq(tlb_check(&big, stderr), 0);
	tlb_destroy(&big);
}

Test(tlb, check_reports_fast_tags_that_disagree_with_their_entry)
{
	FILE *devnull = fopen("/dev/null", "w");
	struct tlb_entry *e = tlb_insert(&T, 0x30, 1, TLB_U); /* read-only */
	struct tlb_fast *f = tlb_fast_slot(&T, 0x30);

	arm_fast(e); /* write tag on a read-only entry: wrong */
	cr_assert_eq(tlb_check(&T, devnull), 1);
	f->write = TLB_FAST_NONE;
	cr_assert_eq(tlb_check(&T, devnull), 0);
	f->read = 0x31ULL << PAGE_SHIFT;
	cr_assert_eq(tlb_check(&T, devnull), 1);
	f->read = 0x30ULL << PAGE_SHIFT;
	tlb_insert(&T, 0x30 + T.nsets, 1, TLB_U); /* the newest of the set now */
	f->e = e;                                 /* left armed: wrong */
	cr_assert_eq(tlb_check(&T, devnull), 1);
	fclose(devnull);
}

/* tlb->gen (the CPU's restart after a fault skips the lookup while it holds):
   every change of an entry, a stamp or the tag moves it; lookups that find
   nothing, and lookups of the newest entry of a set, do not. */
Test(tlb, gen_moves_with_every_change_a_lookup_could_see)
{
	struct tlb_entry *victim;
	uint64_t g;

#define GEN_AFTER(what, moves)                                                                     \
	do {                                                                                       \
		g = T.gen;                                                                         \
		what;                                                                              \
		cr_assert_eq(T.gen != g, moves, "%s %s gen", #what, (moves) ? "left alone" : "moved"); \
	} while (0)
#define MOVES(what) GEN_AFTER(what, true)
#define STAYS(what) GEN_AFTER(what, false)
	MOVES(tlb_insert(&T, vpn_in_set(2, 0), 1, TLB_U));
	MOVES(tlb_insert(&T, vpn_in_set(2, 1), 2, TLB_U));
	STAYS(tlb_lookup(&T, vpn_in_set(2, 1)));     /* the newest of its set */
	MOVES(tlb_lookup(&T, vpn_in_set(2, 0)));     /* restamped */
	STAYS(tlb_lookup(&T, vpn_in_set(2, 2)));     /* not cached */
	STAYS(tlb_lookup_victim(&T, vpn_in_set(2, 3), &victim));
	MOVES(tlb_fill(&T, victim, vpn_in_set(2, 3), 3, TLB_U));
	MOVES(tlb_invlpg(&T, vpn_in_set(2, 3) << PAGE_SHIFT));
	MOVES(tlb_drop(&T, vpn_in_set(2, 1)));
	MOVES(tlb_set_pcid(&T, 5));
	MOVES(tlb_flush_pcid(&T, 5));
	MOVES(tlb_flush_all(&T));
	MOVES(tlb_renormalize(&T));
#undef MOVES
#undef STAYS
#undef GEN_AFTER
	check();
}

/* 16-byte entries, 64-byte aligned: each set of the usual 4 ways is one host
   cache line; the widest pfn of RAM and every right survive the packing. */
Test(tlb, a_set_of_four_ways_is_one_cache_line_and_entries_keep_wide_pfns)
{
	const uint64_t top = (1ull << TLB_PFN_BITS) - 1;
	const uint32_t all = TLB_W | TLB_U | TLB_NX | TLB_D;

	cr_assert_eq(sizeof(struct tlb_entry), 16);
	cr_assert_eq((uintptr_t)T.e % 64, 0);
	for (unsigned s = 0; s < T.nsets; s++)
		cr_assert_eq((uintptr_t)&T.e[s * T.ways] / 64,
		             (uintptr_t)&T.e[s * T.ways + T.ways - 1] / 64,
		             "set %u spans two lines", s);
	tlb_insert(&T, vpn_in_set(1, 0), top, all);
	tlb_insert(&T, vpn_in_set(1, 1), top - 1, 0);
	check();
	cr_assert_eq(tlb_lookup(&T, vpn_in_set(1, 0))->pfn, top);
	cr_assert_eq(tlb_lookup(&T, vpn_in_set(1, 0))->perm, all);
	cr_assert_eq(tlb_lookup(&T, vpn_in_set(1, 1))->pfn, top - 1);
	cr_assert_eq(tlb_lookup(&T, vpn_in_set(1, 1))->perm, 0);
}

Test(tlb, inserting_a_pfn_wider_than_an_entry_panics, .signal = SIGABRT)
{
	tlb_insert(&T, 1, 1ull << TLB_PFN_BITS, 0);
}
