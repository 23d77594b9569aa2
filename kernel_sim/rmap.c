/*
 * rmap.c - the reverse map of anonymous pages (mm/rmap.c: anon_vma_prepare,
 * anon_vma_fork, anon_vma_clone, unlink_anon_vmas, folio_add_new_anon_rmap,
 * folio_try_dup_anon_rmap_pte, folio_remove_rmap_pte, folio_move_anon_rmap,
 * rmap_walk_anon, vma_address; mm/page_vma_mapped.c page_vma_mapped_walk).
 * rmap.h explains the model and where it is simpler than Linux.
 */
#include "rmap.h"

#include <stdarg.h>
#include <stdlib.h>

#include "../vm/hostmem.h"
#include "../vm/pagetable.h"
#include "../vm/panic.h"
#include "pgtable.h"
#include "task.h"

#define K LAYER_KERNEL

int rmap_init(struct kernel *k)
{
	size_t bytes = k->phys.nr_frames * sizeof(struct anon_rmap);
	void *p = hostmem_map(bytes, false);

	if (!p)
		return -1;
	k->anon_rmap = p;
	k->anon_vmas = NULL;
	k->nr_anon_vmas = k->cap_anon_vmas = 0;
	k->free_ids = NULL;
	k->nr_free_ids = k->cap_free_ids = 0;
	return 0;
}

void rmap_fini(struct kernel *k)
{
	if (k->anon_rmap)
		hostmem_unmap(k->anon_rmap, k->phys.nr_frames * sizeof(struct anon_rmap));
	k->anon_rmap = NULL;
	for (size_t i = 0; i < k->nr_anon_vmas; i++)
		if (k->anon_vmas[i]) {
			hostmem_free(k->anon_vmas[i]->mms);
			hostmem_free(k->anon_vmas[i]);
		}
	hostmem_free(k->anon_vmas);
	hostmem_free(k->free_ids);
	k->anon_vmas = NULL;
	k->free_ids = NULL;
	k->nr_anon_vmas = k->cap_anon_vmas = k->nr_free_ids = k->cap_free_ids = 0;
}

struct anon_vma *anon_vma_by_id(struct kernel *k, uint32_t id)
{
	if (id == 0)
		return NULL;
	if (id >= k->nr_anon_vmas || !k->anon_vmas[id])
		panic("anon_vma %u does not exist", id);
	return k->anon_vmas[id];
}

/* anon_vma_alloc: a new anon_vma with no links, refcount 0. Ids start at 1. */
static struct anon_vma *anon_vma_alloc(struct kernel *k)
{
	struct anon_vma *av = hostmem_calloc(1, sizeof(*av));
	uint32_t id;

	if (!av)
		host_oom("an anon_vma");
	if (k->nr_anon_vmas == 0) {
		GROW_ARRAY(k->anon_vmas, k->cap_anon_vmas, 16);
		k->anon_vmas[k->nr_anon_vmas++] = NULL; /* id 0: none */
	}
	if (k->nr_free_ids) {
		id = k->free_ids[--k->nr_free_ids];
	} else {
		if (k->nr_anon_vmas == k->cap_anon_vmas)
			GROW_ARRAY(k->anon_vmas, k->cap_anon_vmas, 16);
		id = (uint32_t)k->nr_anon_vmas++;
	}
	av->id = id;
	av->root = av;
	k->anon_vmas[id] = av;
	return av;
}

/* Drop one reference; the last frees av and drops its parent's (put_anon_vma). */
static void put_anon_vma(struct kernel *k, struct anon_vma *av)
{
	while (av && --av->refcount == 0) {
		struct anon_vma *parent = av->parent;

		if (av->nr_mms)
			panic("anon_vma %u freed with %zu mms linked", av->id, av->nr_mms);
		k->anon_vmas[av->id] = NULL;
		if (k->nr_free_ids == k->cap_free_ids)
			GROW_ARRAY(k->free_ids, k->cap_free_ids, 16);
		k->free_ids[k->nr_free_ids++] = av->id;
		hostmem_free(av->mms);
		hostmem_free(av);
		av = parent;
	}
}

/* anon_vma_chain_link: mm may map pages of av from now on. */
static void anon_vma_chain_link(struct anon_vma *av, struct mm_struct *mm)
{
	if (av->nr_mms == av->cap_mms)
		GROW_ARRAY(av->mms, av->cap_mms, 4);
	av->mms[av->nr_mms++] = mm;
	av->refcount++;
	if (mm->nr_avc == mm->cap_avc)
		GROW_ARRAY(mm->avc, mm->cap_avc, 4);
	mm->avc[mm->nr_avc++] = av;
}

void __anon_vma_prepare(struct kernel *k, struct mm_struct *mm, struct vm_area_struct *vma)
{
	/* No events: vmf_anon_prepare, the step around it, has them. */
	if (!mm->anon_vma) {
		struct anon_vma *av = anon_vma_alloc(k);

		anon_vma_chain_link(av, mm);
		mm->anon_vma = av;
	}
	if (!vma->anon_vma)
		vma->anon_vma = ++mm->anon_vma_seq;
}

