/*
 * trace.h - reader and writer of CS:APP malloc-lab traces (.rep), with every
 * quirk of demos/traces/README.md: CRLF line ends, `f -1` (free(NULL)), `r`
 * on an id never allocated (realloc(NULL, n)), `r ID 0`, blocks never freed;
 * and the project's two extensions (demos/traces/README.md, "Extensions"),
 * which traces of real programs need: `c ID NMEMB SIZE` (calloc) and
 * `m ID ALIGN SIZE` (memalign, posix_memalign, aligned_alloc, valloc).
 *
 * Self-contained (libc of the host and uthash only) so the host-side replayer
 * that runs a trace on the real glibc (tests/host/) reads traces with the
 * same code.
 *
 * What the reader accepts (decisions, tested in tests/test_trace.c):
 * - LF or CRLF line ends (a CR anywhere counts as white space), spaces and
 *   tabs between fields, blank lines anywhere (boat.rep ends with one);
 * - the header is the first four integers, one a line as in every public
 *   trace, or several on one line;
 * - an id at or beyond the header's number of ids grows the id space
 *   (nr_ids = largest id + 1): public traces have short headers;
 * - more or fewer operations than the header announces: all operations in
 *   the file are kept, silently (lrucd.rep has 201 for a header of 200);
 *   header_ops keeps the announced count for whoever wants to warn.
 * What it rejects with "PATH:LINE: message" and -1: a missing or short
 * header, a negative or overflowing header field, an unknown operation, a
 * missing or non-numeric field, a negative size, a size that overflows 64
 * bits, an id below 0 (except `f -1`) or >= TRACE_MAX_IDS, junk after the
 * last field, a NUL byte. No fixed-size line buffer: any line length works.
 */
#ifndef DEMOS_TRACE_H
#define DEMOS_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum trace_op_kind {
	TOP_ALLOC = 'a',
	TOP_REALLOC = 'r',
	TOP_FREE = 'f',
	TOP_CALLOC = 'c',   /* extension: p[ID] = calloc(arg, size) */
	TOP_MEMALIGN = 'm', /* extension: p[ID] = memalign(arg, size) */
};

/* Ids index host-side arrays of the replayers: bound them so that a stray
   huge number is an error, not a multi-gigabyte allocation. */
#define TRACE_MAX_IDS (1u << 24)
/* A trace file is at most this long (reference.md, replay). */
#define TRACE_MAX_BYTES (256u << 20)

struct trace_op {
	char kind;     /* 'a', 'r', 'f', 'c', 'm' */
	int32_t id;    /* block id, -1 for `f -1` */
	uint64_t size; /* bytes (a, r, m), the element size (c) */
	uint64_t arg;  /* c: the number of elements; m: the alignment; else 0 */
	uint32_t line; /* line in the file, for messages */
};

/* The bytes an allocating op asks for (c: nmemb x size, saturated). */
uint64_t trace_op_bytes(const struct trace_op *op);

struct trace {
	char *path;
	uint64_t heap_hint, weight; /* header fields, unused */
	uint32_t nr_ids;            /* ids are 0..nr_ids-1 (grown if the header is short) */
	size_t nr_ops;
	struct trace_op *ops;
	uint32_t header_ids; /* as the header says */
	uint64_t header_ops; /* as the header says (may differ from nr_ops) */
};

/* Read path. 0, or -1 after printing "PATH:LINE: message" to err (or
   "PATH: reason" when the file cannot be read). */
int trace_load(const char *path, struct trace **out, FILE *err);
/* The same for command cmd ("replay"): a file that cannot be read is
   "aftermalloc CMD: PATH: reason", as every command says it. */
int trace_load_for(const char *cmd, const char *path, struct trace **out, FILE *err);
/* The same from an open stream; name is used in messages and kept as path. */
int trace_read(FILE *in, const char *name, struct trace **out, FILE *err);
/* The same from a buffer of len bytes (tests, fuzzing). */
int trace_parse(const char *buf, size_t len, const char *name, struct trace **out, FILE *err);
void trace_free(struct trace *t);

/*
 * Write t in the .rep format: the header (t->heap_hint, t->nr_ids,
 * t->nr_ops, t->weight), then one op a line. plain: only the CS:APP ops, so
 * that any driver reads the file: `c` becomes `a ID NMEMB*SIZE` and `m`
 * becomes `a ID SIZE`. 0, or -1 when a write failed (errno set).
 */
int trace_write(FILE *out, const struct trace *t, bool plain);
/* One op's line, as trace_write writes it, into buf (room for at least
   TRACE_LINE_MAX bytes): its length. Not NUL-terminated. */
#define TRACE_LINE_MAX 80
size_t trace_op_line(char *buf, const struct trace_op *op, bool plain);
/* Whether t has ops of the extensions. */
bool trace_extended(const struct trace *t);

/* Largest sum of live requested bytes over the trace, following the replay
   semantics (r ID 0 frees, r on a free id allocates); 0 for an empty trace.
   Ignores invalid ops (a free of a free id). */
uint64_t trace_peak_payload(const struct trace *t);

#endif
