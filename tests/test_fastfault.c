/*
 * test_fastfault.c - the page fault's fast path (fault_fast, kernel_sim/
 * fault.c; docs/vm.md, "The fast path of a fault") against the full
 * handler: the same work done both ways must leave every count and all the
 * state the same.
 *
 * Two machines run the same thing, one with the fast path (the default
 * without a sink) and one with opts.slow_faults (every fault through
 * exc_trap's path, as with a sink); then same_state compares them: the
 * probe's counts, the CPU and its TLB, vmstat, the buddy allocator, the
 * frame table, the LRU, the reverse map, RAM byte for byte (page tables and
 * data), and every task and mm. The fast path's calls are counted through
 * a wrapper, so that each test also shows it was taken.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "demos/cli/session.h"
#include "kernel_sim/fault.h"
#include "kernel_sim/rmap.h"
#include "kernel_sim/syscalls.h"
#include "tests/support_bin.h"
#include "tests/support_sim.h"

/* ---- counting the fast path's answers ------------------------------------------ */

static uint64_t nr_fast[3]; /* FAST_DECLINED, FAST_LEAF, FAST_RETRY */

static int counting_fast_fault(void *ctx, vaddr_t addr, unsigned error, pfn_t pt, unsigned idx)
{
	int r = fault_fast(ctx, addr, error, pt, idx);

	cr_assert(r >= FAST_DECLINED && r <= FAST_RETRY);
	nr_fast[r]++;
	return r;
}

/* Count k's fast path (set at boot unless opts.slow_faults). */
static void count_fast(struct kernel *k)
{
	if (k->cpu.fast_fault) {
		cr_assert_eq(k->cpu.fast_fault, fault_fast);
		k->cpu.fast_fault = counting_fast_fault;
	}
}

/* ---- the state of two machines ---------------------------------------------------- */

#define SAME(field, what)                                                                         \
	cr_assert_eq(a->field, b->field, "%s: %s %s: %llu with the fast path, %llu without",     \
	             where, what, #field, (unsigned long long)(a->field),                         \
	             (unsigned long long)(b->field))
#define SAME_BYTES(pa, pb, n, what)                                                               \
	cr_assert(memcmp((pa), (pb), (n)) == 0, "%s: %s differ", where, what)

static void same_mm(const struct mm_struct *a, const struct mm_struct *b, const char *where)
{
	SAME(vmacache, "mm");
	SAME(pgd, "mm");
	SAME(nr_vmas, "mm");
	SAME_BYTES(a->vmas, b->vmas, a->nr_vmas * sizeof(*a->vmas), "the VMAs");
	/* mmap_base ... anon_vma_seq: the layout, sizes, high-water marks, RSS */
	SAME_BYTES(&a->mmap_base, &b->mmap_base,
	           offsetof(struct mm_struct, oom_score_adj) - offsetof(struct mm_struct, mmap_base),
	           "the mm's counters (total_vm, hiwater_rss, rss_stat, pgtables_bytes...)");
	SAME(rss_stat[MM_ANONPAGES], "mm");
	SAME(hiwater_rss, "mm");
	SAME(ctx_id, "mm");
	SAME(tlb_gen, "mm");
	SAME(nr_avc, "mm");
	cr_assert_eq(!a->anon_vma, !b->anon_vma, "%s: anon_vma", where);
	if (a->anon_vma)
		SAME(anon_vma->id, "mm");
}

static void same_task(const struct task *a, const struct task *b, const char *where)
{
	SAME(pid, "task");
	SAME(tgid, "task");
	SAME(exit_state, "task");
	SAME(exit_code, "task");
	SAME(dead, "task");
	SAME(min_flt, "task");
	SAME(maj_flt, "task");
	SAME(maxrss, "task");
	SAME(utime, "task");
	SAME(tlb_hits, "task");
	SAME(tlb_misses, "task");
	SAME(nvcsw, "task");
	SAME(ip, "task");
	SAME(sp, "task");
	SAME(death.signo, "task");
	SAME(stderr_len, "task");
	SAME_BYTES(a->stderr_buf, b->stderr_buf, a->stderr_len, "the tasks' stderr");
	cr_assert_eq(!a->mm, !b->mm, "%s: task %d: mm", where, a->pid);
	if (a->mm)
		same_mm(a->mm, b->mm, where);
}

