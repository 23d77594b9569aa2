/*
 * test_cpu.c - the MMU: TLB, hardware page walk, A/D bits, faults, ranges.
 *
 * Page tables are built by hand with a bump frame allocator; a test trap
 * handler plays the kernel (maps the faulting page, or refuses, or unwinds).
 * Also the software walk and the PTE helpers of vm/pagetable.h.
 */
#include <criterion/criterion.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "vm/cpu.h"
#include "vm/pagetable.h"
#include "vm/phys.h"
#include "vm/probe.h"

#define RAM        (4ULL << 20)
#define MAX_EVENTS 256

enum handler_mode {
	H_MAP,     /* map the faulting page (fresh frame), or make it writable/user */
	H_NOTHING, /* return TRAP_RETRY without fixing anything: a kernel bug */
	H_KILL,    /* return TRAP_KILLED */
	H_JUMP,    /* longjmp out, as the kernel unwinds a killed process */
};

static struct {
	struct phys ph;
	struct probe pr;
	struct cpu cpu;
	pfn_t next_pfn; /* bump allocator */
	pfn_t pml4;
	enum handler_mode mode;
	unsigned traps;
	int vector;
	vaddr_t addr;
	unsigned error;
	jmp_buf jump;
	struct event ev[MAX_EVENTS];
	unsigned nev;
} F;

static void record(void *ctx, const struct event *ev)
{
	if (F.nev < MAX_EVENTS)
		F.ev[F.nev] = *ev;
	F.nev++;
}

static pfn_t frame_alloc(void)
{
	cr_assert(phys_valid_pfn(&F.ph, F.next_pfn), "test RAM exhausted");
	phys_zero_frame(&F.ph, F.next_pfn);
	phys_frame(&F.ph, F.next_pfn)->kind = FK_KERNEL;
	phys_frame(&F.ph, F.next_pfn)->refcount = 1;
	return F.next_pfn++;
}

/* The PT covering va, allocating tables with table_flags on the way. */
static pfn_t pt_for(vaddr_t va, pte_t table_flags)
{
	pfn_t table = F.pml4;

	for (int level = 4; level > 1; level--) {
		pte_t e = pt_get(&F.ph, table, pt_index(va, level));

		if (!pte_present(e)) {
			e = pte_mk(frame_alloc(), PTE_P | table_flags);
			pt_set(&F.ph, table, pt_index(va, level), e);
		}
		table = pte_pfn(e);
	}
	return table;
}

static void map(vaddr_t va, pfn_t pfn, pte_t flags)
{
	pt_set(&F.ph, pt_for(va, PTE_RW | PTE_US), pt_index(va, 1), pte_mk(pfn, PTE_P | flags));
}

static pte_t leaf(vaddr_t va)
{
	return pagewalk(&F.ph, F.pml4, va, NULL);
}

static pte_t entry_at(vaddr_t va, int level)
{
	struct walk w;

	pagewalk(&F.ph, F.pml4, va, &w);
	cr_assert_geq(w.depth, PT_LEVELS - level + 1);
	return w.entry[PT_LEVELS - level];
}

static int handler(void *ctx, int vector, vaddr_t addr, unsigned error)
{
	cr_assert_eq(ctx, &F);
	F.traps++;
	F.vector = vector;
	F.addr = addr;
	F.error = error;
	switch (F.mode) {
	case H_MAP:
		if (vector != X86_TRAP_PF)
			return TRAP_KILLED;
		if (error & PF_PROT) {
			pfn_t pt = pt_for(addr, PTE_RW | PTE_US);
			pte_t e = pt_get(&F.ph, pt, pt_index(addr, 1));

			pt_set(&F.ph, pt, pt_index(addr, 1), e | PTE_RW | PTE_US);
			cpu_invlpg(&F.cpu, addr);
		} else {
			map(addr & PAGE_MASK, frame_alloc(), PTE_RW | PTE_US);
		}
		return TRAP_RETRY;
	case H_NOTHING:
		/* The CPU calls again once (reclaim may have taken the page back
		   before the retry), then panics at the third fault. */
		cr_assert_leq(F.traps, 2, "handler called a third time for an unresolved fault");
		return TRAP_RETRY;
	case H_KILL:
		return TRAP_KILLED;
	case H_JUMP:
		longjmp(F.jump, 1);
	}
	return TRAP_KILLED;
}

static void check_all(void)
{
	cr_assert_eq(cpu_check(&F.cpu, stderr), 0);
	cr_assert_eq(tlb_check(&F.cpu.tlb, stderr), 0);
	cr_assert_eq(phys_check(&F.ph, stderr), 0);
}

