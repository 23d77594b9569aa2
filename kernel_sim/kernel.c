/*
 * kernel.c - boot and shutdown of the simulated kernel, and the checker over
 * all of it.
 *
 * kernel_boot follows the order of a real boot where it matters: memory first
 * (phys_init, the frame table: Linux's memblock and mem_map), then the CPU
 * with its TLB, then the buddy allocator over every frame but the first
 * (pfn 0 stays reserved, like the first page of real RAM), then the shared
 * zero page (ZERO_PAGE(0), mm/memory.c's zero_pfn), and last the exception
 * handler (the IDT entry of #PF and #GP).
 */
#include "kernel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/panic.h"
#include "fault.h"
#include "overcommit.h"
#include "page_alloc.h"
#include "fork.h"
#include "pgtable.h"
#include "rmap.h"
#include "switch.h"
#include "task.h"

#define MIN_PHYS_BYTES (1ULL << 20)

void kernel_default_opts(struct kernel_opts *o)
{
	*o = (struct kernel_opts){
	    .phys_bytes = 64ULL << 20,
	    .zero_page = true,
	    .aslr = false,
	    .seed = 0,
	    .tlb_entries = 64,
	    .tlb_ways = 4,
	    .debug_checks = false,
	    .nr_cpus = 1,
	};
}

/* splitmix64 of the seed: a nonzero xorshift state even for seed 0. */
static uint64_t rng_seed(uint64_t seed)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z ? z : 1;
}

const char *kernel_opts_problem(const struct kernel_opts *o, char *buf, size_t n)
{
	if (o->phys_bytes < MIN_PHYS_BYTES || o->phys_bytes % PAGE_SIZE)
		snprintf(buf, n,
		         "cannot boot with %llu bytes of RAM: it must be at least 1 MiB and a "
		         "multiple of 4 KiB",
		         (unsigned long long)o->phys_bytes);
	else if (o->phys_bytes / PAGE_SIZE > PHYS_MAX_FRAMES)
		snprintf(
		    buf, n,
		    "cannot boot with %llu bytes of RAM: at most %llu (%llu GiB less one page)",
		    (unsigned long long)o->phys_bytes,
		    (unsigned long long)(PHYS_MAX_FRAMES * PAGE_SIZE),
		    (unsigned long long)((PHYS_MAX_FRAMES + 1) * PAGE_SIZE >> 30));
	else if (o->nr_cpus > KERNEL_MAX_CPUS)
		snprintf(buf, n, "cannot boot with %u CPUs: at most %u", o->nr_cpus, KERNEL_MAX_CPUS);
	else if (o->swap_bytes &&
	         (o->swap_bytes < SWAP_MIN_BYTES || o->swap_bytes > SWAP_MAX_BYTES))
		snprintf(buf, n,
		         "cannot use %llu bytes of swap: it must be at least %llu bytes (10 pages) "
		         "and at most %llu GiB",
		         (unsigned long long)o->swap_bytes, (unsigned long long)SWAP_MIN_BYTES,
		         (unsigned long long)(SWAP_MAX_BYTES >> 30));
	else
		return NULL;
	return buf;
}

