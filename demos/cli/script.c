/*
 * script.c - the parser of scenario scripts (.ams), DESIGN.md "Scenario
 * scripts". One statement a line; the whole file is parsed before anything
 * runs, so every error ("FILE:LINE: message") comes before any output.
 *
 * Grammar, one line:
 *   line      := [stmt | LVALUE '=' (stmt | expr) | block | 'end'
 *                 | 'policy' NAME] ['#' comment]
 *   LVALUE    := NAME | NAME '[' expr ']'
 *   stmt      := KEYWORD args          (shapes in script_stmt_defs)
 *   block     := 'for' NAME '=' expr 'to' expr ['step' expr] | 'in' expr
 * A block's statements follow on the lines up to its `end`. Expressions
 * (precedence, arrays, built-ins) are demos/cli/expr.c's.
 */
#include "script.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "../../kernel_sim/task.h"
#include "../../kernel_sim/sysctl.h"
#include "commands.h"
#include "expr.h"

#define SCRIPT_SI_TKILL (-6) /* si_code of a signal sent by tkill/tgkill */

struct script_var {
	char *name;
	int idx;
	UT_hash_handle hh;
};

/* The statement table: one row per statement, indexed by enum stmt_op. */
const struct stmt_def script_stmt_defs[ST__COUNT] = {
    [ST_ASSIGN] = {"assign", ST_ASSIGN, SHAPE_ASSIGN, 1, 1, RET_VALUE, false, "NAME = EXPR"},
    [ST_EXPECT] = {"expect", ST_EXPECT, SHAPE_EXPECT, 2, 2, RET_NONE, false, "expect EXPR OP EXPR"},
    [ST_SHOW] = {"show", ST_SHOW, SHAPE_SHOW, 0, 2, RET_NONE, false,
                 "show maps|buddyinfo|meminfo|status|heap|pagetable ADDR|tlb|zoneinfo|vmstat|"
                 "swaps|oom_score|dmesg|arenas|smaps_rollup|ps"},
    [ST_SBRK] = {"sbrk", ST_SBRK, SHAPE_EXPRS, 1, 1, RET_ADDR, true, "sbrk INCREMENT"},
    [ST_BRK] = {"brk", ST_BRK, SHAPE_EXPRS, 1, 1, RET_STATUS, true, "brk ADDR"},
    [ST_MMAP] = {"mmap", ST_MMAP, SHAPE_MMAP, 1, 1, RET_ADDR, true, "mmap LEN [rw|r|none|...]"},
    [ST_MUNMAP] = {"munmap", ST_MUNMAP, SHAPE_EXPRS, 2, 2, RET_STATUS, true, "munmap ADDR LEN"},
    [ST_MPROTECT] = {"mprotect", ST_MPROTECT, SHAPE_EXPRS_KW, 2, 2, RET_STATUS, true,
                     "mprotect ADDR LEN rw|r|none|..."},
    [ST_MADVISE] = {"madvise", ST_MADVISE, SHAPE_EXPRS_KW, 2, 2, RET_STATUS, true,
                    "madvise ADDR LEN dontneed|free|normal|willneed"},
    [ST_MREMAP] = {"mremap", ST_MREMAP, SHAPE_EXPRS_KW, 3, 3, RET_ADDR, true,
                   "mremap ADDR OLDLEN NEWLEN [maymove]"},
    [ST_STORE] = {"store", ST_STORE, SHAPE_EXPRS, 3, 4, RET_NONE, true, "store P OFF BYTE [COUNT]"},
    [ST_LOAD] = {"load", ST_LOAD, SHAPE_EXPRS, 2, 3, RET_VALUE, true, "load P OFF [SIZE]"},
    [ST_TOUCH] = {"touch", ST_TOUCH, SHAPE_EXPRS, 3, 3, RET_NONE, true, "touch P OFF LEN"},
    [ST_READ] = {"read", ST_READ, SHAPE_EXPRS, 3, 3, RET_NONE, true, "read P OFF LEN"},
    [ST_SETRLIMIT] = {"setrlimit", ST_SETRLIMIT, SHAPE_SETRLIMIT, 1, 2, RET_STATUS, true,
                      "setrlimit data|stack|as|cpu SOFT [HARD]"},
    [ST_MALLOC] = {"malloc", ST_MALLOC, SHAPE_EXPRS, 1, 1, RET_ADDR, true, "malloc N"},
    [ST_CALLOC] = {"calloc", ST_CALLOC, SHAPE_EXPRS, 2, 2, RET_ADDR, true, "calloc NMEMB SIZE"},
    [ST_REALLOC] = {"realloc", ST_REALLOC, SHAPE_EXPRS, 2, 2, RET_ADDR, true, "realloc P N"},
    [ST_FREE] = {"free", ST_FREE, SHAPE_EXPRS, 1, 1, RET_NONE, true, "free P"},
    [ST_MEMALIGN] = {"posix_memalign", ST_MEMALIGN, SHAPE_EXPRS, 2, 2, RET_ADDR, true,
                     "posix_memalign ALIGN N"},
    [ST_USABLE] = {"usable", ST_USABLE, SHAPE_EXPRS, 1, 1, RET_VALUE, true, "usable P"},
    [ST_FOR] = {"for", ST_FOR, SHAPE_FOR, 2, 3, RET_NONE, false, "for I = A to B [step S] ... end"},
    [ST_IN] = {"in", ST_IN, SHAPE_BLOCK, 1, 1, RET_NONE, false, "in ID ... end"},
    [ST_END] = {"end", ST_END, SHAPE_END, 0, 0, RET_NONE, false, "end"},
    [ST_EXPECT_SIGNAL] = {"expect signal", ST_EXPECT_SIGNAL, SHAPE_SUBFORM, 0, 0, RET_NONE, false,
                          "expect signal SIGNAME [CODE]"},
    [ST_EXPECT_STDERR] = {"expect stderr", ST_EXPECT_STDERR, SHAPE_SUBFORM, 0, 0, RET_NONE, false,
                          "expect stderr \"TEXT\""},
    [ST_SYSCTL] = {"sysctl", ST_SYSCTL, SHAPE_SYSCTL, 1, 1, RET_STATUS, false,
                   "sysctl vm.NAME=VALUE"},
    [ST_SWAPON] = {"swapon", ST_SWAPON, SHAPE_EXPRS, 1, 1, RET_STATUS, true, "swapon SIZE"},
    [ST_SWAPOFF] = {"swapoff", ST_SWAPOFF, SHAPE_EXPRS, 0, 0, RET_STATUS, true, "swapoff"},
    [ST_OOMADJ] = {"oom_score_adj", ST_OOMADJ, SHAPE_EXPRS, 1, 1, RET_STATUS, false,
                   "oom_score_adj N"},
    [ST_MALLOPT] = {"mallopt", ST_MALLOPT, SHAPE_MALLOPT, 1, 1, RET_VALUE, true,
                    "mallopt arena_max|mmap_threshold|trim_threshold|top_pad|mxfast|perturb|"
                    "mmap_max|arena_test|check_action VALUE"},
    [ST_MALLOC_TRIM] = {"malloc_trim", ST_MALLOC_TRIM, SHAPE_EXPRS, 0, 1, RET_VALUE, true,
                        "malloc_trim [PAD]"},
    [ST_MALLOC_STATS] = {"malloc_stats", ST_MALLOC_STATS, SHAPE_EXPRS, 0, 0, RET_NONE, true,
                         "malloc_stats"},
    [ST_MALLOC_INFO] = {"malloc_info", ST_MALLOC_INFO, SHAPE_EXPRS, 0, 0, RET_NONE, true,
                        "malloc_info"},
    [ST_FORK] = {"fork", ST_FORK, SHAPE_EXPRS, 0, 0, RET_VALUE, true, "fork"},
    [ST_EXIT] = {"exit", ST_EXIT, SHAPE_EXPRS, 0, 1, RET_NONE, true, "exit [STATUS]"},
    [ST_WAIT] = {"wait", ST_WAIT, SHAPE_EXPRS, 0, 1, RET_VALUE, true, "wait [PID]"},
    [ST_THREAD] = {"thread", ST_THREAD, SHAPE_EXPRS, 0, 0, RET_VALUE, true, "thread"},
    [ST_JOIN] = {"join", ST_JOIN, SHAPE_EXPRS, 1, 1, RET_STATUS, true, "join TID"},
};

