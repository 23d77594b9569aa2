/*
 * trace.c - reader of CS:APP malloc-lab traces (.rep).
 *
 * The format is the one of the CS:APP malloc lab driver (mdriver.c,
 * read_trace): four header integers, then `a ID BYTES`, `r ID BYTES`,
 * `f ID`, one a line; and the project's `c ID NMEMB SIZE` and
 * `m ID ALIGN SIZE`. The quirks of public traces and what this reader
 * accepts or rejects are listed in trace.h. The whole file is read into
 * memory and split into lines there, so no line can overflow a buffer.
 *
 * Host C library only: tests/host/glibc_replay.c links this file alone.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "trace.h"

struct parser {
	const char *name;
	FILE *err;
	uint32_t line;
	struct trace *t;
	size_t cap;      /* capacity of t->ops */
	uint64_t max_id; /* largest id seen + 1 */
};

static int perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->err)
		return -1;
	fprintf(p->err, "%s:%u: ", p->name, p->line);
	va_start(ap, fmt);
	vfprintf(p->err, fmt, ap);
	va_end(ap);
	fputc('\n', p->err);
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Cut the next white-space separated token of [*s, e). false at the end. */
static bool next_token(const char **s, const char *e, const char **tok, size_t *len)
{
	const char *q = *s;

	while (q < e && is_space(*q))
		q++;
	if (q == e) {
		*s = q;
		return false;
	}
	*tok = q;
	while (q < e && !is_space(*q))
		q++;
	*len = (size_t)(q - *tok);
	*s = q;
	return true;
}

enum num_status { NUM_OK, NUM_NEG, NUM_OVERFLOW, NUM_BAD };

/* Parse a decimal integer token, optionally with a leading '-': its magnitude
   in *v and whether it was negative in *neg. */
static enum num_status parse_num(const char *tok, size_t len, uint64_t *v, bool *neg)
{
	size_t i = 0;
	uint64_t x = 0;
	bool overflow = false;

