/*
 * view_panel.h - what the viewer's panel files share (view_path.c,
 * view_space.c, view_heap.c, view_walk.c, view_tlb.c, view_phys.c,
 * view_buddy.c, view_script.c, and view_draw.c which lays them out): the colours, the
 * drawing primitives over SDL's renderer (filled and outlined rectangles,
 * formatted text, legend chips, a panel's frame and title), the hit regions
 * a click is answered from, and each panel's entry point. The rest of the
 * viewer includes view_draw.h, not this.
 *
 * The primitives are static inline: each is a few lines, used from every
 * panel file, and needs no name in the binary.
 */
#ifndef DEMOS_VIEW_PANEL_H
#define DEMOS_VIEW_PANEL_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "view_draw.h"

#define COL_PANEL      VIEW_COL_PANEL
#define COL_BORDER     0x3a3f4c
#define COL_TEXT       0xdcdce1
#define COL_DIM        0x8c919b
#define COL_TITLE      0xffffff
#define COL_ACTIVE     0xffc83c /* the level being read or filled, the current address */
#define COL_SPLIT      0x00e6e6 /* a buddy split */
#define COL_MERGE      0xffe000 /* a buddy merge */
#define COL_BAD        0xff5a5a
#define COL_OK         0x78dc8c
#define COL_BRK        0xff6b6b
#define COL_START_BRK  0xffa860
#define COL_CUR_EV     0x3a4a6a
#define COL_WMARK_MIN  0xff5a5a
#define COL_WMARK_LOW  0xffa860
#define COL_WMARK_HIGH 0x78dc8c
#define COL_INACTIVE   0x6e8cc8
#define COL_SHARED     VIEW_COL_SHARED
#define COL_ACTIVE_LRU 0x5ac86e
#define COL_SWAP       0xa06ed2

/* Layers: user, libc, kernel, mmu. */
static const uint32_t layer_col[] = {0xe6e678, 0x78c8ff, 0xff9664, 0xbe96ff};

/* Free block of order o (0..10): light (small blocks) to dark (big ones). */
static inline uint32_t free_col(unsigned o, bool odd)
{
	int l = 200 - (int)o * 14;
	int r = l * 55 / 100, gr = l * 72 / 100, b = l;

	if (odd) {
		r += 9;
		gr += 9;
		b += 9;
	}
	return (uint32_t)(r << 16 | gr << 8 | (b > 255 ? 255 : b));
}

static inline uint32_t mix(uint32_t a, uint32_t b, double t)
{
	int r = (int)((a >> 16 & 255) * (1 - t) + (b >> 16 & 255) * t);
	int gg = (int)((a >> 8 & 255) * (1 - t) + (b >> 8 & 255) * t);
	int bb = (int)((a & 255) * (1 - t) + (b & 255) * t);

	return (uint32_t)(r << 16 | gg << 8 | bb);
}

/* ---- primitives ---------------------------------------------------------- */

static inline void color(struct view_gfx *g, uint32_t rgb, int alpha)
{
	SDL_SetRenderDrawBlendMode(g->r, alpha < 255 ? SDL_BLENDMODE_BLEND : SDL_BLENDMODE_NONE);
	SDL_SetRenderDrawColor(g->r, rgb >> 16 & 255, rgb >> 8 & 255, rgb & 255, (Uint8)alpha);
}

static inline void fill(struct view_gfx *g, int x, int y, int w, int h, uint32_t rgb)
{
	SDL_Rect r = {x, y, w, h};

	if (w <= 0 || h <= 0)
		return;
	color(g, rgb, 255);
	SDL_RenderFillRect(g->r, &r);
}

static inline void fill_a(struct view_gfx *g, int x, int y, int w, int h, uint32_t rgb, int a)
{
	SDL_Rect r = {x, y, w, h};

	if (w <= 0 || h <= 0)
		return;
	color(g, rgb, a);
	SDL_RenderFillRect(g->r, &r);
}

