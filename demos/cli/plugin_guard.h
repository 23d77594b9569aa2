/*
 * plugin_guard.h - keeping a policy of one's own (a plugin: libc/memlib.h)
 * from taking the tool down, in the host process that runs it.
 *
 * A plugin is C code running in our process. Three things can go wrong in
 * it that the simulation alone does not see:
 *  - it dereferences a simulated address (0x555555559010) instead of using
 *    mem_get/mem_put. Nothing stops the host from having memory mapped
 *    there (without ASLR a PIE is loaded at exactly that address), so the
 *    guard reserves the simulated process's address ranges in the host,
 *    unmapped (PROT_NONE): such a dereference always faults, and is
 *    reported as what it is. When the host's own layout is in the way, the
 *    command executes itself again (a fresh random layout) before it reads
 *    or writes anything;
 *  - it crashes on a host pointer (SIGSEGV, SIGBUS, SIGILL, SIGFPE, abort);
 *  - it loops without end in its own code.
 * A fault or an endless loop in the plugin's code, during one of its calls,
 * ends the simulated process instead of the host: the signal handler
 * returns into a trampoline on the interrupted stack, which kills the
 * process the way the kernel kills one (force_fatal_signal: the call in
 * progress never returns, the front end reports the death), or abandons a
 * walk or a heap check. Only what cannot be undone safely -- a crash inside
 * the simulator's own code while a plugin call runs (the plugin may have
 * scribbled over host memory), a stack overflow -- is left to kill the
 * host process; the lab and `replay --malloc ./mm.so` therefore run each
 * trace in a child process (demos/cli/sandbox.h), which is reported on.
 *
 * The handlers are the process's: this module's state is process-wide, as
 * signal dispositions are.
 */
#ifndef DEMOS_PLUGIN_GUARD_H
#define DEMOS_PLUGIN_GUARD_H

#include <stdbool.h>
#include <stdint.h>

struct memlib;

/* The host ranges kept unmapped: the default layout of a simulated process
   (kernel_sim/task.c, no ASLR): the program image and the heap after it,
   and the top of the address space (mmap area and stack). */
#define GUARD_IMAGE_START 0x555555554000ULL
#define GUARD_IMAGE_BYTES (64ULL << 30)
#define GUARD_TOP_END     0x7ffffffff000ULL /* USER_VA_END */
#define GUARD_TOP_BYTES   ((1ULL << 30) + (128ULL << 20))

/*
 * Reserve the ranges. Call at the start of a command that will run a
 * plugin, before it reads its input: when the host's layout is in the way
 * and may_reexec, the command is executed again (at most 8 times) from
 * /proc/self/exe with the same arguments. Returns true when both ranges are
 * reserved; false after a warning on stderr (host ASLR off, say) that a
 * dereference there may go unnoticed.
 */
bool plugin_guard_layout(bool may_reexec);

/* Whether va lies in a reserved range. */
bool plugin_guard_covers(uint64_t va);

/* Watch plugin m, whose code is the shared object dl (a dlopen handle):
   the handlers and the watchdog are installed with the first. 0, or -1
   when there is no room (8 plugins at once). */
int plugin_guard_watch(struct memlib *m, void *dl);
void plugin_guard_unwatch(struct memlib *m);

/* The CPU time a call into a plugin may spend in its own code before it is
   taken for an endless loop (default 5 s). */
void plugin_guard_set_spin_limit(double secs);

#endif
