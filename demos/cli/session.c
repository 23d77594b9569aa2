/*
 * session.c - one simulation of a scenario script (see session.h): the
 * program of a .ams file run statement by statement on the simulated kernel,
 * each statement inside task_run so that a fatal signal (SIGSEGV from the
 * fault handler, SIGABRT from malloc_printerr) unwinds back here as the real
 * kernel ends a process: the call in progress never returns.
 *
 * `faults` of a statement is the difference of probe->c.page_faults, the #PF
 * the CPU raised: resolved ones (what getrusage's ru_minflt counts) plus the
 * one that killed the program, if any.
 *
 * Control flow: s->next is the program counter over sc->stmts; a `for`
 * evaluates its bounds once on entry, its `end` adds the step to the loop
 * variable and jumps back to the first statement of the body while the
 * variable has not passed the bound (so `for i = 1 to 3` leaves i = 4, as
 * C's for would). `in ID` switches task through session_switch_task and
 * its `end` switches back.
 */
#include "session_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernel_sim/exit.h"
#include "../../kernel_sim/oom.h"
#include "../../kernel_sim/proc.h"
#include "../../kernel_sim/smaps.h"
#include "../../kernel_sim/syscalls.h"
#include "../../libc/glibc_malloc.h"
#include "../../libc/process.h"
#include "../../libc/pthread.h"
#include "../../vm/hostmem.h"
#include "../../vm/panic.h"
#include "commands.h"
#include "expr.h"
#include "plugin.h"

void session_default_opts(struct session_opts *o)
{
	memset(o, 0, sizeof(*o));
	kernel_default_opts(&o->kopts);
}

/* ---- the event sink -------------------------------------------------- */

#define SYS_PREFIX "__x64_sys_"

/* One more call of the system call NAME in t (the table's last entry is
   "other" once every other one is taken). */
static void tally_add(struct syscall_tally *t, const char *name)
{
	unsigned i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->e[i].name, name) == 0)
			break;
	if (i >= SESSION_MAX_SYSCALLS - 1) {
		i = SESSION_MAX_SYSCALLS - 1;
		name = "other";
	}
	if (i == t->n) {
		t->e[i].name = name;
		t->e[i].count = 0;
		t->n++;
	}
	t->e[i].count++;
}

/* Count for the statement, then hand the event to every observer. */
static void session_sink(void *ctx, const struct event *ev)
{
	struct session *s = ctx;

	s->res.events++;
	switch (ev->kind) {
	case EV_SYSCALL:
		s->res.syscalls++;
		s->sys_pending = true;
		break;
	case EV_CALL: /* entry_SYSCALL_64, do_syscall_64, then __x64_sys_NAME */
		if (s->sys_pending && ev->fn && strncmp(ev->fn, SYS_PREFIX, sizeof(SYS_PREFIX) - 1) == 0) {
			const char *name = ev->fn + sizeof(SYS_PREFIX) - 1;

			s->sys_pending = false;
			tally_add(&s->res.sys, name);
			tally_add(&s->sys, name);
		}
		break;
	case EV_FRAME_ALLOC:
		s->res.frames_alloc += 1ULL << event_field(ev, "order", 0);
		break;
	case EV_FRAME_FREE:
		s->res.frames_freed += 1ULL << event_field(ev, "order", 0);
		break;
	default:
		break;
	}
	for (unsigned i = 0; i < s->nr_sinks; i++)
		s->sinks[i].fn(s->sinks[i].ctx, ev);
}

uint64_t session_syscalls(const struct session *s, const char *name)
{
	for (unsigned i = 0; i < s->sys.n; i++)
		if (strcmp(s->sys.e[i].name, name) == 0)
			return s->sys.e[i].count;
	return 0;
}

int session_add_sink(struct session *s, probe_sink_t fn, void *ctx)
{
	if (s->nr_sinks == SESSION_MAX_SINKS)
		return -1;
	s->sinks[s->nr_sinks++] = (struct session_sink){fn, ctx};
	return 0;
}

