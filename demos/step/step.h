/*
 * step.h - the terminal stepper's parts that others use: the printing of
 * one stop (the current event, its narration, the call path and the views of
 * the state that matter) and of the end. The simulation options it shares
 * with run, quiz and view are demos/cli/options.h.
 */
#ifndef DEMOS_STEP_H
#define DEMOS_STEP_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "../cli/session.h"

#include "../cli/options.h"

struct stepper;

/* Print the stop the stepper is paused at, wrapped at 80 columns, with ANSI
   colour when color. Reads the live simulation only (no event is emitted). */
void step_print_stop(struct stepper *st, FILE *out, bool color);
/* Print how the program ended (normally, or the signal and its report). */
void step_print_end(struct stepper *st, FILE *out, bool color);

#endif
