/*
 * view_layout.h - where the viewer's panels go in a window of a given size.
 *
 * One pure function (no SDL) computes every panel's rectangle, so that the
 * viewer, its headless screenshots, `aftermalloc view --layout` and the tests
 * agree on the same geometry. A window of W x H pixels is split into a top
 * bar (call path and narration), a bottom command line, and three columns:
 * the address space; heap, page walk, TLB and counters; physical memory,
 * buddy lists, the script's lines and the event log. --compare lays out two
 * columns of panels, one per malloc policy (compact: the TLB panel holds
 * counters only, the script goes under it). Without the script panel (the
 * key l hides it) the others take its room back and its rectangle is empty;
 * in a short window the script takes the event log's place (empty then).
 */
#ifndef DEMOS_VIEW_LAYOUT_H
#define DEMOS_VIEW_LAYOUT_H

#include <stdbool.h>

struct view_rect {
	int x, y, w, h;
};

enum view_panel {
	VP_PATH,  /* call path from the statement, narration */
	VP_VAS,   /* the virtual address space, non-linear */
	VP_HEAP,  /* the heap's chunks */
	VP_WALK,  /* the page walk of the current address */
	VP_TLB,   /* counters and TLB entries */
	VP_PHYS,  /* physical frames and their legend */
	VP_BUDDY, /* buddy free lists per order */
	VP_LOG,   /* the event log (0 x 0 when the script takes its place) */
	VP_SCRIPT, /* the script's lines around the statement (0 x 0 when hidden) */
	VP__COUNT
};

#define VIEW_MAX_SIDES 2

struct view_layout {
	int w, h;             /* the whole window */
	int font_px;          /* text height of the normal font */
	int nsides;           /* 1, or 2 with --compare */
	bool script;          /* the script panel is shown */
	struct view_rect cmd; /* command line and key help, full width */
	struct view_rect side[VIEW_MAX_SIDES];
	struct view_rect panel[VIEW_MAX_SIDES][VP__COUNT];
	struct view_rect phys_grid[VIEW_MAX_SIDES]; /* the frame cells inside VP_PHYS */
	struct view_rect phys_zoom[VIEW_MAX_SIDES]; /* 64 frames magnified, under the grid */
};

#define VIEW_DEFAULT_W 1280
#define VIEW_DEFAULT_H 800
#define VIEW_MIN_W     640
#define VIEW_MIN_H     400

/* Fill L for a w x h window (clamped to the minimum size) with nsides
   columns, with or without the script panel. */
void view_layout(struct view_layout *L, int w, int h, int nsides, bool script);
/* Name of a panel ("path", "vas", ...), as --layout prints it. */
const char *view_panel_name(int panel);
/* Inside a panel: the area below its title line. */
struct view_rect view_panel_body(const struct view_rect *panel, int font_px);
bool view_rect_contains(const struct view_rect *r, int x, int y);

/*
 * The buddy panel's free lists, one row an order: "OO SIZE NR" (the order,
 * its block size, nr_free: full, 17 cells) or, in a narrow panel, "OO NR"
 * (8 cells), then a square per free block in the rest of the column. The
 * orders go down as many columns as the rows need, each wide enough for
 * its text and a gap (the full text only with room for two squares too,
 * else the short one); only when even that is too wide for the rows are
 * fewer columns shown, the first orders (shown < nr_orders). adv is the
 * small font's advance and sh its height; a row is sh + 1 high; the body
 * keeps its last row for the legend and, under memory pressure, up to four
 * rows above it for the watermarks, LRU, swap and kswapd lines: as many as
 * the lists leave (prows).
 */
struct view_buddy_cols {
	int ncol, per, colw; /* columns, orders a column, a column's width */
	int textw;           /* an order's text: 17 or 8 cells */
	bool full;           /* with the block size */
	unsigned shown;      /* orders drawn */
	int rows;            /* rows the lists may use */
	int prows;           /* under pressure: its rows shown (of 4), the first
	                        ones, in what the lists leave */
};
#define VIEW_BUDDY_FULL_CELLS  17
#define VIEW_BUDDY_SHORT_CELLS 8
#define VIEW_BUDDY_PRESSURE_ROWS 4
void view_buddy_columns(const struct view_rect *body, int sh, int adv, unsigned nr_orders,
                        bool pressure, struct view_buddy_cols *c);

#endif
