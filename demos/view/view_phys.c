/*
 * view_phys.c - the viewer's physical-memory panel (see view_panel.h): the
 * frame grid coloured by kind and free blocks by order, the buddy
 * operation and the frame just taken outlined, 64 frames magnified, the
 * legend; and the grid's geometry that maps a click back to a pfn.
 *
 * The frame grid is one streaming texture per side, rebuilt only when the
 * event or the geometry changes: one texel run per cell, each cell one
 * frame or -- when there are more frames than room -- one run of frames,
 * so 1 GiB of simulated RAM (262144 frames) is still one texture copy.
 */
#include <stdlib.h>
#include <string.h>

#include "view_panel.h"

/* Frames by kind (enum frame_kind); free frames by order below. */
static const uint32_t kind_col[FK__COUNT] = {
    [FK_FREE] = 0x3c5a96,      [FK_RESERVED] = 0x5a5a5a, [FK_KERNEL] = 0xc8783c,
    [FK_PAGETABLE] = 0xe65a5a, [FK_ANON] = 0x5ac86e,     [FK_ZERO] = 0xf0f0f0,
};
static const char *const kind_label[FK__COUNT] = {
    [FK_FREE] = "free",      [FK_RESERVED] = "reserved",
    [FK_KERNEL] = "kernel",  [FK_PAGETABLE] = "page table",
    [FK_ANON] = "user page", [FK_ZERO] = "zero page",
};

static uint32_t code_col(uint8_t c)
{
	if (FC_CODE(c) == FC_SHARED)
		return COL_SHARED;
	if (fc_is_free(c))
		return free_col(FC_CODE(c) - FC_FREE0, c & FC_ODD);
	return kind_col[FC_CODE(c) < FK__COUNT ? FC_CODE(c) : FK_RESERVED];
}

/* ---- physical memory ---------------------------------------------------------------- */

/*
 * Cell geometry for n frames in r: the column count whose cells (cw x ch,
 * not necessarily square) are biggest, at least 2 px on each side; when even
 * 2 x 2 cells do not fit, several frames a cell (fpc), one run per cell.
 */
static void grid_geometry(struct view_grid *gr, const struct view_rect *r, uint64_t n)
{
	int best = -1;

	gr->r = *r;
	gr->nr_frames = n;
	gr->fpc = 1;
	gr->cw = gr->ch = 0;
	for (int cols = 1; cols <= r->w / 2; cols++) {
		uint64_t rows = (n + (uint64_t)cols - 1) / (uint64_t)cols;
		int cw = r->w / cols, ch;

		if (rows > (uint64_t)r->h / 2)
			continue;
		ch = (int)((uint64_t)r->h / rows);
		if (ch > 3 * cw)
			ch = 3 * cw; /* keep cells from turning into bars */
		/* Biggest cells first, then the widest grid (equal cells tie). */
		int score = (cw < ch ? cw : ch) * 1000000 + cw * ch * 10000 + cols * cw;

		if (score > best) {
			best = score;
			gr->cols = cols;
			gr->rows = (int)rows;
			gr->cw = cw;
			gr->ch = ch;
		}
	}
	if (best >= 0)
		return;
	gr->cw = gr->ch = 2;
	gr->cols = r->w / 2 > 0 ? r->w / 2 : 1;
	uint64_t cells = (uint64_t)gr->cols * (uint64_t)(r->h / 2 > 0 ? r->h / 2 : 1);

	gr->fpc = (n + cells - 1) / cells;
	gr->rows =
	    (int)(((n + gr->fpc - 1) / gr->fpc + (uint64_t)gr->cols - 1) / (uint64_t)gr->cols);
}

/* Where cell number cell is drawn (x, y relative to the grid). */
static void cell_xy(const struct view_grid *gr, uint64_t cell, int *x, int *y)
{
	*x = (int)(cell % (uint64_t)gr->cols) * gr->cw;
	*y = (int)(cell / (uint64_t)gr->cols) * gr->ch;
}

