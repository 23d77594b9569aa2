/*
 * host_out.h - the output of a host program of tests/host/: key=value lines
 * gathered in a static buffer while the program measures (printing as it
 * goes would allocate stdio's buffer and take faults inside the figures)
 * and written to stdout at the end, one write. Header-only, as
 * host_config.h: the host programs link nothing of the project.
 *
 * The simulated side writes the same lines through tests/support_oracle.h
 * (oracle_put, oracle_put_lines), and the test compares the two.
 */
#ifndef TESTS_HOST_HOST_OUT_H
#define TESTS_HOST_HOST_OUT_H

#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef HOST_OUT_SIZE
#define HOST_OUT_SIZE (1 << 16)
#endif

static char host_out[HOST_OUT_SIZE];
static size_t host_out_len;
static bool host_out_full;

/* Append printf's output; what does not fit marks the output as failed. */
static inline __attribute__((format(printf, 1, 2))) void host_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(host_out + host_out_len, sizeof(host_out) - host_out_len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(host_out) - host_out_len)
		host_out_full = true;
	else
		host_out_len += (size_t)n;
}

/* "key=val\n" */
static inline void put(const char *key, long val)
{
	host_printf("%s=%ld\n", key, val);
}

/* Each line of text (len bytes) as "tag.N=LINE", N from 1. */
static inline void put_lines(const char *tag, const char *text, size_t len)
{
	size_t i = 0;

	for (int n = 1; i < len; n++) {
		size_t e = i;

		while (e < len && text[e] != '\n')
			e++;
		host_printf("%s.%d=%.*s\n", tag, n, (int)(e - i), text + i);
		i = e + 1;
	}
}

/*
 * malloc_stats writes to fd 2: host_stats_open points fd 2 at a memfd
 * (0, or -1 on failure), and stats(tag) puts what one malloc_stats() call
 * wrote there as tag.N lines.
 */
static int host_stats_fd = -1;

static inline int host_stats_open(void)
{
	host_stats_fd = memfd_create("stats", 0);
	return host_stats_fd < 0 || dup2(host_stats_fd, 2) < 0 ? -1 : 0;
}

static inline void stats(const char *tag)
{
	static char text[16384];
	ssize_t n;

	if (ftruncate(host_stats_fd, 0) != 0)
		return;
	lseek(host_stats_fd, 0, SEEK_SET);
	malloc_stats();
	lseek(host_stats_fd, 0, SEEK_SET);
	n = read(host_stats_fd, text, sizeof(text));
	put_lines(tag, text, n > 0 ? (size_t)n : 0);
}

/* glibc's HEAP_MAX_SIZE on 64-bit: a non-main arena's heaps are aligned to it. */
#define HOST_HEAP_MAX (64UL << 20)

/* A pointer malloc gave: "key=OFF", its offset from heap (the initial
   break) when it is in the main heap, else "key=heap+OFF", its offset in
   its 64 MiB-aligned arena heap. */
static inline void host_put_ptr(const char *key, const void *p, const char *heap)
{
	const char *brk = sbrk(0);

	if ((const char *)p >= heap && (const char *)p < brk)
		put(key, (long)((const char *)p - heap));
	else
		host_printf("%s=heap+%#lx\n", key,
		            (unsigned long)((uintptr_t)p & (HOST_HEAP_MAX - 1)));
}

/* /proc/self/maps, whole, in a static buffer (no allocation). */
static inline char *host_read_maps(void)
{
	static char buf[1 << 16];
	int fd = open("/proc/self/maps", O_RDONLY);
	long n = 0, r;

	while (fd >= 0 && (r = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	if (fd >= 0)
		close(fd);
	buf[n] = 0;
	return buf;
}

/* The maps lines that overlap [lo, hi) as "key.N=size perms", in order,
   then "key=N". */
static inline void host_put_maps(const char *key, uintptr_t lo, uintptr_t hi)
{
	int i = 0;

	for (char *s = host_read_maps(); *s;) {
		unsigned long a, b;
		char perms[8];
		char *nl = strchr(s, '\n');

		if (sscanf(s, "%lx-%lx %7s", &a, &b, perms) == 3 && a < hi && b > lo)
			host_printf("%s.%d=%#lx %s\n", key, ++i, b - a, perms);
		if (!nl)
			break;
		s = nl + 1;
	}
	put(key, i);
}

/* mallinfo2's arena, uordblks, fordblks and ordblks as tag.NAME lines. */
static inline void host_put_mallinfo(const char *tag)
{
	struct mallinfo2 m = mallinfo2();

	host_printf("%s.arena=%ld\n%s.uordblks=%ld\n%s.fordblks=%ld\n%s.ordblks=%ld\n", tag,
	            (long)m.arena, tag, (long)m.uordblks, tag, (long)m.fordblks, tag,
	            (long)m.ordblks);
}

/* Write the lines to stdout: the program's exit status (0, or 1 when the
   output did not fit or could not be written). */
static inline int host_out_write(void)
{
	return !host_out_full && write(1, host_out, host_out_len) == (ssize_t)host_out_len ? 0 : 1;
}

#endif
