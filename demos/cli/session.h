/*
 * session.h - one simulation of a scenario script: a booted kernel, the
 * tasks of the simulated program, their libc with a malloc policy, and the
 * script's variables and arrays; statements run one at a time.
 *
 * All state lives in struct session (no globals), and execution is
 * session_step(s): it runs the statement at s->next (the program counter)
 * and moves s->next on, forward by one, or back to the top of a loop, or
 * past the `end` of a loop that is done. One call is one execution of one
 * line: a loop's body runs through as many calls as it has iterations. A
 * front end that steps event by event runs that call on its own execution
 * context (demos/step/coro.h) and pauses inside the probe sinks it adds with
 * session_add_sink. Events reach every sink in emission order; the
 * session's own sink counts them per statement first.
 *
 * Tasks. Statements run in the task s->task with its libc s->lc; `in ID`
 * ... `end` runs its body in another task and then returns to the one
 * before. Every switch goes through one seam, session_switch_task, over the
 * table of tasks a script can name (session_add_task): the main program is
 * there from the start under its pid; processes (fork) and threads add
 * theirs. The context switch itself is the kernel's (task_run switches when
 * another task ran last).
 *
 * Processes: `fork` adds the child (a copy of the parent's libc, stopped
 * until an `in` runs it); `exit` and a fatal signal end a task; `wait`
 * reaps a child. A task that ended runs no statement that runs code or
 * shows a view: that is an error at run time naming the line where it
 * ended. A child's death by a signal does not end the run (the child
 * becomes a zombie with that status, as in Linux); the main program's
 * does.
 */
#ifndef DEMOS_SESSION_H
#define DEMOS_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../../kernel_sim/kernel.h"
#include "../../libc/libc.h"
#include "script.h"

/*
 * The statement budget: a run executes at most this many statements more
 * than the script has (a line inside a loop counts once per pass, so a
 * script without loops always runs to its end). A script that would run
 * more, a runaway loop most likely, stops with "FILE:LINE: statement budget
 * of N exhausted" (docs/reference.md, Blocks). A million passes is a few
 * seconds of host time at most, even with --json.
 */
#define SESSION_STMT_BUDGET 1000000ULL

struct session_opts {
	struct kernel_opts kopts; /* kernel_default_opts() then the command line */
	const char *policy;       /* --malloc; NULL: the script's `policy`, else "glibc" */
	bool check;               /* run session_check after every statement (panics) */
	uint64_t max_stmts;       /* the statement budget (0: SESSION_STMT_BUDGET + the
	                             script's statements) */
	struct libc_tunable tunables[LIBC_MAX_TUNABLES]; /* --tunable: GLIBC_TUNABLES */
	unsigned nr_tunables;
};

void session_default_opts(struct session_opts *o);

/* The options every command that runs a script takes beyond the kernel's:
   --cpus N (1 to KERNEL_MAX_CPUS) and --tunable glibc.malloc.NAME=VALUE[:...].
   0, or -1 with the reason in err ("--cpus: ..."). */
int session_opt_cpus(struct session_opts *o, const char *arg, char *err, size_t n);
int session_opt_tunable(struct session_opts *o, const char *arg, char *err, size_t n);

/* System calls by name ("brk", ... the kernel's __x64_sys_NAME), in the
   order of their first call, each with its count: a statement's and the
   run's (every process's, from the first statement on). More names than
   the model has: one past the last would count as "other". */
#define SESSION_MAX_SYSCALLS 32

struct syscall_tally {
	struct {
		const char *name; /* static: the kernel's name after __x64_sys_ */
		uint64_t count;
	} e[SESSION_MAX_SYSCALLS];
	unsigned n;
};

/* What one statement did (valid after session_run_statement). */
struct stmt_result {
	size_t idx; /* statement index in the script */
	int line;
	bool has_ret;       /* ret is meaningful (statements with a result, NAME = EXPR) */
	int64_t ret;        /* sbrk's -1 is -1; an address is positive */
	uint64_t faults;    /* #PF the CPU raised during the statement (resolved or fatal) */
	uint64_t first_seq; /* seq of the statement's first event (its EV_STMT) */
	int pid, tid;       /* the task it ran in: tgid and pid as Linux counts them */
	uint64_t events;    /* events emitted during the statement, EV_STMT included */
	uint64_t syscalls;  /* EV_SYSCALL events */
	struct syscall_tally sys; /* ... by name */
	uint64_t frames_alloc,
	    frames_freed; /* pages that left / came back to the buddy allocator */
	char *output;     /* show's text (session-owned, NULL otherwise) */
	size_t output_len;
	int64_t args[STMT_MAX_ARGS]; /* the arguments' values, as the statement got them */
	bool expect_ok;              /* ST_EXPECT */
	int64_t lhs, rhs;            /* ST_EXPECT operands */
	bool loop_again;             /* ST_FOR, ST_END of a for: the body runs (again) */
	int64_t loop_value;          /* ... with the loop variable at this value */
	bool killed;                 /* the task died of a signal in this statement: death */
	bool exited;                 /* the task ended itself in this statement (exit) */
	struct task_death death;     /* killed: how (a copy: a child's task may be gone) */
};

