/*
 * test_proc.c - the /proc views (kernel_sim/proc.c) in Linux's exact
 * formats: maps lines with the name at column 74 ([heap], [stack], the
 * program file, anonymous lines ending in a space), buddyinfo, meminfo's
 * labels in the real order with "%-16s%8lu kB", status Vm* lines, and the
 * model's own page-walk and TLB views. Where this machine's real /proc can
 * settle a question (the name column, the order of the labels) the test
 * reads it. kernel_check runs after every operation.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_sim/kernel.h"
#include "kernel_sim/proc.h"
#include "kernel_sim/syscalls.h"
#include "vm/pagetable.h"

#define PG   PAGE_SIZE
#define RW   (SIM_PROT_READ | SIM_PROT_WRITE)
#define ANON (SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS)

static struct kernel k;
static struct task *t;
static char *text;
static size_t text_len;

static void check(void)
{
	cr_assert_eq(kernel_check(&k, stderr), 0, "kernel_check failed");
}

static void boot(void)
{
	struct kernel_opts o;

	kernel_default_opts(&o);
	cr_assert_eq(kernel_boot(&k, &o, stderr), 0);
	t = task_create(&k, "prog");
	cr_assert_not_null(t);
	check();
}

static void shutdown(void)
{
	free(text);
	text = NULL;
	kernel_shutdown(&k);
}

TestSuite(proc, .init = boot, .fini = shutdown);

/* Capture what a view prints. */
#define CAPTURE(call)                                                                              \
	do {                                                                                       \
		FILE *out_;                                                                        \
		free(text);                                                                        \
		text = NULL;                                                                       \
		out_ = open_memstream(&text, &text_len);                                           \
		cr_assert_not_null(out_);                                                          \
		FILE *out = out_;                                                                  \
		call;                                                                              \
		fclose(out_);                                                                      \
		check();                                                                           \
	} while (0)

struct access {
	vaddr_t va;
	uint64_t pages;
};

static void do_store(void *arg)
{
	struct access *a = arg;

	for (uint64_t i = 0; i < a->pages; i++)
		cpu_store(&k.cpu, a->va + i * PG, 1, 1);
}

static void touch(vaddr_t va, uint64_t pages)
{
	struct access a = {va, pages};

	cr_assert_eq(task_run(&k, t, do_store, &a), 0);
	check();
}

/* The fresh process of kernel_sim/task.c: the five VMAs of a PIE's image
   (headers, text, rodata, RELRO, data+bss), the stack. */
Test(proc, maps_of_a_fresh_process)
{
	CAPTURE(proc_maps(&k, t, out));
	cr_assert_str_eq(text,
	                 "555555554000-555555555000 r--p 00000000 fe:00 1310721                    "
	                 "/usr/bin/prog\n"
	                 "555555555000-555555556000 r-xp 00001000 fe:00 1310721                    "
	                 "/usr/bin/prog\n"
	                 "555555556000-555555557000 r--p 00002000 fe:00 1310721                    "
	                 "/usr/bin/prog\n"
	                 "555555557000-555555558000 r--p 00002000 fe:00 1310721                    "
	                 "/usr/bin/prog\n"
	                 "555555558000-555555559000 rw-p 00003000 fe:00 1310721                    "
	                 "/usr/bin/prog\n"
	                 "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          "
	                 "[stack]\n");
}

Test(proc, maps_names_the_heap_and_leaves_anonymous_mappings_unnamed)
{
	cr_assert_eq(sys_brk(&k, t->mm->start_brk + 0x21000), t->mm->start_brk + 0x21000);
	cr_assert_eq(sys_mmap(&k, 0, 3 * PG, RW, ANON, -1, 0), 0x7ffff7ffc000);
	cr_assert_eq(sys_mmap(&k, 0, 2 * PG, SIM_PROT_READ, ANON, -1, 0), 0x7ffff7ffa000);
	CAPTURE(proc_maps(&k, t, out));
	cr_assert_str_eq(text,
	                 "555555554000-555555555000 r--p 00000000 fe:00 1310721                    "
	                 "/usr/bin/prog\n"
	                 "555555555000-555555556000 r-xp 00001000 fe:00 1310721                    "
	                 "/usr/bin/prog\n"
	                 "555555556000-555555557000 r--p 00002000 fe:00 1310721                    "
	                 "/usr/bin/prog\n"
	                 "555555557000-555555558000 r--p 00002000 fe:00 1310721                    "
	                 "/usr/bin/prog\n"
	                 "555555558000-555555559000 rw-p 00003000 fe:00 1310721                    "
	                 "/usr/bin/prog\n"
	                 "555555559000-55555557a000 rw-p 00000000 00:00 0                          "
	                 "[heap]\n"
	                 "7ffff7ffa000-7ffff7ffc000 r--p 00000000 00:00 0 \n"
	                 "7ffff7ffc000-7ffff7fff000 rw-p 00000000 00:00 0 \n"
	                 "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          "
	                 "[stack]\n");
}

