/*
 * vmstat.h - the kernel's event counters (include/linux/vm_event_item.h),
 * the lines of /proc/vmstat that exist in this model, in the kernel's order.
 *
 * count_vm_event() is an inline increment: the fault path counts pgfault on
 * every fault. The names are the /proc/vmstat keys (mm/vmstat.c
 * vmstat_text); pgsteal_* and pgscan_* come in kswapd/direct pairs as there.
 */
#ifndef KERNEL_SIM_VMSTAT_H
#define KERNEL_SIM_VMSTAT_H

#include <stdint.h>

enum vm_event_item {
	PGPGIN,         /* KiB read from swap (the kernel counts all block I/O) */
	PGPGOUT,        /* KiB written to swap */
	PSWPIN,         /* pages read from swap */
	PSWPOUT,        /* pages written to swap */
	ALLOCSTALL_NORMAL, /* direct reclaim entered */
	PGACTIVATE,     /* folios moved to the active list */
	PGDEACTIVATE,   /* folios moved to the inactive list */
	PGFAULT,        /* page faults handled */
	PGMAJFAULT,     /* of them major (a read from swap) */
	PGREFILL,       /* folios scanned on the active list */
	PGSTEAL_KSWAPD, /* folios reclaimed by kswapd */
	PGSTEAL_DIRECT, /* folios reclaimed by direct reclaim */
	PGSCAN_KSWAPD,  /* inactive folios scanned by kswapd */
	PGSCAN_DIRECT,  /* inactive folios scanned by direct reclaim */
	PGSCAN_ANON,
	PGSTEAL_ANON,
	PGROTATED,      /* folios put back on the inactive list after a look */
	PGLAZYFREED,    /* MADV_FREE folios reclaim dropped without writing them */
	OOM_KILL,       /* processes the OOM killer killed */
	NR_VM_EVENT_ITEMS
};

/* The /proc/vmstat key of each item. */
extern const char *const vm_event_names[NR_VM_EVENT_ITEMS];

struct vm_event_state {
	uint64_t event[NR_VM_EVENT_ITEMS];
};

static inline void count_vm_events(struct vm_event_state *s, enum vm_event_item i, uint64_t n)
{
	s->event[i] += n;
}

#endif
