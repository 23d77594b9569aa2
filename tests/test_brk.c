/*
 * test_brk.c - the brk system call (kernel_sim/brk.c) against Linux's
 * SYSCALL_DEFINE1(brk): the unaligned break, page rounding, refusals (below
 * start_brk, RLIMIT_DATA, the next VMA, the stack guard gap) that return the
 * old break, growth without frames, shrinking that frees frames and page
 * tables and invalidates the TLB, and the event path. kernel_check runs
 * after every operation.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kernel_sim/kernel.h"
#include "kernel_sim/syscalls.h"
#include "tests/support_sim.h"
#include "vm/pagetable.h"

#define PG         PAGE_SIZE
#define MAX_EVENTS 4096

static struct kernel k;
static struct sim_recorder rec = {.cap = MAX_EVENTS};
static struct task *t;
static vaddr_t heap; /* start_brk */

static void boot(void)
{
	struct kernel_opts o;

	kernel_default_opts(&o);
	t = sim_kernel_boot(&k, &o, &rec, "prog");
	heap = t->mm->start_brk;
	cr_assert_eq(t->mm->brk, heap);
}

static void shutdown(void)
{
	kernel_shutdown(&k);
}

TestSuite(brk, .init = boot, .fini = shutdown);

static uint64_t brk_checked(uint64_t addr)
{
	uint64_t r = sys_brk(&k, addr);

	sim_kernel_check(&k);
	return r;
}

/* One byte into (or from) each of pages pages at va, as the task. Returns the
   signal that killed it, or 0. */
static int touch(vaddr_t va, uint64_t pages, bool write)
{
	return sim_touch_pages(&k, t, va, pages, write, NULL);
}

static struct vm_area_struct *heap_vma(void)
{
	for (size_t i = 0; i < t->mm->nr_vmas; i++)
		if (t->mm->vmas[i].kind == VMA_HEAP)
			return &t->mm->vmas[i];
	return NULL;
}

static unsigned count_events(int kind, const char *fn)
{
	unsigned n = 0;

	for (unsigned i = 0; i < rec.n; i++)
		if (rec.ev[i].kind == kind && (!fn || strcmp(rec.ev[i].fn, fn) == 0))
			n++;
	return n;
}

/* Index of the first event kind/fn at or after from, or rec.n. */
static unsigned find_event(int kind, const char *fn, unsigned from)
{
	for (unsigned i = from; i < rec.n; i++)
		if (rec.ev[i].kind == kind && strcmp(rec.ev[i].fn, fn) == 0)
			return i;
	return rec.n;
}

Test(brk, zero_queries_the_break_without_changing_anything)
{
	uint64_t vm = t->mm->total_vm;

	cr_assert_eq(brk_checked(0), heap);
	cr_assert_eq(t->mm->brk, heap);
	cr_assert_eq(t->mm->total_vm, vm);
	cr_assert_null(heap_vma());
}

Test(brk, unaligned_break_is_kept_and_whole_pages_are_mapped)
{
	cr_assert_eq(brk_checked(heap + 1), heap + 1);
	cr_assert_eq(t->mm->brk, heap + 1);
	cr_assert_not_null(heap_vma());
	cr_assert_eq(heap_vma()->vm_start, heap);
	cr_assert_eq(heap_vma()->vm_end, heap + PG);
	/* same page: only the stored break moves */
	rec.n = 0;
	cr_assert_eq(brk_checked(heap + PG), heap + PG);
	cr_assert_eq(heap_vma()->vm_end, heap + PG);
	cr_assert_eq(count_events(EV_VMA, NULL), 0);
	cr_assert_eq(count_events(EV_BRK, NULL), 1);
	cr_assert_eq(brk_checked(heap + 7), heap + 7);
	cr_assert_eq(heap_vma()->vm_end, heap + PG);
}

