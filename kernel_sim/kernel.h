/*
 * kernel.h - the simulated kernel: one machine, its buddy allocator, tasks.
 *
 * struct kernel owns the machine (RAM, CPU with its TLB, the event probe) and
 * the kernel's own state. Several kernels can live side by side in one host
 * process (tests, the viewer's --compare): there are no globals.
 *
 * Tasks (simulated processes) are task.h's: this file knows them only as
 * the list it checks and destroys at shutdown, so the dependency runs one
 * way, kernel.c -> task.h -> kernel.h.
 */
#ifndef KERNEL_SIM_KERNEL_H
#define KERNEL_SIM_KERNEL_H

#include <stdio.h>

#include "../vm/cpu.h"
#include "../vm/phys.h"
#include "../vm/probe.h"
#include "buddy.h"
#include "lru.h"
#include "mm.h"
#include "printk.h"
#include "swap.h"
#include "sysctl.h"
#include "vmstat.h"

struct task;      /* task.h: a simulated process */
struct anon_rmap; /* rmap.h: the reverse map, per frame */
struct anon_vma;

/* Dynamic ASIDs per CPU when PCID is used (arch/x86/include/asm/tlbflush.h). */
#define TLB_NR_DYN_ASIDS 6

/* One ASID slot of the CPU (struct tlb_context): whose entries it tags and
   up to which flush of that address space they are current. */
struct tlb_context {
	uint64_t ctx_id; /* mm->ctx_id, 0: never used */
	uint64_t tlb_gen;
};

struct kernel_opts {
	uint64_t phys_bytes;   /* simulated RAM, default 64 MiB */
	bool zero_page;        /* map the shared zero page on read faults (mainline); default true */
	bool aslr;             /* randomize the layout from seed; default false */
	uint64_t seed;
	unsigned tlb_entries;  /* default 64 */
	unsigned tlb_ways;     /* default 4 */
	bool debug_checks;     /* run kernel_check after every fault and syscall */
	bool slow_faults;      /* no fast path for faults (fault_fast): every fault takes
				  exc_trap's path, as with a sink (tests compare the two) */
	uint64_t swap_bytes;   /* --swap: swapon an area of this size at boot (0: none) */
	bool pcid;             /* the CPU tags TLB entries by address space (PCID):
				  a context switch need not flush; default false */
	unsigned nr_cpus;      /* --cpus: CPUs the machine reports online (default 1; the
				  model runs them all on its one CPU, a task at a time) */
};
#define KERNEL_MAX_CPUS 1024

/*
 * kswapd0, the node's reclaim thread (mm/vmscan.c). The model has one CPU
 * and no scheduler clock, so when kswapd runs is defined here: a wakeup
 * (wakeup_kswapd, below the low watermark) marks it runnable, and it runs
 * when the kernel next returns to user mode (the end of the page fault or
 * system call that woke it), before the program's next instruction, as a
 * woken kernel thread preempts the task at that point. It reclaims until
 * the zone is balanced at the high watermark (balance_pgdat), then sleeps.
 */
struct kswapd {
	bool runnable;     /* woken, not yet run */
	bool running;      /* inside balance_pgdat (its allocations never wake it) */
	unsigned failures; /* kswapd_failures: runs in a row that reclaimed nothing */
	uint64_t runs;     /* times it ran */
};

struct kernel {
	struct phys phys;
	struct probe probe;
	struct cpu cpu;
	struct buddy buddy;
	pfn_t zero_pfn;        /* the shared zero page (ZERO_PAGE(0)) */
	struct task *current;  /* the running task, or NULL */
	struct kernel_opts opts;
	int next_pid;
	int nr_tasks;          /* tasks on the list, zombies included (nr_threads) */
	int max_threads;       /* fork fails with EAGAIN at this many (threads-max, fork.c) */
	struct task *tasks;    /* every task, newest first; kernel_shutdown destroys them */
	uint64_t rng;          /* xorshift state for ASLR */
	/* Memory pressure (page_alloc.c, vmscan.c, swap.c, oom.c, overcommit.c): */
	struct vm_sysctl sysctl;
	struct vm_event_state vmstat;
	struct lruvec lruvec;             /* the node's anonymous LRU lists */
	struct swap_info_struct *swap;    /* the swap area, NULL when none */
	struct kswapd kswapd;
	struct printk_log log;            /* dmesg */
	/* The reverse map (rmap.c): per frame, and the anon_vmas by id. */
	struct anon_rmap *anon_rmap;
	struct anon_vma **anon_vmas;
	size_t nr_anon_vmas, cap_anon_vmas;
	uint32_t *free_ids;
	size_t nr_free_ids, cap_free_ids;
	/* Context switches (switch.c): the mm whose tables CR3 holds, this
	   CPU's ASID slots and the next to take, and the TLB counts at the last
	   switch (what the running task has used since is charged to it). */
	struct mm_struct *loaded_mm;
	uint16_t loaded_asid;
	uint16_t next_asid;
	struct tlb_context ctxs[TLB_NR_DYN_ASIDS];
	uint64_t next_ctx_id;
	uint64_t tlb_hits_mark, tlb_misses_mark;
	uint64_t nr_switches;
};

/*
 * The kernel returns to user mode (exception or system call exit): a
 * runnable kswapd runs now (struct kswapd). Inline: every fault ends here.
 */
void kswapd_run(struct kernel *k);
static inline void exit_to_user_mode(struct kernel *k)
{
	if (__builtin_expect(k->kswapd.runnable, 0))
		kswapd_run(k);
}

void kernel_default_opts(struct kernel_opts *o);
/* Why a machine with o's RAM and swap sizes cannot boot, written into buf
   ("cannot boot with 524288 bytes of RAM: ..."); NULL when it can. The
   command line checks its options with it before booting. */
const char *kernel_opts_problem(const struct kernel_opts *o, char *buf, size_t n);
/* Boot: reserve RAM, set up the buddy allocator and the zero page, register the
   trap handler. 0, or -1 with a message on err (e.g. RAM size not possible). */
int kernel_boot(struct kernel *k, const struct kernel_opts *o, FILE *err);
void kernel_shutdown(struct kernel *k);

/* All checkers: buddy, frame table, TLB vs tables, each mm and its page
   tables, frame refcounts vs mappings. Returns #broken, reports the first. */
int kernel_check(struct kernel *k, FILE *err);
/* The buddy allocator, then each task's mm (for debugging). */
void kernel_dump(struct kernel *k, FILE *out);


#endif