const char *const script_builtin_names[BI__COUNT] = {
    "faults", "rss", "memfree", "brk",  "infinity", "errno",
    "pid",    "vmas", "vmsize", "vmdata", "vmpte", "vmstk",
    "majfaults", "swapents", "swapfree",
    "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
    "uordblks", "fordblks", "keepcost",
};
const char *const script_cmp_names[] = {"==", "!=", "<", "<=", ">", ">="};
const char *const script_view_names[VIEW__COUNT] = {
    "maps", "buddyinfo", "meminfo", "status", "heap", "pagetable", "tlb",
    "zoneinfo", "vmstat", "swaps", "oom_score", "dmesg", "arenas", "smaps_rollup", "ps"};

bool script_view_takes_pid(int view)
{
	return view == VIEW_MAPS || view == VIEW_STATUS || view == VIEW_PAGETABLE ||
	       view == VIEW_OOM_SCORE || view == VIEW_SMAPS_ROLLUP;
}
const char *const script_resource_names[RES__COUNT] = {"data", "stack", "as", "cpu"};
const char *const script_advice_names[ADV__COUNT] = {"normal", "willneed", "dontneed", "free"};
const char *const script_mallopt_names[MO__COUNT] = {
    "mxfast",       "trim_threshold", "top_pad",    "mmap_threshold", "mmap_max",
    "check_action", "perturb",        "arena_test", "arena_max"};
const int script_mallopt_values[MO__COUNT] = {1, -1, -2, -3, -4, -5, -6, -7, -8};

/* ---- names --------------------------------------------------------- */

static int var_lookup(const struct script *sc, const char *s, size_t len)
{
	struct script_var *v;

	HASH_FIND(hh, sc->var_hash, s, len, v);
	return v ? v->idx : -1;
}

int script_var_lookup(const struct script *sc, const char *s, size_t len)
{
	return var_lookup(sc, s, len);
}

static int lookup(const char *const *names, int n, const struct tok *t)
{
	for (int i = 0; i < n; i++)
		if (tok_is(t, names[i]))
			return i;
	return -1;
}

/* Rows that are found by their keyword (not NAME = EXPR, not the subforms). */
static bool looked_up(const struct stmt_def *d)
{
	return d->shape != SHAPE_ASSIGN && d->shape != SHAPE_SUBFORM;
}

int script_stmt_lookup_tok(const struct tok *t)
{
	for (int i = 0; i < ST__COUNT; i++)
		if (looked_up(&script_stmt_defs[i]) && tok_is(t, script_stmt_defs[i].name))
			return i;
	return -1;
}

static const struct {
	const char *name;
	int signo;
} signal_names[] = {
    {"SIGABRT", SIM_SIGABRT}, {"SIGBUS", 7},   {"SIGKILL", SIM_SIGKILL},
    {"SIGSEGV", SIM_SIGSEGV}, {"SIGXCPU", SIM_SIGXCPU},
    /* A plugin's own crash (demos/cli/plugin_guard.c). */
    {"SIGILL", 4},            {"SIGFPE", 8},
};

static const struct {
	const char *name;
	int code;
} sigcode_names[] = {
    {"SEGV_MAPERR", SIM_SEGV_MAPERR}, {"SEGV_ACCERR", SIM_SEGV_ACCERR},
    {"SI_KERNEL", SIM_SI_KERNEL},     {"SI_TKILL", SCRIPT_SI_TKILL},
    {"SI_USER", 0},
};

int script_signal_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++)
		if (strcmp(signal_names[i].name, name) == 0)
			return signal_names[i].signo;
	return -1;
}

int script_sigcode_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(sigcode_names) / sizeof(sigcode_names[0]); i++)
		if (strcmp(sigcode_names[i].name, name) == 0)
			return sigcode_names[i].code;
	return -1;
}

const char *script_signal_name(int signo)
{
	for (size_t i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++)
		if (signal_names[i].signo == signo)
			return signal_names[i].name;
	return NULL;
}

const char *script_sigcode_name(int signo, int code)
{
	/* SEGV_* codes are SIGSEGV's; the others are any signal's. */
	for (size_t i = 0; i < sizeof(sigcode_names) / sizeof(sigcode_names[0]); i++)
		if (sigcode_names[i].code == code &&
		    (signo == SIM_SIGSEGV || strncmp(sigcode_names[i].name, "SEGV_", 5) != 0))
			return sigcode_names[i].name;
	return NULL;
}

