/*
 * view_app.c - `aftermalloc view SCRIPT.ams`: the SDL viewer (DESIGN.md, The
 * command). One window, every panel drawn from the live simulation paused at
 * the current event by the stepping engine shared with `aftermalloc step`
 * (demos/step/stepper.h): the keys are the stepper's keys, parsed by
 * stepper_parse_key; this file only maps SDL's key events to those strings.
 *
 * Also: a command line inside the window (a statement typed there is
 * appended to the script, which is parsed again whole by script_parse; the
 * stepper is rebuilt to the current event and runs on into the new
 * statement), mouse details for frames, PTEs, chunks and VMAs, a click in the
 * event log to go there, --compare A,B for two malloc policies side by side
 * stepping together statement by statement, and --screenshot for a PNG of
 * event N without any display (SDL's software renderer on a surface).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>
#include <SDL_image.h>
#include <cjson/cJSON.h>

#include "../cli/commands.h"
#include "../cli/options.h"
#include "../cli/output.h"
#include "../cli/plugin.h"
#include "../cli/plugin_guard.h"
#include "../cli/script.h"
#include "../step/stepper.h"
#include "view_app.h"
#include "view_draw.h"
#include "view_layout.h"
#include "view_model.h"

#define LOG_CAP 4096
#define ANIM_MS 450.0

struct view_side {
	struct stepper *st;
	struct view_model m;
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

/* ---- options ------------------------------------------------------------ */

struct view_opts {
	const char *script;
	const char *screenshot;
	const char *compare;
	bool have_at, layout, help;
	uint64_t at;
	int w, h;
	long bench_frames;
	const char *type;     /* --type: a line for the command line (headless tests) */
	int click_x, click_y; /* --click X,Y: a click before the picture (headless tests) */
	bool have_click;
	int pid; /* --pid N: the process selector's choice at the start (0: the running one) */
	int arena; /* --arena N: the arena selector's choice at the start (-1: follow) */
};

static void usage(FILE *f)
{
	fputs("usage: aftermalloc view SCRIPT.ams [options]\n"
	      "       aftermalloc view SCRIPT.ams --screenshot FILE.png --at N [--size WxH]\n"
	      "       aftermalloc view --layout [--size WxH] [--compare A,B]\n"
	      "\n"
	      "The SDL viewer: the call path and its narration, the address space, the heap's\n"
	      "chunks, the page walk, physical frames and buddy free lists, the TLB, counters\n"
	      "and the event log, all read from the simulation paused at the current event.\n"
	      "\n"
	      "Keys (as in `aftermalloc step`): s or Enter one event, n next statement, f next\n"
	      "page fault, y next system call, o until return, b one event back, B one\n"
	      "statement back, g N go to event N, e to the end, q quit; r, w, m, k the next\n"
	      "reclaim, swap-out, major fault, OOM kill; c, t the next copy-on-write fault,\n"
	      "context switch. ':' opens the command line: type a statement (p = malloc 5000,\n"
	      "store p 0 1 1) and watch it run. Click a frame, a page-table entry, a chunk or\n"
	      "a VMA for details, an event to go there. p shows the next process's address\n"
	      "space (with its parent or child beside it), P the running task's again. a\n"
	      "shows the next glibc arena's heap (main_arena, arena 1, ...), A the arena of\n"
	      "the thread the statement runs in again.\n"
	      "\n"
	      "  --malloc POLICY     seed, firstfit, nextfit, bestfit, glibc, best, or ./mm.so\n"
	      "                      (a plugin: your own allocator, see aftermalloc lab)\n"
	      "  --compare A,B       two policies side by side, stepping together by statement\n"
	      "                      (g N and --at N: the first side goes to event N, the\n"
	      "                      second to the start of the same statement)\n"
	      "  --phys SIZE         simulated RAM (default 64M); --seed N: ASLR from N\n"
	      "  --swap SIZE         a swap area of SIZE at boot (default none)\n"
	      "  --no-zero-page      a read fault allocates a frame\n"
	      "  --pcid              a context switch keeps the TLB's entries (PCID tags)\n"
	      "  --cpus N            CPUs the machine reports online (default 1)\n"
	      "  --tunable T=V[:...] a glibc.malloc tunable, as GLIBC_TUNABLES sets it\n"
	      "  --at N              start at event N (a window) or draw event N (--screenshot);\n"
	      "                      N past the last event draws the last one, with a note on\n"
	      "                      stderr\n"
	      "  --screenshot FILE   draw without a window into FILE (PNG) and exit\n"
	      "  --size WxH          window or picture size (default 1280x800, at least 640x400)\n"
	      "  --layout            print the panel rectangles for --size as JSON and exit\n"
	      "  --bench-frames K    step one event a frame for K frames, print frames/s, exit\n"
	      "  --type LINE         with --screenshot: enter LINE on the command line first\n"
	      "  --click X,Y         with --screenshot: click at X,Y first (details, log)\n"
	      "  --pid N             show process N's address space (as p selects it); by\n"
	      "                      default the running task's\n"
	      "  --arena N           show glibc arena N's heap (as a selects it; 0: main_arena);\n"
	      "                      by default the arena of the statement's thread\n"
	      "\n"
	      "Exit status: 0 success; 2 bad usage, a malformed script or no display.\n",
	      f);
}

