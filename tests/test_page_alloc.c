/*
 * test_page_alloc.c - watermarks (kernel_sim/page_alloc.c) against the
 * formula the host's own /proc/zoneinfo follows, the sysctls that move
 * them, the allocation slow path down to the OOM killer (kernel_sim/oom.c),
 * and the overcommit modes (kernel_sim/overcommit.c).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_sim/oom.h"
#include "kernel_sim/overcommit.h"
#include "kernel_sim/page_alloc.h"
#include "kernel_sim/proc.h"
#include "kernel_sim/syscalls.h"
#include "kernel_sim/task.h"
#include "support_oracle.h"
#include "support_sim.h"

static struct kernel k;
static struct task *t;

static void boot(uint64_t ram, uint64_t swap)
{
	t = sim_boot_ram_swap(&k, ram, swap, "prog");
}

static void fini(void)
{
	if (t)
		kernel_shutdown(&k);
	t = NULL;
}

TestSuite(page_alloc, .fini = fini);

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

Test(page_alloc, the_watermark_formula_gives_what_the_hosts_zoneinfo_shows)
{
	long min_free = read_long("/proc/sys/vm/min_free_kbytes");
	long scale = read_long("/proc/sys/vm/watermark_scale_factor");
	FILE *f = fopen("/proc/zoneinfo", "r");
	char line[512], zone[32] = "", real[4096] = "", sim[4096] = "";
	uint64_t managed[8], shown[8][5];
	char names[8][32];
	unsigned n = 0;

	if (!f || min_free < 0 || scale < 0)
		cr_skip("this host shows no /proc/zoneinfo or vm sysctls");
	/* per zone: boost, min, low, high, promo (shown with the boost added), managed */
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		char key[32];

		if (sscanf(line, "Node %*d, zone %31s", zone) == 1) {
			if (n < 8) {
				snprintf(names[n], sizeof(names[n]), "%s", zone);
				memset(shown[n], 0, sizeof(shown[n]));
				managed[n] = 0;
				n++;
			}
			continue;
		}
		if (n == 0 || n > 8 || sscanf(line, " %31s %llu", key, &v) != 2)
			continue;
		if (strcmp(key, "boost") == 0)
			shown[n - 1][0] = v;
		else if (strcmp(key, "min") == 0)
			shown[n - 1][1] = v;
		else if (strcmp(key, "low") == 0)
			shown[n - 1][2] = v;
		else if (strcmp(key, "high") == 0)
			shown[n - 1][3] = v;
		else if (strcmp(key, "promo") == 0)
			shown[n - 1][4] = v;
		else if (strcmp(key, "managed") == 0)
			managed[n - 1] = v;
	}
	fclose(f);
	cr_assert_gt(n, 0);
	{
		/* Movable and Device zones are not lowmem; this host's are empty. */
		uint64_t wm[8][NR_WMARK];
		unsigned lown = 0;
		uint64_t lowman[8];

		for (unsigned z = 0; z < n; z++)
			if (strcmp(names[z], "Movable") && strcmp(names[z], "Device"))
				lowman[lown++] = managed[z];
		compute_zone_wmarks((uint64_t)min_free, (int)scale, lowman, lown, wm);
		for (unsigned z = 0, l = 0; z < n; z++) {
			size_t rl = strlen(real), sl = strlen(sim);

			if (!strcmp(names[z], "Movable") || !strcmp(names[z], "Device"))
				continue;
			snprintf(real + rl, sizeof(real) - rl, "%s.min=%llu\n%s.low=%llu\n%s.high=%llu\n",
			         names[z], (unsigned long long)(shown[z][1] - shown[z][0]), names[z],
			         (unsigned long long)(shown[z][2] - shown[z][0]), names[z],
			         (unsigned long long)(shown[z][3] - shown[z][0]));
			snprintf(sim + sl, sizeof(sim) - sl, "%s.min=%llu\n%s.low=%llu\n%s.high=%llu\n",
			         names[z], (unsigned long long)wm[l][WMARK_MIN], names[z],
			         (unsigned long long)wm[l][WMARK_LOW], names[z],
			         (unsigned long long)wm[l][WMARK_HIGH]);
			l++;
		}
	}
	oracle_assert_same("zone watermarks from min_free_kbytes and watermark_scale_factor", sim,
	                   real);
}

