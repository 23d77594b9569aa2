/*
 * stepper.c - pause a running simulation at any event; go back by restoring
 * a checkpoint and replaying a bounded number of events (see stepper.h).
 *
 * The coroutine runs the script's statements one after the other with
 * session_step (one execution of a line each: a loop's body as many times as
 * it runs). The stepper's probe sink sees every event and, when
 * the pause condition of the current command holds, yields to the front end
 * from inside the sink: the simulated code is suspended mid-function with
 * every layer's state as it stands. A checkpoint is taken the same way: the
 * sink yields, run() snapshots the arena while the coroutine is suspended,
 * and resumes it. So a checkpoint at event N and a pause at event N are the
 * same state, and restoring one resumes from the same point.
 */
#include "stepper.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernel_sim/swap.h"
#include "../../kernel_sim/task.h"
#include "../../vm/hostmem.h"
#include "../../vm/panic.h"
#include "../cli/plugin.h"

#if defined(__SANITIZE_ADDRESS__)
#define STEPPER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STEPPER_ASAN 1
#endif
#endif
#ifdef STEPPER_ASAN
void *__asan_get_current_fake_stack(void);
#endif

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
	st->log[st->log_head] = (struct stepper_logged){*ev, st->s->res.pid, st->s->res.tid};
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
	st->events_seen++;
	st->pause_due = should_pause(st, ev);
	/* A checkpoint is due every ckpt_every events, but never while a host
	   resource the arena cannot rewind is open (hostmem_hold): then at the
	   first event after it is closed. */
	st->ckpt_due = ev->seq >= st->ckpt_at && !hostmem_held(st->hm);
	if (st->pause_due || st->ckpt_due)
		coro_yield(&st->co);
}

/* Run the coroutine to its end without pausing: the simulated program is
   killed where it stands (stepper_sink), so that what its statement holds
   on the host (an open memstream) is released. */
static void abandon(struct stepper *st)
{
	struct hostmem *prev = hostmem_enter(st->hm);

	if (st->started && !st->finished) {
		st->abandon = true;
		while (coro_resume(&st->co))
			;
	}
	st->abandon = st->killing = false;
	hostmem_leave(prev);
}

