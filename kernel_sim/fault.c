/*
 * fault.c - the page-fault handler: arch/x86/mm/fault.c (exc_page_fault,
 * do_user_addr_fault, access_error, bad_area_*) and mm/memory.c
 * (handle_mm_fault, __handle_mm_fault, handle_pte_fault, do_anonymous_page,
 * do_wp_page, wp_page_copy), with mm/oom_kill.c pagefault_out_of_memory.
 *
 * Only anonymous private memory exists here, so a missing PTE is always
 * do_anonymous_page: a read maps the shared zero page (or, with the zero page
 * disabled, a frame), a write takes a zeroed frame from the buddy allocator.
 * A write to a present, write-protected page of a writable VMA is
 * copy-on-write (do_wp_page): the zero page, or a frame fork left shared, is
 * copied into a new frame (wp_page_copy); a frame only this mapping holds
 * is made writable in place (wp_page_reuse), the kernel's own test
 * (PageAnonExclusive, else wp_can_reuse_anon_folio: a reference count of
 * 1). A PTE that holds a swap entry is do_swap_page: a major fault that
 * reads the page back. Each step is an event named after the kernel
 * function, in the kernel's order.
 */
#include "fault.h"
#include <inttypes.h>

#include "../vm/pagetable.h"
#include "../vm/panic.h"
#include "overcommit.h"
#include "pgtable.h"
#include "swap.h"
#include "rmap.h"
#include "switch.h"
#include "syscalls.h"

/* vm_fault_t bits (include/linux/mm_types.h) */
#define VM_FAULT_OOM     0x000001u
#define VM_FAULT_SIGSEGV 0x000040u
#define VM_FAULT_MAJOR   0x000004u

#define K LAYER_KERNEL

struct vm_fault {
	struct kernel *k;
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	vaddr_t address; /* page aligned */
	vaddr_t real_address;
	bool write;
	pfn_t pt;     /* the PT frame covering address */
	unsigned idx; /* index of address in pt */
	pte_t orig_pte;
};

static void debug_check(struct kernel *k)
{
	if (k->opts.debug_checks && kernel_check(k, stderr) != 0)
		panic("an invariant broke in the page-fault path");
}

/*
 * vma->vm_page_prot of a private anonymous mapping, before write access.
 * Young: x86's protections (PAGE_COPY, PAGE_READONLY, ... in
 * arch/x86/include/asm/pgtable_types.h) all hold _PAGE_ACCESSED, so every
 * PTE a fault makes from them starts accessed, and reclaim that looks at a
 * page just faulted in sees it used.
 */
static pte_t vma_pte_flags(const struct vm_area_struct *vma, bool writable)
{
	pte_t f = PTE_P | PTE_US | PTE_A;

	if (!(vma->vm_flags & VM_EXEC))
		f |= PTE_NX;
	if (writable)
		f |= PTE_RW | PTE_D; /* pte_mkwrite(pte_mkdirty(entry)) */
	return f;
}

/*
 * The steps of the fault path below are marked inline: each is a pair of
 * events and a line or two, and as calls (GCC -O2 kept them out of line)
 * their prologues and epilogues cost more than their bodies.
 */
static inline void set_pte_at(struct vm_fault *vmf, pte_t old, pte_t e)
{
	struct kernel *k = vmf->k;

	pt_set(&k->phys, vmf->pt, vmf->idx, e);
	EV(&k->probe, K, EV_PTE_SET, "set_pte_at", NULL, {"addr", vmf->address}, {"old", old},
	   {"new", e}, {"level", 1});
}

static inline void update_mmu_cache_range(struct vm_fault *vmf)
{
	/* Nothing to do on x86: the TLB is filled by the retried access. */
	probe_call(&vmf->k->probe, K, "update_mmu_cache_range", {"addr", vmf->address});
	probe_ret(&vmf->k->probe, K, "update_mmu_cache_range");
}

/* add_mm_counter's change: the counter, and the RSS high-water mark. */
static inline void mm_counter_add(struct mm_struct *mm, int member, int64_t value)
{
	mm->rss_stat[member] += (uint64_t)value;
	if (mm->rss_stat[MM_ANONPAGES] > mm->hiwater_rss)
		mm->hiwater_rss = mm->rss_stat[MM_ANONPAGES];
}

static inline void add_mm_counter(struct vm_fault *vmf, int member, int64_t value)
{
	probe_call(&vmf->k->probe, K, "add_mm_counter", {"member", (uint64_t)member},
	           {"value", (uint64_t)value});
	mm_counter_add(vmf->mm, member, value);
	probe_ret(&vmf->k->probe, K, "add_mm_counter");
}

