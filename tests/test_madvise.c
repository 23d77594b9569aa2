/*
 * test_madvise.c - madvise (kernel_sim/madvise.c): MADV_DONTNEED frees the
 * frames but keeps the VMA and the page tables; MADV_FREE keeps the pages
 * mapped and marks them lazily free (clean PTEs: pte_lazyfree, the hook
 * for reclaim) until a write dirties them again.
 */
#include <criterion/criterion.h>

#include "kernel_sim/kernel.h"
#include "kernel_sim/madvise.h"
#include "kernel_sim/pgtable.h"
#include "kernel_sim/syscalls.h"
#include "tests/support_sim.h"
#include "vm/pagetable.h"

#define PG   PAGE_SIZE
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

TestSuite(madvise, .init = boot, .fini = shutdown);

static pte_t leaf(vaddr_t va)
{
	pfn_t pt = pgtable_lookup(&k, t->mm, va);

	return pt == PFN_NONE ? 0 : pt_get(&k.phys, pt, pt_index(va, 1));
}

static vaddr_t map_touched(uint64_t pages)
{
	int64_t r = sys_mmap(&k, 0, pages * PG, RW, ANON, -1, 0);

	cr_assert_geq(r, 0);
	cr_assert_eq(sim_touch_pages(&k, t, (vaddr_t)r, pages, true, NULL), 0);
	return (vaddr_t)r;
}

Test(madvise, dontneed_frees_frames_but_keeps_vma_and_page_tables)
{
	vaddr_t a = map_touched(8);
	uint64_t free0 = k.buddy.free_pages, pt0 = t->mm->pgtables_bytes;
	size_t n0 = t->mm->nr_vmas;
	uint64_t sum = 1;

	cr_assert_eq(sys_madvise(&k, a, 8 * PG, SIM_MADV_DONTNEED), 0);
	sim_kernel_check(&k);
	cr_assert_eq(k.buddy.free_pages, free0 + 8);
	cr_assert_eq(t->mm->pgtables_bytes, pt0);
	cr_assert_eq(t->mm->nr_vmas, n0);
	cr_assert_eq(leaf(a), 0);
	cr_assert_eq(sim_touch_pages(&k, t, a, 8, false, &sum), 0);
	cr_assert_eq(sum, 0, "the next touch sees zeroes");
}

Test(madvise, free_marks_pages_lazy_until_written_again)
{
	vaddr_t a = map_touched(4);
	uint64_t rss = t->mm->rss_stat[MM_ANONPAGES], sum = 0;

	cr_assert_not(pte_lazyfree(&k, leaf(a)));
	cr_assert_eq(sys_madvise(&k, a, 4 * PG, SIM_MADV_FREE), 0);
	sim_kernel_check(&k);
	cr_assert_eq(t->mm->rss_stat[MM_ANONPAGES], rss);
	for (unsigned i = 0; i < 4; i++)
		cr_assert(pte_lazyfree(&k, leaf(a + i * PG)));
	cr_assert_eq(sim_touch_pages(&k, t, a, 4, false, &sum), 0);
	cr_assert_eq(sum, 4 * 0x5a, "without pressure the data stays");
	cr_assert(pte_lazyfree(&k, leaf(a)), "a read does not take the page back");
	cr_assert_eq(sim_touch_pages(&k, t, a, 1, true, NULL), 0);
	cr_assert_not(pte_lazyfree(&k, leaf(a)), "a write does");
	cr_assert(pte_lazyfree(&k, leaf(a + PG)));
}

Test(madvise, bad_input_gives_the_kernels_errno)
{
	vaddr_t a = map_touched(4);

	cr_assert_eq(sys_madvise(&k, a + 1, PG, SIM_MADV_DONTNEED), -SIM_EINVAL);
	cr_assert_eq(sys_madvise(&k, a, PG, 12345), -SIM_EINVAL);
	cr_assert_eq(sys_madvise(&k, a, (uint64_t)-2 * PG, SIM_MADV_DONTNEED), -SIM_EINVAL);
	cr_assert_eq(sys_madvise(&k, 0x10000, PG, SIM_MADV_DONTNEED), -SIM_ENOMEM);
	cr_assert_eq(sys_madvise(&k, a, 0, SIM_MADV_DONTNEED), 0);
	cr_assert_eq(t->mm->rss_stat[MM_ANONPAGES] >= 4, 1, "nothing was zapped by a refusal");
	sim_kernel_check(&k);
}
