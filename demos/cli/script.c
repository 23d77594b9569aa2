/*
 * script.c - lexer and parser of scenario scripts (.ams), DESIGN.md "Scenario
 * scripts". One statement a line; the whole file is parsed before anything
 * runs, so every error ("FILE:LINE: message") comes before any output.
 *
 * Grammar, one line:
 *   line      := [stmt | NAME '=' (stmt | expr) | 'policy' NAME] ['#' comment]
 *   stmt      := KEYWORD args          (shapes in script_stmt_defs)
 *   expr      := ['+'|'-'] term (('+'|'-') term)*
 *   term      := NUMBER | VARIABLE | faults | rss | memfree | brk | infinity
 * Where a statement takes several expressions ("store p 0 0x41 64"), a sign
 * with a blank before it and none after it starts a new argument, so
 * "store p -16 1 1" has four arguments while "brk b + 4096" and "brk b+4096"
 * have one.
 */
#include "script.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "commands.h"

struct script_var {
	char *name;
	int idx;
	UT_hash_handle hh;
};

/* The statement table: one row per statement, indexed by enum stmt_op. */
const struct stmt_def script_stmt_defs[ST__COUNT] = {
    [ST_ASSIGN] = {"assign", ST_ASSIGN, SHAPE_ASSIGN, 1, 1, RET_VALUE, false, "NAME = EXPR"},
    [ST_EXPECT] = {"expect", ST_EXPECT, SHAPE_EXPECT, 2, 2, RET_NONE, false, "expect EXPR OP EXPR"},
    [ST_SHOW] = {"show", ST_SHOW, SHAPE_SHOW, 0, 1, RET_NONE, false,
                 "show maps|buddyinfo|meminfo|status|heap|pagetable ADDR|tlb"},
    [ST_SBRK] = {"sbrk", ST_SBRK, SHAPE_EXPRS, 1, 1, RET_ADDR, true, "sbrk INCREMENT"},
    [ST_BRK] = {"brk", ST_BRK, SHAPE_EXPRS, 1, 1, RET_STATUS, true, "brk ADDR"},
    [ST_MMAP] = {"mmap", ST_MMAP, SHAPE_MMAP, 1, 1, RET_ADDR, true, "mmap LEN [rw|r|none|...]"},
    [ST_MUNMAP] = {"munmap", ST_MUNMAP, SHAPE_EXPRS, 2, 2, RET_STATUS, true, "munmap ADDR LEN"},
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
};

const char *const script_builtin_names[BI__COUNT] = {"faults", "rss", "memfree", "brk", "infinity"};
const char *const script_cmp_names[] = {"==", "!=", "<", "<=", ">", ">="};
const char *const script_view_names[VIEW__COUNT] = {"maps", "buddyinfo", "meminfo", "status",
                                                    "heap", "pagetable", "tlb"};
const char *const script_resource_names[RES__COUNT] = {"data", "stack", "as", "cpu"};

/* ---- lexer ----------------------------------------------------------- */

enum tok_kind { T_END, T_IDENT, T_NUM, T_PLUS, T_MINUS, T_ASSIGN, T_CMP };

struct tok {
	int kind;
	const char *s; /* into the line */
	size_t len;
	bool space_before;
	uint64_t num; /* T_NUM */
	int cmp;      /* T_CMP: enum cmp_op */
};

#define MAX_TOKS 64

struct parser {
	struct script *sc;
	const char *path;
	int line;
	FILE *err;
	struct tok t[MAX_TOKS + 1];
	int nt, pos;
};

static int perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err) {
		fprintf(p->err, "%s:%d: ", p->path, p->line);
		va_start(ap, fmt);
		vfprintf(p->err, fmt, ap);
		va_end(ap);
		fputc('\n', p->err);
	}
	return -1;
}

static bool ident_start(int c)
{
	return isalpha(c) || c == '_';
}
static bool ident_char(int c)
{
	return isalnum(c) || c == '_';
}

