/*
 * task.h - a simulated process: an mm_struct with the standard layout (text,
 * data+bss, heap right after bss, mmap area growing down below the stack, a
 * stack VMA with its guard gap), rlimits, fault counters, and, when it dies
 * of a signal, the report the real kernel would print (task.c).
 */
#ifndef KERNEL_SIM_TASK_H
#define KERNEL_SIM_TASK_H

#include <setjmp.h>

#include "kernel.h"
#include "open.h"

/*
 * The program image: a tiny PIE as gcc and GNU ld build it (the guide's
 * `p = malloc(100); p[0] = 'x'; free(p);` in main, `gcc prog.c` on Debian 12),
 * five pages from the load bias, each a PT_LOAD's pages:
 *
 *   0x0000-0x1000  r--  ELF and program headers, .dynsym, ...   file offset 0x0000
 *   0x1000-0x2000  r-x  .text, main at 0x1149                   file offset 0x1000
 *   0x2000-0x3000  r--  .rodata, .eh_frame                      file offset 0x2000
 *   0x3000-0x4000  r--  RELRO: .init_array ... .got, from 0x3dd0 file offset 0x2000
 *   0x4000-0x5000  rw-  .data to 0x4020, then .bss to the end   file offset 0x3000
 *
 * The writable segment starts at p_vaddr 0x3dd0, p_offset 0x2dd0: it shares
 * its first file page with .rodata, so its pages map file offsets one page
 * below their addresses (ELF_DATA_SKEW). /proc/PID/maps shows these five
 * lines, as for a real PIE, and Linux's accounting follows: VmExe is the r-x
 * page, VmData counts the rw- page (VM_WRITE), the r-- pages count in VmSize
 * only. libc keeps its allocator roots in the bss.
 */
#define ELF_TEXT_PAGE   0x1000ULL
#define ELF_RODATA_PAGE 0x2000ULL
#define ELF_RELRO_PAGE  0x3000ULL
#define ELF_RW_PAGE     0x4000ULL
#define ELF_IMAGE_END   0x5000ULL
#define ELF_TEXT_VADDR  0x1000ULL /* start_code: the r-x segment's p_vaddr */
#define ELF_TEXT_END    0x1185ULL /* end_code: its p_vaddr + p_filesz */
#define ELF_MAIN_VADDR  0x1149ULL /* where main lands in .text */
#define ELF_DATA_VADDR  0x3dd0ULL /* start_data: the rw- segment's p_vaddr */
#define ELF_DATA_END    0x4020ULL /* end_data: its p_vaddr + p_filesz */
#define ELF_DATA_SKEW   0x1000ULL /* its p_vaddr - p_offset */
#define TASK_START_RSS  2         /* pages written before main: data+bss, top of stack */

/* Signal numbers and si_codes, Linux x86-64 values. */
#define SIM_SIGKILL 9
#define SIM_SIGABRT 6
#define SIM_SIGSEGV 11
#define SIM_SIGXCPU 24
#define SIM_SEGV_MAPERR 1
#define SIM_SEGV_ACCERR 2
#define SIM_SI_KERNEL 0x80

enum { SIM_RLIMIT_DATA, SIM_RLIMIT_STACK, SIM_RLIMIT_AS, SIM_RLIMIT_CPU, SIM_NR_RLIMITS };
#define SIM_RLIM_INFINITY UINT64_MAX

/*
 * RLIMIT_CPU. The model has no clock: CPU time is counted in steps, one per
 * iteration of an allocator loop over data the program can corrupt (a block
 * walk, a free-list or bin walk: libc_step). Linux counts this limit in
 * seconds; here its values are steps. Linux's default is RLIM_INFINITY; here
 * it is finite, so that a program looping on a corrupted heap gets SIGXCPU
 * (as under `ulimit -S -t`) instead of hanging the host: the soft default is
 * 18x the most any trace replay takes (seed on cmu/firefox-reddit.rep,
 * 1.11e9 steps). The hard limit may not be raised past its default (EPERM),
 * so no program can lift the limit.
 */
#define SIM_RLIMIT_CPU_DEFAULT 20000000000ULL /* steps: soft limit */
#define SIM_RLIMIT_CPU_CEILING 40000000000ULL /* steps: hard limit, and its ceiling */

struct sim_rlimit {
	uint64_t cur, max;
};

