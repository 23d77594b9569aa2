/*
 * test_faultinject.c - out-of-memory paths of every caller of the buddy
 * allocator (should_fail_alloc_page, kernel_sim/buddy.h fail_after) and of
 * malloc when sbrk fails (RLIMIT_DATA), swept over whole scenarios.
 *
 * For each scenario of demos/ and demos/crash/: a clean run counts the buddy
 * allocations A its statements make; then, for N sampled in [0, A], a fresh
 * session gets fail_after = N and runs the statements. Whatever the program
 * does then (malloc returns NULL, an expect fails, the OOM killer ends it),
 * after every statement kernel_check and the policy's checker find nothing,
 * and once the task is destroyed the buddy allocator is exactly as it was at
 * boot: every frame and every page-table page came back.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "../demos/cli/script.h"
#include "../demos/cli/session.h"
#include "../kernel_sim/syscalls.h"

/* All N below this are swept; above it, SAMPLES values spread over the rest. */
#define SWEEP_ALL 256
#define SAMPLES   64

static const char *root(void)
{
	const char *r = getenv("AM_ROOT");

	return r ? r : ".";
}

static void scenarios(glob_t *g)
{
	char pat[4096];

	snprintf(pat, sizeof(pat), "%s/demos/*.ams", root());
	cr_assert_eq(glob(pat, 0, NULL, g), 0, "no scenario under %s", pat);
	snprintf(pat, sizeof(pat), "%s/demos/crash/*.ams", root());
	glob(pat, GLOB_APPEND, NULL, g);
}

/* The buddy allocator's free lists, per order, at boot with default options. */
struct buddy_state {
	uint64_t free_pages;
	uint64_t nr_free[NR_PAGE_ORDERS];
};

static void buddy_state_of(const struct buddy *b, struct buddy_state *st)
{
	st->free_pages = b->free_pages;
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		st->nr_free[o] = b->free_area[o].nr_free;
}

static void boot_state(const struct session_opts *o, struct buddy_state *st)
{
	struct kernel k;

	cr_assert_eq(kernel_boot(&k, &o->kopts, stderr), 0);
	buddy_state_of(&k.buddy, st);
	kernel_shutdown(&k);
}

struct run_result {
	uint64_t allocs; /* buddy allocations made by the statements */
	uint64_t failed; /* buddy allocations that failed */
	size_t ran;      /* statements run */
	bool ended;      /* ran past the last statement */
	bool killed;
	int signo;
};

/*
 * Run sc with fail_after = n (-1: never) and RLIMIT_DATA = data (0: unlimited)
 * set after the session is created; check after every statement; destroy the
 * task and compare the buddy allocator with boot.
 */
static struct run_result run_injected(const struct script *sc, const char *policy, int64_t n,
                                      uint64_t data, const struct buddy_state *boot)
{
	struct session_opts o;
	struct session *s;
	struct run_result r = {0};
	struct buddy_state after;
	uint64_t allocs0;
	/* The scripts of demos/crash/ corrupt their heap on purpose (a store past
	   a block's end, a double free): there only the kernel must stay sound. */
	bool heap_check = !strstr(sc->path, "/crash/");

	session_default_opts(&o);
	o.policy = policy;
	s = session_create(sc, &o, stderr);
	cr_assert_not_null(s, "%s: session_create", sc->path);
	if (data)
		s->task->rlim[SIM_RLIMIT_DATA].cur = data;
	allocs0 = s->k.buddy.allocs;
	s->k.buddy.fail_after = n;
	while (!session_done(s)) {
		int rc = session_step(s);

		r.ran++;
		cr_assert_eq(
		    heap_check ? session_check(s, stderr) : kernel_check(&s->k, stderr), 0,
		    "%s:%d: invariants broken (policy %s, fail_after %lld, RLIMIT_DATA %llu)",
		    sc->path, s->res.line, s->policy, (long long)n, (unsigned long long)data);
		if (rc) {
			r.killed = true;
			r.signo = s->task ? s->task->death.signo : 0;
			break;
		}
	}
	r.ended = s->next >= sc->nr_stmts && !s->failed;
	r.allocs = s->k.buddy.allocs - allocs0;
	r.failed = s->k.buddy.failed;
	s->k.buddy.fail_after = -1;

	/* The exit of the process and of its children (a fork's child the
	   script did not end), then the allocator must be as at boot. */
	libc_fini(&s->main_lc);
	while (s->k.tasks)
		task_destroy(&s->k, s->k.tasks);
	s->task = NULL;
	cr_assert_eq(kernel_check(&s->k, stderr), 0,
	             "%s: kernel_check after exit (fail_after %lld)", sc->path, (long long)n);
	buddy_state_of(&s->k.buddy, &after);
	cr_assert_eq(after.free_pages, boot->free_pages,
	             "%s: %lld frames leaked (policy %s, fail_after %lld, RLIMIT_DATA %llu)",
	             sc->path, (long long)(boot->free_pages - after.free_pages), s->policy,
	             (long long)n, (unsigned long long)data);
	for (int ord = 0; ord < NR_PAGE_ORDERS; ord++)
		cr_assert_eq(after.nr_free[ord], boot->nr_free[ord],
		             "%s: order %d has %llu free blocks, %llu at boot (fail_after %lld)",
		             sc->path, ord, (unsigned long long)after.nr_free[ord],
		             (unsigned long long)boot->nr_free[ord], (long long)n);
	session_destroy(s);
	return r;
}

