/*
 * swap.c - the swap area: swapon/swapoff (mm/swapfile.c SYSCALL_DEFINE2(swapon),
 * SYSCALL_DEFINE1(swapoff), try_to_unuse), slots (folio_alloc_swap ->
 * scan_swap_map_slots, swap_duplicate, swap_free -> swap_entry_free), the
 * swap cache (mm/swap_state.c add_to_swap, __delete_from_swap_cache,
 * swap_cache_get_folio) and the device's I/O (mm/page_io.c swap_writepage,
 * swap_read_folio), /proc/swaps (swap_show). See swap.h.
 */
#include "swap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/hostmem.h"
#include "../vm/panic.h"
#include "overcommit.h"
#include "pgtable.h"
#include "printk.h"
#include "rmap.h"
#include "syscall.h"
#include "syscalls.h"

#define K LAYER_KERNEL

uint64_t swap_total_pages(const struct kernel *k)
{
	return k->swap && (k->swap->flags & SWP_WRITEOK) ? k->swap->pages : 0;
}

uint64_t swap_free_pages(const struct kernel *k)
{
	return swap_total_pages(k) ? k->swap->pages - k->swap->inuse_pages : 0;
}

static void *reserve(uint64_t bytes)
{
	return hostmem_map(bytes, false);
}

static void swap_info_free(struct swap_info_struct *si)
{
	if (si->store)
		hostmem_unmap(si->store, si->max * PAGE_SIZE);
	if (si->cache)
		hostmem_unmap(si->cache, si->max * sizeof(*si->cache));
	if (si->swap_map)
		hostmem_unmap(si->swap_map, si->max);
	hostmem_free(si);
}

int swapon_area(struct kernel *k, uint64_t bytes)
{
	struct swap_info_struct *si;

	if (k->swap)
		return -SIM_EBUSY; /* the device is already an active swap area */
	/* read_swap_header: mkswap would not have made an area this small; one
	   larger than the model's bound cannot be backed. */
	if (bytes < SWAP_MIN_BYTES || bytes > SWAP_MAX_BYTES)
		return -SIM_EINVAL;
	si = hostmem_calloc(1, sizeof(*si));
	if (!si)
		host_oom("a swap area");
	si->max = bytes / PAGE_SIZE;
	si->pages = si->max - 1;
	si->swap_map = reserve(si->max);
	si->cache = reserve(si->max * sizeof(*si->cache));
	si->store = reserve(si->max * PAGE_SIZE);
	if (!si->swap_map || !si->cache || !si->store) {
		swap_info_free(si);
		return -SIM_ENOMEM;
	}
	si->swap_map[0] = SWAP_MAP_BAD; /* the header page */
	si->cluster_next = 1;
	si->prio = -2; /* --least_priority, starting at -1 */
	si->flags = SWP_USED | SWP_WRITEOK;
	k->swap = si;
	/* _enable_swap_info's message */
	printk(k, "Adding %lluk swap on %s.  Priority:%d extents:1 across:%lluk SS",
	       (unsigned long long)(si->pages << (PAGE_SHIFT - 10)), SWAP_DEV_NAME, si->prio,
	       (unsigned long long)(si->pages << (PAGE_SHIFT - 10)));
	EV(&k->probe, K, EV_NOTE, "enable_swap_info", "swap area on", {"pages", si->pages});
	return 0;
}

int64_t sys_swapon(struct kernel *k, uint64_t bytes)
{
	int64_t ret;

	syscall_enter(k, SIM_NR_swapon, "__x64_sys_swapon", {"bytes", bytes});
	ret = swapon_area(k, bytes);
	syscall_exit(k, "__x64_sys_swapon", ret);
	return ret;
}

void swap_destroy(struct kernel *k)
{
	if (k->swap)
		swap_info_free(k->swap);
	k->swap = NULL;
}

unsigned swap_count(const struct kernel *k, uint64_t offset)
{
	return k->swap->swap_map[offset] & ~SWAP_HAS_CACHE;
}

static struct swap_info_struct *swap_info_get(struct kernel *k, uint64_t offset, const char *fn)
{
	struct swap_info_struct *si = k->swap;

	if (!si || offset == 0 || offset >= si->max)
		panic("%s: bad swap offset %#llx", fn, (unsigned long long)offset);
	return si;
}

/*
 * scan_swap_map_slots for one slot: the first free one at or after
 * cluster_next, wrapping once (Linux scans by clusters on SSDs; the next
 * slot after the last one taken is what it does on a rotating device).
 */
