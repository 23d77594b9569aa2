/*
 * narrate_table.c - the words of narration (see narrate.h): one row per
 * modelled function, naming the real one and its source file and saying
 * what it does and why, and one sentence per script statement.
 *
 * Sources are given as paths in the Linux 6.x tree, the glibc 2.36 tree,
 * the Intel SDM for what the CPU does, and CS:APP's mm.c (section 9.9) for
 * the textbook allocators. Sentences say what the function does *and why*,
 * and keep to the lesson: an allocator only reserves address space; a frame
 * is taken, zeroed and mapped when the program first touches the page.
 * The event sentences built from these are in narrate.c.
 */
#include "narrate.h"

#include <string.h>

#define W NV_WALK
#define B NV_BUDDY
#define H NV_HEAP
#define M NV_MAPS
#define X NV_NONE

static const struct narration table[] = {
    /* ---- the CPU and its MMU -------------------------------------------- */
    {"#PF", "the CPU, Intel SDM vol. 3 ch. 4.7", W,
     "the MMU found no usable translation (no present PTE, or one that forbids the access), so "
     "the CPU stops the instruction, puts the address in CR2 and enters the kernel's page-fault "
     "handler; when the handler returns, the instruction runs again."},
    {"#GP", "the CPU, Intel SDM vol. 3 ch. 6", W,
     "the address is not canonical (bits 63:48 must copy bit 47), so no page walk is even "
     "tried: the CPU raises a general-protection fault."},
    {"page_walk", "the MMU, Intel SDM vol. 3 ch. 4.5", W,
     "on a TLB miss the MMU reads the four page-table levels from CR3 (PML4, PDPT, PD, PT) to "
     "find the frame, sets the Accessed bit (and Dirty on a write) and caches the translation "
     "in the TLB; a missing entry on the way is a page fault."},
    {"invlpg", "the CPU, arch/x86/include/asm/tlbflush.h", W,
     "drops one page's translation from the TLB, so the next access walks the page tables "
     "again and sees the changed PTE."},
    {"flush_tlb_local", "arch/x86/mm/tlb.c", W,
     "drops every non-global translation from this CPU's TLB (cheaper than one invlpg per page "
     "for a large range)."},
    {"write_cr3", "arch/x86/include/asm/special_insns.h", W,
     "loads CR3 with another PML4: the CPU now translates through another process's page "
     "tables, and the TLB is flushed."},

    /* ---- the page-fault path (arch/x86/mm/fault.c, mm/memory.c) ----------- */
    {"exc_page_fault", "arch/x86/mm/fault.c", W,
     "the kernel's entry for #PF: it reads the faulting address from CR2 and the error code "
     "the CPU pushed, and hands them to the fault handler."},
    {"handle_page_fault", "arch/x86/mm/fault.c", W,
     "sorts the fault: an address in user space goes to do_user_addr_fault."},
    {"do_user_addr_fault", "arch/x86/mm/fault.c", W,
     "handles a fault on a user address: it finds the VMA that should contain it and checks "
     "the access is allowed, then lets handle_mm_fault bring the page in; no VMA means the "
     "program touched memory it was never given, and it gets SIGSEGV."},
    {"lock_mm_and_find_vma", "mm/memory.c", W,
     "takes the mmap lock and finds the VMA covering the address (growing the stack when the "
     "address is just below it): the fault is legal only inside a region the program asked "
     "for with brk, mmap or exec."},
    {"find_vma", "mm/mmap.c", M,
     "finds the first VMA that ends above the address: one of the regions (heap, stack, "
     "mappings) the process was given."},
    {"access_error", "arch/x86/mm/fault.c", W,
     "checks the VMA allows this kind of access (a write needs VM_WRITE); the heap is "
     "read-write, so the fault only means 'not backed by memory yet'."},
    {"bad_area_nosemaphore", "arch/x86/mm/fault.c", W,
     "no VMA contains the address: the program used memory it never got (or gave back), so "
     "the kernel sends SIGSEGV with SEGV_MAPERR."},
    {"bad_area_access_error", "arch/x86/mm/fault.c", W,
     "a VMA contains the address but forbids this access (say a write to read-only memory): "
     "SIGSEGV with SEGV_ACCERR."},
    {"expand_stack", "mm/mmap.c", M,
     "the address is just below the stack VMA: the stack grows down to cover it, within "
     "RLIMIT_STACK, as a deeper call or a big local array needs."},
    {"expand_downwards", "mm/mmap.c", M,
     "moves the stack VMA's start down to the faulting page: address space only, the page "
     "itself comes from the fault that follows."},
    {"handle_mm_fault", "mm/memory.c", W,
     "the architecture-independent fault handler: it counts the fault for the process and "
     "walks down the page tables of the address."},
    {"__handle_mm_fault", "mm/memory.c", W,
     "walks the page-table levels for the address and allocates any missing table page (PDPT, "
     "PD, PT) on the way, then looks at the PTE itself."},
    {"p4d_alloc", "include/linux/mm.h", W,
     "with 4-level paging the P4D level is folded into the PML4: nothing to allocate."},
    {"pud_alloc", "include/linux/mm.h", W,
     "makes sure the PDPT (Linux's pud table) for the address exists: if the PML4 entry is "
     "empty, a zeroed page-table page is taken from the buddy allocator."},
    {"pmd_alloc", "include/linux/mm.h", W,
     "makes sure the page directory (pmd table) exists: if the PDPT entry is empty, a zeroed "
     "page-table page is taken from the buddy allocator."},
    {"pte_alloc", "include/linux/mm.h", W,
     "makes sure the page table (the PT of 512 PTEs) exists: if the PD entry is empty, a "
     "zeroed page-table page is taken from the buddy allocator."},
    {"p4d_populate", "arch/x86/include/asm/pgalloc.h", W,
     "writes the PML4 entry that points to a new PDPT page."},
    {"pud_populate", "arch/x86/include/asm/pgalloc.h", W,
     "writes the PDPT entry that points to a new page directory."},
    {"pmd_populate", "arch/x86/include/asm/pgalloc.h", W,
     "writes the page-directory entry that points to a new page table: page tables, too, "
     "cost frames, and they are allocated on demand."},
    {"handle_pte_fault", "mm/memory.c", W,
     "looks at the PTE: empty means the page was never touched (do_pte_missing); present but "
     "read-only on a write means copy-on-write (do_wp_page)."},
    {"do_pte_missing", "mm/memory.c", W,
     "the PTE is empty: in an anonymous VMA (heap, stack, anonymous mmap) this is demand "
     "paging, and do_anonymous_page provides the page."},
    {"do_anonymous_page", "mm/memory.c", W,
     "the page was never touched, so this is the moment physical memory appears: a read maps "
     "the shared zero page, a write gets a fresh zeroed frame from the buddy allocator and a "
     "writable PTE."},
    {"vmf_anon_prepare", "mm/memory.c", W,
     "prepares the VMA's anon_vma, the bookkeeping that lets the kernel later find who maps "
     "an anonymous page."},
    {"alloc_anon_folio", "mm/memory.c", W,
     "allocates the folio (here one 4 KiB page) that will back the faulting address."},
    {"vma_alloc_zeroed_movable_folio", "include/linux/highmem.h", B,
     "asks the page allocator for a page and clears it: a process must never see the old "
     "contents of a frame another one used."},
    {"clear_page", "arch/x86/lib/clear_page_64.S", B,
     "fills the new frame with zeroes, so the program finds zeroes there and not someone "
     "else's data; this is why fresh malloc'd memory from the kernel reads as 0."},
    {"folio_mk_pte", "include/linux/mm.h", W,
     "builds the PTE value: the frame number plus Present, Writable, User, Dirty and NX."},
    {"add_mm_counter", "include/linux/mm.h", W,
     "adds the page to the process's resident set (MM_ANONPAGES): RSS grows now, at the first "
     "touch, not at malloc."},
    {"set_pte_at", "arch/x86/include/asm/pgtable.h", W,
     "writes the PTE into the page table: from now on the MMU finds the frame, and the "
     "faulting instruction can be retried."},
    {"update_mmu_cache_range", "arch/x86/include/asm/pgtable.h", W,
     "nothing to do on x86: a PTE that was not present before cannot be in the TLB, so no "
     "flush is needed."},
    {"do_wp_page", "mm/memory.c", W,
     "a write hit a present but read-only PTE in a writable VMA: copy-on-write. The page is "
     "the shared zero page (mapped by an earlier read) or a frame fork left shared; it is "
     "copied unless only this mapping still holds it."},
    {"wp_page_copy", "mm/memory.c", W,
     "gives the process its own frame in place of the shared page -- zeroed for the zero "
     "page, a copy of the 4096 bytes for a page shared since fork -- and maps it writable; "
     "the old page loses one mapping and one reference."},
    {"wp_page_reuse", "mm/memory.c", W,
     "nobody else maps the page any more, so it is simply made writable in place: no copy."},
    {"wp_can_reuse_anon_folio", "mm/memory.c", W,
     "the kernel's own test for reuse: the page's reference count is 1, so the other side of "
     "the fork wrote its own copy or exited; the page becomes this process's again."},
    {"__wp_page_copy_user", "mm/memory.c", W,
     "copies the shared page's 4096 bytes into the new frame: the only page fork really "
     "copies is the one that is written."},
    {"folio_remove_rmap_pte", "mm/rmap.c", W,
     "one PTE less maps the old page: its map count drops (the reverse map no longer finds "
     "this process there)."},
    {"folio_put", "include/linux/mm.h", B,
     "drops this process's reference to the old page; the last reference frees the frame."},
    {"ptep_clear_flush", "mm/pgtable-generic.c", W,
     "clears the old PTE and flushes it from the TLB before the new page is mapped, so no CPU "
     "keeps using the old frame."},
    {"pagefault_out_of_memory", "mm/oom_kill.c", B,
     "the fault handler could not get a page: the out-of-memory path decides what to do."},
    {"__oom_kill_process", "mm/oom_kill.c", B,
     "kills the chosen process with SIGKILL so that its memory can be freed."},
    {"exc_general_protection", "arch/x86/kernel/traps.c", W,
     "#GP from user mode (a non-canonical address): the process gets SIGSEGV."},
    {"force_sig_fault", "kernel/signal.c", W,
     "sends the faulting process a signal (SIGSEGV) carrying the address and the reason; the "
     "default action ends the process and the kernel logs the segfault line."},
    {"force_fatal_sig", "kernel/signal.c", X,
     "delivers a fatal signal (SIGABRT from abort, SIGKILL): the process ends where it "
     "stands."},

    /* ---- the buddy allocator (mm/page_alloc.c) --------------------------- */
    {"__alloc_pages", "mm/page_alloc.c", B,
     "the page allocator's entry point: it asks for 2^order physically contiguous frames."},
    {"get_page_from_freelist", "mm/page_alloc.c", B,
     "finds a zone with enough free memory above its watermark and takes the block from it."},
    {"rmqueue", "mm/page_alloc.c", B,
     "removes a block from the zone's free lists (Linux serves small orders from per-CPU lists "
     "first; this one-CPU model goes straight to the buddy lists)."},
    {"__rmqueue_smallest", "mm/page_alloc.c", B,
     "scans free_area[] from the requested order upward and takes the first block it finds; "
     "if that block is bigger than asked, expand splits it."},
    {"expand", "mm/page_alloc.c", B,
     "splits a block that is too large: each upper half goes back on the free list one order "
     "lower, and the caller keeps the low half."},
    {"should_fail_alloc_page", "mm/fail_page_alloc.c", B,
     "fault injection: this allocation fails on purpose, to exercise the out-of-memory path."},
    {"__free_pages", "mm/page_alloc.c", B, "gives a block of frames back to the buddy allocator."},
    /* ---- memory pressure: watermarks and the slow path (mm/page_alloc.c) -- */
    {"zone_watermark_ok", "mm/page_alloc.c", B,
     "the zone's free pages are at or below the watermark this attempt must keep: the page is "
     "not taken here, the allocator has to work harder."},
    {"__alloc_pages_slowpath", "mm/page_alloc.c", B,
     "free memory fell to the low watermark: wake kswapd, try down to the min watermark, "
     "reclaim pages directly, retry, and only then call the OOM killer."},
    {"wake_all_kswapds", "mm/page_alloc.c", B,
     "asks the node's kswapd to reclaim in the background, so that later allocations find "
     "free pages above the watermarks again."},
    {"wakeup_kswapd", "mm/vmscan.c", B,
     "marks kswapd0 runnable: it will reclaim until free pages reach the high watermark (here "
     "it runs when the kernel next returns to user mode)."},
    {"__alloc_pages_direct_reclaim", "mm/page_alloc.c", B,
     "the allocating task reclaims pages itself, because even the min watermark would be "
     "broken; then it tries the free lists again."},
    {"should_reclaim_retry", "mm/page_alloc.c", B,
     "decides whether reclaim is still worth another round: it made progress, or free plus "
     "reclaimable pages could still clear the min watermark (at most 16 rounds without)."},
    {"__alloc_pages_may_oom", "mm/page_alloc.c", B,
     "reclaim cannot help any more: one last try at the high watermark, then the OOM killer."},

    /* ---- reclaim (mm/vmscan.c, mm/rmap.c) --------------------------------- */
    {"try_to_free_pages", "mm/vmscan.c", B,
     "direct reclaim: free at least 32 pages (SWAP_CLUSTER_MAX) for the allocation that "
     "stalled."},
    {"do_try_to_free_pages", "mm/vmscan.c", B,
     "scans the LRU at priority 12 down to 0, each step looking at twice as much of it, until "
     "enough pages were reclaimed."},
    {"shrink_node", "mm/vmscan.c", B,
     "reclaims from the node: decides whether the active list must be aged, then shrinks its "
     "LRU lists."},
    {"shrink_lruvec", "mm/vmscan.c", B,
     "splits the work over the LRU lists (get_scan_count: list size >> priority) and scans "
     "them 32 folios at a time."},
    {"shrink_inactive_list", "mm/vmscan.c", B,
     "takes folios from the cold end of the inactive list and tries to reclaim each one."},
    {"shrink_active_list", "mm/vmscan.c", B,
     "ages the active list: its oldest folios lose their accessed bits and move to the "
     "inactive list, where they get one more chance to be used before they are reclaimed."},
    {"shrink_folio_list", "mm/vmscan.c", B,
     "for each folio: used again since the last look? then keep or activate it; otherwise give "
     "it a swap slot, unmap it, write it out and free the frame."},
    {"folio_referenced", "mm/rmap.c", W,
     "walks the reverse map to every PTE that maps the folio and tests and clears its "
     "Accessed bit, to learn whether the page was used since reclaim last looked."},
    {"ptep_clear_flush_young", "mm/pgtable-generic.c", W,
     "clears the PTE's Accessed bit (x86 does not flush the TLB for this: a stale young bit "
     "costs only a late reclaim)."},
    {"try_to_unmap", "mm/rmap.c", W,
     "removes every mapping of the folio: each PTE that pointed to the frame now holds the "
     "swap entry, so the next access is a major fault."},
    {"try_to_unmap_one", "mm/rmap.c", W,
     "replaces the present PTE with the swap entry (type and inverted offset, not present), "
     "flushes the TLB entry, and moves the page from RSS to the swap count."},
    {"pageout", "mm/vmscan.c", B,
     "the folio is dirty: write it to its swap slot before its frame can be reused."},
    {"balance_pgdat", "mm/vmscan.c", B,
     "kswapd's loop: shrink the node at falling priority until free pages are above the high "
     "watermark."},
    {"kswapd_shrink_node", "mm/vmscan.c", B,
     "one round of kswapd's reclaim, aiming at the high watermark's worth of pages."},
    {"kswapd", "mm/vmscan.c", B,
     "kswapd0, the node's reclaim thread, runs: it was woken below the low watermark and "
     "reclaims in the background until the high watermark is met."},

    /* ---- swap (mm/swapfile.c, mm/swap_state.c, mm/page_io.c) -------------- */
    {"add_to_swap", "mm/swap_state.c", B,
     "gives the anonymous folio a slot in the swap area and puts it in the swap cache, marked "
     "dirty so that it is written before it is freed."},
    {"folio_alloc_swap", "mm/swapfile.c", B,
     "finds a free slot in the swap area (swap_map count 0)."},
    {"add_to_swap_cache", "mm/swap_state.c", B,
     "the folio is now findable by its swap entry, so a fault on it meanwhile would find it "
     "in memory."},
    {"__delete_from_swap_cache", "mm/swap_state.c", B,
     "the written folio leaves the swap cache; the slot keeps the page's contents."},
    {"swap_writepage", "mm/page_io.c", B,
     "writes the page to its slot on the swap device (pswpout)."},
    {"swap_read_folio", "mm/page_io.c", B,
     "reads the page back from its swap slot into the new frame (pswpin): the contents are "
     "what was written, byte for byte."},
    {"swap_cache_get_folio", "mm/swap_state.c", B,
     "looks the swap entry up in the swap cache: a folio still there needs no read."},
    {"swap_free", "mm/swapfile.c", B,
     "one reference to the swap slot went away; at zero the slot is free again."},
    {"swap_entry_free", "mm/swapfile.c", B, "the slot's last reference went: it is free."},
    {"enable_swap_info", "mm/swapfile.c", B,
     "the swap area is in use: its slots count in SwapTotal and CommitLimit."},
    {"__x64_sys_swapon", "mm/swapfile.c", M,
     "swapon(2): reads the area's header and adds its slots to the swap space."},
    {"__x64_sys_swapoff", "mm/swapfile.c", M,
     "swapoff(2): every page in the area must come back into memory before it can go."},
    {"swapoff", "mm/swapfile.c", M, "the swap area is gone."},
    {"try_to_unuse", "mm/swapfile.c", W,
     "walks every page table for swap entries of this area and reads each page back in."},
    {"unuse_pte", "mm/swapfile.c", W,
     "maps the page read back from swap where its swap entry was (read-only and old, as a "
     "private mapping's PTE starts)."},
    {"do_swap_page", "mm/memory.c", W,
     "the PTE holds a swap entry: a major fault. The page is read back from its slot into a "
     "new frame, mapped again, and the slot is freed."},
    {"vma_alloc_folio", "mm/mempolicy.c", B,
     "a frame for a page that will be filled at once -- coming back from swap, or the copy "
     "of a page shared since fork -- so it is not zeroed."},
    {"folio_add_lru_vma", "mm/swap.c", W,
     "puts the new anonymous folio at the head of the inactive LRU list: reclaim will look at "
     "it last, and only if it was not used since."},

    /* ---- the OOM killer (mm/oom_kill.c) ----------------------------------- */
    {"out_of_memory", "mm/oom_kill.c", B,
     "nothing more can be reclaimed: the OOM killer chooses a process to kill so that its "
     "memory frees the system."},
    {"select_bad_process", "mm/oom_kill.c", B,
     "rates every process (oom_badness) and chooses the one with the most points."},
    {"oom_badness", "mm/oom_kill.c", B,
     "points = resident pages + swap entries + page-table pages + oom_score_adj thousandths "
     "of RAM and swap; -1000 is never chosen."},
    {"oom_kill_process", "mm/oom_kill.c", B,
     "logs the report (invoked oom-killer, the task table, Killed process) and kills the "
     "victim."},
    {"oom_reap_task_mm", "mm/oom_kill.c", B,
     "the OOM reaper frees the victim's anonymous memory at once, without waiting for it to "
     "exit."},
    {"__set_oom_adj", "fs/proc/base.c", X,
     "writes /proc/PID/oom_score_adj: the OOM killer's bias for this process, -1000 to 1000."},

    /* ---- sysctl and overcommit ------------------------------------------- */
    {"proc_sys_call_handler", "fs/proc/proc_sysctl.c", X,
     "a write to /proc/sys/vm/: the new value is checked against the knob's range and takes "
     "effect (watermarks are recomputed for min_free_kbytes and watermark_scale_factor)."},

    {"__free_one_page", "mm/page_alloc.c", B,
     "puts a free block back, merging it with its buddy (pfn ^ (1 << order)) while the buddy "
     "is free and of the same order, so large blocks form again."},

    /* ---- system calls and the address space ------------------------------ */
    {"entry_SYSCALL_64", "arch/x86/entry/entry_64.S", M,
     "the syscall instruction lands here: the CPU switches to kernel mode and the kernel saves "
     "the program's registers; sysret takes it back."},
    {"do_syscall_64", "arch/x86/entry/common.c", M,
     "looks the system call number up in sys_call_table and calls its handler."},
    {"__x64_sys_brk", "mm/mmap.c", M,
     "the brk system call moves the program break: to grow the heap it only extends the heap "
     "VMA; no frame and no PTE are allocated, memory comes later at the first touch."},
    {"check_data_rlimit", "include/linux/mm.h", M,
     "refuses a break that would make the data segment larger than RLIMIT_DATA."},
    {"check_brk_limits", "mm/mmap.c", M,
     "checks the grown heap would not run into the next mapping or the stack's guard gap."},
    {"do_brk_flags", "mm/vma.c", M,
     "extends the heap VMA (or creates it) to cover the new break: bookkeeping of the address "
     "space only, nothing in RAM changes."},
    {"may_expand_vm", "mm/mmap.c", M,
     "checks that npages more of address space stay within RLIMIT_AS and RLIMIT_DATA."},
    {"__vm_enough_memory", "mm/util.c", M,
     "the overcommit check: in the default heuristic mode it refuses only absurd requests, "
     "because no page is allocated yet."},
    {"vma_merge_new_range", "mm/vma.c", M,
     "the new range continues an existing VMA with the same flags, so that VMA just grows."},
    {"__x64_sys_mmap", "arch/x86/kernel/sys_x86_64.c", M,
     "the mmap system call: an anonymous mapping reserves a range of addresses; its pages come "
     "at first touch, like the heap's."},
    {"do_mmap", "mm/mmap.c", M,
     "checks the request and picks the address, then mmap_region makes the VMA."},
    {"get_unmapped_area", "mm/mmap.c", M,
     "finds a free range of addresses, top-down below mmap_base."},
    {"mmap_region", "mm/mmap.c", M,
     "creates (or merges) the VMA of the new mapping: address space, not memory."},
    {"__x64_sys_munmap", "mm/mmap.c", M,
     "the munmap system call: the range stops being part of the address space."},
    {"__vm_munmap", "mm/mmap.c", M,
     "unmaps [addr, addr+len): VMAs are cut or removed, the frames behind them freed."},
    {"do_vmi_munmap", "mm/vma.c", M,
     "finds the VMAs in the range and splits those that stick out of it."},
    {"do_vmi_align_munmap", "mm/vma.c", M,
     "removes the VMAs of a page-aligned range, zaps their PTEs, frees the frames and page "
     "tables and flushes the TLB: shrinking brk comes here too."},
    {"__split_vma", "mm/vma.c", M,
     "cuts a VMA in two at an address, so that one part can be unmapped."},
    {"unmap_page_range", "mm/memory.c", M,
     "walks the page tables of the range to clear every PTE in it."},
    {"zap_pte_range", "mm/memory.c", W,
     "clears a PTE and gives its frame back; the process's RSS drops."},
    {"free_pgtables", "mm/memory.c", M, "frees the page-table pages that no longer map anything."},
    {"free_pte_range", "mm/memory.c", W,
     "clears the PD entry and frees the page table under it: it maps nothing any more."},
    {"free_pmd_range", "mm/memory.c", W,
     "clears the PDPT entry and frees the page directory under it."},
    {"free_pud_range", "mm/memory.c", W, "clears the PML4 entry and frees the PDPT under it."},
    {"tlb_finish_mmu", "mm/mmu_gather.c", M,
     "flushes the TLB for the unmapped range and only then frees the pages, so no stale "
     "translation can reach a frame that has a new owner."},
    {"flush_tlb_mm_range", "arch/x86/mm/tlb.c", W,
     "invalidates the TLB entries of a range: invlpg per page, or a full flush when the range "
     "is large."},
    {"thp_get_unmapped_area", "mm/huge_memory.c", M,
     "a mapping whose length is a multiple of 2 MiB is placed on a 2 MiB boundary (Linux "
     "6.7+), so that it could be backed by huge pages: it searches 2 MiB more than asked and "
     "keeps the aligned part."},
    /* ---- mprotect (mm/mprotect.c) ---------------------------------------- */
    {"__x64_sys_mprotect", "mm/mprotect.c", M,
     "the mprotect system call: changes the access rights of a page-aligned range."},
    {"do_mprotect_pkey", "mm/mprotect.c", M,
     "walks the VMAs of the range; a hole in it is ENOMEM, after the parts before it changed."},
    {"mprotect_fixup", "mm/mprotect.c", M,
     "gives one VMA part its new flags: it merges with an equal neighbour or is split off, "
     "and a private mapping that becomes writable is charged to the commit."},
    {"vma_merge_existing_range", "mm/vma.c", M,
     "the changed part now equals its neighbour (flags, anon_vma, offsets), so they become one "
     "VMA."},
    {"vma_modify_flags", "mm/vma.c", M,
     "the part could not merge: it was split off and takes the new flags alone."},
    {"change_protection", "mm/mprotect.c", M,
     "rewrites the PTEs of the range for the new rights and flushes the TLB; the frames stay."},
    {"change_pte_range", "mm/mprotect.c", W,
     "one PTE gets the new rights (PROT_NONE: not present, frame kept); an anonymous page of "
     "this process alone becomes writable at once, so no write fault follows."},
    /* ---- madvise (mm/madvise.c) ------------------------------------------ */
    {"__x64_sys_madvise", "mm/madvise.c", M,
     "the madvise system call: advice about a range; DONTNEED and FREE give memory back."},
    {"do_madvise", "mm/madvise.c", M,
     "walks the VMAs of the range; a hole makes the result ENOMEM, the rest is still done."},
    {"madvise_dontneed_free", "mm/madvise.c", M,
     "MADV_DONTNEED drops the pages now; MADV_FREE only marks them free to be reclaimed."},
    {"zap_page_range_single", "mm/memory.c", M,
     "clears the PTEs and frees the frames, but keeps the VMA and the page tables: the next "
     "touch faults a zeroed page."},
    {"madvise_free_single_vma", "mm/madvise.c", M,
     "marks the pages of the range lazily free: they stay mapped and in RSS until memory is "
     "short; a write before that keeps them."},
    {"madvise_free_pte_range", "mm/madvise.c", W,
     "makes the PTE old and clean: a later write sets Dirty again and the page is kept."},
    {"folio_mark_lazyfree", "mm/swap.c", M,
     "moves the page to the lazy-free list: reclaim may drop it without writing it anywhere."},
    /* ---- mremap (mm/mremap.c) -------------------------------------------- */
    {"__x64_sys_mremap", "mm/mremap.c", M,
     "the mremap system call: grows, shrinks or moves a mapping without copying its pages."},
    {"do_mremap", "mm/mremap.c", M,
     "checks the arguments and the VMA at the address, then shrinks, grows in place or moves."},
    {"shrink_vma", "mm/mremap.c", M, "unmaps the tail that the smaller size no longer covers."},
    {"expand_vma_in_place", "mm/mremap.c", M,
     "the addresses after the VMA are free: it just grows, nothing moves."},
    {"mremap_to", "mm/mremap.c", M,
     "MREMAP_FIXED: whatever is at the new address is unmapped first, then the pages move there."},
    {"move_vma", "mm/mremap.c", M,
     "makes the VMA at the new place, moves the page tables there, unmaps the old range."},
    {"copy_vma", "mm/vma.c", M,
     "creates the VMA at the new address (or extends a neighbour whose offsets line up)."},
    {"move_page_tables", "mm/mremap.c", M,
     "moves the PTEs to the new addresses: the frames, their contents and the RSS stay, and "
     "nothing faults afterwards."},
    {"move_ptes", "mm/mremap.c", W, "moves one PTE: cleared at the old address, set at the new."},
    {"move_normal_pmd", "mm/mremap.c", W,
     "both ranges are 2 MiB aligned: the whole page table moves with one PD entry."},
    {"__x64_sys_setrlimit", "kernel/sys.c", M,
     "the setrlimit system call: sets a resource limit (RLIMIT_DATA caps how far brk may "
     "grow)."},
    {"__x64_sys_getrlimit", "kernel/sys.c", M,
     "the getrlimit system call: reads a resource limit."},
    {"do_prlimit", "kernel/sys.c", M,
     "checks and stores the new limit in the process's signal struct."},
    {"__x64_sys_write", "fs/read_write.c", X,
     "the write system call; here glibc writes its error message to file descriptor 2."},
    {"__x64_sys_openat", "fs/open.c", X,
     "the openat system call: glibc opens a /proc or /sys file to learn something of the "
     "machine (the CPUs online, the overcommit mode)."},
    {"do_sys_openat2", "fs/open.c", X,
     "looks the path up and takes the lowest free file descriptor for it; procfs and sysfs "
     "render the file's text now."},
    {"__x64_sys_read", "fs/read_write.c", X,
     "the read system call: copies bytes of the open file to the caller's buffer."},
    {"vfs_read", "fs/read_write.c", X,
     "reads from the file's current offset and moves the offset on."},
    {"__x64_sys_close", "fs/open.c", X, "the close system call: frees the descriptor."},
    {"__get_nprocs", "sysdeps/unix/sysv/linux/getsysstats.c", X,
     "counts the CPUs online from /sys/devices/system/cpu/online: glibc allows 8 arenas per "
     "CPU."},
    {"__x64_sys_tgkill", "kernel/signal.c", X,
     "sends a signal to one thread: abort() raises SIGABRT on itself this way."},
    {"do_tkill", "kernel/signal.c", X, "queues the signal for the target thread."},

    /* ---- process start and end ------------------------------------------ */
    {"load_elf_binary", "fs/binfmt_elf.c", M,
     "execve's loader: maps the program's text and data, sets the break right after the bss "
     "and builds the stack."},
    {"elf_map", "fs/binfmt_elf.c", M, "maps one segment of the executable file."},
    {"setup_arg_pages", "fs/exec.c", M,
     "places the stack VMA at the top of user space, with its guard gap below."},
    {"pgd_alloc", "arch/x86/mm/pgtable.c", W,
     "allocates the process's top-level page table (the PML4 that CR3 points to)."},
    {"pgd_free", "arch/x86/mm/pgtable.c", W, "frees the process's top-level page table."},
    {"exit_mmap", "mm/mmap.c", M,
     "the last user of the address space is gone: every VMA is unmapped, every page table "
     "freed; a frame goes back only when no other process still maps it."},

    /* ---- processes: fork, exit, wait (kernel/fork.c, kernel/exit.c) ---- */
    {"__x64_sys_fork", "kernel/fork.c", M,
     "the fork system call: kernel_clone with SIGCHLD as the child's exit signal."},
    {"__x64_sys_clone", "kernel/fork.c", M,
     "the clone system call, which glibc's fork() makes: CLONE_CHILD_SETTID | "
     "CLONE_CHILD_CLEARTID | SIGCHLD, no new stack, and the address of the calling thread's "
     "tid in its struct pthread, where the kernel stores the child's pid in the child's copy."},
    {"kernel_clone", "kernel/fork.c", M,
     "creates a new process: copy_process builds it, wake_up_new_task makes it runnable; the "
     "parent gets the child's pid."},
    {"copy_process", "kernel/fork.c", M,
     "copies the parent's task: its limits, its registers (the child resumes where the parent "
     "called fork) and, with copy_mm, its address space; past threads-max it fails with "
     "EAGAIN."},
    {"copy_mm", "kernel/fork.c", M,
     "a process gets a copy of its parent's address space (threads would share it)."},
    {"dup_mm", "kernel/fork.c", M,
     "a new mm_struct with the parent's layout (brk, stack, mmap base) and a page table of "
     "its own."},
    {"dup_mmap", "kernel/fork.c", M,
     "copies every VMA, then the page tables of those with anonymous pages; no page is "
     "copied: parent and child share every frame, write-protected."},
    {"vm_area_dup", "kernel/fork.c", M, "copies one VMA of the parent into the child."},
    {"anon_vma_fork", "mm/rmap.c", M,
     "links the child into the parent's anon_vmas, so that the reverse map finds the shared "
     "pages in both processes, and gives it one of its own for its new pages."},
    {"copy_page_range", "mm/memory.c", W,
     "copies one VMA's page tables into the child, level by level; the child's tables are new "
     "frames, the pages they map are the parent's."},
    {"copy_p4d_range", "mm/memory.c", W, "copies the PML4 entries covering the range."},
    {"copy_pud_range", "mm/memory.c", W,
     "copies the PDPT entries covering the range, making the child's tables as needed."},
    {"copy_pmd_range", "mm/memory.c", W,
     "copies the page-directory entries covering the range, making the child's tables as "
     "needed."},
    {"copy_pte_range", "mm/memory.c", W, "copies one page table's present entries."},
    {"copy_present_pte", "mm/memory.c", W,
     "shares one page with the child: the frame gains a reference and a mapping, and a "
     "writable private page is write-protected in both parent and child, so whoever writes "
     "first takes a copy-on-write fault. The zero page is copied as it is."},
    {"copy_nonpresent_pte", "mm/memory.c", W,
     "a page of the parent is out on swap: the child's PTE holds the same swap entry, and the "
     "slot counts one more holder (swap_duplicate)."},
    {"ptep_set_wrprotect", "arch/x86/include/asm/pgtable.h", W,
     "clears the parent's write bit: its next write to this page faults (copy-on-write)."},
    {"set_ptes", "include/linux/pgtable.h", W,
     "writes the child's PTE: the same frame, read-only, not yet accessed."},
    {"flush_tlb_mm", "arch/x86/mm/tlb.c", W,
     "the parent may still hold writable translations in its TLB; they are flushed, so its "
     "next write sees the read-only PTE."},
    {"__x64_sys_clone3", "kernel/fork.c", M,
     "the clone3 system call: kernel_clone with the caller's flags; pthread_create passes "
     "CLONE_VM | CLONE_THREAD | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID ..., "
     "so the new task shares the address space and joins the caller's thread group."},
    {"__x64_sys_exit", "kernel/exit.c", M,
     "the exit system call of one thread: it ends alone, the process goes on."},
    {"mm_release", "kernel/fork.c", M,
     "the ending thread's tid word in its struct pthread is cleared (CLONE_CHILD_CLEARTID), "
     "which is what pthread_join waits for."},
    {"futex_wake", "kernel/futex/waitwake.c", X,
     "wakes whoever waits on the cleared tid word: a thread in pthread_join."},
    {"zap_other_threads", "kernel/signal.c", M,
     "the process ends: every other thread of the group is killed and lets go of the "
     "address space."},
    {"wake_up_new_task", "kernel/sched/core.c", X,
     "the child is ready to run; it runs when the scheduler (here: the script) picks it."},
    {"schedule_tail", "kernel/sched/core.c", M,
     "the new task's first steps as it first runs (ret_from_fork): with CLONE_CHILD_SETTID "
     "it stores its own pid at set_child_tid, in its own memory -- after a fork a "
     "copy-on-write page, so the child's first fault, taken before its first instruction."},
    {"__x64_sys_exit_group", "kernel/exit.c", M,
     "the exit system call of a process: every thread ends with this status."},
    {"do_group_exit", "kernel/exit.c", M, "ends the thread group (here: the one task)."},
    {"do_exit", "kernel/exit.c", M,
     "the task ends: it lets go of its memory (exit_mm) and becomes a zombie until its parent "
     "collects the status with wait."},
    {"exit_mm", "kernel/exit.c", M, "the task drops its address space (mmput)."},
    {"mmput", "kernel/fork.c", M,
     "one user less of the address space; the last one tears it down (exit_mmap)."},
    {"unmap_vmas", "mm/memory.c", M, "unmaps every VMA of the exiting address space."},
    {"unlink_anon_vmas", "mm/rmap.c", M,
     "removes the address space from the reverse map's anon_vmas; one no process can map "
     "any more is freed."},
    {"exit_notify", "kernel/exit.c", X,
     "gives the task's children a new parent (forget_original_parent) and tells its own "
     "(SIGCHLD): the task is now a zombie holding only its exit status."},
    {"forget_original_parent", "kernel/exit.c", X,
     "the ending task's children get a new parent: another live thread of its process "
     "(find_new_reaper), which may wait for them as the task could; init only when none is "
     "left."},
    {"do_notify_parent", "kernel/signal.c", X, "sends SIGCHLD to the parent."},
    {"__x64_sys_wait4", "kernel/exit.c", X,
     "the wait system call: collect the status of a child that exited."},
    {"do_wait", "kernel/exit.c", X,
     "looks for an exited child (a zombie); with none at all it fails with ECHILD."},
    {"wait_task_zombie", "kernel/exit.c", X,
     "takes the zombie's exit status for the parent and reaps it."},
    {"release_task", "kernel/exit.c", X, "the zombie is gone: its pid and task struct are freed."},
    {"__x64_sys_getpid", "kernel/sys.c", X, "returns the process id (the thread group id)."},

    /* ---- context switches (kernel/sched/core.c, arch/x86/mm/tlb.c) ----- */
    {"context_switch", "kernel/sched/core.c", W,
     "the CPU leaves one task for another: another address space means another CR3, and the "
     "TLB's translations of the old one are of no use to the new one."},
    {"switch_mm_irqs_off", "arch/x86/mm/tlb.c", W,
     "switches the CPU to the next process's page tables, deciding whether the TLB must be "
     "flushed."},
    {"choose_new_asid", "arch/x86/mm/tlb.c", W,
     "without PCID every switch flushes the TLB; with PCID the CPU keeps 6 address spaces' "
     "entries tagged apart, and one that still owns a tag keeps its translations."},
    {"load_new_mm_cr3", "arch/x86/mm/tlb.c", W,
     "writes CR3 with the next page table (and, with PCID, its tag and whether to flush)."},
    {"__switch_to", "arch/x86/kernel/process_64.c", X,
     "switches the registers: the next task continues where it stopped."},
    {"__libc_start_main", "csu/libc-start.c", X,
     "glibc's start-up before main: it sets up the C library (the heap stays empty until the "
     "first malloc)."},

    /* ---- glibc's system-call wrappers ----------------------------------- */
    {"__brk", "sysdeps/unix/sysv/linux/brk.c", M,
     "glibc's brk wrapper: makes the system call and keeps the answer in __curbrk; it reports "
     "ENOMEM only when the kernel left the break below the request."},
    {"__sbrk", "misc/sbrk.c", M,
     "moves the break by an increment and returns the old break, which is the start of the new "
     "memory; the first call learns the break with brk(0)."},
    {"__glibc_morecore", "malloc/morecore.c", M,
     "malloc's MORECORE: a call to sbrk that turns its failure into NULL."},
    {"__mmap", "misc/mmap64.c", M,
     "glibc's mmap wrapper: one system call, the address (or MAP_FAILED) comes back."},
    {"__munmap", "misc/munmap.c", M, "glibc's munmap wrapper: one system call."},
    {"__mremap", "misc/mremap.c", M, "glibc's mremap wrapper: one system call."},
    {"__mprotect", "misc/mprotect.c", M, "glibc's mprotect wrapper: one system call."},
    {"__madvise", "misc/madvise.c", M, "glibc's madvise wrapper: one system call."},

    /* ---- the malloc family (malloc/malloc.c) ----------------------------- */
    {"malloc", "malloc/malloc.c", H,
     "hands out a block of memory the process already has; only when nothing fits does it ask "
     "the kernel for more address space (brk or mmap). It never allocates physical memory: "
     "that happens when the block is first touched."},
    {"free", "malloc/malloc.c", H,
     "gives a block back to the allocator, which keeps it for reuse; memory returns to the "
     "kernel only when the top of the heap is large (trim) or the block was mmapped."},
    {"calloc", "malloc/malloc.c", H,
     "malloc plus zeroes; memory fresh from the kernel is already zero, so glibc skips the "
     "clearing there."},
    {"realloc", "malloc/malloc.c", H,
     "resizes a block: in place when the next chunk (or top) has room, else malloc, copy and "
     "free."},
    {"posix_memalign", "malloc/malloc.c", H,
     "malloc with a stronger alignment: it allocates more and gives back the unaligned "
     "leader and the trailer."},
    {"memalign", "malloc/malloc.c", H,
     "__libc_memalign, also aligned_alloc and valloc: an aligned block; an alignment that "
     "is not a power of two is rounded up to one."},
    {"__libc_malloc", "malloc/malloc.c", H,
     "glibc's malloc: tries the thread's tcache first, then _int_malloc on the main arena."},
    {"__libc_free", "malloc/malloc.c", H,
     "glibc's free: an mmapped chunk goes back with munmap (and raises the mmap threshold), "
     "any other to _int_free."},
    {"__libc_calloc", "malloc/malloc.c", H,
     "glibc's calloc: allocates, then clears only what may hold old data (fresh top or mmap "
     "memory is already zero)."},
    {"__libc_realloc", "malloc/malloc.c", H,
     "glibc's realloc: mmapped chunks are remapped, others go to _int_realloc."},
    {"_mid_memalign", "malloc/malloc.c", H, "glibc's aligned allocation entry point."},
    {"_int_memalign", "malloc/malloc.c", H,
     "allocates enough to find an aligned chunk inside, then frees the leader and trailer."},
    {"_int_malloc", "malloc/malloc.c", H,
     "the arena allocator: fastbins, small bins, the unsorted list, large bins, then a split "
     "of the top chunk; when top is too small, sysmalloc grows the heap."},
    {"_int_free", "malloc/malloc.c", H,
     "puts a chunk in a fastbin, or merges it with free neighbours and puts it in the "
     "unsorted bin or back into top; a big top is trimmed."},
    {"_int_realloc", "malloc/malloc.c", H,
     "grows into the next free chunk or top when it can, else moves the data."},
    {"ptmalloc_init", "malloc/arena.c", H,
     "the first malloc call sets up the main arena and reads the tunables."},
    {"tcache_init", "malloc/malloc.c", H,
     "allocates the thread's tcache (0x290 bytes) as the first chunk of the heap: the first "
     "malloc's own header write is what first touches the heap."},
    {"tcache_get", "malloc/malloc.c", H,
     "takes a chunk of exactly the right size from the thread cache: no locking, no search."},
    {"tcache_put", "malloc/malloc.c", H,
     "keeps a freed small chunk in the thread cache (up to 7 per size) for a fast reuse."},
    {"unlink_chunk", "malloc/malloc.c", H,
     "takes a free chunk out of its doubly linked bin, checking its links first."},
    {"malloc_consolidate", "malloc/malloc.c", H,
     "merges every fastbin chunk with its free neighbours, to fight fragmentation before a "
     "large request."},
    {"sysmalloc", "malloc/malloc.c", H,
     "top is too small: ask the kernel for more. It grows the heap with sbrk by the request "
     "plus top_pad (128 KiB), page-rounded, or mmaps requests above the mmap threshold."},
    {"sysmalloc_mmap", "malloc/malloc.c", H,
     "a request at or above the mmap threshold (128 KiB at first) gets its own mmap, with an "
     "8-byte header before the user pointer."},
    {"systrim", "malloc/malloc.c", H,
     "the top chunk grew beyond the trim threshold: the heap gives whole pages back with a "
     "negative sbrk."},
    {"munmap_chunk", "malloc/malloc.c", H, "returns an mmapped chunk to the kernel with munmap."},
    {"mremap_chunk", "malloc/malloc.c", H,
     "realloc of an mmapped chunk: mremap resizes the mapping, moving it if it must; the "
     "pages go with it, so nothing is copied and nothing faults."},
    {"arena_get2", "malloc/arena.c", H,
     "the thread has no arena yet: take one no thread uses (free_list), else make a new one "
     "while there are fewer than 8 per CPU (or M_ARENA_MAX), else share the next in line."},
    {"_int_new_arena", "malloc/arena.c", H,
     "a new arena: a heap of its own, its malloc_state right after the heap_info at the "
     "heap's start and its top chunk after that (at heap + 0x8d0)."},
    {"get_free_list", "malloc/arena.c", H,
     "reuses an arena whose threads all exited, with everything still in its bins."},
    {"reused_arena", "malloc/arena.c", H,
     "the arena limit is reached: the thread shares an existing arena, the next in line round "
     "robin, so threads may contend for its lock."},
    {"arena_get_retry", "malloc/arena.c", H,
     "an allocation failed in the thread's arena: try main_arena (or another arena) once "
     "more."},
    {"new_heap", "malloc/arena.c", H,
     "a heap for a non-main arena: 64 MiB of address space aligned to 64 MiB (mmap 128 MiB "
     "PROT_NONE, unmap the unaligned ends), of which only the part in use is made read-write: "
     "VIRT grows by 64 MiB, RSS by nothing until pages are touched."},
    {"grow_heap", "malloc/arena.c", H,
     "the arena's top is too small: mprotect more of the heap's reservation read-write "
     "instead of sbrk."},
    {"shrink_heap", "malloc/arena.c", H,
     "gives the pages past the new end back: madvise(MADV_DONTNEED) keeps the address range, "
     "or, under overcommit mode 2, a fresh PROT_NONE mapping also drops the commit charge."},
    {"heap_trim", "malloc/arena.c", H,
     "after a free in a non-main arena: unmap a whole heap that holds nothing but top, and "
     "trim top beyond the pad, as systrim does for the main heap."},
    {"__malloc_arena_thread_freeres", "malloc/arena.c", H,
     "a thread ends: its tcache goes back to the arenas and, when it was the last thread of "
     "its arena, the arena goes on free_list for the next new thread."},
    {"__malloc_fork_lock_parent", "malloc/arena.c", H,
     "fork's prepare handler for malloc, once the process has had threads: list_lock, then "
     "every arena's mutex, so that no thread is inside malloc while the memory is copied."},
    {"__malloc_fork_unlock_parent", "malloc/arena.c", H,
     "after fork, in the parent: every arena's mutex and list_lock given back. Each store "
     "is the parent's first write to a page the child now shares: a copy-on-write fault."},
    {"__malloc_fork_unlock_child", "malloc/arena.c", H,
     "after fork, in the child, whose only thread is the one that forked: every lock made "
     "afresh, every arena but that thread's put on free_list, attached to no thread."},
    {"tcache_thread_shutdown", "malloc/malloc.c", H,
     "frees every chunk in the ending thread's tcache, then the tcache itself, into their "
     "arenas."},
    {"pthread_create", "nptl/pthread_create.c", M,
     "makes a thread: a stack (allocate_stack), then clone3 with the flags of a thread; the "
     "new thread shares the address space."},
    {"allocate_stack", "nptl/allocatestack.c", M,
     "the thread's stack: one from the stack cache, or a new mapping of RLIMIT_STACK's size "
     "and a guard page, PROT_NONE, all but the guard then made read-write; the struct pthread "
     "at its top is written (a fault) and the DTV is calloc'd in the caller's arena."},
    {"start_thread", "nptl/pthread_create.c", M,
     "the new thread's first instructions: its first stack frame, below the struct pthread "
     "and the static TLS, is written (a fault)."},
    {"__libc_thread_freeres", "malloc/thread-freeres.c", H,
     "the thread's start routine returned: what libc keeps per thread goes back, the tcache "
     "and the arena first."},
    {"pthread_join", "nptl/pthread_join_common.c", M,
     "the joined thread's tid word is clear: its stack goes to the stack cache (up to 40 MiB), "
     "for the next pthread_create."},
    {"__nptl_free_stacks", "nptl/nptl-stack.c", M,
     "the stack cache holds more than 40 MiB: the oldest cached stacks are unmapped."},
    {"__libc_mallopt", "malloc/malloc.c", H,
     "sets one of malloc's parameters, after consolidating main_arena's fastbins; setting a "
     "threshold or the pad turns the dynamic mmap threshold off."},
    {"__malloc_trim", "malloc/malloc.c", H,
     "malloc_trim: in every arena, hands the free whole pages inside free chunks back with "
     "madvise(MADV_DONTNEED), and trims the main heap's top with sbrk."},
    {"mtrim", "malloc/malloc.c", H,
     "one arena of malloc_trim: consolidate, then madvise the page-aligned inside of every "
     "large free chunk: RSS falls, the heap keeps its size."},
    {"__malloc_stats", "malloc/malloc.c", H,
     "prints each arena's system and in-use bytes to stderr, then the totals with the "
     "mmapped chunks."},
    {"__malloc_info", "malloc/malloc.c", H,
     "writes every arena's free chunks by size class, its system memory and address space, "
     "as XML."},
    {"malloc_printerr", "malloc/malloc.c", H,
     "malloc found its heap corrupted (a double free, a bad size): it prints the message and "
     "aborts rather than go on."},
    {"abort", "stdlib/abort.c", X,
     "raises SIGABRT on the process: it ends, dumping core on a real system."},

    /* ---- the textbook allocators (CS:APP 9.9, libc/freelist.c, seed.c) --- */
    {"mm_init", "CS:APP mm.c, libc/freelist.c", H,
     "sets up the heap: a prologue and an epilogue block that spare the coalescing code the "
     "edge cases."},
    {"extend_heap", "CS:APP mm.c, libc/freelist.c", H,
     "no free block fits: grow the heap with sbrk and make the new space one free block."},
    {"place", "CS:APP mm.c, libc/freelist.c", H,
     "puts the request in the chosen free block, splitting off the rest when it is big enough "
     "to be a block."},
    {"coalesce", "CS:APP mm.c, libc/freelist.c", H,
     "merges a freed block with free neighbours, found through the boundary tags."},
    {"mmap_chunk", "libc/freelist.c", H,
     "a large request gets its own anonymous mapping, as glibc does above its threshold."},

    /* ---- a policy of one's own (libc/memlib.h, aftermalloc lab) ------------ */
    {"mm_malloc", "your mm.c (libc/memlib.h)", H,
     "your allocator's malloc: every word it reads or writes through GET and PUT is a load "
     "or store of the simulated CPU, so its first write to a fresh page is the fault."},
    {"mm_free", "your mm.c (libc/memlib.h)", H, "your allocator's free."},
    {"mm_realloc", "your mm.c (libc/memlib.h)", H, "your allocator's realloc."},
    {"mm_calloc", "your mm.c (libc/memlib.h)", H, "your allocator's calloc."},
};

