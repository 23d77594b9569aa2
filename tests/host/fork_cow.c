/*
 * fork_cow.c - copy-on-write after fork on the real kernel, for
 * tests/test_oracle_fork.c: a parent writes N pages of a mapping of its
 * own (a PROT_NONE page on each side keeps it one VMA), forks; the child
 * writes the first N/2 pages; the parent looks while the child lives; the
 * child exits 7, the parent reaps it and writes all N pages. The two take
 * turns through pipes, so the lines come in one order. Printed, one
 * key=value a line: the minor faults of each run of writes (getrusage
 * deltas around the writes alone), and the mapping's Rss, Pss,
 * Shared_Dirty, Shared_Clean, Private_Dirty and Private_Clean in kB from
 * /proc/self/smaps, for each process at each step; the wait status.
 * Usage: fork_cow [N] (default 64, even).
 */
#include <stdint.h>
#include <sys/wait.h>

#include "host_config.h"

static long pg;

static long write_pages(volatile char *p, long n, char v)
{
	long f0 = host_minflt(), f1;

	for (long i = 0; i < n; i++)
		p[i * pg] = v;
	f1 = host_minflt();
	return f1 - f0;
}

/* The smaps figures of the VMA that holds addr, as prefix_key=kB lines. */
static void smaps_of(const char *prefix, const void *addr)
{
	static const char *const keys[] = {"Rss", "Pss", "Shared_Clean", "Shared_Dirty",
	                                   "Private_Clean", "Private_Dirty"};
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;

	if (!f) {
		perror("/proc/self/smaps");
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char key[64];
		unsigned long kb;

		/* a VMA's header: its first word is LO-HI, not a "Key:" */
		if (line[strcspn(line, " ") - 1] != ':' &&
		    sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
			continue;
		}
		if (!in || sscanf(line, "%63[^:]: %lu kB", key, &kb) != 2)
			continue;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(key, keys[i]) == 0)
				printf("%s_%s=%lu\n", prefix, keys[i], kb);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 64;
	int to_parent[2], to_child[2], status;
	char *base, *buf, c;
	pid_t pid;

	pg = sysconf(_SC_PAGESIZE);
	if (n <= 0 || n % 2) {
		fprintf(stderr, "usage: fork_cow [N] (N even, > 0)\n");
		return 2;
	}
	host_thp_off();
	base = mmap(NULL, (size_t)(n + 2) * (size_t)pg, PROT_READ | PROT_WRITE,
	            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED || mprotect(base, (size_t)pg, PROT_NONE) ||
	    mprotect(base + (n + 1) * pg, (size_t)pg, PROT_NONE) || pipe(to_parent) ||
	    pipe(to_child)) {
		perror("fork_cow");
		return 1;
	}
	buf = base + pg;
	host_minflt(); /* getrusage's own path faults in first */
	printf("pages=%ld\n", n);
	printf("parent_first_write_faults=%ld\n", write_pages(buf, n, 1));
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		long faults;

		/* one process prints at a time: the parent first */
		if (read(to_child[0], &c, 1) != 1)
			_exit(1);
		smaps_of("child_after_fork", buf);
		host_minflt();
		faults = write_pages(buf, n / 2, 2);
		printf("child_write_faults=%ld\n", faults);
		smaps_of("child_after_write", buf);
		fflush(stdout);
		/* the parent looks now, then lets the child exit */
		if (write(to_parent[1], "w", 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(1);
		_exit(7);
	}
	smaps_of("parent_after_fork", buf);
	fflush(stdout);
	if (write(to_child[1], "g", 1) != 1 || read(to_parent[0], &c, 1) != 1) {
		perror("pipe");
		return 1;
	}
	smaps_of("parent_child_wrote", buf);
	fflush(stdout);
	if (write(to_child[1], "x", 1) != 1 || waitpid(pid, &status, 0) != pid) {
		perror("waitpid");
		return 1;
	}
	printf("wait_exited=%d\nwait_status=%d\n", WIFEXITED(status), WEXITSTATUS(status));
	smaps_of("parent_child_gone", buf);
	host_minflt();
	printf("parent_write_faults=%ld\n", write_pages(buf, n, 3));
	smaps_of("parent_after_write", buf);
	return 0;
}