/* Split one line (comment already cut) into p->t. */
static int lex(struct parser *p, const char *s)
{
	bool space = true;

	p->nt = 0;
	p->pos = 0;
	for (;;) {
		struct tok *t = &p->t[p->nt];

		while (*s == ' ' || *s == '\t' || *s == '\r') {
			s++;
			space = true;
		}
		memset(t, 0, sizeof(*t));
		t->s = s;
		t->space_before = space;
		space = false;
		if (!*s) {
			t->kind = T_END;
			return 0;
		}
		if (p->nt == MAX_TOKS)
			return perr(p, "line too long (more than %d tokens)", MAX_TOKS);
		if (ident_start((unsigned char)*s)) {
			while (ident_char((unsigned char)*s))
				s++;
			t->kind = T_IDENT;
		} else if (isdigit((unsigned char)*s)) {
			char buf[64];

			while (ident_char((unsigned char)*s))
				s++;
			t->kind = T_NUM;
			if ((size_t)(s - t->s) >= sizeof(buf))
				return perr(p, "bad number '%.*s'", (int)(s - t->s), t->s);
			memcpy(buf, t->s, (size_t)(s - t->s));
			buf[s - t->s] = 0;
			if (parse_size(buf, &t->num) < 0)
				return perr(p, "bad number '%s' (decimal, 0x hex, K/M/G suffix)",
				            buf);
		} else if (*s == '+') {
			s++;
			t->kind = T_PLUS;
		} else if (*s == '-') {
			s++;
			t->kind = T_MINUS;
		} else if (s[0] == '=' && s[1] == '=') {
			s += 2;
			t->kind = T_CMP;
			t->cmp = CMP_EQ;
		} else if (s[0] == '!' && s[1] == '=') {
			s += 2;
			t->kind = T_CMP;
			t->cmp = CMP_NE;
		} else if (*s == '<' || *s == '>') {
			bool eq = s[1] == '=';

			t->kind = T_CMP;
			t->cmp = *s == '<' ? (eq ? CMP_LE : CMP_LT) : (eq ? CMP_GE : CMP_GT);
			s += eq ? 2 : 1;
		} else if (*s == '=') {
			s++;
			t->kind = T_ASSIGN;
		} else {
			/* Not printable (a control byte, UTF-8): its code, not raw bytes. */
			if (!isprint((unsigned char)*s))
				return perr(p, "unexpected byte 0x%02x", (unsigned char)*s);
			return perr(p, "unexpected character '%c'", *s);
		}
		t->len = (size_t)(s - t->s);
		p->nt++;
	}
}

static bool tok_is(const struct tok *t, const char *word)
{
	return t->kind == T_IDENT && strlen(word) == t->len && memcmp(t->s, word, t->len) == 0;
}

static int lookup(const char *const *names, int n, const struct tok *t)
{
	for (int i = 0; i < n; i++)
		if (tok_is(t, names[i]))
			return i;
	return -1;
}

static int stmt_lookup_tok(const struct tok *t)
{
	for (int i = 0; i < ST__COUNT; i++)
		if (script_stmt_defs[i].shape != SHAPE_ASSIGN &&
		    tok_is(t, script_stmt_defs[i].name))
			return i;
	return -1;
}

/* How a token reads in a message. */
static const char *tok_desc(const struct tok *t, char *buf, size_t n)
{
	if (t->kind == T_END)
		return "end of line";
	snprintf(buf, n, "'%.*s'", (int)t->len, t->s);
	return buf;
}

/* ---- expressions ----------------------------------------------------- */

static int var_lookup(const struct script *sc, const char *s, size_t len)
{
	struct script_var *v;

	HASH_FIND(hh, sc->var_hash, s, len, v);
	return v ? v->idx : -1;
}

static int add_term(struct parser *p, int neg, int kind, uint64_t val)
{
	struct script *sc = p->sc;

	if (sc->nr_terms == sc->cap_terms) {
		size_t cap = sc->cap_terms ? 2 * sc->cap_terms : 64;
		struct term *nt = realloc(sc->terms, cap * sizeof(*nt));

		if (!nt)
			return perr(p, "out of memory");
		sc->terms = nt;
		sc->cap_terms = cap;
	}
	sc->terms[sc->nr_terms++] = (struct term){neg, kind, val};
	return 0;
}

