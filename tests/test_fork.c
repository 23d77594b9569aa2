/*
 * test_fork.c - processes: fork shares every page copy-on-write, a write
 * copies one page (or reuses it when nobody else maps it any more), exit
 * frees a frame only with its last mapping, wait reaps zombies, the reverse
 * map finds every PTE, context switches flush the TLB (or keep it with
 * PCID). kernel_check (with rmap_check and switch_check) runs after every
 * step.
 */
#include <criterion/criterion.h>

#include "kernel_sim/exit.h"
#include "kernel_sim/fork.h"
#include "kernel_sim/pgtable.h"
#include "kernel_sim/rmap.h"
#include "kernel_sim/switch.h"
#include "kernel_sim/vmscan.h"
#include "kernel_sim/syscalls.h"
#include "support_sim.h"
#include "vm/pagetable.h"

#define PG 4096ULL

static struct kernel k;
static struct task *t;
static struct sim_recorder rec = {.cap = 1};

static void boot(bool pcid)
{
	struct kernel_opts o;

	kernel_default_opts(&o);
	o.debug_checks = true;
	o.pcid = pcid;
	t = sim_kernel_boot(&k, &o, &rec, "forker");
}

static void fini(void)
{
	kernel_shutdown(&k);
}

/* A private anonymous mapping of pages pages in t's address space. */
static vaddr_t map(uint64_t pages)
{
	int64_t r;

	k.current = t;
	r = sys_mmap(&k, 0, pages * PG, SIM_PROT_READ | SIM_PROT_WRITE,
	             SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS, -1, 0);
	cr_assert_gt(r, 0);
	return (vaddr_t)r;
}

struct call {
	int what;
	int arg;
	int64_t ret;
	int status;
};

enum { DO_FORK, DO_EXIT, DO_WAIT, DO_WAIT_NOHANG, DO_THREAD, DO_THREAD_EXIT };

static void do_call(void *arg)
{
	struct call *c = arg;

	switch (c->what) {
	case DO_FORK:
		c->ret = sys_fork(&k);
		break;
	case DO_EXIT:
		sys_exit_group(&k, c->arg);
		break;
	case DO_WAIT:
		c->ret = sys_wait4(&k, c->arg, &c->status, 0);
		break;
	case DO_WAIT_NOHANG:
		c->ret = sys_wait4(&k, c->arg, &c->status, SIM_WNOHANG);
		break;
	case DO_THREAD: {
		struct sim_clone_args a = {.flags = SIM_CLONE_VM | SIM_CLONE_SIGHAND |
		                                    SIM_CLONE_THREAD};

		c->ret = sys_clone3(&k, &a);
		break;
	}
	case DO_THREAD_EXIT:
		sys_exit(&k, c->arg);
		break;
	}
}

static int64_t call_as(struct task *as, int what, int arg, int *status, int *sig)
{
	struct call c = {.what = what, .arg = arg};
	int s = task_run(&k, as, do_call, &c);

	if (sig)
		*sig = s;
	else
		cr_assert_eq(s, 0);
	if (status)
		*status = c.status;
	sim_kernel_check(&k);
	return c.ret;
}

static struct task *fork_of(struct task *parent)
{
	int64_t pid = call_as(parent, DO_FORK, 0, NULL, NULL);

	cr_assert_gt(pid, 0, "fork returned %lld", (long long)pid);
	return find_task_by_pid(&k, (int)pid);
}

static void exit_of(struct task *x, int status)
{
	int sig;

	call_as(x, DO_EXIT, status, NULL, &sig);
	cr_assert_eq(sig, TASK_RUN_EXITED);
}

/* The leaf PTE of va in x's tables, present or not (0 when none). */
static pte_t pte_of(struct task *x, vaddr_t va)
{
	pfn_t pt = pgtable_lookup(&k, x->mm, va);

	return pt == PFN_NONE ? 0 : pt_get(&k.phys, pt, pt_index(va, 1));
}

