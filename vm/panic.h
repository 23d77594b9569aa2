/*
 * panic.h - the simulator's own bugs.
 *
 * Two tiers of failure (STYLE.md, rule 5): what the simulated world can do wrong
 * is a return value or a simulated signal; what only a bug in the simulator can
 * do is panic(): "function: reason", then abort() of the host.
 */
#ifndef VM_PANIC_H
#define VM_PANIC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

_Noreturn void panic_at(const char *func, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define panic(...) panic_at(__func__, __VA_ARGS__)

/* A panic is under way (its abort() is coming): for a SIGABRT handler that
   must tell the simulator's abort from a plugin's (demos/cli/plugin_guard.c). */
bool panic_in_progress(void);

/*
 * Room for one more element in a host array that grows by doubling: p holds
 * *cap elements of elem bytes; when full it is reallocated to twice as many
 * (first when empty). Host memory running out is fatal, as everywhere in the
 * simulator (a panic naming func). Returns the array.
 */
void *grow_array_at(const char *func, void *p, size_t *cap, size_t elem, size_t first);

/* if (n == cap) GROW_ARRAY(arr, cap, 64); arr[n++] = x; -- cap is a size_t. */
#define GROW_ARRAY(p, cap, first)                                                                  \
	((p) = grow_array_at(__func__, (p), &(cap), sizeof(*(p)), (first)))

#endif