/* The N to try for a scenario that makes a allocations: all small ones, then
   a spread; each once. Returns how many were written to ns. */
static size_t sample_ns(uint64_t a, int64_t *ns, size_t cap)
{
	size_t k = 0;

	for (uint64_t n = 0; n <= a && n < SWEEP_ALL && k < cap; n++)
		ns[k++] = (int64_t)n;
	if (a >= SWEEP_ALL)
		for (unsigned i = 1; i <= SAMPLES && k < cap; i++) {
			int64_t n = SWEEP_ALL + (int64_t)((a - SWEEP_ALL) * i / SAMPLES);

			if (n != ns[k - 1])
				ns[k++] = n;
		}
	return k;
}

/*
 * Sweep fail_after over every scenario with policy (NULL: the script's own).
 * Returns the number of runs.
 */
static uint64_t sweep(const char *policy)
{
	glob_t g;
	struct buddy_state boot;
	struct session_opts o;
	uint64_t total_runs = 0, total_failed = 0, killed = 0;

	session_default_opts(&o);
	boot_state(&o, &boot);
	scenarios(&g);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct script *sc;
		struct run_result clean;
		int64_t ns[SWEEP_ALL + SAMPLES + 1];
		size_t nn;

		cr_assert_eq(script_load(NULL, g.gl_pathv[i], &sc, stderr), 0, "%s", g.gl_pathv[i]);
		clean = run_injected(sc, policy, -1, 0, &boot);
		cr_assert_eq(clean.failed, 0, "%s: a clean run failed an allocation", sc->path);
		nn = sample_ns(clean.allocs, ns, sizeof(ns) / sizeof(ns[0]));
		for (size_t j = 0; j < nn; j++) {
			struct run_result r = run_injected(sc, policy, ns[j], 0, &boot);

			total_runs++;
			total_failed += r.failed;
			if (r.killed && r.signo == SIM_SIGKILL)
				killed++;
			/* The run is cut short only by a signal. */
			cr_assert(r.killed || r.ended, "%s: stopped early", sc->path);
			if (ns[j] < (int64_t)clean.allocs)
				cr_assert_gt(r.failed, 0,
				             "%s: fail_after %lld < %llu failed nothing", sc->path,
				             (long long)ns[j], (unsigned long long)clean.allocs);
		}
		script_free(sc);
	}
	globfree(&g);
	cr_log_info("faultinject %s: %llu runs, %llu failed allocations, %llu OOM kills",
	            policy ? policy : "(scripts' own)", (unsigned long long)total_runs,
	            (unsigned long long)total_failed, (unsigned long long)killed);
	cr_assert_gt(killed, 0, "no run reached the OOM killer");
	return total_runs;
}

Test(faultinject, every_scenario_survives_a_failing_page_allocator_and_leaks_nothing,
     .timeout = 120)
{
	sweep(NULL);
}

