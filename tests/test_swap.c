/*
 * test_swap.c - the swap area (kernel_sim/swap.c), reclaim to it
 * (kernel_sim/vmscan.c) and the major fault back (do_swap_page): the x86-64
 * swap-entry encoding, swapon/swapoff and their errors, contents that
 * survive the round trip byte for byte, the counters, and the scenarios of
 * demos/pressure/.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <string.h>

#include "kernel_sim/mm.h"
#include "kernel_sim/pgtable.h"
#include "kernel_sim/syscalls.h"
#include "kernel_sim/task.h"
#include "support_bin.h"
#include "support_sim.h"

#define ANON 0x100000000000ULL

static struct kernel k;
static struct task *t;

static void boot(uint64_t ram, uint64_t swap)
{
	t = sim_boot_ram_swap(&k, ram, swap, "swapper");
}

static void fini(void)
{
	if (t)
		kernel_shutdown(&k);
	t = NULL;
}

TestSuite(swap, .fini = fini);

static vaddr_t anon_vma(uint64_t pages)
{
	vma_insert(task_mm(t), ANON, ANON + pages * PAGE_SIZE,
	           VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT, VMA_ANON);
	return ANON;
}

struct pattern {
	uint64_t pages;
	bool write;
	uint64_t bad; /* pages whose words differ */
};

/* Three words of every page, each naming its page and place. */
static uint64_t word(uint64_t page, unsigned w)
{
	return 0x9e3779b97f4a7c15ULL * (page + 1) ^ ((uint64_t)w << 56);
}

static void do_pattern(void *arg)
{
	static const unsigned offs[3] = {8, 2048, 4088};
	struct pattern *p = arg;

	for (uint64_t i = 0; i < p->pages; i++)
		for (unsigned w = 0; w < 3; w++) {
			vaddr_t va = ANON + i * PAGE_SIZE + offs[w];
			uint64_t v = 0;

			if (p->write) {
				cpu_store(&k.cpu, va, 8, word(i, w));
			} else {
				cpu_load(&k.cpu, va, 8, &v);
				if (v != word(i, w)) {
					p->bad++;
					break;
				}
			}
		}
}

static int pattern(uint64_t pages, bool write, uint64_t *bad)
{
	struct pattern p = {pages, write, 0};
	int sig = task_run(&k, t, do_pattern, &p);

	if (bad)
		*bad = p.bad;
	return sig;
}

Test(swap, entries_are_stored_as_x86_64_stores_them)
{
	/* type in bits 63:59, ~offset in 58:9, _PAGE_SWP_EXCLUSIVE = _PAGE_PWT */
	cr_assert_eq(swp_entry_to_pte(0, 1) | _PAGE_SWP_EXCLUSIVE, 0x07fffffffffffc08ULL);
	cr_assert_eq(swp_entry_to_pte(1, 0), 0x0ffffffffffffe00ULL);
	for (uint64_t off = 1; off < (1ULL << 40); off = off * 3 + 1) {
		pte_t e = swp_entry_to_pte(2, off) | _PAGE_SWP_EXCLUSIVE;

		cr_assert(!pte_present(e) && is_swap_pte(e));
		cr_assert_eq(pte_swp_offset(e), off);
		cr_assert_eq(pte_swp_type(e), 2);
		/* L1TF: the frame bits of a small offset point far beyond any RAM */
		cr_assert_gt(pte_pfn(e), PHYS_MAX_FRAMES);
	}
}

Test(swap, swapon_and_swapoff_refuse_as_the_kernel_does)
{
	boot(4ULL << 20, 0);
	cr_assert_eq(sys_swapoff(&k), -SIM_EINVAL, "no swap area");
	cr_assert_eq(sys_swapon(&k, 36 << 10), -SIM_EINVAL, "smaller than mkswap makes");
	cr_assert_eq(sys_swapon(&k, SWAP_MAX_BYTES + PAGE_SIZE), -SIM_EINVAL);
	cr_assert_eq(sys_swapon(&k, 8ULL << 20), 0);
	cr_assert_eq(sys_swapon(&k, 8ULL << 20), -SIM_EBUSY);
	/* page 0 is the header: 2047 slots */
	cr_assert_eq(swap_total_pages(&k), 2047);
	cr_assert_eq(swap_free_pages(&k), 2047);
	cr_assert_eq(sys_swapoff(&k), 0);
	cr_assert_eq(swap_total_pages(&k), 0);
	sim_kernel_check(&k);
}

