/*
 * support_bin.h - running the built `aftermalloc` binary from the unit tests
 * as a user runs it: fork + execv with arguments and optional stdin, stdout
 * and stderr captured, the exit status (or 128 + signal) returned.
 * AM_BIN is the binary (make test sets it to build/aftermalloc) and AM_ROOT
 * the project root; without them, build/aftermalloc and "." are used.
 */
#ifndef TESTS_SUPPORT_BIN_H
#define TESTS_SUPPORT_BIN_H

#include <stddef.h>

struct bin_out {
	int status; /* exit status, or 128 + signal */
	char *out, *err;
	size_t out_len, err_len;
};

/* $AM_BIN, else build/aftermalloc. */
const char *bin_path(void);

/* $AM_ROOT, else ".". */
const char *bin_root(void);

/* Run bin_path() with args (NULL-terminated, at most 30) and NO_COLOR=1;
   input, unless NULL, is its whole stdin (else stdin is inherited). Asserts
   that the binary exists and the fork/wait work. Free with bin_out_free. */
struct bin_out bin_run(const char *const *args, const char *input);

void bin_out_free(struct bin_out *p);

/* All of fd from its start, NUL-terminated (malloc'd); the length in *len. */
char *bin_slurp(int fd, size_t *len);

/* The whole file at path (it must open), as bin_slurp. */
char *bin_read_file(const char *path, size_t *len);

/* text in a new temporary .ams file; the caller unlinks and frees the path. */
char *bin_script_file(const char *text);

#endif /* TESTS_SUPPORT_BIN_H */
