/*
 * glibc_calls.c - the oracle for the glibc malloc model: a real program on
 * the host's glibc 2.36 that makes a list of malloc/free calls and reports,
 * for each, where the block landed, mallinfo2()'s arena and hblkhd, and the
 * minor page faults it took (getrusage).
 *
 * Usage: glibc_calls OP...   with OP = mSIZE (malloc), cN x SIZE as cNxSIZE
 * (calloc), fI (free the result of op I, counting from 0).
 *
 * The calls run between two getppid() system calls, the markers that
 * tests/test_glibc_oracle.c finds in `strace -e trace=brk,mmap,munmap,getppid`.
 * Nothing before the first marker may call malloc (no stdio, no getenv
 * copies): the heap must be untouched, as in the simulated process. Results
 * are kept in static arrays and printed after the second marker:
 *   heap_start 0x...
 *   I OP ARG RESULT ARENA HBLKHD MINFLT
 * where RESULT is the offset of the pointer from the initial break ("0x2a0"),
 * "mmap+0x10" for a pointer outside the heap (its offset in its page), "-"
 * for free.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tests/host/host_config.h"

#define MAX_OPS 64

struct op {
	char kind; /* 'm', 'c', 'f' */
	unsigned long a, b;
	void *ret;
	size_t arena, hblkhd;
	long minflt;
	char *brk_after;
};

static struct op ops[MAX_OPS];

static long minflt_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* Touch the stack that the calls below will use: its first use would
   otherwise fault at a depth that depends on the random offset of the stack
   top, and count as a fault of malloc. */
static void __attribute__((noinline)) prefault_stack(void)
{
	volatile char buf[64 * 1024];

	for (size_t i = 0; i < sizeof(buf); i += 512)
		buf[i] = 0;
}

static int parse(int argc, char **argv)
{
	if (argc - 1 > MAX_OPS)
		return -1;
	for (int i = 1; i < argc; i++) {
		struct op *o = &ops[i - 1];
		char *end;

		o->kind = argv[i][0];
		o->a = strtoul(argv[i] + 1, &end, 0);
		if (o->kind == 'c') {
			if (*end != 'x')
				return -1;
			o->b = strtoul(end + 1, &end, 0);
		}
		if (*end || (o->kind != 'm' && o->kind != 'c' && o->kind != 'f'))
			return -1;
		if (o->kind == 'f' && o->a >= (unsigned long)(i - 1))
			return -1;
	}
	return argc - 1;
}

int main(int argc, char **argv)
{
	int n = parse(argc, argv);
	char *heap_start;

	if (n < 0) {
		static const char msg[] = "usage: glibc_calls mSIZE|cNxSIZE|fI ...\n";
		if (write(2, msg, sizeof(msg) - 1) < 0)
			return 2;
		return 2;
	}
	host_thp_off(); /* the simulation models no THP */
	prefault_stack();
	heap_start = sbrk(0); /* glibc's __curbrk is now known: brk(NULL) here */
	syscall(SYS_getppid);
	for (int i = 0; i < n; i++) {
		struct op *o = &ops[i];
		long f0 = minflt_now();

		switch (o->kind) {
		case 'm':
			o->ret = malloc(o->a);
			break;
		case 'c':
			o->ret = calloc(o->a, o->b);
			break;
		case 'f':
			free(ops[o->a].ret);
			break;
		}
		o->minflt = minflt_now() - f0;
		struct mallinfo2 mi = mallinfo2();
		o->arena = mi.arena;
		o->hblkhd = mi.hblkhd;
		o->brk_after = sbrk(0);
	}
	syscall(SYS_getppid);

	printf("heap_start %p\n", (void *)heap_start);
	for (int i = 0; i < n; i++) {
		struct op *o = &ops[i];
		char res[64];

		if (o->kind == 'f')
			snprintf(res, sizeof(res), "-");
		else if (!o->ret)
			snprintf(res, sizeof(res), "null");
		else if ((char *)o->ret >= heap_start && (char *)o->ret < o->brk_after)
			snprintf(res, sizeof(res), "0x%lx",
			         (unsigned long)((char *)o->ret - heap_start));
		else
			snprintf(res, sizeof(res), "mmap+0x%lx",
			         (unsigned long)((uintptr_t)o->ret & 0xfff));
		printf("%d %c %lu %s %zu %zu %ld\n", i, o->kind,
		       o->kind == 'c' ? o->a * o->b : o->a, res, o->arena, o->hblkhd, o->minflt);
	}
	return 0;
}
