/*
 * vmops_probe.c - the oracle for the simulated mprotect, madvise, mremap,
 * the 2 MiB placement of large anonymous mmaps and RLIMIT_DATA's soft limit
 * of 0: a real program on this machine's kernel prints "key=value" lines
 * (results as offsets from the first mapping A or as errno values, VMA
 * counts and pages of a window read from /proc/self/maps, minor faults
 * from getrusage, RssAnon changes in pages, bytes read back, the si_code
 * of a SIGSEGV). tests/test_oracle_vmops.c makes the same calls through
 * the simulated kernel and compares every line. No malloc (output in a
 * static buffer); code, stack and data are faulted in first; THP is off
 * for this process (the simulation models no huge pages; the placement of
 * a large mapping does not depend on it).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "host_config.h"

#define PG   4096L
#define MB   (1L << 20)
#define RW   (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static char out[16384];
static size_t out_len;
static char maps[1 << 16];
static volatile char sink;

static void put(const char *key, long val)
{
	out_len += (size_t)snprintf(out + out_len, sizeof(out) - out_len, "%s=%ld\n", key, val);
}

/* Result of a call returning 0/-1: the value, or -errno. */
static void put_ret(const char *key, long r)
{
	put(key, r < 0 ? -errno : r);
}

static long __attribute__((noinline)) touch(char *p, long n, int write, long *sum)
{
	long before = host_minflt();

	for (long i = 0; i < n; i++) {
		if (write)
			p[i * PG] = (char)(i + 1);
		else if (sum)
			*sum += p[i * PG];
		else
			sink = p[i * PG];
	}
	return host_minflt() - before;
}

/* RssAnon of /proc/self/status, in pages. */
static long rss_anon(void)
{
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, maps, sizeof(maps) - 1) : -1;
	char *p;

	if (fd >= 0)
		close(fd);
	maps[n > 0 ? n : 0] = '\0';
	p = strstr(maps, "RssAnon:");
	return p ? strtol(p + 8, NULL, 10) / 4 : -1;
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

/*
 * The simulated process has no shared libraries: its mmap area is empty
 * below mmap_base. Here the loader's and libc's mappings leave gaps between
 * them (alignment), which a top-down search would fill first. Plug every
 * gap between two mappings of the mmap area (above the heap, below the
 * stack) with PROT_NONE, so that new mappings go below all of them as in
 * the simulation.
 */
static void plug_gaps(void)
{
	uintptr_t s, e, prev_end = 0, floor = (uintptr_t)sbrk(0) + (1UL << 30);
	ssize_t n, len = 0;
	char *line;
	int fd = open("/proc/self/maps", O_RDONLY);

	while (fd >= 0 && (n = read(fd, maps + len, sizeof(maps) - 1 - (size_t)len)) > 0)
		len += n;
	if (fd >= 0)
		close(fd);
	maps[len] = '\0';
	for (line = maps; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (sscanf(line, "%lx-%lx", &s, &e) != 2 || s < floor)
			continue;
		if (strstr(line, "[stack]") && strchr(line, '\n') > strstr(line, "[stack]"))
			break;
		if (prev_end && s > prev_end)
			mmap((void *)prev_end, s - prev_end, PROT_NONE,
			     ANON | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);
		prev_end = e;
	}
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	_exit(100 + si->si_code);
}

/* Touch one byte at p (write or read) in a child; 100 + si_code if it got
   SIGSEGV, 0 if the access went through. */