void anon_vma_fork(struct kernel *k, struct mm_struct *child, struct mm_struct *parent)
{
	struct anon_vma *av;

	probe_call(&k->probe, K, "anon_vma_fork", {"links", parent->nr_avc});
	/* anon_vma_clone: the child maps the parent's pages, so it joins every
	   family the parent belongs to. */
	for (size_t i = 0; i < parent->nr_avc; i++)
		anon_vma_chain_link(parent->avc[i], child);
	if (parent->anon_vma) {
		av = anon_vma_alloc(k);
		av->parent = parent->anon_vma;
		av->root = parent->anon_vma->root;
		av->parent->refcount++;
		anon_vma_chain_link(av, child);
		child->anon_vma = av;
	}
	probe_ret(&k->probe, K, "anon_vma_fork", {"ret", child->anon_vma ? child->anon_vma->id : 0});
}

void unlink_anon_vmas(struct kernel *k, struct mm_struct *mm)
{
	probe_call(&k->probe, K, "unlink_anon_vmas", {"links", mm->nr_avc});
	for (size_t i = 0; i < mm->nr_avc; i++) {
		struct anon_vma *av = mm->avc[i];
		size_t j;

		for (j = 0; j < av->nr_mms && av->mms[j] != mm; j++)
			;
		if (j == av->nr_mms)
			panic("mm not on the chain of anon_vma %u", av->id);
		av->mms[j] = av->mms[--av->nr_mms];
		put_anon_vma(k, av);
	}
	mm->nr_avc = 0;
	mm->anon_vma = NULL;
	probe_ret(&k->probe, K, "unlink_anon_vmas");
}

void folio_remove_rmap_pte(struct kernel *k, pfn_t pfn)
{
	struct anon_rmap *r = folio_rmap(k, pfn);

	if (r->mapcount == 0)
		panic("pfn %#llx: mapcount underflow", (unsigned long long)pfn);
	if (--r->mapcount == 0)
		*r = (struct anon_rmap){0};
}

void folio_move_anon_rmap(struct kernel *k, pfn_t pfn, const struct mm_struct *mm)
{
	struct anon_rmap *r = folio_rmap(k, pfn);

	if (r->mapcount != 1 || !mm->anon_vma)
		panic("pfn %#llx: moving a page mapped %u times", (unsigned long long)pfn,
		      r->mapcount);
	r->anon_vma = mm->anon_vma->id;
	r->exclusive = 1;
}

/*
 * page_vma_mapped_walk for one candidate: the PTE at address in mm, when
 * present and mapping pfn.
 */
static bool page_vma_mapped(struct kernel *k, struct mm_struct *mm, vaddr_t address, pfn_t pfn,
                            pfn_t *pt, unsigned *idx)
{
	pfn_t table = pgtable_lookup(k, mm, address);
	pte_t e;

	if (table == PFN_NONE)
		return false;
	e = pt_get(&k->phys, table, pt_index(address, 1));
	if (!pte_maps_page(e) || pte_pfn(e) != pfn)
		return false;
	*pt = table;
	*idx = pt_index(address, 1);
	return true;
}

unsigned rmap_walk_anon(struct kernel *k, pfn_t pfn, rmap_one_t fn, void *arg)
{
	const struct anon_rmap *r = folio_rmap(k, pfn);
	struct anon_vma *av = anon_vma_by_id(k, r->anon_vma);
	uint64_t index = r->index;
	unsigned found = 0;

	if (!av)
		return 0;
	for (size_t i = 0; i < av->nr_mms; i++) {
		struct mm_struct *mm = av->mms[i];

		for (size_t v = 0; v < mm->nr_vmas; v++) {
			struct vm_area_struct *vma = &mm->vmas[v];
			uint64_t pages = (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
			struct rmap_hit h = {.mm = mm, .vma = vma};

			/* vma_address: the page's address here, if the VMA spans it */
			if (index < vma->vm_pgoff || index - vma->vm_pgoff >= pages)
				continue;
			h.address = vma->vm_start + ((index - vma->vm_pgoff) << PAGE_SHIFT);
			if (!page_vma_mapped(k, mm, h.address, pfn, &h.pt, &h.idx))
				continue;
			found++;
			if (fn && !fn(k, &h, arg))
				return found;
		}
	}
	return found;
}

/* ---- checking ---------------------------------------------------------- */

struct rmap_census {
	FILE *err;
	int broken;
};

static void rc_report(struct rmap_census *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void rc_report(struct rmap_census *c, const char *fmt, ...)
{
	if (c->err && c->broken == 0) {
		va_list ap;

		fputs("rmap_check: ", c->err);
		va_start(ap, fmt);
		vfprintf(c->err, fmt, ap);
		va_end(ap);
		fputc('\n', c->err);
	}
	c->broken++;
}

/* Count the present anonymous leaves of each frame below table into count. */
static void count_level(struct kernel *k, pfn_t table, int level, uint32_t *count)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		pte_t e = pt_get(&k->phys, table, i);

		if (!(level > 1 ? pte_present(e) : pte_maps_page(e)) ||
		    !phys_valid_pfn(&k->phys, pte_pfn(e)))
			continue;
		if (level > 1)
			count_level(k, pte_pfn(e), level - 1, count);
		else if (pte_pfn(e) != k->zero_pfn)
			count[pte_pfn(e)]++;
	}
}