/* ---- setup ----------------------------------------------------------- */

static void list_policies(FILE *err)
{
	for (const struct malloc_ops *const *p = malloc_policies; *p; p++)
		fprintf(err, "%s%s", p == malloc_policies ? "" : ", ", (*p)->name);
}

/* The program's name: the script's file name without directory or ".ams",
   cut to 15 characters as the kernel cuts comm (TASK_COMM_LEN). A script
   from standard input makes "a.out", as `gcc -x c -` names what it builds
   from standard input. */
static void comm_of(const char *path, char comm[16])
{
	const char *base = strrchr(path, '/');
	size_t n;

	if (strcmp(path, SCRIPT_STDIN_NAME) == 0) {
		strcpy(comm, "a.out");
		return;
	}
	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".ams") == 0)
		n -= 4;
	if (n > 15)
		n = 15;
	if (n == 0) {
		strcpy(comm, "a.out");
		return;
	}
	memcpy(comm, base, n);
	comm[n] = 0;
}

static void free_vars(struct session *s)
{
	for (int i = 0; s->arrays && i < s->sc->nr_vars; i++) {
		hostmem_free(s->arrays[i].v);
		hostmem_free(s->arrays[i].set);
	}
	hostmem_free(s->arrays);
	hostmem_free(s->vars);
	hostmem_free(s->defined);
	hostmem_free(s->blocks);
	hostmem_free(s->armed);
	for (size_t i = 0; i < s->nr_tasks; i++)
		if (s->tasks[i].owned_lc) {
			libc_fini(s->tasks[i].lc);
			hostmem_free(s->tasks[i].lc);
		}
	hostmem_free(s->tasks);
}

struct session *session_create(const struct script *sc, const struct session_opts *o, FILE *err)
{
	const char *name = o->policy ? o->policy : sc->policy ? sc->policy : "glibc";
	struct plugin *pl = plugin_is_path(name) ? plugin_open(name, NULL, NULL, err) : NULL;
	const struct malloc_ops *ops = pl ? plugin_ops(pl) : malloc_policy(name);
	struct session *s;
	char comm[16];

