/*
 * test_libc.c - the user-space library (libc/libc.c): glibc 2.36's brk/sbrk/
 * mmap/munmap wrapper conventions, the malloc family's dispatch and events,
 * malloc_printerr, the memory helpers and the checker's side door. Every
 * program runs inside task_run on a booted kernel; the policy's checker and
 * kernel_check run after every operation.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kernel_sim/syscalls.h"
#include "libc/libc.h"
#include "tests/support_sim.h"

#define MiB        (1ULL << 20)
#define MAX_EVENTS 8192

static struct sim E;

static void boot(const char *policy)
{
	sim_boot(&E, &(struct sim_opts){.phys_bytes = 16 * MiB,
	                                .task = "test_libc",
	                                .policy = policy,
	                                .max_events = MAX_EVENTS,
	                                .record = true});
}

static void boot_firstfit(void)
{
	boot("firstfit");
}

static void teardown(void)
{
	sim_teardown(&E);
}

TestSuite(libc, .init = boot_firstfit, .fini = teardown);

/* ---- sbrk / brk ---------------------------------------------------------- */

static void sbrk_zero_twice(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = libc_sbrk(lc, 0), b;

	sim_check(lc);
	b = libc_sbrk(lc, 0);
	sim_check(lc);
	cr_assert_neq(a, (vaddr_t)-1);
	cr_assert_eq(a, b);
	cr_assert_eq(a, E.t->mm->start_brk, "the first sbrk(0) learns start_brk");
	cr_assert_eq(lc->curbrk, a);
}

Test(libc, sbrk_zero_twice_returns_the_same_break)
{
	sim_run(&E, sbrk_zero_twice);
}

static void sbrk_one(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = libc_sbrk(lc, 0), b, c;

	b = libc_sbrk(lc, 1);
	sim_check(lc);
	c = libc_sbrk(lc, 0);
	sim_check(lc);
	cr_assert_eq(b, a, "sbrk returns the old break");
	cr_assert_eq(c, a + 1, "the kernel keeps the unaligned break");
	cr_assert_eq(E.t->mm->brk, a + 1);
}

Test(libc, sbrk_returns_the_old_break)
{
	sim_run(&E, sbrk_one);
}

static void brk_below(void *arg)
{
	struct libc *lc = arg;
	vaddr_t start = libc_sbrk(lc, 0);
	uint64_t calls = lc->st.brk_calls;

	lc->errno_ = 0;
	cr_assert_eq(libc_brk(lc, start - 4096), 0, "a refused shrink looks like success");
	sim_check(lc);
	cr_assert_eq(lc->errno_, 0);
	cr_assert_eq(lc->st.brk_calls, calls + 1);
	cr_assert_eq(lc->curbrk, start, "the kernel returned the unchanged break");
	cr_assert_eq(libc_sbrk(lc, 0), start);
}

Test(libc, brk_below_heap_start_returns_0_and_leaves_the_break)
{
	sim_run(&E, brk_below);
}

static void brk_grow_shrink(void *arg)
{
	struct libc *lc = arg;
	vaddr_t start = libc_sbrk(lc, 0);
	uint64_t rss;

	cr_assert_eq(libc_brk(lc, start + 3 * PAGE_SIZE), 0);
	sim_check(lc);
	cr_assert_eq(E.t->mm->brk, start + 3 * PAGE_SIZE);
	libc_st64(lc, PAGE_ALIGN(start) + 2 * PAGE_SIZE - 8, 42);
	sim_check(lc);
	rss = E.t->mm->rss_stat[MM_ANONPAGES];
	cr_assert_eq(libc_brk(lc, start + PAGE_SIZE), 0);
	sim_check(lc);
	cr_assert_eq(lc->curbrk, start + PAGE_SIZE);
	cr_assert_eq(E.t->mm->rss_stat[MM_ANONPAGES], rss - 1, "the shrink freed the touched page");
}

Test(libc, brk_grows_and_shrinks_the_heap)
{
	sim_run(&E, brk_grow_shrink);
}

