/*
 * test_glibc_arena.c - glibc 2.36's arenas in the glibc policy
 * (libc/glibc_arena.c): a thread's first malloc makes an arena in a 64 MiB
 * aligned heap, whose used part grows by mprotect; a full heap gets a
 * successor and heap_trim unmaps it again; a chunk freed by another thread
 * goes back to its own arena; an ending thread puts its tcache back and its
 * arena on free_list, where the next thread finds it; M_ARENA_MAX and the
 * CPU count cap the arenas (reused_arena shares them round robin); calloc
 * in a fresh heap clears nothing it does not have to; overcommit mode 2
 * makes shrink_heap remap PROT_NONE.
 *
 * The threads here are libc's half of a thread only: a TLS block and the
 * libc_thread record, made current with libc_set_self, all in the one task
 * (the arena code reads nothing else of a thread). Real threads, with their
 * stacks and clone, are tested in test_pthread.c.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kernel_sim/proc.h"
#include "kernel_sim/syscalls.h"
#include "kernel_sim/sysctl.h"
#include "libc/glibc_malloc.h"
#include "libc/libc.h"
#include "tests/support_sim.h"
#include "vm/pagetable.h"

#define MiB  (1ULL << 20)
#define HEAP GM_HEAP_MAX_SIZE

static struct sim E;
static struct libc_thread th[16];
static unsigned nr_th;

static void boot(void)
{
	sim_boot(&E, &(struct sim_opts){.phys_bytes = 256 * MiB,
	                                .task = "test_arena",
	                                .policy = "glibc",
	                                .record = true});
	nr_th = 0;
}

static void teardown(void)
{
	glibc_malloc_release(&E.lc);
	sim_teardown(&E);
}

TestSuite(glibc_arena, .init = boot, .fini = teardown);

/* libc's half of a new thread: its TLS block in a page of its own, and the
   program marked multi-threaded (as pthread_create does). */
static struct libc_thread *fake_thread(struct libc *lc)
{
	struct libc_thread *t = &th[nr_th++];
	vaddr_t tls = libc_mmap(lc, 0, PAGE_SIZE, SIM_PROT_READ | SIM_PROT_WRITE,
	                        SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS);

	cr_assert_neq(tls, LIBC_MAP_FAILED);
	memset(t, 0, sizeof(*t));
	t->tid = 100 + (int)nr_th;
	t->task = E.t;
	t->tls = tls;
	t->next = lc->threads;
	lc->threads = t;
	libc_st32(lc, lc->data + LD_MULTIPLE_THREADS, 1);
	return t;
}

/* The thread ends: glibc's __libc_thread_freeres part of malloc. */
static void fake_exit(struct libc *lc, struct libc_thread *t)
{
	struct libc_thread **pp;

	libc_set_self(lc, t);
	lc->in_malloc++;
	glibc_thread_freeres(lc);
	lc->in_malloc--;
	libc_set_self(lc, &lc->main_thread);
	for (pp = &lc->threads; *pp != t; pp = &(*pp)->next)
		;
	*pp = t->next;
}

/* EV_CALL events of fn recorded (the first SIM_MAX_EVENTS). */
static unsigned count_events(const char *fn)
{
	unsigned n = 0;

	for (unsigned i = 0; i < E.nev; i++)
		n += E.ev[i].kind == EV_CALL && strcmp(E.ev[i].fn, fn) == 0;
	return n;
}

static unsigned arenas(struct glibc_arena_view *v, unsigned max)
{
	return glibc_arenas_view(&E.lc, v, max);
}

/* The /proc/PID/maps line that holds va, as text. */
static void maps_line(vaddr_t va, char *buf, size_t n)
{
	char *text = NULL, *line;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	proc_maps(&E.k, E.t, f);
	fclose(f);
	buf[0] = 0;
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long lo, hi;

		if (sscanf(line, "%llx-%llx", &lo, &hi) == 2 && lo <= va && va < hi)
			snprintf(buf, n, "%.30s", line);
	}
	free(text);
}

