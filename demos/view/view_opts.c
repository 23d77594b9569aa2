/*
 * view_opts.c - the command line of `aftermalloc view` (see view_opts.h):
 * the help text, and the options checked as they are read, each bad value
 * a usage error naming the option (exit status 2).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>

#include "../../vm/probe.h"
#include "../cli/commands.h"
#include "../cli/options.h"
#include "view_layout.h"
#include "view_model.h"
#include "view_opts.h"

void view_usage(FILE *f)
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
	      "the thread the statement runs in again. l shows or hides the script panel: the\n"
	      "lines around the statement, the current one marked, each `in` block's task;\n"
	      "click a line to go to that statement.\n"
	      "\n"
	      SIM_HELP_MALLOC
	      "  --compare A,B       two policies side by side, stepping together by statement\n"
	      "                      (g N and --at N: the first side goes to event N, the\n"
	      "                      second to the start of the same statement)\n"
	      SIM_HELP_MACHINE
	      "  --color, --no-color accepted, as by run and step; the window has its own colours\n"
	      "  --at N              start at event N (a window) or draw event N (--screenshot);\n"
	      "                      N past the last event draws the last one, with a note on\n"
	      "                      stderr\n"
	      "  --screenshot FILE   draw without a window into FILE (PNG) and exit\n"
	      "  --size WxH          window or picture size (default 1280x800, at least 640x400)\n"
	      "  --layout            print the panel rectangles for --size as JSON and exit\n"
	      "  --no-script         start with the script panel hidden (as l hides it)\n"
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
	OPT_NO_SCRIPT,
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

/* A decimal number from lo to hi into *v; -1 (and *v unchanged) for anything else. */
static int parse_int(const char *s, long lo, long hi, int *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (end == s || *end || errno || n < lo || n > hi)
		return -1;
	*v = (int)n;
	return 0;
}

int view_parse_args(int argc, char **argv, struct view_opts *o, struct session_opts *so)
{
	static const struct option longopts[] = {
	    SIM_LONG_OPTIONS,
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
	    {"no-script", no_argument, NULL, OPT_NO_SCRIPT},
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
		case OPT_NO_SCRIPT:
			o->no_script = true;
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
		case OPT_PID:
			if (parse_int(optarg, 1, 0x3fffffff, &o->pid) < 0)
				return usage_error("view", "--pid: '%s' is not a process id",
				                   optarg);
			break;
		case OPT_ARENA:
			if (parse_int(optarg, 0, VM_MAX_ARENAS - 1, &o->arena) < 0)
				return usage_error("view",
				                   "--arena: '%s' is not an arena number (0 to %d)",
				                   optarg, VM_MAX_ARENAS - 1);
			break;
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
