/*
 * view_model.c - read the paused simulation into the viewer's snapshot (see
 * view_model.h). Everything is read through read-only accessors: the mm's
 * VMAs, pagewalk() (vm/pagetable.h, no A/D update, no event), the frame
 * descriptors and buddy free_area, the TLB's entries, the policy's walker.
 *
 * Cost: one pass over the frame descriptors that skips free buddy blocks by
 * their order, so a 1 GiB machine (262144 frames) that is mostly free costs
 * a few hundred reads, not a quarter million.
 */
#include "view_model.h"

#include <stdlib.h>
#include <string.h>

#include "../../kernel_sim/rmap.h"
#include "../../kernel_sim/task.h"
#include "../../libc/glibc_malloc.h"
#include "../../libc/pthread.h"
#include "../../vm/panic.h"
#include "../step/narrate.h"

void view_model_init(struct view_model *m)
{
	memset(m, 0, sizeof(*m));
	m->taken_pfn = PFN_NONE;
	m->fill_vpn = TLB_VPN_NONE;
	m->want_arena = -1;
}

void view_model_free(struct view_model *m)
{
	free(m->fcode);
	m->fcode = NULL;
	m->fcode_cap = 0;
	free(m->tlb);
	m->tlb = NULL;
	m->tlb_cap = 0;
}

/* ---- heap chunks ----------------------------------------------------- */

static void chunk_cb(void *ctx, const struct chunk_info *ci)
{
	struct view_model *m = ctx;
	struct vm_chunk *c;

	/* With arenas, the selected one's chunks (mmapped ones say arena 0:
	   they belong to no arena, and are listed with the main one). */
	if (m->nr_arenas && ci->arena != m->arenas[m->sel_arena].nr)
		return;
	m->nr_chunks_total++;
	if (m->nr_chunks == VM_MAX_CHUNKS)
		return;
	c = &m->chunks[m->nr_chunks++];
	*c = (struct vm_chunk){.chunk = ci->chunk,
	                       .user = ci->user,
	                       .size = ci->size,
	                       .flags = ci->flags,
	                       .in_use = ci->in_use,
	                       .top = ci->top,
	                       .mmapped = ci->mmapped,
	                       .arena = ci->arena};
	snprintf(c->where, sizeof(c->where), "%s", ci->where ? ci->where : "");
}

/* ---- frames ---------------------------------------------------------- */

static void read_frames(struct view_model *m, struct kernel *k)
{
	struct phys *ph = &k->phys;
	uint64_t n = ph->nr_frames;
	uint8_t odd = 0;

	if (m->fcode_cap < n) {
		uint8_t *p = realloc(m->fcode, n);

		if (!p)
			host_oom("the view's fault codes");
		m->fcode = p;
		m->fcode_cap = n;
	}
	m->nr_frames = n;
	m->nr_shared = 0;
	for (pfn_t pfn = 0; pfn < n;) {
		const struct frame *f = phys_frame(ph, pfn);

		if (f->kind == FK_FREE && (f->flags & FRAME_BUDDY) && f->order <= MAX_PAGE_ORDER) {
			uint64_t len = 1ULL << f->order;

			if (pfn + len > n)
				len = n - pfn;
			memset(m->fcode + pfn, (FC_FREE0 + f->order) | odd, len);
			odd ^= FC_ODD;
			pfn += len;
			continue;
		}
		/* A free frame outside a listed block is a block being split or
		   merged right now: show it as order 0. */
		m->fcode[pfn] = f->kind == FK_FREE ? FC_FREE0 : f->kind;
		if (f->kind == FK_ANON && folio_mapcount(k, pfn) >= 2) {
			m->fcode[pfn] = FC_SHARED;
			m->nr_shared++;
		}
		pfn++;
	}
	m->nr_orders = NR_PAGE_ORDERS;
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
		m->nr_free[o] = k->buddy.free_area[o].nr_free;
	m->free_pages = k->buddy.free_pages;
	m->managed = k->buddy.managed;
}

/* ---- processes -------------------------------------------------------- */

