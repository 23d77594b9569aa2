/*
 * view_window.c - the viewer's window (see view_session.h): opened only
 * where there is a display, drawn by the same software renderer as
 * --screenshot into a canvas, shown by sending the tiles that changed, and
 * the frame loop: events in, a frame out, at most 60 a second while a
 * highlight animates, none while nothing changes; --bench-frames measures it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/commands.h"
#include "view_session.h"

/*
 * The window's picture is drawn by SDL's software renderer into a surface of
 * the window's size, then copied to the window's own surface: the same
 * drawing code as --screenshot, and fast everywhere (a GL renderer on a
 * machine without a GPU -- llvmpipe under Xvfb -- is slower than this for
 * thousands of small glyph copies). Returns false when out of memory.
 */
static bool make_canvas(struct view_app *a, SDL_Window *win, SDL_Surface **canvas)
{
	SDL_Surface *ws = SDL_GetWindowSurface(win);
	SDL_Renderer *r;

	int scroll[VIEW_MAX_SIDES];

	if (!ws)
		return false;
	memcpy(scroll, a->g.log_scroll, sizeof(scroll));
	if (*canvas) {
		SDL_Renderer *old = a->g.r;

		view_gfx_destroy(&a->g);
		if (old)
			SDL_DestroyRenderer(old);
		SDL_FreeSurface(*canvas);
	}
	*canvas = SDL_CreateRGBSurfaceWithFormat(0, ws->w, ws->h, 32, SDL_PIXELFORMAT_ARGB8888);
	if (!*canvas)
		return false;
	r = SDL_CreateSoftwareRenderer(*canvas);
	if (!r)
		return false;
	view_layout(&a->L, ws->w, ws->h, a->nsides, a->script);
	if (view_gfx_init(&a->g, r, a->L.font_px, stderr) < 0)
		return false;
	memcpy(a->g.log_scroll, scroll, sizeof(scroll));
	return true;
}

/*
 * Showing a frame. Stepping one event changes a small part of the picture
 * (the log, the narration, a few cells: about 15% of its pixels), so the
 * canvas is compared with what the window shows, in tiles, and only the
 * tiles that differ are copied into the window's surface and sent to the X
 * server, merged into runs along each band of rows and down equal runs. A
 * frame where nothing changed (a mouse move over nothing) sends nothing.
 * The rows are copied as they are, not blended: the colours shown are
 * exactly the canvas's, as in --screenshot.
 */
#define TILE_W 64
#define TILE_H 16

struct view_present {
	SDL_Rect *rects;
	int cap;
	bool full; /* the window must be sent whole (first frame, exposed, resized) */
};

/* Does the tile at (x, y, w, h) differ? Every pixel of the window's surface
   was copied from a canvas (struct view_present.full), so the padding byte
   of an RGB888 surface holds the canvas's alpha too and memcmp can compare. */
static bool tile_differs(const SDL_Surface *c, const SDL_Surface *ws, int x, int y, int w, int h)
{
	for (int yy = y; yy < y + h; yy++)
		if (memcmp((const uint8_t *)c->pixels + (size_t)yy * (size_t)c->pitch +
		               (size_t)x * 4,
		           (const uint8_t *)ws->pixels + (size_t)yy * (size_t)ws->pitch +
		               (size_t)x * 4,
		           (size_t)w * 4))
			return true;
	return false;
}

static void copy_rect(const SDL_Surface *c, SDL_Surface *ws, const SDL_Rect *r)
{
	for (int yy = r->y; yy < r->y + r->h; yy++)
		memcpy((uint8_t *)ws->pixels + (size_t)yy * (size_t)ws->pitch + (size_t)r->x * 4,
		       (const uint8_t *)c->pixels + (size_t)yy * (size_t)c->pitch +
		           (size_t)r->x * 4,
		       (size_t)r->w * 4);
}

