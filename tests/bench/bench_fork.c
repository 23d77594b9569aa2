/*
 * bench_fork.c - fork_vs_native_ratio: the time of fork() of a process
 * with 256 MiB of touched heap in the simulation (sys_fork: kernel_clone ->
 * copy_process -> dup_mm -> dup_mmap -> copy_page_range, 65536 PTEs
 * write-protected and copied, 128 page tables built) over the time of the
 * same fork() on the host, in the same run.
 *
 * Both sides: a parent maps 256 MiB anonymous read-write, as glibc's
 * malloc(256 MiB) gets it (above the mmap threshold: a mapping of its
 * own; no THP: the host's is marked MADV_NOHUGEPAGE, the model has none),
 * writes one word into every page, and forks; only fork() is timed (the parent's CPU time: on the
 * host that is the system time of the call); the child exits at once and
 * the parent reaps it. Before each fork the parent writes every page again,
 * so that each fork finds every PTE writable (the previous fork left them
 * write-protected; the write reuses the frame: no copy, one fault a page).
 * Rounds alternate between host and simulation; the figure is the median
 * of the ratios of each pair.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define HEAP_BYTES (256ULL << 20)
#define HEAP_PAGES (HEAP_BYTES / PAGE_SIZE)

struct sim_fork {
	struct bench_sim *s;
	vaddr_t va;
	int64_t child;
	double secs; /* the fork's CPU time */
};

/* As the parent: write every page (not timed), then fork (timed). */
static void sim_touch_fork(void *arg)
{
	struct sim_fork *x = arg;
	struct cpu *c = &x->s->k.cpu;
	double t0;

	for (uint64_t i = 0; i < HEAP_PAGES; i++)
		cpu_store(c, x->va + i * PAGE_SIZE, 8, i);
	t0 = bench_now();
	x->child = sys_fork(&x->s->k);
	x->secs = bench_now() - t0;
}

static void sim_exit(void *arg)
{
	sys_exit_group(arg, 0);
}

static void sim_wait(void *arg)
{
	struct sim_fork *x = arg;
	int status = -1;

	if (sys_wait4(&x->s->k, (int)x->child, &status, 0) != x->child || status != 0) {
		fprintf(stderr, "bench_fork: wait4 of the simulated child failed\n");
		exit(2);
	}
}

/* One simulated round: seconds of the fork alone. */
static double sim_round(struct sim_fork *x)
{
	struct kernel *k = &x->s->k;
	struct task *child;

	if (task_run(k, x->s->t, sim_touch_fork, x) != 0 || x->child <= 0) {
		fprintf(stderr, "bench_fork: simulated fork failed (%lld)\n", (long long)x->child);
		exit(2);
	}
	if (x->s->t->mm->rss_stat[MM_ANONPAGES] < HEAP_PAGES) {
		fprintf(stderr, "bench_fork: the parent's heap is not all resident\n");
		exit(2);
	}
	child = find_task_by_pid(k, (int)x->child);
	if (!child || child->mm->rss_stat[MM_ANONPAGES] < HEAP_PAGES) {
		fprintf(stderr, "bench_fork: the child does not map the parent's heap\n");
		exit(2);
	}
	if (task_run(k, child, sim_exit, k) != TASK_RUN_EXITED) {
		fprintf(stderr, "bench_fork: the simulated child did not exit\n");
		exit(2);
	}
	if (task_run(k, x->s->t, sim_wait, x) != 0)
		exit(2);
	return x->secs;
}

/* One host round on the touched region h: seconds of fork() alone. */
static double host_round(volatile uint8_t *h)
{
	double t0, dt;
	pid_t pid;
	int status;

	for (uint64_t i = 0; i < HEAP_PAGES; i++)
		h[i * PAGE_SIZE] = (uint8_t)i;
	t0 = bench_now();
	pid = fork();
	if (pid == 0)
		_exit(0);
	dt = bench_now() - t0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		perror("bench_fork: host fork");
		exit(2);
	}
	return dt;
}

int main(void)
{
	int reps = bench_reps(9);
	struct bench_sim *s = calloc(1, sizeof(*s));
	struct sim_fork x = {.s = s};
	double *ratio = calloc((size_t)reps, sizeof(double));
	double *sim = calloc((size_t)reps, sizeof(double));
	double *host = calloc((size_t)reps, sizeof(double));
	uint8_t *h;
	cJSON *o = cJSON_CreateObject();

	/* RAM for the heap, its page tables and the child's, with room to spare */
	bench_sim_boot(s, HEAP_BYTES * 2);
	x.va = bench_mmap(s, HEAP_BYTES);
	h = mmap(NULL, HEAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED || !ratio || !sim || !host) {
		perror("bench_fork: host memory");
		return 2;
	}
	madvise(h, HEAP_BYTES, MADV_NOHUGEPAGE);
	/* one round each unmeasured: first touches, host backing of the frames */
	sim_round(&x);
	host_round(h);
	for (int i = 0; i < reps; i++) {
		host[i] = host_round(h);
		sim[i] = sim_round(&x);
		ratio[i] = sim[i] / host[i];
	}
	cJSON_AddNumberToObject(o, "fork_vs_native_ratio", bench_median(ratio, reps));
	cJSON_AddNumberToObject(o, "sim_fork_ms", bench_median(sim, reps) * 1e3);
	cJSON_AddNumberToObject(o, "host_fork_ms", bench_median(host, reps) * 1e3);
	cJSON_AddNumberToObject(o, "heap_mib", (double)(HEAP_BYTES >> 20));
	cJSON_AddNumberToObject(o, "reps", reps);
	bench_emit(o);
	munmap(h, HEAP_BYTES);
	bench_sim_shutdown(s);
	free(s);
	free(ratio);
	free(sim);
	free(host);
	return 0;
}