Test(proc, maps_heap_name_follows_the_break_not_the_vma_kind)
{
	/* an unaligned break inside the first page: the heap line is one page */
	sys_brk(&k, t->mm->start_brk + 10);
	CAPTURE(proc_maps(&k, t, out));
	cr_assert_not_null(strstr(text, "555555559000-55555555a000 rw-p 00000000 00:00 0"
	                                "                          [heap]\n"));
	/* back to empty: no heap line at all */
	sys_brk(&k, t->mm->start_brk);
	CAPTURE(proc_maps(&k, t, out));
	cr_assert_null(strstr(text, "[heap]"));
}

/* The name column of this machine's own /proc/self/maps equals ours. */
Test(proc, maps_name_column_matches_the_real_file)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	long real_col = -1, ours;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[stack]") && strlen(line) < 100) {
			real_col = strstr(line, "[stack]") - line;
			break;
		}
	fclose(f);
	cr_assert_eq(real_col, 73, "the real [stack] name starts at column 74");
	CAPTURE(proc_maps(&k, t, out));
	for (ours = strstr(text, "[stack]") - text; ours > 0 && text[ours - 1] != '\n';)
		ours--;
	cr_assert_eq(strstr(text, "[stack]") - (text + ours), real_col);
}

Test(proc, buddyinfo_prints_one_column_per_order)
{
	char expect[256];
	int n;

	CAPTURE(proc_buddyinfo(&k, out));
	n = snprintf(expect, sizeof(expect), "Node 0, zone   Normal ");
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		n += snprintf(expect + n, sizeof(expect) - (size_t)n, "%6lu ",
		              (unsigned long)k.buddy.free_area[o].nr_free);
	snprintf(expect + n, sizeof(expect) - (size_t)n, "\n");
	cr_assert_str_eq(text, expect);
	cr_assert_eq(strlen(text), strlen("Node 0, zone   Normal ") + 11 * 7 + 1);
}

Test(proc, buddyinfo_shows_the_split_of_a_block)
{
	char before[256];

	touch(PAGE_ALIGN_DOWN(t->mm->end_data), 1); /* already mapped: no allocation */
	CAPTURE(proc_buddyinfo(&k, out));
	snprintf(before, sizeof(before), "%s", text);
	sys_brk(&k, t->mm->start_brk + PG);
	touch(t->mm->start_brk, 1);
	CAPTURE(proc_buddyinfo(&k, out));
	cr_assert_str_neq(text, before, "one frame taken changes the free lists");
}

Test(proc, meminfo_format_and_values)
{
	char expect[512];
	uint64_t kinds[FK__COUNT];

	CAPTURE(proc_meminfo(&k, out));
	phys_count_kinds(&k.phys, kinds);
	snprintf(expect, sizeof(expect),
	         "MemTotal:       %8llu kB\n"
	         "MemFree:        %8llu kB\n"
	         "MemAvailable:   %8llu kB\n"
	         "Buffers:               0 kB\n"
	         "Cached:                0 kB\n"
	         "SwapCached:            0 kB\n",
	         (unsigned long long)k.buddy.managed * 4,
	         (unsigned long long)k.buddy.free_pages * 4,
	         /* si_mem_available: free less totalreserve_pages (the high watermark) */
	         (unsigned long long)(k.buddy.free_pages - k.buddy.watermark[WMARK_HIGH]) * 4);
	cr_assert_eq(strncmp(text, expect, strlen(expect)), 0, "got:\n%s", text);
	snprintf(expect, sizeof(expect), "\nAnonPages:      %8llu kB\n",
	         (unsigned long long)kinds[FK_ANON] * 4);
	cr_assert_not_null(strstr(text, expect));
	snprintf(expect, sizeof(expect), "\nPageTables:     %8llu kB\n",
	         (unsigned long long)kinds[FK_PAGETABLE] * 4);
	cr_assert_not_null(strstr(text, expect));
	snprintf(expect, sizeof(expect), "\nCommitLimit:    %8llu kB\nCommitted_AS:   %8llu kB\n",
	         (unsigned long long)(k.buddy.managed / 2) * 4,
	         /* all but the text and the read-only pages mapped so: the ELF
	            headers and .rodata (RELRO was mapped writable: charged) */
	         (unsigned long long)(t->mm->total_vm - t->mm->exec_vm - 2) * 4);
	cr_assert_not_null(strstr(text, expect), "got:\n%s", text);
	cr_assert_not_null(strstr(text, "\nVmallocTotal:   34359738367 kB\n"));
	cr_assert_not_null(strstr(text, "\nHugePages_Total:       0\n"));
	cr_assert_not_null(strstr(text, "\nHugepagesize:       2048 kB\n"));
}

