/*
 * test_kernel_random.c - random sequences of brk, mmap (with hints and
 * MAP_FIXED), munmap, stores and loads through the system calls and the
 * CPU, against a host-side shadow of every mapped page (its protection and
 * the byte last stored in it). After every operation kernel_check must find
 * nothing, the VMAs must cover exactly the shadow's pages, and every load
 * must return what the shadow says (0 for a page never written since it was
 * mapped). At the end everything is unmapped and /proc/buddyinfo must equal
 * what it was before the run, and after the task exits, what it was at boot.
 * Fixed seeds: every run is the same.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_sim/kernel.h"
#include "kernel_sim/proc.h"
#include "kernel_sim/syscalls.h"
#include "vm/pagetable.h"
#include "vm/uthash_host.h"

#define PG          PAGE_SIZE
#define RW          (SIM_PROT_READ | SIM_PROT_WRITE)
#define ANON        (SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS)
#define HINT_BASE   0x100000000000ULL /* hints land here, far from heap and mmap_base */
#define HINT_SPAN   (64ULL << 20)
#define MAX_REGIONS 64
#define OPS         2500

struct shadow_page {
	uint64_t vpn;
	int prot;
	uint8_t val;
	UT_hash_handle hh;
};

struct region {
	vaddr_t start;
	uint64_t len;
};

struct run {
	struct kernel k;
	struct task *t;
	struct shadow_page *pages;
	struct region regions[MAX_REGIONS];
	unsigned nr_regions;
	uint64_t rng;
	uint64_t stores, loads, segv_free;
};

static uint64_t rnd(struct run *r)
{
	uint64_t x = r->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	r->rng = x;
	return x;
}