static inline void frame_rect(struct view_gfx *g, int x, int y, int w, int h, uint32_t rgb)
{
	SDL_Rect r = {x, y, w, h};

	color(g, rgb, 255);
	SDL_RenderDrawRect(g->r, &r);
}

static inline void hline(struct view_gfx *g, int x0, int x1, int y, uint32_t rgb)
{
	color(g, rgb, 255);
	SDL_RenderDrawLine(g->r, x0, y, x1, y);
}

static inline int textf(struct view_gfx *g, int font, int x, int y, uint32_t rgb, const char *fmt,
                        ...) __attribute__((format(printf, 6, 7)));
static inline int textf(struct view_gfx *g, int font, int x, int y, uint32_t rgb, const char *fmt,
                        ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return view_text(g, font, x, y, rgb, buf);
}

static inline void add_hit(struct view_gfx *g, int side, int kind, int x, int y, int w, int h,
                           uint64_t a, uint64_t b)
{
	if (g->nr_hits == VIEW_MAX_HITS)
		return;
	g->hits[g->nr_hits++] = (struct view_hit){{x, y, w, h}, kind, side, a, b};
}

/* A legend chip: a square of colour and its label. Returns the x after it. */
static inline int chip(struct view_gfx *g, int x, int y, uint32_t rgb, const char *label,
                       bool outline)
{
	int s = g->font[VF_SMALL].h - 4;

	if (outline) {
		fill(g, x, y + 2, s, s, COL_PANEL);
		frame_rect(g, x, y + 2, s, s, rgb);
		frame_rect(g, x + 1, y + 3, s - 2, s - 2, rgb);
	} else {
		fill(g, x, y + 2, s, s, rgb);
	}
	return x + s + 4 + view_text(g, VF_SMALL, x + s + 4, y, COL_DIM, label) + 10;
}

/*
 * A legend: chips laid out in rows of height rh from x to right, a chip
 * that does not fit on its row starting the next one. legend_rows counts
 * the rows the items need (at most max_rows); legend_draw draws them from
 * row y down, in at most max_rows rows, and leaves out (never draws past
 * right or below the last row) the chips that do not fit, returning how
 * many it drew. at[i], when given, is where item i went (x, y; -1 when
 * left out).
 */
struct legend_item {
	uint32_t rgb;
	const char *label;
	bool outline;
};

static inline int legend_chip_w(struct view_gfx *g, const struct legend_item *it)
{
	return g->font[VF_SMALL].h - 4 + 4 + view_text_width(g, VF_SMALL, it->label);
}

static inline int legend_layout(struct view_gfx *g, const struct legend_item *it, int n, int x,
                                int right, int max_rows, int (*at)[2], int y, int rh, bool draw)
{
	int cx = x, row = 0, drawn = 0;

	for (int i = 0; i < n; i++) {
		int w = legend_chip_w(g, &it[i]);

		if (cx + w > right && cx > x && row + 1 < max_rows) {
			row++;
			cx = x;
		}
		if (cx + w > right) {
			if (at)
				at[i][0] = at[i][1] = -1;
			continue;
		}
		if (at) {
			at[i][0] = cx;
			at[i][1] = y + row * rh;
		}
		if (draw)
			chip(g, cx, y + row * rh, it[i].rgb, it[i].label, it[i].outline);
		cx += w + 10;
		drawn++;
	}
	return draw ? drawn : row + 1;
}

static inline int legend_rows(struct view_gfx *g, const struct legend_item *it, int n, int w,
                              int max_rows)
{
	return legend_layout(g, it, n, 0, w, max_rows, NULL, 0, 0, false);
}

static inline int legend_draw(struct view_gfx *g, const struct legend_item *it, int n, int x,
                              int y, int right, int rh, int max_rows, int (*at)[2])
{
	return legend_layout(g, it, n, x, right, max_rows, at, y, rh, true);
}

