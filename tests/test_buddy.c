/*
 * test_buddy.c - the buddy page allocator (kernel_sim/buddy.c) against the
 * behaviour of Linux's mm/page_alloc.c: splitting in expand, merging in
 * __free_one_page, /proc/buddyinfo, exhaustion and injected failures.
 * buddy_check runs after every operation.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_sim/buddy.h"

#define MiB        (1ULL << 20)
#define MAX_EVENTS 4096

/* What the probe emitted since the last reset, for asserting on event
   sequences; long runs only count what does not fit. */
struct recorder {
	unsigned n;
	uint64_t dropped;
	struct event ev[MAX_EVENTS];
};

static struct phys ph;
static struct probe probe;
static struct buddy b;
static struct recorder rec;

static void record(void *ctx, const struct event *ev)
{
	struct recorder *r = ctx;

	if (r->n == MAX_EVENTS)
		r->dropped++;
	else
		r->ev[r->n++] = *ev;
}

/* The allocator's invariants, and the frame table's as vm/phys sees them. */
static void check(void)
{
	cr_assert_eq(buddy_check(&b, stderr), 0, "buddy_check failed");
	cr_assert_eq(phys_check(&ph, stderr), 0, "phys_check failed");
}

/* A machine of bytes RAM whose frames below start_pfn are reserved. */
static void boot(uint64_t bytes, pfn_t start_pfn)
{
	cr_assert_eq(phys_init(&ph, bytes), 0);
	probe_init(&probe);
	probe_set_sink(&probe, record, &rec);
	rec.n = 0;
	rec.dropped = 0;
	buddy_init(&b, &ph, &probe, start_pfn);
	check();
}

static void teardown(void)
{
	if (ph.frames)
		phys_destroy(&ph);
}

TestSuite(buddy, .fini = teardown);
TestSuite(buddy_death, .fini = teardown);

static pfn_t alloc(unsigned order, int kind)
{
	pfn_t pfn = buddy_alloc(&b, order, kind);

	check();
	return pfn;
}

static void release(pfn_t pfn, unsigned order)
{
	buddy_free(&b, pfn, order);
	check();
}

/* /proc/buddyinfo as a string (two static buffers used in turn). */
static const char *info(void)
{
	static char buf[2][256];
	static int which;
	char *s = buf[which ^= 1];
	FILE *f = fmemopen(s, sizeof(buf[0]), "w");

	cr_assert_not_null(f);
	buddy_print_info(&b, f);
	fclose(f);
	return s;
}

static uint64_t nr_free(unsigned order)
{
	return b.free_area[order].nr_free;
}

/* How many events of one kind were recorded; the first max go to out, in order. */
static unsigned events_of(int kind, const struct event **out, unsigned max)
{
	unsigned n = 0;

	cr_assert_eq(rec.dropped, 0, "events were dropped");
	for (unsigned i = 0; i < rec.n; i++) {
		if (rec.ev[i].kind != kind)
			continue;
		if (n < max)
			out[n] = &rec.ev[i];
		n++;
	}
	return n;
}

/* ---- init and /proc/buddyinfo -------------------------------------------- */

Test(buddy, buddyinfo_has_the_exact_proc_format)
{
	boot(1 * MiB, 0); /* 256 frames: one order-8 block */
	cr_assert_str_eq(info(), "Node 0, zone   Normal      0      0      0      0      0      0"
	                         "      0      0      1      0      0 \n");
}

Test(buddy, init_gives_frames_in_largest_aligned_blocks)
{
	boot(64 * MiB, 1); /* 16384 frames from pfn 1: 1, 2, 4, ... 512, then 15 x 1024 */
	cr_assert_str_eq(info(), "Node 0, zone   Normal      1      1      1      1      1      1"
	                         "      1      1      1      1     15 \n");
	cr_assert_eq(b.managed, 16383);
	cr_assert_eq(b.free_pages, 16383);
	cr_assert_eq(ph.frames[0].kind, FK_RESERVED);
	cr_assert_eq(ph.frames[0].refcount, 1);
	cr_assert_eq(ph.frames[1].flags, FRAME_BUDDY);
	cr_assert_eq(ph.frames[512].order, 9);
	cr_assert_eq(b.free_area[10].head, 1024, "lists run in pfn order after boot");
	cr_assert_eq(ph.frames[1024].next, 2048);
	cr_assert_eq(ph.frames[0].kind, FK_RESERVED);
	cr_assert_eq(rec.n, 0, "init emits no events");
}