/* The process pid while it has an address space, else NULL. */
static struct task *process_with_mm(struct stepper *st, int pid)
{
	struct task *t = pid > 0 ? find_task_by_pid(&st->s->k, pid) : NULL;

	if (t && t->group_leader)
		t = t->group_leader;
	return t && t->mm ? t : NULL;
}

/* The address space the views show for pid (0: the stepper's). */
static struct task *space_task(struct stepper *st, int pid)
{
	struct task *t = process_with_mm(st, pid);

	return t ? t : stepper_view_task(st);
}

static void read_tasks(struct view_model *m, struct stepper *st)
{
	const struct kernel *k = &st->s->k;

	m->nr_tasks = m->nr_tasks_total = 0;
	for (const struct task *t = task_list_first(k); t; t = task_list_next(t)) {
		struct vm_task *v;
		size_t i;

		m->nr_tasks_total++;
		if (m->nr_tasks == VM_MAX_TASKS)
			continue;
		/* insert by pid */
		for (i = m->nr_tasks; i > 0 && m->tasks[i - 1].pid > t->pid; i--)
			m->tasks[i] = m->tasks[i - 1];
		v = &m->tasks[i];
		*v = (struct vm_task){.pid = t->pid,
		                      .tgid = t->tgid,
		                      .ppid = t->real_parent ? t->real_parent->tgid : 0,
		                      .state = task_state(t, k->current)[0],
		                      .current = t == k->current,
		                      .has_mm = t->mm != NULL,
		                      .rss = t->mm ? t->mm->rss_stat[MM_ANONPAGES] : 0};
		m->nr_tasks++;
	}
	m->cur_pid = stepper_current(st) ? stepper_current(st)->pid : 0;
	stepper_task_label(st, m->task_label, sizeof(m->task_label));
}

/* The process beside sel: its parent, else its lowest-pid child, each
   while it has an address space. */
static struct task *other_process(struct task *sel)
{
	struct task *o = NULL;

	if (!sel)
		return NULL;
	if (sel->real_parent && sel->real_parent->mm)
		return sel->real_parent;
	for (struct task *c = sel->children; c; c = c->sibling)
		if (c->mm && (!o || c->pid < o->pid))
			o = c;
	return o;
}

static void read_other(struct view_model *m, struct task *o)
{
	struct vm_space *sp = &m->other;

	sp->pid = 0;
	sp->nr_vmas = 0;
	if (!o)
		return;
	sp->pid = o->tgid;
	for (size_t i = 0; i < o->mm->nr_vmas && i < VM_MAX_VMAS; i++)
		sp->vmas[sp->nr_vmas++] = o->mm->vmas[i];
	sp->start_brk = o->mm->start_brk;
	sp->brk = o->mm->brk;
	sp->rss = o->mm->rss_stat[MM_ANONPAGES];
}

int view_model_next_process(const struct view_model *m, int pid)
{
	int first = 0;

	for (size_t i = 0; i < m->nr_tasks; i++) {
		const struct vm_task *v = &m->tasks[i];

		if (!v->has_mm || v->pid != v->tgid)
			continue;
		if (!first)
			first = v->pid;
		if (v->pid > pid)
			return v->pid;
	}
	return first ? first : pid;
}