static void setup(void)
{
	memset(&F, 0, sizeof(F));
	cr_assert_eq(phys_init(&F.ph, RAM), 0);
	probe_init(&F.pr);
	probe_set_sink(&F.pr, record, NULL);
	cr_assert_eq(cpu_init(&F.cpu, &F.ph, &F.pr, 64, 4), 0);
	cpu_set_trap_handler(&F.cpu, handler, &F);
	F.next_pfn = 1;
	F.pml4 = frame_alloc();
	cpu_load_cr3(&F.cpu, F.pml4);
	F.cpu.user = true;
	F.nev = 0;
}

static void teardown(void)
{
	cpu_destroy(&F.cpu);
	phys_destroy(&F.ph);
}

/* Index of the first event of kind at or after from, or -1. */
static int find_ev(int kind, unsigned from)
{
	for (unsigned i = from; i < F.nev && i < MAX_EVENTS; i++)
		if (F.ev[i].kind == kind)
			return (int)i;
	return -1;
}

static unsigned count_ev(int kind)
{
	unsigned n = 0;

	for (unsigned i = 0; i < F.nev && i < MAX_EVENTS; i++)
		n += F.ev[i].kind == kind;
	return n;
}

#define VA 0x0000555555554000ULL

TestSuite(cpu, .init = setup, .fini = teardown);

Test(cpu, first_access_misses_and_walks_four_levels_then_hits)
{
	uint64_t v = 0;
	pfn_t pfn = frame_alloc();
	int miss, fill;

	map(VA, pfn, PTE_RW | PTE_US);
	phys_write64(&F.ph, pfn_to_paddr(pfn) + 0x18, 0x1122334455667788ULL);
	cr_assert_eq(cpu_load(&F.cpu, VA + 0x18, 8, &v), 0);
	cr_assert_eq(v, 0x1122334455667788ULL);
	cr_assert_eq(F.cpu.tlb.misses, 1);
	cr_assert_eq(cpu_tlb_hits(&F.cpu), 0);
	cr_assert_eq(F.pr.c.walks, 1);

	miss = find_ev(EV_TLB_MISS, 0);
	cr_assert_geq(miss, 0);
	cr_assert_eq(F.ev[miss].layer, LAYER_MMU);
	cr_assert_eq(event_field(&F.ev[miss], "addr", 0), VA + 0x18);
	for (int l = 0; l < 4; l++) {
		const struct event *w = &F.ev[miss + 1 + l];

		cr_assert_eq(w->kind, EV_WALK);
		cr_assert_eq(event_field(w, "level", 0), (uint64_t)(4 - l));
		cr_assert_eq(event_field(w, "index", 999), pt_index(VA, 4 - l));
		cr_assert(pte_present(event_field(w, "entry", 0)));
	}
	cr_assert_eq(pte_pfn(event_field(&F.ev[miss + 4], "entry", 0)), pfn);
	cr_assert_eq(count_ev(EV_WALK), 4);
	fill = find_ev(EV_TLB_FILL, 0);
	cr_assert_gt(fill, miss);
	cr_assert_eq(event_field(&F.ev[fill], "vpn", 0), VA >> PAGE_SHIFT);
	cr_assert_eq(event_field(&F.ev[fill], "pfn", 0), pfn);
	check_all();

	F.nev = 0;
	cr_assert_eq(cpu_load(&F.cpu, VA + 0x18, 8, &v), 0);
	cr_assert_eq(v, 0x1122334455667788ULL);
	cr_assert_eq(cpu_tlb_hits(&F.cpu), 1);
	cr_assert_eq(F.cpu.tlb.misses, 1);
	cr_assert_eq(F.nev, 0, "a TLB hit is counted, never emitted");
	cr_assert_eq(cpu_loads(&F.cpu), 2);
	check_all();
}

Test(cpu, walk_sets_accessed_everywhere_and_dirty_only_on_write)
{
	uint64_t v;
	int ad;

	map(VA, frame_alloc(), PTE_RW | PTE_US);
	for (int l = 4; l >= 1; l--)
		cr_assert_not(entry_at(VA, l) & PTE_A);
	cr_assert_eq(cpu_load(&F.cpu, VA, 4, &v), 0);
	for (int l = 4; l >= 1; l--)
		cr_assert(entry_at(VA, l) & PTE_A, "level %d not accessed", l);
	cr_assert_not(leaf(VA) & PTE_D);
	ad = find_ev(EV_AD_SET, 0);
	cr_assert_geq(ad, 0);
	cr_assert_eq(event_field(&F.ev[ad], "new", 0), event_field(&F.ev[ad], "old", 0) | PTE_A);
	check_all();

	F.nev = 0;
	cr_assert_eq(cpu_store(&F.cpu, VA, 4, 7), 0);
	cr_assert(leaf(VA) & PTE_D);
	cr_assert_eq(F.cpu.tlb.misses, 2, "a write through a clean entry re-walks to set D");
	ad = find_ev(EV_AD_SET, 0);
	cr_assert_geq(ad, 0);
	cr_assert_eq(event_field(&F.ev[ad], "new", 0), leaf(VA));
	cr_assert_not(event_field(&F.ev[ad], "old", 0) & PTE_D);
	check_all();

	/* Now dirty in the TLB: the next write hits and sets nothing. */
	F.nev = 0;
	cr_assert_eq(cpu_store(&F.cpu, VA + 8, 8, 9), 0);
	cr_assert_eq(F.cpu.tlb.misses, 2);
	cr_assert_eq(F.nev, 0);
	check_all();
}

