/*
 * view_layout.c - the viewer's panel geometry (see view_layout.h).
 *
 * Proportions, not pixels: every rectangle is a fraction of the window, so a
 * resized window keeps the same arrangement; the font follows the height.
 * Rectangles tile their column exactly (the last one takes the remainder).
 */
#include "view_layout.h"

static const char *const panel_names[VP__COUNT] = {
    [VP_PATH] = "path",   [VP_VAS] = "vas", [VP_HEAP] = "heap",
    [VP_WALK] = "walk",   [VP_TLB] = "tlb", [VP_PHYS] = "phys",
    [VP_BUDDY] = "buddy", [VP_LOG] = "log", [VP_SCRIPT] = "script",
};

const char *view_panel_name(int panel)
{
	return panel >= 0 && panel < VP__COUNT ? panel_names[panel] : "?";
}

bool view_rect_contains(const struct view_rect *r, int x, int y)
{
	return x >= r->x && y >= r->y && x < r->x + r->w && y < r->y + r->h;
}

struct view_rect view_panel_body(const struct view_rect *p, int font_px)
{
	int title = font_px + 8;

	return (struct view_rect){p->x + 6, p->y + title, p->w - 12, p->h - title - 4};
}

/* Split column c vertically by the fractions f[0..n-1] (in thousandths). */
static void split_v(struct view_rect c, const int *f, const int *panels, int n,
                    struct view_rect *out)
{
	int y = c.y;

	for (int i = 0; i < n; i++) {
		int h = i == n - 1 ? c.y + c.h - y : c.h * f[i] / 1000;

		out[panels[i]] = (struct view_rect){c.x, y, c.w, h};
		y += h;
	}
}

/* Below this column height (a window under about 670 pixels high) the
   script panel takes the event log's place instead of a share of the
   column: the others would be too short to read. l shows the log again. */
#define VIEW_SCRIPT_MIN_COL_H 560

static void layout_side(struct view_layout *L, int s, struct view_rect r, bool compact, bool script)
{
	struct view_rect *P = L->panel[s];
	int fp = L->font_px;
	int path_h = 5 * (fp + 5) + 8;
	struct view_rect body = {r.x, r.y + path_h, r.w, r.h - path_h};

	P[VP_PATH] = (struct view_rect){r.x, r.y, r.w, path_h};
	if (!compact) {
		int wa = body.w * 22 / 100, wb = body.w * 37 / 100;
		struct view_rect a = {body.x, body.y, wa, body.h};
		struct view_rect b = {body.x + wa, body.y, wb, body.h};
		struct view_rect c = {body.x + wa + wb, body.y, body.w - wa - wb, body.h};
		static const int fb[] = {240, 350, 410}, pb[] = {VP_HEAP, VP_WALK, VP_TLB};
		/* Short: the page walk's rows before the TLB's list (which does
		   not fit then anyway; its counters do). */
		static const int fbs[] = {220, 420, 360};
		static const int fc[] = {440, 250, 310}, pc[] = {VP_PHYS, VP_BUDDY, VP_LOG};
		/* With the script: a source pane between the frames and the
		   free lists; the frame grid draws more frames a cell. */
		static const int fs[] = {320, 270, 200, 210},
		                 ps[] = {VP_PHYS, VP_SCRIPT, VP_BUDDY, VP_LOG};
		static const int pt[] = {VP_PHYS, VP_BUDDY, VP_SCRIPT};

		P[VP_VAS] = a;
		split_v(b, body.h < VIEW_SCRIPT_MIN_COL_H ? fbs : fb, pb, 3, P);
		if (script && c.h >= VIEW_SCRIPT_MIN_COL_H)
			split_v(c, fs, ps, 4, P);
		else if (script) /* short: the script in the log's place */
			split_v(c, fc, pt, 3, P);
		else
			split_v(c, fc, pc, 3, P);
	} else {
		int wa = body.w * 40 / 100;
		struct view_rect a = {body.x, body.y, wa, body.h};
		struct view_rect b = {body.x + wa, body.y, body.w - wa, body.h};
		static const int fa[] = {460, 270, 270}, pa[] = {VP_VAS, VP_HEAP, VP_TLB};
		static const int fas[] = {400, 240, 150, 210},
		                 pas[] = {VP_VAS, VP_HEAP, VP_TLB, VP_SCRIPT};
		static const int fb[] = {300, 300, 220, 180},
		                 pb[] = {VP_WALK, VP_PHYS, VP_BUDDY, VP_LOG},
		                 pt[] = {VP_WALK, VP_PHYS, VP_BUDDY, VP_SCRIPT};

		if (script && a.h >= VIEW_SCRIPT_MIN_COL_H) {
			split_v(a, fas, pas, 4, P);
			split_v(b, fb, pb, 4, P);
		} else { /* short: the script, if shown, in the log's place */
			split_v(a, fa, pa, 3, P);
			split_v(b, fb, script ? pt : pb, 4, P);
		}
	}
	/* The frame grid: the phys panel's body less room for the legend
	   (three lines) below it. */
	struct view_rect pb = view_panel_body(&P[VP_PHYS], fp);
	int legend = 3 * (fp + 4) + 6;

	int zoom = 2 * (fp + 2) + 8;

	pb.h -= legend + zoom;
	if (pb.h < 8)
		pb.h = 8;
	L->phys_grid[s] = pb;
	L->phys_zoom[s] = (struct view_rect){pb.x, pb.y + pb.h + 4, pb.w, zoom - 6};
}

