/*
 * support_oracle.h - the fidelity tests' side of a host oracle
 * (ORACLES.md in spirit: exact numbers, no tolerance): run a real C program
 * of tests/host/ (built by `make test` into $AM_HOST), learn how this
 * machine is configured (tests/host/host_config.h), boot the simulation the
 * same way, and compare key=value outputs line by line, reporting every
 * line that differs beside its counterpart.
 */
#ifndef TESTS_SUPPORT_ORACLE_H
#define TESTS_SUPPORT_ORACLE_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel_sim/kernel.h"

struct oracle_host {
	long page_size;
	int zero_page;   /* 1 shared zero page, 0 a read takes a frame, -1 unknown */
	char thp[32];    /* "always", "madvise", "never", "unknown" */
	long overcommit; /* vm.overcommit_memory, -1 unknown */
	long aslr;       /* kernel.randomize_va_space, -1 unknown */
	char text[512];  /* the host_* lines as printed, for failure messages */
};

/* $AM_HOST (asserts it is set). */
const char *oracle_host_dir(void);

/*
 * Run $AM_HOST/name with args (NULL-terminated, may be NULL); its stdout,
 * malloc'd. Asserts it exits 0 and prints something.
 */
char *oracle_run(const char *name, const char *const *args);

/*
 * This machine, probed once by $AM_HOST/host_config and cached. Skips the
 * test (cr_skip) where the simulation cannot model the host: a page size
 * other than 4 KiB, or a zero-page behaviour the probe could not tell.
 */
const struct oracle_host *oracle_host(void);

/* kernel_default_opts, then what the host decides: the zero page. */
void oracle_kernel_opts(struct kernel_opts *o);

/*
 * Assert that sim and real (key=value lines) are the same. On a difference
 * the message lists every differing line as "key: simulated X, real Y"
 * (and lines present on one side only), then the host's configuration.
 */
void oracle_assert_same(const char *what, const char *sim, const char *real);

/*
 * The simulated side's key=value lines, written as the host programs print
 * theirs. A line that does not fit fails the test (never a silent cut).
 */
struct oracle_out {
	char text[1 << 16];
	size_t len;
};

/* Append printf's output; oracle_put: "key=val\n". */
void oracle_printf(struct oracle_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void oracle_put(struct oracle_out *o, const char *key, long val);
/* Each line of text (len bytes) as "tag.N=line" (N from 1), as the host
   programs print what malloc_stats wrote. */
void oracle_put_lines(struct oracle_out *o, const char *tag, const char *text, size_t len);

/* The /proc/PID/maps lines of t that overlap [lo, hi) as "key.N=size
   perms", then "key=N" (tests/host/host_out.h's host_put_maps). */
void oracle_put_maps(struct oracle_out *o, struct kernel *k, struct task *t, const char *key,
                     vaddr_t lo, vaddr_t hi);

struct libc;
/* lc's mallinfo2 arena, uordblks, fordblks, ordblks as tag.NAME lines
   (host_put_mallinfo); lc must run the glibc policy. */
void oracle_put_mallinfo(struct oracle_out *o, struct libc *lc, const char *tag);

#endif
