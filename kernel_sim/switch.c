/*
 * switch.c - context switches (kernel/sched/core.c context_switch,
 * arch/x86/mm/tlb.c switch_mm_irqs_off, choose_new_asid, load_new_mm_cr3,
 * arch/x86/kernel/process_64.c __switch_to). switch.h explains the TLB
 * side; the x86 hardware PCID of ASID slot n is n + 1 (kern_pcid), so PCID 0
 * never tags an entry of a process.
 */
#include "switch.h"

#include <inttypes.h>

#include "../vm/pagetable.h"
#include "../vm/panic.h"

#define K LAYER_KERNEL

static unsigned kern_pcid(unsigned asid)
{
	return asid + 1;
}

/* choose_new_asid: the slot already holding next's entries, or the next
   one round robin; need_flush unless the held entries are current. */
static unsigned choose_new_asid(struct kernel *k, struct mm_struct *next, bool *need_flush)
{
	unsigned asid;

	probe_call(&k->probe, K, "choose_new_asid", {"ctx_id", next->ctx_id},
	           {"tlb_gen", next->tlb_gen});
	if (!k->opts.pcid) {
		asid = 0;
		*need_flush = true;
		goto out;
	}
	for (asid = 0; asid < TLB_NR_DYN_ASIDS; asid++) {
		if (k->ctxs[asid].ctx_id != next->ctx_id)
			continue;
		*need_flush = k->ctxs[asid].tlb_gen < next->tlb_gen;
		goto out;
	}
	asid = k->next_asid++;
	if (asid >= TLB_NR_DYN_ASIDS) {
		asid = 0;
		k->next_asid = 1;
	}
	*need_flush = true;
out:
	probe_ret(&k->probe, K, "choose_new_asid", {"ret", asid}, {"need_flush", *need_flush});
	return asid;
}

/* load_new_mm_cr3: CR3 = next's pgd, with the PCID and NOFLUSH bit when PCID is on. */
static void load_new_mm_cr3(struct kernel *k, struct mm_struct *next, unsigned asid, bool flush)
{
	probe_call(&k->probe, K, "load_new_mm_cr3", {"pgd", next->pgd}, {"asid", asid},
	           {"need_flush", flush});
	if (k->opts.pcid)
		cpu_load_cr3_pcid(&k->cpu, next->pgd, kern_pcid(asid), !flush);
	else
		cpu_load_cr3(&k->cpu, next->pgd);
	probe_ret(&k->probe, K, "load_new_mm_cr3");
}

static void switch_mm_irqs_off(struct kernel *k, struct mm_struct *prev, struct mm_struct *next)
{
	bool need_flush;
	unsigned asid;

	probe_call(&k->probe, K, "switch_mm_irqs_off", {"prev_pgd", prev ? prev->pgd : 0},
	           {"next_pgd", next->pgd});
	asid = choose_new_asid(k, next, &need_flush);
	if (need_flush) {
		k->ctxs[asid].ctx_id = next->ctx_id;
		k->ctxs[asid].tlb_gen = next->tlb_gen;
	}
	load_new_mm_cr3(k, next, asid, need_flush);
	k->loaded_mm = next;
	k->loaded_asid = (uint16_t)asid;
	probe_ret(&k->probe, K, "switch_mm_irqs_off");
}

/* What the CPU counted since the last switch belongs to the task leaving. */
static void charge_tlb(struct kernel *k, struct task *prev)
{
	const struct tlb *tlb = &k->cpu.tlb;

	if (prev) {
		prev->tlb_hits += cpu_tlb_hits(&k->cpu) - k->tlb_hits_mark;
		prev->tlb_misses += tlb->misses - k->tlb_misses_mark;
	}
	k->tlb_hits_mark = cpu_tlb_hits(&k->cpu);
	k->tlb_misses_mark = tlb->misses;
}

void context_switch(struct kernel *k, struct task *next)
{
	struct task *prev = k->current;

	if (prev == next && k->loaded_mm == next->mm)
		return;
	if (!next->mm || next->mm->pgd == PFN_NONE)
		panic("switching to task %d, which has no address space", next->pid);
	probe_call(&k->probe, K, "context_switch", {"prev", prev ? (uint64_t)prev->pid : 0},
	           {"next", (uint64_t)next->pid});
	if (prev && prev != next)
		prev->nvcsw++;
	charge_tlb(k, prev);
	/* Threads of one process share the mm: no CR3 write between them. */
	if (next->mm != k->loaded_mm || k->cpu.cr3 != next->mm->pgd)
		switch_mm_irqs_off(k, k->loaded_mm, next->mm);
	probe_call(&k->probe, K, "__switch_to", {"next", (uint64_t)next->pid});
	k->current = next;
	probe_ret(&k->probe, K, "__switch_to");
	k->nr_switches++;
	probe_ret(&k->probe, K, "context_switch");
}

void activate_mm(struct kernel *k, struct mm_struct *mm)
{
	charge_tlb(k, k->current);
	if (k->opts.pcid) {
		unsigned asid = k->next_asid++ % TLB_NR_DYN_ASIDS;

		k->ctxs[asid] = (struct tlb_context){mm->ctx_id, mm->tlb_gen};
		cpu_load_cr3_pcid(&k->cpu, mm->pgd, kern_pcid(asid), false);
		k->loaded_asid = (uint16_t)asid;
	} else {
		k->ctxs[0] = (struct tlb_context){mm->ctx_id, mm->tlb_gen};
		cpu_load_cr3(&k->cpu, mm->pgd);
		k->loaded_asid = 0;
	}
	k->loaded_mm = mm;
}