Test(proc, meminfo_counts_anon_pages_and_commit)
{
	uint64_t anon0, committed0;
	char *p;

	CAPTURE(proc_meminfo(&k, out));
	p = strstr(text, "AnonPages:");
	anon0 = strtoull(p + 10, NULL, 10);
	p = strstr(text, "Committed_AS:");
	committed0 = strtoull(p + 13, NULL, 10);
	sys_brk(&k, t->mm->start_brk + 10 * PG);
	touch(t->mm->start_brk, 3);
	CAPTURE(proc_meminfo(&k, out));
	p = strstr(text, "AnonPages:");
	cr_assert_eq(strtoull(p + 10, NULL, 10), anon0 + 12);
	p = strstr(text, "Committed_AS:");
	cr_assert_eq(strtoull(p + 13, NULL, 10), committed0 + 40);
}

/* Every label we print that the real /proc/meminfo has comes in its order. */
Test(proc, meminfo_labels_follow_the_real_order)
{
	char line[256], labels[128][32];
	int n = 0, last = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	cr_assert_not_null(f);
	while (n < 128 && fgets(line, sizeof(line), f))
		if (sscanf(line, "%31[^:]", labels[n]) == 1)
			n++;
	fclose(f);
	CAPTURE(proc_meminfo(&k, out));
	for (char *l = text; *l; l = strchr(l, '\n') + 1) {
		char label[32];
		int at = -1;

		cr_assert_eq(sscanf(l, "%31[^:]", label), 1);
		for (int i = 0; i < n; i++)
			if (strcmp(labels[i], label) == 0)
				at = i;
		cr_assert_neq(at, -1, "%s is not in the real /proc/meminfo", label);
		cr_assert_gt(at, last, "%s out of order", label);
		last = at;
		/* "%-16s%8lu kB": the value ends at column 24 */
		if (strncmp(label, "HugePages_", 10) != 0 && strcmp(label, "VmallocTotal") != 0)
			cr_assert_eq(strchr(l, '\n') - l, 27, "%s line width", label);
	}
}

Test(proc, status_vm_lines_of_a_fresh_process)
{
	CAPTURE(proc_status(&k, t, out));
	cr_assert_eq(strncmp(text, "Name:\tprog\nUmask:\t0022\nState:\tR (running)\n", 40), 0);
	cr_assert_not_null(strstr(text, "VmPeak:\t     152 kB\n"
	                                "VmSize:\t     152 kB\n"
	                                "VmLck:\t       0 kB\n"
	                                "VmPin:\t       0 kB\n"
	                                "VmHWM:\t       8 kB\n"
	                                "VmRSS:\t       8 kB\n"
	                                "RssAnon:\t       8 kB\n"
	                                "RssFile:\t       0 kB\n"
	                                "RssShmem:\t       0 kB\n"
	                                "VmData:\t       4 kB\n"
	                                "VmStk:\t     132 kB\n"
	                                "VmExe:\t       4 kB\n"
	                                "VmLib:\t       0 kB\n"
	                                "VmPTE:\t      24 kB\n"
	                                "VmSwap:\t       0 kB\n"),
	                   "got:\n%s", text);
}

Test(proc, status_follows_brk_mmap_and_munmap)
{
	int64_t m;

	sys_brk(&k, t->mm->start_brk + 0x21000);
	m = sys_mmap(&k, 0, 64 * PG, RW, ANON, -1, 0);
	touch((vaddr_t)m, 64);
	sys_munmap(&k, (vaddr_t)m, 64 * PG);
	check();
	CAPTURE(proc_status(&k, t, out));
	/* 152 + 132 (heap) + 256 (gone again): the peaks remember */
	cr_assert_not_null(strstr(text, "VmPeak:\t     540 kB\nVmSize:\t     284 kB\n"), "%s",
	                   text);
	cr_assert_not_null(strstr(text, "VmHWM:\t     264 kB\nVmRSS:\t       8 kB\n"), "%s", text);
	cr_assert_not_null(strstr(text, "VmData:\t     136 kB\n"), "%s", text);
}

/* No process is its own parent: the first one's parent is outside its PID
   namespace, and Linux shows such a parent as 0 (task.h, real_parent). */
