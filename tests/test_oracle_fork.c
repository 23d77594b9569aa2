/*
 * test_oracle_fork.c - copy-on-write after fork against this machine's
 * kernel: tests/host/fork_cow.c forks on the real kernel, and the same
 * steps run here through the simulated fork, CPU, exit and wait4. The minor
 * faults of each run of writes, the wait status and the mapping's smaps
 * figures (Rss, Pss, Shared/Private Clean/Dirty, in kB) of both processes at
 * each step must be the same, line for line.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_sim/exit.h"
#include "kernel_sim/kernel.h"
#include "kernel_sim/smaps.h"
#include "kernel_sim/syscalls.h"
#include "tests/support_oracle.h"
#include "tests/support_sim.h"

#define PG    ((int64_t)PAGE_SIZE)
#define RW    (SIM_PROT_READ | SIM_PROT_WRITE)
#define ANON  (SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS)
#define PAGES 64

static struct kernel k;
static struct oracle_out out; /* the simulated side */

struct call {
	enum { DO_MMAP, DO_MPROTECT, DO_WRITE, DO_FORK, DO_EXIT, DO_WAIT } what;
	vaddr_t va;
	long n;
	int64_t ret;
	int status;
};

static void do_call(void *arg)
{
	struct call *c = arg;

	switch (c->what) {
	case DO_MMAP:
		c->ret = sys_mmap(&k, 0, (uint64_t)c->n * PAGE_SIZE, RW, ANON, -1, 0);
		break;
	case DO_MPROTECT:
		c->ret = sys_mprotect(&k, c->va, PAGE_SIZE, SIM_PROT_NONE);
		break;
	case DO_WRITE:
		for (long i = 0; i < c->n; i++)
			cpu_store(&k.cpu, c->va + (uint64_t)i * PAGE_SIZE, 1, 1);
		break;
	case DO_FORK:
		c->ret = sys_fork(&k);
		break;
	case DO_EXIT:
		sys_exit_group(&k, (int)c->n);
		break;
	case DO_WAIT:
		c->ret = sys_wait4(&k, (int)c->n, &c->status, 0);
		break;
	}
}

/* Run c as t; the signal task_run returned (0, or TASK_RUN_EXITED). */
static int call(struct task *t, struct call *c)
{
	int sig = task_run(&k, t, do_call, c);

	sim_kernel_check(&k);
	return sig;
}

/* The minor faults of writing n pages from va as t. */
static long write_pages(struct task *t, vaddr_t va, long n)
{
	struct call c = {.what = DO_WRITE, .va = va, .n = n};
	uint64_t before = t->min_flt;

	cr_assert_eq(call(t, &c), 0, "the write killed pid %d", t->pid);
	return (long)(t->min_flt - before);
}

/* The probe's smaps_of: the mapping's figures in kB, in its order. */
static void smaps_of(const char *prefix, struct task *t, vaddr_t buf)
{
	struct mem_size_stats m;
	char key[96];

	smaps_gather_range(&k, t->mm, buf, buf + PAGES * PG, &m);
#define KB(name, v)                                                                                \
	do {                                                                                       \
		snprintf(key, sizeof(key), "%s_%s", prefix, name);                                 \
		oracle_put(&out, key, (long)((v) >> 10));                                          \
	} while (0)
	KB("Rss", m.resident);
	KB("Pss", m.pss >> PSS_SHIFT);
	KB("Shared_Clean", m.shared_clean);
	KB("Shared_Dirty", m.shared_dirty);
	KB("Private_Clean", m.private_clean);
	KB("Private_Dirty", m.private_dirty);
#undef KB
}

Test(oracle_fork, cow_faults_and_smaps_of_parent_and_child_match_the_real_kernel)
{
	const char *args[] = {"64", NULL};
	char *real = oracle_run("fork_cow", args);
	struct kernel_opts o;
	struct task *parent, *child;
	struct call c = {0};
	vaddr_t base, buf;
	int sig;

	oracle_kernel_opts(&o);
	cr_assert_eq(kernel_boot(&k, &o, stderr), 0);
	parent = task_create(&k, "fork_cow");
	cr_assert_not_null(parent);

	c = (struct call){.what = DO_MMAP, .n = PAGES + 2};
	cr_assert_eq(call(parent, &c), 0);
	cr_assert_gt(c.ret, 0);
	base = (vaddr_t)c.ret;
	buf = base + PG;
	c = (struct call){.what = DO_MPROTECT, .va = base};
	call(parent, &c);
	cr_assert_eq(c.ret, 0);
	c = (struct call){.what = DO_MPROTECT, .va = buf + PAGES * PG};
	call(parent, &c);
	cr_assert_eq(c.ret, 0);

	oracle_put(&out, "pages", PAGES);
	oracle_put(&out, "parent_first_write_faults", write_pages(parent, buf, PAGES));
	c = (struct call){.what = DO_FORK};
	call(parent, &c);
	cr_assert_gt(c.ret, 0, "fork: %lld", (long long)c.ret);
	child = find_task_by_pid(&k, (int)c.ret);
	cr_assert_not_null(child);

	smaps_of("parent_after_fork", parent, buf);
	smaps_of("child_after_fork", child, buf);
	oracle_put(&out, "child_write_faults", write_pages(child, buf, PAGES / 2));
	smaps_of("child_after_write", child, buf);
	smaps_of("parent_child_wrote", parent, buf);

	c = (struct call){.what = DO_EXIT, .n = 7};
	sig = call(child, &c);
	cr_assert_eq(sig, TASK_RUN_EXITED);
	c = (struct call){.what = DO_WAIT, .n = child->pid};
	cr_assert_eq(call(parent, &c), 0);
	cr_assert_gt(c.ret, 0);
	oracle_put(&out, "wait_exited", (c.status & 0x7f) == 0);
	oracle_put(&out, "wait_status", (c.status >> 8) & 0xff);
	smaps_of("parent_child_gone", parent, buf);
	oracle_put(&out, "parent_write_faults", write_pages(parent, buf, PAGES));
	smaps_of("parent_after_write", parent, buf);

	oracle_assert_same("fork and copy-on-write", out.text, real);
	free(real);
	kernel_shutdown(&k);
}