static void sbrk_rlimit(void *arg)
{
	struct libc *lc = arg;
	struct sim_rlimit rl = {.cur = 64 * 1024, .max = SIM_RLIM_INFINITY};
	vaddr_t start = libc_sbrk(lc, 0);

	cr_assert_eq(sys_setrlimit(lc->k, SIM_RLIMIT_DATA, &rl), 0);
	lc->errno_ = 0;
	cr_assert_eq(libc_sbrk(lc, (int64_t)MiB), (vaddr_t)-1);
	sim_check(lc);
	cr_assert_eq(lc->errno_, SIM_ENOMEM);
	cr_assert_eq(libc_sbrk(lc, 0), start, "the break did not move");
	cr_assert_eq(E.t->mm->brk, start);
}

Test(libc, sbrk_beyond_rlimit_data_fails_with_enomem)
{
	sim_run(&E, sbrk_rlimit);
}

static void sbrk_overflow(void *arg)
{
	struct libc *lc = arg;
	vaddr_t start = libc_sbrk(lc, 0);
	uint64_t calls = lc->st.brk_calls;

	lc->errno_ = 0;
	cr_assert_eq(libc_sbrk(lc, -(int64_t)start - 1), (vaddr_t)-1);
	cr_assert_eq(lc->errno_, SIM_ENOMEM);
	cr_assert_eq(libc_sbrk(lc, INT64_MAX), (vaddr_t)-1, "the kernel refuses");
	cr_assert_eq(lc->st.brk_calls, calls + 1, "the underflow never reached the kernel");
	sim_check(lc);
}

Test(libc, sbrk_below_zero_fails_without_a_system_call)
{
	sim_run(&E, sbrk_overflow);
}

/* ---- mmap / munmap ------------------------------------------------------- */

static void mmap_roundtrip(void *arg)
{
	struct libc *lc = arg;
	vaddr_t m = libc_mmap(lc, 0, 2 * PAGE_SIZE, SIM_PROT_READ | SIM_PROT_WRITE,
	                      SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS);

	sim_check(lc);
	cr_assert_neq(m, LIBC_MAP_FAILED);
	cr_assert_eq(m & (PAGE_SIZE - 1), 0);
	libc_st64(lc, m + PAGE_SIZE + 8, 0x1122334455667788ULL);
	sim_check(lc);
	cr_assert_eq(libc_ld64(lc, m + PAGE_SIZE + 8), 0x1122334455667788ULL);
	cr_assert_eq(lc->st.mmap_calls, 1);
	cr_assert_eq(lc->st.mmapped_bytes, 0, "the program's own mapping is not malloc's");
	cr_assert_eq(libc_munmap(lc, m, 2 * PAGE_SIZE), 0);
	sim_check(lc);
	cr_assert_eq(lc->st.munmap_calls, 1);
}

Test(libc, mmap_and_munmap_round_trip)
{
	sim_run(&E, mmap_roundtrip);
}

static void mmap_errors(void *arg)
{
	struct libc *lc = arg;

	lc->errno_ = 0;
	cr_assert_eq(libc_mmap(lc, 0, 0, SIM_PROT_READ, SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS),
	             LIBC_MAP_FAILED);
	cr_assert_eq(lc->errno_, SIM_EINVAL, "mmap of length 0 is EINVAL");
	sim_check(lc);
	lc->errno_ = 0;
	cr_assert_eq(libc_munmap(lc, 0x10001, PAGE_SIZE), -1);
	cr_assert_eq(lc->errno_, SIM_EINVAL, "an unaligned munmap is EINVAL");
	sim_check(lc);
}

Test(libc, mmap_and_munmap_failures_set_errno)
{
	sim_run(&E, mmap_errors);
}

/* ---- memory helpers ------------------------------------------------------ */

