/*
 * view_script.c - the script panel (see view_panel.h), a debugger's source
 * pane: the script's lines around the current statement (view_listing.h)
 * with their numbers, the current one highlighted and marked, comments
 * dimmed, a bar in the gutter for each block around a line (a `for` body
 * blue, an `in` block in its task's colour) with the task named on the
 * block's first line shown, a `for` around the statement with its variable
 * now, and the lines typed on the command line tagged. A click on a line
 * goes to that statement (view_details.c).
 */
#include <string.h>

#include "view_listing.h"
#include "view_panel.h"

#define COL_FOR_BAR 0x6e8cc8

/* A task's colour, the same for the same label wherever it is drawn. */
static uint32_t task_col(const char *label)
{
	static const uint32_t pal[] = {0x5ac8fa, 0xff9f0a, 0xbf5af2, 0x30d158, 0xff6482};
	unsigned h = 5381;

	for (const char *c = label; *c; c++)
		h = h * 33 + (unsigned char)*c;
	return pal[h % (sizeof(pal) / sizeof(pal[0]))];
}

/* A tag at the right end of row y: text on a tinted box. Returns its width. */
static int tag(struct view_gfx *g, int right, int y, int rh, uint32_t rgb, const char *s)
{
	int w = view_text_width(g, VF_SMALL, s) + 6;

	fill(g, right - w, y, w, rh - 1, mix(COL_PANEL, rgb, 0.25));
	view_text(g, VF_SMALL, right - w + 3, y, rgb, s);
	return w + 2;
}

void view_draw_script(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                      int side)
{
	struct stepper *st = si->st;
	int sh = g->font[VF_SMALL].h, rh = sh + 1, adv = g->font[VF_SMALL].adv;
	struct view_listing ls;
	char sub[96];
	struct view_rect b;

	b = view_panel_body(p, g->font_px);
	int rows = b.h / rh;

	view_listing_build(&ls, st, si->lidx, si->file_lines, rows);
	if (ls.cur_line > 0)
		snprintf(sub, sizeof(sub), "line %d of %d   l hides, click a line to go there",
		         ls.cur_line, ls.nr_lines);
	else
		snprintf(sub, sizeof(sub), "%d lines   l hides", ls.nr_lines);
	b = panel(g, p, "script", sub);
	/* Gutter: the line number, the current-line mark, the block bars. */
	int digits = 2;

	for (int n = ls.nr_lines; n >= 100; n /= 10)
		digits++;
	int num_w = digits * adv, bars_x = b.x + num_w + 2 * adv, right = b.x + b.w;

	for (int r = 0; r < ls.nr_rows; r++) {
		const struct vl_row *row = &ls.rows[r];
		int y = b.y + r * rh, x;
		char num[16];

		if (row->current)
			fill(g, b.x - 3, y, b.w + 4, rh, COL_CUR_EV);
		snprintf(num, sizeof(num), "%*d", digits, row->line);
		view_text(g, VF_SMALL, b.x, y, row->current ? COL_ACTIVE : COL_DIM, num);
		if (row->current) /* the statement shown: a mark as a debugger's */
			view_text(g, VF_SMALL, b.x + num_w + 2, y, COL_ACTIVE, "\xe2\x96\xb8");
		else if (row->typed)
			view_text(g, VF_SMALL, b.x + num_w + 2, y, COL_OK, ":");
		for (int k = 0; k < row->nr_blocks; k++)
			fill(g, bars_x + k * 4, y, 2, rh,
			     row->block[k] == VL_FOR           ? COL_FOR_BAR
			     : row->task[0] && row->task_known ? task_col(row->task)
			                                       : COL_DIM);
		x = bars_x + (row->nr_blocks ? row->nr_blocks * 4 + 4 : 0);

		/* Tags at the right: the task of an `in` block's first row shown,
		   a `for`'s variable now, a typed line. */
		int tags = 0;

		if (row->typed)
			tags += tag(g, right - tags, y, rh, COL_OK, "typed");
		if (row->iter[0])
			tags += tag(g, right - tags, y, rh, COL_ACTIVE, row->iter);
		if (row->task[0] &&
		    (r == 0 || strcmp(ls.rows[r - 1].task, row->task) != 0 || row->current))
			tags += tag(g, right - tags, y, rh,
			            row->task_known ? task_col(row->task) : COL_DIM, row->task);
		/* The text: code, then its comment dimmed. */
		int avail = right - tags - x;
		char code[512];
		int n =
		    row->code_len < (int)sizeof(code) - 1 ? row->code_len : (int)sizeof(code) - 1;

		memcpy(code, row->text, (size_t)n);
		code[n] = '\0';
		if (avail > 0) {
			int w =
			    view_text_clip(g, VF_SMALL, x, y, avail,
			                   row->current ? layer_col[LAYER_USER] : COL_TEXT, code);

			if (row->text[row->code_len] && w < avail)
				view_text_clip(g, VF_SMALL, x + w, y, avail - w, COL_DIM,
				               row->text + row->code_len);
		}
		add_hit(g, side, HIT_LINE, b.x, y, b.w, rh, (uint64_t)row->line, 0);
	}
}