static void same_tlb(const struct cpu *ca, const struct cpu *cb, const char *where)
{
	const struct tlb *a = &ca->tlb, *b = &cb->tlb;
	unsigned n = a->nsets * a->ways;

	SAME(nsets, "TLB");
	SAME(clock, "TLB");
	SAME(gen, "TLB");
	SAME(tag, "TLB");
	SAME(slow_hits, "TLB");
	SAME(misses, "TLB");
	SAME(invlpgs, "TLB");
	SAME(flushes, "TLB");
	SAME_BYTES(a->e, b->e, n * sizeof(*a->e), "the TLB's entries");
	for (unsigned s = 0; s < a->nsets; s++)
		cr_assert_eq(a->newest[s] ? a->newest[s] - a->e : -1,
		             b->newest[s] ? b->newest[s] - b->e : -1, "%s: the newest of TLB set %u",
		             where, s);
	for (unsigned i = 0; i < TLB_FAST_SLOTS; i++) {
		const struct tlb_fast *fa = &a->fast[i], *fb = &b->fast[i];

		cr_assert_eq(fa->e ? fa->e - a->e : -1, fb->e ? fb->e - b->e : -1,
		             "%s: fast slot %u's entry", where, i);
		cr_assert_eq(fa->read, fb->read, "%s: fast slot %u", where, i);
		cr_assert_eq(fa->write, fb->write, "%s: fast slot %u", where, i);
		if (fa->e) /* the same offset into each machine's RAM */
			cr_assert_eq(fa->addend - (uintptr_t)ca->ram, fb->addend - (uintptr_t)cb->ram,
			             "%s: fast slot %u's frame", where, i);
	}
}

/* a (the fast path) and b (without) must agree in everything. */
static void same_state(struct kernel *a, struct kernel *b, const char *where)
{
	const struct task *ta, *tb;
	uint64_t frames = a->phys.nr_frames;

	/* the event stream's counts and the machine's */
	SAME(probe.calls, "probe");
	SAME(probe.rets, "probe");
	SAME(probe.others, "probe");
	SAME(probe.c.slow_loads, "probe");
	SAME(probe.c.slow_stores, "probe");
	SAME(probe.c.walks, "probe");
	SAME(probe.c.page_faults, "probe");
	SAME(cpu.cr3, "CPU");
	SAME(cpu.cr2, "CPU");
	SAME(cpu.fast_loads, "CPU");
	SAME(cpu.fast_stores, "CPU");
	same_tlb(&a->cpu, &b->cpu, where);
	for (int i = 0; i < NR_VM_EVENT_ITEMS; i++)
		cr_assert_eq(a->vmstat.event[i], b->vmstat.event[i], "%s: vmstat %s: %llu and %llu",
		             where, vm_event_names[i], (unsigned long long)a->vmstat.event[i],
		             (unsigned long long)b->vmstat.event[i]);
	/* the allocator, the frames, the LRU, the reverse map, RAM */
	SAME(buddy.free_pages, "buddy");
	SAME(buddy.nonempty, "buddy");
	SAME(buddy.allocs, "buddy");
	SAME(buddy.frees, "buddy");
	SAME(buddy.failed, "buddy");
	SAME(buddy.fail_after, "buddy");
	SAME_BYTES(a->buddy.free_area, b->buddy.free_area, sizeof(a->buddy.free_area),
	           "the free lists");
	SAME(phys.nr_frames, "phys");
	SAME_BYTES(a->phys.frames, b->phys.frames, frames * sizeof(*a->phys.frames),
	           "the frame descriptors");
	SAME_BYTES(a->phys.mem, b->phys.mem, frames * PAGE_SIZE, "RAM (page tables, data)");
	SAME_BYTES(a->lruvec.head, b->lruvec.head, sizeof(a->lruvec.head), "the LRU heads");
	SAME_BYTES(a->lruvec.tail, b->lruvec.tail, sizeof(a->lruvec.tail), "the LRU tails");
	SAME_BYTES(a->lruvec.nr, b->lruvec.nr, sizeof(a->lruvec.nr), "the LRU counts");
	SAME_BYTES(a->lruvec.folios, b->lruvec.folios, frames * sizeof(*a->lruvec.folios),
	           "the folios");
	SAME_BYTES(a->anon_rmap, b->anon_rmap, frames * sizeof(*a->anon_rmap), "the rmap");
	SAME(nr_anon_vmas, "rmap");
	SAME(kswapd.runs, "kswapd");
	SAME(kswapd.runnable, "kswapd");
	SAME(kswapd.failures, "kswapd");
	SAME(nr_switches, "switch");
	SAME(loaded_asid, "switch");
	SAME(nr_tasks, "tasks");
	for (ta = a->tasks, tb = b->tasks; ta && tb; ta = ta->next_task, tb = tb->next_task)
		same_task(ta, tb, where);
	cr_assert_eq(!ta, !tb, "%s: the task lists differ in length", where);
}