/* A zeroed anonymous frame (vma_alloc_zeroed_movable_folio), or PFN_NONE.
   Inline into both of its callers, as the other steps (see above). */
static inline __attribute__((always_inline)) pfn_t
vma_alloc_zeroed_movable_folio(struct vm_fault *vmf)
{
	struct kernel *k = vmf->k;
	pfn_t pfn;

	probe_call(&k->probe, K, "vma_alloc_zeroed_movable_folio", {"addr", vmf->address});
	pfn = buddy_alloc(&k->buddy, 0, FK_ANON);
	if (pfn != PFN_NONE) {
		probe_call(&k->probe, K, "clear_page", {"pfn", pfn});
		phys_zero_frame(&k->phys, pfn);
		EV(&k->probe, K, EV_ZERO_FRAME, "clear_page", NULL, {"pfn", pfn});
		probe_ret(&k->probe, K, "clear_page");
	}
	probe_ret(&k->probe, K, "vma_alloc_zeroed_movable_folio",
	          {"ret", pfn == PFN_NONE ? 0 : pfn});
	return pfn;
}

/* vmf_anon_prepare -> anon_vma_prepare: the VMA's anon_vma, for the rmap
   of the page about to be mapped (rmap.h; one test once it exists). */
static inline void vmf_anon_prepare(struct vm_fault *vmf)
{
	probe_call(&vmf->k->probe, K, "vmf_anon_prepare");
	anon_vma_prepare(vmf->k, vmf->mm, vmf->vma);
	probe_ret(&vmf->k->probe, K, "vmf_anon_prepare", {"ret", 0});
}

/* folio_add_lru_vma: the new anonymous folio enters the inactive list. */
static inline void folio_add_lru_vma(struct vm_fault *vmf, pfn_t pfn)
{
	struct kernel *k = vmf->k;

	probe_call(&k->probe, K, "folio_add_lru_vma", {"pfn", pfn});
	folio_add_new_anon(&k->lruvec, pfn);
	probe_ret(&k->probe, K, "folio_add_lru_vma");
}

/* The PTE of a new anonymous folio at pfn in vma (folio_mk_pte's value). */
static inline pte_t anon_folio_pte(const struct vm_area_struct *vma, pfn_t pfn)
{
	return pte_mk(pfn, vma_pte_flags(vma, vma->vm_flags & VM_WRITE));
}

static inline pte_t folio_mk_pte(struct vm_fault *vmf, pfn_t pfn)
{
	pte_t e = anon_folio_pte(vmf->vma, pfn);

	probe_call(&vmf->k->probe, K, "folio_mk_pte", {"pfn", pfn});
	probe_ret(&vmf->k->probe, K, "folio_mk_pte", {"ret", e});
	return e;
}

static unsigned do_anonymous_page(struct vm_fault *vmf)
{
	struct kernel *k = vmf->k;
	struct probe *p = &k->probe;
	pfn_t pfn;
	pte_t e;

	probe_call(p, K, "do_anonymous_page", {"addr", vmf->address}, {"write", vmf->write});
	if (!vmf->write && k->opts.zero_page) {
		/* Use the zero page for reads: pte_mkspecial(pfn_pte(my_zero_pfn(), prot)),
		   read-only whatever the VMA allows, so a write faults again. */
		e = pte_mk(k->zero_pfn, vma_pte_flags(vmf->vma, false) | PTE_SPECIAL);
		set_pte_at(vmf, 0, e);
		update_mmu_cache_range(vmf);
		probe_ret(p, K, "do_anonymous_page", {"ret", 0});
		return 0;
	}
	vmf_anon_prepare(vmf);
	probe_call(p, K, "alloc_anon_folio", {"addr", vmf->address});
	pfn = vma_alloc_zeroed_movable_folio(vmf);
	probe_ret(p, K, "alloc_anon_folio", {"ret", pfn == PFN_NONE ? 0 : pfn});
	if (pfn == PFN_NONE) {
		probe_ret(p, K, "do_anonymous_page", {"ret", VM_FAULT_OOM});
		return VM_FAULT_OOM;
	}
	e = folio_mk_pte(vmf, pfn);
	add_mm_counter(vmf, MM_ANONPAGES, 1);
	folio_add_lru_vma(vmf, pfn);
	folio_add_new_anon_rmap(k, pfn, vmf->mm, vmf->vma, vmf->address);
	/* Not present before: no TLB entry can exist, so no flush. */
	set_pte_at(vmf, 0, e);
	update_mmu_cache_range(vmf);
	probe_ret(p, K, "do_anonymous_page", {"ret", 0});
	return 0;
}

