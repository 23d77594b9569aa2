/*
 * test_badinput.c - bad input everywhere a user can type, run through the
 * binary as a user runs it (AM_BIN, AM_ROOT as in tests/test_run.c): scripts,
 * traces, command-line options, sizes and addresses. Each must give a clear
 * message naming where ("FILE:LINE: ..." for a file, the option's name for
 * an option), the exit status of DESIGN.md (0 ran, 1 the simulated program
 * died or a replay was invalid, 2 bad usage or malformed input, with nothing
 * on stdout), and never a signal of the host.
 *
 * Also the simulated program's own faults (demos/crash/): each reported as
 * the real kernel or glibc would, word for word.
 */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "demos/cli/commands.h"
#include "support_bin.h"

static bool matches(const char *text, const char *pattern)
{
	regex_t re;
	bool ok;

	cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE), 0, "bad regex %s", pattern);
	ok = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* The host never dies of a signal, whatever it was given. */
static void assert_no_signal(const struct bin_out *p, const char *what)
{
	cr_assert(!p->signaled, "%s: the host died of signal %d\n%s", what, p->status - 128,
	          p->err);
}

/* Exit 2, nothing on stdout, and a message on stderr that matches pattern. */
static void assert_bad_input(const struct bin_out *p, const char *what, const char *pattern)
{
	assert_no_signal(p, what);
	cr_assert_eq(p->status, 2, "%s: exit %d, expected 2\n%s", what, p->status, p->err);
	cr_assert_eq(p->out_len, 0, "%s: printed on stdout: %s", what, p->out);
	cr_assert(matches(p->err, pattern), "%s: stderr does not match /%s/:\n%s", what, pattern,
	          p->err);
}

/*
 * len bytes of text as a file ending in suffix, given to the binary as its
 * last argument after each of two argument lists (terse, and the other
 * output mode): both must reject it with exit 2, naming "FILE:LINE: " and a
 * message matching msg.
 */
static void assert_file_rejected(const char *text, size_t len, const char *suffix, int line,
                                 const char *msg, const char *const a[], const char *const b[])
{
	char *path = bin_temp_file(text, len, suffix);
	const char *const *lists[2] = {a, b};
	char pattern[512];

	snprintf(pattern, sizeof(pattern), "^%s:%d: .*%s", path, line, msg);
	for (int k = 0; k < 2; k++) {
		const char *args[8];
		int n = 0;

		while (lists[k][n] && n < 6) {
			args[n] = lists[k][n];
			n++;
		}
		args[n++] = path;
		args[n] = NULL;
		struct bin_out p = bin_run(args, NULL);

		assert_bad_input(&p, text, pattern);
		bin_out_free(&p);
	}
	unlink(path);
	free(path);
}

/* ---- scripts ------------------------------------------------------------- */

struct script_case {
	const char *text;
	size_t len;      /* 0: strlen(text) */
	int line;        /* where the message must point */
	const char *msg; /* regex on what follows "FILE:LINE: " */
};

static const struct script_case bad_scripts[] = {
    {"frobnicate 1\n", 0, 1, "unknown statement 'frobnicate'"},
    {"p = malloc 1\n\nmalloc\n", 0, 3, "'malloc' takes 1 argument"},
    {"malloc 1 2\n", 0, 1, "takes 1 argument"},
    {"malloc 12abc\n", 0, 1, "bad number '12abc'"},
    {"malloc 0x\n", 0, 1, "bad number '0x'"},
    {"malloc 99999999999999999999999\n", 0, 1, "bad number"}, /* overflows 64 bits */
    {"malloc 0x10000000000000000\n", 0, 1, "bad number"},     /* 17 hex digits */
    {"malloc 17179869184G\n", 0, 1, "bad number"},            /* 2^34 G = 2^64 */
    {"malloc 16T\n", 0, 1, "bad number '16T'"},
    {"free q\n", 0, 1, "undefined variable 'q'"},
    {"x = y + 1\n", 0, 1, "undefined variable 'y'"},
    {"show foo\n", 0, 1, "unknown view 'foo'"},
    {"show pagetable\n", 0, 1, "pagetable"},
    {"m = mmap 4096 rwz\n", 0, 1, "bad protection 'rwz'"},
    {"setrlimit nofile 1\n", 0, 1, "unknown resource 'nofile'"},
    {"expect 1\n", 0, 1, "expected a comparison"},
    {"expect 1 <> 2\n", 0, 1, "expected"},
    {"x = 1 +\n", 0, 1, "expected a number or a variable"},
    {"x = faults faults\n", 0, 1, "unexpected 'faults'"},
    {"brk = 1\n", 0, 1, "cannot assign to 'brk'"},
    {"x = 1\0\n", 7, 1, "NUL"},
    {"x = 1\npolicy glibc\n", 0, 2, "'policy' must come before"},
    {"policy nosuch\n", 0, 1, "unknown malloc policy 'nosuch'"},
    {"x = \xff\xfe\n", 0, 1, "unexpected byte 0xff"},
    {"x = 1\n\ny = 2 \x01\n", 0, 3, "unexpected byte 0x01"},
    {"x = 1\ny = 2\n\0\n", 14, 3, "NUL"},
    {"p = malloc 8\r\nv = load p 0 0\r\n", 0, 2, "1 to 8 bytes"},
    {"sysctl vm.nonesuch=1\n", 0, 1, "unknown sysctl 'vm.nonesuch'"},
    {"sysctl\n", 0, 1, "'sysctl' needs vm.NAME=VALUE"},
    {"sysctl vm.swappiness\n", 0, 1, "'sysctl vm.swappiness' needs a value"},
    {"sysctl vm.swappiness=1 2\n", 0, 1, "unexpected"},
    {"vm.x = 1\n", 0, 1, "'vm.x' is not a variable name"},
    {"swapon\n", 0, 1, "'swapon' takes 1 argument"},
    {"swapoff 1\n", 0, 1, "'swapoff' takes no argument|takes 0"},
    {"oom_score_adj\n", 0, 1, "'oom_score_adj' takes 1 argument"},
};