static long faults_of(struct task *x, vaddr_t va, uint64_t pages, bool write)
{
	uint64_t before = x->min_flt;

	cr_assert_eq(sim_touch_pages(&k, x, va, pages, write, NULL), 0);
	return (long)(x->min_flt - before);
}

TestSuite(fork, .init = NULL, .fini = fini);

Test(fork, the_child_shares_every_page_write_protected)
{
	vaddr_t m;
	struct task *c;
	uint64_t rss;

	boot(false);
	m = map(8);
	cr_assert_eq(faults_of(t, m, 8, true), 8);
	rss = t->mm->rss_stat[MM_ANONPAGES];
	c = fork_of(t);
	cr_assert_eq(c->real_parent, t);
	cr_assert_eq(c->mm->rss_stat[MM_ANONPAGES], rss, "RSS counts shared frames in each");
	cr_assert_eq(c->mm->total_vm, t->mm->total_vm);
	for (uint64_t i = 0; i < 8; i++) {
		pte_t pp = pte_of(t, m + i * PG), cp = pte_of(c, m + i * PG);
		pfn_t pfn = pte_pfn(pp);

		cr_assert(pte_present(pp) && pte_present(cp));
		cr_assert_eq(pfn, pte_pfn(cp), "the same frame");
		cr_assert_not(pp & PTE_RW, "parent write-protected");
		cr_assert_not(cp & PTE_RW, "child write-protected");
		cr_assert_not(cp & PTE_A, "child's PTE is old");
		cr_assert_eq(phys_frame(&k.phys, pfn)->refcount, 2);
		cr_assert_eq(folio_rmap(&k, pfn)->mapcount, 2);
		cr_assert_not(folio_rmap(&k, pfn)->exclusive);
		cr_assert_eq(rmap_walk_anon(&k, pfn, NULL, NULL), 2);
	}
}

Test(fork, a_write_in_the_child_copies_one_page_and_the_parent_then_reuses_it)
{
	vaddr_t m;
	struct task *c;
	uint64_t free0;
	pfn_t old;

	boot(false);
	m = map(4);
	faults_of(t, m, 4, true);
	c = fork_of(t);
	old = pte_pfn(pte_of(t, m));
	free0 = k.buddy.free_pages;
	cr_assert_eq(faults_of(c, m, 1, true), 1, "one copy-on-write fault");
	cr_assert_eq(k.buddy.free_pages, free0 - 1, "one new frame");
	cr_assert_neq(pte_pfn(pte_of(c, m)), old, "the child has its own copy");
	cr_assert(pte_of(c, m) & PTE_RW);
	cr_assert_eq(phys_frame(&k.phys, old)->refcount, 1);
	/* The parent's write: nobody else maps the page now, so no copy. */
	cr_assert_eq(faults_of(t, m, 1, true), 1);
	cr_assert_eq(k.buddy.free_pages, free0 - 1, "reused in place");
	cr_assert_eq(pte_pfn(pte_of(t, m)), old);
	cr_assert(folio_rmap(&k, old)->exclusive);
	/* The copy carried the bytes: the touch wrote 0x5a into each page. */
	cr_assert_eq(c->mm->rss_stat[MM_ANONPAGES], t->mm->rss_stat[MM_ANONPAGES]);
}