static uint64_t scan_swap_map_slots(struct swap_info_struct *si)
{
	for (uint64_t n = 0; n < si->pages; n++) {
		uint64_t off = si->cluster_next + n;

		if (off >= si->max)
			off -= si->pages;
		if (si->swap_map[off] == 0) {
			si->cluster_next = off + 1 < si->max ? off + 1 : 1;
			return off;
		}
	}
	return 0;
}

bool add_to_swap(struct kernel *k, pfn_t pfn)
{
	struct swap_info_struct *si = k->swap;
	struct folio *f = pfn_folio(&k->lruvec, pfn);
	uint64_t off = 0;

	probe_call(&k->probe, K, "add_to_swap", {"pfn", pfn});
	probe_call(&k->probe, K, "folio_alloc_swap", {"pfn", pfn});
	if (si && (si->flags & SWP_WRITEOK) && si->inuse_pages < si->pages)
		off = scan_swap_map_slots(si);
	probe_ret(&k->probe, K, "folio_alloc_swap", {"ret", off});
	if (off) {
		si->swap_map[off] = SWAP_HAS_CACHE;
		si->inuse_pages++;
		si->cache[off] = (uint32_t)pfn + 1;
		f->swap = (uint32_t)off;
		/* add_to_swap_cache, then folio_mark_dirty: the page must be written. */
		f->flags |= PG_swapcache | PG_dirty;
		EV(&k->probe, K, EV_NOTE, "add_to_swap_cache", "folio enters the swap cache",
		   {"pfn", pfn}, {"offset", off});
	}
	probe_ret(&k->probe, K, "add_to_swap", {"ret", off != 0});
	return off != 0;
}

/* swap_entry_free: the slot's last reference went. */
static void swap_entry_free(struct kernel *k, struct swap_info_struct *si, uint64_t off)
{
	si->swap_map[off] = 0;
	si->inuse_pages--;
	EV(&k->probe, K, EV_NOTE, "swap_entry_free", "swap slot freed", {"offset", off});
}

void delete_from_swap_cache(struct kernel *k, pfn_t pfn)
{
	struct folio *f = pfn_folio(&k->lruvec, pfn);
	uint64_t off = f->swap;
	struct swap_info_struct *si = swap_info_get(k, off, "delete_from_swap_cache");

	if (!(f->flags & PG_swapcache) || si->cache[off] != (uint32_t)pfn + 1)
		panic("delete_from_swap_cache: pfn %#llx is not cached for slot %#llx",
		      (unsigned long long)pfn, (unsigned long long)off);
	EV(&k->probe, K, EV_NOTE, "__delete_from_swap_cache", "folio leaves the swap cache",
	   {"pfn", pfn}, {"offset", off});
	si->cache[off] = 0;
	f->flags &= ~(uint32_t)PG_swapcache;
	f->swap = 0;
	si->swap_map[off] &= ~SWAP_HAS_CACHE;
	if (si->swap_map[off] == 0)
		swap_entry_free(k, si, off);
}

void swap_duplicate(struct kernel *k, uint64_t offset)
{
	struct swap_info_struct *si = swap_info_get(k, offset, "swap_duplicate");

	if (swap_count(k, offset) >= SWAP_MAP_MAX)
		panic("swap_duplicate: slot %#llx count overflow (no continuation pages here)",
		      (unsigned long long)offset);
	si->swap_map[offset]++;
}

void swap_free(struct kernel *k, uint64_t offset)
{
	struct swap_info_struct *si = swap_info_get(k, offset, "swap_free");

	if (swap_count(k, offset) == 0)
		panic("swap_free: slot %#llx has no reference", (unsigned long long)offset);
	si->swap_map[offset]--;
	if (si->swap_map[offset] == 0)
		swap_entry_free(k, si, offset);
}

void add_to_swap_cache(struct kernel *k, pfn_t pfn, uint64_t offset)
{
	struct swap_info_struct *si = swap_info_get(k, offset, "add_to_swap_cache");
	struct folio *f = pfn_folio(&k->lruvec, pfn);

	if (si->cache[offset] || (f->flags & PG_swapcache))
		panic("add_to_swap_cache: slot %#llx or pfn %#llx already cached",
		      (unsigned long long)offset, (unsigned long long)pfn);
	si->swap_map[offset] |= SWAP_HAS_CACHE;
	si->cache[offset] = (uint32_t)pfn + 1;
	f->swap = (uint32_t)offset;
	f->flags |= PG_swapcache;
	EV(&k->probe, K, EV_NOTE, "add_to_swap_cache", "folio enters the swap cache", {"pfn", pfn},
	   {"offset", offset});
}