Test(badinput, every_malformed_script_is_named_with_its_line_and_exits_2)
{
	static const char *const run[] = {"run", NULL}, *const run_json[] = {"run", "--json", NULL};

	for (size_t i = 0; i < sizeof(bad_scripts) / sizeof(bad_scripts[0]); i++) {
		const struct script_case *c = &bad_scripts[i];

		assert_file_rejected(c->text, c->len ? c->len : strlen(c->text), ".ams", c->line,
		                     c->msg, run, run_json);
	}
}

/* One form for every command: "aftermalloc CMD: FILE: reason", exit 2. */
Test(badinput, files_that_cannot_be_read_name_the_command_and_exit_2)
{
	static const char *const cmds[] = {"run", "step", "quiz", "view", "replay"};
	char want[128];

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *missing[] = {cmds[i], "/nonexistent/x.ams", NULL};
		const char *dir[] = {cmds[i], "/tmp", NULL};
		struct bin_out p = bin_run(missing, NULL), q = bin_run(dir, NULL);

		snprintf(want, sizeof(want),
		         "^aftermalloc %s: /nonexistent/x.ams: No such file or directory\n$",
		         cmds[i]);
		assert_bad_input(&p, cmds[i], want);
		snprintf(want, sizeof(want), "^aftermalloc %s: /tmp: .*[Ii]s a directory\n$",
		         cmds[i]);
		assert_bad_input(&q, cmds[i], want);
		bin_out_free(&p);
		bin_out_free(&q);
	}
}

/* Usage errors: the same form, then the hint, for every command. */
Test(badinput, usage_errors_name_the_command_then_the_hint)
{
	static const char *const cmds[] = {"run",    "step", "quiz",  "view",
	                                   "replay", "gen",  "record"};
	static const char *const bad[][3] = {
	    {"--nope", NULL}, {"--malloc", "nope"}, {"--phys", "512K"}};
	char want[256];

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		for (size_t j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			const char *args[] = {cmds[i], bad[j][0], bad[j][1], NULL};
			struct bin_out p;

			if (j > 0 &&
			    (strcmp(cmds[i], "gen") == 0 || strcmp(cmds[i], "record") == 0))
				continue; /* they take no --malloc or --phys */
			p = bin_run(args, NULL);
			snprintf(want, sizeof(want),
			         "^aftermalloc %s: [^\n]*\nTry 'aftermalloc %s --help'[.]\n$",
			         cmds[i], cmds[i]);
			assert_bad_input(&p, cmds[i], want);
			bin_out_free(&p);
		}
	}
}

/* Found by the fuzzer: "x = 1\r" with no LF at the end looped for ever. */
Test(badinput, odd_but_valid_scripts_run, .timeout = 30)
{
	static const char *const ok[] = {
	    "",                        /* empty */
	    "\n\n# only comments\n",   /* no statement */
	    "x = 1\r",                 /* a last line ending in CR, no LF */
	    "x = 1\r\n\r\n",           /* CRLF */
	    "x = 1",                   /* no newline at all */
	    "   \t  x   =   1  # c\n", /* blanks everywhere */
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *path = bin_temp_file(ok[i], strlen(ok[i]), ".ams");
		const char *args[] = {"run", path, NULL};
		struct bin_out p = bin_run(args, NULL);

		assert_no_signal(&p, ok[i]);
		cr_assert_eq(p.status, 0, "'%s': exit %d\n%s", ok[i], p.status, p.err);
		bin_out_free(&p);
		unlink(path);
		free(path);
	}
}

Test(badinput, a_line_of_a_megabyte_is_read_whole)
{
	size_t n = 1 << 20;
	char *text = malloc(n + 16);
	char *path, pattern[256];
	struct bin_out p;

	memcpy(text, "x = 1", 5);
	for (size_t i = 5; i < n; i++)
		text[i] = i % 2 ? '+' : '1';
	memcpy(text + n, "+\n", 3);
	path = bin_temp_file(text, n + 2, ".ams");
	{
		const char *args[] = {"run", path, NULL};

		p = bin_run(args, NULL);
	}
	/* The sum ends in "+": the parser must say so, at line 1, after
	   reading the whole line. */
	snprintf(pattern, sizeof(pattern), "^%s:1: ", path);
	assert_bad_input(&p, "1 MiB line", pattern);
	bin_out_free(&p);
	unlink(path);
	free(path);
	free(text);
}

