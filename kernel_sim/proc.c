/*
 * proc.c - the /proc views, printed in the exact formats of Linux 6.x:
 * /proc/PID/maps (fs/proc/task_mmu.c show_map_vma, show_vma_header_prefix),
 * /proc/buddyinfo (mm/vmstat.c frag_show_print), /proc/meminfo
 * (fs/proc/meminfo.c meminfo_proc_show), /proc/PID/status (fs/proc/array.c
 * proc_pid_status, fs/proc/task_mmu.c task_mem). Values the model does not
 * have (page cache, slab, swap, ...) print as 0. Two views are the model's
 * own: the page walk of one address and the TLB's contents.
 */
#include "proc.h"

#include <string.h>

#include "../vm/pagetable.h"
#include "pgtable.h"

/* show_vma_header_prefix: seq_setwidth(25 + 6 * sizeof(void *) - 1). */
#define MAPS_NAME_PAD 72

/* File offset of a text or data VMA in the image laid out as proc.h says. */
static uint64_t exe_offset(const struct mm_struct *mm, const struct vm_area_struct *v)
{
	vaddr_t text = PAGE_ALIGN_DOWN(mm->start_code);

	if (v->kind == VMA_TEXT)
		return PROC_EXE_TEXT_OFFSET + (v->vm_start - text);
	return PROC_EXE_TEXT_OFFSET + (PAGE_ALIGN(mm->end_code) - text) +
	       (v->vm_start - PAGE_ALIGN_DOWN(mm->start_data));
}

/* One line of show_map_vma. */
static void maps_line(FILE *out, vaddr_t start, vaddr_t end, unsigned long flags, bool file,
                      uint64_t pgoff, const char *name)
{
	int len = fprintf(out, "%08llx-%08llx %c%c%c%c %08llx %02x:%02x %lu ",
	                  (unsigned long long)start, (unsigned long long)end,
	                  flags & VM_READ ? 'r' : '-', flags & VM_WRITE ? 'w' : '-',
	                  flags & VM_EXEC ? 'x' : '-', flags & VM_SHARED ? 's' : 'p',
	                  (unsigned long long)pgoff, file ? PROC_EXE_DEV_MAJOR : 0,
	                  file ? PROC_EXE_DEV_MINOR : 0, file ? PROC_EXE_INO : 0UL);

	if (name) {
		/* seq_pad(m, ' '): spaces up to the width, then one more. */
		for (; len < MAPS_NAME_PAD; len++)
			fputc(' ', out);
		fprintf(out, " %s", name);
	}
	fputc('\n', out);
}

/* get_vma_name for an anonymous range: vma_is_initial_heap (strict overlap
   of start_brk..brk), vma_is_initial_stack (holds start_stack), else none. */
static const char *anon_name(const struct mm_struct *mm, vaddr_t start, vaddr_t end)
{
	if (start < mm->brk && end > mm->start_brk)
		return "[heap]";
	if (start <= mm->start_stack && end >= mm->start_stack)
		return "[stack]";
	return NULL;
}

/*
 * The model keeps data and bss in one VMA; Linux has the file mapping of
 * the data pages and an anonymous VMA for the bss pages beyond them: the
 * view shows those two lines, as the real file does.
 */
/* Where the file-backed part of v ends: the program's data VMA shows as its
   file part and the bss after it, as the two VMAs Linux has for them. */
static vaddr_t file_part_end(const struct mm_struct *mm, const struct vm_area_struct *v)
{
	if (v->kind == VMA_TEXT)
		return v->vm_end;
	if (v->kind == VMA_DATA)
		return PAGE_ALIGN(mm->end_data) < v->vm_end ? PAGE_ALIGN(mm->end_data) : v->vm_end;
	return v->vm_start;
}

