/*
 * cpu.c - the MMU side of the CPU: translation, the hardware page walk, faults.
 *
 * Follows what an x86-64 core does for a data access (Intel SDM vol. 3,
 * ch. 4 "Paging"): look the page up in the TLB; on a miss walk PML4 -> PDPT ->
 * PD -> PT from CR3, set Accessed in each entry used and Dirty in the leaf on
 * a write, check the combined U/S and R/W of all levels (CR0.WP = 1, no
 * SMAP), and fill the TLB. A failed walk raises #PF through the handler the
 * kernel registered (its exc_page_fault); the instruction is then restarted.
 * The inline TLB-hit path is in cpu.h.
 *
 * Events (layer "mmu"): EV_TLB_MISS, EV_WALK per level, EV_AD_SET, EV_TLB_FILL
 * under fn "page_walk"; EV_FAULT under fn "#PF" or "#GP"; EV_TLB_FLUSH under
 * "invlpg", "flush_tlb_local" or "write_cr3".
 */
#include "cpu.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "pagetable.h"
#include "panic.h"

/* At most this many faults in one access, whatever the handler does. */
#define CPU_MAX_FAULTS 8

enum { XL_OK, XL_RETRY, XL_FATAL, XL_FAST };

/*
 * One instruction's worth of translations: a fault restarts the whole
 * access, as the CPU restarts the instruction; the same page faulting twice
 * in a row means the handler returned TRAP_RETRY without fixing it. (Reclaim
 * cannot take the page back before the retry: the fault maps it young, as
 * x86 Linux does, and kswapd, which runs on the way back to user mode, looks
 * at a folio's accessed bits once per pass before it reclaims it.)
 */
struct access {
	const char *op; /* "cpu_load", ...: named in the panic */
	uint64_t last_fault_vpn;
	unsigned faults;
};

int cpu_init(struct cpu *c, struct phys *ph, struct probe *p, unsigned tlb_entries,
             unsigned tlb_ways)
{
	memset(c, 0, sizeof(*c));
	if (!ph || !p || !ph->mem) {
		errno = EINVAL;
		return -1;
	}
	if (tlb_init(&c->tlb, tlb_entries, tlb_ways)) {
		errno = EINVAL;
		return -1;
	}
	c->phys = ph;
	c->probe = p;
	c->ram = ph->mem;
	c->cr3 = PFN_NONE;
	return 0;
}

void cpu_destroy(struct cpu *c)
{
	tlb_destroy(&c->tlb);
	memset(c, 0, sizeof(*c));
	c->cr3 = PFN_NONE;
}

void cpu_set_trap_handler(struct cpu *c, trap_handler_t h, void *ctx)
{
	c->trap = h;
	c->trap_ctx = ctx;
	c->fast_fault = NULL;
}

void cpu_set_fast_fault(struct cpu *c, fast_fault_t f)
{
	c->fast_fault = f;
}

void cpu_load_cr3(struct cpu *c, pfn_t pml4)
{
	if (pml4 != PFN_NONE && !phys_valid_pfn(c->phys, pml4))
		panic("pml4 pfn %#" PRIx64 " beyond RAM", pml4);
	c->cr3 = pml4;
	tlb_set_pcid(&c->tlb, 0);
	tlb_flush_all(&c->tlb);
	EV(c->probe, LAYER_MMU, EV_TLB_FLUSH, "write_cr3", NULL, {"all", 1}, {"cr3", pml4});
}

void cpu_invlpg(struct cpu *c, vaddr_t va)
{
	tlb_invlpg(&c->tlb, va);
	EV(c->probe, LAYER_MMU, EV_TLB_FLUSH, "invlpg", NULL, {"addr", va});
}

void cpu_load_cr3_pcid(struct cpu *c, pfn_t pml4, unsigned pcid, bool noflush)
{
	if (pml4 == PFN_NONE || !phys_valid_pfn(c->phys, pml4))
		panic("pml4 pfn %#" PRIx64 " beyond RAM", pml4);
	if (pcid == 0 || pcid >= 1u << (64 - TLB_TAG_SHIFT))
		panic("PCID %u", pcid);
	c->cr3 = pml4;
	tlb_set_pcid(&c->tlb, pcid);
	if (!noflush)
		tlb_flush_pcid(&c->tlb, pcid);
	EV(c->probe, LAYER_MMU, EV_TLB_FLUSH, "write_cr3", NULL, {"all", !noflush}, {"cr3", pml4},
	   {"pcid", pcid});
}

void cpu_flush_tlb(struct cpu *c)
{
	if (c->tlb.tag)
		tlb_flush_pcid(&c->tlb, tlb_key_pcid(c->tlb.tag));
	else
		tlb_flush_all(&c->tlb);
	EV(c->probe, LAYER_MMU, EV_TLB_FLUSH, "flush_tlb_local", NULL, {"all", 1});
}

