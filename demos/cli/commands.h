/*
 * commands.h - the subcommands of `aftermalloc` (DESIGN.md, The command).
 *
 * Each takes the arguments after its name (argv[0] is the command name) and
 * returns the process exit status: 0 success; 1 the simulated program was
 * killed, an expect failed, or a replay was invalid; 2 bad usage or
 * malformed input (message on stderr naming file and line).
 */
#ifndef DEMOS_COMMANDS_H
#define DEMOS_COMMANDS_H

#include <stdint.h>

#define EXIT_SIM_FAILED 1
#define EXIT_BAD_INPUT  2

int cmd_run(int argc, char **argv);    /* demos/cli/run.c */
int cmd_step(int argc, char **argv);   /* demos/step/step.c */
int cmd_replay(int argc, char **argv); /* demos/cli/replay.c */
int cmd_view(int argc, char **argv);   /* demos/view/view.c (SDL) */
int cmd_quiz(int argc, char **argv);   /* demos/step/quiz.c */
int cmd_record(int argc, char **argv); /* demos/record/record.c */
int cmd_gen(int argc, char **argv);    /* demos/cli/gen.c */
int cmd_lab(int argc, char **argv);    /* demos/cli/lab.c */

/* Parse a size: decimal, 0x hex, K/M/G suffixes. 0 and *out, or -1 on error. */
int parse_size(const char *s, uint64_t *out);

#endif
