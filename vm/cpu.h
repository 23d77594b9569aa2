/*
 * cpu.h - the CPU's memory interface: loads and stores at virtual addresses.
 *
 * Every access goes TLB -> (miss) page walk from CR3, setting Accessed and,
 * for a write, Dirty in the PTE as the hardware does. A not-present entry or a
 * permission violation raises #PF (vector 14) with CR2 = the address and the
 * x86 error code; a non-canonical address raises #GP (vector 13). The trap
 * goes to the handler the kernel registered (cpu_set_trap_handler), as a real
 * kernel fills the IDT: vm/ never calls the kernel by name. When the handler
 * returns TRAP_RETRY the access is retried exactly once more; if that faults
 * again the kernel failed to fix it, which is a simulator bug (panic).
 * When the handler returns TRAP_KILLED (a fatal signal), the access fails
 * with -1 -- unless the kernel unwound the simulated process itself (it
 * longjmps out of the handler), in which case the call never returns.
 *
 * Permissions: a user access needs U/S at every level, a write R/W at every
 * level, also in kernel mode (CR0.WP = 1); the kernel may use user pages (no
 * SMAP). Events, layer "mmu": EV_TLB_MISS, EV_WALK (one per level read),
 * EV_AD_SET (a leaf's A/D changed), EV_TLB_FILL with fn "page_walk";
 * EV_FAULT {"addr","error","ip","vector"} with fn "#PF" or "#GP";
 * EV_TLB_FLUSH with fn "invlpg", "flush_tlb_local" or "write_cr3".
 * TLB hits are counted (cpu_tlb_hits), never emitted.
 */
#ifndef VM_CPU_H
#define VM_CPU_H

#include "phys.h"
#include "probe.h"
#include "tlb.h"
#include "types.h"

/* x86 #PF error code bits */
#define PF_PROT (1u << 0)  /* 0: not present, 1: protection violation */
#define PF_WRITE (1u << 1) /* the access was a write */
#define PF_USER (1u << 2)  /* from user mode */
#define PF_RSVD (1u << 3)
#define PF_INSTR (1u << 4) /* instruction fetch */

#define X86_TRAP_GP 13
#define X86_TRAP_PF 14

enum trap_result { TRAP_RETRY = 0, TRAP_KILLED = 1 };

/* The kernel's entry for exceptions: exc_page_fault / exc_general_protection. */
typedef int (*trap_handler_t)(void *ctx, int vector, vaddr_t addr, unsigned error);

/*
 * The kernel's fast path for the common page fault (kernel_sim/fault.c,
 * fault_fast; docs/vm.md, "The fast path of a fault"), asked first when no
 * sink listens and the walk of a #PF stopped at a page-table entry that is
 * all zero: entry idx of the PT page pt. It either declines (FAST_DECLINED:
 * it changed nothing, and the trap goes to the handler) or does all that
 * the handler would have done and counted, returning TRAP_RETRY:
 * FAST_LEAF when the only change to the page tables is that entry and the
 * TLB was not touched, so that the retried walk may start at the leaf (the
 * levels above were read a moment ago; the CPU counts the events of the
 * whole walk); FAST_RETRY when the retry must walk from CR3 as after the
 * handler. ctx is the trap handler's.
 */
enum { FAST_DECLINED, FAST_LEAF, FAST_RETRY };
typedef int (*fast_fault_t)(void *ctx, vaddr_t addr, unsigned error, pfn_t pt, unsigned idx);

struct cpu {
	struct phys *phys;
	struct probe *probe;
	struct tlb tlb;
	pfn_t cr3;            /* PML4 frame of the running address space; PFN_NONE: none */
	vaddr_t cr2;          /* last faulting address */
	vaddr_t ip, sp;       /* the simulated program's instruction/stack pointer (for reports) */
	bool user;            /* accesses are user-mode (U/S checked); the kernel's are not */
	trap_handler_t trap;
	void *trap_ctx;
	fast_fault_t fast_fault; /* NULL: every fault goes to trap */
	uint8_t *ram;         /* == phys->mem, RAM's host base; private to vm/ */
	/* Accesses made by the inline path of cpu_load / cpu_store: each is a
	   TLB hit and a load (or a store), counted once here so that the path
	   makes one increment (read them with cpu_tlb_hits, cpu_loads,
	   cpu_stores). */
	uint64_t fast_loads, fast_stores;
};

/* TLB hits, loads and stores so far, whichever path made them. */
static inline uint64_t cpu_tlb_hits(const struct cpu *c)
{
	return c->tlb.slow_hits + c->fast_loads + c->fast_stores;
}
static inline uint64_t cpu_loads(const struct cpu *c)
{
	return c->probe->c.slow_loads + c->fast_loads;
}
static inline uint64_t cpu_stores(const struct cpu *c)
{
	return c->probe->c.slow_stores + c->fast_stores;
}

/* tlb_entries/ways: e.g. 64 and 4. phys and probe are borrowed. 0 or -1. */
int cpu_init(struct cpu *c, struct phys *ph, struct probe *p, unsigned tlb_entries,
	     unsigned tlb_ways);
void cpu_destroy(struct cpu *c);
/* Also forgets the fast path (it belongs to the handler it was set with). */
void cpu_set_trap_handler(struct cpu *c, trap_handler_t h, void *ctx);
/* The trap handler's fast path (fast_fault_t above), or NULL for none. */
void cpu_set_fast_fault(struct cpu *c, fast_fault_t f);
/* Switch address space: loads CR3 and flushes the TLB (no PCID: CR4.PCIDE
   clear, every entry tagged 0). */