int kernel_boot(struct kernel *k, const struct kernel_opts *o, FILE *err)
{
	char why[160];

	memset(k, 0, sizeof(*k));
	if (o)
		k->opts = *o;
	else
		kernel_default_opts(&k->opts);
	if (k->opts.nr_cpus == 0) /* options built without kernel_default_opts */
		k->opts.nr_cpus = 1;
	if (kernel_opts_problem(&k->opts, why, sizeof(why))) {
		if (err)
			fprintf(err, "%s\n", why);
		return -1;
	}
	if (phys_init(&k->phys, k->opts.phys_bytes) != 0) {
		if (err)
			fprintf(err,
			        "aftermalloc: cannot reserve %llu bytes of simulated RAM: %s\n",
			        (unsigned long long)k->opts.phys_bytes, strerror(errno));
		return -1;
	}
	probe_init(&k->probe);
	if (cpu_init(&k->cpu, &k->phys, &k->probe, k->opts.tlb_entries, k->opts.tlb_ways) != 0) {
		if (err)
			fprintf(err,
			        "aftermalloc: impossible TLB of %u entries, %u ways (entries/ways "
			        "must be a power of two)\n",
			        k->opts.tlb_entries, k->opts.tlb_ways);
		phys_destroy(&k->phys);
		return -1;
	}
	if (rmap_init(k) != 0) {
		if (err)
			fprintf(err, "aftermalloc: cannot reserve the reverse map of %llu frames: %s\n",
			        (unsigned long long)k->phys.nr_frames, strerror(errno));
		cpu_destroy(&k->cpu);
		phys_destroy(&k->phys);
		return -1;
	}
	buddy_init(&k->buddy, &k->phys, &k->probe, 1);
	k->zero_pfn = buddy_alloc(&k->buddy, 0, FK_ZERO);
	if (k->zero_pfn == PFN_NONE)
		panic("no frame for the zero page in %llu bytes of RAM",
		      (unsigned long long)k->opts.phys_bytes);
	phys_zero_frame(&k->phys, k->zero_pfn);
	if (lruvec_init(&k->lruvec, k->phys.nr_frames) != 0) {
		if (err)
			fprintf(err, "aftermalloc: cannot reserve the folio table: %s\n",
			        strerror(errno));
		cpu_destroy(&k->cpu);
		phys_destroy(&k->phys);
		return -1;
	}
	page_alloc_init(k);
	init_reserves(k);
	if (k->opts.swap_bytes) {
		int r = swapon_area(k, k->opts.swap_bytes);

		if (r) {
			if (err)
				fprintf(err, "cannot use %llu bytes of swap: %s\n",
				        (unsigned long long)k->opts.swap_bytes, strerror(-r));
			lruvec_destroy(&k->lruvec);
			cpu_destroy(&k->cpu);
			phys_destroy(&k->phys);
			return -1;
		}
	}
	cpu_set_trap_handler(&k->cpu, exc_trap, k);
	if (!k->opts.slow_faults)
		cpu_set_fast_fault(&k->cpu, fault_fast);
	k->next_pid = 1;
	k->max_threads = set_max_threads(k->buddy.managed);
	k->rng = rng_seed(k->opts.seed);
	return 0;
}

void kernel_shutdown(struct kernel *k)
{
	while (k->tasks)
		task_destroy(k, k->tasks);
	if (k->zero_pfn != PFN_NONE && k->phys.frames)
		buddy_free(&k->buddy, k->zero_pfn, 0);
	k->zero_pfn = PFN_NONE;
	swap_destroy(k);
	lruvec_destroy(&k->lruvec);
	printk_destroy(k);
	rmap_fini(k);
	cpu_destroy(&k->cpu);
	phys_destroy(&k->phys);
	probe_fini(&k->probe);
}

