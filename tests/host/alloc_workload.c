/*
 * alloc_workload.c - a real program for `aftermalloc record` to record
 * (tests/test_record.c): it allocates in ways a recorder must survive.
 *
 * Usage: alloc_workload MODE [N]
 *   threads N  N threads allocate, reallocate and free at once; blocks are
 *              handed between threads and freed by another one
 *   fork       allocates, forks a child that allocates and frees (some of
 *              the parent's blocks too) and exits; the parent waits
 *   forkthreads N  4 threads allocate as in `threads` while the main thread
 *              forks N children one after the other, each of which
 *              allocates and frees and exits: a fork taken while other
 *              threads are inside malloc (or a recorder's hook) must not
 *              leave the child a lock that no thread will release
 *   aligned    posix_memalign, aligned_alloc, memalign, valloc, calloc
 *   crash      allocates N blocks, then dies of SIGSEGV
 *   exit       allocates N blocks, then ends by _exit (no destructor runs)
 *   kill       allocates N blocks, then dies of SIGKILL (nothing runs)
 *   hang       allocates N blocks, then sleeps until killed
 *   forkexit N forks a child that allocates N blocks and ends by _exit
 * Prints on stdout how many allocating calls and frees it made itself
 * ("allocs A frees F"): the recorder sees these and the C library's own.
 * Built with -O1 like the other host programs: a block is kept in a
 * volatile so that the compiler does not elide a malloc/free pair.
 */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS  2000
#define HANDOFF 256

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *handed[HANDOFF]; /* blocks one thread allocates and another frees */
static unsigned long allocs, frees;

static void count(unsigned long a, unsigned long f)
{
	pthread_mutex_lock(&lock);
	allocs += a;
	frees += f;
	pthread_mutex_unlock(&lock);
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;
	void *mine[64] = {0};
	unsigned long a = 0, f = 0;

	for (int i = 0; i < ROUNDS; i++) {
		unsigned slot = (unsigned)i % 64, h;
		size_t n = 16 + (rand_r(&seed) % 3000);

		if (mine[slot]) {
			free(mine[slot]);
			f++;
		}
		mine[slot] = malloc(n);
		a++;
		memset(mine[slot], i, n);
		if (i % 5 == 0) {
			mine[slot] = realloc(mine[slot], n * 2);
			a++;
		}
		/* Swap a block with whatever another thread left in the handoff
		   slot: it frees blocks it did not allocate. */
		h = rand_r(&seed) % HANDOFF;
		pthread_mutex_lock(&lock);
		void *other = handed[h];

		handed[h] = mine[slot];
		pthread_mutex_unlock(&lock);
		mine[slot] = NULL;
		if (other) {
			free(other);
			f++;
		}
	}
	for (int s = 0; s < 64; s++)
		if (mine[s]) {
			free(mine[s]);
			f++;
		}
	count(a, f);
	return NULL;
}

static void run_threads(int n)
{
	pthread_t t[64];

	if (n < 1 || n > 64)
		n = 4;
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (int h = 0; h < HANDOFF; h++)
		if (handed[h]) {
			free(handed[h]);
			frees++;
		}
}

static void run_fork(void)
{
	void *keep[100];
	pid_t pid;
	int status;

	for (int i = 0; i < 100; i++)
		keep[i] = malloc(32 + (size_t)i * 8);
	allocs += 100;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* The child frees half of the parent's blocks (its copies) and
		   allocates its own. */
		for (int i = 0; i < 50; i++)
			free(keep[i]);
		for (int i = 0; i < 200; i++) {
			void *volatile q = malloc(100 + (size_t)i); /* volatile: not elided */

			free(q);
		}
		exit(0);
	}
	waitpid(pid, &status, 0);
	for (int i = 0; i < 100; i++)
		free(keep[i]);
	frees += 100;
}

static void *threads_in_background(void *arg)
{
	run_threads((int)(uintptr_t)arg);
	return NULL;
}

static void run_forkthreads(int n)
{
	pthread_t bg;
	int status;

	pthread_create(&bg, NULL, threads_in_background, (void *)(uintptr_t)4);
	for (int i = 0; i < n; i++) {
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			for (int k = 0; k < 100; k++) {
				void *volatile q = malloc(24 + (size_t)k * 16);

				free(q);
			}
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			exit(1);
	}
	pthread_join(bg, NULL);
}

static void run_aligned(void)
{
	void *p[8];

	if (posix_memalign(&p[0], 64, 100) != 0)
		exit(1);
	p[1] = aligned_alloc(4096, 8192);
	p[2] = memalign(256, 1000);
	p[3] = valloc(5000);
	p[4] = calloc(100, 24);
	p[5] = memalign(1 << 20, 300000); /* mmapped, aligned to 1 MiB */
	p[6] = reallocarray(NULL, 10, 100);
	p[6] = reallocarray(p[6], 20, 100);
	p[7] = malloc(200000); /* above the mmap threshold */
	allocs += 9;
	for (int i = 0; i < 8; i++)
		free(p[i]);
	frees += 8;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int n = argc > 2 ? atoi(argv[2]) : 4;
	volatile char *bad = NULL;

	if (strcmp(mode, "threads") == 0) {
		run_threads(n);
	} else if (strcmp(mode, "fork") == 0) {
		run_fork();
	} else if (strcmp(mode, "forkthreads") == 0) {
		run_forkthreads(n);
	} else if (strcmp(mode, "aligned") == 0) {
		run_aligned();
	} else if (strcmp(mode, "forkexit") == 0) {
		pid_t pid;
		int status;

		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			for (int i = 0; i < n; i++) {
				void *volatile q = malloc(64);

				(void)q;
			}
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
			return 1;
	} else if (strcmp(mode, "crash") == 0 || strcmp(mode, "hang") == 0 ||
	           strcmp(mode, "exit") == 0 || strcmp(mode, "kill") == 0) {
		for (int i = 0; i < n; i++) {
			void *volatile q = malloc(64);

			(void)q;
		}
		printf("allocs %d frees 0\n", n);
		fflush(stdout);
		if (mode[0] == 'c')
			*bad = 1; /* SIGSEGV */
		if (mode[0] == 'e')
			_exit(0);
		if (mode[0] == 'k')
			raise(SIGKILL);
		for (;;)
			pause();
	} else {
		fprintf(stderr,
		        "usage: alloc_workload threads N|fork|forkthreads N|forkexit N|aligned|"
		        "crash N|exit N|kill N|hang N\n");
		return 2;
	}
	printf("allocs %lu frees %lu\n", allocs, frees);
	return 0;
}
