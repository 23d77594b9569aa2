/*
 * record_log.h - the raw log that librecord.so (demos/record/preload.c), the
 * LD_PRELOAD library of `aftermalloc record`, writes inside a real program,
 * and that demos/record/record.c turns into a trace.
 *
 * One file per process, DIR/PID.raw. Layout: the header page, then the ring
 * (AMREC_RING records), then the records flushed from the ring, in call
 * order (one lock orders them across threads once the process has threads):
 *
 *   [0, AMREC_HEADER)                 struct amrec_header
 *   [AMREC_HEADER, AMREC_SPILL)        the ring: records flushed .. records - 1
 *   [AMREC_SPILL + 32 i, ...)          record i, for i < flushed
 *
 * The header and the ring are mapped MAP_SHARED by the process that writes
 * the log: a record is in the file as soon as it is stored in memory, so a
 * program that crashes, is killed or ends by _exit leaves every call it made
 * until then, with nothing to flush. A full ring is appended to the file by
 * one pwrite, `flushed` is raised (release order), and only then is the ring
 * written over: at any moment records [0, flushed) are in the file after the
 * ring and [flushed, records) in the ring. The ring's pages are the same
 * ones all along, so the program takes a page fault only for the ring's
 * first lap, not one per 128 calls as when the log was a growing mapping
 * (each a fresh page of the file to allocate, zero and account).
 */
#ifndef DEMOS_RECORD_LOG_H
#define DEMOS_RECORD_LOG_H

#include <stdint.h>

#define AMREC_MAGIC   "AMREC\x00\x00\x03"
#define AMREC_VERSION 3
#define AMREC_HEADER  4096u                             /* bytes before the first record */
#define AMREC_RING    4096u                             /* records in the ring (128 KiB) */
#define AMREC_SPILL   (AMREC_HEADER + AMREC_RING * 32u) /* offset of the flushed records */
#define AMREC_ENV_DIR "AM_RECORD_DIR" /* where the logs go; unset: the library records nothing */

/* The calls, as the program made them (the op of a record). */
enum amrec_op {
	AMREC_END = 0,        /* no record here (yet) */
	AMREC_MALLOC,         /* ptr = malloc(a) */
	AMREC_CALLOC,         /* ptr = calloc(a, b) */
	AMREC_REALLOC,        /* ptr = realloc(a, b) */
	AMREC_FREE,           /* free(a) */
	AMREC_POSIX_MEMALIGN, /* posix_memalign(&ptr, a, b): ptr 0 when it failed */
	AMREC_ALIGNED_ALLOC,  /* ptr = aligned_alloc(a, b) */
	AMREC_MEMALIGN,       /* ptr = memalign(a, b) */
	AMREC_VALLOC,         /* ptr = valloc(b), a = the page size */
	AMREC_PVALLOC,        /* ptr = pvalloc(b), a = the page size */
	AMREC_REALLOCARRAY,   /* ptr = reallocarray(a, b / elem, elem): b = the product */
	AMREC__COUNT
};

struct amrec_record {
	uint64_t ptr;  /* the block returned (0: NULL) */
	uint64_t a, b; /* the arguments (see enum amrec_op) */
	uint32_t tid;  /* the calling thread */
	uint8_t op;    /* enum amrec_op */
	uint8_t pad[3];
};

/* The header page. Counters are updated as the program runs (under the
   library's lock once the process has threads), `records` after each record
   is stored (release order), so they are right up to the last record even
   after a crash; `ended` says whether the process got to its exit. */
struct amrec_header {
	char magic[8];
	uint32_t version, record_size;
	int32_t pid;
	uint32_t ended;     /* the library's destructor ran: the process exited */
	uint64_t records;   /* records written */
	uint64_t flushed;   /* records moved from the ring to the file after it */
	uint64_t truncated; /* records lost: the log could not grow (disk full) */
	/* The program's heap as glibc counts it: footprint = mallinfo2()
	   arena + hblkhd, sampled after each call that moved the break or
	   mapped or unmapped a chunk (the only calls that change it). */
	uint64_t peak_footprint, peak_arena, peak_hblkhd;
	uint64_t last_footprint;
	uint64_t samples; /* mallinfo2 calls */
	/* Calls made by a thread while it was inside a hook: a signal handler
	   that allocates (they go to glibc unlogged). The library itself never
	   allocates in a hook: its own calls would be counted here. */
	uint64_t reentered;
};

_Static_assert(sizeof(struct amrec_record) == 32, "AMREC_SPILL counts 32-byte records");
_Static_assert(sizeof(struct amrec_header) <= AMREC_HEADER, "the header fits its page");

#endif