/* ---- sizes and addresses at run time ------------------------------------- */

/*
 * What a C program gets from glibc and Linux for absurd sizes and addresses:
 * a failure return, never a crash of the simulator. Each expect is what the
 * real calls return (sbrk's and brk's quirks included: a refused shrink
 * looks like success).
 */
static const char sizes_script[] =
    "policy glibc\n"
    "p = malloc 0\n"
    "expect p != 0\n" /* malloc(0) is a unique pointer */
    "a = malloc 0xffffffffffffffff\n"
    "expect a == 0\n"
    "b = malloc 0x8000000000000000\n"
    "expect b == 0\n"
    "c = malloc 0x7fffffffffffffff\n"
    "expect c == 0\n"
    "d = calloc 0xffffffffffffffff 2\n" /* nmemb * size overflows */
    "expect d == 0\n"
    "e = calloc 0x100000000 0x100000000\n"
    "expect e == 0\n"
    "q = malloc 100\n"
    "store q 0 0x5a 100\n"
    "r = realloc q 0xffffffffffffffff\n" /* fails, q untouched */
    "expect r == 0\n"
    "v = load q 99 1\n"
    "expect v == 0x5a\n"
    "m1 = posix_memalign 3 16\n" /* EINVAL */
    "expect m1 == 0\n"
    "m2 = posix_memalign 0 16\n"
    "expect m2 == 0\n"
    "m3 = posix_memalign 0x8000000000000000 16\n"
    "expect m3 == 0\n"
    "s1 = sbrk 0x7fffffffffffffff\n"
    "expect s1 == -1\n"
    "s2 = sbrk 0-0x7fffffffffffffff\n" /* below 0: glibc refuses */
    "expect s2 == -1\n"
    "s0 = sbrk 0\n"
    "s3 = sbrk 0-0x100000000\n" /* below start_brk: kernel keeps the */
    "expect s3 == s0\n"         /* break, glibc sees no error */
    "expect brk == s0\n"
    "x0 = mmap 0\n" /* EINVAL */
    "expect x0 == -1\n"
    "x1 = mmap 0xffffffffffffffff\n" /* ENOMEM: PAGE_ALIGN overflows */
    "expect x1 == -1\n"
    "x2 = mmap 0x800000000000\n" /* more than the address space */
    "expect x2 == -1\n"
    "u0 = munmap 1 4096\n" /* unaligned */
    "expect u0 == -1\n"
    "u1 = munmap 0 0\n"
    "expect u1 == -1\n"
    "u2 = munmap 0x800000000000 4096\n" /* non-canonical */
    "expect u2 == -1\n"
    "u3 = munmap 0xfffffffffffff000 0x1000\n" /* the kernel's half */
    "expect u3 == -1\n"
    "u4 = munmap 0 0xffffffffffffffff\n"
    "expect u4 == -1\n"
    "k0 = brk 0xffffffffffffffff\n"
    "expect k0 == -1\n"
    "k1 = brk 0x800000000000\n"
    "expect k1 == -1\n"
    "k2 = brk 0\n" /* brk(0) queries: "success" */
    "expect k2 == 0\n"
    "l0 = setrlimit data 2 1\n" /* soft above hard: EINVAL */
    "expect l0 == -1\n"
    "store q 0 1 0\n" /* zero bytes: nothing */
    "n = usable 0\n"
    "expect n == 0\n"
    "show pagetable 0xffff800000000000\n"
    "show pagetable 0x800000000000\n"
    "show pagetable 1\n";

Test(badinput, absurd_sizes_and_addresses_fail_as_on_linux_and_the_run_goes_on)
{
	char *path = bin_temp_file(sizes_script, strlen(sizes_script), ".ams");
	const char *args[] = {"run", path, NULL};
	struct bin_out p = bin_run(args, NULL);

	assert_no_signal(&p, "sizes");
	cr_assert_eq(p.status, 0, "exit %d\n%s", p.status, p.err);
	cr_assert_eq(p.err_len, 0, "%s", p.err);
	bin_out_free(&p);
	unlink(path);
	free(path);
}

/* A wild access kills the simulated program, never the host: exit 1 and the
   kernel's line (for a non-canonical address, the #GP "traps:" line). */
