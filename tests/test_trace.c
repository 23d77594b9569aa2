/*
 * test_trace.c - the .rep reader (demos/cli/trace.c): every quirk of the public
 * traces, with LF and CRLF, and every malformed input with its message and
 * line.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../demos/cli/trace.h"
#include "tests/support_bin.h"

/* Replace each "\n" of lf by "\r\n". */
static char *to_crlf(const char *lf)
{
	size_t n = strlen(lf), k = 0;
	char *s = malloc(2 * n + 1);

	cr_assert_not_null(s);
	for (size_t i = 0; i < n; i++) {
		if (lf[i] == '\n')
			s[k++] = '\r';
		s[k++] = lf[i];
	}
	s[k] = '\0';
	return s;
}

/* Parse text (LF as given, then CRLF): both must agree. Returns the LF trace. */
static struct trace *parse_ok(const char *text)
{
	struct trace *a, *b;
	char *crlf = to_crlf(text);

	cr_assert_eq(trace_parse(text, strlen(text), "t.rep", &a, stderr), 0);
	cr_assert_eq(trace_parse(crlf, strlen(crlf), "t.rep", &b, stderr), 0);
	cr_assert_eq(a->nr_ops, b->nr_ops);
	cr_assert_eq(a->nr_ids, b->nr_ids);
	for (size_t i = 0; i < a->nr_ops; i++) {
		cr_assert_eq(a->ops[i].kind, b->ops[i].kind);
		cr_assert_eq(a->ops[i].id, b->ops[i].id);
		cr_assert_eq(a->ops[i].size, b->ops[i].size);
		cr_assert_eq(a->ops[i].line, b->ops[i].line);
	}
	trace_free(b);
	free(crlf);
	return a;
}

/* Parse text (LF, then CRLF); both must fail with exactly msg on stderr. */
static void parse_bad(const char *text, const char *msg)
{
	for (int crlf = 0; crlf < 2; crlf++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *err = open_memstream(&buf, &len);
		char *in = crlf ? to_crlf(text) : strdup(text);
		struct trace *t = (struct trace *)1;

		cr_assert_eq(trace_parse(in, strlen(in), "bad.rep", &t, err), -1, "accepted: %s",
		             text);
		cr_assert_null(t);
		fclose(err);
		cr_assert_str_eq(buf, msg, "input %s (%s)", text, crlf ? "CRLF" : "LF");
		free(buf);
		free(in);
	}
}

Test(trace, reads_header_and_the_three_operations)
{
	struct trace *t = parse_ok("20000\n3\n4\n1\na 0 2040\nr 0 100\na 2 16\nf 0\n");

	cr_assert_eq(t->heap_hint, 20000);
	cr_assert_eq(t->header_ids, 3);
	cr_assert_eq(t->nr_ids, 3);
	cr_assert_eq(t->header_ops, 4);
	cr_assert_eq(t->weight, 1);
	cr_assert_eq(t->nr_ops, 4);
	cr_assert_eq(t->ops[0].kind, 'a');
	cr_assert_eq(t->ops[0].id, 0);
	cr_assert_eq(t->ops[0].size, 2040);
	cr_assert_eq(t->ops[0].line, 5);
	cr_assert_eq(t->ops[1].kind, 'r');
	cr_assert_eq(t->ops[1].size, 100);
	cr_assert_eq(t->ops[2].id, 2);
	cr_assert_eq(t->ops[3].kind, 'f');
	cr_assert_eq(t->ops[3].size, 0);
	cr_assert_eq(t->ops[3].line, 8);
	cr_assert_eq(strcmp(t->path, "t.rep"), 0);
	trace_free(t);
}

Test(trace, free_minus_one_is_free_null)
{
	struct trace *t = parse_ok("0\n1\n2\n0\nf -1\na 0 1\n");

	cr_assert_eq(t->ops[0].kind, 'f');
	cr_assert_eq(t->ops[0].id, -1);
	cr_assert_eq(t->nr_ids, 1);
	trace_free(t);
}

