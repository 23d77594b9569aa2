/*
 * stepper.c - pause a running simulation at any event; go back by
 * deterministic re-execution (see stepper.h).
 *
 * The coroutine runs the script's statements one after the other with
 * session_step (one execution of a line each: a loop's body as many times as
 * it runs). The stepper's probe sink sees every event and, when
 * the pause condition of the current command holds, yields to the front end
 * from inside the sink: the simulated code is suspended mid-function with
 * every layer's state as it stands.
 */
#include "stepper.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernel_sim/task.h"
#include "../../vm/panic.h"

#define STEPPER_STACK (1u << 20)

static void stepper_body(void *arg)
{
	struct stepper *st = arg;
	struct session *s = st->s;

	while (!session_done(s) && !st->abandon) {
		st->cur_stmt = s->next;
		session_step(s);
	}
	st->cur_stmt = st->sc->nr_stmts;
}

/* Does ev end the current command? */
static bool should_pause(struct stepper *st, const struct event *ev)
{
	switch (st->cmd) {
	case STEP_EVENT:
		return true;
	case STEP_STMT:
		return ev->kind == EV_STMT;
	case STEP_FAULT:
		return ev->kind == EV_FAULT;
	case STEP_SYSCALL:
		return ev->kind == EV_SYSCALL;
	case STEP_RETURN:
		return ev->kind == EV_RET && ev->depth <= st->ret_depth;
	case STEP_GOTO:
	case STEP_BACK:
	case STEP_BACK_STMT:
		return ev->seq >= st->target;
	case STEP_END:
		return false;
	case STEP_RECLAIM:
		return ev->kind == EV_CALL && (!strcmp(ev->fn, "try_to_free_pages") ||
		                               !strcmp(ev->fn, "kswapd"));
	case STEP_SWAPOUT:
		return ev->kind == EV_CALL && !strcmp(ev->fn, "swap_writepage");
	case STEP_MAJOR:
		return ev->kind == EV_CALL && !strcmp(ev->fn, "do_swap_page");
	case STEP_OOM:
		return ev->kind == EV_CALL && !strcmp(ev->fn, "out_of_memory");
	case STEP_COW:
		/* handle_pte_fault found the PTE present and read-only on a
		   write: the copy (wp_page_copy) or the reuse (wp_page_reuse) */
		return ev->kind == EV_CALL && !strcmp(ev->fn, "do_wp_page");
	case STEP_SWITCH:
		return ev->kind == EV_CALL && !strcmp(ev->fn, "context_switch");
	}
	return true;
}

static void log_event(struct stepper *st, const struct event *ev)
{
	if (!st->log_cap)
		return;
	st->log[st->log_head] = *ev;
	st->log_head = (st->log_head + 1) % st->log_cap;
	if (st->log_len < st->log_cap)
		st->log_len++;
}

static void stepper_sink(void *ctx, const struct event *ev)
{
	struct stepper *st = ctx;

	if (st->abandon) {
		/* Rewinding: end the simulated program where it stands, through
		   the kernel's own fatal-signal unwind (back into task_run, so
		   the statement's host resources are released), never pausing. */
		struct task *t = st->s->k.current;

		if (t && t->exit_jmp && !st->killing) {
			st->killing = true;
			force_fatal_signal(&st->s->k, SIM_SIGKILL, 0, 0, 0, "stepper rewinds");
		}
		return;
	}

	if (ev->seq > st->last_seq || !st->have_cur)
		st->last_seq = ev->seq;
	/* While re-executing, only the last log_cap events before the target
	   matter for the log; logging them all is cheap enough (a copy). */
	log_event(st, ev);
	if (ev->kind == EV_STMT) {
		if (st->nr_starts == st->cap_starts)
			GROW_ARRAY(st->starts, st->cap_starts, 64);
		st->starts[st->nr_starts++] = ev->seq;
	}
	st->cur = *ev;
	st->have_cur = true;
	if (should_pause(st, ev))
		coro_yield(&st->co);
}

/* A fresh session and coroutine, positioned before the first event. */
static bool rebuild(struct stepper *st, FILE *err)
{
	if (st->s) {
		if (st->started && !st->finished) {
			st->abandon = true;
			while (coro_resume(&st->co))
				;
		}
		st->abandon = st->killing = false;
		coro_destroy(&st->co);
		session_destroy(st->s);
		st->s = NULL;
	}
	st->s = session_create(st->sc, &st->opts, err);
	if (!st->s)
		return false;
	if (session_add_sink(st->s, stepper_sink, st) < 0)
		panic("no room for the stepper's sink");
	if (coro_init(&st->co, STEPPER_STACK, stepper_body, st) < 0)
		panic("cannot make the simulation's coroutine");
	st->started = false;
	st->finished = false;
	st->have_cur = false;
	st->log_len = st->log_head = 0;
	st->nr_starts = 0;
	st->cur_stmt = 0;
	st->rebuilds++;
	return true;
}

struct stepper *stepper_create(const struct script *sc, const struct session_opts *o,
			       size_t log_cap, FILE *err)
{
	struct stepper *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->sc = sc;
	st->opts = *o;
	st->log_cap = log_cap;
	if (log_cap && !(st->log = calloc(log_cap, sizeof(*st->log)))) {
		free(st);
		return NULL;
	}
	if (!rebuild(st, err)) {
		free(st->log);
		free(st);
		return NULL;
	}
	st->rebuilds = 0;
	return st;
}