Test(fork, after_the_child_exits_the_parent_writes_reuse_every_frame)
{
	vaddr_t m;
	struct task *c;
	uint64_t free_forked, free0;
	int status, pid;

	boot(false);
	m = map(16);
	faults_of(t, m, 16, true);
	free0 = k.buddy.free_pages;
	c = fork_of(t);
	pid = c->pid;
	free_forked = k.buddy.free_pages;
	cr_assert_lt(free_forked, free0, "the child's page tables take frames");
	exit_of(c, 3);
	cr_assert_eq(c->exit_state, EXIT_ZOMBIE);
	cr_assert_null(c->mm);
	cr_assert_eq(k.buddy.free_pages, free0, "the child's tables are back; no data frame went");
	cr_assert_eq(faults_of(t, m, 16, true), 16, "still write-protected: 16 faults");
	cr_assert_eq(k.buddy.free_pages, free0, "every frame reused");
	cr_assert_eq(call_as(t, DO_WAIT, -1, &status, NULL), pid);
	cr_assert_eq(status, 3 << 8);
	cr_assert_null(find_task_by_pid(&k, 2), "reaped");
}

Test(fork, wait_reports_echild_and_cannot_sleep)
{
	struct task *c;
	int status;

	boot(false);
	cr_assert_eq(call_as(t, DO_WAIT, -1, &status, NULL), -SIM_ECHILD);
	c = fork_of(t);
	cr_assert_eq(call_as(t, DO_WAIT_NOHANG, -1, &status, NULL), 0);
	cr_assert_eq(call_as(t, DO_WAIT, -1, &status, NULL), -SIM_EAGAIN);
	cr_assert_eq(call_as(t, DO_WAIT, c->pid + 1, &status, NULL), -SIM_ECHILD);
	exit_of(c, 300);
	cr_assert_eq(call_as(t, DO_WAIT, c->pid, &status, NULL), 2);
	cr_assert_eq(status, (300 & 0xff) << 8);
}

Test(fork, an_orphan_is_reaped_by_init_when_it_exits)
{
	struct task *c, *g;
	int gpid, cpid;

	boot(false);
	c = fork_of(t);
	g = fork_of(c);
	gpid = g->pid;
	cpid = c->pid;
	exit_of(c, 0);
	cr_assert_null(g->real_parent, "reparented to init, outside the model");
	exit_of(g, 0); /* released at once: g is freed */
	cr_assert_null(find_task_by_pid(&k, gpid));
	cr_assert_eq(call_as(t, DO_WAIT, -1, NULL, NULL), cpid);
}

Test(fork, a_thread_s_child_is_its_process_s_to_wait_for_and_outlives_the_thread)
{
	struct task *th, *c;
	int status, sig, cpid;
	int64_t tid;

	boot(false);
	tid = call_as(t, DO_THREAD, 0, NULL, NULL);
	cr_assert_gt(tid, 0);
	th = find_task_by_pid(&k, (int)tid);
	/* forked by the thread: its child, PPid the process's pid */
	c = fork_of(th);
	cr_assert_eq(c->real_parent, th);
	cr_assert_eq(c->real_parent->tgid, t->pid);
	cpid = c->pid;
	exit_of(c, 5);
	/* any thread of the process waits for it (do_wait without __WNOTHREAD) */
	cr_assert_eq(call_as(t, DO_WAIT, -1, &status, NULL), cpid);
	cr_assert_eq(status, 5 << 8);

	/* the thread ends while its child lives: the child goes to the main
	   thread (find_alive_thread), not to init, and stays waitable */
	c = fork_of(th);
	cpid = c->pid;
	call_as(th, DO_THREAD_EXIT, 0, NULL, &sig);
	cr_assert_eq(sig, TASK_RUN_EXITED);
	cr_assert_eq(c->real_parent, t);
	cr_assert_eq(t->children, c);
	cr_assert_eq(call_as(t, DO_WAIT_NOHANG, -1, &status, NULL), 0);
	exit_of(c, 6);
	cr_assert_eq(call_as(t, DO_WAIT, cpid, &status, NULL), cpid);
	cr_assert_eq(status, 6 << 8);
	cr_assert_eq(call_as(t, DO_WAIT, -1, &status, NULL), -SIM_ECHILD);
}