Test(cpu, first_write_sets_accessed_and_dirty_in_one_walk)
{
	map(VA, frame_alloc(), PTE_RW | PTE_US);
	cr_assert_eq(cpu_store(&F.cpu, VA, 1, 0x5a), 0);
	cr_assert_eq(leaf(VA) & (PTE_A | PTE_D), PTE_A | PTE_D);
	cr_assert_eq(F.cpu.tlb.misses, 1);
	cr_assert_eq(count_ev(EV_AD_SET), 1);
	cr_assert_eq(cpu_stores(&F.cpu), 1);
	check_all();
}

Test(cpu, invlpg_makes_the_next_access_miss)
{
	uint64_t v;
	int fl;

	map(VA, frame_alloc(), PTE_RW | PTE_US);
	map(VA + PAGE_SIZE, frame_alloc(), PTE_RW | PTE_US);
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	cr_assert_eq(cpu_load(&F.cpu, VA + PAGE_SIZE, 8, &v), 0);
	cr_assert_eq(F.cpu.tlb.misses, 2);
	F.nev = 0;
	cpu_invlpg(&F.cpu, VA + 0x123);
	fl = find_ev(EV_TLB_FLUSH, 0);
	cr_assert_geq(fl, 0);
	cr_assert_eq(event_field(&F.ev[fl], "addr", 0), VA + 0x123);
	check_all();
	cr_assert_eq(cpu_load(&F.cpu, VA + PAGE_SIZE, 8, &v), 0);
	cr_assert_eq(F.cpu.tlb.misses, 2, "the other page still hits");
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	cr_assert_eq(F.cpu.tlb.misses, 3);
	check_all();
}

Test(cpu, flush_and_cr3_load_empty_the_tlb)
{
	uint64_t v;

	map(VA, frame_alloc(), PTE_RW | PTE_US);
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	cr_assert_eq(tlb_count(&F.cpu.tlb), 1);
	F.nev = 0;
	cpu_flush_tlb(&F.cpu);
	cr_assert_eq(tlb_count(&F.cpu.tlb), 0);
	cr_assert_eq(event_field(&F.ev[find_ev(EV_TLB_FLUSH, 0)], "all", 0), 1);
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	cr_assert_eq(tlb_count(&F.cpu.tlb), 1);
	cpu_load_cr3(&F.cpu, F.pml4);
	cr_assert_eq(tlb_count(&F.cpu.tlb), 0);
	cr_assert_eq(F.cpu.cr3, F.pml4);
	check_all();
}

Test(cpu, not_present_user_read_faults_with_user_error_and_is_retried)
{
	uint64_t v = 1;
	int f;

	cr_assert_eq(cpu_load(&F.cpu, VA + 0x40, 8, &v), 0);
	cr_assert_eq(v, 0, "the handler's fresh zeroed page");
	cr_assert_eq(F.traps, 1);
	cr_assert_eq(F.vector, X86_TRAP_PF);
	cr_assert_eq(F.addr, VA + 0x40);
	cr_assert_eq(F.error, PF_USER);
	cr_assert_eq(F.cpu.cr2, VA + 0x40);
	cr_assert_eq(F.pr.c.page_faults, 1);
	f = find_ev(EV_FAULT, 0);
	cr_assert_geq(f, 0);
	cr_assert_eq(event_field(&F.ev[f], "addr", 0), VA + 0x40);
	cr_assert_eq(event_field(&F.ev[f], "error", 99), PF_USER);
	cr_assert_eq(F.ev[f].layer, LAYER_MMU);
	check_all();
}

Test(cpu, fault_event_reports_the_instruction_pointer)
{
	uint64_t v;

	F.cpu.ip = 0x401136;
	cr_assert_eq(cpu_load(&F.cpu, VA, 1, &v), 0);
	cr_assert_eq(event_field(&F.ev[find_ev(EV_FAULT, 0)], "ip", 0), 0x401136);
}

Test(cpu, not_present_write_faults_with_write_bit)
{
	cr_assert_eq(cpu_store(&F.cpu, VA, 8, 42), 0);
	cr_assert_eq(F.error, PF_WRITE | PF_USER);
	F.cpu.user = false;
	cr_assert_eq(cpu_store(&F.cpu, VA + 0x10000, 8, 42), 0);
	cr_assert_eq(F.error, PF_WRITE, "kernel mode: no U bit");
	cr_assert_eq(F.traps, 2);
	cr_assert_eq(F.pr.c.page_faults, 2);
	check_all();
}

