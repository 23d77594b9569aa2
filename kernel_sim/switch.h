/*
 * switch.h - context switches and what they cost the TLB
 * (kernel/sched/core.c context_switch, arch/x86/mm/tlb.c
 * switch_mm_irqs_off, choose_new_asid, load_new_mm_cr3).
 *
 * Each address space has its own page-table root. Switching to a task of
 * another mm loads its root into CR3. Without PCID (the default) that write
 * flushes every TLB entry, so the next task starts cold: the TLB cost of a
 * context switch. With PCID (kernel_opts.pcid) the CPU tags entries by
 * address space and Linux keeps TLB_NR_DYN_ASIDS of them per CPU: a switch
 * back to an mm that still owns a slot keeps its entries (CR3 written with
 * the NOFLUSH bit) unless a flush was asked for that mm meanwhile (its
 * tlb_gen moved on); a new mm takes the next slot round robin and flushes
 * it.
 */
#ifndef KERNEL_SIM_SWITCH_H
#define KERNEL_SIM_SWITCH_H

#include <stdio.h>

#include "task.h"

/* Switch the CPU from k->current (may be NULL) to next: charge the TLB
   counts to the task leaving, switch_mm_irqs_off when the mm changes,
   then __switch_to. Events context_switch, switch_mm_irqs_off,
   choose_new_asid, load_new_mm_cr3, __switch_to. */
void context_switch(struct kernel *k, struct task *next);

/* exec's activate_mm without events: the first task's mm becomes the
   loaded one (its CR3 write is load_elf_binary's). */
void activate_mm(struct kernel *k, struct mm_struct *mm);

/* mm is going away: the CPU must not keep it loaded (CR3 is cleared) and no
   ASID slot may be matched to it again. */
void switch_mm_drop(struct kernel *k, struct mm_struct *mm);

/*
 * A TLB flush of mm was asked (inc_mm_tlb_gen). Returns true when mm is
 * loaded on the CPU: the caller flushes now, which brings the loaded
 * ASID's generation up to date. Otherwise the entries under mm's ASID, if
 * any, are stale and the next switch to mm flushes them.
 */
bool flush_tlb_mm_gen(struct kernel *k, struct mm_struct *mm);

/* The TLB hits and misses of t so far: what was charged at its switches,
   plus, while it runs, what the CPU counted since it was switched in. */
void task_tlb_counts(struct kernel *k, const struct task *t, uint64_t *hits, uint64_t *misses);

/*
 * The loaded mm is current's; its ASID slot is current with its tlb_gen;
 * no two slots name one mm; every entry cached under the PCID of a slot
 * that is current with its mm matches that mm's page tables. #broken.
 */
int switch_check(struct kernel *k, FILE *err);

#endif