Test(page_alloc, the_default_min_free_kbytes_is_the_square_root_rule)
{
	/* int_sqrt(lowmem_kbytes * 16), clamped to [128, 262144] */
	cr_assert_eq(calculate_min_free_kbytes(65532), 1023);
	cr_assert_eq(calculate_min_free_kbytes(1020), 128);
	cr_assert_eq(calculate_min_free_kbytes(16ULL << 30), 262144);
	boot(64ULL << 20, 0);
	cr_assert_eq(k.sysctl.min_free_kbytes, 1023);
	/* 64 MiB: min 255, then + max(min/4, managed*10/10000) = + 63 */
	cr_assert_eq(k.buddy.watermark[WMARK_MIN], 255);
	cr_assert_eq(k.buddy.watermark[WMARK_LOW], 318);
	cr_assert_eq(k.buddy.watermark[WMARK_HIGH], 381);
}

Test(page_alloc, sysctls_move_the_watermarks_and_refuse_what_the_kernel_refuses)
{
	boot(64ULL << 20, 0);
	cr_assert_eq(sysctl_vm_write(&k, "vm.min_free_kbytes", 4096), 0);
	cr_assert_eq(k.buddy.watermark[WMARK_MIN], 1024);
	cr_assert_eq(k.buddy.watermark[WMARK_LOW], 1280);
	cr_assert_eq(sysctl_vm_write(&k, "watermark_scale_factor", 1000), 0);
	cr_assert_eq(k.buddy.watermark[WMARK_LOW], 1024 + 1638);
	cr_assert_eq(sysctl_vm_write(&k, "watermark_scale_factor", 0), -SIM_EINVAL);
	cr_assert_eq(sysctl_vm_write(&k, "watermark_scale_factor", 3001), -SIM_EINVAL);
	cr_assert_eq(sysctl_vm_write(&k, "min_free_kbytes", -1), -SIM_EINVAL);
	cr_assert_eq(sysctl_vm_write(&k, "overcommit_memory", 3), -SIM_EINVAL);
	cr_assert_eq(sysctl_vm_write(&k, "swappiness", 201), -SIM_EINVAL);
	cr_assert_eq(sysctl_vm_write(&k, "vm.nonesuch", 1), -SIM_ENOENT);
}

static void touch_range(void *arg)
{
	uint64_t *n = arg;

	for (uint64_t i = 0; i < *n; i++)
		cpu_store(&k.cpu, 0x100000000000ULL + i * PAGE_SIZE, 1, 1);
}

Test(page_alloc, without_swap_the_slow_path_ends_in_the_oom_killer_at_the_min_watermark)
{
	uint64_t pages = 2048;

	boot(4ULL << 20, 0);
	vma_insert(task_mm(t), 0x100000000000ULL, 0x100000000000ULL + pages * PAGE_SIZE,
	           VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT, VMA_ANON);
	cr_assert_eq(task_run(&k, t, touch_range, &pages), SIM_SIGKILL);
	cr_assert_str_eq(t->death.reason, "out of memory");
	cr_assert_eq(k.buddy.free_pages, k.buddy.watermark[WMARK_MIN]);
	cr_assert_eq(k.vmstat.event[OOM_KILL], 1);
	cr_assert_gt(k.vmstat.event[ALLOCSTALL_NORMAL], 0, "direct reclaim was tried");
	cr_assert_eq(k.vmstat.event[PGSTEAL_DIRECT] + k.vmstat.event[PGSTEAL_KSWAPD], 0);
	cr_assert_gt(k.kswapd.runs, 0, "kswapd was woken below the low watermark and ran");
	cr_assert_not_null(strstr(k.log.buf, "prog invoked oom-killer: gfp_mask="));
	cr_assert_not_null(strstr(k.log.buf, "[  pid  ]   uid  tgid total_vm      rss rss_anon "
	                                     "rss_file rss_shmem pgtables_bytes swapents "
	                                     "oom_score_adj name\n"));
	cr_assert_not_null(strstr(k.log.buf, "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),"
	                                     "cpuset=/,mems_allowed=0,global_oom,task_memcg=/,"
	                                     "task=prog,pid=1,uid=0\n"));
	sim_kernel_check(&k);
}

