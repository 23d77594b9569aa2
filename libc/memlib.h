/*
 * memlib.h - your own allocator inside aftermalloc's simulated process, in
 * the shape of the CS:APP malloc lab (Bryant and O'Hallaron, Computer
 * Systems: A Programmer's Perspective, 3e, 9.9 and the lab's mm.h and
 * memlib.h). `make install` puts it in PREFIX/include/aftermalloc/.
 *
 * You write mm.c as for the lab's mdriver:
 *
 *     #include <aftermalloc/memlib.h>
 *     int mm_init(void);                       required
 *     void *mm_malloc(size_t size);            required
 *     void mm_free(void *ptr);                 required
 *     void *mm_realloc(void *ptr, size_t size);  required
 *     void *mm_calloc(size_t nmemb, size_t size);  optional (else malloc + clear)
 *     bool mm_checkheap(int lineno);           optional: true when consistent
 *     void mm_walk(mm_visit_t visit, void *arg);  optional: each block, in
 *                                              address order (`show heap`, the viewer)
 *
 * and `aftermalloc lab mm.c -t demos/traces/malloclab` compiles it, runs the
 * traces in a simulated process and reports utilization and throughput as
 * mdriver does, plus what your allocator cost the kernel: page faults,
 * frames, brk and mmap calls, TLB misses. `--malloc ./mm.so` runs it under
 * `run`, `step`, `view` and `replay`. Build mm.so yourself with
 *     cc -O2 -fPIC -shared $(pkg-config --cflags aftermalloc) mm.c -o mm.so
 *
 * The one difference from the lab: the heap is the simulated process's
 * memory, not yours. A pointer to it (what mem_sbrk and mm_malloc return) is
 * a simulated address, carried in a void * or char * so that the lab's
 * pointer arithmetic (HDRP, FTRP, NEXT_BLKP) works unchanged, but it must
 * never be dereferenced: the bytes behind it are read and written with the
 * accessors below, each an access of the simulated CPU (TLB, page walk, page
 * fault). The lab's macros map one to one:
 *
 *     #define GET(p)       mem_get64(p)          lab: (*(unsigned int *)(p))
 *     #define PUT(p, val)  mem_put64((p), (val))  lab: (*(unsigned int *)(p) = (val))
 *
 * (64-bit words: WSIZE 8, DSIZE 16, for the 16-byte alignment x86-64 glibc
 * gives and the replay checks; mem_get32/mem_put32 keep the lab's 4-byte
 * words if you prefer them.) A direct dereference of a simulated address
 * faults in the host and is reported as such, with the operation of the
 * trace that was running: the tool keeps those addresses unmapped on the
 * host side.
 *
 * Your mm.c's globals (heap_listp) are host memory and work as in the lab;
 * mm_init runs at the start of each simulated process, before its first
 * malloc-family call. A crash or an endless loop in your code is caught and
 * reported; it does not take the tool down.
 */
#ifndef AFTERMALLOC_MEMLIB_H
#define AFTERMALLOC_MEMLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define AFTERMALLOC_MEMLIB_ABI 1

/* ---- what you write ---------------------------------------------------- */

/* bp: the payload pointer; size: the whole block (mm_walk's visitor). */
typedef void (*mm_visit_t)(void *arg, void *bp, size_t size, bool allocated);

#ifndef AFTERMALLOC_HOST /* (the tool's kernel has an mm_init of its own) */
int mm_init(void);       /* 0, or -1: the process aborts ("mm_init(): returned -1") */
void *mm_malloc(size_t size);
void mm_free(void *ptr);
void *mm_realloc(void *ptr, size_t size);
void *mm_calloc(size_t nmemb, size_t size);
/* Called after operations when checks are asked for (lab --check-heap).
   Reads memory as the accessors do, but through a side door: no fault, no
   TLB, no event, so checking changes none of the figures; stores are
   refused. Return false when the heap is inconsistent (say why on stderr). */
bool mm_checkheap(int lineno);
/* Each block in address order, with the same side door as mm_checkheap;
   the front ends call it while the program is paused. */
void mm_walk(mm_visit_t visit, void *arg);
#endif

/* ---- what you call: the memory system (CS:APP memlib) -------------------- */

struct memlib;
#ifndef AFTERMALLOC_HOST
/* This plugin's handle, set by aftermalloc when it loads the plugin. */
__attribute__((weak)) struct memlib *aftermalloc_self;
__attribute__((weak)) const int aftermalloc_memlib_abi = AFTERMALLOC_MEMLIB_ABI;
#endif

