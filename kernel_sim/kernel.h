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
#include "mm.h"

struct task; /* task.h: a simulated process */

struct kernel_opts {
	uint64_t phys_bytes;   /* simulated RAM, default 64 MiB */
	bool zero_page;        /* map the shared zero page on read faults (mainline); default true */
	bool aslr;             /* randomize the layout from seed; default false */
	uint64_t seed;
	unsigned tlb_entries;  /* default 64 */
	unsigned tlb_ways;     /* default 4 */
	bool debug_checks;     /* run kernel_check after every fault and syscall */
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
	int nr_tasks;          /* live tasks (pgtable_check compares refcounts when 1) */
	struct task *tasks;    /* live tasks, newest first; kernel_shutdown destroys them */
	uint64_t rng;          /* xorshift state for ASLR */
};

void kernel_default_opts(struct kernel_opts *o);
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