/* The colour of a cell: a run of frames. Used frames win over free ones
   (one user page among 15 free frames must show); among free frames the
   biggest order wins. */
static uint32_t cell_col(const struct view_model *m, uint64_t first, uint64_t cnt)
{
	unsigned used[FK__COUNT] = {0};
	uint8_t best_free = 0;
	bool any_used = false, any_shared = false;

	if (cnt == 1)
		return code_col(m->fcode[first]);
	for (uint64_t i = first; i < first + cnt && i < m->nr_frames; i++) {
		uint8_t c = m->fcode[i];

		if (FC_CODE(c) == FC_SHARED) {
			any_shared = true; /* one shared frame among many must show */
		} else if (fc_is_free(c)) {
			if (FC_CODE(c) >= FC_CODE(best_free))
				best_free = c;
		} else {
			used[FC_CODE(c) < FK__COUNT ? FC_CODE(c) : FK_RESERVED]++;
			any_used = true;
		}
	}
	if (any_shared)
		return COL_SHARED;
	if (!any_used)
		return code_col(best_free & ~FC_ODD); /* no block shading across runs */
	int k = FK_RESERVED;

	for (int i = 1; i < FK__COUNT; i++)
		if (used[i] > used[k] || (used[i] == used[k] && i == FK_ANON))
			k = i;
	return kind_col[k];
}

static void build_grid(struct view_gfx *g, int side, const struct view_model *m)
{
	struct view_grid *gr = &g->grid[side];
	int gx = gr->cw >= 4 ? 1 : 0, gy = gr->ch >= 4 ? 1 : 0;
	int tw = gr->cols * gr->cw, th = gr->rows * gr->ch;

	if (tw <= 0 || th <= 0)
		return;
	if (!gr->tex || gr->tw != tw || gr->th != th) {
		if (gr->tex)
			SDL_DestroyTexture(gr->tex);
		gr->tex = SDL_CreateTexture(g->r, SDL_PIXELFORMAT_ARGB8888,
		                            SDL_TEXTUREACCESS_STREAMING, tw, th);
		gr->tw = tw;
		gr->th = th;
	}
	if ((size_t)tw * (size_t)th > gr->pix_cap) {
		free(gr->pix);
		gr->pix_cap = (size_t)tw * (size_t)th;
		gr->pix = malloc(gr->pix_cap * sizeof(*gr->pix));
		if (!gr->pix) {
			gr->pix_cap = 0;
			return;
		}
	}
	uint32_t bg = 0xff000000 | COL_PANEL;

	for (size_t i = 0; i < (size_t)tw * (size_t)th; i++)
		gr->pix[i] = bg;
	uint64_t ncells = (m->nr_frames + gr->fpc - 1) / gr->fpc;

	for (uint64_t cell = 0; cell < ncells; cell++) {
		uint32_t col = 0xff000000 | cell_col(m, cell * gr->fpc, gr->fpc);
		int cx, cy;

		cell_xy(gr, cell, &cx, &cy);
		/* a shared frame: stripes of its colour over a user page's */
		bool stripes = (col & 0xffffff) == COL_SHARED;

		for (int yy = cy; yy < cy + gr->ch - gy; yy++)
			for (int xx = cx; xx < cx + gr->cw - gx; xx++)
				gr->pix[(size_t)yy * (size_t)tw + (size_t)xx] =
				    stripes && (xx + yy) % 4 >= 2 ? 0xff000000 | kind_col[FK_ANON]
				                                  : col;
	}
	if (gr->tex)
		SDL_UpdateTexture(gr->tex, NULL, gr->pix, tw * (int)sizeof(uint32_t));
	gr->built_seq = m->seq;
	gr->built_w = gr->r.w;
	gr->built_h = gr->r.h;
	gr->built_for = m;
}

