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
 */
#include "session.h"

#include <stdlib.h>
#include <string.h>

#include "../../kernel_sim/proc.h"
#include "../../kernel_sim/syscalls.h"
#include "../../vm/panic.h"

#define SIM_SI_TKILL_CODE (-6) /* SI_TKILL: the code of a signal sent by tgkill */

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
   cut to 15 characters as the kernel cuts comm (TASK_COMM_LEN). */
static void comm_of(const char *path, char comm[16])
{
	const char *base = strrchr(path, '/');
	size_t n;

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

struct session *session_create(const struct script *sc, const struct session_opts *o, FILE *err)
{
	const char *name = o->policy ? o->policy : sc->policy ? sc->policy : "glibc";
	const struct malloc_ops *ops = malloc_policy(name);
	struct session *s;
	char comm[16];

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
	s = calloc(1, sizeof(*s));
	if (!s) {
		fputs("out of memory\n", err);
		return NULL;
	}
	s->sc = sc;
	s->opts = *o;
	s->policy = ops->name;
	s->vars = calloc((size_t)sc->nr_vars + 1, sizeof(*s->vars));
	s->defined = calloc((size_t)sc->nr_vars + 1, sizeof(*s->defined));
	if (!s->vars || !s->defined) {
		fputs("out of memory\n", err);
		goto fail;
	}
	if (kernel_boot(&s->k, &o->kopts, err) < 0)
		goto fail;
	probe_set_sink(&s->k.probe, session_sink, s);
	comm_of(sc->path, comm);
	s->task = task_create(&s->k, comm);
	if (!s->task) {
		fputs("cannot create the simulated process: not enough simulated RAM\n", err);
		kernel_shutdown(&s->k);
		goto fail;
	}
	libc_init(&s->lc, &s->k, ops);
	return s;
fail:
	free(s->vars);
	free(s->defined);
	free(s);
	return NULL;
}

void session_destroy(struct session *s)
{
	if (!s)
		return;
	free(s->res.output);
	/* The exit of the process: its frames and tables go back first. */
	probe_set_sink(&s->k.probe, NULL, NULL);
	/* A caller may have ended the process itself (libc_fini, task_destroy, then
	   s->task = NULL) to look at the kernel without it. */
	if (s->task) {
		libc_fini(&s->lc);
		task_destroy(&s->k, s->task);
	}
	kernel_shutdown(&s->k);
	free(s->vars);
	free(s->defined);
	free(s);
}

/* ---- expressions ----------------------------------------------------- */

int64_t session_builtin(struct session *s, int bi)
{
	switch (bi) {
	case BI_FAULTS:
		return (int64_t)s->last_faults;
	case BI_RSS:
		return (int64_t)s->task->mm.rss_stat[MM_ANONPAGES];
	case BI_MEMFREE:
		return (int64_t)s->k.buddy.free_pages;
	case BI_BRK:
		return (int64_t)s->task->mm.brk;
	case BI_INFINITY:
		return (int64_t)SIM_RLIM_INFINITY;
	}
	panic("built-in %d", bi);
}

int64_t session_eval(struct session *s, const struct expr *e)
{
	uint64_t v = 0; /* wraps as the C program's unsigned arithmetic would */

	for (uint32_t i = 0; i < e->n; i++) {
		const struct term *t = &s->sc->terms[e->first + i];
		uint64_t x;

		switch (t->kind) {
		case TERM_NUM:
			x = t->val;
			break;
		case TERM_VAR:
			if (!s->defined[t->val])
				panic("variable '%s' read before it was set",
				      s->sc->var_names[t->val]);
			x = (uint64_t)s->vars[t->val];
			break;
		default:
			x = (uint64_t)session_builtin(s, (int)t->val);
			break;
		}
		v = t->neg ? v - x : v + x;
	}
	return (int64_t)v;
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
	if (s->lc.ops->walk)
		s->lc.ops->walk(&s->lc, heap_line, &w);
	fprintf(out, "%llu blocks: %llu in use (%llu bytes), %llu free (%llu bytes); policy %s\n",
	        (unsigned long long)w.n, (unsigned long long)w.used,
	        (unsigned long long)w.used_bytes, (unsigned long long)(w.n - w.used),
	        (unsigned long long)w.free_bytes, s->policy);
}

static void show(struct session *s, const struct stmt *st, int64_t addr, FILE *out)
{
	switch (st->kw) {
	case VIEW_MAPS:
		proc_maps(&s->k, s->task, out);
		break;
	case VIEW_BUDDYINFO:
		proc_buddyinfo(&s->k, out);
		break;
	case VIEW_MEMINFO:
		proc_meminfo(&s->k, out);
		break;
	case VIEW_STATUS:
		proc_status(&s->k, s->task, out);
		break;
	case VIEW_HEAP:
		show_heap(s, out);
		break;
	case VIEW_PAGETABLE:
		proc_pagetable(&s->k, s->task, (vaddr_t)addr, out);
		break;
	case VIEW_TLB:
		proc_tlb(&s->k, out);
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
};

static const int rlimit_of[RES__COUNT] = {
    [RES_DATA] = SIM_RLIMIT_DATA,
    [RES_STACK] = SIM_RLIMIT_STACK,
    [RES_AS] = SIM_RLIMIT_AS,
    [RES_CPU] = SIM_RLIMIT_CPU,
};

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
	struct libc *lc = &s->lc;
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
	case ST_STORE:
		cpu_fill(cpu, (vaddr_t)(a[0] + a[1]), (uint8_t)a[2],
		         st->nargs > 3 ? (size_t)a[3] : 1);
		break;
	case ST_LOAD:
		x->ret = user_load(cpu, (vaddr_t)(a[0] + a[1]), st->nargs > 2 ? (uint64_t)a[2] : 8);
		break;
	case ST_TOUCH:
		user_touch(cpu, (vaddr_t)(a[0] + a[1]), (uint64_t)a[2], true);
		break;
	case ST_READ:
		user_touch(cpu, (vaddr_t)(a[0] + a[1]), (uint64_t)a[2], false);
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
		x->ret = sys_setrlimit(&s->k, res, &rl) < 0 ? -1 : 0;
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

		x->ret = libc_posix_memalign(lc, &p, (uint64_t)a[0], (uint64_t)a[1]) == 0
		             ? (int64_t)p
		             : 0;
		break;
	}
	case ST_USABLE:
		x->ret = (int64_t)libc_malloc_usable_size(lc, (vaddr_t)a[0]);
		break;
	case ST_SHOW:
		/* Views read state; heap walks may load through the MMU. */
		show(s, st, a[0], x->out);
		break;
	default:
		panic("statement '%s' does not run code", script_stmt_defs[st->op].name);
	}
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

