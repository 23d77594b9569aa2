/*
 * view_details.c - what a click in the viewer shows (see view_session.h):
 * a popup of a VMA, a heap chunk, a page-table entry, a frame (or a grid
 * cell of several: their kinds counted) with every process's address of
 * it, a buddy order's free list; a click on a process or an arena selects
 * it, one on an event goes there.
 */
#include <inttypes.h>
#include <stdarg.h>

#include "view_listing.h"
#include "view_session.h"

static void pop_add(struct view_app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pop_add(struct view_app *a, const char *fmt, ...)
{
	va_list ap;

	if (a->npop == 12)
		return;
	va_start(ap, fmt);
	vsnprintf(a->pop[a->npop], sizeof(a->pop[0]), fmt, ap);
	va_end(ap);
	a->popv[a->npop] = a->pop[a->npop];
	a->npop++;
}

static void details_frame(struct view_app *a, int s, pfn_t pfn)
{
	struct view_side *sd = &a->side[s];
	struct phys *ph = &sd->st->s->k.phys;
	uint64_t fpc = a->g.grid[s].fpc;

	if (fpc > 1) {
		uint64_t cnt[FK__COUNT] = {0}, end = pfn + fpc;

		if (end > ph->nr_frames)
			end = ph->nr_frames;
		for (pfn_t p = pfn; p < end; p++)
			cnt[FC_CODE(sd->m.fcode[p]) >= FC_FREE0 ? FK_FREE
			                                        : FC_CODE(sd->m.fcode[p])]++;
		pop_add(a, "frames %#" PRIx64 "-%#" PRIx64 " (one cell)", pfn, end - 1);
		for (int k = 0; k < FK__COUNT; k++)
			if (cnt[k])
				pop_add(a, "%-10s %" PRIu64, frame_kind_name(k), cnt[k]);
		return;
	}
	const struct frame *f = phys_frame(ph, pfn);
	uint8_t code = sd->m.fcode[pfn];

	pop_add(a, "frame %#" PRIx64 " (paddr %#" PRIx64 ")", pfn, pfn_to_paddr(pfn));
	pop_add(a, "kind      %s", frame_kind_name(f->kind));
	pop_add(a, "refcount  %d", frame_refcount(f));
	if (fc_is_free(code))
		pop_add(a, "free, in a block of order %u (%u frames)", FC_CODE(code) - FC_FREE0,
		        1u << (FC_CODE(code) - FC_FREE0));
	if (f->flags & FRAME_BUDDY)
		pop_add(a, "head of a free buddy block, order %u", f->order);
	if (f->flags & FRAME_HEAD)
		pop_add(a, "head of an allocated block, order %u", f->order);
	if (f->kind == FK_ANON) {
		/* every process's address of it (2+ when fork left it shared) */
		for (size_t i = 0; i < sd->m.nr_tasks; i++) {
			const struct vm_task *t = &sd->m.tasks[i];
			vaddr_t va;

			if (!t->has_mm || t->pid != t->tgid)
				continue;
			va = view_model_rmap(sd->st, t->pid, pfn);
			if (va)
				pop_add(a, "mapped at %#" PRIx64 " by pid %d", va, t->pid);
		}
		if (code == FC_SHARED)
			pop_add(a, "shared since fork: the next write copies it");
	}
	if (pfn == sd->m.taken_pfn)
		pop_add(a, "taken by this statement");
}

/* A click on the script panel goes forward at most this many statements
   looking for the line's next execution (a bound on the wait). */
#define VIEW_RUN_TO_MAX 100000

static bool at_line(const struct stepper *st, int line)
{
	return st->have_cur && st->cur.kind == EV_STMT && st->cur_stmt < st->sc->nr_stmts &&
	       st->sc->stmts[st->cur_stmt].line == line;
}

/*
 * A click on line `line` of side s's script panel: the start of that
 * statement's next execution (run forward to it, as a debugger's "run to
 * cursor"), else, when it does not run again, of its latest one (found by
 * running from the start: the simulation is deterministic).
 */
static void goto_line(struct view_app *a, int s, int line)
{
	struct stepper *st = a->side[s].st;
	const struct script *sc = st->sc;
	size_t k = script_stmt_at(sc, line);
	uint64_t from = st->have_cur ? st->cur.seq : 0, last = UINT64_MAX;

	if (k == sc->nr_stmts || sc->stmts[k].line != line) {
		view_msg(a, true, "line %d holds no statement", line);
		return;
	}
	for (long n = 0; n < VIEW_RUN_TO_MAX && !st->finished; n++) {
		if (!stepper_do(st, STEP_STMT, 0))
			break;
		if (at_line(st, line)) {
			view_changed(a);
			view_msg(a, false, "line %d: its next execution, event #%" PRIu64, line,
			         st->cur.seq);
			return;
		}
	}
	/* Not again: the latest execution at or before where we were. */
	stepper_do(st, STEP_GOTO, 0);
	if (at_line(st, line) && st->cur.seq <= from)
		last = st->cur.seq;
	while (!st->finished && stepper_do(st, STEP_STMT, 0) && st->cur.seq <= from)
		if (at_line(st, line))
			last = st->cur.seq;
	stepper_do(st, STEP_GOTO, last != UINT64_MAX ? last : from);
	view_changed(a);
	if (last != UINT64_MAX)
		view_msg(a, false, "line %d: it runs no more; its last execution, event #%" PRIu64,
		         line, last);
	else
		view_msg(a, true, "line %d did not run before event #%" PRIu64 " nor after it",
		         line, from);
}

void view_details(struct view_app *a, const struct view_hit *h, int x, int y)
{
	struct view_side *sd = &a->side[h->side];
	struct view_model *m = &sd->m;
	char fl[64];

	a->npop = 0;
	a->popx = x;
	a->popy = y;
	switch (h->kind) {
	case HIT_VMA: {
		/* b: 0 the selected process's VMA, 1 the one beside it */
		const struct vm_area_struct *v = h->b ? &m->other.vmas[h->a] : &m->vmas[h->a];
		int pid = h->b ? m->other.pid : m->sel_pid;
		static const char *const kn[] = {"text", "data",           "rodata",
		                                 "heap", "anonymous mmap", "stack"};
		uint64_t pages = (v->vm_end - v->vm_start) >> PAGE_SHIFT;
		uint64_t res = view_model_resident(sd->st, pid, v->vm_start, v->vm_end, 1u << 16);

		pop_add(a, "VMA of pid %d: %s", pid,
		        v->kind >= 0 && v->kind <= VMA_STACK ? kn[v->kind] : "?");
		pop_add(a, "vm_start %#" PRIx64, v->vm_start);
		pop_add(a, "vm_end   %#" PRIx64, v->vm_end);
		pop_add(a, "%" PRIu64 " pages, %" PRIu64 "%s resident (have a frame)", pages, res,
		        pages > (1u << 16) ? "+" : "");
		pop_add(
		    a, "vm_flags %#lx: %s%s%s%s", v->vm_flags, v->vm_flags & VM_READ ? "read " : "",
		    v->vm_flags & VM_WRITE ? "write " : "", v->vm_flags & VM_EXEC ? "exec " : "",
		    v->vm_flags & VM_GROWSDOWN ? "growsdown" : "");
		if (v->kind == VMA_HEAP && h->b)
			pop_add(a, "start_brk %#" PRIx64 "  brk %#" PRIx64, m->other.start_brk,
			        m->other.brk);
		else if (v->kind == VMA_HEAP)
			pop_add(a, "start_brk %#" PRIx64 "  brk %#" PRIx64, m->start_brk, m->brk);
		break;
	}
	case HIT_TASK:
		view_select_process(a, h->side, (int)h->a);
		return;
	case HIT_ARENA:
		view_select_arena(a, h->side, (int)h->a);
		return;
	case HIT_CHUNK: {
		const struct vm_chunk *c = &m->chunks[h->a];

		pop_add(a, "chunk %#" PRIx64, c->chunk);
		pop_add(a, "size %" PRIu64 " bytes (header %" PRIu64 ")", c->size,
		        c->user > c->chunk ? c->user - c->chunk : 0);
		if (c->user)
			pop_add(a, "user pointer %#" PRIx64, c->user);
		pop_add(a, "%s%s",
		        c->top      ? "the top chunk"
		        : c->in_use ? "in use"
		                    : "free",
		        c->mmapped ? ", mmapped" : "");
		if (c->where[0])
			pop_add(a, "where: %s", c->where);
		pop_add(a, "flag bits %#" PRIx64 "%s%s%s", c->flags, c->flags & 1 ? " P" : "",
		        c->flags & 2 ? " M" : "", c->flags & 4 ? " A" : "");
		if (m->nr_arenas > 1 && !c->mmapped)
			pop_add(a, "%s%.0u%s", c->arena ? "arena " : "main_arena", c->arena,
			        c->arena ? " (A bit: heap_for_ptr finds its heap_info)" : "");
		break;
	}
	case HIT_PTE: {
		int lvl = (int)h->a;
		int i = 4 - lvl;
		pte_t e = h->b;

		pte_format_flags(e, fl, sizeof(fl));
		pop_add(a, "%s entry [%u] of the table in frame %#" PRIx64, pt_level_name(lvl),
		        m->walk.index[i], m->walk.table[i]);
		pop_add(a, "entry %#018" PRIx64, e);
		pop_add(a, "flags %s", pte_present(e) ? fl : "(not present)");
		if (pte_present(e))
			pop_add(a, "%s frame %#" PRIx64, lvl > 1 ? "next table in" : "page in",
			        pte_pfn(e));
		pop_add(a, "covers %s of virtual addresses",
		        lvl == 4   ? "512 GiB"
		        : lvl == 3 ? "1 GiB"
		        : lvl == 2 ? "2 MiB"
		                   : "4 KiB");
		break;
	}
	case HIT_FRAMES: {
		pfn_t pfn = view_grid_pfn(&a->g, h->side, x, y);

		if (pfn == PFN_NONE)
			return;
		details_frame(a, h->side, pfn);
		break;
	}
	case HIT_ORDER: {
		const struct free_area *fa = &sd->st->s->k.buddy.free_area[h->a];

		pop_add(a, "free_area[%" PRIu64 "]", h->a);
		pop_add(a, "%" PRIu64 " free blocks of %u frames", fa->nr_free, 1u << h->a);
		if (fa->head != FRAME_LINK_NONE)
			pop_add(a, "first block at pfn %#x", fa->head);
		break;
	}
	case HIT_LINE:
		goto_line(a, h->side, (int)h->a);
		return;
	case HIT_EVENT:
		stepper_do(sd->st, STEP_GOTO, h->a);
		view_changed(a);
		a->g.log_scroll[h->side] = 0;
		view_msg(a, false, "went to event #%" PRIu64, h->a);
		return;
	default:
		return;
	}
}
