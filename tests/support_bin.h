/*
 * support_bin.h - running the built `aftermalloc` binary from the unit tests
 * as a user runs it: fork + execv with arguments and optional stdin, stdout
 * and stderr captured, the exit status (or 128 + signal) returned.
 * AM_BIN is the binary (make test sets it to build/aftermalloc) and AM_ROOT
 * the project root; without them, build/aftermalloc and "." are used.
 */
#ifndef TESTS_SUPPORT_BIN_H
#define TESTS_SUPPORT_BIN_H

#include <stdbool.h>
#include <stddef.h>

struct bin_out {
	int status;    /* exit status, or 128 + signal */
	bool signaled; /* killed by a signal (status is then 128 + it) */
	char *out, *err;
	size_t out_len, err_len;
};

/* $AM_BIN, else build/aftermalloc. */
const char *bin_path(void);

/* $AM_ROOT, else ".". */
const char *bin_root(void);

/* The path of a trace of the repository's library, rel under demos/traces/
   ("malloclab/amptjp-bal.rep"), in a static buffer (the next call reuses it). */
const char *bin_trace_path(const char *rel);

/* Run bin_path() with args (NULL-terminated, at most 30), NO_COLOR=1 and no
   DISPLAY (no window opens); input, unless NULL, is its whole stdin (else
   /dev/null). A run that takes over 60 s is killed (SIGALRM): a hang is a
   failure, not a stuck suite. Asserts that the binary exists and the
   fork/wait work. Free with bin_out_free. */
struct bin_out bin_run(const char *const *args, const char *input);

/* bin_run with the child's address space limited to as_limit bytes
   (setrlimit RLIMIT_AS, as `ulimit -v`; 0: no limit). An exec the limit
   refuses is status 127. */
struct bin_out bin_run_as(const char *const *args, const char *input, size_t as_limit);

void bin_out_free(struct bin_out *p);

/* All of fd from its start, NUL-terminated (malloc'd); the length in *len. */
char *bin_slurp(int fd, size_t *len);

/* The whole file at path (it must open), as bin_slurp. */
char *bin_read_file(const char *path, size_t *len);

/* Exactly len bytes of text (NUL bytes allowed) in a new temporary file whose
   name ends in suffix (".ams", ".rep"); the caller frees the path. A passing
   test's files are removed when its process exits (the caller may unlink them
   earlier). */
char *bin_temp_file(const char *text, size_t len, const char *suffix);

/* text in a new temporary .ams file, as bin_temp_file. */
char *bin_script_file(const char *text);

#endif /* TESTS_SUPPORT_BIN_H */
