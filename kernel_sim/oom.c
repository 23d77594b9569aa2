/*
 * oom.c - the OOM killer, after mm/oom_kill.c (out_of_memory,
 * select_bad_process, oom_evaluate_task, oom_badness, oom_kill_process,
 * dump_header, dump_tasks, dump_oom_victim, __oom_kill_process) and
 * fs/proc/base.c (proc_oom_score, __set_oom_adj); see oom.h.
 *
 * The report goes to the kernel log (dmesg) in the kernel's own formats;
 * the stack dump and show_mem of dump_header are left out (the model has no
 * kernel stack to show and show_mem's tables are /proc/zoneinfo's).
 */
#include "oom.h"

#include <stdlib.h>

#include "../vm/hostmem.h"
#include "../vm/panic.h"
#include "mmap.h"
#include "page_alloc.h"
#include "pgtable.h"
#include "printk.h"
#include "syscalls.h"
#include "task.h"

#define K LAYER_KERNEL

static uint64_t oom_totalpages(struct kernel *k)
{
	return k->buddy.managed + swap_total_pages(k);
}

int64_t oom_badness(struct kernel *k, struct task *t, uint64_t totalpages)
{
	struct mm_struct *mm = task_mm(t);
	int64_t points;

	if (t->dead || mm->oom_score_adj == OOM_SCORE_ADJ_MIN)
		return OOM_BADNESS_NONE;
	points = (int64_t)(mm->rss_stat[MM_ANONPAGES] + mm->rss_stat[MM_SWAPENTS] +
	                   mm->pgtables_bytes / PAGE_SIZE);
	return points + (int64_t)mm->oom_score_adj * (int64_t)(totalpages / 1000);
}

uint64_t oom_score(struct kernel *k, struct task *t)
{
	uint64_t total = oom_totalpages(k);
	int64_t badness = oom_badness(k, t, total);

	if (badness == OOM_BADNESS_NONE)
		return 0;
	return (uint64_t)((1000 + badness * 1000 / (int64_t)total) * 2 / 3);
}

int oom_score_adj_write(struct kernel *k, struct task *t, int64_t value)
{
	if (value < OOM_SCORE_ADJ_MIN || value > OOM_SCORE_ADJ_MAX)
		return -SIM_EINVAL;
	task_mm(t)->oom_score_adj = (int)value;
	EV(&k->probe, K, EV_NOTE, "__set_oom_adj", "oom_score_adj written", {"pid", (uint64_t)t->pid},
	   {"value", (uint64_t)value});
	return 0;
}

/* select_bad_process: the walk goes from the oldest task to the newest. */
static struct task *select_bad_process(struct kernel *k, uint64_t totalpages, int64_t *points)
{
	struct task *chosen = NULL, **order;
	int n = 0;

	probe_call(&k->probe, K, "select_bad_process", {"totalpages", totalpages});
	order = hostmem_calloc((size_t)k->nr_tasks + 1, sizeof(*order));
	if (!order)
		host_oom("the OOM killer's task list");
	for (struct task *t = k->tasks; t && n < k->nr_tasks; t = t->next_task)
		order[n++] = t;
	*points = OOM_BADNESS_NONE;
	while (n-- > 0) {
		int64_t p;

		if (order[n]->thread) /* for_each_process: the groups, by their leaders */
			continue;
		p = oom_badness(k, order[n], totalpages);

		probe_call(&k->probe, K, "oom_badness", {"pid", (uint64_t)order[n]->pid});
		probe_ret(&k->probe, K, "oom_badness", {"ret", (uint64_t)p});
		if (p == OOM_BADNESS_NONE || p < *points)
			continue;
		chosen = order[n];
		*points = p;
	}
	hostmem_free(order);
	probe_ret(&k->probe, K, "select_bad_process", {"ret", chosen ? (uint64_t)chosen->pid : 0});
	return chosen;
}