	*neg = false;
	if (len > 0 && tok[0] == '-') {
		*neg = true;
		i = 1;
	}
	if (i == len)
		return NUM_BAD;
	for (; i < len; i++) {
		unsigned d;

		if (tok[i] < '0' || tok[i] > '9')
			return NUM_BAD;
		d = (unsigned)(tok[i] - '0');
		/* 18446744073709551615 = UINT64_MAX: x*10+d overflows exactly when
		   x > (UINT64_MAX - d) / 10. */
		if (x > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			x = x * 10 + d;
	}
	*v = x;
	if (overflow)
		return NUM_OVERFLOW;
	return *neg && x != 0 ? NUM_NEG : NUM_OK;
}

static int push_op(struct parser *p, char kind, int32_t id, uint64_t size, uint64_t arg)
{
	struct trace *t = p->t;

	if (t->nr_ops == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 256;
		struct trace_op *n = realloc(t->ops, ncap * sizeof(*n));

		if (!n)
			return perr(p, "out of memory");
		t->ops = n;
		p->cap = ncap;
	}
	t->ops[t->nr_ops++] =
	    (struct trace_op){.kind = kind, .id = id, .size = size, .arg = arg, .line = p->line};
	return 0;
}

/* Field `what` (an id) of the current op. -1 is allowed when allow_null. */
static int parse_id(struct parser *p, const char *tok, size_t len, bool allow_null, int32_t *id)
{
	uint64_t v;
	bool neg;
	enum num_status st = parse_num(tok, len, &v, &neg);

	if (st == NUM_BAD)
		return perr(p, "bad id '%.*s'", (int)(len > 32 ? 32 : len), tok);
	if (st == NUM_NEG && allow_null && v == 1) {
		*id = -1;
		return 0;
	}
	if (st == NUM_NEG)
		return perr(p, "negative id '%.*s'", (int)(len > 32 ? 32 : len), tok);
	if (st == NUM_OVERFLOW || v >= TRACE_MAX_IDS)
		return perr(p, "id '%.*s' too large (limit %u)", (int)(len > 32 ? 32 : len), tok,
		            TRACE_MAX_IDS - 1);
	*id = (int32_t)v;
	if (v + 1 > p->max_id)
		p->max_id = v + 1;
	return 0;
}

static int parse_size_field(struct parser *p, const char *tok, size_t len, uint64_t *size)
{
	bool neg;

	switch (parse_num(tok, len, size, &neg)) {
	case NUM_OK:
		return 0;
	case NUM_NEG:
		return perr(p, "negative size '%.*s'", (int)(len > 32 ? 32 : len), tok);
	case NUM_OVERFLOW:
		return perr(p, "size '%.*s' overflows 64 bits", (int)(len > 32 ? 32 : len), tok);
	default:
		return perr(p, "bad size '%.*s'", (int)(len > 32 ? 32 : len), tok);
	}
}

/* One operation line [s, e) with at least one token. */
static int parse_op(struct parser *p, const char *s, const char *e)
{
	const char *tok;
	size_t len;
	char kind;
	int32_t id = 0;
	uint64_t size = 0, arg = 0;

	next_token(&s, e, &tok, &len);
	if (len != 1 || !strchr("arfcm", tok[0]))
		return perr(p, "unknown operation '%.*s'", (int)(len > 32 ? 32 : len), tok);
	kind = tok[0];
	if (!next_token(&s, e, &tok, &len))
		return perr(p, "missing id");
	if (parse_id(p, tok, len, kind == TOP_FREE, &id))
		return -1;
	if (kind == TOP_CALLOC || kind == TOP_MEMALIGN) {
		if (!next_token(&s, e, &tok, &len))
			return perr(p, "missing %s", kind == TOP_CALLOC ? "number of elements"
			                                                : "alignment");
		if (parse_size_field(p, tok, len, &arg))
			return -1;
		if (kind == TOP_MEMALIGN && (arg == 0 || (arg & (arg - 1))))
			return perr(p, "alignment %llu is not a power of two",
			            (unsigned long long)arg);
	}
	if (kind != TOP_FREE) {
		if (!next_token(&s, e, &tok, &len))
			return perr(p, "missing size");
		if (parse_size_field(p, tok, len, &size))
			return -1;
	}
	if (next_token(&s, e, &tok, &len))
		return perr(p, "junk after operation: '%.*s'", (int)(len > 32 ? 32 : len), tok);
	return push_op(p, kind, id, size, arg);
}

static const char *const header_names[4] = {"heap size", "number of ids", "number of ops",
                                            "weight"};

int trace_parse(const char *buf, size_t len, const char *name, struct trace **out, FILE *err)
{
	struct parser p = {.name = name, .err = err};
	const char *s = buf, *end = buf + len;
	uint64_t hdr[4];
	int nhdr = 0;

	*out = NULL;
	p.t = calloc(1, sizeof(*p.t));
	/* The name as messages and reports show it: no terminal control, valid
	   UTF-8 for JSON (demos/cli/commands.h). */
	if (!p.t || !(p.t->path = display_name(name))) {
		free(p.t);
		if (err)
			fprintf(err, "%s: out of memory\n", name);
		return -1;
	}
	p.name = p.t->path;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		const char *q = s, *tok;
		size_t tlen;

		p.line++;
		if (memchr(s, '\0', (size_t)(e - s))) {
			perr(&p, "NUL byte in line");
			goto fail;
		}
		if (nhdr < 4) {
			/* Header: integers until four are read, possibly several a line. */
			while (nhdr < 4 && next_token(&q, e, &tok, &tlen)) {
				bool neg;
				enum num_status st = parse_num(tok, tlen, &hdr[nhdr], &neg);

				if (st == NUM_BAD) {
					perr(&p, "missing header: expected 4 integers, found %d",
					     nhdr);
					goto fail;
				}
				if (st != NUM_OK) {
					perr(&p, "bad header field (%s) '%.*s'", header_names[nhdr],
					     (int)(tlen > 32 ? 32 : tlen), tok);
					goto fail;
				}
				if (nhdr == 1 && hdr[1] > TRACE_MAX_IDS) {
					perr(&p, "number of ids %llu too large (limit %u)",
					     (unsigned long long)hdr[1], TRACE_MAX_IDS);
					goto fail;
				}
				nhdr++;
			}
			if (next_token(&q, e, &tok, &tlen)) {
				perr(&p, "junk after header: '%.*s'", (int)(tlen > 32 ? 32 : tlen),
				     tok);
				goto fail;
			}
		} else if (next_token(&q, e, &tok, &tlen)) {
			if (parse_op(&p, s, e))
				goto fail;
		}
		s = nl ? nl + 1 : end;
	}
	if (nhdr < 4) {
		if (p.line == 0)
			p.line = 1;
		perr(&p, "missing header: expected 4 integers, found %d", nhdr);
		goto fail;
	}
	p.t->heap_hint = hdr[0];
	p.t->header_ids = (uint32_t)hdr[1];
	p.t->header_ops = hdr[2];
	p.t->weight = hdr[3];
	p.t->nr_ids = (uint32_t)(p.max_id > hdr[1] ? p.max_id : hdr[1]);
	*out = p.t;
	return 0;
fail:
	trace_free(p.t);
	return -1;
}

