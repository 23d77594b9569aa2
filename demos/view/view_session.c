/*
 * view_session.c - the viewer's session (see view_session.h): the steppers
 * of one or two sides driven by the stepper's keys (demos/step/stepper.h),
 * --compare's two sides kept on one statement, the process and arena
 * selectors, a statement typed on the command line (appended to the
 * script, which is parsed again whole by script_parse; the steppers are
 * rebuilt to the current event and run on into the new statement), and
 * the frame drawn from the sides' models.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "view_session.h"

/* ---- the script and the steppers -------------------------------------------- */

void view_msg(struct view_app *a, bool bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void view_msg(struct view_app *a, bool bad, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
	va_end(ap);
	a->msg_bad = bad;
}

void view_changed(struct view_app *a)
{
	for (int s = 0; s < a->nsides; s++)
		a->side[s].stale = true;
	a->change_ms = SDL_GetTicks();
	a->npop = 0;
}

void view_refresh_models(struct view_app *a)
{
	for (int s = 0; s < a->nsides; s++)
		if (a->side[s].stale) {
			view_model_update(&a->side[s].m, a->side[s].st);
			a->side[s].stale = false;
		}
}

struct stepper *view_make_stepper(struct view_app *a, const struct script *sc, int s)
{
	struct session_opts so = a->so;

	if (a->side[s].policy)
		so.policy = a->side[s].policy;
	return stepper_create(sc, &so, LOG_CAP, stderr);
}

static void note_end(struct view_app *a)
{
	struct stepper *st = a->side[0].st;

	if (st->finished)
		view_msg(a, st->s->dead, "%s at event #%" PRIu64 " (b or B to go back)",
		         st->s->dead ? "the program was killed" : "the program has ended",
		         st->cur.seq);
}

static bool forward_cmd(enum step_cmd c)
{
	return c == STEP_EVENT || c == STEP_FAULT || c == STEP_SYSCALL || c == STEP_RETURN ||
	       c == STEP_RECLAIM || c == STEP_SWAPOUT || c == STEP_MAJOR || c == STEP_OOM ||
	       c == STEP_COW || c == STEP_SWITCH;
}

/*
 * Carry out a stepper command on every side. With two sides, forward steps
 * keep them on the same statement (the same execution of a line: its
 * number, nr_starts, counts a loop's passes): a side that reached a later
 * statement waits there until the other catches up; n moves both to the
 * statement after the one the slower side is on.
 */
void view_do_cmd(struct view_app *a, enum step_cmd cmd, uint64_t arg)
{
	size_t lead = SIZE_MAX;

	if (a->nsides > 1 && cmd == STEP_GOTO) {
		/* Event numbers differ between policies: the first side goes to
		   event N, the other to the start of the same statement. */
		struct stepper *st0 = a->side[0].st;

		stepper_do(st0, STEP_GOTO, arg);
		for (int s = 1; s < a->nsides; s++) {
			struct stepper *st = a->side[s].st;

			stepper_do(st, STEP_GOTO, 0);
			while (!st->finished && st->nr_starts < st0->nr_starts)
				stepper_do(st, STEP_STMT, 0);
		}
		view_changed(a);
		note_end(a);
		return;
	}

	a->msg[0] = '\0';
	for (int s = 0; s < a->nsides; s++) {
		size_t cs = a->side[s].st->nr_starts;

		lead = cs < lead ? cs : lead;
	}
	for (int s = 0; s < a->nsides; s++) {
		struct stepper *st = a->side[s].st;

		if (a->nsides > 1 && (forward_cmd(cmd) || cmd == STEP_STMT) && st->have_cur &&
		    st->nr_starts > lead)
			continue; /* ahead: wait for the other side */
		stepper_do(st, cmd, arg);
	}
	view_changed(a);
	note_end(a);
}

/* Side sd shows another process or arena: its model is read again, the
   popup (about what was shown) goes. */
static void reselect(struct view_app *a, struct view_side *sd)
{
	sd->stale = true;
	a->npop = 0;
	view_refresh_models(a);
}

/*
 * The process selector: the panels show process pid's address space (0:
 * follow the task the CPU runs), with its parent or child beside it.
 */
void view_select_process(struct view_app *a, int s, int pid)
{
	struct view_side *sd = &a->side[s];

	sd->m.want_pid = pid;
	reselect(a, sd);
	if (pid && sd->m.sel_pid != pid)
		view_msg(a, true, "pid %d has no address space here: showing pid %d", pid,
		         sd->m.sel_pid);
	else if (pid)
		view_msg(a, false, "showing pid %d (P: follow the running task)", pid);
	else
		view_msg(a, false, "following the running task (pid %d)", sd->m.sel_pid);
}

/* p: the next process, P: back to following the running task. */
void view_cycle_process(struct view_app *a, bool follow)
{
	for (int s = 0; s < a->nsides; s++) {
		view_refresh_models(a);
		view_select_process(
		    a, s,
		    follow ? 0 : view_model_next_process(&a->side[s].m, a->side[s].m.sel_pid));
	}
}

/*
 * The arena selector: the heap panel shows glibc arena i of the selected
 * process (-1: follow the arena of the thread statements run in).
 */
void view_select_arena(struct view_app *a, int s, int i)
{
	struct view_side *sd = &a->side[s];

	sd->m.want_arena = i;
	reselect(a, sd);
	if (sd->m.nr_arenas < 2)
		view_msg(a, true, "pid %d has %s: nothing to choose", sd->m.sel_pid,
		         sd->m.nr_arenas ? "one arena, main_arena" : "no glibc arena yet");
	else if (i >= 0)
		view_msg(a, false, "showing %s%.0u of pid %d (A: follow the thread)",
		         sd->m.sel_arena ? "arena " : "main_arena",
		         sd->m.arenas[sd->m.sel_arena].nr, sd->m.sel_pid);
	else
		view_msg(a, false, "following tid %d's arena", sd->m.arena_tid);
}

/* a: the next arena, A: back to following the thread's. */
void view_cycle_arena(struct view_app *a, bool follow)
{
	for (int s = 0; s < a->nsides; s++) {
		view_refresh_models(a);
		view_select_arena(
		    a, s,
		    follow ? -1
		           : (int)view_model_next_arena(&a->side[s].m, a->side[s].m.sel_arena));
	}
}

void view_do_key(struct view_app *a, const char *key)
{
	enum step_cmd cmd;
	uint64_t arg;
	int r = stepper_parse_key(key, &cmd, &arg);

	if (r == 0) {
		a->quit = true;
		return;
	}
	if (r < 0) {
		view_msg(a, true, "unknown key '%s'", key);
		return;
	}
	view_do_cmd(a, cmd, arg);
}

/* The first line of what a parser or the session wrote to err. */
static void first_line(char *dst, size_t n, const char *src)
{
	size_t i = 0;

	while (src && src[i] && src[i] != '\n' && i + 1 < n) {
		dst[i] = src[i];
		i++;
	}
	dst[i] = '\0';
}

/*
 * A statement typed in the window: append it to the script, parse the whole
 * text again (so variables and errors are exactly the file's), rebuild the
 * steppers to the event shown now, then run on to the new statement's start.
 */
static void run_statement(struct view_app *a, const char *line)
{
	struct script *nsc = NULL;
	char *ntext = NULL, *err = NULL;
	size_t errn = 0;
	FILE *ef;
	struct stepper *nst[VIEW_MAX_SIDES] = {0};

	if (asprintf(&ntext, "%s%s%s\n", a->text,
	             a->text[0] && a->text[strlen(a->text) - 1] != '\n' ? "\n" : "", line) < 0)
		return;
	ef = open_memstream(&err, &errn);
	if (!ef || script_parse(a->path, ntext, &nsc, ef) < 0) {
		if (ef)
			fclose(ef);
		const char *e = err && *err ? err : "cannot parse the statement";
		size_t pl = strlen(a->path);

		/* "PATH:LINE: message" names the file; the line is the one typed. */
		if (strncmp(e, a->path, pl) == 0 && e[pl] == ':' && strchr(e + pl + 1, ':'))
			e = strchr(e + pl + 1, ':') + 1;
		while (*e == ' ')
			e++;
		snprintf(a->msg, sizeof(a->msg), "typed line: ");
		first_line(a->msg + strlen(a->msg), sizeof(a->msg) - strlen(a->msg), e);
		a->msg_bad = true;
		free(err);
		free(ntext);
		return;
	}
	fclose(ef);
	free(err);
	if (a->side[0].st->s->dead) {
		view_msg(a, true, "the program was killed: no statement can run any more");
		script_free(nsc);
		free(ntext);
		return;
	}
	for (int s = 0; s < a->nsides; s++) {
		struct stepper *old = a->side[s].st;

		nst[s] = view_make_stepper(a, nsc, s);
		if (!nst[s]) {
			view_msg(a, true, "cannot start the simulation again");
			for (int t = 0; t < s; t++)
				stepper_destroy(nst[t]);
			script_free(nsc);
			free(ntext);
			return;
		}
		if (old->have_cur)
			stepper_do(nst[s], STEP_GOTO, old->cur.seq);
		while (!nst[s]->finished && nst[s]->cur_stmt + 1 < nsc->nr_stmts)
			stepper_do(nst[s], STEP_STMT, 0);
		if (!nst[s]->finished && !(nst[s]->have_cur && nst[s]->cur.kind == EV_STMT &&
		                           nst[s]->cur_stmt + 1 == nsc->nr_stmts))
			stepper_do(nst[s], STEP_STMT, 0);
	}
	for (int s = 0; s < a->nsides; s++) {
		stepper_destroy(a->side[s].st);
		a->side[s].st = nst[s];
	}
	script_free(a->sc);
	a->sc = nsc;
	free(a->text);
	a->text = ntext;
	view_changed(a);
	view_msg(a, false, "added line %d: %s -- press s to step through it",
	         nsc->stmts[nsc->nr_stmts - 1].line, line);
}

void view_submit_input(struct view_app *a)
{
	enum step_cmd cmd;
	uint64_t arg;
	char line[sizeof(a->input) + 4];

	a->typing = false;
	SDL_StopTextInput();
	if (strcmp(a->prompt, "g ") == 0) {
		snprintf(line, sizeof(line), "g %s", a->input);
		view_do_key(a, line);
		return;
	}
	if (!a->input[0])
		return;
	/* A stepper key typed on the line works too (g 120, n, ...). */
	if (stepper_parse_key(a->input, &cmd, &arg) == 1) {
		view_do_cmd(a, cmd, arg);
		return;
	}
	run_statement(a, a->input);
}

/* ---- drawing -------------------------------------------------------------------- */

void view_draw_frame(struct view_app *a)
{
	SDL_Renderer *r = a->g.r;
	Uint32 now = SDL_GetTicks();

	view_refresh_models(a);
	SDL_SetRenderDrawColor(r, VIEW_COL_BG >> 16, VIEW_COL_BG >> 8 & 255, VIEW_COL_BG & 255,
	                       255);
	SDL_RenderClear(r);
	a->g.nr_hits = 0;
	for (int s = 0; s < a->nsides; s++) {
		struct view_side_info si = {&a->side[s].m, a->side[s].st, a->side[s].policy,
		                            a->file_lines, &a->side[s].lidx};

		view_draw_side(&a->g, &a->L, s, &si);
	}
	view_draw_cmdline(&a->g, &a->L, a->typing ? a->prompt : NULL, a->input, a->msg, a->msg_bad);
	if (a->npop)
		view_draw_popup(&a->g, &a->L, a->popx, a->popy, a->popv, a->npop);
	(void)now;
}
