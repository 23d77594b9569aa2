/* panic.c - report a broken invariant of the simulator and stop the host. */
#include "panic.h"

#include <stdio.h>
#include <stdlib.h>

void panic_at(const char *func, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "aftermalloc: panic: %s: ", func);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
