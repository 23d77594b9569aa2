/*
 * step.c - `aftermalloc step SCRIPT.ams`: the terminal stepper (DESIGN.md,
 * The command and Stepping).
 *
 * The engine is demos/step/stepper.c: the script's session runs on a coroutine
 * and pauses inside the probe's sink. Each stop prints the current event, its
 * narration (demos/step/narrate_table.c: the real function, its source file, what it
 * does and why), the call path from the user's statement down to it, and the
 * views of the state that matter at that step: the page walk and the VMA of
 * the address for faults and PTEs, the buddy free lists for the page
 * allocator, the heap chunks for malloc, the break and the VMAs for system
 * calls. 80 columns; colour only on a terminal.
 *
 * Keys come from stepper_parse_key. On a terminal they are single keys (raw
 * mode, restored on exit and on signals); otherwise one key a line, each
 * stop printed, so that the stepper can be scripted; EOF quits.
 */
#include "step.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../../kernel_sim/proc.h"
#include "../../libc/glibc_malloc.h"
#include "../../libc/pthread.h"
#include "../../vm/pagetable.h"
#include "../cli/commands.h"
#include "narrate.h"
#include "stepper.h"

#define WIDTH        80
#define LOG_CAP      512
#define PATH_MAX_FNS PROBE_MAX_DEPTH

/* ---- colour ----------------------------------------------------------- */

enum color { C_RESET, C_DIM, C_BOLD, C_ADDR, C_FAULT, C_OK, C_BAD, C_CUR };

static const char *col(bool on, enum color c)
{
	static const char *const codes[] = {
	    [C_RESET] = "\033[0m",  [C_DIM] = "\033[2m",    [C_BOLD] = "\033[1m",
	    [C_ADDR] = "\033[36m",  [C_FAULT] = "\033[33m", [C_OK] = "\033[32m",
	    [C_BAD] = "\033[1;31m", [C_CUR] = "\033[1;33m",
	};

	return on ? codes[c] : "";
}

/* ---- the call path ------------------------------------------------------ */

/* Print items joined by " > ", wrapped at WIDTH, continuation lines indented. */
struct wrap {
	FILE *out;
	int col, indent;
	bool first;
};

static void wrap_item(struct wrap *w, const char *pre, const char *item, const char *post)
{
	int len = (int)strlen(item) + (w->first ? 0 : 3);

	/* Keep room for the " >" that ends a line when the next item wraps. */
	if (!w->first && w->col + len > WIDTH - 2) {
		fprintf(w->out, " >\n%*s", w->indent, "");
		w->col = w->indent;
		len -= 3;
	} else if (!w->first) {
		fputs(" > ", w->out);
	}
	fprintf(w->out, "%s%s%s", pre, item, post);
	w->col += len;
	w->first = false;
}

