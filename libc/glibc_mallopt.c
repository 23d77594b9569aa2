/*
 * glibc_mallopt.c - glibc 2.36's knobs (malloc/malloc.c __libc_mallopt and
 * the do_set_* helpers it shares with the tunables; malloc/arena.c's
 * TUNABLE_GET calls in ptmalloc_init; elf/dl-tunables.list for the names,
 * types and bounds of glibc.malloc.*).
 *
 * mallopt consolidates main_arena's fastbins first (max_fast may change),
 * then sets one parameter: M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, M_TOP_PAD
 * and M_MMAP_MAX also turn the dynamic mmap threshold off. The tunables
 * (GLIBC_TUNABLES=glibc.malloc.NAME=VALUE:...) are the same setters, applied
 * by ptmalloc_init in dl-tunables.list's order, each only when set.
 */
#include "glibc_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FAST_SIZE    160ULL   /* 80 * SIZE_SZ / 4 */
#define MAX_TCACHE_SIZE  1032ULL  /* tidx2usize(TCACHE_MAX_BINS - 1) */
#define MAX_TCACHE_COUNT 65535ULL /* counts are uint16_t */

void gm_set_max_fast(struct gm *g, uint64_t s)
{
	st(g, g->gs + GS_MAX_FAST,
	   s <= GM_MALLOC_ALIGN_MASK - GM_SIZE_SZ ? GM_MINSIZE / 2
	                                          : (s + GM_SIZE_SZ) & ~GM_MALLOC_ALIGN_MASK);
}

/* The do_set_* helpers: 1 when the value was taken, 0 when refused. */
static int set_no_dyn(struct gm *g)
{
	mp_set_int(g, MP_NO_DYN_THRESHOLD, 1);
	return 1;
}

static int do_set_trim_threshold(struct gm *g, uint64_t v)
{
	mp_set(g, MP_TRIM_THRESHOLD, v);
	return set_no_dyn(g);
}

static int do_set_top_pad(struct gm *g, uint64_t v)
{
	mp_set(g, MP_TOP_PAD, v);
	return set_no_dyn(g);
}

static int do_set_mmap_threshold(struct gm *g, uint64_t v)
{
	mp_set(g, MP_MMAP_THRESHOLD, v);
	return set_no_dyn(g);
}

static int do_set_mmaps_max(struct gm *g, uint64_t v)
{
	mp_set_int(g, MP_N_MMAPS_MAX, (int)(int32_t)v);
	return set_no_dyn(g);
}

static int do_set_perturb_byte(struct gm *g, uint64_t v)
{
	st32(g, g->gs + GS_PERTURB, (uint32_t)v);
	return 1;
}

static int do_set_arena_test(struct gm *g, uint64_t v)
{
	mp_set(g, MP_ARENA_TEST, v);
	return 1;
}

static int do_set_arena_max(struct gm *g, uint64_t v)
{
	mp_set(g, MP_ARENA_MAX, v);
	return 1;
}

static int do_set_tcache_max(struct gm *g, uint64_t v)
{
	if (v > MAX_TCACHE_SIZE)
		return 0;
	mp_set(g, MP_TCACHE_MAX_BYTES, v);
	mp_set(g, MP_TCACHE_BINS, gm_csize2tidx(gm_request2size(v)) + 1);
	return 1;
}

static int do_set_tcache_count(struct gm *g, uint64_t v)
{
	if (v > MAX_TCACHE_COUNT)
		return 0;
	mp_set(g, MP_TCACHE_COUNT, v);
	return 1;
}

static int do_set_tcache_unsorted_limit(struct gm *g, uint64_t v)
{
	mp_set(g, MP_TCACHE_UNSORTED_LIMIT, v);
	return 1;
}

static int do_set_mxfast(struct gm *g, uint64_t v)
{
	if (v > MAX_FAST_SIZE)
		return 0;
	gm_set_max_fast(g, v);
	return 1;
}

