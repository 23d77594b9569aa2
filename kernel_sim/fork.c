/*
 * fork.c - fork: kernel/fork.c (the clone, clone3 and fork system calls,
 * kernel_clone, copy_process, dup_task_struct, copy_mm, dup_mm, dup_mmap,
 * set_max_threads), mm/memory.c (copy_page_range, copy_p4d_range ...
 * copy_pte_range, copy_present_pte, vma_needs_copy) and the new task's
 * first steps (kernel/sched/core.c schedule_tail).
 *
 * The child's address space is a copy of the parent's VMAs; its page
 * tables are built in new frames, entry by entry. For a private writable
 * mapping (is_cow_mapping) each present page is write-protected in both
 * address spaces and shared: the first write on either side faults and
 * do_wp_page copies it (fault.c). The zero page is copied as it is (its PTE
 * is special: no reference, no RSS). A VMA that never had an anonymous page
 * (no anon_vma: only zero-page mappings or nothing) is not copied at all:
 * the child faults its pages in again (vma_needs_copy), as Linux does.
 */
#include "fork.h"

#include <stdlib.h>
#include <string.h>

#include "../vm/hostmem.h"
#include "../vm/pagetable.h"
#include "../vm/panic.h"
#include "exit.h"
#include "pgtable.h"
#include "rmap.h"
#include "swap.h"
#include "switch.h"
#include "syscall.h"
#include "syscalls.h"

#define K LAYER_KERNEL

#define THREAD_SIZE (16ULL << 10) /* x86-64 kernel stack */
#define MIN_THREADS 20
#define MAX_THREADS 0x3fffffff    /* FUTEX_TID_MASK */

int set_max_threads(uint64_t totalram_pages)
{
	uint64_t threads = totalram_pages * PAGE_SIZE / (THREAD_SIZE * 8);

	if (threads < MIN_THREADS)
		threads = MIN_THREADS;
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	return (int)threads;
}