Test(proc, status_of_the_first_process_shows_ppid_0)
{
	CAPTURE(proc_status(&k, t, out));
	cr_assert_not_null(strstr(text, "\nTgid:\t1\nNgid:\t0\nPid:\t1\nPPid:\t0\nTracerPid:\t0\n"),
	                   "%s", text);
}

/* Append the first n bytes of src to the string in dst[cap], cut to fit. */
static void append_n(char *dst, size_t cap, const char *src, size_t n)
{
	size_t len = strlen(dst);

	if (n > cap - 1 - len)
		n = cap - 1 - len;
	memcpy(dst + len, src, n);
	dst[len + n] = '\0';
}

/* The real status file has the Vm lines in this order, with this format. */
Test(proc, status_vm_labels_follow_the_real_file)
{
	char line[256], real[1024] = "", ours[1024] = "";
	FILE *f = fopen("/proc/self/status", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if ((strncmp(line, "Vm", 2) == 0 || strncmp(line, "Rss", 3) == 0) &&
		    strstr(line, " kB\n") && strchr(line, '\t') - line < 12)
			append_n(real, sizeof(real), line, (size_t)(strchr(line, '\t') - line + 1));
	fclose(f);
	CAPTURE(proc_status(&k, t, out));
	for (char *l = text; *l; l = strchr(l, '\n') + 1)
		if (strncmp(l, "Vm", 2) == 0 || strncmp(l, "Rss", 3) == 0) {
			cr_assert_eq(strchr(l, '\n') - strchr(l, '\t'), 12, "\\t%%8lu kB");
			append_n(ours, sizeof(ours), l, (size_t)(strchr(l, '\t') - l + 1));
		}
	cr_assert_str_eq(ours, real);
}

Test(proc, pagetable_walks_a_mapped_address_level_by_level)
{
	vaddr_t va = t->mm->start_brk + 0x10;
	struct walk w;
	char expect[160];

	sys_brk(&k, t->mm->start_brk + PG);
	touch(t->mm->start_brk, 1);
	pagewalk(&k.phys, t->mm->pgd, va, &w);
	cr_assert(w.present);
	CAPTURE(proc_pagetable(&k, t, va, out));
	cr_assert_eq(strncmp(text,
	                     "va 0x0000555555559010: PML4[170] PDPT[341] PD[170] PT[345] offset "
	                     "0x010\n",
	                     71),
	             0, "%s", text);
	snprintf(expect, sizeof(expect),
	         "  PT[345]    table pfn %#-8llx entry 0x%016llx  P RW US A D NX\n",
	         (unsigned long long)w.table[3], (unsigned long long)w.entry[3]);
	cr_assert_not_null(strstr(text, expect), "%s", text);
	snprintf(expect, sizeof(expect), "  => pfn %#llx, physical %#llx\n",
	         (unsigned long long)pte_pfn(w.entry[3]),
	         (unsigned long long)(pte_pfn(w.entry[3]) << PAGE_SHIFT | 0x10));
	cr_assert_not_null(strstr(text, expect), "%s", text);
}

Test(proc, pagetable_stops_at_the_first_missing_level)
{
	CAPTURE(proc_pagetable(&k, t, 0x100000000000ULL, out));
	cr_assert_str_eq(text,
	                 "va 0x0000100000000000: PML4[32] PDPT[0] PD[0] PT[0] offset 0x000\n"
	                 "  PML4[32]   table pfn 0x2      entry 0x0000000000000000  not present\n"
	                 "  => not mapped: an access faults\n");
	CAPTURE(proc_pagetable(&k, t, 0x0000800000000000ULL, out));
	cr_assert_str_eq(text,
	                 "va 0x0000800000000000: not canonical (bits 63:48 must copy bit 47)\n");
}

Test(proc, tlb_lists_the_translations_the_cpu_cached)
{
	char expect[128];
	struct tlb_entry *e;

	sys_brk(&k, t->mm->start_brk + PG);
	touch(t->mm->start_brk, 1);
	e = tlb_lookup(&k.cpu.tlb, t->mm->start_brk >> PAGE_SHIFT);
	cr_assert_not_null(e);
	CAPTURE(proc_tlb(&k, out));
	snprintf(expect, sizeof(expect), "TLB: %u sets x %u ways, %u valid;", k.cpu.tlb.nsets,
	         k.cpu.tlb.ways, tlb_count(&k.cpu.tlb));
	cr_assert_eq(strncmp(text, expect, strlen(expect)), 0, "%s", text);
	snprintf(expect, sizeof(expect), "va 0x555555559000 -> pfn %#-8llx W U NX D\n",
	         (unsigned long long)e->pfn);
	cr_assert_not_null(strstr(text, expect), "%s", text);
}
