/*
 * rmap.h - the reverse map of anonymous pages (mm/rmap.c, include/linux/rmap.h):
 * from a frame to every page-table entry that maps it.
 *
 * A page fault maps a new anonymous frame in one address space; fork then
 * maps it in the child too, and copy-on-write or exit unmaps it again. To
 * find all those PTEs from the frame (what reclaim's try_to_unmap needs),
 * Linux records in the folio its anon_vma (folio->mapping) and its page
 * index (folio->index), and links every VMA that may map pages of an
 * anon_vma into it (anon_vma_chain). rmap_walk_anon then visits each such
 * VMA, computes the address of the page in it (vma_address: vm_start +
 * (index - vm_pgoff) pages) and looks at the PTE there.
 *
 * The model keeps that shape with one simplification: an anon_vma links
 * address spaces (mm_structs), not single VMAs, and a walk looks at every
 * VMA of a linked mm whose page range holds the index. It finds the same
 * PTEs (each is checked to map the frame); Linux's per-VMA chains only make
 * the walk shorter. Each mm owns one anon_vma for the pages it faults in
 * (anon_vma_prepare) and is linked to its ancestors' too (anon_vma_fork),
 * since it shares their pages after fork; a page that becomes exclusive on
 * a write fault moves to the writer's anon_vma (folio_move_anon_rmap).
 *
 * Per frame the kernel keeps a struct anon_rmap in k->anon_rmap (host
 * memory reserved like RAM itself and backed only where written): the
 * folio's anon_vma, index, mapcount and PageAnonExclusive. A frame's
 * refcount (struct frame) counts its mappings and any other reference; in
 * this model there is no other (no GUP, page cache or swap cache yet), so
 * for an anonymous frame refcount == mapcount, which rmap_check verifies.
 */
#ifndef KERNEL_SIM_RMAP_H
#define KERNEL_SIM_RMAP_H

#include <stdio.h>

#include "kernel.h"

/* What struct folio says for the reverse map, one per frame (16 bytes). */
struct anon_rmap {
	uint32_t anon_vma;      /* id in k->anon_vmas; 0 when the frame is not anonymous */
	uint32_t mapcount;      /* PTEs mapping it (Linux's _mapcount + 1) */
	uint64_t index : 63;    /* folio->index: linear page index where first mapped */
	uint64_t exclusive : 1; /* PageAnonExclusive: mapped by one PTE, may be reused */
};

/*
 * An anon_vma: a family of address spaces that may map its pages. root is
 * the oldest ancestor (the anon_vma of the mm that was never forked from
 * one), parent the anon_vma of the mm this one's mm was forked from.
 * refcount = mms linked + child anon_vmas: it is freed when no mm can map
 * its pages any more and no younger anon_vma names it as parent.
 */
struct anon_vma {
	uint32_t id;
	int refcount;
	struct anon_vma *root, *parent;
	struct mm_struct **mms; /* anon_vma_chain: the mms linked here */
	size_t nr_mms, cap_mms;
};

/* Boot and shutdown: the per-frame array (reserved, lazily backed) and the
   table of anon_vmas. 0, or -1 with errno (mmap's). */
int rmap_init(struct kernel *k);
void rmap_fini(struct kernel *k);

static inline struct anon_rmap *folio_rmap(struct kernel *k, pfn_t pfn)
{
	return &k->anon_rmap[pfn];
}

/* The PTEs that map the anonymous frame pfn (folio_mapcount): 2 or more
   when address spaces share it since fork. Read-only, for the front ends;
   only for a frame of kind FK_ANON (others read 0 or stale counts). */
static inline unsigned folio_mapcount(const struct kernel *k, pfn_t pfn)
{
	return k->anon_rmap[pfn].mapcount;
}

/* The anon_vma of id (NULL for 0); panics on an id that names none. */
struct anon_vma *anon_vma_by_id(struct kernel *k, uint32_t id);

/*
 * anon_vma_prepare: make sure vma (of mm) has an anon_vma identity (which
 * decides what may merge: mm.h) and mm the anon_vma its new pages join.
 * A VMA with an identity implies the mm has its anon_vma, so the common
 * case is one test, inline: it runs on every anonymous write fault.
 */