/* is_cow_mapping: private and may be written. */
static bool is_cow_mapping(unsigned long flags)
{
	return (flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
}

struct copy {
	struct kernel *k;
	struct mm_struct *dst, *src;
	const struct vm_area_struct *vma;
	bool cow;
	uint64_t rss;      /* anonymous pages mapped in dst (add_mm_rss_vec) */
	uint64_t swapents; /* swap entries copied to dst */
};

/*
 * copy_nonpresent_pte for a swap entry: the child's PTE holds the same
 * slot (swap_duplicate), and neither side's entry is exclusive any more.
 */
static void copy_nonpresent_pte(struct copy *c, pfn_t dst_pt, pfn_t src_pt, unsigned idx,
                                vaddr_t addr, pte_t pte)
{
	struct kernel *k = c->k;

	probe_call(&k->probe, K, "copy_nonpresent_pte", {"addr", addr},
	           {"offset", pte_swp_offset(pte)});
	swap_duplicate(k, pte_swp_offset(pte));
	if (pte & _PAGE_SWP_EXCLUSIVE) {
		pte &= ~_PAGE_SWP_EXCLUSIVE; /* pte_swp_clear_exclusive */
		pt_set(&k->phys, src_pt, idx, pte);
	}
	pt_set(&k->phys, dst_pt, idx, pte);
	EV(&k->probe, K, EV_PTE_SET, "set_pte_at", NULL, {"addr", addr}, {"old", 0},
	   {"new", pte}, {"level", 1});
	c->swapents++;
	probe_ret(&k->probe, K, "copy_nonpresent_pte", {"ret", 0});
}

/*
 * copy_present_pte: entry idx of the parent's PT src_pt (mapping addr) into
 * the child's PT dst_pt. Inline: it runs once per page of the parent.
 */
static inline void copy_present_pte(struct copy *c, pfn_t dst_pt, pfn_t src_pt, unsigned idx,
                                    vaddr_t addr, pte_t pte)
{
	struct kernel *k = c->k;
	struct probe *p = &k->probe;
	pfn_t pfn = pte_pfn(pte);

	probe_call(p, K, "copy_present_pte", {"addr", addr}, {"pfn", pfn});
	if (pfn != k->zero_pfn) {
		/* vm_normal_page: an anonymous frame. folio_get and the rmap. */
		struct frame *f = phys_frame(&k->phys, pfn);

		if (f->kind != FK_ANON)
			panic("user PTE at %#llx maps a %s frame", (unsigned long long)addr,
			      frame_kind_name(f->kind));
		f->refcount++;
		folio_dup_anon_rmap_pte(k, pfn);
		c->rss++;
		if (c->cow && (pte & PTE_RW)) {
			/* ptep_set_wrprotect in the parent, pte_wrprotect for the child */
			pte_t wp = pte & ~PTE_RW;

			pt_set(&k->phys, src_pt, idx, wp);
			EV(p, K, EV_PTE_SET, "ptep_set_wrprotect", NULL, {"addr", addr}, {"old", pte},
			   {"new", wp}, {"level", 1});
			pte = wp;
		}
	}
	pte &= ~PTE_A; /* pte_mkold: the child has not used it yet */
	pt_set(&k->phys, dst_pt, idx, pte);
	EV(p, K, EV_PTE_SET, "set_ptes", NULL, {"addr", addr}, {"old", 0}, {"new", pte},
	   {"level", 1});
	probe_ret(p, K, "copy_present_pte", {"ret", 0});
}

/* Entry span of a table at level (1: 4 KiB ... 4: 512 GiB). */
static inline uint64_t span(int level)
{
	return 1ULL << (PAGE_SHIFT + 9 * (level - 1));
}

static inline vaddr_t next_boundary(vaddr_t a, int level, vaddr_t end)
{
	vaddr_t n = (a | (span(level) - 1)) + 1;

	return n == 0 || n > end ? end : n;
}

static const char *const copy_fn[] = {[4] = "copy_p4d_range",
                                      [3] = "copy_pud_range",
                                      [2] = "copy_pmd_range",
                                      [1] = "copy_pte_range"};

/*
 * Copy [addr, end) of the parent's table src (level `level`) into the
 * child's dst. 0, or -ENOMEM when a table of the child cannot be had.
 */
static int copy_range(struct copy *c, pfn_t dst, pfn_t src, int level, vaddr_t addr, vaddr_t end)
{
	struct kernel *k = c->k;
	struct probe *p = &k->probe;
	int ret = 0;

	probe_call(p, K, copy_fn[level], {"addr", addr}, {"end", end});
	if (level == 1) {
		for (; addr < end; addr += PAGE_SIZE) {
			unsigned idx = pt_index(addr, 1);
			pte_t pte = pt_get(&k->phys, src, idx);

			if (pte_maps_page(pte)) /* PROT_NONE pages too */
				copy_present_pte(c, dst, src, idx, addr, pte);
			else if (is_swap_pte(pte))
				copy_nonpresent_pte(c, dst, src, idx, addr, pte);
		}
		goto out;
	}
	while (addr < end) {
		vaddr_t next = next_boundary(addr, level, end);
		pte_t e = pt_get(&k->phys, src, pt_index(addr, level));

		if (pte_present(e)) {
			/* pud_alloc / pmd_alloc / pte_alloc in the child */
			pfn_t d = pgtable_alloc_next(k, c->dst, dst, level, addr);

			if (d == PFN_NONE) {
				ret = -SIM_ENOMEM;
				goto out;
			}
			ret = copy_range(c, d, pte_pfn(e), level - 1, addr, next);
			if (ret)
				goto out;
		}
		addr = next;
	}
out:
	probe_ret(p, K, copy_fn[level], {"ret", (uint64_t)(int64_t)ret});
	return ret;
}

/* copy_page_range for one VMA; the child's PTEs of it are counted in its RSS. */
static int copy_page_range(struct kernel *k, struct mm_struct *dst, struct mm_struct *src,
                           const struct vm_area_struct *vma)
{
	struct copy c = {.k = k,
	                 .dst = dst,
	                 .src = src,
	                 .vma = vma,
	                 .cow = is_cow_mapping(vma->vm_flags)};
	int ret;

	probe_call(&k->probe, K, "copy_page_range", {"start", vma->vm_start},
	           {"end", vma->vm_end});
	ret = copy_range(&c, dst->pgd, src->pgd, 4, vma->vm_start, vma->vm_end);
	dst->rss_stat[MM_ANONPAGES] += c.rss;
	dst->rss_stat[MM_SWAPENTS] += c.swapents;
	probe_ret(&k->probe, K, "copy_page_range", {"ret", (uint64_t)(int64_t)ret});
	return ret;
}

/* flush_tlb_mm: the parent's writable entries may be cached; they are not
   writable any more. */
static void flush_tlb_mm(struct kernel *k, struct mm_struct *mm)
{
	probe_call(&k->probe, K, "flush_tlb_mm", {"pgd", mm->pgd});
	if (flush_tlb_mm_gen(k, mm))
		cpu_flush_tlb(&k->cpu);
	probe_ret(&k->probe, K, "flush_tlb_mm");
}

/* dup_mmap: the VMAs, the anon_vma links, the page tables. 0 or -ENOMEM
   (what was built stays in mm, for mmput to tear down). */
static int dup_mmap(struct kernel *k, struct mm_struct *mm, struct mm_struct *oldmm)
{
	int ret = 0;

	probe_call(&k->probe, K, "dup_mmap", {"vmas", oldmm->nr_vmas});
	for (size_t i = 0; i < oldmm->nr_vmas; i++) {
		const struct vm_area_struct *v = &oldmm->vmas[i];
		struct vm_area_struct *tmp;

		/* vm_area_dup */
		tmp = vma_insert(mm, v->vm_start, v->vm_end, v->vm_flags, v->kind);
		tmp->vm_pgoff = v->vm_pgoff;
		tmp->anon_vma = v->anon_vma;
		EV(&k->probe, K, EV_VMA, "vm_area_dup", NULL, {"start", tmp->vm_start},
		   {"end", tmp->vm_end}, {"flags", tmp->vm_flags});
	}
	/* anon_vma_fork, once for the whole mm here (rmap.h) */
	anon_vma_fork(k, mm, oldmm);
	for (size_t i = 0; i < oldmm->nr_vmas && !ret; i++)
		if (oldmm->vmas[i].anon_vma) /* vma_needs_copy */
			ret = copy_page_range(k, mm, oldmm, &oldmm->vmas[i]);
	flush_tlb_mm(k, oldmm);
	probe_ret(&k->probe, K, "dup_mmap", {"ret", (uint64_t)(int64_t)ret});
	return ret;
}

/* dup_mm: a new mm_struct with oldmm's layout and a copy of its mappings,
   or NULL when out of memory. */
static struct mm_struct *dup_mm(struct kernel *k, struct mm_struct *oldmm)
{
	struct mm_struct *mm = mm_alloc();
	int ret;

	probe_call(&k->probe, K, "dup_mm");
	mm->mmap_base = oldmm->mmap_base;
	mm->start_code = oldmm->start_code;
	mm->end_code = oldmm->end_code;
	mm->start_data = oldmm->start_data;
	mm->end_data = oldmm->end_data;
	mm->start_brk = oldmm->start_brk;
	mm->brk = oldmm->brk;
	mm->start_stack = oldmm->start_stack;
	mm->anon_vma_seq = oldmm->anon_vma_seq;
	mm->oom_score_adj = oldmm->oom_score_adj; /* signal->oom_score_adj is inherited */
	mm->ctx_id = ++k->next_ctx_id; /* init_new_context */
	mm->tlb_gen = 1;
	ret = pgd_alloc(k, mm) ? dup_mmap(k, mm, oldmm) : -SIM_ENOMEM;
	if (ret) {
		mmput(k, mm);
		mm = NULL;
	} else {
		mm->hiwater_rss = mm->rss_stat[MM_ANONPAGES];
		mm->hiwater_vm = mm->total_vm;
	}
	probe_ret(&k->probe, K, "dup_mm", {"ret", mm ? mm->pgd : 0});
	return mm;
}

/*
 * put_user of a 32-bit value into the current mm: the kernel writes user
 * memory directly (no SMAP). The callers write pages the program has
 * already written (a thread's struct pthread), which are present.
 */
static void put_user_u32(struct kernel *k, vaddr_t addr, uint32_t v)
{
	bool user = k->cpu.user;

	k->cpu.user = false;
	if (cpu_store(&k->cpu, addr, 4, v) < 0)
		panic("put_user at %#llx faulted", (unsigned long long)addr);
	k->cpu.user = user;
}

/*
 * copy_process: the child's task (dup_task_struct), its mm (copy_mm: the
 * parent's own with CLONE_VM, else a copy), its place in the family or in
 * the parent's thread group, and on the task list. Returns the child or
 * NULL with *err.
 */
static struct task *copy_process(struct kernel *k, struct task *parent,
                                 const struct sim_clone_args *args, int *err)
{
	bool vm = args->flags & SIM_CLONE_VM, thread = args->flags & SIM_CLONE_THREAD;
	struct task *p;
	struct mm_struct *mm;

	probe_call(&k->probe, K, "copy_process", {"parent", (uint64_t)parent->pid},
	           {"flags", args->flags});
	/* Thread groups share signals, and sharing signal handlers requires a
	   shared address space. */
	if ((thread && !(args->flags & SIM_CLONE_SIGHAND)) ||
	    ((args->flags & SIM_CLONE_SIGHAND) && !vm)) {
		*err = -SIM_EINVAL;
		probe_ret(&k->probe, K, "copy_process", {"ret", (uint64_t)(int64_t)*err});
		return NULL;
	}
	/*
	 * RLIMIT_NPROC is not checked before this: the simulated processes run
	 * as root (Uid 0), whom Linux exempts from it. The limit that holds is
	 * threads-max.
	 */
	if (k->nr_tasks >= k->max_threads) {
		*err = -SIM_EAGAIN;
		probe_ret(&k->probe, K, "copy_process", {"ret", (uint64_t)(int64_t)*err});
		return NULL;
	}
	probe_call(&k->probe, K, "copy_mm", {"clone_vm", vm});
	if (vm) {
		mm = parent->mm;
		mm->mm_users++; /* mmget */
	} else {
		mm = dup_mm(k, parent->mm);
	}
	probe_ret(&k->probe, K, "copy_mm", {"ret", mm ? 0 : (uint64_t)-SIM_ENOMEM});
	if (!mm) {
		*err = -SIM_ENOMEM;
		probe_ret(&k->probe, K, "copy_process", {"ret", (uint64_t)(int64_t)*err});
		return NULL;
	}
	p = hostmem_calloc(1, sizeof(*p));
	if (!p)
		host_oom("a task");
	/* dup_task_struct: what the child inherits; counters start at 0. */
	p->pid = p->tgid = k->next_pid++;
	p->group_leader = p;
	memcpy(p->comm, parent->comm, sizeof(p->comm));
	memcpy(p->rlim, parent->rlim, sizeof(p->rlim));
	p->ip = parent->ip;
	p->sp = args->stack ? args->stack + args->stack_size : parent->sp;
	p->mm = mm;
	if (args->flags & SIM_CLONE_SETTLS)
		p->fsbase = args->tls;
	if (args->flags & SIM_CLONE_CHILD_SETTID)
		p->set_child_tid = args->child_tid;
	if (args->flags & SIM_CLONE_CHILD_CLEARTID)
		p->clear_child_tid = args->child_tid;
	p->ret_from_fork = true;
	if (thread) {
		/* one more thread of the parent's group: the group's parent is
		   its parent, and it is nobody's child */
		p->tgid = parent->tgid;
		p->group_leader = parent->group_leader;
		p->real_parent = parent->group_leader->real_parent;
		p->thread = true;
	} else {
		p->real_parent = parent;
		p->sibling = parent->children;
		parent->children = p;
	}
	if (args->flags & SIM_CLONE_PARENT_SETTID)
		put_user_u32(k, args->parent_tid, (uint32_t)p->pid);
	p->next_task = k->tasks;
	k->tasks = p;
	k->nr_tasks++;
	probe_ret(&k->probe, K, "copy_process", {"ret", (uint64_t)p->pid});
	return p;
}

int64_t kernel_clone(struct kernel *k, const struct sim_clone_args *args)
{
	struct task *parent = k->current, *p;
	int err = 0;
	int64_t ret;

	probe_call(&k->probe, K, "kernel_clone", {"flags", args->flags});
	p = copy_process(k, parent, args, &err);
	if (p) {
		/* wake_up_new_task: runnable; it runs when the script runs it. */
		probe_call(&k->probe, K, "wake_up_new_task", {"pid", (uint64_t)p->pid});
		probe_ret(&k->probe, K, "wake_up_new_task");
		ret = p->pid;
	} else {
		ret = err;
	}
	probe_ret(&k->probe, K, "kernel_clone", {"ret", (uint64_t)ret});
	return ret;
}

int64_t sys_fork(struct kernel *k)
{
	int64_t ret;

	struct sim_clone_args args = {.flags = SIM_SIGCHLD};

	syscall_enter(k, SIM_NR_fork, "__x64_sys_fork", {"flags", SIM_SIGCHLD});
	ret = kernel_clone(k, &args);
	syscall_exit(k, "__x64_sys_fork", ret);
	return ret;
}

int64_t sys_clone(struct kernel *k, uint64_t flags, vaddr_t newsp, vaddr_t parent_tid,
                  vaddr_t child_tid, vaddr_t tls)
{
	/* __do_sys_clone: its five arguments into kernel_clone_args (the exit
	   signal stays in the low byte of flags here, as sys_fork has it) */
	struct sim_clone_args args = {.flags = flags,
	                              .parent_tid = parent_tid,
	                              .child_tid = child_tid,
	                              .stack = newsp,
	                              .tls = tls};
	int64_t ret;

	syscall_enter(k, SIM_NR_clone, "__x64_sys_clone", {"flags", flags}, {"newsp", newsp},
	              {"parent_tidptr", parent_tid}, {"child_tidptr", child_tid}, {"tls", tls});
	ret = kernel_clone(k, &args);
	syscall_exit(k, "__x64_sys_clone", ret);
	return ret;
}

void schedule_tail(struct kernel *k, struct task *t)
{
	vaddr_t addr = t->set_child_tid;
	const struct vm_area_struct *vma;

	if (!addr)
		return;
	probe_call(&k->probe, K, "schedule_tail", {"pid", (uint64_t)t->pid},
	           {"set_child_tid", addr});
	vma = t->mm ? find_vma(t->mm, addr) : NULL;
	if (vma && vma->vm_start <= addr)
		put_user_u32(k, addr, (uint32_t)t->pid); /* task_pid_vnr(current) */
	probe_ret(&k->probe, K, "schedule_tail");
}

int64_t sys_clone3(struct kernel *k, const struct sim_clone_args *args)
{
	int64_t ret;

	syscall_enter(k, SIM_NR_clone3, "__x64_sys_clone3", {"flags", args->flags},
	              {"stack", args->stack}, {"tls", args->tls});
	ret = kernel_clone(k, args);
	syscall_exit(k, "__x64_sys_clone3", ret);
	return ret;
}