/* ---- the same faults, both ways ----------------------------------------------------- */

struct pair {
	struct kernel k[2]; /* [0] with the fast path, [1] without */
	struct task *t[2];
};

static void pair_boot(struct pair *p, uint64_t ram, uint64_t swap)
{
	memset(nr_fast, 0, sizeof(nr_fast));
	for (int i = 0; i < 2; i++) {
		struct kernel_opts o;

		kernel_default_opts(&o);
		o.phys_bytes = ram;
		o.swap_bytes = swap;
		o.slow_faults = i == 1;
		cr_assert_eq(kernel_boot(&p->k[i], &o, stderr), 0);
		cr_assert_eq(!p->k[i].cpu.fast_fault, i == 1, "slow_faults sets no fast path");
		count_fast(&p->k[i]);
		p->t[i] = task_create(&p->k[i], "fastfault");
		cr_assert_not_null(p->t[i]);
	}
}

static void pair_shutdown(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		task_destroy(&p->k[i], p->t[i]);
		sim_kernel_check(&p->k[i]);
		kernel_shutdown(&p->k[i]);
	}
}

/* What the process does, on each machine. */
struct work {
	struct kernel *k;
	vaddr_t va;
	uint64_t pages;
	int kind;
	vaddr_t src; /* W_COPY's source */
};

enum { W_WRITE, W_READ, W_WRITE_ODD, W_COPY };

static void work_body(void *arg)
{
	struct work *w = arg;
	struct cpu *c = &w->k->cpu;
	uint64_t v;

	for (uint64_t i = 0; i < w->pages; i++) {
		vaddr_t va = w->va + i * PAGE_SIZE + (i * 40) % PAGE_SIZE;

		switch (w->kind) {
		case W_WRITE: cpu_store(c, va & ~7ULL, 8, i); break;
		case W_READ: cpu_load(c, va, 1, &v); break;
		case W_WRITE_ODD: /* sizes 1, 2, 4, a store across two pages */
			if (i % 4 == 3 && i + 1 < w->pages)
				cpu_store(c, w->va + (i + 1) * PAGE_SIZE - 3, 8, ~i);
			else
				cpu_store(c, va, 1u << (i % 3), i);
			break;
		case W_COPY: /* cpu_copy into each page: translate_two's faults */
			cpu_copy(c, va, w->src + i % 64, 64);
			break;
		}
	}
}