/* Show the canvas in the window; returns the pixels sent (for --bench-frames). */
static uint64_t present(SDL_Window *win, SDL_Surface *canvas, struct view_present *pr)
{
	SDL_Surface *ws = SDL_GetWindowSurface(win);
	uint32_t fmt = ws ? ws->format->format : 0;
	uint64_t sent = 0;
	int n = 0;

	if (!ws)
		return 0;
	/* The canvas is ARGB8888: a 32-bit window surface of the same channel
	   layout (the usual X11 one is RGB888, whose top byte X ignores) takes
	   its rows as they are; any other is converted whole. */
	if ((fmt != SDL_PIXELFORMAT_ARGB8888 && fmt != SDL_PIXELFORMAT_RGB888) ||
	    ws->w != canvas->w || ws->h != canvas->h || SDL_MUSTLOCK(ws)) {
		SDL_SetSurfaceBlendMode(canvas, SDL_BLENDMODE_NONE);
		SDL_BlitSurface(canvas, NULL, ws, NULL);
		SDL_UpdateWindowSurface(win);
		pr->full = false;
		return (uint64_t)ws->w * (uint64_t)ws->h;
	}
	if (pr->full) {
		SDL_Rect all = {0, 0, ws->w, ws->h};

		copy_rect(canvas, ws, &all);
		SDL_UpdateWindowSurface(win);
		pr->full = false;
		return (uint64_t)ws->w * (uint64_t)ws->h;
	}
	for (int y = 0; y < ws->h; y += TILE_H) {
		int h = ws->h - y < TILE_H ? ws->h - y : TILE_H;
		int run = -1; /* x where the current run of differing tiles started */

		for (int x = 0; x <= ws->w; x += TILE_W) {
			int w = ws->w - x < TILE_W ? ws->w - x : TILE_W;
			bool d = x < ws->w && tile_differs(canvas, ws, x, y, w, h);

			if (d && run < 0)
				run = x;
			if (d || run < 0)
				continue;
			if (n == pr->cap) {
				int cap = pr->cap ? 2 * pr->cap : 256;
				SDL_Rect *nr = realloc(pr->rects, (size_t)cap * sizeof(*nr));

				if (!nr) { /* send it all rather than nothing */
					pr->full = true;
					return present(win, canvas, pr);
				}
				pr->rects = nr;
				pr->cap = cap;
			}
			SDL_Rect t = {run, y, x - run, h};

			copy_rect(canvas, ws, &t);
			sent += (uint64_t)t.w * (uint64_t)t.h;
			run = -1;
			/* The same run in the band above grows down: fewer requests
			   (a few tens of rects a frame: a linear search is enough). */
			int i = 0;

			while (i < n && (pr->rects[i].x != t.x || pr->rects[i].w != t.w ||
			                 pr->rects[i].y + pr->rects[i].h != y))
				i++;
			if (i < n)
				pr->rects[i].h += h;
			else
				pr->rects[n++] = t;
		}
	}
	if (n)
		SDL_UpdateWindowSurfaceRects(win, pr->rects, n);
	return sent;
}

/* SDL's drivers that draw nowhere: with no display, SDL 2 falls back to them
   and the window would wait, unseen, for keys that never come. */
static bool video_driver_shows_nothing(const char *driver)
{
	return !driver || strcmp(driver, "offscreen") == 0 || strcmp(driver, "dummy") == 0 ||
	       strcmp(driver, "evdev") == 0;
}

static int no_display(const struct view_app *a, const char *why)
{
	return cmd_error("view",
	                 "no display (%s). Use `aftermalloc step %s` in a terminal, or "
	                 "--screenshot FILE.png --at N.",
	                 why, strcmp(a->path, SCRIPT_STDIN_NAME) == 0 ? "-" : a->path);
}

/*
 * The window needs a display: DISPLAY (X11) or WAYLAND_DISPLAY, unless
 * SDL_VIDEODRIVER names a driver (kmsdrm on a console, say). Without one
 * the command ends at once with exit status 2, before SDL tries its drivers.
 */