/* Outline the cells of frames [pfn, pfn + cnt), row by row. */
static void outline_frames(struct view_gfx *g, const struct view_grid *gr, uint64_t pfn,
                           uint64_t cnt, uint32_t rgb, int thick)
{
	uint64_t c0 = pfn / gr->fpc, c1 = (pfn + cnt - 1) / gr->fpc;

	while (c0 <= c1) {
		uint64_t row = c0 / (uint64_t)gr->cols;
		uint64_t end = (row + 1) * (uint64_t)gr->cols - 1;
		int x, y;

		if (end > c1)
			end = c1;
		cell_xy(gr, c0, &x, &y);
		x += gr->r.x;
		y += gr->r.y;
		int w = (int)(end - c0 + 1) * gr->cw;

		for (int t = 0; t < thick; t++)
			frame_rect(g, x - 1 - t, y - 1 - t, w + 1 + 2 * t, gr->ch + 1 + 2 * t, rgb);
		c0 = end + 1;
	}
}

/*
 * The stripes of a shared frame over a w x h box at (x, y), for the
 * magnified strip and the legend: diagonals two pixels wide every four, in
 * a user page's colour (the grid's texels, build_grid, draw the same).
 */
static void stripes(struct view_gfx *g, int x, int y, int w, int h)
{
	for (int d = 2; d < w + h; d += 4)
		for (int i = 0; i < h; i++)
			for (int t = 0; t < 2; t++)
				if (d + t - i >= 0 && d + t - i < w)
					fill(g, x + d + t - i, y + i, 1, 1, kind_col[FK_ANON]);
}

/*
 * 64 frames magnified: those around the frame just taken (or the block of
 * the buddy operation, or of the event's pfn), each a cell big enough to
 * see a split's two halves, with pfn ticks every 8 frames.
 */
static void draw_zoom(struct view_gfx *g, const struct view_rect *z, const struct view_model *m)
{
	int sh = g->font[VF_SMALL].h, n = 64, cw = z->w / n;
	uint64_t focus = 0;
	char lab[64];

	if (m->bop_now && (m->bop == VB_SPLIT || m->bop == VB_MERGE))
		focus = m->bop_pfn;
	else if (m->taken_pfn != PFN_NONE)
		focus = m->taken_pfn;
	else if (m->bop != VB_NONE)
		focus = m->bop_pfn;
	else
		focus = event_field(&m->cur, "pfn", 0);
	uint64_t start = focus / (uint64_t)n * (uint64_t)n;

	if (cw < 2 || !m->nr_frames)
		return;
	for (int i = 0; i < n && start + (uint64_t)i < m->nr_frames; i++) {
		uint64_t pfn = start + (uint64_t)i;
		int x = z->x + i * cw, y = z->y;

		fill(g, x, y, cw - 1, sh, code_col(m->fcode[pfn]));
		if (FC_CODE(m->fcode[pfn]) == FC_SHARED)
			stripes(g, x, y, cw - 1, sh);
		if (m->taken_pfn != PFN_NONE && pfn >= m->taken_pfn &&
		    pfn < m->taken_pfn + (1ULL << m->taken_order))
			fill(g, x, y, cw - 1, sh, VIEW_COL_TAKEN);
		if (i % 8 == 0) {
			hline(g, x, x, y + sh, COL_DIM);
			snprintf(lab, sizeof(lab), "%#" PRIx64, pfn);
			view_text(g, VF_SMALL, x, y + sh + 1, COL_DIM, lab);
		}
	}
	if (m->bop == VB_SPLIT || m->bop == VB_MERGE) {
		uint64_t o = m->bop == VB_MERGE ? m->bop_order + 1 : m->bop_order;
		uint64_t pfn = m->bop == VB_MERGE ? m->bop_pfn & ~((1ULL << o) - 1) : m->bop_pfn;
		uint64_t cnt = 1ULL << o;

		if (pfn < start + (uint64_t)n && pfn + cnt > start) {
			uint64_t a = pfn > start ? pfn - start : 0, b = pfn + cnt - start;

			if (b > (uint64_t)n)
				b = (uint64_t)n;
			uint32_t c = m->bop == VB_SPLIT ? COL_SPLIT : COL_MERGE;

			frame_rect(g, z->x + (int)a * cw - 1, z->y - 1, (int)(b - a) * cw + 1,
			           sh + 2, c);
			frame_rect(g, z->x + (int)a * cw - 2, z->y - 2, (int)(b - a) * cw + 3,
			           sh + 4, c);
		}
	}
}