/* Run the same work as both processes; their fates must agree; then the state. */
static int pair_run_from(struct pair *p, vaddr_t va, uint64_t pages, int kind, vaddr_t src,
                         const char *where)
{
	int r[2];

	for (int i = 0; i < 2; i++) {
		struct work w = {&p->k[i], va, pages, kind, src};

		r[i] = task_run(&p->k[i], p->t[i], work_body, &w);
		sim_kernel_check(&p->k[i]);
	}
	cr_assert_eq(r[0], r[1], "%s: task_run %d with the fast path, %d without", where, r[0], r[1]);
	same_state(&p->k[0], &p->k[1], where);
	return r[0];
}

static int pair_run(struct pair *p, vaddr_t va, uint64_t pages, int kind, const char *where)
{
	return pair_run_from(p, va, pages, kind, 0, where);
}

static vaddr_t pair_mmap(struct pair *p, uint64_t len, int prot)
{
	int64_t va[2];

	for (int i = 0; i < 2; i++) {
		p->k[i].current = p->t[i];
		va[i] = sys_mmap(&p->k[i], 0, len, prot, SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS, -1, 0);
		p->k[i].current = NULL;
		cr_assert_gt(va[i], 0);
	}
	cr_assert_eq(va[0], va[1]);
	return (vaddr_t)va[0];
}

static void pair_munmap(struct pair *p, vaddr_t va, uint64_t len)
{
	for (int i = 0; i < 2; i++) {
		p->k[i].current = p->t[i];
		cr_assert_eq(sys_munmap(&p->k[i], va, len), 0);
		p->k[i].current = NULL;
	}
}

Test(fastfault, writes_reads_and_copies_both_ways)
{
	struct pair p;
	uint64_t pages = 1100; /* past a page table's 512 entries: some faults allocate one */
	vaddr_t va, src;

	pair_boot(&p, 64ULL << 20, 0);
	va = pair_mmap(&p, pages * PAGE_SIZE, SIM_PROT_READ | SIM_PROT_WRITE);
	pair_run(&p, va, pages / 2, W_WRITE, "first writes");
	cr_assert_gt(nr_fast[FAST_LEAF], pages / 2 - 8, "the fast path took %llu faults",
	             (unsigned long long)nr_fast[FAST_LEAF]);
	pair_run(&p, va + pages / 2 * PAGE_SIZE, pages / 4, W_READ, "reads (the zero page)");
	pair_run(&p, va + pages / 2 * PAGE_SIZE, pages / 4, W_WRITE, "writes over the zero page");
	pair_run(&p, va + pages * 3 / 4 * PAGE_SIZE, pages / 4, W_WRITE_ODD, "odd sizes");
	pair_munmap(&p, va, pages / 2 * PAGE_SIZE);
	same_state(&p.k[0], &p.k[1], "after munmap");
	src = va + (pages - 1) * PAGE_SIZE;
	va = pair_mmap(&p, pages / 2 * PAGE_SIZE, SIM_PROT_READ | SIM_PROT_WRITE);
	pair_run_from(&p, va, pages / 2, W_COPY, src, "copies into a new mapping");
	pair_run(&p, va, pages / 2, W_WRITE, "writes where the copies went");
	cr_assert_gt(nr_fast[FAST_DECLINED], 0, "the reads and copies were declined");
	pair_shutdown(&p);
}

Test(fastfault, a_read_only_mapping_kills_both_ways)
{
	struct pair p;
	vaddr_t va;

	pair_boot(&p, 64ULL << 20, 0);
	va = pair_mmap(&p, 16 * PAGE_SIZE, SIM_PROT_READ);
	pair_run(&p, va, 4, W_READ, "reads");
	cr_assert_neq(pair_run(&p, va + 8 * PAGE_SIZE, 1, W_WRITE, "a write"), 0,
	              "the write to a read-only mapping was not fatal");
	cr_assert_eq(nr_fast[FAST_LEAF], 0);
	pair_shutdown(&p);
}