Test(brk, growth_rounds_up_to_pages_and_takes_no_frame)
{
	uint64_t free0 = k.buddy.free_pages, vm0 = t->mm->total_vm, data0 = t->mm->data_vm;
	uint64_t rss0 = t->mm->rss_stat[MM_ANONPAGES];

	cr_assert_eq(brk_checked(heap + 10 * PG + 5), heap + 10 * PG + 5);
	cr_assert_eq(heap_vma()->vm_end, heap + 11 * PG);
	cr_assert_eq(heap_vma()->vm_flags,
	             VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT);
	cr_assert_eq(t->mm->total_vm, vm0 + 11);
	cr_assert_eq(t->mm->data_vm, data0 + 11);
	cr_assert_eq(k.buddy.free_pages, free0, "brk must not allocate frames");
	cr_assert_eq(t->mm->rss_stat[MM_ANONPAGES], rss0);
	cr_assert_eq(count_events(EV_FRAME_ALLOC, NULL), 0);
	cr_assert_eq(count_events(EV_PTE_SET, NULL), 0);
	cr_assert_eq(pagewalk(&k.phys, t->mm->pgd, heap, NULL), 0, "no PTE for the heap");
	/* growing again extends the same VMA */
	cr_assert_eq(brk_checked(heap + 20 * PG), heap + 20 * PG);
	cr_assert_eq(heap_vma()->vm_start, heap);
	cr_assert_eq(heap_vma()->vm_end, heap + 20 * PG);
}

Test(brk, each_new_page_faults_once_on_first_store)
{
	uint64_t flt, rss0 = t->mm->rss_stat[MM_ANONPAGES];

	brk_checked(heap + 16 * PG);
	flt = t->min_flt;
	cr_assert_eq(touch(heap, 16, true), 0);
	cr_assert_eq(t->min_flt - flt, 16);
	cr_assert_eq(t->mm->rss_stat[MM_ANONPAGES], rss0 + 16);
	flt = t->min_flt;
	cr_assert_eq(touch(heap, 16, true), 0);
	cr_assert_eq(t->min_flt - flt, 0);
}

Test(brk, below_start_brk_is_refused_with_the_old_break)
{
	brk_checked(heap + 3);
	rec.n = 0;
	cr_assert_eq(brk_checked(heap - PG), heap + 3);
	cr_assert_eq(brk_checked(heap - 1), heap + 3);
	cr_assert_eq(t->mm->brk, heap + 3);
	cr_assert_eq(count_events(EV_BRK, NULL), 0);
	/* brk(start_brk) itself is a shrink to an empty heap, which is allowed */
	cr_assert_eq(brk_checked(heap), heap);
	cr_assert_null(heap_vma());
}

Test(brk, never_returns_an_errno)
{
	uint64_t r;

	brk_checked(heap + PG);
	r = brk_checked(UINT64_MAX);
	cr_assert_eq(r, heap + PG);
	r = brk_checked(USER_VA_END);
	cr_assert_eq(r, heap + PG, "the heap cannot reach the stack");
	r = brk_checked(heap + (1ULL << 45));
	cr_assert_eq(r, heap + PG, "the heap cannot cross mmap_base's neighbours");
}

Test(brk, rlimit_data_counts_heap_plus_data)
{
	struct sim_rlimit rl;
	uint64_t data = t->mm->end_data - t->mm->start_data;

	/* check_data_rlimit: (brk - start_brk) + (end_data - start_data) */
	rl.cur = data + 4 * PG;
	rl.max = SIM_RLIM_INFINITY;
	cr_assert_eq(sys_setrlimit(&k, SIM_RLIMIT_DATA, &rl), 0);
	rec.n = 0;
	cr_assert_eq(brk_checked(heap + 4 * PG + 1), heap, "one byte over the limit");
	cr_assert_neq(find_event(EV_RET, "check_data_rlimit", 0), rec.n);
	cr_assert_eq(
	    (int64_t)event_field(&rec.ev[find_event(EV_RET, "check_data_rlimit", 0)], "ret", 0),
	    -28);
	cr_assert_eq(find_event(EV_CALL, "do_brk_flags", 0), rec.n, "refused before do_brk_flags");
	/* data_vm counts data and bss too: may_expand_vm is the tighter check here */
	rl.cur = (t->mm->data_vm + 4) * PG;
	cr_assert_eq(sys_setrlimit(&k, SIM_RLIMIT_DATA, &rl), 0);
	cr_assert_eq(brk_checked(heap + 4 * PG), heap + 4 * PG);
	cr_assert_eq(brk_checked(heap + 5 * PG), heap + 4 * PG);
	/* shrinking is always allowed */
	cr_assert_eq(brk_checked(heap + PG), heap + PG);
	rl.cur = SIM_RLIM_INFINITY;
	cr_assert_eq(sys_setrlimit(&k, SIM_RLIMIT_DATA, &rl), 0);
	cr_assert_eq(brk_checked(heap + 5 * PG), heap + 5 * PG);
}