/* ---- statements ------------------------------------------------------ */

static int expect_end(struct parser *p, const char *what)
{
	char buf[80];

	if (p->t[p->pos].kind == T_END)
		return 0;
	return parser_error(p, "unexpected %s after %s", tok_desc(&p->t[p->pos], buf, sizeof(buf)),
	                    what);
}

static int arity_error(struct parser *p, const struct stmt_def *d, unsigned got)
{
	if (d->min_args == d->max_args)
		return parser_error(p, "'%s' takes %u argument%s (%s), got %u", d->name,
		                    d->min_args, d->min_args == 1 ? "" : "s", d->usage, got);
	return parser_error(p, "'%s' takes %u to %u arguments (%s), got %u", d->name, d->min_args,
	                    d->max_args, d->usage, got);
}

/* Expressions until the end of the line, into st->args[from..]. */
static int parse_arg_list(struct parser *p, struct stmt *st, const struct stmt_def *d,
                          unsigned from, unsigned min, unsigned max)
{
	unsigned n = 0;

	while (p->t[p->pos].kind != T_END) {
		struct expr e;

		if (parse_expr(p, &e, max == 1) < 0)
			return -1;
		if (from + n < STMT_MAX_ARGS)
			st->args[from + n] = e;
		else
			free((void *)e.text);
		n++;
	}
	if (n < min || n > max) {
		for (unsigned i = from; i < from + n && i < STMT_MAX_ARGS; i++) {
			free((void *)st->args[i].text);
			st->args[i].text = NULL;
		}
		return arity_error(p, d, from + n);
	}
	st->nargs = from + n;
	return 0;
}

static int parse_prot(struct parser *p, const struct tok *t)
{
	int prot = 0;

	if (tok_is(t, "none"))
		return 0;
	for (size_t i = 0; i < t->len; i++) {
		int bit = t->s[i] == 'r'   ? SCRIPT_PROT_R
		          : t->s[i] == 'w' ? SCRIPT_PROT_W
		          : t->s[i] == 'x' ? SCRIPT_PROT_X
		                           : 0;

		if (!bit || (prot & bit))
			return parser_error(p, "bad protection '%.*s' (letters r, w, x, or none)",
			                    (int)t->len, t->s);
		prot |= bit;
	}
	return prot;
}

const char *script_prot_str(int prot, char *buf)
{
	char *q = buf;

	if (!prot)
		return strcpy(buf, "none");
	if (prot & SCRIPT_PROT_R)
		*q++ = 'r';
	if (prot & SCRIPT_PROT_W)
		*q++ = 'w';
	if (prot & SCRIPT_PROT_X)
		*q++ = 'x';
	*q = 0;
	return buf;
}

/* Arguments that are numbers written out can be checked before anything runs. */
static int check_constants(struct parser *p, struct stmt *st)
{
	uint64_t v;

	if (st->op == ST_LOAD && st->nargs > 2 && expr_const(p->sc, &st->args[2], &v) &&
	    (v < 1 || v > 8))
		return parser_error(p, "'load' reads 1 to 8 bytes, not %llu",
		                    (unsigned long long)v);
	if (st->op == ST_STORE && expr_const(p->sc, &st->args[2], &v) && v > 255)
		return parser_error(p, "'store' writes a byte value (0 to 255), not %llu",
		                    (unsigned long long)v);
	if (st->op == ST_FOR && st->nargs > 2 && expr_const(p->sc, &st->args[2], &v) && v == 0)
		return parser_error(p, "'for' cannot step by 0");
	return 0;
}

/* The text of string token t with its escapes resolved (\" \\ \n \t). */
static int unquote(struct parser *p, const struct tok *t, const char **out)
{
	char *buf = malloc(t->len), *q = buf;

	if (!buf)
		return parser_error(p, "out of memory");
	for (size_t i = 1; i + 1 < t->len; i++) {
		char c = t->s[i];

		if (c == '\\') {
			c = t->s[++i];
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c != '"' && c != '\\') {
				free(buf);
				return parser_error(p, "unknown escape '\\%c' (\\\" \\\\ \\n \\t)",
				                    c);
			}
		}
		*q++ = c;
	}
	*q = 0;
	*out = buf;
	return 0;
}

/* expect signal SIGNAME [CODE] | expect stderr "TEXT", p->pos at the word. */
static int parse_expect_end(struct parser *p, struct stmt *st)
{
	const struct tok *t = &p->t[p->pos + 1];
	char name[32], buf[80];

	if (tok_is(&p->t[p->pos], "stderr")) {
		st->op = ST_EXPECT_STDERR;
		p->pos += 2;
		if (unquote(p, t, &st->str) < 0)
			return -1;
		return expect_end(p, "expect stderr \"TEXT\"");
	}
	st->op = ST_EXPECT_SIGNAL;
	snprintf(name, sizeof(name), "%.*s", (int)(t->len < 31 ? t->len : 31), t->s);
	st->kw = t->len < 31 ? script_signal_lookup(name) : -1;
	if (st->kw < 0)
		return parser_error(p, "unknown signal '%.*s' (SIGSEGV, SIGABRT, SIGKILL, SIGXCPU, "
		                       "SIGBUS)",
		                    (int)t->len, t->s);
	p->pos += 2;
	t = &p->t[p->pos];
	st->code = -1;
	if (t->kind == T_IDENT) {
		snprintf(name, sizeof(name), "%.*s", (int)(t->len < 31 ? t->len : 31), t->s);
		st->code = t->len < 31 ? script_sigcode_lookup(name) : -1;
		if (st->code == -1 || !script_sigcode_name(st->kw, st->code))
			return parser_error(p, "unknown si_code %s for %s (SEGV_MAPERR, SEGV_ACCERR, "
			                       "SI_KERNEL, SI_TKILL, SI_USER)",
			                    tok_desc(t, buf, sizeof(buf)), script_signal_name(st->kw));
		p->pos++;
	}
	return expect_end(p, "expect signal SIGNAME [CODE]");
}