/* glibc.malloc.* in dl-tunables.list's order, which is ptmalloc_init's. */
static const struct tunable {
	const char *name;
	bool int32;       /* INT_32 (else SIZE_T) */
	int64_t min, max; /* the list's minval and maxval (-1: the type's), or the
	                     bound its setter checks (glibc ignores a value past it) */
	int (*set)(struct gm *g, uint64_t v);
	const char *refused; /* why the model takes no value for it */
} tunables[] = {
    {"top_pad", false, 0, -1, do_set_top_pad, NULL},
    {"perturb", true, 0, 0xff, do_set_perturb_byte, NULL},
    {"mmap_threshold", false, 0, -1, do_set_mmap_threshold, NULL},
    {"trim_threshold", false, 0, -1, do_set_trim_threshold, NULL},
    {"mmap_max", true, 0, -1, do_set_mmaps_max, NULL},
    {"arena_max", false, 1, -1, do_set_arena_max, NULL},
    {"arena_test", false, 1, -1, do_set_arena_test, NULL},
    {"tcache_max", false, 0, MAX_TCACHE_SIZE, do_set_tcache_max, NULL},
    {"tcache_count", false, 0, MAX_TCACHE_COUNT, do_set_tcache_count, NULL},
    {"tcache_unsorted_limit", false, 0, -1, do_set_tcache_unsorted_limit, NULL},
    {"mxfast", false, 0, MAX_FAST_SIZE, do_set_mxfast, NULL},
    {"hugetlb", false, 0, -1, NULL, "the model has no huge pages"},
    {"check", true, 0, 3, NULL, "2.36 checks only under libc_malloc_debug.so"},
};
#define NR_TUNABLES (sizeof(tunables) / sizeof(tunables[0]))
#define PREFIX      "glibc.malloc."

const char *glibc_tunable_name(unsigned i)
{
	static char names[NR_TUNABLES][48];

	if (i >= NR_TUNABLES)
		return NULL;
	if (!names[i][0])
		snprintf(names[i], sizeof(names[i]), PREFIX "%s", tunables[i].name);
	return names[i];
}

static int parse_one(const char *s, size_t len, struct libc_tunable *out, char *err, size_t errlen)
{
	const char *eq = memchr(s, '=', len);
	char name[64], val[64], *end;
	const struct tunable *t = NULL;
	unsigned long long v;

	if (!eq || (size_t)(eq - s) >= sizeof(name) || len - (size_t)(eq - s) - 1 >= sizeof(val)) {
		snprintf(err, errlen, "'%.*s' is not NAME=VALUE", (int)len, s);
		return -1;
	}
	memcpy(name, s, (size_t)(eq - s));
	name[eq - s] = '\0';
	memcpy(val, eq + 1, len - (size_t)(eq - s) - 1);
	val[len - (size_t)(eq - s) - 1] = '\0';
	if (strncmp(name, PREFIX, sizeof(PREFIX) - 1) == 0)
		for (unsigned i = 0; i < NR_TUNABLES; i++)
			if (strcmp(name + sizeof(PREFIX) - 1, tunables[i].name) == 0)
				t = &tunables[i];
	if (!t) {
		snprintf(err, errlen,
		         "unknown tunable '%s' (the model reads glibc.malloc.*: %s%s%s)", name,
		         "top_pad, perturb, mmap_threshold, trim_threshold, mmap_max, ",
		         "arena_max, arena_test, tcache_max, tcache_count, ",
		         "tcache_unsorted_limit, mxfast");
		return -1;
	}
	if (t->refused) {
		snprintf(err, errlen, "%s: not modelled (%s)", name, t->refused);
		return -1;
	}
	/* tunables_strtoul: decimal, 0x hex or 0 octal, nothing after */
	errno = 0;
	v = strtoull(val, &end, 0);
	if (!val[0] || *end || errno || val[0] == '-' || val[0] == '+') {
		snprintf(err, errlen, "%s: '%s' is not a number", name, val);
		return -1;
	}
	if ((int64_t)v < t->min || (t->max >= 0 && v > (uint64_t)t->max) ||
	    (t->int32 && v > INT32_MAX)) {
		snprintf(err, errlen, "%s=%s: out of range [%lld, %lld] (glibc ignores it)", name,
		         val, (long long)t->min,
		         (long long)(t->max >= 0 ? t->max
		                     : t->int32  ? INT32_MAX
		                                 : INT64_MAX));
		return -1;
	}
	snprintf(out->name, sizeof(out->name), "%s", t->name);
	out->value = v;
	return 0;
}