void switch_mm_drop(struct kernel *k, struct mm_struct *mm)
{
	for (unsigned i = 0; i < TLB_NR_DYN_ASIDS; i++)
		if (k->ctxs[i].ctx_id == mm->ctx_id)
			k->ctxs[i].ctx_id = 0;
	if (k->loaded_mm == mm) {
		k->loaded_mm = NULL;
		if (k->cpu.cr3 != PFN_NONE)
			cpu_load_cr3(&k->cpu, PFN_NONE);
	}
}

bool flush_tlb_mm_gen(struct kernel *k, struct mm_struct *mm)
{
	mm->tlb_gen++;
	if (k->loaded_mm == mm)
		k->ctxs[k->loaded_asid].tlb_gen = mm->tlb_gen;
	/* A test may load an mm's tables into CR3 itself: flush then too. */
	return k->loaded_mm == mm || (mm->pgd != PFN_NONE && k->cpu.cr3 == mm->pgd);
}

void task_tlb_counts(struct kernel *k, const struct task *t, uint64_t *hits, uint64_t *misses)
{
	*hits = t->tlb_hits;
	*misses = t->tlb_misses;
	if (k->current == t) {
		*hits += cpu_tlb_hits(&k->cpu) - k->tlb_hits_mark;
		*misses += k->cpu.tlb.misses - k->tlb_misses_mark;
	}
}

static struct mm_struct *mm_of_ctx(struct kernel *k, uint64_t ctx_id)
{
	for (struct task *t = k->tasks; t; t = t->next_task)
		if (t->mm && t->mm->ctx_id == ctx_id)
			return t->mm;
	return NULL;
}

int switch_check(struct kernel *k, FILE *err)
{
	int broken = 0;
	const struct tlb *tlb = &k->cpu.tlb;

#define REPORT(...)                                                                                \
	do {                                                                                       \
		if (!broken++ && err) {                                                            \
			fputs("switch_check: ", err);                                              \
			fprintf(err, __VA_ARGS__);                                                 \
			fputc('\n', err);                                                          \
		}                                                                                  \
	} while (0)
	if (k->current && k->current->mm && k->cpu.cr3 != PFN_NONE &&
	    k->loaded_mm != k->current->mm)
		REPORT("task %d runs but another mm is loaded", k->current->pid);
	if (k->loaded_mm) {
		const struct tlb_context *c = &k->ctxs[k->loaded_asid];

		if (k->loaded_mm->pgd != k->cpu.cr3)
			REPORT("the loaded mm's pgd %#" PRIx64 " is not CR3 %#" PRIx64,
			       k->loaded_mm->pgd, k->cpu.cr3);
		if (c->ctx_id != k->loaded_mm->ctx_id || c->tlb_gen != k->loaded_mm->tlb_gen)
			REPORT("ASID %u is not current with the loaded mm", k->loaded_asid);
		if (k->opts.pcid && tlb_key_pcid(tlb->tag) != kern_pcid(k->loaded_asid))
			REPORT("PCID %u loaded, ASID %u expected", tlb_key_pcid(tlb->tag),
			       k->loaded_asid);
	}
	for (unsigned a = 0; a < TLB_NR_DYN_ASIDS; a++)
		for (unsigned b = a + 1; b < TLB_NR_DYN_ASIDS; b++)
			if (k->ctxs[a].ctx_id && k->ctxs[a].ctx_id == k->ctxs[b].ctx_id)
				REPORT("ASIDs %u and %u both hold ctx %" PRIu64, a, b,
				       k->ctxs[a].ctx_id);
	if (!k->opts.pcid)
		return broken;
	for (unsigned i = 0; i < tlb->nsets * tlb->ways; i++) {
		const struct tlb_entry *e = &tlb->e[i];
		unsigned pcid = tlb_key_pcid(e->vpn);
		vaddr_t va = tlb_key_vpn(e->vpn) << PAGE_SHIFT;
		struct mm_struct *mm;
		pte_t leaf;

		if (e->vpn == TLB_VPN_NONE || pcid == tlb_key_pcid(tlb->tag))
			continue; /* the current PCID's are cpu_check's */
		if (pcid == 0 || pcid > TLB_NR_DYN_ASIDS) {
			REPORT("entry for %#" PRIx64 " tagged with PCID %u", va, pcid);
			continue;
		}
		mm = mm_of_ctx(k, k->ctxs[pcid - 1].ctx_id);
		if (!mm || k->ctxs[pcid - 1].tlb_gen != mm->tlb_gen)
			continue; /* stale, and flushed before it can be used */
		leaf = pagewalk(&k->phys, mm->pgd, va, NULL);
		if (!pte_present(leaf) || pte_pfn(leaf) != e->pfn ||
		    ((e->perm & TLB_W) && !(leaf & PTE_RW)))
			REPORT("PCID %u entry %#" PRIx64 " -> pfn %#" PRIx64
			       " does not match its mm's PTE %#" PRIx64,
			       pcid, va, (uint64_t)e->pfn, leaf);
	}
#undef REPORT
	return broken;
}
