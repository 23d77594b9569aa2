/*
 * test_mprotect.c - mprotect (kernel_sim/mprotect.c) beyond what the host
 * oracle sees: the PTEs themselves (PROT_NONE keeps the frame without the
 * present bit, back to read-write the exclusive page is writable at once),
 * the TLB flush, the VMA splits and merges with their accounting, and the
 * commit charge of a private mapping that becomes writable.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kernel_sim/kernel.h"
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

TestSuite(mprotect, .init = boot, .fini = shutdown);

static pte_t leaf(vaddr_t va)
{
	pfn_t pt = pgtable_lookup(&k, t->mm, va);

	return pt == PFN_NONE ? 0 : pt_get(&k.phys, pt, pt_index(va, 1));
}

static vaddr_t map(uint64_t len, int prot, int flags)
{
	int64_t r = sys_mmap(&k, 0, len, prot, ANON | flags, -1, 0);

	cr_assert_geq(r, 0);
	sim_kernel_check(&k);
	return (vaddr_t)r;
}

Test(mprotect, prot_none_keeps_the_frame_without_the_present_bit)
{
	vaddr_t a = map(4 * PG, RW, 0);
	size_t n0 = t->mm->nr_vmas;
	uint64_t rss;
	pte_t before, none, after;

	cr_assert_eq(sim_touch_pages(&k, t, a, 4, true, NULL), 0);
	before = leaf(a + PG);
	rss = t->mm->rss_stat[MM_ANONPAGES];
	cr_assert_eq(sys_mprotect(&k, a + PG, 2 * PG, SIM_PROT_NONE), 0);
	sim_kernel_check(&k);
	none = leaf(a + PG);
	cr_assert(pte_protnone(none) && !pte_present(none));
	cr_assert_eq(pte_pfn(none), pte_pfn(before));
	cr_assert_eq(t->mm->rss_stat[MM_ANONPAGES], rss);
	cr_assert_eq(t->mm->nr_vmas, n0 + 2);
	cr_assert_eq(sys_mprotect(&k, a + PG, 2 * PG, RW), 0);
	sim_kernel_check(&k);
	after = leaf(a + PG);
	cr_assert(pte_present(after) && (after & PTE_RW), "an exclusive page is writable at once");
	cr_assert_eq(pte_pfn(after), pte_pfn(before));
	cr_assert_eq(sim_touch_pages(&k, t, a + PG, 1, true, NULL), 0);
	cr_assert_eq(sim_touch_pages(&k, t, a + PG, 1, false, NULL), 0);
}

Test(mprotect, access_to_prot_none_is_sigsegv_accerr_with_a_not_present_error_code)
{
	vaddr_t a = map(PG, RW, 0);

	cr_assert_eq(sim_touch_pages(&k, t, a, 1, true, NULL), 0);
	cr_assert_eq(sys_mprotect(&k, a, PG, SIM_PROT_NONE), 0);
	cr_assert_eq(sim_touch_pages(&k, t, a, 1, false, NULL), SIM_SIGSEGV);
	cr_assert_eq(t->death.code, SIM_SEGV_ACCERR);
	cr_assert_eq(t->death.error & PF_PROT, 0, "the PTE is not present to the CPU");
}

Test(mprotect, read_only_flushes_the_tlb_so_a_write_faults)
{
	vaddr_t a = map(PG, RW, 0);
	unsigned i, flushes = 0;

	cr_assert_eq(sim_touch_pages(&k, t, a, 1, true, NULL), 0);
	rec.n = 0;
	cr_assert_eq(sys_mprotect(&k, a, PG, SIM_PROT_READ), 0);
	for (i = 0; i < rec.n; i++)
		flushes += rec.ev[i].kind == EV_CALL && !strcmp(rec.ev[i].fn, "flush_tlb_mm_range");
	cr_assert_eq(flushes, 1);
	cr_assert_eq(sim_touch_pages(&k, t, a, 1, true, NULL), SIM_SIGSEGV);
	cr_assert_eq(t->death.code, SIM_SEGV_ACCERR);
}

Test(mprotect, splits_then_merges_back_with_the_same_accounting)
{
	vaddr_t a = map(8 * PG, RW, 0);
	size_t n0 = t->mm->nr_vmas;
	uint64_t data0 = t->mm->data_vm, total0 = t->mm->total_vm;

	cr_assert_eq(sim_touch_pages(&k, t, a, 8, true, NULL), 0);
	cr_assert_eq(sys_mprotect(&k, a + 2 * PG, 2 * PG, SIM_PROT_READ), 0);
	cr_assert_eq(t->mm->nr_vmas, n0 + 2);
	cr_assert_eq(t->mm->data_vm, data0 - 2, "read-only private pages are not data");
	cr_assert_eq(t->mm->total_vm, total0);
	cr_assert_eq(sys_mprotect(&k, a, 8 * PG, RW), 0);
	sim_kernel_check(&k);
	cr_assert_eq(t->mm->nr_vmas, n0);
	cr_assert_eq(t->mm->data_vm, data0);
}

Test(mprotect, a_noreserve_mapping_is_not_charged_when_it_becomes_writable)
{
	vaddr_t a = map(16 * PG, SIM_PROT_NONE, SIM_MAP_NORESERVE);
	vaddr_t b = map(16 * PG, SIM_PROT_NONE, 0);
	struct vm_area_struct *v;

	cr_assert_eq(sys_mprotect(&k, a, 4 * PG, RW), 0);
	cr_assert_eq(sys_mprotect(&k, b, 4 * PG, RW), 0);
	v = vma_lookup(t->mm, a);
	cr_assert_eq(v->vm_flags & (VM_ACCOUNT | VM_NORESERVE), VM_NORESERVE);
	v = vma_lookup(t->mm, b);
	cr_assert_eq(v->vm_flags & (VM_ACCOUNT | VM_NORESERVE), VM_ACCOUNT);
	cr_assert_eq(v->vm_end - v->vm_start, 4 * PG);
}

Test(mprotect, a_write_beyond_the_may_flags_is_eacces_and_bad_input_is_einval_or_enomem)
{
	vaddr_t a = map(4 * PG, RW, 0);

	cr_assert_eq(sys_mprotect(&k, a + 1, PG, SIM_PROT_READ), -SIM_EINVAL);
	cr_assert_eq(sys_mprotect(&k, a, PG, 0x100), -SIM_EINVAL);
	cr_assert_eq(sys_mprotect(&k, a, (uint64_t)-PG, SIM_PROT_READ), -SIM_ENOMEM);
	cr_assert_eq(sys_mprotect(&k, 0x10000, PG, SIM_PROT_READ), -SIM_ENOMEM);
	cr_assert_eq(sys_mprotect(&k, a, 0, SIM_PROT_READ), 0);
	sim_kernel_check(&k);
}
