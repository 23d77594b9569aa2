/*
 * test_phys.c - simulated RAM and the frame table: lazy reservation, frame
 * contents, descriptor invariants, the 4 GiB machine's host footprint.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/phys.h"

#define RAM (2ULL << 20)

static struct phys P;

static void setup(void)
{
	cr_assert_eq(phys_init(&P, RAM), 0);
}

static void teardown(void)
{
	phys_destroy(&P);
}

static void check(void)
{
	cr_assert_eq(phys_check(&P, stderr), 0);
}

TestSuite(phys, .init = setup, .fini = teardown);

Test(phys, init_rejects_small_or_unaligned_sizes)
{
	struct phys p;

	errno = 0;
	cr_assert_eq(phys_init(&p, 512 * 1024), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(phys_init(&p, (1ULL << 20) + 100), -1);
	cr_assert_eq(phys_init(&p, 1ULL << 20), 0);
	cr_assert_eq(p.nr_frames, 256);
	phys_destroy(&p);
}

Test(phys, fresh_frames_are_free_with_refcount_zero)
{
	uint64_t counts[FK__COUNT];

	cr_assert_eq(P.nr_frames, RAM / PAGE_SIZE);
	for (pfn_t pfn = 0; pfn < P.nr_frames; pfn++) {
		cr_assert_eq(phys_frame(&P, pfn)->kind, FK_FREE);
		cr_assert_eq(phys_frame(&P, pfn)->refcount, 0);
	}
	phys_count_kinds(&P, counts);
	cr_assert_eq(counts[FK_FREE], P.nr_frames);
	cr_assert_eq(counts[FK_ANON], 0);
	cr_assert(phys_valid_pfn(&P, P.nr_frames - 1));
	cr_assert_not(phys_valid_pfn(&P, P.nr_frames));
	check();
}

Test(phys, frame_contents_zero_fill_copy_read_write)
{
	uint8_t buf[16];

	phys_fill_frame(&P, 3, 0xcc);
	phys_read(&P, pfn_to_paddr(3) + 100, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 0xcc);
	phys_write64(&P, pfn_to_paddr(3) + 8, 0x0123456789abcdefULL);
	cr_assert_eq(phys_read64(&P, pfn_to_paddr(3) + 8), 0x0123456789abcdefULL);
	phys_copy_frame(&P, 4, 3);
	cr_assert_eq(phys_read64(&P, pfn_to_paddr(4) + 8), 0x0123456789abcdefULL);
	cr_assert_eq(phys_read64(&P, pfn_to_paddr(4) + PAGE_SIZE - 8), 0xccccccccccccccccULL);
	phys_write(&P, pfn_to_paddr(4) + PAGE_SIZE - 2, "xy", 2);
	phys_read(&P, pfn_to_paddr(4) + PAGE_SIZE - 2, buf, 2);
	cr_assert_eq(memcmp(buf, "xy", 2), 0);
	phys_zero_frame(&P, 3);
	cr_assert_eq(phys_read64(&P, pfn_to_paddr(3) + 8), 0);
	cr_assert_eq(phys_read64(&P, pfn_to_paddr(4) + 8), 0x0123456789abcdefULL, "a copy");
	check();
}

Test(phys, discarded_frame_reads_as_zero)
{
	phys_fill_frame(&P, 7, 0x5a);
	phys_discard_frame(&P, 7);
	for (paddr_t off = 0; off < PAGE_SIZE; off += 8)
		cr_assert_eq(phys_read64(&P, pfn_to_paddr(7) + off), 0);
	phys_fill_frame(&P, 7, 1); /* usable again */
	cr_assert_eq(phys_read64(&P, pfn_to_paddr(7)), 0x0101010101010101ULL);
	check();
}

Test(phys, pfn_beyond_ram_panics, .signal = SIGABRT)
{
	phys_zero_frame(&P, P.nr_frames);
}