Test(cpu, user_access_to_supervisor_page_is_a_protection_fault)
{
	uint64_t v;

	map(VA, frame_alloc(), PTE_RW); /* no US */
	F.cpu.user = false;
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	cr_assert_eq(F.traps, 0, "the kernel may read a supervisor page");
	F.cpu.user = true;
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0, "the handler grants US and retries");
	cr_assert_eq(F.traps, 1);
	cr_assert_eq(F.error, PF_PROT | PF_USER);
	check_all();
}

Test(cpu, user_access_needs_us_at_every_level)
{
	uint64_t v;
	pfn_t pt;

	/* Tables without US above a user leaf. */
	pt = pt_for(VA, PTE_RW);
	pt_set(&F.ph, pt, pt_index(VA, 1), pte_mk(frame_alloc(), PTE_P | PTE_RW | PTE_US));
	F.mode = H_KILL;
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), -1);
	cr_assert_eq(F.error, PF_PROT | PF_USER);
	cr_assert_eq(tlb_count(&F.cpu.tlb), 0);
	check_all();
}

Test(cpu, write_to_read_only_page_gives_prot_write_user)
{
	uint64_t v;

	map(VA, frame_alloc(), PTE_US); /* read-only */
	F.mode = H_KILL;
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	cr_assert_eq(cpu_store(&F.cpu, VA, 8, 1), -1);
	cr_assert_eq(F.error, PF_PROT | PF_WRITE | PF_USER);
	cr_assert_eq(F.error, 7);
	cr_assert_not(leaf(VA) & PTE_D, "a faulting write sets no D");
	check_all();
	/* CR0.WP = 1: the kernel's writes to read-only pages fault too. */
	F.cpu.user = false;
	cr_assert_eq(cpu_store(&F.cpu, VA, 8, 1), -1);
	cr_assert_eq(F.error, PF_PROT | PF_WRITE);
	cr_assert_eq(F.traps, 2);
	check_all();
}

Test(cpu, write_needs_rw_at_every_level)
{
	pfn_t pt = pt_for(VA, PTE_US); /* tables read-only */

	pt_set(&F.ph, pt, pt_index(VA, 1), pte_mk(frame_alloc(), PTE_P | PTE_RW | PTE_US));
	F.mode = H_KILL;
	cr_assert_eq(cpu_store(&F.cpu, VA, 8, 1), -1);
	cr_assert_eq(F.error, PF_PROT | PF_WRITE | PF_USER);
	check_all();
}

Test(cpu, protection_fault_drops_a_read_only_tlb_entry_then_retries)
{
	uint64_t v;

	map(VA, frame_alloc(), PTE_US);
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	cr_assert_eq(tlb_count(&F.cpu.tlb), 1);
	cr_assert_eq(cpu_store(&F.cpu, VA, 8, 0xabcdef), 0); /* handler sets RW */
	cr_assert_eq(F.traps, 1);
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	cr_assert_eq(v, 0xabcdef);
	cr_assert_eq(leaf(VA) & (PTE_RW | PTE_D), PTE_RW | PTE_D);
	check_all();
}

Test(cpu, kernel_translation_of_a_supervisor_page_does_not_serve_user_mode)
{
	uint64_t v;

	map(VA, frame_alloc(), PTE_RW); /* supervisor only */
	F.cpu.user = false;
	cr_assert_eq(cpu_store(&F.cpu, VA, 8, 5), 0);
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	cr_assert_eq(cpu_tlb_hits(&F.cpu), 1, "the kernel's second access hits");
	F.mode = H_KILL;
	F.cpu.user = true; /* back to user mode, the entry still cached */
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), -1);
	cr_assert_eq(cpu_store(&F.cpu, VA, 8, 1), -1);
	cr_assert_eq(F.error, PF_PROT | PF_WRITE | PF_USER);
	cr_assert_eq(F.traps, 2);
	check_all();
}

Test(cpu, user_page_translated_in_user_mode_serves_the_kernel_too)
{
	uint64_t v;

	map(VA, frame_alloc(), PTE_RW | PTE_US);
	cr_assert_eq(cpu_store(&F.cpu, VA, 8, 5), 0);
	F.cpu.user = false; /* no SMAP: the kernel may use user pages */
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	cr_assert_eq(v, 5);
	cr_assert_eq(cpu_store(&F.cpu, VA, 8, 6), 0);
	cr_assert_eq(F.cpu.tlb.misses, 1);
	cr_assert_eq(cpu_tlb_hits(&F.cpu), 2);
	check_all();
}

