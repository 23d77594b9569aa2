/*
 * expr.c - tokens, expressions and their evaluation for scenario scripts
 * (see expr.h). Expressions compile to postfix code by precedence climbing:
 *
 *   expr    := or
 *   or      := xor ('|' xor)*          xor := and ('^' and)*
 *   and     := shift ('&' shift)*      shift := sum (('<<'|'>>') sum)*
 *   sum     := product (('+'|'-') product)*
 *   product := unary (('*'|'/'|'%') unary)*
 *   unary   := '-' unary | '+' unary | primary
 *   primary := NUMBER | BUILTIN | ERRNO-NAME | VARIABLE | ARRAY '[' expr ']'
 *            | 'aligned' '(' expr ',' expr ')' | '(' expr ')'
 *
 * An operation whose operands are numbers written out is folded at parse
 * time, so "-16" is one number and a constant division by zero is a parse
 * error; the rest runs in expr_eval on a stack no deeper than a line has
 * tokens.
 */
#include "expr.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../../vm/panic.h"
#include "commands.h"
#include "script_internal.h"

/* ---- tokens ---------------------------------------------------------- */

int parser_error(struct parser *p, const char *fmt, ...)
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

/* Operators of one or two characters, longest first. */
static const struct {
	const char *s;
	int kind, cmp;
} punct[] = {
    {"<<", T_SHL, 0},      {">>", T_SHR, 0},      {"==", T_CMP, CMP_EQ}, {"!=", T_CMP, CMP_NE},
    {"<=", T_CMP, CMP_LE}, {">=", T_CMP, CMP_GE}, {"<", T_CMP, CMP_LT},  {">", T_CMP, CMP_GT},
    {"+", T_PLUS, 0},      {"-", T_MINUS, 0},     {"*", T_STAR, 0},      {"/", T_SLASH, 0},
    {"%", T_PERCENT, 0},   {"&", T_AMP, 0},       {"^", T_CARET, 0},     {"|", T_PIPE, 0},
    {"(", T_LPAREN, 0},    {")", T_RPAREN, 0},    {"[", T_LBRACKET, 0},  {"]", T_RBRACKET, 0},
    {",", T_COMMA, 0},     {"=", T_ASSIGN, 0},
};

static const struct keyword *kw_find(const struct parser *p, const char *s, size_t len);

int lex_line(struct parser *p, const char *s)
{
	bool space = true;

	p->nt = 0;
	p->pos = 0;
	p->nest = 0;
	for (;;) {
		struct tok *t = &p->t[p->nt];
		size_t i;

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
		if (p->nt == SCRIPT_MAX_TOKS)
			return parser_error(p, "line too long (more than %d tokens)",
			                    SCRIPT_MAX_TOKS);
		if (ident_start((unsigned char)*s)) {
			/* a '.' joins words only inside a name (vm.overcommit_memory) */
			while (ident_char((unsigned char)*s) ||
			       (*s == '.' && ident_start((unsigned char)s[1])))
				s++;
			t->kind = T_IDENT;
			t->kw = kw_find(p, t->s, (size_t)(s - t->s));
			/* Every message may quote a name whole: it is short. */
			if (s - t->s > SCRIPT_MAX_NAME)
				return parser_error(p, "name '%.32s...' longer than %d characters",
				                    t->s, SCRIPT_MAX_NAME);
		} else if (isdigit((unsigned char)*s)) {
			char buf[64];

			while (ident_char((unsigned char)*s))
				s++;
			t->kind = T_NUM;
			if ((size_t)(s - t->s) >= sizeof(buf))
				return parser_error(p, "bad number '%.32s...'", t->s);
			memcpy(buf, t->s, (size_t)(s - t->s));
			buf[s - t->s] = 0;
			if (parse_size(buf, &t->num) < 0)
				return parser_error(
				    p, "bad number '%s' (decimal, 0x hex, K/M/G suffix)", buf);
		} else if (*s == '"') {
			s++;
			while (*s && *s != '"') {
				if (*s == '\\' && s[1])
					s++;
				s++;
			}
			if (*s != '"')
				return parser_error(p, "unterminated string (no closing '\"')");
			s++;
			t->kind = T_STRING;
		} else {
			for (i = 0; i < sizeof(punct) / sizeof(punct[0]); i++)
				if (punct[i].s[0] == s[0] && (!punct[i].s[1] || punct[i].s[1] == s[1]))
					break;
			if (i == sizeof(punct) / sizeof(punct[0])) {
				/* Not printable (a control byte, UTF-8): its code, not raw bytes.
				 */
				if (!isprint((unsigned char)*s))
					return parser_error(p, "unexpected byte 0x%02x",
					                    (unsigned char)*s);
				return parser_error(p, "unexpected character '%c'", *s);
			}
			t->kind = punct[i].kind;
			t->cmp = punct[i].cmp;
			s += strlen(punct[i].s);
		}
		t->len = (size_t)(s - t->s);
		p->nt++;
	}
}