static int parse_term(struct parser *p, int neg)
{
	struct tok *t = &p->t[p->pos];
	char buf[80];
	int i;

	if (t->kind == T_NUM) {
		p->pos++;
		return add_term(p, neg, TERM_NUM, t->num);
	}
	if (t->kind != T_IDENT)
		return perr(p, "expected a number or a variable, got %s",
		            tok_desc(t, buf, sizeof(buf)));
	p->pos++;
	i = lookup(script_builtin_names, BI__COUNT, t);
	if (i >= 0)
		return add_term(p, neg, TERM_BUILTIN, (uint64_t)i);
	i = var_lookup(p->sc, t->s, t->len);
	if (i >= 0)
		return add_term(p, neg, TERM_VAR, (uint64_t)i);
	if (stmt_lookup_tok(t) >= 0)
		return perr(
		    p, "'%.*s' is a statement, not a value (keep its result with NAME = %.*s ...)",
		    (int)t->len, t->s, (int)t->len, t->s);
	return perr(p, "undefined variable '%.*s'", (int)t->len, t->s);
}

/*
 * expr at p->pos. join_all: every sign joins terms (one-argument contexts);
 * else a sign with a blank before and none after starts the next argument.
 */
static int parse_expr(struct parser *p, struct expr *e, bool join_all)
{
	struct tok *first = &p->t[p->pos];
	int neg = 0;

	e->first = (uint32_t)p->sc->nr_terms;
	if (first->kind == T_PLUS || first->kind == T_MINUS) {
		neg = first->kind == T_MINUS;
		p->pos++;
	}
	if (parse_term(p, neg) < 0)
		return -1;
	for (;;) {
		struct tok *t = &p->t[p->pos];

		if (t->kind != T_PLUS && t->kind != T_MINUS)
			break;
		if (!join_all && t->space_before && !p->t[p->pos + 1].space_before &&
		    p->t[p->pos + 1].kind != T_END)
			break;
		p->pos++;
		if (parse_term(p, t->kind == T_MINUS) < 0)
			return -1;
	}
	e->n = (uint32_t)(p->sc->nr_terms - e->first);
	{
		const struct tok *last = &p->t[p->pos - 1];

		e->text = strndup(first->s, (size_t)(last->s + last->len - first->s));
	}
	if (!e->text)
		return perr(p, "out of memory");
	return 0;
}

/* ---- statements ------------------------------------------------------ */

static int expect_end(struct parser *p, const char *what)
{
	char buf[80];

	if (p->t[p->pos].kind == T_END)
		return 0;
	return perr(p, "unexpected %s after %s", tok_desc(&p->t[p->pos], buf, sizeof(buf)), what);
}

