/*
 * view_draw.c - the viewer's picture (see view_draw.h): one side's panels
 * laid out (each in its own file, view_panel.h), the event log, the
 * command line and the details popup, and the hit regions a click finds.
 * Every colour used in the panels appears in a legend on screen.
 */
#include "view_panel.h"

const struct view_hit *view_hit_at(const struct view_gfx *g, int x, int y)
{
	for (int i = g->nr_hits; i-- > 0;)
		if (view_rect_contains(&g->hits[i].r, x, y))
			return &g->hits[i];
	return NULL;
}

/* ---- event log ---------------------------------------------------------------------------- */

static void draw_log(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                     int side)
{
	struct stepper *st = si->st;
	int sh = g->font[VF_SMALL].h, rh = sh + 1;
	struct view_rect b = panel(g, p, "event log", "wheel scrolls, click goes there");
	int rows = b.h / rh, scroll = g->log_scroll[side];
	char buf[256];

	if (scroll > (int)st->log_len - rows)
		scroll = (int)st->log_len - rows;
	if (scroll < 0)
		scroll = 0;
	g->log_scroll[side] = scroll;
	/* Oldest at the top, the current event at the bottom (unless scrolled). */
	for (int r = 0; r < rows; r++) {
		size_t i = (size_t)(scroll + rows - 1 - r);
		const struct event *ev = stepper_log(st, i);
		int y = b.y + r * rh;

		if (!ev)
			continue;
		if (i == 0 && st->have_cur) {
			fill(g, b.x - 3, y, b.w + 4, rh, COL_CUR_EV);
		}
		event_format(ev, buf, sizeof(buf));
		int ind = ev->depth < 12 ? ev->depth : 12, tw = 0;

		if (ev->kind == EV_STMT) { /* the task it ran in, at the right */
			char who[16];

			view_model_log_task(st, i, who, sizeof(who));
			if (who[0]) {
				tw = view_text_width(g, VF_SMALL, who) + 6;
				fill(g, b.x + b.w - tw, y, tw, rh - 1,
				     mix(COL_PANEL, COL_ACTIVE, 0.25));
				view_text(g, VF_SMALL, b.x + b.w - tw + 3, y, COL_ACTIVE, who);
			}
		}
		view_text_clip(g, VF_SMALL, b.x + ind * 4, y, b.w - ind * 4 - tw,
		               layer_col[ev->layer % 4], buf);
		add_hit(g, side, HIT_EVENT, b.x, y, b.w, rh, ev->seq, 0);
	}
}

void view_draw_side(struct view_gfx *g, const struct view_layout *L, int side,
                    struct view_side_info *si)
{
	const struct view_rect *P = L->panel[side];

	view_draw_path(g, &P[VP_PATH], si);
	view_draw_vas(g, &P[VP_VAS], si, side);
	view_draw_heap(g, &P[VP_HEAP], si, side);
	view_draw_walk(g, &P[VP_WALK], si, side);
	view_draw_tlb(g, &P[VP_TLB], si, L->nsides > 1);
	view_draw_phys(g, L, side, si);
	view_draw_buddy(g, &P[VP_BUDDY], si, side);
	if (P[VP_LOG].w > 0)
		draw_log(g, &P[VP_LOG], si, side);
	if (P[VP_SCRIPT].w > 0)
		view_draw_script(g, &P[VP_SCRIPT], si, side);
}

void view_draw_cmdline(struct view_gfx *g, const struct view_layout *L, const char *prompt,
                       const char *input, const char *msg, bool msg_bad)
{
	const struct view_rect *r = &L->cmd;
	int y = r->y + (r->h - g->font[VF_NORMAL].h) / 2, x = r->x + 10;

	fill(g, r->x, r->y, r->w, r->h, 0x101216);
	hline(g, r->x, r->x + r->w, r->y, COL_BORDER);
	if (prompt) {
		x += view_text(g, VF_BOLD, x, y, COL_ACTIVE, prompt);
		x += view_text(g, VF_NORMAL, x, y, COL_TITLE, input);
		fill(g, x + 1, y, 2, g->font[VF_NORMAL].h, COL_ACTIVE);
		x += 12;
		view_text_clip(g, VF_SMALL, x, y + 1, r->x + r->w - x - 10, COL_DIM,
		               "Enter runs it, Esc cancels");
		return;
	}
	if (msg && *msg) {
		x += view_text_clip(g, VF_NORMAL, x, y, r->w * 55 / 100, msg_bad ? COL_BAD : COL_OK,
		                    msg) +
		     16;
	}
	view_text_clip(g, VF_SMALL, x, y + 1, r->x + r->w - x - 10, COL_DIM,
	               "s/Enter step  n statement  f fault  y syscall  o return  c COW  "
	               "t switch  b/B back  g N go to  p process  a arena  l script  : type a statement  "
	               "click for details  q quit");
}

void view_draw_popup(struct view_gfx *g, const struct view_layout *L, int x, int y,
                     const char *const *lines, int n)
{
	int w = 0, lh = g->font[VF_NORMAL].h + 2;

	for (int i = 0; i < n; i++) {
		int lw = view_text_width(g, i ? VF_NORMAL : VF_BOLD, lines[i]);

		w = lw > w ? lw : w;
	}
	w += 20;
	int h = n * lh + 12;

	x += 12;
	if (x + w > L->w)
		x = L->w - w - 4;
	if (y + h > L->h)
		y = L->h - h - 4;
	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	fill_a(g, x + 4, y + 4, w, h, 0x000000, 120);
	fill(g, x, y, w, h, 0x2c3140);
	frame_rect(g, x, y, w, h, COL_ACTIVE);
	for (int i = 0; i < n; i++)
		view_text(g, i ? VF_NORMAL : VF_BOLD, x + 10, y + 6 + i * lh,
		          i ? COL_TEXT : COL_ACTIVE, lines[i]);
}