/* How the simulated process died (valid when task->dead). */
struct task_death {
	int signo;       /* SIM_SIG* */
	int code;        /* si_code: SIM_SEGV_MAPERR, ... */
	vaddr_t addr;    /* faulting address (SIGSEGV) */
	unsigned error;  /* x86 error code (SIGSEGV from #PF) */
	char reason[128];  /* "SEGV_MAPERR", "double free detected in tcache 2", "out of memory" */
	char report[512];  /* what the real kernel/glibc prints, one or more lines */
};

/* exit_state (include/linux/sched.h): 0 while the task lives. */
#define EXIT_ZOMBIE 0x10 /* exited, its status not yet collected by wait */
#define EXIT_DEAD   0x20 /* reaped: nothing of it is left but this struct */

struct task {
	int pid;
	int tgid;                  /* the thread group (process) id: the leader's pid */
	struct task *group_leader; /* itself for a process's first task */
	char comm[16];
	/* The address space, shared by the threads of one process (mm_users
	   counts them). NULL once the task exited (exit_mm). */
	struct mm_struct *mm;
	/* Family (kernel/fork.c copy_process, kernel/exit.c): the parent that
	   forked it and waits for it, whose pid /proc/PID/status shows as PPid
	   (Linux's parent is the same task but under ptrace, which the model
	   has not); its children, newest first, linked by sibling. NULL for a
	   task whose parent is outside the model: the first process, pid 1 of
	   its own PID namespace (as a container's first process), whose
	   parent, the host, the namespace cannot see (PPid 0, as Linux shows
	   it), and an orphan adopted by the init outside the model. */
	struct task *real_parent;
	struct task *children, *sibling;
	int exit_state;            /* 0, EXIT_ZOMBIE or EXIT_DEAD */
	bool autoreap;             /* orphaned: init reaps it when it exits */
	int exit_code;             /* wait status: (status & 0xff) << 8, or the signal */
	bool thread;               /* made by clone with CLONE_THREAD: not the group's
				      leader, nobody's child, reaped when it exits */
	vaddr_t set_child_tid;     /* CLONE_CHILD_SETTID: its tid is stored there as it
				      first runs (schedule_tail) */
	vaddr_t clear_child_tid;   /* CLONE_CHILD_CLEARTID: zeroed at exit (mm_release) */
	bool ret_from_fork;        /* made by copy_process, not run yet: its first run
				      begins in schedule_tail */
	vaddr_t fsbase;            /* CLONE_SETTLS: the thread pointer (0: none set) */
	uint64_t tlb_hits, tlb_misses; /* the CPU's TLB counts while it ran (switch.c) */
	uint64_t nvcsw;            /* times it was switched out (voluntary_ctxt_switches) */
	struct sim_rlimit rlim[SIM_NR_RLIMITS];
	uint64_t min_flt, maj_flt; /* page faults that were resolved */
	uint64_t sig_min_flt, sig_maj_flt; /* a group leader's: those of its group's
					      threads that are gone (signal_struct's,
					      added by release_task) */
	uint64_t maxrss;           /* peak RSS in pages of an mm it left (signal->maxrss) */
	uint64_t utime;            /* user CPU time charged, in steps (RLIMIT_CPU) */
	bool dead;                 /* killed by a fatal signal (death) or exited (exit_state) */
	struct task_death death;
	struct sim_file files[SIM_NR_OPEN]; /* fds 3.. (open.c) */
	char stderr_buf[1024];     /* what the process wrote to fd 2 (glibc's messages) */
	size_t stderr_len;
	jmp_buf *exit_jmp;         /* armed by task_run: where a fatal signal unwinds to */
	unsigned exit_depth;       /* probe depth to unwind to */
	/* Added by task.c: */
	vaddr_t ip, sp;            /* user registers for reports; task_run loads them
				      into the CPU and saves them back */
	struct task *next_task;    /* kernel's list of tasks, zombies too (owned by task.c) */
};

/* The kernel's tasks, newest first, zombies too (for_each_process_thread):
   a read-only walk for the front ends. */
static inline const struct task *task_list_first(const struct kernel *k)
{
	return k->tasks;
}

static inline const struct task *task_list_next(const struct task *t)
{
	return t->next_task;
}

/* The address space of t (t->mm in Linux). */
static inline struct mm_struct *task_mm(struct task *t)
{
	return t->mm;
}

/* A new process with the standard layout, made current (CR3 loaded). Like
   execve plus the C start-up, it has already written the data+bss page and
   the top stack page (TASK_START_RSS minor faults and anonymous pages). NULL
   when memory for its page tables or those pages cannot be had (nothing is
   left behind). */
