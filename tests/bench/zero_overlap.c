/*
 * zero_overlap.c - does other work cost time when it runs beside a page's
 * zeroing? (docs/performance.md, "clear_page in parts"; `make bench-zero`)
 *
 * Zeroes the pages of a 4 MiB host buffer (the working set of bench_fault's
 * frames) with the loop clear_page uses (phys.c: 16 aligned vector stores a
 * turn, AVX2 when the host has it), and puts a block of 240 independent
 * additions (about 60 cycles of work that needs no memory) before the page,
 * after it, or spread between its parts. Prints the median ns a page of each
 * placement over 21 rounds, the placements taken in turn. On the machine of
 * docs/performance.md the work costs its own time before or after the page,
 * and next to nothing between four parts of it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

#define PAGES 1024
#define PAGE 4096
#define ROUNDS 21

#if defined(__x86_64__)
#include <immintrin.h>

#include "vm/zero_loop.h"

__attribute__((target("avx2"), noinline)) static void zero_avx2(uint8_t *p, unsigned n)
{
	ZERO_WITH(__m256i, p, n);
}

__attribute__((noinline)) static void zero_sse2(uint8_t *p, unsigned n)
{
	ZERO_WITH(__m128i, p, n);
}

static void (*zero)(uint8_t *p, unsigned n);

/* 15 additions on four registers, none waiting for memory. */
#define ADD15                                                                                      \
	"add $1,%0\n\tadd $1,%1\n\tadd $1,%2\n\tadd $1,%3\n\tadd $1,%0\n\tadd $1,%1\n\t"         \
	"add $1,%2\n\tadd $1,%3\n\tadd $1,%0\n\tadd $1,%1\n\tadd $1,%2\n\tadd $1,%3\n\t"         \
	"add $1,%0\n\tadd $1,%1\n\tadd $1,%2\n\t"

static uint64_t r0, r1, r2, r3;

/* n blocks of 15 additions */
static void work(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		__asm__ volatile(ADD15 : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3));
}

enum { ALONE, BEFORE, AFTER, HALVES, QUARTERS, NPLACES };
static const char *const place_name[NPLACES] = {
    "the page alone", "240 additions before it", "240 additions after it",
    "in 2 parts, 240 additions between", "in 4 parts, 60 additions after each"};

static void one_page(uint8_t *p, int place)
{
	switch (place) {
	case ALONE: zero(p, PAGE); break;
	case BEFORE: work(16); zero(p, PAGE); break;
	case AFTER: zero(p, PAGE); work(16); break;
	case HALVES:
		zero(p, PAGE / 2);
		work(16);
		zero(p + PAGE / 2, PAGE / 2);
		break;
	case QUARTERS:
		for (unsigned q = 0; q < 4; q++) {
			zero(p + q * (PAGE / 4), PAGE / 4);
			work(4);
		}
		break;
	}
}

int main(void)
{
	size_t len = (size_t)PAGES * PAGE;
	uint8_t *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double ns[NPLACES][ROUNDS];

	if (buf == MAP_FAILED) {
		perror("zero_overlap: mmap");
		return 2;
	}
	zero = __builtin_cpu_supports("avx2") ? zero_avx2 : zero_sse2;
	memset(buf, 1, len);
	for (int r = 0; r < ROUNDS; r++)
		for (int place = 0; place < NPLACES; place++)
			for (int timed = 0; timed < 2; timed++) { /* one untimed round first */
				double t0 = bench_now();

				for (unsigned i = 0; i < PAGES; i++)
					one_page(buf + (size_t)i * PAGE, place);
				if (timed)
					ns[place][r] = (bench_now() - t0) * 1e9 / PAGES;
			}
	printf("zeroing a 4 KiB page (%s stores), median of %d rounds of %d pages:\n",
	       zero == zero_avx2 ? "AVX2" : "SSE2", ROUNDS, PAGES);
	for (int place = 0; place < NPLACES; place++)
		if (printf("  %-38s %6.1f ns\n", place_name[place], bench_median(ns[place], ROUNDS)) <
		    0)
			return 2;
	munmap(buf, len);
	return fflush(stdout) ? 2 : 0;
}
#else
int main(void)
{
	puts("zero_overlap: x86-64 only");
	return 0;
}
#endif
