/*
 * malloc_knobs.c - the oracle for glibc's knobs and reports in the glibc
 * policy: mallopt (M_MMAP_THRESHOLD, M_TOP_PAD, M_TRIM_THRESHOLD, M_MXFAST,
 * M_PERTURB, M_ARENA_MAX), malloc_trim, malloc_stats, malloc_info and
 * mallinfo2, on one thread, in a real program on this machine's glibc 2.36.
 * It prints "key=value" lines (pointers as offsets from the initial break,
 * minor faults from getrusage, RssAnon changes in pages), then the text of
 * each malloc_stats and malloc_info call, line by line as "stats1.N=LINE",
 * "info1.N=LINE". tests/test_oracle_knobs.c runs the same calls in the
 * simulation and compares every line.
 *
 * No allocation the scenario does not make: stdout gets a buffer in static
 * memory before the first malloc (so malloc_info's FILE never mallocs one),
 * everything else is formatted into static buffers; malloc_stats's stderr
 * is a memfd, read back at the end. THP is off for the process.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "host_config.h"
#include "host_out.h"

static char stdout_buf[1 << 16];
static char *heap; /* the initial break */

/* A pointer: its offset from the initial break, or "mmap+OFF" (its offset
   in its page) outside the heap, or -1 for NULL. */
static void put_ptr(const char *key, void *p)
{
	char *brk = sbrk(0);

	if (p && ((char *)p < heap || (char *)p >= brk))
		host_printf("%s=mmap+%#lx\n",
		                            key, (unsigned long)((uintptr_t)p & 0xfff));
	else
		put(key, p ? (long)((char *)p - heap) : -1);
}

static void put_brk(const char *key)
{
	put(key, (long)((char *)sbrk(0) - heap));
}

static void put_mallinfo(const char *tag)
{
	struct mallinfo2 m = mallinfo2();
	char key[64];

#define F(f)                                                                                       \
	snprintf(key, sizeof(key), "%s.%s", tag, #f);                                              \
	put(key, (long)m.f)
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

/* Write a byte into every page of [p, p + len), the first at p: stores the
   compiler cannot drop before a free. */
static void touch(void *p, size_t len)
{
	volatile char *c = p;

	for (size_t i = 0; i < len; i += 4096)
		c[i] = 1;
	c[len - 1] = 1;
}

/* A byte of memory the program owns or freed (the compiler may not assume). */
static long __attribute__((noinline)) peek(void *p, long off)
{
	return ((volatile unsigned char *)p)[off];
}

static void info(const char *tag)
{
	size_t before = strlen(stdout_buf);

	malloc_info(0, stdout);
	/* the buffer is static and large: nothing was flushed */
	put_lines(tag, stdout_buf + before, strlen(stdout_buf) - before);
}

/* Minor faults and the result of one call. */
#define CALL(key, expr)                                                                            \
	do {                                                                                       \
		long f0_ = host_minflt();                                                          \
		long r_ = (long)(expr);                                                            \
		long f1_ = host_minflt();                                                          \
		char k_[64];                                                                       \
		put(key, r_);                                                                      \
		snprintf(k_, sizeof(k_), "%s.faults", key);                                        \
		put(k_, f1_ - f0_);                                                                \
	} while (0)

#define PTR(key, expr)                                                                             \
	do {                                                                                       \
		long f0_ = host_minflt();                                                          \
		void *p_ = (expr);                                                                 \
		long f1_ = host_minflt();                                                          \
		char k_[64];                                                                       \
		put_ptr(key, p_);                                                                  \
		snprintf(k_, sizeof(k_), "%s.faults", key);                                        \
		put(k_, f1_ - f0_);                                                                \
		last = p_;                                                                         \
	} while (0)

int main(void)
{
	void *last = NULL, *a, *b, *c, *d, *e;

	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	host_thp_off();
	host_prefault();
	if (host_stats_open() < 0)
		return 1;
	heap = sbrk(0);

	/* the heap starts */
	PTR("p", malloc(100));
	put_mallinfo("mi1");
	stats("stats1");
	info("info1");

	/* M_MMAP_THRESHOLD: 200000 bytes now come from the heap */
	CALL("mallopt_mmap_threshold", mallopt(M_MMAP_THRESHOLD, 300000));
	PTR("q", malloc(200000));
	put_brk("brk_q");
	/* and freeing an mmapped chunk no longer raises it */
	PTR("big", malloc(400000));
	free(last);
	PTR("big2", malloc(350000));
	free(last);

	/* M_TOP_PAD: the next growth keeps 64 KiB spare, not 128 */
	CALL("mallopt_top_pad", mallopt(M_TOP_PAD, 64 * 1024));
	PTR("a", malloc(100000));
	a = last;
	put_brk("brk_a");
	PTR("b", malloc(100000));
	b = last;
	put_brk("brk_b");
	PTR("c", malloc(1000));
	c = last;
	touch(a, 100000);
	touch(b, 100000);

	/* malloc_trim: the pages inside free chunk a go back, the break stays */
	{
		volatile uintptr_t addr = (uintptr_t)a; /* a's pages after free */

		free(a);
		put("trim1.resident_before", host_resident((void *)addr, 100000));
		CALL("trim1", malloc_trim(0));
		put("trim1.resident_after", host_resident((void *)addr, 100000));
	}
	put_brk("brk_trim1");
	put_mallinfo("mi2");

	/* M_TRIM_THRESHOLD: a free next to top gives back beyond 8 KiB now */
	CALL("mallopt_trim_threshold", mallopt(M_TRIM_THRESHOLD, 8192));
	free(c);
	free(b);
	put_brk("brk_free_b");
	stats("stats2");

	/* M_MXFAST 0: small chunks skip the fastbins (tcache full first) */
	CALL("mallopt_mxfast", mallopt(M_MXFAST, 0));
	{
		void *s[10];

		for (int i = 0; i < 10; i++)
			s[i] = malloc(24);
		for (int i = 0; i < 10; i++)
			free(s[i]);
	}
	put_mallinfo("mi3");

	/* M_PERTURB: fresh blocks read perturb ^ 0xff, freed ones perturb */
	CALL("mallopt_perturb", mallopt(M_PERTURB, 0x5a));
	PTR("d", malloc(5000));
	d = last;
	put("d_byte", peek(d, 100));
	PTR("e", malloc(5000));
	e = last;
	{
		volatile uintptr_t addr = (uintptr_t)d; /* read after free, on purpose */

		free(d);
		put("d_freed_byte", peek((void *)addr, 100));
	}
	free(e);
	CALL("calloc_perturbed", peek(calloc(1, 3000), 10));

	/* M_ARENA_MAX and M_ARENA_TEST take positive values only */
	CALL("mallopt_arena_max", mallopt(M_ARENA_MAX, 2));
	CALL("mallopt_arena_max0", mallopt(M_ARENA_MAX, 0));
	CALL("mallopt_arena_test", mallopt(M_ARENA_TEST, 4));
	CALL("mallopt_mxfast_big", mallopt(M_MXFAST, 200));
	CALL("mallopt_unknown", mallopt(12345, 1));

	/* malloc_trim with a pad, and the reports at the end */
	put("trim2.resident_before", host_resident(heap, (size_t)((char *)sbrk(0) - heap)));
	CALL("trim2", malloc_trim(4096));
	put("trim2.resident_after", host_resident(heap, (size_t)((char *)sbrk(0) - heap)));
	put_brk("brk_trim2");
	put_mallinfo("mi4");
	stats("stats3");
	info("info2");

	/* only these lines: stdout's buffer (malloc_info's text) is never flushed */
	_exit(host_out_write());
}