void *memlib_sbrk(struct memlib *m, intptr_t incr);
void *memlib_heap_lo(struct memlib *m);
void *memlib_heap_hi(struct memlib *m);
void *memlib_bss(struct memlib *m, size_t n);
void *memlib_mmap(struct memlib *m, void *addr, size_t len, int prot, int flags);
int memlib_munmap(struct memlib *m, void *addr, size_t len);
uint64_t memlib_get(struct memlib *m, const void *p, unsigned size);
void memlib_put(struct memlib *m, void *p, unsigned size, uint64_t v);
uint64_t memlib_get64(struct memlib *m, const void *p);
void memlib_put64(struct memlib *m, void *p, uint64_t v);
void memlib_memset(struct memlib *m, void *p, int c, size_t n);
void memlib_memcpy(struct memlib *m, void *dst, const void *src, size_t n);
void memlib_read(struct memlib *m, void *host_dst, const void *src, size_t n);
void memlib_write(struct memlib *m, void *dst, const void *host_src, size_t n);

#ifndef AFTERMALLOC_HOST
/* Move the program break by incr bytes (glibc's sbrk: a negative incr
   shrinks the heap). The old break, or (void *)-1 when the kernel refuses. */
static inline void *mem_sbrk(intptr_t incr)
{
	return memlib_sbrk(aftermalloc_self, incr);
}

/* The first byte of the heap, and its last byte (break - 1). */
static inline void *mem_heap_lo(void)
{
	return memlib_heap_lo(aftermalloc_self);
}

static inline void *mem_heap_hi(void)
{
	return memlib_heap_hi(aftermalloc_self);
}

static inline size_t mem_heapsize(void)
{
	return (size_t)((char *)mem_heap_hi() + 1 - (char *)mem_heap_lo());
}

static inline size_t mem_pagesize(void)
{
	return 4096;
}

/* n bytes (16-aligned, zero) of the simulated program's static data, its
   bss: where a real allocator's globals (a list head, the heap's bounds)
   live, so that using them costs what it costs in a real process (a TLB
   entry). A few KiB in all; NULL when they are used up. Call it from
   mm_init (each process has its own). Plain C globals work too: they are
   host memory, free of charge. */
static inline void *mem_bss(size_t n)
{
	return memlib_bss(aftermalloc_self, n);
}

/* An anonymous private mapping (mmap(addr, len, prot, flags, -1, 0): flags
   must hold MAP_PRIVATE | MAP_ANONYMOUS), and its undoing. (void *)-1
   (MAP_FAILED) or -1 on failure. */
static inline void *mem_mmap(void *addr, size_t len, int prot, int flags)
{
	return memlib_mmap(aftermalloc_self, addr, len, prot, flags);
}

static inline int mem_munmap(void *addr, size_t len)
{
	return memlib_munmap(aftermalloc_self, addr, len);
}

/* ---- what you call: loads and stores of simulated memory ------------------ */

/* Little-endian, any alignment. A load or store at an address the process
   has not mapped kills it with SIGSEGV, as it would kill a real program. */
static inline uint8_t mem_get8(const void *p)
{
	return (uint8_t)memlib_get(aftermalloc_self, p, 1);
}

static inline uint16_t mem_get16(const void *p)
{
	return (uint16_t)memlib_get(aftermalloc_self, p, 2);
}

static inline uint32_t mem_get32(const void *p)
{
	return (uint32_t)memlib_get(aftermalloc_self, p, 4);
}

static inline uint64_t mem_get64(const void *p)
{
	return memlib_get64(aftermalloc_self, p);
}

static inline void mem_put8(void *p, uint8_t v)
{
	memlib_put(aftermalloc_self, p, 1, v);
}

static inline void mem_put16(void *p, uint16_t v)
{
	memlib_put(aftermalloc_self, p, 2, v);
}

static inline void mem_put32(void *p, uint32_t v)
{
	memlib_put(aftermalloc_self, p, 4, v);
}

static inline void mem_put64(void *p, uint64_t v)
{
	memlib_put64(aftermalloc_self, p, v);
}

/* A pointer stored in simulated memory (an explicit list's links). */
static inline void *mem_getptr(const void *p)
{
	return (void *)(uintptr_t)memlib_get64(aftermalloc_self, p);
}

static inline void mem_putptr(void *p, const void *v)
{
	memlib_put64(aftermalloc_self, p, (uint64_t)(uintptr_t)v);
}

/* memset and memcpy within simulated memory (memcpy may overlap: memmove). */
static inline void mem_memset(void *p, int c, size_t n)
{
	memlib_memset(aftermalloc_self, p, c, n);
}

static inline void mem_memcpy(void *dst, const void *src, size_t n)
{
	memlib_memcpy(aftermalloc_self, dst, src, n);
}

/* Between simulated memory and your own (host) variables. */
static inline void mem_read(void *host_dst, const void *src, size_t n)
{
	memlib_read(aftermalloc_self, host_dst, src, n);
}

static inline void mem_write(void *dst, const void *host_src, size_t n)
{
	memlib_write(aftermalloc_self, dst, host_src, n);
}
#endif /* AFTERMALLOC_HOST: aftermalloc's own side of this file, libc/memlib.c */

#endif