static void dump_tasks(struct kernel *k)
{
	struct task *order[64];
	int n = 0;

	printk(k, "Tasks state (memory values in pages):");
	printk(k, "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem "
	          "pgtables_bytes swapents oom_score_adj name");
	for (struct task *t = k->tasks; t && n < 64; t = t->next_task)
		order[n++] = t;
	while (n-- > 0) {
		struct task *t = order[n];
		struct mm_struct *mm = task_mm(t);

		if (t->dead || t->thread)
			continue;
		printk(k, "[%7d] %5d %5d %8llu %8llu %8llu %8llu %9llu %8lld %8llu         %5hd %s",
		       t->pid, 0, t->pid, (unsigned long long)mm->total_vm,
		       (unsigned long long)mm->rss_stat[MM_ANONPAGES],
		       (unsigned long long)mm->rss_stat[MM_ANONPAGES], 0ULL, 0ULL,
		       (long long)mm->pgtables_bytes, (unsigned long long)mm->rss_stat[MM_SWAPENTS],
		       (short)mm->oom_score_adj, t->comm);
	}
}

/* Free what the victim holds: exit_mmap as the oom reaper and do_exit do it. */
static void oom_reap(struct kernel *k, struct task *t)
{
	struct mm_struct *mm = task_mm(t);

	probe_call(&k->probe, K, "oom_reap_task_mm", {"pid", (uint64_t)t->pid});
	for (size_t i = 0; i < mm->nr_vmas; i++)
		zap_page_range(k, mm, mm->vmas[i].vm_start, mm->vmas[i].vm_end);
	probe_ret(&k->probe, K, "oom_reap_task_mm");
	printk(k, "oom_reaper: reaped process %d (%s), now anon-rss:%llukB, file-rss:0kB, "
	          "shmem-rss:0kB",
	       t->pid, t->comm, (unsigned long long)mm->rss_stat[MM_ANONPAGES] << 2);
}

bool out_of_memory(struct kernel *k, unsigned order, int kind)
{
	uint64_t totalpages = oom_totalpages(k);
	struct task *cur = k->current, *victim;
	const char *gfp_name;
	unsigned gfp = page_alloc_gfp(kind, &gfp_name);
	int64_t points;

	probe_call(&k->probe, K, "out_of_memory", {"order", order}, {"totalpages", totalpages});
	victim = select_bad_process(k, totalpages, &points);
	/* dump_header */
	printk(k, "%s invoked oom-killer: gfp_mask=%#x(%s), order=%u, oom_score_adj=%hd",
	       cur ? cur->comm : "kswapd0", gfp, gfp_name, order,
	       cur ? (short)task_mm(cur)->oom_score_adj : 0);
	dump_tasks(k);
	if (!victim) {
		printk(k, "Out of memory and no killable processes...");
		probe_ret(&k->probe, K, "out_of_memory", {"ret", 0});
		return false;
	}
	printk(k, "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
	          "global_oom,task_memcg=/,task=%s,pid=%d,uid=0",
	       victim->comm, victim->pid);
	count_vm_events(&k->vmstat, OOM_KILL, 1);
	probe_call(&k->probe, K, "oom_kill_process", {"pid", (uint64_t)victim->pid},
	           {"points", (uint64_t)points});
	{
		struct mm_struct *mm = task_mm(victim);

		printk(k, "Out of memory: Killed process %d (%s) total-vm:%llukB, anon-rss:%llukB, "
		          "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:%llukB oom_score_adj:%hd",
		       victim->pid, victim->comm, (unsigned long long)mm->total_vm << 2,
		       (unsigned long long)mm->rss_stat[MM_ANONPAGES] << 2,
		       (unsigned long long)mm->pgtables_bytes >> 10, (short)mm->oom_score_adj);
	}
	if (victim == cur) {
		/* __oom_kill_process: do_send_sig_info(SIGKILL, SEND_SIG_PRIV):
		   si_code SI_KERNEL. To current, it unwinds to task_run. */
		force_fatal_signal(k, SIM_SIGKILL, SIM_SI_KERNEL, 0, 0, "out of memory");
		/* not armed: the task is marked dead; the allocation fails */
		probe_ret(&k->probe, K, "oom_kill_process");
		probe_ret(&k->probe, K, "out_of_memory", {"ret", 1});
		return false;
	}
	task_kill(k, victim, SIM_SIGKILL, SIM_SI_KERNEL, 0, 0, "out of memory");
	oom_reap(k, victim);
	probe_ret(&k->probe, K, "oom_kill_process");
	probe_ret(&k->probe, K, "out_of_memory", {"ret", 1});
	return true;
}
