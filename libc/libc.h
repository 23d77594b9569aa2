/*
 * libc.h - user space of the simulated process: glibc's syscall wrappers and
 * the malloc family, over simulated memory.
 *
 * This layer reaches the kernel only through kernel_sim/syscalls.h and memory
 * only through the CPU's loads and stores (vm/cpu.h), exactly as a real
 * program. Every header, footer and free-list link an allocator keeps lives
 * in simulated memory; its roots (glibc's main_arena, a free-list head) live
 * in the program's static data, carved from the bss with libc_static_alloc,
 * as in a statically linked program. Host-side state is allowed only for
 * statistics and for configuration that a real allocator keeps in registers.
 *
 * When the simulated process dies (SIGSEGV on a wild access, SIGABRT from a
 * heap-corruption check, SIGXCPU from a loop a corrupted heap made endless:
 * libc_step) the call never returns: the kernel unwinds to task_run. So
 * callers must run these inside task_run.
 */
#ifndef LIBC_LIBC_H
#define LIBC_LIBC_H

#include <stdio.h>

#include "../kernel_sim/task.h"
#include "../vm/panic.h"
#include "../vm/types.h"

/* struct malloc_ops, struct chunk_info, the loads and stores, the syscall
   wrappers, libc_static_alloc, libc_peek64, libc_malloc_printerr: the policy
   interface, public (installed as aftermalloc/policy.h). The 32- and 64-bit
   loads and stores are inline here, for the built-in policies; plugins call
   their out-of-line twins (libc/policy.c). */
#define AFTERMALLOC_INLINE_ACCESS 1
#include "policy.h"

/*
 * A thread of the simulated program as libc knows it: the host-side half of
 * glibc's struct pthread. Its TLS block holds the malloc policy's __thread
 * variables (LIBC_TLS_SIZE bytes, zero at the start): in the bss for the
 * main thread (a static program's initial TLS block), below the struct
 * pthread at the top of the thread's stack for the others (pthread.c).
 */
#define LIBC_TLS_SIZE 64
#define LIBC_MAX_TUNABLES 16

struct libc_thread {
	int tid;               /* the kernel's id of its task */
	struct task *task;     /* its task (NULL once it exited) */
	vaddr_t tls;           /* its static TLS block */
	vaddr_t pd;            /* its struct pthread (0: the main thread's is not modelled) */
	vaddr_t stackblock;    /* its stack mapping, guard included (0: the main thread) */
	uint64_t stackblock_size, guardsize;
	vaddr_t dtv;           /* the DTV its creation calloc'd (_dl_allocate_tls) */
	int errno_;            /* its errno while another thread runs */
	bool exited;           /* its start routine returned: it waits to be joined */
	struct libc_thread *next; /* lc->threads, newest first */
};

struct libc_stats {
	uint64_t brk_calls, mmap_calls, munmap_calls; /* system calls made */
	uint64_t mmapped_bytes;                       /* bytes mapped by the allocator now */
	uint64_t max_mmapped_bytes;
};

struct libc {
	struct kernel *k; /* syscalls only */
	struct cpu *cpu;  /* loads and stores only */
	const struct malloc_ops *ops;
	vaddr_t curbrk; /* glibc's __curbrk; 0 until the first __brk */
	int errno_;     /* the simulated errno */
	vaddr_t static_base, static_end, static_next; /* bss space for allocator roots */
	struct libc_stats st;
	void *priv; /* host-side statistics of the policy, if any */
	/* Added by libc.c: */
	vaddr_t roots;      /* the policy's static data (its roots in the bss), as
	                       its init got it from libc_static_alloc: a link-time
	                       address, so it may be kept host-side */
	struct task *task;  /* the process bound by libc_init (host-side, for
	                       libc_footprint's statistic only) */
	vaddr_t start_brk;  /* the first break __brk learned (libc_start_brk) */
	unsigned in_malloc; /* > 0 while a libc_malloc-family call runs: mmap and
	                       munmap made then are the allocator's and are counted
	                       in st.mmapped_bytes by libc_mmap/libc_munmap
	                       themselves (policies must not count them again) */
	unsigned uncounted; /* > 0: mmap/munmap made now inside the malloc family are
	                       not counted in st.mmapped_bytes (glibc's heap
	                       reservations: it counts their used part itself,
	                       libc_count_mapped) */
	/* The process's GLIBC_TUNABLES (environment: host-side configuration),
	   in the order given; set after libc_init, read by the glibc policy's
	   ptmalloc_init (glibc_tunables_parse validates them). */
	struct libc_tunable {
		char name[40];
		uint64_t value;
	} tunables[LIBC_MAX_TUNABLES];
	unsigned nr_tunables;
	vaddr_t data; /* libc's own static data in the bss (LD_* offsets) */
	struct libc_thread main_thread;
	struct libc_thread *self;    /* the thread running now (libc_set_self) */
	struct libc_thread *threads; /* every thread not yet joined, main_thread last */
	void *stack_cache;           /* pthread.c's cache of stacks (host-side list) */
	uint64_t stack_cache_size;   /* bytes of stack it holds (dl_stack_cache_actsize) */
	uint64_t stacksize;          /* a new thread's stack, guard excluded (__default_pthread_attr) */
	bool fork_multiple_threads;  /* the last fork found threads (posix/fork.c's
	                                multiple_threads, which both sides keep) */
};