size_t proc_maps_lines(const struct task *t)
{
	const struct mm_struct *mm = &t->mm;
	size_t n = 0;

	for (size_t i = 0; i < mm->nr_vmas; i++) {
		vaddr_t file_end = file_part_end(mm, &mm->vmas[i]);

		n += (file_end > mm->vmas[i].vm_start) + (mm->vmas[i].vm_end > file_end);
	}
	return n;
}

void proc_maps(struct kernel *k, struct task *t, FILE *out)
{
	const struct mm_struct *mm = &t->mm;
	char path[sizeof(PROC_EXE_DIR) + sizeof(t->comm)];

	snprintf(path, sizeof(path), "%s%.*s", PROC_EXE_DIR, (int)sizeof(t->comm), t->comm);
	for (size_t i = 0; i < mm->nr_vmas; i++) {
		const struct vm_area_struct *v = &mm->vmas[i];
		vaddr_t file_end = file_part_end(mm, v), end = v->vm_end;

		if (file_end > v->vm_start)
			maps_line(out, v->vm_start, file_end, v->vm_flags, true, exe_offset(mm, v),
			          path);
		else
			file_end = v->vm_start;
		if (end > file_end)
			maps_line(out, file_end, end, v->vm_flags, false, 0,
			          anon_name(mm, file_end, end));
	}
}

void proc_buddyinfo(struct kernel *k, FILE *out)
{
	buddy_print_info(&k->buddy, out);
}

/* show_val_kb: the label (with its colon) padded to 16, the value in 8. */
static void show_val_kb(FILE *out, const char *label, uint64_t pages)
{
	fprintf(out, "%-16s%8llu kB\n", label, (unsigned long long)(pages << (PAGE_SHIFT - 10)));
}

void proc_meminfo(struct kernel *k, FILE *out)
{
	static const char *const zero_before_anon[] = {
	    "Buffers:",      "Cached:",         "SwapCached:",   "Active:",         "Inactive:",
	    "Active(anon):", "Inactive(anon):", "Active(file):", "Inactive(file):", "Unevictable:",
	    "Mlocked:",      "SwapTotal:",      "SwapFree:",     "Zswap:",          "Zswapped:",
	    "Dirty:",        "Writeback:"};
	static const char *const zero_after_anon[] = {
	    "Mapped:",       "Shmem:",      "KReclaimable:", "Slab:",
	    "SReclaimable:", "SUnreclaim:", "KernelStack:"};
	static const char *const zero_after_pt[] = {
	    "SecPageTables:", "NFS_Unstable:", "Bounce:", "WritebackTmp:"};
	static const char *const zero_after_vmalloc[] = {
	    "VmallocUsed:",   "VmallocChunk:",   "Percpu:",
	    "AnonHugePages:", "ShmemHugePages:", "ShmemPmdMapped:",
	    "FileHugePages:", "FilePmdMapped:",  "Balloon:"};
	uint64_t kinds[FK__COUNT], committed = 0;
	uint64_t total = k->buddy.managed, free = k->buddy.free_pages;

	phys_count_kinds(&k->phys, kinds);
	/* vm_committed_as: the VM_ACCOUNT pages of every process. */
	for (const struct task *t = k->tasks; t; t = t->next_task)
		for (size_t i = 0; i < t->mm.nr_vmas; i++) {
			const struct vm_area_struct *v = &t->mm.vmas[i];

			if (v->vm_flags & VM_ACCOUNT)
				committed += (v->vm_end - v->vm_start) >> PAGE_SHIFT;
		}
	show_val_kb(out, "MemTotal:", total);
	show_val_kb(out, "MemFree:", free);
	show_val_kb(out, "MemAvailable:", free); /* no cache to reclaim, no reserves */
	for (size_t i = 0; i < sizeof(zero_before_anon) / sizeof(*zero_before_anon); i++)
		show_val_kb(out, zero_before_anon[i], 0);
	show_val_kb(out, "AnonPages:", kinds[FK_ANON]);
	for (size_t i = 0; i < sizeof(zero_after_anon) / sizeof(*zero_after_anon); i++)
		show_val_kb(out, zero_after_anon[i], 0);
	show_val_kb(out, "PageTables:", kinds[FK_PAGETABLE]);
	for (size_t i = 0; i < sizeof(zero_after_pt) / sizeof(*zero_after_pt); i++)
		show_val_kb(out, zero_after_pt[i], 0);
	/* overcommit_ratio 50, no swap, no hugetlb pages */
	show_val_kb(out, "CommitLimit:", total / 2);
	show_val_kb(out, "Committed_AS:", committed);
	/* VMALLOC_TOTAL of x86-64 with 4-level paging: 32 TiB */
	fprintf(out, "%-16s%8llu kB\n", "VmallocTotal:", 34359738367ULL);
	for (size_t i = 0; i < sizeof(zero_after_vmalloc) / sizeof(*zero_after_vmalloc); i++)
		show_val_kb(out, zero_after_vmalloc[i], 0);
	fprintf(out, "HugePages_Total:   %5lu\n", 0UL);
	fprintf(out, "HugePages_Free:    %5lu\n", 0UL);
	fprintf(out, "HugePages_Rsvd:    %5lu\n", 0UL);
	fprintf(out, "HugePages_Surp:    %5lu\n", 0UL);
	fprintf(out, "Hugepagesize:   %8lu kB\n", 2048UL);
	fprintf(out, "Hugetlb:        %8lu kB\n", 0UL);
}