/* A frame for the copy, not zeroed (vma_alloc_folio), or PFN_NONE. */
static pfn_t vma_alloc_folio(struct vm_fault *vmf)
{
	struct kernel *k = vmf->k;
	pfn_t pfn;

	probe_call(&k->probe, K, "vma_alloc_folio", {"addr", vmf->address});
	pfn = buddy_alloc(&k->buddy, 0, FK_ANON);
	probe_ret(&k->probe, K, "vma_alloc_folio", {"ret", pfn == PFN_NONE ? 0 : pfn});
	return pfn;
}

/* __wp_page_copy_user: the old page's 4096 bytes into the new frame. */
static void wp_page_copy_user(struct vm_fault *vmf, pfn_t dst, pfn_t src)
{
	struct kernel *k = vmf->k;

	probe_call(&k->probe, K, "__wp_page_copy_user", {"dst", dst}, {"src", src});
	phys_copy_frame(&k->phys, dst, src);
	probe_ret(&k->probe, K, "__wp_page_copy_user", {"ret", 0});
}

/*
 * folio_put of the old page after the copy: one reference less; the last
 * frees it (the other process unmapped it meanwhile: not in this model,
 * where the page tables cannot change under a fault, but kept as Linux has it).
 */
static void folio_put(struct kernel *k, pfn_t pfn)
{
	struct frame *f = phys_frame(&k->phys, pfn);

	probe_call(&k->probe, K, "folio_put", {"pfn", pfn}, {"refcount", (uint64_t)f->refcount});
	if (f->refcount > 1) {
		f->refcount--;
	} else {
		if (pfn_folio(&k->lruvec, pfn)->flags & PG_swapcache)
			delete_from_swap_cache(k, pfn); /* free_swap_cache */
		folio_release(&k->lruvec, pfn);
		buddy_free(&k->buddy, pfn, 0);
	}
	probe_ret(&k->probe, K, "folio_put");
}

/*
 * wp_page_copy: a new frame replaces the write-protected page in this
 * mapping: a zeroed one for the zero page, else a copy of the shared frame,
 * which loses this mapping and a reference.
 */
static unsigned wp_page_copy(struct vm_fault *vmf)
{
	struct kernel *k = vmf->k;
	struct probe *p = &k->probe;
	pfn_t old = pte_pfn(vmf->orig_pte);
	bool zero = old == k->zero_pfn;
	pfn_t pfn;
	pte_t e;

	probe_call(p, K, "wp_page_copy", {"addr", vmf->address});
	vmf_anon_prepare(vmf);
	pfn = zero ? vma_alloc_zeroed_movable_folio(vmf) : vma_alloc_folio(vmf);
	if (pfn == PFN_NONE) {
		probe_ret(p, K, "wp_page_copy", {"ret", VM_FAULT_OOM});
		return VM_FAULT_OOM;
	}
	if (!zero)
		wp_page_copy_user(vmf, pfn, old);
	e = folio_mk_pte(vmf, pfn);
	if (zero)
		add_mm_counter(vmf, MM_ANONPAGES, 1); /* an anonymous page for no page */
	folio_add_lru_vma(vmf, pfn);
	probe_call(p, K, "ptep_clear_flush", {"addr", vmf->address});
	pt_set(&k->phys, vmf->pt, vmf->idx, 0);
	EV(p, K, EV_PTE_CLEAR, "ptep_clear_flush", NULL, {"addr", vmf->address},
	   {"old", vmf->orig_pte});
	if (flush_tlb_mm_gen(k, vmf->mm))
		cpu_invlpg(&k->cpu, vmf->address);
	probe_ret(p, K, "ptep_clear_flush");
	folio_add_new_anon_rmap(k, pfn, vmf->mm, vmf->vma, vmf->address);
	set_pte_at(vmf, 0, e);
	update_mmu_cache_range(vmf);
	if (!zero) {
		probe_call(p, K, "folio_remove_rmap_pte", {"pfn", old});
		folio_remove_rmap_pte(k, old);
		probe_ret(p, K, "folio_remove_rmap_pte");
		folio_put(k, old);
	}
	probe_ret(p, K, "wp_page_copy", {"ret", 0});
	return 0;
}

