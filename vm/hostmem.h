/*
 * hostmem.h - the host memory a simulation owns.
 *
 * Every host allocation the model makes (vm/, kernel_sim/, libc/, and the
 * session that drives them: demos/cli/session*.c) goes through these calls
 * instead of malloc/calloc/realloc/free and mmap/munmap. With no arena
 * entered they are exactly those libc calls, behind one predictable branch
 * (`run`, `replay`, the benchmarks). With an arena entered (the steppers,
 * demos/step/stepper.c), they allocate inside it: one large reservation at an
 * address fixed for the arena's lifetime, holding the whole host-side state of
 * one simulation. Because nothing of that state lives elsewhere, copying the
 * arena's used pages out (a snapshot) and back (a restore) rewinds the
 * simulation to the snapshot's moment: pointers stay valid since the
 * addresses do not move.
 *
 * Ownership is decided by address, not by which arena is entered: freeing or
 * reallocating a block goes to the arena whose range holds it, or to libc.
 * So a block libc allocated while no arena was entered may be freed while one
 * is, and the other way round.
 *
 * The current arena is a process-wide variable, the one global of the model:
 * the allocation sites (some sixty, down to uthash's) have no context to pass
 * it through. The model is single-threaded; an arena is entered only around
 * the calls that run a simulation (hostmem_enter/hostmem_leave).
 *
 * Snapshots are sparse and shared: a page is stored only if it was ever
 * touched and is not all zero, and a page equal to the same page of the
 * previous snapshot is shared with it (reference counted). Pages the host
 * never touched are found without reading them (/proc/self/pagemap; without
 * it, by scanning).
 *
 * Host resources that memory cannot rewind (an open FILE, a libc buffer) must
 * not be referenced from the arena at a snapshot: code that holds one while
 * simulated code may run says so with hostmem_hold/hostmem_release, and
 * snapshots are taken only when none is held (hostmem_held).
 */
#ifndef VM_HOSTMEM_H
#define VM_HOSTMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct hostmem;

/* The arena entered now (NULL: libc), and how many arenas exist. */
extern struct hostmem *hostmem_cur;
extern unsigned hostmem_nr_arenas;

/* The arena side of the calls below (hostmem.c). */
void *hostmem_arena_malloc(struct hostmem *h, size_t n);
void *hostmem_arena_calloc(struct hostmem *h, size_t nmemb, size_t size);
void *hostmem_arena_realloc(struct hostmem *h, void *p, size_t n);
void hostmem_arena_free(struct hostmem *h, void *p);
/* The arena whose range holds p, or NULL. */
struct hostmem *hostmem_owner(const void *p);

static inline void *hostmem_malloc(size_t n)
{
	if (__builtin_expect(hostmem_cur != NULL, 0))
		return hostmem_arena_malloc(hostmem_cur, n);
	return malloc(n);
}

static inline void *hostmem_calloc(size_t nmemb, size_t size)
{
	if (__builtin_expect(hostmem_cur != NULL, 0))
		return hostmem_arena_calloc(hostmem_cur, nmemb, size);
	return calloc(nmemb, size);
}

static inline void hostmem_free(void *p)
{
	if (__builtin_expect(hostmem_nr_arenas != 0, 0)) {
		struct hostmem *h = hostmem_owner(p);

		if (h) {
			hostmem_arena_free(h, p);
			return;
		}
	}
	free(p);
}

/* A block keeps its owner: an arena's block grows in its arena, libc's in libc. */
static inline void *hostmem_realloc(void *p, size_t n)
{
	if (__builtin_expect(hostmem_nr_arenas != 0, 0)) {
		struct hostmem *h = p ? hostmem_owner(p) : hostmem_cur;

		if (h)
			return hostmem_arena_realloc(h, p, n);
	}
	return realloc(p, n);
}

/*
 * bytes of zeroed, page-aligned host memory for the big per-frame tables and
 * the simulated RAM (MAP_NORESERVE: pages never touched cost nothing).
 * huge: the caller would like 2 MiB pages (only outside an arena). NULL when
 * there is no room. hostmem_unmap gives it back (bytes as given).
 */
void *hostmem_map(size_t bytes, bool huge);
void hostmem_unmap(void *p, size_t bytes);

/* open_memstream, its buffer moved into the arena at close when one is
   entered (so that no libc block is left referenced from the arena), and
   held while open. */
FILE *hostmem_open_memstream(char **buf, size_t *len);
/* fclose(f); 0 or EOF. *buf and *len are final. */
int hostmem_close_memstream(FILE *f, char **buf, size_t *len);

/* A host resource the arena cannot rewind is referenced from it (no
   snapshot now). No-ops without an arena entered. */
void hostmem_hold(void);
void hostmem_release(void);

/* ---- arenas (the steppers) ---------------------------------------------- */

/*
 * Reserve an arena of `reserve` bytes of address space (rounded up to
 * pages). NULL when the host refuses (e.g. `ulimit -v`): the caller runs
 * without one.
 */
struct hostmem *hostmem_create(size_t reserve);
/* Unmaps it: every block in it is gone (destroy what lives there first). */
void hostmem_destroy(struct hostmem *h);
/* Enter h (NULL: none); returns the arena entered before, for hostmem_leave. */
struct hostmem *hostmem_enter(struct hostmem *h);
void hostmem_leave(struct hostmem *prev);
/* Resources held now (hostmem_hold less hostmem_release). */
unsigned hostmem_held(const struct hostmem *h);

/* Bytes of the arena in use (its high-water mark: the range snapshots copy). */
size_t hostmem_used(const struct hostmem *h);
/* Bytes allocated now (blocks and maps, rounded to their sizes). */
size_t hostmem_allocated(const struct hostmem *h);

struct hostmem_snap;

/*
 * Copy h's used range. prev (NULL or an earlier snapshot of h) lends its
 * equal pages. NULL only when host memory runs out.
 */
struct hostmem_snap *hostmem_snap_take(struct hostmem *h, const struct hostmem_snap *prev);
/* Make h's used range what it was at s (pages past it become untouched). */
void hostmem_snap_restore(struct hostmem *h, const struct hostmem_snap *s);
void hostmem_snap_free(struct hostmem_snap *s);
/* Pages s stores (shared ones included). */
size_t hostmem_snap_pages(const struct hostmem_snap *s);
/* Bytes taking s read (the page map's entries and the pages the host backs):
   what it cost, as a count. */
size_t hostmem_snap_read(const struct hostmem_snap *s);
/* Host bytes of the pages all snapshots of h hold (a shared page once):
   what a cap on snapshot memory counts. hostmem_destroy(h) frees none of
   them: free the snapshots first. */
size_t hostmem_snaps_bytes(const struct hostmem *h);

/*
 * The arena's invariants: every free block on the list of its size class,
 * inside the range, marked free; the free page runs sorted, disjoint and
 * inside the used range; the counts agree. 0, or -1 after a message on err.
 */
int hostmem_check(const struct hostmem *h, FILE *err);

#endif