/*
 * Arm the inline path of cpu.h for e, which tlb.c made the newest entry of
 * its set: user pages only, so that the tags hold whatever cpu->user
 * becomes; writes only once the PTE is dirty. The host bytes of e's page.
 */
static inline uint8_t *set_fast(struct cpu *c, struct tlb_entry *e)
{
	const uint32_t rw = TLB_U | TLB_W | TLB_D;
	struct tlb_fast *f = tlb_fast_slot(&c->tlb, e->vpn);
	uint64_t page = e->vpn << PAGE_SHIFT;
	uint8_t *host = c->ram + pfn_to_paddr(e->pfn);

	f->e = e; /* a slot another set had armed is now e's */
	f->addend = (uintptr_t)host - page;
	f->read = e->perm & TLB_U ? page : TLB_FAST_NONE;
	f->write = (e->perm & rw) == rw ? page : TLB_FAST_NONE;
	return host;
}

/*
 * Where a walk without a sink stopped at a page-table entry that is all
 * zero (a page never mapped: what fault_fast handles): its slot, its table
 * and index, the rights of the levels above. Written only then, when the
 * walk also adds PF_LEAF_NONE (not an x86 bit) to its error code.
 */
#define PF_LEAF_NONE (1u << 30)
struct walk_stop {
	pte_t *slot;
	pfn_t table;  /* the PT page */
	unsigned idx; /* the entry's index in it */
	pte_t allow, nx;
};

#define WALK_EV(kind, ...)                                                                         \
	do {                                                                                       \
		if (sink)                                                                          \
			EV(pr, LAYER_MMU, kind, "page_walk", NULL, __VA_ARGS__);                   \
		else                                                                               \
			(*nev)++;                                                                  \
	} while (0)

/*
 * The walk's step at one level: entry e, read from the table. False when
 * it is not present; panics when it points beyond RAM. Its rights join
 * allow (AND) and nx (OR). (hw_walk_body's loop makes the same steps
 * written out: that way its code is as tight as it was before the fast
 * path, which the replays, millions of TLB misses, measure.)
 */
static inline __attribute__((always_inline)) bool walk_entry(struct phys *ph, int level, vaddr_t va,
                                                             pte_t e, pte_t *allow, pte_t *nx)
{
	if (!pte_present(e))
		return false;
	if (!phys_valid_pfn(ph, pte_pfn(e)))
		panic("%s entry %#" PRIx64 " for %#" PRIx64 " points beyond RAM", pt_level_name(level),
		      e, va);
	*allow &= e;
	*nx |= e & PTE_NX;
	return true;
}

/*
 * The walk's end, after a present leaf e (at slot) with the rights of all
 * levels in allow and nx: the access checked, A (and D for a write) set in
 * the leaf, the TLB filled. The host bytes of va, or NULL with PF_PROT
 * added to *err.
 */
static inline __attribute__((always_inline)) uint8_t *
walk_finish(struct cpu *c, vaddr_t va, bool write, struct tlb_entry *victim, unsigned *err,
            pte_t *slot, pte_t e, pte_t allow, pte_t nx, unsigned *nev, const bool sink)
{
	struct probe *pr = c->probe;
	pte_t leaf;
	uint32_t perm;
	uint8_t *host;

	if ((c->user && !(allow & PTE_US)) || (write && !(allow & PTE_RW))) {
		*err |= PF_PROT;
		return NULL;
	}
	leaf = e | PTE_A | (write ? PTE_D : 0);
	if (leaf != e) {
		*slot = leaf;
		WALK_EV(EV_AD_SET, {"addr", va}, {"old", e}, {"new", leaf});
	}
	perm = (allow & PTE_RW ? TLB_W : 0) | (allow & PTE_US ? TLB_U : 0) | (nx ? TLB_NX : 0) |
	       (leaf & PTE_D ? TLB_D : 0);
	host = set_fast(c, tlb_fill(&c->tlb, victim, va >> PAGE_SHIFT, pte_pfn(leaf), perm)) +
	       (va & ~PAGE_MASK);
	WALK_EV(EV_TLB_FILL, {"vpn", va >> PAGE_SHIFT}, {"pfn", pte_pfn(leaf)});
	return host;
}

