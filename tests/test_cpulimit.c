/*
 * test_cpulimit.c - RLIMIT_CPU (kernel_sim/task.c check_rlimit_cpu, libc_step
 * and libc_walk_step in libc/libc.c): CPU time is charged one step per
 * iteration of an allocator loop; at the soft limit the process gets SIGXCPU,
 * at the hard limit SIGKILL, and a loop a corrupted heap made endless (a
 * zeroed seed header, a free-list or skip-list cycle) ends there instead of
 * hanging the host. After the kill the kernel's checkers hold, the heap
 * checkers report the corruption and terminate, and every frame comes back.
 * Replaying a real trace stays far below the default limit.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demos/cli/replay.h"
#include "kernel_sim/syscalls.h"
#include "libc/libc.h"
#include "tests/support_bin.h"
#include "tests/support_sim.h"

#define MiB (1ULL << 20)

static struct sim E;

static void boot(const char *policy)
{
	sim_boot(&E,
	         &(struct sim_opts){.phys_bytes = 16 * MiB, .task = "cpulimit", .policy = policy});
}

static void teardown(void)
{
	sim_teardown(&E);
}

TestSuite(cpulimit, .fini = teardown);

static void set_cpu_limit(uint64_t soft, uint64_t hard)
{
	struct sim_rlimit rl = {soft, hard};

	cr_assert_eq(sys_setrlimit(&E.k, SIM_RLIMIT_CPU, &rl), 0);
}

/* What the process died of: signal, reason and report. */
static void assert_death(int signo, const char *reason, const char *report)
{
	cr_assert(E.t->dead);
	cr_assert_eq(E.t->death.signo, signo);
	cr_assert_eq(E.t->death.code, SIM_SI_KERNEL, "sent with SEND_SIG_PRIV");
	cr_assert_str_eq(E.t->death.reason, reason);
	cr_assert_str_eq(E.t->death.report, report);
}

/* The heap checker must come back (a corrupted list may loop) and see the
   damage; the kernel's checkers must find nothing. */
static void assert_heap_damage_seen(void)
{
	cr_assert_gt(E.lc.ops->check(&E.lc, NULL), 0, "%s_check missed the corruption",
	             E.lc.ops->name);
	sim_kernel_check(&E.k);
}

static void count_cb(void *ctx, const struct chunk_info *ci)
{
	(*(unsigned *)ctx)++;
}

/* exit_mmap of the killed process gives every frame back: only the zero page
   stays allocated. The walk must end on the corrupted heap too. */
static void assert_nothing_leaks(void)
{
	unsigned n = 0;

	E.lc.ops->walk(&E.lc, count_cb, &n);
	libc_fini(&E.lc);
	task_destroy(&E.k, E.t);
	E.t = NULL;
	cr_assert_eq(E.k.buddy.free_pages, E.k.buddy.managed - 1, "%llu of %llu frames free",
	             (unsigned long long)E.k.buddy.free_pages,
	             (unsigned long long)E.k.buddy.managed);
	sim_kernel_check(&E.k);
}

/* ---- the limit ----------------------------------------------------------- */

Test(cpulimit, the_default_limit_is_finite_with_the_soft_limit_below_the_hard)
{
	struct sim_rlimit rl;

	boot("seed");
	cr_assert_eq(sys_getrlimit(&E.k, SIM_RLIMIT_CPU, &rl), 0);
	cr_assert_eq(rl.cur, SIM_RLIMIT_CPU_DEFAULT);
	cr_assert_eq(rl.max, SIM_RLIMIT_CPU_CEILING);
	cr_assert_lt(rl.cur, rl.max, "by default an endless loop ends with SIGXCPU, not SIGKILL");
	cr_assert_neq(rl.max, SIM_RLIM_INFINITY);
	cr_assert_eq(E.t->utime, 0, "the C start-up runs no allocator loop");
}