pfn_t swap_cache_get_folio(struct kernel *k, uint64_t offset)
{
	struct swap_info_struct *si = swap_info_get(k, offset, "swap_cache_get_folio");
	pfn_t pfn = si->cache[offset] ? (pfn_t)si->cache[offset] - 1 : PFN_NONE;

	probe_call(&k->probe, K, "swap_cache_get_folio", {"offset", offset});
	probe_ret(&k->probe, K, "swap_cache_get_folio", {"ret", pfn == PFN_NONE ? 0 : pfn});
	return pfn;
}

void swap_writepage(struct kernel *k, pfn_t pfn)
{
	struct folio *f = pfn_folio(&k->lruvec, pfn);
	struct swap_info_struct *si = swap_info_get(k, f->swap, "swap_writepage");

	probe_call(&k->probe, K, "swap_writepage", {"pfn", pfn}, {"offset", f->swap});
	phys_read(&k->phys, pfn_to_paddr(pfn), si->store + (uint64_t)f->swap * PAGE_SIZE,
	          PAGE_SIZE);
	count_vm_events(&k->vmstat, PSWPOUT, 1);
	count_vm_events(&k->vmstat, PGPGOUT, PAGE_SIZE >> 10);
	EV(&k->probe, K, EV_NOTE, "swap_writepage", "page written to swap", {"pfn", pfn},
	   {"offset", f->swap});
	probe_ret(&k->probe, K, "swap_writepage", {"ret", 0});
}

void swap_read_folio(struct kernel *k, pfn_t pfn, uint64_t offset)
{
	struct swap_info_struct *si = swap_info_get(k, offset, "swap_read_folio");

	probe_call(&k->probe, K, "swap_read_folio", {"pfn", pfn}, {"offset", offset});
	phys_write(&k->phys, pfn_to_paddr(pfn), si->store + offset * PAGE_SIZE, PAGE_SIZE);
	count_vm_events(&k->vmstat, PSWPIN, 1);
	count_vm_events(&k->vmstat, PGPGIN, PAGE_SIZE >> 10);
	EV(&k->probe, K, EV_NOTE, "swap_read_folio", "page read from swap", {"pfn", pfn},
	   {"offset", offset});
	probe_ret(&k->probe, K, "swap_read_folio", {"ret", 0});
}

/*
 * unuse_pte: the swapped page at va of mm comes back into a new frame, mapped
 * old and read-only as vm_page_prot of a private mapping is (a write then
 * reuses it in do_wp_page). false when no frame could be had.
 */
static bool unuse_pte(struct kernel *k, struct mm_struct *mm, struct vm_area_struct *vma,
                      pfn_t pt, unsigned idx, vaddr_t va, pte_t old)
{
	uint64_t off = pte_swp_offset(old);
	pfn_t pfn = buddy_alloc(&k->buddy, 0, FK_ANON);
	pte_t e;

	if (pfn == PFN_NONE)
		return false;
	swap_read_folio(k, pfn, off);
	/* pte_mkold(mk_pte(page, vma->vm_page_prot)): swapoff brings it back
	   old (not accessed), unlike a fault, which maps it young. */
	e = pte_mk(pfn, PTE_P | PTE_US | (vma->vm_flags & VM_EXEC ? 0 : PTE_NX));
	pt_set(&k->phys, pt, idx, e);
	EV(&k->probe, K, EV_PTE_SET, "unuse_pte", NULL, {"addr", va}, {"old", old}, {"new", e},
	   {"level", 1});
	mm->rss_stat[MM_SWAPENTS]--;
	mm->rss_stat[MM_ANONPAGES]++;
	if (mm->rss_stat[MM_ANONPAGES] > mm->hiwater_rss)
		mm->hiwater_rss = mm->rss_stat[MM_ANONPAGES];
	folio_add_new_anon(&k->lruvec, pfn);
	/* A slot fork left shared comes back as one page per PTE here (Linux
	   shares it through the swap cache): each is its own, exclusive. */
	anon_vma_prepare(k, mm, vma);
	folio_add_new_anon_rmap(k, pfn, mm, vma, va);
	swap_free(k, off);
	return true;
}

