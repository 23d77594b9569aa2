/*
 * coro.c - coroutines over ucontext (makecontext/swapcontext), with the
 * AddressSanitizer fiber annotations that sanitizer builds need to follow the
 * switches between the front end's stack and the simulated process's.
 */
#include "coro.h"

#include <stdint.h>
#include <stdlib.h>

#include "../../vm/hostmem.h"

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif

#ifdef CORO_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
				     size_t *size_old);
#endif

static void coro_entry(unsigned hi, unsigned lo)
{
	struct coro *c = (struct coro *)(((uintptr_t)hi << 32) | (uintptr_t)lo);

#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(NULL, &c->caller_stack_bottom, &c->caller_stack_size);
#endif
	c->fn(c->arg);
	c->done = true;
	c->running = false;
#ifdef CORO_ASAN
	/* Leaving for good: NULL tells ASan this fiber's fake stack can go. */
	__sanitizer_start_switch_fiber(NULL, c->caller_stack_bottom, c->caller_stack_size);
#endif
	setcontext(&c->caller);
}

int coro_init(struct coro *c, size_t stack_size, void (*fn)(void *), void *arg)
{
	*c = (struct coro){.stack_size = stack_size, .fn = fn, .arg = arg};
	/* in the simulation's host memory: a stepper's snapshots hold the
	   paused coroutine's frames (vm/hostmem.h) */
	c->stack = hostmem_map(stack_size, false);
	if (!c->stack)
		return -1;
	if (getcontext(&c->ctx) < 0)
		return -1;
	c->ctx.uc_stack.ss_sp = c->stack;
	c->ctx.uc_stack.ss_size = stack_size;
	c->ctx.uc_link = NULL;
	uintptr_t p = (uintptr_t)c;
	makecontext(&c->ctx, (void (*)(void))coro_entry, 2, (unsigned)(p >> 32), (unsigned)p);
	return 0;
}

bool coro_resume(struct coro *c)
{
	if (c->done)
		return false;
	c->running = true;
#ifdef CORO_ASAN
	void *fake = NULL;
	__sanitizer_start_switch_fiber(&fake, c->stack, c->stack_size);
#endif
	swapcontext(&c->caller, &c->ctx);
#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
	return !c->done;
}

void coro_yield(struct coro *c)
{
	c->running = false;
#ifdef CORO_ASAN
	__sanitizer_start_switch_fiber(&c->fake_stack, c->caller_stack_bottom, c->caller_stack_size);
#endif
	swapcontext(&c->ctx, &c->caller);
#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(c->fake_stack, &c->caller_stack_bottom,
					&c->caller_stack_size);
#endif
	c->running = true;
}

void coro_destroy(struct coro *c)
{
	if (c->stack)
		hostmem_unmap(c->stack, c->stack_size);
	c->stack = NULL;
}
