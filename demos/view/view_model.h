/*
 * view_model.h - what the viewer shows, read from a paused simulation.
 *
 * view_model_update reads the live state of a stepper's session at its
 * current event -- the call path, the VMAs and the break, the heap's chunks
 * (through the policy's side-door walker: no fault, no event), the page walk
 * of the address the path is working on, every frame's kind or buddy order,
 * the free lists, the TLB and the counters -- and what the current statement
 * did so far (the frame just taken, a buddy split or merge, a TLB fill).
 * Nothing here writes to the simulation or includes SDL: the snapshot is
 * re-read only when the event changes, and drawn as often as needed.
 */
#ifndef DEMOS_VIEW_MODEL_H
#define DEMOS_VIEW_MODEL_H

#include "../../kernel_sim/mm.h"
#include "../../vm/pagetable.h"
#include "../step/stepper.h"

#define VM_MAX_VMAS   64
#define VM_MAX_CHUNKS 512
#define VM_MAX_PATH   32

/* Per-frame code in view_model.fcode: a frame kind, or free of an order. */
#define FC_SHARED  15   /* an anonymous frame mapped by 2+ address spaces (fork) */
#define FC_FREE0   16   /* FC_FREE0 + order: free, in a block of that order */
#define FC_ODD     0x80 /* set on every other free block (for shading) */
#define FC_CODE(c) ((c)&0x7f)

struct vm_chunk {
	vaddr_t chunk, user;
	uint64_t size, flags;
	bool in_use, top, mmapped;
	unsigned arena; /* glibc: its arena's number (chunk_info.arena) */
	char where[24];
};

#define VM_MAX_ARENAS 16
#define VM_MAX_HEAPS  4
#define VM_MAX_ATTACHED 8

/*
 * One heap of a non-main glibc arena (heap_info, malloc/arena.c), as glibc
 * keeps it and as the kernel maps it: a HEAP_MAX_SIZE-aligned reservation
 * of HEAP_MAX_SIZE bytes, read-write up to mprotect_size, PROT_NONE beyond.
 * rw_end and none_end are read from the VMAs (what `show maps` prints), so
 * the two views can be compared.
 */
struct vm_heap {
	vaddr_t start;                 /* heap_info: the reservation's start */
	uint64_t size, mprotect_size;  /* heap_info's: in use, made read-write */
	uint64_t reserved;             /* HEAP_MAX_SIZE */
	vaddr_t rw_end;                /* end of the read-write VMAs from start */
	vaddr_t none_end;              /* end of the PROT_NONE VMAs after them */
	uint64_t resident;             /* pages with a frame in [start, rw_end) */
	bool has_top;                  /* the arena's top chunk is in it */
};

/* A glibc arena, as `show arenas` prints it (glibc_arenas_view). */
struct vm_arena {
	unsigned nr; /* malloc_stats's number: 0 main_arena */
	vaddr_t av, top;
	uint64_t top_size, system_mem, attached;
	bool on_free_list;
	int tids[VM_MAX_ATTACHED]; /* the threads whose thread_arena it is */
	unsigned nr_tids;
	struct vm_heap heaps[VM_MAX_HEAPS]; /* non-main: its heaps, newest first */
	unsigned nr_heaps, nr_heaps_total;
};

enum vm_buddy_op { VB_NONE, VB_SPLIT, VB_MERGE, VB_ALLOC, VB_FREE };

#define VM_MAX_TASKS 32

/* A task as the process selector lists it. */
struct vm_task {
	int pid, tgid, ppid;
	char state;   /* 'R', 'Z' (zombie), 'X' (reaped), as /proc shows it */
	bool current; /* the CPU runs it */
	bool has_mm;  /* it has an address space to show (not exited) */
	uint64_t rss; /* its anonymous pages (shared ones count in each) */
};

/* The other address space shown beside the selected one. */
struct vm_space {
	int pid; /* 0: none */
	struct vm_area_struct vmas[VM_MAX_VMAS];
	size_t nr_vmas;
	vaddr_t start_brk, brk;
	uint64_t rss;
};