int view_run_window(struct view_app *a, int w, int h, long bench_frames)
{
	SDL_Window *win;
	SDL_Surface *canvas = NULL;
	struct view_present pr = {.full = true}; /* out frees pr.rects */
	int status = 0;
	const char *chosen = getenv("SDL_VIDEODRIVER");

	if ((!chosen || !*chosen) && !getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY"))
		return no_display(a, "DISPLAY and WAYLAND_DISPLAY are not set");
	if (SDL_Init(SDL_INIT_VIDEO) < 0)
		return no_display(a, SDL_GetError());
	if ((!chosen || !*chosen) && video_driver_shows_nothing(SDL_GetCurrentVideoDriver())) {
		char why[128];

		snprintf(why, sizeof(why), "SDL found none and fell back to its %s driver",
		         SDL_GetCurrentVideoDriver() ? SDL_GetCurrentVideoDriver() : "null");
		SDL_Quit();
		return no_display(a, why);
	}
	/* SDL_GetWindowSurface on X11 is by default a texture of an OpenGL
	   renderer (llvmpipe where there is no GPU, as under Xvfb): each update
	   then costs 16-20 ms whatever its size, more than drawing the frame,
	   and the viewer ran at 20-40 frames a second. The X11 shared-memory
	   image takes 0.1-1 ms. Only X11 has that image (Wayland has no other
	   way than the texture), and SDL reads the hint when the window's
	   surface is first made; the environment variable
	   SDL_FRAMEBUFFER_ACCELERATION still overrides this default. */
	if (SDL_GetCurrentVideoDriver() && strcmp(SDL_GetCurrentVideoDriver(), "x11") == 0)
		SDL_SetHintWithPriority(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0", SDL_HINT_DEFAULT);
	win = SDL_CreateWindow("aftermalloc view", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
	                       w, h, SDL_WINDOW_RESIZABLE);
	if (!win) {
		fprintf(stderr, "aftermalloc view: cannot open a window: %s\n", SDL_GetError());
		SDL_Quit();
		return EXIT_BAD_INPUT;
	}
	{
		char title[256];

		snprintf(title, sizeof(title), "aftermalloc view %s", a->path);
		SDL_SetWindowTitle(win, title);
	}
	SDL_SetWindowMinimumSize(win, VIEW_MIN_W, VIEW_MIN_H);
	if (!make_canvas(a, win, &canvas)) {
		fprintf(stderr, "aftermalloc view: cannot draw into the window: %s\n",
		        SDL_GetError());
		status = EXIT_BAD_INPUT;
		goto out;
	}
	SDL_StopTextInput();

	bool dirty = true;
	Uint32 t0 = SDL_GetTicks(), last = 0;
	long frames = 0;
	/* --bench-frames: where a frame's time goes (performance counter ticks). */
	Uint64 t_step = 0, t_draw = 0, t_show = 0, tc;
	uint64_t px_sent = 0;

	while (!a->quit) {
		SDL_Event e;
		bool animating = SDL_GetTicks() - a->change_ms < ANIM_MS;
		bool got = (dirty || animating || bench_frames) ? SDL_PollEvent(&e)
		                                                : SDL_WaitEventTimeout(&e, 250);
		bool resized = false;

		while (got) {
			dirty = true;
			switch (e.type) {
			case SDL_QUIT:
				a->quit = true;
				break;
			case SDL_KEYDOWN:
				view_handle_key(a, &e.key);
				break;
			case SDL_TEXTINPUT:
				if (a->typing &&
				    strlen(a->input) + strlen(e.text.text) < sizeof(a->input))
					strcat(a->input, e.text.text);
				break;
			case SDL_MOUSEBUTTONDOWN:
				if (e.button.button == SDL_BUTTON_LEFT)
					view_handle_click(a, e.button.x, e.button.y);
				break;
			case SDL_MOUSEWHEEL:
				view_handle_wheel(a, e.wheel.y);
				break;
			case SDL_WINDOWEVENT:
				/* The window's surface is new or was not shown: send
				   the next frame whole. */
				if (e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED ||
				    e.window.event == SDL_WINDOWEVENT_EXPOSED)
					pr.full = true;
				resized |= e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED;
				break;
			default:
				break;
			}
			got = SDL_PollEvent(&e);
		}
		if (resized && !make_canvas(a, win, &canvas)) {
			fprintf(stderr, "aftermalloc view: cannot redraw: %s\n", SDL_GetError());
			status = EXIT_BAD_INPUT;
			break;
		}
		if (bench_frames) {
			if (frames == bench_frames)
				break;
			tc = SDL_GetPerformanceCounter();
			view_do_cmd(a, STEP_EVENT, 0);
			t_step += SDL_GetPerformanceCounter() - tc;
		}
		animating = SDL_GetTicks() - a->change_ms < ANIM_MS;
		if (!dirty && !animating)
			continue;
		/* At most 60 frames a second while animating. */
		Uint32 now = SDL_GetTicks();

		if (!bench_frames && now - last < 16)
			SDL_Delay(16 - (now - last));
		last = SDL_GetTicks();
		a->g.anim = animating ? (SDL_GetTicks() - a->change_ms) / ANIM_MS : 1.0;
		tc = SDL_GetPerformanceCounter();
		view_draw_frame(a);
		SDL_RenderFlush(a->g.r);
		t_draw += SDL_GetPerformanceCounter() - tc;
		tc = SDL_GetPerformanceCounter();
		px_sent += present(win, canvas, &pr);
		t_show += SDL_GetPerformanceCounter() - tc;
		frames++;
		dirty = false;
	}
	if (bench_frames) {
		double secs = (SDL_GetTicks() - t0) / 1000.0;

		fprintf(stderr,
		        "view: %ld frames in %.2f s: %.1f frames/s (window %dx%d, %" PRIu64
		        " frames of RAM, one event a frame)\n",
		        frames, secs, secs > 0 ? frames / secs : 0.0, a->L.w, a->L.h,
		        a->side[0].m.nr_frames);
		if (frames) {
			double f = 1000.0 / (double)SDL_GetPerformanceFrequency() / (double)frames;

			fprintf(stderr,
			        "view: per frame: step %.2f ms, model and draw %.2f ms, show %.2f "
			        "ms (%.0f%% of the window's pixels sent)\n",
			        (double)t_step * f, (double)t_draw * f, (double)t_show * f,
			        100.0 * (double)px_sent / ((double)frames * a->L.w * a->L.h));
		}
	}
out:
	if (a->g.r) {
		SDL_Renderer *r = a->g.r;

		view_gfx_destroy(&a->g);
		SDL_DestroyRenderer(r);
	}
	SDL_FreeSurface(canvas);
	free(pr.rects);
	SDL_DestroyWindow(win);
	SDL_Quit();
	return status;
}