/* Resident pages of this process (second field of /proc/self/statm). */
static uint64_t rss_pages(void)
{
	unsigned long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");

	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%lu %lu", &size, &resident), 2);
	fclose(f);
	return resident;
}

Test(buddy, init_of_4gib_machine_writes_only_block_heads)
{
	uint64_t before, after;

	cr_assert_eq(phys_init(&ph, 4ULL << 30), 0);
	before = rss_pages();
	buddy_init(&b, &ph, NULL, 1);
	after = rss_pages();
	/* 1 Mi descriptors are 16 MiB; the 1023 order-10 heads sit 16 KiB apart,
	   so about 4 MiB of them gets backed. Writing every descriptor would be 16. */
	cr_assert_lt((after - before) * 4096, 8 * MiB, "init backed %lu KiB of descriptors",
	             (unsigned long)((after - before) * 4));
	cr_assert_str_eq(info(), "Node 0, zone   Normal      1      1      1      1      1      1"
	                         "      1      1      1      1   1023 \n");
	cr_assert_eq(buddy_alloc(&b, 0, FK_ANON), 1);
	buddy_free(&b, 1, 0);
	cr_assert_eq(b.free_pages, (1ULL << 20) - 1);
	check();
}

/* ---- allocation: __rmqueue_smallest and expand ------------------------------ */

Test(buddy, split_of_order3_block_puts_halves_on_orders_2_1_0)
{
	const struct event *split[8];
	pfn_t pfn;

	boot(1 * MiB, 248); /* frames 248..255: one order-3 block at 248 */
	cr_assert_str_eq(info(), "Node 0, zone   Normal      0      0      0      1      0      0"
	                         "      0      0      0      0      0 \n");
	pfn = alloc(0, FK_ANON);
	cr_assert_eq(pfn, 248, "the caller keeps the low half");
	cr_assert_eq(events_of(EV_BUDDY_SPLIT, split, 8), 3);
	cr_assert_eq(event_field(split[0], "pfn", 0), 252); /* &page[4] */
	cr_assert_eq(event_field(split[0], "order", 99), 2);
	cr_assert_eq(event_field(split[1], "pfn", 0), 250);
	cr_assert_eq(event_field(split[1], "order", 99), 1);
	cr_assert_eq(event_field(split[2], "pfn", 0), 249);
	cr_assert_eq(event_field(split[2], "order", 99), 0);
	cr_assert_str_eq(info(), "Node 0, zone   Normal      1      1      1      0      0      0"
	                         "      0      0      0      0      0 \n");
	cr_assert_eq(b.free_area[2].head, 252);
	cr_assert_eq(b.free_area[1].head, 250);
	cr_assert_eq(b.free_area[0].head, 249);
	cr_assert_eq(b.free_pages, 7);
}

Test(buddy, alloc_takes_the_smallest_block_that_fits)
{
	boot(1 * MiB, 248);
	cr_assert_eq(alloc(0, FK_ANON), 248); /* leaves 249 (0), 250 (1), 252 (2) */
	rec.n = 0;
	cr_assert_eq(alloc(1, FK_ANON), 250, "order 1 is on its own list: no split");
	cr_assert_eq(rec.n, 9, "no expand when nothing is split");
	cr_assert_eq(alloc(0, FK_ANON), 249);
	cr_assert_eq(alloc(0, FK_ANON), 252, "the order-2 block is split again");
	cr_assert_eq(nr_free(0), 1);
	cr_assert_eq(nr_free(1), 1);
	cr_assert_eq(b.free_area[0].head, 253);
	cr_assert_eq(b.free_area[1].head, 254);
}

