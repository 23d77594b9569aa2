/*
 * test_oracle_knobs.c - glibc's knobs and reports in the glibc policy
 * against this machine's glibc 2.36: tests/host/malloc_knobs.c makes a
 * sequence of mallopt, malloc, free, malloc_trim, malloc_stats, malloc_info
 * and mallinfo2 calls and prints key=value lines; the same sequence runs
 * here through the simulated libc and must print the same lines (pointers
 * as offsets from the initial break, faults, resident pages of a range,
 * every line of the reports).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_sim/syscalls.h"
#include "libc/glibc_malloc.h"
#include "tests/support_oracle.h"
#include "tests/support_sim.h"
#include "vm/pagetable.h"

static struct sim s;
static struct oracle_out out; /* the simulated side */
static vaddr_t heap;

static void put_ptr(const char *key, vaddr_t p)
{
	vaddr_t brk = s.lc.curbrk;

	if (p && (p < heap || p >= brk))
		oracle_printf(&out, "%s=mmap+%#lx\n", key, (unsigned long)(p & 0xfff));
	else
		oracle_put(&out, key, p ? (long)(p - heap) : -1);
}

static void put_brk(const char *key)
{
	oracle_put(&out, key, (long)(s.lc.curbrk - heap));
}

/* Present pages of [p, p + len), as mincore reports them. */
static long resident(vaddr_t p, uint64_t len)
{
	long r = 0;

	for (vaddr_t a = p & ~(PAGE_SIZE - 1); a < p + len; a += PAGE_SIZE)
		r += pte_present(pagewalk(&s.k.phys, s.k.cpu.cr3, a, NULL));
	return r;
}