/* A legend whose last row is at bottom, rows going up as the width needs
   (at most max_rows). Returns the y of its first row. */
static inline int legend_up(struct view_gfx *g, const struct legend_item *it, int n, int x,
                            int bottom, int right, int rh, int max_rows)
{
	int rows = legend_rows(g, it, n, right - x, max_rows);
	int y = bottom - (rows - 1) * rh;

	legend_draw(g, it, n, x, y, right, rh, rows, NULL);
	return y;
}

static inline struct view_rect panel(struct view_gfx *g, const struct view_rect *p,
                                     const char *title, const char *sub)
{
	fill(g, p->x + 2, p->y + 2, p->w - 4, p->h - 4, COL_PANEL);
	frame_rect(g, p->x + 2, p->y + 2, p->w - 4, p->h - 4, COL_BORDER);
	int w = view_text(g, VF_BOLD, p->x + 8, p->y + 5, COL_TITLE, title);

	if (sub)
		view_text_clip(g, VF_SMALL, p->x + 16 + w, p->y + 6, p->w - 28 - w, COL_DIM, sub);
	return view_panel_body(p, g->font_px);
}

static inline void fmt_bytes(char *buf, size_t n, uint64_t b)
{
	if (b >= (1ULL << 40) && !(b & ((1ULL << 30) - 1)))
		snprintf(buf, n, "%" PRIu64 " GiB", b >> 30);
	else if (b >= (1ULL << 40))
		snprintf(buf, n, "%.1f TiB", (double)b / (double)(1ULL << 40));
	else if (b >= (1ULL << 30))
		snprintf(buf, n, "%.1f GiB", (double)b / (double)(1ULL << 30));
	else if (b >= (1ULL << 20))
		snprintf(buf, n, "%.1f MiB", (double)b / (double)(1ULL << 20));
	else if (b >= 1024)
		snprintf(buf, n, "%.1f KiB", (double)b / 1024.0);
	else
		snprintf(buf, n, "%" PRIu64 " B", b);
}

/*
 * One entry of a selector line (the process selector, the arena selector):
 * lab at *x in colour rgb, boxed when sel, a hit region of kind with value
 * a; *x moves past it. Returns false, drawing nothing, when it does not fit
 * before right.
 */
static inline bool selector_item(struct view_gfx *g, int *x, int y, int right, const char *lab,
                                 bool sel, uint32_t rgb, int side, int kind, uint64_t a)
{
	int sh = g->font[VF_SMALL].h, w = view_text_width(g, VF_SMALL, lab) + 8;

	if (*x + w > right)
		return false;
	if (sel)
		frame_rect(g, *x, y - 1, w, sh + 2, COL_ACTIVE);
	view_text(g, VF_SMALL, *x + 4, y, rgb, lab);
	add_hit(g, side, kind, *x, y - 1, w, sh + 2, a, 0);
	*x += w + 2;
	return true;
}

/* ---- the panels (view_draw_side lays them out) ---------------------------- */

/* The top bar: the task, the statement, the open calls, the narration. */
void view_draw_path(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si);
/* The address space (with the process selector), view_space.c. */
void view_draw_vas(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                   int side);
/* The heap's chunks (with the arena selector), view_heap.c. */
void view_draw_heap(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                    int side);
/* The page walk of the current address, view_walk.c. */
void view_draw_walk(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                    int side);
/* The counters, and the TLB unless compact, view_tlb.c. */
void view_draw_tlb(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                   bool compact);
/* The frame grid, its magnified strip and legend, view_phys.c. */
void view_draw_phys(struct view_gfx *g, const struct view_layout *L, int side,
                    struct view_side_info *si);
/* The script's lines around the statement, view_script.c. */
void view_draw_script(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                      int side);
/* The buddy free lists and the memory-pressure rows, view_buddy.c. */
void view_draw_buddy(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                     int side);

#endif
