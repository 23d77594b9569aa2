/*
 * test_oracle_vmops.c - the simulated mprotect, madvise and mremap, the 2 MiB
 * placement of large anonymous mappings and RLIMIT_DATA's soft limit of 0,
 * against this machine's kernel: tests/host/vmops_probe.c makes a sequence
 * of calls and accesses on the real kernel and prints key=value lines; the
 * same sequence runs here through the simulated system calls and CPU and
 * must print the same lines. Where the probe forks a child to take a
 * SIGSEGV, the simulation runs a second process with the same protection
 * on one page (there is no fork yet).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_sim/kernel.h"
#include "kernel_sim/syscalls.h"
#include "tests/support_oracle.h"
#include "tests/support_sim.h"

#define PG   ((int64_t)PAGE_SIZE)
#define MB   (1LL << 20)
#define RW   (SIM_PROT_READ | SIM_PROT_WRITE)
#define ANON (SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS)

static struct kernel k;
static struct task *t;
static struct oracle_out out; /* the simulated side */

static void boot(void)
{
	struct kernel_opts o;

	oracle_kernel_opts(&o);
	o.phys_bytes = 256 * MB;
	cr_assert_eq(kernel_boot(&k, &o, stderr), 0);
	t = task_create(&k, "probe");
	cr_assert_not_null(t);
	out.len = 0;
}

static void shutdown(void)
{
	kernel_shutdown(&k);
}

TestSuite(oracle_vmops, .init = boot, .fini = shutdown);

/* A system call's result checked by kernel_check: the value or -errno, as
   the probe prints it. */
static int64_t chk(int64_t r)
{
	sim_kernel_check(&k);
	return r;
}

static vaddr_t map(uint64_t len, int prot)
{
	int64_t r = chk(sys_mmap(&k, 0, len, prot, ANON, -1, 0));

	cr_assert_geq(r, 0, "mmap %llu: %lld", (unsigned long long)len, (long long)r);
	return (vaddr_t)r;
}

struct access {
	vaddr_t va;
	long pages;
	bool write;
	long sum;
};

/* As the probe's touch(): write byte i + 1 into page i, or add up the
   first byte of each page as a signed char. */
static void do_access(void *arg)
{
	struct access *a = arg;
	uint64_t v;

	for (long i = 0; i < a->pages; i++) {
		if (a->write) {
			cpu_store(&k.cpu, a->va + (uint64_t)i * PAGE_SIZE, 1,
			          (uint64_t)(i + 1) & 0xff);
		} else {
			cpu_load(&k.cpu, a->va + (uint64_t)i * PAGE_SIZE, 1, &v);
			a->sum += (signed char)v;
		}
	}
}

static long touch(vaddr_t va, long pages, bool write, long *sum)
{
	struct access a = {va, pages, write, 0};
	uint64_t before = t->min_flt;

	cr_assert_eq(task_run(&k, t, do_access, &a), 0, "the probe died at %#llx",
	             (unsigned long long)t->death.addr);
	sim_kernel_check(&k);
	if (sum)
		*sum += a.sum;
	return (long)(t->min_flt - before);
}

static long rss_anon(void)
{
	return (long)t->mm->rss_stat[MM_ANONPAGES];
}

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

static void noop(void *arg)
{
	(void)arg;
}

/* The probe's child_touch: 100 + si_code when the access is refused. Here a
   second process with one page of protection prot, then back to t. */
static long child_touch(int prot, bool write)
{
	struct task *c = task_create(&k, "child");
	struct access a = {0, 1, write, 0};
	long ret;

	cr_assert_not_null(c);
	a.va = (vaddr_t)sys_mmap(&k, 0, PAGE_SIZE, RW, ANON, -1, 0);
	cr_assert_eq(task_run(&k, c, do_access, &(struct access){a.va, 1, true, 0}), 0);
	cr_assert_eq(chk(sys_mprotect(&k, a.va, PAGE_SIZE, prot)), 0);
	ret = task_run(&k, c, do_access, &a) == SIM_SIGSEGV ? 100 + c->death.code : 0;
	task_destroy(&k, c);
	task_run(&k, t, noop, NULL);
	return ret;
}