int kernel_check(struct kernel *k, FILE *err)
{
	int broken = 0;
	uint64_t kinds[FK__COUNT], pgtables = 0;
	const struct frame *z;

#define CHECK(expr) broken += (expr)
#define ERR         (broken ? NULL : err)
	CHECK(phys_check(&k->phys, ERR));
	CHECK(buddy_check(&k->buddy, ERR));
	CHECK(cpu_check(&k->cpu, ERR));
	CHECK(lruvec_check(&k->lruvec, ERR));
	CHECK(swap_check(k, ERR));
	for (struct task *t = k->tasks; t; t = t->next_task) {
		bool shared = false;
		int users = 0;

		if (!t->mm)
			continue;
		for (struct task *u = k->tasks; u != t; u = u->next_task)
			shared |= u->mm == t->mm;
		if (shared)
			continue; /* a thread: its mm was checked with the first */
		/* mm_users: one for each task that holds it (the threads of one
		   process), and nothing else in the model takes a reference */
		for (struct task *u = k->tasks; u; u = u->next_task)
			users += u->mm == t->mm;
		if (users != t->mm->mm_users) {
			if (!broken && err)
				fprintf(err, "kernel_check: mm of task %d: mm_users %d, %d tasks use it\n",
				        t->pid, t->mm->mm_users, users);
			broken++;
		}
		/* a thread group shares one mm: no task of the group has another */
		for (struct task *u = k->tasks; u; u = u->next_task) {
			if (u->mm && u->tgid == t->tgid && u->mm != t->mm) {
				if (!broken && err)
					fprintf(err, "kernel_check: tasks %d and %d of group %d have two mms\n",
					        t->pid, u->pid, t->tgid);
				broken++;
			}
		}
		CHECK(mm_check(t->mm, ERR));
		CHECK(pgtable_check(k, t->mm, ERR));
		pgtables += t->mm->pgtables_bytes / PAGE_SIZE + 1;
	}
	CHECK(rmap_check(k, ERR));
	CHECK(switch_check(k, ERR));
	phys_count_kinds(&k->phys, kinds);
	if (kinds[FK_PAGETABLE] != pgtables) {
		if (!broken && err)
			fprintf(err, "kernel_check: %llu page-table frames, the mms account %llu\n",
			        (unsigned long long)kinds[FK_PAGETABLE], (unsigned long long)pgtables);
		broken++;
	}
	if (kinds[FK_FREE] != k->buddy.free_pages) {
		if (!broken && err)
			fprintf(err, "kernel_check: buddy has %llu free pages, frame table %llu\n",
			        (unsigned long long)k->buddy.free_pages,
			        (unsigned long long)kinds[FK_FREE]);
		broken++;
	}
	if (kinds[FK_RESERVED] != k->buddy.start_pfn) {
		if (!broken && err)
			fprintf(err, "kernel_check: %llu reserved frames, expected %llu\n",
			        (unsigned long long)kinds[FK_RESERVED],
			        (unsigned long long)k->buddy.start_pfn);
		broken++;
	}
	/* Every anonymous frame is on the LRU (reclaim isolates them only inside a call). */
	if (kinds[FK_ANON] != k->lruvec.nr[LRU_INACTIVE_ANON] + k->lruvec.nr[LRU_ACTIVE_ANON]) {
		if (!broken && err)
			fprintf(err, "kernel_check: %llu anonymous frames, %llu on the LRU lists\n",
			        (unsigned long long)kinds[FK_ANON],
			        (unsigned long long)(k->lruvec.nr[LRU_INACTIVE_ANON] +
			                             k->lruvec.nr[LRU_ACTIVE_ANON]));
		broken++;
	}
	z = phys_frame(&k->phys, k->zero_pfn);
	if (z->kind != FK_ZERO || z->refcount < 1 || kinds[FK_ZERO] != 1) {
		if (!broken && err)
			fprintf(
			    err,
			    "kernel_check: zero page pfn %#llx is a %s frame, %llu zero frames\n",
			    (unsigned long long)k->zero_pfn, frame_kind_name(z->kind),
			    (unsigned long long)kinds[FK_ZERO]);
		broken++;
	}
	if (k->current && k->current->mm && k->current->mm->pgd != k->cpu.cr3 &&
	    k->cpu.cr3 != PFN_NONE) {
		if (!broken && err)
			fprintf(err, "kernel_check: CR3 %#llx is not current's pgd %#llx\n",
			        (unsigned long long)k->cpu.cr3,
			        (unsigned long long)k->current->mm->pgd);
		broken++;
	}
#undef ERR
#undef CHECK
	return broken;
}

void kernel_dump(struct kernel *k, FILE *out)
{
	fprintf(out, "kernel: %llu frames, zero page pfn %#llx, %d tasks, current pid %d\n",
	        (unsigned long long)k->phys.nr_frames, (unsigned long long)k->zero_pfn, k->nr_tasks,
	        k->current ? k->current->pid : 0);
	buddy_dump(&k->buddy, out);
	for (struct task *t = k->tasks; t; t = t->next_task) {
		fprintf(out, "task %d (%s) parent %d %s\n", t->pid, t->comm,
		        t->real_parent ? t->real_parent->tgid : 0, task_state(t, k->current));
		if (t->mm)
			mm_dump(t->mm, out);
	}
}
