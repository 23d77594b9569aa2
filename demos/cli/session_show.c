/*
 * session_show.c - `show VIEW [PID]`: the /proc files of the simulated
 * kernel (kernel_sim/proc.h), dmesg, and the heap of the running policy
 * walked block by block (glibc's chunk flags P, M, A as malloc.c names
 * PREV_INUSE, IS_MMAPPED, NON_MAIN_ARENA).
 */
#include "session_internal.h"

#include <string.h>

#include "../../kernel_sim/oom.h"
#include "../../kernel_sim/proc.h"
#include "../../kernel_sim/smaps.h"
#include "../../libc/glibc_malloc.h"
#include "../../vm/panic.h"

/* ---- show ------------------------------------------------------------ */

struct heap_walk {
	FILE *out;
	bool glibc_flags;
	uint64_t n, used, used_bytes, free_bytes;
};

static void heap_line(void *ctx, const struct chunk_info *ci)
{
	struct heap_walk *w = ctx;
	const char *where = ci->top ? "top" : ci->mmapped ? "mmapped" : "";
	char flags[8] = "", user[24] = "-";

	if (w->glibc_flags) {
		/* PREV_INUSE, IS_MMAPPED, NON_MAIN_ARENA */
		snprintf(flags, sizeof(flags), "%c%c%c", ci->flags & 1 ? 'P' : '-',
		         ci->flags & 2 ? 'M' : '-', ci->flags & 4 ? 'A' : '-');
	} else {
		snprintf(flags, sizeof(flags), "%#llx", (unsigned long long)ci->flags);
	}
	/* The bin or list a free block sits in ("in use" is already the state). */
	if (ci->where && strcmp(ci->where, "in use") != 0)
		where = ci->where;
	if (ci->user)
		snprintf(user, sizeof(user), "%#llx", (unsigned long long)ci->user);
	fprintf(w->out, "%#14llx %#10llx %14s  %-5s %-6s %s\n", (unsigned long long)ci->chunk,
	        (unsigned long long)ci->size, user, flags, ci->in_use ? "in use" : "free", where);
	w->n++;
	if (ci->in_use) {
		w->used++;
		w->used_bytes += ci->size;
	} else {
		w->free_bytes += ci->size;
	}
}

static void show_heap(struct session *s, FILE *out)
{
	struct heap_walk w = {.out = out, .glibc_flags = strcmp(s->policy, "glibc") == 0};

	fprintf(out, "%14s %10s %14s  %-5s %-6s %s\n", "chunk", "size", "user", "flags", "state",
	        "where");
	if (s->lc->ops->walk)
		s->lc->ops->walk(s->lc, heap_line, &w);
	fprintf(out, "%llu blocks: %llu in use (%llu bytes), %llu free (%llu bytes); policy %s\n",
	        (unsigned long long)w.n, (unsigned long long)w.used,
	        (unsigned long long)w.used_bytes, (unsigned long long)(w.n - w.used),
	        (unsigned long long)w.free_bytes, s->policy);
}

/* The task a view shows: t (show VIEW PID, or the current task). */
void session_show(struct session *s, const struct stmt *st, struct task *t, int64_t addr, FILE *out)
{
	switch (st->kw) {
	case VIEW_MAPS:
		proc_maps(&s->k, t, out);
		break;
	case VIEW_BUDDYINFO:
		proc_buddyinfo(&s->k, out);
		break;
	case VIEW_MEMINFO:
		proc_meminfo(&s->k, out);
		break;
	case VIEW_STATUS:
		proc_status(&s->k, t, out);
		break;
	case VIEW_HEAP:
		show_heap(s, out);
		break;
	case VIEW_PAGETABLE:
		proc_pagetable(&s->k, t, (vaddr_t)addr, out);
		break;
	case VIEW_TLB:
		proc_tlb(&s->k, out);
		break;
	case VIEW_ZONEINFO:
		proc_zoneinfo(&s->k, out);
		break;
	case VIEW_VMSTAT:
		proc_vmstat(&s->k, out);
		break;
	case VIEW_SWAPS:
		proc_swaps(&s->k, out);
		break;
	case VIEW_OOM_SCORE:
		proc_oom_score(&s->k, t, out);
		break;
	case VIEW_DMESG:
		proc_dmesg(&s->k, out);
		break;
	case VIEW_ARENAS:
		if (s->lc->ops == &malloc_ops_glibc)
			glibc_arenas_dump(s->lc, out);
		else
			fprintf(out, "the %s policy has no arenas (they are glibc's)\n", s->policy);
		break;
	case VIEW_SMAPS_ROLLUP:
		proc_smaps_rollup(&s->k, t, out);
		break;
	case VIEW_PS:
		proc_ps(&s->k, s->task, out);
		break;
	default:
		panic("view %d", st->kw);
	}
}