int glibc_tunables_parse(struct libc_tunable *list, unsigned *n, unsigned max, const char *spec,
                         char *err, size_t errlen)
{
	const char *s = spec;

	do {
		size_t len = strcspn(s, ":");

		if (*n >= max) {
			snprintf(err, errlen, "more than %u tunables", max);
			return -1;
		}
		if (parse_one(s, len, &list[*n], err, errlen) != 0)
			return -1;
		++*n;
		s += len;
	} while (*s++ == ':');
	return 0;
}

void gm_apply_tunables(struct gm *g)
{
	const struct libc *lc = g->lc;

	for (unsigned i = 0; i < NR_TUNABLES; i++) {
		const struct libc_tunable *last = NULL;

		for (unsigned j = 0; j < lc->nr_tunables; j++)
			if (strcmp(lc->tunables[j].name, tunables[i].name) == 0)
				last = &lc->tunables[j];
		if (last && tunables[i].set) {
			tunables[i].set(g, last->value);
			EV(g->pr, LAYER_LIBC, EV_HEAP, "ptmalloc_init", "tunable applied",
			   {"tunable", i}, {"value", last->value});
		}
	}
}

/* __libc_mallopt: 1 on success, 0 when the value is refused (and for an
   unknown parameter: 1, as glibc, which ignores it). */
int glibc_mallopt(struct libc *lc, int param, int value)
{
	struct gm g;
	int res = 1;

	if (lc->ops != &malloc_ops_glibc)
		panic("glibc_mallopt: the policy is %s", lc->ops->name);
	gm_enter(&g, lc);
	lc->in_malloc++;
	probe_call(g.pr, LAYER_LIBC, "__libc_mallopt", {"param", (uint64_t)(int64_t)param},
	           {"value", (uint64_t)(int64_t)value});
	gm_ptmalloc_init(&g);
	lock(&g, g.main + AV_MUTEX);
	/* consolidate main_arena before max_fast may change */
	g.av = g.main;
	gm_malloc_consolidate(&g);
	switch (param) {
	case GM_M_MXFAST:
		res = do_set_mxfast(&g, (uint64_t)(int64_t)value);
		break;
	case GM_M_TRIM_THRESHOLD:
		res = do_set_trim_threshold(&g, (uint64_t)(int64_t)value);
		break;
	case GM_M_TOP_PAD:
		res = do_set_top_pad(&g, (uint64_t)(int64_t)value);
		break;
	case GM_M_MMAP_THRESHOLD:
		res = do_set_mmap_threshold(&g, (uint64_t)(int64_t)value);
		break;
	case GM_M_MMAP_MAX:
		res = do_set_mmaps_max(&g, (uint64_t)(int64_t)value);
		break;
	case GM_M_CHECK_ACTION:
		break;
	case GM_M_PERTURB:
		res = do_set_perturb_byte(&g, (uint64_t)(int64_t)value);
		break;
	case GM_M_ARENA_TEST:
		if (value > 0)
			res = do_set_arena_test(&g, (uint64_t)value);
		break;
	case GM_M_ARENA_MAX:
		if (value > 0)
			res = do_set_arena_max(&g, (uint64_t)value);
		break;
	}
	unlock(&g, g.main + AV_MUTEX);
	probe_ret(g.pr, LAYER_LIBC, "__libc_mallopt", {"ret", (uint64_t)res});
	lc->in_malloc--;
	return res;
}
