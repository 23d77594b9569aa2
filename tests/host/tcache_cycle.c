/*
 * tcache_cycle.c - the oracle for glibc's answer to a tcache bin the program
 * linked into a cycle: a real program on the host's glibc 2.36 frees q into
 * tcache, points q's (safe-linked) next pointer at q itself, copies q's
 * tcache key into the live block p and frees p. _int_free's double-free check
 * then walks the bin; glibc 2.33+ stops after tcache_count entries with
 * "free(): too many chunks detected in tcache" and abort(). Used by
 * tests/test_cpulimit.c, which expects SIGABRT and that line on stderr.
 */
#include <stdint.h>
#include <stdlib.h>

int main(void)
{
	/* volatile: the compiler must neither drop the malloc/free pairs nor the
	   stores into freed memory. */
	volatile uintptr_t *p = malloc(24), *q = malloc(24);
	volatile uintptr_t *volatile qv = q; /* q is used after free on purpose */

	free((void *)q);
	qv[0] = ((uintptr_t)qv >> 12) ^ (uintptr_t)qv; /* q->next = PROTECT_PTR(&q->next, q) */
	p[1] = qv[1];                                  /* p->key = tcache_key */
	free((void *)p);
	return 0;
}
