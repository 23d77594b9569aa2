/*
 * replay.h - replay a trace through a malloc policy inside the simulation
 * (DESIGN.md, Trace replay), checking every block.
 *
 * Semantics of the operations (the same for every policy):
 *   a ID N    p[ID] = malloc(N); ID must not be allocated
 *   r ID N    p[ID] = realloc(p[ID], N); on an ID not allocated, realloc(NULL, N);
 *             r ID 0 on an allocated ID frees it and returns NULL (glibc 2.36)
 *             and the ID is then unallocated
 *   f ID      free(p[ID]); f -1 is free(NULL); ID must be allocated
 * An op the trace gets wrong (a free of an ID not allocated, an `a` of an ID
 * allocated) makes the replay invalid, as does a block failing a check or
 * the process dying of a signal (the reason glibc or the kernel gave).
 *
 * Checks (opts.check): each block is 16-byte aligned; lies in the heap
 * [start_brk, brk) or inside one anonymous mapping of the task (looked up in
 * the kernel's VMAs, which the front end may read); overlaps no live block
 * (a balanced tree of live intervals: tsearch, O(log n) an op); keeps its
 * contents: the program writes every payload byte with a pattern derived
 * from the ID and the offset (through the MMU, as a real program that fills
 * its data: these stores fault and use the TLB like the program's own), and
 * the replayer verifies it at free, before and after realloc (the
 * min(old, new) prefix) and at the end, through a side door (a page walk
 * without side effects: verification costs no fault, TLB access or event).
 *
 * Statistics: page_faults is the task's min_flt + maj_flt, tlb_hits/misses
 * the CPU TLB's counters over the replay: they count the allocator's own
 * accesses plus, with checks on, the program's pattern stores (with
 * --no-check, the allocator's accesses alone). peak_frames is the largest
 * RSS + page-table pages (including the PML4) seen after any op.
 */
#ifndef DEMOS_REPLAY_H
#define DEMOS_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "../../vm/probe.h"
#include "trace.h"

typedef struct cJSON cJSON;

/*
 * The course of a replay, for `replay --plot`: after every op, the live
 * payload, the footprint, the resident pages and the page faults so far,
 * gathered into at most max_points points. A point stands for `every`
 * consecutive ops and keeps the largest payload, footprint and RSS among
 * them and the faults after the last, so no peak falls between points.
 * replay_run fills it (arrays it allocates; replay_series_free).
 */
struct replay_series {
	size_t max_points; /* set by the caller, at least 2 */
	size_t n;          /* points filled */
	uint64_t every;    /* ops a point stands for */
	uint64_t *op;      /* the last op (1-based) of each point */
	uint64_t *payload, *footprint, *rss_pages, *faults;
};

void replay_series_free(struct replay_series *s);

struct replay_opts {
	const char *policy;           /* malloc policy name */
	uint64_t phys_bytes;          /* 0: enough RAM for the trace */
	bool check;                   /* alignment, mapping, overlap, contents (default true) */
	bool heap_check;              /* run the policy's checker after every op (tests) */
	uint32_t heap_check_every;    /* with heap_check: after every Nth op and the
	                                 last (0 or 1: every op; checkers walk the
	                                 whole heap, so big traces want N > 1) */
	bool progress;                /* progress bar on stderr */
	const struct malloc_ops *ops; /* when not NULL, used instead of policy's (plugins, tests) */
	/* When not NULL, attached to the probe from the process's creation to
	   its end, so that it sees every event of the replay (tests: a digest of
	   the whole stream). */
	void (*sink)(void *ctx, const struct event *ev);
	void *sink_ctx;
	volatile uint64_t *running_op; /* when not NULL, the index of each op is stored
	                                  there before it runs: a record that outlives a
	                                  crash of the process (demos/cli/sandbox.c) */
	/* The benchmark's warm replay: the trace runs once, every block still
	   live is freed, and then the trace runs again in the same process, on
	   the heap the first pass left; the figures (and cpu_secs) are the
	   second pass's. */
	bool warm;
	struct replay_series *series; /* when not NULL, filled (see above) */
	/* The process's glibc.malloc tunables (GLIBC_TUNABLES, validated by
	   glibc_tunables_parse), read by the glibc policy's ptmalloc_init. */
	const struct libc_tunable *tunables;
	unsigned nr_tunables;
};

struct replay_result {
	const char *trace;
	const char *malloc;
	uint64_t ops; /* operations of the trace that ran */
	bool valid;
	char error[512]; /* "" when valid */
	uint64_t peak_payload, peak_footprint;
	double util;
	uint64_t brk_calls, mmap_calls, munmap_calls, page_faults;
	uint64_t tlb_hits, tlb_misses, peak_frames;
	double secs;
	uint64_t phys_bytes; /* simulated RAM used */
	uint64_t events;     /* events from the process's creation to its end */
	double cpu_secs;     /* CPU time of the (measured) pass, the kernel's work in
				it included; not printed (host-dependent) */
};

/* 0 when the replay ran (valid or not: see r->valid), -1 when the simulation
   could not be set up (message on stderr). */
int replay_run(const struct trace *t, const struct replay_opts *o, struct replay_result *r);

/* The RAM replay_run boots when opts.phys_bytes is 0: 2 GiB for every
   trace, which bounds what a replay costs the host (docs/reference.md,
   replay); a trace that needs more says so and --phys raises it. */
#define REPLAY_DEFAULT_PHYS (2ULL << 30)
uint64_t replay_default_phys(const struct trace *t);

/* The result as `replay --json` prints it: an object of the keys of
   DESIGN.md (Trace replay), for the caller to print and cJSON_Delete
   (demos/cli/replay_cmd.c). */
cJSON *replay_json(const struct replay_result *r);

#endif