Test(cpu, a_stale_entry_is_used_until_invlpg)
{
	pfn_t a = frame_alloc(), b = frame_alloc();
	uint64_t v;

	map(VA, a, PTE_RW | PTE_US);
	phys_write64(&F.ph, pfn_to_paddr(a), 0xaaaa);
	phys_write64(&F.ph, pfn_to_paddr(b), 0xbbbb);
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	map(VA, b, PTE_RW | PTE_US | PTE_A);
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	cr_assert_eq(v, 0xaaaa, "the TLB still maps the old frame, as hardware does");
	cpu_invlpg(&F.cpu, VA);
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	cr_assert_eq(v, 0xbbbb);
	check_all();
}

Test(cpu, alternating_pages_keep_hitting)
{
	uint64_t v;

	map(VA, frame_alloc(), PTE_RW | PTE_US);
	map(VA + 5 * PAGE_SIZE, frame_alloc(), PTE_RW | PTE_US);
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(cpu_store(&F.cpu, VA + 8 * i, 8, i), 0);
		cr_assert_eq(cpu_load(&F.cpu, VA + 5 * PAGE_SIZE + 8 * i, 8, &v), 0);
		check_all();
	}
	cr_assert_eq(F.cpu.tlb.misses, 2);
	cr_assert_eq(cpu_tlb_hits(&F.cpu), 18);
	cr_assert_eq(F.pr.c.walks, 2);
}

Test(cpu, non_canonical_address_raises_general_protection)
{
	uint64_t v;

	F.mode = H_KILL;
	cr_assert_eq(cpu_load(&F.cpu, 0x0000800000000000ULL, 8, &v), -1);
	cr_assert_eq(F.vector, X86_TRAP_GP);
	cr_assert_eq(F.vector, 13);
	cr_assert_eq(F.error, 0);
	cr_assert_eq(F.addr, 0x0000800000000000ULL);
	cr_assert_eq(F.pr.c.page_faults, 0, "a #GP is not a page fault");
	cr_assert_eq(F.pr.c.walks, 0);
	cr_assert_eq(cpu_store(&F.cpu, 0xdead000000000000ULL, 1, 1), -1);
	cr_assert_eq(F.vector, X86_TRAP_GP);
	cr_assert_eq(F.traps, 2);
	check_all();
}

Test(cpu, retry_happens_exactly_once_per_fault)
{
	uint64_t v;

	for (int i = 0; i < 3; i++)
		cr_assert_eq(cpu_store(&F.cpu, VA + i * PAGE_SIZE + 8, 8, i), 0);
	cr_assert_eq(F.traps, 3, "one handler call per faulting page");
	cr_assert_eq(F.pr.c.page_faults, 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(cpu_load(&F.cpu, VA + i * PAGE_SIZE + 8, 8, &v), 0);
		cr_assert_eq(v, (uint64_t)i);
	}
	cr_assert_eq(F.traps, 3);
	check_all();
}

Test(cpu, handler_that_does_not_fix_the_mapping_panics, .signal = SIGABRT)
{
	F.mode = H_NOTHING;
	cpu_store(&F.cpu, VA, 8, 1);
}

Test(cpu, handler_that_does_not_fix_a_range_panics, .signal = SIGABRT)
{
	F.mode = H_NOTHING;
	cpu_fill(&F.cpu, VA, 0, 100);
}

Test(cpu, killed_access_returns_minus_one_and_writes_nothing)
{
	pfn_t pfn = frame_alloc();
	uint8_t page[PAGE_SIZE];

	/* First page mapped, second not: a crossing store must write neither. */
	map(VA, pfn, PTE_RW | PTE_US);
	F.mode = H_KILL;
	cr_assert_eq(cpu_store(&F.cpu, VA + PAGE_SIZE - 4, 8, ~0ULL), -1);
	cr_assert_eq(F.traps, 1);
	cr_assert_eq(F.addr, VA + PAGE_SIZE);
	phys_read(&F.ph, pfn_to_paddr(pfn), page, PAGE_SIZE);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		cr_assert_eq(page[i], 0, "byte %zu written", i);
	check_all();
}

Test(cpu, without_a_trap_handler_a_fault_returns_minus_one)
{
	uint64_t v;

	cpu_set_trap_handler(&F.cpu, NULL, NULL);
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), -1);
	cr_assert_eq(F.pr.c.page_faults, 1);
	cr_assert_eq(cpu_read(&F.cpu, VA, &v, 8), -1);
}

Test(cpu, handler_may_longjmp_out_and_the_cpu_still_works)
{
	uint64_t v;
	volatile int jumped = 0;

	F.mode = H_JUMP;
	if (!setjmp(F.jump))
		cpu_store(&F.cpu, VA, 8, 1);
	else
		jumped = 1;
	cr_assert_eq(jumped, 1);
	F.mode = H_MAP;
	cr_assert_eq(cpu_store(&F.cpu, VA, 8, 77), 0);
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	cr_assert_eq(v, 77);
	cr_assert_eq(F.traps, 2);
	check_all();
}