struct task *task_create(struct kernel *k, const char *comm);
/* Take t off the kernel's list and free it, tearing down its mm first when
   it still has one (mmput). Whatever its state: kernel_shutdown and a
   session's end. Not from inside task_run of t (panic). Its children are
   left parentless (as exit's reparenting does). */
void task_destroy(struct kernel *k, struct task *t);
/* Take t off the kernel's task list (panics when it is not there), make its
   children orphans, and forget it as current: what task_destroy and
   release_task share once t is off its parent's list (Linux's
   __unhash_process). t's memory stays the caller's to free. */
void __unhash_process(struct kernel *k, struct task *t);
/* The end of t's whole process from outside it: task_destroy of every task
   of t's thread group, its other threads first, then t (the last one
   tears the shared mm down). */
void task_destroy_group(struct kernel *k, struct task *t);
/* The task with this pid (zombies too), or NULL (find_task_by_vpid). */
struct task *find_task_by_pid(struct kernel *k, int pid);
/*
 * t's state as /proc/PID/status and stat give it (get_task_state):
 * "R (running)" for running, the task that runs now (k->current while a
 * statement runs); "S (sleeping)" for any other live task -- one task runs
 * at a time, and the others wait for the script to switch to them, which
 * on the machine is a task asleep (a parent in wait4, a child no one woke);
 * "Z (zombie)"; "X (dead)".
 */
const char *task_state(const struct task *t, const struct task *running);

/*
 * Run fn(arg) as the process t (current, user mode), switching the CPU to it
 * first (context_switch) when another task ran last. A fatal signal raised
 * inside unwinds (longjmp) back here: returns 0 when fn returned, else the
 * signal number; t->death says why. When t exits (exit_group) it returns
 * TASK_RUN_EXITED; if init reaped it at once (an orphan), t has been freed
 * by then. fn must not keep host resources that an unwind would leak. A
 * dead task does not run again: its signal (or TASK_RUN_EXITED) is returned
 * at once. CPU ip/sp are loaded from t->ip/sp and saved back.
 */
#define TASK_RUN_EXITED (-1)
int task_run(struct kernel *k, struct task *t, void (*fn)(void *), void *arg);

/*
 * Deliver a fatal signal to current: record the death and its report, emit
 * EV_SIGNAL (its text, the reason, lives until kernel_shutdown), then unwind
 * to task_run if armed. Returns only when not armed.
 * Reports: SIGSEGV "COMM[PID]: segfault at ADDR ip IP sp SP error CODE"
 * (show_signal_msg); SIGSEGV with SI_KERNEL (#GP) "traps: COMM[PID] general
 * protection fault ip:IP sp:SP error:0"; SIGKILL for "out of memory" the OOM
 * killer's "Out of memory: Killed process ..." line; otherwise the reason.
 */
void force_fatal_signal(struct kernel *k, int signo, int code, vaddr_t addr,
			unsigned error, const char *reason);
/* Record t's death by signo and its report and emit EV_SIGNAL, without
   unwinding (a task that is not running: the OOM killer's victim). */
void task_kill(struct kernel *k, struct task *t, int signo, int code, vaddr_t addr,
               unsigned error, const char *reason);

/* The slow path of account_user_time: current's CPU time reached its soft
   limit. Kills it (see below); false when task_run is not armed. */
bool check_rlimit_cpu(struct kernel *k);

/*
 * Charge steps of user CPU time to current (account_user_time) and check
 * RLIMIT_CPU as the posix CPU timers do (check_process_timers): at the hard
 * limit SIGKILL; at the soft limit SIGXCPU, whose default action kills the
 * process (no handlers in the model). Either unwinds to task_run; when
 * task_run is not armed the task is marked dead and false is returned.
 * Inline: allocator loops charge every iteration.
 */
static inline bool account_user_time(struct kernel *k, uint64_t steps)
{
	struct task *t = k->current;

	t->utime += steps;
	return t->utime < t->rlim[SIM_RLIMIT_CPU].cur || check_rlimit_cpu(k);
}

/*
 * One step of account_user_time without the RLIMIT_CPU check, for a caller
 * that keeps a deadline of its own, never past the soft limit, and calls
 * account_user_time(k, 0) when the returned charge reaches it.
 */
static inline uint64_t account_user_step(struct kernel *k)
{
	return ++k->current->utime;
}

/*
 * For a loop known never to end: charge at once the steps left before the
 * soft limit, so the kill comes at the same charge as if the loop had spun
 * there step by step. Returns as account_user_time does (false).
 */
bool account_user_time_to_limit(struct kernel *k);

#endif
