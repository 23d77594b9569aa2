/*
 * test_mremap.c - mremap (kernel_sim/mremap.c): a move hands the PTEs to
 * the new addresses (same frames, no fault, no copy), a 2 MiB aligned move
 * hands over whole page tables (move_normal_pmd), growth in place merges,
 * shrinking unmaps the tail, and bad input gives the kernel's errno.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kernel_sim/kernel.h"
#include "kernel_sim/pgtable.h"
#include "kernel_sim/syscalls.h"
#include "tests/support_sim.h"
#include "vm/pagetable.h"

#define PG   PAGE_SIZE
#define MB   (1ULL << 20)
#define RW   (SIM_PROT_READ | SIM_PROT_WRITE)
#define ANON (SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS)

static struct kernel k;
static struct sim_recorder rec;
static struct task *t;

static void boot(void)
{
	struct kernel_opts o;

	kernel_default_opts(&o);
	t = sim_kernel_boot(&k, &o, &rec, "prog");
}

static void shutdown(void)
{
	kernel_shutdown(&k);
}

TestSuite(mremap, .init = boot, .fini = shutdown);

static pte_t leaf(vaddr_t va)
{
	pfn_t pt = pgtable_lookup(&k, t->mm, va);

	return pt == PFN_NONE ? 0 : pt_get(&k.phys, pt, pt_index(va, 1));
}

static vaddr_t map_touched(uint64_t len)
{
	int64_t r = sys_mmap(&k, 0, len, RW, ANON, -1, 0);

	cr_assert_geq(r, 0);
	cr_assert_eq(sim_touch_pages(&k, t, (vaddr_t)r, len / PG, true, NULL), 0);
	return (vaddr_t)r;
}

static unsigned count(const char *fn)
{
	unsigned n = 0;

	for (unsigned i = 0; i < rec.n; i++)
		n += rec.ev[i].kind == EV_CALL && !strcmp(rec.ev[i].fn, fn);
	return n;
}

Test(mremap, a_move_keeps_the_frames_and_takes_no_fault)
{
	vaddr_t a = map_touched(4 * PG), n;
	pfn_t pfn = pte_pfn(leaf(a + PG));
	uint64_t flt = t->min_flt, rss = t->mm->rss_stat[MM_ANONPAGES], sum = 0;
	int64_t r;

	cr_assert_eq(sys_mmap(&k, a + 4 * PG, PG, RW, ANON | SIM_MAP_FIXED, -1, 0),
	             (int64_t)(a + 4 * PG));
	r = sys_mremap(&k, a, 4 * PG, 8 * PG, SIM_MREMAP_MAYMOVE, 0);
	sim_kernel_check(&k);
	cr_assert_geq(r, 0);
	n = (vaddr_t)r;
	cr_assert_neq(n, a);
	cr_assert_eq(pte_pfn(leaf(n + PG)), pfn);
	cr_assert_eq(leaf(a + PG), 0);
	cr_assert_eq(t->mm->rss_stat[MM_ANONPAGES], rss);
	cr_assert_eq(sim_touch_pages(&k, t, n, 4, false, &sum), 0);
	cr_assert_eq(sum, 4 * 0x5a);
	cr_assert_eq(t->min_flt, flt);
	cr_assert_null(vma_lookup(t->mm, a));
}

Test(mremap, an_aligned_move_hands_over_whole_page_tables)
{
	vaddr_t a = map_touched(4 * MB);
	uint64_t pt0;
	int64_t r;

	cr_assert_eq(a % (2 * MB), 0, "a multiple of 2 MiB is placed 2 MiB aligned");
	cr_assert_eq(sys_mmap(&k, a + 4 * MB, PG, RW, ANON | SIM_MAP_FIXED, -1, 0),
	             (int64_t)(a + 4 * MB));
	pt0 = t->mm->pgtables_bytes;
	rec.n = 0;
	r = sys_mremap(&k, a, 4 * MB, 8 * MB, SIM_MREMAP_MAYMOVE, 0);
	sim_kernel_check(&k);
	cr_assert_geq(r, 0);
	cr_assert_eq((vaddr_t)r % (2 * MB), 0);
	cr_assert_eq(count("move_normal_pmd"), 2);
	cr_assert_eq(count("move_ptes"), 0);
	cr_assert_leq(t->mm->pgtables_bytes, pt0 + 2 * PG, "no page table was copied");
}

Test(mremap, grows_in_place_when_the_next_range_is_free_and_shrinks_the_tail)
{
	vaddr_t a = map_touched(8 * PG);
	uint64_t free0;

	cr_assert_eq(sys_munmap(&k, a + 4 * PG, 4 * PG), 0);
	cr_assert_eq(sys_mremap(&k, a, 4 * PG, 8 * PG, 0, 0), (int64_t)a);
	cr_assert_eq(vma_lookup(t->mm, a)->vm_end, a + 8 * PG);
	free0 = k.buddy.free_pages;
	cr_assert_eq(sys_mremap(&k, a, 8 * PG, 2 * PG, 0, 0), (int64_t)a);
	sim_kernel_check(&k);
	cr_assert_eq(vma_lookup(t->mm, a)->vm_end, a + 2 * PG);
	cr_assert_eq(k.buddy.free_pages, free0 + 2, "the two touched pages of the tail");
}

Test(mremap, bad_input_gives_the_kernels_errno)
{
	vaddr_t a = map_touched(4 * PG);

	cr_assert_eq(sys_mremap(&k, a + 1, PG, 2 * PG, SIM_MREMAP_MAYMOVE, 0), -SIM_EINVAL);
	cr_assert_eq(sys_mremap(&k, a, PG, 0, SIM_MREMAP_MAYMOVE, 0), -SIM_EINVAL);
	cr_assert_eq(sys_mremap(&k, a, PG, (uint64_t)-1, SIM_MREMAP_MAYMOVE, 0), -SIM_EINVAL);
	cr_assert_eq(sys_mremap(&k, a, PG, 2 * PG, 0x10, 0), -SIM_EINVAL);
	cr_assert_eq(sys_mremap(&k, a, PG, PG, SIM_MREMAP_DONTUNMAP | SIM_MREMAP_MAYMOVE, 0),
	             -SIM_EINVAL);
	cr_assert_eq(sys_mremap(&k, 0x10000, PG, 2 * PG, SIM_MREMAP_MAYMOVE, 0), -SIM_EFAULT);
	cr_assert_eq(sys_mremap(&k, a, 8 * PG, 16 * PG, SIM_MREMAP_MAYMOVE, 0), -SIM_EFAULT);
	cr_assert_eq(sys_mremap(&k, a, (uint64_t)1 << 62, PG, 0, 0), -SIM_EINVAL,
	             "a shrink whose tail leaves user space");
	cr_assert_eq(sys_mremap(&k, a, 0, 2 * PG, SIM_MREMAP_MAYMOVE, 0), -SIM_EINVAL);
	sim_kernel_check(&k);
}