/* The statement whose keyword is at p->pos. */
static int parse_stmt(struct parser *p, struct stmt *st, int op)
{
	const struct stmt_def *d = &script_stmt_defs[op];
	char buf[80];
	int kw;

	st->op = (enum stmt_op)op;
	st->kw = -1;
	p->pos++;
	switch (d->shape) {
	case SHAPE_EXPRS:
		if (parse_arg_list(p, st, d, 0, d->min_args, d->max_args) < 0)
			return -1;
		return check_constants(p, st);
	case SHAPE_MMAP:
		if (p->t[p->pos].kind == T_END)
			return arity_error(p, d, 0);
		if (parse_expr(p, &st->args[0], true) < 0)
			return -1;
		st->nargs = 1;
		st->kw = SCRIPT_PROT_R | SCRIPT_PROT_W;
		if (p->t[p->pos].kind == T_IDENT) {
			st->kw = parse_prot(p, &p->t[p->pos]);
			if (st->kw < 0)
				return -1;
			p->pos++;
		}
		return expect_end(p, "mmap LEN [PROT]");
	case SHAPE_EXPRS_KW: {
		const struct tok *t;

		for (st->nargs = 0; st->nargs < d->min_args; st->nargs++) {
			if (p->t[p->pos].kind == T_END)
				return arity_error(p, d, st->nargs);
			if (parse_expr(p, &st->args[st->nargs], true) < 0)
				return -1;
		}
		t = &p->t[p->pos];
		if (t->kind != T_IDENT) {
			if (st->op != ST_MREMAP)
				return parser_error(p, "'%s' needs its last word (%s)", d->name, d->usage);
			st->kw = 0;
		} else if (st->op == ST_MPROTECT) {
			if ((st->kw = parse_prot(p, t)) < 0)
				return -1;
			p->pos++;
		} else if (st->op == ST_MADVISE) {
			if ((st->kw = lookup(script_advice_names, ADV__COUNT, t)) < 0)
				return parser_error(p, "unknown advice '%.*s' (dontneed, free, normal, willneed)",
				            (int)t->len, t->s);
			p->pos++;
		} else {
			if (!tok_is(t, "maymove"))
				return parser_error(p, "unknown mremap flag '%.*s' (maymove)", (int)t->len, t->s);
			st->kw = 1;
			p->pos++;
		}
		if (expect_end(p, d->usage) < 0)
			return -1;
		return check_constants(p, st);
	}
	case SHAPE_SETRLIMIT:
		kw = lookup(script_resource_names, RES__COUNT, &p->t[p->pos]);
		if (kw < 0)
			return parser_error(p,
			                    "unknown resource %s for setrlimit (data, stack, as, cpu)",
			                    tok_desc(&p->t[p->pos], buf, sizeof(buf)));
		st->kw = kw;
		p->pos++;
		return parse_arg_list(p, st, d, 0, d->min_args, d->max_args);
	case SHAPE_MALLOPT:
		kw = lookup(script_mallopt_names, MO__COUNT, &p->t[p->pos]);
		if (kw < 0)
			return parser_error(p,
			                    "unknown mallopt parameter %s (arena_max, mmap_threshold, "
			                    "trim_threshold, top_pad, mxfast, perturb, mmap_max, "
			                    "arena_test, check_action)",
			                    tok_desc(&p->t[p->pos], buf, sizeof(buf)));
		st->kw = kw;
		p->pos++;
		return parse_arg_list(p, st, d, 0, d->min_args, d->max_args);
	case SHAPE_SHOW:
		kw = lookup(script_view_names, VIEW__COUNT, &p->t[p->pos]);
		if (kw < 0)
			return parser_error(p, "unknown view %s for show (%s)",
			                    tok_desc(&p->t[p->pos], buf, sizeof(buf)), d->usage + 5);
		st->kw = kw;
		p->pos++;
		if (kw == VIEW_PAGETABLE) {
			if (p->t[p->pos].kind == T_END)
				return parser_error(p, "'show pagetable' needs an address");
			if (parse_expr(p, &st->args[0], false) < 0)
				return -1;
			st->nargs = 1;
		}
		/* the process whose view it is: show maps PID, show pagetable ADDR PID */
		if (script_view_takes_pid(kw) && p->t[p->pos].kind != T_END) {
			if (parse_expr(p, &st->args[st->nargs], true) < 0)
				return -1;
			st->nargs++;
		}
		return expect_end(p, "show's view");
	case SHAPE_EXPECT:
		if (p->t[p->pos].kind == T_END)
			return parser_error(p, "'expect' needs EXPR OP EXPR (OP: == != < <= > >=), "
			                       "signal SIGNAME [CODE] or stderr \"TEXT\"");
		if ((tok_is(&p->t[p->pos], "signal") && p->t[p->pos + 1].kind == T_IDENT) ||
		    (tok_is(&p->t[p->pos], "stderr") && p->t[p->pos + 1].kind == T_STRING))
			return parse_expect_end(p, st);
		/* `signal` and `stderr` may be variables (expect signal == 1), but
		   followed by nothing, a number or a word of the wrong kind they
		   are the end's expectations written wrong. */
		{
			enum tok_kind next = p->t[p->pos + 1].kind;

			if (tok_is(&p->t[p->pos], "signal") &&
			    (next == T_END || next == T_NUM || next == T_STRING))
				return parser_error(p, "expect signal takes a signal's name: expect "
				                       "signal SIGNAME [CODE] (SIGSEGV, SIGABRT, "
				                       "SIGKILL, SIGXCPU, SIGBUS)");
			if (tok_is(&p->t[p->pos], "stderr") &&
			    (next == T_END || next == T_NUM || next == T_IDENT))
				return parser_error(p, "expect stderr takes a quoted text: expect "
				                       "stderr \"TEXT\"");
		}
		if (parse_expr(p, &st->args[0], true) < 0)
			return -1;
		if (p->t[p->pos].kind != T_CMP)
			return parser_error(p, "expected a comparison (== != < <= > >=), got %s",
			                    tok_desc(&p->t[p->pos], buf, sizeof(buf)));
		st->cmp = (enum cmp_op)p->t[p->pos].cmp;
		p->pos++;
		if (parse_expr(p, &st->args[1], true) < 0)
			return -1;
		st->nargs = 2;
		return expect_end(p, "the expectation");
	case SHAPE_BLOCK:
		if (p->t[p->pos].kind == T_END)
			return arity_error(p, d, 0);
		if (parse_expr(p, &st->args[0], true) < 0)
			return -1;
		st->nargs = 1;
		return expect_end(p, d->usage);
	case SHAPE_END:
		return expect_end(p, "'end' (a line of its own)");
	case SHAPE_SYSCTL: {
		const struct tok *t = &p->t[p->pos];
		char name[64];

		if (t->kind != T_IDENT || t->len >= sizeof(name))
			return parser_error(p, "'sysctl' needs vm.NAME=VALUE, got %s",
			                    tok_desc(t, buf, sizeof(buf)));
		memcpy(name, t->s, t->len);
		name[t->len] = 0;
		kw = -1;
		for (int i = 0; sysctl_vm_names[i]; i++)
			if (strcmp(name, sysctl_vm_names[i]) == 0 ||
			    (strncmp(name, "vm.", 3) == 0 && strcmp(name + 3, sysctl_vm_names[i]) == 0))
				kw = i;
		if (kw < 0)
			return parser_error(p,
			                    "unknown sysctl '%s' (vm.overcommit_memory, "
			                    "vm.overcommit_ratio, vm.overcommit_kbytes, "
			                    "vm.admin_reserve_kbytes, vm.user_reserve_kbytes, "
			                    "vm.min_free_kbytes, vm.watermark_scale_factor, "
			                    "vm.swappiness)",
			                    name);
		st->kw = kw;
		p->pos++;
		if (p->t[p->pos].kind == T_ASSIGN)
			p->pos++;
		if (p->t[p->pos].kind == T_END)
			return parser_error(p, "'sysctl %s' needs a value", name);
		if (parse_expr(p, &st->args[0], true) < 0)
			return -1;
		st->nargs = 1;
		return expect_end(p, "the sysctl value");
	}
	case SHAPE_FOR:   /* parse_for */
	case SHAPE_ASSIGN:
	case SHAPE_SUBFORM:
		break;
	}
	return parser_error(p, "internal error: statement '%s'", d->name);
}