Test(swap, a_working_set_larger_than_ram_survives_byte_for_byte)
{
	uint64_t bad = 1, pages = 1536; /* 6 MiB in 4 MiB of RAM */

	boot(4ULL << 20, 16ULL << 20);
	anon_vma(pages);
	cr_assert_eq(pattern(pages, true, NULL), 0);
	sim_kernel_check(&k);
	cr_assert_gt(task_mm(t)->rss_stat[MM_SWAPENTS], 0);
	cr_assert_gt(k.vmstat.event[PSWPOUT], 0);
	cr_assert_eq(t->maj_flt, 0);
	cr_assert_eq(pattern(pages, false, &bad), 0);
	cr_assert_eq(bad, 0, "%llu pages came back changed", (unsigned long long)bad);
	sim_kernel_check(&k);
	cr_assert_gt(t->maj_flt, 0);
	cr_assert_eq(k.vmstat.event[PGMAJFAULT], t->maj_flt);
	cr_assert_eq(k.vmstat.event[PSWPIN], t->maj_flt);
	/* every page is either resident or in exactly one slot */
	cr_assert_eq(task_mm(t)->rss_stat[MM_ANONPAGES] + task_mm(t)->rss_stat[MM_SWAPENTS],
	             pages + TASK_START_RSS);
	cr_assert_eq(k.swap->inuse_pages, task_mm(t)->rss_stat[MM_SWAPENTS]);
	cr_assert_gt(k.vmstat.event[PGSCAN_KSWAPD] + k.vmstat.event[PGSCAN_DIRECT], 0);
	cr_assert_eq(k.vmstat.event[PGSTEAL_KSWAPD] + k.vmstat.event[PGSTEAL_DIRECT],
	             k.vmstat.event[PSWPOUT]);
}

Test(swap, a_swapped_pte_holds_the_entry_of_its_slot)
{
	uint64_t pages = 1536;

	boot(4ULL << 20, 16ULL << 20);
	anon_vma(pages);
	cr_assert_eq(pattern(pages, true, NULL), 0);
	/* the first page was the oldest on the inactive list: it went first */
	{
		pfn_t pt = pgtable_lookup(&k, task_mm(t), ANON);
		pte_t e = pt_get(&k.phys, pt, pt_index(ANON, 1));
		uint64_t off = pte_swp_offset(e);

		cr_assert(is_swap_pte(e), "pte %#llx", (unsigned long long)e);
		cr_assert_eq(e, swp_entry_to_pte(0, off) | _PAGE_SWP_EXCLUSIVE);
		cr_assert_eq(swap_count(&k, off), 1);
		cr_assert_eq(k.swap->swap_map[off], 1, "no SWAP_HAS_CACHE once written");
	}
}

Test(swap, swapoff_brings_every_page_back)
{
	uint64_t bad = 1, pages = 768; /* 3 MiB in 4 MiB of RAM: fits again */

	boot(4ULL << 20, 16ULL << 20);
	anon_vma(pages);
	cr_assert_eq(pattern(pages, true, NULL), 0);
	/* push pages out: a second mapping fills memory once more */
	vma_insert(task_mm(t), ANON + 0x10000000, ANON + 0x10000000 + 512 * PAGE_SIZE,
	           VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT, VMA_ANON);
	cr_assert_eq(sim_touch_pages(&k, t, ANON + 0x10000000, 512, true, NULL), 0);
	zap_page_range(&k, task_mm(t), ANON + 0x10000000, ANON + 0x10000000 + 512 * PAGE_SIZE);
	cr_assert_gt(task_mm(t)->rss_stat[MM_SWAPENTS], 0);
	cr_assert_eq(sys_swapoff(&k), 0);
	cr_assert_eq(task_mm(t)->rss_stat[MM_SWAPENTS], 0);
	cr_assert_null(k.swap);
	sim_kernel_check(&k);
	cr_assert_eq(pattern(pages, false, &bad), 0);
	cr_assert_eq(bad, 0);
	cr_assert_eq(t->maj_flt, 0, "swapoff read them: no major fault after");
}

Test(swap, exit_frees_the_slots_of_a_swapped_process)
{
	boot(4ULL << 20, 16ULL << 20);
	anon_vma(1536);
	cr_assert_eq(pattern(1536, true, NULL), 0);
	cr_assert_gt(k.swap->inuse_pages, 0);
	task_destroy(&k, t);
	cr_assert_eq(k.swap->inuse_pages, 0);
	cr_assert_eq(k.lruvec.nr[LRU_INACTIVE_ANON] + k.lruvec.nr[LRU_ACTIVE_ANON], 0);
	t = task_create(&k, "next");
	sim_kernel_check(&k);
}

Test(swap, the_same_run_gives_the_same_events)
{
	uint64_t seq[2], out[2];

	for (int i = 0; i < 2; i++) {
		boot(4ULL << 20, 16ULL << 20);
		anon_vma(1536);
		cr_assert_eq(pattern(1536, true, NULL), 0);
		cr_assert_eq(pattern(1536, false, NULL), 0);
		seq[i] = probe_seq(&k.probe);
		out[i] = k.vmstat.event[PSWPOUT];
		fini();
	}
	cr_assert_eq(seq[0], seq[1]);
	cr_assert_eq(out[0], out[1]);
}