/*
 * The hardware walk for va (canonical). On success sets A (and D for a
 * write) as the CPU does, fills the TLB and returns the host bytes of va.
 * On failure returns NULL with *err the #PF error code (and *stop, without
 * a sink, where an all-zero leaf stopped it). Upper-level entries get A as
 * they are used, even when a lower level then faults (the SDM allows it);
 * the leaf gets A/D only when the access is allowed.
 *
 * Made twice from this one body (hw_walk below): with a sink every step is
 * an event (sink true); without one the steps are counted, and the count is
 * added to the probe once, before the walk returns (no event can be seen in
 * between, and a fault's events come after).
 */
static inline __attribute__((always_inline)) uint8_t *
hw_walk_body(struct cpu *c, vaddr_t va, bool write, struct tlb_entry *victim, unsigned *err,
             struct walk_stop *stop, const bool sink)
{
	struct probe *pr = c->probe;
	struct phys *ph = c->phys;
	pfn_t table = c->cr3;
	pte_t *slot = NULL;            /* the entry being read, in RAM */
	pte_t allow = PTE_RW | PTE_US; /* AND over the levels */
	pte_t nx = 0;                  /* OR over the levels */
	pte_t e = 0;
	unsigned idx, count = 0, *nev = &count;
	uint8_t *host = NULL;

	pr->c.walks++;
	WALK_EV(EV_TLB_MISS, {"addr", va});
	*err = (write ? PF_WRITE : 0) | (c->user ? PF_USER : 0);
	if (table == PFN_NONE)
		goto out; /* no address space: nothing is present */
	if (!phys_valid_pfn(ph, table))
		panic("cr3 %#" PRIx64 " beyond RAM", table);
	/* Unrolled: each level's index shift and the level == 1 test become
	   constants (every fault walks twice, 4 levels each). */
#pragma GCC unroll 4
	for (int level = PT_LEVELS; level >= 1; level--) {
		/* table was checked to be in RAM (cr3 when loaded, entries below) */
		idx = pt_index(va, level);
		slot = (pte_t *)(c->ram + pfn_to_paddr(table)) + idx;
		e = *slot;
		WALK_EV(EV_WALK, {"level", (uint64_t)level}, {"index", idx}, {"entry", e});
		if (!pte_present(e)) {
			if (level == 1 && !sink && e == 0) {
				*stop = (struct walk_stop){slot, table, idx, allow, nx};
				*err |= PF_LEAF_NONE;
			}
			goto out;
		}
		if (!phys_valid_pfn(ph, pte_pfn(e)))
			panic("%s entry %#" PRIx64 " for %#" PRIx64 " points beyond RAM",
			      pt_level_name(level), e, va);
		allow &= e;
		nx |= e & PTE_NX;
		if (level == 1)
			break;
		if (!(e & PTE_A))
			*slot = e | PTE_A;
		table = pte_pfn(e);
	}
	host = walk_finish(c, va, write, victim, err, slot, e, allow, nx, nev, sink);
out:
	if (!sink)
		pr->others += count;
	return host;
}

/*
 * The retried walk after fault_fast returned FAST_LEAF, from the leaf the
 * first walk stopped at: the levels above are as that walk left them (their
 * A bits set, their rights in stop), so this walk would read and count them
 * again and change nothing: they are counted, not read. The leaf must now
 * allow the access (else the handler did not fix the fault: panic, as the
 * full retry does).
 */
static inline __attribute__((always_inline)) uint8_t *
walk_retry_leaf(struct cpu *c, const char *op, vaddr_t va, bool write, struct tlb_entry *victim,
                const struct walk_stop *stop)
{
	const bool sink = false;
	struct probe *pr = c->probe;
	pte_t allow = stop->allow, nx = stop->nx, e = *stop->slot;
	unsigned err = 0, count = 0, *nev = &count;
	uint8_t *host = NULL;

	c->tlb.misses++; /* translate_miss's */
	pr->c.walks++;
	(*nev) += 1 + PT_LEVELS; /* EV_TLB_MISS, EV_WALK of each level */
	if (walk_entry(c->phys, 1, va, e, &allow, &nx))
		host = walk_finish(c, va, write, victim, &err, stop->slot, e, allow, nx, nev, sink);
	if (!host)
		panic_at(op, "fault at %#" PRIx64 " not resolved by the handler", va);
	pr->others += count;
	return host;
}

/* hw_walk with a sink: out of line, so that the walk without one keeps its
   few registers and no field arrays on its stack. */
static __attribute__((noinline)) uint8_t *hw_walk_traced(struct cpu *c, vaddr_t va, bool write,
                                                         struct tlb_entry *victim, unsigned *err)
{
	return hw_walk_body(c, va, write, victim, err, NULL, true);
}

/* victim: where the TLB takes the translation (tlb_lookup_victim). */
static inline __attribute__((always_inline)) uint8_t *
hw_walk(struct cpu *c, vaddr_t va, bool write, struct tlb_entry *victim, unsigned *err,
        struct walk_stop *stop)
{
	if (c->probe->sink)
		return hw_walk_traced(c, va, write, victim, err);
	return hw_walk_body(c, va, write, victim, err, stop, false);
}
#undef WALK_EV