Test(phys, access_crossing_a_frame_panics, .signal = SIGABRT)
{
	uint8_t buf[8];

	phys_read(&P, pfn_to_paddr(1) + PAGE_SIZE - 4, buf, 8);
}

Test(phys, unaligned_read64_panics, .signal = SIGABRT)
{
	phys_read64(&P, 4);
}

Test(phys, kind_names)
{
	cr_assert_str_eq(frame_kind_name(FK_FREE), "free");
	cr_assert_str_eq(frame_kind_name(FK_RESERVED), "reserved");
	cr_assert_str_eq(frame_kind_name(FK_KERNEL), "kernel");
	cr_assert_str_eq(frame_kind_name(FK_PAGETABLE), "pagetable");
	cr_assert_str_eq(frame_kind_name(FK_ANON), "anon");
	cr_assert_str_eq(frame_kind_name(FK_ZERO), "zero");
	cr_assert_str_eq(frame_kind_name(FK__COUNT), "?");
}

Test(phys, count_kinds_scans_every_descriptor)
{
	uint64_t counts[FK__COUNT];

	phys_frame(&P, 0)->kind = FK_RESERVED;
	for (pfn_t pfn = 10; pfn < 13; pfn++) {
		phys_frame(&P, pfn)->kind = FK_ANON;
		phys_frame(&P, pfn)->refcount = 1;
	}
	phys_frame(&P, 20)->kind = FK_PAGETABLE;
	phys_frame(&P, 20)->refcount = 1;
	check();
	phys_count_kinds(&P, counts);
	cr_assert_eq(counts[FK_RESERVED], 1);
	cr_assert_eq(counts[FK_ANON], 3);
	cr_assert_eq(counts[FK_PAGETABLE], 1);
	cr_assert_eq(counts[FK_FREE], P.nr_frames - 5);
}

/* One broken descriptor at pfn 8, then the check must count exactly one. */
static void expect_broken(struct frame f)
{
	FILE *devnull = fopen("/dev/null", "w");

	*phys_frame(&P, 8) = f;
	cr_assert_eq(phys_check(&P, devnull), 1, "kind %u flags %#x order %u ref %d",
	             (unsigned)f.kind, (unsigned)f.flags, (unsigned)f.order, frame_refcount(&f));
	*phys_frame(&P, 8) = (struct frame){0};
	cr_assert_eq(phys_check(&P, devnull), 0);
	fclose(devnull);
}

Test(phys, check_finds_each_broken_descriptor)
{
	expect_broken((struct frame){.kind = FK_FREE, .refcount = 1});
	expect_broken((struct frame){.kind = FK_ANON, .refcount = 1, .flags = FRAME_BUDDY});
	expect_broken((struct frame){.kind = FK_ANON, .refcount = 0});
	expect_broken((struct frame){.kind = FK_PAGETABLE, .refcount = 0});
	expect_broken((struct frame){.kind = FK_FREE, .order = 11});
	expect_broken((struct frame){.kind = FK__COUNT});
	expect_broken(
	    (struct frame){.kind = FK_FREE, .flags = FRAME_BUDDY, .order = 4}); /* 8 % 16 */
}

/* The head of a free block keeps its link to the next block in the word of
   the reference count: it must read as no reference, and pass the check. */
Test(phys, a_free_heads_link_is_not_a_reference)
{
	struct frame *f = phys_frame(&P, 8);

	*f = (struct frame){.next = 0x12345, .flags = FRAME_BUDDY, .order = 3};
	frame_set_prev(f, 7);
	cr_assert_eq(f->next, 0x12345);
	cr_assert_eq(frame_prev(f), 7);
	cr_assert_eq(frame_refcount(f), 0);
	cr_assert_eq(phys_check(&P, NULL), 0);
	/* The widest link there is. */
	frame_set_prev(f, FRAME_LINK_NONE);
	f->next = FRAME_LINK_NONE;
	cr_assert_eq(frame_prev(f), FRAME_LINK_NONE);
	cr_assert_eq(f->next, FRAME_LINK_NONE);
	frame_set_prev(f, FRAME_LINK_NONE - 1); /* high bits in one word, low in the other */
	cr_assert_eq(frame_prev(f), FRAME_LINK_NONE - 1);
	cr_assert_eq(f->next, FRAME_LINK_NONE);
	cr_assert_eq(f->order, 3);
	cr_assert_eq(f->flags, FRAME_BUDDY);
	cr_assert_eq(f->kind, FK_FREE);
	/* Once it leaves the list it is counted again. */
	*f = (struct frame){.refcount = 2, .flags = FRAME_HEAD, .kind = FK_KERNEL};
	cr_assert_eq(frame_refcount(f), 2);
	*f = (struct frame){0};
	cr_assert_eq(phys_check(&P, NULL), 0);
}

