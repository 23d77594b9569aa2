/*
 * bench.h - what every benchmark program shares: a monotonic clock, medians
 * of repeated runs, the host's RSS, a simulated machine with one process,
 * and the JSON line each program prints for the runner (run_bench.c).
 *
 * Every figure is a ratio to a reference measured in the same process and
 * the same run, or a count; every time is the median of several repetitions
 * (the machine may be shared: medians shrug off a repetition that another
 * process slowed down). Header-only: each program is one .c file.
 */
#ifndef TESTS_BENCH_BENCH_H
#define TESTS_BENCH_BENCH_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel_sim/kernel.h"
#include "kernel_sim/syscalls.h"
#include "tests/bench/stats.h"

/*
 * Seconds of CPU time of the calling thread (user + system). Not wall time:
 * on a machine shared with other work, a benchmark descheduled half the time
 * would read twice as slow; its CPU time does not (page faults it takes
 * still count, as system time).
 */
static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A field of /proc/self/status in KiB ("VmRSS", "RssAnon", "VmHWM"); -1 if absent. */
static inline long bench_status_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t n = strlen(field);
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Keep a value alive without letting the compiler see what it is for. */
#define BENCH_KEEP(x) __asm__ volatile("" : : "r"(x) : "memory")

/* A booted machine with one process, made current, as the front ends make it. */
struct bench_sim {
	struct kernel k;
	struct task *t;
};

static inline void bench_sim_boot(struct bench_sim *s, uint64_t phys_bytes)
{
	struct kernel_opts o;

	kernel_default_opts(&o);
	o.phys_bytes = phys_bytes;
	o.debug_checks = false; /* the checkers are O(frames): never in a benchmark */
	if (kernel_boot(&s->k, &o, stderr) < 0)
		exit(2);
	s->t = task_create(&s->k, "bench");
	if (!s->t) {
		fprintf(stderr, "bench: task_create failed\n");
		exit(2);
	}
}

static inline void bench_sim_shutdown(struct bench_sim *s)
{
	task_destroy(&s->k, s->t);
	kernel_shutdown(&s->k);
}

/* Anonymous read-write mapping of len bytes in the current process (exits on failure). */
static inline vaddr_t bench_mmap(struct bench_sim *s, uint64_t len)
{
	int64_t a = sys_mmap(&s->k, 0, len, SIM_PROT_READ | SIM_PROT_WRITE,
	                     SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS, -1, 0);

	if (a < 0) {
		fprintf(stderr, "bench: mmap of %llu bytes: %lld\n", (unsigned long long)len,
		        (long long)a);
		exit(2);
	}
	return (vaddr_t)a;
}

/* Print obj as the program's one line of output, and free it. */
static inline void bench_emit(cJSON *obj)
{
	char *s = cJSON_PrintUnformatted(obj);

	puts(s);
	free(s);
	cJSON_Delete(obj);
}

/* Repetitions: BENCH_REPS in the environment, else def. */
static inline int bench_reps(int def)
{
	const char *e = getenv("BENCH_REPS");
	int n = e ? atoi(e) : 0;

	return n > 0 && n <= 1000 ? n : def;
}

#endif