void view_layout(struct view_layout *L, int w, int h, int nsides, bool script)
{
	if (w < VIEW_MIN_W)
		w = VIEW_MIN_W;
	if (h < VIEW_MIN_H)
		h = VIEW_MIN_H;
	if (nsides < 1)
		nsides = 1;
	if (nsides > VIEW_MAX_SIDES)
		nsides = VIEW_MAX_SIDES;
	*L = (struct view_layout){.w = w, .h = h, .nsides = nsides, .script = script};
	L->font_px = h / (nsides > 1 ? 70 : 60);
	if (L->font_px < 10)
		L->font_px = 10;
	if (L->font_px > 18)
		L->font_px = 18;
	int cmd_h = L->font_px + 12;

	L->cmd = (struct view_rect){0, h - cmd_h, w, cmd_h};
	for (int s = 0; s < nsides; s++) {
		int x0 = w * s / nsides, x1 = w * (s + 1) / nsides;

		L->side[s] = (struct view_rect){x0, 0, x1 - x0, h - cmd_h};
		layout_side(L, s, L->side[s], nsides > 1, script);
	}
}

void view_buddy_columns(const struct view_rect *body, int sh, int adv, unsigned nr_orders,
                        bool pressure, struct view_buddy_cols *c)
{
	/* a column: the text and a gap of one cell at least; with two
	   squares (sh - 4 each, 2 apart, and the 6 pixels view_buddy.c keeps
	   clear at its right) for the full text */
	int sq = adv + 2 * sh + 1;
	int n = (int)nr_orders, full = VIEW_BUDDY_FULL_CELLS * adv + sq,
	    shrt = (VIEW_BUDDY_SHORT_CELLS + 1) * adv, w = body->w, rh = sh + 1;
	int rows = (body->h - sh - 2) / rh, maxcol = w / shrt > 0 ? w / shrt : 1;
	int need = (n + maxcol - 1) / maxcol; /* rows the orders need at the least */

	*c = (struct view_buddy_cols){0};
	/* the pressure rows in what the orders leave */
	if (pressure) {
		c->prows = rows - need < VIEW_BUDDY_PRESSURE_ROWS ? rows - need
		                                                  : VIEW_BUDDY_PRESSURE_ROWS;
		if (c->prows < 0)
			c->prows = 0;
		rows -= c->prows;
	}
	if (rows < 1)
		rows = 1;
	c->rows = rows;
	if (n < 1 || w < 1)
		return;
	c->ncol = (n + rows - 1) / rows;
	if (c->ncol > maxcol) /* too small for all: the columns that fit */
		c->ncol = maxcol;
	c->colw = w / c->ncol;
	c->full = c->colw >= full;
	c->textw = (c->full ? VIEW_BUDDY_FULL_CELLS : VIEW_BUDDY_SHORT_CELLS) * adv;
	c->per = (n + c->ncol - 1) / c->ncol;
	if (c->per > rows)
		c->per = rows;
	c->shown = (unsigned)(c->per * c->ncol < n ? c->per * c->ncol : n);
}
