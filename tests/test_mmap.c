/*
 * test_mmap.c - anonymous mmap and munmap (kernel_sim/mmap.c) against
 * Linux's do_mmap / do_vmi_munmap: top-down placement below mmap_base,
 * merging with an equal neighbour, argument checks, MAP_FIXED replacing what
 * is there, partial munmap splitting VMAs (middle, head, tail) and freeing
 * frames and page tables, limits. kernel_check runs after every operation.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kernel_sim/kernel.h"
#include "kernel_sim/syscalls.h"
#include "tests/support_sim.h"
#include "vm/pagetable.h"

#define PG         PAGE_SIZE
#define RW         (SIM_PROT_READ | SIM_PROT_WRITE)
#define ANON       (SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS)
#define MAX_EVENTS 4096

static struct kernel k;
static struct sim_recorder rec = {.cap = MAX_EVENTS};
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

TestSuite(mmap, .init = boot, .fini = shutdown);

static int64_t map(vaddr_t addr, uint64_t len, int prot, int flags)
{
	int64_t r = sys_mmap(&k, addr, len, prot, flags, -1, 0);

	sim_kernel_check(&k);
	return r;
}

static int64_t unmap(vaddr_t addr, uint64_t len)
{
	int64_t r = sys_munmap(&k, addr, len);

	sim_kernel_check(&k);
	return r;
}

static int touch(vaddr_t va, uint64_t pages, bool write, uint64_t *sum)
{
	return sim_touch_pages(&k, t, va, pages, write, sum);
}

/* VMAs overlapping [lo, hi) and their pages inside it. */
static void window(vaddr_t lo, vaddr_t hi, unsigned *vmas, uint64_t *pages)
{
	*vmas = 0;
	*pages = 0;
	for (size_t i = 0; i < t->mm->nr_vmas; i++) {
		const struct vm_area_struct *v = &t->mm->vmas[i];

		if (v->vm_end <= lo || v->vm_start >= hi)
			continue;
		(*vmas)++;
		*pages +=
		    ((v->vm_end < hi ? v->vm_end : hi) - (v->vm_start > lo ? v->vm_start : lo)) /
		    PG;
	}
}

static unsigned find_event(int kind, const char *fn, unsigned from)
{
	for (unsigned i = from; i < rec.n; i++)
		if (rec.ev[i].kind == kind && strcmp(rec.ev[i].fn, fn) == 0)
			return i;
	return rec.n;
}

Test(mmap, places_mappings_top_down_below_mmap_base)
{
	vaddr_t base = t->mm->mmap_base;
	int64_t a = map(0, 16 * PG, RW, ANON), b;
	struct vm_area_struct *v;

	cr_assert_eq(a, (int64_t)(base - 16 * PG));
	v = vma_lookup(t->mm, (vaddr_t)a);
	cr_assert_not_null(v);
	cr_assert_eq(v->kind, VMA_ANON);
	cr_assert_eq(v->vm_flags,
	             VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT);
	b = map(0, 3 * PG, RW, ANON);
	cr_assert_eq(b, a - 3 * (int64_t)PG);
	/* equal flags, adjacent: one VMA, as /proc/self/maps shows on Linux */
	v = vma_lookup(t->mm, (vaddr_t)b);
	cr_assert_eq(v->vm_start, (vaddr_t)b);
	cr_assert_eq(v->vm_end, base);
}

Test(mmap, creates_no_frame_and_no_pte)
{
	uint64_t free0 = k.buddy.free_pages, vm0 = t->mm->total_vm, data0 = t->mm->data_vm;
	int64_t a = map(0, 8 * PG, RW, ANON);

	cr_assert_eq(k.buddy.free_pages, free0);
	cr_assert_eq(t->mm->total_vm, vm0 + 8);
	cr_assert_eq(t->mm->data_vm, data0 + 8);
	cr_assert_eq(pagewalk(&k.phys, t->mm->pgd, (vaddr_t)a, NULL), 0);
}

Test(mmap, rounds_the_length_up_to_pages)
{
	int64_t a = map(0, 5, RW, ANON);

	cr_assert_gt(a, 0);
	cr_assert_eq(a % PG, 0);
	cr_assert_eq(vma_lookup(t->mm, (vaddr_t)a)->vm_end, (vaddr_t)a + PG);
	cr_assert_eq(map(0, PG + 1, RW, ANON), a - 2 * (int64_t)PG);
}