Test(page_alloc, the_oom_killer_chooses_the_biggest_process_and_frees_it)
{
	struct task *small, *big;
	uint64_t pages = 512;

	boot(4ULL << 20, 0);
	small = t;
	big = task_create(&k, "big");
	vma_insert(task_mm(big), 0x100000000000ULL, 0x100000000000ULL + 2048 * PAGE_SIZE,
	           VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT, VMA_ANON);
	vma_insert(task_mm(small), 0x100000000000ULL, 0x100000000000ULL + pages * PAGE_SIZE,
	           VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT, VMA_ANON);
	pages = 600;
	cr_assert_eq(task_run(&k, big, touch_range, &pages), 0);
	cr_assert_gt(oom_score(&k, big), oom_score(&k, small));
	/* the small one now needs more than is left: the big one is killed, not it */
	pages = 512;
	cr_assert_eq(task_run(&k, small, touch_range, &pages), 0);
	cr_assert(big->dead);
	cr_assert_eq(big->death.signo, SIM_SIGKILL);
	cr_assert(!small->dead);
	cr_assert_eq(task_mm(big)->rss_stat[MM_ANONPAGES], 0, "the oom reaper freed it");
	cr_assert_not_null(strstr(k.log.buf, "Out of memory: Killed process 2 (big)"));
	cr_assert_not_null(strstr(k.log.buf, "oom_reaper: reaped process 2 (big), now anon-rss:0kB"));
	sim_kernel_check(&k);
	t = small;
}

Test(page_alloc, oom_score_adj_biases_the_choice_and_is_bounded)
{
	boot(64ULL << 20, 0);
	cr_assert_eq(oom_score(&k, t), 666, "a tiny process");
	cr_assert_eq(oom_score_adj_write(&k, t, 1001), -SIM_EINVAL);
	cr_assert_eq(oom_score_adj_write(&k, t, -1001), -SIM_EINVAL);
	cr_assert_eq(oom_score_adj_write(&k, t, 500), 0);
	/* badness + 500 * (16383 / 1000) = badness + 8000 */
	cr_assert_eq(oom_score(&k, t), (uint64_t)((1000 + (oom_badness(&k, t, 16383)) * 1000 / 16383) * 2 / 3));
	cr_assert_eq(oom_score_adj_write(&k, t, -1000), 0);
	cr_assert_eq(oom_score(&k, t), 0, "never chosen");
}

Test(page_alloc, a_tiny_process_has_the_hosts_oom_score)
{
	char *real = oracle_run("oom_score", NULL);
	char sim[128];
	struct kernel_opts o;

	oracle_kernel_opts(&o);
	cr_assert_eq(kernel_boot(&k, &o, stderr), 0);
	t = task_create(&k, "tiny");
	snprintf(sim, sizeof(sim), "oom_score=%llu\noom_score_adj=%d\n",
	         (unsigned long long)oom_score(&k, t), task_mm(t)->oom_score_adj);
	oracle_assert_same("/proc/self/oom_score of a tiny process", sim, real);
	free(real);
}

Test(page_alloc, overcommit_modes_account_as_the_kernel_does)
{
	uint64_t committed;

	boot(64ULL << 20, 0);
	committed = vm_committed_as(&k);
	/* the stack, data and RELRO are VM_ACCOUNT; text, the ELF headers and
	   .rodata (mapped read-only) are not */
	cr_assert_eq(committed, task_mm(t)->total_vm - task_mm(t)->exec_vm - 2);
	cr_assert_eq(vm_commit_limit(&k), 16383 / 2);
	k.current = t;
	/* mode 0: one request larger than RAM + swap */
	cr_assert_eq(vm_enough_memory(&k, 16384), -SIM_ENOMEM);
	cr_assert_eq(vm_enough_memory(&k, 16383), 0);
	/* mode 1: anything */
	k.sysctl.overcommit_memory = OVERCOMMIT_ALWAYS;
	cr_assert_eq(vm_enough_memory(&k, 1ULL << 30), 0);
	/* mode 2: committed + request below the limit less the user reserve share */
	k.sysctl.overcommit_memory = OVERCOMMIT_NEVER;
	{
		uint64_t reserve = task_mm(t)->total_vm / 32, limit = 16383 / 2 - reserve;

		cr_assert_eq(vm_enough_memory(&k, limit - committed - 1), 0);
		cr_assert_eq(vm_enough_memory(&k, limit - committed), -SIM_ENOMEM);
	}
	/* overcommit_kbytes replaces the ratio, swap adds to either */
	cr_assert_eq(sysctl_vm_write(&k, "overcommit_kbytes", 8192), 0);
	cr_assert_eq(k.sysctl.overcommit_ratio, 0);
	cr_assert_eq(vm_commit_limit(&k), 2048);
	cr_assert_eq(sys_swapon(&k, 8ULL << 20), 0);
	cr_assert_eq(vm_commit_limit(&k), 2048 + 2047);
	cr_assert_eq(sysctl_vm_write(&k, "overcommit_ratio", 50), 0);
	cr_assert_eq(k.sysctl.overcommit_kbytes, 0);
}