/* Raise vector for va to the kernel's handler: XL_RETRY or XL_FATAL, or
   XL_FAST when its fast path took a #PF that stopped at stop (FAST_LEAF).
   Inline into the miss path, as the walk (translate_miss). */
static inline __attribute__((always_inline)) int
raise_trap(struct cpu *c, struct access *a, int vector, vaddr_t va, unsigned err,
           const struct walk_stop *stop)
{
	uint64_t vpn = va >> PAGE_SHIFT;

	if (a->faults && a->last_fault_vpn == vpn)
		panic_at(a->op, "fault at %#" PRIx64 " not resolved by the handler", va);
	if (++a->faults > CPU_MAX_FAULTS)
		panic_at(a->op, "%u faults in one access at %#" PRIx64, a->faults, va);
	a->last_fault_vpn = vpn;
	if (vector == X86_TRAP_PF) {
		c->cr2 = va;
		c->probe->c.page_faults++;
	}
	EV(c->probe, LAYER_MMU, EV_FAULT, vector == X86_TRAP_PF ? "#PF" : "#GP", NULL, {"addr", va},
	   {"error", err}, {"ip", c->ip}, {"vector", (uint64_t)vector});
	if (!c->trap)
		return XL_FATAL;
	/* No sink (with one the walk sets no stop), no TLB entry to drop, a
	   PT entry that is all zero: the handler's fast path first. */
	if (stop && c->fast_fault) {
		int f = c->fast_fault(c->trap_ctx, va, err, stop->table, stop->idx);

		if (f == FAST_LEAF)
			return XL_FAST;
		if (f == FAST_RETRY)
			return XL_RETRY;
	}
	/* The handler may longjmp out of here: nothing above needs undoing. */
	return c->trap(c->trap_ctx, vector, va, err) == TRAP_RETRY ? XL_RETRY : XL_FATAL;
}

/*
 * The TLB could not serve the access to va (e: va's entry, without the
 * rights it needs; victim: the entry a fill takes): count the miss, walk.
 * The host bytes of va, or NULL with *err the #PF error code (-1 for a
 * non-canonical address: #GP) for miss_trap.
 */
#define ERR_GP (~0u)
static inline __attribute__((always_inline)) uint8_t *
walk_miss(struct cpu *c, vaddr_t va, bool write, struct tlb_entry *victim, unsigned *err,
          struct walk_stop *stop)
{
	c->tlb.misses++;
	if (!vaddr_canonical(va)) {
		*err = ERR_GP;
		return NULL;
	}
	return hw_walk(c, va, write, victim, err, stop);
}

/* The trap after walk_miss failed: XL_RETRY, XL_FAST (the fast path took
   it, stop says where) or XL_FATAL. */
static inline __attribute__((always_inline)) int
miss_trap(struct cpu *c, struct access *a, vaddr_t va, unsigned err, const struct tlb_entry *e,
          struct walk_stop *stop)
{
	bool none = err & PF_LEAF_NONE;

	if (err == ERR_GP)
		return raise_trap(c, a, X86_TRAP_GP, va, 0, NULL);
	err &= ~PF_LEAF_NONE;
	/* A fault drops whatever the TLB held for the page (SDM 4.10.4.1). */
	if (e) {
		tlb_drop(&c->tlb, va >> PAGE_SHIFT);
		return raise_trap(c, a, X86_TRAP_PF, va, err, NULL);
	}
	return raise_trap(c, a, X86_TRAP_PF, va, err, none ? stop : NULL);
}

/*
 * Both: the host bytes of va (XL_OK), or the trap was raised and the
 * handler asked for a retry (XL_RETRY; XL_FAST: its fast path did, and the
 * retry may start at the leaf in *stop) or killed the process (XL_FATAL).
 * Inline, with the walk, the trap and the TLB lookup: a miss (and every
 * page fault, which makes two) runs as one function (load_miss or
 * store_miss for the slow path's accesses, translate_one_miss for the
 * copies and fills of cpu_read and the like), rather than five calls whose
 * prologues cost more than some of their bodies.
 */
static inline __attribute__((always_inline)) int
translate_miss(struct cpu *c, struct access *a, vaddr_t va, bool write, uint8_t **host,
               const struct tlb_entry *e, struct tlb_entry *victim, struct walk_stop *stop)
{
	unsigned err;

	*host = walk_miss(c, va, write, victim, &err, stop);
	return *host ? XL_OK : miss_trap(c, a, va, err, e, stop);
}