/* A frame only this mapping holds: young, dirty and writable in place. */
static unsigned wp_page_reuse(struct vm_fault *vmf)
{
	struct kernel *k = vmf->k;
	pte_t e = vmf->orig_pte | PTE_RW | PTE_D | PTE_A;

	probe_call(&k->probe, K, "wp_page_reuse", {"addr", vmf->address});
	set_pte_at(vmf, vmf->orig_pte, e);
	/* Only rights were added: a stale read-only entry faults again and is
	   dropped by the CPU (SDM 4.10.4.1); the fault dropped it already. */
	update_mmu_cache_range(vmf);
	probe_ret(&k->probe, K, "wp_page_reuse", {"ret", 0});
	return 0;
}

/*
 * wp_can_reuse_anon_folio: nobody else holds the page any more (the other
 * side of a fork wrote its own copy, or exited): it becomes this mapping's
 * own again (folio_move_anon_rmap).
 */
static bool wp_can_reuse_anon_folio(struct vm_fault *vmf, pfn_t pfn)
{
	struct kernel *k = vmf->k;
	const struct frame *f = phys_frame(&k->phys, pfn);
	bool reuse = f->refcount == 1;

	probe_call(&k->probe, K, "wp_can_reuse_anon_folio", {"pfn", pfn},
	           {"refcount", (uint64_t)f->refcount});
	if (reuse) {
		anon_vma_prepare(k, vmf->mm, vmf->vma);
		folio_move_anon_rmap(k, pfn, vmf->mm);
	}
	probe_ret(&k->probe, K, "wp_can_reuse_anon_folio", {"ret", reuse});
	return reuse;
}

static unsigned do_wp_page(struct vm_fault *vmf)
{
	struct kernel *k = vmf->k;
	pfn_t pfn = pte_pfn(vmf->orig_pte);
	unsigned ret;

	probe_call(&k->probe, K, "do_wp_page", {"addr", vmf->address});
	if (pfn != k->zero_pfn && phys_frame(&k->phys, pfn)->kind != FK_ANON)
		panic("write fault on pfn %#llx, a %s frame", (unsigned long long)pfn,
		      frame_kind_name(phys_frame(&k->phys, pfn)->kind));
	if (pfn != k->zero_pfn &&
	    (folio_rmap(k, pfn)->exclusive || wp_can_reuse_anon_folio(vmf, pfn)))
		ret = wp_page_reuse(vmf);
	else
		ret = wp_page_copy(vmf);
	probe_ret(&k->probe, K, "do_wp_page", {"ret", ret});
	return ret;
}

/*
 * do_swap_page: the PTE holds a swap entry. The folio comes from the swap
 * cache when it is still there; else a new folio is read (a major fault):
 * directly when this PTE is the slot's only holder (SWP_SYNCHRONOUS_IO
 * skips the swap cache), else through the swap cache, where the other
 * holders (processes that share the page since fork) find it. The page is
 * exclusive to this mapping when no other PTE holds the slot and no other
 * maps the folio: then the PTE is writable at once where the VMA allows
 * (dirty only on a write); a shared one is mapped read-only, for do_wp_page.
 * The slot loses this PTE's reference (swap_free).
 */
static unsigned do_swap_page(struct vm_fault *vmf)
{
	struct kernel *k = vmf->k;
	struct probe *p = &k->probe;
	uint64_t off = pte_swp_offset(vmf->orig_pte);
	unsigned ret = 0, holders;
	struct anon_rmap *r;
	bool exclusive;
	pfn_t pfn;
	pte_t e;

	probe_call(p, K, "do_swap_page", {"addr", vmf->address}, {"offset", off});
	if (!k->swap || off == 0 || off >= k->swap->max || !swap_count(k, off))
		panic("do_swap_page: PTE %#llx at %#llx names no swap slot in use",
		      (unsigned long long)vmf->orig_pte, (unsigned long long)vmf->address);
	holders = swap_count(k, off);
	anon_vma_prepare(k, vmf->mm, vmf->vma);
	pfn = swap_cache_get_folio(k, off);
	if (pfn != PFN_NONE) {
		/* Still in the swap cache: map it again, no I/O. */
		phys_frame(&k->phys, pfn)->refcount++;
	} else {
		probe_call(p, K, "vma_alloc_folio", {"addr", vmf->address});
		pfn = buddy_alloc(&k->buddy, 0, FK_ANON);
		probe_ret(p, K, "vma_alloc_folio", {"ret", pfn == PFN_NONE ? 0 : pfn});
		if (pfn == PFN_NONE) {
			probe_ret(p, K, "do_swap_page", {"ret", VM_FAULT_OOM});
			return VM_FAULT_OOM;
		}
		swap_read_folio(k, pfn, off);
		ret = VM_FAULT_MAJOR;
		count_vm_events(&k->vmstat, PGMAJFAULT, 1);
	}
	r = folio_rmap(k, pfn);
	exclusive = holders == 1 && r->mapcount == 0;
	if (r->mapcount) {
		r->mapcount++; /* folio_add_anon_rmap_pte */
		r->exclusive = 0;
	} else {
		folio_add_new_anon_rmap(k, pfn, vmf->mm, vmf->vma, vmf->address);
		if (!exclusive) {
			/* __folio_set_anon: a page others may map takes the oldest anon_vma,
			   the root, which every process of the family is linked to. */
			r->anon_vma = vmf->mm->anon_vma->root->id;
			r->exclusive = 0;
		}
	}
	e = pte_mk(pfn, vma_pte_flags(vmf->vma, false)); /* mk_pte(page, vma->vm_page_prot) */
	if ((vmf->vma->vm_flags & VM_WRITE) && exclusive) {
		e |= PTE_RW;
		if (vmf->write)
			e |= PTE_D;
	}
	add_mm_counter(vmf, MM_ANONPAGES, 1);
	add_mm_counter(vmf, MM_SWAPENTS, -1);
	if (!(pfn_folio(&k->lruvec, pfn)->flags & PG_lru))
		folio_add_lru_vma(vmf, pfn);
	if (ret == VM_FAULT_MAJOR && holders > 1)
		add_to_swap_cache(k, pfn, off); /* after the LRU add, which sets the flags */
	set_pte_at(vmf, vmf->orig_pte, e);
	probe_call(p, K, "swap_free", {"offset", off});
	swap_free(k, off);
	probe_ret(p, K, "swap_free");
	update_mmu_cache_range(vmf);
	probe_ret(p, K, "do_swap_page", {"ret", ret});
	return ret;
}

