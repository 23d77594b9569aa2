/*
 * mm.c - the VMAs of an mm_struct (mm/mmap.c, mm/vma.c, include/linux/mm.h).
 *
 * Linux keeps VMAs in a maple tree; here they are an array sorted by vm_start,
 * grown with realloc. find_vma is a binary search (O(log n)); insertion and
 * removal move the tail (O(n), fine for the few dozen VMAs of a process).
 * Every change of the mapped size goes through vm_stat_account, so total_vm,
 * data_vm, exec_vm and stack_vm always agree with the VMAs (mm_check).
 */
#include "mm.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/hostmem.h"
#include "../vm/pagetable.h"
#include "../vm/panic.h"

void mm_init(struct mm_struct *mm)
{
	memset(mm, 0, sizeof(*mm));
	mm->pgd = PFN_NONE;
	mm->mm_users = 1;
}

void mm_destroy(struct mm_struct *mm)
{
	hostmem_free(mm->vmas);
	mm->vmas = NULL;
	mm->nr_vmas = mm->cap_vmas = 0;
	hostmem_free(mm->avc);
	mm->avc = NULL;
	mm->nr_avc = mm->cap_avc = 0;
}

struct mm_struct *mm_alloc(void)
{
	struct mm_struct *mm = hostmem_malloc(sizeof(*mm));

	if (!mm)
		host_oom("an mm_struct");
	mm_init(mm);
	return mm;
}

/* include/linux/mm.h: is_exec_mapping, is_stack_mapping, is_data_mapping. */
static bool is_exec_mapping(unsigned long flags)
{
	return (flags & (VM_EXEC | VM_WRITE | VM_STACK)) == VM_EXEC;
}

static bool is_stack_mapping(unsigned long flags)
{
	return (flags & VM_STACK) == VM_STACK;
}

static bool is_data_mapping(unsigned long flags)
{
	return (flags & (VM_WRITE | VM_SHARED | VM_STACK)) == VM_WRITE;
}

void vm_stat_account(struct mm_struct *mm, unsigned long flags, int64_t npages)
{
	mm->total_vm += (uint64_t)npages;
	if (is_exec_mapping(flags))
		mm->exec_vm += (uint64_t)npages;
	else if (is_stack_mapping(flags))
		mm->stack_vm += (uint64_t)npages;
	else if (is_data_mapping(flags))
		mm->data_vm += (uint64_t)npages;
	if (mm->total_vm > mm->hiwater_vm)
		mm->hiwater_vm = mm->total_vm;
}

