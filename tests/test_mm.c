/*
 * test_mm.c - the VMA array of an mm_struct (kernel_sim/mm.c): find_vma and
 * friends against a linear scan, insertion and removal keeping the order,
 * vm_stat_account's categories, the stack guard gap, and mm_check catching
 * each broken invariant. mm_check runs after every operation.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_sim/mm.h"
#include "vm/pagetable.h"
#include "vm/panic.h"

static struct mm_struct mm;

static void check(void)
{
	cr_assert_eq(mm_check(&mm, stderr), 0, "mm_check failed");
}

static void setup(void)
{
	mm_init(&mm);
	check();
}

static void teardown(void)
{
	mm_destroy(&mm);
}

#define RW    (VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE)
#define RX    (VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYEXEC)
#define PG(n) ((vaddr_t)(n)*PAGE_SIZE)

TestSuite(mm, .init = setup, .fini = teardown);

Test(mm, empty_mm_has_no_vma)
{
	cr_assert_null(find_vma(&mm, 0));
	cr_assert_null(vma_lookup(&mm, 0x1000));
	cr_assert_eq(mm.pgd, PFN_NONE);
	cr_assert_eq(mm.total_vm, 0);
}

Test(mm, find_vma_returns_the_first_vma_ending_above_addr)
{
	vma_insert(&mm, PG(10), PG(20), RW, VMA_ANON);
	check();
	vma_insert(&mm, PG(30), PG(40), RW, VMA_ANON);
	check();
	cr_assert_eq(find_vma(&mm, 0)->vm_start, PG(10));
	cr_assert_eq(find_vma(&mm, PG(10))->vm_start, PG(10));
	cr_assert_eq(find_vma(&mm, PG(20) - 1)->vm_start, PG(10));
	cr_assert_eq(find_vma(&mm, PG(20))->vm_start, PG(30), "vm_end is exclusive");
	cr_assert_eq(find_vma(&mm, PG(40) - 1)->vm_start, PG(30));
	cr_assert_null(find_vma(&mm, PG(40)));
}

Test(mm, vma_lookup_finds_only_the_containing_vma)
{
	vma_insert(&mm, PG(10), PG(20), RW, VMA_ANON);
	check();
	cr_assert_null(vma_lookup(&mm, PG(9)));
	cr_assert_not_null(vma_lookup(&mm, PG(10)));
	cr_assert_not_null(vma_lookup(&mm, PG(20) - 1));
	cr_assert_null(vma_lookup(&mm, PG(20)));
}

Test(mm, insertion_in_any_order_keeps_the_array_sorted_and_agrees_with_a_scan)
{
	enum { N = 300 };
	unsigned order[N];

	/* a permutation of N slots, 3 pages apart, each VMA 2 pages */
	for (unsigned i = 0; i < N; i++)
		order[i] = i;
	srand(7);
	for (unsigned i = N - 1; i > 0; i--) {
		unsigned j = (unsigned)rand() % (i + 1), x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	for (unsigned i = 0; i < N; i++) {
		vma_insert(&mm, PG(100 + 3 * order[i]), PG(102 + 3 * order[i]), RW, VMA_ANON);
		check();
	}
	cr_assert_eq(mm.nr_vmas, N);
	cr_assert_eq(mm.total_vm, 2 * N);
	for (vaddr_t a = PG(99); a < PG(100 + 3 * N + 1); a += PAGE_SIZE / 2) {
		const struct vm_area_struct *want = NULL;

		for (size_t i = 0; i < mm.nr_vmas; i++)
			if (mm.vmas[i].vm_end > a) {
				want = &mm.vmas[i];
				break;
			}
		cr_assert_eq(find_vma(&mm, a), want, "addr %#llx", (unsigned long long)a);
	}
}

/* The first VMA ending above a, by a scan of the array. */
static const struct vm_area_struct *scan_find(vaddr_t a)
{
	for (size_t i = 0; i < mm.nr_vmas; i++)
		if (mm.vmas[i].vm_end > a)
			return &mm.vmas[i];
	return NULL;
}