static unsigned handle_pte_fault(struct vm_fault *vmf)
{
	struct kernel *k = vmf->k;
	unsigned ret = 0;

	probe_call(&k->probe, K, "handle_pte_fault", {"addr", vmf->address});
	vmf->orig_pte = pt_get(&k->phys, vmf->pt, vmf->idx);
	if (pte_protnone(vmf->orig_pte))
		panic("fault at %#llx on a PROT_NONE entry in an accessible VMA",
		      (unsigned long long)vmf->address); /* NUMA hinting: not modelled */
	if (__builtin_expect(is_swap_pte(vmf->orig_pte), 0)) {
		ret = do_swap_page(vmf);
	} else if (!pte_present(vmf->orig_pte)) {
		probe_call(&k->probe, K, "do_pte_missing", {"addr", vmf->address});
		ret = do_anonymous_page(vmf);
		probe_ret(&k->probe, K, "do_pte_missing", {"ret", ret});
	} else if (vmf->write && !(vmf->orig_pte & PTE_RW)) {
		ret = do_wp_page(vmf);
	}
	/* else spurious: the PTE already allows the access; the retry will succeed. */
	probe_ret(&k->probe, K, "handle_pte_fault", {"ret", ret});
	return ret;
}

static unsigned handle_mm_fault(struct vm_fault *vmf, unsigned error)
{
	struct kernel *k = vmf->k;
	struct probe *p = &k->probe;
	unsigned ret;

	probe_call(p, K, "handle_mm_fault", {"addr", vmf->real_address}, {"error", error});
	count_vm_events(&k->vmstat, PGFAULT, 1);
	probe_call(p, K, "__handle_mm_fault", {"addr", vmf->real_address});
	vmf->pt = pgtable_alloc_walk(k, vmf->mm, vmf->address);
	if (vmf->pt == PFN_NONE) {
		ret = VM_FAULT_OOM;
	} else {
		vmf->idx = pt_index(vmf->address, 1);
		ret = handle_pte_fault(vmf);
	}
	probe_ret(p, K, "__handle_mm_fault", {"ret", ret});
	probe_ret(p, K, "handle_mm_fault", {"ret", ret});
	return ret;
}

/* access_error's answer: true when the VMA forbids this access. */
static inline bool access_denied(unsigned error, const struct vm_area_struct *vma)
{
	if (error & PF_WRITE)
		return !(vma->vm_flags & VM_WRITE);
	if (error & PF_PROT)
		return true; /* read of a present page that still faulted */
	return !(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)); /* !vma_is_accessible */
}

/* Linux's access_error: true when the VMA forbids this access. */
static bool access_error(struct kernel *k, unsigned error, const struct vm_area_struct *vma)
{
	bool bad;

	probe_call(&k->probe, K, "access_error", {"error", error}, {"flags", vma->vm_flags});
	bad = access_denied(error, vma);
	probe_ret(&k->probe, K, "access_error", {"ret", bad});
	return bad;
}