Test(mmap, rejects_bad_arguments)
{
	size_t n = t->mm->nr_vmas;

	cr_assert_eq(map(0, 0, RW, ANON), -SIM_EINVAL);
	cr_assert_eq(map(0, PG, RW, SIM_MAP_PRIVATE), -SIM_EINVAL, "file mappings");
	cr_assert_eq(map(0, PG, RW, SIM_MAP_ANONYMOUS), -SIM_EINVAL, "no MAP_PRIVATE");
	cr_assert_eq(map(0, PG, RW, SIM_MAP_ANONYMOUS | 0x01), -SIM_EINVAL, "MAP_SHARED");
	cr_assert_eq(sys_mmap(&k, 0, PG, RW, ANON, 3, 0), -SIM_EINVAL, "fd must be -1");
	cr_assert_eq(sys_mmap(&k, 0, PG, RW, ANON, -1, 5), -SIM_EINVAL, "unaligned offset");
	cr_assert_eq(map(0x10001, PG, RW, ANON | SIM_MAP_FIXED), -SIM_EINVAL, "unaligned fixed");
	cr_assert_eq(map(0, 1ULL << 62, RW, ANON), -SIM_ENOMEM);
	cr_assert_eq(map(0, (uint64_t)-PG + 1, RW, ANON), -SIM_ENOMEM, "rounding overflows");
	cr_assert_eq(map(USER_VA_END - PG, 2 * PG, RW, ANON | SIM_MAP_FIXED), -SIM_ENOMEM);
	cr_assert_eq(t->mm->nr_vmas, n);
}

Test(mmap, prot_becomes_vm_flags_and_differing_flags_do_not_merge)
{
	int64_t a = map(0, 2 * PG, RW, ANON);
	int64_t r = map(0, 2 * PG, SIM_PROT_READ, ANON);
	struct vm_area_struct *v;

	cr_assert_eq(r, a - 2 * (int64_t)PG);
	v = vma_lookup(t->mm, (vaddr_t)r);
	cr_assert_eq(v->vm_end, (vaddr_t)a);
	cr_assert_eq(v->vm_flags, VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC);
	/* reading it works, writing is SEGV_ACCERR */
	cr_assert_eq(touch((vaddr_t)r, 2, false, NULL), 0);
	cr_assert_eq(touch((vaddr_t)r, 1, true, NULL), SIM_SIGSEGV);
	cr_assert_eq(t->death.code, SIM_SEGV_ACCERR);
}

Test(mmap, a_free_hint_is_taken_an_occupied_one_is_not)
{
	vaddr_t hint = 0x100000000000ULL;
	int64_t a = map(hint, PG, RW, ANON);

	cr_assert_eq(a, (int64_t)hint);
	a = map(hint, PG, RW, ANON);
	cr_assert_neq(a, (int64_t)hint);
	cr_assert_eq(a, (int64_t)(t->mm->mmap_base - PG));
	/* an unaligned hint is rounded up */
	a = map(hint + 2 * PG + 7, PG, RW, ANON);
	cr_assert_eq(a, (int64_t)(hint + 3 * PG));
}

Test(mmap, keeps_the_stack_guard_gap_free)
{
	vaddr_t s = t->mm->mmap_base - 10 * PG;

	/* a VM_GROWSDOWN VMA just below mmap_base: the 256 pages below it are not a gap */
	vma_insert(t->mm, s, s + PG, VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_GROWSDOWN,
	           VMA_STACK);
	sim_kernel_check(&k);
	cr_assert_eq(map(0, 16 * PG, RW, ANON),
	             (int64_t)(s - STACK_GUARD_GAP_PAGES * PG - 16 * PG));
	/* the 9 pages above it are a gap */
	cr_assert_eq(map(0, PG, RW, ANON), (int64_t)(t->mm->mmap_base - PG));
}

Test(mmap, munmap_in_the_middle_splits_the_vma_and_frees_its_frames)
{
	int64_t a = map(0, 16 * PG, RW, ANON);
	vaddr_t va = (vaddr_t)a;
	uint64_t frees, vm0, rss0;
	unsigned n;
	uint64_t pages;

	cr_assert_eq(touch(va, 16, true, NULL), 0);
	frees = k.buddy.frees;
	vm0 = t->mm->total_vm;
	rss0 = t->mm->rss_stat[MM_ANONPAGES];
	cr_assert_eq(unmap(va + 4 * PG, 4 * PG), 0);
	window(va, va + 16 * PG, &n, &pages);
	cr_assert_eq(n, 2);
	cr_assert_eq(pages, 12);
	cr_assert_eq(vma_lookup(t->mm, va)->vm_end, va + 4 * PG);
	cr_assert_eq(vma_lookup(t->mm, va + 8 * PG)->vm_start, va + 8 * PG);
	cr_assert_null(vma_lookup(t->mm, va + 4 * PG));
	cr_assert_eq(k.buddy.frees - frees, 4);
	cr_assert_eq(t->mm->total_vm, vm0 - 4);
	cr_assert_eq(t->mm->rss_stat[MM_ANONPAGES], rss0 - 4);
	/* the rest is still there, without new faults */
	frees = t->min_flt;
	cr_assert_eq(touch(va, 4, true, NULL), 0);
	cr_assert_eq(touch(va + 8 * PG, 8, true, NULL), 0);
	cr_assert_eq(t->min_flt, frees);
	/* and the hole faults: SIGSEGV SEGV_MAPERR */
	cr_assert_eq(touch(va + 5 * PG + 3, 1, false, NULL), SIM_SIGSEGV);
	cr_assert_eq(t->death.code, SIM_SEGV_MAPERR);
	cr_assert_eq(t->death.addr, va + 5 * PG + 3);
}