static bool reserved(const struct tok *t)
{
	return script_stmt_lookup_tok(t) >= 0 || expr_reserved(t) || tok_is(t, "policy");
}

/* The variable t names, created as a plain variable or an array. */
static int define_var(struct parser *p, const struct tok *t, bool array)
{
	struct script *sc = p->sc;
	struct script_var *v;
	int i = var_lookup(sc, t->s, t->len);
	char **names;
	bool *kinds;

	if (memchr(t->s, '.', t->len))
		return parser_error(p, "'%.*s' is not a variable name (a '.' belongs in sysctl names)",
		                    (int)t->len, t->s);
	if (i >= 0) {
		if (sc->var_array[i] && !array)
			return parser_error(p, "'%.*s' is an array: write %.*s[INDEX]", (int)t->len,
			                    t->s, (int)t->len, t->s);
		if (!sc->var_array[i] && array)
			return parser_error(p, "'%.*s' is not an array", (int)t->len, t->s);
		return i;
	}
	v = calloc(1, sizeof(*v));
	names = sc->var_names;
	kinds = sc->var_array;
	if (sc->nr_vars == sc->cap_vars) {
		int cap = sc->cap_vars ? 2 * sc->cap_vars : 16;

		names = realloc(sc->var_names, (size_t)cap * sizeof(*names));
		if (names)
			sc->var_names = names;
		kinds = realloc(sc->var_array, (size_t)cap * sizeof(*kinds));
		if (kinds)
			sc->var_array = kinds;
		if (names && kinds)
			sc->cap_vars = cap;
	}
	if (!v || !names || !kinds) {
		free(v);
		return parser_error(p, "out of memory");
	}
	v->name = strndup(t->s, t->len);
	if (!v->name) {
		free(v);
		return parser_error(p, "out of memory");
	}
	v->idx = sc->nr_vars++;
	names[v->idx] = v->name;
	kinds[v->idx] = array;
	HASH_ADD_KEYPTR(hh, sc->var_hash, v->name, t->len, v);
	return v->idx;
}

static void stmt_release(struct stmt *st)
{
	for (unsigned i = 0; i < STMT_MAX_ARGS; i++) {
		free((void *)st->args[i].text);
		st->args[i].text = NULL;
	}
	free((void *)st->dest_index.text);
	st->dest_index.text = NULL;
	free((void *)st->str);
	st->str = NULL;
	free((void *)st->text);
	st->text = NULL;
}

/* for NAME = EXPR to EXPR [step EXPR], p->pos at `for`. */
static int parse_for(struct parser *p, struct stmt *st)
{
	const struct stmt_def *d = &script_stmt_defs[ST_FOR];
	const struct tok *name = &p->t[p->pos + 1];
	char buf[80];

	st->op = ST_FOR;
	if (name->kind != T_IDENT || p->t[p->pos + 2].kind != T_ASSIGN)
		return parser_error(p, "'for' takes a variable: %s", d->usage);
	if (reserved(name))
		return parser_error(p, "cannot use '%.*s' as the loop variable: it is %s",
		                    (int)name->len, name->s,
		                    expr_reserved(name) ? "a built-in" : "a statement name");
	p->pos += 3;
	if (parse_expr(p, &st->args[0], true) < 0)
		return -1;
	if (!tok_is(&p->t[p->pos], "to"))
		return parser_error(p, "expected 'to' in %s, got %s", d->usage,
		                    tok_desc(&p->t[p->pos], buf, sizeof(buf)));
	p->pos++;
	if (parse_expr(p, &st->args[1], true) < 0)
		return -1;
	st->nargs = 2;
	if (tok_is(&p->t[p->pos], "step")) {
		p->pos++;
		if (parse_expr(p, &st->args[2], true) < 0)
			return -1;
		st->nargs = 3;
	}
	if (expect_end(p, "the loop's bounds") < 0 || check_constants(p, st) < 0)
		return -1;
	/* Defined after its bounds: `for i = i to 9` needs an earlier i. */
	st->dest = define_var(p, name, false);
	return st->dest < 0 ? -1 : 0;
}

/* Does the '[' of token 1 have its ']'? */
static bool closing_bracket(const struct parser *p)
{
	int depth = 0;

	for (int i = 1; i < p->nt; i++) {
		if (p->t[i].kind == T_LBRACKET)
			depth++;
		else if (p->t[i].kind == T_RBRACKET && --depth == 0)
			return true;
	}
	return false;
}