/*
 * expand_stack: grow a VM_GROWSDOWN VMA down to addr's page when the new size
 * stays within RLIMIT_STACK and RLIMIT_AS and the guard gap above the VMA
 * below is kept (acct_stack_growth, expand_downwards). Returns the VMA or NULL.
 */
static struct vm_area_struct *expand_stack(struct kernel *k, struct task *t,
                                           struct vm_area_struct *vma, vaddr_t addr)
{
	struct mm_struct *mm = t->mm;
	struct vm_area_struct *prev = vma_prev(mm, vma);
	vaddr_t start = PAGE_ALIGN_DOWN(addr);
	uint64_t size = vma->vm_end - start;
	uint64_t grow = (vma->vm_start - start) >> PAGE_SHIFT;
	bool ok = true;

	probe_call(&k->probe, K, "expand_stack", {"addr", addr});
	if (size > t->rlim[SIM_RLIMIT_STACK].cur)
		ok = false;
	if (t->rlim[SIM_RLIMIT_AS].cur != SIM_RLIM_INFINITY &&
	    (mm->total_vm + grow) << PAGE_SHIFT > t->rlim[SIM_RLIMIT_AS].cur)
		ok = false;
	if (prev && !(prev->vm_flags & VM_GROWSDOWN) &&
	    start - prev->vm_end < (STACK_GUARD_GAP_PAGES << PAGE_SHIFT))
		ok = false;
	/* acct_stack_growth: the new stack pages are committed memory too. */
	if (ok && vm_enough_memory(k, grow))
		ok = false;
	if (start < PAGE_SIZE || (prev && prev->vm_end > start))
		ok = false;
	if (ok) {
		vma_set_range(mm, vma, start, vma->vm_end);
		EV(&k->probe, K, EV_VMA, "expand_downwards", NULL, {"start", vma->vm_start},
		   {"end", vma->vm_end}, {"flags", vma->vm_flags});
	}
	probe_ret(&k->probe, K, "expand_stack", {"ret", ok ? 0 : (uint64_t)-SIM_ENOMEM});
	return ok ? vma : NULL;
}

/* lock_mm_and_find_vma: the VMA holding addr, growing the stack down to it. */
static struct vm_area_struct *lock_mm_and_find_vma(struct kernel *k, struct task *t, vaddr_t addr)
{
	struct vm_area_struct *vma;

	probe_call(&k->probe, K, "lock_mm_and_find_vma", {"addr", addr});
	probe_call(&k->probe, K, "find_vma", {"addr", addr});
	vma = find_vma(t->mm, addr);
	probe_ret(&k->probe, K, "find_vma", {"ret", vma ? vma->vm_start : 0});
	if (vma && vma->vm_start > addr)
		vma = (vma->vm_flags & VM_GROWSDOWN) ? expand_stack(k, t, vma, addr) : NULL;
	probe_ret(&k->probe, K, "lock_mm_and_find_vma", {"ret", vma ? vma->vm_start : 0});
	return vma;
}

/* Deliver SIGSEGV for a user access; returns only when task_run is not armed. */
static void bad_area(struct kernel *k, const char *fn, int code, vaddr_t addr, unsigned error)
{
	probe_call(&k->probe, K, fn, {"addr", addr}, {"error", error});
	debug_check(k);
	force_fatal_signal(k, SIM_SIGSEGV, code, addr, error,
	                   code == SIM_SEGV_MAPERR ? "SEGV_MAPERR" : "SEGV_ACCERR");
	probe_ret(&k->probe, K, fn);
}

