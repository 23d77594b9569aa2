/*
 * narrate.h - what each step of the path means, in plain words.
 *
 * One table row per modelled function (the names events carry: Linux 6.x,
 * glibc 2.36, the x86-64 MMU, the textbook allocators), naming the real
 * function and its source file and saying in one or two sentences what it
 * does and why; one sentence per event kind, built from the event's fields;
 * one per script statement. The lesson throughout is the seed article's:
 * malloc only reserves virtual memory; physical memory appears at the first
 * touch, by the kernel's hand. Shared by `step`, `quiz` and the viewer.
 *
 * A name missing from the table is shown with NARRATE_MISSING, never with a
 * generic sentence, so that tests can catch it.
 */
#ifndef DEMOS_NARRATE_H
#define DEMOS_NARRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../../vm/probe.h"

#define NARRATE_MISSING "(no narration)"

/* Which compact view of the state a step is best shown with. */
enum narr_view {
	NV_NONE,  /* nothing beyond the event and the path */
	NV_WALK,  /* the page walk of the address and its VMA */
	NV_BUDDY, /* the buddy free lists */
	NV_HEAP,  /* the heap chunks around the block being worked on */
	NV_MAPS,  /* the program break and the VMAs */
};

struct narration {
	const char *fn;  /* the modelled function, as events name it */
	const char *src; /* where to read the real one: "mm/memory.c" */
	enum narr_view view;
	const char *what; /* one or two sentences: what it does and why */
};

/* The row of fn, or NULL when the table has none. */
const struct narration *narrate_lookup(const char *fn);
/* Every row, and how many (for tests and the viewer's legend). */
const struct narration *narrate_table(size_t *n);

/* "fn (src): what", or "fn: (no narration)". Returns the length (snprintf's). */
int narrate_fn(const char *fn, char *buf, size_t n);
/* What a script statement does ("store" ...), or NULL for an unknown keyword. */
const char *narrate_stmt(const char *keyword);

/*
 * The event in words, into buf: first what happened, from its kind and fields
 * ("The CPU raised a page fault at 0x...: a write from user mode to a page
 * that is not present."), then the function's narration (or, for a statement,
 * the statement's). Returns the length.
 */
int narrate_event(const struct event *ev, char *buf, size_t n);
/* The kind's sentence alone (the first part above). */
int narrate_kind(const struct event *ev, char *buf, size_t n);

/* The view that suits ev: by its kind, else by its function's row. */
enum narr_view narrate_view(const struct event *ev);

/* How the task a statement runs in is named beside it: "" for the script's
   program (its first task, main_pid), "t3" for a thread (tid 3: tid is not
   its group's tgid), "pid 2" for another process. Returns buf. */
const char *narrate_task(int tid, int tgid, int main_pid, char *buf, size_t n);

/* "write, user mode, page not present" for an x86 #PF error code. */
const char *narrate_pf_error(unsigned error, char *buf, size_t n);

/* Print text wrapped at width columns, every line starting with indent spaces. */
void narrate_wrap(FILE *out, const char *text, int indent, int width);
/* The same with the first line at column first and the others at indent. */
void narrate_wrap_hanging(FILE *out, const char *text, int first, int indent, int width);

#endif