Test(badinput, wild_addresses_kill_the_program_with_the_kernels_report)
{
	static const struct {
		const char *stmt, *report;
	} cases[] = {
	    {"store 0 0 1 1", "segfault at 0 ip [0-9a-f]{16} sp [0-9a-f]{16} error 6$"},
	    {"v = load 1 0 8", "segfault at 1 ip [0-9a-f]{16} sp [0-9a-f]{16} error 4$"},
	    {"v = load 0xffff800000000000 0 8", "segfault at ffff800000000000 ip .* error [45]$"},
	    {"v = load 0x800000000000 0 8",
	     "^traps: [^[]+\\[1\\] general protection fault ip:[0-9a-f]+ sp:[0-9a-f]+ error:0$"},
	    {"store 0x7ffffffffffffff0 0 1 100", "general protection fault"},
	    {"touch 0x7ffffffff000 0 0x100000000", "segfault at 7ffffffff000 .* error 6$"},
	    {"read 0x555555554000 0 0x100000000", "segfault at "},
	    {"store 0x555555554000 0 1 1",
	     "segfault at 555555554000 .* error [67]$"}, /* text: r-x */
	    {"p = malloc 16\nfree p\nfree p", "^free\\(\\): double free detected in tcache 2$"},
	    {"p = malloc 16\nfree p+16", "^free\\(\\): invalid pointer$"},
	    /* glibc reads the chunk header at p-8 first: a segfault, as for real. */
	    {"free 0x1000", "segfault at ff8 ip [0-9a-f]{16} sp [0-9a-f]{16} error 4$"},
	    {"p = realloc 0x1000 10", "segfault at ff8 .* error 4$"},
	    {"p = malloc 64\np = realloc p+8 100", "^realloc\\(\\): invalid pointer$"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		char *path;
		struct bin_out p;

		snprintf(text, sizeof(text), "policy glibc\n%s\n", cases[i].stmt);
		path = bin_temp_file(text, strlen(text), ".ams");
		{
			const char *args[] = {"run", path, NULL};

			p = bin_run(args, NULL);
		}
		assert_no_signal(&p, cases[i].stmt);
		cr_assert_eq(p.status, 1, "%s: exit %d\n%s", cases[i].stmt, p.status, p.err);
		cr_assert(matches(p.err, cases[i].report), "%s: stderr does not match /%s/:\n%s",
		          cases[i].stmt, cases[i].report, p.err);
		bin_out_free(&p);
		unlink(path);
		free(path);
	}
}

/* ---- traces -------------------------------------------------------------- */

struct trace_case {
	const char *text;
	int line;
	const char *msg;
};

static const struct trace_case bad_traces[] = {
    {"0\n1\n1\n1\nx 0 1\n", 5, "unknown operation 'x'"},
    {"0\n1\n1\n1\na 0\n", 5, "missing size"},
    {"0\n1\n1\n1\na 0 -5\n", 5, "negative size"},
    {"0\n1\n1\n1\na 0 99999999999999999999\n", 5, "overflows 64 bits"},
    {"0\n1\n1\n1\na 0 0xffffffffffffffff\n", 5, "size"},
    {"0\n1\n1\n1\na 99999999 1\n", 5, "id '99999999' too large"},
    {"0\n1\n1\n1\na -2 1\n", 5, "id"},
    {"0\n1\n1\n1\na 0 1 junk\n", 5, "junk"},
    {"0\n1\n", 2, "missing header"},
    {"", 1, "missing header"},
    {"0\n-1\n1\n1\na 0 1\n", 2, "header"},
    {"0\n1\n1\n1\nf\n", 5, ""},
    {"0\n1\n2\n1\na 0 1\nr 0\n", 6, "missing size"},
};

Test(badinput, every_malformed_trace_is_named_with_its_line_and_exits_2)
{
	static const char *const replay[] = {"replay", NULL},
	                         *const replay_all[] = {"replay", "--malloc", "all", "--json", NULL};

	for (size_t i = 0; i < sizeof(bad_traces) / sizeof(bad_traces[0]); i++) {
		const struct trace_case *c = &bad_traces[i];

		assert_file_rejected(c->text, strlen(c->text), ".rep", c->line, c->msg, replay,
		                     replay_all);
	}
}

/* A well-formed trace that asks for the impossible is an invalid replay
   (exit 1), with the operation's line; a huge request is malloc's NULL. */
Test(badinput, impossible_replays_are_invalid_with_exit_1)
{
	static const char *const traces[] = {
	    "0\n1\n3\n1\na 0 1\nf 0\nf 0\n",          /* double free */
	    "0\n1\n1\n1\na 0 18446744073709551615\n", /* malloc(SIZE_MAX) */
	    "0\n2\n2\n1\na 0 8\na 0 8\n",             /* id allocated twice */
	};

	for (size_t i = 0; i < sizeof(traces) / sizeof(traces[0]); i++) {
		char *path = bin_temp_file(traces[i], strlen(traces[i]), ".rep");
		const char *args[] = {"replay", path, NULL};
		struct bin_out p = bin_run(args, NULL);

		assert_no_signal(&p, traces[i]);
		cr_assert_eq(p.status, 1, "'%s': exit %d\n%s", traces[i], p.status, p.err);
		cr_assert(matches(p.err, "line [0-9]+"), "no line in: %s", p.err);
		bin_out_free(&p);
		unlink(path);
		free(path);
	}
}

/* ---- the command line ---------------------------------------------------- */

struct opt_case {
	const char *args[8];
	const char *msg; /* regex; names the option */
};

Test(badinput, every_bad_option_names_the_option_and_exits_2)
{
	char script[4096], trace[4096];
	static struct opt_case cases[] = {
	    {{NULL}, "usage"},
	    {{"frob"}, "unknown command 'frob'"},
	    {{"run"}, "no script given"},
	    {{"run", "--frob", "S"}, "unknown option '--frob'"},
	    {{"run", "-Z", "S"}, "unknown option '-Z'"},
	    {{"run", "--phys", "0", "S"}, "--phys"},
	    {{"run", "--phys", "abc", "S"}, "--phys: bad size 'abc'"},
	    {{"run", "--phys", "-1", "S"}, "--phys"},
	    {{"run", "--phys", "99999999999999999999", "S"}, "--phys"},
	    {{"run", "--phys", "1T", "S"}, "--phys"},
	    {{"run", "--phys", "4K", "S"}, "RAM"},
	    {{"run", "--phys", "4097", "S"}, "RAM"},
	    {{"run", "--phys", "0xfffffffffffff000", "S"}, "RAM"},
	    {{"run", "--phys", "512G", "S"}, "RAM: at most 549755809792 \\(512 GiB less one page\\)"},
	    {{"run", "--swap", "abc", "S"}, "--swap: bad size 'abc'"},
	    {{"run", "--swap", "100G", "S"}, "swap: it must be at least 40960 bytes \\(10 pages\\) and at most 64 GiB"},
	    {{"run", "--swap", "4K", "S"}, "swap: it must be at least"},
	    {{"step", "--swap", "x", "S"}, "--swap: bad size 'x'"},
	    {{"run", "--malloc", "nosuch", "S"}, "--malloc: unknown malloc policy 'nosuch'"},
	    {{"run", "--malloc"}, "'--malloc' needs a value"},
	    {{"run", "--seed", "x", "S"}, "--seed"},
	    {{"run", "--seed", "-1", "S"}, "--seed"},
	    {{"run", "--tlb", "3", "S"}, "--tlb"},
	    {{"run", "--tlb", "64,0", "S"}, "--tlb"},
	    {{"run", "--tlb", "64,x", "S"}, "--tlb"},
	    {{"run", "--tlb", "0", "S"}, "--tlb"},
	    {{"run", "--events", "/nonexistent/dir/e.jsonl", "S"}, "/nonexistent/dir/e.jsonl"},
	    {{"run", "--perfetto", "/nonexistent/dir/p.json", "S"}, "/nonexistent/dir/p.json"},
	    {{"run", "S", "S"}, "one script at a time"},
	    {{"replay"}, "no trace given"},
	    {{"replay", "--malloc", "nosuch", "T"}, "nosuch"},
	    {{"replay", "--phys", "x", "T"}, "'x'"},
	    {{"replay", "--phys", "4K", "T"}, "RAM"},
	    {{"replay", "--phys", "512G", "T"}, "at most 549755809792"},
	    {{"replay", "--frob", "T"}, "--frob"},
	    {{"step"}, "(no script|which script|not available)"},
	    {{"view"}, "(no script|which script|not available)"},
	};

	snprintf(script, sizeof(script), "%s/demos/brk-basics.ams", bin_root());
	snprintf(trace, sizeof(trace), "%s/tests/fuzz/corpus/trace/malloc.rep", bin_root());
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[8];
		char what[256] = "aftermalloc";
		struct bin_out p;
		size_t n;

		for (n = 0; cases[i].args[n]; n++) {
			args[n] = strcmp(cases[i].args[n], "S") == 0   ? script
			          : strcmp(cases[i].args[n], "T") == 0 ? trace
			                                               : cases[i].args[n];
			strncat(what, " ", sizeof(what) - strlen(what) - 1);
			strncat(what, cases[i].args[n], sizeof(what) - strlen(what) - 1);
		}
		args[n] = NULL;
		p = bin_run(args, NULL);
		assert_no_signal(&p, what);
		cr_expect_eq(p.status, 2, "%s: exit %d, expected 2\n%s", what, p.status, p.err);
		cr_expect_eq(p.out_len, 0, "%s: printed on stdout: %s", what, p.out);
		cr_expect(matches(p.err, cases[i].msg), "%s: stderr does not match /%s/:\n%s", what,
		          cases[i].msg, p.err);
		bin_out_free(&p);
	}
}