/* Watermarks, LRU lists, the swap area and the pressure counters. */
static void read_pressure(struct view_model *m, struct stepper *st)
{
	struct kernel *k = &st->s->k;
	const uint64_t *ev = k->vmstat.event;

	m->wmark[0] = k->buddy.watermark[WMARK_MIN];
	m->wmark[1] = k->buddy.watermark[WMARK_LOW];
	m->wmark[2] = k->buddy.watermark[WMARK_HIGH];
	m->lru_inactive = k->lruvec.nr[LRU_INACTIVE_ANON];
	m->lru_active = k->lruvec.nr[LRU_ACTIVE_ANON];
	m->swap_total = swap_total_pages(k);
	m->swap_used = m->swap_total - swap_free_pages(k);
	m->swap_ents = stepper_view_task(st) ? stepper_view_task(st)->mm->rss_stat[MM_SWAPENTS] : 0;
	m->pswpin = ev[PSWPIN];
	m->pswpout = ev[PSWPOUT];
	m->majflt = ev[PGMAJFAULT];
	m->kswapd_runs = k->kswapd.runs;
	m->oom_kills = ev[OOM_KILL];
	m->reclaimed = ev[PGSTEAL_KSWAPD] + ev[PGSTEAL_DIRECT];
	m->pressure = k->swap || m->kswapd_runs || m->reclaimed || m->oom_kills ||
	              m->free_pages <= m->wmark[2];
	m->moved = false;
	for (size_t i = 0; i < st->log_len && i < 65536; i++) {
		const struct event *e = stepper_log(st, i);

		if (e->kind != EV_NOTE || !e->fn)
			continue;
		if (!strcmp(e->fn, "swap_writepage") || !strcmp(e->fn, "swap_read_folio")) {
			m->moved = true;
			m->moved_out = e->fn[5] == 'w';
			m->moved_pfn = event_field(e, "pfn", 0);
			m->moved_slot = event_field(e, "offset", 0);
			m->moved_seq = e->seq;
			break;
		}
	}
}

/* ---- arenas ------------------------------------------------------------ */

/* The libc of process tgid (a thread shares its process's), or NULL. */
static struct libc *process_libc(struct session *s, int tgid)
{
	for (size_t i = 0; i < s->nr_tasks; i++)
		if (s->tasks[i].task && s->tasks[i].task->tgid == tgid)
			return s->tasks[i].lc;
	return NULL;
}

/* The VMAs from h on: read-write ones, then PROT_NONE ones, as the
   kernel maps the heap (they are compared with heap_info's sizes). */
static void heap_vmas(struct vm_heap *hp, const struct mm_struct *mm)
{
	const unsigned long rights = VM_READ | VM_WRITE | VM_EXEC;

	hp->rw_end = hp->none_end = hp->start;
	for (size_t i = 0; i < mm->nr_vmas; i++) {
		const struct vm_area_struct *v = &mm->vmas[i];

		if (v->vm_start == hp->rw_end && hp->rw_end == hp->none_end &&
		    (v->vm_flags & VM_WRITE))
			hp->rw_end = hp->none_end = v->vm_end;
		else if (v->vm_start == hp->none_end && !(v->vm_flags & rights) &&
		         v->vm_end <= hp->start + hp->reserved)
			hp->none_end = v->vm_end;
	}
}

/*
 * The arenas of the selected process t (libc lc, its memory lent to the
 * side door), the thread followed and
 * the arena shown. The thread followed is the task statements run in when
 * it is one of t's threads (a statement that runs no code, `expect` after
 * `end`, leaves the CPU on the thread before), else the running task when
 * it is, else lc's current thread.
 */
static void read_arenas(struct view_model *m, struct stepper *st, struct task *t,
                        struct libc *lc)
{
	struct glibc_arena_view av[VM_MAX_ARENAS];
	const struct task *cur = stepper_current(st);
	const struct libc_thread *th = NULL;
	unsigned n;

