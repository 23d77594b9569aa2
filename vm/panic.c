/* panic.c - report a broken invariant of the simulator and stop the host. */
#include "panic.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "hostmem.h"

/* Process-wide, as the abort() it announces. */
static volatile sig_atomic_t panicking;

bool panic_in_progress(void)
{
	return panicking;
}

void panic_at(const char *func, const char *fmt, ...)
{
	va_list ap;

	panicking = 1;
	fprintf(stderr, "aftermalloc: panic: %s: ", func);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void *grow_array_at(const char *func, void *p, size_t *cap, size_t elem, size_t first)
{
	size_t n = *cap ? 2 * *cap : first;
	void *q = n > *cap ? hostmem_realloc(p, n * elem) : NULL;

	if (!q)
		panic_at(func, "out of host memory (%zu x %zu bytes)", n, elem);
	*cap = n;
	return q;
}
