/*
 * script_stmt.c - one line of a scenario script parsed into a statement
 * (script.h's struct stmt): a statement by the shape of its row in
 * script_stmt_defs (arguments, keywords, protections, quoted strings), an
 * assignment NAME = ... or NAME[EXPR] = ..., the blocks `for` and `in` and
 * their `end`, and `policy`. The tokens and expressions are expr.c's; every
 * error is "FILE:LINE: message" (parser_error).
 */
#include "script_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernel_sim/sysctl.h"
#include "../../kernel_sim/task.h"
#include "commands.h"
#include "expr.h"

static int lookup(const char *const *names, int n, const struct tok *t)
{
	for (int i = 0; i < n; i++)
		if (tok_is(t, names[i]))
			return i;
	return -1;
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
		n++;
	}
	if (n < min || n > max)
		return arity_error(p, d, from + n);
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
		return parser_error(p,
		                    "unknown signal '%.*s' (SIGSEGV, SIGABRT, SIGKILL, SIGXCPU, "
		                    "SIGBUS)",
		                    (int)t->len, t->s);
	p->pos += 2;
	t = &p->t[p->pos];
	st->code = -1;
	if (t->kind == T_IDENT) {
		snprintf(name, sizeof(name), "%.*s", (int)(t->len < 31 ? t->len : 31), t->s);
		st->code = t->len < 31 ? script_sigcode_lookup(name) : -1;
		if (st->code == -1 || !script_sigcode_name(st->kw, st->code))
			return parser_error(p,
			                    "unknown si_code %s for %s (SEGV_MAPERR, SEGV_ACCERR, "
			                    "SI_KERNEL, SI_TKILL, SI_USER)",
			                    tok_desc(t, buf, sizeof(buf)),
			                    script_signal_name(st->kw));
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
				return parser_error(p, "'%s' needs its last word (%s)", d->name,
				                    d->usage);
			st->kw = 0;
		} else if (st->op == ST_MPROTECT) {
			if ((st->kw = parse_prot(p, t)) < 0)
				return -1;
			p->pos++;
		} else if (st->op == ST_MADVISE) {
			if ((st->kw = lookup(script_advice_names, ADV__COUNT, t)) < 0)
				return parser_error(
				    p, "unknown advice '%.*s' (dontneed, free, normal, willneed)",
				    (int)t->len, t->s);
			p->pos++;
		} else {
			if (!tok_is(t, "maymove"))
				return parser_error(p, "unknown mremap flag '%.*s' (maymove)",
				                    (int)t->len, t->s);
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
			return parser_error(
			    p, "unknown resource %s for setrlimit (data, stack, as, cpu)",
			    tok_desc(&p->t[p->pos], buf, sizeof(buf)));
		st->kw = kw;
		p->pos++;
		return parse_arg_list(p, st, d, 0, d->min_args, d->max_args);
	case SHAPE_MALLOPT:
		kw = lookup(script_mallopt_names, MO__COUNT, &p->t[p->pos]);
		if (kw < 0)
			return parser_error(
			    p,
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
			                    tok_desc(&p->t[p->pos], buf, sizeof(buf)),
			                    d->usage + 5);
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
				return parser_error(p,
				                    "expect signal takes a signal's name: expect "
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
			    (strncmp(name, "vm.", 3) == 0 &&
			     strcmp(name + 3, sysctl_vm_names[i]) == 0))
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
	case SHAPE_FOR: /* parse_for */
	case SHAPE_ASSIGN:
	case SHAPE_SUBFORM:
		break;
	}
	return parser_error(p, "internal error: statement '%s'", d->name);
}

static bool reserved(const struct tok *t)
{
	return t->kw != NULL; /* a statement, a built-in, an errno name, aligned, policy */
}

/* The variable t names, created as a plain variable or an array. */
static int define_var(struct parser *p, const struct tok *t, bool array)
{
	struct script *sc = p->sc;
	struct script_var *v;
	int i = script_var_lookup(sc, t->s, t->len);
	char **names;
	bool *kinds;

	if (memchr(t->s, '.', t->len))
		return parser_error(p,
		                    "'%.*s' is not a variable name (a '.' belongs in sysctl names)",
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

void script_stmt_release(struct stmt *st)
{
	free((void *)st->str);
	st->str = NULL;
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

	if (expr_reserved(t0))
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
int script_parse_line(struct parser *p, const char *code)
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
		return parser_error(p, "missing ']' after the index of '%.*s'", (int)t0->len,
		                    t0->s);
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
			if (expr_reserved(t0) || script_var_lookup(sc, t0->s, t0->len) >= 0)
				return parser_error(
				    p,
				    "a value alone is not a statement: keep it with "
				    "NAME = %.*s, or test it with expect",
				    (int)t0->len, t0->s);
			return parser_error(p, "unknown statement '%.*s'", (int)t0->len, t0->s);
		}
		rc = parse_stmt(p, &st, op);
	}
	if (rc < 0) {
		script_stmt_release(&st);
		return -1;
	}

	if (sc->nr_stmts >= SCRIPT_MAX_STMTS) {
		script_stmt_release(&st);
		return parser_error(p, "more than %u statements in one script", SCRIPT_MAX_STMTS);
	}
	{
		const struct tok *last = &p->t[p->nt - 1];
		struct stmt *ns;

		st.text = script_strndup(sc, t0->s, (size_t)(last->s + last->len - t0->s));
		if (sc->nr_stmts == sc->cap_stmts) {
			ns = realloc(sc->stmts,
			             (sc->cap_stmts ? 2 * sc->cap_stmts : 64) * sizeof(*ns));
			if (ns) {
				sc->stmts = ns;
				sc->cap_stmts = sc->cap_stmts ? 2 * sc->cap_stmts : 64;
			}
		}
		if (!st.text || sc->nr_stmts == sc->cap_stmts) {
			script_stmt_release(&st);
			return parser_error(p, "out of memory");
		}
		if (track_block(p, &st) < 0) {
			script_stmt_release(&st);
			return -1;
		}
		sc->stmts[sc->nr_stmts++] = st;
	}
	return 0;
}
