/*
 * test_oracle_kernel.c - the simulated kernel against this machine's real
 * one. Each host probe (tests/host/brk_probe.c, tests/host/mmap_probe.c,
 * built by `make test` into $AM_HOST) makes a sequence of brk / mmap /
 * munmap / setrlimit calls and memory accesses on the real kernel and prints
 * "key=value" lines: results as offsets from a base address, errno values,
 * VMA counts, minor-fault counts. The same sequence runs here through the
 * simulated kernel's system calls and the simulated CPU, with glibc's
 * wrapper semantics (sbrk, brk, mmap, munmap returning -1 and errno), and
 * must print the same lines. How this machine's kernel is configured is
 * probed, not assumed (tests/support_oracle.h): the simulation boots with
 * the shared zero page when the host's kernel uses it, without it when the
 * host's kernel was booted with it off; the probes turn THP off for
 * themselves, as the simulation models none. tests/host/image_probe.c
 * prints how this machine maps a PIE's image, for the simulated layout.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_sim/kernel.h"
#include "kernel_sim/proc.h"
#include "kernel_sim/syscalls.h"
#include "tests/support_oracle.h"
#include "tests/support_sim.h"

#define PG     ((int64_t)PAGE_SIZE)
#define RW     (SIM_PROT_READ | SIM_PROT_WRITE)
#define ANON   (SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS)
#define FAILED ((vaddr_t)-1)

static struct kernel k;
static struct task *t;
static struct oracle_out out; /* the simulated side */
static int sim_errno;
static vaddr_t curbrk; /* glibc's __curbrk */

static void boot(void)
{
	struct kernel_opts o;

	oracle_kernel_opts(&o); /* the zero page as this machine's kernel has it */
	cr_assert_eq(kernel_boot(&k, &o, stderr), 0);
	t = task_create(&k, "probe");
	cr_assert_not_null(t);
	cr_assert_eq(kernel_check(&k, stderr), 0);
	out.len = 0;
	curbrk = 0;
}

static void shutdown(void)
{
	kernel_shutdown(&k);
}

TestSuite(oracle_kernel, .init = boot, .fini = shutdown);

static void check(void)
{
	cr_assert_eq(kernel_check(&k, stderr), 0, "kernel_check failed");
}

/* ---- glibc's wrappers (sysdeps/unix/sysv/linux/brk.c, misc/sbrk.c) ------- */

static int g_brk(vaddr_t addr)
{
	curbrk = sys_brk(&k, addr);
	check();
	if (curbrk < addr) {
		sim_errno = SIM_ENOMEM;
		return -1;
	}
	return 0;
}

static vaddr_t g_sbrk(int64_t inc)
{
	vaddr_t old;

	if (!curbrk && g_brk(0) < 0)
		return FAILED;
	if (inc == 0)
		return curbrk;
	old = curbrk;
	if ((inc > 0 && old + (uint64_t)inc < old) || (inc < 0 && old < (uint64_t)-inc)) {
		sim_errno = SIM_ENOMEM;
		return FAILED;
	}
	if (g_brk(old + (uint64_t)inc) < 0)
		return FAILED;
	return old;
}

static vaddr_t g_mmap(vaddr_t addr, uint64_t len, int prot, int flags)
{
	int64_t r = sys_mmap(&k, addr, len, prot, flags, -1, 0);

	check();
	if (r < 0) {
		sim_errno = (int)-r;
		return FAILED;
	}
	return (vaddr_t)r;
}

static int g_munmap(vaddr_t addr, uint64_t len)
{
	int64_t r = sys_munmap(&k, addr, len);

	check();
	if (r < 0) {
		sim_errno = (int)-r;
		return -1;
	}
	return 0;
}

static int g_setrlimit(int res, uint64_t cur, uint64_t max)
{
	struct sim_rlimit rl = {cur, max};
	int64_t r = sys_setrlimit(&k, res, &rl);

	check();
	if (r < 0) {
		sim_errno = (int)-r;
		return -1;
	}
	return 0;
}

/* ---- memory accesses as the process, counting its minor faults ----------- */

/* Touch pages as the process (sim_touch_pages); the minor faults it took. */
static long touch(vaddr_t va, long pages, bool write, uint64_t *sum)
{
	uint64_t before = t->min_flt;

	cr_assert_eq(sim_touch_pages(&k, t, va, (uint64_t)pages, write, sum), 0,
	             "the probe died at %#llx", (unsigned long long)t->death.addr);
	return (long)(t->min_flt - before);
}

/* ---- brk ---------------------------------------------------------------- */