void __anon_vma_prepare(struct kernel *k, struct mm_struct *mm, struct vm_area_struct *vma);
static inline void anon_vma_prepare(struct kernel *k, struct mm_struct *mm,
				    struct vm_area_struct *vma)
{
	if (__builtin_expect(!vma->anon_vma, 0))
		__anon_vma_prepare(k, mm, vma);
}

/*
 * At fork (kernel/fork.c dup_mmap -> anon_vma_fork): link child to every
 * anon_vma the parent is linked to (anon_vma_clone), then, when the parent
 * has pages, give the child its own anon_vma, a child of the parent's.
 * The child's VMAs keep the parent's anon_vma identities (they only decide
 * merges within one mm). Emits anon_vma_fork call/return.
 */
void anon_vma_fork(struct kernel *k, struct mm_struct *child, struct mm_struct *parent);
/* At exit (free_pgtables -> unlink_anon_vmas): unlink mm from every
   anon_vma, freeing those nobody needs any more. */
void unlink_anon_vmas(struct kernel *k, struct mm_struct *mm);

/*
 * A new anonymous frame mapped at address of vma in mm, its only mapping
 * (folio_add_new_anon_rmap with RMAP_EXCLUSIVE). anon_vma_prepare first:
 * the frame joins mm's anon_vma.
 */
static inline void folio_add_new_anon_rmap(struct kernel *k, pfn_t pfn, struct mm_struct *mm,
					   const struct vm_area_struct *vma, vaddr_t address)
{
	struct anon_rmap *r = folio_rmap(k, pfn);

	r->anon_vma = mm->anon_vma->id;
	r->mapcount = 1;
	r->index = linear_page_index(vma, address);
	r->exclusive = 1;
}

/* fork copies a PTE of the frame: one more mapping, no longer exclusive
   (folio_try_dup_anon_rmap_pte; nothing pins pages here, so it never fails). */
static inline void folio_dup_anon_rmap_pte(struct kernel *k, pfn_t pfn)
{
	struct anon_rmap *r = folio_rmap(k, pfn);

	r->mapcount++;
	r->exclusive = 0;
}

/* One PTE of the frame went (folio_remove_rmap_pte). When the last goes, the
   frame is about to be freed: its rmap is cleared. */
void folio_remove_rmap_pte(struct kernel *k, pfn_t pfn);

/* do_wp_page reuses a frame only this mapping holds: it becomes exclusive
   and moves to mm's anon_vma (folio_move_anon_rmap, SetPageAnonExclusive). */
void folio_move_anon_rmap(struct kernel *k, pfn_t pfn, const struct mm_struct *mm);

/* What rmap_walk_anon found: one PTE mapping the frame. */
struct rmap_hit {
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	vaddr_t address;
	pfn_t pt;     /* the PT frame holding the entry */
	unsigned idx; /* its index there */
};

/*
 * rmap_walk_anon: call fn for every PTE that maps pfn (an anonymous frame),
 * found through its anon_vma alone (page_vma_mapped_walk checks each
 * candidate maps pfn). fn returns false to stop the walk. Returns the
 * number of PTEs visited. No events: try_to_unmap and folio_referenced,
 * which walk with it, emit their own. fn must not change the VMAs of the
 * mm it is given.
 */
typedef bool (*rmap_one_t)(struct kernel *k, const struct rmap_hit *h, void *arg);
unsigned rmap_walk_anon(struct kernel *k, pfn_t pfn, rmap_one_t fn, void *arg);

/*
 * The reverse map agrees with the page tables of every address space: each
 * anonymous frame's refcount equals its mapcount and the PTEs that map it in
 * all mms; rmap_walk_anon finds every one of them; an exclusive frame has one
 * mapping; every anon_vma's refcount matches its links; each linked mm lists
 * it; an mm with a VMA that has an anon_vma identity has its own anon_vma.
 * Returns #broken, reports the first.
 */
int rmap_check(struct kernel *k, FILE *err);

#endif