static void print_path(struct stepper *st, FILE *out, bool color)
{
	const struct event *ev = &st->cur;
	const char *fns[PATH_MAX_FNS];
	unsigned n = stepper_call_path(st, fns, PATH_MAX_FNS);
	struct wrap w = {.out = out, .col = 6, .indent = 6, .first = true};
	char stmt[WIDTH + 96];
	bool cur_on_stack;

	fputs("path  ", out);
	if (st->cur_stmt < st->sc->nr_stmts) {
		const struct stmt *s = &st->sc->stmts[st->cur_stmt];

		const struct task *t = st->s->task;
		char loops[80], who[16] = "";

		session_loop_context(st->s, loops, sizeof(loops));
		if (t && st->s->main_task) /* a thread or another process (`in ID`) */
			narrate_task(t->pid, t->tgid, st->s->main_task->pid, who, sizeof(who));
		snprintf(stmt, sizeof(stmt), "line %d%s%s `%.50s`%s%s%s", s->line, who[0] ? " in " : "",
		         who, s->text, loops[0] ? " (" : "", loops, loops[0] ? ")" : "");
		wrap_item(&w, ev->kind == EV_STMT ? col(color, C_CUR) : "", stmt,
		          ev->kind == EV_STMT ? col(color, C_RESET) : "");
	} else {
		wrap_item(&w, "", "(after the last statement)", "");
	}
	if (ev->kind == EV_STMT) {
		fputc('\n', out);
		return;
	}
	/* The event's function is the innermost open call, unless the event is
	   a call (its callee is pushed right after), a return (already popped)
	   or an event a function emits about itself from inside its caller. */
	cur_on_stack = n && ev->kind != EV_CALL && ev->kind != EV_RET && ev->fn &&
	               strcmp(fns[n - 1], ev->fn) == 0;
	for (unsigned i = 0; i < n; i++) {
		bool cur = cur_on_stack && i == n - 1;
		char item[96];

		snprintf(item, sizeof(item), cur ? "[%s]" : "%s", fns[i]);
		wrap_item(&w, cur ? col(color, C_CUR) : "", item, cur ? col(color, C_RESET) : "");
	}
	if (!cur_on_stack && ev->fn) {
		char item[96];

		snprintf(item, sizeof(item), "[%s%s]", ev->fn,
		         ev->kind == EV_RET ? " returns" : "");
		wrap_item(&w, col(color, C_CUR), item, col(color, C_RESET));
	}
	fputc('\n', out);
}

/* ---- views -------------------------------------------------------------- */

static const char *vma_name(const struct vm_area_struct *v)
{
	switch (v->kind) {
	case VMA_TEXT:
		return "text";
	case VMA_DATA:
		return "data";
	case VMA_RODATA:
		return "rodata";
	case VMA_HEAP:
		return "[heap]";
	case VMA_STACK:
		return "[stack]";
	default:
		return "anonymous mmap";
	}
}

static void vma_line(FILE *out, const char *mark, const struct vm_area_struct *v)
{
	uint64_t kib = (v->vm_end - v->vm_start) >> 10;

	fprintf(out, "%s%012" PRIx64 "-%012" PRIx64 " %c%c%c%c %8" PRIu64 " KiB  %s\n", mark,
	        (uint64_t)v->vm_start, (uint64_t)v->vm_end, v->vm_flags & VM_READ ? 'r' : '-',
	        v->vm_flags & VM_WRITE ? 'w' : '-', v->vm_flags & VM_EXEC ? 'x' : '-',
	        v->vm_flags & VM_SHARED ? 's' : 'p', kib, vma_name(v));
}

/* The address that matters at this stop: the event's own, else the latest
   one in the recent events (a walk level carries none: its miss does). */
static bool focus_addr(struct stepper *st, vaddr_t *va)
{
	for (size_t i = 0; i < 64; i++) {
		const struct event *e = stepper_log(st, i);
		uint64_t v;

		if (!e || e->kind == EV_STMT)
			break;
		if (e->layer != LAYER_KERNEL && e->layer != LAYER_MMU)
			continue;
		if (e->kind == EV_TLB_FILL) {
			*va = (vaddr_t)event_field(e, "vpn", 0) << PAGE_SHIFT;
			return true;
		}
		v = event_field(e, "addr", UINT64_MAX);
		if (v != UINT64_MAX && v != 0) {
			*va = (vaddr_t)v;
			return true;
		}
	}
	return false;
}

static void view_walk(struct stepper *st, FILE *out, bool color)
{
	struct session *s = st->s;
	struct task *t = stepper_view_task(st);
	struct vm_area_struct *v;
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	vaddr_t va;

	if (!t || !focus_addr(st, &va))
		return;
	fprintf(out, "%spage walk (PML4 -> PDPT -> PD -> PT -> frame)%s\n", col(color, C_DIM),
	        col(color, C_RESET));
	m = open_memstream(&buf, &len);
	if (!m)
		return;
	proc_pagetable(&s->k, t, va, m);
	fclose(m);
	for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		fprintf(out, "  %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
	}
	free(buf);
	v = vma_lookup(t->mm, va);
	if (v) {
		fputs("  VMA ", out);
		vma_line(out, "", v);
	} else {
		fprintf(out, "  %sno VMA contains %#" PRIx64 ": an access there is a SIGSEGV%s\n",
		        col(color, C_BAD), (uint64_t)va, col(color, C_RESET));
	}
}