static void helpers(void *arg)
{
	struct libc *lc = arg;
	vaddr_t h = libc_sbrk(lc, 3 * PAGE_SIZE), a = h + 2 * PAGE_SIZE - 4;
	uint64_t v, faults;

	libc_st64(lc, a, 0xa1a2a3a4a5a6a7a8ULL); /* crosses the page boundary */
	sim_check(lc);
	cr_assert_eq(libc_ld64(lc, a), 0xa1a2a3a4a5a6a7a8ULL);
	libc_st32(lc, h + 16, 0xdeadbeef);
	cr_assert_eq(libc_ld32(lc, h + 16), 0xdeadbeef);
	libc_memset(lc, h + 100, 0x5a, 3000);
	libc_memcpy(lc, h + 4000, h + 100, 3000);
	sim_check(lc);
	cr_assert_eq(cpu_check_fill(lc->cpu, h + 4000, 0x5a, 3000), 0);
	cr_assert_eq(libc_ld64(lc, h + 96) & 0xffffffff, 0, "memset stayed in bounds");

	faults = E.k.probe.c.page_faults;
	E.nev = 0;
	cr_assert(libc_peek64(lc, a, &v));
	cr_assert_eq(v, 0xa1a2a3a4a5a6a7a8ULL, "peek across a page boundary: %#llx at %#llx",
	             (unsigned long long)v, (unsigned long long)a);
	cr_assert_not(libc_peek64(lc, PAGE_ALIGN(h + 3 * PAGE_SIZE) + 64, &v), "beyond the break");
	cr_assert_not(libc_peek64(lc, 0x10, &v), "the null page");
	cr_assert_eq(E.k.probe.c.page_faults, faults, "peek never faults");
	cr_assert_eq(E.nev, 0, "peek emits no event");
}

Test(libc, memory_helpers_go_through_the_mmu_and_peek_has_no_side_effects)
{
	sim_run(&E, helpers);
}

static void wild_load(void *arg)
{
	libc_ld64(arg, 0x10);
	cr_assert_fail("a load of the null page returned");
}

Test(libc, a_wild_load_kills_the_process_with_sigsegv)
{
	cr_assert_eq(task_run(&E.k, E.t, wild_load, &E.lc), SIM_SIGSEGV);
	cr_assert(E.t->dead);
	cr_assert_eq(E.t->death.code, SIM_SEGV_MAPERR);
	cr_assert_eq(kernel_check(&E.k, stderr), 0);
}

static void static_alloc(void *arg)
{
	struct libc *lc = arg;
	vaddr_t a = libc_static_alloc(lc, 1), b = libc_static_alloc(lc, 24);

	cr_assert_eq(a & 15, 0);
	cr_assert_eq(b & 15, 0);
	cr_assert_geq(b, a + 16);
	cr_assert_geq(a, lc->static_base);
	cr_assert_leq(b + 24, lc->static_end);
	cr_assert_eq(libc_ld64(lc, b), 0, "the bss reads as zero");
	libc_st64(lc, b + 16, 7);
	sim_check(lc);
}

Test(libc, static_alloc_carves_aligned_zeroed_bss)
{
	sim_run(&E, static_alloc);
}

/* ---- malloc_printerr ------------------------------------------------------- */

static void printerr(void *arg)
{
	libc_malloc_printerr(arg, "free(): invalid pointer");
}

Test(libc, malloc_printerr_writes_to_stderr_and_aborts)
{
	cr_assert_eq(task_run(&E.k, E.t, printerr, &E.lc), SIM_SIGABRT);
	cr_assert(E.t->dead);
	cr_assert_eq(E.t->death.signo, SIM_SIGABRT);
	cr_assert_eq(E.t->stderr_len, strlen("free(): invalid pointer\n"));
	cr_assert_eq(memcmp(E.t->stderr_buf, "free(): invalid pointer\n", E.t->stderr_len), 0);
	cr_assert_eq(kernel_check(&E.k, stderr), 0);
}

/* ---- the malloc family ----------------------------------------------------- */

static int find_event(unsigned from, int layer, int kind, const char *fn)
{
	for (unsigned i = from; i < E.nev; i++)
		if (E.ev[i].layer == layer && E.ev[i].kind == kind && E.ev[i].fn &&
		    strcmp(E.ev[i].fn, fn) == 0)
			return (int)i;
	return -1;
}

