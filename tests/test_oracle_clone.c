/*
 * test_oracle_clone.c - the system call glibc's fork() makes, against this
 * machine. tests/host/fork_clone.c forks from its main thread, then from a
 * second thread, under `strace -f -e trace=process`: each fork must be one
 * clone call (no fork, no vfork, no clone3: the one clone3 is
 * pthread_create's) with no child stack, its flags, and as child_tidptr
 * the word of the forking thread's struct pthread that holds its tid (the
 * program finds it); the child must find its own pid there. Nothing about
 * the call is assumed: the flags are read from strace and mapped to their
 * values by name (a name the model does not know fails the test).
 *
 * The simulation's fork (libc_fork) must make the same call: one
 * __x64_sys_clone, number 56, the same flags, newsp 0; from a thread,
 * child_tidptr is its struct pthread plus the offset the host found, and
 * once the child has run its copy of that word holds the child's pid
 * (schedule_tail), the parent's still the thread's tid. From the main
 * thread, whose struct pthread the model does not have, child_tidptr is
 * 0 (docs/reference.md, Processes): the one difference, asserted as such.
 * Needs AM_HOST and strace (the Makefile's deps step installs it).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel_sim/syscalls.h"
#include "libc/process.h"
#include "libc/pthread.h"
#include "tests/support_oracle.h"
#include "tests/support_sim.h"

/* One fork as strace shows it, and as the program printed it. */
struct real_fork {
	uint64_t flags;
	char stack[32];
	unsigned long long tidptr, want_tidptr, tid_offset;
	int status;
};

/* strace's name of a flag, as the model's value; asserts it is known. */
static uint64_t flag_value(const char *name)
{
	static const struct {
		const char *name;
		uint64_t val;
	} map[] = {{"CLONE_CHILD_CLEARTID", SIM_CLONE_CHILD_CLEARTID},
	           {"CLONE_CHILD_SETTID", SIM_CLONE_CHILD_SETTID},
	           {"CLONE_PARENT_SETTID", SIM_CLONE_PARENT_SETTID},
	           {"CLONE_VM", SIM_CLONE_VM},
	           {"CLONE_THREAD", SIM_CLONE_THREAD},
	           {"CLONE_SIGHAND", SIM_CLONE_SIGHAND},
	           {"CLONE_SETTLS", SIM_CLONE_SETTLS},
	           {"SIGCHLD", SIM_SIGCHLD}};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].name, name) == 0)
			return map[i].val;
	cr_assert_fail("glibc's fork passes %s, which the model does not know", name);
	return 0;
}

/* The value of "key=" in line up to the next ',', ')' or space, into buf. */
static bool arg_of(const char *line, const char *key, char *buf, size_t n)
{
	const char *p = strstr(line, key);
	size_t len;

	if (!p)
		return false;
	p += strlen(key);
	len = strcspn(p, ", )");
	if (len >= n)
		return false;
	memcpy(buf, p, len);
	buf[len] = 0;
	return true;
}

/* The program's value of key (WHO.FIELD=VALUE lines). */
static unsigned long long out_value(const char *out, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "%s=", key);
	p = strstr(out, pat);
	cr_assert_not_null(p, "fork_clone printed no %s:\n%s", key, out);
	return strtoull(p + strlen(pat), NULL, 0);
}

/* Run fork_clone under strace: its two forks, main's then the thread's. */
static void run_real(struct real_fork f[2])
{
	char dir[] = "/tmp/oracle_clone.XXXXXX", cmd[1024], path[256], line[1024];
	char *out;
	size_t n = 0, nclone3 = 0;
	FILE *fp;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "strace -f -e trace=process -o %s/strace %s/fork_clone > %s/out",
	         dir, oracle_host_dir(), dir);
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
	snprintf(path, sizeof(path), "%s/strace", dir);
	fp = fopen(path, "r");
	cr_assert_not_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		char flags[256], tid[32];

		cr_assert_null(strstr(line, " fork("), "glibc made a fork call: %s", line);
		cr_assert_null(strstr(line, " vfork("), "glibc made a vfork call: %s", line);
		if (strstr(line, " clone3("))
			nclone3++;
		if (!strstr(line, " clone("))
			continue;
		cr_assert_lt(n, 2, "more than two clone calls: %s", line);
		cr_assert(arg_of(line, "flags=", flags, sizeof(flags)), "%s", line);
		cr_assert(arg_of(line, "child_stack=", f[n].stack, sizeof(f[n].stack)), "%s", line);
		cr_assert(arg_of(line, "child_tidptr=", tid, sizeof(tid)), "%s", line);
		f[n].tidptr = strtoull(tid, NULL, 0);
		f[n].flags = 0;
		for (char *tok = strtok(flags, "|"); tok; tok = strtok(NULL, "|"))
			f[n].flags |= flag_value(tok);
		n++;
	}
	fclose(fp);
	cr_assert_eq(n, 2, "%zu clone calls for two forks", n);
	cr_assert_eq(nclone3, 1, "pthread_create's clone3");
	snprintf(path, sizeof(path), "%s/out", dir);
	fp = fopen(path, "r");
	cr_assert_not_null(fp);
	out = calloc(1, 4096);
	cr_assert_not_null(out);
	cr_assert_gt(fread(out, 1, 4095, fp), 0);
	fclose(fp);
	for (int i = 0; i < 2; i++) {
		const char *who = i ? "thread" : "main";
		char key[64];

		snprintf(key, sizeof(key), "%s.tidptr", who);
		f[i].want_tidptr = out_value(out, key);
		snprintf(key, sizeof(key), "%s.tid_offset", who);
		f[i].tid_offset = out_value(out, key);
		snprintf(key, sizeof(key), "%s.status", who);
		f[i].status = (int)out_value(out, key);
	}
	free(out);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* ---- the simulation ------------------------------------------------------ */