static void view_maps(struct stepper *st, FILE *out, bool color)
{
	struct task *t = stepper_view_task(st);
	struct mm_struct *mm = t ? t->mm : NULL;
	vaddr_t changed = 0;
	size_t shown = 0;

	if (!mm)
		return;
	if (st->cur.kind == EV_VMA)
		changed = (vaddr_t)event_field(&st->cur, "start", 0);
	fprintf(out, "%sVMAs%s  start_brk %#" PRIx64 "  brk %#" PRIx64 "  heap %" PRIu64 " bytes\n",
	        col(color, C_DIM), col(color, C_RESET), (uint64_t)mm->start_brk, (uint64_t)mm->brk,
	        (uint64_t)(mm->brk - mm->start_brk));
	for (size_t i = 0; i < mm->nr_vmas; i++) {
		const struct vm_area_struct *v = &mm->vmas[i];
		bool mark = changed && v->vm_start <= changed && changed < v->vm_end;

		if (shown == 8 && mm->nr_vmas > 9) {
			fprintf(out, "  ... %zu more\n", mm->nr_vmas - i);
			break;
		}
		vma_line(out, mark ? "* " : "  ", v);
		shown++;
	}
}

static void view_buddy(struct stepper *st, FILE *out, bool color)
{
	const struct buddy *b = &st->s->k.buddy;
	const struct event *ev = &st->cur;
	uint64_t order = event_field(ev, "order", UINT64_MAX);
	const char *what = "the order asked for";

	switch (ev->kind) {
	case EV_BUDDY_SPLIT:
		what = "expand put the upper half here";
		break;
	case EV_BUDDY_MERGE:
		order++;
		what = "the merged block goes here";
		break;
	case EV_FRAME_ALLOC:
		what = "the order taken";
		break;
	case EV_FRAME_FREE:
		what = "the order given back";
		break;
	default:
		break;
	}
	fprintf(out, "%sbuddy free lists (nr_free: blocks of 2^order frames)%s\n",
	        col(color, C_DIM), col(color, C_RESET));
	fputs("  order  ", out);
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		fprintf(out, "%6d", o);
	fputs("\n  free   ", out);
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		fprintf(out, "%s%6" PRIu64 "%s", (uint64_t)o == order ? col(color, C_CUR) : "",
		        b->free_area[o].nr_free, (uint64_t)o == order ? col(color, C_RESET) : "");
	fputc('\n', out);
	if (order < NR_PAGE_ORDERS) {
		int at = 9 + 6 * (int)order + 5;

		if (at + 3 + (int)strlen(what) < WIDTH)
			fprintf(out, "%*s^ %s\n", at, "", what);
		else
			fprintf(out, "%*s%s ^\n", at - 1 - (int)strlen(what), "", what);
	}
	fprintf(out, "  %" PRIu64 " of %" PRIu64 " frames free\n", b->free_pages, b->managed);
}

#define HEAP_MAX_ROWS 4096

struct heap_row {
	vaddr_t chunk, user;
	uint64_t size;
	unsigned arena; /* glibc: its arena's number (mmapped chunks: 0) */
	bool in_use, top, mmapped;
	char where[24];
};

struct heap_rows {
	struct heap_row *r;
	size_t n, cap;
};

static void heap_collect(void *ctx, const struct chunk_info *ci)
{
	struct heap_rows *h = ctx;

	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		struct heap_row *n;

		if (cap > HEAP_MAX_ROWS || !(n = realloc(h->r, cap * sizeof(*n))))
			return;
		h->r = n;
		h->cap = cap;
	}
	h->r[h->n] = (struct heap_row){.chunk = ci->chunk,
	                               .user = ci->user,
	                               .size = ci->size,
	                               .arena = ci->arena,
	                               .in_use = ci->in_use,
	                               .top = ci->top,
	                               .mmapped = ci->mmapped};
	snprintf(h->r[h->n].where, sizeof(h->r[0].where), "%s",
	         ci->top                                    ? "top"
	         : ci->where && strcmp(ci->where, "in use") ? ci->where
	                                                    : "");
	h->n++;
}