static void malloc_events(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p;
	int c, s, b, sc, r;

	E.nev = 0;
	p = libc_malloc(lc, 100);
	sim_check(lc);
	cr_assert_neq(p, 0);
	c = find_event(0, LAYER_LIBC, EV_CALL, "malloc");
	s = find_event(0, LAYER_LIBC, EV_CALL, "__sbrk");
	b = find_event(0, LAYER_LIBC, EV_CALL, "__brk");
	sc = find_event(0, LAYER_KERNEL, EV_SYSCALL, "entry_SYSCALL_64");
	r = find_event(0, LAYER_LIBC, EV_RET, "malloc");
	cr_assert(c >= 0 && s > c && b > s && sc > b && r > sc,
	          "malloc -> __sbrk -> __brk -> syscall -> return (%d %d %d %d %d)", c, s, b, sc,
	          r);
	cr_assert_eq(event_field(&E.ev[c], "bytes", 0), 100);
	cr_assert_eq(event_field(&E.ev[r], "ret", 0), p);
	cr_assert_eq(E.ev[r].depth, E.ev[c].depth);
	E.nev = 0;
	libc_free(lc, p);
	sim_check(lc);
	cr_assert_geq(find_event(0, LAYER_LIBC, EV_CALL, "free"), 0);
	cr_assert_geq(find_event(0, LAYER_LIBC, EV_RET, "free"), 0);
}

Test(libc, malloc_emits_nested_calls_down_to_the_system_call)
{
	sim_run(&E, malloc_events);
}

static void footprint(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p, q;

	cr_assert_eq(libc_footprint(lc), 0);
	p = libc_malloc(lc, 100);
	sim_check(lc);
	cr_assert_eq(libc_footprint(lc), E.t->mm->brk - E.t->mm->start_brk);
	q = libc_malloc(lc, 200000);
	sim_check(lc);
	cr_assert_neq(q, 0);
	cr_assert_eq(lc->st.mmapped_bytes, PAGE_ALIGN(200000 + 16));
	cr_assert_eq(libc_footprint(lc), E.t->mm->brk - E.t->mm->start_brk + PAGE_ALIGN(200000 + 16));
	libc_free(lc, q);
	sim_check(lc);
	cr_assert_eq(lc->st.mmapped_bytes, 0);
	cr_assert_eq(lc->st.max_mmapped_bytes, PAGE_ALIGN(200000 + 16));
	cr_assert_eq(lc->st.munmap_calls, 1);
	libc_free(lc, p);
	sim_check(lc);
}

Test(libc, footprint_counts_the_heap_and_the_allocators_mappings)
{
	sim_run(&E, footprint);
}

static void calloc_realloc(void *arg)
{
	struct libc *lc = arg;
	vaddr_t p, q;
	int r;

	p = libc_malloc(lc, 256);
	libc_memset(lc, p, 0xee, 256);
	libc_free(lc, p);
	sim_check(lc);
	q = libc_calloc(lc, 16, 16);
	sim_check(lc);
	cr_assert_eq(q, p, "first fit reuses the dirty block");
	cr_assert_eq(cpu_check_fill(lc->cpu, q, 0, 256), 0, "calloc cleared it");

	lc->errno_ = 0;
	cr_assert_eq(libc_calloc(lc, 1ULL << 40, 1ULL << 40), 0);
	cr_assert_eq(lc->errno_, SIM_ENOMEM, "nmemb * size overflowed");

	p = libc_realloc(lc, 0, 40);
	sim_check(lc);
	cr_assert_neq(p, 0, "realloc(NULL, n) is malloc");
	cr_assert_eq(libc_realloc(lc, p, 0), 0, "realloc(p, 0) frees");
	sim_check(lc);

	cr_assert_eq(libc_posix_memalign(lc, &p, 3, 10), SIM_EINVAL);
	cr_assert_eq(libc_posix_memalign(lc, &p, 24, 10), SIM_EINVAL);
	r = libc_posix_memalign(lc, &p, 16, 10);
	cr_assert_eq(r, 0);
	cr_assert_eq(p & 15, 0);
	cr_assert_geq(libc_malloc_usable_size(lc, p), 10);
	cr_assert_eq(libc_malloc_usable_size(lc, 0), 0);
	libc_free(lc, p);
	libc_free(lc, 0);
	libc_free(lc, q);
	sim_check(lc);
}

Test(libc, calloc_realloc_and_memalign_follow_glibc_conventions)
{
	sim_run(&E, calloc_realloc);
}

Test(libc, the_registry_knows_every_policy)
{
	const char *names[] = {"seed", "firstfit", "nextfit", "bestfit", "glibc", "best"};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cr_assert_not_null(malloc_policy(names[i]), "%s", names[i]);
		cr_assert_str_eq(malloc_policies[i]->name, names[i]);
	}
	cr_assert_null(malloc_policy("nosuch"));
}