/* NAME = ... or NAME[INDEX] = ...: where the `=` is, or 0 when not one. */
static int assignment_at(struct parser *p)
{
	int depth = 0;

	if (p->t[0].kind != T_IDENT)
		return 0;
	if (p->t[1].kind == T_ASSIGN)
		return 1;
	if (p->t[1].kind != T_LBRACKET)
		return 0;
	for (int i = 1; i < p->nt; i++) {
		if (p->t[i].kind == T_LBRACKET)
			depth++;
		else if (p->t[i].kind == T_RBRACKET && --depth == 0)
			return p->t[i + 1].kind == T_ASSIGN ? i + 1 : 0;
	}
	return 0;
}

/* NAME = STATEMENT | NAME = EXPR, with NAME[INDEX] for an element. */
static int parse_assignment(struct parser *p, struct stmt *st, int eq)
{
	struct tok *t0 = &p->t[0], *rhs = &p->t[eq + 1];
	bool array = eq > 1;
	int op;

	if (lookup(script_builtin_names, BI__COUNT, t0) >= 0 || expr_reserved(t0))
		return parser_error(p, "cannot assign to '%.*s': it is a built-in", (int)t0->len,
		                    t0->s);
	if (reserved(t0))
		return parser_error(p, "cannot assign to '%.*s': it is a statement name",
		                    (int)t0->len, t0->s);
	if (array) {
		p->pos = 2;
		if (parse_expr(p, &st->dest_index, true) < 0)
			return -1;
		if (p->pos != eq - 1)
			return parser_error(p, "expected ']' after the index of '%.*s'",
			                    (int)t0->len, t0->s);
	}
	p->pos = eq + 1;
	op = script_stmt_lookup_tok(rhs);
	/* `x = brk` (alone, or followed by an operator) reads the built-in. */
	if (op == ST_BRK && (p->t[eq + 2].kind == T_END || p->t[eq + 2].kind == T_PLUS ||
	                     p->t[eq + 2].kind == T_MINUS))
		op = -1;
	if (op >= 0) {
		if (script_stmt_defs[op].ret == RET_NONE)
			return parser_error(p, "'%s' has no result to keep in '%.*s'",
			                    script_stmt_defs[op].name, (int)t0->len, t0->s);
		if (parse_stmt(p, st, op) < 0)
			return -1;
	} else {
		if (rhs->kind == T_END)
			return parser_error(p, "expected an expression after '='");
		st->op = ST_ASSIGN;
		if (parse_expr(p, &st->args[0], true) < 0)
			return -1;
		st->nargs = 1;
		if (expect_end(p, "the expression") < 0)
			return -1;
	}
	/* Defined after its right-hand side: `x = x + 1` needs an earlier x. */
	st->dest = define_var(p, t0, array);
	return st->dest < 0 ? -1 : 0;
}

/* Open or close a block: p->open holds the openers of the line's context. */
static int track_block(struct parser *p, struct stmt *st)
{
	struct script *sc = p->sc;

	st->depth = p->depth;
	if (st->op == ST_FOR || st->op == ST_IN) {
		if (p->depth == SCRIPT_MAX_DEPTH)
			return parser_error(p, "blocks nested deeper than %d", SCRIPT_MAX_DEPTH);
		st->block = sc->nr_blocks++;
		p->open[p->depth++] = sc->nr_stmts;
	} else if (st->op == ST_END) {
		if (!p->depth)
			return parser_error(p, "'end' without a block to close (for, in)");
		st->peer = p->open[--p->depth];
		st->depth = p->depth;
		sc->stmts[st->peer].peer = sc->nr_stmts;
	}
	return 0;
}

/* One line (comment cut off). Adds at most one statement. */
static int parse_line(struct parser *p, const char *code)
{
	struct script *sc = p->sc;
	struct stmt st;
	struct tok *t0, *t1;
	char buf[80];
	int op, eq, rc;

	if (lex_line(p, code) < 0)
		return -1;
	if (p->nt == 0)
		return 0;
	t0 = &p->t[0];
	t1 = &p->t[1];
	memset(&st, 0, sizeof(st));
	st.line = p->line;
	st.dest = -1;
	st.kw = -1;
	st.code = -1;
	st.block = -1;

	if (tok_is(t0, "policy") && t1->kind != T_ASSIGN) {
		if (t1->kind != T_IDENT)
			return parser_error(p, "'policy' takes a malloc policy name, got %s",
			                    tok_desc(t1, buf, sizeof(buf)));
		if (sc->policy)
			return parser_error(p, "'policy' given twice (first on line %d)",
			                    sc->policy_line);
		if (sc->nr_stmts)
			return parser_error(p, "'policy' must come before the first statement");
		p->pos = 2;
		if (expect_end(p, "the policy name") < 0)
			return -1;
		sc->policy = strndup(t1->s, t1->len);
		sc->policy_line = p->line;
		return sc->policy ? 0 : parser_error(p, "out of memory");
	}

	eq = assignment_at(p);
	if (!eq && t0->kind == T_IDENT && t1->kind == T_LBRACKET && !closing_bracket(p))
		return parser_error(p, "missing ']' after the index of '%.*s'", (int)t0->len, t0->s);
	if (eq) {
		rc = parse_assignment(p, &st, eq);
	} else if (tok_is(t0, "for")) {
		rc = parse_for(p, &st);
	} else {
		if (t0->kind != T_IDENT)
			return parser_error(p, "expected a statement, got %s",
			                    tok_desc(t0, buf, sizeof(buf)));
		op = script_stmt_lookup_tok(t0);
		if (op < 0) {
			if (expr_reserved(t0) || var_lookup(sc, t0->s, t0->len) >= 0)
				return parser_error(p,
				                    "a value alone is not a statement: keep it with "
				                    "NAME = %.*s, or test it with expect",
				                    (int)t0->len, t0->s);
			return parser_error(p, "unknown statement '%.*s'", (int)t0->len, t0->s);
		}
		rc = parse_stmt(p, &st, op);
	}
	if (rc < 0) {
		stmt_release(&st);
		return -1;
	}

	if (sc->nr_stmts >= SCRIPT_MAX_STMTS) {
		stmt_release(&st);
		return parser_error(p, "more than %u statements in one script", SCRIPT_MAX_STMTS);
	}
	{
		const struct tok *last = &p->t[p->nt - 1];
		struct stmt *ns;

		st.text = strndup(t0->s, (size_t)(last->s + last->len - t0->s));
		if (sc->nr_stmts == sc->cap_stmts) {
			ns = realloc(sc->stmts, (sc->cap_stmts ? 2 * sc->cap_stmts : 64) * sizeof(*ns));
			if (ns) {
				sc->stmts = ns;
				sc->cap_stmts = sc->cap_stmts ? 2 * sc->cap_stmts : 64;
			}
		}
		if (!st.text || sc->nr_stmts == sc->cap_stmts) {
			stmt_release(&st);
			return parser_error(p, "out of memory");
		}
		if (track_block(p, &st) < 0) {
			stmt_release(&st);
			return -1;
		}
		sc->stmts[sc->nr_stmts++] = st;
	}
	return 0;
}

