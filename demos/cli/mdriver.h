/*
 * mdriver.h - replay reports in the shape of the CS:APP malloc-lab driver
 * (mdriver.c of the lab's handout), shared by `replay` and `lab`: the traces
 * of -t DIR (the eleven mdriver scores), a table row per trace with valid,
 * util as a percentage, ops, secs and Kops, then what the replay cost the
 * kernel (faults, peak frames, brk and mmap calls, TLB misses), a Total row,
 * and the performance index
 *
 *     index = 100 x (0.6 x mean util + 0.4 x min(1, Kops / reference Kops))
 *
 * scored, as mdriver scores, only when every trace is valid. mdriver's
 * reference is the C library's throughput on its machine; here it is the
 * simulated glibc policy's on the same traces in the same run (or a figure
 * given), so the index does not depend on the host's speed.
 */
#ifndef DEMOS_MDRIVER_H
#define DEMOS_MDRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "replay.h"

#define MDRIVER_UTIL_WEIGHT 0.60 /* mdriver's UTIL_WEIGHT */

/* What the reference throughput is, in the line that gives it. */
#define MDRIVER_REF_GLIBC "the built-in glibc policy on the same traces"

struct mdriver_row {
	const char *name;              /* first column: the trace's base name, or a policy */
	const struct replay_result *r; /* valid, util, ops and the kernel's counts */
	double secs;                   /* the time of the replay; <= 0: not timed */
};

struct mdriver_index {
	int traces, valid; /* rows; how many of them were valid */
	double util;       /* mean util of the rows (0..1) */
	double ops, secs;  /* sums over the valid, timed rows */
	double kops;       /* ops / secs / 1000 (0: nothing timed) */
	double ref_kops;   /* the reference throughput (Kops) */
	double p_util;     /* points for util: 100 x 0.6 x util */
	double p_thru;     /* points for throughput: 100 x 0.4 x min(1, kops / ref) */
};

/*
 * The traces a command replays, as malloc'd paths (*paths and each string:
 * mdriver_free_paths): each of names (resolved under dir when dir is given
 * and the name is not absolute, as mdriver's -f with -t); with no names,
 * the traces of dir: mdriver's eleven when dir has them all (its default
 * list: the lab's malloclab/ less short1 and short2, which are for
 * debugging), else every *.rep of dir, sorted. 0, or -1 after
 * "aftermalloc CMD: ..." on err (dir unreadable, no .rep in it, no memory).
 */
int mdriver_traces(const char *cmd, const char *dir, char *const *names, size_t nr_names,
                   char ***paths, size_t *n, FILE *err);
void mdriver_free_paths(char **paths, size_t n);

/* The reference: the built-in glibc policy's throughput (Kops) over the
   traces, each replayed with o (as glibc, without o's heap checks, sink, series
   or progress bar). 0 when one
   cannot be replayed. */
double mdriver_glibc_kops(struct trace *const *t, size_t n, const struct replay_opts *o);

/* The index over rows, against ref_kops (the reference throughput). */
void mdriver_compute(const struct mdriver_row *rows, size_t n, double ref_kops,
                     struct mdriver_index *ix);

/* The table: the header (its first column called first: "trace", or
   "malloc" for one trace under several policies), a row a replay ("no" and
   dashes for an invalid one, as mdriver), and the Total row (faults, brk,
   mmap and TLB misses summed, frames the largest; dashes when a trace was
   invalid). The header and the rows may be printed as the replays end. */
void mdriver_print_header(FILE *f, const char *first);
void mdriver_print_row(FILE *f, const struct mdriver_row *row);
void mdriver_print_total(FILE *f, const struct mdriver_row *rows, size_t n);
void mdriver_print_table(FILE *f, const char *first, const struct mdriver_row *rows, size_t n);

/* "Throughput reference: REF_WHAT, N Kops", then "Perf index = 42 (util)
   + 40 (thru) = 82/100", or, when a trace is invalid, "Perf index: not
   scored, N of M traces invalid" (mdriver's "Terminated with N errors"). */
void mdriver_print_index(FILE *f, const struct mdriver_index *ix, const char *ref_what);

#endif