	n = glibc_arenas_view(lc, av, VM_MAX_ARENAS);
	m->nr_arenas_total = n;
	m->nr_arenas = n < VM_MAX_ARENAS ? n : VM_MAX_ARENAS;
	if (st->s->task && st->s->task->tgid == t->tgid)
		th = libc_thread_find(lc, st->s->task->pid);
	if (!th && cur && cur->tgid == t->tgid)
		th = libc_thread_find(lc, cur->pid);
	if (!th)
		th = lc->self;
	m->arena_tid = th ? th->tid : 0;
	for (unsigned i = 0; i < m->nr_arenas; i++) {
		struct vm_arena *a = &m->arenas[i];

		*a = (struct vm_arena){.nr = av[i].nr,
		                       .av = av[i].av,
		                       .top = av[i].top,
		                       .top_size = av[i].top_size,
		                       .system_mem = av[i].system_mem,
		                       .attached = av[i].attached_threads,
		                       .on_free_list = av[i].on_free_list,
		                       .nr_heaps_total = av[i].nr_heaps};
		for (unsigned h = 0; h < av[i].nr_heaps && h < GLIBC_VIEW_HEAPS &&
		                     a->nr_heaps < VM_MAX_HEAPS;
		     h++) {
			struct vm_heap *hp = &a->heaps[a->nr_heaps++];

			*hp = (struct vm_heap){.start = av[i].heaps[h].heap,
			                       .size = av[i].heaps[h].size,
			                       .mprotect_size = av[i].heaps[h].mprotect_size,
			                       .reserved = GM_HEAP_MAX_SIZE};
			hp->has_top = a->top >= hp->start && a->top < hp->start + hp->reserved;
			heap_vmas(hp, t->mm);
			hp->resident = view_model_resident(st, t->tgid, hp->start, hp->rw_end,
			                                   1u << 16);
		}
	}
	/* which thread uses which arena, oldest thread first */
	for (const struct libc_thread *x = lc->threads; x; x = x->next) {
		int nr = glibc_thread_arena(lc, x);

		if (x == th)
			m->cur_arena = nr;
		for (unsigned i = 0; nr >= 0 && i < m->nr_arenas; i++) {
			struct vm_arena *a = &m->arenas[i];

			if (a->nr != (unsigned)nr || a->nr_tids == VM_MAX_ATTACHED)
				continue;
			memmove(a->tids + 1, a->tids, a->nr_tids * sizeof(a->tids[0]));
			a->tids[0] = x->tid;
			a->nr_tids++;
		}
	}
	if (m->want_arena >= 0 && (unsigned)m->want_arena < m->nr_arenas)
		m->sel_arena = (unsigned)m->want_arena;
	else if (m->cur_arena >= 0 && (unsigned)m->cur_arena < m->nr_arenas)
		m->sel_arena = (unsigned)m->cur_arena;
}

struct heap_read {
	struct view_model *m;
	struct stepper *st;
	struct task *t;
};

/* The arenas and the chunks of lc's process (through libc_peek_in: its
   memory, whichever process the CPU runs). */
static void read_heap(struct libc *lc, void *ctx)
{
	struct heap_read *hr = ctx;

	read_arenas(hr->m, hr->st, hr->t, lc);
	if (lc->ops && lc->ops->walk)
		lc->ops->walk(lc, chunk_cb, hr->m);
}

unsigned view_model_next_arena(const struct view_model *m, unsigned i)
{
	return m->nr_arenas ? (i + 1) % m->nr_arenas : 0;
}

/* ---- the task of a statement -------------------------------------------- */

/* The label of task id in the session's table ("" for the program). */
static void task_label(struct session *s, int64_t id, char *buf, size_t n)
{
	int main_pid = s->main_task ? s->main_task->pid : 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->nr_tasks; i++)
		if (s->tasks[i].id == id) {
			const struct task *t = s->tasks[i].task;

			/* once freed (joined, reaped): a forked child has a libc of
			   its own, a thread shares its process's */
			narrate_task((int)id, t ? t->tgid : s->tasks[i].owned_lc ? (int)id : 0,
			             main_pid, buf, n);
			return;
		}
}

const char *view_model_log_task(const struct stepper *st, size_t i, char *buf, size_t n)
{
	int pid, tid;

	buf[0] = '\0';
	if (stepper_log_task(st, i, &pid, &tid))
		narrate_task(tid, pid, st->s->main_task ? st->s->main_task->pid : 0, buf, n);
	return buf;
}

/* ---- what the statement did so far ------------------------------------ */

static bool user_addr(uint64_t a)
{
	return a && a < USER_VA_END;
}

/* The address the path is working on: the latest event that names one. */
static void find_addr(struct view_model *m, struct stepper *st)
{
	m->have_addr = false;
	for (size_t i = 0; i < st->log_len && i < 4096; i++) {
		const struct event *ev = stepper_log(st, i);
		uint64_t a = event_field(ev, "addr", 0);
		const char *why = NULL;

		switch (ev->kind) {
		case EV_FAULT:
			why = "the fault address (CR2)";
			break;
		case EV_TLB_MISS:
			why = "the address that missed the TLB";
			break;
		case EV_PTE_SET:
		case EV_PTE_CLEAR:
		case EV_AD_SET:
			why = "the address whose entry was written";
			break;
		case EV_TLB_FILL:
			a = event_field(ev, "vpn", 0) << PAGE_SHIFT;
			why = "the page the TLB just cached";
			break;
		case EV_CALL:
			snprintf(m->why, sizeof(m->why), "the address %s works on", ev->fn);
			why = m->why;
			break;
		default:
			break;
		}
		if (why && user_addr(a)) {
			m->addr = a;
			m->addr_why = why;
			m->have_addr = true;
			return;
		}
	}
}

