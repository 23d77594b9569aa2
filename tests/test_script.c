/*
 * test_script.c - the .ams parser (demos/cli/script*.c) and parse_size
 * (demos/cli/util.c): every statement, expressions, numbers, and each error
 * message with its line. No simulation runs here.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../demos/cli/commands.h"
#include "../demos/cli/expr.h"
#include "../demos/cli/script.h"

/* Parse text that must be valid; the checker runs on the result. */
static struct script *parse_ok(const char *text)
{
	char *msg = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&msg, &len);
	struct script *sc = NULL;
	int rc = script_parse("t.ams", text, &sc, err);

	fclose(err);
	cr_assert_eq(rc, 0, "parse failed: %s", msg);
	cr_assert_eq(len, 0, "unexpected message: %s", msg);
	free(msg);
	cr_assert_eq(script_check(sc, stderr), 0);
	return sc;
}

/* Parse text that must fail with exactly the message want (one line). */
static void parse_err(const char *text, const char *want)
{
	char *msg = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&msg, &len);
	struct script *sc = NULL;
	int rc = script_parse("t.ams", text, &sc, err);

	fclose(err);
	cr_assert_eq(rc, -1, "parse of [%s] should fail", text);
	cr_assert_null(sc);
	cr_assert_str_eq(msg, want);
	free(msg);
}

/* Variables (and elements: vars[idx] + index) whose values a test gives;
   built-ins read as 1000 + their number. */
static int env_var(void *ctx, int idx, int64_t *v, char *msg, size_t n)
{
	*v = (int64_t)((const uint64_t *)ctx)[idx];
	return 0;
}

static int env_elem(void *ctx, int idx, int64_t index, int64_t *v, char *msg, size_t n)
{
	if (index < 0) {
		snprintf(msg, n, "negative index");
		return -1;
	}
	*v = (int64_t)((const uint64_t *)ctx)[idx] + index;
	return 0;
}

static int64_t env_builtin(void *ctx, int bi)
{
	return 1000 + bi;
}

/* Evaluate an expression whose variables have the values given. */
static uint64_t eval_const(const struct script *sc, const struct expr *e, const uint64_t *vars)
{
	const struct expr_env env = {(void *)vars, env_var, env_elem, env_builtin};
	int64_t v = 0;
	char msg[80];

	cr_assert_eq(expr_eval(sc, e, &env, &v, msg, sizeof(msg)), 0, "%s", msg);
	return (uint64_t)v;
}

/* e's postfix code as script_dump prints it. */
static char *code_of(const struct script *sc, const struct expr *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	expr_dump(sc, e, f);
	fclose(f);
	return buf;
}

static void assert_code(const struct script *sc, const struct expr *e, const char *want)
{
	char *got = code_of(sc, e);

	cr_assert_str_eq(got, want);
	free(got);
}

