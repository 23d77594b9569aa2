/*
 * view_tlb.c - the viewer's counters and TLB panel (see view_panel.h): the
 * fault, TLB, RSS, free-frame and system-call counts, and (unless two
 * sides share the window) the TLB: which sets hold valid entries (a strip,
 * summarised when the sets outnumber the pixels) and its valid entries by
 * set and way -- all of them when they fit, else the window around the one
 * the statement filled, labelled with the part shown -- that one
 * highlighted.
 */
#include "view_panel.h"

/*
 * Which sets hold valid entries, as one strip of cells under the geometry
 * line: a cell is one set, or with more sets than fit, a run of them (the
 * label says how many), its brightness the share of their ways that are
 * valid; the cell of the entry the statement filled is outlined. So a TLB
 * of thousands of sets is still drawn whole, summarised, when its entries
 * cannot all be listed. Returns the y below it.
 */
static int draw_occupancy(struct view_gfx *g, const struct view_rect *b, int y,
                          const struct view_model *m)
{
	int sh = g->font[VF_SMALL].h, lw = 18 * g->font[VF_SMALL].adv;
	int cells = (b->w - lw) / 4, cellw;
	unsigned per;

	if (!m->tlb_sets || cells < 1)
		return y;
	per = (m->tlb_sets + (unsigned)cells - 1) / (unsigned)cells;
	cells = (int)((m->tlb_sets + per - 1) / per);
	cellw = (b->w - lw) / cells;
	if (cellw > 14)
		cellw = 14;
	if (per == 1)
		textf(g, VF_SMALL, b->x, y, COL_DIM, "valid by set");
	else
		textf(g, VF_SMALL, b->x, y, COL_DIM, "1 cell = %u sets", per);
	for (int c = 0; c < cells; c++) {
		size_t lo = (size_t)c * per * m->tlb_ways, hi = lo + (size_t)per * m->tlb_ways;
		unsigned valid = 0;
		bool filled = false;

		if (hi > (size_t)m->tlb_sets * m->tlb_ways)
			hi = (size_t)m->tlb_sets * m->tlb_ways;
		for (size_t i = lo; i < hi; i++)
			valid += m->tlb[i].vpn != TLB_VPN_NONE;
		filled = m->tlb_filled >= (long)lo && m->tlb_filled < (long)hi;
		int x = b->x + lw + c * cellw;

		fill(g, x, y + 1, cellw > 2 ? cellw - 1 : cellw, sh - 2,
		     mix(COL_PANEL, COL_OK, valid ? 0.25 + 0.75 * valid / (double)(hi - lo) : 0));
		if (filled)
			frame_rect(g, x - 1, y, cellw + 1, sh, COL_ACTIVE);
	}
	return y + sh + 2;
}