Test(brk, rlimit_as_limits_growth)
{
	struct sim_rlimit rl = {(t->mm->total_vm + 2) * PG, SIM_RLIM_INFINITY};

	cr_assert_eq(sys_setrlimit(&k, SIM_RLIMIT_AS, &rl), 0);
	cr_assert_eq(brk_checked(heap + 2 * PG), heap + 2 * PG);
	cr_assert_eq(brk_checked(heap + 3 * PG), heap + 2 * PG);
}

Test(brk, collides_with_a_mapping_placed_just_above_the_heap)
{
	vaddr_t m = heap + 8 * PG;

	cr_assert_eq(sys_mmap(&k, m, PG, SIM_PROT_READ | SIM_PROT_WRITE,
	                      SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS | SIM_MAP_FIXED, -1, 0),
	             (int64_t)m);
	sim_kernel_check(&k);
	/* the heap must end a page below the next VMA */
	cr_assert_eq(brk_checked(heap + 7 * PG), heap + 7 * PG);
	cr_assert_eq(brk_checked(heap + 7 * PG + 1), heap + 7 * PG);
	cr_assert_eq(brk_checked(heap + 9 * PG), heap + 7 * PG);
	cr_assert_eq(heap_vma()->vm_end, heap + 7 * PG);
}

Test(brk, collision_counts_the_stack_guard_gap)
{
	vaddr_t s = heap + 300 * PG;

	/* a VM_GROWSDOWN VMA above the heap: 256 pages below it are off limits */
	vma_insert(t->mm, s, s + PG, VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_GROWSDOWN,
	           VMA_STACK);
	sim_kernel_check(&k);
	cr_assert_eq(brk_checked(heap + 43 * PG), heap + 43 * PG);
	cr_assert_eq(brk_checked(heap + 43 * PG + 1), heap + 43 * PG);
	cr_assert_eq(brk_checked(heap + 44 * PG), heap + 43 * PG);
}

Test(brk, shrink_frees_frames_and_page_tables_and_invalidates_the_tlb)
{
	uint64_t free0 = k.buddy.free_pages, frees, rss0 = t->mm->rss_stat[MM_ANONPAGES];

	brk_checked(heap + 16 * PG);
	cr_assert_eq(touch(heap, 16, true), 0);
	cr_assert_lt(k.buddy.free_pages, free0);
	cr_assert_not_null(tlb_lookup(&k.cpu.tlb, (heap + 15 * PG) >> PAGE_SHIFT));
	frees = k.buddy.frees;
	rec.n = 0;
	cr_assert_eq(brk_checked(heap + 8 * PG + 100), heap + 8 * PG + 100);
	cr_assert_eq(heap_vma()->vm_end, heap + 9 * PG);
	cr_assert_eq(k.buddy.frees - frees, 7, "pages 9..15 go back to the buddy allocator");
	cr_assert_eq(t->mm->rss_stat[MM_ANONPAGES], rss0 + 9);
	for (vaddr_t va = heap + 9 * PG; va < heap + 16 * PG; va += PG) {
		cr_assert_null(tlb_lookup(&k.cpu.tlb, va >> PAGE_SHIFT));
		cr_assert_eq(pagewalk(&k.phys, t->mm->pgd, va, NULL), 0);
	}
	cr_assert_neq(find_event(EV_CALL, "do_vmi_align_munmap", 0), rec.n);
	cr_assert_eq(count_events(EV_TLB_FLUSH, NULL), 7);
	/* back to the start: every frame and the page tables the heap needed */
	cr_assert_eq(brk_checked(heap), heap);
	cr_assert_null(heap_vma());
	cr_assert_eq(k.buddy.free_pages, free0);
	cr_assert_eq(t->mm->rss_stat[MM_ANONPAGES], rss0);
}

