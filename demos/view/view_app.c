/*
 * view_app.c - `aftermalloc view SCRIPT.ams`: the SDL viewer (DESIGN.md, The
 * command). One window, every panel drawn from the live simulation paused at
 * the current event by the stepping engine shared with `aftermalloc step`
 * (demos/step/stepper.h).
 *
 * This file is the command: the options applied (view_opts.c), the script
 * read and its steppers started, --compare A,B for two malloc policies side
 * by side, --layout, and --screenshot: a PNG of event N without any display
 * (SDL's software renderer on a surface). The window is view_window.c, its
 * keys and clicks view_input.c and view_details.c, stepping and the
 * command line view_session.c.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <SDL_image.h>
#include <cjson/cJSON.h>

#include "../cli/commands.h"
#include "../cli/output.h"
#include "../cli/plugin.h"
#include "../cli/plugin_guard.h"
#include "view_app.h"
#include "view_opts.h"
#include "view_session.h"

/* ---- headless ----------------------------------------------------------------------- */

static int screenshot(struct view_app *a, const char *file, FILE *png, int w, int h,
                      long bench_frames, const struct view_opts *o)
{
	SDL_RWops *rw;
	SDL_Surface *surf;
	SDL_Renderer *r;
	int status = 0;

	if (SDL_Init(0) < 0) {
		fprintf(stderr, "aftermalloc view: SDL_Init: %s\n", SDL_GetError());
		return EXIT_BAD_INPUT;
	}
	surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
	r = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
	if (!r) {
		fprintf(stderr, "aftermalloc view: no software renderer: %s\n", SDL_GetError());
		SDL_FreeSurface(surf);
		SDL_Quit();
		return EXIT_BAD_INPUT;
	}
	view_layout(&a->L, w, h, a->nsides, a->script);
	if (view_gfx_init(&a->g, r, a->L.font_px, stderr) < 0) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	a->g.anim = 1;
	if (bench_frames) {
		Uint32 t0 = SDL_GetTicks();

		for (long i = 0; i < bench_frames; i++) {
			view_do_cmd(a, STEP_EVENT, 0);
			view_draw_frame(a);
		}
		double secs = (SDL_GetTicks() - t0) / 1000.0;

		fprintf(stderr,
		        "view: %ld frames in %.2f s: %.1f frames/s (software, %dx%d, %" PRIu64
		        " frames of RAM)\n",
		        bench_frames, secs, secs > 0 ? bench_frames / secs : 0.0, w, h,
		        a->side[0].m.nr_frames);
	}
	if (o->type) {
		snprintf(a->input, sizeof(a->input), "%s", o->type);
		a->typing = true;
		strcpy(a->prompt, "> ");
		view_submit_input(a);
		a->typing = false;
	}
	if (o->have_click) {
		view_draw_frame(a); /* the hit regions of the picture being clicked */
		view_handle_click(a, o->click_x, o->click_y);
	}
	view_draw_frame(a);
	SDL_RenderPresent(r);
	/* Through the checked stream opened before anything ran (output.h): a
	   failed write ends the command there. */
	rw = SDL_RWFromFP(png, SDL_FALSE);
	if (!rw || IMG_SavePNG_RW(surf, rw, 1) < 0) {
		fprintf(stderr, "aftermalloc view: cannot write %s: %s\n", file, IMG_GetError());
		status = EXIT_BAD_INPUT;
	}
out:
	view_gfx_destroy(&a->g);
	SDL_DestroyRenderer(r);
	SDL_FreeSurface(surf);
	SDL_Quit();
	return status;
}

static int print_layout(int w, int h, int nsides, bool script)
{
	struct view_layout L;
	cJSON *o = cJSON_CreateObject(), *sides = cJSON_AddArrayToObject(o, "sides");
	char *s;

	view_layout(&L, w, h, nsides, script);
	cJSON_AddNumberToObject(o, "w", L.w);
	cJSON_AddNumberToObject(o, "h", L.h);
	cJSON_AddNumberToObject(o, "font_px", L.font_px);
	cJSON *c = cJSON_AddObjectToObject(o, "cmd");

	cJSON_AddNumberToObject(c, "x", L.cmd.x);
	cJSON_AddNumberToObject(c, "y", L.cmd.y);
	cJSON_AddNumberToObject(c, "w", L.cmd.w);
	cJSON_AddNumberToObject(c, "h", L.cmd.h);
	for (int sd = 0; sd < L.nsides; sd++) {
		cJSON *so = cJSON_CreateObject();

		for (int p = 0; p <= VP__COUNT; p++) {
			const struct view_rect *r =
			    p < VP__COUNT ? &L.panel[sd][p] : &L.phys_grid[sd];
			cJSON *ro = cJSON_AddObjectToObject(so, p < VP__COUNT ? view_panel_name(p)
			                                                      : "phys_grid");

			cJSON_AddNumberToObject(ro, "x", r->x);
			cJSON_AddNumberToObject(ro, "y", r->y);
			cJSON_AddNumberToObject(ro, "w", r->w);
			cJSON_AddNumberToObject(ro, "h", r->h);
		}
		cJSON_AddItemToArray(sides, so);
	}
	s = cJSON_Print(o);
	puts(s);
	free(s);
	cJSON_Delete(o);
	return 0;
}