/* libc's own statics, at lc->data: glibc's __libc_multiple_threads (0 until
   the first pthread_create; glibc 2.36's __libc_single_threaded says the
   same, the other way round) and the main thread's TLS block. */
#define LD_MULTIPLE_THREADS 0
#define LD_MAIN_TLS         16
#define LD_SIZEOF           (LD_MAIN_TLS + LIBC_TLS_SIZE)

/* The running thread's TLS block (the policy's __thread variables). */
static inline vaddr_t libc_tls(const struct libc *lc)
{
	return lc->self->tls;
}

/* Make t the running thread: its errno becomes lc->errno_. Runs no
   simulated code: whoever switches tasks (the session, replay) calls it. */
void libc_set_self(struct libc *lc, struct libc_thread *t);

/* The policies, by name; NULL when unknown. */
const struct malloc_ops *malloc_policy(const char *name);
/* NULL-terminated list of all policies, in the order of DESIGN.md. */
extern const struct malloc_ops *const malloc_policies[];

/* Bind to the current task of k, with policy ops. Runs no simulated code. */
void libc_init(struct libc *lc, struct kernel *k, const struct malloc_ops *ops);
/* Release what the policy keeps on the host (ops->fini) and the host memory of
   the thread records and cached stacks (pthread.c). Runs no simulated code. */
void libc_fini(struct libc *lc);

/* The malloc family, dispatched to the policy, with malloc/free events
   (fn "malloc", "free", "calloc", "realloc", "posix_memalign", LAYER_LIBC).
   The dispatch handles free(NULL), realloc(NULL, n) = malloc(n), realloc(p, 0)
   = free(p) and NULL, calloc's nmemb*size overflow, errno ENOMEM on NULL; a
   NULL ops->calloc means malloc + clear, a NULL ops->memalign serves
   alignments <= 16 with malloc and refuses larger ones (ENOMEM). */
vaddr_t libc_malloc(struct libc *lc, uint64_t n);
void libc_free(struct libc *lc, vaddr_t p);
vaddr_t libc_calloc(struct libc *lc, uint64_t nmemb, uint64_t size);
vaddr_t libc_realloc(struct libc *lc, vaddr_t p, uint64_t n);
int libc_posix_memalign(struct libc *lc, vaddr_t *out, uint64_t align, uint64_t n);
vaddr_t libc_memalign(struct libc *lc, uint64_t align, uint64_t n); /* 0 and ENOMEM */
uint64_t libc_malloc_usable_size(struct libc *lc, vaddr_t p);

/*
 * Memory access for allocator code: through the MMU (faults, TLB). Never
 * return on a fatal fault (task_run unwinds). Inline: the allocators' every
 * header, link and count goes through them. The CPU's inline path needs no
 * mode (it hits only user pages, which either mode may use); the rest goes
 * out of line, where the access is made as a user-mode instruction.
 */
uint64_t libc_load_slow(struct libc *lc, vaddr_t va, unsigned size);
void libc_store_slow(struct libc *lc, vaddr_t va, unsigned size, uint64_t v);

static inline uint64_t libc_ld64(struct libc *lc, vaddr_t va)
{
	uint64_t v;

	return cpu_load_fast(lc->cpu, va, 8, &v) ? v : libc_load_slow(lc, va, 8);
}

static inline void libc_st64(struct libc *lc, vaddr_t va, uint64_t v)
{
	if (!cpu_store_fast(lc->cpu, va, 8, v))
		libc_store_slow(lc, va, 8, v);
}

