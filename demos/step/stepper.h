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
 * Going back is deterministic re-execution: the session is rebuilt from the
 * script and run, silently, up to the wanted event (DESIGN.md, Stepping). The
 * simulation is deterministic for a given script, options and seed, so the
 * state reached is the same one.
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
	struct event *log;
	size_t log_cap, log_len, log_head;
	/* Statements: an execution of a line is one (a loop's body runs many). */
	size_t cur_stmt;             /* index in sc->stmts of the statement running at cur,
	                                or nr_stmts */
	uint64_t *starts;            /* seq of each EV_STMT seen, in order: nr_starts is
	                                the number of statement executions so far */
	size_t nr_starts, cap_starts;
	int rebuilds;                /* how many times the session was rebuilt */
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

/* The i-th most recent logged event (0 = the current one), or NULL. */
const struct event *stepper_log(const struct stepper *st, size_t i);
/*
 * The task at the current event: the one the CPU runs (the kernel's
 * current; during a context switch the new one from __switch_to on).
 * NULL only before the first process exists.
 */
const struct task *stepper_current(const struct stepper *st);
/*
 * The task whose address space the views show at the current event: the
 * current task while it has one, else (it has exited: exit_mm dropped it)
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
