/*
 * mm.h - a process's address space: mm_struct and its VMAs
 * (include/linux/mm_types.h, mm/mmap.c).
 *
 * VMAs are kept in an array sorted by vm_start (Linux uses a maple tree):
 * find_vma is a binary search, insertion and removal move the tail.
 */
#ifndef KERNEL_SIM_MM_H
#define KERNEL_SIM_MM_H

#include <stdio.h>

#include "../vm/types.h"

/* vm_flags (include/linux/mm.h values) */
#define VM_READ 0x00000001UL
#define VM_WRITE 0x00000002UL
#define VM_EXEC 0x00000004UL
#define VM_SHARED 0x00000008UL
#define VM_MAYREAD 0x00000010UL
#define VM_MAYWRITE 0x00000020UL
#define VM_MAYEXEC 0x00000040UL
#define VM_GROWSDOWN 0x00000100UL
#define VM_ACCOUNT 0x00100000UL
#define VM_NORESERVE 0x00200000UL /* MAP_NORESERVE: not charged to the commit */
#define VM_NOHUGEPAGE 0x40000000UL /* MAP_STACK (Linux 6.7+): no THP; never merges
                                      with a mapping that lacks it */
#define VM_ACCESS_FLAGS (VM_READ | VM_WRITE | VM_EXEC)
#define VM_STACK VM_GROWSDOWN

#define STACK_GUARD_GAP_PAGES 256UL /* stack_guard_gap: 256 pages = 1 MiB */

/* VMA_RODATA: the image's read-only pages (headers, .rodata, RELRO);
   VMA_DATA: its writable page (.data and .bss). */
enum vma_kind { VMA_TEXT, VMA_DATA, VMA_RODATA, VMA_HEAP, VMA_ANON, VMA_STACK };

struct vm_area_struct {
	vaddr_t vm_start;        /* first byte */
	vaddr_t vm_end;          /* first byte after */
	unsigned long vm_flags;  /* VM_* */
	int kind;                /* enum vma_kind: for /proc names and the viewer */
	uint64_t vm_pgoff;       /* page offset: for anonymous memory, vm_start
	                            >> PAGE_SHIFT where it was made; it moves with
	                            the pages (mremap), and two VMAs merge only
	                            when their offsets continue one another */
	uint64_t anon_vma;       /* identity of its anon_vma, 0 before the first
	                            anonymous frame (anon_vma_prepare); the halves
	                            of a split share it, and two VMAs merge only
	                            when one has none or both the same */
};

/* rss_stat members (include/linux/mm_types_task.h order, the file ones absent) */
enum { MM_ANONPAGES, MM_SWAPENTS, NR_MM_COUNTERS };

struct anon_vma; /* rmap.h */

struct mm_struct {
	/* Tasks using this address space (mm_users): one per thread of the
	   process; mmput of the last one tears it down (exit_mmap). */
	int mm_users;
	struct vm_area_struct *vmas; /* sorted by vm_start, disjoint */
	size_t nr_vmas, cap_vmas;
	/* The index of the VMA find_vma found last, as Linux's per-thread
	   vmacache (before 6.1): a hint, checked at each use (the VMA at it
	   must hold the address), so nothing needs to keep it right. */
	size_t vmacache;
	pfn_t pgd;                    /* PML4 frame */
	vaddr_t mmap_base;            /* top of the mmap area (grows down from here) */
	vaddr_t start_code, end_code, start_data, end_data;
	vaddr_t start_brk, brk, start_stack;
	uint64_t total_vm, data_vm, exec_vm, stack_vm; /* pages */
	uint64_t hiwater_vm, hiwater_rss;               /* pages */
	uint64_t rss_stat[NR_MM_COUNTERS];              /* pages */
	uint64_t pgtables_bytes;                        /* page-table pages * 4096 */
	uint64_t anon_vma_seq;                          /* last anon_vma identity given */
	int oom_score_adj; /* signal->oom_score_adj: -1000 (never chosen) .. 1000 */
	/* mm->context (arch/x86/include/asm/mmu.h): ctx_id names the address
	   space for the CPU's ASID slots (never reused); tlb_gen counts the
	   flushes asked for it, so a context switch knows whether entries
	   cached under its ASID may be stale (switch.c). */
	uint64_t ctx_id, tlb_gen;
	/* The reverse map (rmap.c): the anon_vma that new pages of this mm go
	   to (NULL until the first anonymous fault, anon_vma_prepare), and
	   every anon_vma this mm is linked to (its own and its ancestors',
	   anon_vma_chain): the families whose pages it may map. */
	struct anon_vma *anon_vma;
	struct anon_vma **avc;
	size_t nr_avc, cap_avc;
};