void view_draw_tlb(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                   bool compact)
{
	struct view_model *m = si->m;
	char sub[64], v[8][64];
	int sh = g->font[VF_SMALL].h, y;
	unsigned valid = 0;

	for (unsigned i = 0; i < m->tlb_sets * m->tlb_ways; i++)
		valid += m->tlb[i].vpn != TLB_VPN_NONE;
	snprintf(sub, sizeof(sub), "TLB %u/%u entries valid", valid, m->tlb_sets * m->tlb_ways);
	struct view_rect b = panel(g, p, compact ? "counters" : "counters and TLB", sub);
	const char *lab[8] = {"page faults", "TLB hits",    "TLB misses",     "RSS pages",
	                      "free frames", "page tables", "brk/mmap calls", "event"};

	snprintf(v[0], 64, "%" PRIu64 " (stmt: %" PRIu64 ")", m->faults, m->stmt_faults);
	snprintf(v[1], 64, "%" PRIu64, m->tlb_hits);
	snprintf(v[2], 64, "%" PRIu64, m->tlb_misses);
	snprintf(v[3], 64, "%" PRIu64 " (%" PRIu64 " KiB)", m->rss, m->rss * 4);
	snprintf(v[4], 64, "%" PRIu64 " of %" PRIu64, m->free_pages, m->managed);
	snprintf(v[5], 64, "%" PRIu64, m->pt_pages);
	snprintf(v[6], 64, "%" PRIu64 " / %" PRIu64, m->brk_calls, m->mmap_calls);
	snprintf(v[7], 64, "#%" PRIu64, m->seq);
	int lw = 15 * g->font[VF_SMALL].adv,
	    ncol = b.w / 2 >= lw + 11 * g->font[VF_SMALL].adv ? 2 : 1;
	int colw = b.w / ncol;

	y = b.y;
	for (int i = 0; i < 8; i++) {
		int x = b.x + (i % ncol) * colw, yy = y + (i / ncol) * (sh + 3);

		if (yy + sh > b.y + b.h)
			break;

		view_text(g, VF_SMALL, x, yy, COL_DIM, lab[i]);
		view_text_clip(g, VF_SMALL, x + lw, yy, colw - lw - 4, COL_TITLE, v[i]);
	}
	y += (8 / ncol) * (sh + 3) + 4;
	/* the TLB itself below: its geometry, the strip, a row of entries and
	   the legend, or nothing when they do not fit (the subtitle still
	   counts the valid entries) */
	if (compact || y + 4 + 4 * (sh + 2) > b.y + b.h)
		return;
	hline(g, b.x, b.x + b.w, y, COL_BORDER);
	y += 4;
	textf(g, VF_SMALL, b.x, y, COL_DIM, "TLB: %u set%s x %u way%s, vpn \xe2\x86\x92 pfn, W U D",
	      m->tlb_sets, m->tlb_sets == 1 ? "" : "s", m->tlb_ways, m->tlb_ways == 1 ? "" : "s");
	y += sh + 2;
	y = draw_occupancy(g, &b, y, m);
	int cw = 25 * g->font[VF_SMALL].adv, rows = (b.y + b.h - sh - 2 - y) / (sh + 1);
	struct vm_tlb_window w;
	unsigned rank = 0, k = 0;

	ncol = b.w / cw;
	if (ncol < 1)
		ncol = 1;
	if (rows < 0)
		rows = 0;
	view_model_tlb_window(m, (unsigned)(ncol * rows), &w);
	for (size_t i = 0; i < (size_t)m->tlb_sets * m->tlb_ways && k < w.n; i++) {
		const struct tlb_entry *e = &m->tlb[i];
		bool filled = (long)i == m->tlb_filled;

		if (e->vpn == TLB_VPN_NONE || rank++ < w.first)
			continue;
		int x = b.x + (int)(k / rows) * cw, yy = y + (int)(k % rows) * (sh + 1);

		if (filled)
			fill_a(g, x - 2, yy, cw - 4, sh, COL_ACTIVE, 90);
		textf(g, VF_SMALL, x, yy, filled ? COL_TITLE : COL_TEXT,
		      "%2zu %" PRIx64 "\xe2\x86\x92%" PRIx64 " %c%c%c", i / m->tlb_ways,
		      tlb_key_vpn(e->vpn), (uint64_t)e->pfn, e->perm & TLB_W ? 'W' : '-',
		      e->perm & TLB_U ? 'U' : '-', e->perm & TLB_D ? 'D' : '-');
		k++;
	}
	if (w.n < m->tlb_valid) {
		char more[96];

		if (w.set_lo == w.set_hi)
			snprintf(more, sizeof(more), "valid %u-%u of %u, set %u", w.first + 1,
			         w.first + w.n, m->tlb_valid, w.set_lo);
		else
			snprintf(more, sizeof(more), "valid %u-%u of %u, sets %u-%u", w.first + 1,
			         w.first + w.n, m->tlb_valid, w.set_lo, w.set_hi);
		int mw = view_text_width(g, VF_SMALL, more);

		textf(g, VF_SMALL, b.x + b.w - mw, b.y + b.h - sh, COL_DIM, "%s", more);
	}
	chip(g, b.x, b.y + b.h - sh, COL_ACTIVE, "filled by this statement", false);
}