bool tok_is(const struct tok *t, const char *word)
{
	/* Without strlen(word): the parser asks this of every name against
	   every keyword, and the first character rejects nearly all of them. */
	return t->kind == T_IDENT && word[0] == t->s[0] && strncmp(word, t->s, t->len) == 0 &&
	       word[t->len] == 0;
}

const char *tok_desc(const struct tok *t, char *buf, size_t n)
{
	if (t->kind == T_END)
		return "end of line";
	if (t->len > 40)
		snprintf(buf, n, "'%.32s...'", t->s); /* a long string */
	else
		snprintf(buf, n, "'%.*s'", (int)t->len, t->s);
	return buf;
}

/* ---- names ----------------------------------------------------------- */

static const struct {
	const char *name;
	int value;
} errno_names[] = {
    {"EPERM", 1},   {"ENOENT", 2}, {"ESRCH", 3},   {"ECHILD", 10}, {"EAGAIN", 11},
    {"ENOMEM", 12}, {"EACCES", 13}, {"EFAULT", 14}, {"EBUSY", 16},  {"EINVAL", 22},
    {"EDEADLK", 35},
};

static int builtin_lookup(const struct tok *t)
{
	return t->kw ? t->kw->builtin : -1;
}

bool expr_reserved(const struct tok *t)
{
	return t->kw && (t->kw->builtin >= 0 || t->kw->err >= 0 || t->kw->func);
}

/* ---- reserved words -------------------------------------------------- */

static int kw_cmp(const char *a, size_t la, const char *b, size_t lb)
{
	int c = memcmp(a, b, la < lb ? la : lb);

	return c ? c : (la > lb) - (la < lb);
}

static int kw_sort(const void *a, const void *b)
{
	const struct keyword *x = a, *y = b;

	return kw_cmp(x->name, x->len, y->name, y->len);
}

/* The entry of name, added (with no role yet) if it is not there. */
static struct keyword *kw_entry(struct parser *p, const char *name)
{
	for (int i = 0; i < p->nkw; i++)
		if (strcmp(p->kw[i].name, name) == 0)
			return &p->kw[i];
	if (p->nkw == PARSER_MAX_KEYWORDS) /* a table of this file too small */
		panic("parser_keywords: more than %d reserved words", PARSER_MAX_KEYWORDS);
	p->kw[p->nkw] = (struct keyword){name, strlen(name), -1, -1, -1, false};
	return &p->kw[p->nkw++];
}

void parser_keywords(struct parser *p)
{
	p->nkw = 0;
	for (int i = 0; i < ST__COUNT; i++)
		if (script_stmt_is_keyword(i))
			kw_entry(p, script_stmt_defs[i].name)->stmt = i;
	for (int i = 0; i < BI__COUNT; i++)
		kw_entry(p, script_builtin_names[i])->builtin = i;
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		kw_entry(p, errno_names[i].name)->err = errno_names[i].value;
	kw_entry(p, "aligned")->func = true;
	kw_entry(p, "policy"); /* reserved: a directive's name */
	qsort(p->kw, (size_t)p->nkw, sizeof(p->kw[0]), kw_sort);
}