Test(mm, find_vma_agrees_with_a_scan_whatever_its_cache_holds)
{
	/* find_vma tries the VMA it found last first (mm->vmacache): inserting
	   and removing VMAs below it moves the array under that index. */
	vma_insert(&mm, PG(10), PG(20), RW, VMA_ANON);
	vma_insert(&mm, PG(30), PG(40), RW, VMA_ANON);
	vma_insert(&mm, PG(50), PG(60), RW, VMA_ANON);
	for (int round = 0; round < 4; round++) {
		for (vaddr_t a = 0; a < PG(70); a += PAGE_SIZE / 2) {
			/* after each address, ask again from each VMA last found */
			for (vaddr_t b = PG(15); b < PG(70); b += PG(20)) {
				find_vma(&mm, b);
				cr_assert_eq(find_vma(&mm, a), scan_find(a), "round %d addr %#llx after %#llx",
				             round, (unsigned long long)a, (unsigned long long)b);
			}
		}
		if (round == 0)
			vma_remove(&mm, find_vma(&mm, PG(10))); /* the cached index now names 30-40 */
		else if (round == 1)
			vma_insert(&mm, PG(0) + PAGE_SIZE, PG(5), RW, VMA_ANON); /* shifts every index up */
		else if (round == 2)
			vma_set_range(&mm, find_vma(&mm, PG(50)), PG(45), PG(60)); /* grows under the cache */
		check();
	}
	cr_assert_eq(find_vma(&mm, PG(46))->vm_start, PG(45));
	cr_assert_null(find_vma(&mm, PG(60)));
}

Test(mm, vma_prev_walks_backwards)
{
	struct vm_area_struct *v;

	vma_insert(&mm, PG(30), PG(40), RW, VMA_ANON);
	vma_insert(&mm, PG(10), PG(20), RW, VMA_ANON);
	check();
	v = vma_lookup(&mm, PG(30));
	cr_assert_eq(vma_prev(&mm, v)->vm_start, PG(10));
	cr_assert_null(vma_prev(&mm, vma_prev(&mm, v)));
}

Test(mm, stat_accounting_follows_vm_stat_account)
{
	struct vm_area_struct *v;

	vma_insert(&mm, PG(10), PG(12), RX, VMA_TEXT);              /* exec */
	vma_insert(&mm, PG(12), PG(15), RW | VM_ACCOUNT, VMA_DATA); /* data */
	vma_insert(&mm, PG(100), PG(133), RW | VM_GROWSDOWN, VMA_STACK);
	vma_insert(&mm, PG(50), PG(54), VM_READ, VMA_ANON); /* read-only: total only */
	check();
	cr_assert_eq(mm.total_vm, 2 + 3 + 33 + 4);
	cr_assert_eq(mm.exec_vm, 2);
	cr_assert_eq(mm.data_vm, 3);
	cr_assert_eq(mm.stack_vm, 33);
	v = vma_lookup(&mm, PG(12));
	vma_remove(&mm, v);
	check();
	cr_assert_eq(mm.data_vm, 0);
	cr_assert_eq(mm.total_vm, 2 + 33 + 4);
	cr_assert_eq(mm.hiwater_vm, 2 + 3 + 33 + 4, "the peak stays");
}

Test(mm, vma_set_range_grows_and_shrinks_with_accounting)
{
	struct vm_area_struct *v = vma_insert(&mm, PG(10), PG(11), RW, VMA_ANON);

	vma_insert(&mm, PG(40), PG(41), RW, VMA_ANON);
	check();
	v = vma_lookup(&mm, PG(10));
	vma_set_range(&mm, v, PG(10), PG(40));
	check();
	cr_assert_eq(mm.data_vm, 31);
	vma_set_range(&mm, v, PG(20), PG(25));
	check();
	cr_assert_eq(mm.data_vm, 6);
	cr_assert_eq(find_vma(&mm, PG(10))->vm_start, PG(20));
}

Test(mm, vm_start_gap_lowers_only_a_growsdown_vma)
{
	struct vm_area_struct *s =
	    vma_insert(&mm, PG(1000), PG(1033), RW | VM_GROWSDOWN, VMA_STACK);

	cr_assert_eq(vm_start_gap(s), PG(1000 - 256));
	s = vma_insert(&mm, PG(10), PG(20), RW, VMA_ANON);
	cr_assert_eq(vm_start_gap(s), PG(10));
	s = vma_insert(&mm, PG(100), PG(101), RW | VM_GROWSDOWN, VMA_STACK);
	cr_assert_eq(vm_start_gap(s), 0, "saturates at 0");
	check();
}