Test(buddy, alloc_emits_the_linux_call_path)
{
	static const char *const path[] = {"__alloc_pages", "get_page_from_freelist", "rmqueue",
	                                   "__rmqueue_smallest", "expand"};
	const struct event *calls[8], *rets[8], *alloc_ev[2];
	pfn_t pfn;

	boot(1 * MiB, 0);
	pfn = alloc(2, FK_KERNEL);
	cr_assert_eq(events_of(EV_CALL, calls, 8), 5);
	cr_assert_eq(events_of(EV_RET, rets, 8), 5);
	for (unsigned i = 0; i < 5; i++) {
		cr_assert_str_eq(calls[i]->fn, path[i]);
		cr_assert_eq(calls[i]->depth, i);
		cr_assert_eq(calls[i]->layer, LAYER_KERNEL);
		cr_assert_str_eq(rets[i]->fn, path[4 - i], "returns unwind in reverse");
	}
	cr_assert_eq(event_field(calls[0], "order", 99), 2);
	cr_assert_eq(event_field(rets[4], "ret", 0), pfn);
	cr_assert_eq(events_of(EV_FRAME_ALLOC, alloc_ev, 2), 1);
	cr_assert_eq(event_field(alloc_ev[0], "pfn", 99), pfn);
	cr_assert_eq(event_field(alloc_ev[0], "order", 99), 2);
	cr_assert_eq(probe_depth(&probe), 0);
}

Test(buddy, alloc_marks_every_frame_of_the_block)
{
	pfn_t pfn;

	boot(1 * MiB, 0);
	pfn = alloc(3, FK_PAGETABLE);
	cr_assert_eq(pfn, 0);
	cr_assert_eq(ph.frames[0].flags, FRAME_HEAD);
	cr_assert_eq(ph.frames[0].order, 3);
	cr_assert_eq(ph.frames[0].refcount, 1);
	for (unsigned i = 0; i < 8; i++)
		cr_assert_eq(ph.frames[i].kind, FK_PAGETABLE, "frame %u", i);
	for (unsigned i = 1; i < 8; i++) {
		cr_assert_eq(ph.frames[i].flags, 0);
		cr_assert_eq(ph.frames[i].refcount, 0);
	}
	cr_assert_eq(ph.frames[8].kind, FK_FREE);
	cr_assert_eq(ph.frames[8].flags, FRAME_BUDDY);
	cr_assert_eq(b.allocs, 1);
}

/* ---- freeing: __free_one_page ------------------------------------------------ */

Test(buddy, free_merges_with_free_buddy)
{
	const struct event *merge[4], *freed[2];

	boot(1 * MiB, 0);
	/* Order-1 blocks come out at 0, 2, 4, 6, 8, 10 (low halves first). */
	for (pfn_t want = 0; want <= 10; want += 2)
		cr_assert_eq(alloc(1, FK_ANON), want);
	/* Left free: 12 (order 2), 16 (4), 32 (5), 64 (6), 128 (7) */
	cr_assert_eq(nr_free(2), 1);
	cr_assert_eq(nr_free(1), 0);

	rec.n = 0;
	release(8, 1); /* its buddy 10 is allocated: stays alone on order 1 */
	cr_assert_eq(events_of(EV_BUDDY_MERGE, merge, 4), 0);
	cr_assert_eq(nr_free(1), 1);
	cr_assert_eq(b.free_area[1].head, 8);

	rec.n = 0;
	release(10, 1); /* page 10's order-1 buddy is page 8 (and 8's is 10) */
	cr_assert_eq(events_of(EV_FRAME_FREE, freed, 2), 1);
	cr_assert_eq(event_field(freed[0], "pfn", 0), 10);
	cr_assert_eq(event_field(freed[0], "order", 0), 1);
	cr_assert_eq(events_of(EV_BUDDY_MERGE, merge, 4), 2);
	cr_assert_eq(event_field(merge[0], "pfn", 0), 10);
	cr_assert_eq(event_field(merge[0], "buddy", 0), 8);
	cr_assert_eq(event_field(merge[0], "order", 0), 1);
	/* the order-2 block at 8 merges with 12 (8 ^ 4); 8's order-3 buddy 0 is busy */
	cr_assert_eq(event_field(merge[1], "pfn", 0), 8);
	cr_assert_eq(event_field(merge[1], "buddy", 0), 12);
	cr_assert_eq(event_field(merge[1], "order", 0), 2);
	cr_assert_eq(nr_free(1), 0);
	cr_assert_eq(nr_free(2), 0);
	cr_assert_eq(nr_free(3), 1);
	cr_assert_eq(b.free_area[3].head, 8);
	cr_assert_eq(ph.frames[8].flags, FRAME_BUDDY);
	cr_assert_eq(ph.frames[8].order, 3);
	cr_assert_eq(ph.frames[10].flags, 0);
	cr_assert_eq(ph.frames[12].flags, 0);
	cr_assert_eq(probe_depth(&probe), 0);
}