static long kv(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	cr_assert_not_null(p, "no %s in:\n%s", key, text);
	return strtol(p + strlen(key) + 1, NULL, 10);
}

/* Committed_AS of the simulated machine after f, less before (kB). */
static long sim_delta(int (*f)(void *), void *arg)
{
	uint64_t before = vm_committed_as(&k);

	cr_assert_eq(f(arg), 0);
	return (long)(vm_committed_as(&k) - before) * 4;
}

struct map_case {
	uint64_t len;
	int prot, flags;
	int64_t addr;
};

static int do_map(void *arg)
{
	struct map_case *m = arg;

	m->addr = sys_mmap(&k, 0, m->len, m->prot, SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS | m->flags,
	                   -1, 0);
	return m->addr < 0;
}

static int do_brk(void *arg)
{
	uint64_t len = *(uint64_t *)arg;

	return sys_brk(&k, task_mm(t)->brk + len) != task_mm(t)->brk;
}

/*
 * The host's CommitLimit from its own totals and sysctls, and what it
 * charges to Committed_AS for mappings of known sizes in the overcommit
 * mode it is in: the simulation, in the same mode, charges the same.
 */
Test(page_alloc, commit_accounting_matches_the_hosts_in_its_mode)
{
	char *real = oracle_run("commit_probe", NULL);
	char sim[1024];
	long mode = kv(real, "overcommit_memory");
	struct map_case rw = {64 << 20, SIM_PROT_READ | SIM_PROT_WRITE, 0, 0};
	struct map_case ro = {64 << 20, SIM_PROT_READ, 0, 0};
	struct map_case nr = {64 << 20, SIM_PROT_READ | SIM_PROT_WRITE, SIM_MAP_NORESERVE, 0};
	uint64_t mb = 1 << 20;
	long d_rw, d_ro, d_nr, d_brk;
	struct kernel_opts o;
	uint64_t limit;

	oracle_kernel_opts(&o);
	o.phys_bytes = 256ULL << 20; /* 64 MiB mappings pass mode 0's single-request test */
	cr_assert_eq(kernel_boot(&k, &o, stderr), 0);
	t = task_create(&k, "commit");
	cr_assert_eq(sysctl_vm_write(&k, "overcommit_memory", mode), 0);
	cr_assert_eq(sysctl_vm_write(&k, "overcommit_ratio", 1000), 0); /* room in mode 2 */
	d_rw = sim_delta(do_map, &rw);
	d_ro = sim_delta(do_map, &ro);
	d_nr = sim_delta(do_map, &nr);
	d_brk = sim_delta(do_brk, &mb);
	limit = commit_limit_pages((uint64_t)kv(real, "mem_total_kb") / 4,
	                           (uint64_t)kv(real, "hugetlb_kb") / 4,
	                           (int)kv(real, "overcommit_ratio"),
	                           (uint64_t)kv(real, "overcommit_kbytes"),
	                           (uint64_t)kv(real, "swap_total_kb") / 4);
	snprintf(sim, sizeof(sim),
	         "overcommit_memory=%ld\novercommit_ratio=%ld\novercommit_kbytes=%ld\n"
	         "mem_total_kb=%ld\nswap_total_kb=%ld\nhugetlb_kb=%ld\ncommit_limit_kb=%llu\n"
	         "mmap_rw_64m_kb=%ld\nmmap_ro_64m_kb=%ld\nmmap_noreserve_64m_kb=%ld\n"
	         "brk_1m_kb=%ld\n",
	         mode, kv(real, "overcommit_ratio"), kv(real, "overcommit_kbytes"),
	         kv(real, "mem_total_kb"), kv(real, "swap_total_kb"), kv(real, "hugetlb_kb"),
	         (unsigned long long)limit * 4, d_rw, d_ro, d_nr, d_brk);
	oracle_assert_same("Committed_AS charges and CommitLimit", sim, real);
	free(real);
}

Test(page_alloc, mode_2_charges_map_noreserve_too)
{
	struct map_case nr = {4 << 20, SIM_PROT_READ | SIM_PROT_WRITE, SIM_MAP_NORESERVE, 0};

	boot(64ULL << 20, 0);
	k.current = t;
	cr_assert_eq(sim_delta(do_map, &nr), 0, "mode 0: MAP_NORESERVE is not charged");
	cr_assert_eq(sysctl_vm_write(&k, "overcommit_memory", OVERCOMMIT_NEVER), 0);
	cr_assert_eq(sim_delta(do_map, &nr), 4096, "mode 2 ignores MAP_NORESERVE");
}
