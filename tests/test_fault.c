/*
 * test_fault.c - the demand-paging fault handler (kernel_sim/fault.c) against
 * Linux's arch/x86/mm/fault.c and mm/memory.c: first touch, zero page and
 * copy-on-write, SIGSEGV with SEGV_MAPERR / SEGV_ACCERR and the report line,
 * page-table pages, out of memory. kernel_check runs after every operation.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_sim/fault.h"
#include "kernel_sim/kernel.h"
#include "kernel_sim/pgtable.h"
#include "tests/support_sim.h"
#include "vm/pagetable.h"

#define MAX_EVENTS 8192

static struct kernel k;
static struct sim_recorder rec = {.cap = MAX_EVENTS};
static struct task *t;

static void boot_with(bool zero_page, uint64_t phys_bytes)
{
	struct kernel_opts o;

	kernel_default_opts(&o);
	o.zero_page = zero_page;
	o.phys_bytes = phys_bytes;
	t = sim_kernel_boot(&k, &o, &rec, "prog");
}

static void boot(void)
{
	boot_with(true, 64ULL << 20);
}

static void shutdown(void)
{
	kernel_shutdown(&k);
}

/* An anonymous rw- VMA of pages pages at start (what mmap will make). */
static vaddr_t anon_vma(vaddr_t start, uint64_t pages)
{
	vma_insert(t->mm, start, start + pages * PAGE_SIZE,
	           VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT, VMA_ANON);
	sim_kernel_check(&k);
	return start;
}

struct access {
	vaddr_t va;
	bool write;
	uint64_t val;
	int ret;
};

static void do_access(void *arg)
{
	struct access *a = arg;

	a->ret =
	    a->write ? cpu_store(&k.cpu, a->va, 8, a->val) : cpu_load(&k.cpu, a->va, 8, &a->val);
}

/* One 8-byte access as the process; returns the fatal signal or 0. */
static int access_as_task(vaddr_t va, bool write, uint64_t *val)
{
	struct access a = {.va = va, .write = write, .val = val ? *val : 0};
	int sig;

	rec.n = 0;
	sig = task_run(&k, t, do_access, &a);
	if (!sig) {
		cr_assert_eq(a.ret, 0);
		if (val)
			*val = a.val;
	}
	sim_kernel_check(&k);
	return sig;
}

/* Index of the first event named fn at or after from (MAX_EVENTS if none). */
static unsigned find_event(const char *fn, unsigned from)
{
	for (unsigned i = from; i < rec.n; i++)
		if (rec.ev[i].fn && strcmp(rec.ev[i].fn, fn) == 0)
			return i;
	return MAX_EVENTS;
}

static unsigned count_kind(int kind)
{
	unsigned n = 0;

	for (unsigned i = 0; i < rec.n; i++)
		n += rec.ev[i].kind == kind;
	return n;
}

#define HEAP 0x555555559000ULL /* start_brk of the standard layout */
#define ANON 0x7ffff7f00000ULL /* below mmap_base */

TestSuite(fault, .init = boot, .fini = shutdown);