/* task_mem's "Name:\t%8lu kB" lines, values in pages. */
static void status_kb(FILE *out, const char *label, uint64_t pages)
{
	fprintf(out, "%s:\t%8llu kB\n", label, (unsigned long long)(pages << (PAGE_SHIFT - 10)));
}

void proc_status(struct kernel *k, struct task *t, FILE *out)
{
	const struct mm_struct *mm = &t->mm;
	uint64_t anon = mm->rss_stat[MM_ANONPAGES];
	uint64_t hiwater_vm = mm->hiwater_vm > mm->total_vm ? mm->hiwater_vm : mm->total_vm;
	uint64_t hiwater_rss = mm->hiwater_rss > anon ? mm->hiwater_rss : anon;
	uint64_t text = PAGE_ALIGN(mm->end_code) - PAGE_ALIGN_DOWN(mm->start_code);
	uint64_t exec = mm->exec_vm << PAGE_SHIFT, lib;

	if (mm->end_code < mm->start_code)
		text = 0;
	if (text > exec)
		text = exec;
	lib = exec - text;
	fprintf(out, "Name:\t%.*s\n", (int)sizeof(t->comm), t->comm);
	fprintf(out, "Umask:\t0022\n");
	fprintf(out, "State:\t%s\n", t->dead ? "Z (zombie)" : "R (running)");
	fprintf(out, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t1\nTracerPid:\t0\n", t->pid, t->pid);
	fprintf(out, "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\nGroups:\t \n");
	fprintf(out, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\nKthread:\t0\n", t->pid,
	        t->pid, t->pid, t->pid);
	status_kb(out, "VmPeak", hiwater_vm);
	status_kb(out, "VmSize", mm->total_vm);
	status_kb(out, "VmLck", 0);
	status_kb(out, "VmPin", 0);
	status_kb(out, "VmHWM", hiwater_rss);
	status_kb(out, "VmRSS", anon);
	status_kb(out, "RssAnon", anon);
	status_kb(out, "RssFile", 0);
	status_kb(out, "RssShmem", 0);
	status_kb(out, "VmData", mm->data_vm);
	status_kb(out, "VmStk", mm->stack_vm);
	status_kb(out, "VmExe", text >> PAGE_SHIFT);
	status_kb(out, "VmLib", lib >> PAGE_SHIFT);
	fprintf(out, "VmPTE:\t%8llu kB\n", (unsigned long long)(mm->pgtables_bytes >> 10));
	status_kb(out, "VmSwap", 0);
	fprintf(out, "HugetlbPages:\t%8lu kB\n", 0UL);
	fprintf(out, "CoreDumping:\t0\nTHP_enabled:\t1\nThreads:\t1\n");
}

/*
 * The walk the MMU does for va, one line per level read:
 *   va 0x0000555555559010: PML4[170] PDPT[341] PD[170] PT[345] offset 0x010
 *     PML4[170]  table pfn 0x1     entry 0x0000000000002067  P RW US A D
 *   ...
 *     => pfn 0x5, physical 0x5010
 * stopping at the first entry that is not present.
 */
void proc_pagetable(struct kernel *k, struct task *t, vaddr_t va, FILE *out)
{
	struct walk w;
	char flags[64];

	fprintf(out, "va 0x%016llx:", (unsigned long long)va);
	if (!vaddr_canonical(va)) {
		fprintf(out, " not canonical (bits 63:48 must copy bit 47)\n");
		return;
	}
	for (int level = PT_LEVELS; level >= 1; level--)
		fprintf(out, " %s[%u]", pt_level_name(level), pt_index(va, level));
	fprintf(out, " offset 0x%03llx\n", (unsigned long long)(va & ~PAGE_MASK));
	if (t->mm.pgd == PFN_NONE) {
		fprintf(out, "  no page tables\n");
		return;
	}
	pagewalk(&k->phys, t->mm.pgd, va, &w);
	for (int i = 0; i < w.depth; i++) {
		int level = PT_LEVELS - i;
		char slot[16];

		pte_format_flags(w.entry[i], flags, sizeof(flags));
		snprintf(slot, sizeof(slot), "%s[%u]", pt_level_name(level), w.index[i]);
		fprintf(out, "  %-10s table pfn %#-8llx entry 0x%016llx  %s\n", slot,
		        (unsigned long long)w.table[i], (unsigned long long)w.entry[i],
		        pte_present(w.entry[i]) ? flags : "not present");
	}
	if (w.present)
		fprintf(out, "  => pfn %#llx, physical %#llx%s\n",
		        (unsigned long long)pte_pfn(w.entry[PT_LEVELS - 1]),
		        (unsigned long long)(pfn_to_paddr(pte_pfn(w.entry[PT_LEVELS - 1])) |
		                             (va & ~PAGE_MASK)),
		        pte_pfn(w.entry[PT_LEVELS - 1]) == k->zero_pfn ? " (the zero page)" : "");
	else
		fprintf(out, "  => not mapped: an access faults\n");
}

void proc_tlb(struct kernel *k, FILE *out)
{
	const struct tlb *tlb = &k->cpu.tlb;

	fprintf(out,
	        "TLB: %u sets x %u ways, %u valid; %llu hits, %llu misses, %llu invlpg, "
	        "%llu flushes\n",
	        tlb->nsets, tlb->ways, tlb_count(tlb), (unsigned long long)tlb->hits,
	        (unsigned long long)tlb->misses, (unsigned long long)tlb->invlpgs,
	        (unsigned long long)tlb->flushes);
	for (unsigned s = 0; s < tlb->nsets; s++)
		for (unsigned i = 0; i < tlb->ways; i++) {
			const struct tlb_entry *e = &tlb->e[s * tlb->ways + i];

			if (e->vpn == TLB_VPN_NONE)
				continue;
			fprintf(out, "  set %3u way %u: va 0x%012llx -> pfn %#-8llx %s%s%s%s\n", s,
			        i, (unsigned long long)(e->vpn << PAGE_SHIFT),
			        (unsigned long long)e->pfn, e->perm & TLB_W ? "W" : "R",
			        e->perm & TLB_U ? " U" : "", e->perm & TLB_NX ? " NX" : "",
			        e->perm & TLB_D ? " D" : "");
		}
}