Test(cpu, cross_page_store_lands_in_two_frames)
{
	pfn_t a = frame_alloc(), gap = frame_alloc(), b = frame_alloc();
	uint8_t lo[4], hi[4];
	uint64_t v;

	(void)gap; /* the two frames are not adjacent */
	map(VA, a, PTE_RW | PTE_US);
	map(VA + PAGE_SIZE, b, PTE_RW | PTE_US);
	cr_assert_eq(cpu_store(&F.cpu, VA + PAGE_SIZE - 3, 8, 0x0807060504030201ULL), 0);
	phys_read(&F.ph, pfn_to_paddr(a) + PAGE_SIZE - 4, lo, 4);
	phys_read(&F.ph, pfn_to_paddr(b), hi, 4);
	cr_assert_eq(lo[0], 0);
	cr_assert_eq(lo[1], 1);
	cr_assert_eq(lo[3], 3);
	cr_assert_eq(hi[0], 4);
	cr_assert_eq(hi[4 - 1], 7);
	cr_assert_eq(phys_read64(&F.ph, pfn_to_paddr(b)) & 0xffffffffffULL, 0x0807060504ULL);
	cr_assert(leaf(VA) & PTE_D);
	cr_assert(leaf(VA + PAGE_SIZE) & PTE_D);
	cr_assert_eq(cpu_load(&F.cpu, VA + PAGE_SIZE - 3, 8, &v), 0);
	cr_assert_eq(v, 0x0807060504030201ULL);
	cr_assert_eq(cpu_load(&F.cpu, VA + PAGE_SIZE - 1, 2, &v), 0);
	cr_assert_eq(v, 0x0403);
	check_all();
}

Test(cpu, cross_page_access_faults_in_both_pages)
{
	uint64_t v;

	cr_assert_eq(cpu_store(&F.cpu, VA + PAGE_SIZE - 2, 4, 0xaabbccdd), 0);
	cr_assert_eq(F.traps, 2);
	cr_assert_eq(cpu_load(&F.cpu, VA + PAGE_SIZE - 2, 4, &v), 0);
	cr_assert_eq(v, 0xaabbccdd);
	cr_assert_eq(F.traps, 2);
	check_all();
}

Test(cpu, all_sizes_little_endian)
{
	uint64_t v;
	const unsigned sizes[] = {1, 2, 4, 8};

	cr_assert_eq(cpu_store(&F.cpu, VA, 8, 0x8877665544332211ULL), 0);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(cpu_load(&F.cpu, VA, sizes[i], &v), 0);
		cr_assert_eq(v, 0x8877665544332211ULL & (~0ULL >> (64 - 8 * sizes[i])));
	}
	cr_assert_eq(cpu_store(&F.cpu, VA + 1, 2, 0xeeff), 0);
	cr_assert_eq(cpu_load(&F.cpu, VA, 4, &v), 0);
	cr_assert_eq(v, 0x44eeff11);
	check_all();
}

Test(cpu, bad_access_size_panics, .signal = SIGABRT)
{
	uint64_t v;

	cpu_load(&F.cpu, VA, 3, &v);
}

Test(cpu, ranges_cross_pages_and_fault_on_demand)
{
	static uint8_t in[3 * PAGE_SIZE + 100], out[sizeof(in)];
	vaddr_t va = VA + 0x7f0;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 3);
	cr_assert_eq(cpu_write(&F.cpu, va, in, sizeof(in)), 0);
	cr_assert_eq(F.traps, 4, "one fault per page touched");
	cr_assert_eq(cpu_read(&F.cpu, va, out, sizeof(out)), 0);
	cr_assert_eq(memcmp(in, out, sizeof(in)), 0);
	cr_assert_eq(F.traps, 4);
	check_all();

	cr_assert_eq(cpu_fill(&F.cpu, va + 10, 0xa5, 2 * PAGE_SIZE), 0);
	cr_assert_eq(cpu_check_fill(&F.cpu, va + 10, 0xa5, 2 * PAGE_SIZE), 0);
	cr_assert_eq(cpu_check_fill(&F.cpu, va + 9, 0xa5, 2 * PAGE_SIZE), 1);
	cr_assert_eq(cpu_check_fill(&F.cpu, va + 10, 0xa5, 2 * PAGE_SIZE + 1), 1);
	cr_assert_eq(cpu_read(&F.cpu, va, out, sizeof(out)), 0);
	cr_assert_eq(memcmp(out, in, 10), 0);
	cr_assert_eq(out[10], 0xa5);
	cr_assert_eq(out[10 + 2 * PAGE_SIZE - 1], 0xa5);
	cr_assert_eq(out[10 + 2 * PAGE_SIZE], in[10 + 2 * PAGE_SIZE]);
	cr_assert_eq(cpu_read(&F.cpu, va, out, 0), 0);
	check_all();
}

