/*
 * proc.h - /proc views in the exact Linux formats (fs/proc/task_mmu.c,
 * mm/vmstat.c, fs/proc/meminfo.c).
 */
#ifndef KERNEL_SIM_PROC_H
#define KERNEL_SIM_PROC_H

#include <stdio.h>

#include "task.h"

/*
 * The program image is a file mapping in reality. The maps view shows the
 * image's VMAs (task.h, The program image) as mappings of "/usr/bin/COMM" on
 * a fixed device and inode (PROC_EXE_DEV_MAJOR:PROC_EXE_DEV_MINOR,
 * PROC_EXE_INO), at the file offsets of that layout. Everything else is
 * anonymous (00:00 0).
 */
#define PROC_EXE_DIR         "/usr/bin/"
#define PROC_EXE_DEV_MAJOR   0xfe
#define PROC_EXE_DEV_MINOR   0x00
#define PROC_EXE_INO         1310721UL

void proc_maps(struct kernel *k, struct task *t, FILE *out);   /* /proc/PID/maps */
size_t proc_maps_lines(const struct task *t); /* how many lines proc_maps prints */
void proc_buddyinfo(struct kernel *k, FILE *out);              /* /proc/buddyinfo */
void proc_meminfo(struct kernel *k, FILE *out);                /* /proc/meminfo */
void proc_status(struct kernel *k, struct task *t, FILE *out); /* /proc/PID/status */
void proc_vmstat(struct kernel *k, FILE *out);                 /* /proc/vmstat */
void proc_zoneinfo(struct kernel *k, FILE *out);               /* /proc/zoneinfo */
void proc_swaps(struct kernel *k, FILE *out);                  /* /proc/swaps */
void proc_oom_score(struct kernel *k, struct task *t, FILE *out); /* /proc/PID/oom_score */
void proc_dmesg(struct kernel *k, FILE *out);                  /* the kernel log, dmesg */
/* Not a /proc file: the page walk of va, level by level (for `show pagetable`). */
void proc_pagetable(struct kernel *k, struct task *t, vaddr_t va, FILE *out);
/* Not a /proc file: ps's table of every process as reader's process sees
   it (for `show ps`: reader is the task that runs the statement). */
void proc_ps(struct kernel *k, const struct task *reader, FILE *out);
/* The TLB's valid entries (for `show tlb`). */
void proc_tlb(struct kernel *k, FILE *out);

#endif