	if (!ops && plugin_is_path(name))
		return NULL; /* plugin_open said why */
	if (!ops) {
		if (o->policy)
			fprintf(err, "--malloc: unknown malloc policy '%s' (", name);
		else
			fprintf(err, "%s:%d: unknown malloc policy '%s' (", sc->path,
			        sc->policy_line, name);
		list_policies(err);
		fputs(")\n", err);
		return NULL;
	}
	s = hostmem_calloc(1, sizeof(*s));
	if (!s) {
		fputs("out of memory\n", err);
		plugin_close(pl);
		return NULL;
	}
	s->plugin = pl;
	s->sc = sc;
	s->opts = *o;
	s->policy = ops->name;
	s->vars = hostmem_calloc((size_t)sc->nr_vars + 1, sizeof(*s->vars));
	s->defined = hostmem_calloc((size_t)sc->nr_vars + 1, sizeof(*s->defined));
	s->arrays = hostmem_calloc((size_t)sc->nr_vars + 1, sizeof(*s->arrays));
	s->blocks = hostmem_calloc((size_t)sc->nr_blocks + 1, sizeof(*s->blocks));
	s->armed = hostmem_calloc(sc->nr_stmts + 1, sizeof(*s->armed));
	if (!s->opts.max_stmts)
		s->opts.max_stmts = SESSION_STMT_BUDGET + sc->nr_stmts;
	if (!s->vars || !s->defined || !s->arrays || !s->blocks || !s->armed) {
		fputs("out of memory\n", err);
		goto fail;
	}
	if (kernel_boot(&s->k, &o->kopts, err) < 0)
		goto fail;
	probe_set_sink(&s->k.probe, session_sink, s);
	comm_of(sc->path, comm);
	s->task = s->main_task = task_create(&s->k, comm);
	if (!s->task) {
		fputs("cannot create the simulated process: not enough simulated RAM\n", err);
		kernel_shutdown(&s->k);
		goto fail;
	}
	s->lc = &s->main_lc;
	libc_init(s->lc, &s->k, ops);
	if (o->nr_tunables && ops != &malloc_ops_glibc) {
		fprintf(err,
		        "--tunable: glibc.malloc tunables are glibc's, and this program runs "
		        "the %s policy\n",
		        ops->name);
		libc_fini(s->lc);
		task_destroy(&s->k, s->task);
		kernel_shutdown(&s->k);
		goto fail;
	}
	memcpy(s->lc->tunables, o->tunables, sizeof(o->tunables));
	s->lc->nr_tunables = o->nr_tunables;
	s->task_id = s->task->pid;
	if (session_add_task(s, s->task_id, s->task, s->lc) < 0) {
		fputs("out of memory\n", err);
		libc_fini(s->lc);
		task_destroy(&s->k, s->task);
		kernel_shutdown(&s->k);
		goto fail;
	}
	s->sys.n = 0; /* the start-up's calls are not the script's */
	s->base = (struct session_base){
	    .seq = probe_seq(&s->k.probe),
	    .faults = s->k.probe.c.page_faults,
	    .tlb_hits = cpu_tlb_hits(&s->k.cpu),
	    .tlb_misses = s->k.cpu.tlb.misses,
	    .loads = cpu_loads(&s->k.cpu),
	    .stores = cpu_stores(&s->k.cpu),
	    .walks = s->k.probe.c.walks,
	};
	return s;
fail:
	plugin_close(s->plugin);
	free_vars(s);
	hostmem_free(s);
	return NULL;
}

void session_destroy(struct session *s)
{
	if (!s)
		return;
	hostmem_free(s->res.output);
	/* The exit of the process: its frames and tables go back first. */
	probe_set_sink(&s->k.probe, NULL, NULL);
	/* A caller may have ended the process itself (libc_fini,
	   task_destroy_group) to look at the kernel without it: the pid is not
	   found then. */
	if (s->nr_tasks && find_task_by_pid(&s->k, (int)s->tasks[0].id) == s->main_task) {
		libc_fini(&s->main_lc);
		task_destroy_group(&s->k, s->main_task);
	}
	kernel_shutdown(&s->k);
	/* After the kernel: event texts may point into the plugin. */
	plugin_close(s->plugin);
	free_vars(s);
	hostmem_free(s);
}

/* ---- expressions ----------------------------------------------------- */

/* text[0..len) as lines, each after indent; a last line without '\n' gets one. */
static void print_lines(FILE *out, const char *indent, const char *text, size_t len)
{
	while (len) {
		const char *nl = memchr(text, '\n', len);
		size_t n = nl ? (size_t)(nl - text) + 1 : len;

		fprintf(out, "%s%.*s%s", indent, (int)n, text, nl ? "" : "\n");
		text += n;
		len -= n;
	}
}

void session_print_death(const struct task *t, FILE *out, const char *indent)
{
	const char *rep = t->death.report;

	print_lines(out, indent, t->stderr_buf, t->stderr_len);
	if (rep[0] && !(t->stderr_len && memmem(t->stderr_buf, t->stderr_len, rep, strlen(rep))))
		print_lines(out, indent, rep, strlen(rep));
}

uint64_t session_events(const struct session *s)
{
	return probe_seq(&s->k.probe) - s->base.seq;
}

/* The script failed at run time, at the statement at s->next. */

int session_fail(struct session *s, const char *fmt, ...)
{
	const struct stmt *st = &s->sc->stmts[s->next];
	int at = snprintf(s->error, sizeof(s->error), "%s:%d: ", s->sc->path, st->line);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error + at, sizeof(s->error) - (size_t)at, fmt, ap);
	va_end(ap);
	s->failed = true;
	return -1;
}