static void scan_statement(struct view_model *m, struct stepper *st)
{
	bool first = true;

	m->taken_pfn = PFN_NONE;
	m->bop = VB_NONE;
	m->bop_now = false;
	m->order_touched = 0;
	m->fill_vpn = TLB_VPN_NONE;
	m->heap_touched = 0;
	m->stmt_faults = 0;
	if (!st->nr_starts)
		return; /* still booting: no statement yet */
	for (size_t i = 0; i < st->log_len; i++) {
		const struct event *ev = stepper_log(st, i);
		unsigned order = (unsigned)event_field(ev, "order", 0);

		if (ev->seq < m->stmt_first_seq)
			break;
		switch (ev->kind) {
		case EV_FAULT:
			m->stmt_faults++;
			break;
		case EV_FRAME_ALLOC:
			if (m->taken_pfn == PFN_NONE) {
				m->taken_pfn = event_field(ev, "pfn", PFN_NONE);
				m->taken_order = order;
			}
			m->order_touched |= 1u << order;
			goto bop;
		case EV_FRAME_FREE:
		case EV_BUDDY_SPLIT:
			m->order_touched |= 1u << order;
			goto bop;
		case EV_BUDDY_MERGE:
			m->order_touched |= 3u << order;
		bop:
			if (m->bop == VB_NONE) {
				m->bop = ev->kind == EV_BUDDY_SPLIT   ? VB_SPLIT
				         : ev->kind == EV_BUDDY_MERGE ? VB_MERGE
				         : ev->kind == EV_FRAME_FREE  ? VB_FREE
				                                      : VB_ALLOC;
				m->bop_pfn = event_field(ev, "pfn", 0);
				m->bop_order = order;
				m->bop_now = first;
			}
			break;
		case EV_TLB_FILL:
			if (m->fill_vpn == TLB_VPN_NONE)
				m->fill_vpn = event_field(ev, "vpn", TLB_VPN_NONE);
			break;
		case EV_HEAP:
			if (!m->heap_touched)
				m->heap_touched = event_field(ev, "chunk", 0);
			break;
		default:
			break;
		}
		first = false;
	}
}

/* Which level of the walk the current event reads or fills. */
static int active_level(const struct view_model *m)
{
	static const struct {
		const char *fn;
		int level;
	} fill[] = {
	    {"p4d_alloc", 4}, {"pud_alloc", 3},         {"pmd_alloc", 2},
	    {"pte_alloc", 1}, {"do_anonymous_page", 1}, {"do_wp_page", 1},
	};
	const struct event *ev = &m->cur;

	switch (ev->kind) {
	case EV_FAULT:
		/* The level where the walk found no present entry. */
		if (!m->walk.present && m->walk.depth > 0)
			return 5 - m->walk.depth;
		return -1;
	case EV_WALK:
		return (int)event_field(ev, "level", 1);
	case EV_PTE_SET:
	case EV_PTE_CLEAR:
	case EV_AD_SET:
		return (int)event_field(ev, "level", 1);
	case EV_TLB_FILL:
		return 0;
	default:
		break;
	}
	if (ev->kind == EV_CALL || ev->kind == EV_RET)
		for (size_t j = 0; j < sizeof(fill) / sizeof(fill[0]); j++)
			if (ev->fn && strcmp(ev->fn, fill[j].fn) == 0)
				return fill[j].level;
	for (unsigned i = m->depth; i-- > 0;)
		for (size_t j = 0; j < sizeof(fill) / sizeof(fill[0]); j++)
			if (m->path[i] && strcmp(m->path[i], fill[j].fn) == 0)
				return fill[j].level;
	return -1;
}