static void first_malloc(void *arg)
{
	struct libc *lc = arg;
	struct glibc_arena_view v[4];
	vaddr_t p0 = sim_xmalloc(lc, 1), p1, h;
	struct libc_thread *t = fake_thread(lc);
	char line[64], want[64];

	libc_set_self(lc, t);
	p1 = sim_xmalloc(lc, 100);
	h = p1 & ~(HEAP - 1);
	/* heap_info (0x30), malloc_state (0x898), top at 0x8d0, the tcache's
	   0x290 chunk, then the first block */
	cr_assert_eq(p1 - h, 0xb70, "first block at heap + %#llx", (unsigned long long)(p1 - h));
	cr_assert_gt(p1, p0, "the heap is mmapped, above the program's heap");
	cr_assert_eq(arenas(v, 4), 2);
	cr_assert_eq(v[1].av, h + HI_SIZEOF);
	cr_assert_eq(v[1].system_mem, 0x21000);
	cr_assert_eq(v[1].nr_heaps, 1);
	cr_assert_eq(v[1].heaps[0].heap, h);
	cr_assert_eq(v[1].attached_threads, 1);
	cr_assert_eq(v[0].attached_threads, 1);
	/* 132 KiB read-write, the rest of the 64 MiB reserved PROT_NONE */
	maps_line(h, line, sizeof(line));
	snprintf(want, sizeof(want), "%012llx-%012llx rw-p", (unsigned long long)h,
	         (unsigned long long)(h + 0x21000));
	cr_assert_str_eq(line, want);
	maps_line(h + 0x21000, line, sizeof(line));
	snprintf(want, sizeof(want), "%012llx-%012llx ---p", (unsigned long long)(h + 0x21000),
	         (unsigned long long)(h + HEAP));
	cr_assert_str_eq(line, want);
	/* the chunk carries the A bit; mallinfo2 counts the arena */
	cr_assert(libc_load_slow(lc, p1 - 8, 8) & GM_NON_MAIN_ARENA);
	libc_set_self(lc, &lc->main_thread);
}

Test(glibc_arena, a_threads_first_malloc_makes_an_arena_in_a_64_mib_aligned_heap)
{
	sim_run(&E, first_malloc);
}

static void grow_and_new_heap(void *arg)
{
	struct libc *lc = arg;
	struct libc_thread *t;
	struct glibc_arena_view v[4];
	vaddr_t p[700], h;
	unsigned n;

	sim_xmalloc(lc, 1);
	t = fake_thread(lc);
	libc_set_self(lc, t);
	/* 100000-byte blocks (below the mmap threshold) fill the heap: it grows
	   by mprotect, then a second heap is made */
	for (n = 0; n < 700; n++)
		p[n] = sim_xmalloc(lc, 100000);
	h = p[0] & ~(HEAP - 1);
	cr_assert_eq(arenas(v, 4), 2);
	cr_assert_eq(v[1].nr_heaps, 2, "heaps %u", v[1].nr_heaps);
	cr_assert_eq(v[1].heaps[1].heap, h);
	cr_assert_gt(v[1].heaps[1].size, HEAP - 100000, "the first heap is full: %#llx",
	             (unsigned long long)v[1].heaps[1].size);
	cr_assert_neq(p[699] & ~(HEAP - 1), h, "the last block is in the second heap");
	/* freeing everything gives the second heap back (heap_trim) */
	/* freeing everything keeps the second heap: the first heap's old top
	   went into the thread's tcache (sysmalloc freed it there), so the
	   chunk before the fencepost is in use for heap_trim */
	for (n = 700; n-- > 0;)
		sim_xfree(lc, p[n]);
	cr_assert_eq(arenas(v, 4), 2);
	cr_assert_eq(v[1].nr_heaps, 2);
	/* the thread ends: its tcache is freed, the old top coalesces, and
	   heap_trim unmaps the second heap */
	libc_set_self(lc, &lc->main_thread);
	fake_exit(lc, t);
	cr_assert_eq(arenas(v, 4), 2);
	cr_assert_eq(v[1].nr_heaps, 1);
	cr_assert_eq(v[1].heaps[0].heap, h);
}

