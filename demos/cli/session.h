/*
 * session.h - one simulation of a scenario script: a booted kernel, one task
 * (the simulated program), its libc with a malloc policy, and the script's
 * variables; statements run one at a time.
 *
 * All state lives in struct session (no globals), and execution is
 * session_run_statement(s, idx): a front end that steps event by event runs
 * that call on its own execution context (demos/step/coro.h) and pauses inside the
 * probe sinks it adds with session_add_sink. Events reach every sink in
 * emission order; the session's own sink counts them per statement first.
 */
#ifndef DEMOS_SESSION_H
#define DEMOS_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../../kernel_sim/kernel.h"
#include "../../libc/libc.h"
#include "script.h"

struct session_opts {
	struct kernel_opts kopts; /* kernel_default_opts() then the command line */
	const char *policy;       /* --malloc; NULL: the script's `policy`, else "glibc" */
	bool check;               /* run session_check after every statement (panics) */
};

void session_default_opts(struct session_opts *o);

/* What one statement did (valid after session_run_statement). */
struct stmt_result {
	size_t idx; /* statement index in the script */
	int line;
	bool has_ret;       /* ret is meaningful (statements with a result, NAME = EXPR) */
	int64_t ret;        /* sbrk's -1 is -1; an address is positive */
	uint64_t faults;    /* #PF the CPU raised during the statement (resolved or fatal) */
	uint64_t first_seq; /* seq of the statement's first event (its EV_STMT) */
	uint64_t events;    /* events emitted during the statement, EV_STMT included */
	uint64_t syscalls;  /* EV_SYSCALL events */
	uint64_t frames_alloc,
	    frames_freed; /* pages that left / came back to the buddy allocator */
	char *output;     /* show's text (session-owned, NULL otherwise) */
	size_t output_len;
	bool expect_ok;   /* ST_EXPECT */
	int64_t lhs, rhs; /* ST_EXPECT operands */
	bool killed;      /* the program died in this statement: see s->task->death */
};

struct session_sink {
	probe_sink_t fn;
	void *ctx;
};

#define SESSION_MAX_SINKS 4

struct session {
	const struct script *sc; /* borrowed; outlives the session */
	struct session_opts opts;
	const char *policy; /* the malloc policy in use (static name) */
	struct kernel k;
	struct task *task;
	struct libc lc;
	int64_t *vars;          /* sc->nr_vars values */
	bool *defined;          /* which variables were assigned (the parser guarantees order) */
	uint64_t last_faults;   /* the `faults` built-in */
	struct stmt_result res; /* the statement running or last run */
	size_t next;            /* index of the next statement to run */
	bool dead;              /* the program was killed: nothing more runs */
	/* Totals over the statements run. */
	uint64_t nr_run, nr_expect_failed, total_faults;
	struct session_sink sinks[SESSION_MAX_SINKS];
	unsigned nr_sinks;
};

/*
 * Boot a kernel with o->kopts, create the task (named after the script), bind
 * libc with the policy. NULL after a message on err when the kernel cannot
 * boot or the policy is unknown ("unknown malloc policy 'x' (seed, ...)";
 * for a script's `policy` line the message is "FILE:LINE: ...").
 */
struct session *session_create(const struct script *sc, const struct session_opts *o, FILE *err);
void session_destroy(struct session *s);

/* Observe every event from now on (in addition to the session's own count).
   At most SESSION_MAX_SINKS; 0 or -1. */
int session_add_sink(struct session *s, probe_sink_t fn, void *ctx);

/*
 * Run statement idx (normally s->next) inside task_run, and fill s->res.
 * Returns 0 when the program is still alive (an expect may have failed:
 * see res.expect_ok), 1 when it was killed in this statement (the script
 * must stop; s->task->death and s->task->stderr_buf say why). Running a
 * statement of a dead session is a simulator-user bug: panic.
 */
int session_run_statement(struct session *s, size_t idx);

/* Evaluate e now (variables and built-ins as they stand). */
int64_t session_eval(struct session *s, const struct expr *e);
/* A built-in's value now (enum builtin). */
int64_t session_builtin(struct session *s, int bi);

/* Kernel invariants and the policy's heap checker. Returns #broken. */
int session_check(struct session *s, FILE *err);
/* Variables and counters, one a line. */
void session_dump(struct session *s, FILE *out);

/* "SIGSEGV", "SIGABRT", ... and "SEGV_MAPERR", "SI_TKILL", ...: static strings
   (a number as text for the unknown, in buf). */
const char *session_signal_name(int signo, char *buf, size_t n);
const char *session_sigcode_name(int signo, int code, char *buf, size_t n);

#endif