Test(fastfault, pressure_and_swap_both_ways, .timeout = 120)
{
	struct pair p;
	uint64_t pages = 3 * 1024; /* 12 MiB on an 8 MiB machine: reclaim, swap */
	vaddr_t va;

	pair_boot(&p, 8ULL << 20, 16ULL << 20);
	va = pair_mmap(&p, pages * PAGE_SIZE, SIM_PROT_READ | SIM_PROT_WRITE);
	pair_run(&p, va, pages, W_WRITE, "writes past RAM");
	cr_assert_gt(nr_fast[FAST_LEAF], 0);
	cr_assert_gt(nr_fast[FAST_DECLINED], 0, "the watermark sent faults to the full path");
	cr_assert_gt(p.k[0].vmstat.event[PSWPOUT], 0, "nothing was swapped out");
	pair_run(&p, va, pages, W_READ, "reads back (swap-ins)");
	pair_run(&p, va, pages, W_WRITE, "writes again");
	pair_shutdown(&p);
}

Test(fastfault, injected_allocation_failures_both_ways)
{
	struct pair p;
	vaddr_t va;

	pair_boot(&p, 64ULL << 20, 0);
	va = pair_mmap(&p, 256 * PAGE_SIZE, SIM_PROT_READ | SIM_PROT_WRITE);
	pair_run(&p, va, 8, W_WRITE, "writes");
	for (int i = 0; i < 2; i++)
		p.k[i].buddy.fail_after = 20;
	cr_assert_neq(pair_run(&p, va + 8 * PAGE_SIZE, 100, W_WRITE, "writes until one fails"), 0,
	              "the injected failure did not kill");
	cr_assert_gt(nr_fast[FAST_LEAF], 20);
	pair_shutdown(&p);
}

/* A sink sees every event: the fast path is never asked, the count is the full path's. */
static void count_sink(void *ctx, const struct event *ev)
{
	(void)ev;
	(*(uint64_t *)ctx)++;
}

Test(fastfault, a_sink_always_takes_the_full_path)
{
	struct pair p;
	uint64_t seen = 0, seen1 = 0, seq0;
	vaddr_t va;

	pair_boot(&p, 64ULL << 20, 0);
	va = pair_mmap(&p, 64 * PAGE_SIZE, SIM_PROT_READ | SIM_PROT_WRITE);
	pair_run(&p, va, 1, W_WRITE, "the page table");
	/* (buddy.c counts its calls as calls with a sink, as other events
	   without one: the two sides must both have one) */
	probe_set_sink(&p.k[0].probe, count_sink, &seen);
	probe_set_sink(&p.k[1].probe, count_sink, &seen1);
	seq0 = probe_seq(&p.k[0].probe);
	memset(nr_fast, 0, sizeof(nr_fast));
	pair_run(&p, va + PAGE_SIZE, 32, W_WRITE, "writes with a sink");
	cr_assert_eq(nr_fast[FAST_LEAF] + nr_fast[FAST_DECLINED] + nr_fast[FAST_RETRY], 0,
	             "the fast path was asked with a sink");
	cr_assert_eq(seen, probe_seq(&p.k[0].probe) - seq0, "every event reached the sink");
	cr_assert_eq(seen, seen1);
	probe_set_sink(&p.k[0].probe, NULL, NULL);
	probe_set_sink(&p.k[1].probe, NULL, NULL);
	pair_run(&p, va + 33 * PAGE_SIZE, 16, W_WRITE, "writes without a sink");
	cr_assert_gt(nr_fast[FAST_LEAF], 0);
	pair_shutdown(&p);
}

/* ---- every demo, both ways ---------------------------------------------------------- */