Test(fault, first_write_to_anon_page_takes_one_fault_and_one_frame)
{
	vaddr_t va = anon_vma(ANON, 4);
	uint64_t flt, free0, rss, pf, tables0, v = 0x1122334455667788ULL;
	unsigned i = 0;
	static const char *const path[] = {
	    "exc_page_fault",     "do_user_addr_fault", "lock_mm_and_find_vma",
	    "access_error",       "handle_mm_fault",    "__handle_mm_fault",
	    "handle_pte_fault",   "do_pte_missing",     "do_anonymous_page",
	    "vmf_anon_prepare",   "alloc_anon_folio",   "vma_alloc_zeroed_movable_folio",
	    "__rmqueue_smallest", "clear_page",         "folio_mk_pte",
	    "add_mm_counter",     "set_pte_at",         "update_mmu_cache_range"};

	/* Page 0 brings the region's page tables; page 1 then needs only its frame. */
	cr_assert_eq(access_as_task(va, true, &v), 0);
	flt = t->min_flt;
	free0 = k.buddy.free_pages;
	rss = t->mm->rss_stat[MM_ANONPAGES];
	pf = k.probe.c.page_faults;
	tables0 = t->mm->pgtables_bytes;

	cr_assert_eq(access_as_task(va + PAGE_SIZE + 8, true, &v), 0);
	cr_assert_eq(t->min_flt, flt + 1);
	cr_assert_eq(k.probe.c.page_faults, pf + 1);
	cr_assert_eq(t->mm->rss_stat[MM_ANONPAGES], rss + 1);
	cr_assert_eq(free0 - k.buddy.free_pages, 1, "one frame for the data page");
	cr_assert_eq(t->mm->pgtables_bytes, tables0);
	for (unsigned n = 0; n < sizeof(path) / sizeof(path[0]); n++) {
		i = find_event(path[n], i);
		cr_assert_lt(i, MAX_EVENTS, "%s missing or out of order", path[n]);
	}
	cr_assert_eq(count_kind(EV_ZERO_FRAME), 1);
	cr_assert_eq(count_kind(EV_PTE_SET), 1);
	cr_assert_eq(count_kind(EV_TLB_FLUSH), 0, "a new PTE needs no flush");
	i = find_event("set_pte_at", 0);
	cr_assert_eq(event_field(&rec.ev[i], "addr", 0), va + PAGE_SIZE);
	cr_assert_eq(event_field(&rec.ev[i], "old", 1), 0);
	cr_assert_eq(event_field(&rec.ev[i], "level", 0), 1);
	{
		pte_t e = event_field(&rec.ev[i], "new", 0);

		cr_assert(e & PTE_P && e & PTE_RW && e & PTE_US && e & PTE_D && e & PTE_NX);
		cr_assert(!(e & PTE_SPECIAL));
		cr_assert_eq(phys_frame(&k.phys, pte_pfn(e))->kind, FK_ANON);
	}

	/* the value landed, and a second access takes no fault */
	v = 0;
	pf = k.probe.c.page_faults;
	cr_assert_eq(access_as_task(va + PAGE_SIZE + 8, false, &v), 0);
	cr_assert_eq(v, 0x1122334455667788ULL);
	v = 7;
	cr_assert_eq(access_as_task(va + PAGE_SIZE + 16, true, &v), 0);
	cr_assert_eq(k.probe.c.page_faults, pf);
	cr_assert_eq(t->min_flt, flt + 1);
	cr_assert_eq(count_kind(EV_FAULT), 0);
}

Test(fault, first_write_to_heap_follows_the_documented_path)
{
	/* The heap as brk will make it: a VMA_HEAP at start_brk. */
	uint64_t v = 1, free0 = k.buddy.free_pages;
	static const char *const path[] = {"do_user_addr_fault", "handle_mm_fault",
	                                   "do_anonymous_page", "__rmqueue_smallest", "set_pte_at"};
	unsigned i = 0;

	vma_insert(t->mm, HEAP, HEAP + 0x21000,
	           VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT, VMA_HEAP);
	t->mm->brk = HEAP + 0x21000;
	sim_kernel_check(&k);
	cr_assert_eq(access_as_task(HEAP, true, &v), 0);
	for (unsigned n = 0; n < 5; n++) {
		i = find_event(path[n], i);
		cr_assert_lt(i, MAX_EVENTS, "%s missing or out of order", path[n]);
	}
	/* the heap shares the PT of data+bss: only the data frame is new */
	cr_assert_eq(free0 - k.buddy.free_pages, 1);
}

Test(fault, read_maps_the_zero_page_and_a_later_write_copies)
{
	vaddr_t va = anon_vma(ANON, 2);
	uint64_t v = 0xdead, flt, free0, rss;
	pte_t e;

	cr_assert_eq(access_as_task(va + PAGE_SIZE, true, &v), 0); /* page tables */
	flt = t->min_flt;
	free0 = k.buddy.free_pages;
	rss = t->mm->rss_stat[MM_ANONPAGES];

	v = 0xdead;
	cr_assert_eq(access_as_task(va, false, &v), 0);
	cr_assert_eq(v, 0, "fresh anonymous memory reads as zero");
	cr_assert_eq(t->min_flt, flt + 1);
	cr_assert_eq(k.buddy.free_pages, free0, "no frame for the zero page");
	cr_assert_eq(t->mm->rss_stat[MM_ANONPAGES], rss);
	cr_assert_eq(find_event("__rmqueue_smallest", 0), MAX_EVENTS);
	e = pagewalk(&k.phys, t->mm->pgd, va, NULL);
	cr_assert_eq(pte_pfn(e), k.zero_pfn);
	cr_assert(e & PTE_SPECIAL && !(e & PTE_RW) && e & PTE_US && e & PTE_NX);

	/* a second read: no fault */
	cr_assert_eq(access_as_task(va + 64, false, &v), 0);
	cr_assert_eq(t->min_flt, flt + 1);

	/* the write faults again (protection) and gets its own zeroed frame */
	v = 42;
	cr_assert_eq(access_as_task(va, true, &v), 0);
	cr_assert_eq(t->min_flt, flt + 2);
	cr_assert_eq(free0 - k.buddy.free_pages, 1);
	cr_assert_eq(t->mm->rss_stat[MM_ANONPAGES], rss + 1);
	cr_assert_lt(find_event("do_wp_page", 0), find_event("wp_page_copy", 0));
	cr_assert_lt(find_event("wp_page_copy", 0), MAX_EVENTS);
	cr_assert_lt(find_event("ptep_clear_flush", 0), MAX_EVENTS);
	cr_assert_eq(count_kind(EV_TLB_FLUSH), 1, "the zero page's translation is flushed");
	{
		unsigned f = find_event("#PF", 0);

		cr_assert_lt(f, MAX_EVENTS);
		cr_assert_eq(event_field(&rec.ev[f], "error", 0), PF_PROT | PF_WRITE | PF_USER);
	}
	e = pagewalk(&k.phys, t->mm->pgd, va, NULL);
	cr_assert_neq(pte_pfn(e), k.zero_pfn);
	cr_assert(e & PTE_RW && !(e & PTE_SPECIAL));
	v = 0;
	cr_assert_eq(access_as_task(va, false, &v), 0);
	cr_assert_eq(v, 42);
	/* the zero page itself is still all zeros */
	cr_assert_eq(phys_read64(&k.phys, pfn_to_paddr(k.zero_pfn)), 0);
}