static struct sim s;

enum op_kind { OP_FORK, OP_PTHREAD_CREATE, OP_THREAD_START, OP_LOAD32 };

struct op {
	enum op_kind what;
	struct libc_thread *t;
	int64_t ret;
	vaddr_t addr;
	uint64_t val;
};

static void run_op(void *arg)
{
	struct op *o = arg;
	int err;

	switch (o->what) {
	case OP_FORK:
		o->ret = libc_fork(&s.lc);
		break;
	case OP_PTHREAD_CREATE:
		o->t = libc_pthread_create(&s.lc, &err);
		cr_assert_not_null(o->t, "pthread_create: %d", err);
		break;
	case OP_THREAD_START:
		libc_thread_start(&s.lc, o->t);
		break;
	case OP_LOAD32:
		cr_assert_eq(cpu_load(&s.k.cpu, o->addr, 4, &o->val), 0);
		break;
	}
}

/* The clone call the model made last: its entry's nr and its fields. */
static const struct event *last_clone(unsigned *nr)
{
	const struct event *call = NULL;

	for (unsigned i = 0; i < s.nev; i++)
		if (s.ev[i].kind == EV_SYSCALL && i + 2 < s.nev &&
		    s.ev[i + 2].kind == EV_CALL && strcmp(s.ev[i + 2].fn, "__x64_sys_clone") == 0) {
			*nr = (unsigned)event_field(&s.ev[i], "nr", 0);
			call = &s.ev[i + 2];
		}
	for (unsigned i = 0; i < s.nev; i++)
		cr_assert(s.ev[i].kind != EV_CALL || strcmp(s.ev[i].fn, "__x64_sys_fork") != 0,
		          "the model's fork made the fork system call");
	cr_assert_not_null(call, "no clone system call");
	return call;
}

/* Fork as thread t (NULL: the main thread); check the call against f. */
static struct task *sim_fork(struct libc_thread *t, const struct real_fork *f, const char *who)
{
	struct op o = {.what = OP_FORK};
	unsigned nr = 0;
	const struct event *ev;

	s.nev = 0;
	cr_assert_eq(sim_run_as(&s, t, run_op, &o), 0);
	cr_assert_gt(o.ret, 0);
	ev = last_clone(&nr);
	cr_expect_eq(nr, SIM_NR_clone);
	cr_expect_eq(event_field(ev, "flags", 0), f->flags,
	             "%s: the model's clone flags %#llx, glibc's %#llx", who,
	             (unsigned long long)event_field(ev, "flags", 0),
	             (unsigned long long)f->flags);
	cr_expect_eq(strcmp(f->stack, "NULL"), 0, "%s: child_stack=%s", who, f->stack);
	cr_expect_eq(event_field(ev, "newsp", 1), 0, "%s: the model passes a stack", who);
	if (t) {
		cr_expect_eq(f->tid_offset, PD_TID, "struct pthread's tid at %#llx, not %#llx",
		             f->tid_offset, (unsigned long long)PD_TID);
		cr_expect_eq(event_field(ev, "child_tidptr", 0), t->pd + f->tid_offset,
		             "%s: child_tidptr %#llx, its struct pthread %#llx", who,
		             (unsigned long long)event_field(ev, "child_tidptr", 0),
		             (unsigned long long)t->pd);
	} else {
		cr_expect_eq(event_field(ev, "child_tidptr", 1), 0,
		             "the main thread's struct pthread is not modelled");
	}
	return find_task_by_pid(&s.k, (int)o.ret);
}

/* The 4-byte word at addr as task t sees it (after its first run). */
static uint64_t word_in(struct task *t, vaddr_t addr)
{
	struct op o = {.what = OP_LOAD32, .addr = addr};

	cr_assert_eq(task_run(&s.k, t, run_op, &o), 0);
	return o.val;
}

Test(oracle_clone, glibc_s_fork_is_clone_with_child_settid_and_cleartid, .timeout = 60)
{
	struct real_fork f[2] = {0};
	struct sim_opts so = {.policy = "glibc", .task = "fork_clone", .record = true};
	struct op o = {.what = OP_PTHREAD_CREATE};
	struct task *c;

	run_real(f);
	for (int i = 0; i < 2; i++) {
		cr_expect_eq(f[i].tidptr, f[i].want_tidptr,
		             "%s fork: child_tidptr %#llx, the thread's tid at %#llx",
		             i ? "thread" : "main", f[i].tidptr, f[i].want_tidptr);
		cr_expect_eq(f[i].status, 5, "the child did not find its pid there (%d)",
		             f[i].status);
	}

	sim_boot(&s, &so);
	sim_fork(NULL, &f[0], "main");
	cr_assert_eq(sim_run_as(&s, NULL, run_op, &o), 0);
	o.what = OP_THREAD_START;
	cr_assert_eq(sim_run_as(&s, o.t, run_op, &o), 0);
	c = sim_fork(o.t, &f[1], "thread");
	cr_assert_not_null(c);
	/* the child's first run stores its pid; the parent's word is t's */
	cr_expect_eq(word_in(c, o.t->pd + PD_TID), (uint64_t)c->pid);
	cr_expect_eq(word_in(o.t->task, o.t->pd + PD_TID), (uint64_t)o.t->tid);
	sim_kernel_check(&s.k);
	sim_teardown(&s);
}