enum {
	OPT_COMPARE = 256,
	OPT_SHOT,
	OPT_AT,
	OPT_SIZE,
	OPT_LAYOUT,
	OPT_BENCH,
	OPT_TYPE,
	OPT_CLICK,
	OPT_PID,
	OPT_ARENA,
};

static int parse_wxh(const char *s, int *w, int *h)
{
	char *end;
	long a, b;

	errno = 0;
	a = strtol(s, &end, 10);
	if (end == s || (*end != 'x' && *end != 'X'))
		return -1;
	s = end + 1;
	b = strtol(s, &end, 10);
	if (end == s || *end || errno || a < VIEW_MIN_W || b < VIEW_MIN_H || a > 8192 || b > 8192)
		return -1;
	*w = (int)a;
	*h = (int)b;
	return 0;
}

static int parse_args(int argc, char **argv, struct view_opts *o, struct session_opts *so)
{
	static const struct option longopts[] = {
	    /* the simulation options of options.h, less --tlb and colour */
	    {"malloc", required_argument, NULL, SIM_OPT_MALLOC},
	    {"phys", required_argument, NULL, SIM_OPT_PHYS},
	    {"swap", required_argument, NULL, SIM_OPT_SWAP},
	    {"seed", required_argument, NULL, SIM_OPT_SEED},
	    {"no-zero-page", no_argument, NULL, SIM_OPT_NOZERO},
	    {"pcid", no_argument, NULL, SIM_OPT_PCID},
	    {"cpus", required_argument, NULL, SIM_OPT_CPUS},
	    {"tunable", required_argument, NULL, SIM_OPT_TUNABLE},
	    {"compare", required_argument, NULL, OPT_COMPARE},
	    {"screenshot", required_argument, NULL, OPT_SHOT},
	    {"at", required_argument, NULL, OPT_AT},
	    {"size", required_argument, NULL, OPT_SIZE},
	    {"layout", no_argument, NULL, OPT_LAYOUT},
	    {"bench-frames", required_argument, NULL, OPT_BENCH},
	    {"type", required_argument, NULL, OPT_TYPE},
	    {"click", required_argument, NULL, OPT_CLICK},
	    {"pid", required_argument, NULL, OPT_PID},
	    {"arena", required_argument, NULL, OPT_ARENA},
	    {"help", no_argument, NULL, 'h'},
	    {0, 0, 0, 0},
	};
	char *end;
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			o->help = true;
			return 0;
		case OPT_COMPARE:
			o->compare = optarg;
			break;
		case OPT_SHOT:
			o->screenshot = optarg;
			break;
		case OPT_AT:
			errno = 0;
			o->at = strtoull(optarg, &end, 0);
			if (end == optarg || *end || errno || optarg[0] == '-')
				return usage_error("view", "--at: '%s' is not an event number",
				                   optarg);
			o->have_at = true;
			break;
		case OPT_SIZE:
			if (parse_wxh(optarg, &o->w, &o->h) < 0)
				return usage_error(
				    "view",
				    "--size: bad size '%s' (WxH, at least %dx%d, at most "
				    "8192x8192)",
				    optarg, VIEW_MIN_W, VIEW_MIN_H);
			break;
		case OPT_LAYOUT:
			o->layout = true;
			break;
		case OPT_BENCH:
			o->bench_frames = strtol(optarg, &end, 10);
			if (end == optarg || *end || o->bench_frames <= 0)
				return usage_error("view", "--bench-frames: bad count '%s'",
				                   optarg);
			break;
		case OPT_TYPE:
			o->type = optarg;
			break;
		case OPT_CLICK:
			if (sscanf(optarg, "%d,%d", &o->click_x, &o->click_y) != 2)
				return usage_error("view", "--click: '%s' is not X,Y", optarg);
			o->have_click = true;
			break;
		case OPT_PID: {
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (end == optarg || *end || errno || v < 1 || v > 0x3fffffff)
				return usage_error("view", "--pid: '%s' is not a process id",
				                   optarg);
			o->pid = (int)v;
			break;
		}
		case OPT_ARENA: {
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (end == optarg || *end || errno || v < 0 || v >= VM_MAX_ARENAS)
				return usage_error("view", "--arena: '%s' is not an arena number (0 to %d)",
				                   optarg, VM_MAX_ARENAS - 1);
			o->arena = (int)v;
			break;
		}
		case ':':
			return usage_error("view", "option '%s' needs a value", argv[optind - 1]);
		default:
			rc = sim_option("view", c, optarg, so, NULL);
			if (rc < 0)
				return EXIT_BAD_INPUT;
			if (rc == 0)
				return usage_error("view", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o->layout && optind >= argc)
		return 0;
	if (!(o->script = sim_script_arg("view", argc, argv, optind)))
		return EXIT_BAD_INPUT;
	if (o->layout)
		return 0;
	if (o->screenshot && !o->have_at)
		return usage_error("view",
		                   "--screenshot needs --at N: the event to draw (see `aftermalloc "
		                   "run %s --events FILE` for their numbers)",
		                   o->script);
	if (o->compare && so->policy)
		return usage_error("view", "--compare and --malloc do not go together");
	return 0;
}