/* Every TLB entry (the buffer grows to the TLB's size), the valid ones
   counted and the one the statement filled found. */
static void read_tlb(struct view_model *m, const struct tlb *t)
{
	size_t n = (size_t)t->nsets * t->ways;

	if (n > m->tlb_cap) {
		struct tlb_entry *e = realloc(m->tlb, n * sizeof(*e));

		if (!e)
			host_oom("the view's TLB entries");
		m->tlb = e;
		m->tlb_cap = n;
	}
	m->tlb_sets = t->nsets;
	m->tlb_ways = t->ways;
	m->tlb_tag = t->tag;
	memcpy(m->tlb, t->e, n * sizeof(*m->tlb));
	m->tlb_valid = 0;
	m->tlb_filled = -1;
	for (size_t i = 0; i < n; i++) {
		const struct tlb_entry *e = &m->tlb[i];

		if (e->vpn == TLB_VPN_NONE)
			continue;
		m->tlb_valid++;
		if (m->tlb_filled < 0 && tlb_key_vpn(e->vpn) == m->fill_vpn &&
		    (e->vpn & ~TLB_VPN_MASK) == m->tlb_tag)
			m->tlb_filled = (long)i;
	}
}

void view_model_update(struct view_model *m, struct stepper *st)
{
	struct session *s = st->s;
	struct kernel *k = &s->k;
	struct task *t;

	read_tasks(m, st);
	t = process_with_mm(st, m->want_pid);
	if (!t)
		t = stepper_view_task(st);
	m->sel_pid = t ? t->tgid : 0;
	read_other(m, other_process(t));
	m->valid = st->have_cur;
	m->cur = st->cur;
	m->seq = st->cur.seq;
	m->finished = st->finished;
	m->dead = s->dead;
	m->death[0] = '\0';
	if (s->dead && s->task)
		snprintf(m->death, sizeof(m->death), "%.150s", s->task->death.report);
	m->policy = s->policy;

	/* Path */
	m->nr_stmts = st->sc->nr_stmts;
	m->stmt_idx = st->cur_stmt;
	m->stmt_text = NULL;
	m->stmt_line = 0;
	m->stmt_loops[0] = 0;
	if (st->cur_stmt < st->sc->nr_stmts) {
		m->stmt_text = st->sc->stmts[st->cur_stmt].text;
		m->stmt_line = st->sc->stmts[st->cur_stmt].line;
		session_loop_context(st->s, m->stmt_loops, sizeof(m->stmt_loops));
	}
	m->depth = stepper_call_path(st, m->path, VM_MAX_PATH);
	for (unsigned i = 0; i < m->depth; i++)
		m->path_layer[i] = k->probe.stack_layer[i];
	m->stmt_first_seq = st->nr_starts ? st->starts[st->nr_starts - 1] : 0;

	/* Address space */
	m->nr_vmas = 0;
	if (t && t->mm) { /* (a task that exited has none) */
		struct mm_struct *mm = t->mm;

		for (size_t i = 0; i < mm->nr_vmas && i < VM_MAX_VMAS; i++)
			m->vmas[m->nr_vmas++] = mm->vmas[i];
		m->start_brk = mm->start_brk;
		m->brk = mm->brk;
		m->start_stack = mm->start_stack;
		m->mmap_base = mm->mmap_base;
		m->rss = mm->rss_stat[MM_ANONPAGES];
		m->pt_pages = mm->pgtables_bytes / PAGE_SIZE;
	}

	/* Heap: the selected process's, of the selected arena */
	m->nr_chunks = m->nr_chunks_total = 0;
	m->nr_arenas = m->nr_arenas_total = 0;
	m->sel_arena = 0;
	m->arena_tid = 0;
	m->cur_arena = -1;
	if (t && t->mm && t->mm->pgd != PFN_NONE) {
		struct heap_read hr = {m, st, t};
		struct libc *lc = process_libc(s, t->tgid);

		libc_peek_in(lc ? lc : s->lc, t->mm->pgd, read_heap, &hr);
	}
	m->stmt_tid = s->task ? s->task->pid : 0;
	task_label(s, s->task_id, m->stmt_task, sizeof(m->stmt_task));

	/* Page walk */
	find_addr(m, st);
	if (!m->have_addr) {
		m->addr = m->start_brk;
		m->addr_why = "start_brk (no address yet)";
		m->have_addr = t != NULL;
	}
	memset(&m->walk, 0, sizeof(m->walk));
	m->leaf = 0;
	if (t && t->mm && t->mm->pgd != PFN_NONE)
		m->leaf = pagewalk(&k->phys, t->mm->pgd, m->addr, &m->walk);
	m->active_level = active_level(m);

	/* Frames, the statement's changes, TLB, counters */
	read_frames(m, k);
	read_pressure(m, st);
	scan_statement(m, st);
	read_tlb(m, &k->cpu.tlb);
	/* counted from the first statement on (session_base) */
	m->faults = k->probe.c.page_faults - st->s->base.faults;
	m->loads = cpu_loads(&k->cpu) - st->s->base.loads;
	m->stores = cpu_stores(&k->cpu) - st->s->base.stores;
	m->walks = k->probe.c.walks - st->s->base.walks;
	m->tlb_hits = cpu_tlb_hits(&k->cpu) - st->s->base.tlb_hits;
	m->tlb_misses = k->cpu.tlb.misses - st->s->base.tlb_misses;
	m->brk_calls = s->lc->st.brk_calls;
	m->mmap_calls = s->lc->st.mmap_calls;
}

