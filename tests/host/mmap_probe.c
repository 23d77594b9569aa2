/*
 * mmap_probe.c - the oracle for the simulated anonymous mmap/munmap: a real
 * program on this machine's kernel prints "key=value" lines, addresses as
 * offsets from the first mapping A, VMA counts read from /proc/self/maps
 * (the lines that overlap the probe's 32-page window below A's end) and
 * minor faults from getrusage. tests/test_oracle_kernel.c runs the same
 * sequence through the simulated kernel and compares every line.
 * No malloc before the end (output in a static buffer); code, stack and
 * static data are faulted in before any measurement.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "tests/host/host_config.h"

#define PG   4096L
#define RW   (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static char out[8192];
static size_t out_len;
static char maps[1 << 16];
static struct rusage ru;
static volatile char sink;
static char *a;

static void put(const char *key, long val)
{
	out_len += (size_t)snprintf(out + out_len, sizeof(out) - out_len, "%s=%ld\n", key, val);
}

static long minflt(void)
{
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static long __attribute__((noinline)) touch(char *p, long n, int write)
{
	long before = minflt();

	for (long i = 0; i < n; i++) {
		if (write)
			p[i * PG] = 1;
		else
			sink = p[i * PG];
	}
	return minflt() - before;
}

/* VMAs overlapping [lo, hi) in /proc/self/maps, and their pages inside it. */
static void window(const char *key, char *lo, char *hi)
{
	uintptr_t s, e, L = (uintptr_t)lo, H = (uintptr_t)hi;
	char k[64];
	long lines = 0, pages = 0;
	ssize_t n, len = 0;
	char *line;
	int fd = open("/proc/self/maps", O_RDONLY);

	while (fd >= 0 && (n = read(fd, maps + len, sizeof(maps) - 1 - (size_t)len)) > 0)
		len += n;
	if (fd >= 0)
		close(fd);
	maps[len] = '\0';
	for (line = maps; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (sscanf(line, "%lx-%lx", &s, &e) != 2 || e <= L || s >= H)
			continue;
		lines++;
		pages += (long)(((e < H ? e : H) - (s > L ? s : L)) / PG);
	}
	snprintf(k, sizeof(k), "%s_vmas", key);
	put(k, lines);
	snprintf(k, sizeof(k), "%s_pages", key);
	put(k, pages);
}

int main(void)
{
	char *b, *c, *lo, *hi;
	long r;

	host_thp_off();
	touch(NULL, 0, 0);
	window("warmup", NULL, NULL);
	out_len = 0;

	a = mmap(NULL, 16 * PG, RW, ANON, -1, 0);
	b = mmap(NULL, 16 * PG, RW, ANON, -1, 0);
	lo = b;
	hi = a + 16 * PG;
	put("b_off", b - a); /* top-down: right below a */
	window("two_maps", lo, hi);
	put("touch32_faults", touch(b, 32, 1));

	/* munmap in the middle, at the head, at the tail */
	put("munmap_middle_ret", munmap(a + 4 * PG, 4 * PG));
	window("after_middle", lo, hi);
	put("munmap_head_ret", munmap(b, 2 * PG));
	window("after_head", lo, hi);
	put("munmap_tail_ret", munmap(a + 14 * PG, 2 * PG));
	window("after_tail", lo, hi);
	put("retouch_faults", touch(b + 2 * PG, 18, 1));

	/* argument checks */
	errno = 0;
	r = munmap(a + 1, PG);
	put("munmap_unaligned_ret", r);
	put("munmap_unaligned_errno", errno);
	errno = 0;
	r = munmap(a, 0);
	put("munmap_len0_ret", r);
	put("munmap_len0_errno", errno);
	put("munmap_nothing_ret", munmap(a + 4 * PG, 4 * PG));
	errno = 0;
	put("mmap_len0_failed", mmap(NULL, 0, RW, ANON, -1, 0) == MAP_FAILED);
	put("mmap_len0_errno", errno);
	errno = 0;
	put("mmap_huge_failed", mmap(NULL, 1UL << 62, RW, ANON, -1, 0) == MAP_FAILED);
	put("mmap_huge_errno", errno);
	errno = 0;
	put("mmap_overflow_failed", mmap(NULL, (size_t)-PG + 1, RW, ANON, -1, 0) == MAP_FAILED);
	put("mmap_overflow_errno", errno);

	/* MAP_FIXED into the hole: the pieces merge again */
	c = mmap(a + 4 * PG, 4 * PG, RW, ANON | MAP_FIXED, -1, 0);
	put("fixed_off", c - a);
	window("after_fixed", lo, hi);
	put("fixed_read_faults", touch(c, 4, 0));
	put("fixed_read_then_write_faults", touch(c, 4, 1));
	/* MAP_FIXED over mapped pages replaces them: fresh zeroed pages, faults again */
	c = mmap(a, 2 * PG, RW, ANON | MAP_FIXED, -1, 0);
	put("fixed_over_off", c - a);
	window("after_fixed_over", lo, hi);
	put("fixed_over_read_faults", touch(a, 2, 0));
	put("fixed_over_value", a[0] + a[PG]);

	/* A hint at free pages is taken as it is. Read-only right below the
	   writable pages: not merged with them. */
	c = mmap(b - 2 * PG, 4 * PG, PROT_READ, ANON, -1, 0);
	put("ro_hint_off", c - a);
	window("with_ro", c, hi);
	/* a hint overlapping a mapping is not taken: top-down instead, elsewhere */
	put("hint_taken_overlapping", mmap(a, PG, RW, ANON, -1, 0) == a);

	if (write(1, out, out_len) != (ssize_t)out_len)
		return 1;
	return 0;
}