/*
 * The TLB's part of a translation: va's entry when it allows the access
 * (the hit counted, the entry the newest of its set and its fast slot
 * armed), else NULL with *e the entry without the rights and *victim the
 * entry a fill takes. A TLB hit that does not allow the access (user mode
 * on a supervisor page, a write through a read-only or clean entry)
 * re-walks.
 */
static inline __attribute__((always_inline)) uint8_t *
translate_hit(struct cpu *c, vaddr_t va, bool write, struct tlb_entry **e,
              struct tlb_entry **victim)
{
	uint64_t vpn = (va >> PAGE_SHIFT) | c->tlb.tag; /* the key (tlb.h) */
	uint32_t need = (c->user ? TLB_U : 0) | (write ? TLB_W | TLB_D : 0);

	*e = *victim = c->tlb.newest[vpn & c->tlb.set_mask];
	/* The newest entry of the set needs no restamp (tlb_lookup). */
	if (!*e || (*e)->vpn != vpn)
		*e = tlb_lookup_victim(&c->tlb, vpn, victim);
	/* need has only TLB_* bits: the word's pfn bits drop out */
	if (*e && ((*e)->word & need) == need) {
		c->tlb.slow_hits++;
		return set_fast(c, *e) + (va & ~PAGE_MASK);
	}
	return NULL;
}

/* Translate va for a read or a write: XL_OK, XL_RETRY or XL_FATAL. */
static inline int translate(struct cpu *c, struct access *a, vaddr_t va, bool write,
                            uint8_t **host)
{
	struct tlb_entry *e, *victim;
	struct walk_stop stop;
	int r;

	*host = translate_hit(c, va, write, &e, &victim);
	if (*host)
		return XL_OK;
	r = translate_miss(c, a, va, write, host, e, victim, &stop);
	return r == XL_FAST ? XL_RETRY : r; /* the restart walks in full */
}

/*
 * Translate up to two pages for one operation, restarting after each fault
 * so that both translations hold together when this returns 0: host[i] are
 * the bytes of va[i]. -1 when the process was killed.
 */
static int translate_two(struct cpu *c, const char *op, unsigned n, const vaddr_t *va,
                         const bool *write, uint8_t **host)
{
	struct access a = {.op = op};

	for (;;) {
		unsigned i;
		int r = XL_OK;

		for (i = 0; i < n && r == XL_OK; i++)
			r = translate(c, &a, va[i], write[i], &host[i]);
		if (r == XL_OK)
			return 0;
		if (r == XL_FATAL)
			return -1;
	}
}

/*
 * translate_one after the TLB failed it: walk, restarting after each fault.
 * The restart looks the page up in the TLB again, unless the TLB did not
 * change since the lookup that failed (tlb->gen; the usual case after a
 * fault that found no entry: the handler installs a PTE and fills nothing):
 * that lookup would fail again the same way, with the same victim, so the
 * walk starts at once, and after the handler's fast path (FAST_LEAF) at the
 * leaf (walk_retry_leaf). What is counted and emitted is the same.
 */
static __attribute__((noinline)) uint8_t *
translate_one_retry(struct cpu *c, struct access a0, vaddr_t va, bool write,
                    const struct tlb_entry *e, struct tlb_entry *victim, struct walk_stop stop0,
                    uint64_t gen, int r)
{
	/* a0 and stop0 come by value so that the first try's own never have
	   their address taken and stay in its registers; these are the copies
	   the restarts update. */
	struct access acc = a0, *a = &acc;
	struct walk_stop st = stop0, *stop = &st;
	uint8_t *host = NULL;

	for (;;) {
		if (r == XL_FAST) {
			if (!e && c->tlb.gen == gen)
				return walk_retry_leaf(c, a->op, va, write, victim, stop);
			r = XL_RETRY;
		}
		if (r != XL_RETRY)
			break;
		if (e || c->tlb.gen != gen) {
			struct tlb_entry *hit;

			host = translate_hit(c, va, write, &hit, &victim);
			if (host)
				return host;
			e = hit;
			gen = c->tlb.gen;
		}
		r = translate_miss(c, a, va, write, &host, e, victim, stop);
	}
	return r == XL_OK ? host : NULL;
}

/* The first try, straight-line (no loop: the compiler hoists nothing of
   the walk into the entry of a TLB miss that does not fault, the common
   case); the restarts after a fault in translate_one_retry. Inline into
   the functions below, each out of line. */