/* Index of the first VMA with vm_end > addr (nr_vmas when none). */
static size_t vma_search(const struct mm_struct *mm, vaddr_t addr)
{
	size_t lo = 0, hi = mm->nr_vmas;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mm->vmas[mid].vm_end > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

struct vm_area_struct *__find_vma(struct mm_struct *mm, vaddr_t addr)
{
	size_t i = vma_search(mm, addr);

	if (i >= mm->nr_vmas)
		return NULL;
	mm->vmacache = i;
	return &mm->vmas[i];
}

struct vm_area_struct *vma_lookup(struct mm_struct *mm, vaddr_t addr)
{
	struct vm_area_struct *vma = find_vma(mm, addr);

	return vma && vma->vm_start <= addr ? vma : NULL;
}

struct vm_area_struct *vma_prev(struct mm_struct *mm, struct vm_area_struct *vma)
{
	size_t i = vma_index(mm, vma);

	if (i >= mm->nr_vmas)
		panic("vma %p is not in this mm", (void *)vma);
	return i ? &mm->vmas[i - 1] : NULL;
}

vaddr_t vm_start_gap(const struct vm_area_struct *vma)
{
	vaddr_t gap = STACK_GUARD_GAP_PAGES << PAGE_SHIFT;

	if (!(vma->vm_flags & VM_GROWSDOWN))
		return vma->vm_start;
	/* Saturate at 0 like the kernel does (vm_start < gap: no room below). */
	return vma->vm_start > gap ? vma->vm_start - gap : 0;
}

static void vma_check_bounds(const char *who, vaddr_t start, vaddr_t end)
{
	if (start >= end || (start & ~PAGE_MASK) || (end & ~PAGE_MASK))
		panic_at(who, "bad range [%#llx, %#llx)", (unsigned long long)start,
		         (unsigned long long)end);
}

struct vm_area_struct *vma_insert(struct mm_struct *mm, vaddr_t start, vaddr_t end,
                                  unsigned long flags, int kind)
{
	size_t i;

	vma_check_bounds("vma_insert", start, end);
	i = vma_search(mm, start);
	if (i < mm->nr_vmas && mm->vmas[i].vm_start < end)
		panic("[%#llx, %#llx) overlaps [%#llx, %#llx)", (unsigned long long)start,
		      (unsigned long long)end, (unsigned long long)mm->vmas[i].vm_start,
		      (unsigned long long)mm->vmas[i].vm_end);
	if (mm->nr_vmas == mm->cap_vmas)
		GROW_ARRAY(mm->vmas, mm->cap_vmas, 16);
	memmove(&mm->vmas[i + 1], &mm->vmas[i], (mm->nr_vmas - i) * sizeof(mm->vmas[0]));
	mm->nr_vmas++;
	mm->vmas[i] = (struct vm_area_struct){
	    .vm_start = start,
	    .vm_end = end,
	    .vm_flags = flags,
	    .kind = kind,
	    .vm_pgoff = start >> PAGE_SHIFT};
	vm_stat_account(mm, flags, (int64_t)((end - start) >> PAGE_SHIFT));
	return &mm->vmas[i];
}

void vma_remove(struct mm_struct *mm, struct vm_area_struct *vma)
{
	size_t i = vma_index(mm, vma);

	if (i >= mm->nr_vmas)
		panic("vma %p is not in this mm", (void *)vma);
	vm_stat_account(mm, vma->vm_flags, -(int64_t)((vma->vm_end - vma->vm_start) >> PAGE_SHIFT));
	memmove(&mm->vmas[i], &mm->vmas[i + 1], (mm->nr_vmas - i - 1) * sizeof(mm->vmas[0]));
	mm->nr_vmas--;
}

void vma_set_range(struct mm_struct *mm, struct vm_area_struct *vma, vaddr_t start, vaddr_t end)
{
	size_t i = vma_index(mm, vma);
	int64_t old_pages, new_pages;

	if (i >= mm->nr_vmas)
		panic("vma %p is not in this mm", (void *)vma);
	vma_check_bounds("vma_set_range", start, end);
	if ((i > 0 && mm->vmas[i - 1].vm_end > start) ||
	    (i + 1 < mm->nr_vmas && mm->vmas[i + 1].vm_start < end))
		panic("[%#llx, %#llx) would overlap a neighbour", (unsigned long long)start,
		      (unsigned long long)end);
	old_pages = (int64_t)((vma->vm_end - vma->vm_start) >> PAGE_SHIFT);
	new_pages = (int64_t)((end - start) >> PAGE_SHIFT);
	vma->vm_pgoff += (uint64_t)((int64_t)(start - vma->vm_start) >> PAGE_SHIFT);
	vma->vm_start = start;
	vma->vm_end = end;
	vm_stat_account(mm, vma->vm_flags, new_pages - old_pages);
}

static int report(FILE *err, int broken, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Print the first broken invariant only; always count. */
static int report(FILE *err, int broken, const char *fmt, ...)
{
	if (err && broken == 0) {
		va_list ap;

		fputs("mm_check: ", err);
		va_start(ap, fmt);
		vfprintf(err, fmt, ap);
		va_end(ap);
		fputc('\n', err);
	}
	return broken + 1;
}

int mm_check(const struct mm_struct *mm, FILE *err)
{
	int broken = 0;
	uint64_t total = 0, data = 0, exec = 0, stack = 0;

	if (mm->nr_vmas > mm->cap_vmas || (mm->nr_vmas && !mm->vmas))
		return report(err, broken, "nr_vmas %zu > cap %zu", mm->nr_vmas, mm->cap_vmas);
	for (size_t i = 0; i < mm->nr_vmas; i++) {
		const struct vm_area_struct *v = &mm->vmas[i];
		uint64_t pages = (v->vm_end - v->vm_start) >> PAGE_SHIFT;

		if (v->vm_start >= v->vm_end || (v->vm_start & ~PAGE_MASK) ||
		    (v->vm_end & ~PAGE_MASK))
			broken =
			    report(err, broken, "vma %zu [%#llx, %#llx) empty or unaligned", i,
			           (unsigned long long)v->vm_start, (unsigned long long)v->vm_end);
		if (v->vm_end > USER_VA_END)
			broken = report(err, broken, "vma %zu ends at %#llx above user space", i,
			                (unsigned long long)v->vm_end);
		if (i > 0 && mm->vmas[i - 1].vm_end > v->vm_start)
			broken = report(err, broken, "vma %zu at %#llx overlaps or is out of order",
			                i, (unsigned long long)v->vm_start);
		/* munmap may punch holes in the heap, so it can be several VMAs;
		   each lies inside [PAGE_ALIGN(start_brk), PAGE_ALIGN(brk)). */
		if (v->kind == VMA_HEAP) {
			if (v->vm_start < PAGE_ALIGN(mm->start_brk) || v->vm_end > PAGE_ALIGN(mm->brk))
				broken = report(err, broken,
				                "heap VMA [%#llx, %#llx) outside start_brk %#llx .. "
				                "brk %#llx",
				                (unsigned long long)v->vm_start,
				                (unsigned long long)v->vm_end,
				                (unsigned long long)mm->start_brk,
				                (unsigned long long)mm->brk);
		}
		total += pages;
		if (is_exec_mapping(v->vm_flags))
			exec += pages;
		else if (is_stack_mapping(v->vm_flags))
			stack += pages;
		else if (is_data_mapping(v->vm_flags))
			data += pages;
	}
	if (total != mm->total_vm || data != mm->data_vm || exec != mm->exec_vm ||
	    stack != mm->stack_vm)
		broken = report(err, broken,
		                "counters total/data/exec/stack %llu/%llu/%llu/%llu, VMAs say "
		                "%llu/%llu/%llu/%llu",
		                (unsigned long long)mm->total_vm, (unsigned long long)mm->data_vm,
		                (unsigned long long)mm->exec_vm, (unsigned long long)mm->stack_vm,
		                (unsigned long long)total, (unsigned long long)data,
		                (unsigned long long)exec, (unsigned long long)stack);
	if (mm->hiwater_vm < mm->total_vm)
		broken =
		    report(err, broken, "hiwater_vm %llu < total_vm %llu",
		           (unsigned long long)mm->hiwater_vm, (unsigned long long)mm->total_vm);
	if (mm->brk < mm->start_brk)
		broken = report(err, broken, "brk %#llx below start_brk %#llx",
		                (unsigned long long)mm->brk, (unsigned long long)mm->start_brk);
	return broken;
}

void mm_dump(const struct mm_struct *mm, FILE *out)
{
	static const char *const kinds[] = {"text", "data", "rodata", "heap", "anon", "stack"};

	fprintf(out,
	        "mm: %zu VMAs, pgd pfn %#llx, total_vm %llu data_vm %llu exec_vm %llu "
	        "stack_vm %llu, rss anon %llu, pgtables %llu bytes\n",
	        mm->nr_vmas, (unsigned long long)mm->pgd, (unsigned long long)mm->total_vm,
	        (unsigned long long)mm->data_vm, (unsigned long long)mm->exec_vm,
	        (unsigned long long)mm->stack_vm, (unsigned long long)mm->rss_stat[MM_ANONPAGES],
	        (unsigned long long)mm->pgtables_bytes);
	fprintf(out,
	        "  code [%#llx, %#llx) data [%#llx, %#llx) brk [%#llx, %#llx) stack %#llx "
	        "mmap_base %#llx\n",
	        (unsigned long long)mm->start_code, (unsigned long long)mm->end_code,
	        (unsigned long long)mm->start_data, (unsigned long long)mm->end_data,
	        (unsigned long long)mm->start_brk, (unsigned long long)mm->brk,
	        (unsigned long long)mm->start_stack, (unsigned long long)mm->mmap_base);
	for (size_t i = 0; i < mm->nr_vmas; i++) {
		const struct vm_area_struct *v = &mm->vmas[i];
		int kind = v->kind >= 0 && v->kind <= VMA_STACK ? v->kind : -1;

		fprintf(out, "  %012llx-%012llx %c%c%c%s %s\n", (unsigned long long)v->vm_start,
		        (unsigned long long)v->vm_end, v->vm_flags & VM_READ ? 'r' : '-',
		        v->vm_flags & VM_WRITE ? 'w' : '-', v->vm_flags & VM_EXEC ? 'x' : '-',
		        v->vm_flags & VM_GROWSDOWN ? " growsdown" : "",
		        kind >= 0 ? kinds[kind] : "?");
	}
}