/* A message about the file, not one of its lines: "[aftermalloc CMD: ]NAME: why". */
static void file_error(FILE *err, const char *cmd, const char *name, const char *why)
{
	if (!err)
		return;
	if (cmd)
		fprintf(err, "aftermalloc %s: ", cmd);
	fprintf(err, "%s: %s\n", name, why);
}

static int read_stream(FILE *in, const char *cmd, const char *name, struct trace **out, FILE *err)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	int ret;

	*out = NULL;
	if (!buf)
		goto oom;
	for (;;) {
		size_t n = fread(buf + len, 1, cap - len, in);
		const char *nul = memchr(buf + len, 0, n);

		/* Stop at the first piece that cannot be a trace: no input (a
		   NUL byte of /dev/zero, text past TRACE_MAX_BYTES) is read on
		   without end. */
		if (nul || len + n > TRACE_MAX_BYTES) {
			const char *at = nul ? nul : buf + TRACE_MAX_BYTES;
			unsigned line = 1;
			char *shown = display_name(name);

			for (const char *c = buf; c < at; c++)
				line += *c == '\n';
			if (err)
				fprintf(err, "%s:%u: %s\n", shown ? shown : "?", line,
				        nul ? "not a text file (NUL byte)"
				            : "the trace is longer than 256 MiB");
			free(shown);
			free(buf);
			return -1;
		}
		len += n;
		if (len < cap) {
			if (ferror(in)) {
				file_error(err, cmd, name, strerror(errno));
				free(buf);
				return -1;
			}
			break;
		}
		char *nb = realloc(buf, cap * 2);

		if (!nb)
			goto oom;
		buf = nb;
		cap *= 2;
	}
	ret = trace_parse(buf, len, name, out, err);
	free(buf);
	return ret;
oom:
	free(buf);
	file_error(err, cmd, name, "out of memory");
	return -1;
}

int trace_read(FILE *in, const char *name, struct trace **out, FILE *err)
{
	return read_stream(in, NULL, name, out, err);
}

int trace_load_for(const char *cmd, const char *path, struct trace **out, FILE *err)
{
	FILE *f = fopen(path, "rb");
	int ret;

	*out = NULL;
	if (!f) {
		file_error(err, cmd, path, strerror(errno));
		return -1;
	}
	ret = read_stream(f, cmd, path, out, err);
	fclose(f);
	return ret;
}

int trace_load(const char *path, struct trace **out, FILE *err)
{
	return trace_load_for(NULL, path, out, err);
}

void trace_free(struct trace *t)
{
	if (!t)
		return;
	free(t->path);
	free(t->ops);
	free(t);
}

