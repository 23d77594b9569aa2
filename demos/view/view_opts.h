/*
 * view_opts.h - the command line of `aftermalloc view` (view_opts.c): the
 * viewer's own options, parsed with getopt_long beside the simulation
 * options every command shares (demos/cli/options.h).
 */
#ifndef DEMOS_VIEW_OPTS_H
#define DEMOS_VIEW_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../cli/session.h"

struct view_opts {
	const char *script;
	const char *screenshot;
	const char *compare;
	bool have_at, layout, help;
	bool no_script; /* --no-script: start with the script panel hidden */
	uint64_t at;
	int w, h;
	long bench_frames;
	const char *type;     /* --type: a line for the command line (headless tests) */
	int click_x, click_y; /* --click X,Y: a click before the picture (headless tests) */
	bool have_click;
	int pid;   /* --pid N: the process selector's choice at the start (0: the running one) */
	int arena; /* --arena N: the arena selector's choice at the start (-1: follow) */
};

/* The help text, into f. */
void view_usage(FILE *f);
/* Parse argv (argv[0] is "view") into o and so. 0, or the exit status of a
   usage error, already reported on stderr. */
int view_parse_args(int argc, char **argv, struct view_opts *o, struct session_opts *so);

#endif