static bool compare(enum cmp_op op, int64_t l, int64_t r)
{
	switch (op) {
	case CMP_EQ:
		return l == r;
	case CMP_NE:
		return l != r;
	case CMP_LT:
		return l < r;
	case CMP_LE:
		return l <= r;
	case CMP_GT:
		return l > r;
	case CMP_GE:
		return l >= r;
	}
	panic("comparison %d", op);
}

/* Does a loop stepping by step go on at value v, bound to? */
static bool loop_goes_on(int64_t v, int64_t to, int64_t step)
{
	return step > 0 ? v <= to : v >= to;
}

/* The control statements: for, in, end. Sets *next; 0 or -1 (failed). */
static int run_block(struct session *s, const struct stmt *st, const int64_t *a, size_t *next)
{
	const struct script *sc = s->sc;
	struct stmt_result *r = &s->res;
	size_t idx = s->next;
	struct session_block *b;
	const struct stmt *open;

	switch (st->op) {
	case ST_FOR:
		b = &s->blocks[st->block];
		b->to = a[1];
		b->step = st->nargs > 2 ? a[2] : 1;
		if (b->step == 0)
			return session_fail(s, "'for' cannot step by 0");
		s->vars[st->dest] = a[0];
		s->defined[st->dest] = true;
		r->loop_value = a[0];
		r->loop_again = loop_goes_on(a[0], b->to, b->step);
		*next = r->loop_again ? idx + 1 : st->peer + 1;
		return 0;
	case ST_IN: {
		const struct session_task *e = session_task_of(s, a[0]);
		char what[40];

		b = &s->blocks[st->block];
		b->back_id = s->task_id;
		if (!e)
			return session_fail(
			    s,
			    "'in %lld': no process or thread has id %lld (the program's "
			    "pid is %d)",
			    (long long)a[0], (long long)a[0], s->main_task->pid);
		snprintf(what, sizeof(what), "'in %lld'", (long long)a[0]);
		if (e->end_line)
			return session_task_ended(s, e, what);
		session_switch_task(s, a[0]);
		*next = idx + 1;
		return 0;
	}
	case ST_END:
		open = &sc->stmts[st->peer];
		b = &s->blocks[open->block];
		*next = idx + 1;
		if (open->op == ST_IN) {
			/* back to the task that ran the `in`, even one that has ended
			   since (its next statement that runs code fails) */
			if (session_switch_task(s, b->back_id) < 0)
				panic("the task of line %d is not in the session", open->line);
			return 0;
		}
		/* The body may have set the variable; C's for reads it too. The
		   sum wraps at 2^64 as every sum does; a step that wrapped went
		   past B (it cannot wrap without passing INT64_MAX or INT64_MIN),
		   so the loop ends: `for i = 0x7ffffffffffffffe to
		   0x7fffffffffffffff` runs twice, not until the budget. */
		{
			int64_t v;
			bool wrapped = __builtin_add_overflow(s->vars[open->dest], b->step, &v);

			r->loop_value = v;
			s->vars[open->dest] = v;
			r->loop_again = !wrapped && loop_goes_on(r->loop_value, b->to, b->step);
		}
		if (r->loop_again)
			*next = st->peer + 1;
		return 0;
	default:
		panic("statement '%s' is not a block", script_stmt_defs[st->op].name);
	}
}

bool session_done(const struct session *s)
{
	return s->dead || s->failed || s->corrupt || s->next >= s->sc->nr_stmts;
}

/* Can the policy's heap checker run now? It reads through the loaded page
   tables: only the heap of the task whose address space is loaded can be
   read (and a dead program has none). */
static bool heap_checkable(const struct session *s)
{
	return !s->dead && s->task && s->task->mm && s->task->mm == s->k.loaded_mm &&
	       s->lc->ops->check;
}

