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
#include "session.h"

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

/* Count for the statement, then hand the event to every observer. */
static void session_sink(void *ctx, const struct event *ev)
{
	struct session *s = ctx;

	s->res.events++;
	switch (ev->kind) {
	case EV_SYSCALL:
		s->res.syscalls++;
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
		fprintf(err, "--tunable: glibc.malloc tunables are glibc's, and this program runs "
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

int64_t session_builtin(struct session *s, int bi)
{
	const struct mm_struct *mm = s->task ? s->task->mm : NULL;

	/* A task that ended has no address space: its memory figures are 0
	   (what /proc/PID/status of a zombie has none of). */
	if (!mm)
		switch (bi) {
		case BI_RSS:
		case BI_BRK:
		case BI_VMAS:
		case BI_VMSIZE:
		case BI_VMDATA:
		case BI_VMPTE:
		case BI_VMSTK:
		case BI_SWAPENTS:
			return 0;
		}
	switch (bi) {
	case BI_FAULTS:
		return (int64_t)s->last_faults;
	case BI_RSS:
		return (int64_t)mm->rss_stat[MM_ANONPAGES];
	case BI_MEMFREE:
		return (int64_t)s->k.buddy.free_pages;
	case BI_BRK:
		return (int64_t)mm->brk;
	case BI_INFINITY:
		return (int64_t)SIM_RLIM_INFINITY;
	case BI_ERRNO:
		return s->lc->errno_;
	case BI_PID: /* getpid: the thread group's id, in a thread too */
		return s->task ? s->task->tgid : s->task_id;
	case BI_VMAS: /* lines of /proc/PID/maps (data and bss are two there) */
		return (int64_t)proc_maps_lines(s->task);
	case BI_VMSIZE: /* /proc/PID/status's kB */
		return (int64_t)(mm->total_vm << (PAGE_SHIFT - 10));
	case BI_VMDATA:
		return (int64_t)(mm->data_vm << (PAGE_SHIFT - 10));
	case BI_VMPTE:
		return (int64_t)(mm->pgtables_bytes >> 10);
	case BI_VMSTK:
		return (int64_t)(mm->stack_vm << (PAGE_SHIFT - 10));
	case BI_MAJFAULTS:
		return (int64_t)s->last_majfaults;
	case BI_SWAPENTS:
		return (int64_t)mm->rss_stat[MM_SWAPENTS];
	case BI_SWAPFREE:
		return (int64_t)swap_free_pages(&s->k);
	case BI_MI_ARENA:
	case BI_MI_ORDBLKS:
	case BI_MI_SMBLKS:
	case BI_MI_HBLKS:
	case BI_MI_HBLKHD:
	case BI_MI_USMBLKS:
	case BI_MI_FSMBLKS:
	case BI_MI_UORDBLKS:
	case BI_MI_FORDBLKS:
	case BI_MI_KEEPCOST: {
		struct glibc_mallinfo2 m;

		if (!glibc_mallinfo2_view(s->lc, &m))
			return 0;
		const uint64_t f[] = {m.arena,    m.ordblks,  m.smblks,   m.hblks,
		                      m.hblkhd,   m.usmblks,  m.fsmblks,  m.uordblks,
		                      m.fordblks, m.keepcost}; /* malloc.h's order */
		return (int64_t)f[bi - BI_MI_ARENA];
	}
	}
	panic("built-in %d", bi);
}

/* The line of the first statement that assigns variable idx (for messages). */
static int assigned_on(const struct session *s, int idx)
{
	for (size_t i = 0; i < s->sc->nr_stmts; i++)
		if (s->sc->stmts[i].dest == idx)
			return s->sc->stmts[i].line;
	return 0;
}

static int env_var(void *ctx, int idx, int64_t *v, char *msg, size_t n)
{
	struct session *s = ctx;

	if (!s->defined[idx]) {
		/* Textual order is checked when parsing; a loop that never ran
		   its body can still leave a variable unset. */
		snprintf(msg, n, "'%s' is read before it is set (line %d has not run)",
		         s->sc->var_names[idx], assigned_on(s, idx));
		return -1;
	}
	*v = s->vars[idx];
	return 0;
}

static int index_ok(struct session *s, int idx, int64_t index, char *msg, size_t n)
{
	if (index >= 0 && index < (int64_t)SCRIPT_ARRAY_MAX)
		return 0;
	snprintf(msg, n, "index %lld of %s[] out of range (0 to %u)", (long long)index,
	         s->sc->var_names[idx], SCRIPT_ARRAY_MAX - 1);
	return -1;
}

static int env_elem(void *ctx, int idx, int64_t index, int64_t *v, char *msg, size_t n)
{
	struct session *s = ctx;
	const struct session_array *a = &s->arrays[idx];

	if (index_ok(s, idx, index, msg, n) < 0)
		return -1;
	if ((size_t)index >= a->cap || !a->set[index]) {
		snprintf(msg, n, "%s[%lld] is read before it is set", s->sc->var_names[idx],
		         (long long)index);
		return -1;
	}
	*v = a->v[index];
	return 0;
}

static int64_t env_builtin(void *ctx, int bi)
{
	return session_builtin(ctx, bi);
}

/* The script failed at run time, at the statement at s->next. */
static int fail(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct session *s, const char *fmt, ...)
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

int session_eval(struct session *s, const struct expr *e, int64_t *v)
{
	const struct expr_env env = {s, env_var, env_elem, env_builtin};
	char msg[200];

	if (expr_eval(s->sc, e, &env, v, msg, sizeof(msg)) == 0)
		return 0;
	return fail(s, "%s", msg);
}

/* a[index] = v, growing the array. 0, or -1 (failed) past host memory. */
static int array_store(struct session *s, int idx, int64_t index, int64_t v)
{
	struct session_array *a = &s->arrays[idx];

	if ((size_t)index >= a->cap) {
		size_t cap = a->cap ? a->cap : 16;
		int64_t *nv;
		uint8_t *ns;

		while (cap <= (size_t)index)
			cap *= 2;
		if (cap > SCRIPT_ARRAY_MAX)
			cap = SCRIPT_ARRAY_MAX;
		nv = hostmem_realloc(a->v, cap * sizeof(*nv));
		if (nv)
			a->v = nv;
		ns = hostmem_realloc(a->set, cap);
		if (ns)
			a->set = ns;
		if (!nv || !ns)
			return fail(s, "out of host memory for %s[]", s->sc->var_names[idx]);
		memset(a->set + a->cap, 0, cap - a->cap);
		a->cap = cap;
	}
	a->v[index] = v;
	a->set[index] = 1;
	return 0;
}

const char *session_loop_context(struct session *s, char *buf, size_t n)
{
	const struct script *sc = s->sc;
	size_t i = s->res.idx < sc->nr_stmts ? s->res.idx : sc->nr_stmts;
	size_t at = 0;
	int depth;

	buf[0] = 0;
	if (i == sc->nr_stmts)
		return buf;
	/* The openers around statement i: walk back, one per depth. */
	depth = sc->stmts[i].depth;
	{
		size_t open[SCRIPT_MAX_DEPTH];
		int found = 0;

		for (size_t j = i; j-- > 0 && found < depth;)
			if ((sc->stmts[j].op == ST_FOR || sc->stmts[j].op == ST_IN) &&
			    sc->stmts[j].depth == depth - found - 1 && sc->stmts[j].peer > i)
				open[found++] = j;
		while (found-- > 0) {
			const struct stmt *f = &sc->stmts[open[found]];

			if (f->op != ST_FOR || !s->defined[f->dest])
				continue;
			at += (size_t)snprintf(buf + at, at < n ? n - at : 0, "%s%s = %lld",
			                       at ? ", " : "", sc->var_names[f->dest],
			                       (long long)s->vars[f->dest]);
			if (at >= n)
				break;
		}
	}
	return buf;
}

/* ---- tasks ------------------------------------------------------------ */

int session_add_task(struct session *s, int64_t id, struct task *t, struct libc *lc)
{
	if (s->nr_tasks == s->cap_tasks) {
		size_t cap = s->cap_tasks ? 2 * s->cap_tasks : 4;
		struct session_task *nt = hostmem_realloc(s->tasks, cap * sizeof(*nt));

		if (!nt)
			return -1;
		s->tasks = nt;
		s->cap_tasks = cap;
	}
	s->tasks[s->nr_tasks++] = (struct session_task){id, t, lc, false, 0, 0};
	return 0;
}

static struct session_task *session_task_of(struct session *s, int64_t id)
{
	for (size_t i = 0; i < s->nr_tasks; i++)
		if (s->tasks[i].id == id)
			return &s->tasks[i];
	return NULL;
}

int session_switch_task(struct session *s, int64_t id)
{
	struct session_task *e = session_task_of(s, id);
	struct libc_thread *th;

	if (!e)
		return -1;
	s->task = e->task;
	s->lc = e->lc;
	s->task_id = id;
	/* a thread of that libc (its main thread has the pid as tid) */
	th = libc_thread_find(s->lc, (int)id);
	if (th)
		libc_set_self(s->lc, th);
	return 0;
}

/*
 * After a statement: which tasks the kernel still has (an exit, a wait or
 * an orphan's end may have freed some: pids are never reused, so a pid not
 * found is gone), and the death of a child killed by a signal carried on to
 * its exit (exit_signaled), as the killed task itself would in Linux. The
 * main program's death (in any of its threads) stays as it is: the run
 * ends with it.
 */
static void session_sync_tasks(struct session *s, int line)
{
	for (size_t i = 0; i < s->nr_tasks; i++) {
		struct session_task *e = &s->tasks[i];

		if (!e->task)
			continue;
		e->task = find_task_by_pid(&s->k, (int)e->id);
		if ((!e->task || e->task->dead) && !e->end_line) {
			e->end_line = line;
			e->end_signo = e->task && !e->task->exit_state ? e->task->death.signo : 0;
		}
		/* (the main program's threads die with it and stay as they are) */
		if (e->task && e->task->tgid != s->main_task->tgid && e->task->dead &&
		    !e->task->exit_state) {
			exit_signaled(&s->k, e->task);
			e->task = find_task_by_pid(&s->k, (int)e->id);
		}
	}
	s->task = session_task_of(s, s->task_id)->task;
}

/* e has ended: "WHAT: process 2 exited at line 7" (or "was killed by SIGSEGV"). */
static int task_ended(struct session *s, const struct session_task *e, const char *what)
{
	char buf[32];

	if (e->end_signo)
		return fail(s, "%s: process %lld was killed by %s at line %d", what,
		            (long long)e->id, session_signal_name(e->end_signo, buf, sizeof(buf)),
		            e->end_line);
	return fail(s, "%s: process %lld exited at line %d", what, (long long)e->id, e->end_line);
}

static void fork_child_start(void *arg)
{
	libc_fork_child_start(arg);
}

/* A child for `fork`: its libc is a copy of the parent's (process.h). */
static int add_child(struct session *s, int64_t pid)
{
	struct task *t = find_task_by_pid(&s->k, (int)pid);
	struct libc *lc = hostmem_malloc(sizeof(*lc));

	if (!t)
		panic("fork returned %lld, no such task", (long long)pid);
	if (!lc || session_add_task(s, pid, t, lc) < 0) {
		hostmem_free(lc);
		return fail(s, "out of host memory for process %lld", (long long)pid);
	}
	s->tasks[s->nr_tasks - 1].owned_lc = true;
	/* fork's child side runs in the child before it returns there (as
	   start_thread after pthread_create): its faults are the statement's;
	   a child killed there is found by session_sync_tasks, after */
	if (libc_fork_child(lc, s->lc, t))
		task_run(&s->k, t, fork_child_start, lc);
	return 0;
}

/* wait's status as the script gets it: the exit status, or 128 + the signal
   number for a child killed by a signal (as a shell's $?). */
static int64_t wait_value(int status)
{
	return (status & 0x7f) ? 128 + (status & 0x7f) : (status >> 8) & 0xff;
}

/*
 * A wait that would sleep: children match PID but none has exited. Nothing
 * else runs while the script waits (one CPU, one statement at a time), so
 * it would sleep forever: an error before it runs, naming the child.
 */
static int wait_would_sleep(struct session *s, int64_t pid)
{
	const struct task *c;

	if (!s->task || pid > INT32_MAX) /* (no child has such a pid) */
		return 0;
	/* (a child of any thread of the process: do_wait looks at them all) */
	c = wait_would_block(&s->k, s->task, pid > 0 ? (int)pid : -1);
	if (c)
		return fail(s, "'wait' would sleep forever: child %d has not exited, and "
		               "nothing runs while process %lld waits (end the child first: "
		               "in %d ... exit ... end)",
		            c->pid, (long long)s->task_id, c->pid);
	return 0;
}

/* id no longer names a task (a thread joined). */
static void session_drop_task(struct session *s, int64_t id)
{
	for (size_t i = 0; i < s->nr_tasks; i++)
		if (s->tasks[i].id == id) {
			memmove(&s->tasks[i], &s->tasks[i + 1],
			        (s->nr_tasks - i - 1) * sizeof(s->tasks[0]));
			s->nr_tasks--;
			return;
		}
}

/* ---- show ------------------------------------------------------------ */

struct heap_walk {
	FILE *out;
	bool glibc_flags;
	uint64_t n, used, used_bytes, free_bytes;
};

static void heap_line(void *ctx, const struct chunk_info *ci)
{
	struct heap_walk *w = ctx;
	const char *where = ci->top ? "top" : ci->mmapped ? "mmapped" : "";
	char flags[8] = "", user[24] = "-";

	if (w->glibc_flags) {
		/* PREV_INUSE, IS_MMAPPED, NON_MAIN_ARENA */
		snprintf(flags, sizeof(flags), "%c%c%c", ci->flags & 1 ? 'P' : '-',
		         ci->flags & 2 ? 'M' : '-', ci->flags & 4 ? 'A' : '-');
	} else {
		snprintf(flags, sizeof(flags), "%#llx", (unsigned long long)ci->flags);
	}
	/* The bin or list a free block sits in ("in use" is already the state). */
	if (ci->where && strcmp(ci->where, "in use") != 0)
		where = ci->where;
	if (ci->user)
		snprintf(user, sizeof(user), "%#llx", (unsigned long long)ci->user);
	fprintf(w->out, "%#14llx %#10llx %14s  %-5s %-6s %s\n", (unsigned long long)ci->chunk,
	        (unsigned long long)ci->size, user, flags, ci->in_use ? "in use" : "free", where);
	w->n++;
	if (ci->in_use) {
		w->used++;
		w->used_bytes += ci->size;
	} else {
		w->free_bytes += ci->size;
	}
}

static void show_heap(struct session *s, FILE *out)
{
	struct heap_walk w = {.out = out, .glibc_flags = strcmp(s->policy, "glibc") == 0};

	fprintf(out, "%14s %10s %14s  %-5s %-6s %s\n", "chunk", "size", "user", "flags", "state",
	        "where");
	if (s->lc->ops->walk)
		s->lc->ops->walk(s->lc, heap_line, &w);
	fprintf(out, "%llu blocks: %llu in use (%llu bytes), %llu free (%llu bytes); policy %s\n",
	        (unsigned long long)w.n, (unsigned long long)w.used,
	        (unsigned long long)w.used_bytes, (unsigned long long)(w.n - w.used),
	        (unsigned long long)w.free_bytes, s->policy);
}

/* The task a view shows: t (show VIEW PID, or the current task). */
static void show(struct session *s, const struct stmt *st, struct task *t, int64_t addr,
                 FILE *out)
{
	switch (st->kw) {
	case VIEW_MAPS:
		proc_maps(&s->k, t, out);
		break;
	case VIEW_BUDDYINFO:
		proc_buddyinfo(&s->k, out);
		break;
	case VIEW_MEMINFO:
		proc_meminfo(&s->k, out);
		break;
	case VIEW_STATUS:
		proc_status(&s->k, t, out);
		break;
	case VIEW_HEAP:
		show_heap(s, out);
		break;
	case VIEW_PAGETABLE:
		proc_pagetable(&s->k, t, (vaddr_t)addr, out);
		break;
	case VIEW_TLB:
		proc_tlb(&s->k, out);
		break;
	case VIEW_ZONEINFO:
		proc_zoneinfo(&s->k, out);
		break;
	case VIEW_VMSTAT:
		proc_vmstat(&s->k, out);
		break;
	case VIEW_SWAPS:
		proc_swaps(&s->k, out);
		break;
	case VIEW_OOM_SCORE:
		proc_oom_score(&s->k, t, out);
		break;
	case VIEW_DMESG:
		proc_dmesg(&s->k, out);
		break;
	case VIEW_ARENAS:
		if (s->lc->ops == &malloc_ops_glibc)
			glibc_arenas_dump(s->lc, out);
		else
			fprintf(out, "the %s policy has no arenas (they are glibc's)\n", s->policy);
		break;
	case VIEW_SMAPS_ROLLUP:
		proc_smaps_rollup(&s->k, t, out);
		break;
	case VIEW_PS:
		proc_ps(&s->k, out);
		break;
	default:
		panic("view %d", st->kw);
	}
}

/* ---- statements ------------------------------------------------------ */

/* What runs inside task_run: everything it needs is here, nothing on the host
   heap that an unwind would leak (show's stream is opened outside). */
struct exec {
	struct session *s;
	const struct stmt *st;
	int64_t a[STMT_MAX_ARGS];
	int64_t ret;
	FILE *out;
	struct task *view_task; /* show: the task whose view it is */
	struct glibc_text text; /* malloc_stats, malloc_info: freed by session_step */
	struct libc_thread *thread; /* thread: the one made; join: the one joined */
};

/* A kernel result (0 or -errno) as the C library returns it: 0, or -1 and errno. */
static int64_t status_errno(struct libc *lc, int r)
{
	if (r >= 0)
		return 0;
	lc->errno_ = -r;
	return -1;
}

static const int rlimit_of[RES__COUNT] = {
    [RES_DATA] = SIM_RLIMIT_DATA,
    [RES_STACK] = SIM_RLIMIT_STACK,
    [RES_AS] = SIM_RLIMIT_AS,
    [RES_CPU] = SIM_RLIMIT_CPU,
};

/*
 * P + OFF of store, load, touch and read: address arithmetic is unsigned
 * and wraps at 2^64 as the CPU's does (docs/reference.md, Values and
 * expressions), so 0x7fffffffffffffff + 1 is 0x8000000000000000, a
 * non-canonical address the program faults on, not an overflow of the host.
 */
vaddr_t session_user_addr(int64_t p, int64_t off)
{
	return (vaddr_t)((uint64_t)p + (uint64_t)off);
}

/* load: 1 to 8 bytes, little-endian, through the MMU. */
static int64_t user_load(struct cpu *cpu, vaddr_t va, uint64_t size)
{
	uint64_t v = 0;
	uint8_t b[8];

	if (size == 0)
		return 0;
	if (size > 8)
		size = 8;
	if (size == 1 || size == 2 || size == 4 || size == 8) {
		cpu_load(cpu, va, (unsigned)size, &v);
		return (int64_t)v;
	}
	memset(b, 0, sizeof(b));
	cpu_read(cpu, va, b, size);
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return (int64_t)v;
}

/* One byte in every page of [va, va + len): the first at va. */
static void user_touch(struct cpu *cpu, vaddr_t va, uint64_t len, bool write)
{
	uint64_t v;

	/* One byte in every page of [va, va+len), counted by bytes left so that a
	   range reaching the top of the address space (va = MAP_FAILED) still
	   touches its first page and faults there. */
	while (len) {
		uint64_t step = PAGE_SIZE - (va & (PAGE_SIZE - 1));

		if (write)
			cpu_store(cpu, va, 1, 0);
		else
			cpu_load(cpu, va, 1, &v);
		if (step >= len)
			break;
		len -= step;
		va += step;
	}
}

static void exec_stmt(void *arg)
{
	struct exec *x = arg;
	struct session *s = x->s;
	struct libc *lc = s->lc;
	struct cpu *cpu = &s->k.cpu;
	const struct stmt *st = x->st;
	int64_t *a = x->a;

	cpu->user = true;
	switch (st->op) {
	case ST_SBRK:
		x->ret = (int64_t)libc_sbrk(lc, a[0]);
		break;
	case ST_BRK:
		x->ret = libc_brk(lc, (vaddr_t)a[0]);
		break;
	case ST_MMAP: {
		int prot = (st->kw & SCRIPT_PROT_R ? SIM_PROT_READ : 0) |
		           (st->kw & SCRIPT_PROT_W ? SIM_PROT_WRITE : 0) |
		           (st->kw & SCRIPT_PROT_X ? SIM_PROT_EXEC : 0);

		x->ret = (int64_t)libc_mmap(lc, 0, (uint64_t)a[0], prot,
		                            SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS);
		break;
	}
	case ST_MUNMAP:
		x->ret = libc_munmap(lc, (vaddr_t)a[0], (uint64_t)a[1]);
		break;
	case ST_MPROTECT: {
		int prot = (st->kw & SCRIPT_PROT_R ? SIM_PROT_READ : 0) |
		           (st->kw & SCRIPT_PROT_W ? SIM_PROT_WRITE : 0) |
		           (st->kw & SCRIPT_PROT_X ? SIM_PROT_EXEC : 0);

		x->ret = libc_mprotect(lc, (vaddr_t)a[0], (uint64_t)a[1], prot);
		break;
	}
	case ST_MADVISE: {
		static const int advice[ADV__COUNT] = {SIM_MADV_NORMAL, SIM_MADV_WILLNEED,
		                                       SIM_MADV_DONTNEED, SIM_MADV_FREE};

		x->ret = libc_madvise(lc, (vaddr_t)a[0], (uint64_t)a[1], advice[st->kw]);
		break;
	}
	case ST_MREMAP:
		x->ret = (int64_t)libc_mremap(lc, (vaddr_t)a[0], (uint64_t)a[1], (uint64_t)a[2],
		                              st->kw ? SIM_MREMAP_MAYMOVE : 0);
		break;
	case ST_STORE:
		cpu_fill(cpu, session_user_addr(a[0], a[1]), (uint8_t)a[2],
		         st->nargs > 3 ? (size_t)a[3] : 1);
		break;
	case ST_LOAD:
		x->ret = user_load(cpu, session_user_addr(a[0], a[1]), st->nargs > 2 ? (uint64_t)a[2] : 8);
		break;
	case ST_TOUCH:
		user_touch(cpu, session_user_addr(a[0], a[1]), (uint64_t)a[2], true);
		break;
	case ST_READ:
		user_touch(cpu, session_user_addr(a[0], a[1]), (uint64_t)a[2], false);
		break;
	case ST_SETRLIMIT: {
		struct sim_rlimit rl;
		int res = rlimit_of[st->kw];

		/* setrlimit sets both limits; an omitted hard limit stays as it is
		   (read from the task as prlimit(1) would, without a system call). */
		rl.max = s->task->rlim[res].max;
		rl.cur = (uint64_t)a[0];
		if (st->nargs > 1)
			rl.max = (uint64_t)a[1];
		x->ret = sys_setrlimit(&s->k, res, &rl);
		/* glibc's wrapper: -1 and errno from the kernel's -errno */
		if (x->ret < 0) {
			lc->errno_ = (int)-x->ret;
			x->ret = -1;
		}
		break;
	}
	case ST_MALLOC:
		x->ret = (int64_t)libc_malloc(lc, (uint64_t)a[0]);
		break;
	case ST_CALLOC:
		x->ret = (int64_t)libc_calloc(lc, (uint64_t)a[0], (uint64_t)a[1]);
		break;
	case ST_REALLOC:
		x->ret = (int64_t)libc_realloc(lc, (vaddr_t)a[0], (uint64_t)a[1]);
		break;
	case ST_FREE:
		libc_free(lc, (vaddr_t)a[0]);
		break;
	case ST_MEMALIGN: {
		vaddr_t p = 0;

		int e = libc_posix_memalign(lc, &p, (uint64_t)a[0], (uint64_t)a[1]);

		/* posix_memalign returns its error and leaves errno alone; the
		   statement, which has no place for it, puts it in errno
		   (docs/reference.md). */
		x->ret = e == 0 ? (int64_t)p : 0;
		if (e)
			lc->errno_ = e;
		break;
	}
	case ST_USABLE:
		x->ret = (int64_t)libc_malloc_usable_size(lc, (vaddr_t)a[0]);
		break;
	case ST_SYSCTL:
		x->ret = status_errno(lc, sysctl_vm_write(&s->k, sysctl_vm_names[st->kw], a[0]));
		break;
	case ST_SWAPON:
		x->ret = status_errno(lc, (int)sys_swapon(&s->k, (uint64_t)a[0]));
		break;
	case ST_SWAPOFF:
		x->ret = status_errno(lc, (int)sys_swapoff(&s->k));
		break;
	case ST_OOMADJ:
		x->ret = status_errno(lc, oom_score_adj_write(&s->k, s->task, a[0]));
		break;
	case ST_FORK:
		x->ret = libc_fork(lc);
		break;
	case ST_EXIT:
		libc_exit(lc, st->nargs ? (int)a[0] : 0);
		break;
	case ST_WAIT: {
		int status = 0;

		x->ret = libc_waitpid(lc, st->nargs && a[0] > 0 ? (int)a[0] : -1, &status);
		if (x->ret > 0)
			x->ret = wait_value(status);
		break;
	}
	case ST_SHOW:
		/* Views read state; heap walks may load through the MMU. */
		show(s, st, x->view_task, a[0], x->out);
		break;
	case ST_MALLOPT:
		x->ret = glibc_mallopt(lc, script_mallopt_values[st->kw], (int)a[0]);
		break;
	case ST_MALLOC_TRIM:
		x->ret = glibc_malloc_trim(lc, st->nargs ? (uint64_t)a[0] : 0);
		break;
	case ST_MALLOC_STATS:
		glibc_malloc_stats(lc, &x->text);
		break;
	case ST_MALLOC_INFO:
		glibc_malloc_info_xml(lc, &x->text);
		break;
	case ST_THREAD: {
		int err;

		/* pthread_create returns its error; the statement, like fork,
		   returns -1 and puts it in errno (docs/reference.md) */
		x->thread = libc_pthread_create(lc, &err);
		x->ret = x->thread ? x->thread->tid : -1;
		if (!x->thread)
			lc->errno_ = err;
		break;
	}
	case ST_JOIN: {
		int err = libc_pthread_join(lc, x->thread);

		x->ret = err ? -1 : 0;
		if (err)
			lc->errno_ = err;
		break;
	}
	default:
		panic("statement '%s' does not run code", script_stmt_defs[st->op].name);
	}
}

/* start_thread, in the new thread's task. */
static void thread_start(void *arg)
{
	struct exec *x = arg;

	libc_thread_start(x->s->lc, x->thread);
}

/* The thread's start routine returns: it ends (never returns here). */
static void thread_end(void *arg)
{
	struct exec *x = arg;

	libc_thread_exit(x->s->lc);
}

/*
 * Run step as thread th of the running task's libc, in th's task, and make
 * the running thread current again. task_run's result.
 */
static int run_as_thread(struct session *s, struct libc_thread *th, void (*step)(void *),
                         struct exec *x)
{
	struct libc_thread *self = s->lc->self;
	int sig;

	libc_set_self(s->lc, th);
	sig = task_run(&s->k, th->task, step, x);
	libc_set_self(s->lc, self);
	return sig;
}

/*
 * thread: pthread_create in the running task, then the new thread starts
 * (its first stack frame) and can be named by its tid. Returns task_run's
 * result: a signal that killed the process, or 0.
 */
static int run_thread(struct session *s, struct exec *x)
{
	int sig = task_run(&s->k, s->task, exec_stmt, x);

	if (sig || !x->thread)
		return sig;
	if (session_add_task(s, x->thread->tid, x->thread->task, s->lc) < 0)
		panic("out of host memory");
	return run_as_thread(s, x->thread, thread_start, x);
}

/*
 * join TID: the thread's start routine returns (it ends: its tcache and
 * arena back, its stack advised away, exit), then pthread_join in the
 * running task takes its stack into the cache. The thread is named no
 * more. A tid that is no thread of this process is an error of the script
 * (-1, failed); joining oneself is pthread_join's EDEADLK. 0 and *sig:
 * task_run's result.
 */
static int run_join(struct session *s, struct exec *x, int *sig)
{
	struct libc_thread *th = libc_thread_find(s->lc, (int)x->a[0]);

	if (!th || !th->task || th->task->tgid != s->task->tgid)
		return fail(s, "'join %lld': no thread of this process has id %lld",
		            (long long)x->a[0], (long long)x->a[0]);
	if (th == &s->lc->main_thread && th != s->lc->self)
		return fail(s, "'join %lld': %lld is the main thread, which runs to the end of the "
		               "script",
		            (long long)x->a[0], (long long)x->a[0]);
	x->thread = th;
	if (th != s->lc->self && !th->exited) {
		int tid = th->tid;

		*sig = run_as_thread(s, th, thread_end, x);
		if (*sig != TASK_RUN_EXITED)
			return 0; /* a signal killed the process on the way */
		session_drop_task(s, tid);
	}
	*sig = task_run(&s->k, s->task, exec_stmt, x);
	return 0;
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
			return fail(s, "'for' cannot step by 0");
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
			return fail(s, "'in %lld': no process or thread has id %lld (the program's "
			               "pid is %d)",
			            (long long)a[0], (long long)a[0], s->main_task->pid);
		snprintf(what, sizeof(what), "'in %lld'", (long long)a[0]);
		if (e->end_line)
			return task_ended(s, e, what);
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

/* --check after statement st: does the policy's checker find the heap
   broken? Then s->error says where and how, and s->corrupt is set. */
static bool heap_corrupt(struct session *s, const struct stmt *st)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m;
	int bad;

	/* The heap checker reads through the loaded page tables: only the
	   heap of the task whose address space is loaded can be read. */
	if (s->dead || !s->task || !s->task->mm || s->task->mm != s->k.loaded_mm ||
	    !s->lc->ops->check)
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
		return fail(s,
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
		task_ended(s, session_task_of(s, s->task_id), what);
		return SESSION_ERROR;
	}
	if (st->op == ST_WAIT) {
		int64_t pid = -1;

		if (st->nargs && session_eval(s, &st->args[0], &pid) < 0)
			return SESSION_ERROR;
		if (wait_would_sleep(s, pid) < 0)
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
		if (index_ok(s, st->dest, index, msg, sizeof(msg)) < 0)
			return fail(s, "%s", msg);
	}

	if ((st->op == ST_MALLOPT || st->op == ST_MALLOC_TRIM || st->op == ST_MALLOC_STATS ||
	     st->op == ST_MALLOC_INFO) &&
	    s->lc->ops != &malloc_ops_glibc)
		return fail(s, "'%s' is glibc's: this program runs the %s policy", d->name,
		            s->policy);
	if (st->op == ST_MALLOPT && (x.a[0] < INT32_MIN || x.a[0] > INT32_MAX))
		return fail(s, "mallopt's value is an int: %lld is out of its range",
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
		sig = run_thread(s, &x);
		break;
	case ST_JOIN:
		if (run_join(s, &x, &sig) < 0)
			return SESSION_ERROR;
		break;
	case ST_SHOW:
		x.view_task = s->task;
		if (script_view_takes_pid(st->kw) && st->nargs > (st->kw == VIEW_PAGETABLE)) {
			int64_t pid = x.a[st->nargs - 1];

			x.view_task = pid > 0 && pid <= INT32_MAX ? find_task_by_pid(&s->k, (int)pid)
			                                          : NULL;
			if (!x.view_task)
				return fail(s, "'show %s %lld': no process has pid %lld",
				            script_view_names[st->kw], (long long)pid, (long long)pid);
		}
		x.out = hostmem_open_memstream(&r->output, &r->output_len);
		if (!x.out)
			panic("open_memstream failed");
		sig = task_run(&s->k, s->task, exec_stmt, &x);
		hostmem_close_memstream(x.out, &r->output, &r->output_len);
		break;
	default:
		sig = task_run(&s->k, s->task, exec_stmt, &x);
		if (x.text.s) { /* what malloc_stats or malloc_info printed */
			r->output = x.text.s;
			r->output_len = x.text.len;
		}
		break;
	}
	/* the child of a fork (its first code runs now: its faults are the
	   statement's) */
	if (sig == 0 && st->op == ST_FORK && x.ret > 0 && add_child(s, x.ret) < 0)
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
			if (array_store(s, st->dest, index, x.ret) < 0)
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
		if (s->dead && t->death.signo == st->kw && (st->code < 0 || t->death.code == st->code))
			continue;
		fprintf(err, "%s:%d: expect failed: %s", s->sc->path, st->line, st->text + 7);
		if (s->dead)
			fprintf(err, ", but %s (%s) killed the program\n",
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

	/* The heap checker reads through the loaded page tables: only the
	   heap of the task whose address space is loaded can be read. */
	if (!s->dead && s->task && s->task->mm && s->task->mm == s->k.loaded_mm &&
	    s->lc->ops->check)
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
