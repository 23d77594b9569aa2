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

#include <stdarg.h>
#include <stddef.h>
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

/*
 * The one form of every command's messages (docs/reference.md, Messages):
 * "aftermalloc CMD: message" on stderr. usage_error adds the line
 * "Try 'aftermalloc CMD --help'." (a bad option or argument); cmd_error is for
 * the rest (a file that cannot be read or written, ...). Both return
 * EXIT_BAD_INPUT. A message about a line of a script or trace is
 * "FILE:LINE: message" instead, as compilers print it.
 */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vusage_error(const char *cmd, const char *fmt, va_list ap);
int cmd_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Text that reaches a terminal or a JSON string. utf8_char: the length of
 * the valid UTF-8 character at s (1-4, its code point in *cp), or 0 for a
 * byte that starts none. display_name: a copy of a name (a file name from
 * the command line) fit to print: every byte that is not valid UTF-8 and
 * every control character (C0 but tab, DEL, C1: what a terminal acts on)
 * becomes '?', and a name past DISPLAY_NAME_MAX bytes is cut at a
 * character and ends in "..."; NULL when out of memory. text_bad_byte: the
 * first byte of s[0..n) that is not text (invalid UTF-8, a control
 * character other than tab, LF, and CR before LF), or NULL.
 */
#define DISPLAY_NAME_MAX 1024
int utf8_char(const char *s, size_t n, uint32_t *cp);
char *display_name(const char *s);
const char *text_bad_byte(const char *s, size_t n);

/* Parse a size: decimal, 0x hex, K/M/G suffixes. 0 and *out, or -1 on error. */
int parse_size(const char *s, uint64_t *out);

#endif
