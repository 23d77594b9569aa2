/*
 * fault.h - the demand-paging fault handler (arch/x86/mm/fault.c, mm/memory.c).
 *
 * exc_trap is registered with the CPU at boot. For #PF it models
 * exc_page_fault -> do_user_addr_fault -> find_vma / access_error ->
 * handle_mm_fault -> __handle_mm_fault -> handle_pte_fault ->
 * do_anonymous_page (or do_wp_page for a write to the zero page), emitting an
 * event for each; for #GP (non-canonical address) it sends SIGSEGV (SI_KERNEL).
 */
#ifndef KERNEL_SIM_FAULT_H
#define KERNEL_SIM_FAULT_H

#include "task.h"

/* The trap handler (trap_handler_t) with ctx = struct kernel *. */
int exc_trap(void *ctx, int vector, vaddr_t addr, unsigned error);
/* Its fast path (fast_fault_t, vm/cpu.h), registered at boot unless
   opts.slow_faults: the common demand-zero write fault with no sink,
   with the same changes and counts as exc_trap's path (fault.c). */
int fault_fast(void *ctx, vaddr_t addr, unsigned error, pfn_t pt, unsigned idx);

#endif
