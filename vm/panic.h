/*
 * panic.h - the simulator's own bugs, and the host refusing it memory.
 *
 * Two tiers of failure (STYLE.md, rule 5): what the simulated world can do wrong
 * is a return value or a simulated signal; what only a bug in the simulator can
 * do is panic(): "function: reason", then abort() of the host.
 *
 * The host running out of memory is neither: where the caller cannot go on
 * without it (a table or array of the model growing), host_oom() ends the
 * command with "PROGRAM: out of host memory for WHAT (FILE:LINE)" on stderr
 * and exit status 2 (docs/reference.md, Exit statuses), after flushing what
 * was printed before (exit, not _exit: atexit handlers run, such as the
 * terminal stepper's that restores the terminal).
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

/* The exit status of a command the host refused memory. */
#define EXIT_HOST_OOM 2

_Noreturn void host_oom_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* host_oom("a hash table"): the message names the line that asked. */
#define host_oom(...) host_oom_at(__FILE__, __LINE__, __VA_ARGS__)

/*
 * Room for one more element in a host array that grows by doubling: p holds
 * *cap elements of elem bytes; when full it is reallocated to twice as many
 * (first when empty). Host memory running out is fatal (host_oom, naming
 * file:line). Returns the array.
 */
void *grow_array_at(const char *file, int line, void *p, size_t *cap, size_t elem, size_t first);

/* if (n == cap) GROW_ARRAY(arr, cap, 64); arr[n++] = x; -- cap is a size_t. */
#define GROW_ARRAY(p, cap, first)                                                                  \
	((p) = grow_array_at(__FILE__, __LINE__, (p), &(cap), sizeof(*(p)), (first)))

#endif