Test(mmap, munmap_of_the_head_and_of_the_tail_trims_the_vma)
{
	int64_t a = map(0, 16 * PG, RW, ANON);
	vaddr_t va = (vaddr_t)a;
	unsigned n;
	uint64_t pages;

	cr_assert_eq(unmap(va, 2 * PG), 0);
	window(va, va + 16 * PG, &n, &pages);
	cr_assert_eq(n, 1);
	cr_assert_eq(pages, 14);
	cr_assert_eq(vma_lookup(t->mm, va + 2 * PG)->vm_start, va + 2 * PG);
	cr_assert_eq(unmap(va + 14 * PG, 2 * PG + 1), 0, "length rounded up");
	window(va, va + 16 * PG, &n, &pages);
	cr_assert_eq(n, 1);
	cr_assert_eq(pages, 12);
	cr_assert_eq(vma_lookup(t->mm, va + 2 * PG)->vm_end, va + 14 * PG);
}

Test(mmap, munmap_across_several_vmas_removes_and_trims_them)
{
	int64_t a = map(0, 4 * PG, RW, ANON);
	int64_t r = map(0, 4 * PG, SIM_PROT_READ, ANON);
	int64_t b = map(0, 4 * PG, RW, ANON);
	size_t n = t->mm->nr_vmas;

	cr_assert_eq(r, a - 4 * (int64_t)PG);
	cr_assert_eq(b, r - 4 * (int64_t)PG);
	cr_assert_eq(unmap((vaddr_t)b + PG, 10 * PG), 0);
	cr_assert_eq(t->mm->nr_vmas, n - 1);
	cr_assert_eq(vma_lookup(t->mm, (vaddr_t)b)->vm_end, (vaddr_t)b + PG);
	cr_assert_eq(vma_lookup(t->mm, (vaddr_t)a + 3 * PG)->vm_start, (vaddr_t)a + 3 * PG);
}

Test(mmap, munmap_checks_its_arguments_and_unmapping_nothing_is_success)
{
	int64_t a = map(0, 4 * PG, RW, ANON);

	cr_assert_eq(unmap((vaddr_t)a + 1, PG), -SIM_EINVAL);
	cr_assert_eq(unmap((vaddr_t)a, 0), -SIM_EINVAL);
	cr_assert_eq(unmap(USER_VA_END, PG), -SIM_EINVAL);
	cr_assert_eq(unmap((vaddr_t)a, UINT64_MAX - PG), -SIM_EINVAL);
	cr_assert_eq(unmap(0x200000000000ULL, 64 * PG), 0);
	cr_assert_not_null(vma_lookup(t->mm, (vaddr_t)a));
}

Test(mmap, munmap_frees_the_page_tables_it_emptied)
{
	vaddr_t far = 0x300000000000ULL; /* its own PML4 slot: 3 new table pages */
	uint64_t free0 = k.buddy.free_pages;
	uint64_t pt0 = t->mm->pgtables_bytes;

	cr_assert_eq(map(far, 4 * PG, RW, ANON | SIM_MAP_FIXED), (int64_t)far);
	cr_assert_eq(touch(far, 4, true, NULL), 0);
	cr_assert_eq(t->mm->pgtables_bytes, pt0 + 3 * PG);
	cr_assert_eq(free0 - k.buddy.free_pages, 4 + 3);
	cr_assert_eq(unmap(far + PG, PG), 0);
	cr_assert_eq(t->mm->pgtables_bytes, pt0 + 3 * PG, "tables still map pages");
	cr_assert_eq(unmap(far, 4 * PG), 0);
	cr_assert_eq(t->mm->pgtables_bytes, pt0);
	cr_assert_eq(k.buddy.free_pages, free0);
}