static int arity_error(struct parser *p, const struct stmt_def *d, unsigned got)
{
	if (d->min_args == d->max_args)
		return perr(p, "'%s' takes %u argument%s (%s), got %u", d->name, d->min_args,
		            d->min_args == 1 ? "" : "s", d->usage, got);
	return perr(p, "'%s' takes %u to %u arguments (%s), got %u", d->name, d->min_args,
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
			return perr(p, "bad protection '%.*s' (letters r, w, x, or none)",
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

/* The value of e when it is one number, for checks that can be made early. */
static bool expr_const(const struct script *sc, const struct expr *e, uint64_t *v)
{
	if (e->n != 1 || sc->terms[e->first].kind != TERM_NUM || sc->terms[e->first].neg)
		return false;
	*v = sc->terms[e->first].val;
	return true;
}

/* Arguments that are numbers written out can be checked before anything runs. */
static int check_constants(struct parser *p, struct stmt *st)
{
	uint64_t v;

	if (st->op == ST_LOAD && st->nargs > 2 && expr_const(p->sc, &st->args[2], &v) &&
	    (v < 1 || v > 8))
		return perr(p, "'load' reads 1 to 8 bytes, not %llu", (unsigned long long)v);
	if (st->op == ST_STORE && expr_const(p->sc, &st->args[2], &v) && v > 255)
		return perr(p, "'store' writes a byte value (0 to 255), not %llu",
		            (unsigned long long)v);
	return 0;
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
	case SHAPE_SETRLIMIT:
		kw = lookup(script_resource_names, RES__COUNT, &p->t[p->pos]);
		if (kw < 0)
			return perr(p, "unknown resource %s for setrlimit (data, stack, as, cpu)",
			            tok_desc(&p->t[p->pos], buf, sizeof(buf)));
		st->kw = kw;
		p->pos++;
		return parse_arg_list(p, st, d, 0, d->min_args, d->max_args);
	case SHAPE_SHOW:
		kw = lookup(script_view_names, VIEW__COUNT, &p->t[p->pos]);
		if (kw < 0)
			return perr(p, "unknown view %s for show (%s)",
			            tok_desc(&p->t[p->pos], buf, sizeof(buf)), d->usage + 5);
		st->kw = kw;
		p->pos++;
		if (kw == VIEW_PAGETABLE) {
			if (p->t[p->pos].kind == T_END)
				return perr(p, "'show pagetable' needs an address");
			if (parse_expr(p, &st->args[0], true) < 0)
				return -1;
			st->nargs = 1;
		}
		return expect_end(p, "show's view");
	case SHAPE_EXPECT:
		if (p->t[p->pos].kind == T_END)
			return perr(p, "'expect' needs EXPR OP EXPR (OP: == != < <= > >=)");
		if (parse_expr(p, &st->args[0], true) < 0)
			return -1;
		if (p->t[p->pos].kind != T_CMP)
			return perr(p, "expected a comparison (== != < <= > >=), got %s",
			            tok_desc(&p->t[p->pos], buf, sizeof(buf)));
		st->cmp = (enum cmp_op)p->t[p->pos].cmp;
		p->pos++;
		if (parse_expr(p, &st->args[1], true) < 0)
			return -1;
		st->nargs = 2;
		return expect_end(p, "the expectation");
	case SHAPE_ASSIGN:
		break;
	}
	return perr(p, "internal error: statement '%s'", d->name);
}

static bool reserved(const struct tok *t)
{
	return stmt_lookup_tok(t) >= 0 || lookup(script_builtin_names, BI__COUNT, t) >= 0 ||
	       tok_is(t, "policy");
}

static int define_var(struct parser *p, const struct tok *t)
{
	struct script *sc = p->sc;
	struct script_var *v;
	int i = var_lookup(sc, t->s, t->len);
	char **names;

	if (i >= 0)
		return i;
	v = calloc(1, sizeof(*v));
	names = realloc(sc->var_names, (size_t)(sc->nr_vars + 1) * sizeof(*names));
	if (!v || !names) {
		free(v);
		if (names)
			sc->var_names = names;
		return perr(p, "out of memory");
	}
	sc->var_names = names;
	v->name = strndup(t->s, t->len);
	if (!v->name) {
		free(v);
		return perr(p, "out of memory");
	}
	v->idx = sc->nr_vars++;
	names[v->idx] = v->name;
	HASH_ADD_KEYPTR(hh, sc->var_hash, v->name, t->len, v);
	return v->idx;
}

static void stmt_release(struct stmt *st)
{
	for (unsigned i = 0; i < STMT_MAX_ARGS; i++) {
		free((void *)st->args[i].text);
		st->args[i].text = NULL;
	}
	free((void *)st->text);
	st->text = NULL;
}

/* One line (comment cut off). Adds at most one statement. */
static int parse_line(struct parser *p, const char *code)
{
	struct script *sc = p->sc;
	struct stmt st;
	struct tok *t0, *t1;
	char buf[80];
	int op, rc;

	if (lex(p, code) < 0)
		return -1;
	if (p->nt == 0)
		return 0;
	t0 = &p->t[0];
	t1 = &p->t[1];
	memset(&st, 0, sizeof(st));
	st.line = p->line;
	st.dest = -1;
	st.kw = -1;

	if (tok_is(t0, "policy") && t1->kind != T_ASSIGN) {
		if (t1->kind != T_IDENT)
			return perr(p, "'policy' takes a malloc policy name, got %s",
			            tok_desc(t1, buf, sizeof(buf)));
		if (sc->policy)
			return perr(p, "'policy' given twice (first on line %d)", sc->policy_line);
		if (sc->nr_stmts)
			return perr(p, "'policy' must come before the first statement");
		p->pos = 2;
		if (expect_end(p, "the policy name") < 0)
			return -1;
		sc->policy = strndup(t1->s, t1->len);
		sc->policy_line = p->line;
		return sc->policy ? 0 : perr(p, "out of memory");
	}

	if (t0->kind == T_IDENT && t1->kind == T_ASSIGN) {
		struct tok *t2 = &p->t[2];

		if (lookup(script_builtin_names, BI__COUNT, t0) >= 0)
			return perr(p, "cannot assign to '%.*s': it is a built-in", (int)t0->len,
			            t0->s);
		if (reserved(t0))
			return perr(p, "cannot assign to '%.*s': it is a statement name",
			            (int)t0->len, t0->s);
		p->pos = 2;
		op = stmt_lookup_tok(t2);
		/* `x = brk` (alone, or followed by + or -) reads the built-in. */
		if (op == ST_BRK &&
		    (p->t[3].kind == T_END || p->t[3].kind == T_PLUS || p->t[3].kind == T_MINUS))
			op = -1;
		if (op >= 0) {
			if (script_stmt_defs[op].ret == RET_NONE)
				return perr(p, "'%s' has no result to keep in '%.*s'",
				            script_stmt_defs[op].name, (int)t0->len, t0->s);
			rc = parse_stmt(p, &st, op);
		} else {
			if (t2->kind == T_END)
				return perr(p, "expected an expression after '='");
			st.op = ST_ASSIGN;
			rc = parse_expr(p, &st.args[0], true);
			if (rc == 0) {
				st.nargs = 1;
				rc = expect_end(p, "the expression");
			}
		}
		if (rc < 0) {
			stmt_release(&st);
			return -1;
		}
		/* Defined after its right-hand side: `x = x + 1` needs an earlier x. */
		st.dest = define_var(p, t0);
		if (st.dest < 0) {
			stmt_release(&st);
			return -1;
		}
	} else {
		if (t0->kind != T_IDENT)
			return perr(p, "expected a statement, got %s",
			            tok_desc(t0, buf, sizeof(buf)));
		op = stmt_lookup_tok(t0);
		if (op < 0) {
			if (lookup(script_builtin_names, BI__COUNT, t0) >= 0 ||
			    var_lookup(sc, t0->s, t0->len) >= 0)
				return perr(p,
				            "a value alone is not a statement: keep it with "
				            "NAME = %.*s, or test it with expect",
				            (int)t0->len, t0->s);
			return perr(p, "unknown statement '%.*s'", (int)t0->len, t0->s);
		}
		if (parse_stmt(p, &st, op) < 0) {
			stmt_release(&st);
			return -1;
		}
	}

	{
		const struct tok *last = &p->t[p->nt - 1];
		struct stmt *ns;

		st.text = strndup(t0->s, (size_t)(last->s + last->len - t0->s));
		ns = realloc(sc->stmts, (sc->nr_stmts + 1) * sizeof(*ns));
		if (!st.text || !ns) {
			if (ns)
				sc->stmts = ns;
			stmt_release(&st);
			return perr(p, "out of memory");
		}
		sc->stmts = ns;
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

int script_parse(const char *path, const char *text, struct script **out, FILE *err)
{
	struct parser p = {.path = path, .err = err};
	struct script *sc = calloc(1, sizeof(*sc));

	if (!sc || !(sc->path = strdup(path)) || split_lines(sc, text) < 0) {
		if (err)
			fprintf(err, "%s: out of memory\n", path);
		script_free(sc);
		return -1;
	}
	p.sc = sc;
	for (int i = 0; i < sc->nr_lines; i++) {
		const char *line = sc->lines[i];
		char *hash = strchr(line, '#');
		char *code = hash ? strndup(line, (size_t)(hash - line)) : strdup(line);
		int rc;

		p.line = i + 1;
		if (!code) {
			perr(&p, "out of memory");
			script_free(sc);
			return -1;
		}
		rc = parse_line(&p, code);
		free(code);
		if (rc < 0) {
			script_free(sc);
			return -1;
		}
	}
	*out = sc;
	return 0;
}

int script_load(const char *path, struct script **out, FILE *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int rc;

	if (!f) {
		if (err)
			fprintf(err, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap = cap ? 2 * cap : 8192);

			if (!nb) {
				free(buf);
				if (f != stdin)
					fclose(f);
				if (err)
					fprintf(err, "%s: out of memory\n", path);
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	rc = ferror(f) ? errno : 0; /* EISDIR for a directory */
	if (f != stdin)
		fclose(f);
	if (rc) {
		free(buf);
		if (err)
			fprintf(err, "%s: %s\n", path, strerror(rc));
		return -1;
	}
	buf[len] = 0;
	if (memchr(buf, 0, len)) {
		const char *nul = memchr(buf, 0, len);
		int line = 1;

		for (const char *c = buf; c < nul; c++)
			line += *c == '\n';
		free(buf);
		if (err)
			fprintf(err, "%s:%d: not a text file (NUL byte)\n", path, line);
		return -1;
	}
	rc = script_parse(strcmp(path, "-") == 0 ? "<stdin>" : path, buf, out, err);
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
		if (script_stmt_defs[i].shape != SHAPE_ASSIGN &&
		    strcmp(name, script_stmt_defs[i].name) == 0)
			return i;
	return -1;
}

int script_check(const struct script *sc, FILE *err)
{
	int bad = 0;

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
		if (st->dest >= 0 && script_stmt_defs[st->op].ret == RET_NONE)
			BAD("statement %zu: keeps the result of a statement without one\n", i);
		if (st->nargs > STMT_MAX_ARGS)
			BAD("statement %zu: %u arguments\n", i, st->nargs);
		for (unsigned a = 0; a < st->nargs && a < STMT_MAX_ARGS; a++) {
			const struct expr *e = &st->args[a];

			if (!e->n || e->first + e->n > sc->nr_terms)
				BAD("statement %zu: argument %u has bad terms\n", i, a);
			for (uint32_t k = 0; k < e->n && e->first + k < sc->nr_terms; k++) {
				const struct term *t = &sc->terms[e->first + k];

				if (t->kind == TERM_VAR && t->val >= (uint64_t)sc->nr_vars)
					BAD("statement %zu: variable index out of range\n", i);
				if (t->kind == TERM_BUILTIN && t->val >= BI__COUNT)
					BAD("statement %zu: built-in out of range\n", i);
			}
		}
		if (script_stmt_defs[st->op].shape == SHAPE_EXPRS &&
		    (st->nargs < script_stmt_defs[st->op].min_args ||
		     st->nargs > script_stmt_defs[st->op].max_args))
			BAD("statement %zu: arity %u\n", i, st->nargs);
	}
#undef BAD
	return bad;
}

static void dump_expr(const struct script *sc, const struct expr *e, FILE *out)
{
	for (uint32_t k = 0; k < e->n; k++) {
		const struct term *t = &sc->terms[e->first + k];

		if (k || t->neg)
			fputs(t->neg ? (k ? " - " : "-") : " + ", out);
		if (t->kind == TERM_NUM)
			fprintf(out, "%llu", (unsigned long long)t->val);
		else if (t->kind == TERM_VAR)
			fprintf(out, "$%s", sc->var_names[t->val]);
		else
			fprintf(out, "@%s", script_builtin_names[t->val]);
	}
}

void script_dump(const struct script *sc, FILE *out)
{
	if (sc->policy)
		fprintf(out, "%d: policy %s\n", sc->policy_line, sc->policy);
	for (size_t i = 0; i < sc->nr_stmts; i++) {
		const struct stmt *st = &sc->stmts[i];

		fprintf(out, "%d: ", st->line);
		if (st->dest >= 0)
			fprintf(out, "$%s = ", sc->var_names[st->dest]);
		fputs(script_stmt_defs[st->op].name, out);
		if (st->kw >= 0)
			fprintf(out, " kw=%d", st->kw);
		for (unsigned a = 0; a < st->nargs; a++) {
			fputs(" (", out);
			dump_expr(sc, &st->args[a], out);
			fputc(')', out);
			if (st->op == ST_EXPECT && a == 0)
				fprintf(out, " %s", script_cmp_names[st->cmp]);
		}
		fputc('\n', out);
	}
}