/* try_to_unuse: bring every page of the area back. 0 or -ENOMEM. */
static int try_to_unuse(struct kernel *k)
{
	int ret = 0;

	probe_call(&k->probe, K, "try_to_unuse");
	for (struct task *t = k->tasks; t && !ret; t = t->next_task) {
		struct mm_struct *mm = task_mm(t);

		for (size_t i = 0; mm && i < mm->nr_vmas && !ret; i++) {
			struct vm_area_struct *vma = &mm->vmas[i];

			for (vaddr_t va = vma->vm_start; va < vma->vm_end && !ret;) {
				pfn_t pt = pgtable_lookup(k, mm, va);
				vaddr_t next = (va | ((PAGE_SIZE << 9) - 1)) + 1;

				if (pt == PFN_NONE) {
					va = next;
					continue;
				}
				for (; va < vma->vm_end && va < next; va += PAGE_SIZE) {
					unsigned idx = pt_index(va, 1);
					pte_t e = pt_get(&k->phys, pt, idx);

					if (is_swap_pte(e) && !unuse_pte(k, mm, vma, pt, idx, va, e)) {
						ret = -SIM_ENOMEM;
						break;
					}
				}
			}
		}
	}
	probe_ret(&k->probe, K, "try_to_unuse", {"ret", (uint64_t)(int64_t)ret});
	return ret;
}

int64_t sys_swapoff(struct kernel *k)
{
	struct swap_info_struct *si = k->swap;
	int64_t ret = 0;

	syscall_enter(k, SIM_NR_swapoff, "__x64_sys_swapoff");
	if (!si) {
		ret = -SIM_EINVAL; /* not a swap area */
		goto out;
	}
	/* Everything swapped must fit in memory again (security_vm_enough_memory_mm
	   with the area still counted, as swapoff asks it). */
	if (vm_enough_memory(k, si->pages)) {
		ret = -SIM_ENOMEM;
		goto out;
	}
	si->flags &= ~(unsigned long)SWP_WRITEOK; /* no new slots: total_swap_pages drops */
	ret = try_to_unuse(k);
	if (ret) {
		si->flags |= SWP_WRITEOK; /* reinsert_swap_info */
		goto out;
	}
	if (si->inuse_pages)
		panic("swapoff: %llu slots still in use after try_to_unuse",
		      (unsigned long long)si->inuse_pages);
	swap_destroy(k);
	EV(&k->probe, K, EV_NOTE, "swapoff", "swap area off", {"pages", 0});
out:
	syscall_exit(k, "__x64_sys_swapoff", ret);
	return ret;
}

void swap_show(const struct kernel *k, FILE *out)
{
	const struct swap_info_struct *si = k->swap;

	/* swap_show: "%s%*s%s\t%lu\t%s%lu\t%s%d\n" after a header line */
	fputs("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n", out);
	if (!si || !(si->flags & SWP_WRITEOK))
		return;
	{
		const char *name = SWAP_DEV_NAME;
		int len = (int)strlen(name);
		unsigned long size = (unsigned long)(si->pages << (PAGE_SHIFT - 10));
		unsigned long used = (unsigned long)(si->inuse_pages << (PAGE_SHIFT - 10));

		fprintf(out, "%s%*s%s\t%lu\t%s%lu\t%s%d\n", name, len < 40 ? 40 - len : 1, " ",
		        "partition", size, size < 10000000 ? "\t" : "", used,
		        used < 10000000 ? "\t" : "", si->prio);
	}
}

int swap_check(struct kernel *k, FILE *err)
{
	struct swap_info_struct *si = k->swap;
	uint64_t used = 0;
	int broken = 0;

	if (!si)
		return 0;
	if (si->swap_map[0] != SWAP_MAP_BAD) {
		if (err)
			fprintf(err, "swap_check: the header slot is not SWAP_MAP_BAD\n");
		return 1;
	}
	for (uint64_t off = 1; off < si->max; off++) {
		uint8_t c = si->swap_map[off];

		if (c)
			used++;
		if (si->cache[off]) {
			pfn_t pfn = si->cache[off] - 1;
			const struct folio *f = pfn_folio(&k->lruvec, pfn);

			if (!(c & SWAP_HAS_CACHE) || !(f->flags & PG_swapcache) || f->swap != off) {
				if (!broken++ && err)
					fprintf(err, "swap_check: slot %#llx cached by pfn %#llx badly\n",
					        (unsigned long long)off, (unsigned long long)pfn);
			}
		} else if (c & SWAP_HAS_CACHE) {
			if (!broken++ && err)
				fprintf(err, "swap_check: slot %#llx SWAP_HAS_CACHE with no folio\n",
				        (unsigned long long)off);
		}
	}
	if (used != si->inuse_pages) {
		if (!broken++ && err)
			fprintf(err, "swap_check: %llu slots in use, inuse_pages %llu\n",
			        (unsigned long long)used, (unsigned long long)si->inuse_pages);
	}
	return broken;
}