Test(mmap, map_fixed_replaces_what_is_there_with_fresh_pages)
{
	int64_t a = map(0, 8 * PG, RW, ANON);
	uint64_t sum, frees;

	cr_assert_eq(touch((vaddr_t)a, 8, true, NULL), 0);
	frees = k.buddy.frees;
	cr_assert_eq(map((vaddr_t)a + 2 * PG, 2 * PG, RW, ANON | SIM_MAP_FIXED),
	             a + 2 * (int64_t)PG);
	cr_assert_eq(k.buddy.frees - frees, 2);
	/* one VMA again (merged on both sides), the replaced pages read as zero */
	cr_assert_eq(vma_lookup(t->mm, (vaddr_t)a)->vm_end, (vaddr_t)a + 8 * PG);
	cr_assert_eq(touch((vaddr_t)a + 2 * PG, 2, false, &sum), 0);
	cr_assert_eq(sum, 0);
	cr_assert_eq(touch((vaddr_t)a + 4 * PG, 1, false, &sum), 0);
	cr_assert_eq(sum, 0x5a);
}

Test(mmap, map_fixed_into_a_hole_merges_the_pieces)
{
	int64_t a = map(0, 12 * PG, RW, ANON);
	size_t n;

	cr_assert_eq(unmap((vaddr_t)a + 4 * PG, 4 * PG), 0);
	n = t->mm->nr_vmas;
	cr_assert_eq(map((vaddr_t)a + 4 * PG, 4 * PG, RW, ANON | SIM_MAP_FIXED),
	             a + 4 * (int64_t)PG);
	cr_assert_eq(t->mm->nr_vmas, n - 1);
	cr_assert_eq(vma_lookup(t->mm, (vaddr_t)a)->vm_end, (vaddr_t)a + 12 * PG);
}

Test(mmap, respects_rlimit_as_and_rlimit_data)
{
	struct sim_rlimit rl = {(t->mm->total_vm + 4) * PG, SIM_RLIM_INFINITY};

	cr_assert_eq(sys_setrlimit(&k, SIM_RLIMIT_AS, &rl), 0);
	cr_assert_gt(map(0, 4 * PG, RW, ANON), 0);
	cr_assert_eq(map(0, PG, RW, ANON), -SIM_ENOMEM);
	rl.cur = SIM_RLIM_INFINITY;
	cr_assert_eq(sys_setrlimit(&k, SIM_RLIMIT_AS, &rl), 0);
	rl.cur = t->mm->data_vm * PG;
	cr_assert_eq(sys_setrlimit(&k, SIM_RLIMIT_DATA, &rl), 0);
	cr_assert_eq(map(0, PG, RW, ANON), -SIM_ENOMEM, "private writable is data");
	cr_assert_gt(map(0, PG, SIM_PROT_READ, ANON), 0, "read-only is not");
}

Test(mmap, larger_than_ram_is_refused_by_the_overcommit_heuristic)
{
	cr_assert_eq(map(0, k.phys.nr_frames * PG * 2, RW, ANON), -SIM_ENOMEM);
	cr_assert_gt(map(0, k.phys.nr_frames * PG * 2, SIM_PROT_READ, ANON), 0,
	             "not accounted: no VM_ACCOUNT");
}

Test(mmap, emits_do_mmap_get_unmapped_area_mmap_region)
{
	unsigned i;

	map(0, PG, RW, ANON);
	i = find_event(EV_SYSCALL, "entry_SYSCALL_64", 0);
	cr_assert_lt(i, rec.n);
	cr_assert_eq(event_field(&rec.ev[i], "nr", 0), SIM_NR_mmap);
	i = find_event(EV_CALL, "do_mmap", i);
	cr_assert_lt(i, rec.n);
	i = find_event(EV_CALL, "get_unmapped_area", i);
	cr_assert_lt(i, rec.n);
	i = find_event(EV_CALL, "mmap_region", i);
	cr_assert_lt(i, rec.n);
	i = find_event(EV_VMA, "mmap_region", i);
	cr_assert_lt(i, rec.n);
	i = find_event(EV_SYSRET, "entry_SYSCALL_64", i);
	cr_assert_lt(i, rec.n);
	cr_assert_eq(event_field(&rec.ev[i], "ret", 0), t->mm->mmap_base - PG);

	rec.n = 0;
	unmap(t->mm->mmap_base - PG, PG);
	i = find_event(EV_CALL, "__vm_munmap", 0);
	i = find_event(EV_CALL, "do_vmi_munmap", i);
	i = find_event(EV_CALL, "do_vmi_align_munmap", i);
	i = find_event(EV_VMA, "do_vmi_align_munmap", i);
	cr_assert_lt(i, rec.n);
}