static void put_mallinfo(const char *tag)
{
	struct glibc_mallinfo2 m;
	char key[64];

	cr_assert(glibc_mallinfo2_view(&s.lc, &m));
#define F(f)                                                                                       \
	snprintf(key, sizeof(key), "%s.%s", tag, #f);                                              \
	oracle_put(&out, key, (long)m.f)
	F(arena);
	F(ordblks);
	F(smblks);
	F(hblks);
	F(hblkhd);
	F(usmblks);
	F(fsmblks);
	F(uordblks);
	F(fordblks);
	F(keepcost);
#undef F
}

static struct glibc_text text;

static void report(const char *tag, bool stats)
{
	text.len = 0;
	if (stats)
		glibc_malloc_stats(&s.lc, &text);
	else
		glibc_malloc_info_xml(&s.lc, &text);
	oracle_put_lines(&out, tag, text.s, text.len);
}

static uint64_t f0;

static void begin(void)
{
	f0 = s.t->min_flt;
}

static void end_call(const char *key, long r)
{
	char k[64];

	oracle_put(&out, key, r);
	snprintf(k, sizeof(k), "%s.faults", key);
	oracle_put(&out, k, (long)(s.t->min_flt - f0));
	sim_check(&s.lc);
}

static vaddr_t end_ptr(const char *key, vaddr_t p)
{
	char k[64];

	put_ptr(key, p);
	snprintf(k, sizeof(k), "%s.faults", key);
	oracle_put(&out, k, (long)(s.t->min_flt - f0));
	sim_check(&s.lc);
	return p;
}

#define CALL(key, expr) (begin(), end_call(key, (long)(expr)))
#define PTR(key, expr)  (begin(), end_ptr(key, (vaddr_t)(expr)))

/* As the probe's touch(): a byte into every page, and the last byte. */
static void touch(vaddr_t p, uint64_t len)
{
	for (uint64_t i = 0; i < len; i += PAGE_SIZE)
		libc_store_slow(&s.lc, p + i, 1, 1);
	libc_store_slow(&s.lc, p + len - 1, 1, 1);
}

static long peek(vaddr_t p, uint64_t off)
{
	return (long)libc_load_slow(&s.lc, p + off, 1);
}

static void body(void *arg)
{
	struct libc *lc = &s.lc;
	vaddr_t a, b, c, d, e, big;

	(void)arg;
	heap = libc_sbrk(lc, 0);

	PTR("p", libc_malloc(lc, 100));
	put_mallinfo("mi1");
	report("stats1", true);
	report("info1", false);

	CALL("mallopt_mmap_threshold", glibc_mallopt(lc, GM_M_MMAP_THRESHOLD, 300000));
	PTR("q", libc_malloc(lc, 200000));
	put_brk("brk_q");
	big = PTR("big", libc_malloc(lc, 400000));
	libc_free(lc, big);
	big = PTR("big2", libc_malloc(lc, 350000));
	libc_free(lc, big);

	CALL("mallopt_top_pad", glibc_mallopt(lc, GM_M_TOP_PAD, 64 * 1024));
	a = PTR("a", libc_malloc(lc, 100000));
	put_brk("brk_a");
	b = PTR("b", libc_malloc(lc, 100000));
	put_brk("brk_b");
	c = PTR("c", libc_malloc(lc, 1000));
	touch(a, 100000);
	touch(b, 100000);

	libc_free(lc, a);
	oracle_put(&out, "trim1.resident_before", resident(a, 100000));
	CALL("trim1", glibc_malloc_trim(lc, 0));
	oracle_put(&out, "trim1.resident_after", resident(a, 100000));
	put_brk("brk_trim1");
	put_mallinfo("mi2");

	CALL("mallopt_trim_threshold", glibc_mallopt(lc, GM_M_TRIM_THRESHOLD, 8192));
	libc_free(lc, c);
	libc_free(lc, b);
	put_brk("brk_free_b");
	report("stats2", true);

	CALL("mallopt_mxfast", glibc_mallopt(lc, GM_M_MXFAST, 0));
	{
		vaddr_t sm[10];

		for (int i = 0; i < 10; i++)
			sm[i] = libc_malloc(lc, 24);
		for (int i = 0; i < 10; i++)
			libc_free(lc, sm[i]);
	}
	put_mallinfo("mi3");

	CALL("mallopt_perturb", glibc_mallopt(lc, GM_M_PERTURB, 0x5a));
	d = PTR("d", libc_malloc(lc, 5000));
	oracle_put(&out, "d_byte", peek(d, 100));
	e = PTR("e", libc_malloc(lc, 5000));
	libc_free(lc, d);
	oracle_put(&out, "d_freed_byte", peek(d, 100));
	libc_free(lc, e);
	CALL("calloc_perturbed", peek(libc_calloc(lc, 1, 3000), 10));

	CALL("mallopt_arena_max", glibc_mallopt(lc, GM_M_ARENA_MAX, 2));
	CALL("mallopt_arena_max0", glibc_mallopt(lc, GM_M_ARENA_MAX, 0));
	CALL("mallopt_arena_test", glibc_mallopt(lc, GM_M_ARENA_TEST, 4));
	CALL("mallopt_mxfast_big", glibc_mallopt(lc, GM_M_MXFAST, 200));
	CALL("mallopt_unknown", glibc_mallopt(lc, 12345, 1));

	oracle_put(&out, "trim2.resident_before", resident(heap, lc->curbrk - heap));
	CALL("trim2", glibc_malloc_trim(lc, 4096));
	oracle_put(&out, "trim2.resident_after", resident(heap, lc->curbrk - heap));
	put_brk("brk_trim2");
	put_mallinfo("mi4");
	report("stats3", true);
	report("info2", false);
}

Test(oracle_knobs, mallopt_trim_stats_info_match_the_real_glibc, .timeout = 60)
{
	struct kernel_opts o;
	char *real = oracle_run("malloc_knobs", NULL);

	oracle_kernel_opts(&o);
	o.phys_bytes = 64ULL << 20;
	cr_assert_eq(kernel_boot(&s.k, &o, stderr), 0);
	s.t = task_create(&s.k, "malloc_knobs");
	cr_assert_not_null(s.t);
	libc_init(&s.lc, &s.k, malloc_policy("glibc"));
	cr_assert_eq(task_run(&s.k, s.t, body, NULL), 0, "died: %s", s.t->death.reason);
	oracle_assert_same("malloc_knobs", out.text, real);
	free(text.s);
	free(real);
	libc_fini(&s.lc);
	kernel_shutdown(&s.k);
}
