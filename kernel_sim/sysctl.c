/*
 * sysctl.c - writes and reads of /proc/sys/vm/ (kernel/sysctl.c vm_table,
 * mm/page_alloc.c min_free_kbytes_sysctl_handler and
 * watermark_scale_factor_sysctl_handler, mm/util.c
 * overcommit_ratio_handler / overcommit_kbytes_handler); see sysctl.h.
 */
#include "sysctl.h"

#include <string.h>

#include "kernel.h"
#include "page_alloc.h"
#include "syscalls.h"

enum knob {
	KNOB_OVERCOMMIT_MEMORY,
	KNOB_OVERCOMMIT_RATIO,
	KNOB_OVERCOMMIT_KBYTES,
	KNOB_ADMIN_RESERVE_KBYTES,
	KNOB_USER_RESERVE_KBYTES,
	KNOB_MIN_FREE_KBYTES,
	KNOB_WATERMARK_SCALE_FACTOR,
	KNOB_SWAPPINESS,
	NR_KNOBS
};

const char *const sysctl_vm_names[NR_KNOBS + 1] = {
    "overcommit_memory",    "overcommit_ratio", "overcommit_kbytes",
    "admin_reserve_kbytes", "user_reserve_kbytes", "min_free_kbytes",
    "watermark_scale_factor", "swappiness", NULL};

/* extra1/extra2 of each table entry; proc_dointvec (no bounds) is INT range. */
static const struct {
	int64_t min, max;
} knob_range[NR_KNOBS] = {
    [KNOB_OVERCOMMIT_MEMORY] = {0, 2},
    [KNOB_OVERCOMMIT_RATIO] = {INT32_MIN, INT32_MAX},
    [KNOB_OVERCOMMIT_KBYTES] = {0, INT64_MAX},
    [KNOB_ADMIN_RESERVE_KBYTES] = {0, INT64_MAX},
    [KNOB_USER_RESERVE_KBYTES] = {0, INT64_MAX},
    [KNOB_MIN_FREE_KBYTES] = {0, INT32_MAX},
    [KNOB_WATERMARK_SCALE_FACTOR] = {1, 3000},
    [KNOB_SWAPPINESS] = {0, 200},
};

static int knob_lookup(const char *name)
{
	if (strncmp(name, "vm.", 3) == 0)
		name += 3;
	for (int i = 0; i < NR_KNOBS; i++)
		if (strcmp(name, sysctl_vm_names[i]) == 0)
			return i;
	return -1;
}

int sysctl_vm_write(struct kernel *k, const char *name, int64_t v)
{
	struct vm_sysctl *s = &k->sysctl;
	int i = knob_lookup(name);

	if (i < 0)
		return -SIM_ENOENT;
	if (v < knob_range[i].min || v > knob_range[i].max)
		return -SIM_EINVAL;
	switch (i) {
	case KNOB_OVERCOMMIT_MEMORY:
		s->overcommit_memory = (int)v;
		break;
	case KNOB_OVERCOMMIT_RATIO:
		s->overcommit_ratio = (int)v;
		s->overcommit_kbytes = 0;
		break;
	case KNOB_OVERCOMMIT_KBYTES:
		s->overcommit_kbytes = (uint64_t)v;
		s->overcommit_ratio = 0;
		break;
	case KNOB_ADMIN_RESERVE_KBYTES:
		s->admin_reserve_kbytes = (uint64_t)v;
		break;
	case KNOB_USER_RESERVE_KBYTES:
		s->user_reserve_kbytes = (uint64_t)v;
		break;
	case KNOB_MIN_FREE_KBYTES:
		s->min_free_kbytes = (int)v;
		s->user_min_free_kbytes = (int)v;
		setup_per_zone_wmarks(k);
		break;
	case KNOB_WATERMARK_SCALE_FACTOR:
		s->watermark_scale_factor = (int)v;
		setup_per_zone_wmarks(k);
		break;
	case KNOB_SWAPPINESS:
		s->swappiness = (int)v;
		break;
	}
	EV(&k->probe, LAYER_KERNEL, EV_NOTE, "proc_sys_call_handler", sysctl_vm_names[i],
	   {"value", (uint64_t)v});
	return 0;
}

int sysctl_vm_read(struct kernel *k, const char *name, int64_t *value)
{
	const struct vm_sysctl *s = &k->sysctl;

	switch (knob_lookup(name)) {
	case KNOB_OVERCOMMIT_MEMORY: *value = s->overcommit_memory; return 0;
	case KNOB_OVERCOMMIT_RATIO: *value = s->overcommit_ratio; return 0;
	case KNOB_OVERCOMMIT_KBYTES: *value = (int64_t)s->overcommit_kbytes; return 0;
	case KNOB_ADMIN_RESERVE_KBYTES: *value = (int64_t)s->admin_reserve_kbytes; return 0;
	case KNOB_USER_RESERVE_KBYTES: *value = (int64_t)s->user_reserve_kbytes; return 0;
	case KNOB_MIN_FREE_KBYTES: *value = s->min_free_kbytes; return 0;
	case KNOB_WATERMARK_SCALE_FACTOR: *value = s->watermark_scale_factor; return 0;
	case KNOB_SWAPPINESS: *value = s->swappiness; return 0;
	default: return -SIM_ENOENT;
	}
}