Test(buddy, free_never_merges_below_start_pfn)
{
	boot(1 * MiB, 1);
	cr_assert_eq(alloc(0, FK_ANON), 1);
	release(1, 0); /* its buddy is pfn 0, reserved */
	cr_assert_eq(nr_free(0), 1);
	cr_assert_eq(b.free_area[0].head, 1);
	cr_assert_eq(ph.frames[0].kind, FK_RESERVED);
}

Test(buddy, freed_block_is_reused_first)
{
	boot(1 * MiB, 0);
	cr_assert_eq(alloc(0, FK_ANON), 0);
	cr_assert_eq(alloc(0, FK_ANON), 1);
	cr_assert_eq(alloc(0, FK_ANON), 2);
	release(0, 0);
	cr_assert_eq(alloc(0, FK_ANON), 0, "the free list is LIFO");
	cr_assert_eq(b.frees, 1);
}

Test(buddy, buddyinfo_identical_after_allocating_and_freeing_everything)
{
	static pfn_t got[1024];
	char before[256];
	unsigned n = 0;
	pfn_t pfn;

	boot(4 * MiB, 3); /* 1021 frames in blocks of orders 0, 2, 3, ... */
	strcpy(before, info());
	while ((pfn = alloc(0, FK_ANON)) != PFN_NONE) {
		cr_assert_lt(n, 1024);
		got[n++] = pfn;
	}
	cr_assert_eq(n, 1021);
	cr_assert_eq(b.free_pages, 0);
	cr_assert_eq(b.failed, 1);
	cr_assert_str_eq(info(), "Node 0, zone   Normal      0      0      0      0      0      0"
	                         "      0      0      0      0      0 \n");
	srand(7);
	for (unsigned i = n - 1; i > 0; i--) {
		unsigned j = (unsigned)rand() % (i + 1);
		pfn_t t = got[i];

		got[i] = got[j];
		got[j] = t;
	}
	for (unsigned i = 0; i < n; i++)
		release(got[i], 0);
	cr_assert_str_eq(info(), before);
	cr_assert_eq(b.free_pages, 1021);
}

/* Every order: one split per order on the way down, all merged back on free. */
ParameterizedTestParameters(buddy, alloc_and_free_each_order)
{
	static unsigned orders[NR_PAGE_ORDERS];

	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
		orders[o] = o;
	return cr_make_param_array(unsigned, orders, NR_PAGE_ORDERS);
}

ParameterizedTest(unsigned *order, buddy, alloc_and_free_each_order)
{
	const unsigned o = *order;
	const struct event *ev[16];
	char before[256];
	pfn_t pfn;

	boot(4 * MiB, 0); /* one order-10 block */
	strcpy(before, info());
	pfn = alloc(o, FK_ANON);
	cr_assert_eq(pfn, 0);
	cr_assert_eq(events_of(EV_BUDDY_SPLIT, ev, 16), MAX_PAGE_ORDER - o);
	for (unsigned k = 0; k < NR_PAGE_ORDERS; k++)
		cr_assert_eq(nr_free(k), k >= o && k < MAX_PAGE_ORDER ? 1 : 0, "order %u", k);
	cr_assert_eq(b.free_pages, 1024 - (1ULL << o));
	cr_assert_eq(ph.frames[0].order, o);
	for (uint64_t i = 0; i < (1ULL << o); i++)
		cr_assert_eq(ph.frames[i].kind, FK_ANON);

	rec.n = 0;
	release(pfn, o);
	cr_assert_eq(events_of(EV_BUDDY_MERGE, ev, 16), MAX_PAGE_ORDER - o);
	cr_assert_str_eq(info(), before);
	for (uint64_t i = 0; i < (1ULL << o); i++) {
		cr_assert_eq(ph.frames[i].kind, FK_FREE);
		cr_assert_eq(frame_refcount(&ph.frames[i]), 0);
	}
}

/* ---- random sequences ---------------------------------------------------------- */

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct live {
	pfn_t pfn;
	unsigned order;
};