Test(fork, the_reverse_map_finds_every_mapping_in_three_generations)
{
	vaddr_t m;
	struct task *c, *g;
	pfn_t pfn;

	boot(false);
	m = map(2);
	faults_of(t, m, 2, true);
	c = fork_of(t);
	g = fork_of(c);
	pfn = pte_pfn(pte_of(t, m));
	cr_assert_eq(rmap_walk_anon(&k, pfn, NULL, NULL), 3);
	cr_assert_eq(faults_of(g, m, 1, true), 1);
	cr_assert_eq(rmap_walk_anon(&k, pfn, NULL, NULL), 2);
	cr_assert_eq(rmap_walk_anon(&k, pte_pfn(pte_of(g, m)), NULL, NULL), 1);
	exit_of(c, 0);
	cr_assert_eq(rmap_walk_anon(&k, pfn, NULL, NULL), 1, "only the parent maps it now");
}

Test(fork, a_vma_with_only_zero_page_mappings_is_not_copied)
{
	vaddr_t m, w;
	struct task *c;

	boot(false);
	m = map(2);
	cr_assert_eq(faults_of(t, m, 2, false), 2, "two zero-page mappings");
	cr_assert_gt(sys_mmap(&k, 0, PG, SIM_PROT_NONE, SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS, -1, 0),
	             0, "a VMA of other flags between: no merge");
	w = map(1);
	faults_of(t, w, 1, true);
	c = fork_of(t);
	cr_assert_eq(pte_of(c, m), 0, "vma_needs_copy: no anon_vma, no copy");
	cr_assert_eq(faults_of(c, m, 2, false), 2, "the child maps the zero page again");
	cr_assert_eq(pte_pfn(pte_of(c, m)), k.zero_pfn);
}

Test(fork, fork_fails_with_eagain_at_threads_max)
{
	uint64_t free0;

	boot(false);
	free0 = k.buddy.free_pages;
	k.max_threads = 2;
	fork_of(t);
	cr_assert_eq(call_as(t, DO_FORK, 0, NULL, NULL), -SIM_EAGAIN);
	cr_assert_eq(k.nr_tasks, 2);
	cr_assert_lt(k.buddy.free_pages, free0);
}

Test(fork, fork_out_of_memory_fails_with_enomem_and_leaves_nothing)
{
	vaddr_t m;
	uint64_t left;
	int sig;
	int64_t r;

	boot(false);
	m = map(2);
	faults_of(t, m, 2, true);
	/* Take every frame the allocator gives the kernel: the child's tables
	   cannot be had (no swap: reclaim frees nothing, and the OOM killer
	   spares kernel memory). */
	while (buddy_alloc(&k.buddy, 0, FK_KERNEL) != PFN_NONE)
		;
	left = k.buddy.free_pages;
	r = call_as(t, DO_FORK, 0, NULL, &sig);
	cr_assert(sig == SIM_SIGKILL || r == -SIM_ENOMEM, "fork: %lld, signal %d", (long long)r,
	          sig);
	cr_assert_eq(k.nr_tasks, 1, "no partial child left");
	cr_assert_geq(k.buddy.free_pages, left, "the partial child's tables went back");
}

Test(fork, a_context_switch_without_pcid_flushes_the_tlb)
{
	vaddr_t m;
	struct task *c;
	uint64_t h, miss, flushes;

	boot(false);
	m = map(4);
	faults_of(t, m, 4, true);
	c = fork_of(t);
	faults_of(t, m, 4, false);
	flushes = k.cpu.tlb.flushes;
	faults_of(c, m, 4, false); /* switch: flush, 4 misses */
	cr_assert_eq(k.cpu.tlb.flushes, flushes + 1);
	cr_assert_eq(k.loaded_mm, c->mm);
	task_tlb_counts(&k, c, &h, &miss);
	cr_assert_eq(miss, 4);
	faults_of(t, m, 4, false); /* and back: 4 misses again */
	task_tlb_counts(&k, t, &h, &miss);
	cr_assert_geq(miss, 4);
	cr_assert_eq(c->nvcsw, 1);
}