/* The viewer's command line, once demos/view/view.c is part of the build: checked
   before any window opens (bin_run unsets DISPLAY). */
Test(badinput, the_viewers_bad_options_exit_2_without_a_window)
{
	char script[4096];
	const char *help[] = {"view", "--help", NULL};
	struct bin_out h = bin_run(help, NULL);
	static const struct {
		const char *args[7];
		const char *msg;
	} cases[] = {
	    {{"view", "--frob", "S"}, "unknown option '--frob'"},
	    {{"view", "S", "--screenshot", "/tmp/am_bad.png", "--at", "x"}, "--at"},
	    {{"view", "S", "--screenshot", "/tmp/am_bad.png", "--at", "-1"}, "--at"},
	    {{"view", "S", "--at", "99999999999999999999999"}, "--at"},
	    {{"view", "S", "--screenshot", "/tmp/am_bad.png", "--size", "0x0"}, "--size"},
	    {{"view", "S", "--screenshot", "/tmp/am_bad.png", "--size", "100000x100000"}, "--size"},
	    {{"view", "S", "--screenshot", "/tmp/am_bad.png", "--size", "x"}, "--size"},
	    {{"view", "S", "--screenshot", "/nonexistent/dir/v.png", "--at", "1"},
	     "/nonexistent/dir/v.png"},
	    /* the simulation options are run's (options.h): --tlb too */
	    {{"view", "S", "--tlb", "3"}, "^aftermalloc view: --tlb: '3' is not ENTRIES"},
	    {{"view", "/nonexistent.ams"},
	     "^aftermalloc view: /nonexistent.ams: No such file or directory\n$"},
	};

	assert_no_signal(&h, "view --help");
	if (h.status != 0) {
		bin_out_free(&h);
		cr_skip_test("no viewer in this build");
	}
	bin_out_free(&h);
	snprintf(script, sizeof(script), "%s/demos/brk-basics.ams", bin_root());
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[8];
		size_t n;
		struct bin_out p;

		for (n = 0; n < 7 && cases[i].args[n]; n++)
			args[n] = strcmp(cases[i].args[n], "S") == 0 ? script : cases[i].args[n];
		args[n] = NULL;
		p = bin_run(args, NULL);
		assert_no_signal(&p, cases[i].msg);
		cr_expect_eq(p.status, 2, "view case %zu: exit %d\n%s", i, p.status, p.err);
		cr_expect(matches(p.err, cases[i].msg),
		          "view case %zu: stderr does not match /%s/:\n%s", i, cases[i].msg, p.err);
		bin_out_free(&p);
	}
}

