/*
 * plot.c - line charts into a PNG (see plot.h): an SDL2 software renderer
 * on a surface (no window, no display), text with SDL2_ttf in DejaVu Sans,
 * the surface written with SDL2_image's IMG_SavePNG_RW.
 *
 * Axes get "nice" ticks (1, 2 or 5 times a power of ten, or of 1024 for
 * bytes: Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990),
 * five or so a panel. Lines are drawn without blending, in the exact
 * colour of their series, so that a reader of the picture (a test) can find
 * each series by its colour.
 */
#include "plot.h"

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>
#include <math.h>
#include <string.h>

#define COL_TEXT  0x222222u
#define COL_DIM   0x6b6b6bu
#define COL_GRID  0xe2e2dcu
#define COL_FRAME 0x9a9a94u
#define COL_PANEL 0xffffffu

static const char *const font_paths[][2] = {
    {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"},
    {"/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"},
    {"/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"},
};

struct canvas {
	SDL_Renderer *r;
	TTF_Font *font, *bold, *big;
};

static void color(struct canvas *c, uint32_t rgb)
{
	SDL_SetRenderDrawColor(c->r, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255);
}

static void fill(struct canvas *c, int x, int y, int w, int h, uint32_t rgb)
{
	SDL_Rect rc = {x, y, w, h};

	color(c, rgb);
	SDL_RenderFillRect(c->r, &rc);
}

static void frame(struct canvas *c, int x, int y, int w, int h, uint32_t rgb)
{
	SDL_Rect rc = {x, y, w, h};

	color(c, rgb);
	SDL_RenderDrawRect(c->r, &rc);
}

/* Text with its top-left at (x, y) (align: 0 left, 1 centre, 2 right of x);
   its width. */
static int text(struct canvas *c, TTF_Font *f, int x, int y, int align, uint32_t rgb, const char *s)
{
	SDL_Color col = {(Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255};
	SDL_Surface *ts;
	SDL_Texture *tx;
	SDL_Rect dst;

	if (!s || !*s)
		return 0;
	ts = TTF_RenderUTF8_Blended(f, s, col);
	if (!ts)
		return 0;
	tx = SDL_CreateTextureFromSurface(c->r, ts);
	dst = (SDL_Rect){x - (align == 1 ? ts->w / 2 : align == 2 ? ts->w : 0), y, ts->w, ts->h};
	if (tx) {
		SDL_RenderCopy(c->r, tx, NULL, &dst);
		SDL_DestroyTexture(tx);
	}
	SDL_FreeSurface(ts);
	return dst.w;
}

/* ---- numbers ------------------------------------------------------------------- */

/* A nice step for about `ticks` divisions of [0, max]. */
static double nice_step(double max, int ticks, bool bytes)
{
	double base = bytes && max >= 1024 ? 1024 : 10, raw = max / ticks, p, f;

	if (raw <= 0)
		return 1;
	if (bytes && max >= 1024) {
		/* powers of 1024 for the unit, then 1-2-5 times a power of two
		   within it: 256K, 512K, 1M, 2M ... */
		p = pow(2, floor(log2(raw)));
		f = raw / p;
		return p * (f <= 1 ? 1 : f <= 2 ? 2 : 4);
	}
	p = pow(base, floor(log10(raw)));
	f = raw / p;
	return p * (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10);
}

static void fmt_tick(char *buf, size_t n, double v, enum plot_unit u)
{
	static const char *const suffix[] = {"", "K", "M", "G", "T"};
	double div = u == PLOT_BYTES ? 1024 : 1000;
	int k = 0;

	while (fabs(v) >= div && k < 4) {
		v /= div;
		k++;
	}
	if (u == PLOT_COUNT && k)
		snprintf(buf, n, "%g%s", round(v * 100) / 100, k == 1 ? "k" : k == 2 ? "M" : "G");
	else
		snprintf(buf, n, "%g%s", round(v * 100) / 100, suffix[k]);
}

/* ---- the y axis ------------------------------------------------------------------ */

/* How values map to the panel's height: linear from 0 to max, or
   logarithmic from lo to max (values at or below lo sit on the bottom). */
struct yaxis {
	bool log;
	double lo, max; /* log: lo > 0 */
	double base;    /* log: the ratio between ticks (2^k for bytes, 10^k for counts) */
};

/* 0 at the bottom, 1 at the top. */
static double yfrac(const struct yaxis *a, double v)
{
	if (!a->log)
		return v / a->max;
	if (v <= a->lo)
		return 0;
	return log(v / a->lo) / log(a->max / a->lo);
}

/* The axis for the panel's values: log when PLOT_LOG_AUTO finds the series'
   largest values more than PLOT_LOG_SPAN apart. Ticks at powers of 2 a few
   doublings apart (bytes: 4K, 64K, 1M, ...) or of 10 (counts), at most 7. */
static struct yaxis y_axis(const struct plot_panel *p)
{
	double ymax = 1, lo_max = 0, hi_max = 0, lo = 0;
	struct yaxis a = {0};

	for (size_t s = 0; s < p->nr_series; s++) {
		double m = 0;

		for (size_t i = 0; i < p->series[s].n; i++) {
			double v = p->series[s].y[i];

			m = v > m ? v : m;
			if (v > 0 && (lo == 0 || v < lo))
				lo = v;
		}
		if (m > ymax)
			ymax = m;
		if (m > 0 && (lo_max == 0 || m < lo_max))
			lo_max = m;
		hi_max = m > hi_max ? m : hi_max;
	}
	if (p->scale == PLOT_LOG_AUTO && lo_max > 0 && hi_max / lo_max > PLOT_LOG_SPAN) {
		double radix = p->unit == PLOT_BYTES ? 2 : 10, span, e_lo, e_hi;
		static const int steps[] = {1, 2, 4, 5, 10, 20};
		int k = steps[5];

		/* not below a millionth of the top: the first few bytes of a
		   trace would stretch the axis for nothing */
		if (lo < hi_max / 1e6)
			lo = hi_max / 1e6;
		span = log(hi_max / lo) / log(radix);
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
			if (span / steps[i] <= 6) {
				k = steps[i];
				break;
			}
		e_lo = floor(log(lo) / log(radix) / k) * k;
		e_hi = ceil(log(hi_max) / log(radix) / k) * k;
		if (e_hi <= e_lo)
			e_hi = e_lo + k;
		a.log = true;
		a.lo = pow(radix, e_lo);
		a.max = pow(radix, e_hi);
		a.base = pow(radix, k);
		return a;
	}
	a.base = nice_step(ymax, 5, p->unit == PLOT_BYTES);
	if (a.base < 1)
		a.base = 1; /* counts and bytes are whole: no tick at 0.2 */
	a.max = ceil(ymax / a.base) * a.base;
	return a;
}

/* ---- a panel ------------------------------------------------------------------- */

static void draw_panel(struct canvas *c, const struct plot_panel *p, const char *xlabel, int x0,
                       int y0, int w, int h)
{
	double xmax = 1, xstep;
	int lh = TTF_FontLineSkip(c->font);
	int px = x0 + 70, py = y0 + lh + 10, pw = w - 70 - 16, ph = h - (lh + 10) - 2 * lh - 10;
	struct yaxis ya = y_axis(p);
	char buf[32], title[160];

	fill(c, x0, y0, w, h, COL_PANEL);
	frame(c, x0, y0, w, h, COL_FRAME);
	snprintf(title, sizeof(title), "%s%s", p->title, ya.log ? " (log scale)" : "");
	text(c, c->bold, x0 + 10, y0 + 5, 0, COL_TEXT, title);
	for (size_t s = 0; s < p->nr_series; s++)
		for (size_t i = 0; i < p->series[s].n; i++)
			if (p->series[s].x[i] > xmax)
				xmax = p->series[s].x[i];
	xstep = nice_step(xmax, 6, false);
	/* grid and ticks */
	for (double v = ya.log ? ya.lo : 0; v <= ya.max * 1.0001;
	     v = ya.log ? v * ya.base : v + ya.base) {
		int y = py + ph - (int)lround(yfrac(&ya, v) * ph);

		color(c, COL_GRID);
		SDL_RenderDrawLine(c->r, px, y, px + pw, y);
		fmt_tick(buf, sizeof(buf), v, p->unit);
		text(c, c->font, px - 6, y - lh / 2, 2, COL_DIM, buf);
	}
	for (double v = 0; v <= xmax + xstep / 100; v += xstep) {
		int x = px + (int)lround(v / xmax * pw);

		color(c, COL_GRID);
		SDL_RenderDrawLine(c->r, x, py, x, py + ph);
		fmt_tick(buf, sizeof(buf), v, PLOT_COUNT);
		text(c, c->font, x, py + ph + 3, 1, COL_DIM, buf);
	}
	frame(c, px, py, pw + 1, ph + 1, COL_FRAME);
	text(c, c->font, px + pw / 2, py + ph + 3 + lh, 1, COL_DIM, xlabel);
	/* the series, thin ones first, so that a thick one shows on top */
	for (int pass = 0; pass < 2; pass++)
		for (size_t s = 0; s < p->nr_series; s++) {
			const struct plot_series *se = &p->series[s];
			SDL_Point *pts;

			if (se->thin != (pass == 0) || se->n == 0)
				continue;
			pts = malloc(se->n * sizeof(*pts));
			if (!pts)
				continue;
			for (size_t i = 0; i < se->n; i++)
				pts[i] = (SDL_Point){px + (int)lround(se->x[i] / xmax * pw),
				                     py + ph - (int)lround(yfrac(&ya, se->y[i]) * ph)};
			color(c, se->rgb);
			SDL_RenderDrawLines(c->r, pts, (int)se->n);
			if (!se->thin) {
				for (size_t i = 0; i < se->n; i++)
					pts[i].y -= 1;
				SDL_RenderDrawLines(c->r, pts, (int)se->n);
			}
			free(pts);
		}
}

/* The legend (every distinct label of the panels, once) and the notes. */
static void draw_legend(struct canvas *c, const struct plot_spec *s, int x0, int y0, int w, int h)
{
	int lh = TTF_FontLineSkip(c->font), y = y0 + 8;
	const char *seen[32];
	size_t nseen = 0;

	fill(c, x0, y0, w, h, COL_PANEL);
	frame(c, x0, y0, w, h, COL_FRAME);
	text(c, c->bold, x0 + 10, y, 0, COL_TEXT, "legend");
	y += lh + 4;
	for (size_t p = 0; p < s->nr_panels; p++)
		for (size_t i = 0; i < s->panels[p].nr_series; i++) {
			const struct plot_series *se = &s->panels[p].series[i];
			bool dup = false;

			for (size_t k = 0; k < nseen; k++)
				dup |= strcmp(seen[k], se->label) == 0;
			if (dup || nseen == 32)
				continue;
			seen[nseen++] = se->label;
			fill(c, x0 + 14, y + lh / 2 - (se->thin ? 0 : 1), 36, se->thin ? 1 : 3,
			     se->rgb);
			text(c, c->font, x0 + 60, y, 0, COL_TEXT, se->label);
			y += lh;
		}
	y += lh / 2;
	for (const char *const *n = s->notes; n && *n && y + lh < y0 + h; n++) {
		text(c, c->font, x0 + 14, y, 0, COL_DIM, *n);
		y += lh;
	}
}

/* ---- the picture ---------------------------------------------------------------- */

static int open_fonts(struct canvas *c, int px, FILE *err)
{
	for (size_t i = 0; i < sizeof(font_paths) / sizeof(font_paths[0]) && !c->font; i++) {
		c->font = TTF_OpenFont(font_paths[i][0], px);
		c->bold = TTF_OpenFont(font_paths[i][1], px);
		c->big = TTF_OpenFont(font_paths[i][1], px * 4 / 3);
		if (!c->font || !c->bold || !c->big) {
			if (c->font)
				TTF_CloseFont(c->font);
			if (c->bold)
				TTF_CloseFont(c->bold);
			if (c->big)
				TTF_CloseFont(c->big);
			c->font = c->bold = c->big = NULL;
		}
	}
	if (c->font)
		return 0;
	fprintf(err, "plot: cannot open %s (Debian package fonts-dejavu-core)\n", font_paths[0][0]);
	return -1;
}

int plot_png(FILE *f, const char *path, const struct plot_spec *s, FILE *err)
{
	SDL_RWops *rw;
	struct canvas c = {0};
	SDL_Surface *surf = NULL;
	int rc = -1, cols = 2, rows = (int)(s->nr_panels + 1 + 1) / 2, top, cw, ch, gap = 12;

	if (s->nr_panels == 0 || s->nr_panels > 5 || s->w < 320 || s->h < 240) {
		fprintf(err, "plot: %zu panels in %dx%d pixels\n", s->nr_panels, s->w, s->h);
		return -1;
	}
	if (SDL_Init(0) < 0 || TTF_Init() < 0) {
		fprintf(err, "plot: SDL: %s\n", SDL_GetError());
		goto out;
	}
	surf = SDL_CreateRGBSurfaceWithFormat(0, s->w, s->h, 32, SDL_PIXELFORMAT_ARGB8888);
	c.r = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
	if (!c.r) {
		fprintf(err, "plot: no software renderer: %s\n", SDL_GetError());
		goto out;
	}
	SDL_SetRenderDrawBlendMode(c.r, SDL_BLENDMODE_NONE);
	if (open_fonts(&c, s->h >= 700 ? 15 : 12, err) < 0)
		goto out;
	fill(&c, 0, 0, s->w, s->h, PLOT_BACKGROUND);
	top = TTF_FontLineSkip(c.big) + 16;
	text(&c, c.big, 16, 8, 0, COL_TEXT, s->title);
	cw = (s->w - gap * (cols + 1)) / cols;
	ch = (s->h - top - gap * rows) / rows;
	for (int cell = 0; cell < rows * cols; cell++) {
		int x = gap + (cell % cols) * (cw + gap), y = top + (cell / cols) * (ch + gap);

		if ((size_t)cell < s->nr_panels)
			draw_panel(&c, &s->panels[cell], s->xlabel, x, y, cw, ch);
		else if ((size_t)cell == s->nr_panels)
			draw_legend(&c, s, x, y, cw, ch);
	}
	SDL_RenderPresent(c.r);
	rw = SDL_RWFromFP(f, SDL_FALSE);
	if (!rw || IMG_SavePNG_RW(surf, rw, 1) < 0) {
		fprintf(err, "plot: cannot write %s: %s\n", path, IMG_GetError());
		goto out;
	}
	rc = 0;
out:
	if (c.font)
		TTF_CloseFont(c.font);
	if (c.bold)
		TTF_CloseFont(c.bold);
	if (c.big)
		TTF_CloseFont(c.big);
	if (c.r)
		SDL_DestroyRenderer(c.r);
	SDL_FreeSurface(surf);
	if (TTF_WasInit())
		TTF_Quit();
	SDL_Quit();
	return rc;
}