Test(oracle_kernel, brk_matches_the_real_kernel)
{
	char *real = oracle_run("brk_probe", NULL);
	vaddr_t heap, old, p, a;
	uint64_t r, usage;

	heap = g_sbrk(0);
	cr_assert_eq(heap, t->mm->start_brk);

	old = g_sbrk(1);
	oracle_put(&out, "sbrk1_ret", (long)(old - heap));
	oracle_put(&out, "sbrk1_break", (long)(g_sbrk(0) - heap));

	r = sys_brk(&k, heap - PAGE_SIZE);
	check();
	oracle_put(&out, "raw_brk_below", (long)(r - heap));
	oracle_put(&out, "glibc_brk_below", g_brk(heap - PAGE_SIZE));
	oracle_put(&out, "break_after_below", (long)(g_sbrk(0) - heap));

	p = g_sbrk(64 * PG);
	oracle_put(&out, "grow64_ret", (long)(p - heap));
	oracle_put(&out, "grow64_break", (long)(g_sbrk(0) - heap));
	oracle_put(&out, "grow64_write_faults", touch(p, 64, true, NULL));
	oracle_put(&out, "grow64_rewrite_faults", touch(p, 64, true, NULL));

	p = g_sbrk(64 * PG);
	oracle_put(&out, "read64_faults", touch(p, 64, false, NULL));
	oracle_put(&out, "read64_then_write_faults", touch(p, 64, true, NULL));

	usage = (t->mm->brk - t->mm->start_brk) + (t->mm->end_data - t->mm->start_data);
	oracle_put(&out, "setrlimit_ret", g_setrlimit(SIM_RLIMIT_DATA, usage, SIM_RLIM_INFINITY));
	sim_errno = 0;
	old = g_sbrk(0);
	r = g_sbrk(PG);
	oracle_put(&out, "rlimit_grow_ret", (long)r);
	oracle_put(&out, "rlimit_grow_errno", sim_errno);
	oracle_put(&out, "rlimit_break_unchanged", g_sbrk(0) == old);
	r = g_sbrk(-PG);
	oracle_put(&out, "rlimit_shrink_ok", r != FAILED && g_sbrk(0) == old - PAGE_SIZE);
	g_setrlimit(SIM_RLIMIT_DATA, SIM_RLIM_INFINITY, SIM_RLIM_INFINITY);
	r = g_sbrk(PG);
	oracle_put(&out, "unlimited_grow_ok", r != FAILED && g_sbrk(0) == old);

	sim_errno = 0;
	oracle_put(&out, "setrlimit_cur_above_max",
	           g_setrlimit(SIM_RLIMIT_DATA, 2 * PAGE_SIZE, PAGE_SIZE));
	oracle_put(&out, "setrlimit_cur_above_max_errno", sim_errno);

	old = g_sbrk(0);
	g_sbrk((int64_t)(PAGE_ALIGN(old) - old));
	oracle_put(&out, "aligned_break", (long)(g_sbrk(0) - heap));

	/* the child of the probe: grow, touch, shrink, store into the third page */
	a = g_sbrk(0);
	g_sbrk(4 * PG);
	touch(a, 4, true, NULL);
	g_sbrk(-4 * PG);
	{
		int sig = sim_touch_pages(&k, t, a + 2 * PAGE_SIZE + 5, 1, true, NULL);

		oracle_put(&out, "shrink_store_sigsegv", sig == SIM_SIGSEGV);
		oracle_put(&out, "shrink_store_si_code", t->death.code);
		oracle_put(&out, "shrink_store_addr", (long)(t->death.addr - heap));
	}

	oracle_assert_same("brk", out.text, real);
	free(real);
}

/* ---- mmap / munmap ------------------------------------------------------ */

static void window(const char *key, vaddr_t lo, vaddr_t hi)
{
	long lines = 0, pages = 0;
	char name[64];

	for (size_t i = 0; i < t->mm->nr_vmas; i++) {
		const struct vm_area_struct *v = &t->mm->vmas[i];

		if (v->vm_end <= lo || v->vm_start >= hi)
			continue;
		lines++;
		pages += (long)(((v->vm_end < hi ? v->vm_end : hi) -
		                 (v->vm_start > lo ? v->vm_start : lo)) /
		                PAGE_SIZE);
	}
	snprintf(name, sizeof(name), "%s_vmas", key);
	oracle_put(&out, name, lines);
	snprintf(name, sizeof(name), "%s_pages", key);
	oracle_put(&out, name, pages);
}