static void random_run(uint64_t seed, unsigned ops)
{
	static struct live live[1024];
	static uint8_t owner[1024]; /* 1 + index of the block owning the frame, mod 256 */
	unsigned nlive = 0;
	uint64_t live_pages = 0;

	boot(4 * MiB, 5); /* 1019 frames: odd shapes at the bottom */
	memset(owner, 0, sizeof(owner));
	for (unsigned i = 0; i < ops; i++) {
		uint64_t r = xorshift(&seed);

		if (nlive && (r & 1 || nlive == 1024)) {
			unsigned k = (unsigned)(r >> 8) % nlive;
			struct live l = live[k];

			release(l.pfn, l.order);
			for (uint64_t f = 0; f < (1ULL << l.order); f++)
				owner[l.pfn + f] = 0;
			live_pages -= 1ULL << l.order;
			live[k] = live[--nlive];
		} else {
			unsigned order = (unsigned)(r >> 8) % 6;
			pfn_t pfn = alloc(order, FK_ANON);

			if (pfn == PFN_NONE) {
				/* Only when no free block is that large. */
				for (unsigned o = order; o < NR_PAGE_ORDERS; o++)
					cr_assert_eq(nr_free(o), 0);
				continue;
			}
			cr_assert_eq(pfn & ((1ULL << order) - 1), 0, "aligned");
			cr_assert_geq(pfn, 5);
			cr_assert_leq(pfn + (1ULL << order), 1024);
			for (uint64_t f = 0; f < (1ULL << order); f++) {
				cr_assert_eq(owner[pfn + f], 0, "frame %lu handed out twice",
				             (unsigned long)(pfn + f));
				owner[pfn + f] = 1;
			}
			live[nlive++] = (struct live){pfn, order};
			live_pages += 1ULL << order;
		}
		cr_assert_eq(b.free_pages + live_pages, b.managed, "free pages conserved");
	}
	while (nlive) {
		nlive--;
		release(live[nlive].pfn, live[nlive].order);
	}
	cr_assert_eq(b.free_pages, b.managed);
	cr_assert_eq(probe_depth(&probe), 0);
}

Test(buddy, random_sequences_keep_invariants_seed_1)
{
	random_run(1, 3000);
}
Test(buddy, random_sequences_keep_invariants_seed_42)
{
	random_run(42, 3000);
}
Test(buddy, random_sequences_keep_invariants_seed_9001)
{
	random_run(9001, 3000);
}

/* ---- out of memory and fault injection -------------------------------------------- */

Test(buddy, exhaustion_returns_pfn_none_and_changes_nothing)
{
	char before[256];
	const struct event *rets[8];

	boot(1 * MiB, 0);
	cr_assert_eq(alloc(9, FK_ANON), PFN_NONE, "no block of order 9 on a 256-frame machine");
	cr_assert_eq(alloc(8, FK_ANON), 0);
	strcpy(before, info());
	rec.n = 0;
	cr_assert_eq(alloc(0, FK_ANON), PFN_NONE);
	cr_assert_str_eq(info(), before);
	cr_assert_eq(b.failed, 2);
	cr_assert_eq(b.allocs, 1);
	cr_assert_eq(events_of(EV_RET, rets, 8), 4);
	cr_assert_str_eq(rets[3]->fn, "__alloc_pages");
	cr_assert_eq(event_field(rets[3], "ret", 0), PFN_NONE);
	cr_assert_eq(probe_depth(&probe), 0);
	release(0, 8);
	cr_assert_eq(alloc(0, FK_ANON), 0, "memory is back");
}

Test(buddy, fail_after_n_lets_n_allocations_through_then_fails)
{
	boot(1 * MiB, 0);
	b.fail_after = 3;
	for (unsigned i = 0; i < 3; i++)
		cr_assert_neq(alloc(0, FK_ANON), PFN_NONE, "allocation %u", i);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(alloc(0, FK_ANON), PFN_NONE, "every later one fails");
	cr_assert_eq(b.failed, 4);
	cr_assert_eq(b.allocs, 3);
	cr_assert_eq(b.free_pages, 253);
	cr_assert_eq(probe_depth(&probe), 0);
	b.fail_after = -1;
	cr_assert_eq(alloc(0, FK_ANON), 3, "reset to -1: allocations succeed again");
}

Test(buddy, fail_after_zero_fails_the_next_allocation)
{
	const struct event *notes[2];

	boot(1 * MiB, 0);
	b.fail_after = 0;
	cr_assert_eq(alloc(0, FK_ANON), PFN_NONE);
	cr_assert_eq(events_of(EV_NOTE, notes, 2), 1);
	cr_assert_str_eq(notes[0]->fn, "should_fail_alloc_page");
	cr_assert_eq(b.free_pages, 256, "nothing was taken");
	cr_assert_eq(b.fail_after, 0, "stays failing until reset");
}

