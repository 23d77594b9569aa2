/*
 * view_path.c - the viewer's top bar (see view_panel.h): the task the CPU
 * runs, the statement, the open calls coloured by layer (the middle elided
 * when they do not fit), two lines of narration from demos/step/narrate.h
 * (the first sentence bold), the event itself and the layers' legend.
 */
#include <string.h>

#include "../step/narrate.h"
#include "view_panel.h"

/* ---- narration ----------------------------------------------------------- */

/* Draw s over at most nl lines of width w, breaking at spaces; the first
   sentence bold-white, the rest plain. */
static void text_wrap(struct view_gfx *g, int x, int y, int w, int nl, int lh, const char *s)
{
	int adv = g->font[VF_NORMAL].adv, cols = adv ? w / adv : 0;
	const char *dot = strstr(s, ". ");
	size_t bold_end = dot ? (size_t)(dot - s) + 1 : strlen(s);
	size_t off = 0, len = strlen(s);
	char line[512];

	for (int l = 0; l < nl && off < len && cols > 0; l++) {
		size_t take = len - off;

		if ((int)take > cols) {
			take = (size_t)cols;
			while (take > 0 && s[off + take] != ' ')
				take--;
			if (take == 0)
				take = (size_t)cols;
			if (l == nl - 1)
				take = (size_t)cols; /* the last line is cut with an ellipsis */
		}
		if (take >= sizeof(line))
			take = sizeof(line) - 1;
		int xx = x;

		if (off < bold_end) {
			size_t nb = bold_end - off < take ? bold_end - off : take;

			memcpy(line, s + off, nb);
			line[nb] = '\0';
			xx += view_text(g, VF_BOLD, xx, y, COL_TITLE, line);
			memcpy(line, s + off + nb, take - nb);
			line[take - nb] = '\0';
		} else {
			memcpy(line, s + off, take);
			line[take] = '\0';
		}
		if (l == nl - 1 && off + take < len)
			view_text_clip(g, VF_NORMAL, xx, y, x + w - xx, COL_TEXT,
			               s + off + (xx - x) / adv);
		else
			view_text(g, VF_NORMAL, xx, y, COL_TEXT, line);
		off += take;
		while (off < len && s[off] == ' ')
			off++;
		y += lh;
	}
}

void view_narration(const struct view_model *m, char *buf, size_t n)
{
	if (!m->valid) {
		snprintf(buf, n,
		         "Nothing has run yet: the machine is booted and the program "
		         "loaded. Press s (or Enter) for the first event, n for the first "
		         "statement.");
		return;
	}
	narrate_event(&m->cur, buf, n);
}

/* ---- the call path --------------------------------------------------------- */

void view_draw_path(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si)
{
	struct view_model *m = si->m;
	int fp = g->font_px, lh = fp + 5, x, y = p->y + 6;
	int right = p->x + p->w - 10;
	char buf[512];

	fill(g, p->x + 2, p->y + 2, p->w - 4, p->h - 4, COL_PANEL);
	frame_rect(g, p->x + 2, p->y + 2, p->w - 4, p->h - 4, COL_BORDER);
	x = p->x + 10;
	if (si->title)
		x += textf(g, VF_BOLD, x, y, COL_ACTIVE, "[%s] ", si->title);
	if (m->task_label[0]) /* the task the CPU runs */
		x += textf(g, VF_BOLD, x, y, COL_TITLE, "%s  ", m->task_label);
	if (m->stmt_text) {
		x += textf(g, VF_BOLD, x, y, layer_col[LAYER_USER], "line %d", m->stmt_line);
		if (m->stmt_task[0]) /* run in a thread or another process (`in`) */
			x += textf(g, VF_BOLD, x, y, COL_ACTIVE, " in %s", m->stmt_task);
		x += textf(g, VF_BOLD, x, y, layer_col[LAYER_USER], ": %s", m->stmt_text);
		if (m->stmt_loops[0])
			x += textf(g, VF_SMALL, x, y + 1, COL_DIM, "   (%s)", m->stmt_loops);
	} else if (m->finished) {
		x += view_text(g, VF_BOLD, x, y, m->dead ? COL_BAD : COL_OK,
		               m->dead ? "the program was killed" : "the program has ended");
	} else {
		x += view_text(g, VF_BOLD, x, y, COL_DIM, "before the first statement");
	}
	/* Open calls, outermost first; the middle is elided when too long. */
	int aw = g->font[VF_NORMAL].adv, total = 0, first = 0;

	for (unsigned i = 0; i < m->depth; i++)
		total += (int)(strlen(m->path[i]) + 3) * aw;
	while (first < (int)m->depth - 1 && x + total + 4 * aw > right) {
		total -= (int)(strlen(m->path[first]) + 3) * aw;
		first++;
	}
	if (first > 0) {
		x += view_text(g, VF_NORMAL, x, y, COL_DIM, " \xe2\x86\x92 \xe2\x80\xa6");
	}
	for (unsigned i = (unsigned)first; i < m->depth; i++) {
		uint32_t c = layer_col[m->path_layer[i] < LAYER__COUNT ? m->path_layer[i] : 0];
		bool last = i + 1 == m->depth;

		x += view_text(g, VF_NORMAL, x, y, COL_DIM, " \xe2\x86\x92 ");
		if (last) {
			int w = view_text_width(g, VF_BOLD, m->path[i]);

			fill_a(g, x - 2, y - 1, w + 4, fp + 4, c, 50);
			frame_rect(g, x - 2, y - 1, w + 4, fp + 4, c);
		}
		x += view_text_clip(g, last ? VF_BOLD : VF_NORMAL, x, y, right - x, c, m->path[i]);
	}
	/* Narration (two lines, wrapped at words), then the event itself. */
	y += lh + 2;
	view_narration(m, buf, sizeof(buf));
	text_wrap(g, p->x + 10, y, p->w - 20, 2, lh, buf);
	y += 2 * lh;
	if (m->dead && m->death[0]) {
		view_text_clip(g, VF_NORMAL, p->x + 10, y, p->w - 20, COL_BAD, m->death);
	} else if (m->valid) {
		event_format(&m->cur, buf, sizeof(buf));
		x = p->x + 10 + textf(g, VF_SMALL, p->x + 10, y + 1, COL_DIM, "event ");
		view_text_clip(g, VF_SMALL, x, y + 1, p->w - 30 - (x - p->x),
		               layer_col[m->cur.layer % 4], buf);
	}
	y += lh;
	x = p->x + 10;
	x += textf(g, VF_SMALL, x, y, COL_DIM, "statement %zu of %zu   malloc policy %s   ",
	           m->stmt_idx < m->nr_stmts ? m->stmt_idx + 1 : m->nr_stmts, m->nr_stmts,
	           m->policy ? m->policy : "?");
	for (int l = 0; l < LAYER__COUNT; l++)
		x = chip(g, x, y, layer_col[l], probe_layer_name(l), false);
}