/* ---- the script ------------------------------------------------------ */

/* Split text into lines (LF or CRLF), owned copies. */
static int split_lines(struct script *sc, const char *text)
{
	const char *s = text;
	int cap = 0;

	while (*s) {
		const char *e = strchr(s, '\n');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		/* Past the line and its LF, before the CR is cut: a last line
		   "x\r" without LF must not leave s on its CR (an endless loop). */
		const char *next = e ? e + 1 : s + len;

		if (sc->nr_lines == cap) {
			char **nl;

			cap = cap ? 2 * cap : 64;
			nl = realloc(sc->lines, (size_t)cap * sizeof(*nl));
			if (!nl)
				return -1;
			sc->lines = nl;
		}
		if (len && s[len - 1] == '\r')
			len--;
		sc->lines[sc->nr_lines] = strndup(s, len);
		if (!sc->lines[sc->nr_lines])
			return -1;
		sc->nr_lines++;
		s = next;
	}
	return 0;
}

/* Where the comment of line starts (a '#' outside a string), or its end. */
static size_t code_length(const char *line)
{
	bool quoted = false;
	size_t i;

	for (i = 0; line[i]; i++) {
		if (quoted && line[i] == '\\' && line[i + 1])
			i++;
		else if (line[i] == '"')
			quoted = !quoted;
		else if (line[i] == '#' && !quoted)
			break;
	}
	return i;
}

int script_parse(const char *path, const char *text, struct script **out, FILE *err)
{
	struct parser *p = calloc(1, sizeof(*p));
	struct script *sc = calloc(1, sizeof(*sc));
	const char *bad;

	/* The name as messages and outputs show it (no terminal control, valid
	   UTF-8 for JSON); the text itself must be text (reference.md). */
	if (!p || !sc || !(sc->path = display_name(path))) {
		if (err)
			fprintf(err, "%s: out of memory\n", path);
		free(p);
		script_free(sc);
		return -1;
	}
	p->path = sc->path;
	p->err = err;
	p->sc = sc;
	bad = text_bad_byte(text, strlen(text));
	if (bad) {
		p->line = 1;
		for (const char *c = text; c < bad; c++)
			p->line += *c == '\n';
		parser_error(p,
		             "unexpected byte 0x%02x: a script is UTF-8 text without control "
		             "characters",
		             (unsigned char)*bad);
		goto fail;
	}
	if (split_lines(sc, text) < 0) {
		parser_error(p, "out of memory");
		goto fail;
	}
	for (int i = 0; i < sc->nr_lines; i++) {
		const char *line = sc->lines[i];
		char *code = strndup(line, code_length(line));
		int rc;

		p->line = i + 1;
		if (!code) {
			parser_error(p, "out of memory");
			goto fail;
		}
		rc = parse_line(p, code);
		free(code);
		if (rc < 0)
			goto fail;
	}
	if (p->depth) {
		const struct stmt *open = &sc->stmts[p->open[p->depth - 1]];

		p->line = open->line;
		parser_error(p, "'%s' is never closed: 'end' missing",
		             script_stmt_defs[open->op].name);
		goto fail;
	}
	free(p);
	*out = sc;
	return 0;
fail:
	free(p);
	script_free(sc);
	return -1;
}

/* "aftermalloc CMD: PATH: why" (cmd NULL: "PATH: why") on err, if any. */
static void load_error(FILE *err, const char *cmd, const char *path, const char *why)
{
	if (!err)
		return;
	char *name = display_name(path);

	if (cmd)
		fprintf(err, "aftermalloc %s: ", cmd);
	fprintf(err, "%s: %s\n", name ? name : "?", why);
	free(name);
}