/* ---- without a probe ----------------------------------------------------------- */

Test(buddy, works_without_a_probe)
{
	cr_assert_eq(phys_init(&ph, 1 * MiB), 0);
	buddy_init(&b, &ph, NULL, 0);
	cr_assert_eq(alloc(0, FK_ANON), 0);
	cr_assert_eq(alloc(1, FK_ANON), 2);
	release(0, 0);
	release(2, 1);
	b.fail_after = 0;
	cr_assert_eq(alloc(0, FK_ANON), PFN_NONE);
	cr_assert_eq(nr_free(8), 1);
}

/*
 * Without a sink the allocator only counts its events: the sequence numbers
 * must come out exactly as if every event had been emitted.
 */
Test(buddy, events_are_numbered_the_same_without_a_sink)
{
	struct phys ph2;
	struct probe quiet;
	struct buddy b2;
	static struct live2 {
		pfn_t pfn;
		unsigned order;
	} live[512];
	unsigned nlive = 0;
	uint64_t seed = 5;

	boot(2 * MiB, 1);
	cr_assert_eq(phys_init(&ph2, 2 * MiB), 0);
	probe_init(&quiet);
	buddy_init(&b2, &ph2, &quiet, 1);
	for (unsigned i = 0; i < 2000; i++) {
		uint64_t r = xorshift(&seed);

		if (i == 700)
			b.fail_after = b2.fail_after = 5;
		if (i == 800)
			b.fail_after = b2.fail_after = -1;
		if (nlive && ((r & 3) == 0 || nlive == 512)) {
			unsigned k = (unsigned)(r >> 8) % nlive;

			buddy_free(&b, live[k].pfn, live[k].order);
			buddy_free(&b2, live[k].pfn, live[k].order);
			live[k] = live[--nlive];
		} else {
			unsigned order = (unsigned)(r >> 8) % 8;
			pfn_t pfn = buddy_alloc(&b, order, FK_ANON);

			cr_assert_eq(buddy_alloc(&b2, order, FK_ANON), pfn);
			if (pfn != PFN_NONE)
				live[nlive++] = (struct live2){pfn, order};
		}
		cr_assert_eq(probe_seq(&quiet), probe_seq(&probe), "op %u", i);
		cr_assert_eq(probe_seq(&probe), rec.n + rec.dropped);
		cr_assert_eq(probe_depth(&quiet), 0);
	}
	cr_assert_gt(b.failed, 5, "the run met failures, injected and real");
	cr_assert_eq(buddy_check(&b2, stderr), 0);
	phys_destroy(&ph2);
}

/* ---- the checker finds what it claims to ------------------------------------------ */

Test(buddy, check_reports_unmerged_buddies)
{
	char msg[512] = "";
	FILE *f;

	boot(1 * MiB, 0);
	cr_assert_eq(alloc(0, FK_ANON), 0);
	cr_assert_eq(alloc(0, FK_ANON), 1);
	/* Free both behind the allocator's back, without merging. */
	ph.frames[0] = (struct frame){.next = 1, .flags = FRAME_BUDDY};
	frame_set_prev(&ph.frames[0], FRAME_LINK_NONE);
	ph.frames[1] = (struct frame){.next = FRAME_LINK_NONE, .flags = FRAME_BUDDY};
	frame_set_prev(&ph.frames[1], 0);
	b.free_area[0].head = 0;
	b.free_area[0].nr_free = 2;
	b.free_pages += 2;
	f = fmemopen(msg, sizeof(msg), "w");
	cr_assert_gt(buddy_check(&b, f), 0);
	fclose(f);
	cr_assert(strstr(msg, "not merged"), "got: %s", msg);
}

Test(buddy, check_reports_wrong_nr_free_and_bad_frames)
{
	boot(1 * MiB, 0);
	b.free_area[8].nr_free++;
	cr_assert_gt(buddy_check(&b, NULL), 0);
	b.free_area[8].nr_free--;
	check();
	ph.frames[17].refcount = 1; /* a frame inside the free order-8 block */
	cr_assert_gt(buddy_check(&b, NULL), 0);
	ph.frames[17].refcount = 0;
	ph.frames[3].kind = FK_ANON;
	cr_assert_gt(buddy_check(&b, NULL), 0);
	ph.frames[3].kind = FK_FREE;
	b.free_area[8].head = 8; /* misaligned head, and 0 becomes unlisted */
	cr_assert_gt(buddy_check(&b, NULL), 0);
}

