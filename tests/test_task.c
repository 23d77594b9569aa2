/*
 * test_task.c - boot and tasks (kernel_sim/kernel.c, kernel_sim/task.c):
 * boot options and errors, the standard x86-64 layout with and without ASLR,
 * the start-up faults of execve and the C runtime, task_run and fatal
 * signals, and exit giving back every frame. kernel_check runs after every
 * operation.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kernel_sim/kernel.h"
#include "kernel_sim/pgtable.h"
#include "kernel_sim/syscalls.h"
#include "vm/pagetable.h"

static struct kernel k;

static void check(void)
{
	cr_assert_eq(kernel_check(&k, stderr), 0, "kernel_check failed");
}

static void boot_opts(const struct kernel_opts *o)
{
	cr_assert_eq(kernel_boot(&k, o, stderr), 0);
	check();
}

static void boot(void)
{
	struct kernel_opts o;

	kernel_default_opts(&o);
	boot_opts(&o);
}

static void shutdown(void)
{
	kernel_shutdown(&k);
}

static void buddyinfo(char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "w");

	buddy_print_info(&k.buddy, f);
	fclose(f);
}

TestSuite(task, .init = boot, .fini = shutdown);

Test(kernel_boot, default_options_are_the_documented_ones)
{
	struct kernel_opts o;

	kernel_default_opts(&o);
	cr_assert_eq(o.phys_bytes, 64ULL << 20);
	cr_assert(o.zero_page);
	cr_assert(!o.aslr);
	cr_assert_eq(o.seed, 0);
	cr_assert_eq(o.tlb_entries, 64);
	cr_assert_eq(o.tlb_ways, 4);
	cr_assert(!o.debug_checks);
}

Test(kernel_boot, impossible_ram_sizes_are_refused_with_a_message)
{
	static const uint64_t bad[] = {0, (1ULL << 20) - PAGE_SIZE, (1ULL << 20) + 1, 12345};
	struct kernel_opts o;

	kernel_default_opts(&o);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[256] = {0};
		FILE *err = fmemopen(msg, sizeof(msg) - 1, "w");

		o.phys_bytes = bad[i];
		cr_assert_eq(kernel_boot(&k, &o, err), -1, "%llu bytes",
		             (unsigned long long)bad[i]);
		fclose(err);
		cr_assert(strstr(msg, "1 MiB") && strstr(msg, "4 KiB"), "message: %s", msg);
	}
}

Test(kernel_boot, pfn_0_is_reserved_and_the_zero_page_is_held)
{
	struct kernel_opts o;

	kernel_default_opts(&o);
	o.phys_bytes = 1ULL << 20;
	boot_opts(&o);
	cr_assert_eq(k.phys.nr_frames, 256);
	cr_assert_eq(phys_frame(&k.phys, 0)->kind, FK_RESERVED);
	cr_assert_eq(k.buddy.start_pfn, 1);
	cr_assert_neq(k.zero_pfn, PFN_NONE);
	cr_assert_eq(phys_frame(&k.phys, k.zero_pfn)->kind, FK_ZERO);
	cr_assert_eq(k.buddy.free_pages, 256 - 2);
	for (unsigned off = 0; off < PAGE_SIZE; off += 8)
		cr_assert_eq(phys_read64(&k.phys, pfn_to_paddr(k.zero_pfn) + off), 0);
	cr_assert_eq(k.cpu.trap_ctx, &k);
	cr_assert_null(k.current);
	kernel_shutdown(&k);
}

/* The image of a PIE built by gcc and GNU ld (tests/host/image_probe.c
   checks the permissions and offsets against one built on this machine). */
