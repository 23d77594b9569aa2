/*
 * fork_clone.c - what this machine's glibc asks of the kernel for fork(),
 * for tests/test_oracle_clone.c, which runs it under
 * `strace -f -e trace=process` and compares each fork's system call (its
 * name, flags, child stack and child_tidptr) with what it prints here and
 * with what the simulation's fork does.
 *
 * It forks twice: from the main thread, then from a second thread. Before
 * each fork it finds where the calling thread's struct pthread keeps its
 * tid: the one 4-byte word of the first PD_SCAN bytes at pthread_self()
 * that holds gettid() (none or several: the probe fails, exit 1). The
 * child checks that the kernel wrote its own tid into that word before
 * the child's first instruction ran (CLONE_CHILD_SETTID; the parent's word
 * keeps the parent's tid) and exits 5 when it did, 6 when not. Printed,
 * one key=value a line, for WHO = main, then thread:
 *   WHO.tid_offset=0x2d0   the word's offset from pthread_self()
 *   WHO.tidptr=0x7f...     its address (strace's child_tidptr should be it)
 *   WHO.status=5           the child's exit status
 * Usage: fork_clone
 */
#include <pthread.h>
#include <sys/wait.h>

#include "host_config.h"

#define PD_SCAN 0x940 /* bytes of struct pthread searched */

static volatile pid_t *tid_word(void)
{
	char *pd = (char *)pthread_self();
	pid_t me = gettid();
	volatile pid_t *found = NULL;
	int n = 0;

	for (size_t off = 0; off + sizeof(pid_t) <= PD_SCAN; off += sizeof(pid_t))
		if (*(pid_t *)(pd + off) == me) {
			found = (volatile pid_t *)(pd + off);
			n++;
		}
	if (n != 1) {
		fprintf(stderr, "fork_clone: %d words of struct pthread hold the tid %d\n", n,
		        (int)me);
		exit(1);
	}
	return found;
}

static void fork_once(const char *who)
{
	volatile pid_t *w = tid_word();
	pid_t parent_tid = gettid(), c;
	int status;

	printf("%s.tid_offset=%#lx\n", who, (unsigned long)((char *)w - (char *)pthread_self()));
	printf("%s.tidptr=%p\n", who, (void *)w);
	fflush(stdout);
	c = fork();
	if (c < 0) {
		perror("fork");
		exit(1);
	}
	if (c == 0)
		_exit(*w == getpid() ? 5 : 6);
	if (waitpid(c, &status, 0) != c) {
		perror("waitpid");
		exit(1);
	}
	if (*w != parent_tid) {
		fprintf(stderr, "fork_clone: the parent's tid word changed\n");
		exit(1);
	}
	printf("%s.status=%d\n", who, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	fflush(stdout);
}

static void *thread_main(void *arg)
{
	(void)arg;
	fork_once("thread");
	return NULL;
}

int main(void)
{
	pthread_t t;

	fork_once("main");
	if (pthread_create(&t, NULL, thread_main, NULL) != 0 || pthread_join(t, NULL) != 0) {
		fprintf(stderr, "fork_clone: pthread_create failed\n");
		return 1;
	}
	return 0;
}