#define SWEEP_POLICY(name)                                                                         \
	Test(faultinject, failing_page_allocator_under_policy_##name, .timeout = 120)              \
	{                                                                                          \
		cr_assert_not_null(malloc_policy(#name));                                          \
		sweep(#name);                                                                      \
	}

SWEEP_POLICY(seed)
SWEEP_POLICY(firstfit)
SWEEP_POLICY(nextfit)
SWEEP_POLICY(bestfit)
SWEEP_POLICY(glibc)
SWEEP_POLICY(best)

Test(faultinject, every_scenario_survives_a_small_rlimit_data, .timeout = 120)
{
	/* Below the first heap growth, at glibc's first 132 KiB sysmalloc, in
	   between, and beyond most scenarios. */
	static const uint64_t limits[] = {1, 4096, 8192, 0x21000, 0x22000, 0x40000, 1 << 20};
	glob_t g;
	struct buddy_state boot;
	struct session_opts o;

	session_default_opts(&o);
	boot_state(&o, &boot);
	scenarios(&g);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct script *sc;

		cr_assert_eq(script_load(NULL, g.gl_pathv[i], &sc, stderr), 0, "%s", g.gl_pathv[i]);
		for (size_t j = 0; j < sizeof(limits) / sizeof(limits[0]); j++) {
			struct run_result r = run_injected(sc, NULL, -1, limits[j], &boot);

			cr_assert(r.killed || r.ended, "%s: stopped early", sc->path);
			/* Both at once: a small heap and a failing page allocator. */
			run_injected(sc, NULL, 8, limits[j], &boot);
		}
		script_free(sc);
	}
	globfree(&g);
}

/* malloc fails cleanly for every policy when sbrk cannot grow the heap. */
struct oom_ctx {
	struct libc *lc;
	vaddr_t p[64];
	int n;
};

static void malloc_until_null(void *arg)
{
	struct oom_ctx *c = arg;

	for (c->n = 0; c->n < 64; c->n++) {
		c->p[c->n] = libc_malloc(c->lc, 1000 + 300 * (uint64_t)c->n);
		if (!c->p[c->n])
			break;
		libc_memset(c->lc, c->p[c->n], 0x5a, 1000);
	}
	for (int i = 0; i < c->n; i += 2)
		libc_free(c->lc, c->p[i]);
}

Test(faultinject, every_policy_returns_null_when_sbrk_fails_and_stays_consistent)
{
	for (const struct malloc_ops *const *ops = malloc_policies; *ops; ops++) {
		struct kernel k;
		struct kernel_opts ko;
		struct task *t;
		struct libc lc;
		struct oom_ctx c = {.lc = &lc};

		kernel_default_opts(&ko);
		cr_assert_eq(kernel_boot(&k, &ko, stderr), 0);
		t = task_create(&k, "oom");
		cr_assert_not_null(t);
		t->rlim[SIM_RLIMIT_DATA].cur = 16384;
		libc_init(&lc, &k, *ops);
		cr_assert_eq(task_run(&k, t, malloc_until_null, &c), 0, "%s", (*ops)->name);
		cr_assert_lt(c.n, 64, "%s: malloc never failed under a 16 KiB RLIMIT_DATA",
		             (*ops)->name);
		cr_assert_eq(lc.errno_, SIM_ENOMEM, "%s: errno %d", (*ops)->name, lc.errno_);
		cr_assert_eq(kernel_check(&k, stderr), 0, "%s", (*ops)->name);
		if ((*ops)->check)
			cr_assert_eq((*ops)->check(&lc, stderr), 0, "%s", (*ops)->name);
		libc_fini(&lc);
		task_destroy(&k, t);
		kernel_shutdown(&k);
	}
}

/* task_create with a failing page allocator: NULL and nothing left behind. */
Test(faultinject, task_create_fails_cleanly_at_every_allocation)
{
	struct kernel_opts ko;
	struct kernel k;
	struct buddy_state boot, after;
	int64_t n;

	kernel_default_opts(&ko);
	cr_assert_eq(kernel_boot(&k, &ko, stderr), 0);
	buddy_state_of(&k.buddy, &boot);
	for (n = 0; n < 64; n++) {
		struct task *t;

		k.buddy.fail_after = n;
		t = task_create(&k, "oom");
		k.buddy.fail_after = -1;
		cr_assert_eq(kernel_check(&k, stderr), 0, "fail_after %lld", (long long)n);
		if (t) {
			task_destroy(&k, t);
			break;
		}
		buddy_state_of(&k.buddy, &after);
		cr_assert_eq(after.free_pages, boot.free_pages,
		             "fail_after %lld: %lld frames leaked", (long long)n,
		             (long long)(boot.free_pages - after.free_pages));
	}
	cr_assert_gt(n, 0, "task_create never failed");
	cr_assert_lt(n, 64, "task_create never succeeded");
	buddy_state_of(&k.buddy, &after);
	cr_assert_eq(after.free_pages, boot.free_pages);
	kernel_shutdown(&k);
}