/* A task a script can name with `in ID` (see above). */
struct session_task {
	int64_t id;        /* the pid or tid scripts use */
	struct task *task; /* NULL once the kernel freed it (reaped) */
	struct libc *lc;
	bool owned_lc;     /* lc is the session's (a forked child's): freed with it */
	int end_line;      /* the line where it exited or was killed (0: alive) */
	int end_signo;     /* the signal that killed it, 0 when it exited */
};

/* The values of an array variable: elements 0 .. cap - 1, set[] says which
   were assigned. Grows by doubling up to SCRIPT_ARRAY_MAX elements. */
struct session_array {
	int64_t *v;
	uint8_t *set;
	size_t cap;
};

/* The state of an open block, by its number (stmt.block). */
struct session_block {
	int64_t to, step; /* for: the bounds, evaluated once on entry */
	int64_t back_id;  /* in: the task to return to at its end */
};

struct session_sink {
	probe_sink_t fn;
	void *ctx;
};

/*
 * The machine's counters when the first statement starts. Every count the
 * front ends print (events, page faults, TLB hits and misses, loads, stores,
 * walks) is of the script's statements: the counter now less its value here
 * (docs/reference.md, What is counted). Boot and the program's start-up
 * (execve, the C start-up's first touches) come before and are not counted;
 * event numbers (seq) still count from boot.
 */
struct session_base {
	uint64_t seq; /* = the first statement's EV_STMT seq */
	uint64_t faults, tlb_hits, tlb_misses, loads, stores, walks;
};

#define SESSION_MAX_SINKS 4

struct session {
	const struct script *sc; /* borrowed; outlives the session */
	/* s->task is NULL while statements run in a task the kernel has freed
	   (an orphan that exited, a child reaped); a task that exited and is
	   not reaped yet (a zombie) has no mm. Front ends check both. */
	struct session_opts opts;
	const char *policy;    /* the malloc policy in use (its name lives as long as s) */
	struct plugin *plugin; /* the policy's plugin (--malloc ./mm.so), else NULL */
	struct kernel k;
	struct task *task;      /* the task statements run in now */
	int64_t task_id;        /* its id in tasks[] */
	struct libc *lc;        /* its libc */
	struct task *main_task; /* the program the script starts in */
	struct libc main_lc;
	struct session_task *tasks; /* every task a script can name */
	size_t nr_tasks, cap_tasks;
	int64_t *vars;                 /* sc->nr_vars values */
	bool *defined;                 /* which variables were assigned */
	struct session_array *arrays;  /* sc->nr_vars; used for the array variables */
	struct session_block *blocks;  /* sc->nr_blocks */
	bool *armed;                   /* sc->nr_stmts: expect signal/stderr that ran */
	uint64_t last_faults;   /* the `faults` built-in */
	uint64_t last_majfaults; /* the `majfaults` built-in */
	struct stmt_result res; /* the statement running or last run */
	size_t next;            /* index of the next statement to run (nr_stmts: the end) */
	bool dead;              /* the program was killed: nothing more runs */
	bool failed;            /* the script failed at run time: error says why */
	bool corrupt;           /* --check found the heap broken: error says how */
	char error[320];        /* "FILE:LINE: message" */
	bool death_expected;    /* dead, as an `expect signal` said (session_finish) */
	/* Totals over the statements run. */
	uint64_t nr_run, nr_expect_failed, total_faults;
	struct syscall_tally sys; /* every statement's */
	bool sys_pending; /* a system call entered; its __x64_sys_ call is next */
	struct session_base base;
	struct session_sink sinks[SESSION_MAX_SINKS];
	unsigned nr_sinks;
};