Test(brk, store_after_shrink_is_sigsegv_maperr_at_that_address)
{
	vaddr_t bad = heap + 2 * PG + 5;

	brk_checked(heap + 4 * PG);
	cr_assert_eq(touch(heap, 4, true), 0);
	brk_checked(heap);
	cr_assert_eq(touch(bad, 1, true), SIM_SIGSEGV);
	cr_assert(t->dead);
	cr_assert_eq(t->death.code, SIM_SEGV_MAPERR);
	cr_assert_eq(t->death.addr, bad);
	cr_assert_eq(t->death.error, PF_USER | PF_WRITE);
}

Test(brk, emits_the_syscall_path_in_order)
{
	static const struct {
		int kind;
		const char *fn;
	} path[] = {
	    {EV_SYSCALL, "entry_SYSCALL_64"}, {EV_CALL, "do_syscall_64"},
	    {EV_CALL, "__x64_sys_brk"},       {EV_CALL, "check_data_rlimit"},
	    {EV_RET, "check_data_rlimit"},    {EV_CALL, "check_brk_limits"},
	    {EV_RET, "check_brk_limits"},     {EV_CALL, "do_brk_flags"},
	    {EV_CALL, "may_expand_vm"},       {EV_RET, "may_expand_vm"},
	    {EV_VMA, "do_brk_flags"},         {EV_RET, "do_brk_flags"},
	    {EV_BRK, "__x64_sys_brk"},        {EV_RET, "__x64_sys_brk"},
	    {EV_RET, "do_syscall_64"},        {EV_SYSRET, "entry_SYSCALL_64"},
	};
	unsigned at = 0;
	unsigned depth = probe_depth(&k.probe);

	brk_checked(heap + 3 * PG);
	for (size_t i = 0; i < sizeof(path) / sizeof(path[0]); i++) {
		unsigned j = find_event(path[i].kind, path[i].fn, at);

		cr_assert_lt(j, rec.n, "event %zu (%s) missing or out of order", i, path[i].fn);
		at = j + 1;
	}
	cr_assert_eq(event_field(&rec.ev[find_event(EV_SYSCALL, "entry_SYSCALL_64", 0)], "nr", 0),
	             SIM_NR_brk);
	cr_assert_eq(event_field(&rec.ev[find_event(EV_BRK, "__x64_sys_brk", 0)], "old", 0), heap);
	cr_assert_eq(event_field(&rec.ev[find_event(EV_BRK, "__x64_sys_brk", 0)], "new", 0),
	             heap + 3 * PG);
	cr_assert_eq(event_field(&rec.ev[find_event(EV_SYSRET, "entry_SYSCALL_64", 0)], "ret", 0),
	             heap + 3 * PG);
	cr_assert_eq(probe_depth(&k.probe), depth, "every call returned");
}

Test(brk, a_refused_call_still_returns_through_the_whole_path)
{
	brk_checked(heap - PG);
	cr_assert_eq(count_events(EV_SYSCALL, NULL), 1);
	cr_assert_eq(count_events(EV_SYSRET, NULL), 1);
	cr_assert_eq(count_events(EV_CALL, NULL), count_events(EV_RET, NULL));
	cr_assert_eq(event_field(&rec.ev[rec.n - 1], "ret", 0), heap);
}

Test(brk, shrink_needs_a_mapping_in_the_freed_range)
{
	/* munmap of the heap's top pages, then a shrink into them: Linux finds
	   no VMA in [newbrk, oldbrk) and refuses. (No kernel_check here: mm_check
	   wants the heap VMA to end at PAGE_ALIGN(brk), which a munmap of heap
	   pages, legal on Linux, breaks.) */
	brk_checked(heap + 4 * PG);
	cr_assert_eq(sys_munmap(&k, heap + 2 * PG, 2 * PG), 0);
	cr_assert_eq(sys_brk(&k, heap + 3 * PG), heap + 4 * PG);
}