static int do_user_addr_fault(struct kernel *k, vaddr_t addr, unsigned error)
{
	struct task *t = k->current;
	struct vm_area_struct *vma;
	struct vm_fault vmf;
	unsigned ret;

	if (!t)
		panic("page fault at %#llx with no current task", (unsigned long long)addr);
	if (error & PF_RSVD)
		panic("reserved bit set in a PTE for %#llx", (unsigned long long)addr);
	if (addr >= USER_VA_END) {
		/* fault_in_kernel_space -> do_kern_addr_fault -> bad_area_nosemaphore */
		if (!(error & PF_USER))
			panic("kernel-mode fault at kernel address %#llx",
			      (unsigned long long)addr);
		bad_area(k, "bad_area_nosemaphore", SIM_SEGV_MAPERR, addr, error);
		return TRAP_KILLED;
	}
	vma = lock_mm_and_find_vma(k, t, addr);
	if (!vma) {
		bad_area(k, "bad_area_nosemaphore", SIM_SEGV_MAPERR, addr, error);
		return TRAP_KILLED;
	}
	if (access_error(k, error, vma)) {
		bad_area(k, "bad_area_access_error", SIM_SEGV_ACCERR, addr, error);
		return TRAP_KILLED;
	}
	vmf = (struct vm_fault){.k = k,
	                        .mm = t->mm,
	                        .vma = vma,
	                        .address = PAGE_ALIGN_DOWN(addr),
	                        .real_address = addr,
	                        .write = error & PF_WRITE};
	ret = handle_mm_fault(&vmf, error);
	if (ret & VM_FAULT_OOM) {
		/* Whatever the path took (page-table pages) stays mapped and accounted,
		   as in Linux; the data frame was never taken. */
		probe_call(&k->probe, K, "pagefault_out_of_memory");
		debug_check(k);
		/* a kernel's SIGKILL is SEND_SIG_PRIV: si_code SI_KERNEL */
		force_fatal_signal(k, SIM_SIGKILL, SIM_SI_KERNEL, addr, error, "out of memory");
		probe_ret(&k->probe, K, "pagefault_out_of_memory");
		return TRAP_KILLED;
	}
	if (ret & ~VM_FAULT_MAJOR)
		panic("unexpected vm_fault_t %#x", ret);
	/* mm_account_fault */
	if (ret & VM_FAULT_MAJOR)
		t->maj_flt++;
	else
		t->min_flt++;
	debug_check(k);
	return TRAP_RETRY;
}

static int exc_page_fault(struct kernel *k, vaddr_t addr, unsigned error)
{
	struct probe *p = &k->probe;
	int ret;

	probe_call(p, K, "exc_page_fault", {"addr", addr}, {"error", error});
	probe_call(p, K, "handle_page_fault", {"addr", addr}, {"error", error});
	probe_call(p, K, "do_user_addr_fault", {"addr", addr}, {"error", error});
	ret = do_user_addr_fault(k, addr, error);
	probe_ret(p, K, "do_user_addr_fault", {"ret", (uint64_t)ret});
	probe_ret(p, K, "handle_page_fault", {"ret", (uint64_t)ret});
	probe_ret(p, K, "exc_page_fault", {"ret", (uint64_t)ret});
	if (ret == TRAP_RETRY)
		exit_to_user_mode(k);
	return ret;
}

int exc_trap(void *ctx, int vector, vaddr_t addr, unsigned error)
{
	struct kernel *k = ctx;

	if (vector == X86_TRAP_PF)
		return exc_page_fault(k, addr, error);
	if (vector != X86_TRAP_GP)
		panic("unexpected exception vector %d", vector);
	/* A non-canonical address: #GP, not #PF, and no address in siginfo. */
	probe_call(&k->probe, K, "exc_general_protection", {"error", error});
	if (!k->current)
		panic("#GP with no current task");
	force_fatal_signal(k, SIM_SIGSEGV, SIM_SI_KERNEL, 0, error, "general protection fault");
	probe_ret(&k->probe, K, "exc_general_protection");
	return TRAP_KILLED;
}

/*
 * The fast path (fast_fault_t, vm/cpu.h; docs/vm.md, "The fast path of a
 * fault"): with no sink, a user write to a page never mapped in a writable
 * VMA that holds the address, whose page table exists and whose frame the
 * buddy allocator hands out at once, is the demand-zero fault of
 * do_anonymous_page. fault_fast makes the same changes as that path
 * (exc_page_fault above), through the same functions, in one function: no
 * event is emitted without a sink, only counted, and these counts are
 * added at once. Anything else (a sink, a read, a missing page table, the
 * zone at its watermark, fault injection, stack growth, a kernel access,
 * CR3 not the task's tables) declines, having changed nothing, and the
 * fault takes the path above. tests/test_fastfault.c takes the same faults
 * both ways and compares every count and all the state.
 *
 * The events the path above makes for this fault, besides those
 * buddy_alloc counts (buddy_alloc_page_ready gives their number, added
 * with these): the calls
 * (each with its return) of exc_page_fault, handle_page_fault, do_user_addr_fault,
 * lock_mm_and_find_vma, find_vma, access_error, handle_mm_fault,
 * __handle_mm_fault, p4d_alloc, pud_alloc, pmd_alloc, pte_alloc,
 * handle_pte_fault, do_pte_missing, do_anonymous_page, vmf_anon_prepare,
 * alloc_anon_folio, vma_alloc_zeroed_movable_folio, clear_page,
 * folio_mk_pte, add_mm_counter, folio_add_lru_vma and
 * update_mmu_cache_range; EV_ZERO_FRAME and EV_PTE_SET.
 */
