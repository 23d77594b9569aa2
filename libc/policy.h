/*
 * policy.h - the malloc policy interface of aftermalloc: what a malloc
 * implementation that runs inside the simulated process is given, and what
 * it must provide. The built-in policies (seed, firstfit, nextfit, bestfit,
 * glibc, best) are written against it, and so is a policy of one's own built
 * as a shared object and loaded with `--malloc ./policy.so`. `make install`
 * puts this file in PREFIX/include/aftermalloc/ (pkg-config: aftermalloc).
 *
 * The rules are those of a real allocator in a real process:
 *  - Memory is simulated memory, at simulated virtual addresses (vaddr_t:
 *    a plain 64-bit number, never a host pointer). It is reached only through
 *    the loads and stores below, each a user-mode access of the simulated
 *    CPU: TLB, page walk, page fault, demand paging, exactly as a real
 *    program's. Every header, footer and free-list link the allocator keeps
 *    lives there, so writing it can fault and costs TLB misses.
 *  - The kernel is reached only through the system-call wrappers below
 *    (brk, sbrk, mmap, munmap), with glibc 2.36's semantics.
 *  - The allocator's roots (a free-list head, an arena) belong in the
 *    program's static data: libc_static_alloc carves them from the bss.
 *    Host-side state is for statistics and for what a real allocator keeps
 *    in registers.
 *  - When the simulated process dies (a store to an address that is not
 *    mapped: SIGSEGV; libc_malloc_printerr: SIGABRT; RLIMIT_CPU: SIGXCPU) the
 *    call in progress never returns: the kernel ends the process, and the
 *    tool reports it as the real kernel would.
 *
 * A policy of one's own in the CS:APP malloc-lab shape (mm_init, mm_malloc,
 * mm_free, mm_realloc over mem_sbrk) uses memlib.h instead, an adapter over
 * this interface.
 */
#ifndef AFTERMALLOC_POLICY_H
#define AFTERMALLOC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The version of this interface a policy is built against (a plugin's
   aftermalloc_policy_abi must equal the running tool's). */
#define AFTERMALLOC_POLICY_ABI 1

typedef uint64_t vaddr_t; /* a simulated virtual address (0 is NULL) */

/* The simulated process's C library: opaque, passed to every call. */
struct libc;

/* What a heap walk reports for each block (`show heap`, the viewer, checkers). */
struct chunk_info {
	vaddr_t chunk; /* start of the block including its header */
	uint64_t size; /* whole block size in bytes */
	vaddr_t user;  /* pointer malloc returned / would return */
	bool in_use;
	bool mmapped;
	bool top;          /* glibc's top chunk / wilderness */
	const char *where; /* "tcache[3]", "fastbin[1]", "unsorted", "smallbin[5]",
	                      "largebin[64]", "free list", "top", "in use", ... */
	uint64_t flags;    /* the policy's raw flag bits (glibc: P M A) */
	unsigned arena;    /* glibc: its arena, numbered as malloc_stats does (0 the
	                      main one; mmapped chunks say 0); 0 for other policies */
};

typedef void (*chunk_cb_t)(void *ctx, const struct chunk_info *ci);

/*
 * A malloc policy. Every function runs in the simulated process, with the
 * malloc family's generic cases already handled by the dispatch: free never
 * sees NULL; realloc never sees a NULL pointer or a size of 0
 * (realloc(NULL, n) is malloc(n), realloc(p, 0) is free(p)); calloc's
 * nmemb * size has not overflowed. Returning 0 (NULL) from malloc, calloc,
 * realloc or memalign sets errno to ENOMEM.
 */
struct malloc_ops {
	const char *name;        /* "seed", "firstfit", ..., or a plugin's own */
	const char *description; /* one line */
	/* Bind to a new process. Host-side setup only (may call
	   libc_static_alloc): the policy first touches memory in its first call. */
	void (*init)(struct libc *lc);
	vaddr_t (*malloc)(struct libc *lc, uint64_t n);
	void (*free)(struct libc *lc, vaddr_t p);
	vaddr_t (*realloc)(struct libc *lc, vaddr_t p, uint64_t n);
	/* NULL: malloc, then clear every byte. */
	vaddr_t (*calloc)(struct libc *lc, uint64_t nmemb, uint64_t size);
	/* NULL: alignments up to 16 from malloc, larger ones refused (ENOMEM). */
	vaddr_t (*memalign)(struct libc *lc, uint64_t align, uint64_t n);
	/* NULL: malloc_usable_size reports 0. */
	uint64_t (*usable_size)(struct libc *lc, vaddr_t p);
	/* Walk every block in address order (mmapped chunks after the heap).
	   Reads with libc_peek64 only (no fault, no event: the front ends call
	   it while the program is paused). May be NULL. */
	void (*walk)(struct libc *lc, chunk_cb_t cb, void *ctx);
	/* mm_checkheap: the number of broken invariants, the first reported on
	   err (a line). Reads with libc_peek64 only. May be NULL. */
	int (*check)(struct libc *lc, FILE *err);
	/* Release the policy's host-side state; runs no simulated code (the
	   process is gone or going). May be NULL. */
	void (*fini)(struct libc *lc);
};