/* Every distinct mm of the live tasks, once (threads share one). */
static bool mm_seen_before(struct kernel *k, const struct task *t)
{
	for (const struct task *u = k->tasks; u != t; u = u->next_task)
		if (u->mm == t->mm)
			return true;
	return false;
}

int rmap_check(struct kernel *k, FILE *err)
{
	struct rmap_census c = {.err = err};
	uint32_t *count = hostmem_calloc(k->phys.nr_frames, sizeof(*count));

	if (!count)
		host_oom("the rmap census");
	for (struct task *t = k->tasks; t; t = t->next_task) {
		struct mm_struct *mm = t->mm;

		if (!mm || mm->pgd == PFN_NONE || mm_seen_before(k, t))
			continue;
		count_level(k, mm->pgd, PT_LEVELS, count);
		for (size_t i = 0; i < mm->nr_avc; i++) {
			struct anon_vma *av = mm->avc[i];
			size_t j;

			for (j = 0; j < av->nr_mms && av->mms[j] != mm; j++)
				;
			if (j == av->nr_mms)
				rc_report(&c, "task %d links anon_vma %u, which does not list it",
				          t->pid, av->id);
		}
		if (mm->anon_vma && (mm->nr_avc == 0 || mm->avc[mm->nr_avc - 1] != mm->anon_vma))
			rc_report(&c, "task %d's own anon_vma is not its last link", t->pid);
		for (size_t i = 0; i < mm->nr_vmas; i++)
			if (mm->vmas[i].anon_vma && !mm->anon_vma)
				rc_report(&c, "task %d: VMA at %#llx has an anon_vma, its mm none",
				          t->pid, (unsigned long long)mm->vmas[i].vm_start);
	}
	for (pfn_t pfn = 0; pfn < k->phys.nr_frames; pfn++) {
		const struct frame *f = phys_frame(&k->phys, pfn);
		const struct anon_rmap *r = folio_rmap(k, pfn);
		unsigned walked;

		if (f->kind != FK_ANON) {
			if (r->anon_vma || r->mapcount)
				rc_report(&c, "%s pfn %#llx has an anon rmap", frame_kind_name(f->kind),
				          (unsigned long long)pfn);
			if (count[pfn])
				rc_report(&c, "%s pfn %#llx mapped %u times as a user page",
				          frame_kind_name(f->kind), (unsigned long long)pfn, count[pfn]);
			continue;
		}
		if ((uint32_t)frame_refcount(f) != r->mapcount || r->mapcount != count[pfn]) {
			rc_report(&c, "anon pfn %#llx: refcount %d, mapcount %u, mapped %u times",
			          (unsigned long long)pfn, frame_refcount(f), r->mapcount, count[pfn]);
			continue;
		}
		if (r->exclusive && r->mapcount != 1)
			rc_report(&c, "anon pfn %#llx exclusive but mapped %u times",
			          (unsigned long long)pfn, r->mapcount);
		if (r->anon_vma == 0 || r->anon_vma >= k->nr_anon_vmas || !k->anon_vmas[r->anon_vma]) {
			rc_report(&c, "anon pfn %#llx names anon_vma %u, which does not exist",
			          (unsigned long long)pfn, r->anon_vma);
			continue;
		}
		walked = rmap_walk_anon(k, pfn, NULL, NULL);
		if (walked != count[pfn])
			rc_report(&c, "anon pfn %#llx: mapped %u times, rmap_walk_anon finds %u",
			          (unsigned long long)pfn, count[pfn], walked);
	}
	for (size_t id = 1; id < k->nr_anon_vmas; id++) {
		const struct anon_vma *av = k->anon_vmas[id];
		int children = 0;

		if (!av)
			continue;
		for (size_t j = 1; j < k->nr_anon_vmas; j++)
			children += k->anon_vmas[j] && k->anon_vmas[j]->parent == av;
		if (av->refcount != (int)av->nr_mms + children || av->refcount <= 0)
			rc_report(&c, "anon_vma %zu: refcount %d, %zu mms and %d children", id,
			          av->refcount, av->nr_mms, children);
		if (!av->root || av->root->root != av->root)
			rc_report(&c, "anon_vma %zu: bad root", id);
	}
	hostmem_free(count);
	return c.broken;
}