/* An empty mm: no VMAs, no pgd (PFN_NONE), counters zero, mm_users 1 (mm_init). */
void mm_init(struct mm_struct *mm);
/* Free the VMA array (the page tables are pgtable.h's business, the
   anon_vma links rmap.h's). */
void mm_destroy(struct mm_struct *mm);
/* A zeroed, mm_init'ed mm on the host heap (mm_alloc); panics when the
   host is out of memory. */
struct mm_struct *mm_alloc(void);
/* The page index of addr in vma (linear_page_index). */
static inline uint64_t linear_page_index(const struct vm_area_struct *vma, vaddr_t addr)
{
	return vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
}

/*
 * vm_stat_account (mm/mmap.c): add npages (negative to remove) to total_vm and
 * to exec_vm, stack_vm or data_vm by the mapping's flags, as Linux does:
 * exec = VM_EXEC without VM_WRITE/VM_STACK, stack = VM_STACK, data = VM_WRITE
 * without VM_SHARED/VM_STACK. hiwater_vm follows total_vm.
 * vma_insert, vma_remove and vma_set_range call it themselves; call it only
 * when changing vm_flags of an existing VMA (account -old, then +new).
 */
void vm_stat_account(struct mm_struct *mm, unsigned long flags, int64_t npages);

/* find_vma when the VMA found last does not hold addr: the binary search. */
struct vm_area_struct *__find_vma(struct mm_struct *mm, vaddr_t addr);
/*
 * First VMA with vm_end > addr (it may start above addr), or NULL. When addr
 * lies in a VMA that VMA is the one (the VMAs are sorted and disjoint): the
 * one found last is tried first (mm->vmacache; a page fault is usually near
 * the one before it), inline, since every page fault asks; then the binary
 * search (__find_vma).
 */
static inline struct vm_area_struct *find_vma(struct mm_struct *mm, vaddr_t addr)
{
	size_t i = mm->vmacache;

	if (i < mm->nr_vmas && mm->vmas[i].vm_start <= addr && addr < mm->vmas[i].vm_end)
		return &mm->vmas[i];
	return __find_vma(mm, addr);
}
/* The VMA containing addr, or NULL. */
struct vm_area_struct *vma_lookup(struct mm_struct *mm, vaddr_t addr);
/* The VMA before vma (NULL when first). */
struct vm_area_struct *vma_prev(struct mm_struct *mm, struct vm_area_struct *vma);
/* vm_start, lowered by the stack guard gap for a VM_GROWSDOWN VMA (vm_start_gap). */
vaddr_t vm_start_gap(const struct vm_area_struct *vma);

/* Insert a VMA (must not overlap; panics otherwise), accounting its pages
   (vm_stat_account); its vm_pgoff is start >> PAGE_SHIFT, anon_vma none. Returns it (pointers into the array are invalidated by
   any insertion or removal). */
struct vm_area_struct *vma_insert(struct mm_struct *mm, vaddr_t start, vaddr_t end,
				  unsigned long flags, int kind);
/* Remove vma from the array (accounting its pages out). The pages and page
   tables under it are the caller's to zap first. */
void vma_remove(struct mm_struct *mm, struct vm_area_struct *vma);
/*
 * Move vma's bounds to [start, end) (page aligned, start < end), accounting
 * the difference and moving vm_pgoff with the start: how brk grows or shrinks the heap and how munmap trims or
 * splits a VMA (trim one part, vma_insert the other). Must not overlap a
 * neighbour (panics otherwise) and must keep the array order.
 */
void vma_set_range(struct mm_struct *mm, struct vm_area_struct *vma, vaddr_t start,
		   vaddr_t end);
/* Index of vma in mm->vmas (for iteration). */
static inline size_t vma_index(const struct mm_struct *mm, const struct vm_area_struct *vma)
{
	return (size_t)(vma - mm->vmas);
}

/*
 * VMAs sorted and disjoint, page aligned, start < end, below USER_VA_END;
 * start_brk <= brk; the heap VMA (kind VMA_HEAP, at most one) starts at
 * PAGE_ALIGN(start_brk) and ends at PAGE_ALIGN(brk); without one, brk rounds
 * to start_brk's page; total_vm, exec_vm, stack_vm, data_vm equal the sums
 * recomputed from the VMAs. Returns #broken, reports the first to err.
 */
int mm_check(const struct mm_struct *mm, FILE *err);
void mm_dump(const struct mm_struct *mm, FILE *out);

#endif
