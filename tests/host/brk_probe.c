/*
 * brk_probe.c - the oracle for the simulated brk: a real program on this
 * machine's kernel that moves its break and counts its page faults
 * (getrusage ru_minflt), printing "key=value" lines, addresses as offsets
 * from the initial break (the heap start). tests/test_oracle_kernel.c runs
 * the same sequence through the simulated kernel and compares every line.
 *
 * Nothing may call malloc (no stdio buffers, no getenv copies): the heap
 * must be untouched when the probe starts. Output is kept in a static
 * buffer and written at the end. The measured loops touch only heap pages:
 * the code, the stack and the static data are faulted in beforehand.
 * Whether a read fault maps the shared zero page (a write after it faults
 * again) or a fresh frame depends on how the host's kernel was booted: the
 * test probes it (tests/host/host_config.h) and runs the simulation alike.
 * THP is turned off for this process: the simulation models none.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/host/host_config.h"

#define PG 4096L

static char out[8192];
static size_t out_len;
static struct rusage ru;
static char *heap; /* the initial break */
static volatile char sink;
static int segv_pipe[2];

static void put(const char *key, long val)
{
	out_len += (size_t)snprintf(out + out_len, sizeof(out) - out_len, "%s=%ld\n", key, val);
}

static long minflt(void)
{
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* One byte per page of [p, p + n pages), written or read; returns the faults taken. */
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

/* Usage now as check_data_rlimit sees it: (brk - start_brk) + (end_data - start_data). */
static long data_usage(void)
{
	unsigned long start_data = 0, end_data = 0, start_brk = 0;
	char buf[2048], *s;
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* fields 45 start_data, 46 end_data, 47 start_brk; comm (field 2) is in
	   parentheses and may hold spaces: count from the last ')' */
	s = strrchr(buf, ')');
	for (int field = 2; s && field < 45; field++)
		s = strchr(s + 1, ' ');
	if (!s || sscanf(s + 1, "%lu %lu %lu", &start_data, &end_data, &start_brk) != 3)
		return -1;
	return (long)((uintptr_t)sbrk(0) - start_brk) + (long)(end_data - start_data);
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	long v[2] = {si->si_code, (long)((char *)si->si_addr - heap)};

	(void)sig;
	(void)uc;
	if (write(segv_pipe[1], v, sizeof(v)) != sizeof(v))
		_exit(3);
	_exit(2);
}

/* In a child: grow 4 pages, touch them, shrink back, store into the third. */
static void shrink_then_store(void)
{
	struct sigaction sa;
	long v[2] = {0, 0};
	int status;
	pid_t pid;

	if (pipe(segv_pipe))
		return;
	pid = fork();
	if (pid == 0) {
		char *a;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSEGV, &sa, NULL);
		a = sbrk(0);
		sbrk(4 * PG);
		touch(a, 4, 1);
		sbrk(-4 * PG);
		a[2 * PG + 5] = 'x';
		_exit(0);
	}
	close(segv_pipe[1]);
	if (read(segv_pipe[0], v, sizeof(v)) != sizeof(v))
		v[0] = v[1] = -1;
	waitpid(pid, &status, 0);
	put("shrink_store_sigsegv", WIFEXITED(status) && WEXITSTATUS(status) == 2);
	put("shrink_store_si_code", v[0]);
	put("shrink_store_addr", v[1]);
}

int main(void)
{
	struct rlimit rl, saved;
	char *p, *old;
	long r;

	/* Fault in the code, the stack and the static data first. */
	host_thp_off();
	memset(out, 0, sizeof(out));
	touch(NULL, 0, 0);
	minflt();
	heap = sbrk(0);

	/* sbrk(1): the old break comes back, the break stays unaligned. */
	old = sbrk(1);
	put("sbrk1_ret", old - heap);
	put("sbrk1_break", (char *)sbrk(0) - heap);

	/* Below the heap start: the kernel refuses (returns the old break), glibc's
	   brk() still says 0 because the returned break is not below the request. */
	r = syscall(SYS_brk, heap - PG);
	put("raw_brk_below", (char *)r - heap);
	put("glibc_brk_below", brk(heap - PG));
	put("break_after_below", (char *)sbrk(0) - heap);

	/* Grow 64 pages: no fault until each page is touched, once. */
	p = sbrk(64 * PG);
	put("grow64_ret", p - heap);
	put("grow64_break", (char *)sbrk(0) - heap);
	put("grow64_write_faults", touch(p, 64, 1));
	put("grow64_rewrite_faults", touch(p, 64, 1));

	/* 64 fresh pages read, then written: with the zero page the write faults
	   again (wp_page_copy), without it the read already took a frame. */
	p = sbrk(64 * PG);
	put("read64_faults", touch(p, 64, 0));
	put("read64_then_write_faults", touch(p, 64, 1));

	/* RLIMIT_DATA at exactly the usage now: growth refused, shrinking allowed. */
	getrlimit(RLIMIT_DATA, &saved);
	rl.rlim_cur = (rlim_t)data_usage();
	rl.rlim_max = saved.rlim_max;
	put("setrlimit_ret", setrlimit(RLIMIT_DATA, &rl));
	errno = 0;
	old = sbrk(0);
	r = (long)sbrk(PG);
	put("rlimit_grow_ret", r);
	put("rlimit_grow_errno", errno);
	put("rlimit_break_unchanged", sbrk(0) == old);
	r = (long)sbrk(-PG);
	put("rlimit_shrink_ok", r != -1 && (char *)sbrk(0) == old - PG);
	setrlimit(RLIMIT_DATA, &saved);
	r = (long)sbrk(PG);
	put("unlimited_grow_ok", r != -1 && (char *)sbrk(0) == old);

	/* setrlimit with cur above max is refused. */
	rl.rlim_cur = 2 * PG;
	rl.rlim_max = PG;
	errno = 0;
	put("setrlimit_cur_above_max", setrlimit(RLIMIT_DATA, &rl));
	put("setrlimit_cur_above_max_errno", errno);

	/* Align the break, then shrink under a store in a child. */
	old = sbrk(0);
	sbrk(((uintptr_t)old + PG - 1) / PG * PG - (uintptr_t)old);
	put("aligned_break", (char *)sbrk(0) - heap);
	shrink_then_store();

	if (write(1, out, out_len) != (ssize_t)out_len)
		return 1;
	return 0;
}