Test(oracle_kernel, mmap_matches_the_real_kernel)
{
	char *real = oracle_run("mmap_probe", NULL);
	vaddr_t a, b, c, lo, hi;
	uint64_t sum;
	int r;

	a = g_mmap(0, 16 * PAGE_SIZE, RW, ANON);
	b = g_mmap(0, 16 * PAGE_SIZE, RW, ANON);
	lo = b;
	hi = a + 16 * PAGE_SIZE;
	oracle_put(&out, "b_off", (long)(b - a));
	window("two_maps", lo, hi);
	oracle_put(&out, "touch32_faults", touch(b, 32, true, NULL));

	oracle_put(&out, "munmap_middle_ret", g_munmap(a + 4 * PAGE_SIZE, 4 * PAGE_SIZE));
	window("after_middle", lo, hi);
	oracle_put(&out, "munmap_head_ret", g_munmap(b, 2 * PAGE_SIZE));
	window("after_head", lo, hi);
	oracle_put(&out, "munmap_tail_ret", g_munmap(a + 14 * PAGE_SIZE, 2 * PAGE_SIZE));
	window("after_tail", lo, hi);
	oracle_put(&out, "retouch_faults", touch(b + 2 * PAGE_SIZE, 18, true, NULL));

	sim_errno = 0;
	r = g_munmap(a + 1, PAGE_SIZE);
	oracle_put(&out, "munmap_unaligned_ret", r);
	oracle_put(&out, "munmap_unaligned_errno", sim_errno);
	sim_errno = 0;
	r = g_munmap(a, 0);
	oracle_put(&out, "munmap_len0_ret", r);
	oracle_put(&out, "munmap_len0_errno", sim_errno);
	oracle_put(&out, "munmap_nothing_ret", g_munmap(a + 4 * PAGE_SIZE, 4 * PAGE_SIZE));
	sim_errno = 0;
	oracle_put(&out, "mmap_len0_failed", g_mmap(0, 0, RW, ANON) == FAILED);
	oracle_put(&out, "mmap_len0_errno", sim_errno);
	sim_errno = 0;
	oracle_put(&out, "mmap_huge_failed", g_mmap(0, 1ULL << 62, RW, ANON) == FAILED);
	oracle_put(&out, "mmap_huge_errno", sim_errno);
	sim_errno = 0;
	oracle_put(&out, "mmap_overflow_failed", g_mmap(0, (uint64_t)-PG + 1, RW, ANON) == FAILED);
	oracle_put(&out, "mmap_overflow_errno", sim_errno);

	c = g_mmap(a + 4 * PAGE_SIZE, 4 * PAGE_SIZE, RW, ANON | SIM_MAP_FIXED);
	oracle_put(&out, "fixed_off", (long)(c - a));
	window("after_fixed", lo, hi);
	oracle_put(&out, "fixed_read_faults", touch(c, 4, false, NULL));
	oracle_put(&out, "fixed_read_then_write_faults", touch(c, 4, true, NULL));
	c = g_mmap(a, 2 * PAGE_SIZE, RW, ANON | SIM_MAP_FIXED);
	oracle_put(&out, "fixed_over_off", (long)(c - a));
	window("after_fixed_over", lo, hi);
	oracle_put(&out, "fixed_over_read_faults", touch(a, 2, false, &sum));
	oracle_put(&out, "fixed_over_value", (long)sum);

	c = g_mmap(b - 2 * PAGE_SIZE, 4 * PAGE_SIZE, SIM_PROT_READ, ANON);
	oracle_put(&out, "ro_hint_off", (long)(c - a));
	window("with_ro", c, hi);
	oracle_put(&out, "hint_taken_overlapping", g_mmap(a, PAGE_SIZE, RW, ANON) == a);

	oracle_assert_same("mmap/munmap", out.text, real);
	free(real);
}

/*
 * The program image (kernel_sim/task.h): the simulated process's maps show
 * the VMAs of its file as a PIE built on this machine has them, r--p r-xp
 * r--p r--p rw-p, each at its file offset (tests/host/image_probe.c).
 */
Test(oracle_kernel, program_image_maps_as_a_real_pie)
{
	char *real = oracle_run("image_probe", NULL), *maps = NULL, *line, *save;
	size_t maps_len = 0;
	FILE *f = open_memstream(&maps, &maps_len);
	unsigned long base = 0, image_end = 0;
	int n = 0, bss = 0;

	cr_assert_not_null(f);
	proc_maps(&k, t, f);
	fclose(f);
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long start, end, off;
		char perms[8], path[64] = "";

		cr_assert_geq(
		    sscanf(line, "%lx-%lx %7s %lx %*s %*s %63s", &start, &end, perms, &off, path),
		    4, "%s", line);
		if (strcmp(path, "/usr/bin/probe") == 0) {
			if (n == 0)
				base = start;
			oracle_printf(&out, "image%d=%s skew=%#lx\n", n++, perms,
			              start - base - off);
			image_end = end;
		} else if (n && start == image_end && !path[0] && strcmp(perms, "rw-p") == 0) {
			bss = 1;
		}
	}
	oracle_put(&out, "image_vmas", n);
	oracle_put(&out, "anonymous_bss_after_image", bss);
	free(maps);
	oracle_assert_same("program image", out.text, real);
	free(real);
}