Test(task, standard_layout_matches_a_pie_without_aslr)
{
	static const struct {
		vaddr_t start, end;
		unsigned long prot;
		int kind;
	} image[] = {
	    {0x555555554000ULL, 0x555555555000ULL, VM_READ, VMA_RODATA},
	    {0x555555555000ULL, 0x555555556000ULL, VM_READ | VM_EXEC, VMA_TEXT},
	    {0x555555556000ULL, 0x555555557000ULL, VM_READ, VMA_RODATA},
	    {0x555555557000ULL, 0x555555558000ULL, VM_READ, VMA_RODATA},
	    {0x555555558000ULL, 0x555555559000ULL, VM_READ | VM_WRITE, VMA_DATA},
	};
	struct task *t = task_create(&k, "prog");
	struct mm_struct *mm;
	const struct vm_area_struct *v;

	cr_assert_not_null(t);
	check();
	mm = t->mm;
	cr_assert_eq(t->pid, 1);
	cr_assert_null(t->real_parent);
	cr_assert_str_eq(t->comm, "prog");
	cr_assert_eq(k.current, t);
	cr_assert_eq(k.cpu.cr3, mm->pgd);
	cr_assert_eq(mm->nr_vmas, 6);
	for (size_t i = 0; i < 5; i++) {
		v = &mm->vmas[i];
		cr_assert_eq(v->vm_start, image[i].start, "VMA %zu", i);
		cr_assert_eq(v->vm_end, image[i].end, "VMA %zu", i);
		cr_assert_eq(v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC), image[i].prot, "VMA %zu",
		             i);
		cr_assert_eq(v->kind, image[i].kind, "VMA %zu", i);
		/* charged: what was mapped private and writable (data, RELRO) */
		cr_assert_eq(!!(v->vm_flags & VM_ACCOUNT), i >= 3, "VMA %zu", i);
	}
	v = &mm->vmas[5];
	cr_assert_eq(v->vm_start, 0x7ffffffde000ULL);
	cr_assert_eq(v->vm_end, 0x7ffffffff000ULL);
	cr_assert(v->vm_flags & VM_GROWSDOWN);
	cr_assert_eq(v->kind, VMA_STACK);
	/* load_elf_binary: code from the r-x segment, data from the last one */
	cr_assert_eq(mm->start_code, 0x555555555000ULL);
	cr_assert_eq(mm->end_code, 0x555555555185ULL);
	cr_assert_eq(mm->start_data, 0x555555557dd0ULL);
	cr_assert_eq(mm->end_data, 0x555555558020ULL);
	cr_assert_eq(mm->start_brk, 0x555555559000ULL);
	cr_assert_eq(mm->brk, 0x555555559000ULL);
	cr_assert_eq(mm->mmap_base, 0x7ffff7fff000ULL);
	cr_assert(mm->start_stack > 0x7fffffffe000ULL && mm->start_stack < 0x7ffffffff000ULL);
	cr_assert_eq(t->ip, 0x555555555149ULL, "main");
	cr_assert_eq(mm->total_vm, 5 + 33);
	cr_assert_eq(mm->exec_vm, 1);
	cr_assert_eq(mm->data_vm, 1);
	cr_assert_eq(mm->stack_vm, 33);
	cr_assert_eq(t->rlim[SIM_RLIMIT_STACK].cur, 8ULL << 20);
	cr_assert_eq(t->rlim[SIM_RLIMIT_DATA].cur, SIM_RLIM_INFINITY);
	cr_assert_eq(t->rlim[SIM_RLIMIT_AS].cur, SIM_RLIM_INFINITY);
	cr_assert_eq(task_create(&k, "second")->pid, 2);
	check();
}

