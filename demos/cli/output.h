/*
 * output.h - every byte a command writes goes through here: standard output
 * and the files its options name (--events, --perfetto, -o, a screenshot).
 *
 * The contract (docs/reference.md, Exit statuses), the same for every
 * command:
 * - a write is checked where it happens, in the stream: the first one that
 *   fails ends the command at once, so nothing runs on for output that is
 *   lost;
 * - a closed pipe (EPIPE: `aftermalloc run x.ams | head -1`) ends it
 *   quietly with status 141, what a shell shows for a program that
 *   SIGPIPE ended (`seq 1 1000000 | head -1`), without dying by the signal
 *   (SIGPIPE is ignored, so the write fails with EPIPE and comes here);
 * - any other failure (ENOSPC on /dev/full, EIO, EBADF when standard
 *   output is closed) prints "aftermalloc CMD: FILE: write error: REASON"
 *   and ends it with status 2;
 * - an output file is opened, and tried with a write of zero bytes, before
 *   anything runs: a full device (/dev/full) fails that write, so
 *   `--events /dev/full` prints nothing and exits 2. A disk that fills later
 *   is only known at the write that fails (then as above);
 * - file descriptors 0, 1 and 2 are never free while the command runs (a
 *   closed one is held by /dev/null opened the wrong way, so that using it
 *   fails with EBADF): no output file takes the place of standard output or
 *   standard error.
 *
 * Ending at once is _exit after the hooks of output_at_exit (a temporary
 * directory to remove): no stdio buffer is flushed, since flushing is what
 * failed. Writes to stderr are not checked: there is nowhere to report them.
 */
#ifndef DEMOS_CLI_OUTPUT_H
#define DEMOS_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

/* The status a closed pipe ends a command with: 128 + SIGPIPE. */
#define EXIT_PIPE 141

/*
 * Once, in main, before the command runs: hold fds 0-2, ignore SIGPIPE,
 * make stdout a checked stream (line-buffered on a terminal) named
 * "standard output", and remember cmd for messages. check_stdout: the
 * command writes its results on stdout, so try it now with a write of zero
 * bytes (`run x.ams >/dev/full` exits 2 before running anything).
 */
void output_init(const char *cmd, bool check_stdout);

/* The command's name for messages ("run"); "aftermalloc" before output_init. */
const char *output_cmd(void);

/*
 * A checked output file, opened for writing (truncated, or appended with
 * append) and tried with a write of zero bytes: the stream, or NULL after
 * "aftermalloc CMD: PATH: REASON" on stderr (the caller exits 2). "-" is
 * standard output (written through stdout; closing it only flushes).
 */
FILE *output_open(const char *path, bool append);

/* Flush and close a stream of output_open (or stdout: flush it). A failure
   ends the command as a failed write does; returns 0 otherwise. */
int output_close(FILE *f);

/* Flush stdout (the end of a command, before its status is returned). */
void output_flush(void);

/* A write to the stream named name failed with err: end the command (see
   above). For writers that do not go through a stdio stream. */
_Noreturn void output_failed(const char *name, int err);

/* Run fn(ctx) before a failed write ends the command (at most 4 hooks);
   remove it again with output_at_exit_remove. */
void output_at_exit(void (*fn)(void *), void *ctx);
void output_at_exit_remove(void (*fn)(void *), void *ctx);

#endif