Test(trace, ids_beyond_the_header_grow_the_id_space)
{
	struct trace *t = parse_ok("1\n2\n2\n0\na 0 8\na 41 8\n");

	cr_assert_eq(t->header_ids, 2);
	cr_assert_eq(t->nr_ids, 42);
	trace_free(t);
}

Test(trace, more_or_fewer_ops_than_the_header_says_are_all_kept)
{
	struct trace *t = parse_ok("1\n2\n1\n0\na 0 8\na 1 8\nf 0\n");

	cr_assert_eq(t->header_ops, 1);
	cr_assert_eq(t->nr_ops, 3);
	trace_free(t);
	t = parse_ok("1\n2\n100\n0\na 0 8\n");
	cr_assert_eq(t->nr_ops, 1);
	trace_free(t);
}

Test(trace, realloc_to_zero_and_on_a_fresh_id_are_read_as_written)
{
	struct trace *t = parse_ok("0\n11\n2\n0\nr 6 10\nr 10 0\n");

	cr_assert_eq(t->ops[0].kind, 'r');
	cr_assert_eq(t->ops[0].id, 6);
	cr_assert_eq(t->ops[1].size, 0);
	trace_free(t);
}

Test(trace, blank_lines_tabs_and_a_header_on_one_line_are_accepted)
{
	struct trace *t = parse_ok("\n1 2 2 0\n\n a\t0   8  \n\n\nf 0\n\n");

	cr_assert_eq(t->nr_ops, 2);
	cr_assert_eq(t->ops[0].line, 4);
	cr_assert_eq(t->ops[1].line, 7);
	trace_free(t);
}

Test(trace, last_line_without_newline_and_sizes_up_to_2_to_the_64)
{
	struct trace *t = parse_ok("1\n1\n1\n0\na 0 18446744073709551615");

	cr_assert_eq(t->ops[0].size, UINT64_MAX);
	trace_free(t);
}

Test(trace, empty_trace_with_a_header_is_fine)
{
	struct trace *t = parse_ok("0\n0\n0\n0\n");

	cr_assert_eq(t->nr_ops, 0);
	cr_assert_eq(t->nr_ids, 0);
	cr_assert_eq(trace_peak_payload(t), 0);
	trace_free(t);
}

Test(trace, malformed_lines_name_file_line_and_reason)
{
	parse_bad("", "bad.rep:1: missing header: expected 4 integers, found 0\n");
	parse_bad("1\n2\n3\n", "bad.rep:3: missing header: expected 4 integers, found 3\n");
	parse_bad("1\n2\na 0 5\n", "bad.rep:3: missing header: expected 4 integers, found 2\n");
	parse_bad("1\n-2\n3\n4\n", "bad.rep:2: bad header field (number of ids) '-2'\n");
	parse_bad("1\n2\n3\n4 5\n", "bad.rep:4: junk after header: '5'\n");
	parse_bad("1\n99999999999\n3\n4\n",
	          "bad.rep:2: number of ids 99999999999 too large (limit 16777216)\n");
	parse_bad("1\n2\n3\n4\nx 0 5\n", "bad.rep:5: unknown operation 'x'\n");
	parse_bad("1\n2\n3\n4\na 0 5\nalloc 0 5\n", "bad.rep:6: unknown operation 'alloc'\n");
	parse_bad("1\n2\n3\n4\na\n", "bad.rep:5: missing id\n");
	parse_bad("1\n2\n3\n4\na 0\n", "bad.rep:5: missing size\n");
	parse_bad("1\n2\n3\n4\nr 1\n", "bad.rep:5: missing size\n");
	parse_bad("1\n2\n3\n4\na 0 -5\n", "bad.rep:5: negative size '-5'\n");
	parse_bad("1\n2\n3\n4\na 0 18446744073709551616\n",
	          "bad.rep:5: size '18446744073709551616' overflows 64 bits\n");
	parse_bad("1\n2\n3\n4\na 0 12x\n", "bad.rep:5: bad size '12x'\n");
	parse_bad("1\n2\n3\n4\na 0 5 7\n", "bad.rep:5: junk after operation: '7'\n");
	parse_bad("1\n2\n3\n4\nf 0 5\n", "bad.rep:5: junk after operation: '5'\n");
	parse_bad("1\n2\n3\n4\nf x\n", "bad.rep:5: bad id 'x'\n");
	parse_bad("1\n2\n3\n4\nf -2\n", "bad.rep:5: negative id '-2'\n");
	parse_bad("1\n2\n3\n4\na -1 5\n", "bad.rep:5: negative id '-1'\n");
	parse_bad("1\n2\n3\n4\na 16777216 5\n",
	          "bad.rep:5: id '16777216' too large (limit 16777215)\n");
	parse_bad("1\n2\n3\n4\na 99999999999999999999999 5\n",
	          "bad.rep:5: id '99999999999999999999999' too large (limit 16777215)\n");
	parse_bad("1\n2\n3\n4\n-\n", "bad.rep:5: unknown operation '-'\n");
}