int view_main(int argc, char **argv)
{
	struct view_opts o = {.w = VIEW_DEFAULT_W, .h = VIEW_DEFAULT_H, .arena = -1};
	struct view_app *a;
	char *pol = NULL;
	FILE *png = NULL; /* --screenshot's file */
	int status, rc;

	struct session_opts so;

	session_default_opts(&so);
	rc = view_parse_args(argc, argv, &o, &so);
	if (rc)
		return rc;
	if (o.help) {
		view_usage(stdout);
		return 0;
	}
	if (o.layout)
		return print_layout(o.w, o.h, o.compare ? 2 : 1, !o.no_script);
	a = calloc(1, sizeof(*a));
	if (!a)
		return EXIT_BAD_INPUT;
	a->so = so;
	a->script = !o.no_script;
	a->path = strcmp(o.script, "-") == 0 ? SCRIPT_STDIN_NAME : o.script;
	a->nsides = 1;
	if (o.compare) {
		char *comma;

		pol = strdup(o.compare);
		comma = pol ? strchr(pol, ',') : NULL;
		if (comma)
			*comma = '\0';
		if (!comma || strchr(comma + 1, ',') ||
		    !(malloc_policy(pol) || plugin_is_path(pol)) ||
		    !(malloc_policy(comma + 1) || plugin_is_path(comma + 1))) {
			free(pol);
			free(a);
			return usage_error(
			    "view",
			    "--compare: '%s' is not two policies A,B (seed, firstfit, "
			    "nextfit, bestfit, glibc, best)",
			    o.compare);
		}
		a->nsides = 2;
		a->side[0].policy = pol;
		a->side[1].policy = comma + 1;
		if (plugin_is_path(pol) || plugin_is_path(comma + 1))
			plugin_guard_layout(true);
	}
	if (o.screenshot && !(png = output_open(o.screenshot, false))) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	a->text = script_read_text("view", o.script, stderr);
	if (!a->text) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	if (script_parse(a->path, a->text, &a->sc, stderr) < 0) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	a->file_lines = a->sc->nr_lines;
	for (int s = 0; s < a->nsides; s++) {
		view_model_init(&a->side[s].m);
		a->side[s].st = view_make_stepper(a, a->sc, s);
		if (!a->side[s].st) {
			status = EXIT_BAD_INPUT;
			goto out;
		}
		a->side[s].m.want_pid = o.pid;
		a->side[s].m.want_arena = o.arena;
		a->side[s].stale = true;
	}
	if (o.have_at && a->nsides > 1) {
		view_do_cmd(a, STEP_GOTO, o.at);
	} else if (o.have_at) {
		for (int s = 0; s < a->nsides; s++) {
			struct stepper *st = a->side[s].st;

			stepper_do(st, STEP_GOTO, o.at);
			if (st->finished && st->cur.seq < o.at)
				fprintf(stderr,
				        "aftermalloc view: event %" PRIu64
				        " is past the end; the last "
				        "event is %" PRIu64 ", drawn instead\n",
				        o.at, st->cur.seq);
			else if (st->have_cur && st->cur.seq > o.at)
				fprintf(stderr,
				        "aftermalloc view: the script's first event is %" PRIu64
				        " (the %" PRIu64
				        " before it boot the machine and start the program); drawn "
				        "instead\n",
				        st->cur.seq, st->cur.seq);
		}
		view_changed(a);
	}
	if (o.pid) {
		view_refresh_models(a);
		if (a->side[0].m.sel_pid != o.pid)
			fprintf(stderr,
			        "aftermalloc view: --pid %d: no such process with an address space "
			        "at event %" PRIu64 "; pid %d shown instead\n",
			        o.pid, a->side[0].m.seq, a->side[0].m.sel_pid);
	}
	if (o.arena >= 0) {
		view_refresh_models(a);
		if (a->side[0].m.nr_arenas <= (unsigned)o.arena)
			fprintf(
			    stderr,
			    "aftermalloc view: --arena %d: pid %d has %u arena%s at event %" PRIu64
			    "; the arena of its thread shown instead\n",
			    o.arena, a->side[0].m.sel_pid, a->side[0].m.nr_arenas,
			    a->side[0].m.nr_arenas == 1 ? "" : "s", a->side[0].m.seq);
	}
	if (o.screenshot)
		status = screenshot(a, o.screenshot, png, o.w, o.h, o.bench_frames, &o);
	else
		status = view_run_window(a, o.w, o.h, o.bench_frames);
out:
	output_close(png); /* a failed write ends the command there (output.h) */
	for (int s = 0; s < a->nsides; s++) {
		stepper_destroy(a->side[s].st);
		view_model_free(&a->side[s].m);
		view_listing_index_free(&a->side[s].lidx);
	}
	if (a->sc)
		script_free(a->sc);
	free(a->text);
	free(pol);
	free(a);
	return status;
}