Test(fork, with_pcid_a_switch_back_keeps_the_tlb_entries)
{
	vaddr_t m;
	struct task *c;
	uint64_t misses;

	boot(true);
	m = map(4);
	faults_of(t, m, 4, true);
	c = fork_of(t);
	faults_of(t, m, 4, false);
	faults_of(c, m, 4, false);
	misses = k.cpu.tlb.misses;
	faults_of(t, m, 4, false);
	cr_assert_eq(k.cpu.tlb.misses, misses, "the parent's entries survived the switches");
	/* A flush of the parent while the child runs (its write copies a page:
	   nothing of the parent) leaves the parent's ASID current; an exit of the
	   child frees its ASID's tables: the next switch to a new mm flushes. */
	faults_of(c, m, 1, true);
	faults_of(t, m, 4, false);
	sim_kernel_check(&k);
}

Test(fork, rmap_check_catches_a_wrong_mapcount)
{
	vaddr_t m;
	pfn_t pfn;

	boot(false);
	m = map(1);
	faults_of(t, m, 1, true);
	fork_of(t);
	pfn = pte_pfn(pte_of(t, m));
	folio_rmap(&k, pfn)->mapcount = 1;
	cr_assert_gt(rmap_check(&k, NULL), 0);
	folio_rmap(&k, pfn)->mapcount = 2;
	folio_rmap(&k, pfn)->exclusive = 1;
	cr_assert_gt(rmap_check(&k, NULL), 0);
	folio_rmap(&k, pfn)->exclusive = 0;
	cr_assert_eq(rmap_check(&k, NULL), 0);
}

/* Swap: a page shared since fork goes out once, its slot held by both PTEs,
   and comes back through the swap cache as one frame, then copy-on-write. */
Test(fork, a_shared_page_swaps_out_from_both_processes_and_back_as_one)
{
	struct kernel_opts o;
	vaddr_t m;
	struct task *c;
	uint64_t sum = 0;
	pfn_t back;

	kernel_default_opts(&o);
	o.debug_checks = true;
	o.swap_bytes = 1ULL << 20;
	t = sim_kernel_boot(&k, &o, &rec, "forker");
	m = map(8);
	faults_of(t, m, 8, true);
	c = fork_of(t);
	/* Reclaim until one of the shared pages went out. */
	for (int i = 0; i < 64; i++) {
		for (uint64_t p = 0; p < 8; p++)
			if (is_swap_pte(pte_of(t, m + p * PG))) {
				m += p * PG;
				goto out;
			}
		k.current = NULL;
		try_to_free_pages(&k, 0);
		sim_kernel_check(&k);
	}
out:
	cr_assert(is_swap_pte(pte_of(t, m)), "a page went out, in the parent");
	cr_assert(is_swap_pte(pte_of(c, m)), "... and in the child");
	cr_assert_eq(pte_swp_offset(pte_of(t, m)), pte_swp_offset(pte_of(c, m)), "one slot");
	cr_assert_eq(sim_touch_pages(&k, c, m, 1, false, &sum), 0);
	cr_assert_eq(sum, 0x5a, "the child reads its byte back");
	back = pte_pfn(pte_of(c, m));
	cr_assert_not(pte_of(c, m) & PTE_RW, "the slot is shared: read-only");
	cr_assert_eq(sim_touch_pages(&k, t, m, 1, false, &sum), 0);
	cr_assert_eq(pte_pfn(pte_of(t, m)), back, "the parent finds it in the swap cache");
	cr_assert_eq(folio_rmap(&k, back)->mapcount, 2);
	cr_assert_eq(rmap_walk_anon(&k, back, NULL, NULL), 2);
	cr_assert_eq(faults_of(t, m, 1, true), 1, "the parent's write copies it");
	cr_assert_neq(pte_pfn(pte_of(t, m)), back);
}