/* The block malloc is working on: a chunk or pointer in this event or a
   recent one of libc. */
static bool heap_focus(struct stepper *st, vaddr_t *va)
{
	static const char *const keys[] = {"chunk", "mem", "oldmem", "victim"};

	for (size_t i = 0; i < 256; i++) {
		const struct event *e = stepper_log(st, i);

		if (!e || e->kind == EV_STMT)
			break;
		if (e->layer != LAYER_LIBC)
			continue;
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			uint64_t v = event_field(e, keys[k], 0);

			if (v) {
				*va = (vaddr_t)v;
				return true;
			}
		}
		if (e->kind == EV_RET && event_field(e, "ret", 0) > 0xffff &&
		    event_field(e, "ret", 0) != UINT64_MAX) {
			*va = (vaddr_t)event_field(e, "ret", 0);
			return true;
		}
	}
	return false;
}

static void view_heap(struct stepper *st, FILE *out, bool color)
{
	struct session *s = st->s;
	struct heap_rows h = {0};
	size_t focus = SIZE_MAX, from, to;
	vaddr_t va = 0;
	bool have = heap_focus(st, &va);

	bool arenas = false;

	if (s->lc->ops->walk)
		s->lc->ops->walk(s->lc, heap_collect, &h);
	for (size_t i = 0; have && i < h.n; i++)
		if (va >= h.r[i].chunk && va < h.r[i].chunk + h.r[i].size) {
			focus = i;
			break;
		}
	for (size_t i = 1; i < h.n; i++)
		arenas |= h.r[i].arena != h.r[0].arena;
	if (arenas) {
		/* glibc with arenas: the chunks of one, the focus chunk's (else
		   main_arena's, with the mmapped chunks) */
		unsigned a = focus != SIZE_MAX ? h.r[focus].arena : 0;
		size_t n = 0;

		/* no chunk holds it (a heap_info, an arena's malloc_state): the
		   arena of the heap it is in (heap_for_ptr) */
		for (size_t i = 0; focus == SIZE_MAX && have && i < h.n; i++)
			if (h.r[i].arena && !h.r[i].mmapped &&
			    (h.r[i].chunk & ~(GM_HEAP_MAX_SIZE - 1)) == (va & ~(GM_HEAP_MAX_SIZE - 1)))
				a = h.r[i].arena;

		for (size_t i = 0; i < h.n; i++) {
			if (i == focus)
				focus = n;
			if (h.r[i].arena == a)
				h.r[n++] = h.r[i];
		}
		h.n = n;
		fprintf(out, "%sheap chunks (policy %s, %s%.0u)%s", col(color, C_DIM), s->policy,
		        a ? "arena " : "main_arena", a, col(color, C_RESET));
	} else {
		fprintf(out, "%sheap chunks (policy %s)%s", col(color, C_DIM), s->policy,
		        col(color, C_RESET));
	}
	if (have)
		fprintf(out, "  around %#" PRIx64, (uint64_t)va);
	fputc('\n', out);
	if (!h.n) {
		fputs("  (no heap yet: malloc has not asked the kernel for memory)\n", out);
		free(h.r);
		return;
	}
	if (focus == SIZE_MAX) {
		from = h.n > 4 ? h.n - 4 : 0;
		to = h.n;
	} else {
		from = focus > 2 ? focus - 2 : 0;
		to = focus + 3 < h.n ? focus + 3 : h.n;
	}
	fprintf(out, "    %-16s %10s  %-16s %s\n", "chunk", "size", "user", "state  where");
	if (from)
		fprintf(out, "     ... %zu chunk%s below\n", from, from == 1 ? "" : "s");
	for (size_t i = from; i < to; i++) {
		const struct heap_row *r = &h.r[i];
		char user[24] = "-";
		bool cur = i == focus;

		if (r->user)
			snprintf(user, sizeof(user), "%#" PRIx64, (uint64_t)r->user);
		fprintf(out, "  %s%s %#-16" PRIx64 " %#10" PRIx64 "  %-16s %s%s%s%s\n",
		        cur ? col(color, C_CUR) : "", cur ? ">" : " ", (uint64_t)r->chunk, r->size,
		        user, r->in_use ? "in use" : "free  ", r->where[0] ? " " : "", r->where,
		        cur ? col(color, C_RESET) : "");
	}
	if (to < h.n)
		fprintf(out, "     ... %zu chunk%s above\n", h.n - to, h.n - to == 1 ? "" : "s");
	free(h.r);
}