/* The mask of orders with a block is what allocation trusts: a stale bit is a break. */
Test(buddy, check_reports_a_nonempty_mask_out_of_step)
{
	char msg[256] = "";
	FILE *f;

	boot(1 * MiB, 0);
	cr_assert_eq(b.nonempty & 1, 0, "order 0 starts empty on 1 MiB from pfn 0");
	b.nonempty |= 1;
	f = fmemopen(msg, sizeof(msg), "w");
	cr_assert_gt(buddy_check(&b, f), 0);
	fclose(f);
	cr_assert_not_null(strstr(msg, "nonempty bit 1 but nr_free 0"), "%s", msg);
	b.nonempty &= ~1u;
	check();
	/* taking the last block of an order clears its bit; freeing sets it again */
	pfn_t p = buddy_alloc(&b, 8, FK_KERNEL);
	cr_assert_eq(b.free_area[8].nr_free, 0);
	cr_assert_eq(b.nonempty >> 8 & 1, 0);
	check();
	buddy_free(&b, p, 8);
	cr_assert_eq(b.nonempty >> 8 & 1, 1);
	check();
}

Test(buddy, dump_lists_every_order)
{
	char out[4096] = "";
	FILE *f;

	boot(64 * MiB, 1);
	f = fmemopen(out, sizeof(out), "w");
	buddy_dump(&b, f);
	fclose(f);
	cr_assert(strstr(out, "order  0: nr_free      1  0x1"), "%s", out);
	cr_assert(strstr(out, "order 10: nr_free     15  0x400 0x800"), "%s", out);
	cr_assert(strstr(out, " ..."), "long lists are cut");
}

/* ---- the simulator's bugs panic ---------------------------------------------------- */

Test(buddy_death, double_free_panics, .signal = SIGABRT)
{
	boot(1 * MiB, 0);
	buddy_free(&b, buddy_alloc(&b, 1, FK_ANON), 1);
	buddy_free(&b, 0, 1);
}

Test(buddy_death, double_free_after_merge_panics, .signal = SIGABRT)
{
	boot(1 * MiB, 0);
	cr_assert_eq(buddy_alloc(&b, 0, FK_ANON), 0);
	cr_assert_eq(buddy_alloc(&b, 0, FK_ANON), 1);
	buddy_free(&b, 1, 0);
	buddy_free(&b, 0, 0); /* merges 0 and 1: frame 1 is now a free tail */
	buddy_free(&b, 1, 0);
}

Test(buddy_death, free_with_wrong_order_panics, .signal = SIGABRT)
{
	boot(1 * MiB, 0);
	cr_assert_eq(buddy_alloc(&b, 2, FK_ANON), 0);
	buddy_free(&b, 0, 1);
}

Test(buddy_death, free_of_a_tail_frame_panics, .signal = SIGABRT)
{
	boot(1 * MiB, 0);
	cr_assert_eq(buddy_alloc(&b, 2, FK_ANON), 0);
	buddy_free(&b, 2, 1);
}

Test(buddy_death, free_spanning_two_blocks_panics, .signal = SIGABRT)
{
	boot(1 * MiB, 0);
	cr_assert_eq(buddy_alloc(&b, 0, FK_ANON), 0);
	cr_assert_eq(buddy_alloc(&b, 0, FK_ANON), 1);
	ph.frames[0].order = 1; /* a corrupted head claiming its neighbour */
	buddy_free(&b, 0, 1);
}

Test(buddy_death, free_of_reserved_frame_panics, .signal = SIGABRT)
{
	boot(1 * MiB, 1);
	buddy_free(&b, 0, 0);
}

Test(buddy_death, free_of_referenced_frame_panics, .signal = SIGABRT)
{
	boot(1 * MiB, 0);
	cr_assert_eq(buddy_alloc(&b, 0, FK_ANON), 0);
	ph.frames[0].refcount = 2;
	buddy_free(&b, 0, 0);
}

Test(buddy_death, alloc_of_too_large_order_panics, .signal = SIGABRT)
{
	boot(1 * MiB, 0);
	buddy_alloc(&b, MAX_PAGE_ORDER + 1, FK_ANON);
}