void stepper_destroy(struct stepper *st)
{
	if (!st)
		return;
	if (st->started && !st->finished) {
		st->abandon = true;
		while (coro_resume(&st->co))
			;
	}
	coro_destroy(&st->co);
	session_destroy(st->s);
	free(st->log);
	free(st->starts);
	free(st);
}

/* Resume the coroutine under the current command until it pauses or ends. */
static bool run(struct stepper *st)
{
	if (st->finished)
		return false;
	st->started = true;
	if (!coro_resume(&st->co)) {
		st->finished = true;
		return false;
	}
	return true;
}

/* Re-execute from the start up to event target (or the end, if earlier).
   After the end the state is past the last event: even that one is
   reached again by re-execution. */
static bool go_to(struct stepper *st, uint64_t target)
{
	if (st->have_cur && target == st->cur.seq && !st->finished)
		return true;
	if (!st->have_cur || target < st->cur.seq || st->finished) {
		if (!rebuild(st, stderr))
			panic("the session could not be rebuilt");
	}
	st->cmd = STEP_GOTO;
	st->target = target;
	return run(st);
}

bool stepper_do(struct stepper *st, enum step_cmd cmd, uint64_t arg)
{
	switch (cmd) {
	case STEP_BACK:
		/* From the end (past the last event, st->cur) back to that event. */
		if (st->have_cur && st->finished)
			return go_to(st, st->cur.seq);
		if (!st->have_cur || st->cur.seq == 0)
			return go_to(st, 0);
		return go_to(st, st->cur.seq - 1);
	case STEP_BACK_STMT: {
		/* The latest statement start before here: the current statement's
		   when inside one, the previous one's when paused at a start; from
		   the end, the last statement's. */
		uint64_t here = !st->have_cur ? 0 : st->cur.seq + (st->finished ? 1 : 0),
		         target = 0;

		for (size_t i = st->nr_starts; i-- > 0;)
			if (st->starts[i] < here) {
				target = st->starts[i];
				break;
			}
		return go_to(st, target);
	}
	case STEP_GOTO:
		return go_to(st, arg);
	case STEP_RETURN:
		/* Paused at a call, the callee (the function the front ends show
		   as current) is not pushed yet: wait for its return, whose
		   depth is the call's. Elsewhere, the innermost open call's. */
		if (st->have_cur && st->cur.kind == EV_CALL)
			st->ret_depth = st->cur.depth;
		else
			st->ret_depth = probe_depth(&st->s->k.probe) ? probe_depth(&st->s->k.probe) - 1 : 0;
		break;
	default:
		break;
	}
	st->cmd = cmd;
	return run(st);
}

const struct event *stepper_log(const struct stepper *st, size_t i)
{
	if (i >= st->log_len)
		return NULL;
	return &st->log[(st->log_head + st->log_cap - 1 - i) % st->log_cap];
}

const struct task *stepper_current(const struct stepper *st)
{
	return st->s->k.current ? st->s->k.current : st->s->task;
}

struct task *stepper_view_task(const struct stepper *st)
{
	struct task *t = st->s->k.current;

	if (t && t->mm)
		return t;
	if (st->s->task && st->s->task->mm)
		return st->s->task;
	t = st->s->main_task;
	return t && t->mm ? t : NULL;
}

const char *stepper_task_label(const struct stepper *st, char *buf, size_t n)
{
	const struct task *t = stepper_current(st);

	if (!t)
		snprintf(buf, n, "no task");
	else if (t->pid != t->tgid)
		snprintf(buf, n, "pid %d tid %d", t->tgid, t->pid);
	else
		snprintf(buf, n, "pid %d", t->pid);
	return buf;
}

unsigned stepper_call_path(const struct stepper *st, const char **fns, unsigned max)
{
	const struct probe *p = &st->s->k.probe;
	unsigned n = probe_depth(p) < max ? probe_depth(p) : max;

	for (unsigned i = 0; i < n; i++)
		fns[i] = p->stack[i];
	return n;
}

int stepper_parse_key(const char *in, enum step_cmd *cmd, uint64_t *arg)
{
	static const struct {
		char key;
		enum step_cmd cmd;
	} keys[] = {
		{'s', STEP_EVENT},   {'n', STEP_STMT},      {'f', STEP_FAULT},
		{'y', STEP_SYSCALL}, {'o', STEP_RETURN},    {'b', STEP_BACK},
		{'B', STEP_BACK_STMT}, {'e', STEP_END},
		{'r', STEP_RECLAIM}, {'w', STEP_SWAPOUT},   {'m', STEP_MAJOR},
		{'k', STEP_OOM},     {'c', STEP_COW},       {'t', STEP_SWITCH},
	};
	char *end;

	while (*in == ' ' || *in == '\t')
		in++;
	*arg = 0;
	if (*in == '\0' || *in == '\n' || *in == '\r') {
		*cmd = STEP_EVENT;
		return 1;
	}
	if (in[0] == 'q' && (in[1] == '\0' || in[1] == '\n' || in[1] == '\r'))
		return 0;
	if (in[0] == 'g') {
		unsigned long long n;

		in++;
		while (*in == ' ')
			in++;
		if (*in < '0' || *in > '9')
			return -1;
		errno = 0;
		n = strtoull(in, &end, 0);
		if (errno == ERANGE)
			return -1;
		while (*end == ' ' || *end == '\n' || *end == '\r')
			end++;
		if (*end)
			return -1;
		*cmd = STEP_GOTO;
		*arg = n;
		return 1;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (in[0] == keys[i].key && (in[1] == '\0' || in[1] == '\n' || in[1] == '\r')) {
			*cmd = keys[i].cmd;
			return 1;
		}
	return -1;
}