/* ---- memory: loads and stores of the simulated CPU ----------------------- */

/* Each is one user-mode access through the MMU (little-endian, any
   alignment). A fatal fault kills the process: the call never returns. */
uint8_t libc_ld8(struct libc *lc, vaddr_t va);
void libc_st8(struct libc *lc, vaddr_t va, uint8_t v);
uint16_t libc_ld16(struct libc *lc, vaddr_t va);
void libc_st16(struct libc *lc, vaddr_t va, uint16_t v);
#ifndef AFTERMALLOC_INLINE_ACCESS /* (the tool's own policies have them inline) */
uint32_t libc_ld32(struct libc *lc, vaddr_t va);
void libc_st32(struct libc *lc, vaddr_t va, uint32_t v);
uint64_t libc_ld64(struct libc *lc, vaddr_t va);
void libc_st64(struct libc *lc, vaddr_t va, uint64_t v);
#endif
/* Ranges: one translation per page touched. memcpy has memmove's semantics. */
void libc_memset(struct libc *lc, vaddr_t va, uint8_t byte, uint64_t n);
void libc_memcpy(struct libc *lc, vaddr_t dst, vaddr_t src, uint64_t n);
/* Between simulated memory and a host buffer (a program's own data). */
void libc_read(struct libc *lc, void *dst, vaddr_t src, uint64_t n);
void libc_write(struct libc *lc, vaddr_t dst, const void *src, uint64_t n);

/*
 * The checkers' side door: read by walking the page tables, with no fault,
 * no Accessed bit, no TLB fill and no event, so that walking or checking the
 * heap changes nothing the tool measures. false when a byte of the range is
 * not mapped (a finding, not a crash).
 */
bool libc_peek64(struct libc *lc, vaddr_t va, uint64_t *v);
bool libc_peek(struct libc *lc, vaddr_t va, void *buf, uint64_t n);

/* ---- the kernel: glibc 2.36's system-call wrappers ------------------------- */

int libc_brk(struct libc *lc, vaddr_t addr);     /* 0, or -1 and errno ENOMEM */
vaddr_t libc_sbrk(struct libc *lc, int64_t inc); /* old break, or (vaddr_t)-1 */
/* Anonymous private mappings only (the flags must hold MAP_PRIVATE |
   MAP_ANONYMOUS; Linux's values: PROT_READ 1, PROT_WRITE 2, MAP_PRIVATE 2,
   MAP_FIXED 0x10, MAP_ANONYMOUS 0x20). The address, or LIBC_MAP_FAILED. */
vaddr_t libc_mmap(struct libc *lc, vaddr_t addr, uint64_t len, int prot, int flags);
int libc_munmap(struct libc *lc, vaddr_t addr, uint64_t len); /* 0, or -1 */
/* mprotect(2), madvise(2): 0, or -1 and errno. */
int libc_mprotect(struct libc *lc, vaddr_t addr, uint64_t len, int prot);
int libc_madvise(struct libc *lc, vaddr_t addr, uint64_t len, int advice);
/* mremap(2) without a new address: the new address, or LIBC_MAP_FAILED and errno. */
vaddr_t libc_mremap(struct libc *lc, vaddr_t addr, uint64_t old_len, uint64_t new_len, int flags);
#define LIBC_MAP_FAILED ((vaddr_t)-1)

/* The program break as the process last learned it (glibc's __curbrk; 0
   before the first brk or sbrk), and the first break it learned: the start
   of the heap (0 likewise). No system call. */
vaddr_t libc_curbrk(const struct libc *lc);
vaddr_t libc_start_brk(const struct libc *lc);

/* The simulated errno (ENOMEM 12, EINVAL 22). */
int libc_errno(const struct libc *lc);

/* ---- the program ---------------------------------------------------------- */

/* n bytes (16-aligned) of the program's bss, for the allocator's roots: a
   link-time address, so the policy may keep it host-side. Zero until
   written; the bss is already mapped (the C start-up wrote it). */
vaddr_t libc_static_alloc(struct libc *lc, uint64_t n);

/* glibc's malloc_printerr: "MSG\n" to the process's fd 2, then abort():
   SIGABRT, the process dies, the call never returns. */
_Noreturn void libc_malloc_printerr(struct libc *lc, const char *msg);

/* A plugin's host-side data (NULL until set): statistics, configuration. */
void *libc_policy_data(const struct libc *lc);
void libc_set_policy_data(struct libc *lc, void *data);

/*
 * A policy of one's own, built as a shared object, exports its ops and the
 * interface version it was built against:
 *
 *     static const struct malloc_ops my_ops = { .name = "mine", ... };
 *     AFTERMALLOC_POLICY(my_ops)
 */
#define AFTERMALLOC_POLICY(ops)                                                                    \
	const struct malloc_ops *const aftermalloc_policy = &(ops);                                \
	const int aftermalloc_policy_abi = AFTERMALLOC_POLICY_ABI;

#endif
