/*
 * view_session.h - what the viewer's files share: its state (struct
 * view_app: the script, one or two steppers and their models, the command
 * line, the details popup) and the operations on it that cross files.
 * view_app.c is the command (and the headless picture), view_opts.c its
 * options, view_session.c stepping and the typed statements, view_input.c
 * keys and clicks, view_details.c what a click shows, view_window.c the
 * window and its frame loop. Nothing outside demos/view/ includes this.
 */
#ifndef DEMOS_VIEW_SESSION_H
#define DEMOS_VIEW_SESSION_H

#include <SDL.h>

#include "../cli/script.h"
#include "../step/stepper.h"
#include "view_draw.h"
#include "view_layout.h"
#include "view_model.h"

#define LOG_CAP 4096
#define ANIM_MS 450.0

struct view_side {
	struct stepper *st;
	struct view_model m;
	struct view_listing_index lidx; /* the script's blocks, for its panel */
	const char *policy; /* --compare: this side's policy */
	bool stale;         /* the model must be re-read */
};

struct view_app {
	const char *path;
	char *text; /* the script's text, with the lines typed in the window */
	struct script *sc;
	struct session_opts so;
	int nsides;
	struct view_side side[VIEW_MAX_SIDES];
	struct view_layout L;
	bool script;    /* the script panel is shown (l toggles it) */
	int file_lines; /* the script's lines from its file (typed ones follow) */
	struct view_gfx g;
	bool quit;
	/* Command line */
	bool typing;
	char prompt[8];
	char input[256];
	char msg[320];
	bool msg_bad;
	/* Details popup */
	char pop[12][200];
	const char *popv[12];
	int npop, popx, popy;
	Uint32 change_ms; /* when the shown event last changed (animation) */
};

/* ---- view_session.c: the steppers, the typed line, the frame ---------------- */

/* The status line's message (msg_bad: shown as an error). */
void view_msg(struct view_app *a, bool bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The shown event changed: every model is stale, the popup goes, the
   highlight animates again. */
void view_changed(struct view_app *a);
/* Re-read the stale models from their steppers. */
void view_refresh_models(struct view_app *a);
/* A stepper for side s on sc with the session's options and its policy;
   NULL with a message on stderr. */
struct stepper *view_make_stepper(struct view_app *a, const struct script *sc, int s);
/* A stepper command on every side (two sides keep to one statement). */
void view_do_cmd(struct view_app *a, enum step_cmd cmd, uint64_t arg);
/* A stepper key ("s", "g 120", ...): q sets quit, an unknown one a message. */
void view_do_key(struct view_app *a, const char *key);
/* The command line's Enter: a key, g N, or a statement to run. */
void view_submit_input(struct view_app *a);
/* Show process pid (0: follow the running task) / arena i (-1: follow the
   statement's thread) on side s, with a message saying what is shown. */
void view_select_process(struct view_app *a, int s, int pid);
void view_select_arena(struct view_app *a, int s, int i);
/* p / a: the next process / arena on every side; P / A (follow): back to following. */
void view_cycle_process(struct view_app *a, bool follow);
void view_cycle_arena(struct view_app *a, bool follow);
/* Draw the whole picture into a->g's renderer. */
void view_draw_frame(struct view_app *a);

/* ---- view_details.c ---------------------------------------------------------------- */

/* A click on hit region h at (x, y): the popup of what is there, or what
   the region does (go to an event, select a process or an arena). */
void view_details(struct view_app *a, const struct view_hit *h, int x, int y);

/* ---- view_input.c ------------------------------------------------------------------ */

void view_handle_key(struct view_app *a, const SDL_KeyboardEvent *k);
/* Also --click, headless: needs the hit regions of a picture drawn first. */
void view_handle_click(struct view_app *a, int x, int y);
/* The wheel over a side's event log scrolls it. */
void view_handle_wheel(struct view_app *a, int dy);

/* ---- view_window.c ----------------------------------------------------------------- */

/* The window of w x h until q; bench_frames > 0: step that many frames and
   print the rates. The exit status (2 with no display). */
int view_run_window(struct view_app *a, int w, int h, long bench_frames);

#endif