#undef W
#undef B
#undef H
#undef M
#undef X

#define NR_ROWS (sizeof(table) / sizeof(table[0]))

static const struct {
	const char *keyword;
	const char *what;
} stmts[] = {
    {"assign", "keeps a value in a variable; no simulated code runs."},
    {"expect", "checks a fact about the machine; no simulated code runs."},
    {"show", "prints a view of the state (/proc files, the heap, a page walk)."},
    {"sbrk", "calls glibc's sbrk: the program break moves, the heap VMA grows, and not one "
             "frame is allocated."},
    {"brk", "calls glibc's brk(): the break is set to an address; memory comes at first touch."},
    {"mmap", "maps fresh anonymous memory: a new VMA, no frame yet."},
    {"munmap", "gives a range back: its VMA goes, and any frames touched in it return to the "
               "buddy allocator."},
    {"mprotect", "changes a range's access rights: VMAs split or merge, PTEs are rewritten, "
                 "the frames stay."},
    {"madvise", "advises the kernel: dontneed frees the pages now, free lets them go under "
                "memory pressure."},
    {"mremap", "resizes a mapping, moving its page tables (not its bytes) when it must move."},
    {"store", "writes bytes through the MMU; the first write to a page with no PTE faults, and "
              "that fault is when the page gets a frame."},
    {"load", "reads bytes through the MMU; a never-touched page is mapped to the shared zero "
             "page on the first read."},
    {"touch", "writes one byte into every page of a range: one fault and one frame per "
              "untouched page."},
    {"read", "reads one byte from every page of a range: untouched pages fault and map the "
             "shared zero page."},
    {"setrlimit", "sets a resource limit with the setrlimit system call."},
    {"malloc", "calls the malloc policy: a block of address space, perhaps a brk or mmap "
               "system call, and page faults only where malloc writes its own headers."},
    {"calloc", "calls calloc: malloc, then zeroes wherever the memory may hold old data."},
    {"realloc", "calls realloc: resize in place, or move the data."},
    {"free", "calls free: the block goes back to the allocator, rarely to the kernel."},
    {"posix_memalign", "calls posix_memalign: an aligned block."},
    {"usable", "asks malloc_usable_size: how many bytes the block really holds."},
    {"for", "starts a counted loop: the bounds are computed once, the variable takes the first "
            "value; no simulated code runs."},
    {"thread", "creates a thread (pthread_create): a stack of its own in the same address "
               "space, and a task of its own; it starts at once."},
    {"join", "the thread's start routine returns and it ends; pthread_join keeps its stack for "
             "the next thread."},
    {"in", "switches to another task (process or thread) for the statements up to its end."},
    {"end", "closes a block: a loop adds its step and goes round again until the variable "
            "passes the bound; an in block switches back to the task before it."},
    {"expect signal", "notes how the program must die: checked when the script ends."},
    {"expect stderr", "notes a text the program must write to stderr: checked when the script "
                      "ends."},
    {"sysctl", "writes a /proc/sys/vm knob: overcommit policy, watermarks, swappiness."},
    {"swapon", "turns a swap area on: anonymous pages can now be written out when memory is "
               "short, and come back at a major fault."},
    {"swapoff", "turns the swap area off: every page in it is read back into memory first."},
    {"oom_score_adj", "biases the OOM killer's choice for this process (-1000 never, 1000 "
                      "first)."},
    {"mallopt", "sets one of glibc malloc's parameters (mallopt): thresholds, the top pad, "
                "the arena limit, the perturb byte."},
    {"malloc_trim", "asks glibc to give free memory back: the free pages inside every arena's "
                    "free chunks are madvised away, the main heap's top is trimmed."},
    {"malloc_stats", "prints glibc's per-arena system and in-use bytes to stderr."},
    {"malloc_info", "prints glibc's arenas, their free chunks by size, as XML."},
    {"fork", "calls fork: a child process that shares every page copy-on-write; it waits "
             "stopped until an in block runs it."},
    {"exit", "calls exit: the process ends, its memory goes back, a zombie until its parent "
             "waits."},
    {"wait", "calls waitpid: reaps a child that ended and gives its exit status."},
};

const struct narration *narrate_lookup(const char *fn)
{
	if (!fn)
		return NULL;
	for (size_t i = 0; i < NR_ROWS; i++)
		if (strcmp(table[i].fn, fn) == 0)
			return &table[i];
	return NULL;
}

const struct narration *narrate_table(size_t *n)
{
	*n = NR_ROWS;
	return table;
}

int narrate_fn(const char *fn, char *buf, size_t n)
{
	const struct narration *r = narrate_lookup(fn);

	if (!r)
		return snprintf(buf, n, "%s: " NARRATE_MISSING, fn ? fn : "?");
	return snprintf(buf, n, "%s (%s): %s", r->fn, r->src, r->what);
}

const char *narrate_stmt(const char *keyword)
{
	for (size_t i = 0; keyword && i < sizeof(stmts) / sizeof(stmts[0]); i++)
		if (strcmp(stmts[i].keyword, keyword) == 0)
			return stmts[i].what;
	return NULL;
}
