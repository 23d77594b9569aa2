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

_Noreturn void panic_at(const char *func, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define panic(...) panic_at(__func__, __VA_ARGS__)

#endif
