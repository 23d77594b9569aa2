/*
 * bench_frame.c - bytes_per_frame: host bytes of bookkeeping per simulated
 * frame beyond its 4096 bytes of content (Linux's struct page is 64).
 *
 * Counted two ways, and the larger is the figure:
 *  - declared: sizeof(struct frame), plus every other host structure that
 *    grows with the number of frames: the reclaim side of each folio
 *    (struct folio of kernel_sim/lru.h: LRU links, flags, swap slot) and
 *    its reverse map (struct anon_rmap of kernel_sim/rmap.h: anon_vma,
 *    index, mapcount), written for every frame that holds an anonymous
 *    page. The buddy free lists are threaded through struct frame, the TLB
 *    and free_area[] are of fixed size, and page-table pages are simulated
 *    frames, not host memory.
 *  - measured: boot a 1 GiB machine in a fresh process, take every frame
 *    from the buddy allocator in order-10 blocks (which writes every
 *    descriptor and no byte of content), write the folio of each as a
 *    fault would, and divide the growth of the process's RSS, less the
 *    host pages that back simulated RAM's content (mincore: the boot
 *    writes a few frames, the kernel's own, and RAM lies on 2 MiB host
 *    pages, so one such write backs 512 frames' content), by the number
 *    of frames.
 * Not counted: the host kernel's own page tables for the pages of
 * simulated RAM the host has backed (8 bytes per touched page, in the host
 * kernel, not in this process's RSS).
 */
#include <sys/mman.h>

#include "bench.h"
#include "kernel_sim/rmap.h"

/* Bytes of [mem, mem + pages * 4096) the host has backed; vec holds pages. */
static double resident_bytes(void *mem, uint64_t pages, unsigned char *vec)
{
	uint64_t n = 0;

	if (mincore(mem, pages * PAGE_SIZE, vec) != 0) {
		perror("bench_frame: mincore");
		exit(2);
	}
	for (uint64_t i = 0; i < pages; i++)
		n += vec[i] & 1;
	return (double)n * PAGE_SIZE;
}

int main(void)
{
	struct kernel *k = calloc(1, sizeof(*k));
	struct kernel_opts ko;
	long before, after;
	uint64_t taken = 0, pages;
	cJSON *o = cJSON_CreateObject();
	unsigned char *vec;
	double content;

	kernel_default_opts(&ko);
	ko.phys_bytes = 1ULL << 30;
	pages = ko.phys_bytes / PAGE_SIZE;
	vec = malloc(pages);
	if (!vec)
		exit(2);
	memset(vec, 0, pages); /* backed before the first reading */
	before = bench_status_kib("VmRSS");
	if (kernel_boot(k, &ko, stderr) < 0)
		exit(2);
	for (;;) {
		pfn_t p = buddy_alloc(&k->buddy, MAX_PAGE_ORDER, FK_KERNEL);

		if (p == PFN_NONE)
			break;
		for (pfn_t i = 0; i < 1ULL << MAX_PAGE_ORDER; i++) {
			pfn_folio(&k->lruvec, p + i)->flags = PG_swapbacked; /* folio_add_lru_vma */
			folio_rmap(k, p + i)->index = p + i; /* folio_add_new_anon_rmap */
		}
		taken += 1ULL << MAX_PAGE_ORDER;
	}
	after = bench_status_kib("VmRSS");
	content = resident_bytes(k->phys.mem, pages, vec);

	double measured =
	    ((double)(after - before) * 1024.0 - content) / (double)k->phys.nr_frames;
	double declared =
	    (double)(sizeof(struct frame) + sizeof(struct folio) + sizeof(struct anon_rmap));

	cJSON_AddNumberToObject(o, "bytes_per_frame", measured > declared ? measured : declared);
	cJSON_AddNumberToObject(o, "sizeof_struct_frame", (double)sizeof(struct frame));
	cJSON_AddNumberToObject(o, "sizeof_struct_folio", (double)sizeof(struct folio));
	cJSON_AddNumberToObject(o, "sizeof_struct_anon_rmap", (double)sizeof(struct anon_rmap));
	cJSON_AddNumberToObject(o, "measured_bytes_per_frame", measured);
	cJSON_AddNumberToObject(o, "ram_content_backed_kib", content / 1024);
	cJSON_AddNumberToObject(o, "frames", (double)k->phys.nr_frames);
	cJSON_AddNumberToObject(o, "frames_taken", (double)taken);
	bench_emit(o);
	/* The frames stay taken: the process ends here, the host takes it all back. */
	return 0;
}
