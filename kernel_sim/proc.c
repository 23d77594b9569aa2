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

#include <stdlib.h>
#include <string.h>

#include "../vm/hostmem.h"
#include "../vm/pagetable.h"
#include "../vm/panic.h"
#include "oom.h"
#include "overcommit.h"
#include "pgtable.h"

/* show_vma_header_prefix: seq_setwidth(25 + 6 * sizeof(void *) - 1). */
#define MAPS_NAME_PAD 72

/* File offset of a VMA of the image (task.h, The program image): the
   writable segment's pages map offsets ELF_DATA_SKEW below their addresses. */
static uint64_t exe_offset(const struct mm_struct *mm, const struct vm_area_struct *v)
{
	vaddr_t load_bias = mm->start_code - ELF_TEXT_VADDR;
	uint64_t off = v->vm_start - load_bias;

	return v->vm_start >= PAGE_ALIGN_DOWN(mm->start_data) ? off - ELF_DATA_SKEW : off;
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
 * view shows those two lines, as the real file does (one, while the bss
 * ends in the last data page). Where the file-backed part of v ends:
 */
static vaddr_t file_part_end(const struct mm_struct *mm, const struct vm_area_struct *v)
{
	if (v->kind == VMA_TEXT || v->kind == VMA_RODATA)
		return v->vm_end;
	if (v->kind == VMA_DATA)
		return PAGE_ALIGN(mm->end_data) < v->vm_end ? PAGE_ALIGN(mm->end_data) : v->vm_end;
	return v->vm_start;
}

size_t proc_maps_lines(const struct task *t)
{
	const struct mm_struct *mm = t->mm;
	size_t n = 0;

	if (!mm)
		return 0;
	for (size_t i = 0; i < mm->nr_vmas; i++) {
		vaddr_t file_end = file_part_end(mm, &mm->vmas[i]);

		n += (file_end > mm->vmas[i].vm_start) + (mm->vmas[i].vm_end > file_end);
	}
	return n;
}

void proc_maps(struct kernel *k, struct task *t, FILE *out)
{
	const struct mm_struct *mm = t->mm;
	char path[sizeof(PROC_EXE_DIR) + sizeof(t->comm)];

	if (!mm)
		return; /* a zombie's maps are empty */
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
	static const char *const zero_before_active[] = {"Buffers:", "Cached:", "SwapCached:"};
	static const char *const zero_after_inactive_anon[] = {
	    "Active(file):", "Inactive(file):", "Unevictable:", "Mlocked:"};
	static const char *const zero_before_anon[] = {"Zswap:", "Zswapped:", "Dirty:",
	                                               "Writeback:"};
	static const char *const zero_after_anon[] = {
	    "Mapped:",       "Shmem:",      "KReclaimable:", "Slab:",
	    "SReclaimable:", "SUnreclaim:", "KernelStack:"};
	static const char *const zero_after_pt[] = {
	    "SecPageTables:", "NFS_Unstable:", "Bounce:", "WritebackTmp:"};
	static const char *const zero_after_vmalloc[] = {
	    "VmallocUsed:",   "VmallocChunk:",   "Percpu:",
	    "AnonHugePages:", "ShmemHugePages:", "ShmemPmdMapped:",
	    "FileHugePages:", "FilePmdMapped:",  "Balloon:"};
	uint64_t kinds[FK__COUNT];
	uint64_t total = k->buddy.managed, free = k->buddy.free_pages;
	/* si_mem_available with no page cache and no slab: free less totalreserve_pages
	   (one zone, no lowmem_reserve: its high watermark). */
	uint64_t reserve = k->buddy.watermark[WMARK_HIGH];
	uint64_t active = k->lruvec.nr[LRU_ACTIVE_ANON], inactive = k->lruvec.nr[LRU_INACTIVE_ANON];

	phys_count_kinds(&k->phys, kinds);
	show_val_kb(out, "MemTotal:", total);
	show_val_kb(out, "MemFree:", free);
	show_val_kb(out, "MemAvailable:", free > reserve ? free - reserve : 0);
	for (size_t i = 0; i < sizeof(zero_before_active) / sizeof(*zero_before_active); i++)
		show_val_kb(out, zero_before_active[i], 0);
	show_val_kb(out, "Active:", active);
	show_val_kb(out, "Inactive:", inactive);
	show_val_kb(out, "Active(anon):", active);
	show_val_kb(out, "Inactive(anon):", inactive);
	for (size_t i = 0; i < sizeof(zero_after_inactive_anon) / sizeof(*zero_after_inactive_anon);
	     i++)
		show_val_kb(out, zero_after_inactive_anon[i], 0);
	show_val_kb(out, "SwapTotal:", swap_total_pages(k));
	show_val_kb(out, "SwapFree:", swap_free_pages(k));
	for (size_t i = 0; i < sizeof(zero_before_anon) / sizeof(*zero_before_anon); i++)
		show_val_kb(out, zero_before_anon[i], 0);
	show_val_kb(out, "AnonPages:", kinds[FK_ANON]);
	for (size_t i = 0; i < sizeof(zero_after_anon) / sizeof(*zero_after_anon); i++)
		show_val_kb(out, zero_after_anon[i], 0);
	show_val_kb(out, "PageTables:", kinds[FK_PAGETABLE]);
	for (size_t i = 0; i < sizeof(zero_after_pt) / sizeof(*zero_after_pt); i++)
		show_val_kb(out, zero_after_pt[i], 0);
	show_val_kb(out, "CommitLimit:", vm_commit_limit(k));
	show_val_kb(out, "Committed_AS:", vm_committed_as(k));
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

/*
 * task_state (fs/proc/array.c): the lines before the mm's. State is t's as
 * the task that runs now reads it: R for itself, S for another live task.
 * A process that exited and was not reaped (a zombie) has given back its
 * fs and files: no Umask line, an FDSize of 0.
 */
static void status_task_state(struct kernel *k, struct task *t, FILE *out)
{
	bool alive = t->mm != NULL;

	fprintf(out, "Name:\t%.*s\n", (int)sizeof(t->comm), t->comm);
	if (alive)
		fprintf(out, "Umask:\t0022\n");
	fprintf(out, "State:\t%s\n", task_state(t, k->current));
	fprintf(out, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", t->tgid, t->pid,
	        t->real_parent ? t->real_parent->tgid : 0);
	fprintf(out, "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t%d\nGroups:\t \n",
	        alive ? 64 : 0);
	fprintf(out, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\nKthread:\t0\n", t->tgid,
	        t->pid, t->tgid, t->tgid);
}

void proc_status(struct kernel *k, struct task *t, FILE *out)
{
	const struct mm_struct *mm = t->mm;
	uint64_t anon, hiwater_vm, hiwater_rss, text, exec, lib;
	int threads = 0;

	status_task_state(k, t, out);
	if (!mm) {
		/* the mm's lines (task_mem, CoreDumping, THP_enabled) are not there */
		fprintf(out, "Threads:\t1\n");
		return;
	}
	anon = mm->rss_stat[MM_ANONPAGES];
	hiwater_vm = mm->hiwater_vm > mm->total_vm ? mm->hiwater_vm : mm->total_vm;
	hiwater_rss = mm->hiwater_rss > anon ? mm->hiwater_rss : anon;
	text = PAGE_ALIGN(mm->end_code) - PAGE_ALIGN_DOWN(mm->start_code);
	exec = mm->exec_vm << PAGE_SHIFT;
	if (mm->end_code < mm->start_code)
		text = 0;
	if (text > exec)
		text = exec;
	lib = exec - text;
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
	status_kb(out, "VmSwap", mm->rss_stat[MM_SWAPENTS]);
	fprintf(out, "HugetlbPages:\t%8lu kB\n", 0UL);
	for (const struct task *o = k->tasks; o; o = o->next_task)
		threads += o->tgid == t->tgid && !o->exit_state;
	fprintf(out, "CoreDumping:\t0\nTHP_enabled:\t1\nThreads:\t%d\n", threads ? threads : 1);
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
	if (!t->mm || t->mm->pgd == PFN_NONE) {
		fprintf(out, "  no page tables\n");
		return;
	}
	pagewalk(&k->phys, t->mm->pgd, va, &w);
	for (int i = 0; i < w.depth; i++) {
		int level = PT_LEVELS - i;
		char slot[16];

		pte_format_flags(w.entry[i], flags, sizeof(flags));
		snprintf(slot, sizeof(slot), "%s[%u]", pt_level_name(level), w.index[i]);
		fprintf(out, "  %-10s table pfn %#-8llx entry 0x%016llx  %s\n", slot,
		        (unsigned long long)w.table[i], (unsigned long long)w.entry[i],
		        pte_present(w.entry[i])                       ? flags
		        : i == PT_LEVELS - 1 && is_swap_pte(w.entry[i]) ? "swap entry"
		                                                        : "not present");
	}
	if (w.present)
		fprintf(out, "  => pfn %#llx, physical %#llx%s\n",
		        (unsigned long long)pte_pfn(w.entry[PT_LEVELS - 1]),
		        (unsigned long long)(pfn_to_paddr(pte_pfn(w.entry[PT_LEVELS - 1])) |
		                             (va & ~PAGE_MASK)),
		        pte_pfn(w.entry[PT_LEVELS - 1]) == k->zero_pfn ? " (the zero page)" : "");
	else if (w.depth == PT_LEVELS && is_swap_pte(w.entry[PT_LEVELS - 1]))
		fprintf(out, "  => swapped out: type %u, offset %llu; an access is a major fault\n",
		        pte_swp_type(w.entry[PT_LEVELS - 1]),
		        (unsigned long long)pte_swp_offset(w.entry[PT_LEVELS - 1]));
	else
		fprintf(out, "  => not mapped: an access faults\n");
}

void proc_tlb(struct kernel *k, FILE *out)
{
	const struct tlb *tlb = &k->cpu.tlb;

	fprintf(out,
	        "TLB: %u sets x %u ways, %u valid; %llu hits, %llu misses, %llu invlpg, "
	        "%llu flushes\n",
	        tlb->nsets, tlb->ways, tlb_count(tlb), (unsigned long long)cpu_tlb_hits(&k->cpu),
	        (unsigned long long)tlb->misses, (unsigned long long)tlb->invlpgs,
	        (unsigned long long)tlb->flushes);
	for (unsigned s = 0; s < tlb->nsets; s++)
		for (unsigned i = 0; i < tlb->ways; i++) {
			const struct tlb_entry *e = &tlb->e[s * tlb->ways + i];

			if (e->vpn == TLB_VPN_NONE)
				continue;
			fprintf(out, "  set %3u way %u: va 0x%012llx -> pfn %#-8llx %s%s%s%s", s, i,
			        (unsigned long long)(tlb_key_vpn(e->vpn) << PAGE_SHIFT),
			        (unsigned long long)e->pfn, e->perm & TLB_W ? "W" : "R",
			        e->perm & TLB_U ? " U" : "", e->perm & TLB_NX ? " NX" : "",
			        e->perm & TLB_D ? " D" : "");
			if (tlb_key_pcid(e->vpn))
				fprintf(out, " pcid %u", tlb_key_pcid(e->vpn));
			fputc('\n', out);
		}
}

/* /proc/vmstat: the counters that exist here, "name value" a line, in the kernel's order. */
void proc_vmstat(struct kernel *k, FILE *out)
{
	uint64_t kinds[FK__COUNT];

	phys_count_kinds(&k->phys, kinds);
	/* the zone and node items first, as vmstat_text lists them */
	fprintf(out, "nr_free_pages %llu\n", (unsigned long long)k->buddy.free_pages);
	fprintf(out, "nr_zone_inactive_anon %llu\n",
	        (unsigned long long)k->lruvec.nr[LRU_INACTIVE_ANON]);
	fprintf(out, "nr_zone_active_anon %llu\n", (unsigned long long)k->lruvec.nr[LRU_ACTIVE_ANON]);
	fprintf(out, "nr_inactive_anon %llu\n", (unsigned long long)k->lruvec.nr[LRU_INACTIVE_ANON]);
	fprintf(out, "nr_active_anon %llu\n", (unsigned long long)k->lruvec.nr[LRU_ACTIVE_ANON]);
	fprintf(out, "nr_anon_pages %llu\n", (unsigned long long)kinds[FK_ANON]);
	fprintf(out, "nr_page_table_pages %llu\n", (unsigned long long)kinds[FK_PAGETABLE]);
	fprintf(out, "nr_swapcached %u\n", 0u);
	for (int i = 0; i < NR_VM_EVENT_ITEMS; i++)
		fprintf(out, "%s %llu\n", vm_event_names[i], (unsigned long long)k->vmstat.event[i]);
}

/*
 * /proc/zoneinfo for the one zone (zoneinfo_show_print): the per-node
 * LRU counts, then the zone's free pages against its watermarks.
 */
void proc_zoneinfo(struct kernel *k, FILE *out)
{
	const struct buddy *b = &k->buddy;
	uint64_t kinds[FK__COUNT];

	phys_count_kinds(&k->phys, kinds);
	fprintf(out, "Node 0, zone %8s\n", "Normal");
	fprintf(out, "  per-node stats\n");
	fprintf(out, "      %-12s %llu\n", "nr_inactive_anon",
	        (unsigned long long)k->lruvec.nr[LRU_INACTIVE_ANON]);
	fprintf(out, "      %-12s %llu\n", "nr_active_anon",
	        (unsigned long long)k->lruvec.nr[LRU_ACTIVE_ANON]);
	fprintf(out, "      %-12s %llu\n", "nr_anon_pages", (unsigned long long)kinds[FK_ANON]);
	fprintf(out, "      %-12s %llu\n", "nr_page_table_pages",
	        (unsigned long long)kinds[FK_PAGETABLE]);
	fprintf(out, "  pages free     %llu\n", (unsigned long long)b->free_pages);
	fprintf(out, "        boost    0\n");
	fprintf(out, "        min      %llu\n", (unsigned long long)b->watermark[WMARK_MIN]);
	fprintf(out, "        low      %llu\n", (unsigned long long)b->watermark[WMARK_LOW]);
	fprintf(out, "        high     %llu\n", (unsigned long long)b->watermark[WMARK_HIGH]);
	fprintf(out, "        promo    %llu\n", (unsigned long long)b->watermark[WMARK_PROMO]);
	fprintf(out, "        spanned  %llu\n", (unsigned long long)k->phys.nr_frames);
	fprintf(out, "        present  %llu\n", (unsigned long long)k->phys.nr_frames);
	fprintf(out, "        managed  %llu\n", (unsigned long long)b->managed);
	fprintf(out, "        cma      0\n");
	fprintf(out, "        protection: (0, 0)\n");
	fprintf(out, "      %-12s %llu\n", "nr_free_pages", (unsigned long long)b->free_pages);
	fprintf(out, "      %-12s %llu\n", "nr_zone_inactive_anon",
	        (unsigned long long)k->lruvec.nr[LRU_INACTIVE_ANON]);
	fprintf(out, "      %-12s %llu\n", "nr_zone_active_anon",
	        (unsigned long long)k->lruvec.nr[LRU_ACTIVE_ANON]);
	fprintf(out, "  node_unreclaimable:  %u\n", k->kswapd.failures >= 16 ? 1u : 0u);
	fprintf(out, "  start_pfn:           %llu\n", (unsigned long long)b->start_pfn);
}

void proc_swaps(struct kernel *k, FILE *out)
{
	swap_show(k, out);
}

void proc_oom_score(struct kernel *k, struct task *t, FILE *out)
{
	fprintf(out, "%llu\n", (unsigned long long)oom_score(k, t));
}

void proc_dmesg(struct kernel *k, FILE *out)
{
	printk_show(k, out);
}

/*
 * ps -eo pid,ppid,stat,vsz,rss,min_flt,maj_flt,comm (procps-ng 4, as on
 * Debian 12) run by the process of reader: every process, oldest first --
 * processes, not threads: ps -e lists thread groups (ps -L or -T would give
 * a row to each thread, with its process's PID and PPID). STAT's letter is
 * the state of the process's leader, as /proc/PID/stat gives it
 * (do_task_stat reads the task whose pid it is): R for the task that runs
 * now, the reader (as ps's own line is R: it runs while it reads); S for
 * every other live one -- only the current task runs in the model, and the
 * others wait for the script to switch to them, which on a machine is a
 * task asleep (a parent in wait4, a child never woken); Z for a zombie,
 * whose COMMAND has " <defunct>" and whose VSZ and RSS are 0. So a process
 * whose thread other than the leader runs `show ps` is Sl, as on the
 * machine (tests/host/ps_state.c checks the letters). l follows while it
 * has more than one thread; neither s (session leader) nor + (foreground
 * process group of a terminal): the model has no sessions and no terminal,
 * as a program that runs with no controlling terminal and is not a session
 * leader shows none. RSS is in kB (MM_ANONPAGES: a frame shared since a
 * fork counts in each process). MINFL and MAJFL are the whole group's, as
 * /proc/PID/stat sums them: its threads' and those of its threads that are
 * gone.
 */
/* A process of proc_ps's table and its group's sums. */
struct ps_row {
	int tgid;
	const struct task *t;
	uint64_t minflt, majflt;
	unsigned threads;
};

static int ps_by_tgid(const void *a, const void *b)
{
	int x = ((const struct ps_row *)a)->tgid, y = ((const struct ps_row *)b)->tgid;

	return (x > y) - (x < y);
}

static int ps_by_age(const void *a, const void *b)
{
	/* pids are handed out in order: the smaller, the older */
	int x = ((const struct ps_row *)a)->t->pid, y = ((const struct ps_row *)b)->t->pid;

	return (x > y) - (x < y);
}

void proc_ps(struct kernel *k, const struct task *reader, FILE *out)
{
	struct ps_row *rows;
	size_t n = 0;

	for (const struct task *t = k->tasks; t; t = t->next_task)
		n += !t->thread;
	rows = hostmem_malloc((n ? n : 1) * sizeof(*rows));
	if (!rows)
		host_oom("the rows of a process list");
	n = 0;
	for (const struct task *t = k->tasks; t; t = t->next_task)
		if (!t->thread) /* a group's leader: the process */
			rows[n++] = (struct ps_row){t->tgid, t, t->sig_min_flt, t->sig_maj_flt, 0};
	/* every task's counts to its process's row, found by tgid */
	qsort(rows, n, sizeof(*rows), ps_by_tgid);
	for (const struct task *o = k->tasks; o; o = o->next_task) {
		struct ps_row key = {.tgid = o->tgid},
		              *r = bsearch(&key, rows, n, sizeof(*rows), ps_by_tgid);

		if (!r)
			continue; /* (a thread whose leader is gone) */
		r->minflt += o->min_flt;
		r->majflt += o->maj_flt;
		r->threads += !o->dead && !o->exit_state;
	}
	qsort(rows, n, sizeof(*rows), ps_by_age);
	fprintf(out, "  PID  PPID STAT    VSZ   RSS  MINFL  MAJFL COMMAND\n");
	for (size_t i = 0; i < n; i++) {
		const struct task *t = rows[i].t;
		const struct mm_struct *mm = t->mm;
		bool zombie = !mm || t->dead;
		char stat[3] = {zombie ? 'Z' : task_state(t, reader)[0]};

		if (!zombie && rows[i].threads > 1)
			stat[1] = 'l';
		fprintf(out, "%5d %5d %-4s %6llu %5llu %6llu %6llu %.*s%s\n", t->pid,
		        t->real_parent ? t->real_parent->tgid : 0, stat,
		        zombie ? 0ULL : (unsigned long long)(mm->total_vm << (PAGE_SHIFT - 10)),
		        zombie ? 0ULL
		               : (unsigned long long)(mm->rss_stat[MM_ANONPAGES] << (PAGE_SHIFT - 10)),
		        (unsigned long long)rows[i].minflt, (unsigned long long)rows[i].majflt,
		        (int)sizeof(t->comm), t->comm, zombie ? " <defunct>" : "");
	}
	hostmem_free(rows);
}