#define FAST_FAULT_CALLS 23
#define FAST_FAULT_OTHERS 2
/* The deepest call of that path opens this many levels below its start
   (clear_page): a debug build's probe would panic beyond PROBE_MAX_DEPTH. */
#define FAST_FAULT_DEPTH 11

int fault_fast(void *ctx, vaddr_t addr, unsigned error, pfn_t pt, unsigned idx)
{
	struct kernel *k = ctx;
	struct task *t = k->current;
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	vaddr_t address = PAGE_ALIGN_DOWN(addr);
	uint64_t buddy_events;
	pfn_t pfn;
	pte_t flags, e;

	/* do_user_addr_fault's own cases, the allocator's slow path, a
	   debug build's depth check: the path above. */
	if (k->probe.sink || error != (PF_WRITE | PF_USER))
		return FAST_DECLINED; /* (in one test with the next, GCC computes all) */
	if (!t || !(mm = t->mm) || mm->pgd != k->cpu.cr3 || !buddy_alloc_ready(&k->buddy, 0))
		return FAST_DECLINED;
#ifndef NDEBUG
	if (probe_depth(&k->probe) + FAST_FAULT_DEPTH > PROBE_MAX_DEPTH)
		return FAST_DECLINED;
#endif
	/* The CPU's walk of addr from CR3 (= mm->pgd) reached entry idx of
	   pt, which is addr's entry (pt_index(addr, 1)), and found it all zero
	   (fast_fault_t): __handle_mm_fault's walk finds every level present
	   and stops there too, and handle_pte_fault's pte_none is
	   do_anonymous_page.
	   lock_mm_and_find_vma without expand_stack, access_error: find_vma
	   only moves mm->vmacache to the VMA it finds, which the path above
	   would find the same way. An address at or above USER_VA_END (the
	   path above: bad_area_nosemaphore) is in no VMA (mm_check: every VMA
	   ends at or below it), so it declines here. */
	vma = find_vma(mm, addr);
	if (!vma || vma->vm_start > addr || access_denied(error, vma))
		return FAST_DECLINED;

	/* From here the fault is taken. The order of its changes is not
	   Linux's (nothing looks in between: no sink, one host thread, and
	   the CPU retries the access only once this returns; the state at
	   the end is the same). clear_page is made in four parts
	   (phys_zero_frame_part) with the rest of the work between them: the
	   host runs that work while its memory takes the stores of the part
	   before, where the same work before or after the whole page adds
	   its own time to the zeroing's (docs/performance.md, "clear_page in
	   parts"). So the frame is chosen first, its first part zeroed, and
	   the counters, the PTE, the allocation, the LRU and the rmap go
	   between the parts: keep work between them when changing this. The
	   values used first go first (the task, the page table's slot), so
	   that fewer stay live across the calls of the parts (registers
	   saved and spilled: make bench-profile counts the instructions). */
	pfn = buddy_page_ready_pfn(&k->buddy);
	phys_zero_frame_part(&k->phys, pfn, 0);
	k->probe.calls += FAST_FAULT_CALLS;
	k->probe.rets += FAST_FAULT_CALLS;
	k->probe.others += FAST_FAULT_OTHERS;
	count_vm_events(&k->vmstat, PGFAULT, 1);
	/* do_user_addr_fault's end: mm_account_fault */
	t->min_flt++;
	/* do_anonymous_page for a write */
	mm_counter_add(mm, MM_ANONPAGES, 1);
	/* anon_folio_pte's flags: the VMA is writable (access_denied) */
	flags = vma_pte_flags(vma, true);
	e = pte_mk(pfn, flags);
	pt_set(&k->phys, pt, idx, e);
	phys_zero_frame_part(&k->phys, pfn, 1);
	if (buddy_alloc_page_ready(&k->buddy, FK_ANON, &buddy_events) != pfn)
		panic("buddy_page_ready_pfn %#" PRIx64 " is not the frame allocated", pfn);
	/* the allocator's probe is the kernel's (kernel_boot's buddy_init) */
	k->probe.others += buddy_events;
	phys_zero_frame_part(&k->phys, pfn, 2);
	anon_vma_prepare(k, mm, vma);
	folio_add_new_anon(&k->lruvec, pfn);
	folio_add_new_anon_rmap(k, pfn, mm, vma, address);
	phys_zero_frame_part(&k->phys, pfn, 3);
	/* do_user_addr_fault's checks */
	debug_check(k);
	if (__builtin_expect(k->kswapd.runnable, 0)) {
		exit_to_user_mode(k);
		return FAST_RETRY;
	}
	return FAST_LEAF;
}
