/*
 * mdriver.h - replay reports in the shape of the CS:APP malloc-lab driver
 * (mdriver.c of the lab's handout): a row per trace with valid, util as a
 * percentage, ops, secs and Kops, a Total row over the scored traces, and
 * the performance index 0.6 x mean util + 0.4 x min(1, throughput /
 * reference), in points out of 100. Optional columns say what the replay
 * cost the kernel (faults, peak frames, brk and mmap calls, TLB misses).
 * Used by `lab`; meant for `replay`'s mdriver-style reports as well.
 */
#ifndef DEMOS_MDRIVER_H
#define DEMOS_MDRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "replay.h"

#define MDRIVER_UTIL_WEIGHT 0.60 /* mdriver's UTIL_WEIGHT */

struct mdriver_row {
	const struct replay_result *r; /* the checked replay: valid, util, the counts */
	double secs;                   /* the timed replay (checks off); < 0: not timed */
	bool scored;                   /* in the Total row and the index */
};

struct mdriver_index {
	int scored, valid; /* scored traces; how many of them were valid */
	double util;       /* mean util of the scored traces (0..1) */
	double ops, secs;  /* sums over the scored traces' timed replays */
	double ref_kops;   /* the reference throughput (Kops) */
	double p_util;     /* points for util: 100 x 0.6 x util */
	double p_thru;     /* points for throughput: 100 x 0.4 x min(1, kops / ref) */
};

/* mdriver scores every trace of its default list but short1 and short2
   (for debugging): true unless the file's base name is short1-bal.rep or
   short2-bal.rep (demos/traces/README.md). */
bool mdriver_scored(const char *trace_path);

/*
 * The .rep files of dir, sorted by name, as "dir/name" strings (malloc'd,
 * *paths and each string: mdriver_free_paths). 0, or -1 after "aftermalloc
 * CMD: DIR: ..." on err (dir unreadable; no .rep in it).
 */
int mdriver_trace_dir(const char *cmd, const char *dir, char ***paths, size_t *n, FILE *err);
void mdriver_free_paths(char **paths, size_t n);

/* The index over rows, against ref_kops (the reference throughput). */
void mdriver_compute(const struct mdriver_row *rows, size_t n, double ref_kops,
                     struct mdriver_index *ix);

/* The table: header, a row per trace (an unscored one marked "*"), the
   Total row; with kernel, the columns faults, frames, brk, mmap, tlbmiss. */
void mdriver_print_table(FILE *f, const struct mdriver_row *rows, size_t n, bool kernel);

/* "Perf index = 42 (util) + 40 (thru) = 82/100", or, when a scored trace
   is invalid, mdriver's "Terminated with N errors". */
void mdriver_print_index(FILE *f, const struct mdriver_index *ix);

#endif