Test(fault, without_zero_page_a_read_takes_a_frame_and_a_write_no_fault)
{
	vaddr_t va;
	uint64_t v = 5, flt, free0;

	kernel_shutdown(&k);
	boot_with(false, 64ULL << 20);
	va = anon_vma(ANON, 2);
	cr_assert_eq(access_as_task(va + PAGE_SIZE, true, &v), 0);
	flt = t->min_flt;
	free0 = k.buddy.free_pages;
	cr_assert_eq(access_as_task(va, false, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(t->min_flt, flt + 1);
	cr_assert_eq(free0 - k.buddy.free_pages, 1);
	cr_assert_eq(t->mm->rss_stat[MM_ANONPAGES], TASK_START_RSS + 2);
	v = 9;
	cr_assert_eq(access_as_task(va, true, &v), 0);
	cr_assert_eq(t->min_flt, flt + 1, "the frame was mapped writable already");
}

Test(fault, access_below_every_vma_is_segv_maperr_with_the_report_line)
{
	char want[256];

	cr_assert_eq(access_as_task(0x1000, true, NULL), SIM_SIGSEGV);
	cr_assert(t->dead);
	cr_assert_eq(t->death.signo, SIM_SIGSEGV);
	cr_assert_eq(t->death.code, SIM_SEGV_MAPERR);
	cr_assert_eq(t->death.addr, 0x1000);
	cr_assert_eq(t->death.error, PF_WRITE | PF_USER);
	cr_assert_str_eq(t->death.reason, "SEGV_MAPERR");
	snprintf(want, sizeof(want), "prog[%d]: segfault at 1000 ip %016llx sp %016llx error 6",
	         t->pid, (unsigned long long)k.cpu.ip, (unsigned long long)k.cpu.sp);
	cr_assert_str_eq(t->death.report, want);
	cr_assert_eq(probe_depth(&k.probe), 0, "the unwind closed every open call");
	cr_assert_lt(find_event("bad_area_nosemaphore", 0), MAX_EVENTS);
	{
		unsigned s = find_event("force_sig_fault", 0);

		cr_assert_lt(s, MAX_EVENTS);
		cr_assert_eq(rec.ev[s].kind, EV_SIGNAL);
		cr_assert_eq(event_field(&rec.ev[s], "signo", 0), SIM_SIGSEGV);
		cr_assert_eq(event_field(&rec.ev[s], "code", 0), SIM_SEGV_MAPERR);
		cr_assert_eq(event_field(&rec.ev[s], "addr", 0), 0x1000);
		cr_assert_str_eq(rec.ev[s].text, "SEGV_MAPERR");
	}
}

Test(fault, read_between_vmas_is_segv_maperr)
{
	/* between the data+bss VMA and the stack: no heap yet */
	vaddr_t hole = 0x555555559000ULL + 0x100000;

	cr_assert_eq(access_as_task(hole, false, NULL), SIM_SIGSEGV);
	cr_assert_eq(t->death.code, SIM_SEGV_MAPERR);
	cr_assert_eq(t->death.addr, hole);
	cr_assert_eq(t->death.error, PF_USER);
	cr_assert(strstr(t->death.report, ": segfault at 5555556590"
	                                  "00 ip ") != NULL,
	          "report: %s", t->death.report);
	/* a dead task does not run again */
	cr_assert_eq(access_as_task(ANON, false, NULL), SIM_SIGSEGV);
}

Test(fault, write_to_text_is_segv_accerr)
{
	uint64_t v = 1, free0 = k.buddy.free_pages;

	cr_assert_eq(access_as_task(t->mm->start_code + 0x10, true, &v), SIM_SIGSEGV);
	cr_assert_eq(t->death.code, SIM_SEGV_ACCERR);
	cr_assert_str_eq(t->death.reason, "SEGV_ACCERR");
	cr_assert_lt(find_event("bad_area_access_error", 0), MAX_EVENTS);
	cr_assert_eq(k.buddy.free_pages, free0, "nothing taken");
}

Test(fault, read_of_text_maps_the_zero_page_executable)
{
	uint64_t v;
	pte_t e;

	cr_assert_eq(access_as_task(t->mm->start_code, false, &v), 0);
	e = pagewalk(&k.phys, t->mm->pgd, t->mm->start_code, NULL);
	cr_assert(pte_present(e) && !(e & PTE_NX) && !(e & PTE_RW));
}

Test(fault, non_canonical_address_is_sigsegv_from_general_protection)
{
	cr_assert_eq(access_as_task(0x0000800000000000ULL, true, NULL), SIM_SIGSEGV);
	cr_assert_eq(t->death.code, SIM_SI_KERNEL);
	cr_assert_eq(t->death.addr, 0);
	cr_assert(strstr(t->death.report, "general protection fault") != NULL);
	cr_assert_lt(find_event("exc_general_protection", 0), MAX_EVENTS);
}

Test(fault, kernel_half_address_from_user_is_segv_maperr)
{
	cr_assert_eq(access_as_task(0xffff888000000000ULL, false, NULL), SIM_SIGSEGV);
	cr_assert_eq(t->death.code, SIM_SEGV_MAPERR);
	cr_assert_eq(t->death.addr, 0xffff888000000000ULL);
}

Test(fault, first_touch_of_a_new_region_allocates_page_table_pages)
{
	/* 0x7ff000000000 shares the stack's PML4 entry (PDPT) but not its PD or PT */
	vaddr_t far = anon_vma(0x200000000000ULL, 1); /* new PML4 entry: PDPT+PD+PT */
	vaddr_t near = anon_vma(0x7ff000000000ULL, 1);
	uint64_t b0 = t->mm->pgtables_bytes, v = 1;

	cr_assert_eq(access_as_task(far, true, &v), 0);
	cr_assert_eq(t->mm->pgtables_bytes, b0 + 3 * PAGE_SIZE);
	cr_assert_lt(find_event("pud_alloc", 0), find_event("pmd_alloc", 0));
	cr_assert_lt(find_event("pmd_alloc", 0), find_event("pte_alloc", 0));
	cr_assert_lt(find_event("pte_alloc", 0), find_event("do_anonymous_page", 0));
	cr_assert_eq(count_kind(EV_PTE_SET), 4, "three table entries and the leaf");
	{
		unsigned i = find_event("p4d_populate", 0);

		cr_assert_lt(i, MAX_EVENTS);
		cr_assert_eq(event_field(&rec.ev[i], "level", 0), 4);
	}
	cr_assert_eq(access_as_task(near, true, &v), 0);
	cr_assert_eq(t->mm->pgtables_bytes, b0 + 5 * PAGE_SIZE, "PD and PT only");
	cr_assert_eq(find_event("p4d_populate", 0), MAX_EVENTS);
	cr_assert_eq(access_as_task(far + 8, true, &v), 0);
	cr_assert_eq(t->mm->pgtables_bytes, b0 + 5 * PAGE_SIZE);
}

Test(fault, out_of_memory_kills_with_sigkill_and_leaves_no_damage)
{
	uint64_t v = 1, i;
	char want[256];

	/* Fail at each step of the path in turn: PDPT, PD, PT, data page. */
	for (i = 0; i < 4; i++) {
		vaddr_t va;

		if (i > 0) {
			kernel_shutdown(&k);
			boot();
		}
		va = anon_vma(0x200000000000ULL, 8);
		k.buddy.fail_after = (int64_t)i;
		cr_assert_eq(access_as_task(va, true, &v), SIM_SIGKILL, "fail_after %llu",
		             (unsigned long long)i);
		cr_assert_eq(t->death.signo, SIM_SIGKILL);
		cr_assert_str_eq(t->death.reason, "out of memory");
		cr_assert_lt(find_event("pagefault_out_of_memory", 0), MAX_EVENTS);
		cr_assert_eq(probe_depth(&k.probe), 0);
		snprintf(
		    want, sizeof(want),
		    "Out of memory: Killed process %d (prog) total-vm:%llukB, anon-rss:%llukB, "
		    "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:%llukB oom_score_adj:0",
		    t->pid, (unsigned long long)t->mm->total_vm * 4,
		    (unsigned long long)t->mm->rss_stat[MM_ANONPAGES] * 4,
		    (unsigned long long)t->mm->pgtables_bytes / 1024);
		cr_assert_str_eq(t->death.report, want);
		cr_assert_eq(t->mm->rss_stat[MM_ANONPAGES], TASK_START_RSS,
		             "the start-up pages only");
		k.buddy.fail_after = -1;
		sim_kernel_check(&k);
	}
}

Test(fault, out_of_memory_then_destroy_restores_the_boot_buddyinfo)
{
	char boot_info[256], after[256];
	FILE *f;
	vaddr_t va;
	uint64_t v = 3;

	kernel_shutdown(&k);
	{
		struct kernel_opts o;

		kernel_default_opts(&o);
		o.phys_bytes = 1ULL << 20;
		cr_assert_eq(kernel_boot(&k, &o, stderr), 0);
	}
	f = fmemopen(boot_info, sizeof(boot_info), "w");
	buddy_print_info(&k.buddy, f);
	fclose(f);
	t = task_create(&k, "hog");
	cr_assert_not_null(t);
	va = anon_vma(0x7ff000000000ULL, 512);
	rec.n = 0;
	/* touch until RAM runs out: 1 MiB cannot hold 512 pages */
	{
		int sig = 0;

		for (uint64_t i = 0; i < 512 && !sig; i++)
			sig = access_as_task(va + i * PAGE_SIZE, true, &v);
		cr_assert_eq(sig, SIM_SIGKILL);
	}
	/* The allocation that failed found free pages at the min watermark: direct
	   reclaim had nothing to reclaim (no swap), so the OOM killer chose the
	   only process. */
	cr_assert_eq(k.buddy.free_pages, k.buddy.watermark[WMARK_MIN]);
	cr_assert_eq(k.vmstat.event[OOM_KILL], 1);
	cr_assert_not_null(strstr(k.log.buf, "hog invoked oom-killer: gfp_mask=0x140dca("
	                                     "GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO), order=0, "
	                                     "oom_score_adj=0\n"),
	                   "%s", k.log.buf);
	cr_assert_not_null(strstr(k.log.buf, "\nOut of memory: Killed process 1 (hog) total-vm:"),
	                   "%s", k.log.buf);
	sim_kernel_check(&k);
	task_destroy(&k, t);
	t = NULL;
	sim_kernel_check(&k);
	f = fmemopen(after, sizeof(after), "w");
	buddy_print_info(&k.buddy, f);
	fclose(f);
	cr_assert_str_eq(after, boot_info);
}

Test(fault, stack_grows_down_within_the_rlimit)
{
	struct vm_area_struct *stack = vma_lookup(t->mm, t->mm->start_stack);
	vaddr_t below = stack->vm_start - 3 * PAGE_SIZE, old_start = stack->vm_start;
	uint64_t v = 1, stack_vm = t->mm->stack_vm;

	cr_assert_eq(access_as_task(below + 8, true, &v), 0);
	stack = vma_lookup(t->mm, t->mm->start_stack);
	cr_assert_eq(stack->vm_start, below);
	cr_assert_eq(t->mm->stack_vm, stack_vm + 3);
	cr_assert_lt(find_event("expand_stack", 0), MAX_EVENTS);
	/* beyond 8 MiB of stack: SIGSEGV */
	cr_assert_eq(access_as_task(old_start - (9ULL << 20), true, &v), SIM_SIGSEGV);
	cr_assert_eq(t->death.code, SIM_SEGV_MAPERR);
}

Test(fault, debug_checks_run_after_every_fault)
{
	uint64_t v = 1;

	k.opts.debug_checks = true;
	cr_assert_eq(access_as_task(anon_vma(ANON, 1), true, &v), 0);
	/* a corrupted counter is caught at the next fault: panic (abort) */
}

static void corrupt_and_fault(void)
{
	uint64_t v = 1;

	boot();
	k.opts.debug_checks = true;
	anon_vma(ANON, 2);
	t->mm->rss_stat[MM_ANONPAGES] += 5;
	access_as_task(ANON, true, &v);
}

Test(fault_death, debug_checks_panic_on_a_broken_invariant, .signal = SIGABRT)
{
	corrupt_and_fault();
}