/*
 * Boot a kernel with o->kopts, create the task (named after the script), bind
 * libc with the policy: a built-in one by name, or a plugin (a path: see
 * demos/cli/plugin.h), loaded for this session. NULL after a message on err
 * when the kernel cannot boot, the policy is unknown ("unknown malloc policy
 * 'x' (seed, ...)"; for a script's `policy` line the message is
 * "FILE:LINE: ...") or the plugin cannot be loaded.
 */
struct session *session_create(const struct script *sc, const struct session_opts *o, FILE *err);
void session_destroy(struct session *s);

/* How many calls of the system call NAME ("brk") the run made (every
   process's, from the first statement on): 0 for one never made. */
uint64_t session_syscalls(const struct session *s, const char *name);

/* Observe every event from now on (in addition to the session's own count).
   At most SESSION_MAX_SINKS; 0 or -1. */
int session_add_sink(struct session *s, probe_sink_t fn, void *ctx);

enum { SESSION_ERROR = -1, SESSION_OK = 0, SESSION_KILLED = 1, SESSION_CORRUPT = 2 };

/*
 * Run the statement at s->next (simulated code inside task_run), fill
 * s->res and move s->next on. Returns SESSION_OK when the program is still
 * alive (an expect may have failed: see res.expect_ok), SESSION_KILLED when
 * it was killed in this statement (s->task->death and s->task->stderr_buf
 * say why), SESSION_ERROR when the script went wrong at run time (an array
 * index out of range, a division by zero, the statement budget, an `in`
 * naming no task...): s->error says "FILE:LINE: message", and the statement
 * did not run. SESSION_CORRUPT is --check's finding (opts.check) after a
 * statement that ran: the program broke its allocator's heap (the policy's
 * checker found a broken invariant: s->error says "FILE:LINE: the program
 * corrupted its heap (--check): CHECKER'S MESSAGE", naming the chunk and
 * the invariant). That is a bug of the simulated program, as glibc's own
 * aborts are; a broken invariant of the kernel is one of the simulator:
 * panic. After any of the last three nothing more runs. Calling it
 * when session_done is a simulator-user bug: panic.
 */
int session_step(struct session *s);
/* Nothing more to run: the script ended, the program died or the script failed. */
bool session_done(const struct session *s);

/*
 * After the run: check what `expect signal` and `expect stderr` statements
 * asked of the end (against s->task, the task the script ended in), print
 * "FILE:LINE: expect failed: ..." to err for each that does not hold, and
 * set s->death_expected when the program died of a signal they expected.
 * Returns the number that failed (also added to s->nr_expect_failed).
 */
int session_finish(struct session *s, FILE *err);

/* Evaluate e now (variables and built-ins as they stand): 0 and *v, or -1
   with the reason in s->error, as session_step reports it. */
int session_eval(struct session *s, const struct expr *e, int64_t *v);
/* A built-in's value now (enum builtin). */
int64_t session_builtin(struct session *s, int bi);

/* "i = 3, j = 0": the variables of the loops open around the statement that
   runs now (or ran last), innermost last; "" outside loops. */
const char *session_loop_context(struct session *s, char *buf, size_t n);

/*
 * The seam of `in ID`: register a task a script can name (the main one is
 * registered by session_create), and make the task named id the one
 * statements run in (s->task, s->lc). 0, or -1 when no task has that id
 * (add: out of host memory). Switching is where a context switch between
 * processes would be made.
 */
int session_add_task(struct session *s, int64_t id, struct task *t, struct libc *lc);
int session_switch_task(struct session *s, int64_t id);

/* The address P + OFF of store, load, touch and read: wraps at 2^64. */
vaddr_t session_user_addr(int64_t p, int64_t off);

/* Kernel invariants and the policy's heap checker. Returns #broken. */
int session_check(struct session *s, FILE *err);
/* Variables and counters, one a line. */
void session_dump(struct session *s, FILE *out);

/* "SIGSEGV", "SIGABRT", ... and "SEGV_MAPERR", "SI_TKILL", ...: static strings
   (a number as text for the unknown, in buf). */
const char *session_signal_name(int signo, char *buf, size_t n);
const char *session_sigcode_name(int signo, int code, char *buf, size_t n);

/*
 * How the program died, as the terminal of a real run shows it: what it wrote
 * to fd 2 (glibc's message), then the kernel's report unless that is the same
 * message (an abort's reason is glibc's line). Each line starts with indent.
 */
void session_print_death(const struct task *t, FILE *out, const char *indent);

/* Events emitted since the first statement began (the --events file's lines). */
uint64_t session_events(const struct session *s);

#endif