Test(mm_death, overlapping_insert_is_a_simulator_bug, .signal = SIGABRT)
{
	mm_init(&mm);
	vma_insert(&mm, PG(10), PG(20), RW, VMA_ANON);
	vma_insert(&mm, PG(19), PG(21), RW, VMA_ANON);
}

Test(mm_death, unaligned_insert_is_a_simulator_bug, .signal = SIGABRT)
{
	mm_init(&mm);
	vma_insert(&mm, PG(10) + 1, PG(20), RW, VMA_ANON);
}

Test(mm, heap_vmas_must_lie_between_start_brk_and_brk)
{
	mm.start_brk = mm.brk = PG(50);
	check();
	vma_insert(&mm, PG(50), PG(51), RW, VMA_HEAP);
	cr_assert_gt(mm_check(&mm, NULL), 0, "heap beyond PAGE_ALIGN(brk)");
	mm.brk = PG(50) + 10;
	check();
	mm.brk = PG(49);
	cr_assert_gt(mm_check(&mm, NULL), 0, "brk below start_brk");
	/* munmap may punch a hole: two heap VMAs below the break are fine. */
	mm.brk = PG(54);
	vma_insert(&mm, PG(52), PG(54), RW, VMA_HEAP);
	check();
	vma_insert(&mm, PG(60), PG(61), RW, VMA_HEAP);
	cr_assert_gt(mm_check(&mm, NULL), 0, "a heap VMA above the break");
}

Test(mm, mm_check_catches_broken_counters_and_order)
{
	struct vm_area_struct tmp;

	vma_insert(&mm, PG(10), PG(20), RW, VMA_ANON);
	vma_insert(&mm, PG(30), PG(40), RW, VMA_ANON);
	check();
	mm.data_vm++;
	cr_assert_eq(mm_check(&mm, NULL), 1);
	mm.data_vm--;
	mm.total_vm--;
	cr_assert_gt(mm_check(&mm, NULL), 0);
	mm.total_vm++;
	check();
	tmp = mm.vmas[0];
	mm.vmas[0] = mm.vmas[1];
	mm.vmas[1] = tmp;
	cr_assert_gt(mm_check(&mm, NULL), 0, "out of order");
	mm.vmas[1] = mm.vmas[0];
	mm.vmas[0] = tmp;
	check();
	mm.vmas[1].vm_end = USER_VA_END + PAGE_SIZE;
	cr_assert_gt(mm_check(&mm, NULL), 0, "beyond user space");
	mm.vmas[1].vm_end = PG(40);
	mm.vmas[1].vm_start += 1;
	cr_assert_gt(mm_check(&mm, NULL), 0, "unaligned");
	mm.vmas[1].vm_start -= 1;
	check();
}

Test(mm, dump_names_every_vma)
{
	char buf[1024] = {0};
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	vma_insert(&mm, PG(10), PG(20), RX, VMA_TEXT);
	vma_insert(&mm, PG(100), PG(120), RW | VM_GROWSDOWN, VMA_STACK);
	mm_dump(&mm, f);
	fclose(f);
	cr_assert(strstr(buf, "r-x text") != NULL, "%s", buf);
	cr_assert(strstr(buf, "rw- growsdown stack") != NULL, "%s", buf);
}

/* GROW_ARRAY (vm/panic.h), under the VMA array and every other growing host array. */
Test(grow_array, doubles_from_the_first_size_and_keeps_the_elements)
{
	uint64_t *a = NULL;
	size_t n = 0, cap = 0;

	for (uint64_t i = 0; i < 100; i++) {
		if (n == cap)
			GROW_ARRAY(a, cap, 8);
		a[n++] = i * i;
	}
	cr_assert_eq(cap, 128, "8, 16, 32, 64, 128");
	for (uint64_t i = 0; i < 100; i++)
		cr_assert_eq(a[i], i * i);
	free(a);
}

/* The host refusing memory ends the command with status 2 (vm/panic.h,
   host_oom), as wherever it happens; it was a panic (SIGABRT). */
Test(grow_array, a_size_the_host_cannot_give_ends_with_status_2, .exit_code = 2)
{
	char *a = NULL;
	size_t cap = SIZE_MAX / 2 + 1; /* doubling overflows: no realloc can be asked */

	GROW_ARRAY(a, cap, 8);
}