Test(cpulimit, setrlimit_lowers_the_limit_but_never_lifts_it_past_the_ceiling)
{
	struct sim_rlimit rl;

	boot("seed");
	set_cpu_limit(1000, 2000);
	set_cpu_limit(1000, SIM_RLIMIT_CPU_CEILING); /* root may raise the hard limit again */
	rl = (struct sim_rlimit){1000, SIM_RLIMIT_CPU_CEILING + 1};
	cr_assert_eq(sys_setrlimit(&E.k, SIM_RLIMIT_CPU, &rl), -SIM_EPERM);
	rl = (struct sim_rlimit){SIM_RLIM_INFINITY, SIM_RLIM_INFINITY};
	cr_assert_eq(sys_setrlimit(&E.k, SIM_RLIMIT_CPU, &rl), -SIM_EPERM);
	rl = (struct sim_rlimit){3000, 2000};
	cr_assert_eq(sys_setrlimit(&E.k, SIM_RLIMIT_CPU, &rl), -SIM_EINVAL, "soft above hard");
	cr_assert_eq(sys_getrlimit(&E.k, SIM_RLIMIT_CPU, &rl), 0);
	cr_assert_eq(rl.cur, 1000, "a refused setrlimit changes nothing");
	cr_assert_eq(rl.max, SIM_RLIMIT_CPU_CEILING);
}

/* 50 blocks of seed, none free: malloc number i walks the i blocks before it. */
static void seed_fifty(void *arg)
{
	struct libc *lc = arg;

	for (int i = 0; i < 50; i++)
		sim_xmalloc(lc, 32);
}

Test(cpulimit, seed_charges_one_step_per_block_its_first_fit_visits)
{
	boot("seed");
	sim_run(&E, seed_fifty);
	cr_assert_eq(E.t->utime, 49 * 50 / 2, "0 + 1 + ... + 49 blocks visited, got %llu",
	             (unsigned long long)E.t->utime);
}

Test(cpulimit, a_long_walk_gets_sigxcpu_exactly_at_the_soft_limit)
{
	boot("seed");
	set_cpu_limit(1000, 2000);
	cr_assert_eq(task_run(&E.k, E.t, seed_fifty, &E.lc), SIM_SIGXCPU);
	cr_assert_eq(E.t->utime, 1000);
	assert_death(SIM_SIGXCPU, "CPU time limit exceeded", "CPU time limit exceeded");
	/* Killed in the middle of a read-only walk: the heap is intact. */
	sim_check(&E.lc);
	assert_nothing_leaks();
}

Test(cpulimit, a_soft_limit_equal_to_the_hard_one_is_a_sigkill)
{
	boot("seed");
	set_cpu_limit(1000, 1000); /* what `ulimit -t` sets */
	cr_assert_eq(task_run(&E.k, E.t, seed_fifty, &E.lc), SIM_SIGKILL);
	cr_assert_eq(E.t->utime, 1000);
	assert_death(SIM_SIGKILL, "CPU time limit exceeded (hard limit)", "Killed");
	sim_check(&E.lc);
	assert_nothing_leaks();
}

static void run_after_death(void *arg)
{
	cr_assert_fail("a dead process ran again");
}

Test(cpulimit, a_killed_process_does_not_run_again)
{
	boot("seed");
	set_cpu_limit(10, 20);
	cr_assert_eq(task_run(&E.k, E.t, seed_fifty, &E.lc), SIM_SIGXCPU);
	cr_assert_eq(task_run(&E.k, E.t, run_after_death, NULL), SIM_SIGXCPU);
	cr_assert_eq(E.t->utime, 10);
}

/* ---- libc_walk_step: a read-only walk, watched for a cycle ----------------- */

/* A walk over positions: period 0 means no two positions are the same. */
static uint64_t walk_len, walk_period, walk_calls;

static void walk(void *arg)
{
	struct libc *lc = arg;
	struct libc_walk w = {0};

	for (uint64_t i = 0; i < walk_len; i++) {
		walk_calls++;
		libc_walk_step(lc, &w, 0x10000 + 16 * (walk_period ? i % walk_period : i));
	}
}

static int run_walk(uint64_t len, uint64_t period)
{
	walk_len = len;
	walk_period = period;
	walk_calls = 0;
	return task_run(&E.k, E.t, walk, &E.lc);
}