Test(task, start_up_touches_data_bss_and_the_top_stack_page)
{
	struct task *t = task_create(&k, "prog");
	struct mm_struct *mm = t->mm;

	cr_assert_eq(TASK_START_RSS, 2);
	cr_assert_eq(t->min_flt, 2, "the page of data+bss and 1 of stack");
	cr_assert_eq(mm->rss_stat[MM_ANONPAGES], 2);
	cr_assert_eq(mm->hiwater_rss, 2);
	cr_assert(pagewalk(&k.phys, mm->pgd, 0x555555558000ULL, NULL) & PTE_RW);
	cr_assert(pagewalk(&k.phys, mm->pgd, 0x7fffffffe000ULL, NULL) & PTE_RW);
	for (vaddr_t va = 0x555555554000ULL; va < 0x555555558000ULL; va += PAGE_SIZE)
		cr_assert_eq(pagewalk(&k.phys, mm->pgd, va, NULL), 0, "read-only image untouched");
	cr_assert_eq(pagewalk(&k.phys, mm->pgd, 0x7fffffffd000ULL, NULL), 0);
	cr_assert_eq(mm->pgtables_bytes, 6 * PAGE_SIZE, "PDPT+PD+PT for each of two regions");
	cr_assert(!k.cpu.user, "back in kernel mode");
	check();
}

Test(task, sim_program_image_reports_the_bss)
{
	vaddr_t s, e;

	task_create(&k, "prog");
	sim_program_image(&k, &s, &e);
	cr_assert_eq(s, 0x555555558020ULL, "end_data: .bss follows .data");
	cr_assert_eq(e, 0x555555559000ULL, "to the end of the page");
}

Test(task, create_and_destroy_100_times_leaks_no_frame)
{
	char before[256], after[256];
	uint64_t free0 = k.buddy.free_pages;

	buddyinfo(before, sizeof(before));
	for (int i = 0; i < 100; i++) {
		struct task *t = task_create(&k, "loop");

		cr_assert_not_null(t);
		cr_assert_eq(t->pid, i + 1);
		check();
		task_destroy(&k, t);
		check();
		cr_assert_eq(k.buddy.free_pages, free0);
	}
	buddyinfo(after, sizeof(after));
	cr_assert_str_eq(after, before);
	cr_assert_null(k.current);
	cr_assert_eq(k.nr_tasks, 0);
}

Test(task, several_tasks_live_side_by_side)
{
	struct task *a = task_create(&k, "a"), *b = task_create(&k, "b");

	cr_assert_eq(k.current, b);
	cr_assert_neq(a->mm->pgd, b->mm->pgd);
	check();
	task_destroy(&k, a);
	check();
	cr_assert_eq(k.current, b);
	task_destroy(&k, b);
	check();
}

static void layout_of(uint64_t seed, bool aslr, vaddr_t out[5])
{
	struct kernel_opts o;
	struct task *t;

	kernel_shutdown(&k);
	kernel_default_opts(&o);
	o.aslr = aslr;
	o.seed = seed;
	boot_opts(&o);
	t = task_create(&k, "r");
	cr_assert_not_null(t);
	check();
	out[0] = t->mm->start_code - ELF_TEXT_VADDR; /* the load bias */
	out[1] = t->mm->start_brk;
	out[2] = t->mm->mmap_base;
	out[3] = t->mm->vmas[t->mm->nr_vmas - 1].vm_end;
	out[4] = t->mm->start_stack;
	for (int i = 0; i < 4; i++)
		cr_assert_eq(out[i] & ~PAGE_MASK, 0, "page aligned");
	cr_assert(out[1] >= out[0] + ELF_IMAGE_END, "the heap after the image");
	cr_assert(out[2] < out[3] - (8ULL << 20), "mmap_base below the stack's rlimit");
	cr_assert_eq(t->min_flt, TASK_START_RSS);
}

Test(task, aslr_is_deterministic_per_seed)
{
	vaddr_t a[5], b[5], c[5], off[5];

	layout_of(42, true, a);
	layout_of(42, true, b);
	layout_of(43, true, c);
	layout_of(42, false, off);
	cr_assert_arr_eq(a, b, sizeof(a));
	cr_assert_neq(a[0], c[0]);
	cr_assert_neq(a[1], c[1]);
	cr_assert_neq(a[2], c[2]);
	cr_assert_neq(a[3], c[3]);
	cr_assert_eq(off[0], 0x555555554000ULL, "the seed alone does not randomize");
	cr_assert_eq(off[2], 0x7ffff7fff000ULL);
}