static uint64_t below(struct run *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static struct shadow_page *shadow_find(struct run *r, vaddr_t va)
{
	struct shadow_page *p;
	uint64_t vpn = va >> PAGE_SHIFT;

	HASH_FIND(hh, r->pages, &vpn, sizeof(vpn), p);
	return p;
}

static void shadow_unmap(struct run *r, vaddr_t start, vaddr_t end)
{
	for (vaddr_t va = start; va < end; va += PG) {
		struct shadow_page *p = shadow_find(r, va);

		if (p) {
			HASH_DEL(r->pages, p);
			free(p);
		}
	}
}

static void shadow_map(struct run *r, vaddr_t start, vaddr_t end, int prot)
{
	shadow_unmap(r, start, end);
	for (vaddr_t va = start; va < end; va += PG) {
		struct shadow_page *p = calloc(1, sizeof(*p));

		cr_assert_not_null(p);
		p->vpn = va >> PAGE_SHIFT;
		p->prot = prot;
		HASH_ADD(hh, r->pages, vpn, sizeof(p->vpn), p);
	}
}

/* The VMAs other than text, data and stack cover exactly the shadow's pages. */
static void compare_with_shadow(struct run *r)
{
	struct mm_struct *mm = r->t->mm;
	uint64_t pages = 0;
	struct shadow_page *p, *tmp;

	cr_assert_eq(kernel_check(&r->k, stderr), 0, "kernel_check failed");
	for (size_t i = 0; i < mm->nr_vmas; i++) {
		const struct vm_area_struct *v = &mm->vmas[i];

		if (v->kind == VMA_HEAP || v->kind == VMA_ANON)
			pages += (v->vm_end - v->vm_start) >> PAGE_SHIFT;
	}
	cr_assert_eq(pages, HASH_COUNT(r->pages), "VMAs hold %llu pages, the shadow %u",
	             (unsigned long long)pages, HASH_COUNT(r->pages));
	HASH_ITER(hh, r->pages, p, tmp)
	{
		struct vm_area_struct *v = vma_lookup(mm, p->vpn << PAGE_SHIFT);

		cr_assert_not_null(v, "page %#llx not mapped", (unsigned long long)p->vpn);
		cr_assert_eq(!!(v->vm_flags & VM_WRITE), !!(p->prot & SIM_PROT_WRITE));
	}
}

/* ---- the operations ------------------------------------------------------ */

static void op_brk(struct run *r)
{
	struct mm_struct *mm = r->t->mm;
	vaddr_t old = mm->brk, want, got;
	int64_t delta;

	switch (below(r, 4)) {
	case 0: /* grow */
		want = old + below(r, 16 * PG) + 1;
		break;
	case 1: /* shrink, maybe below start_brk (refused) */
		delta = (int64_t)below(r, 20 * PG);
		want = old - (uint64_t)delta;
		break;
	case 2: /* inside the current page */
		want = PAGE_ALIGN_DOWN(old) + below(r, PG);
		if (want < mm->start_brk)
			want = mm->start_brk;
		break;
	default: /* far: refused or a big heap */
		want = mm->start_brk + below(r, 256 * PG);
		break;
	}
	got = sys_brk(&r->k, want);
	cr_assert_eq(got, mm->brk);
	cr_assert(got == want || got == old, "brk(%#llx) from %#llx returned %#llx",
	          (unsigned long long)want, (unsigned long long)old, (unsigned long long)got);
	if (want < mm->start_brk)
		cr_assert_eq(got, old);
	if (PAGE_ALIGN(got) > PAGE_ALIGN(old))
		shadow_map(r, PAGE_ALIGN(old), PAGE_ALIGN(got), RW);
	else
		shadow_unmap(r, PAGE_ALIGN(got), PAGE_ALIGN(old));
}

static void add_region(struct run *r, vaddr_t start, uint64_t len)
{
	if (r->nr_regions < MAX_REGIONS)
		r->regions[r->nr_regions++] = (struct region){start, len};
	else
		r->regions[below(r, MAX_REGIONS)] = (struct region){start, len};
}

static void op_mmap(struct run *r)
{
	uint64_t len = (below(r, 24) + 1) * PG - (below(r, 2) ? below(r, PG) : 0);
	int prot = below(r, 4) ? RW : SIM_PROT_READ;
	int flags = ANON;
	vaddr_t addr = 0;
	int64_t got;

	switch (below(r, 4)) {
	case 0: /* a hint */
		addr = HINT_BASE + below(r, HINT_SPAN);
		break;
	case 1: /* MAP_FIXED inside a region mapped before (maybe unmapped since) */
		if (r->nr_regions) {
			struct region *g = &r->regions[below(r, r->nr_regions)];
			uint64_t pages = g->len / PG;

			addr = g->start + below(r, pages) * PG;
			len = (below(r, pages - (addr - g->start) / PG) + 1) * PG;
			flags |= SIM_MAP_FIXED;
		}
		break;
	}
	got = sys_mmap(&r->k, addr, len, prot, flags, -1, 0);
	cr_assert_gt(got, 0, "mmap(%#llx, %#llx) = %lld", (unsigned long long)addr,
	             (unsigned long long)len, (long long)got);
	cr_assert_eq(got % PG, 0);
	if (flags & SIM_MAP_FIXED) {
		cr_assert_eq((vaddr_t)got, addr);
	} else {
		for (vaddr_t va = (vaddr_t)got; va < (vaddr_t)got + PAGE_ALIGN(len); va += PG)
			cr_assert_null(shadow_find(r, va), "mmap returned a used page %#llx",
			               (unsigned long long)va);
		add_region(r, (vaddr_t)got, PAGE_ALIGN(len));
	}
	shadow_map(r, (vaddr_t)got, (vaddr_t)got + PAGE_ALIGN(len), prot);
}

static void op_munmap(struct run *r)
{
	struct region *g;
	uint64_t pages, first, n;
	int64_t got;

	if (!r->nr_regions)
		return;
	g = &r->regions[below(r, r->nr_regions)];
	pages = g->len / PG;
	switch (below(r, 5)) {
	case 0: /* whole */
		first = 0;
		n = pages;
		break;
	case 1: /* head */
		first = 0;
		n = below(r, pages) + 1;
		break;
	case 2: /* tail */
		first = below(r, pages);
		n = pages - first;
		break;
	case 3: /* unaligned: refused */
		cr_assert_eq(sys_munmap(&r->k, g->start + 1 + below(r, PG - 1), PG), -SIM_EINVAL);
		return;
	default: /* middle */
		first = below(r, pages);
		n = below(r, pages - first) + 1;
		break;
	}
	got = sys_munmap(&r->k, g->start + first * PG, n * PG - below(r, PG));
	cr_assert_eq(got, 0);
	shadow_unmap(r, g->start + first * PG, g->start + (first + n) * PG);
}

struct access {
	vaddr_t va;
	bool write;
	uint8_t val;
	uint64_t got;
	int ret;
};

static struct run *current_run; /* the task_run callback's argument holder */

static void do_access(void *arg)
{
	struct access *a = arg;

	if (a->write)
		a->ret = cpu_store(&current_run->k.cpu, a->va, 1, a->val);
	else
		a->ret = cpu_load(&current_run->k.cpu, a->va, 1, &a->got);
}

/* The byte of a page the test uses: somewhere inside, the same each time. */
static vaddr_t probe_addr(vaddr_t page)
{
	return page + ((page >> PAGE_SHIFT) * 97 % PG);
}

static void op_access(struct run *r, bool write)
{
	struct mm_struct *mm = r->t->mm;
	struct shadow_page *p;
	struct access a;
	vaddr_t page;

	if (below(r, 2) && mm->brk > mm->start_brk) {
		page =
		    PAGE_ALIGN_DOWN(mm->start_brk + below(r, PAGE_ALIGN(mm->brk) - mm->start_brk));
	} else if (r->nr_regions) {
		struct region *g = &r->regions[below(r, r->nr_regions)];

		page = g->start + below(r, g->len / PG) * PG;
	} else {
		return;
	}
	p = shadow_find(r, page);
	if (!p)
		return; /* an access there would kill the process */
	if (write && !(p->prot & SIM_PROT_WRITE))
		write = false;
	a = (struct access){.va = probe_addr(page), .write = write, .val = (uint8_t)(rnd(r) | 1)};
	cr_assert_eq(task_run(&r->k, r->t, do_access, &a), 0);
	cr_assert_eq(a.ret, 0);
	if (write) {
		p->val = a.val;
		r->stores++;
	} else {
		cr_assert_eq(a.got, p->val, "load at %#llx: %#llx, shadow %#x",
		             (unsigned long long)a.va, (unsigned long long)a.got, p->val);
		r->loads++;
	}
}

static char *buddyinfo(struct kernel *k)
{
	char *s = NULL;
	size_t n;
	FILE *f = open_memstream(&s, &n);

	proc_buddyinfo(k, f);
	fclose(f);
	return s;
}

static void run_seed(uint64_t seed, bool zero_page)
{
	static struct run r;
	struct kernel_opts o;
	char *at_boot, *at_start, *now;
	struct shadow_page *p, *tmp;

	memset(&r, 0, sizeof(r));
	current_run = &r;
	r.rng = seed * 0x9e3779b97f4a7c15ULL | 1;
	kernel_default_opts(&o);
	o.phys_bytes = 16ULL << 20;
	o.zero_page = zero_page;
	cr_assert_eq(kernel_boot(&r.k, &o, stderr), 0);
	at_boot = buddyinfo(&r.k);
	r.t = task_create(&r.k, "random");
	cr_assert_not_null(r.t);
	at_start = buddyinfo(&r.k);
	compare_with_shadow(&r);

	for (unsigned i = 0; i < OPS; i++) {
		uint64_t op = below(&r, 100);

		if (op < 20)
			op_brk(&r);
		else if (op < 35)
			op_mmap(&r);
		else if (op < 50)
			op_munmap(&r);
		else if (op < 80)
			op_access(&r, true);
		else
			op_access(&r, false);
		compare_with_shadow(&r);
		/* keep the simulated RAM from running out: drop a region now and then */
		if (r.k.buddy.free_pages < r.k.buddy.managed / 4 && r.nr_regions) {
			struct region *g = &r.regions[below(&r, r.nr_regions)];

			cr_assert_eq(sys_munmap(&r.k, g->start, g->len), 0);
			shadow_unmap(&r, g->start, g->start + g->len);
			compare_with_shadow(&r);
		}
	}
	cr_assert_gt(r.stores, OPS / 10);
	cr_assert_gt(r.loads, OPS / 20);

	/* free everything: the free lists are those of the start again */
	cr_assert_eq(sys_brk(&r.k, r.t->mm->start_brk), r.t->mm->start_brk);
	shadow_unmap(&r, r.t->mm->start_brk, r.t->mm->start_brk + (1ULL << 30));
	compare_with_shadow(&r);
	HASH_ITER(hh, r.pages, p, tmp)
	{
		cr_assert_eq(sys_munmap(&r.k, p->vpn << PAGE_SHIFT, PG), 0);
		HASH_DEL(r.pages, p);
		free(p);
	}
	compare_with_shadow(&r);
	now = buddyinfo(&r.k);
	cr_assert_str_eq(now, at_start);
	free(now);
	task_destroy(&r.k, r.t);
	cr_assert_eq(kernel_check(&r.k, stderr), 0);
	now = buddyinfo(&r.k);
	cr_assert_str_eq(now, at_boot);
	free(now);
	free(at_boot);
	free(at_start);
	kernel_shutdown(&r.k);
}

Test(kernel_random, seed_1_with_the_zero_page)
{
	run_seed(1, true);
}

Test(kernel_random, seed_2_without_the_zero_page)
{
	run_seed(2, false);
}

Test(kernel_random, seed_3_with_the_zero_page)
{
	run_seed(3, true);
}

Test(kernel_random, seed_4_without_the_zero_page)
{
	run_seed(4, false);
}