int session_run_statement(struct session *s, size_t idx)
{
	const struct stmt *st;
	const struct stmt_def *d;
	struct stmt_result *r = &s->res;
	struct exec x;
	uint64_t faults0;
	int sig = 0;

	if (s->dead)
		panic("statement %zu after the program died", idx);
	if (idx >= s->sc->nr_stmts)
		panic("statement %zu of %zu", idx, s->sc->nr_stmts);
	st = &s->sc->stmts[idx];
	d = &script_stmt_defs[st->op];

	free(r->output);
	memset(r, 0, sizeof(*r));
	r->idx = idx;
	r->line = st->line;
	r->first_seq = probe_seq(&s->k.probe);
	EV(&s->k.probe, LAYER_USER, EV_STMT, d->name, st->text, {"line", (uint64_t)st->line});

	memset(&x, 0, sizeof(x));
	x.s = s;
	x.st = st;
	/* Arguments are evaluated before the statement runs, as C evaluates a
	   call's arguments; show's address argument too. */
	if (st->op != ST_EXPECT && st->op != ST_ASSIGN)
		for (unsigned i = 0; i < st->nargs; i++)
			x.a[i] = session_eval(s, &st->args[i]);

	faults0 = s->k.probe.c.page_faults;
	switch (st->op) {
	case ST_ASSIGN:
		x.ret = session_eval(s, &st->args[0]);
		break;
	case ST_EXPECT:
		r->lhs = session_eval(s, &st->args[0]);
		r->rhs = session_eval(s, &st->args[1]);
		r->expect_ok = compare(st->cmp, r->lhs, r->rhs);
		if (!r->expect_ok)
			s->nr_expect_failed++;
		break;
	case ST_SHOW:
		x.out = open_memstream(&r->output, &r->output_len);
		if (!x.out)
			panic("open_memstream failed");
		sig = task_run(&s->k, s->task, exec_stmt, &x);
		fclose(x.out);
		break;
	default:
		sig = task_run(&s->k, s->task, exec_stmt, &x);
		break;
	}
	r->faults = s->k.probe.c.page_faults - faults0;
	s->total_faults += r->faults;
	if (d->runs_code)
		s->last_faults = r->faults;
	if (d->ret != RET_NONE && !sig) {
		r->has_ret = true;
		r->ret = x.ret;
		if (st->dest >= 0) {
			s->vars[st->dest] = x.ret;
			s->defined[st->dest] = true;
		}
	}
	s->nr_run++;
	s->next = idx + 1;
	if (sig) {
		r->killed = true;
		s->dead = true;
		return 1;
	}
	if (s->opts.check && session_check(s, stderr))
		panic("invariants broken after line %d", st->line);
	return 0;
}

/* ---- checks and names ------------------------------------------------ */

int session_check(struct session *s, FILE *err)
{
	int bad = kernel_check(&s->k, err);

	if (!s->dead && s->lc.ops->check)
		bad += s->lc.ops->check(&s->lc, err);
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
	        (unsigned long long)s->nr_expect_failed, (unsigned long long)probe_seq(&s->k.probe));
}

const char *session_signal_name(int signo, char *buf, size_t n)
{
	switch (signo) {
	case SIM_SIGSEGV:
		return "SIGSEGV";
	case SIM_SIGABRT:
		return "SIGABRT";
	case SIM_SIGKILL:
		return "SIGKILL";
	case SIM_SIGXCPU:
		return "SIGXCPU";
	case 7:
		return "SIGBUS";
	default:
		snprintf(buf, n, "signal %d", signo);
		return buf;
	}
}

const char *session_sigcode_name(int signo, int code, char *buf, size_t n)
{
	if (signo == SIM_SIGSEGV && code == SIM_SEGV_MAPERR)
		return "SEGV_MAPERR";
	if (signo == SIM_SIGSEGV && code == SIM_SEGV_ACCERR)
		return "SEGV_ACCERR";
	if (code == SIM_SI_KERNEL)
		return "SI_KERNEL";
	if (code == SIM_SI_TKILL_CODE)
		return "SI_TKILL";
	if (code == 0)
		return "SI_USER";
	snprintf(buf, n, "%d", code);
	return buf;
}