/* A fresh session and coroutine, positioned before the first event. */
static bool rebuild(struct stepper *st, FILE *err)
{
	if (st->s) {
		abandon(st);
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

/* The session's state can live in an arena (stepper.h: when it cannot). */
static bool arena_fits(const struct stepper *st)
{
	const char *name = st->opts.policy ? st->opts.policy
	                   : st->sc->policy ? st->sc->policy : "glibc";

	if (plugin_is_path(name))
		return false;
#ifdef STEPPER_ASAN
	/* with detect_stack_use_after_return, locals live in ASan's fake
	   frames, outside the coroutine's stack */
	if (__asan_get_current_fake_stack())
		return false;
#endif
	return true;
}

/* An arena as large as the simulation may grow: simulated RAM and its
   per-frame tables, a swap area of the largest size, the rest. MAP_NORESERVE
   address space: only the pages touched cost host memory. */
static struct hostmem *arena_create(const struct stepper *st)
{
	uint64_t phys = st->opts.kopts.phys_bytes ? st->opts.kopts.phys_bytes : 64ULL << 20;
	struct hostmem *h = hostmem_create(2 * phys + SWAP_MAX_BYTES + (16ULL << 30));

	return h ? h : hostmem_create(2 * phys + 2 * st->opts.kopts.swap_bytes + (1ULL << 30));
}

/* Snapshot the arena and the stepper's position (the coroutine is suspended
   in the sink, or not started). False when host memory runs out. */
static bool ckpt_take(struct stepper *st)
{
	struct stepper_ckpt c = {
		.have_cur = st->have_cur, .cur = st->cur, .co = st->co, .started = st->started,
		.cur_stmt = st->cur_stmt, .nr_starts = st->nr_starts, .cap_starts = st->cap_starts,
		.log_len = st->log_len, .log_head = st->log_head, .starts = st->starts,
	};

	c.snap = hostmem_snap_take(st->hm, st->nr_ckpts ? st->ckpts[st->nr_ckpts - 1].snap : NULL);
	if (!c.snap)
		return false;
	if (st->nr_ckpts == st->cap_ckpts) {
		size_t cap = st->cap_ckpts ? 2 * st->cap_ckpts : 64;
		struct stepper_ckpt *n = realloc(st->ckpts, cap * sizeof(*n));

		if (!n) {
			hostmem_snap_free(c.snap);
			return false;
		}
		st->ckpts = n;
		st->cap_ckpts = cap;
	}
	st->ckpts[st->nr_ckpts++] = c;
	st->ckpts_taken++;
	return true;
}

/* The seq at which the next checkpoint is due (st->ckpt_at): the window after
   the one of the latest checkpoint (checkpoints already taken are not taken
   again when a replay passes them). */
static void ckpt_schedule(struct stepper *st)
{
	const struct stepper_ckpt *last = &st->ckpts[st->nr_ckpts - 1];

	st->ckpt_at = last->have_cur ? (last->cur.seq / st->ckpt_every + 1) * st->ckpt_every
	                             : st->ckpt_every;
}

/* Keep, of each window of ckpt_every events, the first checkpoint (the one
   before the first event always): the gap between two kept ones stays within
   the interval. */
static void ckpt_regroup(struct stepper *st)
{
	size_t kept = 1;

	for (size_t i = 1; i < st->nr_ckpts; i++) {
		const struct stepper_ckpt *prev = &st->ckpts[kept - 1];

		if (prev->have_cur &&
		    prev->cur.seq / st->ckpt_every == st->ckpts[i].cur.seq / st->ckpt_every)
			hostmem_snap_free(st->ckpts[i].snap);
		else
			st->ckpts[kept++] = st->ckpts[i];
	}
	st->nr_ckpts = kept;
}

/*
 * After a checkpoint: keep checkpoints cheap and within their caps. Taking
 * one read `read` bytes; an event of the stepped simulation costs about as
 * much as reading STEPPER_CKPT_READ_PER_EVENT of them, so an interval of
 * 16 * read / STEPPER_CKPT_READ_PER_EVENT events keeps checkpoints to about a
 * sixteenth of the run (a counted rule, never a timed one: the same script
 * checkpoints at the same events). Past the caps, the interval doubles too.
 * Each doubling drops the checkpoints that no longer start a window.
 */
static void ckpt_adapt(struct stepper *st, size_t read)
{
	uint64_t need = st->ckpt_fixed ? 0 : 16 * (uint64_t)read / STEPPER_CKPT_READ_PER_EVENT;
	bool grew = false;

	while (st->ckpt_every < need && st->ckpt_every <= UINT64_MAX / 4) {
		st->ckpt_every *= 2;
		grew = true;
	}
	if (grew)
		ckpt_regroup(st);
	while (st->nr_ckpts > 1 && (st->nr_ckpts - 1 > STEPPER_CKPT_MAX ||
	                            hostmem_snaps_bytes(st->hm) > STEPPER_CKPT_BYTES)) {
		if (st->ckpt_every > UINT64_MAX / 4) {
			/* even one checkpoint is over the cap: keep none but the first */
			for (size_t i = 1; i < st->nr_ckpts; i++)
				hostmem_snap_free(st->ckpts[i].snap);
			st->nr_ckpts = 1;
			break;
		}
		st->ckpt_every *= 2;
		ckpt_regroup(st);
	}
	ckpt_schedule(st);
}

/* Make the simulation what it was at checkpoint c. */
static void ckpt_restore(struct stepper *st, const struct stepper_ckpt *c)
{
	/* a host resource of the statement paused in would be lost: release it */
	if (hostmem_held(st->hm))
		abandon(st);
	hostmem_snap_restore(st->hm, c->snap);
	st->co = c->co;
	st->started = c->started;
	st->finished = false;
	st->have_cur = c->have_cur;
	st->cur = c->cur;
	st->cur_stmt = c->cur_stmt;
	st->nr_starts = c->nr_starts;
	st->cap_starts = c->cap_starts;
	st->starts = c->starts;
	st->log_len = c->log_len;
	st->log_head = c->log_head;
	st->restores++;
}

struct stepper *stepper_create(const struct script *sc, const struct session_opts *o,
			       size_t log_cap, FILE *err)
{
	struct stepper *st = calloc(1, sizeof(*st));
	struct hostmem *prev;
	bool ok;

	if (!st)
		return NULL;
	st->sc = sc;
	st->opts = *o;
	st->log_cap = log_cap;
	st->ckpt_every = STEPPER_CKPT_EVERY;
	st->ckpt_at = UINT64_MAX; /* none without an arena */
	if (arena_fits(st))
		st->hm = arena_create(st);
	/* the log ring and the statement starts are part of the state a
	   checkpoint restores: in the arena too */
	prev = hostmem_enter(st->hm);
	ok = !log_cap || (st->log = hostmem_calloc(log_cap, sizeof(*st->log)));
	ok = ok && rebuild(st, err);
	hostmem_leave(prev);
	if (ok && st->hm) {
		if (ckpt_take(st)) {
			ckpt_schedule(st);
		} else {
			fputs("out of memory\n", err);
			ok = false;
		}
	}
	if (!ok) {
		stepper_destroy(st);
		return NULL;
	}
	st->rebuilds = 0;
	return st;
}

void stepper_destroy(struct stepper *st)
{
	struct hostmem *prev;

	if (!st)
		return;
	if (st->s)
		abandon(st);
	prev = hostmem_enter(st->hm);
	if (st->s) {
		coro_destroy(&st->co);
		session_destroy(st->s);
	}
	hostmem_free(st->log);
	hostmem_free(st->starts);
	hostmem_leave(prev);
	for (size_t i = 0; i < st->nr_ckpts; i++)
		hostmem_snap_free(st->ckpts[i].snap);
	free(st->ckpts);
	hostmem_destroy(st->hm);
	free(st);
}

/* Resume the coroutine under the current command until it pauses or ends,
   taking the checkpoints that fall due on the way. */
static bool run(struct stepper *st)
{
	struct hostmem *prev;
	bool paused = false;

	if (st->finished)
		return false;
	prev = hostmem_enter(st->hm);
	st->started = true;
	for (;;) {
		st->pause_due = st->ckpt_due = false;
		if (!coro_resume(&st->co)) {
			st->finished = true;
			break;
		}
		if (st->ckpt_due) {
			hostmem_leave(prev);
			if (!ckpt_take(st))
				host_oom("a checkpoint");
			ckpt_adapt(st, hostmem_snap_read(st->ckpts[st->nr_ckpts - 1].snap));
			hostmem_enter(st->hm);
		}
		if (st->pause_due) {
			paused = true;
			break;
		}
	}
	hostmem_leave(prev);
	return paused;
}

/* The latest checkpoint at or before event target. */
static const struct stepper_ckpt *ckpt_before(const struct stepper *st, uint64_t target)
{
	size_t lo = 1, hi = st->nr_ckpts;

	while (lo < hi) { /* the first one past target */
		size_t mid = lo + (hi - lo) / 2;

		if (st->ckpts[mid].cur.seq <= target)
			lo = mid + 1;
		else
			hi = mid;
	}
	return &st->ckpts[lo - 1];
}

/* Go to event target (or the end, if earlier). Forward: run on. Back (or
   from the end, past the last event: even that one is reached again):
   restore the latest checkpoint at or before target and replay from there,
   or, without checkpoints, re-execute from a rebuilt session. */
static bool go_to(struct stepper *st, uint64_t target)
{
	uint64_t seen;
	bool r, back = (st->have_cur && target < st->cur.seq) || st->finished;

	if (st->have_cur && target == st->cur.seq && !st->finished)
		return true;
	if (back) {
		if (st->hm) {
			ckpt_restore(st, ckpt_before(st, target));
			if (st->have_cur && st->cur.seq == target) {
				st->back_replayed = 0;
				return true;
			}
		} else if (!rebuild(st, stderr)) {
			panic("the session could not be rebuilt");
		}
	}
	seen = st->events_seen;
	st->cmd = STEP_GOTO;
	st->target = target;
	r = run(st);
	if (back)
		st->back_replayed = st->events_seen - seen;
	return r;
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

void stepper_fix_ckpt_every(struct stepper *st, uint64_t every)
{
	st->ckpt_every = every;
	st->ckpt_fixed = true;
	if (st->hm) {
		ckpt_regroup(st);
		ckpt_schedule(st);
	}
}

int stepper_check(const struct stepper *st, FILE *err)
{
	if (!st->hm)
		return st->nr_ckpts ? (fprintf(err, "stepper: checkpoints without an arena\n"), -1) : 0;
	if (!st->nr_ckpts || st->ckpts[0].have_cur) {
		fprintf(err, "stepper: no checkpoint before the first event\n");
		return -1;
	}
	if (st->nr_ckpts - 1 > STEPPER_CKPT_MAX) {
		fprintf(err, "stepper: %zu checkpoints, over the cap of %d\n", st->nr_ckpts - 1,
		        STEPPER_CKPT_MAX);
		return -1;
	}
	if (st->nr_ckpts > 1 && hostmem_snaps_bytes(st->hm) > STEPPER_CKPT_BYTES) {
		fprintf(err, "stepper: checkpoints hold %zu bytes, over the cap\n",
		        hostmem_snaps_bytes(st->hm));
		return -1;
	}
	for (size_t i = 1; i < st->nr_ckpts; i++) {
		const struct stepper_ckpt *c = &st->ckpts[i], *p = &st->ckpts[i - 1];

		if (!c->have_cur || (p->have_cur && p->cur.seq >= c->cur.seq)) {
			fprintf(err, "stepper: checkpoint %zu (event %llu) out of order\n", i,
			        (unsigned long long)c->cur.seq);
			return -1;
		}
		if (p->have_cur && c->cur.seq / st->ckpt_every == p->cur.seq / st->ckpt_every) {
			fprintf(err, "stepper: checkpoints at events %llu and %llu in one window of %llu\n",
			        (unsigned long long)p->cur.seq, (unsigned long long)c->cur.seq,
			        (unsigned long long)st->ckpt_every);
			return -1;
		}
	}
	if (st->have_cur && st->last_seq < st->cur.seq) {
		fprintf(err, "stepper: at event %llu past the last seen %llu\n",
		        (unsigned long long)st->cur.seq, (unsigned long long)st->last_seq);
		return -1;
	}
	return hostmem_check(st->hm, err);
}

static const struct stepper_logged *logged(const struct stepper *st, size_t i)
{
	if (i >= st->log_len)
		return NULL;
	return &st->log[(st->log_head + st->log_cap - 1 - i) % st->log_cap];
}

const struct event *stepper_log(const struct stepper *st, size_t i)
{
	const struct stepper_logged *l = logged(st, i);

	return l ? &l->ev : NULL;
}

bool stepper_log_task(const struct stepper *st, size_t i, int *pid, int *tid)
{
	const struct stepper_logged *l = logged(st, i);

	if (!l)
		return false;
	*pid = l->pid;
	*tid = l->tid;
	return true;
}

/*
 * At a stmt event, the task of that statement, as recorded with the event
 * (stepper_log_task; the session's res while nothing is logged), when the
 * kernel still has it; else NULL. The statement runs there: the CPU may
 * still be in the task of the statement before (the switch comes when the
 * statement runs code, and one that runs none never switches), but nothing
 * else runs before it.
 */
static struct task *stmt_task(const struct stepper *st)
{
	int pid = st->s->res.pid, tid = st->s->res.tid;

	if (!st->have_cur || st->cur.kind != EV_STMT)
		return NULL;
	stepper_log_task(st, 0, &pid, &tid);
	return tid > 0 ? find_task_by_pid(&st->s->k, tid) : NULL;
}

const struct task *stepper_current(const struct stepper *st)
{
	const struct task *t = stmt_task(st);

	if (t)
		return t;
	return st->s->k.current ? st->s->k.current : st->s->task;
}

struct task *stepper_view_task(const struct stepper *st)
{
	struct task *t = stmt_task(st);

	if (t && t->mm)
		return t;
	t = st->s->k.current;
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