static inline __attribute__((always_inline)) uint8_t *
translate_one_miss_body(struct cpu *c, const char *op, vaddr_t va, bool write,
                        const struct tlb_entry *e, struct tlb_entry *victim)
{
	struct access a;
	struct walk_stop stop;
	uint64_t gen = c->tlb.gen;
	unsigned err;
	uint8_t *host = walk_miss(c, va, write, victim, &err, &stop);
	int r;

	if (host)
		return host;
	a = (struct access){.op = op};
	r = miss_trap(c, &a, va, err, e, &stop);
	if (r == XL_FAST && !e && c->tlb.gen == gen)
		return walk_retry_leaf(c, op, va, write, victim, &stop);
	return translate_one_retry(c, a, va, write, e, victim, stop, gen, r);
}

static __attribute__((noinline)) uint8_t *translate_one_miss(struct cpu *c, const char *op,
                                                           vaddr_t va, bool write,
                                                           const struct tlb_entry *e,
                                                           struct tlb_entry *victim)
{
	return translate_one_miss_body(c, op, va, write, e, victim);
}

/* One translation, restarting after each fault: the host bytes of va, or
   NULL when the process was killed. */
static inline __attribute__((always_inline)) uint8_t *
translate_one(struct cpu *c, const char *op, vaddr_t va, bool write)
{
	struct tlb_entry *e, *victim;
	uint8_t *host = translate_hit(c, va, write, &e, &victim);

	return host ? host : translate_one_miss(c, op, va, write, e, victim);
}

static void check_size(const char *op, unsigned size)
{
	if (!CPU_SIZE_OK(size))
		panic_at(op, "access size %u (1, 2, 4 or 8)", size);
}

/* The bytes of [va, va+size), which cross into the next page: n0 in
   host[0], the rest at host[1]. */
static int translate_across(struct cpu *c, const char *op, vaddr_t va, unsigned size, bool write,
                            uint8_t *host[2], size_t *n0)
{
	size_t first = PAGE_SIZE - (va & ~PAGE_MASK);
	vaddr_t vas[2] = {va, va + first};
	bool w[2] = {write, write};

	*n0 = first;
	return translate_two(c, op, 2, vas, w, host);
}

/* The size bytes at p (1, 2, 4 or 8: check_size), as one host load or
   store of that size: memcpy of a variable size is a call or a jump table. */
static inline uint64_t load_bytes(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	switch (size) {
	case 8: memcpy(&v, p, 8); break;
	case 4: memcpy(&v, p, 4); break;
	case 2: memcpy(&v, p, 2); break;
	default: v = *p; break;
	}
	return v;
}

static inline void store_bytes(uint8_t *p, uint64_t v, unsigned size)
{
	switch (size) {
	case 8: memcpy(p, &v, 8); break;
	case 4: memcpy(p, &v, 4); break;
	case 2: memcpy(p, &v, 2); break;
	default: *p = (uint8_t)v; break;
	}
}

/*
 * The slow paths after the TLB failed an access within one page (e: the
 * page's entry without the rights, victim: the entry a fill takes): the
 * walk with its faults, then the access. Out of line, each with the miss
 * path inline, so that cpu_load_slow and cpu_store_slow jump here (a tail
 * call) and a miss, each page fault included, runs in one frame.
 */
static __attribute__((noinline)) int load_miss(struct cpu *c, vaddr_t va, unsigned size,
                                               uint64_t *val, const struct tlb_entry *e,
                                               struct tlb_entry *victim)
{
	uint8_t *host = translate_one_miss_body(c, "cpu_load", va, false, e, victim);

	if (!host)
		return -1;
	*val = load_bytes(host, size);
	c->probe->c.slow_loads++;
	return 0;
}

static __attribute__((noinline)) int store_miss(struct cpu *c, vaddr_t va, unsigned size,
                                                uint64_t val, const struct tlb_entry *e,
                                                struct tlb_entry *victim)
{
	uint8_t *host = translate_one_miss_body(c, "cpu_store", va, true, e, victim);

	if (!host)
		return -1;
	store_bytes(host, val, size);
	c->probe->c.slow_stores++;
	return 0;
}

/* An access that crosses into the next page. */
static __attribute__((noinline)) int load_across(struct cpu *c, vaddr_t va, unsigned size,
                                                 uint64_t *val)
{
	uint8_t *host[2];
	uint64_t v = 0;
	size_t n0;

	if (translate_across(c, "cpu_load", va, size, false, host, &n0))
		return -1;
	memcpy(&v, host[0], n0);
	memcpy((uint8_t *)&v + n0, host[1], size - n0);
	*val = v;
	c->probe->c.slow_loads++;
	return 0;
}

static __attribute__((noinline)) int store_across(struct cpu *c, vaddr_t va, unsigned size,
                                                  uint64_t val)
{
	uint8_t *host[2];
	size_t n0;

	if (translate_across(c, "cpu_store", va, size, true, host, &n0))
		return -1;
	memcpy(host[0], &val, n0);
	memcpy(host[1], (uint8_t *)&val + n0, size - n0);
	c->probe->c.slow_stores++;
	return 0;
}

