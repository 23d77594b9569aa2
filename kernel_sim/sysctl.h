/*
 * sysctl.h - the /proc/sys/vm knobs of memory pressure (kernel/sysctl.c's vm
 * table, mm/page_alloc.c, mm/util.c, mm/vmscan.c) and their write handlers
 * with the kernel's ranges and errors.
 *
 * A write is what `sysctl -w vm.NAME=VALUE` does: the handler parses one
 * integer, checks it against the table's extra1/extra2 bounds and returns 0
 * or -errno (EINVAL out of range; ENOENT for a name that is not a file), then
 * runs the side effect the kernel runs (min_free_kbytes and
 * watermark_scale_factor recompute the watermarks; overcommit_ratio and
 * overcommit_kbytes each zero the other).
 */
#ifndef KERNEL_SIM_SYSCTL_H
#define KERNEL_SIM_SYSCTL_H

#include <stdint.h>
#include <stdio.h>

#define OVERCOMMIT_GUESS  0
#define OVERCOMMIT_ALWAYS 1
#define OVERCOMMIT_NEVER  2

struct vm_sysctl {
	int overcommit_memory;         /* vm.overcommit_memory: 0 guess, 1 always, 2 never */
	int overcommit_ratio;          /* vm.overcommit_ratio: percent of RAM in CommitLimit */
	uint64_t overcommit_kbytes;    /* vm.overcommit_kbytes: when not 0, instead of the ratio */
	uint64_t admin_reserve_kbytes; /* vm.admin_reserve_kbytes (init_admin_reserve) */
	uint64_t user_reserve_kbytes;  /* vm.user_reserve_kbytes (init_user_reserve) */
	int min_free_kbytes;           /* vm.min_free_kbytes (calculate_min_free_kbytes) */
	int user_min_free_kbytes;      /* the last value written, -1 before any */
	int watermark_scale_factor;    /* vm.watermark_scale_factor, in 1/10000 of RAM */
	int swappiness;                /* vm.swappiness */
};

struct kernel;

/* Write value to vm.NAME (name with or without "vm."): 0 or -errno. */
int sysctl_vm_write(struct kernel *k, const char *name, int64_t value);
/* Read vm.NAME into *value: 0 or -ENOENT. */
int sysctl_vm_read(struct kernel *k, const char *name, int64_t *value);
/* The names, NULL-terminated (for usage messages). */
extern const char *const sysctl_vm_names[];

#endif
