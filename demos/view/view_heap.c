/*
 * view_heap.c - the viewer's heap panel (see view_panel.h): the chunks of
 * the selected arena as a strip (width growing with the log of the size,
 * the header darker, the chunk the statement touched outlined), its
 * bounds, the mmapped chunks, and with several glibc arenas the selector
 * line, the shown arena's figures and threads and its heaps' reservations.
 */
#include <math.h>
#include <string.h>

#include "view_panel.h"

/* Heap chunks. */
#define COL_CH_USE    0x5ac86e
#define COL_CH_FREE   0x6e8cc8
#define COL_CH_TOP    0x6e6e78
#define COL_CH_MMAP   0xa06ed2
#define COL_HEAP_RW   VIEW_COL_HEAP_RW
#define COL_HEAP_NONE VIEW_COL_HEAP_NONE

/*
 * glibc's arenas (when the program has more than one): the selector, one
 * line (every arena by number, the one shown boxed, the followed thread's
 * marked), the shown arena's figures and threads, and for a non-main arena
 * each of its heaps (the newest three): the HEAP_MAX_SIZE reservation as a
 * bar, its read-write part (from the VMAs) and the PROT_NONE rest, not to
 * scale. Returns the height used.
 */
static int draw_arenas(struct view_gfx *g, const struct view_rect *b, const struct view_model *m,
                       int side)
{
	const struct vm_arena *a = &m->arenas[m->sel_arena];
	int sh = g->font[VF_SMALL].h, x = b->x, y = b->y, right = b->x + b->w;
	char lab[160], s1[32], s2[32];

	x += view_text(g, VF_SMALL, x, y, COL_DIM, "arena ");
	for (unsigned i = 0; i < m->nr_arenas; i++) {
		bool sel = i == m->sel_arena;

		snprintf(lab, sizeof(lab), "%s%s", (int)i == m->cur_arena ? "\xe2\x96\xb8" : "",
		         i == 0 ? "main" : "");
		if (i)
			snprintf(lab + strlen(lab), sizeof(lab) - strlen(lab), "%u",
			         m->arenas[i].nr);
		if (!selector_item(g, &x, y, right, lab, sel, sel ? COL_TITLE : COL_TEXT, side,
		                   HIT_ARENA, i))
			break;
	}
	if (m->nr_arenas_total > m->nr_arenas)
		x += textf(g, VF_SMALL, x + 4, y, COL_DIM, "+%u",
		           m->nr_arenas_total - m->nr_arenas) +
		     4;
	if (m->cur_arena < 0)
		snprintf(lab, sizeof(lab), "(tid %d: no arena yet)  a: next", m->arena_tid);
	else
		snprintf(lab, sizeof(lab), "\xe2\x96\xb8 tid %d's arena    a: next  A: follow",
		         m->arena_tid);
	view_text_clip(g, VF_SMALL, x + 10, y, right - x - 10, COL_DIM, lab);
	y += sh + 3;

	/* its figures and its threads */
	fmt_bytes(s1, sizeof(s1), a->system_mem);
	x = b->x + textf(g, VF_SMALL, b->x, y, COL_TITLE, "%s%.0u", a->nr ? "arena " : "main_arena",
	                 a->nr);
	x += textf(g, VF_SMALL, x, y, COL_DIM, " at %#" PRIx64 "  system_mem ", a->av);
	x += view_text(g, VF_SMALL, x, y, COL_TEXT, s1);
	lab[0] = '\0';
	for (unsigned i = 0; i < a->nr_tids; i++)
		snprintf(lab + strlen(lab), sizeof(lab) - strlen(lab), "%s%d", i ? ", " : "",
		         a->tids[i]);
	if (a->nr_tids)
		x += view_text(g, VF_SMALL, x, y, COL_DIM, "  attached: tid ");
	else
		x += view_text(g, VF_SMALL, x, y, COL_DIM,
		               a->on_free_list ? "  no thread (free_list)" : "  no thread");
	view_text_clip(g, VF_SMALL, x, y, right - x, COL_TEXT, lab);
	y += sh + 3;
	if (!a->nr_heaps)
		return y - b->y;

	/* its heaps, newest first (at most three bars): the reservation,
	   read-write then PROT_NONE */
	int bw = b->w, bh = sh + 2;
	unsigned nh = a->nr_heaps < 3 ? a->nr_heaps : 3;

	for (unsigned k = 0; k < nh; k++) {
		const struct vm_heap *h = &a->heaps[k];
		double frac =
		    h->reserved ? (double)(h->rw_end - h->start) / (double)h->reserved : 0;
		int rw = (int)(bw * (frac > 0.3 ? frac : 0.3));
		bool last = k + 1 == nh && a->nr_heaps_total > nh;

		if (rw > bw - bw / 4)
			rw = bw - bw / 4; /* room for the PROT_NONE label */
		fmt_bytes(s1, sizeof(s1), h->rw_end - h->start);
		fmt_bytes(s2, sizeof(s2), h->none_end - h->rw_end);
		fill(g, b->x, y, rw, bh, COL_HEAP_RW);
		fill(g, b->x + rw, y, bw - rw, bh, COL_HEAP_NONE);
		for (int xx = b->x + rw + 4; xx < b->x + bw; xx += 8) /* hatched: no access */
			fill(g, xx, y + 1, 1, bh - 2, mix(COL_HEAP_NONE, 0, 0.35));
		frame_rect(g, b->x, y, bw, bh, mix(COL_HEAP_NONE, 0xffffff, 0.3));
		snprintf(lab, sizeof(lab), "rw %s", s1);
		view_text_clip(g, VF_SMALL, b->x + 3, y + 1, rw - 6, 0x101010, lab);
		fmt_bytes(s1, sizeof(s1), h->reserved);
		snprintf(lab, sizeof(lab), "PROT_NONE %s of the %s heap at %#" PRIx64 "%s", s2, s1,
		         h->start, last ? "; older heaps not shown" : "");
		view_text_clip(g, VF_SMALL, b->x + rw + 4, y + 1, bw - rw - 8, COL_TEXT, lab);
		y += bh + 2;
	}
	return y + 1 - b->y;
}