Test(cpu, range_fault_without_fix_stops_with_minus_one)
{
	uint8_t buf[64] = {0};

	F.mode = H_KILL;
	cr_assert_eq(cpu_write(&F.cpu, VA, buf, sizeof(buf)), -1);
	cr_assert_eq(cpu_fill(&F.cpu, VA, 1, 1), -1);
	cr_assert_eq(cpu_read(&F.cpu, VA, buf, 1), -1);
	cr_assert_eq(cpu_check_fill(&F.cpu, VA, 0, 1), -1);
	cr_assert_eq(cpu_copy(&F.cpu, VA, VA + PAGE_SIZE, 1), -1);
	cr_assert_eq(F.traps, 5);
}

/* cpu_copy against host memmove on a mirror buffer, for one (dst, src, n). */
static void copy_case(size_t dst_off, size_t src_off, size_t n)
{
	static uint8_t mirror[4 * PAGE_SIZE], got[4 * PAGE_SIZE];

	for (size_t i = 0; i < sizeof(mirror); i++)
		mirror[i] = (uint8_t)(i ^ (i >> 8));
	cr_assert_eq(cpu_write(&F.cpu, VA, mirror, sizeof(mirror)), 0);
	cr_assert_eq(cpu_copy(&F.cpu, VA + dst_off, VA + src_off, n), 0);
	memmove(mirror + dst_off, mirror + src_off, n);
	cr_assert_eq(cpu_read(&F.cpu, VA, got, sizeof(got)), 0);
	cr_assert_eq(memcmp(got, mirror, sizeof(got)), 0, "copy dst %zu src %zu n %zu", dst_off,
	             src_off, n);
}

Test(cpu, copy_has_memmove_semantics_across_pages)
{
	copy_case(100, 0, 2 * PAGE_SIZE + 500); /* overlap, dst above */
	copy_case(0, 100, 2 * PAGE_SIZE + 500); /* overlap, dst below */
	copy_case(5000, 17, 3000);              /* overlap, different page offsets */
	copy_case(17, 5000, 3000);
	copy_case(2 * PAGE_SIZE, 0, 2 * PAGE_SIZE); /* disjoint, page aligned */
	copy_case(1, 0, 3 * PAGE_SIZE + 100);
	copy_case(0, 1, 3 * PAGE_SIZE + 100);
	copy_case(300, 300, 1000); /* onto itself */
	copy_case(0, 0, 0);
	check_all();
}

Test(cpu, copy_between_buffers_in_different_frames)
{
	/* Source pages mapped to frames in reverse order: every chunk must translate. */
	pfn_t f[4];
	uint8_t buf[2 * PAGE_SIZE], got[2 * PAGE_SIZE];

	for (int i = 0; i < 4; i++)
		f[i] = frame_alloc();
	for (int i = 0; i < 4; i++)
		map(VA + i * PAGE_SIZE, f[3 - i], PTE_RW | PTE_US);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13);
	cr_assert_eq(cpu_write(&F.cpu, VA + 0x10, buf, sizeof(buf)), 0);
	cr_assert_eq(cpu_copy(&F.cpu, VA + 2 * PAGE_SIZE + 0x20, VA + 0x10, sizeof(buf) - 0x20), 0);
	cr_assert_eq(cpu_read(&F.cpu, VA + 2 * PAGE_SIZE + 0x20, got, sizeof(buf) - 0x20), 0);
	cr_assert_eq(memcmp(got, buf, sizeof(buf) - 0x20), 0);
	cr_assert_eq(F.traps, 0);
	check_all();
}

Test(cpu, loads_and_stores_are_counted)
{
	uint64_t v;
	uint8_t buf[100];

	cr_assert_eq(cpu_store(&F.cpu, VA, 8, 1), 0);
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	cr_assert_eq(cpu_stores(&F.cpu), 1);
	cr_assert_eq(cpu_loads(&F.cpu), 2);
	cr_assert_eq(cpu_read(&F.cpu, VA + PAGE_SIZE - 50, buf, 100), 0);
	cr_assert_eq(cpu_loads(&F.cpu), 4, "a range counts once per page");
}

Test(cpu, check_finds_stale_tlb_entry_after_pte_change_without_invlpg)
{
	uint64_t v;
	pfn_t a = frame_alloc(), b = frame_alloc();
	pfn_t pt;
	FILE *devnull = fopen("/dev/null", "w");

	map(VA, a, PTE_RW | PTE_US);
	cr_assert_eq(cpu_store(&F.cpu, VA, 8, 1), 0);
	check_all();

	/* Point the PTE elsewhere behind the TLB's back. */
	pt = pt_for(VA, PTE_RW | PTE_US);
	pt_set(&F.ph, pt, pt_index(VA, 1), pte_mk(b, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D));
	cr_assert_eq(cpu_check(&F.cpu, devnull), 1);
	cpu_invlpg(&F.cpu, VA);
	check_all();

	/* Remove write permission without invlpg: the entry is more permissive. */
	cr_assert_eq(cpu_store(&F.cpu, VA, 8, 1), 0);
	pt_set(&F.ph, pt, pt_index(VA, 1), pte_mk(b, PTE_P | PTE_US | PTE_A | PTE_D));
	cr_assert_eq(cpu_check(&F.cpu, devnull), 1);
	cpu_invlpg(&F.cpu, VA);
	check_all();

	/* Unmap without invlpg: no present leaf. */
	cr_assert_eq(cpu_load(&F.cpu, VA, 8, &v), 0);
	pt_set(&F.ph, pt, pt_index(VA, 1), 0);
	cr_assert_eq(cpu_check(&F.cpu, devnull), 1);
	cpu_flush_tlb(&F.cpu);
	check_all();
	fclose(devnull);
}