/* ---- arenas ---------------------------------------------------------- */

#define STEP_MAX_ARENAS 8

struct arenas_out {
	struct stepper *st;
	FILE *out;
	bool color;
};

/* glibc's arenas, as `show arenas` has them, one line each, when the
   program has more than one; the statement's thread's arena marked, with
   its newest heap. Reads lc's process memory (libc_peek_in). */
static void print_arenas(struct libc *lc, void *ctx)
{
	struct arenas_out *ao = ctx;
	struct glibc_arena_view a[STEP_MAX_ARENAS];
	const struct task *t = ao->st->s->task;
	unsigned n = glibc_arenas_view(lc, a, STEP_MAX_ARENAS);
	int cur;

	if (n < 2 || !t)
		return;
	cur = glibc_thread_arena(lc, libc_thread_find(lc, t->pid));
	fprintf(ao->out, "%sarenas%s  tid %d ", col(ao->color, C_DIM), col(ao->color, C_RESET),
	        t->pid);
	if (cur < 0)
		fprintf(ao->out, "has no arena yet (its first malloc gets one)");
	else if (cur == 0)
		fprintf(ao->out, "uses main_arena");
	else
		fprintf(ao->out, "uses arena %d", cur);
	fprintf(ao->out, " of the process's %u\n", n);
	for (unsigned i = 0; i < n && i < STEP_MAX_ARENAS; i++) {
		bool mine = (int)a[i].nr == cur;

		char threads[32];

		/* (an arena on free_list has no thread attached) */
		if (a[i].on_free_list)
			snprintf(threads, sizeof(threads), "on free_list");
		else
			snprintf(threads, sizeof(threads), "%" PRIu64 " thread%s", a[i].attached_threads,
			         a[i].attached_threads == 1 ? "" : "s");
		fprintf(ao->out, "  %s%s arena %u%s  system %" PRIu64 ", top %" PRIu64 " bytes, %s%s\n",
		        mine ? col(ao->color, C_CUR) : "", mine ? ">" : " ", a[i].nr,
		        a[i].nr ? "" : " (main_arena)", a[i].system_mem, a[i].top_size, threads,
		        mine ? col(ao->color, C_RESET) : "");
		if (mine && a[i].nr_heaps)
			fprintf(ao->out,
			        "      heap %#" PRIx64 ": %" PRIu64 " in use, %" PRIu64
			        " read-write, %llu MiB reserved%s\n",
			        a[i].heaps[0].heap, a[i].heaps[0].size, a[i].heaps[0].mprotect_size,
			        GM_HEAP_MAX_SIZE >> 20, a[i].nr_heaps > 1 ? " (newest heap)" : "");
	}
	if (n > STEP_MAX_ARENAS)
		fprintf(ao->out, "    ... %u arenas in all\n", n);
}

/* The arenas of the process the statement runs in (glibc, two or more). */
static void view_arenas(struct stepper *st, FILE *out, bool color)
{
	const struct task *t = st->s->task;
	struct arenas_out ao = {st, out, color};

	if (t && t->mm && t->mm->pgd != PFN_NONE)
		libc_peek_in(st->s->lc, t->mm->pgd, print_arenas, &ao);
}

