/*
 * view_draw.h - drawing the viewer's panels with an SDL renderer.
 *
 * The same code draws into a window and, headless, into an SDL_Surface
 * through SDL's software renderer (--screenshot). Text is SDL2_ttf's
 * DejaVu Sans Mono, rendered once per size into a glyph atlas (a monospace
 * font makes that a strip of equal cells), so a frame of a few thousand
 * characters costs a few thousand texture copies and no TTF call.
 *
 * Drawing records hit regions (a frame, a PTE, a chunk, a VMA, an event) so
 * that a click can be answered with what was drawn there.
 */
#ifndef DEMOS_VIEW_DRAW_H
#define DEMOS_VIEW_DRAW_H

#include <SDL.h>
#include <SDL_ttf.h>

#include "view_layout.h"
#include "view_listing.h"
#include "view_model.h"

/* Colours (0xRRGGBB) that the tests look for. */
#define VIEW_COL_BG    0x181a20 /* the window behind the panels */
#define VIEW_COL_PANEL 0x22252e /* a panel's background */
#define VIEW_COL_TAKEN 0xff3cc8 /* the frame the statement just took */
#define VIEW_COL_SHARED 0xffb428 /* a frame mapped by two or more processes */
#define VIEW_COL_HEAP_RW   0x4aa05c /* a non-main heap's read-write part */
#define VIEW_COL_HEAP_NONE 0x4a4e5a /* ... and its PROT_NONE rest */

enum view_font { VF_NORMAL, VF_SMALL, VF_BOLD, VF__COUNT };

struct view_font_atlas {
	SDL_Texture *tex;
	int adv, h; /* cell width (monospace advance) and height */
};

enum view_hit_kind {
	HIT_NONE,
	HIT_VMA, /* a: index; b: 0 the selected process, 1 the one beside it */
	HIT_CHUNK,
	HIT_PTE,
	HIT_FRAMES,
	HIT_EVENT,
	HIT_ORDER,
	HIT_TASK, /* a: pid, in the process selector */
	HIT_ARENA, /* a: index in view_model.arenas, in the arena selector */
	HIT_LINE,  /* a: a line of the script panel */
};

struct view_hit {
	struct view_rect r;
	int kind, side;
	uint64_t a, b;
};

#define VIEW_MAX_HITS 1024

/* The geometry of a side's frame grid as last drawn (to map a click to a pfn). */
struct view_grid {
	struct view_rect r;     /* where the cells start */
	int cw, ch, cols, rows; /* cell size in pixels, cells a row, rows */
	uint64_t fpc;           /* frames per cell */
	uint64_t nr_frames;
	SDL_Texture *tex;
	int tw, th;
	uint32_t *pix;
	size_t pix_cap;
	uint64_t built_seq; /* model seq the texture shows (UINT64_MAX: none) */
	int built_w, built_h;
	const void *built_for;
};

struct view_gfx {
	SDL_Renderer *r;
	TTF_Font *ttf[VF__COUNT];
	struct view_font_atlas font[VF__COUNT];
	int font_px; /* the size the atlases were made for */
	struct view_hit hits[VIEW_MAX_HITS];
	int nr_hits;
	struct view_grid grid[VIEW_MAX_SIDES];
	double anim;                    /* 0 just changed .. 1 steady (headless: always 1) */
	double pulse;                   /* 0..1, a slow breathing for highlights in a window */
	int log_scroll[VIEW_MAX_SIDES]; /* events scrolled back from the current one */
};

/* Open the fonts and make the atlases for font_px. 0, or -1 with a message. */
int view_gfx_init(struct view_gfx *g, SDL_Renderer *r, int font_px, FILE *err);
/* Remake the atlases when the layout's font size changed. */
int view_gfx_resize(struct view_gfx *g, int font_px);
void view_gfx_destroy(struct view_gfx *g);

/* Text at (x, y) in colour rgb; returns its width in pixels. */
int view_text(struct view_gfx *g, int font, int x, int y, uint32_t rgb, const char *s);
/* At most maxw pixels wide, cut with an ellipsis. */
int view_text_clip(struct view_gfx *g, int font, int x, int y, int maxw, uint32_t rgb,
                   const char *s);
int view_text_width(struct view_gfx *g, int font, const char *s);

/* Everything a side shows; title names the policy in --compare. */
struct view_side_info {
	struct view_model *m;
	struct stepper *st;
	const char *title;
	int file_lines; /* the script's lines from its file (the rest were typed) */
	struct view_listing_index *lidx; /* the script panel's index of its blocks */
};

/* One side's panels. */
void view_draw_side(struct view_gfx *g, const struct view_layout *L, int side,
                    struct view_side_info *si);
/* The command line / status bar. */
void view_draw_cmdline(struct view_gfx *g, const struct view_layout *L, const char *prompt,
                       const char *input, const char *msg, bool msg_bad);
/* A box of text lines near (x, y), kept inside the window. */
void view_draw_popup(struct view_gfx *g, const struct view_layout *L, int x, int y,
                     const char *const *lines, int n);

/* The hit region under (x, y), or NULL. */
const struct view_hit *view_hit_at(const struct view_gfx *g, int x, int y);
/* The pfn of the first frame of the grid cell under (x, y) on side s, or PFN_NONE. */
pfn_t view_grid_pfn(const struct view_gfx *g, int s, int x, int y);

/* One short sentence about the current event (narration). */
void view_narration(const struct view_model *m, char *buf, size_t n);

#endif