Test(cpulimit, a_long_walk_that_never_repeats_is_never_taken_for_a_cycle)
{
	boot("seed");
	cr_assert_eq(run_walk(3 * LIBC_WALK_QUIET + 12345, 0), 0);
	cr_assert_eq(E.t->utime, 3 * LIBC_WALK_QUIET + 12345, "one step a call");
}

static uint64_t periods[] = {1, 2, 3, 1000, 4097};

ParameterizedTestParameters(cpulimit, a_walk_in_a_cycle_is_caught_within_two_rounds)
{
	return cr_make_param_array(uint64_t, periods, sizeof(periods) / sizeof(periods[0]));
}

ParameterizedTest(uint64_t *period, cpulimit, a_walk_in_a_cycle_is_caught_within_two_rounds,
                  .timeout = 30)
{
	boot("seed");
	cr_assert_eq(run_walk(UINT64_MAX, *period), SIM_SIGXCPU);
	cr_assert_eq(E.t->utime, SIM_RLIMIT_CPU_DEFAULT, "charged up to the soft limit");
	/* Brent: the tortoise lands in the cycle by the first power of two
	   past the quiet part, the hare meets it within two more rounds. */
	cr_assert_leq(walk_calls, LIBC_WALK_QUIET + 4 * *period + 2, "%llu calls",
	              (unsigned long long)walk_calls);
}

Test(cpulimit, a_watched_walk_still_dies_exactly_at_the_soft_limit)
{
	/* Below, at and past the end of the quiet part, no cycle in sight. */
	uint64_t limits[] = {LIBC_WALK_QUIET / 2, LIBC_WALK_QUIET, LIBC_WALK_QUIET + 77};

	for (unsigned i = 0; i < 3; i++) {
		if (i)
			teardown();
		boot("seed");
		set_cpu_limit(limits[i], SIM_RLIMIT_CPU_CEILING);
		cr_assert_eq(run_walk(UINT64_MAX, 0), SIM_SIGXCPU);
		cr_assert_eq(E.t->utime, limits[i]);
		cr_assert_eq(walk_calls, limits[i], "the step that reached the limit was the last");
	}
}

/* ---- endless loops on a corrupted heap ------------------------------------ */

/* The program zeroes the size in a free block's control block: seed's first
   fit does cur += 0 for ever. */
static void seed_zero_size(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = sim_xmalloc(lc, 24);

	sim_xmalloc(lc, 24);
	sim_xfree(lc, p);
	libc_st64(lc, p - 8, 0);
	libc_malloc(lc, 100);
	cr_assert_fail("malloc came back from an endless walk");
}

Test(cpulimit, a_zeroed_seed_header_dies_of_sigxcpu_at_the_default_limit, .timeout = 30)
{
	boot("seed");
	cr_assert_eq(task_run(&E.k, E.t, seed_zero_size, &E.lc), SIM_SIGXCPU);
	cr_assert_eq(E.t->utime, SIM_RLIMIT_CPU_DEFAULT,
	             "the endless walk is charged up to the soft limit, no further");
	assert_death(SIM_SIGXCPU, "CPU time limit exceeded", "CPU time limit exceeded");
	assert_heap_damage_seen();
	assert_nothing_leaks();
}

Test(cpulimit, a_zeroed_seed_header_dies_at_a_lowered_limit_too, .timeout = 30)
{
	boot("seed");
	set_cpu_limit(5000, 6000);
	cr_assert_eq(task_run(&E.k, E.t, seed_zero_size, &E.lc), SIM_SIGXCPU);
	cr_assert_eq(E.t->utime, 5000);
	assert_heap_damage_seen();
	assert_nothing_leaks();
}

/* firstfit, nextfit, bestfit: two free blocks a and b (kept apart by
   allocated ones, so they do not coalesce) on the list head -> b -> a ->
   the heap's free tail; the program points a's successor link back at b. A
   request bigger than every free block then goes round b, a, b, ... */