/* ---- the script and the steppers -------------------------------------------- */

static void set_msg(struct view_app *a, bool bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_msg(struct view_app *a, bool bad, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
	va_end(ap);
	a->msg_bad = bad;
}

static void changed(struct view_app *a)
{
	for (int s = 0; s < a->nsides; s++)
		a->side[s].stale = true;
	a->change_ms = SDL_GetTicks();
	a->npop = 0;
}

static void refresh_models(struct view_app *a)
{
	for (int s = 0; s < a->nsides; s++)
		if (a->side[s].stale) {
			view_model_update(&a->side[s].m, a->side[s].st);
			a->side[s].stale = false;
		}
}

static struct stepper *make_stepper(struct view_app *a, const struct script *sc, int s)
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
		set_msg(a, st->s->dead, "%s at event #%" PRIu64 " (b or B to go back)",
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
static void do_cmd(struct view_app *a, enum step_cmd cmd, uint64_t arg)
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
		changed(a);
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
	changed(a);
	note_end(a);
}

/*
 * The process selector: the panels show process pid's address space (0:
 * follow the task the CPU runs), with its parent or child beside it.
 */
static void select_process(struct view_app *a, int s, int pid)
{
	struct view_side *sd = &a->side[s];

	sd->m.want_pid = pid;
	sd->stale = true;
	a->npop = 0;
	refresh_models(a);
	if (pid && sd->m.sel_pid != pid)
		set_msg(a, true, "pid %d has no address space here: showing pid %d", pid,
		        sd->m.sel_pid);
	else if (pid)
		set_msg(a, false, "showing pid %d (P: follow the running task)", pid);
	else
		set_msg(a, false, "following the running task (pid %d)", sd->m.sel_pid);
}

/* p: the next process, P: back to following the running task. */
static void cycle_process(struct view_app *a, bool follow)
{
	for (int s = 0; s < a->nsides; s++) {
		refresh_models(a);
		select_process(
		    a, s,
		    follow ? 0 : view_model_next_process(&a->side[s].m, a->side[s].m.sel_pid));
	}
}

/*
 * The arena selector: the heap panel shows glibc arena i of the selected
 * process (-1: follow the arena of the thread statements run in).
 */
static void select_arena(struct view_app *a, int s, int i)
{
	struct view_side *sd = &a->side[s];

	sd->m.want_arena = i;
	sd->stale = true;
	a->npop = 0;
	refresh_models(a);
	if (sd->m.nr_arenas < 2)
		set_msg(a, true, "pid %d has %s: nothing to choose", sd->m.sel_pid,
		        sd->m.nr_arenas ? "one arena, main_arena" : "no glibc arena yet");
	else if (i >= 0)
		set_msg(a, false, "showing %s%.0u of pid %d (A: follow the thread)",
		        sd->m.sel_arena ? "arena " : "main_arena", sd->m.arenas[sd->m.sel_arena].nr,
		        sd->m.sel_pid);
	else
		set_msg(a, false, "following tid %d's arena", sd->m.arena_tid);
}

/* a: the next arena, A: back to following the thread's. */
static void cycle_arena(struct view_app *a, bool follow)
{
	for (int s = 0; s < a->nsides; s++) {
		refresh_models(a);
		select_arena(a, s,
		             follow ? -1
		                    : (int)view_model_next_arena(&a->side[s].m,
		                                                 a->side[s].m.sel_arena));
	}
}

static void do_key(struct view_app *a, const char *key)
{
	enum step_cmd cmd;
	uint64_t arg;
	int r = stepper_parse_key(key, &cmd, &arg);

	if (r == 0) {
		a->quit = true;
		return;
	}
	if (r < 0) {
		set_msg(a, true, "unknown key '%s'", key);
		return;
	}
	do_cmd(a, cmd, arg);
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
		set_msg(a, true, "the program was killed: no statement can run any more");
		script_free(nsc);
		free(ntext);
		return;
	}
	for (int s = 0; s < a->nsides; s++) {
		struct stepper *old = a->side[s].st;

		nst[s] = make_stepper(a, nsc, s);
		if (!nst[s]) {
			set_msg(a, true, "cannot start the simulation again");
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
	changed(a);
	set_msg(a, false, "added line %d: %s -- press s to step through it",
	        nsc->stmts[nsc->nr_stmts - 1].line, line);
}

static void submit_input(struct view_app *a)
{
	enum step_cmd cmd;
	uint64_t arg;
	char line[sizeof(a->input) + 4];

	a->typing = false;
	SDL_StopTextInput();
	if (strcmp(a->prompt, "g ") == 0) {
		snprintf(line, sizeof(line), "g %s", a->input);
		do_key(a, line);
		return;
	}
	if (!a->input[0])
		return;
	/* A stepper key typed on the line works too (g 120, n, ...). */
	if (stepper_parse_key(a->input, &cmd, &arg) == 1) {
		do_cmd(a, cmd, arg);
		return;
	}
	run_statement(a, a->input);
}

/* ---- details on click ---------------------------------------------------------- */

static void pop_add(struct view_app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pop_add(struct view_app *a, const char *fmt, ...)
{
	va_list ap;

	if (a->npop == 12)
		return;
	va_start(ap, fmt);
	vsnprintf(a->pop[a->npop], sizeof(a->pop[0]), fmt, ap);
	va_end(ap);
	a->popv[a->npop] = a->pop[a->npop];
	a->npop++;
}

static void details_frame(struct view_app *a, int s, pfn_t pfn)
{
	struct view_side *sd = &a->side[s];
	struct phys *ph = &sd->st->s->k.phys;
	uint64_t fpc = a->g.grid[s].fpc;

	if (fpc > 1) {
		uint64_t cnt[FK__COUNT] = {0}, end = pfn + fpc;

		if (end > ph->nr_frames)
			end = ph->nr_frames;
		for (pfn_t p = pfn; p < end; p++)
			cnt[FC_CODE(sd->m.fcode[p]) >= FC_FREE0 ? FK_FREE
			                                        : FC_CODE(sd->m.fcode[p])]++;
		pop_add(a, "frames %#" PRIx64 "-%#" PRIx64 " (one cell)", pfn, end - 1);
		for (int k = 0; k < FK__COUNT; k++)
			if (cnt[k])
				pop_add(a, "%-10s %" PRIu64, frame_kind_name(k), cnt[k]);
		return;
	}
	const struct frame *f = phys_frame(ph, pfn);
	uint8_t code = sd->m.fcode[pfn];

	pop_add(a, "frame %#" PRIx64 " (paddr %#" PRIx64 ")", pfn, pfn_to_paddr(pfn));
	pop_add(a, "kind      %s", frame_kind_name(f->kind));
	pop_add(a, "refcount  %d", frame_refcount(f));
	if (fc_is_free(code))
		pop_add(a, "free, in a block of order %u (%u frames)", FC_CODE(code) - FC_FREE0,
		        1u << (FC_CODE(code) - FC_FREE0));
	if (f->flags & FRAME_BUDDY)
		pop_add(a, "head of a free buddy block, order %u", f->order);
	if (f->flags & FRAME_HEAD)
		pop_add(a, "head of an allocated block, order %u", f->order);
	if (f->kind == FK_ANON) {
		/* every process's address of it (2+ when fork left it shared) */
		for (size_t i = 0; i < sd->m.nr_tasks; i++) {
			const struct vm_task *t = &sd->m.tasks[i];
			vaddr_t va;

			if (!t->has_mm || t->pid != t->tgid)
				continue;
			va = view_model_rmap(sd->st, t->pid, pfn);
			if (va)
				pop_add(a, "mapped at %#" PRIx64 " by pid %d", va, t->pid);
		}
		if (code == FC_SHARED)
			pop_add(a, "shared since fork: the next write copies it");
	}
	if (pfn == sd->m.taken_pfn)
		pop_add(a, "taken by this statement");
}

static void details(struct view_app *a, const struct view_hit *h, int x, int y)
{
	struct view_side *sd = &a->side[h->side];
	struct view_model *m = &sd->m;
	char fl[64];

	a->npop = 0;
	a->popx = x;
	a->popy = y;
	switch (h->kind) {
	case HIT_VMA: {
		/* b: 0 the selected process's VMA, 1 the one beside it */
		const struct vm_area_struct *v = h->b ? &m->other.vmas[h->a] : &m->vmas[h->a];
		int pid = h->b ? m->other.pid : m->sel_pid;
		static const char *const kn[] = {"text", "data",           "rodata",
		                                 "heap", "anonymous mmap", "stack"};
		uint64_t pages = (v->vm_end - v->vm_start) >> PAGE_SHIFT;
		uint64_t res = view_model_resident(sd->st, pid, v->vm_start, v->vm_end, 1u << 16);

		pop_add(a, "VMA of pid %d: %s", pid,
		        v->kind >= 0 && v->kind <= VMA_STACK ? kn[v->kind] : "?");
		pop_add(a, "vm_start %#" PRIx64, v->vm_start);
		pop_add(a, "vm_end   %#" PRIx64, v->vm_end);
		pop_add(a, "%" PRIu64 " pages, %" PRIu64 "%s resident (have a frame)", pages, res,
		        pages > (1u << 16) ? "+" : "");
		pop_add(
		    a, "vm_flags %#lx: %s%s%s%s", v->vm_flags, v->vm_flags & VM_READ ? "read " : "",
		    v->vm_flags & VM_WRITE ? "write " : "", v->vm_flags & VM_EXEC ? "exec " : "",
		    v->vm_flags & VM_GROWSDOWN ? "growsdown" : "");
		if (v->kind == VMA_HEAP && h->b)
			pop_add(a, "start_brk %#" PRIx64 "  brk %#" PRIx64, m->other.start_brk,
			        m->other.brk);
		else if (v->kind == VMA_HEAP)
			pop_add(a, "start_brk %#" PRIx64 "  brk %#" PRIx64, m->start_brk, m->brk);
		break;
	}
	case HIT_TASK:
		select_process(a, h->side, (int)h->a);
		return;
	case HIT_ARENA:
		select_arena(a, h->side, (int)h->a);
		return;
	case HIT_CHUNK: {
		const struct vm_chunk *c = &m->chunks[h->a];

		pop_add(a, "chunk %#" PRIx64, c->chunk);
		pop_add(a, "size %" PRIu64 " bytes (header %" PRIu64 ")", c->size,
		        c->user > c->chunk ? c->user - c->chunk : 0);
		if (c->user)
			pop_add(a, "user pointer %#" PRIx64, c->user);
		pop_add(a, "%s%s",
		        c->top      ? "the top chunk"
		        : c->in_use ? "in use"
		                    : "free",
		        c->mmapped ? ", mmapped" : "");
		if (c->where[0])
			pop_add(a, "where: %s", c->where);
		pop_add(a, "flag bits %#" PRIx64 "%s%s%s", c->flags, c->flags & 1 ? " P" : "",
		        c->flags & 2 ? " M" : "", c->flags & 4 ? " A" : "");
		if (m->nr_arenas > 1 && !c->mmapped)
			pop_add(a, "%s%.0u%s", c->arena ? "arena " : "main_arena", c->arena,
			        c->arena ? " (A bit: heap_for_ptr finds its heap_info)" : "");
		break;
	}
	case HIT_PTE: {
		int lvl = (int)h->a;
		int i = 4 - lvl;
		pte_t e = h->b;

		pte_format_flags(e, fl, sizeof(fl));
		pop_add(a, "%s entry [%u] of the table in frame %#" PRIx64, pt_level_name(lvl),
		        m->walk.index[i], m->walk.table[i]);
		pop_add(a, "entry %#018" PRIx64, e);
		pop_add(a, "flags %s", pte_present(e) ? fl : "(not present)");
		if (pte_present(e))
			pop_add(a, "%s frame %#" PRIx64, lvl > 1 ? "next table in" : "page in",
			        pte_pfn(e));
		pop_add(a, "covers %s of virtual addresses",
		        lvl == 4   ? "512 GiB"
		        : lvl == 3 ? "1 GiB"
		        : lvl == 2 ? "2 MiB"
		                   : "4 KiB");
		break;
	}
	case HIT_FRAMES: {
		pfn_t pfn = view_grid_pfn(&a->g, h->side, x, y);

		if (pfn == PFN_NONE)
			return;
		details_frame(a, h->side, pfn);
		break;
	}
	case HIT_ORDER: {
		const struct free_area *fa = &sd->st->s->k.buddy.free_area[h->a];

		pop_add(a, "free_area[%" PRIu64 "]", h->a);
		pop_add(a, "%" PRIu64 " free blocks of %u frames", fa->nr_free, 1u << h->a);
		if (fa->head != FRAME_LINK_NONE)
			pop_add(a, "first block at pfn %#x", fa->head);
		break;
	}
	case HIT_EVENT:
		stepper_do(sd->st, STEP_GOTO, h->a);
		changed(a);
		a->g.log_scroll[h->side] = 0;
		set_msg(a, false, "went to event #%" PRIu64, h->a);
		return;
	default:
		return;
	}
}

/* ---- drawing -------------------------------------------------------------------- */

static void draw(struct view_app *a)
{
	SDL_Renderer *r = a->g.r;
	Uint32 now = SDL_GetTicks();

	refresh_models(a);
	SDL_SetRenderDrawColor(r, VIEW_COL_BG >> 16, VIEW_COL_BG >> 8 & 255, VIEW_COL_BG & 255,
	                       255);
	SDL_RenderClear(r);
	a->g.nr_hits = 0;
	for (int s = 0; s < a->nsides; s++) {
		struct view_side_info si = {&a->side[s].m, a->side[s].st, a->side[s].policy};

		view_draw_side(&a->g, &a->L, s, &si);
	}
	view_draw_cmdline(&a->g, &a->L, a->typing ? a->prompt : NULL, a->input, a->msg, a->msg_bad);
	if (a->npop)
		view_draw_popup(&a->g, &a->L, a->popx, a->popy, a->popv, a->npop);
	(void)now;
}

/* ---- the window ------------------------------------------------------------------ */

/* SDL's key event as the stepper's key string; NULL when it is not one. */
static const char *key_string(const SDL_KeyboardEvent *k, char buf[4])
{
	SDL_Keycode c = k->keysym.sym;

	if (c == SDLK_RETURN || c == SDLK_KP_ENTER || c == SDLK_RIGHT)
		return "";
	if (c == SDLK_LEFT)
		return "b";
	if (c >= 'a' && c <= 'z') {
		buf[0] = (char)((k->keysym.mod & KMOD_SHIFT) ? c - 'a' + 'A' : c);
		buf[1] = '\0';
		return buf;
	}
	return NULL;
}

static void open_prompt(struct view_app *a, const char *prompt)
{
	a->typing = true;
	snprintf(a->prompt, sizeof(a->prompt), "%s", prompt);
	a->input[0] = '\0';
	SDL_StartTextInput();
}

static void handle_key(struct view_app *a, const SDL_KeyboardEvent *k)
{
	SDL_Keycode c = k->keysym.sym;
	char buf[4];
	const char *ks;

	if (a->typing) {
		size_t n = strlen(a->input);

		if (c == SDLK_RETURN || c == SDLK_KP_ENTER) {
			submit_input(a);
		} else if (c == SDLK_ESCAPE) {
			a->typing = false;
			SDL_StopTextInput();
		} else if (c == SDLK_BACKSPACE && n) {
			while (n > 0 && (a->input[n - 1] & 0xc0) == 0x80)
				n--;
			a->input[n ? n - 1 : 0] = '\0';
		}
		return;
	}
	if (c == SDLK_ESCAPE) {
		a->npop = 0;
		return;
	}
	if (c == SDLK_SEMICOLON && (k->keysym.mod & KMOD_SHIFT)) {
		open_prompt(a, "> ");
		return;
	}
	if (c == SDLK_COLON || c == SDLK_SLASH || c == SDLK_TAB) {
		open_prompt(a, "> ");
		return;
	}
	if (c == SDLK_g && !(k->keysym.mod & KMOD_SHIFT)) {
		open_prompt(a, "g ");
		return;
	}
	if (c == SDLK_PAGEUP || c == SDLK_PAGEDOWN) {
		for (int s = 0; s < a->nsides; s++)
			a->g.log_scroll[s] += c == SDLK_PAGEUP ? 10 : -10;
		return;
	}
	if (c == SDLK_p) {
		cycle_process(a, (k->keysym.mod & KMOD_SHIFT) != 0);
		return;
	}
	if (c == SDLK_a) {
		cycle_arena(a, (k->keysym.mod & KMOD_SHIFT) != 0);
		return;
	}
	ks = key_string(k, buf);
	if (ks)
		do_key(a, ks);
}

static void handle_click(struct view_app *a, int x, int y)
{
	const struct view_hit *h;

	if (a->npop) {
		a->npop = 0;
		return;
	}
	if (view_rect_contains(&a->L.cmd, x, y)) {
		open_prompt(a, "> ");
		return;
	}
	h = view_hit_at(&a->g, x, y);
	if (h)
		details(a, h, x, y);
}

static void handle_wheel(struct view_app *a, int dy)
{
	int x, y;

	SDL_GetMouseState(&x, &y);
	for (int s = 0; s < a->nsides; s++)
		if (view_rect_contains(&a->L.panel[s][VP_LOG], x, y))
			a->g.log_scroll[s] += dy * 3;
}

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
	view_layout(&a->L, ws->w, ws->h, a->nsides);
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
static int run_window(struct view_app *a, int w, int h, long bench_frames)
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
				handle_key(a, &e.key);
				break;
			case SDL_TEXTINPUT:
				if (a->typing &&
				    strlen(a->input) + strlen(e.text.text) < sizeof(a->input))
					strcat(a->input, e.text.text);
				break;
			case SDL_MOUSEBUTTONDOWN:
				if (e.button.button == SDL_BUTTON_LEFT)
					handle_click(a, e.button.x, e.button.y);
				break;
			case SDL_MOUSEWHEEL:
				handle_wheel(a, e.wheel.y);
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
			do_cmd(a, STEP_EVENT, 0);
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
		draw(a);
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
	view_layout(&a->L, w, h, a->nsides);
	if (view_gfx_init(&a->g, r, a->L.font_px, stderr) < 0) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	a->g.anim = 1;
	if (bench_frames) {
		Uint32 t0 = SDL_GetTicks();

		for (long i = 0; i < bench_frames; i++) {
			do_cmd(a, STEP_EVENT, 0);
			draw(a);
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
		submit_input(a);
		a->typing = false;
	}
	if (o->have_click) {
		draw(a); /* the hit regions of the picture being clicked */
		handle_click(a, o->click_x, o->click_y);
	}
	draw(a);
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

static int print_layout(int w, int h, int nsides)
{
	struct view_layout L;
	cJSON *o = cJSON_CreateObject(), *sides = cJSON_AddArrayToObject(o, "sides");
	char *s;

	view_layout(&L, w, h, nsides);
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
	rc = parse_args(argc, argv, &o, &so);
	if (rc)
		return rc;
	if (o.help) {
		usage(stdout);
		return 0;
	}
	if (o.layout)
		return print_layout(o.w, o.h, o.compare ? 2 : 1);
	a = calloc(1, sizeof(*a));
	if (!a)
		return EXIT_BAD_INPUT;
	a->so = so;
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
	for (int s = 0; s < a->nsides; s++) {
		view_model_init(&a->side[s].m);
		a->side[s].st = make_stepper(a, a->sc, s);
		if (!a->side[s].st) {
			status = EXIT_BAD_INPUT;
			goto out;
		}
		a->side[s].m.want_pid = o.pid;
		a->side[s].m.want_arena = o.arena;
		a->side[s].stale = true;
	}
	if (o.have_at && a->nsides > 1) {
		do_cmd(a, STEP_GOTO, o.at);
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
		changed(a);
	}
	if (o.pid) {
		refresh_models(a);
		if (a->side[0].m.sel_pid != o.pid)
			fprintf(stderr,
			        "aftermalloc view: --pid %d: no such process with an address space "
			        "at event %" PRIu64 "; pid %d shown instead\n",
			        o.pid, a->side[0].m.seq, a->side[0].m.sel_pid);
	}
	if (o.arena >= 0) {
		refresh_models(a);
		if (a->side[0].m.nr_arenas <= (unsigned)o.arena)
			fprintf(stderr,
			        "aftermalloc view: --arena %d: pid %d has %u arena%s at event %" PRIu64
			        "; the arena of its thread shown instead\n",
			        o.arena, a->side[0].m.sel_pid, a->side[0].m.nr_arenas,
			        a->side[0].m.nr_arenas == 1 ? "" : "s", a->side[0].m.seq);
	}
	if (o.screenshot)
		status = screenshot(a, o.screenshot, png, o.w, o.h, o.bench_frames, &o);
	else
		status = run_window(a, o.w, o.h, o.bench_frames);
out:
	output_close(png); /* a failed write ends the command there (output.h) */
	for (int s = 0; s < a->nsides; s++) {
		stepper_destroy(a->side[s].st);
		view_model_free(&a->side[s].m);
	}
	if (a->sc)
		script_free(a->sc);
	free(a->text);
	free(pol);
	free(a);
	return status;
}
