/*
 * view_buddy.c - the viewer's buddy panel (see view_panel.h): the free
 * lists, free_area[order].nr_free with a square per block, the orders the
 * statement split or merged, and under memory pressure the watermarks, the
 * LRU lists, the swap area and the last page that moved.
 */
#include "view_panel.h"

/* A bar of w pixels at (x, y): frac of it filled with rgb over a dim track. */
static void bar(struct view_gfx *g, int x, int y, int w, int h, double frac, uint32_t rgb)
{
	fill(g, x, y, w, h, COL_BORDER);
	if (frac > 1)
		frac = 1;
	if (frac > 0)
		fill(g, x, y, (int)(w * frac + 0.5) ? (int)(w * frac + 0.5) : 1, h, rgb);
}

/*
 * The memory-pressure rows under the buddy lists: free pages against the
 * zone's min/low/high watermarks, the inactive and active LRU lists, the
 * swap area's slots, and the latest page that moved between RAM and swap:
 * the first `rows` of these four (draw_pressure cuts them at the panel's
 * right edge).
 */
static void draw_pressure_rows(struct view_gfx *g, int x, int y, int w, int rh, int rows,
                               const struct view_model *m)
{
	int adv = g->font[VF_SMALL].adv, lw = 9 * adv, bw = w / 3, bh = rh - 6;
	uint64_t scale = m->wmark[2] * 2 > m->free_pages ? m->wmark[2] * 2 : m->free_pages;
	static const uint32_t wcol[3] = {COL_WMARK_MIN, COL_WMARK_LOW, COL_WMARK_HIGH};
	static const char *const wname[3] = {"min", "low", "high"};
	uint64_t lru = m->lru_inactive + m->lru_active;
	int tx;

	hline(g, x, x + w, y - 2, COL_BORDER);
	/* free vs watermarks: the bar runs to twice the high mark */
	view_text(g, VF_SMALL, x, y, COL_DIM, "free");
	bar(g, x + lw, y + 3, bw, bh, scale ? (double)m->free_pages / (double)scale : 0,
	    m->free_pages <= m->wmark[0]   ? COL_WMARK_MIN
	    : m->free_pages <= m->wmark[1] ? COL_WMARK_LOW
	                                   : COL_TEXT);
	tx = x + lw + bw + adv;
	for (int i = 0; i < 3; i++) {
		int mx =
		    x + lw + (scale ? (int)((double)bw * (double)m->wmark[i] / (double)scale) : 0);

		fill(g, mx, y + 1, 2, bh + 4, wcol[i]);
		tx += textf(g, VF_SMALL, tx, y, wcol[i], "%s %" PRIu64 " ", wname[i], m->wmark[i]);
	}
	textf(g, VF_SMALL, tx, y, COL_TEXT, "free %" PRIu64, m->free_pages);
	y += rh;
	if (rows < 2)
		return;
	/* the LRU lists */
	view_text(g, VF_SMALL, x, y, COL_DIM, "LRU anon");
	bar(g, x + lw, y + 3, bw, bh, lru ? (double)m->lru_inactive / (double)lru : 0,
	    COL_INACTIVE);
	textf(g, VF_SMALL, x + lw + bw + adv, y, COL_TEXT, "inactive %" PRIu64 "  active %" PRIu64,
	      m->lru_inactive, m->lru_active);
	y += rh;
	if (rows < 3)
		return;
	/* the swap area */
	view_text(g, VF_SMALL, x, y, COL_DIM, "swap");
	if (m->swap_total) {
		bar(g, x + lw, y + 3, bw, bh, (double)m->swap_used / (double)m->swap_total,
		    COL_SWAP);
		textf(g, VF_SMALL, x + lw + bw + adv, y, COL_TEXT,
		      "%" PRIu64 "/%" PRIu64 " slots  out %" PRIu64 " in %" PRIu64, m->swap_used,
		      m->swap_total, m->pswpout, m->pswpin);
	} else {
		textf(g, VF_SMALL, x + lw, y, COL_DIM,
		      "none: anonymous pages cannot be reclaimed%s",
		      m->oom_kills ? "; the OOM killer ran" : "");
	}
	y += rh;
	if (rows < 4)
		return;
	/* which frame went where */
	tx = textf(g, VF_SMALL, x, y, COL_DIM, "kswapd ran %" PRIu64 "x, reclaimed %" PRIu64 "  ",
	           m->kswapd_runs, m->reclaimed);
	if (m->moved)
		textf(g, VF_SMALL, x + tx, y, COL_SWAP,
		      m->moved_out
		          ? "#%" PRIu64 " frame pfn %#" PRIx64 " \xe2\x86\x92 swap slot %" PRIu64
		          : "#%" PRIu64 " swap slot %" PRIu64 " \xe2\x86\x92 frame pfn %#" PRIx64,
		      m->moved_seq, m->moved_out ? m->moved_pfn : m->moved_slot,
		      m->moved_out ? m->moved_slot : m->moved_pfn);
}