static void freelist_cycle(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = sim_xmalloc(lc, 64), b;

	sim_xmalloc(lc, 64);
	b = sim_xmalloc(lc, 64);
	sim_xmalloc(lc, 64);
	sim_xfree(lc, a);
	sim_xfree(lc, b);
	libc_st64(lc, a + 8, b); /* a's succ link */
	libc_malloc(lc, 8000);
	cr_assert_fail("malloc came back from a cyclic free list");
}

static const char *fl_policies[] = {"firstfit", "nextfit", "bestfit"};
static int fl_index[] = {0, 1, 2};

ParameterizedTestParameters(cpulimit, a_free_list_cycle_dies_of_sigxcpu)
{
	return cr_make_param_array(int, fl_index, 3);
}

ParameterizedTest(int *pi, cpulimit, a_free_list_cycle_dies_of_sigxcpu, .timeout = 30)
{
	boot(fl_policies[*pi]);
	cr_assert_eq(task_run(&E.k, E.t, freelist_cycle, &E.lc), SIM_SIGXCPU, "%s",
	             fl_policies[*pi]);
	cr_assert_eq(E.t->utime, SIM_RLIMIT_CPU_DEFAULT);
	assert_death(SIM_SIGXCPU, "CPU time limit exceeded", "CPU time limit exceeded");
	assert_heap_damage_seen();
	assert_nothing_leaks();
}

/* glibc: two free chunks of 1104 and 1136 bytes sorted into the same large
   bin (65) have a two-entry nextsize ring. The program points the smaller
   one's bk_nextsize at itself; a request of 1120 bytes then walks the ring
   from the smallest chunk up and never reaches one big enough. */
struct where {
	vaddr_t chunk;
	char buf[32]; /* ci->where lives only during the callback */
};

static void where_cb(void *ctx, const struct chunk_info *ci)
{
	struct where *w = ctx;

	if (ci->chunk == w->chunk)
		snprintf(w->buf, sizeof(w->buf), "%s", ci->where);
}

static const char *where_of(struct libc *lc, vaddr_t chunk)
{
	static struct where w;

	w = (struct where){.chunk = chunk};
	lc->ops->walk(lc, where_cb, &w);
	return w.buf;
}

static void largebin_cycle(void *arg)
{
	struct libc *lc = arg;
	vaddr_t x = sim_xmalloc(lc, 1128), y; /* chunk of 1136 */

	sim_xmalloc(lc, 24);
	y = sim_xmalloc(lc, 1096); /* chunk of 1104 */
	sim_xmalloc(lc, 24);
	sim_xfree(lc, x); /* too big for tcache and fastbins: to unsorted */
	sim_xfree(lc, y);
	sim_xmalloc(lc, 2000); /* sorts both into their large bin, then uses top */
	cr_assert_str_eq(where_of(lc, x - 16), "largebin[65]");
	cr_assert_str_eq(where_of(lc, y - 16), "largebin[65]");
	libc_st64(lc, y - 16 + 40, y - 16); /* y->bk_nextsize = y */
	libc_malloc(lc, 1112);
	cr_assert_fail("malloc came back from a cyclic skip list");
}

Test(cpulimit, a_glibc_nextsize_cycle_dies_of_sigxcpu, .timeout = 30)
{
	boot("glibc");
	cr_assert_eq(task_run(&E.k, E.t, largebin_cycle, &E.lc), SIM_SIGXCPU, "%s",
	             E.t->death.reason);
	cr_assert_eq(E.t->utime, SIM_RLIMIT_CPU_DEFAULT);
	assert_death(SIM_SIGXCPU, "CPU time limit exceeded", "CPU time limit exceeded");
	sim_kernel_check(&E.k);
	E.lc.ops->check(&E.lc, NULL); /* must come back; what it sees is its business */
	assert_nothing_leaks();
}

/* glibc 2.33+ bounds the tcache walk of its double-free check by
   tcache_count (BZ #27052): a cycle there is glibc's own abort, not a
   CPU-time death. */