/* ---- the crash library: what the real kernel and glibc print ------------- */

static const struct {
	const char *script, *report;
} crash_reports[] = {
    {"wild-store.ams",
     "^wild-store\\[1\\]: segfault at 1000 ip [0-9a-f]{16} sp [0-9a-f]{16} error 6$"},
    {"shrink-segv.ams", "^shrink-segv\\[1\\]: segfault at [0-9a-f]+ ip .* error 6$"},
    {"readonly-store.ams", "^readonly-store\\[1\\]: segfault at [0-9a-f]+ ip .* error 7$"},
    {"double-free.ams", "^free\\(\\): double free detected in tcache 2$"},
    {"double-free-prev.ams", "^double free or corruption \\(!prev\\)$"},
    {"invalid-free.ams", "^free\\(\\): invalid pointer$"},
    {"corrupted-top.ams", "^malloc\\(\\): corrupted top size$"},
};

Test(badinput, every_crash_scenario_prints_the_real_message_and_exits_1)
{
	for (size_t i = 0; i < sizeof(crash_reports) / sizeof(crash_reports[0]); i++) {
		char path[4096];
		const char *args[] = {"run", path, NULL};
		const char *args_json[] = {"run", "--json", path, NULL};
		struct bin_out p, pj;
		cJSON *last = NULL;
		char *line, *save = NULL;

		snprintf(path, sizeof(path), "%s/demos/crash/%s", bin_root(), crash_reports[i].script);
		p = bin_run(args, NULL);
		assert_no_signal(&p, path);
		cr_assert_eq(p.status, 1, "%s: exit %d\n%s", path, p.status, p.err);
		cr_assert(matches(p.err, crash_reports[i].report),
		          "%s: stderr does not match /%s/:\n%s", path, crash_reports[i].report,
		          p.err);
		/* --json: the host goes on to the summary after the death. */
		pj = bin_run(args_json, NULL);
		cr_assert_eq(pj.status, 1, "%s --json: exit %d", path, pj.status);
		for (line = strtok_r(pj.out, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			cJSON_Delete(last);
			last = cJSON_Parse(line);
			cr_assert_not_null(last, "%s --json: not JSON: %s", path, line);
		}
		cr_assert_not_null(last);
		cr_assert_not_null(cJSON_GetObjectItem(last, "summary"),
		                   "%s: no summary at the end", path);
		cJSON_Delete(last);
		bin_out_free(&p);
		bin_out_free(&pj);
	}
}

/* The other policies report a bad free too, with glibc's words. */
Test(badinput, a_bad_free_aborts_under_every_policy_that_checks)
{
	static const char *const policies[] = {"firstfit", "nextfit", "bestfit", "glibc"};
	char *path = bin_temp_file("p = malloc 64\nfree p+8\n", 23, ".ams");

	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
		const char *args[] = {"run", "--malloc", policies[i], path, NULL};
		struct bin_out p = bin_run(args, NULL);

		assert_no_signal(&p, policies[i]);
		cr_assert_eq(p.status, 1, "%s: exit %d\n%s", policies[i], p.status, p.err);
		cr_assert(matches(p.err, "^free\\(\\): invalid pointer$"), "%s: %s", policies[i],
		          p.err);
		bin_out_free(&p);
	}
	unlink(path);
	free(path);
}

/* P+OFF wraps at 2^64 as the CPU's address arithmetic does (reference.md,
   Values and expressions): 0x7fffffffffffffff + 1 is the non-canonical
   0x8000000000000000, a general protection fault of the program, and no
   overflow of the host (the sanitizer build aborts on one). Also through
   quiz and the viewer, which run statements the same way; and expressions,
   whose operators wrap too. */