/* The scenarios of demos/pressure/: their expects pass; crash/ ones die of the OOM killer. */
Test(swap, the_pressure_demos_pass_their_expects, .timeout = 120)
{
	static const char *const ok[] = {"swap.ams", "overcommit.ams"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		char path[4096];
		const char *args[] = {"run", path, NULL};
		struct bin_out p;

		snprintf(path, sizeof(path), "%s/demos/pressure/%s", bin_root(), ok[i]);
		p = bin_run(args, NULL);
		cr_assert_eq(p.status, 0, "%s: exit %d\n%s%s", path, p.status, p.out, p.err);
		cr_assert(strstr(p.out, ", 0 failed)"), "%s", p.out);
		bin_out_free(&p);
	}
	{
		char path[4096];
		const char *args[] = {"run", path, NULL};
		struct bin_out p;

		snprintf(path, sizeof(path), "%s/demos/pressure/crash/oom.ams", bin_root());
		p = bin_run(args, NULL);
		cr_assert_eq(p.status, 1, "%s", p.err);
		cr_assert(strstr(p.err, "Out of memory: Killed process 1 (oom) total-vm:"), "%s",
		          p.err);
		bin_out_free(&p);
	}
}

/* MADV_FREE: reclaim drops the lazily freed pages that stayed clean (they
   read back as zeros) and keeps, swap-backed again, the ones written since. */
struct touch_range {
	uint64_t from, to; /* pages */
	vaddr_t probe;     /* an address to read afterwards */
	uint64_t val;
};

static void write_range(void *arg)
{
	struct touch_range *r = arg;

	for (uint64_t i = r->from; i < r->to; i++)
		cpu_store(&k.cpu, ANON + i * PAGE_SIZE + 8, 8, word(i, 0));
}

static void read_probe(void *arg)
{
	struct touch_range *r = arg;

	cpu_load(&k.cpu, r->probe, 8, &r->val);
}

static void write_probe(void *arg)
{
	struct touch_range *r = arg;

	cpu_store(&k.cpu, r->probe, 8, r->val);
}

Test(swap, lazily_freed_clean_pages_are_dropped_and_written_ones_kept)
{
	struct touch_range r = {0, 512, 0, 0};

	boot(4ULL << 20, 16ULL << 20);
	anon_vma(1536);
	k.current = t;
	cr_assert_eq(task_run(&k, t, write_range, &r), 0);
	cr_assert_eq(sys_madvise(&k, ANON, 512 * PAGE_SIZE, SIM_MADV_FREE), 0);
	r.probe = ANON + 5 * PAGE_SIZE;
	r.val = 0x1234;
	cr_assert_eq(task_run(&k, t, write_probe, &r), 0); /* page 5 is written again */
	r.from = 512;
	r.to = 1536; /* twice RAM more: reclaim reaches the lazily freed pages */
	cr_assert_eq(task_run(&k, t, write_range, &r), 0);
	sim_kernel_check(&k);
	cr_assert_gt(k.vmstat.event[PGLAZYFREED], 0);
	/* a dropped page reads as zeros */
	r.probe = ANON + 100 * PAGE_SIZE + 8;
	cr_assert_eq(task_run(&k, t, read_probe, &r), 0);
	cr_assert_eq(r.val, 0);
	/* the page written after MADV_FREE kept both its words */
	r.probe = ANON + 5 * PAGE_SIZE;
	cr_assert_eq(task_run(&k, t, read_probe, &r), 0);
	cr_assert_eq(r.val, 0x1234);
	r.probe = ANON + 5 * PAGE_SIZE + 8;
	cr_assert_eq(task_run(&k, t, read_probe, &r), 0);
	cr_assert_eq(r.val, word(5, 0));
	sim_kernel_check(&k);
}

Test(swap, swapoff_refuses_when_the_pages_could_not_be_committed)
{
	boot(4ULL << 20, 16ULL << 20);
	k.current = t;
	/* mode 2, CommitLimit = 0% of RAM + swap: what the process has committed
	   plus the area's pages cannot fit: ENOMEM, the area is kept */
	cr_assert_eq(sysctl_vm_write(&k, "overcommit_memory", 2), 0);
	cr_assert_eq(sysctl_vm_write(&k, "overcommit_ratio", 0), 0);
	cr_assert_eq(sys_swapoff(&k), -SIM_ENOMEM);
	cr_assert_not_null(k.swap);
	cr_assert_eq(swap_total_pages(&k), 4095);
	cr_assert_eq(sysctl_vm_write(&k, "overcommit_memory", 0), 0);
	cr_assert_eq(sys_swapoff(&k), 0);
	sim_kernel_check(&k);
}