/* The common case of the slow paths: one page (a miss, an older entry of
   the set, a clean or supervisor entry, an unaligned access within it). */
int cpu_load_slow(struct cpu *c, vaddr_t va, unsigned size, uint64_t *val)
{
	struct tlb_entry *e, *victim;
	uint8_t *host;

	check_size("cpu_load", size);
	if (__builtin_expect(!cpu_in_page(va, size), 0))
		return load_across(c, va, size, val);
	host = translate_hit(c, va, false, &e, &victim);
	if (!host)
		return load_miss(c, va, size, val, e, victim);
	*val = load_bytes(host, size);
	c->probe->c.slow_loads++;
	return 0;
}

int cpu_store_slow(struct cpu *c, vaddr_t va, unsigned size, uint64_t val)
{
	struct tlb_entry *e, *victim;
	uint8_t *host;

	check_size("cpu_store", size);
	if (__builtin_expect(!cpu_in_page(va, size), 0))
		return store_across(c, va, size, val);
	host = translate_hit(c, va, true, &e, &victim);
	if (!host)
		return store_miss(c, va, size, val, e, victim);
	store_bytes(host, val, size);
	c->probe->c.slow_stores++;
	return 0;
}

/* Bytes from va to the end of its page, at most n. */
static size_t page_chunk(vaddr_t va, size_t n)
{
	size_t left = PAGE_SIZE - (va & ~PAGE_MASK);

	return n < left ? n : left;
}

int cpu_read(struct cpu *c, vaddr_t va, void *buf, size_t n)
{
	uint8_t *out = buf;

	while (n) {
		size_t k = page_chunk(va, n);
		uint8_t *p = translate_one(c, "cpu_read", va, false);

		if (!p)
			return -1;
		memcpy(out, p, k);
		c->probe->c.slow_loads++;
		out += k;
		va += k;
		n -= k;
	}
	return 0;
}

int cpu_write(struct cpu *c, vaddr_t va, const void *buf, size_t n)
{
	const uint8_t *in = buf;

	while (n) {
		size_t k = page_chunk(va, n);
		uint8_t *p = translate_one(c, "cpu_write", va, true);

		if (!p)
			return -1;
		memcpy(p, in, k);
		c->probe->c.slow_stores++;
		in += k;
		va += k;
		n -= k;
	}
	return 0;
}

int cpu_fill(struct cpu *c, vaddr_t va, uint8_t byte, size_t n)
{
	while (n) {
		size_t k = page_chunk(va, n);
		uint8_t *p = translate_one(c, "cpu_fill", va, true);

		if (!p)
			return -1;
		memset(p, byte, k);
		c->probe->c.slow_stores++;
		va += k;
		n -= k;
	}
	return 0;
}

int cpu_check_fill(struct cpu *c, vaddr_t va, uint8_t byte, size_t n)
{
	while (n) {
		size_t k = page_chunk(va, n);
		uint8_t *p = translate_one(c, "cpu_check_fill", va, false);

		if (!p)
			return -1;
		c->probe->c.slow_loads++;
		/* p[0] == byte and p[i] == p[i+1] for all i: every byte is byte. */
		if (p[0] != byte || memcmp(p, p + 1, k - 1))
			return 1;
		va += k;
		n -= k;
	}
	return 0;
}

/*
 * Copies of at least this many bytes stream their pieces past the caches.
 * glibc's memcpy does so itself above x86_shared_non_temporal_threshold
 * (about 3/4 of the L3), but a copy cut into 4 KiB pieces never reaches
 * it: each piece would first read every destination line for ownership,
 * and a 64 MiB copy would run at a third of memcpy's bandwidth.
 */
#define CPU_STREAM_MIN (4ULL << 20)