Test(trace, nul_byte_is_an_error_not_a_truncation)
{
	static const char in[] = "1\n2\n3\n4\na 0 5\0junk\n";
	char *buf = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&buf, &len);
	struct trace *t;

	cr_assert_eq(trace_parse(in, sizeof(in) - 1, "z.rep", &t, err), -1);
	fclose(err);
	cr_assert_str_eq(buf, "z.rep:5: NUL byte in line\n");
	free(buf);
}

Test(trace, very_long_lines_do_not_overflow_anything)
{
	size_t n = 1 << 20;
	char *in = malloc(n + 64);
	char *buf = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&buf, &len);
	struct trace *t;

	strcpy(in, "1\n2\n3\n4\na 0 ");
	size_t k = strlen(in);

	memset(in + k, '7', n);
	in[k + n] = '\0';
	cr_assert_eq(trace_parse(in, k + n, "long.rep", &t, err), -1);
	fclose(err);
	cr_assert_str_eq(buf,
	                 "long.rep:5: size '77777777777777777777777777777777' overflows 64 bits\n");
	free(buf);
	free(in);
}

Test(trace, missing_file_is_reported)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&buf, &len);
	struct trace *t;

	cr_assert_eq(trace_load("/nonexistent/x.rep", &t, err), -1);
	fclose(err);
	cr_assert_str_eq(buf, "/nonexistent/x.rep: No such file or directory\n");
	free(buf);
}

Test(trace, peak_payload_follows_replay_semantics)
{
	/* a 0 100 (100), r 0 300 (300), a 1 50 (350), r 0 0 (50), r 2 10 (60), f 1 (10) */
	struct trace *t = parse_ok("0\n3\n6\n0\na 0 100\nr 0 300\na 1 50\nr 0 0\nr 2 10\nf 1\n");

	cr_assert_eq(trace_peak_payload(t), 350);
	trace_free(t);
}

/* Every public trace loads; their known quirks are there. */
Test(trace, every_public_trace_loads)
{
	static const char *const dirs[] = {"malloclab", "cmu"};
	static const char *const some[] = {
	    "malloclab/amptjp-bal.rep",
	    "malloclab/short1-bal.rep",
	    "cmu/bash.rep",
	    "cmu/corners.rep",
	    "cmu/lrucd.rep",
	    "cmu/boat.rep",
	    "cmu/needle.rep",
	};
	char path[512];

	(void)dirs;
	for (size_t i = 0; i < sizeof(some) / sizeof(some[0]); i++) {
		struct trace *t;

		snprintf(path, sizeof(path), "%s", bin_trace_path(some[i]));
		cr_assert_eq(trace_load(path, &t, stderr), 0, "%s", path);
		if (strstr(some[i], "amptjp")) {
			cr_assert_eq(t->nr_ops, 5694);
			cr_assert_eq(t->nr_ids, 2847);
		}
		if (strstr(some[i], "lrucd")) { /* header says 200, the file has 201 */
			cr_assert_eq(t->header_ops, 200);
			cr_assert_eq(t->nr_ops, 201);
		}
		if (strstr(some[i], "corners")) { /* f -1 first, r on fresh ids, r 10 0 */
			cr_assert_eq(t->ops[0].id, -1);
			cr_assert_eq(t->ops[6].kind, 'r');
			cr_assert_eq(t->ops[14].size, 0);
		}
		if (strstr(some[i], "needle"))
			cr_assert_eq(t->nr_ops, 301350);
		trace_free(t);
	}
}