void view_draw_phys(struct view_gfx *g, const struct view_layout *L, int side,
                    struct view_side_info *si)
{
	struct view_model *m = si->m;
	struct view_grid *gr = &g->grid[side];
	char sub[128], s1[32];

	grid_geometry(gr, &L->phys_grid[side], m->nr_frames);
	fmt_bytes(s1, sizeof(s1), m->nr_frames * PAGE_SIZE);
	if (gr->fpc == 1)
		snprintf(sub, sizeof(sub), "%s = %" PRIu64 " frames, 1 cell = 1 frame", s1,
		         m->nr_frames);
	else
		snprintf(sub, sizeof(sub), "%s = %" PRIu64 " frames, 1 cell = %" PRIu64 " frames",
		         s1, m->nr_frames, gr->fpc);
	if (m->nr_shared) {
		size_t l = strlen(sub);

		snprintf(sub + l, sizeof(sub) - l, "; %" PRIu64 " shared", m->nr_shared);
	}
	panel(g, &L->panel[side][VP_PHYS], "physical memory", sub);
	if (gr->built_seq != m->seq || gr->built_w != gr->r.w || gr->built_h != gr->r.h ||
	    gr->built_for != m || !gr->tex)
		build_grid(g, side, m);
	if (gr->tex) {
		SDL_Rect dst = {gr->r.x, gr->r.y, gr->tw, gr->th};

		SDL_RenderCopy(g->r, gr->tex, NULL, &dst);
	}
	add_hit(g, side, HIT_FRAMES, gr->r.x, gr->r.y, gr->tw, gr->th, 0, 0);
	/* The buddy operation of the statement, then the frame just taken. */
	if (m->bop == VB_SPLIT || m->bop == VB_MERGE) {
		uint64_t o = m->bop == VB_MERGE ? m->bop_order + 1 : m->bop_order;
		uint64_t pfn = m->bop == VB_MERGE ? m->bop_pfn & ~((1ULL << o) - 1) : m->bop_pfn;

		outline_frames(g, gr, pfn, 1ULL << o, m->bop == VB_SPLIT ? COL_SPLIT : COL_MERGE,
		               2);
	}
	if (m->taken_pfn != PFN_NONE && m->taken_pfn < m->nr_frames) {
		uint64_t cnt = 1ULL << m->taken_order;
		uint64_t c0 = m->taken_pfn / gr->fpc, c1 = (m->taken_pfn + cnt - 1) / gr->fpc;
		int grow = (int)(6 * (1 - g->anim)), x = 0, y = 0;

		for (uint64_t cell = c0; cell <= c1; cell++) {
			cell_xy(gr, cell, &x, &y);
			x += gr->r.x;
			y += gr->r.y;
			fill(g, x, y, gr->cw - (gr->cw >= 4), gr->ch - (gr->ch >= 4),
			     VIEW_COL_TAKEN);
		}
		/* A ring and a label, so that one frame among thousands is found. */
		cell_xy(gr, c0, &x, &y);
		x += gr->r.x;
		y += gr->r.y;
		frame_rect(g, x - 4 - grow, y - 4 - grow, gr->cw + 8 + 2 * grow,
		           gr->ch + 8 + 2 * grow, VIEW_COL_TAKEN);
		{
			char lab[48];
			int lw, lx, ly;

			snprintf(lab, sizeof(lab), "pfn %#" PRIx64 " taken", m->taken_pfn);
			lw = view_text_width(g, VF_SMALL, lab) + 6;
			lx = x + gr->cw + 8;
			ly = y - g->font[VF_SMALL].h - 2;
			if (lx + lw > gr->r.x + gr->r.w)
				lx = x - lw - 8;
			if (ly < gr->r.y)
				ly = y + gr->ch + 6;
			fill(g, lx, ly, lw, g->font[VF_SMALL].h, 0x101216);
			view_text(g, VF_SMALL, lx + 3, ly, VIEW_COL_TAKEN, lab);
		}
		outline_frames(g, gr, m->taken_pfn, cnt, VIEW_COL_TAKEN, 2 + grow);
	}
	draw_zoom(g, &L->phys_zoom[side], m);
	/* Legend: three lines under the grid: the free orders' colours, then
	   the frame kinds and the marks in two rows (short labels when the
	   long ones need more). */
	int sh = g->font[VF_SMALL].h, y = L->phys_zoom[side].y + L->phys_zoom[side].h + 4,
	    x = gr->r.x, right = gr->r.x + gr->r.w;
	int rw = g->font[VF_SMALL].adv;
	static const char *const long_head = "above: 64 frames magnified.  free, by order: ";
	int strip_w = (int)(MAX_PAGE_ORDER + 1) * (2 * rw + 1);

