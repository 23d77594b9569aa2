/*
 * coro.h - a coroutine: the simulated process's own execution context.
 *
 * The steppers run the simulation on a coroutine so that they can pause it at
 * any event, in the middle of malloc or of the fault handler, show the state,
 * and resume it (DESIGN.md, Stepping). Built on ucontext; annotated for
 * AddressSanitizer so that sanitizer builds follow the stack switches.
 */
#ifndef DEMOS_CORO_H
#define DEMOS_CORO_H

#include <stdbool.h>
#include <stddef.h>
#include <ucontext.h>

struct coro {
	ucontext_t ctx;    /* the coroutine's context */
	ucontext_t caller; /* where coro_yield returns to */
	void *stack;
	size_t stack_size;
	void (*fn)(void *arg);
	void *arg;
	bool running;      /* inside the coroutine now */
	bool done;         /* fn returned */
	void *fake_stack;  /* ASan bookkeeping */
	const void *caller_stack_bottom;
	size_t caller_stack_size;
};

/* Prepare fn(arg) to run on a fresh stack of stack_size bytes. 0 or -1. */
int coro_init(struct coro *c, size_t stack_size, void (*fn)(void *), void *arg);
/* Run the coroutine until it yields or fn returns. Returns !c->done. */
bool coro_resume(struct coro *c);
/* From inside the coroutine: go back to whoever resumed it. */
void coro_yield(struct coro *c);
void coro_destroy(struct coro *c);

#endif