uint64_t trace_peak_payload(const struct trace *t)
{
	uint64_t *live = calloc(t->nr_ids ? t->nr_ids : 1, sizeof(*live));
	unsigned char *on = calloc(t->nr_ids ? t->nr_ids : 1, 1);
	unsigned __int128 cur = 0, peak = 0; /* 2^64-byte sizes may add up */

	if (!live || !on) {
		free(live);
		free(on);
		return 0;
	}
	for (size_t i = 0; i < t->nr_ops; i++) {
		const struct trace_op *op = &t->ops[i];

		if (op->id < 0)
			continue;
		switch (op->kind) {
		case TOP_ALLOC:
		case TOP_CALLOC:
		case TOP_MEMALIGN:
			if (on[op->id])
				cur -= live[op->id];
			live[op->id] = trace_op_bytes(op);
			on[op->id] = 1;
			cur += live[op->id];
			break;
		case TOP_REALLOC:
			if (on[op->id])
				cur -= live[op->id];
			on[op->id] = op->size != 0;
			live[op->id] = op->size;
			cur += op->size;
			break;
		case TOP_FREE:
			if (on[op->id])
				cur -= live[op->id];
			on[op->id] = 0;
			live[op->id] = 0;
			break;
		}
		if (cur > peak)
			peak = cur;
	}
	free(live);
	free(on);
	return peak > UINT64_MAX ? UINT64_MAX : (uint64_t)peak;
}

uint64_t trace_op_bytes(const struct trace_op *op)
{
	uint64_t n;

	if (op->kind != TOP_CALLOC)
		return op->size;
	return __builtin_mul_overflow(op->arg, op->size, &n) ? UINT64_MAX : n;
}

bool trace_extended(const struct trace *t)
{
	for (size_t i = 0; i < t->nr_ops; i++)
		if (t->ops[i].kind == TOP_CALLOC || t->ops[i].kind == TOP_MEMALIGN)
			return true;
	return false;
}

/* v's decimal digits at p; returns where they end. Their number counted
   first, then written from the last, two digits a division. */
static char *put_u64(char *p, uint64_t v)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
	                            "25262728293031323334353637383940414243444546474849"
	                            "50515253545556575859606162636465666768697071727374"
	                            "75767778798081828384858687888990919293949596979899";
	uint64_t bound = 10;
	unsigned n = 1;
	char *q;

	while (n < 20 && v >= bound) {
		n++;
		bound *= 10;
	}
	q = p + n;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		q -= 2;
		q[0] = pairs[2 * r];
		q[1] = pairs[2 * r + 1];
	}
	if (v >= 10) {
		q[-2] = pairs[2 * v];
		q[-1] = pairs[2 * v + 1];
	} else {
		q[-1] = (char)('0' + v);
	}
	return p + n;
}

/* By hand, not fprintf: a million-op trace is written in a tenth of the
   time (and each field straight into buf: record writes one line a call of
   the program it records). */
size_t trace_op_line(char *buf, const struct trace_op *op, bool plain)
{
	bool ext = op->kind == TOP_CALLOC || op->kind == TOP_MEMALIGN;
	char *p = buf;

	*p++ = ext && plain ? TOP_ALLOC : op->kind;
	*p++ = ' ';
	if (op->id < 0) {
		*p++ = '-';
		*p++ = '1';
	} else {
		p = put_u64(p, (uint64_t)op->id);
	}
	if (ext && plain) {
		*p++ = ' ';
		p = put_u64(p, trace_op_bytes(op));
	} else if (ext) {
		*p++ = ' ';
		p = put_u64(p, op->arg);
		*p++ = ' ';
		p = put_u64(p, op->size);
	} else if (op->kind != TOP_FREE) {
		*p++ = ' ';
		p = put_u64(p, op->size);
	}
	*p++ = '\n';
	return (size_t)(p - buf);
}

int trace_write(FILE *out, const struct trace *t, bool plain)
{
	char buf[1 << 16];
	size_t n = 0;

	fprintf(out, "%llu\n%u\n%zu\n%llu\n", (unsigned long long)t->heap_hint, t->nr_ids,
	        t->nr_ops, (unsigned long long)t->weight);
	for (size_t i = 0; i < t->nr_ops; i++) {
		if (n > sizeof(buf) - 96) {
			if (fwrite(buf, 1, n, out) != n)
				return -1;
			n = 0;
		}
		n += trace_op_line(buf + n, &t->ops[i], plain);
	}
	if (n && fwrite(buf, 1, n, out) != n)
		return -1;
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
