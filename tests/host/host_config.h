/*
 * host_config.h - what a fidelity test must know about the machine it runs
 * on, probed at run time, never assumed (DESIGN.md, Fidelity; a kernel may
 * boot with the shared zero page disabled, THP and overcommit are settings).
 * Header-only, for the host programs of tests/host/: they link nothing of
 * the project.
 *
 * host_config_print writes one key=value line each:
 *   host_page_size=4096     sysconf(_SC_PAGESIZE)
 *   host_zero_page=1        a read of a fresh anonymous page maps the shared
 *                           zero page: a read then a write take two minor
 *                           faults (1), or one when the read took a frame (0)
 *   host_thp=madvise        /sys/kernel/mm/transparent_hugepage/enabled
 *   host_overcommit=0       /proc/sys/vm/overcommit_memory
 *   host_aslr=2             /proc/sys/kernel/randomize_va_space
 * A value that cannot be read is -1 (or "unknown").
 *
 * host_thp_off: the simulation models no transparent huge pages, so a probe
 * that counts faults turns THP off for itself (prctl PR_SET_THP_DISABLE):
 * its counts then do not depend on the host's THP mode.
 */
#ifndef TESTS_HOST_HOST_CONFIG_H
#define TESTS_HOST_HOST_CONFIG_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

/*
 * getrusage into ru, a struct on the stack written first: after a fork the
 * stack's pages are copy-on-write, and a first write to ru's page by the
 * kernel's copy-out would be a fault taken after the counter was read,
 * charged to whatever the caller measures next (seen: one fault in three
 * runs of fork_thread's malloc after the fork, on a busy host).
 */
static inline long host_rusage_minflt(int who)
{
	struct rusage ru;

	((volatile char *)&ru)[0] = 0;
	((volatile char *)&ru)[sizeof(ru) - 1] = 0;
	getrusage(who, &ru);
	return ru.ru_minflt;
}

static inline long host_minflt(void)
{
	return host_rusage_minflt(RUSAGE_SELF);
}

/* Minor faults of the calling thread alone (RUSAGE_THREAD). */
static inline long host_thread_minflt(void)
{
	return host_rusage_minflt(RUSAGE_THREAD);
}

/* 1 with the zero page, 0 without, -1 when the counts fit neither. */
static int __attribute__((noinline, unused)) host_probe_zero_page(void)
{
	volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	                        -1, 0);
	long f0, f1, f2;
	char c;

	if (p == MAP_FAILED)
		return -1;
	host_minflt(); /* fault in getrusage's own path first */
	f0 = host_minflt();
	c = p[0];
	f1 = host_minflt();
	p[0] = (char)(c + 1);
	f2 = host_minflt();
	munmap((void *)p, 4096);
	if (f1 - f0 == 1 && f2 - f1 == 1)
		return 1;
	if (f1 - f0 == 1 && f2 - f1 == 0)
		return 0;
	return -1;
}

/* The first line of path into buf (no newline); "" when it cannot be read. */
static inline void host_read_line(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	ssize_t r = fd < 0 ? -1 : read(fd, buf, n - 1);

	if (fd >= 0)
		close(fd);
	buf[r > 0 ? r : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* The bracketed word of a sysfs choice ("always [madvise] never"). */
static inline void host_thp_mode(char *mode, size_t n)
{
	char line[256], *a, *b;

	host_read_line("/sys/kernel/mm/transparent_hugepage/enabled", line, sizeof(line));
	a = strchr(line, '[');
	b = a ? strchr(a, ']') : NULL;
	if (!a || !b || (size_t)(b - a - 1) >= n) {
		snprintf(mode, n, "unknown");
		return;
	}
	*b = '\0';
	snprintf(mode, n, "%s", a + 1);
}

static inline long host_read_long(const char *path)
{
	char line[64], *end;
	long v;

	host_read_line(path, line, sizeof(line));
	v = strtol(line, &end, 10);
	return end == line ? -1 : v;
}

/* The number after "key:" in a /proc file of such lines (/proc/meminfo,
   /proc/self/status: kB), or -1. Reads with no allocation. */
static inline long host_proc_field(const char *path, const char *key)
{
	char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	size_t kl = strlen(key);
	char *p;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ':')
			return strtol(p + kl + 1, NULL, 10);
	return -1;
}

/* A field of /proc/self/status: kB (VmSize, RssAnon) or a count (Threads). */
static inline long host_status(const char *field)
{
	return host_proc_field("/proc/self/status", field);
}

/* Resident pages of [p, p + len) (mincore), or -1 (more than 64 Ki pages,
   or an unmapped page in the range). */
static inline long host_resident(const void *p, size_t len)
{
	static unsigned char vec[1 << 16];
	uintptr_t a = (uintptr_t)p & ~4095UL;
	size_t n = ((uintptr_t)p + len - a + 4095) / 4096;
	long r = 0;

	if (n > sizeof(vec) || mincore((void *)a, n * 4096, vec) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		r += vec[i] & 1;
	return r;
}

/* Append the host_* lines to buf (at *len, capacity cap), as snprintf does. */
static inline void host_config_print(char *buf, size_t *len, size_t cap)
{
	char thp[32];

	host_thp_mode(thp, sizeof(thp));
	*len += (size_t)snprintf(buf + *len, cap - *len,
	                         "host_page_size=%ld\nhost_zero_page=%d\nhost_thp=%s\n"
	                         "host_overcommit=%ld\nhost_aslr=%ld\n",
	                         sysconf(_SC_PAGESIZE), host_probe_zero_page(), thp,
	                         host_read_long("/proc/sys/vm/overcommit_memory"),
	                         host_read_long("/proc/sys/kernel/randomize_va_space"));
}

static inline void host_thp_off(void)
{
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
}

/* ORACLES.md's prefault: code, data and libraries present (mlockall then
   munlockall), and 128 KiB of stack below the caller touched, so that a
   fault count between two host_minflt() calls is the measured code's. */
static void __attribute__((noinline, unused)) host_prefault(void)
{
	volatile char buf[128 * 1024];

	if (mlockall(MCL_CURRENT) == 0)
		munlockall();
	for (size_t i = 0; i < sizeof(buf); i += 512)
		buf[i] = 0;
}

#endif