Test(parse_size, decimal_hex_and_suffixes)
{
	uint64_t v;

	cr_assert_eq(parse_size("4096", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(parse_size("0x1000", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(parse_size("0XfF", &v), 0);
	cr_assert_eq(v, 255);
	cr_assert_eq(parse_size("4K", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(parse_size("1M", &v), 0);
	cr_assert_eq(v, 1 << 20);
	cr_assert_eq(parse_size("2G", &v), 0);
	cr_assert_eq(v, 2ULL << 30);
	cr_assert_eq(parse_size("64m", &v), 0);
	cr_assert_eq(v, 64ULL << 20);
	cr_assert_eq(parse_size("16KiB", &v), 0);
	cr_assert_eq(v, 16384);
	cr_assert_eq(parse_size("0x10K", &v), 0);
	cr_assert_eq(v, 16384);
	cr_assert_eq(parse_size("0", &v), 0);
	cr_assert_eq(v, 0);
}

/* docs/reference.md: "K, KB, KiB are the same; lower case too". */
Test(parse_size, suffixes_in_either_case_with_b_or_ib)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {{"4k", 4096},           {"4kb", 4096},         {"4kib", 4096},
	          {"4KB", 4096},          {"4KIB", 4096},        {"4Kib", 4096},
	          {"64mib", 64ULL << 20}, {"64mb", 64ULL << 20}, {"64MiB", 64ULL << 20},
	          {"1gb", 1ULL << 30},    {"1GiB", 1ULL << 30},  {"0x10kb", 16384}};
	static const char *const bad[] = {"4kbb", "4kibb", "4ki", "4i", "4kB ", "4 k", "4b"};
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 0;
		cr_assert_eq(parse_size(ok[i].s, &v), 0, "%s rejected", ok[i].s);
		cr_assert_eq(v, ok[i].v, "%s = %llu", ok[i].s, (unsigned long long)v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse_size(bad[i], &v), -1, "%s accepted", bad[i]);
}

Test(parse_size, rejects_garbage_and_overflow)
{
	uint64_t v = 7;

	cr_assert_eq(parse_size("", &v), -1);
	cr_assert_eq(parse_size("x", &v), -1);
	cr_assert_eq(parse_size("0x", &v), -1);
	cr_assert_eq(parse_size("12Q", &v), -1);
	cr_assert_eq(parse_size("1KK", &v), -1);
	cr_assert_eq(parse_size("-1", &v), -1);
	cr_assert_eq(parse_size("18446744073709551616", &v), -1);
	cr_assert_eq(parse_size("16777216T", &v), -1);
	cr_assert_eq(parse_size("17179869184G", &v), -1);
	cr_assert_eq(v, 7, "a failed parse leaves *out alone");
	cr_assert_eq(parse_size("18446744073709551615", &v), 0);
	cr_assert_eq(v, UINT64_MAX);
}

Test(script, every_statement_parses_with_its_arguments)
{
	struct script *sc = parse_ok("p = malloc 100\n"
	                             "q = calloc 10 16\n"
	                             "p = realloc p 200\n"
	                             "free p\n"
	                             "b = sbrk 0\n"
	                             "r = brk b+4096\n"
	                             "m = mmap 1M\n"
	                             "munmap m 1M\n"
	                             "store q 0 0x41 64\n"
	                             "v = load q 0 8\n"
	                             "touch m 0 1M\n"
	                             "read m 0 1M\n"
	                             "setrlimit data 1M\n"
	                             "a = posix_memalign 64 100\n"
	                             "u = usable a\n"
	                             "r0 = rss\n"
	                             "expect faults == 64\n"
	                             "show maps\n");
	enum stmt_op want[] = {ST_MALLOC, ST_CALLOC, ST_REALLOC,   ST_FREE,     ST_SBRK,
	                       ST_BRK,    ST_MMAP,   ST_MUNMAP,    ST_STORE,    ST_LOAD,
	                       ST_TOUCH,  ST_READ,   ST_SETRLIMIT, ST_MEMALIGN, ST_USABLE,
	                       ST_ASSIGN, ST_EXPECT, ST_SHOW};
	unsigned nargs[] = {1, 2, 2, 1, 1, 1, 1, 2, 4, 3, 3, 3, 1, 2, 1, 1, 2, 0};

	cr_assert_eq(sc->nr_stmts, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sc->nr_stmts; i++) {
		cr_assert_eq(sc->stmts[i].op, want[i], "statement %zu", i);
		cr_assert_eq(sc->stmts[i].line, (int)i + 1);
		cr_assert_eq(sc->stmts[i].nargs, nargs[i], "statement %zu", i);
	}
	cr_assert_str_eq(sc->stmts[0].text, "p = malloc 100");
	cr_assert_eq(sc->stmts[0].dest, script_var_index(sc, "p"));
	cr_assert_eq(sc->stmts[3].dest, -1);
	cr_assert_eq(sc->stmts[12].kw, RES_DATA);
	cr_assert_eq(sc->stmts[17].kw, VIEW_MAPS);
	cr_assert_eq(sc->stmts[6].kw, SCRIPT_PROT_R | SCRIPT_PROT_W, "mmap is rw by default");
	cr_assert_eq(sc->stmts[16].cmp, CMP_EQ);
	/* p q b r m v a u r0 */
	cr_assert_eq(sc->nr_vars, 9);
	script_free(sc);
}

Test(script, each_statement_name_is_in_the_table_once)
{
	for (int i = 0; i < ST__COUNT; i++) {
		cr_assert_eq(script_stmt_defs[i].op, (enum stmt_op)i, "row %d out of place", i);
		cr_assert_not_null(script_stmt_defs[i].usage);
		if (script_stmt_defs[i].shape == SHAPE_ASSIGN ||
		    script_stmt_defs[i].shape == SHAPE_SUBFORM)
			cr_assert_eq(script_stmt_lookup(script_stmt_defs[i].name), -1);
		else
			cr_assert_eq(script_stmt_lookup(script_stmt_defs[i].name), i);
	}
	cr_assert_eq(script_stmt_lookup("assign"), -1, "assign is not a keyword");
	cr_assert_eq(script_stmt_lookup("nope"), -1);
}

Test(script, show_views_and_pagetable_address)
{
	struct script *sc = parse_ok("show maps\nshow buddyinfo\nshow meminfo\nshow status\n"
	                             "show heap\nb = brk\nshow pagetable b+0x10\nshow tlb\n");

	for (int i = 0; i < VIEW__COUNT; i++)
		cr_assert_eq(script_view_lookup(script_view_names[i]), i);
	cr_assert_eq(sc->nr_stmts, 8);
	cr_assert_eq(sc->stmts[0].kw, VIEW_MAPS);
	cr_assert_eq(sc->stmts[1].kw, VIEW_BUDDYINFO);
	cr_assert_eq(sc->stmts[2].kw, VIEW_MEMINFO);
	cr_assert_eq(sc->stmts[3].kw, VIEW_STATUS);
	cr_assert_eq(sc->stmts[4].kw, VIEW_HEAP);
	cr_assert_eq(sc->stmts[6].kw, VIEW_PAGETABLE);
	cr_assert_eq(sc->stmts[6].nargs, 1);
	cr_assert_str_eq(sc->stmts[6].args[0].text, "b+0x10");
	cr_assert_eq(sc->stmts[7].kw, VIEW_TLB);
	script_free(sc);
}

Test(script, numbers_take_hex_and_suffixes)
{
	struct script *sc = parse_ok("a = 4096\nb = 0x1000\nc = 4K\nd = 1M + 2G - 0x10\n");

	cr_assert_eq(eval_const(sc, &sc->stmts[0].args[0], NULL), 4096);
	cr_assert_eq(eval_const(sc, &sc->stmts[1].args[0], NULL), 4096);
	cr_assert_eq(eval_const(sc, &sc->stmts[2].args[0], NULL), 4096);
	cr_assert_eq(eval_const(sc, &sc->stmts[3].args[0], NULL), (1ULL << 20) + (2ULL << 30) - 16);
	cr_assert_eq(sc->stmts[3].args[0].n, 1, "numbers written out are folded");
	script_free(sc);
}

Test(script, expressions_are_sums_of_numbers_variables_and_builtins)
{
	struct script *sc = parse_ok("x = 10\ny = x+5 - 3\nz = -x + y\n"
	                             "w = faults + rss - memfree + brk\n");
	uint64_t vars[3] = {10, 12, 0};
	const struct expr *w = &sc->stmts[3].args[0];

	cr_assert_eq(eval_const(sc, &sc->stmts[1].args[0], vars), 12);
	cr_assert_eq(eval_const(sc, &sc->stmts[2].args[0], vars), 2);
	assert_code(sc, w, "@faults @rss + @memfree - @brk +");
	cr_assert_str_eq(w->text, "faults + rss - memfree + brk");
	script_free(sc);
}

Test(script, brk_alone_reads_the_builtin_and_brk_with_argument_runs_it)
{
	struct script *sc = parse_ok("x = brk\ny = brk + 16\nr = brk x+4096\nbrk x\n");

	cr_assert_eq(sc->stmts[0].op, ST_ASSIGN);
	assert_code(sc, &sc->stmts[0].args[0], "@brk");
	cr_assert_eq(sc->stmts[1].op, ST_ASSIGN);
	assert_code(sc, &sc->stmts[1].args[0], "@brk 16 +");
	cr_assert_eq(sc->stmts[2].op, ST_BRK);
	cr_assert_eq(sc->stmts[2].dest, script_var_index(sc, "r"));
	cr_assert_eq(sc->stmts[3].op, ST_BRK);
	cr_assert_eq(sc->stmts[3].dest, -1);
	script_free(sc);
}

Test(script, a_spaced_sign_before_a_number_starts_a_new_argument)
{
	struct script *sc = parse_ok("p = malloc 64\nstore p -16 1 1\nstore p 8 - 4 1\n"
	                             "store p+8 0 1 2\nsbrk -4096\n");
	uint64_t vars[1] = {1000};

	cr_assert_eq(sc->stmts[1].nargs, 4);
	cr_assert_eq(eval_const(sc, &sc->stmts[1].args[1], vars), (uint64_t)-16);
	cr_assert_eq(sc->stmts[2].nargs, 3, "'8 - 4' is one argument");
	cr_assert_eq(eval_const(sc, &sc->stmts[2].args[1], vars), 4);
	cr_assert_eq(eval_const(sc, &sc->stmts[3].args[0], vars), 1008);
	cr_assert_eq(eval_const(sc, &sc->stmts[4].args[0], vars), (uint64_t)-4096);
	script_free(sc);
}

Test(script, comments_blank_lines_and_crlf_are_ignored)
{
	struct script *sc = parse_ok("# a comment\n\n   \np = malloc 1   # trailing\r\n"
	                             "\t# indented comment\nfree p");

	cr_assert_eq(sc->nr_stmts, 2);
	cr_assert_eq(sc->stmts[0].line, 4);
	cr_assert_str_eq(sc->stmts[0].text, "p = malloc 1");
	cr_assert_eq(sc->stmts[1].line, 6);
	cr_assert_eq(sc->nr_lines, 6);
	cr_assert_str_eq(sc->lines[0], "# a comment");
	cr_assert_str_eq(sc->lines[3], "p = malloc 1   # trailing");
	script_free(sc);
}

Test(script, expect_takes_every_comparison)
{
	struct script *sc =
	    parse_ok("a = 1\nexpect a == 1\nexpect a != 2\nexpect a < 2\n"
	             "expect a <= 1\nexpect a > 0\nexpect a >= 1\nexpect rss == a+16\n");

	for (int i = 0; i < 6; i++)
		cr_assert_eq(sc->stmts[1 + i].cmp, (enum cmp_op)i);
	cr_assert_str_eq(script_cmp_names[sc->stmts[3].cmp], "<");
	cr_assert_str_eq(sc->stmts[7].args[0].text, "rss");
	cr_assert_str_eq(sc->stmts[7].args[1].text, "a+16");
	script_free(sc);
}

Test(script, setrlimit_resources_and_infinity)
{
	struct script *sc = parse_ok("setrlimit data 1M\nsetrlimit stack 8M 16M\n"
	                             "r = setrlimit as infinity\n");

	cr_assert_eq(sc->stmts[0].kw, RES_DATA);
	cr_assert_eq(sc->stmts[0].nargs, 1);
	cr_assert_eq(sc->stmts[1].kw, RES_STACK);
	cr_assert_eq(sc->stmts[1].nargs, 2);
	cr_assert_eq(sc->stmts[2].kw, RES_AS);
	assert_code(sc, &sc->stmts[2].args[0], "@infinity");
	script_free(sc);
}

Test(script, mmap_takes_an_optional_protection)
{
	struct script *sc = parse_ok("a = mmap 4096 r\nb = mmap 8K none\nc = mmap 1M rwx\n");
	char buf[8];

	cr_assert_eq(sc->stmts[0].kw, SCRIPT_PROT_R);
	cr_assert_eq(sc->stmts[1].kw, 0);
	cr_assert_eq(sc->stmts[2].kw, SCRIPT_PROT_R | SCRIPT_PROT_W | SCRIPT_PROT_X);
	cr_assert_str_eq(script_prot_str(0, buf), "none");
	cr_assert_str_eq(script_prot_str(SCRIPT_PROT_R | SCRIPT_PROT_W, buf), "rw");
	script_free(sc);
}

Test(script, policy_directive_is_kept)
{
	struct script *sc = parse_ok("# header\npolicy seed\np = malloc 1\n");

	cr_assert_str_eq(sc->policy, "seed");
	cr_assert_eq(sc->policy_line, 2);
	cr_assert_eq(sc->nr_stmts, 1);
	script_free(sc);
}

Test(script, dump_prints_the_parsed_form)
{
	struct script *sc = parse_ok("x = 3\ny = x - 1 + rss\n");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	script_dump(sc, f);
	fclose(f);
	cr_assert_str_eq(buf, "1: $x = assign (3)\n2: $y = assign ($x 1 - @rss +)\n");
	free(buf);
	script_free(sc);
}

Test(script_errors, undefined_variable)
{
	parse_err("p = malloc 1\nfree q\n", "t.ams:2: undefined variable 'q'\n");
	parse_err("x = x + 1\n", "t.ams:1: undefined variable 'x'\n");
}

Test(script_errors, bad_number)
{
	parse_err("\n\nx = 12Q\n", "t.ams:3: bad number '12Q' (decimal, 0x hex, K/M/G suffix)\n");
	parse_err("x = 0xZZ\n", "t.ams:1: bad number '0xZZ' (decimal, 0x hex, K/M/G suffix)\n");
}

Test(script_errors, unknown_statement)
{
	parse_err("p = malloc 1\nfrobnicate p\n", "t.ams:2: unknown statement 'frobnicate'\n");
	parse_err("42\n", "t.ams:1: expected a statement, got '42'\n");
	parse_err("rss\n", "t.ams:1: a value alone is not a statement: keep it with NAME = rss, "
	                   "or test it with expect\n");
}

Test(script_errors, wrong_arity)
{
	parse_err("malloc\n", "t.ams:1: 'malloc' takes 1 argument (malloc N), got 0\n");
	parse_err("x = calloc 1\n",
	          "t.ams:1: 'calloc' takes 2 arguments (calloc NMEMB SIZE), got 1\n");
	parse_err("p = malloc 1\nstore p 0\n",
	          "t.ams:2: 'store' takes 3 to 4 arguments (store P OFF BYTE [COUNT]), got 2\n");
	parse_err("p = malloc 1\nstore p 0 1 2 3\n",
	          "t.ams:2: 'store' takes 3 to 4 arguments (store P OFF BYTE [COUNT]), got 5\n");
	parse_err("mmap\n", "t.ams:1: 'mmap' takes 1 argument (mmap LEN [rw|r|none|...]), got 0\n");
	parse_err("setrlimit data\n", "t.ams:1: 'setrlimit' takes 1 to 2 arguments (setrlimit "
	                              "data|stack|as|cpu SOFT [HARD]), got 0\n");
	parse_err("p = malloc 1\nfree p p\n", "t.ams:2: 'free' takes 1 argument (free P), got 2\n");
}

Test(script_errors, constant_arguments_out_of_range)
{
	struct script *sc;

	parse_err("p = malloc 8\nv = load p 0 16\n",
	          "t.ams:2: 'load' reads 1 to 8 bytes, not 16\n");
	parse_err("p = malloc 8\nv = load p 0 0\n", "t.ams:2: 'load' reads 1 to 8 bytes, not 0\n");
	parse_err("p = malloc 8\nstore p 0 256 1\n",
	          "t.ams:2: 'store' writes a byte value (0 to 255), not 256\n");
	sc = parse_ok("p = malloc 8\nv = load p 0 3\nstore p 0 255 2\n");
	script_free(sc);
}

Test(script_errors, trailing_garbage)
{
	parse_err("a = 1\nexpect a == 1 2\n", "t.ams:2: unexpected '2' after the expectation\n");
	parse_err("show tlb now\n", "t.ams:1: unexpected 'now' after show's view\n");
	/* a process's view reads a pid there */
	parse_err("show maps 2 now\n", "t.ams:1: unexpected 'now' after show's view\n");
	parse_err("x = 1 2\n", "t.ams:1: unexpected '2' after the expression\n");
	parse_err("m = mmap 4096 rw junk\n", "t.ams:1: unexpected 'junk' after mmap LEN [PROT]\n");
	parse_err("policy seed extra\n", "t.ams:1: unexpected 'extra' after the policy name\n");
}

Test(script_errors, malformed_expressions_and_characters)
{
	parse_err("x = 1 +\n", "t.ams:1: expected a number or a variable, got end of line\n");
	parse_err("x = \n", "t.ams:1: expected an expression after '='\n");
	parse_err("x = 1 $ 2\n", "t.ams:1: unexpected character '$'\n");
	parse_err("expect 1\n",
	          "t.ams:1: expected a comparison (== != < <= > >=), got end of line\n");
	parse_err("expect\n", "t.ams:1: 'expect' needs EXPR OP EXPR (OP: == != < <= > >=), "
	                      "signal SIGNAME [CODE] or stderr \"TEXT\"\n");
	parse_err("x = malloc\n", "t.ams:1: 'malloc' takes 1 argument (malloc N), got 0\n");
	parse_err("x = 1 + free\n", "t.ams:1: 'free' is a statement, not a value (keep its result "
	                            "with NAME = free ...)\n");
}

Test(script_errors, keywords_of_show_setrlimit_and_mmap)
{
	parse_err("show vmas\n", "t.ams:1: unknown view 'vmas' for show "
	                         "(maps|buddyinfo|meminfo|status|heap|pagetable ADDR|tlb|zoneinfo|"
	                         "vmstat|swaps|oom_score|dmesg|arenas|smaps_rollup|ps)\n");
	parse_err("show\n", "t.ams:1: unknown view end of line for show "
	                    "(maps|buddyinfo|meminfo|status|heap|pagetable ADDR|tlb|zoneinfo|"
	                    "vmstat|swaps|oom_score|dmesg|arenas|smaps_rollup|ps)\n");
	parse_err("show pagetable\n", "t.ams:1: 'show pagetable' needs an address\n");
	parse_err("setrlimit heap 1M\n",
	          "t.ams:1: unknown resource 'heap' for setrlimit (data, stack, as, cpu)\n");
	parse_err("m = mmap 4096 rq\n",
	          "t.ams:1: bad protection 'rq' (letters r, w, x, or none)\n");
}

Test(script_errors, assignments_to_reserved_names_and_results_that_do_not_exist)
{
	parse_err("faults = 1\n", "t.ams:1: cannot assign to 'faults': it is a built-in\n");
	parse_err("brk = 1\n", "t.ams:1: cannot assign to 'brk': it is a built-in\n");
	parse_err("malloc = 1\n", "t.ams:1: cannot assign to 'malloc': it is a statement name\n");
	parse_err("p = malloc 1\nx = free p\n", "t.ams:2: 'free' has no result to keep in 'x'\n");
	parse_err("x = show maps\n", "t.ams:1: 'show' has no result to keep in 'x'\n");
}

Test(script_errors, policy_directive_placement)
{
	parse_err("p = malloc 1\npolicy seed\n",
	          "t.ams:2: 'policy' must come before the first statement\n");
	parse_err("policy seed\npolicy glibc\n",
	          "t.ams:2: 'policy' given twice (first on line 1)\n");
	parse_err("policy 3\n", "t.ams:1: 'policy' takes a malloc policy name, got '3'\n");
}

Test(script_errors, the_first_error_is_reported_and_nothing_is_kept)
{
	char *msg = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&msg, &len);
	struct script *sc = (struct script *)0x1;

	cr_assert_eq(script_parse("x.ams", "p = malloc 1\nbad 1\nworse 2\n", &sc, err), -1);
	fclose(err);
	cr_assert_str_eq(msg, "x.ams:2: unknown statement 'bad'\n");
	cr_assert_eq(sc, (struct script *)0x1, "*out untouched on error");
	free(msg);
}

Test(script_errors, a_missing_file_names_the_file)
{
	char *msg = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&msg, &len);
	struct script *sc = NULL;

	cr_assert_eq(script_load(NULL, "/nonexistent/x.ams", &sc, err), -1);
	fclose(err);
	cr_assert_str_eq(msg, "/nonexistent/x.ams: No such file or directory\n");
	free(msg);
}

/* ---- expressions: precedence, arrays, functions -------------------------- */

Test(script, operators_bind_as_in_c)
{
	struct script *sc = parse_ok("a = 2\nb = 3\n"
	                             "x = a + b * 4\n"          /* 14 */
	                             "x = (a + b) * 4\n"        /* 20 */
	                             "x = 1 << a + 1\n"         /* 8: + before << */
	                             "x = 6 & 3 | 8\n"          /* 10 */
	                             "x = a | b ^ 1 & 7\n"      /* 2 | (3 ^ 1) = 2 */
	                             "x = -a * -b\n"            /* 6 */
	                             "x = -7 / a\n"             /* -3 */
	                             "x = -7 % a\n"             /* -1 */
	                             "x = 100 - 10 - 1\n"       /* 89: left to right */
	                             "x = 256 >> a >> 1\n"      /* 32 */
	                             "x = aligned(a * 8, 16)\n" /* 1 */
	                             "x = aligned(b, 2)\n"      /* 0 */
	                             "x = 1 << 64\n");          /* 0 */
	uint64_t vars[3] = {2, 3, 0};
	static const int64_t want[] = {14, 20, 8, 10, 2, 6, -3, -1, 89, 32, 1, 0, 0};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert_eq((int64_t)eval_const(sc, &sc->stmts[2 + i].args[0], vars), want[i],
		             "line %d: %s", sc->stmts[2 + i].line, sc->stmts[2 + i].args[0].text);
	assert_code(sc, &sc->stmts[2].args[0], "$a $b 4 * +");
	assert_code(sc, &sc->stmts[7].args[0], "$a neg $b neg *");
	script_free(sc);
}

Test(script, numbers_written_out_are_folded_and_a_constant_zero_divisor_is_an_error)
{
	struct script *sc = parse_ok("x = (1 + 2) * 3 - -1\ny = 1 << 4 | 3\n");

	assert_code(sc, &sc->stmts[0].args[0], "10");
	assert_code(sc, &sc->stmts[1].args[0], "19");
	script_free(sc);
	parse_err("x = 4 / (2 - 2)\n", "t.ams:1: division by zero\n");
	parse_err("x = 4 % 0\n", "t.ams:1: division by zero\n");
	parse_err("x = aligned(4, 0)\n", "t.ams:1: aligned(X, N) with N = 0\n");
}

Test(script, a_spaced_sign_inside_parentheses_is_an_operator)
{
	struct script *sc = parse_ok("b = 8192\nbrk (b -4096)\nstore b (0 -1) 1 1\n");

	cr_assert_eq(sc->stmts[1].nargs, 1);
	cr_assert_eq(sc->stmts[2].nargs, 4);
	script_free(sc);
}

Test(script, arrays_are_assigned_and_read_by_index)
{
	struct script *sc = parse_ok("i = 3\np[i] = malloc 64 * (i + 1)\nq = p[i] + p[i - 1]\n"
	                             "p[0] = 7\n");
	int p = script_var_index(sc, "p");

	cr_assert(sc->var_array[p]);
	cr_assert_not(sc->var_array[script_var_index(sc, "q")]);
	cr_assert_eq(sc->stmts[1].op, ST_MALLOC);
	cr_assert_eq(sc->stmts[1].dest, p);
	assert_code(sc, &sc->stmts[1].dest_index, "$i");
	assert_code(sc, &sc->stmts[2].args[0], "$i $p[] $i 1 - $p[] +");
	cr_assert_eq(sc->stmts[3].op, ST_ASSIGN);
	script_free(sc);
}

Test(script_errors, arrays_and_plain_variables_do_not_mix)
{
	parse_err("x = 1\nx[0] = 2\n", "t.ams:2: 'x' is not an array\n");
	parse_err("p[0] = 1\np = 2\n", "t.ams:2: 'p' is an array: write p[INDEX]\n");
	parse_err("p[0] = 1\nx = p\n", "t.ams:2: 'p' is an array: write p[INDEX]\n");
	parse_err("x = 1\ny = x[0]\n", "t.ams:2: 'x' is not an array\n");
	parse_err("y = q[0]\n", "t.ams:1: undefined array 'q'\n");
	parse_err("p[0 = 1\n", "t.ams:1: missing ']' after the index of 'p'\n");
	parse_err("p[0] = 1\ny = p[0\n", "t.ams:2: expected ']', got end of line\n");
	parse_err("x = (1 + 2\n", "t.ams:1: expected ')', got end of line\n");
	parse_err("x = aligned 4\n", "t.ams:1: 'aligned' is a function: aligned(X, N)\n");
	parse_err("x = aligned(4)\n", "t.ams:1: expected ',' in aligned(X, N), got ')'\n");
	parse_err("aligned = 1\n", "t.ams:1: cannot assign to 'aligned': it is a built-in\n");
	parse_err("ENOMEM = 1\n", "t.ams:1: cannot assign to 'ENOMEM': it is a built-in\n");
	parse_err("x = 1 * * 2\n", "t.ams:1: expected a number or a variable, got '*'\n");
}

/* ---- blocks -------------------------------------------------------------- */

Test(script, blocks_pair_their_end_and_nest)
{
	struct script *sc = parse_ok("for i = 0 to 3\n"
	                             "  for j = i to 0 step -1\n"
	                             "    p[j] = i * j\n"
	                             "  end\n"
	                             "end\n"
	                             "in pid\n"
	                             "  x = 1\n"
	                             "end\n");

	cr_assert_eq(sc->nr_stmts, 8);
	cr_assert_eq(sc->nr_blocks, 3);
	cr_assert_eq(sc->stmts[0].op, ST_FOR);
	cr_assert_eq(sc->stmts[0].peer, 4);
	cr_assert_eq(sc->stmts[4].peer, 0);
	cr_assert_eq(sc->stmts[1].peer, 3);
	cr_assert_eq(sc->stmts[1].nargs, 3);
	cr_assert_eq(sc->stmts[2].depth, 2);
	cr_assert_eq(sc->stmts[3].depth, 1);
	cr_assert_eq(sc->stmts[5].op, ST_IN);
	cr_assert_eq(sc->stmts[5].peer, 7);
	cr_assert_eq(sc->stmts[0].dest, script_var_index(sc, "i"));
	cr_assert_str_eq(sc->stmts[1].text, "for j = i to 0 step -1");
	script_free(sc);
}

Test(script_errors, malformed_blocks)
{
	parse_err("for i = 0 to 3\np = malloc 1\n", "t.ams:1: 'for' is never closed: 'end' missing\n");
	parse_err("for i = 0 to 3\nin pid\nend\n", "t.ams:1: 'for' is never closed: 'end' missing\n");
	parse_err("p = malloc 1\nend\n", "t.ams:2: 'end' without a block to close (for, in)\n");
	parse_err("for i = 0 to 1\nend i\n",
	          "t.ams:2: unexpected 'i' after 'end' (a line of its own)\n");
	parse_err("for i = 0 to 3 step 0\nend\n", "t.ams:1: 'for' cannot step by 0\n");
	parse_err("for i = 0 upto 3\nend\n",
	          "t.ams:1: expected 'to' in for I = A to B [step S] ... end, got 'upto'\n");
	parse_err("for i 0 to 3\nend\n",
	          "t.ams:1: 'for' takes a variable: for I = A to B [step S] ... end\n");
	parse_err("for rss = 0 to 3\nend\n",
	          "t.ams:1: cannot use 'rss' as the loop variable: it is a built-in\n");
	parse_err("for i = 0 to 3 4\nend\n", "t.ams:1: unexpected '4' after the loop's bounds\n");
	parse_err("for i = i to 3\nend\n", "t.ams:1: undefined variable 'i'\n");
	parse_err("in\nend\n", "t.ams:1: 'in' takes 1 argument (in ID ... end), got 0\n");
	parse_err("x = for i = 0 to 1\n", "t.ams:1: 'for' has no result to keep in 'x'\n");
}

Test(script_errors, blocks_nest_at_most_32_deep)
{
	char text[2048] = "";

	for (int i = 0; i < 33; i++)
		strcat(text, "for i = 0 to 1\n");
	parse_err(text, "t.ams:33: blocks nested deeper than 32\n");
}

/* ---- expect signal / stderr ------------------------------------------------ */

Test(script, expect_signal_and_stderr_take_names_and_a_string)
{
	struct script *sc = parse_ok("expect signal SIGSEGV SEGV_MAPERR\nexpect signal SIGABRT\n"
	                             "expect stderr \"free(): \\\"x\\\" # not a comment\\n\"\n"
	                             "signal = 1\nexpect signal == 1\n");

	cr_assert_eq(sc->stmts[0].op, ST_EXPECT_SIGNAL);
	cr_assert_eq(sc->stmts[0].kw, 11);
	cr_assert_eq(sc->stmts[0].code, 1);
	cr_assert_eq(sc->stmts[1].code, -1, "any si_code");
	cr_assert_eq(sc->stmts[2].op, ST_EXPECT_STDERR);
	cr_assert_str_eq(sc->stmts[2].str, "free(): \"x\" # not a comment\n");
	cr_assert_eq(sc->stmts[4].op, ST_EXPECT, "a variable named signal is still a value");
	script_free(sc);
}

Test(script_errors, expect_signal_and_stderr)
{
	parse_err("expect signal SIGFOO\n", "t.ams:1: unknown signal 'SIGFOO' (SIGSEGV, SIGABRT, "
	                                    "SIGKILL, SIGXCPU, SIGBUS)\n");
	parse_err("expect signal SIGABRT SEGV_MAPERR\n",
	          "t.ams:1: unknown si_code 'SEGV_MAPERR' for SIGABRT (SEGV_MAPERR, SEGV_ACCERR, "
	          "SI_KERNEL, SI_TKILL, SI_USER)\n");
	parse_err("expect signal SIGSEGV SEGV_MAPERR x\n",
	          "t.ams:1: unexpected 'x' after expect signal SIGNAME [CODE]\n");
	parse_err("expect stderr \"abc\n", "t.ams:1: unterminated string (no closing '\"')\n");
	parse_err("expect stderr \"a\\qb\"\n", "t.ams:1: unknown escape '\\q' (\\\" \\\\ \\n \\t)\n");
	parse_err("x = \"a\"\n", "t.ams:1: expected a number or a variable, got '\"a\"'\n");
	/* the two forms written wrong: their usage, not "undefined variable" */
	parse_err("expect stderr free\n",
	          "t.ams:1: expect stderr takes a quoted text: expect stderr \"TEXT\"\n");
	parse_err("expect stderr\n",
	          "t.ams:1: expect stderr takes a quoted text: expect stderr \"TEXT\"\n");
	parse_err("expect signal 11\n",
	          "t.ams:1: expect signal takes a signal's name: expect signal SIGNAME [CODE] "
	          "(SIGSEGV, SIGABRT, SIGKILL, SIGXCPU, SIGBUS)\n");
	parse_err("expect signal \"SIGSEGV\"\n",
	          "t.ams:1: expect signal takes a signal's name: expect signal SIGNAME [CODE] "
	          "(SIGSEGV, SIGABRT, SIGKILL, SIGXCPU, SIGBUS)\n");
}
