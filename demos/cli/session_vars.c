/*
 * session_vars.c - the values a script reads and writes: its variables and
 * arrays, the built-ins (faults, rss, brk, errno, mallinfo2's fields...)
 * read from the simulated kernel and C library, and the expression
 * evaluator's environment over them (expr.h). A value read before it is
 * set, or an index out of range, fails the script at its line.
 */
#include "session_internal.h"

#include <string.h>

#include "../../kernel_sim/proc.h"
#include "../../libc/glibc_malloc.h"
#include "../../vm/hostmem.h"
#include "../../vm/panic.h"
#include "expr.h"

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
		const uint64_t f[] = {m.arena,    m.ordblks, m.smblks,  m.hblks,
		                      m.hblkhd,   m.usmblks, m.fsmblks, m.uordblks,
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

int session_index_ok(struct session *s, int idx, int64_t index, char *msg, size_t n)
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

	if (session_index_ok(s, idx, index, msg, n) < 0)
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

int session_eval(struct session *s, const struct expr *e, int64_t *v)
{
	const struct expr_env env = {s, env_var, env_elem, env_builtin};
	char msg[200];

	if (expr_eval(s->sc, e, &env, v, msg, sizeof(msg)) == 0)
		return 0;
	return session_fail(s, "%s", msg);
}

/* a[index] = v, growing the array. 0, or -1 (failed) past host memory. */
int session_array_store(struct session *s, int idx, int64_t index, int64_t v)
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
			return session_fail(s, "out of host memory for %s[]",
			                    s->sc->var_names[idx]);
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