char *script_read_text(const char *cmd, const char *path, FILE *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int rc;

	if (!f) {
		load_error(err, cmd, path, strerror(errno));
		return NULL;
	}
	/* Read, and look at each piece as it comes: a NUL byte (a binary file,
	   /dev/zero) or a text past SCRIPT_MAX_BYTES stops the reading there,
	   so no input makes the host read without end. */
	for (;;) {
		const char *bad = NULL;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap = cap ? 2 * cap : 8192);

			if (!nb) {
				free(buf);
				if (f != stdin)
					fclose(f);
				load_error(err, cmd, path, "out of memory");
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		if (memchr(buf + len, 0, n))
			bad = "not a text file (NUL byte)";
		else if (len + n > SCRIPT_MAX_BYTES)
			bad = "the script is longer than 64 MiB";
		if (bad) {
			const char *end = memchr(buf + len, 0, n);
			int line = 1;

			if (!end)
				end = buf + SCRIPT_MAX_BYTES;
			for (const char *c = buf; c < end; c++)
				line += *c == '\n';
			if (f != stdin)
				fclose(f);
			free(buf);
			if (err) {
				char *name = display_name(
				    strcmp(path, "-") == 0 ? SCRIPT_STDIN_NAME : path);

				fprintf(err, "%s:%d: %s\n", name ? name : "?", line, bad);
				free(name);
			}
			return NULL;
		}
		len += n;
		if (n == 0)
			break;
	}
	rc = ferror(f) ? errno : 0; /* EISDIR for a directory */
	if (f != stdin)
		fclose(f);
	if (rc) {
		free(buf);
		load_error(err, cmd, path, strerror(rc));
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

int script_load(const char *cmd, const char *path, struct script **out, FILE *err)
{
	char *buf = script_read_text(cmd, path, err);
	int rc;

	if (!buf)
		return -1;
	rc = script_parse(strcmp(path, "-") == 0 ? SCRIPT_STDIN_NAME : path, buf, out, err);
	free(buf);
	return rc;
}

void script_free(struct script *sc)
{
	struct script_var *v, *tmp;

	if (!sc)
		return;
	for (size_t i = 0; i < sc->nr_stmts; i++)
		stmt_release(&sc->stmts[i]);
	free(sc->stmts);
	for (int i = 0; i < sc->nr_lines; i++)
		free(sc->lines[i]);
	free(sc->lines);
	HASH_ITER(hh, sc->var_hash, v, tmp)
	{
		HASH_DEL(sc->var_hash, v);
		free(v->name);
		free(v);
	}
	free(sc->var_names);
	free(sc->var_array);
	free(sc->terms);
	free(sc->policy);
	free(sc->path);
	free(sc);
}

int script_var_index(const struct script *sc, const char *name)
{
	return var_lookup(sc, name, strlen(name));
}

int script_view_lookup(const char *name)
{
	for (int i = 0; i < VIEW__COUNT; i++)
		if (strcmp(name, script_view_names[i]) == 0)
			return i;
	return -1;
}

int script_stmt_lookup(const char *name)
{
	for (int i = 0; i < ST__COUNT; i++)
		if (looked_up(&script_stmt_defs[i]) && strcmp(name, script_stmt_defs[i].name) == 0)
			return i;
	return -1;
}

int script_check(const struct script *sc, FILE *err)
{
	int bad = 0, depth = 0;
	char msg[120];

#define BAD(...)                                                                                   \
	do {                                                                                       \
		if (!bad++ && err)                                                                 \
			fprintf(err, "script_check: " __VA_ARGS__);                                \
	} while (0)
	for (size_t i = 0; i < sc->nr_stmts; i++) {
		const struct stmt *st = &sc->stmts[i];

		if ((unsigned)st->op >= ST__COUNT) {
			BAD("statement %zu: bad op %d\n", i, st->op);
			continue;
		}
		if (st->line < 1 || st->line > sc->nr_lines)
			BAD("statement %zu: line %d out of range\n", i, st->line);
		if (i && st->line <= sc->stmts[i - 1].line)
			BAD("statement %zu: lines not increasing\n", i);
		if (st->dest >= sc->nr_vars)
			BAD("statement %zu: variable %d out of range\n", i, st->dest);
		if (st->dest >= 0 && script_stmt_defs[st->op].ret == RET_NONE && st->op != ST_FOR)
			BAD("statement %zu: keeps the result of a statement without one\n", i);
		if (st->dest >= 0 && st->dest < sc->nr_vars &&
		    sc->var_array[st->dest] != (st->dest_index.n > 0))
			BAD("statement %zu: assigns '%s' as the wrong kind\n", i,
			    sc->var_names[st->dest]);
		if (st->dest_index.n && expr_check(sc, &st->dest_index, msg, sizeof(msg)))
			BAD("statement %zu: index: %s\n", i, msg);
		if (st->nargs > STMT_MAX_ARGS)
			BAD("statement %zu: %u arguments\n", i, st->nargs);
		for (unsigned a = 0; a < st->nargs && a < STMT_MAX_ARGS; a++)
			if (expr_check(sc, &st->args[a], msg, sizeof(msg)))
				BAD("statement %zu: argument %u: %s\n", i, a, msg);
		if (script_stmt_defs[st->op].shape == SHAPE_EXPRS &&
		    (st->nargs < script_stmt_defs[st->op].min_args ||
		     st->nargs > script_stmt_defs[st->op].max_args))
			BAD("statement %zu: arity %u\n", i, st->nargs);
		/* Blocks: an opener and its `end` name each other, at one depth. */
		if (st->op == ST_END)
			depth--;
		if (st->depth != depth)
			BAD("statement %zu: depth %d, expected %d\n", i, st->depth, depth);
		if (st->op == ST_FOR || st->op == ST_IN || st->op == ST_END) {
			const struct stmt *q = st->peer < sc->nr_stmts ? &sc->stmts[st->peer] : NULL;

			if (!q || q->peer != i || (st->op == ST_END) == (q->op == ST_END) ||
			    (st->op == ST_END ? st->peer > i : st->peer < i) || q->depth != st->depth)
				BAD("statement %zu: block not paired\n", i);
			if (st->op != ST_END &&
			    (st->block < 0 || st->block >= sc->nr_blocks))
				BAD("statement %zu: block number %d\n", i, st->block);
		}
		if (st->op == ST_FOR || st->op == ST_IN)
			depth++;
	}
	if (depth)
		BAD("%d blocks not closed\n", depth);
#undef BAD
	return bad;
}

void script_dump(const struct script *sc, FILE *out)
{
	if (sc->policy)
		fprintf(out, "%d: policy %s\n", sc->policy_line, sc->policy);
	for (size_t i = 0; i < sc->nr_stmts; i++) {
		const struct stmt *st = &sc->stmts[i];

		fprintf(out, "%d: %*s", st->line, 2 * st->depth, "");
		if (st->dest >= 0 && st->op != ST_FOR) {
			fprintf(out, "$%s", sc->var_names[st->dest]);
			if (st->dest_index.n) {
				fputs("[", out);
				expr_dump(sc, &st->dest_index, out);
				fputs("]", out);
			}
			fputs(" = ", out);
		}
		fputs(script_stmt_defs[st->op].name, out);
		if (st->op == ST_FOR)
			fprintf(out, " $%s", sc->var_names[st->dest]);
		if (st->kw >= 0)
			fprintf(out, " kw=%d", st->kw);
		if (st->op == ST_EXPECT_SIGNAL && st->code >= 0)
			fprintf(out, " code=%d", st->code);
		if (st->str)
			fprintf(out, " \"%s\"", st->str);
		for (unsigned a = 0; a < st->nargs; a++) {
			fputs(" (", out);
			expr_dump(sc, &st->args[a], out);
			fputc(')', out);
			if (st->op == ST_EXPECT && a == 0)
				fprintf(out, " %s", script_cmp_names[st->cmp]);
		}
		if (st->op == ST_FOR || st->op == ST_IN || st->op == ST_END)
			fprintf(out, " -> %zu", st->peer);
		fputc('\n', out);
	}
}
