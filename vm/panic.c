/* panic.c - report a broken invariant of the simulator and stop the host; end a command the host refused memory. */
#include "panic.h"

#include <errno.h> /* program_invocation_short_name */
#include <signal.h>
#include <stdint.h>
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

void host_oom_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: out of host memory for ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (%s:%d)\n", file, line);
	exit(EXIT_HOST_OOM);
}

void *grow_array_at(const char *file, int line, void *p, size_t *cap, size_t elem, size_t first)
{
	size_t n = *cap ? 2 * *cap : first;
	/* twice as many, unless that many bytes are more than a size_t holds */
	bool fits = n > *cap && n <= SIZE_MAX / elem;
	void *q = fits ? hostmem_realloc(p, n * elem) : NULL;

	if (!q && fits)
		host_oom_at(file, line, "an array of %zu x %zu bytes", n, elem);
	if (!q)
		host_oom_at(file, line, "an array of more than %zu x %zu bytes", *cap, elem);
	*cap = n;
	return q;
}
