/*
 * memlib_host.h - the tool's side of a policy of one's own (libc/memlib.c):
 * the adapter that makes a plugin a struct malloc_ops the dispatch runs like
 * a built-in one. Two kinds of plugin:
 *  - the CS:APP shape (memlib.h): mm_init, mm_malloc, mm_free, mm_realloc
 *    and the optional mm_calloc, mm_checkheap, mm_walk, over mem_sbrk and
 *    the mem_get/mem_put accessors, whose host side is here;
 *  - a native policy (policy.h): a struct malloc_ops of its own.
 * Either way each call into the plugin is recorded (which, and a serial
 * number) so that the host's guard (demos/cli/plugin_guard.c) can tell, from
 * a signal handler, that a crash or an endless loop is the plugin's and in
 * which call. The walk and the checker run as side calls: their accessors
 * read through the side door (libc_peek: no fault, no event, no TLB), and a
 * side call that crashes, loops, reads an unmapped address or stores is
 * abandoned (memlib_side_abort) instead of killing the process.
 *
 * The dlopen of the shared object is the front end's (demos/cli/plugin.c).
 */
#ifndef LIBC_MEMLIB_HOST_H
#define LIBC_MEMLIB_HOST_H

#include <setjmp.h>

#include "libc.h"
#define AFTERMALLOC_HOST 1
#include "memlib.h"

/* A CS:APP plugin's functions (dlsym'd). The first four are required. */
struct memlib_fns {
	int (*init)(void);
	void *(*malloc)(size_t size);
	void (*free)(void *ptr);
	void *(*realloc)(void *ptr, size_t size);
	void *(*calloc)(size_t nmemb, size_t size);
	bool (*checkheap)(int lineno);
	void (*walk)(mm_visit_t visit, void *arg);
};

enum memlib_mode {
	MEMLIB_IDLE, /* no call into the plugin: its accessors are a misuse */
	MEMLIB_RUN,  /* an operation: accessors go through the MMU */
	MEMLIB_PEEK, /* a side call: accessors read through the side door */
};

/* The reads a side call may make before it is taken for an endless walk. */
#define MEMLIB_PEEK_BUDGET (64ULL << 20)

/* The accesses (mem_get/mem_put, mem_memset, mem_sbrk...) one operation
   may make before it is taken for an endless loop: 2^28, over ten thousand
   times what the longest operation of the malloc-lab traces makes (16,640:
   the implicit list's first fit on binary2-bal.rep). The process then gets SIGXCPU, its CPU
   time charged to its limit (account_user_time_to_limit), as the built-in
   policies' walks do on a cycle: an endless loop through the accessors
   ends wherever the plugin runs, also in the tool's own process (run, step,
   view), where no time limit stands behind the watchdog. */
#define MEMLIB_RUN_BUDGET (1ULL << 28)

struct memlib {
	struct malloc_ops ops;           /* what the dispatch runs: lc->ops points here */
	const struct malloc_ops *native; /* a native plugin's own ops, else NULL */
	struct memlib_fns fn;            /* a CS:APP plugin's functions */
	char name[64];                   /* ops.name: the plugin's file name */
	char description[128];
	struct libc *lc; /* the process bound (ops.init), NULL when none */
	struct cpu *cpu; /* lc's CPU */
	bool inited;     /* mm_init ran in the bound process */
	/* The call into the plugin in progress, for the host's guard, which
	   reads these from signal handlers. A call cut short by the death of
	   the process leaves them set until the next call. */
	volatile enum memlib_mode mode;
	const char *volatile call;         /* "mm_malloc", "malloc", ... NULL between calls */
	volatile uint64_t serial;          /* calls entered so far */
	sigjmp_buf *volatile side;         /* the side call's way out, NULL outside one */
	char side_error[200];              /* why the last side call was abandoned ("" if not) */
	uint64_t peek_left;                /* side-door reads left to the side call */
	uint64_t run_left;                 /* accesses left to the operation */
	struct libc_peek_cache peek_cache; /* the side call's last page */
};

/* The adapter of lc's policy, when it is a plugin's; else NULL. */
struct memlib *memlib_of(const struct libc *lc);

/* A CS:APP plugin's adapter (fns: init, malloc, free, realloc required),
   named name. NULL when a required function is missing or memory is out. */
struct memlib *memlib_new(const char *name, const struct memlib_fns *fns);
/* A native plugin's adapter around its own ops (malloc, free, realloc required). */
struct memlib *memlib_new_native(const char *name, const struct malloc_ops *ops);
void memlib_delete(struct memlib *m);

/* Abandon the side call in progress (m->side set): its wrapper returns
   with why in m->side_error. For the host's guard and the accessors. */
_Noreturn void memlib_side_abort(struct memlib *m, const char *why);

#endif