/* --check after statement st: does the policy's checker find the heap
   broken? Then s->error says where and how, and s->corrupt is set. */
static bool heap_corrupt(struct session *s, const struct stmt *st)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m;
	int bad;

	if (!heap_checkable(s))
		return false;
	m = hostmem_open_memstream(&text, &len);
	if (!m)
		panic("open_memstream failed");
	bad = s->lc->ops->check(s->lc, m);
	hostmem_close_memstream(m, &text, &len);
	if (bad) {
		snprintf(s->error, sizeof(s->error),
		         "%s:%d: the program corrupted its heap (--check): %.*s", s->sc->path,
		         st->line, (int)strcspn(text, "\n"), text);
		s->corrupt = true;
	}
	hostmem_free(text);
	return bad > 0;
}

int session_step(struct session *s)
{
	const struct stmt *st;
	const struct stmt_def *d;
	struct stmt_result *r = &s->res;
	struct exec x;
	uint64_t faults0, majflt0;
	int64_t index = 0;
	size_t idx = s->next, next = idx + 1;
	int sig = 0;

	if (s->dead || s->failed || s->corrupt)
		panic("statement %zu after the program died or the script failed", idx);
	if (idx >= s->sc->nr_stmts)
		panic("statement %zu of %zu", idx, s->sc->nr_stmts);
	st = &s->sc->stmts[idx];
	d = &script_stmt_defs[st->op];
	if (s->nr_run >= s->opts.max_stmts)
		return session_fail(s,
		                    "statement budget of %llu exhausted: a loop that does not end? "
		                    "(--max-statements N)",
		                    (unsigned long long)s->opts.max_stmts);

	hostmem_free(r->output);
	memset(r, 0, sizeof(*r));
	r->idx = idx;
	r->line = st->line;
	r->first_seq = probe_seq(&s->k.probe);
	r->tid = (int)s->task_id;
	r->pid = s->task ? s->task->tgid : r->tid; /* (a task gone: its id) */
	EV(&s->k.probe, LAYER_USER, EV_STMT, d->name, st->text, {"line", (uint64_t)st->line});

	/* A task that ended runs nothing and shows nothing. */
	if ((d->runs_code || st->op == ST_SHOW) && session_task_of(s, s->task_id)->end_line) {
		char what[48];

		snprintf(what, sizeof(what), "'%s' cannot run", d->name);
		session_task_ended(s, session_task_of(s, s->task_id), what);
		return SESSION_ERROR;
	}
	if (st->op == ST_WAIT) {
		int64_t pid = -1;

		if (st->nargs && session_eval(s, &st->args[0], &pid) < 0)
			return SESSION_ERROR;
		if (session_wait_would_sleep(s, pid) < 0)
			return SESSION_ERROR;
	}

	memset(&x, 0, sizeof(x));
	x.s = s;
	x.st = st;
	/* Arguments are evaluated before the statement runs, as C evaluates a
	   call's arguments (show's address too), and so is the index of the
	   element assigned: a bad one stops the script before anything runs.
	   An `end` evaluates nothing. */
	for (unsigned i = 0; i < st->nargs; i++)
		if (session_eval(s, &st->args[i], &x.a[i]) < 0)
			return SESSION_ERROR;
	memcpy(r->args, x.a, sizeof(r->args));
	if (st->dest_index.n) {
		char msg[160];

		if (session_eval(s, &st->dest_index, &index) < 0)
			return SESSION_ERROR;
		if (session_index_ok(s, st->dest, index, msg, sizeof(msg)) < 0)
			return session_fail(s, "%s", msg);
	}

	if ((st->op == ST_MALLOPT || st->op == ST_MALLOC_TRIM || st->op == ST_MALLOC_STATS ||
	     st->op == ST_MALLOC_INFO) &&
	    s->lc->ops != &malloc_ops_glibc)
		return session_fail(s, "'%s' is glibc's: this program runs the %s policy", d->name,
		                    s->policy);
	if (st->op == ST_MALLOPT && (x.a[0] < INT32_MIN || x.a[0] > INT32_MAX))
		return session_fail(s, "mallopt's value is an int: %lld is out of its range",
		                    (long long)x.a[0]);

	faults0 = s->k.probe.c.page_faults;
	majflt0 = s->task ? s->task->maj_flt : 0;
	switch (st->op) {
	case ST_ASSIGN:
		x.ret = x.a[0];
		break;
	case ST_EXPECT:
		r->lhs = x.a[0];
		r->rhs = x.a[1];
		r->expect_ok = compare(st->cmp, r->lhs, r->rhs);
		if (!r->expect_ok)
			s->nr_expect_failed++;
		break;
	case ST_EXPECT_SIGNAL:
	case ST_EXPECT_STDERR:
		s->armed[idx] = true; /* checked at the end: session_finish */
		break;
	case ST_FOR:
	case ST_IN:
	case ST_END:
		if (run_block(s, st, x.a, &next) < 0)
			return SESSION_ERROR;
		break;
	case ST_THREAD:
		sig = session_run_thread(s, &x);
		break;
	case ST_JOIN:
		if (session_run_join(s, &x, &sig) < 0)
			return SESSION_ERROR;
		break;
	case ST_SHOW:
		x.view_task = s->task;
		if (script_view_takes_pid(st->kw) && st->nargs > (st->kw == VIEW_PAGETABLE)) {
			int64_t pid = x.a[st->nargs - 1];

			x.view_task =
			    pid > 0 && pid <= INT32_MAX ? find_task_by_pid(&s->k, (int)pid) : NULL;
			if (!x.view_task)
				return session_fail(s, "'show %s %lld': no process has pid %lld",
				                    script_view_names[st->kw], (long long)pid,
				                    (long long)pid);
		}
		x.out = hostmem_open_memstream(&r->output, &r->output_len);
		if (!x.out)
			panic("open_memstream failed");
		sig = task_run(&s->k, s->task, session_exec_stmt, &x);
		hostmem_close_memstream(x.out, &r->output, &r->output_len);
		break;
	default:
		sig = task_run(&s->k, s->task, session_exec_stmt, &x);
		if (x.text.s) { /* what malloc_stats or malloc_info printed */
			r->output = x.text.s;
			r->output_len = x.text.len;
		}
		break;
	}
	/* the child of a fork (its first code runs now: its faults are the
	   statement's) */
	if (sig == 0 && st->op == ST_FORK && x.ret > 0 && session_add_child(s, x.ret) < 0)
		return SESSION_ERROR;
	r->faults = s->k.probe.c.page_faults - faults0;
	s->total_faults += r->faults;
	if (sig > 0) {
		r->killed = true;
		r->death = s->task->death;
	} else if (sig == TASK_RUN_EXITED) {
		r->exited = true;
	}
	if (d->runs_code) {
		s->last_faults = r->faults;
		/* t->maj_flt of a task that is gone now: none of its faults were major
		   unless counted before (an exit takes no fault) */
		s->last_majfaults = sig == 0 || r->killed ? s->task->maj_flt - majflt0 : 0;
	}
	/* the main program dies, or one of its threads: a fatal signal kills
	   the whole thread group */
	if (sig > 0 && s->task->tgid == s->main_task->tgid) {
		s->nr_run++;
		s->next = next;
		s->dead = true;
		session_sync_tasks(s, st->line);
		return SESSION_KILLED;
	}
	if (d->runs_code)
		session_sync_tasks(s, st->line);
	if (d->ret != RET_NONE && !sig) {
		r->has_ret = true;
		r->ret = x.ret;
		if (st->dest >= 0 && st->dest_index.n) {
			if (session_array_store(s, st->dest, index, x.ret) < 0)
				return SESSION_ERROR;
		} else if (st->dest >= 0) {
			s->vars[st->dest] = x.ret;
			s->defined[st->dest] = true;
		}
	}
	s->nr_run++;
	s->next = next;
	if (s->opts.check) {
		if (kernel_check(&s->k, stderr))
			panic("kernel invariants broken after line %d", st->line);
		if (heap_corrupt(s, st))
			return SESSION_CORRUPT;
	}
	return SESSION_OK;
}