static long child_touch(char *p, int write)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO};

		sigaction(SIGSEGV, &sa, NULL);
		if (write)
			*p = 1;
		else
			sink = *p;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int main(void)
{
	char *a, *b, *c, *d, *m, *n;
	long r, sum, rss0;
	struct rlimit rl;

	host_thp_off();
	plug_gaps();
	touch(NULL, 0, 0, NULL);
	window("warmup", NULL, NULL);
	rss_anon();
	out_len = 0;

	/* ---- mprotect ---- */
	a = mmap(NULL, 16 * PG, RW, ANON, -1, 0);
	put("a_touch_faults", touch(a, 16, 1, NULL));
	rss0 = rss_anon();
	put_ret("mprotect_ro_ret", mprotect(a + 4 * PG, 4 * PG, PROT_READ));
	window("ro_middle", a, a + 16 * PG);
	sum = 0;
	put("ro_read_faults", touch(a + 4 * PG, 4, 0, &sum));
	put("ro_read_sum", sum);
	put_ret("mprotect_rw_ret", mprotect(a + 4 * PG, 4 * PG, RW));
	window("rw_again", a, a + 16 * PG);
	put("rw_write_faults", touch(a + 4 * PG, 4, 1, NULL));
	put_ret("mprotect_none_ret", mprotect(a + 8 * PG, 8 * PG, PROT_NONE));
	window("none_tail", a, a + 16 * PG);
	put("none_rss_change", rss_anon() - rss0);
	put_ret("mprotect_head_ro_ret", mprotect(a, 2 * PG, PROT_READ));
	window("head_ro", a, a + 16 * PG);
	put_ret("mprotect_back_ret", mprotect(a, 16 * PG, RW));
	window("all_rw", a, a + 16 * PG);
	sum = 0;
	put("back_read_faults", touch(a, 16, 0, &sum));
	put("back_read_sum", sum);
	put("back_write_faults", touch(a, 16, 1, NULL));
	errno = 0;
	put_ret("mprotect_unaligned", mprotect(a + 1, PG, PROT_READ));
	put_ret("mprotect_len0", mprotect(a, 0, PROT_READ));
	put_ret("mprotect_badprot", mprotect(a, PG, 0x10));
	put_ret("mprotect_overflow", mprotect(a, (size_t)-PG, PROT_READ));
	b = mmap(NULL, 4 * PG, RW, ANON, -1, 0); /* right below a */
	put("b_off", b - a);
	put_ret("mprotect_munmap_hole", munmap(b + 2 * PG, 2 * PG));
	put_ret("mprotect_across_hole", mprotect(b, 6 * PG, PROT_READ));
	window("across_hole", b, a + 16 * PG);
	put_ret("mprotect_unmapped", mprotect(b + 2 * PG, PG, PROT_READ));
	c = mmap(NULL, 4 * PG, PROT_READ, ANON, -1, 0);
	put_ret("mprotect_fresh_rw", mprotect(c, 4 * PG, RW));
	put("fresh_write_faults", touch(c, 4, 1, NULL));

	/* ---- madvise ---- */
	d = mmap(NULL, 16 * PG, RW, ANON, -1, 0);
	put("d_touch_faults", touch(d, 16, 1, NULL));
	rss0 = rss_anon();
	put_ret("dontneed_ret", madvise(d, 8 * PG, MADV_DONTNEED));
	put("dontneed_rss_change", rss_anon() - rss0);
	window("dontneed", d, d + 16 * PG);
	sum = 0;
	put("dontneed_read_faults", touch(d, 8, 0, &sum));
	put("dontneed_read_sum", sum);
	put("dontneed_write_faults", touch(d, 8, 1, NULL));
	rss0 = rss_anon();
	put_ret("free_ret", madvise(d + 8 * PG, 8 * PG, MADV_FREE));
	put("free_rss_change", rss_anon() - rss0);
	sum = 0;
	put("free_read_faults", touch(d + 8 * PG, 8, 0, &sum));
	put("free_read_sum", sum);
	put("free_write_faults", touch(d + 8 * PG, 8, 1, NULL));
	put_ret("madvise_unaligned", madvise(d + 1, PG, MADV_DONTNEED));
	put_ret("madvise_len0", madvise(d, 0, MADV_DONTNEED));
	put_ret("madvise_bad_behavior", madvise(d, PG, 12345));
	put_ret("madvise_overflow", madvise(d, (size_t)-2 * PG, MADV_DONTNEED));
	put_ret("madvise_munmap_hole", munmap(d + 4 * PG, 4 * PG));
	rss0 = rss_anon();
	put_ret("madvise_across_hole", madvise(d, 16 * PG, MADV_DONTNEED));
	put("across_hole_rss_change", rss_anon() - rss0);
	put_ret("madvise_unmapped", madvise(d + 4 * PG, PG, MADV_DONTNEED));
	put_ret("madvise_willneed", madvise(d, 4 * PG, MADV_WILLNEED));
	put_ret("madvise_normal", madvise(d, 4 * PG, MADV_NORMAL));

	/* ---- mremap ---- */
	m = mmap(NULL, 4 * PG, RW, ANON, -1, 0);
	put("m_touch_faults", touch(m, 4, 1, NULL));
	rss0 = rss_anon();
	n = mremap(m, 4 * PG, 8 * PG, 0);
	put("grow_nomove_ret", n == MAP_FAILED ? -errno : n - m);
	n = mremap(m, 4 * PG, 8 * PG, MREMAP_MAYMOVE);
	put("grow_move_off", n == MAP_FAILED ? -errno : n - m);
	put("grow_move_rss_change", rss_anon() - rss0);
	window("moved", n, m + 4 * PG);
	sum = 0;
	put("moved_read_faults", touch(n, 4, 0, &sum));
	put("moved_read_sum", sum);
	put("moved_tail_write_faults", touch(n + 4 * PG, 4, 1, NULL));
	put_ret("hole_above_ret", munmap(n + 4 * PG, 4 * PG));
	r = (long)mremap(n, 4 * PG, 6 * PG, 0);
	put("grow_in_place_ret", r == -1 ? -errno : (char *)r - n);
	window("in_place", n, n + 8 * PG);
	put("in_place_tail_write_faults", touch(n + 4 * PG, 2, 1, NULL));
	r = (long)mremap(n, 6 * PG, 2 * PG, 0);
	put("shrink_ret", r == -1 ? -errno : (char *)r - n);
	window("shrunk", n, n + 8 * PG);
	put("shrunk_rss_change", rss_anon() - rss0);
	r = (long)mremap(n + 1, PG, 2 * PG, MREMAP_MAYMOVE);
	put("mremap_unaligned", r == -1 ? -errno : r);
	r = (long)mremap(n, PG, 0, MREMAP_MAYMOVE);
	put("mremap_newlen0", r == -1 ? -errno : r);
	r = (long)mremap(n + 4 * PG, PG, 2 * PG, MREMAP_MAYMOVE);
	put("mremap_unmapped", r == -1 ? -errno : r);
	r = (long)mremap(n, 4 * PG, 8 * PG, MREMAP_MAYMOVE);
	put("mremap_past_vma", r == -1 ? -errno : r);
	r = (long)mremap(n + 4 * PG, 2 * PG, PG, 0);
	put("mremap_shrink_unmapped", r == -1 ? -errno : r);
	r = (long)mremap(n, 2 * PG, 2 * PG, MREMAP_FIXED, a);
	put("mremap_fixed_nomove", r == -1 ? -errno : r);
	r = (long)mremap(n, 2 * PG, 2 * PG, MREMAP_FIXED | MREMAP_MAYMOVE, n + PG);
	put("mremap_fixed_overlap", r == -1 ? -errno : r);
	r = (long)mremap(n, 2 * PG, 2 * PG, 8);
	put("mremap_bad_flags", r == -1 ? -errno : r);
	r = (long)mremap(n, 2 * PG, 3 * PG, MREMAP_FIXED | MREMAP_MAYMOVE, b + 2 * PG);
	put("mremap_fixed_off", r == -1 ? -errno : (char *)r - b);
	window("fixed", b, a);
	sum = 0;
	put("fixed_read_faults", touch(b + 2 * PG, 2, 0, &sum));
	put("fixed_read_sum", sum);

	/* ---- 2 MiB placement of large anonymous mappings ---- */
	c = mmap(NULL, 16 * MB, RW, ANON, -1, 0);
	put("map16m_mod2m", (long)((uintptr_t)c % (2 * MB)));
	d = mmap(NULL, 16 * MB + PG, RW, ANON, -1, 0);
	put("map16m_plus_page_mod2m", (long)((uintptr_t)d % (2 * MB)) != 0);
	put("map16m_plus_page_below", d + 16 * MB + PG <= c);
	n = mmap(NULL, 2 * MB, RW, ANON, -1, 0);
	put("map2m_mod2m", (long)((uintptr_t)n % (2 * MB)));
	put("map2m_touch_faults", touch(c, 512, 1, NULL));
	n = mremap(c, 16 * MB, 32 * MB, MREMAP_MAYMOVE);
	put("remap32m_mod2m", n == MAP_FAILED ? -errno : (long)((uintptr_t)n % (2 * MB)));
	sum = 0;
	put("remap32m_read_faults", touch(n, 512, 0, &sum));
	put("remap32m_read_sum", sum);
	window("remap32m", n, n + 32 * MB);

	/* ---- SIGSEGV on refused accesses, in children (late: after a fork the
	   pages are shared, and writes fault to take them back) ---- */
	c = mmap(NULL, PG, RW, ANON, -1, 0);
	touch(c, 1, 1, NULL);
	mprotect(c, PG, PROT_READ);
	put("ro_write_si_code", child_touch(c, 1));
	mprotect(c, PG, PROT_NONE);
	put("none_read_si_code", child_touch(c, 0));

	/* ---- RLIMIT_DATA with a soft limit of 0 (last: lowering the hard
	   limit cannot be undone without CAP_SYS_RESOURCE) ---- */
	rl.rlim_cur = 0;
	rl.rlim_max = 64 * MB;
	put_ret("setrlimit_data0", setrlimit(RLIMIT_DATA, &rl));
	c = mmap(NULL, MB, RW, ANON, -1, 0);
	put("data0_mmap_1m_ok", c != MAP_FAILED);
	c = mmap(NULL, 128 * MB, RW, ANON, -1, 0);
	put("data0_mmap_128m", c == MAP_FAILED ? -errno : 0);
	c = mmap(NULL, 128 * MB, PROT_READ, ANON, -1, 0);
	put("data0_mmap_ro_128m_ok", c != MAP_FAILED);
	put("data0_sbrk", sbrk(PG) == (void *)-1 ? -errno : 0);
	rl.rlim_max = 0;
	put_ret("setrlimit_data00", setrlimit(RLIMIT_DATA, &rl));
	c = mmap(NULL, PG, RW, ANON, -1, 0);
	put("data00_mmap", c == MAP_FAILED ? -errno : 0);

	if (write(1, out, out_len) != (ssize_t)out_len)
		return 1;
	return 0;
}
