/*
 * stepper.h - the stepping engine shared by `aftermalloc step` and the viewer.
 *
 * A stepper runs a scenario's session on its own execution context (a
 * coroutine, demos/step/coro.h) and pauses it inside the probe's sink at the event
 * a command asks for: the next event, the next statement, the next page fault,
 * the next system call, the return of the current function, or event N. While
 * paused, the whole simulation (kernel, page tables, buddy lists, heap) is
 * live and can be read through its read-only accessors; the call path is the
 * probe's stack.
 *
 * Going back restores a checkpoint and replays a bounded number of events
 * (DESIGN.md, Stepping). The whole host-side state of the simulation (the
 * session, kernel, libc, simulated RAM, the coroutine's stack, the log ring)
 * lives in one arena (vm/hostmem.h); a checkpoint is a snapshot of its pages
 * plus the stepper's own position, taken every ckpt_every events while the
 * program runs forward (and one before the first event). A step back to
 * event N restores the latest checkpoint at or before N and re-executes the
 * events from there to N: at most ckpt_every of them (the bound;
 * stepper_back_replayed counts them). The simulation is deterministic for a
 * given script, options and seed, so the events replayed are the ones seen.
 *
 * ckpt_every starts at STEPPER_CKPT_EVERY and doubles: while a checkpoint
 * costs more than a sixteenth of the events between two (counted in bytes
 * read, STEPPER_CKPT_READ_PER_EVENT; a large --phys makes each one read
 * more), and when there are more than STEPPER_CKPT_MAX checkpoints or their
 * pages pass STEPPER_CKPT_BYTES. The checkpoints that no longer start a
 * window of ckpt_every events are dropped: the bound grows while host memory
 * stays capped and checkpoints a small part of the run.
 *
 * A session whose state the arena cannot hold goes back the old way: the
 * session is rebuilt from the script and re-executed silently from event 0
 * (rebuilds counts it). That is a policy loaded from a plugin (its globals
 * live in the loaded object, outside the arena), a host that refuses the arena's
 * reservation (ulimit -v), and sanitizer builds run with
 * detect_stack_use_after_return (frames live outside the stack).
 */
#ifndef DEMOS_STEPPER_H
#define DEMOS_STEPPER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "coro.h"
#include "../cli/session.h"

enum step_cmd {
	STEP_EVENT,     /* s, Enter: one event */
	STEP_STMT,      /* n: to the start of the next statement executed (or the end) */
	STEP_FAULT,     /* f: to the next page fault (EV_FAULT) */
	STEP_SYSCALL,   /* y: to the next system call (EV_SYSCALL) */
	STEP_RETURN,    /* o: until the current function returns (its EV_RET) */
	STEP_BACK,      /* b: one event back */
	STEP_BACK_STMT, /* B: to the start of the current statement, or the one before */
	STEP_GOTO,      /* g N: to event N */
	STEP_END,       /* run to the end */
	STEP_RECLAIM,   /* r: to the next reclaim (direct: try_to_free_pages; kswapd) */
	STEP_SWAPOUT,   /* w: to the next page written to swap (swap_writepage) */
	STEP_MAJOR,     /* m: to the next major fault (do_swap_page) */
	STEP_OOM,       /* k: to the next OOM kill (out_of_memory) */
	STEP_COW,       /* c: to the next copy-on-write fault (do_wp_page) */
	STEP_SWITCH,    /* t: to the next context switch (context_switch) */
};

/* Checkpoints: the first interval, and the caps that double it (stepper.h). */
#define STEPPER_CKPT_EVERY 4096
#define STEPPER_CKPT_MAX 256
#define STEPPER_CKPT_BYTES (256ULL << 20)
/* Bytes a checkpoint reads for the cost of one event run (stepper.c, ckpt_adapt). */
#define STEPPER_CKPT_READ_PER_EVENT 1024

/* The simulation at one event: the arena's pages and the stepper's position. */
/* A logged event, with the task the script's statement ran in when it came
   (the session's res.pid and res.tid, as run --json gives them): for a stmt
   event, that statement's task. */
struct stepper_logged {
	struct event ev;
	int pid, tid;
};

struct stepper_ckpt {
	struct hostmem_snap *snap;
	bool have_cur;               /* false: before the first event */
	struct event cur;            /* seq: where it was taken */
	struct coro co;              /* the paused coroutine (its stack is in snap) */
	bool started;
	size_t cur_stmt, nr_starts, cap_starts, log_len, log_head;
	uint64_t *starts;
};