Test(badinput, address_arithmetic_wraps_as_the_cpu_s, .timeout = 60)
{
	static const char *const stmts[] = {
	    "store 0x7fffffffffffffff 1 1",   "v = load 0x7fffffffffffffff 1 1",
	    "touch 0x7fffffffffffffff 1 1",   "read 0x7fffffffffffffff 1 1",
	    "store -0x8000000000000000 -1 1", "v = load 1 -0x8000000000000000",
	};

	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		char *path = bin_script_file(stmts[i]);
		const char *run[] = {"run", path, NULL};
		const char *quiz[] = {"quiz", path, "--answers", NULL};
		const char *view[] = {"view", path, "--screenshot", "/dev/null", "--at", "400", NULL};
		struct bin_out p = bin_run(run, NULL);

		assert_no_signal(&p, stmts[i]);
		cr_expect_eq(p.status, 1, "%s: status %d\n%s", stmts[i], p.status, p.err);
		cr_expect(strstr(p.err, "general protection fault") || strstr(p.err, "segfault at"),
		          "%s: %s", stmts[i], p.err);
		bin_out_free(&p);
		p = bin_run(quiz, NULL);
		assert_no_signal(&p, stmts[i]);
		cr_expect_eq(p.status, 0, "quiz %s: status %d\n%s", stmts[i], p.status, p.err);
		bin_out_free(&p);
		p = bin_run(view, NULL);
		assert_no_signal(&p, stmts[i]);
		cr_expect_eq(p.status, 0, "view %s: status %d\n%s", stmts[i], p.status, p.err);
		bin_out_free(&p);
		unlink(path);
		free(path);
	}
}

Test(badinput, expressions_wrap_at_2_to_the_64)
{
	char *path = bin_script_file("a = 0x7fffffffffffffff + 1\n"
	                             "expect a == -0x8000000000000000\n"
	                             "b = -a\n"
	                             "expect b == a\n"
	                             "c = a * 2 + (a - 1) * 3\n"
	                             "expect c == 0x7ffffffffffffffd\n"
	                             "d = a / -1\n"
	                             "expect d == a\n"
	                             "e = a % -1\n"
	                             "expect e == 0\n"
	                             "f = 1 << 63 << 1\n"
	                             "expect f == 0\n"
	                             "for i = 0x7ffffffffffffffe to 0x7fffffffffffffff\n"
	                             "end\n"
	                             "expect i == a\n");
	const char *run[] = {"run", path, NULL};
	struct bin_out p = bin_run(run, NULL);

	assert_no_signal(&p, "wrapping expressions");
	/* the report cut: a loop that does not end prints a million lines, and
	   Criterion hangs on an assertion message that large */
	cr_expect_eq(p.status, 0, "status %d\n%.2000s%.2000s", p.status, p.out, p.err);
	bin_out_free(&p);
	unlink(path);
	free(path);
}

/* --check after every statement: a heap the script broke on purpose is a
   finding about the simulated program (exit 1, the chunk and the
   invariant), not an abort of the host (a panic is for the simulator's own
   invariants). */
Test(badinput, check_reports_a_corrupted_heap_as_the_program_s_bug, .timeout = 60)
{
	static const struct {
		const char *text, *line, *finding;
	} cases[] = {
	    /* the top chunk's size overwritten (demos/crash/corrupted-top.ams) */
	    {"p = malloc 24\nstore p 24 0xff 8\nq = malloc 100\n", ":2: ",
	     "glibc heap check: top 0x5555555592b0 has size 0xfffffffffffffff8, more than "
	     "the arena's system_mem 0x21000"},
	    /* the size field of p's own chunk */
	    {"p = malloc 24\nq = malloc 24\nstore p -8 0 1\nfree q\n", ":3: ",
	     "glibc heap check: chunk 0x555555559290 has a bad size 0"},
	    /* a fastbin double free past glibc's fasttop check (a, b, a with
	       the tcache bin full): one chunk in the bin twice */
	    {"for i = 0 to 8\n  p[i] = malloc 24\nend\nfor i = 0 to 6\n  free p[i]\nend\n"
	     "free p[7]\nfree p[8]\nfree p[7]\nx = malloc 24\n",
	     ":9: ", "glibc heap check: chunk 0x555555559370 is in two bins"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = bin_script_file(cases[i].text);
		const char *args[] = {"run", path, "--check", NULL};
		const char *json[] = {"run", path, "--check", "--json", NULL};
		struct bin_out p = bin_run(args, NULL);

		assert_no_signal(&p, cases[i].text);
		cr_expect_eq(p.status, 1, "status %d: %s", p.status, p.err);
		cr_expect(strstr(p.err, cases[i].line) &&
		              strstr(p.err, "the program corrupted its heap (--check): ") &&
		              strstr(p.err, cases[i].finding),
		          "%s", p.err);
		cr_expect_null(strstr(p.err, "panic"), "%s", p.err);
		cr_expect(strstr(p.out, "the program corrupted its heap"), "%s", p.out);
		bin_out_free(&p);
		p = bin_run(json, NULL);
		assert_no_signal(&p, cases[i].text);
		cr_expect_eq(p.status, 1);
		cr_expect(strstr(p.out, "\"heap_corrupt\":"), "%s", p.out);
		bin_out_free(&p);
		unlink(path);
		free(path);
	}
}

/* A token of megabytes is quoted cut in the message. */
Test(badinput, a_huge_bad_token_is_cut_in_the_message, .timeout = 60)
{
	size_t n = 10u << 20;
	static const char *const heads[] = {"x = ", "x = 1", "expect ", "for "};

	for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		size_t l = strlen(heads[h]);
		char *text = malloc(n + l + 2);
		const char *args[] = {"run", "-", NULL};
		struct bin_out p;

		memcpy(text, heads[h], l);
		memset(text + l, heads[h][l - 1] == '1' ? '1' : 'a', n);
		text[l + n] = '\n';
		text[l + n + 1] = 0;
		p = bin_run(args, text);
		assert_no_signal(&p, heads[h]);
		cr_expect_eq(p.status, 2, "%s: status %d", heads[h], p.status);
		cr_expect_lt(p.err_len, 400, "%s...: a message of %zu bytes: %.300s", heads[h],
		             p.err_len, p.err);
		cr_expect(strncmp(p.err, "<stdin>:1: ", 11) == 0, "%.300s", p.err);
		bin_out_free(&p);
		free(text);
	}
}