int session_finish(struct session *s, FILE *err)
{
	const struct task *t = s->task;
	int failed = 0;
	char b1[32], b2[32];

	for (size_t i = 0; i < s->sc->nr_stmts; i++) {
		const struct stmt *st = &s->sc->stmts[i];

		if (!s->armed[i])
			continue;
		if (st->op == ST_EXPECT_STDERR) {
			/* What the program wrote to fd 2, as text up to its first NUL. */
			if (memmem(t->stderr_buf, t->stderr_len, st->str, strlen(st->str)))
				continue;
			fprintf(err, "%s:%d: expect failed: stderr has no \"%s\"%s%.*s%s\n",
			        s->sc->path, st->line, st->str,
			        t->stderr_len ? " (it has: " : " (it is empty)",
			        (int)strcspn(t->stderr_buf, "\n"),
			        t->stderr_len ? t->stderr_buf : "", t->stderr_len ? ")" : "");
			failed++;
			continue;
		}
		if (s->dead && t->death.signo == st->kw &&
		    (st->code < 0 || t->death.code == st->code))
			continue;
		fprintf(err, "%s:%d: expect failed: %s", s->sc->path, st->line, st->text + 7);
		if (s->dead)
			fprintf(
			    err, ", but %s (%s) killed the program\n",
			    session_signal_name(t->death.signo, b1, sizeof(b1)),
			    session_sigcode_name(t->death.signo, t->death.code, b2, sizeof(b2)));
		else
			fprintf(err, ", but the program was not killed\n");
		failed++;
	}
	s->death_expected = false;
	if (s->dead && !failed)
		for (size_t i = 0; i < s->sc->nr_stmts; i++)
			if (s->armed[i] && s->sc->stmts[i].op == ST_EXPECT_SIGNAL)
				s->death_expected = true;
	s->nr_expect_failed += (uint64_t)failed;
	return failed;
}

