/* policies.c - the registry of malloc policies (DESIGN.md, Malloc policies). */
#include <string.h>

#include "libc.h"

extern const struct malloc_ops malloc_ops_seed;
extern const struct malloc_ops malloc_ops_firstfit;
extern const struct malloc_ops malloc_ops_nextfit;
extern const struct malloc_ops malloc_ops_bestfit;
extern const struct malloc_ops malloc_ops_glibc;
extern const struct malloc_ops malloc_ops_best;

const struct malloc_ops *const malloc_policies[] = {
	&malloc_ops_seed, &malloc_ops_firstfit, &malloc_ops_nextfit,
	&malloc_ops_bestfit, &malloc_ops_glibc, &malloc_ops_best, NULL,
};

const struct malloc_ops *malloc_policy(const char *name)
{
	for (const struct malloc_ops *const *p = malloc_policies; *p; p++)
		if (strcmp((*p)->name, name) == 0)
			return *p;
	return NULL;
}
