/*
 * expr.h - the expressions of scenario scripts: the tokens of a line, the
 * parser that compiles an expression to postfix code (struct term, in
 * script.h), and the evaluator that runs that code (docs/reference.md,
 * "Values and expressions").
 *
 * Precedence, lowest first, as in C: `|`, `^`, `&`, `<< >>`, `+ -`,
 * `* / %`, then unary minus, then a primary: a number, a variable, an array
 * element NAME[EXPR], a built-in, an errno name, a function call
 * aligned(X, N), or (EXPR). Arithmetic is on 64-bit integers and wraps.
 *
 * Where a statement takes several arguments ("store p -16 1 1"), a `+` or
 * `-` with a blank before it and none after it, outside parentheses and
 * brackets, starts the next argument; everywhere else it is an operator.
 */
#ifndef DEMOS_EXPR_H
#define DEMOS_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "script.h"

enum tok_kind {
	T_END,
	T_IDENT,
	T_NUM,
	T_STRING, /* "text": s/len are the quoted text, escapes unresolved */
	T_PLUS,
	T_MINUS,
	T_STAR,
	T_SLASH,
	T_PERCENT,
	T_SHL,
	T_SHR,
	T_AMP,
	T_CARET,
	T_PIPE,
	T_LPAREN,
	T_RPAREN,
	T_LBRACKET,
	T_RBRACKET,
	T_COMMA,
	T_ASSIGN,
	T_CMP,
};

/* A word the language reserves: a statement's keyword, a built-in, an
   errno name, `aligned`, `policy` (one entry a spelling, with every role it
   has; `policy`, the directive, has none of these). The parser sorts them once a script (parser_keywords), and the lexer
   gives each name its entry: one binary search a name instead of a scan of
   every table each time a name is looked at. */
struct keyword {
	const char *name;
	size_t len;
	int stmt;    /* enum stmt_op, or -1 */
	int builtin; /* enum builtin, or -1 */
	int err;     /* the errno value, or -1 */
	bool func;   /* aligned(X, N) */
};

#define PARSER_MAX_KEYWORDS 192

struct tok {
	int kind;      /* enum tok_kind */
	const struct keyword *kw; /* T_IDENT: the reserved word it spells, or NULL */
	const char *s; /* into the line */
	size_t len;
	bool space_before;
	uint64_t num; /* T_NUM */
	int cmp;      /* T_CMP: enum cmp_op */
};

#define SCRIPT_MAX_TOKS 128
/* A name (variable, statement, built-in) is at most this long. */
#define SCRIPT_MAX_NAME 128

/* The state of parsing one line of one script (shared by script.c and
   script_stmt.c). */
struct parser {
	struct script *sc;
	const char *path;
	int line;
	FILE *err;
	struct tok t[SCRIPT_MAX_TOKS + 1];
	int nt, pos;
	int nest;      /* parentheses and brackets open (every sign joins inside) */
	bool join_all; /* the expression being parsed is a statement's only argument */
	/* Blocks open at the end of the line (script_stmt.c): their openers' indices. */
	size_t open[SCRIPT_MAX_DEPTH];
	int depth;
	struct keyword kw[PARSER_MAX_KEYWORDS]; /* sorted by name (parser_keywords) */
	int nkw;
};

/* Fill p->kw with every reserved word (once, before the first lex_line). */
void parser_keywords(struct parser *p);

/* "PATH:LINE: message" on p->err; returns -1. */
int parser_error(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Split one line (comment already cut) into p->t; 0, or -1 after a message. */
int lex_line(struct parser *p, const char *s);

/* Does token t spell word? */
bool tok_is(const struct tok *t, const char *word);
/* How a token reads in a message ("'x'", "end of line"). */
const char *tok_desc(const struct tok *t, char *buf, size_t n);

/*
 * Compile the expression at p->t[p->pos] into e (code appended to
 * p->sc->terms, text copied). join_all: every sign is an operator (a
 * statement of one argument); else a spaced sign starts the next argument.
 * 0, or -1 after a message.
 */
int parse_expr(struct parser *p, struct expr *e, bool join_all);

/* Is the identifier t reserved by expressions (built-in, errno name, function)? */
bool expr_reserved(const struct tok *t);

/* Whether e is one number, and which (checks that can be made before a run). */
bool expr_const(const struct script *sc, const struct expr *e, uint64_t *v);

/*
 * What evaluation reads: variables, array elements and built-ins, from a
 * session (demos/cli/session_vars.c) or a test. Each lookup returns 0 and the
 * value, or -1 after writing why into msg (an unset variable, an index out
 * of range).
 */
struct expr_env {
	void *ctx;
	int (*var)(void *ctx, int idx, int64_t *v, char *msg, size_t n);
	int (*elem)(void *ctx, int idx, int64_t index, int64_t *v, char *msg, size_t n);
	int64_t (*builtin)(void *ctx, int bi);
};

/*
 * Run e's code. 0 and *out, or -1 with the reason in msg ("division by
 * zero", what a lookup said).
 */
int expr_eval(const struct script *sc, const struct expr *e, const struct expr_env *env,
              int64_t *out, char *msg, size_t n);

/* e's code in postfix, for script_dump: "$x 1 - @rss +". */
void expr_dump(const struct script *sc, const struct expr *e, FILE *out);

/* Internal consistency of e's code (indices in range, a stack that ends with
   one value). Returns #broken; the first is described into msg. */
int expr_check(const struct script *sc, const struct expr *e, char *msg, size_t n);

#endif