Test(glibc_arena, a_full_heap_gets_a_second_and_heap_trim_unmaps_it, .timeout = 60)
{
	sim_run(&E, grow_and_new_heap);
}

static void cross_free(void *arg)
{
	struct libc *lc = arg;
	struct libc_thread *t;
	struct glibc_arena_view v[4];
	vaddr_t p, q;

	sim_xmalloc(lc, 1);
	t = fake_thread(lc);
	libc_set_self(lc, t);
	p = sim_xmalloc(lc, 2000); /* beyond the tcache's sizes */
	q = sim_xmalloc(lc, 100);
	libc_set_self(lc, &lc->main_thread);
	sim_xfree(lc, p); /* from another thread: into p's own arena */
	cr_assert_eq(arenas(v, 4), 2);
	cr_assert_eq(v[1].mi.ordblks, 2, "top and p: %llu", (unsigned long long)v[1].mi.ordblks);
	cr_assert_eq(v[0].mi.ordblks, 1);
	/* the thread gets it back */
	libc_set_self(lc, t);
	cr_assert_eq(sim_xmalloc(lc, 2000), p);
	sim_xfree(lc, q);
	libc_set_self(lc, &lc->main_thread);
}

Test(glibc_arena, a_chunk_freed_by_another_thread_goes_back_to_its_arena)
{
	sim_run(&E, cross_free);
}

static void free_list(void *arg)
{
	struct libc *lc = arg;
	struct libc_thread *t1, *t2;
	struct glibc_arena_view v[4];
	vaddr_t p1, p2, tc;

	sim_xmalloc(lc, 1);
	t1 = fake_thread(lc);
	libc_set_self(lc, t1);
	p1 = sim_xmalloc(lc, 100);
	sim_xfree(lc, p1); /* into t1's tcache */
	libc_set_self(lc, &lc->main_thread);
	fake_exit(lc, t1);
	/* the tcache went back into the arena, the arena to free_list */
	cr_assert_eq(arenas(v, 4), 2);
	cr_assert(v[1].on_free_list);
	cr_assert_eq(v[1].attached_threads, 0);
	cr_assert_eq(v[1].mi.uordblks, 0x8d0, "only the arena's header is in use: %#llx",
	             (unsigned long long)v[1].mi.uordblks);
	/* the next thread takes it: same tcache address, same first block */
	t2 = fake_thread(lc);
	libc_set_self(lc, t2);
	p2 = sim_xmalloc(lc, 100);
	cr_assert_eq(p2, p1);
	tc = libc_load_slow(lc, t2->tls + TLS_TCACHE, 8);
	cr_assert_eq(tc & 0xffff, 0x8e0);
	cr_assert_eq(arenas(v, 4), 2);
	cr_assert_not(v[1].on_free_list);
	libc_set_self(lc, &lc->main_thread);
}

Test(glibc_arena, an_ended_threads_arena_goes_to_free_list_and_the_next_thread_takes_it)
{
	sim_run(&E, free_list);
}

static void arena_max(void *arg)
{
	struct libc *lc = arg;
	struct glibc_arena_view v[4];
	struct libc_thread *t;

	cr_assert_eq(glibc_mallopt(lc, GM_M_ARENA_MAX, 2), 1);
	sim_xmalloc(lc, 1);
	for (int i = 0; i < 4; i++) {
		t = fake_thread(lc);
		libc_set_self(lc, t);
		sim_xmalloc(lc, 100);
	}
	libc_set_self(lc, &lc->main_thread);
	/* one new arena, then the two are shared round robin: main, arena 1, main */
	cr_assert_eq(arenas(v, 4), 2);
	cr_assert_eq(v[0].attached_threads, 3);
	cr_assert_eq(v[1].attached_threads, 2);
}

Test(glibc_arena, m_arena_max_caps_the_arenas_and_threads_share_them)
{
	sim_run(&E, arena_max);
}