	x += view_text(g, VF_SMALL, x, y, COL_DIM,
	               view_text_width(g, VF_SMALL, long_head) + strip_w <= gr->r.w
	                   ? long_head
	                   : "free, by order: ");
	for (unsigned o = 0; o <= MAX_PAGE_ORDER && x + 2 * rw <= right; o++) {
		fill(g, x, y + 1, 2 * rw, sh - 2, free_col(o, false));
		if (o == 0 || o == MAX_PAGE_ORDER || o == 5)
			textf(g, VF_SMALL, x + (o == 10 ? 0 : rw / 2), y, 0x101010, "%u", o);
		x += 2 * rw + 1;
	}
	y += sh + 2;
	static const char *const short_label[FK__COUNT] = {
	    [FK_FREE] = "free",    [FK_RESERVED] = "rsvd", [FK_KERNEL] = "kernel",
	    [FK_PAGETABLE] = "pgtable", [FK_ANON] = "user",  [FK_ZERO] = "zero",
	};
	struct legend_item it[FK__COUNT + 4];
	int n = 0, at[FK__COUNT + 4][2];
	bool shared = m->nr_tasks > 1 || m->nr_shared;

	for (int brief = 0; brief < 2; brief++) {
		n = 0;
		for (int k = FK_RESERVED; k < FK__COUNT; k++)
			it[n++] = (struct legend_item){kind_col[k],
			                               brief ? short_label[k] : kind_label[k], false};
		it[n++] = (struct legend_item){VIEW_COL_TAKEN,
		                               brief ? "taken" : "frame just taken", false};
		it[n++] = (struct legend_item){COL_SPLIT, "split", true};
		it[n++] = (struct legend_item){COL_MERGE, "merge", true};
		if (shared)
			it[n++] = (struct legend_item){
			    COL_SHARED, brief ? "shared (COW)" : "mapped by 2+ (fork: COW)", false};
		if (legend_rows(g, it, n, gr->r.w, 3) <= 2)
			break;
	}
	legend_draw(g, it, n, gr->r.x, y, right, sh + 2, 2, at);
	if (shared && at[n - 1][0] >= 0)
		stripes(g, at[n - 1][0], at[n - 1][1] + 2, sh - 4, sh - 4);
}

pfn_t view_grid_pfn(const struct view_gfx *g, int s, int x, int y)
{
	const struct view_grid *gr = &g->grid[s];
	int cx, cy;
	uint64_t cell;

	if (!gr->cw || !gr->ch || x < gr->r.x || y < gr->r.y)
		return PFN_NONE;
	cx = (x - gr->r.x) / gr->cw;
	cy = (y - gr->r.y) / gr->ch;
	if (cx >= gr->cols || cy >= gr->rows)
		return PFN_NONE;
	cell = (uint64_t)cy * (uint64_t)gr->cols + (uint64_t)cx;
	if (cell * gr->fpc >= gr->nr_frames)
		return PFN_NONE;
	return cell * gr->fpc;
}