void view_model_tlb_window(const struct view_model *m, unsigned room, struct vm_tlb_window *w)
{
	unsigned rank = 0, filled = m->tlb_valid, last = 0;

	*w = (struct vm_tlb_window){0};
	if (!room)
		return;
	if (m->tlb_filled >= 0)
		for (long i = 0; i < m->tlb_filled; i++)
			rank += m->tlb[i].vpn != TLB_VPN_NONE;
	if (m->tlb_filled >= 0)
		filled = rank;
	w->n = m->tlb_valid < room ? m->tlb_valid : room;
	if (m->tlb_valid > room && filled < m->tlb_valid) {
		/* the filled one near the middle, the window inside the list */
		w->first = filled > room / 2 ? filled - room / 2 : 0;
		if (w->first > m->tlb_valid - room)
			w->first = m->tlb_valid - room;
	}
	if (!w->n)
		return;
	rank = 0;
	for (size_t i = 0; i < (size_t)m->tlb_sets * m->tlb_ways; i++) {
		if (m->tlb[i].vpn == TLB_VPN_NONE)
			continue;
		if (rank == w->first)
			w->set_lo = (unsigned)(i / m->tlb_ways);
		if (rank >= w->first && rank < w->first + w->n)
			last = (unsigned)(i / m->tlb_ways);
		rank++;
	}
	w->set_hi = last;
}

uint64_t view_model_resident(struct stepper *st, int pid, vaddr_t start, vaddr_t end, uint64_t max)
{
	struct task *t = space_task(st, pid);
	uint64_t n = 0, seen = 0;

	if (!t || !t->mm || t->mm->pgd == PFN_NONE)
		return 0;
	for (vaddr_t va = start; va < end && seen < max; va += PAGE_SIZE, seen++)
		if (pagewalk(&st->s->k.phys, t->mm->pgd, va, NULL))
			n++;
	return n;
}

vaddr_t view_model_rmap(struct stepper *st, int pid, pfn_t pfn)
{
	struct task *t = space_task(st, pid);
	uint64_t budget = 1u << 18;

	if (!t || !t->mm || t->mm->pgd == PFN_NONE)
		return 0;
	for (size_t i = 0; i < t->mm->nr_vmas; i++) {
		const struct vm_area_struct *v = &t->mm->vmas[i];

		for (vaddr_t va = v->vm_start; va < v->vm_end && budget;
		     va += PAGE_SIZE, budget--) {
			pte_t e = pagewalk(&st->s->k.phys, t->mm->pgd, va, NULL);

			if (e && pte_pfn(e) == pfn)
				return va;
		}
	}
	return 0;
}