/* arch_randomize_brk: the heap starts a random number of pages past the
   image, below 1 GiB (Linux 6.9 and later, 64-bit; it was 32 MiB). */
Test(task, aslr_puts_the_heap_up_to_1_gib_past_the_image)
{
	uint64_t most = 0;

	for (uint64_t seed = 1; seed <= 64; seed++) {
		vaddr_t l[5];
		uint64_t gap;

		layout_of(seed, true, l);
		gap = l[1] - (l[0] + ELF_IMAGE_END);
		cr_assert_lt(gap, 1ULL << 30, "seed %llu", (unsigned long long)seed);
		if (gap > most)
			most = gap;
	}
	cr_assert_gt(most, 512ULL << 20, "64 seeds reach past 512 MiB");
}

static void runs_in_user_mode(void *arg)
{
	bool *user = arg;

	*user = k.cpu.user;
}

Test(task, task_run_returns_0_and_runs_in_user_mode)
{
	struct task *t = task_create(&k, "prog");
	bool user = false;

	cr_assert_eq(task_run(&k, t, runs_in_user_mode, &user), 0);
	cr_assert(user);
	cr_assert(!k.cpu.user);
	cr_assert_null(t->exit_jmp);
	check();
}

struct abort_ctx {
	int reached;
};

static void aborts(void *arg)
{
	struct abort_ctx *c = arg;

	probe_call(&k.probe, LAYER_LIBC, "abort");
	force_fatal_signal(&k, SIM_SIGABRT, 0, 0, 0, "free(): double free detected in tcache 2");
	c->reached = 1;
}

Test(task, a_fatal_signal_unwinds_to_task_run)
{
	struct task *t = task_create(&k, "prog");
	struct abort_ctx c = {0};
	unsigned depth = probe_depth(&k.probe);

	cr_assert_eq(task_run(&k, t, aborts, &c), SIM_SIGABRT);
	cr_assert_eq(c.reached, 0, "the call never returns");
	cr_assert_eq(probe_depth(&k.probe), depth);
	cr_assert(t->dead);
	cr_assert_str_eq(t->death.report, "free(): double free detected in tcache 2");
	cr_assert_str_eq(t->death.reason, "free(): double free detected in tcache 2");
	cr_assert(!k.cpu.user);
	check();
	task_destroy(&k, t);
	check();
}

Test(task, an_unarmed_fatal_signal_returns_after_recording)
{
	struct task *t = task_create(&k, "prog");

	force_fatal_signal(&k, SIM_SIGSEGV, SIM_SEGV_MAPERR, 0xdead000, 6, "SEGV_MAPERR");
	cr_assert(t->dead);
	cr_assert_eq(t->death.addr, 0xdead000);
	cr_assert(strstr(t->death.report, "prog[1]: segfault at dead000 ip 0000555555555149 sp ") ==
	              t->death.report,
	          "%s", t->death.report);
	cr_assert(strstr(t->death.report, " error 6") != NULL);
}

Test(task, create_fails_cleanly_without_memory)
{
	char before[256], after[256];

	buddyinfo(before, sizeof(before));
	k.buddy.fail_after = 0; /* no pgd */
	cr_assert_null(task_create(&k, "nomem"));
	check();
	k.buddy.fail_after = 3; /* pgd and two tables, then the start-up faults fail */
	cr_assert_null(task_create(&k, "nomem"));
	k.buddy.fail_after = -1;
	check();
	buddyinfo(after, sizeof(after));
	cr_assert_str_eq(after, before);
	cr_assert_eq(k.nr_tasks, 0);
	cr_assert_null(k.current);
}

Test(task, dump_lists_tasks_and_vmas)
{
	char buf[8192] = {0};
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	task_create(&k, "dumped");
	kernel_dump(&k, f);
	fclose(f);
	cr_assert(strstr(buf, "task 1 (dumped)") != NULL, "%s", buf);
	cr_assert(strstr(buf, "stack") != NULL);
}
