/*
 * view_space.c - the viewer's address-space panel (see view_panel.h): the
 * VMAs of the selected process top (high addresses) to bottom on a
 * non-linear scale, the gaps between them, the program break, the current
 * address, and with several processes the selector line and the parent's
 * or child's address space beside it.
 */
#include <math.h>
#include <string.h>

#include "view_panel.h"

/* VMAs by kind (enum vma_kind). */
static const uint32_t vma_col[] = {0x6478b4, 0x3ca0a0, 0x2d7d87, 0x5ac86e, 0xa06ed2, 0xe69650};
static const char *const vma_name[] = {"text", "data", "rodata", "heap", "mmap", "stack"};

struct vas_item {
	int vma; /* index, or -1 for a gap, -2 for the empty heap */
	vaddr_t lo, hi;
	double weight;
	int y, h;
};

/*
 * One address space in b: its VMAs top (high addresses) to bottom, on a
 * non-linear scale, the break in the heap, the current address when
 * with_addr. hb: the HIT_VMA's b (0 the selected process, 1 the other).
 */
static void draw_space(struct view_gfx *g, struct view_rect b, const struct view_model *m,
                       const struct vm_area_struct *vmas, size_t nr_vmas, vaddr_t start_brk,
                       vaddr_t brk, bool with_addr, int side, int hb)
{
	struct vas_item it[2 * VM_MAX_VMAS + 2];
	int n = 0, sh = g->font[VF_SMALL].h, lh = g->font_px + 2;
	bool have_heap = false, narrow = b.w < 200;
	double wsum = 0;

	for (size_t i = 0; i < nr_vmas; i++)
		have_heap |= vmas[i].kind == VMA_HEAP;
	/* Top (high addresses) to bottom. */
	for (int i = (int)nr_vmas - 1; i >= 0; i--) {
		const struct vm_area_struct *v = &vmas[i];
		uint64_t pages = (v->vm_end - v->vm_start) >> PAGE_SHIFT;
		double w = 2.0 + log2((double)(pages ? pages : 1)) * 0.35;

		if (v->kind == VMA_HEAP)
			w += 2.5; /* room for the brk marks */
		it[n++] = (struct vas_item){i, v->vm_start, v->vm_end, w, 0, 0};
		if (i > 0) {
			const struct vm_area_struct *lo = &vmas[i - 1];

			if (!have_heap && lo->kind == VMA_DATA && start_brk >= lo->vm_end)
				it[n++] = (struct vas_item){-2, start_brk, brk, 3.0, 0, 0};
			if (v->vm_start > lo->vm_end)
				it[n++] = (struct vas_item){-1, lo->vm_end, v->vm_start, 1.1, 0, 0};
		}
	}
	for (int i = 0; i < n; i++)
		wsum += it[i].weight;
	int avail = b.h, y = b.y;

	for (int i = 0; i < n; i++) {
		it[i].h = (int)(avail * it[i].weight / wsum);
		it[i].y = y;
		y += it[i].h;
	}
	int bx = b.x + 14, bw = b.w * 30 / 100, lx = bx + bw + 8, lw = b.x + b.w - lx;
	char s1[96], s2[32];

	if (bw > 90)
		bw = 90, lx = bx + bw + 8, lw = b.x + b.w - lx;
	for (int i = 0; i < n; i++) {
		struct vas_item *v = &it[i];

		if (v->vma == -1) {
			int cy = v->y + v->h / 2;

			for (int x = bx; x < bx + bw; x += 6)
				hline(g, x, x + 3, cy, COL_DIM);
			fmt_bytes(s1, sizeof(s1), v->hi - v->lo);
			snprintf(s1 + strlen(s1), sizeof(s1) - strlen(s1), "%s",
			         narrow ? "" : " unmapped");
			textf(g, VF_SMALL, lx, cy - sh / 2, COL_DIM, "\xe2\x89\x88 %s", s1);
			continue;
		}
		if (v->vma == -2) {
			hline(g, bx, bx + bw, v->y + v->h - 2, COL_BRK);
			view_text_clip(g, VF_SMALL, lx, v->y, lw, vma_col[VMA_HEAP], "heap: empty");
			view_text_clip(g, VF_SMALL, lx, v->y + sh, lw, COL_BRK, "start_brk = brk");
			snprintf(s1, sizeof(s1), "%#" PRIx64, brk);
			view_text_clip(g, VF_SMALL, lx, v->y + 2 * sh, lw, COL_BRK, s1);
			continue;
		}
		const struct vm_area_struct *a = &vmas[v->vma];
		uint32_t c = vma_col[a->kind >= 0 && a->kind <= VMA_STACK ? a->kind : VMA_ANON];
		const char *name = vma_name[a->kind <= VMA_STACK ? a->kind : 4];
		char arena_name[16];

		/* a mapping inside a glibc heap reservation: its arena's */
		for (unsigned i = 1; hb == 0 && i < m->nr_arenas; i++)
			for (unsigned j = 0; j < m->arenas[i].nr_heaps; j++) {
				const struct vm_heap *h = &m->arenas[i].heaps[j];

				if (a->vm_start >= h->start &&
				    a->vm_end <= h->start + h->reserved) {
					snprintf(arena_name, sizeof(arena_name), "arena %u",
					         m->arenas[i].nr);
					name = arena_name;
				}
			}
		int hh = v->h - 2 > 1 ? v->h - 2 : 1;

		fill(g, bx, v->y + 1, bw, hh, c);
		frame_rect(g, bx, v->y + 1, bw, hh, mix(c, 0xffffff, 0.4));
		add_hit(g, side, HIT_VMA, bx, v->y, b.x + b.w - bx, v->h, (uint64_t)v->vma,
		        (uint64_t)hb);
		fmt_bytes(s2, sizeof(s2), a->vm_end - a->vm_start);
		int ly = v->y + 1;

		if (v->h >= sh && narrow) {
			/* name, then size and rights, each clipped to the column */
			view_text_clip(g, VF_BOLD, lx, ly, lw, c, name);
			ly += lh;
			if (v->h >= sh + lh) {
				snprintf(s1, sizeof(s1), "%s %c%c%c", s2,
				         a->vm_flags & VM_READ ? 'r' : '-',
				         a->vm_flags & VM_WRITE ? 'w' : '-',
				         a->vm_flags & VM_EXEC ? 'x' : '-');
				view_text_clip(g, VF_SMALL, lx, ly, lw, COL_TEXT, s1);
				ly += sh;
			}
		} else if (v->h >= sh) {
			textf(g, VF_BOLD, lx, ly, c, "%s", name);
			textf(g, VF_SMALL, lx + (strlen(name) > 6 ? 8 : 7) * g->font[VF_BOLD].adv,
			      ly + 1, COL_TEXT, "%s %c%c%c", s2, a->vm_flags & VM_READ ? 'r' : '-',
			      a->vm_flags & VM_WRITE ? 'w' : '-',
			      a->vm_flags & VM_EXEC ? 'x' : '-');
			ly += lh;
			if (v->h >= sh + lh) {
				snprintf(s1, sizeof(s1), "%" PRIx64 "-%" PRIx64, a->vm_start,
				         a->vm_end);
				view_text_clip(g, VF_SMALL, lx, ly, lw, COL_DIM, s1);
				ly += sh;
			}
		}
		/* The break inside the heap VMA, proportionally. */
		if (a->kind == VMA_HEAP) {
			double span = (double)(a->vm_end - a->vm_start);
			int yb = v->y + 1 + hh - (int)(hh * (double)(brk - a->vm_start) / span);
			int ys = v->y + 1 + hh -
			         (int)(hh * ((double)start_brk - (double)a->vm_start) / span);

			if (yb < v->y + 1)
				yb = v->y + 1;
			if (ys > v->y + hh)
				ys = v->y + hh;
			fill(g, bx - 6, yb - 1, bw + 12, 3, COL_BRK);
			fill(g, bx - 6, ys - 1, bw + 12, 2, COL_START_BRK);
			if (ly + 2 * sh <= v->y + v->h) {
				snprintf(s1, sizeof(s1), "brk %#" PRIx64, brk);
				view_text_clip(g, VF_SMALL, lx, ly, lw, COL_BRK, s1);
				snprintf(s1, sizeof(s1), "start_brk %#" PRIx64, start_brk);
				view_text_clip(g, VF_SMALL, lx, ly + sh, lw, COL_START_BRK, s1);
			}
		}
		/* The current address. */
		if (with_addr && m->have_addr && m->addr >= a->vm_start && m->addr < a->vm_end) {
			double f =
			    (double)(m->addr - a->vm_start) / (double)(a->vm_end - a->vm_start);
			int ya = v->y + 1 + hh - (int)(hh * f) - sh / 2;

			if (ya > v->y + v->h - sh)
				ya = v->y + v->h - sh;
			if (ya < v->y)
				ya = v->y;
			view_text(g, VF_SMALL, bx - 12, ya, COL_ACTIVE, "\xe2\x96\xb8");
		}
	}
}

