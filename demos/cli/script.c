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
 * (precedence, arrays, built-ins) are demos/cli/expr.c's, a line's
 * statement script_stmt.c's, the language's words script_names.c's; this
 * file reads the text (bytes, size), cuts it into lines and comments, and
 * checks and frees the result.
 */
#include "script_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernel_sim/sysctl.h"
#include "../../kernel_sim/task.h"
#include "commands.h"
#include "expr.h"

/* ---- the script ------------------------------------------------------ */

#define CHUNK_BYTES (64u << 10)

struct script_chunk {
	struct script_chunk *next;
	size_t used, cap;
	char data[];
};

char *script_strndup(struct script *sc, const char *s, size_t n)
{
	struct script_chunk *c = sc->chunks;
	char *d;

	if (!c || c->cap - c->used < n + 1) {
		size_t cap = n + 1 > CHUNK_BYTES ? n + 1 : CHUNK_BYTES;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		*c = (struct script_chunk){sc->chunks, 0, cap};
		sc->chunks = c;
	}
	d = c->data + c->used;
	memcpy(d, s, n);
	d[n] = 0;
	c->used += n + 1;
	return d;
}

/* Split text into lines (LF or CRLF), copies in the script's chunks. */
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
		sc->lines[sc->nr_lines] = script_strndup(sc, s, len);
		if (!sc->lines[sc->nr_lines])
			return -1;
		sc->nr_lines++;
		s = next;
	}
	return 0;
}

size_t script_code_length(const char *line)
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

size_t script_stmt_at(const struct script *sc, int line)
{
	size_t lo = 0, hi = sc->nr_stmts;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sc->stmts[mid].line < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
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
	parser_keywords(p);
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
		char *code = strndup(line, script_code_length(line));
		int rc;

		p->line = i + 1;
		if (!code) {
			parser_error(p, "out of memory");
			goto fail;
		}
		rc = script_parse_line(p, code);
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
				char *name =
				    display_name(strcmp(path, "-") == 0 ? SCRIPT_STDIN_NAME : path);

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
		script_stmt_release(&sc->stmts[i]);
	free(sc->stmts);
	free(sc->lines);
	while (sc->chunks) {
		struct script_chunk *next = sc->chunks->next;

		free(sc->chunks);
		sc->chunks = next;
	}
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
			const struct stmt *q =
			    st->peer < sc->nr_stmts ? &sc->stmts[st->peer] : NULL;

			if (!q || q->peer != i || (st->op == ST_END) == (q->op == ST_END) ||
			    (st->op == ST_END ? st->peer > i : st->peer < i) ||
			    q->depth != st->depth)
				BAD("statement %zu: block not paired\n", i);
			if (st->op != ST_END && (st->block < 0 || st->block >= sc->nr_blocks))
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