/* The status line: the task, its break and RSS, the machine's free frames
   and faults. The break and RSS are of the address space the views show
   (stepper_view_task), named when it is not the current task's; a task
   that has exited has none. Wrapped before the machine's figures when it
   would pass WIDTH. */
static void view_state(struct stepper *st, FILE *out, bool color)
{
	struct session *s = st->s;
	const struct task *cur = stepper_current(st);
	struct task *t = stepper_view_task(st);
	char who[48], of[32] = "", task[160], machine[96];
	int n = 0;

	stepper_task_label(st, who, sizeof(who));
	if (cur && !cur->mm) {
		/* it has exited (exit_mm): no address space of its own to show */
		snprintf(who + strlen(who), sizeof(who) - strlen(who), " has exited");
		t = NULL;
	}
	if (t && t != cur)
		snprintf(of, sizeof(of), " (pid %d)", t->tgid);
	n = snprintf(task, sizeof(task), "state  %s", who);
	if (t)
		n += snprintf(task + n, sizeof(task) - (size_t)n,
		              "  brk%s %#" PRIx64 "  rss %" PRIu64 " pages", of,
		              (uint64_t)t->mm->brk, (uint64_t)t->mm->rss_stat[MM_ANONPAGES]);
	snprintf(machine, sizeof(machine), "free frames %" PRIu64 "  faults %" PRIu64,
	         s->k.buddy.free_pages, s->k.probe.c.page_faults - s->base.faults);
	fprintf(out, "%sstate%s%s%s%s\n", col(color, C_DIM), col(color, C_RESET), task + 5,
	        n + 2 + strlen(machine) > WIDTH ? "\n       " : "  ", machine);
}

/* ---- a stop ------------------------------------------------------------- */

void step_print_stop(struct stepper *st, FILE *out, bool color)
{
	const struct event *ev = &st->cur;
	char line[WIDTH * 4], text[1024], who[48];
	int n;

	if (!st->have_cur)
		return;
	n = snprintf(line, sizeof(line), "---- event #%" PRIu64 " ", ev->seq);
	stepper_task_label(st, who, sizeof(who));
	if (st->cur_stmt < st->sc->nr_stmts)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "(line %d, %s) ",
		              st->sc->stmts[st->cur_stmt].line, who);
	else
		n += snprintf(line + n, sizeof(line) - (size_t)n, "(%s) ", who);
	while (n < WIDTH - 1 && n < (int)sizeof(line) - 1)
		line[n++] = '-';
	line[n] = 0;
	fprintf(out, "%s%s%s\n", col(color, C_DIM), line, col(color, C_RESET));

	event_format(ev, text, sizeof(text));
	fputs(col(color, ev->kind == EV_FAULT || ev->kind == EV_SIGNAL ? C_FAULT : C_BOLD), out);
	narrate_wrap(out, text, 0, WIDTH);
	fputs(col(color, C_RESET), out);
	narrate_event(ev, text, sizeof(text));
	narrate_wrap(out, text, 2, WIDTH);
	print_path(st, out, color);

	switch (narrate_view(ev)) {
	case NV_WALK:
		view_walk(st, out, color);
		break;
	case NV_BUDDY:
		view_buddy(st, out, color);
		break;
	case NV_HEAP:
		view_heap(st, out, color);
		view_arenas(st, out, color);
		break;
	case NV_MAPS:
		view_maps(st, out, color);
		view_arenas(st, out, color);
		break;
	case NV_NONE:
		view_state(st, out, color);
		view_arenas(st, out, color);
		break;
	}
}

