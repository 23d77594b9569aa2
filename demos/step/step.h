/*
 * step.h - the terminal stepper's parts that others use: the simulation
 * options of `run` (--malloc, --phys, --seed, --no-zero-page, --tlb), shared
 * with `aftermalloc quiz`, and the printing of one stop (the current event,
 * its narration, the call path and the views of the state that matter).
 */
#ifndef DEMOS_STEP_H
#define DEMOS_STEP_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "../cli/session.h"

enum {
	SIM_OPT_MALLOC = 0x1000,
	SIM_OPT_PHYS,
	SIM_OPT_SEED,
	SIM_OPT_NOZERO,
	SIM_OPT_TLB,
	SIM_OPT_COLOR,
	SIM_OPT_NOCOLOR,
	SIM_OPT_SWAP,
};

/* Rows for a getopt_long table (no terminating zero row). */
#define SIM_LONG_OPTIONS                                                                           \
	{"malloc", required_argument, NULL, SIM_OPT_MALLOC},                                       \
	    {"phys", required_argument, NULL, SIM_OPT_PHYS},                                       \
	    {"seed", required_argument, NULL, SIM_OPT_SEED},                                       \
	    {"no-zero-page", no_argument, NULL, SIM_OPT_NOZERO},                                   \
	    {"tlb", required_argument, NULL, SIM_OPT_TLB},                                         \
	    {"swap", required_argument, NULL, SIM_OPT_SWAP},                                       \
	    {"color", no_argument, NULL, SIM_OPT_COLOR},                                           \
	{                                                                                          \
		"no-color", no_argument, NULL, SIM_OPT_NOCOLOR                                     \
	}

/* The options' help lines. */
extern const char sim_options_help[];

/*
 * Apply one getopt_long result (c, optarg) of SIM_LONG_OPTIONS to o and
 * *color. 1 when applied, 0 when c is not one of them, -1 after a message
 * "aftermalloc CMD: ..." on stderr.
 */
int sim_option(const char *cmd, int c, char *arg, struct session_opts *o, bool *color);

struct stepper;

/* Print the stop the stepper is paused at, wrapped at 80 columns, with ANSI
   colour when color. Reads the live simulation only (no event is emitted). */
void step_print_stop(struct stepper *st, FILE *out, bool color);
/* Print how the program ended (normally, or the signal and its report). */
void step_print_end(struct stepper *st, FILE *out, bool color);

#endif