/*
 * The process selector, one line: every task by pid, the one shown boxed,
 * the running one marked, zombies dim. Each is a HIT_TASK (a click selects
 * it). Returns the height used.
 */
static int draw_selector(struct view_gfx *g, const struct view_rect *b, const struct view_model *m,
                         int side)
{
	int sh = g->font[VF_SMALL].h, x = b->x + 2, y = b->y;
	char lab[32];

	x += view_text(g, VF_SMALL, x, y, COL_DIM, "process ");
	for (size_t i = 0; i < m->nr_tasks; i++) {
		const struct vm_task *t = &m->tasks[i];
		bool sel = t->pid == m->sel_pid;
		uint32_t c = !t->has_mm ? COL_DIM : sel ? COL_TITLE : COL_TEXT;

		snprintf(lab, sizeof(lab), "%s%s%d%s", t->current ? "\xe2\x96\xb8" : "",
		         t->pid != t->tgid ? "t" : "", t->pid, t->state == 'Z' ? "Z" : "");
		if (!selector_item(g, &x, y, b->x + b->w, lab, sel, c, side, HIT_TASK,
		                   (uint64_t)t->pid))
			break;
	}
	return sh + 4;
}

void view_draw_vas(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                   int side)
{
	struct view_model *m = si->m;
	struct view_rect b = panel(g, p, "virtual address space", "not to scale");
	int sh = g->font[VF_SMALL].h;

	if (m->nr_tasks > 1) {
		int used = draw_selector(g, &b, m, side);

		b.y += used;
		b.h -= used;
	}
	b.h -= sh + 4; /* the legend */
	if (m->other.pid) {
		/* Both address spaces side by side: the selected one, the other. */
		struct view_rect l = b, r = b;
		char t[48];

		l.w = b.w / 2 - 2;
		r.x = b.x + b.w / 2 + 2;
		r.w = b.w - b.w / 2 - 2;
		snprintf(t, sizeof(t), "pid %d rss %" PRIu64, m->sel_pid, m->rss);
		view_text_clip(g, VF_SMALL, l.x + 2, l.y, l.w - 4, COL_TITLE, t);
		snprintf(t, sizeof(t), "pid %d %s rss %" PRIu64, m->other.pid,
		         m->other.pid < m->sel_pid ? "parent" : "child", m->other.rss);
		view_text_clip(g, VF_SMALL, r.x + 2, r.y, r.w - 4, COL_TEXT, t);
		for (int yy = b.y; yy < b.y + b.h; yy += 4)
			fill(g, b.x + b.w / 2, yy, 1, 2, COL_BORDER);
		l.y += sh + 2;
		l.h -= sh + 2;
		r.y += sh + 2;
		r.h -= sh + 2;
		draw_space(g, l, m, m->vmas, m->nr_vmas, m->start_brk, m->brk, true, side, 0);
		draw_space(g, r, m, m->other.vmas, m->other.nr_vmas, m->other.start_brk,
		           m->other.brk, true, side, 1);
	} else {
		draw_space(g, b, m, m->vmas, m->nr_vmas, m->start_brk, m->brk, true, side, 0);
	}
	/* Legend */
	int x = b.x, ly = b.y + b.h + 4;

	const struct legend_item it[] = {{COL_BRK, "brk", false},
	                                 {COL_START_BRK, "start_brk", false}};
	int at[2][2];

	legend_draw(g, it, 2, x, ly, b.x + b.w, g->font[VF_SMALL].h, 1, at);
	x = at[1][0] >= 0 ? at[1][0] + legend_chip_w(g, &it[1]) + 10 : b.x + b.w;
	if (x + view_text_width(g, VF_SMALL, "\xe2\x96\xb8 address") <= b.x + b.w)
		textf(g, VF_SMALL, x, ly, COL_ACTIVE, "\xe2\x96\xb8 address");
}