void step_print_end(struct stepper *st, FILE *out, bool color)
{
	struct session *s = st->s;
	const struct task *t = s->task;
	char b1[32], b2[32];

	if (s->failed) {
		fprintf(out, "%s==== the script stopped: %s%s\n", col(color, C_BAD), s->error,
		        col(color, C_RESET));
		view_state(st, out, color);
		fprintf(out, "%s(b, B and g N still go back; q quits)%s\n", col(color, C_DIM),
		        col(color, C_RESET));
		return;
	}
	fprintf(out, "%s==== the program has ended", col(color, C_BOLD));
	if (!s->dead) {
		fprintf(out,
		        " normally after %" PRIu64 " statement%s (%" PRIu64 " events, %" PRIu64
		        " page faults)%s\n",
		        s->nr_run, s->nr_run == 1 ? "" : "s", st->last_seq + 1 - s->base.seq,
		        s->total_faults, col(color, C_RESET));
	} else {
		fprintf(out, ": %skilled by %s (%s) at line %d%s\n", col(color, C_BAD),
		        session_signal_name(t->death.signo, b1, sizeof(b1)),
		        session_sigcode_name(t->death.signo, t->death.code, b2, sizeof(b2)),
		        s->res.line, col(color, C_RESET));
		session_print_death(t, out, "  ");
	}
	view_state(st, out, color);
	fprintf(out, "%s(b, B and g N still go back; q quits)%s\n", col(color, C_DIM),
	        col(color, C_RESET));
}

/* ---- the terminal ------------------------------------------------------- */

/*
 * The saved terminal mode lives in a static: a signal handler must reach it
 * (the one place this program needs one), and there is one terminal.
 */
static struct termios saved_tty;
static volatile sig_atomic_t tty_raw;

static void tty_restore(void)
{
	if (tty_raw) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
		tty_raw = 0;
	}
}

static void tty_enter_raw(void)
{
	struct termios raw = saved_tty;

	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0)
		tty_raw = 1;
}

static void on_signal(int sig)
{
	tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_cont(int sig)
{
	(void)sig;
	tty_enter_raw();
	signal(SIGTSTP, on_signal);
}

static bool tty_setup(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};

	if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return false;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_signal);
	signal(SIGCONT, on_cont);
	atexit(tty_restore);
	tty_enter_raw();
	return true;
}

/*
 * The next key as stepper_parse_key reads it: "s", "" (Enter), "g 12", ...
 * From a terminal, single keys (g asks for its number); otherwise one line.
 * false at the end of input.
 */
static bool read_key(bool tty, char *buf, size_t n, FILE *out)
{
	if (!tty) {
		size_t l;

		if (!fgets(buf, (int)n, stdin))
			return false;
		l = strcspn(buf, "\r\n");
		buf[l] = 0;
		fprintf(out, "step> %s\n", buf);
		return true;
	}
	for (;;) {
		int c = getchar();
		size_t l = 0;

		if (c == EOF || c == 4) /* Ctrl-D */
			return false;
		if (c == '\n' || c == '\r') {
			buf[0] = 0;
			return true;
		}
		if (c != 'g') {
			buf[0] = (char)c;
			buf[1] = 0;
			return true;
		}
		fputs("go to event: ", out);
		fflush(out);
		buf[l++] = 'g';
		buf[l++] = ' ';
		while ((c = getchar()) != EOF && c != '\n' && c != '\r') {
			if (c == 27) { /* Esc: never mind */
				l = 0;
				break;
			}
			if ((c == 127 || c == 8) && l > 2) {
				l--;
				fputs("\b \b", out);
			} else if (c >= '0' && c <= '9' && l < n - 1) {
				buf[l++] = (char)c;
				fputc(c, out);
			}
			fflush(out);
		}
		fputc('\n', out);
		if (l > 2) {
			buf[l] = 0;
			return true;
		}
	}
}

/* ---- the command -------------------------------------------------------- */