/* The reserved word s[0 .. len) spells, or NULL: a binary search of p->kw. */
static const struct keyword *kw_find(const struct parser *p, const char *s, size_t len)
{
	int lo = 0, hi = p->nkw;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		int c = kw_cmp(s, len, p->kw[mid].name, p->kw[mid].len);

		if (c == 0)
			return &p->kw[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- the parser ------------------------------------------------------ */

static int emit(struct parser *p, uint32_t op, uint64_t val)
{
	struct script *sc = p->sc;

	if (sc->nr_terms == sc->cap_terms) {
		size_t cap = sc->cap_terms ? 2 * sc->cap_terms : 64;
		struct term *nt = realloc(sc->terms, cap * sizeof(*nt));

		if (!nt)
			return parser_error(p, "out of memory");
		sc->terms = nt;
		sc->cap_terms = cap;
	}
	sc->terms[sc->nr_terms++] = (struct term){op, val};
	return 0;
}

static struct tok *cur(struct parser *p)
{
	return &p->t[p->pos];
}

static int expect_tok(struct parser *p, int kind, const char *what)
{
	char buf[80];

	if (cur(p)->kind != kind)
		return parser_error(p, "expected %s, got %s", what,
		                    tok_desc(cur(p), buf, sizeof(buf)));
	p->pos++;
	return 0;
}

static int parse_binary(struct parser *p, int level);

/* An expression inside ( ), [ ] or a call's arguments: every sign joins. */
static int parse_nested(struct parser *p)
{
	int rc;

	p->nest++;
	rc = parse_binary(p, 0);
	p->nest--;
	return rc;
}

/* Fold an operation on numbers written out; 0, or -1 for a constant error. */
static int fold_binary(struct parser *p, size_t left)
{
	struct script *sc = p->sc;
	struct term *t = &sc->terms[left];
	int64_t r;
	char msg[80];

	if (sc->nr_terms != left + 3 || t[0].op != OP_NUM || t[1].op != OP_NUM)
		return 0;
	{
		struct expr e = {(uint32_t)left, 3, NULL};

		if (expr_eval(sc, &e, NULL, &r, msg, sizeof(msg)) < 0)
			return parser_error(p, "%s", msg);
	}
	t[0].val = (uint64_t)r;
	sc->nr_terms = left + 1;
	return 0;
}

static int parse_primary(struct parser *p)
{
	struct script *sc = p->sc;
	struct tok *t = cur(p);
	char buf[80];
	int i;

	if (t->kind == T_NUM) {
		p->pos++;
		return emit(p, OP_NUM, t->num);
	}
	if (t->kind == T_LPAREN) {
		p->pos++;
		if (parse_nested(p) < 0)
			return -1;
		return expect_tok(p, T_RPAREN, "')'");
	}
	if (t->kind != T_IDENT)
		return parser_error(p, "expected a number or a variable, got %s",
		                    tok_desc(t, buf, sizeof(buf)));
	p->pos++;
	if (tok_is(t, "aligned")) {
		size_t left = sc->nr_terms;

		if (cur(p)->kind != T_LPAREN)
			return parser_error(p, "'aligned' is a function: aligned(X, N)");
		p->pos++;
		if (parse_nested(p) < 0 || expect_tok(p, T_COMMA, "',' in aligned(X, N)") < 0 ||
		    parse_nested(p) < 0 || expect_tok(p, T_RPAREN, "')' after aligned(X, N)") < 0 ||
		    emit(p, OP_ALIGNED, 0) < 0)
			return -1;
		return fold_binary(p, left);
	}
	i = builtin_lookup(t);
	if (i >= 0)
		return emit(p, OP_BUILTIN, (uint64_t)i);
	i = t->kw ? t->kw->err : -1;
	if (i >= 0)
		return emit(p, OP_NUM, (uint64_t)i);
	i = script_var_lookup(sc, t->s, t->len);
	if (i >= 0 && sc->var_array[i]) {
		if (cur(p)->kind != T_LBRACKET)
			return parser_error(p, "'%.*s' is an array: write %.*s[INDEX]", (int)t->len,
			                    t->s, (int)t->len, t->s);
		p->pos++;
		if (parse_nested(p) < 0 || expect_tok(p, T_RBRACKET, "']'") < 0)
			return -1;
		return emit(p, OP_ELEM, (uint64_t)i);
	}
	if (i >= 0) {
		if (cur(p)->kind == T_LBRACKET)
			return parser_error(p, "'%.*s' is not an array", (int)t->len, t->s);
		return emit(p, OP_VAR, (uint64_t)i);
	}
	if (script_stmt_lookup_tok(t) >= 0)
		return parser_error(
		    p, "'%.*s' is a statement, not a value (keep its result with NAME = %.*s ...)",
		    (int)t->len, t->s, (int)t->len, t->s);
	if (cur(p)->kind == T_LBRACKET)
		return parser_error(p, "undefined array '%.*s'", (int)t->len, t->s);
	return parser_error(p, "undefined variable '%.*s'", (int)t->len, t->s);
}

static int parse_unary(struct parser *p)
{
	struct script *sc = p->sc;
	struct tok *t = cur(p);
	size_t start;

	if (t->kind == T_PLUS) {
		p->pos++;
		return parse_unary(p);
	}
	if (t->kind != T_MINUS)
		return parse_primary(p);
	p->pos++;
	start = sc->nr_terms;
	if (parse_unary(p) < 0)
		return -1;
	if (sc->nr_terms == start + 1 && sc->terms[start].op == OP_NUM) {
		sc->terms[start].val = -sc->terms[start].val;
		return 0;
	}
	return emit(p, OP_NEG, 0);
}

#define NR_LEVELS 6

/* The operator t is at precedence level, or -1. */
static int binop(const struct tok *t, int level)
{
	switch (level) {
	case 0:
		return t->kind == T_PIPE ? OP_OR : -1;
	case 1:
		return t->kind == T_CARET ? OP_XOR : -1;
	case 2:
		return t->kind == T_AMP ? OP_AND : -1;
	case 3:
		return t->kind == T_SHL ? OP_SHL : t->kind == T_SHR ? OP_SHR : -1;
	case 4:
		return t->kind == T_PLUS ? OP_ADD : t->kind == T_MINUS ? OP_SUB : -1;
	default:
		return t->kind == T_STAR      ? OP_MUL
		       : t->kind == T_SLASH   ? OP_DIV
		       : t->kind == T_PERCENT ? OP_MOD
		                              : -1;
	}
}

static int parse_binary(struct parser *p, int level)
{
	size_t left = p->sc->nr_terms;

	if (level == NR_LEVELS)
		return parse_unary(p);
	if (parse_binary(p, level + 1) < 0)
		return -1;
	for (;;) {
		struct tok *t = cur(p);
		int op = binop(t, level);

		if (op < 0)
			break;
		/* "store p -16 1": a spaced sign glued to what follows starts
		   the next argument. */
		if (level == 4 && !p->join_all && !p->nest && t->space_before &&
		    !p->t[p->pos + 1].space_before && p->t[p->pos + 1].kind != T_END)
			break;
		p->pos++;
		if (parse_binary(p, level + 1) < 0 || emit(p, (uint32_t)op, 0) < 0)
			return -1;
		if (fold_binary(p, left) < 0)
			return -1;
	}
	return 0;
}

int parse_expr(struct parser *p, struct expr *e, bool join_all)
{
	struct tok *first = cur(p);
	const struct tok *last;

	e->first = (uint32_t)p->sc->nr_terms;
	e->n = 0;
	e->text = NULL;
	p->join_all = join_all;
	p->nest = 0;
	if (parse_binary(p, 0) < 0)
		return -1;
	e->n = (uint32_t)(p->sc->nr_terms - e->first);
	last = &p->t[p->pos - 1];
	e->text = script_strndup(p->sc, first->s, (size_t)(last->s + last->len - first->s));
	if (!e->text)
		return parser_error(p, "out of memory");
	return 0;
}

bool expr_const(const struct script *sc, const struct expr *e, uint64_t *v)
{
	if (e->n != 1 || sc->terms[e->first].op != OP_NUM)
		return false;
	*v = sc->terms[e->first].val;
	return true;
}

/* ---- evaluation ------------------------------------------------------ */

int expr_eval(const struct script *sc, const struct expr *e, const struct expr_env *env,
              int64_t *out, char *msg, size_t n)
{
	int64_t st[SCRIPT_MAX_TOKS + 1];
	unsigned sp = 0;

	for (uint32_t i = 0; i < e->n; i++) {
		const struct term *t = &sc->terms[e->first + i];
		uint64_t a, b;

		switch (t->op) {
		case OP_NUM:
			st[sp++] = (int64_t)t->val;
			continue;
		case OP_VAR:
			if (env->var(env->ctx, (int)t->val, &st[sp], msg, n) < 0)
				return -1;
			sp++;
			continue;
		case OP_BUILTIN:
			st[sp++] = env->builtin(env->ctx, (int)t->val);
			continue;
		case OP_ELEM:
			if (env->elem(env->ctx, (int)t->val, st[sp - 1], &st[sp - 1], msg, n) < 0)
				return -1;
			continue;
		case OP_NEG:
			st[sp - 1] = (int64_t) - (uint64_t)st[sp - 1];
			continue;
		default:
			break;
		}
		b = (uint64_t)st[--sp];
		a = (uint64_t)st[sp - 1];
		switch (t->op) {
		case OP_MUL:
			a *= b;
			break;
		case OP_DIV:
		case OP_MOD:
			if (b == 0) {
				snprintf(msg, n, "division by zero");
				return -1;
			}
			if ((int64_t)b == -1) /* INT64_MIN / -1 wraps, as the rest does */
				a = t->op == OP_DIV ? -a : 0;
			else
				a = (uint64_t)(t->op == OP_DIV ? (int64_t)a / (int64_t)b
				                               : (int64_t)a % (int64_t)b);
			break;
		case OP_ADD:
			a += b;
			break;
		case OP_SUB:
			a -= b;
			break;
		case OP_SHL:
			a = b >= 64 ? 0 : a << b;
			break;
		case OP_SHR:
			a = b >= 64 ? 0 : a >> b;
			break;
		case OP_AND:
			a &= b;
			break;
		case OP_XOR:
			a ^= b;
			break;
		case OP_OR:
			a |= b;
			break;
		case OP_ALIGNED:
			if (b == 0) {
				snprintf(msg, n, "aligned(X, N) with N = 0");
				return -1;
			}
			a = a % b == 0;
			break;
		default:
			snprintf(msg, n, "bad expression code %u", t->op);
			return -1;
		}
		st[sp - 1] = (int64_t)a;
	}
	*out = st[0];
	return 0;
}

/* ---- dump and check -------------------------------------------------- */

static const char *const op_names[OP__COUNT] = {
    [OP_NEG] = "neg", [OP_MUL] = "*", [OP_DIV] = "/",  [OP_MOD] = "%",
    [OP_ADD] = "+",   [OP_SUB] = "-", [OP_SHL] = "<<", [OP_SHR] = ">>",
    [OP_AND] = "&",   [OP_XOR] = "^", [OP_OR] = "|",   [OP_ALIGNED] = "aligned",
};

void expr_dump(const struct script *sc, const struct expr *e, FILE *out)
{
	for (uint32_t k = 0; k < e->n; k++) {
		const struct term *t = &sc->terms[e->first + k];

		if (k)
			fputc(' ', out);
		switch (t->op) {
		case OP_NUM:
			fprintf(out, "%lld", (long long)t->val);
			break;
		case OP_VAR:
			fprintf(out, "$%s", sc->var_names[t->val]);
			break;
		case OP_ELEM:
			fprintf(out, "$%s[]", sc->var_names[t->val]);
			break;
		case OP_BUILTIN:
			fprintf(out, "@%s", script_builtin_names[t->val]);
			break;
		default:
			fputs(t->op < OP__COUNT ? op_names[t->op] : "?", out);
			break;
		}
	}
}

int expr_check(const struct script *sc, const struct expr *e, char *msg, size_t n)
{
	int bad = 0;
	long depth = 0;

#define BAD(...)                                                                                   \
	do {                                                                                       \
		if (!bad++)                                                                        \
			snprintf(msg, n, __VA_ARGS__);                                             \
	} while (0)
	if (!e->n || e->first + e->n > sc->nr_terms) {
		BAD("code out of range");
		return bad;
	}
	for (uint32_t k = 0; k < e->n; k++) {
		const struct term *t = &sc->terms[e->first + k];

		switch (t->op) {
		case OP_NUM:
			depth++;
			break;
		case OP_VAR:
		case OP_ELEM:
			if (t->val >= (uint64_t)sc->nr_vars)
				BAD("variable index out of range");
			else if (sc->var_array[t->val] != (t->op == OP_ELEM))
				BAD("'%s' read as the wrong kind", sc->var_names[t->val]);
			depth += t->op == OP_VAR;
			if (t->op == OP_ELEM && depth < 1)
				BAD("stack underflow");
			break;
		case OP_BUILTIN:
			if (t->val >= BI__COUNT)
				BAD("built-in out of range");
			depth++;
			break;
		case OP_NEG:
			if (depth < 1)
				BAD("stack underflow");
			break;
		default:
			if (t->op >= OP__COUNT)
				BAD("bad op %u", t->op);
			if (depth < 2)
				BAD("stack underflow");
			depth--;
			break;
		}
		if (depth > SCRIPT_MAX_TOKS)
			BAD("stack deeper than %d", SCRIPT_MAX_TOKS);
	}
	if (depth != 1)
		BAD("the code leaves %ld values", depth);
#undef BAD
	return bad;
}
