/*
 * madvise.h - the lazy-free state that MADV_FREE leaves (madvise.c). As in
 * Linux, folio_mark_lazyfree clears the folio's PG_swapbacked (lru.h) and
 * makes its PTE clean; reclaim (vmscan.c) then drops a lazily freed folio
 * whose PTE is still clean instead of swapping it out, and gives it back
 * PG_swapbacked when a write dirtied it. (Linux also moves it to the
 * inactive file LRU, which is scanned without swap; the model has only the
 * anonymous lists, so it stays on the inactive anonymous one and is
 * dropped when that list is scanned, that is with swap on.) The clean PTE
 * alone is no mark: a page read back from swap is mapped clean too.
 */
#ifndef KERNEL_SIM_MADVISE_H
#define KERNEL_SIM_MADVISE_H

#include "task.h"

/* e maps an anonymous frame that MADV_FREE marked (not PG_swapbacked) and
   nobody wrote since (clean): reclaim may free it (the PTE becomes none;
   the next touch faults a zeroed page) without writing it anywhere. */
bool pte_lazyfree(struct kernel *k, pte_t e);

#endif