/* No byte of a script or of its name reaches a terminal as a control
   sequence, and every JSON output stays valid UTF-8. */
static bool valid_utf8_without_escapes(const char *s, size_t n)
{
	return text_bad_byte(s, n) == NULL;
}

Test(badinput, control_bytes_in_a_script_are_refused, .timeout = 60)
{
	static const char *const texts[] = {
	    "# \x1b]0;owned\x07 a comment that retitles the terminal\nx = 1\n",
	    "x = 1\n# \x1b[2J clear the screen\n",
	    "expect stderr \"\x1b[31m\"\n",
	    "x = 1 # \xc2\x9b (CSI, as UTF-8)\n",
	    "# \xff not UTF-8\n",
	    "x = 1\r# a carriage return that rewrites the line\n",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *path = bin_script_file(texts[i]);
		const char *run[] = {"run", path, NULL};
		const char *quiz[] = {"quiz", path, "--answers", NULL};
		struct bin_out p = bin_run(run, NULL);

		assert_no_signal(&p, texts[i]);
		cr_expect_eq(p.status, 2, "case %zu: status %d: %s", i, p.status, p.err);
		cr_expect(strstr(p.err, ": unexpected byte 0x"), "case %zu: %s", i, p.err);
		cr_expect(valid_utf8_without_escapes(p.err, p.err_len), "case %zu: %s", i, p.err);
		cr_expect(valid_utf8_without_escapes(p.out, p.out_len), "case %zu", i);
		bin_out_free(&p);
		p = bin_run(quiz, NULL);
		cr_expect_eq(p.status, 2, "quiz case %zu: status %d", i, p.status);
		cr_expect(valid_utf8_without_escapes(p.err, p.err_len), "quiz case %zu: %s", i,
		          p.err);
		bin_out_free(&p);
		unlink(path);
		free(path);
	}
}

Test(badinput, a_script_name_that_is_not_utf8_keeps_every_output_valid, .timeout = 60)
{
	char dir[] = "/tmp/test_badinput_name_XXXXXX", path[256], pf[300], trace[300];
	const char *json[] = {"run", path, "--json", "--perfetto", pf, NULL};
	const char *text[] = {"run", path, NULL};
	const char *replay[] = {"replay", trace, "--json", NULL};
	struct bin_out p;
	FILE *f;
	char *perfetto;
	size_t len;
	cJSON *o;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bad\xff\xfe name \x1b[31mred\x1b[0m.ams", dir);
	snprintf(pf, sizeof(pf), "%s/out.json", dir);
	snprintf(trace, sizeof(trace), "%s/t\xff\x1b[2J.rep", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("p = malloc 10\nshow status\n", f);
	fclose(f);
	f = fopen(trace, "w");
	cr_assert_not_null(f);
	fputs("0\n1\n1\n1\na 0 10\n", f);
	fclose(f);

	p = bin_run(json, NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	cr_expect(valid_utf8_without_escapes(p.out, p.out_len), "--json: %s", p.out);
	for (char *line = strtok(p.out, "\n"); line; line = strtok(NULL, "\n")) {
		o = cJSON_Parse(line);
		cr_expect_not_null(o, "not JSON: %s", line);
		cJSON_Delete(o);
	}
	bin_out_free(&p);
	perfetto = bin_read_file(pf, &len);
	cr_expect(valid_utf8_without_escapes(perfetto, len), "--perfetto is not valid UTF-8");
	o = cJSON_Parse(perfetto);
	cr_expect_not_null(o, "--perfetto is not JSON");
	cJSON_Delete(o);
	free(perfetto);

	p = bin_run(text, NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	cr_expect(valid_utf8_without_escapes(p.out, p.out_len), "the text report: %s", p.out);
	bin_out_free(&p);

	p = bin_run(replay, NULL);
	cr_expect_eq(p.status, 0, "%s", p.err);
	cr_expect(valid_utf8_without_escapes(p.out, p.out_len), "replay --json: %s", p.out);
	o = cJSON_Parse(p.out);
	cr_expect_not_null(o, "replay --json: %s", p.out);
	cJSON_Delete(o);
	bin_out_free(&p);

	unlink(path);
	unlink(pf);
	unlink(trace);
	rmdir(dir);
}