static const char keys_help[] =
    "keys: s/Enter one event, n next statement, f next page fault, y next system call,\n"
    "      o until this function returns, b one event back, B one statement back,\n"
    "      g N go to event N, e to the end, q quit;\n"
    "      memory pressure: r next reclaim, w next swap-out, m next major fault,\n"
    "      k next OOM kill;\n"
    "      processes: c next copy-on-write fault, t next context switch\n";

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: aftermalloc step SCRIPT.ams [options]\n"
	        "\n"
	        "Step through a scenario script event by event: every stop shows the event,\n"
	        "what the real Linux or glibc function does, the call path from your statement,\n"
	        "and the page walk, the buddy lists, the heap or the VMAs as they stand.\n"
	        "\n"
	        "%s\n"
	        "From a terminal the keys are single keys; otherwise one key a line (each stop\n"
	        "is printed; the end of input quits).\n"
	        "\n"
	        "%s"
	        "\n"
	        "Exit status: 0 (also when the simulated program was killed), 2 bad usage or a\n"
	        "malformed script (FILE:LINE: message on stderr).\n",
	        keys_help, sim_options_help);
}

static void print_header(struct stepper *st, FILE *out, bool color)
{
	const struct kernel_opts *k = &st->s->opts.kopts;

	fprintf(out, "%saftermalloc step %s%s\n", col(color, C_BOLD), st->sc->path,
	        col(color, C_RESET));
	fprintf(out, "%s  malloc policy %s; %" PRIu64 " MiB of simulated RAM; zero page %s%s\n",
	        col(color, C_DIM), st->s->policy, k->phys_bytes >> 20, k->zero_page ? "on" : "off",
	        col(color, C_RESET));
	fputs(keys_help, out);
}

static int step_loop(struct stepper *st, bool tty, bool color)
{
	FILE *out = stdout;
	bool running;
	char key[64];

	print_header(st, out, color);
	running = stepper_do(st, STEP_EVENT, 0);
	if (running)
		step_print_stop(st, out, color);
	else
		step_print_end(st, out, color);
	for (;;) {
		enum step_cmd cmd;
		uint64_t arg;
		int r;

		fflush(out);
		if (!read_key(tty, key, sizeof(key), out))
			break;
		if (strcmp(key, "h") == 0 || strcmp(key, "?") == 0) {
			fputs(keys_help, out);
			continue;
		}
		r = stepper_parse_key(key, &cmd, &arg);
		if (r == 0)
			break;
		if (r < 0) {
			fprintf(out, "unknown key '%s'\n%s", key, keys_help);
			continue;
		}
		if (!running && cmd != STEP_BACK && cmd != STEP_BACK_STMT && cmd != STEP_GOTO) {
			step_print_end(st, out, color);
			continue;
		}
		running = stepper_do(st, cmd, arg);
		if (running)
			step_print_stop(st, out, color);
		else
			step_print_end(st, out, color);
	}
	fflush(out);
	/* A script that went wrong while running (an index out of range, the
	   statement budget): as a malformed one. */
	return st->s->failed ? EXIT_BAD_INPUT : 0;
}

int cmd_step(int argc, char **argv)
{
	static const struct option longopts[] = {
	    SIM_LONG_OPTIONS,
	    {"help", no_argument, NULL, 'h'},
	    {0, 0, 0, 0},
	};
	struct session_opts so;
	struct stepper *st;
	struct script *sc;
	bool color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR"), tty;
	const char *path;
	int c, rc;

	session_default_opts(&so);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == ':')
			return usage_error("step", "option '%s' needs a value", argv[optind - 1]);
		rc = sim_option("step", c, optarg, &so, &color);
		if (rc < 0)
			return EXIT_BAD_INPUT;
		if (rc == 0)
			return usage_error("step", "unknown option '%s'", argv[optind - 1]);
	}
	if (!(path = sim_script_arg("step", argc, argv, optind)) ||
	    script_load("step", path, &sc, stderr) < 0)
		return EXIT_BAD_INPUT;
	st = stepper_create(sc, &so, LOG_CAP, stderr);
	if (!st) {
		script_free(sc);
		return EXIT_BAD_INPUT;
	}
	tty = isatty(STDIN_FILENO) && tty_setup();
	rc = step_loop(st, tty, color);
	if (tty)
		tty_restore();
	stepper_destroy(st);
	script_free(sc);
	return rc;
}