struct stepper {
	const struct script *sc;     /* borrowed */
	struct session_opts opts;
	struct session *s;           /* the live simulation */
	struct coro co;
	bool started, finished;      /* coroutine begun / program ended (or died) */
	/* The pause condition, read by the sink. */
	enum step_cmd cmd;
	uint64_t target;             /* STEP_GOTO: seq to stop at */
	unsigned ret_depth;          /* STEP_RETURN: depth of the awaited EV_RET */
	bool abandon, killing;       /* rewinding: end the running program */
	/* Where we are. */
	bool have_cur;
	struct event cur;            /* the event paused at */
	uint64_t last_seq;           /* highest seq ever seen (for g N past the end) */
	/* Recent events, a ring, for the log views. */
	struct stepper_logged *log;
	size_t log_cap, log_len, log_head;
	/* Statements: an execution of a line is one (a loop's body runs many). */
	size_t cur_stmt;             /* index in sc->stmts of the statement running at cur,
	                                or nr_stmts */
	uint64_t *starts;            /* seq of each EV_STMT seen, in order: nr_starts is
	                                the number of statement executions so far */
	size_t nr_starts, cap_starts;
	int rebuilds;                /* how many times the session was rebuilt */
	/* Checkpoints (NULL hm: none, going back rebuilds). */
	struct hostmem *hm;          /* the arena the simulation lives in */
	struct stepper_ckpt *ckpts;  /* by seq; [0] is before the first event */
	size_t nr_ckpts, cap_ckpts;
	uint64_t ckpt_every;         /* the interval, and the bound of a step back */
	bool ckpt_fixed;             /* tests: the interval grows only past the caps,
	                                not with the cost of a checkpoint */
	uint64_t ckpt_at;            /* the seq the next checkpoint is due at */
	bool ckpt_due, pause_due;    /* the sink asks run() for a checkpoint / a pause */
	uint64_t events_seen;        /* events the sink saw, replays included */
	uint64_t back_replayed;      /* events re-executed by the last step back */
	uint64_t restores;           /* checkpoints restored */
	uint64_t ckpts_taken;        /* checkpoints taken (dropped ones included) */
};

/* Boot the session (nothing runs yet: call stepper_do). NULL after a message on err. */
struct stepper *stepper_create(const struct script *sc, const struct session_opts *o,
			       size_t log_cap, FILE *err);
void stepper_destroy(struct stepper *st);

/*
 * Carry out cmd (arg: the event number for STEP_GOTO). Returns true when
 * paused at an event (st->cur), false when the program has ended (ran to its
 * last statement, or was killed): the state is then the final one and
 * st->cur the last event. Going back from the end works.
 */
bool stepper_do(struct stepper *st, enum step_cmd cmd, uint64_t arg);

/*
 * The steppers' keys (DESIGN.md, The command), shared by `step` and `view`:
 * "s" or "" (Enter) one event, "n" next statement, "f" next page fault, "y"
 * next system call, "o" until return, "b" one event back, "B" one statement
 * back, "g N" go to event N, "e" to the end; "r", "w", "m", "k" the next
 * reclaim, swap-out, major fault, OOM kill; "c" the next copy-on-write
 * fault, "t" the next context switch. Returns 1 and sets *cmd and *arg, 0
 * for "q" (quit), -1 for anything else.
 */
int stepper_parse_key(const char *input, enum step_cmd *cmd, uint64_t *arg);

/* Tests: checkpoints every `every` events, growing only past the caps (not
   with their cost), from the next one on. */
void stepper_fix_ckpt_every(struct stepper *st, uint64_t every);

/* The stepper's invariants (and its arena's): 0, or -1 after a message on err. */
int stepper_check(const struct stepper *st, FILE *err);

/* The i-th most recent logged event (0 = the current one), or NULL. */
const struct event *stepper_log(const struct stepper *st, size_t i);
/* The task (pid, tid) the statement of the i-th most recent logged event ran
   in; false when there is no such event. */
bool stepper_log_task(const struct stepper *st, size_t i, int *pid, int *tid);
/*
 * The task at the current event: the one the CPU runs (the kernel's
 * current; during a context switch the new one from __switch_to on); at a
 * statement's stmt event, the task that statement runs in (recorded with
 * it), before the CPU switches there. NULL only before the first process
 * exists.
 */
const struct task *stepper_current(const struct stepper *st);
/*
 * The task whose address space the views show at the current event: the
 * current task (stepper_current) while it has one, else (it has exited: exit_mm dropped it)
 * the task the script's statements run in, else the program the script
 * started in. NULL when none has one.
 */
struct task *stepper_view_task(const struct stepper *st);
/* "pid 2" or, for a thread that is not its group's leader, "pid 2 tid 3";
   "no task" before the first. Returns buf. */
const char *stepper_task_label(const struct stepper *st, char *buf, size_t n);

/* The call path at the current event: the probe's open calls, outermost first. */
unsigned stepper_call_path(const struct stepper *st, const char **fns, unsigned max);

#endif