static void cpu_limit(void *arg)
{
	struct libc *lc = arg;
	struct glibc_arena_view v[32];
	struct libc_thread *t;

	sim_xmalloc(lc, 1);
	for (int i = 0; i < 12; i++) {
		t = fake_thread(lc);
		libc_set_self(lc, t);
		sim_xmalloc(lc, 100);
	}
	libc_set_self(lc, &lc->main_thread);
	/* one CPU: 8 arenas per CPU, counted once more than arena_test (8)
	   exist, so 9 arenas in all, then sharing */
	cr_assert_eq(arenas(v, 32), 9, "%u arenas", arenas(v, 32));
}

Test(glibc_arena, one_cpu_allows_nine_arenas_as_glibc_counts_them, .timeout = 60)
{
	sim_run(&E, cpu_limit);
}

static void calloc_fresh(void *arg)
{
	struct libc *lc = arg;
	struct libc_thread *t;
	uint64_t f0;
	vaddr_t p;

	sim_xmalloc(lc, 1);
	t = fake_thread(lc);
	libc_set_self(lc, t);
	sim_xmalloc(lc, 100000);
	/* the heap grows for it (grow_heap): what was top is cleared, the
	   pages made read-write for it are fresh and stay untouched */
	f0 = E.t->min_flt;
	p = libc_calloc(lc, 1, 100000);
	cr_assert_neq(p, 0);
	/* the old top's 7 untouched pages up to the old end and the one after
	   (memset clears csz - SIZE_SZ bytes from the user pointer), and the
	   new top's header */
	cr_assert_eq(E.t->min_flt - f0, 9, "faults %llu", (unsigned long long)(E.t->min_flt - f0));
	cr_assert_not(pte_present(pagewalk(&E.k.phys, E.k.cpu.cr3, p + 90000, NULL)));
	libc_set_self(lc, &lc->main_thread);
}

Test(glibc_arena, calloc_clears_the_old_top_but_not_what_grow_heap_adds)
{
	sim_run(&E, calloc_fresh);
}

/* One thread allocates two blocks and frees the second, next to top: with
   a trim threshold of 4 KiB and no pad, heap_trim gives the pages back. */
static void shrink(void *arg)
{
	struct libc *lc = arg;
	struct libc_thread *t;
	struct glibc_arena_view v[4];
	vaddr_t q;

	sim_xmalloc(lc, 1);
	cr_assert_eq(glibc_mallopt(lc, GM_M_TRIM_THRESHOLD, 4096), 1);
	cr_assert_eq(glibc_mallopt(lc, GM_M_TOP_PAD, 0), 1);
	t = fake_thread(lc);
	libc_set_self(lc, t);
	sim_xmalloc(lc, 100000);
	q = sim_xmalloc(lc, 100000);
	cr_assert_eq(arenas(v, 4), 2);
	cr_assert_eq(v[1].heaps[0].size, 0x32000, "%#llx", (unsigned long long)v[1].heaps[0].size);
	sim_xfree(lc, q);
	libc_set_self(lc, &lc->main_thread);
}

Test(glibc_arena, shrink_heap_madvises_and_keeps_the_pages_read_write)
{
	struct glibc_arena_view v[4];

	sim_run(&E, shrink);
	cr_assert_eq(arenas(v, 4), 2);
	cr_assert_eq(v[1].heaps[0].size, 0x1a000, "%#llx", (unsigned long long)v[1].heaps[0].size);
	cr_assert_eq(v[1].heaps[0].mprotect_size, 0x32000);
	cr_assert_eq(count_events("__madvise"), 1);
}

Test(glibc_arena, overcommit_mode_2_shrinks_a_heap_with_a_fresh_prot_none_mapping)
{
	struct glibc_arena_view v[4];

	cr_assert_eq(sysctl_vm_write(&E.k, "overcommit_memory", 2), 0);
	sim_run(&E, shrink);
	cr_assert_eq(arenas(v, 4), 2);
	cr_assert_eq(v[1].heaps[0].size, 0x1a000);
	cr_assert_eq(v[1].heaps[0].mprotect_size, 0x1a000);
	cr_assert_eq(count_events("__madvise"), 0);
	cr_assert_eq(count_events("__x64_sys_openat"), 1, "overcommit_memory is read once");
}