/* memcpy of non-overlapping host bytes with non-temporal stores (SSE2). */
static void copy_streaming(uint8_t *d, const uint8_t *s, size_t n)
{
#ifdef __SSE2__
	size_t head = (16 - ((uintptr_t)d & 15)) & 15; /* movntdq wants 16-byte aligned */

	head = head < n ? head : n;
	memcpy(d, s, head);
	d += head;
	s += head;
	n -= head;
	for (; n >= 64; n -= 64, d += 64, s += 64) {
		__m128i a = _mm_loadu_si128((const __m128i *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(s + 32));
		__m128i e = _mm_loadu_si128((const __m128i *)(s + 48));

		_mm_stream_si128((__m128i *)d, a);
		_mm_stream_si128((__m128i *)(d + 16), b);
		_mm_stream_si128((__m128i *)(d + 32), c);
		_mm_stream_si128((__m128i *)(d + 48), e);
	}
#endif
	memcpy(d, s, n);
}

/*
 * memmove through the MMU. Chunks end at a page boundary of the source or
 * of the destination, whichever comes first, so each is one translation of
 * each side. When dst lies above an overlapping src the chunks go from the
 * end down, so no source byte is overwritten before it is read.
 */
int cpu_copy(struct cpu *c, vaddr_t dst, vaddr_t src, size_t n)
{
	bool backward = dst > src && dst - src < n;
	bool stream = n >= CPU_STREAM_MIN;
	const bool w[2] = {false, true};

	while (n) {
		vaddr_t va[2];
		uint8_t *host[2];
		size_t k;

		if (!backward) {
			k = page_chunk(src, n);
			k = page_chunk(dst, k);
			va[0] = src;
			va[1] = dst;
		} else {
			/* The last bytes: back to the page start of src+n-1 / dst+n-1. */
			vaddr_t s_end = src + n, d_end = dst + n;

			k = ((s_end - 1) & ~PAGE_MASK) + 1;
			k = k < n ? k : n;
			if (((d_end - 1) & ~PAGE_MASK) + 1 < k)
				k = ((d_end - 1) & ~PAGE_MASK) + 1;
			va[0] = s_end - k;
			va[1] = d_end - k;
		}
		if (translate_two(c, "cpu_copy", 2, va, w, host))
			return -1;
		if (stream && (host[1] + k <= host[0] || host[0] + k <= host[1]))
			copy_streaming(host[1], host[0], k);
		else
			memmove(host[1], host[0], k);
		c->probe->c.slow_loads++;
		c->probe->c.slow_stores++;
		if (!backward) {
			src += k;
			dst += k;
		}
		n -= k;
	}
#ifdef __SSE2__
	if (stream)
		_mm_sfence(); /* order the streamed stores before what follows */
#endif
	return 0;
}

/*
 * Every valid TLB entry must match a present leaf of the tables in CR3: the
 * same frame, and no right the tables do not give (W needs R/W at every
 * level, U needs U/S at every level, D needs the leaf's Dirty bit). A
 * mismatch is a missing invlpg in the kernel.
 */
int cpu_check(struct cpu *c, FILE *err)
{
	int broken = tlb_check(&c->tlb, err); /* reports first, if broken */

	for (unsigned i = 0; !broken && i < TLB_FAST_SLOTS; i++) {
		const struct tlb_fast *f = &c->tlb.fast[i];

		if (f->e && f->addend != (uintptr_t)(c->ram + pfn_to_paddr(f->e->pfn)) -
		                             (f->e->vpn << PAGE_SHIFT)) {
			broken++;
			if (err)
				fprintf(err, "cpu_check: fast slot %u's frame is not its entry's\n",
				        i);
		}
	}

	for (unsigned i = 0; i < c->tlb.nsets * c->tlb.ways; i++) {
		const struct tlb_entry *t = &c->tlb.e[i];
		vaddr_t va = t->vpn << PAGE_SHIFT; /* the tag shifts out */
		struct walk w;
		pte_t allow = PTE_RW | PTE_US;
		const char *why = NULL;

		/* Entries of other PCIDs are the kernel's to vouch for (switch.c):
		   this CPU never uses them while it runs another. */
		if (t->vpn == TLB_VPN_NONE || (t->vpn & ~TLB_VPN_MASK) != c->tlb.tag)
			continue;
		if (c->cr3 == PFN_NONE || !pagewalk(c->phys, c->cr3, va, &w)) {
			why = "no present leaf";
		} else {
			for (int l = 0; l < PT_LEVELS; l++)
				allow &= w.entry[l];
			if (pte_pfn(w.entry[PT_LEVELS - 1]) != t->pfn)
				why = "other frame";
			else if ((t->perm & TLB_W) && !(allow & PTE_RW))
				why = "writable, tables say read-only";
			else if ((t->perm & TLB_U) && !(allow & PTE_US))
				why = "user, tables say supervisor";
			else if ((t->perm & TLB_D) && !(w.entry[PT_LEVELS - 1] & PTE_D))
				why = "dirty, PTE is clean";
		}
		if (!why)
			continue;
		if (!broken++ && err)
			fprintf(err,
			        "cpu_check: stale TLB entry va %#" PRIx64 " -> pfn %#" PRIx64
			        ": %s (pte %#" PRIx64 ")\n",
			        va, (uint64_t)t->pfn, why,
			        c->cr3 == PFN_NONE ? 0 : w.entry[PT_LEVELS - 1]);
	}
	return broken;
}