void cpu_load_cr3(struct cpu *c, pfn_t pml4);
/* With PCID (CR4.PCIDE set): load CR3 with pcid (1..4095) in its low bits;
   unless noflush (bit 63 of the value written) the entries tagged pcid are
   flushed. Entries of other PCIDs stay. */
void cpu_load_cr3_pcid(struct cpu *c, pfn_t pml4, unsigned pcid, bool noflush);

/*
 * size 1, 2, 4 or 8, any alignment (an access crossing a page is two
 * translations, both made before a byte is written). Little-endian. 0 on
 * success, -1 when the access faulted fatally (see above). Each access
 * counts one load or store (cpu_loads, cpu_stores).
 *
 * cpu_load and cpu_store are inline. The fast path is a TLB hit on the
 * newest entry of the page's set, for a user page that allows the access,
 * looked up as QEMU's softmmu does (struct tlb_fast, tlb.h): the slot of
 * the set, one compare of the address -- masked so that an access not
 * aligned to its size never matches, and an aligned one cannot cross the
 * page -- with the slot's tag, and the host address is the address plus the
 * slot's addend. A user page may be accessed in either mode: there is no
 * SMAP. Everything else -- a miss, an older entry of the set, an unaligned
 * access, a write through an entry whose PTE is not yet dirty, a supervisor
 * page -- goes to cpu_load_slow / cpu_store_slow, which do the whole job
 * from the start (the fast path changed nothing). A hit is counted
 * (cpu_tlb_hits), never emitted.
 */
int cpu_load_slow(struct cpu *c, vaddr_t va, unsigned size, uint64_t *val);
int cpu_store_slow(struct cpu *c, vaddr_t va, unsigned size, uint64_t val);

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the simulated machine is little-endian and so must the host be"
#endif

/* Sizes 1, 2, 4, 8: folded to a constant at call sites that pass one. */
#define CPU_SIZE_OK(size) ((size) == 1 || (size) == 2 || (size) == 4 || (size) == 8)

/* [va, va+size) is inside one page: 0xffc + 4 yes, 0xffd + 4 no. */
static inline bool cpu_in_page(vaddr_t va, unsigned size)
{
	return (va & ~PAGE_MASK) + size <= PAGE_SIZE;
}

/* The slot of the inline path for va's page, found with one shift and one
   and: its byte offset in the table is (vpn mod TLB_FAST_SLOTS) times 32. */
static inline const struct tlb_fast *cpu_fast_slot(const struct cpu *c, vaddr_t va)
{
	const uint64_t mask = (uint64_t)(TLB_FAST_SLOTS - 1) << TLB_FAST_SHIFT;

	return (const struct tlb_fast *)((const char *)c->tlb.fast +
	                                 ((va >> (PAGE_SHIFT - TLB_FAST_SHIFT)) & mask));
}

/* va's page address, with the bits below size kept: equal to a slot's tag
   only when va is aligned to size (so the access stays in the page). */
static inline uint64_t cpu_fast_key(vaddr_t va, unsigned size)
{
	return va & (PAGE_MASK | (size - 1));
}

/* The inline path alone: true when it did the access (and counted it), false
   when the access must go to cpu_load_slow / cpu_store_slow. */
static inline bool cpu_load_fast(struct cpu *c, vaddr_t va, unsigned size, uint64_t *val)
{
	const struct tlb_fast *f = cpu_fast_slot(c, va);

	if (__builtin_expect(CPU_SIZE_OK(size) && cpu_fast_key(va, size) == f->read, 1)) {
		uint64_t v = 0;

		__builtin_memcpy(&v, (const uint8_t *)(uintptr_t)(va + f->addend), size);
		*val = v;
		c->fast_loads++;
		return true;
	}
	return false;
}

static inline bool cpu_store_fast(struct cpu *c, vaddr_t va, unsigned size, uint64_t val)
{
	const struct tlb_fast *f = cpu_fast_slot(c, va);

	if (__builtin_expect(CPU_SIZE_OK(size) && cpu_fast_key(va, size) == f->write, 1)) {
		__builtin_memcpy((uint8_t *)(uintptr_t)(va + f->addend), &val, size);
		c->fast_stores++;
		return true;
	}
	return false;
}

static inline int cpu_load(struct cpu *c, vaddr_t va, unsigned size, uint64_t *val)
{
	return cpu_load_fast(c, va, size, val) ? 0 : cpu_load_slow(c, va, size, val);
}

static inline int cpu_store(struct cpu *c, vaddr_t va, unsigned size, uint64_t val)
{
	return cpu_store_fast(c, va, size, val) ? 0 : cpu_store_slow(c, va, size, val);
}

/* Ranges: one translation per page touched, faults as for single accesses. */
int cpu_read(struct cpu *c, vaddr_t va, void *buf, size_t n);
int cpu_write(struct cpu *c, vaddr_t va, const void *buf, size_t n);
int cpu_fill(struct cpu *c, vaddr_t va, uint8_t byte, size_t n);
int cpu_copy(struct cpu *c, vaddr_t dst, vaddr_t src, size_t n); /* memmove semantics */
/* Compare n bytes at va with byte; 0 equal, 1 differ, -1 fault. */
int cpu_check_fill(struct cpu *c, vaddr_t va, uint8_t byte, size_t n);

/* TLB maintenance for the kernel (emit EV_TLB_FLUSH): one page, or every
   entry of the current PCID (all of them without PCID). */
void cpu_invlpg(struct cpu *c, vaddr_t va);
void cpu_flush_tlb(struct cpu *c);

/* The TLB agrees with the page tables (every valid entry of the current PCID
   matches a present leaf in the tables of CR3). */
int cpu_check(struct cpu *c, FILE *err);

#endif
