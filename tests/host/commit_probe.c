/*
 * commit_probe.c - what the host's kernel charges to Committed_AS for
 * mappings of known sizes, and the inputs and result of its CommitLimit
 * (fs/proc/meminfo.c, mm/util.c vm_commit_limit), in the overcommit mode
 * the host is in (whatever it is: the test runs the simulation alike).
 *
 * Committed_AS is the whole machine's: another process's mapping between
 * the two reads moves it too. Each delta is measured again and again until
 * one value has been seen AGREE times (at most MAX_SAMPLES measurements),
 * and that value is printed: a quiet moment gives the exact charge, and a
 * busy one (compilers on the other core mapping and unmapping all the
 * time) gives noise that seldom repeats. The most frequent of 31 was once
 * off by 8 kB on such a host.
 * Output key=value lines, sizes in kB as /proc/meminfo has them.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/host/host_config.h"

#define AGREE 9
#define MAX_SAMPLES 2001

static char out[4096];
static size_t out_len;

static long meminfo(const char *key)
{
	return host_proc_field("/proc/meminfo", key);
}

static long sysctl_vm(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/proc/sys/vm/%s", name);
	return host_read_long(path);
}

static void put(const char *key, long v)
{
	out_len += (size_t)snprintf(out + out_len, sizeof(out) - out_len, "%s=%ld\n", key, v);
}

/* One measurement of a delta (kB), or LONG_MIN when the call failed. */
typedef long (*measure_fn)(long len, int prot, int extra);

/* The first value measure gives AGREE times; the most frequent one when
   none does within MAX_SAMPLES; -1 when the call fails. */
static long agreed_delta(measure_fn measure, long len, int prot, int extra)
{
	static long v[MAX_SAMPLES];
	long best = -1;
	int bc = 0;

	for (int n = 0; n < MAX_SAMPLES; n++) {
		int c = 0;

		v[n] = measure(len, prot, extra);
		if (v[n] == LONG_MIN)
			return -1;
		for (int j = 0; j <= n; j++)
			c += v[j] == v[n];
		if (c > bc) {
			bc = c;
			best = v[n];
		}
		if (bc >= AGREE)
			break;
	}
	return best;
}

/* Committed_AS delta (kB) of an anonymous private mapping of len bytes. */
static long mmap_once(long len, int prot, int extra)
{
	long before = meminfo("Committed_AS");
	void *p = mmap(NULL, (size_t)len, prot, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
	long after = meminfo("Committed_AS");

	if (p == MAP_FAILED)
		return LONG_MIN;
	munmap(p, (size_t)len);
	return after - before;
}

/* Committed_AS delta of growing the break by len bytes. */
static long brk_once(long len, int prot, int extra)
{
	long before = meminfo("Committed_AS");
	void *old = sbrk(len);
	long after = meminfo("Committed_AS");

	(void)prot;
	(void)extra;
	if (old == (void *)-1)
		return LONG_MIN;
	sbrk(-len);
	return after - before;
}

int main(void)
{
	put("overcommit_memory", sysctl_vm("overcommit_memory"));
	put("overcommit_ratio", sysctl_vm("overcommit_ratio"));
	put("overcommit_kbytes", sysctl_vm("overcommit_kbytes"));
	put("mem_total_kb", meminfo("MemTotal"));
	put("swap_total_kb", meminfo("SwapTotal"));
	put("hugetlb_kb", meminfo("Hugetlb"));
	put("commit_limit_kb", meminfo("CommitLimit"));
	put("mmap_rw_64m_kb", agreed_delta(mmap_once, 64 << 20, PROT_READ | PROT_WRITE, 0));
	put("mmap_ro_64m_kb", agreed_delta(mmap_once, 64 << 20, PROT_READ, 0));
	put("mmap_noreserve_64m_kb",
	    agreed_delta(mmap_once, 64 << 20, PROT_READ | PROT_WRITE, MAP_NORESERVE));
	put("brk_1m_kb", agreed_delta(brk_once, 1 << 20, 0, 0));
	return write(1, out, out_len) == (ssize_t)out_len ? 0 : 1;
}