/* The statement's result, as far as it does not depend on a sink. */
static void same_result(const struct stmt_result *a, const struct stmt_result *b,
                        const char *where)
{
	SAME(idx, "statement");
	SAME(has_ret, "statement");
	SAME(ret, "statement");
	SAME(faults, "statement");
	SAME(killed, "statement");
	SAME(exited, "statement");
	SAME(expect_ok, "statement");
	SAME(output_len, "statement");
	if (a->output_len)
		SAME_BYTES(a->output, b->output, a->output_len, "show's output");
}

/* Run the script path in two sessions without a sink (one without the fast
   path), statement by statement, comparing as they go; the whole state at
   the end. */
static void demo_both_ways(const char *path, const char *policy)
{
	struct session *s[2];
	struct script *sc;
	char where[512];

	cr_assert_eq(script_load(NULL, path, &sc, stderr), 0, "%s", path);
	for (int i = 0; i < 2; i++) {
		struct session_opts o;

		session_default_opts(&o);
		o.policy = policy;
		o.kopts.slow_faults = i == 1;
		s[i] = session_create(sc, &o, stderr);
		cr_assert_not_null(s[i], "%s", path);
		/* replay's and the benchmark's mode: no sink */
		probe_set_sink(&s[i]->k.probe, NULL, NULL);
		count_fast(&s[i]->k);
	}
	while (!session_done(s[0])) {
		int rc[2];

		cr_assert(!session_done(s[1]), "%s: one session ended first", path);
		for (int i = 0; i < 2; i++) {
			rc[i] = session_step(s[i]);
			cr_assert_eq(kernel_check(&s[i]->k, stderr), 0, "%s:%d: kernel_check", path,
			             s[i]->res.line);
		}
		snprintf(where, sizeof(where), "%s:%d (%s)", path, s[0]->res.line,
		         policy ? policy : "its policy");
		cr_assert_eq(rc[0], rc[1], "%s: session_step %d with the fast path, %d without", where,
		             rc[0], rc[1]);
		cr_assert_str_eq(s[0]->error, s[1]->error, "%s", where);
		same_result(&s[0]->res, &s[1]->res, where);
		if (s[0]->res.faults) /* the whole state, where faults happened */
			same_state(&s[0]->k, &s[1]->k, where);
	}
	cr_assert(session_done(s[1]), "%s: one session ended first", path);
	snprintf(where, sizeof(where), "%s (%s) at its end", path, policy ? policy : "its policy");
	same_state(&s[0]->k, &s[1]->k, where);
	{
		FILE *null = fopen("/dev/null", "w");

		cr_assert_not_null(null);
		cr_assert_eq(session_finish(s[0], null), session_finish(s[1], null), "%s", where);
		fclose(null);
	}
	for (int i = 0; i < 2; i++)
		session_destroy(s[i]);
	script_free(sc);
}

static void demos_both_ways(const char *pattern, const char *policy)
{
	glob_t g;

	cr_assert_eq(chdir(bin_root()), 0);
	cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no demos match %s", pattern);
	memset(nr_fast, 0, sizeof(nr_fast));
	for (size_t i = 0; i < g.gl_pathc; i++)
		demo_both_ways(g.gl_pathv[i], policy);
	/* (a demo may take no fault the fast path can: all of them together do) */
	cr_log_info("%s: %llu faults by the fast path, %llu declined", pattern,
	            (unsigned long long)nr_fast[FAST_LEAF], (unsigned long long)nr_fast[FAST_DECLINED]);
	cr_assert_gt(nr_fast[FAST_LEAF], 0, "the fast path took %llu faults in %zu demos",
	             (unsigned long long)nr_fast[FAST_LEAF], g.gl_pathc);
	globfree(&g);
}

Test(fastfault, every_demo_both_ways, .timeout = 300)
{
	demos_both_ways("demos/*.ams", NULL);
}

Test(fastfault, every_crash_demo_both_ways, .timeout = 300)
{
	demos_both_ways("demos/crash/*.ams", NULL);
}

Test(fastfault, every_demo_under_best_both_ways, .timeout = 300)
{
	demos_both_ways("demos/*.ams", "best");
}