static void draw_pressure(struct view_gfx *g, int x, int y, int w, int rh, int rows,
                          const struct view_model *m)
{
	SDL_Rect clip = {x, y - 2, w, rows * rh + 2};

	if (rows < 1)
		return;
	SDL_RenderSetClipRect(g->r, &clip);
	draw_pressure_rows(g, x, y, w, rh, rows, m);
	SDL_RenderSetClipRect(g->r, NULL);
}

void view_draw_buddy(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                     int side)
{
	struct view_model *m = si->m;
	int sh = g->font[VF_SMALL].h, rh = sh + 1, adv = g->font[VF_SMALL].adv;
	struct view_rect b = panel(g, p, "buddy free lists", "free_area[order].nr_free");
	/* Under memory pressure, the bottom rows show the watermarks, the LRU
	   lists and the swap area (draw_pressure). */
	struct view_buddy_cols bc;
	char s1[32];

	view_buddy_columns(&b, sh, adv, m->nr_orders, m->pressure, &bc);
	int prows = bc.prows;
	int per = bc.per, colw = bc.colw;

	for (unsigned o = 0; o < bc.shown; o++) {
		int x = b.x + (int)(o / (unsigned)per) * colw,
		    y = b.y + (int)(o % (unsigned)per) * rh;
		bool touched = m->order_touched & (1u << o);
		bool now = m->bop_now && (m->bop == VB_SPLIT || m->bop == VB_MERGE) &&
		           (o == m->bop_order || (m->bop == VB_MERGE && o == m->bop_order + 1));

		if (now) {
			uint32_t c = m->bop == VB_MERGE ? COL_MERGE : COL_SPLIT;

			fill_a(g, x - 2, y, colw - 2, rh, c, 70 + (int)(100 * (1 - g->anim)));
			frame_rect(g, x - 2, y, colw - 2, rh, c);
		} else if (touched) {
			fill_a(g, x - 2, y, colw - 2, rh, COL_ACTIVE, 35);
		}
		fmt_bytes(s1, sizeof(s1), PAGE_SIZE << o);
		add_hit(g, side, HIT_ORDER, x, y, colw, rh, o, 0);
		int w = bc.full ? textf(g, VF_SMALL, x, y, COL_TEXT, "%2u %-8s %5" PRIu64, o, s1,
		                        m->nr_free[o])
		                : textf(g, VF_SMALL, x, y, COL_TEXT, "%2u %5" PRIu64, o, m->nr_free[o]);
		int bx = x + w + adv, maxb = x + colw - bx - 6;
		uint64_t nb = m->nr_free[o];
		int bs = sh - 4, step = bs + 2;

		for (uint64_t i = 0; i < nb && (int)i * step + bs < maxb; i++)
			fill(g, bx + (int)i * step, y + 2, bs, bs, free_col(o, i & 1));
		if (nb && (int)nb * step + bs >= maxb && maxb > 3 * adv)
			view_text(g, VF_SMALL, x + colw - 3 * adv - 4, y, COL_DIM, "\xe2\x80\xa6");
	}
	int y = b.y + b.h - sh;

	if (prows)
		draw_pressure(g, b.x, y - prows * rh - 2, b.w, rh, prows, m);
	if (m->bop_now && m->bop == VB_SPLIT)
		textf(g, VF_SMALL, b.x, y, COL_SPLIT,
		      "expand: upper half (pfn %#" PRIx64 ") goes on free_area[%u]", m->bop_pfn,
		      m->bop_order);
	else if (m->bop_now && m->bop == VB_MERGE)
		textf(g, VF_SMALL, b.x, y, COL_MERGE,
		      "merge: pfn %#" PRIx64 " + buddy into order %u", m->bop_pfn,
		      m->bop_order + 1);
	else if (m->pressure && !prows) /* no room for its rows: the gist */
		textf(g, VF_SMALL, b.x, y,
		      m->free_pages <= m->wmark[1] ? COL_WMARK_LOW : COL_DIM,
		      "free %" PRIu64 ", min/low/high %" PRIu64 "/%" PRIu64 "/%" PRIu64,
		      m->free_pages, m->wmark[0], m->wmark[1], m->wmark[2]);
	else if (bc.shown < m->nr_orders)
		textf(g, VF_SMALL, b.x, y, COL_DIM, "orders 0-%u of 0-%u shown: too small",
		      bc.shown - 1, m->nr_orders - 1);
	else {
		const struct legend_item it[] = {
		    {COL_SPLIT, "split now", false},
		    {COL_MERGE, "merge now", false},
		    {mix(COL_PANEL, COL_ACTIVE, 0.3), "changed in this statement", false}};

		legend_draw(g, it, 3, b.x, y, b.x + b.w, rh, 1, NULL);
	}
}