/* ---- checks and names ------------------------------------------------ */

int session_check(struct session *s, FILE *err)
{
	int bad = kernel_check(&s->k, err);

	if (heap_checkable(s))
		bad += s->lc->ops->check(s->lc, err);
	return bad;
}

void session_dump(struct session *s, FILE *out)
{
	fprintf(out, "session: %s, policy %s, next statement %zu of %zu%s\n", s->sc->path,
	        s->policy, s->next, s->sc->nr_stmts, s->dead ? ", program dead" : "");
	for (int i = 0; i < s->sc->nr_vars; i++)
		if (s->defined[i])
			fprintf(out, "  %s = %lld (%#llx)\n", s->sc->var_names[i],
			        (long long)s->vars[i], (unsigned long long)s->vars[i]);
	fprintf(out, "  statements %llu, faults %llu, expect failures %llu, events %llu\n",
	        (unsigned long long)s->nr_run, (unsigned long long)s->total_faults,
	        (unsigned long long)s->nr_expect_failed, (unsigned long long)session_events(s));
}

const char *session_signal_name(int signo, char *buf, size_t n)
{
	const char *name = script_signal_name(signo);

	if (name)
		return name;
	snprintf(buf, n, "signal %d", signo);
	return buf;
}

const char *session_sigcode_name(int signo, int code, char *buf, size_t n)
{
	const char *name = script_sigcode_name(signo, code);

	if (name)
		return name;
	snprintf(buf, n, "%d", code);
	return buf;
}
