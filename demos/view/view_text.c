/*
 * view_text.c - the viewer's text: DejaVu Sans Mono through SDL2_ttf, drawn
 * from a glyph atlas (see view_draw.h).
 *
 * Each font is rendered once per size into a strip of equal cells: printable
 * ASCII and the few symbols the panels use (arrows, ellipsis, a block). A
 * string is then one texture copy per character, coloured with the texture's
 * colour modulation -- cheap enough to redraw every panel at 60 frames a
 * second, and the same in a window and on the software renderer.
 */
#include <stdlib.h>
#include <string.h>

#include "view_draw.h"

static const char *const font_paths[][3] = {
    {"/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf", "fonts-dejavu-core"},
    {"/usr/share/fonts/TTF/DejaVuSansMono.ttf", "/usr/share/fonts/TTF/DejaVuSansMono-Bold.ttf",
     NULL},
    {"/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
     "/usr/share/fonts/dejavu/DejaVuSansMono-Bold.ttf", NULL},
};

/* The symbols beyond ASCII, in atlas order after the 95 printable characters. */
static const uint16_t extra[] = {0x2192, 0x2190, 0x2026, 0x2248, 0x00b7, 0x25b8,
                                 0x2193, 0x2191, 0x2502, 0x25a0, 0x25c2, 0x2014};
#define NR_ASCII  95
#define NR_GLYPHS (NR_ASCII + (int)(sizeof(extra) / sizeof(extra[0])))

static int glyph_index(uint32_t cp)
{
	if (cp >= 32 && cp < 127)
		return (int)cp - 32;
	for (int i = 0; i < (int)(sizeof(extra) / sizeof(extra[0])); i++)
		if (extra[i] == cp)
			return NR_ASCII + i;
	return '?' - 32;
}

/* Next code point of UTF-8 s (advances *s); invalid bytes read as '?'. */
static uint32_t utf8_next(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;
	uint32_t cp;
	int n;

	if (p[0] < 0x80) {
		*s += 1;
		return p[0];
	}
	if ((p[0] & 0xe0) == 0xc0) {
		cp = p[0] & 0x1f;
		n = 1;
	} else if ((p[0] & 0xf0) == 0xe0) {
		cp = p[0] & 0x0f;
		n = 2;
	} else {
		*s += 1;
		return '?';
	}
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*s += i;
			return '?';
		}
		cp = cp << 6 | (p[i] & 0x3f);
	}
	*s += n + 1;
	return cp;
}

static int make_atlas(struct view_gfx *g, int f)
{
	TTF_Font *font = g->ttf[f];
	SDL_Color white = {255, 255, 255, 255};
	int adv = 0, h = TTF_FontHeight(font);
	SDL_Surface *atlas;

	if (TTF_GlyphMetrics(font, 'M', NULL, NULL, NULL, NULL, &adv) < 0 || adv <= 0)
		adv = h / 2;
	/* A glyph's surface can be taller than the font's height (the
	   underscore sits below the descent line): make room for the tallest. */
	for (int i = 0; i < NR_GLYPHS; i++) {
		uint16_t cp = i < NR_ASCII ? (uint16_t)(i + 32) : extra[i - NR_ASCII];
		SDL_Surface *gs =
		    TTF_GlyphIsProvided(font, cp) ? TTF_RenderGlyph_Blended(font, cp, white) : NULL;

		if (gs && gs->h > h)
			h = gs->h;
		SDL_FreeSurface(gs);
	}
	atlas = SDL_CreateRGBSurfaceWithFormat(0, adv * NR_GLYPHS, h, 32, SDL_PIXELFORMAT_ARGB8888);
	if (!atlas)
		return -1;
	SDL_FillRect(atlas, NULL, SDL_MapRGBA(atlas->format, 255, 255, 255, 0));
	for (int i = 0; i < NR_GLYPHS; i++) {
		uint16_t cp = i < NR_ASCII ? (uint16_t)(i + 32) : extra[i - NR_ASCII];
		SDL_Surface *gs;
		SDL_Rect dst = {i * adv, 0, adv, h};

		if (cp == ' ' || !TTF_GlyphIsProvided(font, cp))
			continue;
		gs = TTF_RenderGlyph_Blended(font, cp, white);
		if (!gs)
			continue;
		SDL_SetSurfaceBlendMode(gs, SDL_BLENDMODE_NONE);
		SDL_Rect src = {0, 0, gs->w < adv ? gs->w : adv, gs->h < h ? gs->h : h};

		dst.w = src.w;
		dst.h = src.h;
		SDL_BlitSurface(gs, &src, atlas, &dst);
		SDL_FreeSurface(gs);
	}
	if (g->font[f].tex)
		SDL_DestroyTexture(g->font[f].tex);
	g->font[f].tex = SDL_CreateTextureFromSurface(g->r, atlas);
	SDL_FreeSurface(atlas);
	if (!g->font[f].tex)
		return -1;
	SDL_SetTextureBlendMode(g->font[f].tex, SDL_BLENDMODE_BLEND);
	g->font[f].adv = adv;
	g->font[f].h = h;
	return 0;
}