/* RAM is bounded by the width of the free-list links, and no more. */
Test(phys, ram_up_to_what_the_links_can_name)
{
	struct phys big;

	errno = 0;
	cr_assert_eq(phys_init(&big, (PHYS_MAX_FRAMES + 1) * PAGE_SIZE), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(phys_init(&big, PHYS_MAX_FRAMES * PAGE_SIZE), 0);
	cr_assert_eq(big.nr_frames, PHYS_MAX_FRAMES);
	/* The last frame fits a link (none is FRAME_LINK_NONE: nr_frames <= it). */
	frame_set_prev(phys_frame(&big, 0), (uint32_t)(big.nr_frames - 1));
	phys_frame(&big, 0)->next = (uint32_t)(big.nr_frames - 1);
	cr_assert_eq(frame_prev(phys_frame(&big, 0)), big.nr_frames - 1);
	cr_assert_eq(phys_frame(&big, 0)->next, big.nr_frames - 1);
	phys_destroy(&big);
}

Test(phys, check_accepts_buddy_blocks_and_tails_of_allocated_blocks)
{
	/* A free order-3 block at 8, an allocated order-2 block at 16 of kernel frames. */
	phys_frame(&P, 8)->flags = FRAME_BUDDY;
	phys_frame(&P, 8)->order = 3;
	*phys_frame(&P, 16) =
	    (struct frame){.kind = FK_KERNEL, .refcount = 1, .flags = FRAME_HEAD, .order = 2};
	for (pfn_t pfn = 17; pfn < 20; pfn++)
		phys_frame(&P, pfn)->kind = FK_KERNEL; /* tails: refcount 0 like Linux */
	check();
	phys_frame(&P, 20)->kind = FK_KERNEL; /* past the block: needs a reference */
	cr_assert_eq(phys_check(&P, NULL), 1);
}

Test(phys, dump_summarizes_kinds_and_runs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	phys_frame(&P, 0)->kind = FK_RESERVED;
	phys_dump(&P, out);
	fclose(out);
	cr_assert_not_null(strstr(buf, "512 frames"));
	cr_assert_not_null(strstr(buf, "reserved=1"));
	cr_assert_not_null(strstr(buf, "free=511"));
	cr_assert_not_null(strstr(buf, "(511 frames)"));
	free(buf);
}

/* Resident host memory in bytes (/proc/self/statm, second field). */
static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size, resident;

	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%lu %lu", &size, &resident), 2);
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

Test(phys, four_gib_machine_costs_only_what_it_touched)
{
	struct phys big;
	const uint64_t touched = 10ULL << 20;
	uint64_t rss0, rss1, rss2;

	rss0 = rss_bytes();
	cr_assert_eq(phys_init(&big, 4ULL << 30), 0);
	cr_assert_eq(big.nr_frames, 1ULL << 20);
	rss1 = rss_bytes();
	cr_assert_lt(rss1 - rss0, 1ULL << 20, "reserving 4 GiB backed %lu bytes",
	             (unsigned long)(rss1 - rss0));
	/* 10 MiB as ten 1 MiB runs spread over the whole RAM. */
	for (uint64_t i = 0; i < touched / PAGE_SIZE; i++) {
		pfn_t pfn = (i / 256) * (big.nr_frames / 10) + i % 256;

		phys_fill_frame(&big, pfn, 0xee);
		phys_frame(&big, pfn)->kind = FK_ANON;
		phys_frame(&big, pfn)->refcount = 1;
	}
	rss2 = rss_bytes();
	cr_assert_geq(rss2 - rss0, touched, "touching must show in RSS (else the test is blind)");
	/* RAM asks for 2 MiB host pages (phys.c): each run may back the two it
	   straddles; the frame table's 4 KiB pages come on top. */
	cr_assert_lt(rss2 - rss0, 10 * (4ULL << 20) + (4ULL << 20), "RSS grew by %lu MiB",
	             (unsigned long)((rss2 - rss0) >> 20));
	cr_assert_eq(phys_check(&big, stderr), 0);
	phys_destroy(&big);
}

/* clear_page's vector loops: every byte of the frame, not one byte beyond. */
static void zero_frame_clears_exactly_its_frame(void)
{
	for (pfn_t pfn = 2; pfn <= 4; pfn++)
		phys_fill_frame(&P, pfn, 0xcc);
	phys_zero_frame(&P, 3);
	for (paddr_t off = 0; off < PAGE_SIZE; off += 8)
		cr_assert_eq(phys_read64(&P, pfn_to_paddr(3) + off), 0, "byte %#llx",
		             (unsigned long long)off);
	cr_assert_eq(phys_read64(&P, pfn_to_paddr(3) - 8), 0xccccccccccccccccULL);
	cr_assert_eq(phys_read64(&P, pfn_to_paddr(4)), 0xccccccccccccccccULL);
	check();
}

/* clear_page in parts (the fault's fast path): each part clears exactly
   its quarter, in any order, and all of them the frame. */
static void zero_frame_parts_clear_their_bytes(void)
{
	const unsigned part = PAGE_SIZE / PHYS_ZERO_PARTS;
	const unsigned order[PHYS_ZERO_PARTS] = {2, 0, 3, 1};

	for (pfn_t pfn = 2; pfn <= 4; pfn++)
		phys_fill_frame(&P, pfn, 0xcc);
	for (unsigned i = 0; i < PHYS_ZERO_PARTS; i++) {
		phys_zero_frame_part(&P, 3, order[i]);
		for (paddr_t off = 0; off < PAGE_SIZE; off += 8) {
			bool cleared = false;

			for (unsigned j = 0; j <= i; j++)
				cleared |= off / part == order[j];
			cr_assert_eq(phys_read64(&P, pfn_to_paddr(3) + off),
			             cleared ? 0 : 0xccccccccccccccccULL, "after %u parts, byte %#llx",
			             i + 1, (unsigned long long)off);
		}
	}
	cr_assert_eq(phys_read64(&P, pfn_to_paddr(3) - 8), 0xccccccccccccccccULL);
	cr_assert_eq(phys_read64(&P, pfn_to_paddr(4)), 0xccccccccccccccccULL);
	check();
}

/* clear_page whole, then in parts: what each loop was asked to clear. */
static void zeroing_clears_exactly_what_it_names(void)
{
	zero_frame_clears_exactly_its_frame();
	zero_frame_parts_clear_their_bytes();
}

Test(phys, zeroing_clears_exactly_what_it_names_with_the_hosts_widest_stores)
{
	zeroing_clears_exactly_what_it_names();
}

Test(phys, zeroing_clears_exactly_what_it_names_with_the_baseline_stores)
{
	phys_zero_use_baseline(true);
	zeroing_clears_exactly_what_it_names();
	phys_zero_use_baseline(false);
}

Test(phys, zero_frame_part_beyond_the_page_panics, .signal = SIGABRT)
{
	phys_zero_frame_part(&P, 3, PHYS_ZERO_PARTS);
}

Test(phys, zero_frame_part_beyond_ram_panics, .signal = SIGABRT)
{
	phys_zero_frame_part(&P, P.nr_frames, 0);
}