void view_draw_heap(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                    int side)
{
	struct view_model *m = si->m;
	char sub[96], s1[48];
	int sh = g->font[VF_SMALL].h, n = 0;
	size_t nmm = 0;

	for (size_t i = 0; i < m->nr_chunks; i++)
		m->chunks[i].mmapped ? nmm++ : (void)0;
	snprintf(sub, sizeof(sub), "%s: %zu chunk%s%s", m->policy ? m->policy : "?",
	         m->nr_chunks_total, m->nr_chunks_total == 1 ? "" : "s",
	         nmm ? " (some mmapped)" : "");
	if (m->nr_arenas > 1)
		snprintf(sub + strlen(sub), sizeof(sub) - strlen(sub), " in %s of pid %d",
		         m->sel_arena ? "this arena" : "main_arena", m->sel_pid);
	struct view_rect b = panel(g, p, "heap", sub);
	const struct vm_arena *ar = m->nr_arenas > 1 ? &m->arenas[m->sel_arena] : NULL;

	if (ar) {
		int used = draw_arenas(g, &b, m, side);

		b.y += used;
		b.h -= used;
	}
	int strip_y = b.y + 2, strip_h = 2 * g->font_px + 6;
	int maxn = b.w / 7;
	double wsum = 0;

	for (size_t i = 0; i < m->nr_chunks && n < maxn; i++)
		if (!m->chunks[i].mmapped) {
			wsum += 1.0 + log2(1.0 + (double)m->chunks[i].size / 32.0);
			n++;
		}
	if (!n) {
		view_text_clip(g, VF_NORMAL, b.x, strip_y + 4, b.w, COL_DIM,
		               m->brk == m->start_brk ? "no heap yet: brk == start_brk"
		                                      : "no malloc chunk yet: malloc has not set "
		                                        "up its heap (sbrk alone makes none)");
	}
	int x = b.x, drawn = 0;
	const struct vm_chunk *hl = NULL;

	for (size_t i = 0; i < m->nr_chunks && drawn < n; i++) {
		const struct vm_chunk *c = &m->chunks[i];

		if (c->mmapped)
			continue;
		double wt = 1.0 + log2(1.0 + (double)c->size / 32.0);
		int w = drawn == n - 1 ? b.x + b.w - x : (int)(b.w * wt / wsum);
		uint32_t col = c->top ? COL_CH_TOP : c->in_use ? COL_CH_USE : COL_CH_FREE;
		uint64_t hdr = c->user > c->chunk ? c->user - c->chunk : 16;
		int hw = w / 5 > 10 ? 10 : w / 5;

		(void)hdr;
		if (hw < 2)
			hw = 2;
		fill(g, x, strip_y, w - 1, strip_h, col);
		fill(g, x, strip_y, hw, strip_h, mix(col, 0, 0.5));
		if (m->heap_touched &&
		    (m->heap_touched == c->chunk || m->heap_touched == c->user)) {
			hl = c;
			frame_rect(g, x - 1, strip_y - 1, w + 1, strip_h + 2, COL_ACTIVE);
			frame_rect(g, x, strip_y, w - 1, strip_h, COL_ACTIVE);
		}
		fmt_bytes(s1, sizeof(s1), c->size);
		if (w - hw - 4 > view_text_width(g, VF_SMALL, s1))
			view_text(g, VF_SMALL, x + hw + 3, strip_y + 2, 0x101010, s1);
		if (w - hw - 4 > view_text_width(g, VF_SMALL, c->where))
			view_text(g, VF_SMALL, x + hw + 3, strip_y + 2 + sh, 0x202020, c->where);
		add_hit(g, side, HIT_CHUNK, x, strip_y, w, strip_h, i, 0);
		x += w;
		drawn++;
	}
	int y = strip_y + strip_h + 3;

	if (n) {
		const struct vm_chunk *f = NULL, *l = NULL;

		for (size_t i = 0; i < m->nr_chunks; i++)
			if (!m->chunks[i].mmapped) {
				f = f ? f : &m->chunks[i];
				l = &m->chunks[i];
			}
		int lw = textf(g, VF_SMALL, b.x, y, COL_DIM, "%#" PRIx64, f->chunk), rw;
		char more[48];

		if (ar && ar->nr_heaps) /* the end of the newest heap's used part */
			snprintf(s1, sizeof(s1), "heap end %#" PRIx64,
			         ar->heaps[0].start + ar->heaps[0].size);
		else
			snprintf(s1, sizeof(s1), "brk %#" PRIx64, m->brk);
		rw = view_text_width(g, VF_SMALL, s1);
		view_text(g, VF_SMALL, b.x + b.w - rw, y, ar && ar->nr_heaps ? COL_DIM : COL_BRK,
		          s1);
		if (m->nr_chunks_total > (size_t)drawn + nmm) {
			snprintf(more, sizeof(more), "+%zu more chunks",
			         m->nr_chunks_total - (size_t)drawn - nmm);
			if (view_text_width(g, VF_SMALL, more) + 24 < b.w - lw - rw)
				view_text(g, VF_SMALL,
				          b.x + lw +
				              (b.w - lw - rw - view_text_width(g, VF_SMALL, more)) /
				                  2,
				          y, COL_DIM, more);
		}
		(void)l;
		y += sh + 2;
	}
	if (hl) {
		textf(g, VF_SMALL, b.x, y, COL_ACTIVE,
		      "just changed: chunk %#" PRIx64 ", %" PRIu64 " bytes, %s", hl->chunk,
		      hl->size, hl->in_use ? "in use" : hl->where);
		y += sh + 2;
	}
	if (nmm && y + sh <= b.y + b.h - sh) {
		int xm = b.x + view_text(g, VF_SMALL, b.x, y, COL_DIM, "mmapped: ");

		for (size_t i = 0; i < m->nr_chunks; i++) {
			const struct vm_chunk *c = &m->chunks[i];

			if (!c->mmapped)
				continue;
			fmt_bytes(s1, sizeof(s1), c->size);
			int w = view_text_width(g, VF_SMALL, s1) + 8;

			if (xm + w > b.x + b.w)
				break;
			fill(g, xm, y, w - 2, sh, COL_CH_MMAP);
			view_text(g, VF_SMALL, xm + 3, y, 0x101010, s1);
			add_hit(g, side, HIT_CHUNK, xm, y, w, sh, i, 0);
			xm += w;
		}
	}
	/* The legend at the bottom, in the rows the content left free. */
	struct legend_item it[8];
	int n2 = 0, rows = (b.y + b.h - y + 2) / (sh + 2);

	it[n2++] = (struct legend_item){COL_CH_USE, "in use", false};
	it[n2++] = (struct legend_item){COL_CH_FREE, "free", false};
	it[n2++] = (struct legend_item){COL_CH_TOP, "top", false};
	if (ar && ar->nr_heaps) {
		it[n2++] = (struct legend_item){COL_HEAP_RW, "rw", false};
		it[n2++] = (struct legend_item){COL_HEAP_NONE, "PROT_NONE", false};
	} else {
		it[n2++] = (struct legend_item){mix(COL_CH_USE, 0, 0.5), "header", false};
	}
	if (nmm)
		it[n2++] = (struct legend_item){COL_CH_MMAP, "mmapped", false};
	it[n2++] = (struct legend_item){COL_ACTIVE, "just changed", true};
	if (rows > 0)
		legend_up(g, it, n2, b.x, b.y + b.h - sh, b.x + b.w, sh + 2, rows);
}