struct view_model {
	bool valid;
	uint64_t seq;  /* the event shown */
	bool finished; /* the program ended (or died) */
	bool dead;
	char death[160]; /* the kernel's or glibc's report when dead */
	struct event cur;
	const char *policy;
	/* Processes. want_pid is the selector's choice, set by the front end
	   before an update (0: follow the task the CPU runs); sel_pid is the
	   process whose address space the panels show (the wanted one while it
	   has an address space, else the current task's); other the process
	   beside it: its parent, else its first child, with an address space. */
	int want_pid;
	struct vm_task tasks[VM_MAX_TASKS]; /* by pid, ascending */
	size_t nr_tasks, nr_tasks_total;
	int cur_pid;         /* the task the CPU runs (its tid) */
	char task_label[32]; /* "pid 2" (stepper_task_label) */
	int sel_pid;
	struct vm_space other;
	uint64_t nr_shared; /* anonymous frames mapped by 2+ address spaces */
	/* Call path: the statement, then the open calls (outermost first). */
	size_t stmt_idx, nr_stmts;
	int stmt_line;
	const char *stmt_text;
	char stmt_loops[96]; /* "i = 3": the loop variables around it, or "" */
	unsigned depth;
	const char *path[VM_MAX_PATH];
	uint8_t path_layer[VM_MAX_PATH];
	/* The address space. */
	struct vm_area_struct vmas[VM_MAX_VMAS];
	size_t nr_vmas;
	vaddr_t start_brk, brk, start_stack, mmap_base;
	/* The heap, from the policy's walker, of the selected process (sel_pid).
	   With glibc, the chunks of the selected arena only (the main arena's
	   with the mmapped chunks). */
	struct vm_chunk chunks[VM_MAX_CHUNKS];
	size_t nr_chunks, nr_chunks_total;
	/* glibc's arenas of the selected process. want_arena is the arena
	   selector's choice, set by the front end before an update (-1, as
	   view_model_init sets it: follow the arena of arena_tid); sel_arena
	   the arena shown (an index into arenas, 0 main_arena); arena_tid the
	   thread followed: the one statements run in when it belongs to the
	   process, else the running task, else the process's current thread;
	   its arena is cur_arena (-1: it has none yet). */
	int want_arena;
	struct vm_arena arenas[VM_MAX_ARENAS];
	unsigned nr_arenas, nr_arenas_total;
	unsigned sel_arena;
	int arena_tid, cur_arena;
	/* The task statements run in now (`in ID`): its tid, and "t3" for a
	   thread, "pid 2" for another process, "" for the script's program. */
	int stmt_tid;
	char stmt_task[16];
	vaddr_t heap_touched; /* chunk the last EV_HEAP of the statement named, or 0 */
	/* The page walk of addr. */
	vaddr_t addr;
	const char *addr_why; /* "the fault address (CR2)", ... */
	char why[96];
	bool have_addr;
	struct walk walk;
	pte_t leaf;
	int active_level; /* 4..1 the level being read or filled, 0 the frame, -1 none */
	/* Physical memory. */
	uint64_t nr_frames;
	uint8_t *fcode; /* nr_frames codes (FK_* or FC_FREE0+order, | FC_ODD) */
	uint64_t fcode_cap;
	pfn_t taken_pfn; /* the block the statement took last (PFN_NONE: none) */
	unsigned taken_order;
	enum vm_buddy_op bop; /* the latest buddy operation of the statement */
	pfn_t bop_pfn;
	unsigned bop_order;
	bool bop_now;           /* ... and it is the current event */
	uint32_t order_touched; /* bit o: free_area[o] changed in this statement */
	uint64_t nr_free[16];
	unsigned nr_orders;
	uint64_t free_pages, managed;
	/* TLB: every entry, as many as the machine has (--tlb accepts up to
	   65536), set s at tlb[s * tlb_ways]. */
	struct tlb_entry *tlb;
	size_t tlb_cap;
	unsigned tlb_sets, tlb_ways;
	unsigned tlb_valid;  /* valid entries (of any address space) */
	long tlb_filled;     /* index of the entry filled_vpn names, or -1 */
	uint64_t tlb_tag; /* the current PCID's tag (0 without PCID) */
	uint64_t fill_vpn; /* vpn filled by the statement last, or TLB_VPN_NONE */
	/* Counters. */
	uint64_t faults, tlb_hits, tlb_misses, rss, pt_pages, brk_calls, mmap_calls;
	uint64_t loads, stores, walks, stmt_faults;
	uint64_t stmt_first_seq; /* seq of the current statement's EV_STMT (or 0) */
	/* Memory pressure. */
	bool pressure;          /* a swap area, or reclaim has run: the panel shows it */
	uint64_t wmark[3];      /* min, low, high (pages) */
	uint64_t lru_inactive, lru_active;
	uint64_t swap_total, swap_used, swap_ents;
	uint64_t pswpin, pswpout, majflt, kswapd_runs, oom_kills, reclaimed;
	/* The latest page that moved between RAM and swap, from the event log. */
	bool moved;
	bool moved_out; /* true: pfn written to slot; false: slot read into pfn */
	pfn_t moved_pfn;
	uint64_t moved_slot;
	uint64_t moved_seq;
};

void view_model_init(struct view_model *m);
void view_model_free(struct view_model *m);
/* Re-read everything from st at its current event. */
void view_model_update(struct view_model *m, struct stepper *st);

/* Colour classes for a frame code. */
static inline bool fc_is_free(uint8_t c)
{
	return FC_CODE(c) >= FC_FREE0;
}

/* Pages of [start, end) that are resident in the address space of process
   pid (0: the one the views show), walked, bounded to max pages. */
uint64_t view_model_resident(struct stepper *st, int pid, vaddr_t start, vaddr_t end, uint64_t max);
/* The first user address that maps pfn in process pid's address space (0:
   the one the views show), scanning the VMAs, bounded; 0 when none. */
vaddr_t view_model_rmap(struct stepper *st, int pid, pfn_t pfn);
/*
 * The TLB panel's list: the valid entries in set order, of which room rows
 * fit. When they all fit, first is 0 and n every valid one; otherwise the
 * window of room entries that shows the one the statement filled (near its
 * middle), else the first room. set_lo and set_hi are the sets of the first
 * and last entry listed, so the panel can say which part of the TLB it
 * shows.
 */
struct vm_tlb_window {
	unsigned first, n;       /* ranks among the valid entries listed */
	unsigned set_lo, set_hi; /* their sets (0, 0 when none) */
};
void view_model_tlb_window(const struct view_model *m, unsigned room, struct vm_tlb_window *w);
/* The arena the selector picks after index i (wrapping). */
unsigned view_model_next_arena(const struct view_model *m, unsigned i);
/*
 * The task the statement of the i-th most recent logged event ran in (as
 * the stepper recorded it when the event came), as a short label into buf:
 * "t3" for a thread, "pid 2" for another process, "" for the script's
 * program or when there is no such event. Returns buf.
 */
const char *view_model_log_task(const struct stepper *st, size_t i, char *buf, size_t n);
/* The process the selector picks after pid (the next one with an address
   space, in pid order, wrapping); pid itself when it is the only one. */
int view_model_next_process(const struct view_model *m, int pid);

#endif