Test(oracle_vmops, mprotect_madvise_mremap_match_the_real_kernel)
{
	char *real = oracle_run("vmops_probe", NULL);
	vaddr_t a, b, c, d, m, n;
	long sum, rss0;
	int64_t r;

	/* ---- mprotect ---- */
	a = map(16 * PG, RW);
	oracle_put(&out, "a_touch_faults", touch(a, 16, true, NULL));
	rss0 = rss_anon();
	oracle_put(&out, "mprotect_ro_ret",
	           chk(sys_mprotect(&k, a + 4 * PG, 4 * PG, SIM_PROT_READ)));
	window("ro_middle", a, a + 16 * PG);
	sum = 0;
	oracle_put(&out, "ro_read_faults", touch(a + 4 * PG, 4, false, &sum));
	oracle_put(&out, "ro_read_sum", sum);
	oracle_put(&out, "mprotect_rw_ret", chk(sys_mprotect(&k, a + 4 * PG, 4 * PG, RW)));
	window("rw_again", a, a + 16 * PG);
	oracle_put(&out, "rw_write_faults", touch(a + 4 * PG, 4, true, NULL));
	oracle_put(&out, "mprotect_none_ret",
	           chk(sys_mprotect(&k, a + 8 * PG, 8 * PG, SIM_PROT_NONE)));
	window("none_tail", a, a + 16 * PG);
	oracle_put(&out, "none_rss_change", rss_anon() - rss0);
	oracle_put(&out, "mprotect_head_ro_ret", chk(sys_mprotect(&k, a, 2 * PG, SIM_PROT_READ)));
	window("head_ro", a, a + 16 * PG);
	oracle_put(&out, "mprotect_back_ret", chk(sys_mprotect(&k, a, 16 * PG, RW)));
	window("all_rw", a, a + 16 * PG);
	sum = 0;
	oracle_put(&out, "back_read_faults", touch(a, 16, false, &sum));
	oracle_put(&out, "back_read_sum", sum);
	oracle_put(&out, "back_write_faults", touch(a, 16, true, NULL));
	oracle_put(&out, "mprotect_unaligned", chk(sys_mprotect(&k, a + 1, PG, SIM_PROT_READ)));
	oracle_put(&out, "mprotect_len0", chk(sys_mprotect(&k, a, 0, SIM_PROT_READ)));
	oracle_put(&out, "mprotect_badprot", chk(sys_mprotect(&k, a, PG, 0x10)));
	oracle_put(&out, "mprotect_overflow",
	           chk(sys_mprotect(&k, a, (uint64_t)-PG, SIM_PROT_READ)));
	b = map(4 * PG, RW);
	oracle_put(&out, "b_off", (long)(b - a));
	oracle_put(&out, "mprotect_munmap_hole", chk(sys_munmap(&k, b + 2 * PG, 2 * PG)));
	oracle_put(&out, "mprotect_across_hole", chk(sys_mprotect(&k, b, 6 * PG, SIM_PROT_READ)));
	window("across_hole", b, a + 16 * PG);
	oracle_put(&out, "mprotect_unmapped", chk(sys_mprotect(&k, b + 2 * PG, PG, SIM_PROT_READ)));
	c = map(4 * PG, SIM_PROT_READ);
	oracle_put(&out, "mprotect_fresh_rw", chk(sys_mprotect(&k, c, 4 * PG, RW)));
	oracle_put(&out, "fresh_write_faults", touch(c, 4, true, NULL));

	/* ---- madvise ---- */
	d = map(16 * PG, RW);
	oracle_put(&out, "d_touch_faults", touch(d, 16, true, NULL));
	rss0 = rss_anon();
	oracle_put(&out, "dontneed_ret", chk(sys_madvise(&k, d, 8 * PG, SIM_MADV_DONTNEED)));
	oracle_put(&out, "dontneed_rss_change", rss_anon() - rss0);
	window("dontneed", d, d + 16 * PG);
	sum = 0;
	oracle_put(&out, "dontneed_read_faults", touch(d, 8, false, &sum));
	oracle_put(&out, "dontneed_read_sum", sum);
	oracle_put(&out, "dontneed_write_faults", touch(d, 8, true, NULL));
	rss0 = rss_anon();
	oracle_put(&out, "free_ret", chk(sys_madvise(&k, d + 8 * PG, 8 * PG, SIM_MADV_FREE)));
	oracle_put(&out, "free_rss_change", rss_anon() - rss0);
	sum = 0;
	oracle_put(&out, "free_read_faults", touch(d + 8 * PG, 8, false, &sum));
	oracle_put(&out, "free_read_sum", sum);
	oracle_put(&out, "free_write_faults", touch(d + 8 * PG, 8, true, NULL));
	oracle_put(&out, "madvise_unaligned", chk(sys_madvise(&k, d + 1, PG, SIM_MADV_DONTNEED)));
	oracle_put(&out, "madvise_len0", chk(sys_madvise(&k, d, 0, SIM_MADV_DONTNEED)));
	oracle_put(&out, "madvise_bad_behavior", chk(sys_madvise(&k, d, PG, 12345)));
	oracle_put(&out, "madvise_overflow",
	           chk(sys_madvise(&k, d, (uint64_t)-2 * PG, SIM_MADV_DONTNEED)));
	oracle_put(&out, "madvise_munmap_hole", chk(sys_munmap(&k, d + 4 * PG, 4 * PG)));
	rss0 = rss_anon();
	oracle_put(&out, "madvise_across_hole",
	           chk(sys_madvise(&k, d, 16 * PG, SIM_MADV_DONTNEED)));
	oracle_put(&out, "across_hole_rss_change", rss_anon() - rss0);
	oracle_put(&out, "madvise_unmapped",
	           chk(sys_madvise(&k, d + 4 * PG, PG, SIM_MADV_DONTNEED)));
	oracle_put(&out, "madvise_willneed", chk(sys_madvise(&k, d, 4 * PG, SIM_MADV_WILLNEED)));
	oracle_put(&out, "madvise_normal", chk(sys_madvise(&k, d, 4 * PG, SIM_MADV_NORMAL)));

	/* ---- mremap ---- */
	m = map(4 * PG, RW);
	oracle_put(&out, "m_touch_faults", touch(m, 4, true, NULL));
	rss0 = rss_anon();
	r = chk(sys_mremap(&k, m, 4 * PG, 8 * PG, 0, 0));
	oracle_put(&out, "grow_nomove_ret", r < 0 ? r : (long)(r - (int64_t)m));
	r = chk(sys_mremap(&k, m, 4 * PG, 8 * PG, SIM_MREMAP_MAYMOVE, 0));
	n = (vaddr_t)r;
	oracle_put(&out, "grow_move_off", r < 0 ? r : (long)(n - m));
	oracle_put(&out, "grow_move_rss_change", rss_anon() - rss0);
	window("moved", n, m + 4 * PG);
	sum = 0;
	oracle_put(&out, "moved_read_faults", touch(n, 4, false, &sum));
	oracle_put(&out, "moved_read_sum", sum);
	oracle_put(&out, "moved_tail_write_faults", touch(n + 4 * PG, 4, true, NULL));
	oracle_put(&out, "hole_above_ret", chk(sys_munmap(&k, n + 4 * PG, 4 * PG)));
	r = chk(sys_mremap(&k, n, 4 * PG, 6 * PG, 0, 0));
	oracle_put(&out, "grow_in_place_ret", r < 0 ? r : (long)(r - (int64_t)n));
	window("in_place", n, n + 8 * PG);
	oracle_put(&out, "in_place_tail_write_faults", touch(n + 4 * PG, 2, true, NULL));
	r = chk(sys_mremap(&k, n, 6 * PG, 2 * PG, 0, 0));
	oracle_put(&out, "shrink_ret", r < 0 ? r : (long)(r - (int64_t)n));
	window("shrunk", n, n + 8 * PG);
	oracle_put(&out, "shrunk_rss_change", rss_anon() - rss0);
	oracle_put(&out, "mremap_unaligned",
	           chk(sys_mremap(&k, n + 1, PG, 2 * PG, SIM_MREMAP_MAYMOVE, 0)));
	oracle_put(&out, "mremap_newlen0", chk(sys_mremap(&k, n, PG, 0, SIM_MREMAP_MAYMOVE, 0)));
	oracle_put(&out, "mremap_unmapped",
	           chk(sys_mremap(&k, n + 4 * PG, PG, 2 * PG, SIM_MREMAP_MAYMOVE, 0)));
	oracle_put(&out, "mremap_past_vma",
	           chk(sys_mremap(&k, n, 4 * PG, 8 * PG, SIM_MREMAP_MAYMOVE, 0)));
	oracle_put(&out, "mremap_shrink_unmapped",
	           chk(sys_mremap(&k, n + 4 * PG, 2 * PG, PG, 0, 0)));
	oracle_put(&out, "mremap_fixed_nomove",
	           chk(sys_mremap(&k, n, 2 * PG, 2 * PG, SIM_MREMAP_FIXED, a)));
	oracle_put(
	    &out, "mremap_fixed_overlap",
	    chk(sys_mremap(&k, n, 2 * PG, 2 * PG, SIM_MREMAP_FIXED | SIM_MREMAP_MAYMOVE, n + PG)));
	oracle_put(&out, "mremap_bad_flags", chk(sys_mremap(&k, n, 2 * PG, 2 * PG, 8, 0)));
	r = chk(
	    sys_mremap(&k, n, 2 * PG, 3 * PG, SIM_MREMAP_FIXED | SIM_MREMAP_MAYMOVE, b + 2 * PG));
	oracle_put(&out, "mremap_fixed_off", r < 0 ? r : (long)(r - (int64_t)b));
	window("fixed", b, a);
	sum = 0;
	oracle_put(&out, "fixed_read_faults", touch(b + 2 * PG, 2, false, &sum));
	oracle_put(&out, "fixed_read_sum", sum);

	/* ---- 2 MiB placement of large anonymous mappings ---- */
	c = map(16 * MB, RW);
	oracle_put(&out, "map16m_mod2m", (long)(c % (2 * MB)));
	d = map(16 * MB + PG, RW);
	oracle_put(&out, "map16m_plus_page_mod2m", (long)(d % (2 * MB)) != 0);
	oracle_put(&out, "map16m_plus_page_below", d + 16 * MB + PG <= c);
	n = map(2 * MB, RW);
	oracle_put(&out, "map2m_mod2m", (long)(n % (2 * MB)));
	oracle_put(&out, "map2m_touch_faults", touch(c, 512, true, NULL));
	r = chk(sys_mremap(&k, c, 16 * MB, 32 * MB, SIM_MREMAP_MAYMOVE, 0));
	n = (vaddr_t)r;
	oracle_put(&out, "remap32m_mod2m", r < 0 ? r : (long)(n % (2 * MB)));
	sum = 0;
	oracle_put(&out, "remap32m_read_faults", touch(n, 512, false, &sum));
	oracle_put(&out, "remap32m_read_sum", sum);
	window("remap32m", n, n + 32 * MB);

	oracle_put(&out, "ro_write_si_code", child_touch(SIM_PROT_READ, true));
	oracle_put(&out, "none_read_si_code", child_touch(SIM_PROT_NONE, false));

	/* ---- RLIMIT_DATA with a soft limit of 0 ---- */
	{
		struct sim_rlimit old = t->rlim[SIM_RLIMIT_DATA], rl = {0, 64 * MB};

		oracle_put(&out, "setrlimit_data0", chk(sys_setrlimit(&k, SIM_RLIMIT_DATA, &rl)));
		oracle_put(&out, "data0_mmap_1m_ok",
		           chk(sys_mmap(&k, 0, MB, RW, ANON, -1, 0)) >= 0);
		r = chk(sys_mmap(&k, 0, 128 * MB, RW, ANON, -1, 0));
		oracle_put(&out, "data0_mmap_128m", r < 0 ? r : 0);
		oracle_put(&out, "data0_mmap_ro_128m_ok",
		           chk(sys_mmap(&k, 0, 128 * MB, SIM_PROT_READ, ANON, -1, 0)) >= 0);
		{
			/* glibc's sbrk(4096): brk(cur + 4096), refused when the
			   break does not move */
			vaddr_t cur = sys_brk(&k, 0);

			oracle_put(&out, "data0_sbrk",
			           chk((int64_t)sys_brk(&k, cur + PAGE_SIZE)) <
			                   (int64_t)(cur + PAGE_SIZE)
			               ? -SIM_ENOMEM
			               : 0);
		}
		rl.max = 0;
		oracle_put(&out, "setrlimit_data00", chk(sys_setrlimit(&k, SIM_RLIMIT_DATA, &rl)));
		r = chk(sys_mmap(&k, 0, PAGE_SIZE, RW, ANON, -1, 0));
		oracle_put(&out, "data00_mmap", r < 0 ? r : 0);
		chk(sys_setrlimit(&k, SIM_RLIMIT_DATA, &old));
	}

	oracle_assert_same("vmops_probe", out.text, real);
	free(real);
}
