/*
 * madvise.h - the lazy-free state that MADV_FREE leaves (madvise.c), for
 * the reclaim code to come. In Linux, folio_mark_lazyfree clears the
 * folio's SwapBacked flag and moves it to the inactive file LRU; reclaim
 * then drops a lazily freed folio whose PTE is still clean instead of
 * swapping it out (and puts it back, SwapBacked again, when a write
 * dirtied it). The model keeps the mark in the PTE itself: every other
 * anonymous PTE is installed dirty (do_anonymous_page, wp_page_copy,
 * wp_page_reuse), so a present, clean PTE of an anonymous frame is exactly
 * "lazily freed and not written since".
 */
#ifndef KERNEL_SIM_MADVISE_H
#define KERNEL_SIM_MADVISE_H

#include "task.h"

/* e maps an anonymous frame that MADV_FREE marked and nobody wrote since:
   reclaim may free it (the PTE becomes none; the next touch faults a zeroed
   page) without writing it anywhere. */
bool pte_lazyfree(struct kernel *k, pte_t e);

#endif