static int open_fonts(struct view_gfx *g, int px, FILE *err)
{
	int sizes[VF__COUNT] = {[VF_NORMAL] = px, [VF_SMALL] = px * 85 / 100, [VF_BOLD] = px};

	for (int f = 0; f < VF__COUNT; f++) {
		if (g->ttf[f])
			TTF_CloseFont(g->ttf[f]);
		g->ttf[f] = NULL;
		for (size_t i = 0; i < sizeof(font_paths) / sizeof(font_paths[0]) && !g->ttf[f];
		     i++)
			g->ttf[f] = TTF_OpenFont(font_paths[i][f == VF_BOLD ? 1 : 0], sizes[f]);
		if (!g->ttf[f] && f == VF_BOLD)
			for (size_t i = 0;
			     i < sizeof(font_paths) / sizeof(font_paths[0]) && !g->ttf[f]; i++)
				g->ttf[f] = TTF_OpenFont(font_paths[i][0], sizes[f]);
		if (!g->ttf[f]) {
			if (err)
				fprintf(
				    err,
				    "view: cannot open %s: %s (install the Debian package %s)\n",
				    font_paths[0][0], TTF_GetError(), font_paths[0][2]);
			return -1;
		}
		if (make_atlas(g, f) < 0) {
			if (err)
				fprintf(err, "view: cannot make the glyph atlas: %s\n",
				        SDL_GetError());
			return -1;
		}
	}
	g->font_px = px;
	return 0;
}

int view_gfx_init(struct view_gfx *g, SDL_Renderer *r, int font_px, FILE *err)
{
	memset(g, 0, sizeof(*g));
	g->r = r;
	g->anim = 1;
	for (int s = 0; s < VIEW_MAX_SIDES; s++)
		g->grid[s].built_seq = UINT64_MAX;
	if (!TTF_WasInit() && TTF_Init() < 0) {
		fprintf(err, "view: TTF_Init: %s\n", TTF_GetError());
		return -1;
	}
	return open_fonts(g, font_px, err);
}

int view_gfx_resize(struct view_gfx *g, int font_px)
{
	if (font_px == g->font_px)
		return 0;
	return open_fonts(g, font_px, stderr);
}

void view_gfx_destroy(struct view_gfx *g)
{
	for (int f = 0; f < VF__COUNT; f++) {
		if (g->font[f].tex)
			SDL_DestroyTexture(g->font[f].tex);
		if (g->ttf[f])
			TTF_CloseFont(g->ttf[f]);
	}
	for (int s = 0; s < VIEW_MAX_SIDES; s++) {
		if (g->grid[s].tex)
			SDL_DestroyTexture(g->grid[s].tex);
		free(g->grid[s].pix);
	}
	memset(g, 0, sizeof(*g));
}

int view_text_width(struct view_gfx *g, int font, const char *s)
{
	int n = 0;

	while (*s) {
		utf8_next(&s);
		n++;
	}
	return n * g->font[font].adv;
}

static int draw_n(struct view_gfx *g, int font, int x, int y, uint32_t rgb, const char *s,
                  int maxchars)
{
	struct view_font_atlas *a = &g->font[font];
	int x0 = x;

	SDL_SetTextureColorMod(a->tex, rgb >> 16 & 0xff, rgb >> 8 & 0xff, rgb & 0xff);
	while (*s && maxchars-- > 0) {
		int i = glyph_index(utf8_next(&s));
		SDL_Rect src = {i * a->adv, 0, a->adv, a->h}, dst = {x, y, a->adv, a->h};

		if (i)
			SDL_RenderCopy(g->r, a->tex, &src, &dst);
		x += a->adv;
	}
	return x - x0;
}

int view_text(struct view_gfx *g, int font, int x, int y, uint32_t rgb, const char *s)
{
	return draw_n(g, font, x, y, rgb, s, 1 << 30);
}

int view_text_clip(struct view_gfx *g, int font, int x, int y, int maxw, uint32_t rgb,
                   const char *s)
{
	int adv = g->font[font].adv, fit = adv > 0 ? maxw / adv : 0, n = 0;

	for (const char *p = s; *p; n++)
		utf8_next(&p);
	if (n <= fit)
		return draw_n(g, font, x, y, rgb, s, n);
	if (fit <= 0)
		return 0;
	int w = draw_n(g, font, x, y, rgb, s, fit - 1);

	return w + draw_n(g, font, x + w, y, rgb, "\xe2\x80\xa6", 1);
}