Test(cpu, init_rejects_bad_tlb_geometry)
{
	struct cpu c;

	cr_assert_eq(cpu_init(&c, &F.ph, &F.pr, 48, 4), -1, "12 sets: not a power of two");
	cr_assert_eq(cpu_init(&c, &F.ph, NULL, 64, 4), -1);
	cr_assert_eq(cpu_init(&c, &F.ph, &F.pr, 16, 16), 0, "fully associative");
	cpu_destroy(&c);
}

/* ---- vm/pagetable.h: the software walk and the PTE helpers ---- */

TestSuite(pagetable, .init = setup, .fini = teardown);

Test(pagetable, pt_set_and_pt_get_address_one_entry)
{
	pfn_t t = frame_alloc();

	pt_set(&F.ph, t, 511, 0x1234567000ULL | PTE_P);
	cr_assert_eq(pt_get(&F.ph, t, 511), 0x1234567000ULL | PTE_P);
	cr_assert_eq(pt_get(&F.ph, t, 510), 0);
	cr_assert_eq(phys_read64(&F.ph, pfn_to_paddr(t) + 511 * 8), 0x1234567000ULL | PTE_P);
}

Test(pagetable, pt_index_and_canonical_follow_the_diagram)
{
	vaddr_t va = (3ULL << 39) | (5ULL << 30) | (7ULL << 21) | (9ULL << 12) | 0xabc;

	cr_assert_eq(pt_index(va, 4), 3);
	cr_assert_eq(pt_index(va, 3), 5);
	cr_assert_eq(pt_index(va, 2), 7);
	cr_assert_eq(pt_index(va, 1), 9);
	cr_assert(vaddr_canonical(0x00007fffffffffffULL));
	cr_assert_not(vaddr_canonical(0x0000800000000000ULL));
	cr_assert(vaddr_canonical(0xffff800000000000ULL));
}

Test(pagetable, pagewalk_reports_every_level_and_has_no_side_effects)
{
	pfn_t page = frame_alloc();
	struct walk w;
	pte_t e;

	map(VA, page, PTE_RW | PTE_US);
	F.nev = 0;
	e = pagewalk(&F.ph, F.pml4, VA + 5, &w);
	cr_assert_eq(pte_pfn(e), page);
	cr_assert(w.present);
	cr_assert_eq(w.depth, 4);
	cr_assert_eq(w.table[0], F.pml4);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(w.index[i], pt_index(VA, 4 - i));
		cr_assert_not(w.entry[i] & PTE_A, "no A set by the software walk");
	}
	cr_assert_eq(F.nev, 0);

	e = pagewalk(&F.ph, F.pml4, VA + 64 * PAGE_SIZE * 512, &w); /* another PT */
	cr_assert_eq(e, 0);
	cr_assert_not(w.present);
	cr_assert_eq(w.depth, 3, "PML4 and PDPT present, PD entry empty");
	cr_assert_eq(pagewalk(&F.ph, F.pml4, 0x0000800000000000ULL, NULL), 0);
	cr_assert_eq(pagewalk(&F.ph, PFN_NONE, VA, NULL), 0);
}

Test(pagetable, names_and_flag_strings)
{
	char buf[64];

	cr_assert_str_eq(pt_level_name(4), "PML4");
	cr_assert_str_eq(pt_level_name(3), "PDPT");
	cr_assert_str_eq(pt_level_name(2), "PD");
	cr_assert_str_eq(pt_level_name(1), "PT");
	pte_format_flags(PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D | PTE_NX, buf, sizeof(buf));
	cr_assert_str_eq(buf, "P RW US A D NX");
	pte_format_flags(0, buf, sizeof(buf));
	cr_assert_str_eq(buf, "-");
	pte_format_flags(PTE_P | PTE_SPECIAL, buf, sizeof(buf));
	cr_assert_str_eq(buf, "P SPECIAL");
	pte_format_flags(PTE_P | PTE_RW | PTE_US, buf, 5);
	cr_assert_str_eq(buf, "P RW");
	cr_assert_eq(pte_pfn(pte_mk(0x1234, PTE_P | PTE_NX)), 0x1234);
}
