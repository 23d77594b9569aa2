/*
 * commit_probe.c - what the host's kernel charges to Committed_AS for
 * mappings of known sizes, and the inputs and result of its CommitLimit
 * (fs/proc/meminfo.c, mm/util.c vm_commit_limit), in the overcommit mode
 * the host is in (whatever it is: the test runs the simulation alike).
 *
 * Committed_AS is the whole machine's: another process's mapping between
 * the two reads moves it too, and the counter is per-CPU with a batch. Each
 * delta is measured 31 times and the value
 * seen most often is printed (a quiet moment gives the exact charge).
 * Output key=value lines, sizes in kB as /proc/meminfo has them.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/host/host_config.h"

#define REPS 31

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

/* The most frequent of n values. */
static long mode(const long *v, int n)
{
	long best = v[0];
	int bc = 0;

	for (int i = 0; i < n; i++) {
		int c = 0;

		for (int j = 0; j < n; j++)
			c += v[j] == v[i];
		if (c > bc) {
			bc = c;
			best = v[i];
		}
	}
	return best;
}

/* Committed_AS delta (kB) of an anonymous private mapping of len bytes. */
static long mmap_delta(size_t len, int prot, int extra)
{
	long d[REPS];

	for (int i = 0; i < REPS; i++) {
		long before = meminfo("Committed_AS");
		void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
		long after = meminfo("Committed_AS");

		if (p == MAP_FAILED)
			return -1;
		munmap(p, len);
		d[i] = after - before;
	}
	return mode(d, REPS);
}

/* Committed_AS delta of growing the break by len bytes. */
static long brk_delta(long len)
{
	long d[REPS];

	for (int i = 0; i < REPS; i++) {
		long before = meminfo("Committed_AS");
		void *old = sbrk(len);
		long after = meminfo("Committed_AS");

		if (old == (void *)-1)
			return -1;
		sbrk(-len);
		d[i] = after - before;
	}
	return mode(d, REPS);
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
	put("mmap_rw_64m_kb", mmap_delta(64 << 20, PROT_READ | PROT_WRITE, 0));
	put("mmap_ro_64m_kb", mmap_delta(64 << 20, PROT_READ, 0));
	put("mmap_noreserve_64m_kb", mmap_delta(64 << 20, PROT_READ | PROT_WRITE, MAP_NORESERVE));
	put("brk_1m_kb", brk_delta(1 << 20));
	return write(1, out, out_len) == (ssize_t)out_len ? 0 : 1;
}