static void tcache_cycle(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p = sim_xmalloc(lc, 24), q = sim_xmalloc(lc, 24);

	sim_xfree(lc, q);
	libc_st64(lc, q, (q >> 12) ^ q);            /* q->next = PROTECT_PTR(&q->next, q) */
	libc_st64(lc, p + 8, libc_ld64(lc, q + 8)); /* p->key = tcache_key */
	libc_free(lc, p);
	cr_assert_fail("free came back from a cyclic tcache bin");
}

/* The same program on the host's glibc (tests/host/tcache_cycle.c): its
   stderr and the signal it died of. */
static char *host_tcache_cycle(int *sig)
{
	const char *dir = getenv("AM_HOST");
	char path[512];
	int fds[2], status;
	size_t len;
	char *err;
	pid_t pid;

	cr_assert(dir && *dir, "AM_HOST is not set: run through `make test`");
	snprintf(path, sizeof(path), "%s/tcache_cycle", dir);
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	err = bin_slurp(fds[0], &len);
	close(fds[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	*sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	return err;
}

Test(cpulimit, a_glibc_tcache_cycle_is_glibcs_own_abort_as_on_the_host)
{
	const char *msg = "free(): too many chunks detected in tcache\n";
	int host_sig;
	char *host_err = host_tcache_cycle(&host_sig);

	cr_assert_eq(host_sig, SIGABRT, "the real program: signal %d, stderr %s", host_sig,
	             host_err);
	cr_assert_str_eq(host_err, msg);
	free(host_err);

	boot("glibc");
	cr_assert_eq(task_run(&E.k, E.t, tcache_cycle, &E.lc), SIM_SIGABRT);
	cr_assert_str_eq(E.t->stderr_buf, msg);
	cr_assert_lt(E.t->utime, 100, "the walk stopped after tcache_count entries");
	sim_kernel_check(&E.k);
	assert_nothing_leaks();
}

/* ---- legitimate work -------------------------------------------------------- */

/* seed's first fit is quadratic: the cmu trace firefox-reddit is the most
   CPU time any replay takes (kernel.h). Its charge, read when the replay
   ends (the policy's fini runs before exit_mmap). */
static uint64_t replay_utime;

static void record_utime(struct libc *lc)
{
	replay_utime = lc->task->utime;
}

static const char *trace_path(const char *rel)
{
	return bin_trace_path(rel);
}

Test(cpulimit, replaying_the_heaviest_trace_stays_a_tenth_below_the_limit, .timeout = 120)
{
	struct malloc_ops ops = *malloc_policy("seed");
	struct replay_opts o = {.policy = "seed", .ops = &ops, .check = false};
	struct replay_result r;
	struct trace *t;

	ops.fini = record_utime;
	cr_assert_eq(trace_load(trace_path("cmu/firefox-reddit.rep"), &t, stderr), 0);
	cr_assert_eq(replay_run(t, &o, &r), 0);
	cr_assert(r.valid, "%s", r.error);
	cr_assert_gt(replay_utime, 1000000000ULL, "seed's walks are charged (%llu steps)",
	             (unsigned long long)replay_utime);
	cr_assert_lt(replay_utime, SIM_RLIMIT_CPU_DEFAULT / 10, "%llu steps",
	             (unsigned long long)replay_utime);
	trace_free(t);
}

/* The charge is part of the deterministic run: re-executing gives the same. */
Test(cpulimit, the_charge_of_a_replay_is_the_same_every_time)
{
	struct malloc_ops ops = *malloc_policy("seed");
	struct replay_opts o = {.policy = "seed", .ops = &ops, .check = true};
	struct replay_result r;
	struct trace *t;
	uint64_t first;

	ops.fini = record_utime;
	cr_assert_eq(trace_load(trace_path("malloclab/cccp-bal.rep"), &t, stderr), 0);
	cr_assert_eq(replay_run(t, &o, &r), 0);
	cr_assert(r.valid, "%s", r.error);
	first = replay_utime;
	cr_assert_gt(first, 0);
	cr_assert_eq(replay_run(t, &o, &r), 0);
	cr_assert_eq(replay_utime, first);
	trace_free(t);
}
