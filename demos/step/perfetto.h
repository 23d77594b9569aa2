/*
 * perfetto.h - the event stream as Chrome trace-event JSON (`run --perfetto
 * FILE.json`, DESIGN.md, The command), which ui.perfetto.dev and
 * chrome://tracing open:
 *   {"traceEvents":[{"ph":"M",...}, {"ph":"B","name":"store b 0 0x41 1",...},
 *    {"ph":"B","name":"exc_page_fault","cat":"kernel",...}, ... ],
 *   "otherData":{...}}
 *
 * Mapping (one process, one thread: pid 1, tid 1):
 * - each script statement (EV_STMT) is a top-level slice, closed when the
 *   next statement starts or the trace ends;
 * - each modelled call (EV_CALL .. EV_RET) is a slice nested in it, and a
 *   system call (EV_SYSCALL .. EV_SYSRET) is a slice around the kernel's
 *   entry path, so the user/kernel boundary shows as one box;
 * - every other event (fault, signal, buddy split and merge, PTE set, TLB
 *   miss, ...) is a thread-scoped instant event named after its kind;
 * - the category is the layer ("user", "libc", "kernel", "mmu"); the event's
 *   fields, its seq and its text are the args.
 * Time is not wall time: an event of sequence number N is at ts = 2N
 * (microseconds in the file's unit). A slice closed by force ends just before
 * the event that closed it: at 2N - 1 when the statement of seq N starts
 * (closing the previous statement and anything left open in it), at 2L + 1
 * after the last event L (perfetto_end). So the same script and seed give a
 * byte-identical file, and slices never overlap.
 *
 * Arg values: numbers below 65536 and small negatives (-4096..-1, how an
 * error return reads) are JSON numbers; anything larger (addresses, PTEs,
 * flags) is a "0x..." string, exact to 64 bits and readable in the UI.
 */
#ifndef DEMOS_PERFETTO_H
#define DEMOS_PERFETTO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "../../vm/probe.h"

/* Statement + calls + system-call slices can never be deeper than this. */
#define PERFETTO_MAX_DEPTH (2 * PROBE_MAX_DEPTH + 2)

struct perfetto_slice {
	const char *name; /* static (a modelled function) or == owned */
	char *owned;      /* a statement's text, copied */
	uint8_t layer;
	uint8_t kind; /* EV_STMT, EV_CALL or EV_SYSCALL: what opened it */
};

struct perfetto {
	FILE *f;           /* borrowed */
	uint64_t written;  /* trace events written, metadata included */
	uint64_t last_seq; /* seq of the latest event seen */
	bool seen;         /* an event was seen (last_seq is valid) */
	bool failed;       /* a write or an allocation failed: the file is incomplete */
	unsigned depth;    /* open slices */
	struct perfetto_slice stack[PERFETTO_MAX_DEPTH];
};

/*
 * Start the file on f: the opening of the object and the process and thread
 * names (process_name, e.g. "aftermalloc demos/seed-walk.ams"; thread_name,
 * e.g. the program's name). -1 when a write failed (pf->failed is set).
 */
int perfetto_begin(struct perfetto *pf, FILE *f, const char *process_name, const char *thread_name);
/* probe_sink_t: turn ev into zero or more trace events (see above). */
void perfetto_sink(void *ctx, const struct event *ev);
/*
 * Close every open slice, write the end of the file with other_data (an
 * object the caller owns and perfetto_end deletes, or NULL) and release
 * what pf holds. The caller closes f. 0, or -1 when anything failed.
 */
int perfetto_end(struct perfetto *pf, cJSON *other_data);

/* Open slices are properly nested and named. Returns #broken, reports the first. */
int perfetto_check(const struct perfetto *pf, FILE *err);
/* The open slices, outermost first. */
void perfetto_dump(const struct perfetto *pf, FILE *out);

#endif