/* ---- the extensions: calloc and memalign ---------------------------------- */

Test(trace, calloc_and_memalign_lines_carry_their_second_number)
{
	struct trace *t = parse_ok("0\n3\n4\n1\nc 0 10 24\nm 1 4096 100\na 2 8\nf 0\n");

	cr_assert_eq(t->ops[0].kind, TOP_CALLOC);
	cr_assert_eq(t->ops[0].arg, 10);
	cr_assert_eq(t->ops[0].size, 24);
	cr_assert_eq(trace_op_bytes(&t->ops[0]), 240);
	cr_assert_eq(t->ops[1].kind, TOP_MEMALIGN);
	cr_assert_eq(t->ops[1].arg, 4096);
	cr_assert_eq(t->ops[1].size, 100);
	cr_assert_eq(trace_peak_payload(t), 348);
	cr_assert(trace_extended(t));
	trace_free(t);
}

Test(trace, malformed_extension_lines_name_file_line_and_reason)
{
	parse_bad("0\n1\n1\n1\nc 0 10\n", "bad.rep:5: missing size\n");
	parse_bad("0\n1\n1\n1\nc 0\n", "bad.rep:5: missing number of elements\n");
	parse_bad("0\n1\n1\n1\nm 0\n", "bad.rep:5: missing alignment\n");
	parse_bad("0\n1\n1\n1\nm 0 24 100\n", "bad.rep:5: alignment 24 is not a power of two\n");
	parse_bad("0\n1\n1\n1\nm 0 0 100\n", "bad.rep:5: alignment 0 is not a power of two\n");
	parse_bad("0\n1\n1\n1\nc 0 1 2 3\n", "bad.rep:5: junk after operation: '3'\n");
}

/* Write t (plain or not) and read it back. */
static struct trace *roundtrip(const struct trace *t, bool plain)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct trace *back = NULL;

	cr_assert_eq(trace_write(f, t, plain), 0);
	fclose(f);
	cr_assert_eq(trace_parse(buf, len, "w.rep", &back, stderr), 0, "%s", buf);
	free(buf);
	return back;
}

Test(trace, written_traces_read_back_the_same_or_as_plain_cs_app)
{
	struct trace *t = parse_ok("77\n4\n6\n1\na 0 5\nc 1 3 40\nm 2 64 100\nr 0 50\nf 1\nf -1\n");
	struct trace *e = roundtrip(t, false), *p = roundtrip(t, true);

	cr_assert_eq(e->heap_hint, 77);
	cr_assert_eq(e->nr_ops, 6);
	for (size_t i = 0; i < 6; i++) {
		cr_assert_eq(e->ops[i].kind, t->ops[i].kind);
		cr_assert_eq(e->ops[i].id, t->ops[i].id);
		cr_assert_eq(e->ops[i].size, t->ops[i].size);
		cr_assert_eq(e->ops[i].arg, t->ops[i].arg);
	}
	cr_assert_not(trace_extended(p));
	cr_assert_eq(p->ops[1].kind, TOP_ALLOC);
	cr_assert_eq(p->ops[1].size, 120, "calloc(3, 40) is a(120)");
	cr_assert_eq(p->ops[2].kind, TOP_ALLOC);
	cr_assert_eq(p->ops[2].size, 100, "memalign(64, 100) is a(100)");
	cr_assert_eq(trace_peak_payload(p), trace_peak_payload(t));
	trace_free(t);
	trace_free(e);
	trace_free(p);
}