static inline uint32_t libc_ld32(struct libc *lc, vaddr_t va)
{
	uint64_t v;

	return (uint32_t)(cpu_load_fast(lc->cpu, va, 4, &v) ? v : libc_load_slow(lc, va, 4));
}

static inline void libc_st32(struct libc *lc, vaddr_t va, uint32_t v)
{
	if (!cpu_store_fast(lc->cpu, va, 4, v))
		libc_store_slow(lc, va, 4, v);
}

/*
 * One iteration of an allocator loop whose end depends on data the program
 * can corrupt: charges one step of CPU time (account_user_time). A corrupted
 * heap can make such a loop endless, as on real hardware; RLIMIT_CPU then
 * ends the process with SIGXCPU (SIGKILL at the hard limit) and the call
 * never returns. Every such loop of every policy charges each iteration:
 * with libc_walk_step when it writes no memory, else with libc_step. Loops
 * bounded by constants (bin counts, tcache_count) need not. Inline, and
 * nothing but a count and a compare: the hot loops of seed and the free
 * lists run through them.
 */
static inline void libc_step(struct libc *lc)
{
	if (__builtin_expect(!account_user_time(lc->k, 1), 0))
		panic("killed for CPU time outside task_run");
}

/*
 * A loop that only reads (first fit over blocks or a free list, a bin's skip
 * list) and comes back to a position pos it held, with memory unchanged,
 * goes round forever. A walk longer than LIBC_WALK_QUIET steps, more than
 * any heap of the traces needs, is watched: Brent's cycle finding on pos
 * sees a cycle within two rounds of it, and the CPU time until the soft
 * limit is then charged at once (account_user_time_to_limit): the same kill
 * at the same charge as spinning, without the host spinning. The common
 * step is libc_step's count and compare, against the walk's own deadline
 * (the soft limit or the end of the quiet part). Zero w before the loop.
 */
#define LIBC_WALK_QUIET (1ULL << 20)

struct libc_walk {
	uint64_t until; /* the charge at which libc_walk_slow runs (0: at once) */
	uint64_t start; /* the charge when the walk began */
	vaddr_t saved;  /* Brent's tortoise: the position at the last power of two */
	uint64_t power; /* steps between two updates of saved (0: not watched yet) */
	uint64_t lam;   /* steps since saved was updated */
};
void libc_walk_slow(struct libc *lc, struct libc_walk *w, vaddr_t pos);

static inline void libc_walk_step(struct libc *lc, struct libc_walk *w, vaddr_t pos)
{
	if (__builtin_expect(account_user_step(lc->k) >= w->until, 0))
		libc_walk_slow(lc, w, pos);
}

/* libc_peek for a walk of many reads while the program stands still (a
   heap walk or check): the last page's translation is kept in *c. Zero *c
   before the walk; it is stale once the program runs again. */
struct libc_peek_cache {
	vaddr_t vpn;
	pfn_t pfn;
	bool valid;
};
bool libc_peek_cached(struct libc *lc, struct libc_peek_cache *c, vaddr_t va, void *buf,
                      uint64_t n);

/*
 * Run fn(lc, ctx), a reader made of side-door reads (libc_peek: a heap
 * walk, glibc_arenas_view), on the memory of the address space whose
 * page-table root is pgd rather than the one the CPU has loaded: a front
 * end shows one process while another runs (after fork, the parent's
 * libc reads the parent's copy of the heap, not the child's). Nothing
 * runs in the simulated program and nothing is left changed: the CPU's
 * CR3 is the same after the call, and no TLB entry or event is made.
 */
void libc_peek_in(struct libc *lc, pfn_t pgd, void (*fn)(struct libc *lc, void *ctx), void *ctx);

/* Count delta bytes more (or fewer) in st.mmapped_bytes: memory of an
   uncounted mapping that the allocator starts or stops using. */
void libc_count_mapped(struct libc *lc, int64_t delta);

/* glibc's __get_nprocs (sysdeps/unix/sysv/linux/getsysstats.c): the CPUs in
   /sys/devices/system/cpu/online, read with openat/read/close; 2 when that
   file cannot be read (glibc then tries /proc/stat and sched_getaffinity,
   which the model has not: its last resort is 2). */
int libc_get_nprocs(struct libc *lc);
/* open, read up to n - 1 bytes (NUL-terminated), close: the byte count, or
   -1 with errno. */
int64_t libc_read_file(struct libc *lc, const char *path, char *buf, size_t n);

/* Heap footprint as DESIGN.md defines it: (brk - start_brk) + mmapped bytes. */
uint64_t libc_footprint(struct libc *lc);

#endif
