/*
 * test_run.c - the `aftermalloc` binary from outside, as a user runs it:
 * `run` on every scenario of demos/ (the scripts of demos/ exit 0, those of demos/crash/
 * are expected to die: exit 1), exit codes 0/1/2, malformed scripts, the
 * --json shape and the --events file's determinism.
 *
 * AM_BIN is the binary (make test sets it to build/aftermalloc) and AM_ROOT
 * the project root; without them, build/aftermalloc and "." are used.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "tests/support_bin.h"

/* Run bin with args (NULL-terminated), capturing stdout and stderr. */
static struct bin_out run(const char *const *args)
{
	return bin_run(args, NULL);
}

static char *demo_path(const char *name)
{
	char *p;

	cr_assert_geq(asprintf(&p, "%s/demos/%s", bin_root(), name), 0);
	return p;
}

/* ---- the scenario library --------------------------------------------- */

Test(run, every_demo_script_runs_with_exit_status_0, .timeout = 60)
{
	char *pattern = demo_path("*.ams");
	glob_t g;

	cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no scripts in %s", pattern);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *args[] = {"run", g.gl_pathv[i], NULL};
		struct bin_out p = run(args);

		cr_assert_eq(p.status, 0, "%s: exit %d\n%s", g.gl_pathv[i], p.status, p.err);
		/* Only a death the script expects writes to stderr (its report). */
		cr_assert(p.err_len == 0 || strstr(p.out, ", as the script expects\n"),
		          "%s wrote to stderr: %s", g.gl_pathv[i], p.err);
		cr_assert_not_null(strstr(p.out, "Summary"));
		bin_out_free(&p);
	}
	globfree(&g);
	free(pattern);
}

/* A scenario's expects hold wherever ASLR puts things: every script of
   demos/ and demos/crash/ under a few seeds (the heap then starts up to
   1 GiB past the program, the mmap area and the stack move too). */
Test(run, every_demo_holds_its_expects_under_aslr, .timeout = 120)
{
	static const char *const seeds[] = {"1", "2", "3", "1000"};
	char *pattern = demo_path("{,crash/}*.ams");
	glob_t g;

	cr_assert_eq(glob(pattern, GLOB_BRACE, NULL, &g), 0, "no scripts in %s", pattern);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		bool crash = strstr(g.gl_pathv[i], "/crash/") != NULL;

		for (size_t j = 0; j < sizeof(seeds) / sizeof(seeds[0]); j++) {
			const char *args[] = {"run", g.gl_pathv[i], "--seed", seeds[j], NULL};
			struct bin_out p = run(args);

			cr_assert_eq(p.status, crash ? 1 : 0, "%s --seed %s: exit %d\n%s",
			             g.gl_pathv[i], seeds[j], p.status, p.err);
			cr_assert_null(strstr(p.err, "expect failed"), "%s --seed %s: %s",
			               g.gl_pathv[i], seeds[j], p.err);
			cr_assert_not_null(strstr(p.out, "ASLR on"), "%s", p.out);
			bin_out_free(&p);
		}
	}
	globfree(&g);
	free(pattern);
}

/* One rule for every count (docs/reference.md, What is counted): the
   script's statements are counted, boot and the program's start-up are
   not. A script that runs no simulated code counts one event (its
   statement's) and nothing else, in the text and JSON summaries, in the
   --events file and at the end of step. */
Test(run, counts_start_at_the_first_statement_everywhere)
{
	char *path = bin_script_file("x = 1\n"), *ev;
	const char *text[] = {"run", path, NULL};
	const char *json[] = {"run", path, "--json", NULL};
	struct bin_out p;
	size_t len;
	char *buf;

	cr_assert_geq(asprintf(&ev, "%s.jsonl", path), 0);
	p = run(text);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert_not_null(strstr(p.out, "\n  page faults    0\n"), "%s", p.out);
	cr_assert_not_null(strstr(p.out, "\n  TLB            0 hits, 0 misses\n"), "%s", p.out);
	cr_assert_not_null(strstr(p.out, "\n  events         1 (each one"), "%s", p.out);
	bin_out_free(&p);
	p = run(json);
	cr_assert_not_null(strstr(p.out, "\"page_faults\":0,"), "%s", p.out);
	cr_assert_not_null(strstr(p.out, "\"tlb_hits\":0,\"tlb_misses\":0,\"events\":1,"), "%s",
	                   p.out);
	bin_out_free(&p);
	p = run((const char *[]){"run", path, "--events", ev, NULL});
	bin_out_free(&p);
	buf = bin_read_file(ev, &len);
	cr_assert_eq(len > 0 && strchr(buf, '\n') == buf + len - 1, true, "one line: %s", buf);
	free(buf);
	p = bin_run((const char *[]){"step", path, NULL}, "e\n");
	cr_assert_not_null(strstr(p.out, "after 1 statement (1 events, 0 page faults)"), "%s",
	                   p.out);
	cr_assert_not_null(strstr(p.out, "  faults 0\n"), "%s", p.out);
	bin_out_free(&p);
	unlink(ev);
	unlink(path);
	free(ev);
	free(path);
}

Test(run, the_scenarios_the_design_promises_are_there)
{
	const char *names[] = {"seed-walk.ams",         "first-touch.ams",      "zero-page.ams",
	                       "brk-basics.ams",        "grow-64.ams",          "rlimit-data.ams",
	                       "crash/shrink-segv.ams", "crash/double-free.ams",
	                       "crash/seed-zero-size.ams"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *p = demo_path(names[i]);
		FILE *f = fopen(p, "r");
		char line[256];
		int expects = 0;

		cr_assert_not_null(f, "missing %s", p);
		while (fgets(line, sizeof(line), f))
			expects += strncmp(line, "expect ", 7) == 0;
		cr_assert_gt(expects, 0, "%s has no expect line", p);
		fclose(f);
		free(p);
	}
}

Test(run, every_crash_script_dies_with_exit_status_1_and_a_report, .timeout = 60)
{
	char *pattern = demo_path("crash/*.ams");
	glob_t g;

	cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no scripts in %s", pattern);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *args[] = {"run", g.gl_pathv[i], NULL};
		struct bin_out p = run(args);

		cr_assert_eq(p.status, 1, "%s: exit %d", g.gl_pathv[i], p.status);
		cr_assert_gt(p.err_len, 0, "%s: no report on stderr", g.gl_pathv[i]);
		cr_assert_null(strstr(p.err, "expect failed"), "%s: %s", g.gl_pathv[i], p.err);
		cr_assert_not_null(strstr(p.out, "killed by"));
		bin_out_free(&p);
	}
	globfree(&g);
	free(pattern);
}

/* `run demos/crash/NAME`: it must die (exit status 1); its stdout and stderr. */
static struct bin_out run_crash(const char *name)
{
	char *path = demo_path(name);
	const char *args[] = {"run", path, NULL};
	struct bin_out p = run(args);

	cr_assert_eq(p.status, 1, "%s: exit %d", name, p.status);
	free(path);
	return p;
}

Test(run, shrink_then_store_is_a_segfault_with_the_kernels_line)
{
	struct bin_out p = run_crash("crash/shrink-segv.ams");

	cr_assert_not_null(strstr(p.err, "shrink-segv[1]: segfault at "), "%s", p.err);
	cr_assert_not_null(strstr(p.err, " error 6"), "%s", p.err);
	cr_assert_not_null(strstr(p.out, "SIGSEGV (SEGV_MAPERR)"));
	bin_out_free(&p);
}

/* A script from standard input builds "a.out", as `gcc -x c -` does; the
   messages still call the file <stdin>. */
Test(run, a_script_from_stdin_is_the_program_a_out)
{
	const char *args[] = {"run", "-", "--no-comments", NULL};
	struct bin_out p = bin_run(args, "show status\nshow maps\nstore 0 0 1 1\n");

	cr_assert_eq(p.status, 1, "%s", p.err);
	cr_assert_not_null(strstr(p.out, "aftermalloc run <stdin>\n"), "%s", p.out);
	cr_assert_not_null(strstr(p.out, "Name:\ta.out\n"), "%s", p.out);
	cr_assert_not_null(strstr(p.out, " /usr/bin/a.out\n"), "%s", p.out);
	cr_assert_null(strstr(p.out, "/usr/bin/<"), "%s", p.out);
	cr_assert_not_null(strstr(p.err, "a.out[1]: segfault at 0 "), "%s", p.err);
	bin_out_free(&p);
}

Test(run, double_free_prints_glibcs_message_once)
{
	struct bin_out p = run_crash("crash/double-free.ams");

	cr_assert_str_eq(p.err, "free(): double free detected in tcache 2\n");
	bin_out_free(&p);
}

Test(run, a_loop_on_a_corrupted_heap_ends_with_sigxcpu)
{
	struct bin_out p = run_crash("crash/seed-zero-size.ams");

	cr_assert_str_eq(p.err, "CPU time limit exceeded\n");
	cr_assert_not_null(strstr(p.out, "killed by SIGXCPU (SI_KERNEL)"), "%s", p.out);
	bin_out_free(&p);
}

/* setrlimit cpu: a lower soft limit, in steps, ends the same loop sooner. */
Test(run, setrlimit_cpu_sets_the_limit_in_steps)
{
	char *path = bin_script_file("policy seed\n"
	                             "lim = setrlimit cpu 5000\n"
	                             "expect lim == 0\n"
	                             "bad = setrlimit cpu 50000000000 50000000000\n"
	                             "expect bad == -1\n"
	                             "p = malloc 24\n"
	                             "q = malloc 24\n"
	                             "free p\n"
	                             "store p-8 0 0 8\n"
	                             "r = malloc 100\n");
	const char *args[] = {"run", path, "--json", NULL};
	struct bin_out p = run(args);

	cr_assert_eq(p.status, 1, "%s%s", p.out, p.err);
	cr_assert_str_eq(p.err, "CPU time limit exceeded\n");
	cr_assert_not_null(strstr(p.out, "SIGXCPU"), "%s", p.out);
	bin_out_free(&p);
	unlink(path);
	free(path);
}

/* ---- exit codes and messages ------------------------------------------ */

static void expect_malformed(const char *text, int line, const char *msg)
{
	char *path = bin_script_file(text), *want, *ev;
	const char *args[] = {"run", path, "--json", "--events", NULL, NULL};
	struct bin_out p;

	cr_assert_geq(asprintf(&ev, "%s.jsonl", path), 0);
	args[4] = ev;
	p = run(args);
	cr_assert_geq(asprintf(&want, "%s:%d: %s\n", path, line, msg), 0);
	cr_assert_eq(p.status, 2, "[%s] exit %d", text, p.status);
	cr_assert_eq(p.out_len, 0, "[%s] printed: %s", text, p.out);
	cr_assert_str_eq(p.err, want);
	cr_assert_neq(access(ev, F_OK), 0, "the events file must not be created");
	bin_out_free(&p);
	free(want);
	unlink(path);
	free(path);
	free(ev);
}

Test(run, malformed_scripts_exit_2_with_file_and_line_and_print_nothing)
{
	expect_malformed("p = malloc 1\nfree q\n", 2, "undefined variable 'q'");
	expect_malformed("# c\n\nx = 12Q\n", 3, "bad number '12Q' (decimal, 0x hex, K/M/G suffix)");
	expect_malformed("b = sbrk 4096\nfrob b\n", 2, "unknown statement 'frob'");
	expect_malformed("malloc 1 2\n", 1, "'malloc' takes 1 argument (malloc N), got 2");
	expect_malformed("show buddyinfo please\n", 1, "unexpected 'please' after show's view");
	expect_malformed(
	    "policy nope\np = malloc 1\n", 1,
	    "unknown malloc policy 'nope' (seed, firstfit, nextfit, bestfit, glibc, best)");
}

Test(run, a_failed_expect_exits_1_names_the_line_and_goes_on)
{
	char *path = bin_script_file("b = sbrk 4096\nstore b 0 1 1\nexpect faults == 2\nx = 1\n");
	const char *args[] = {"run", path, NULL};
	struct bin_out p = run(args);
	char *want;

	cr_assert_geq(asprintf(&want, "%s:3: expect failed: faults (1) == 2 (2)\n", path), 0);
	cr_assert_eq(p.status, 1);
	cr_assert_str_eq(p.err, want);
	cr_assert_not_null(strstr(p.out, "   4  x = 1"), "the script goes on:\n%s", p.out);
	bin_out_free(&p);
	free(want);
	unlink(path);
	free(path);
}

Test(run, usage_errors_exit_2)
{
	char *demo = demo_path("first-touch.ams");
	const char *a1[] = {"run", NULL};
	const char *a2[] = {"run", demo, "--frobnicate", NULL};
	const char *a3[] = {"run", demo, "--malloc", "nope", NULL};
	const char *a4[] = {"run", "/nonexistent.ams", NULL};
	const char *a5[] = {"run", demo, "--phys", "lots", NULL};
	const char *a6[] = {"frob", NULL};
	const char *a7[] = {"run", demo, "--tlb", "63,4", NULL};
	const char *const *cases[] = {a1, a2, a3, a4, a5, a6, a7};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bin_out p = run(cases[i]);

		cr_assert_eq(p.status, 2, "case %zu: exit %d", i, p.status);
		cr_assert_eq(p.out_len, 0, "case %zu printed %s", i, p.out);
		cr_assert_gt(p.err_len, 0, "case %zu: no message", i);
		bin_out_free(&p);
	}
	free(demo);
}

Test(run, help_exits_0_and_lists_the_commands)
{
	const char *a1[] = {"--help", NULL};
	const char *a2[] = {"run", "--help", NULL};
	struct bin_out p = run(a1);

	cr_assert_eq(p.status, 0);
	cr_assert_not_null(strstr(p.out, "aftermalloc run"));
	cr_assert_not_null(strstr(p.out, "aftermalloc replay"));
	bin_out_free(&p);
	p = run(a2);
	cr_assert_eq(p.status, 0);
	cr_assert_not_null(strstr(p.out, "--events FILE"));
	bin_out_free(&p);
}

Test(run, a_command_not_in_this_build_says_so_with_exit_2)
{
	const char *names[] = {"step", "view"};

	for (int i = 0; i < 2; i++) {
		const char *args[] = {names[i], "--help", NULL};
		struct bin_out p = run(args);

		/* Either built (its --help works) or it says it is not. */
		if (p.status != 0) {
			cr_assert_eq(p.status, 2);
			cr_assert_not_null(strstr(p.err, "not available in this build"), "%s",
			                   p.err);
		}
		bin_out_free(&p);
	}
}

/* ---- --json ----------------------------------------------------------- */

static cJSON *parse_line(const char *line)
{
	cJSON *o = cJSON_Parse(line);

	cr_assert_not_null(o, "not JSON: %s", line);
	return o;
}

Test(run, json_prints_one_object_a_statement_and_a_summary)
{
	char *path = bin_script_file("# comment\nb = sbrk 4096\nx = sbrk 0x100000000000\n"
	                             "store b 0 1 1\nexpect faults == 1\nshow buddyinfo\n");
	const char *args[] = {"run", "--json", path, NULL};
	struct bin_out p = run(args);
	const char *keys[] = {"line", "op", "ret", "faults", "events", "output", "signal"};
	char *save = NULL, *line;
	int n = 0;
	cJSON *o;

	cr_assert_eq(p.status, 0, "%s", p.err);
	for (line = strtok_r(p.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		o = parse_line(line);
		if (n == 5) {
			cJSON *m = cJSON_GetObjectItem(o, "summary");

			cr_assert_not_null(m, "the last line is the summary");
			cr_assert_eq(cJSON_GetObjectItem(m, "statements")->valuedouble, 5);
			cr_assert_eq(cJSON_GetObjectItem(m, "page_faults")->valuedouble, 1);
			cr_assert_not_null(cJSON_GetObjectItem(m, "brk_calls"));
			cr_assert_not_null(cJSON_GetObjectItem(m, "rss"));
			cr_assert_not_null(cJSON_GetObjectItem(m, "events"));
			cJSON_Delete(o);
			continue;
		}
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			cr_assert(cJSON_HasObjectItem(o, keys[k]), "line %d lacks %s", n, keys[k]);
		cr_assert_eq(cJSON_GetObjectItem(o, "line")->valuedouble, n + 2);
		cr_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "signal")));
		switch (n) {
		case 0:
			cr_assert_str_eq(cJSON_GetObjectItem(o, "op")->valuestring, "sbrk");
			cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(o, "ret")));
			cr_assert_gt(cJSON_GetObjectItem(o, "ret")->valuedouble, 0);
			cr_assert_gt(cJSON_GetObjectItem(o, "events")->valuedouble, 0);
			break;
		case 1:
			cr_assert_eq(cJSON_GetObjectItem(o, "ret")->valuedouble, -1,
			             "sbrk fails: -1");
			break;
		case 2:
			cr_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "ret")));
			cr_assert_eq(cJSON_GetObjectItem(o, "faults")->valuedouble, 1);
			break;
		case 3:
			cr_assert_str_eq(cJSON_GetObjectItem(o, "op")->valuestring, "expect");
			cr_assert(cJSON_IsTrue(
			    cJSON_GetObjectItem(cJSON_GetObjectItem(o, "expect"), "ok")));
			break;
		case 4:
			cr_assert(cJSON_IsString(cJSON_GetObjectItem(o, "output")));
			cr_assert_not_null(strstr(cJSON_GetObjectItem(o, "output")->valuestring,
			                          "Node 0, zone   Normal"));
			break;
		}
		cJSON_Delete(o);
	}
	cr_assert_eq(n, 6);
	bin_out_free(&p);
	unlink(path);
	free(path);
}

Test(run, json_reports_the_signal_that_killed_the_program)
{
	char *path = bin_script_file("b = sbrk 4096\nx = sbrk -4096\nstore b 0 1 1\nx = 2\n");
	const char *args[] = {"run", path, "--json", NULL};
	struct bin_out p = run(args);
	char *save = NULL, *l1 = strtok_r(p.out, "\n", &save), *l2 = strtok_r(NULL, "\n", &save);
	char *l3 = strtok_r(NULL, "\n", &save), *l4 = strtok_r(NULL, "\n", &save);
	cJSON *o, *sig;

	cr_assert_eq(p.status, 1);
	cr_assert_not_null(strstr(p.err, "segfault at"));
	cr_assert(l1 && l2 && l3 && l4);
	cr_assert_null(strtok_r(NULL, "\n", &save), "the script stops at the death");
	o = parse_line(l3);
	sig = cJSON_GetObjectItem(o, "signal");
	cr_assert(cJSON_IsObject(sig));
	cr_assert_str_eq(cJSON_GetObjectItem(sig, "name")->valuestring, "SIGSEGV");
	cr_assert_str_eq(cJSON_GetObjectItem(sig, "code")->valuestring, "SEGV_MAPERR");
	cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(sig, "addr")));
	cr_assert(cJSON_IsString(cJSON_GetObjectItem(sig, "reason")));
	cJSON_Delete(o);
	o = parse_line(l4);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "summary"), "killed")));
	cJSON_Delete(o);
	bin_out_free(&p);
	unlink(path);
	free(path);
}

/* ---- --events ---------------------------------------------------------- */

Test(run, events_files_of_two_runs_are_byte_identical, .timeout = 60)
{
	char *demo = demo_path("seed-walk.ams");
	char e1[] = "/tmp/am_ev1_XXXXXX", e2[] = "/tmp/am_ev2_XXXXXX";
	int f1 = mkstemp(e1), f2 = mkstemp(e2);
	const char *a1[] = {"run", demo, "--events", e1, "--seed", "7", NULL};
	const char *a2[] = {"run", demo, "--seed", "7", "--events", e2, "--json", NULL};
	struct bin_out p1, p2;
	size_t l1, l2;
	char *b1, *b2;

	close(f1);
	close(f2);
	p1 = run(a1);
	p2 = run(a2);
	cr_assert_eq(p1.status, 0, "%s", p1.err);
	cr_assert_eq(p2.status, 0, "%s", p2.err);
	b1 = bin_read_file(e1, &l1);
	b2 = bin_read_file(e2, &l2);
	cr_assert_gt(l1, 1000);
	cr_assert_eq(l1, l2);
	cr_assert_eq(memcmp(b1, b2, l1), 0, "events differ between two runs");
	free(b1);
	free(b2);
	bin_out_free(&p1);
	bin_out_free(&p2);
	unlink(e1);
	unlink(e2);
	free(demo);
}

/* The summary's system calls are every process's, each one of them: the
   same counts as the __x64_sys_NAME calls of the events file, in the JSON
   summary's "syscalls" and on the text summary's line. */
Test(run, the_summary_counts_every_system_call_of_every_process, .timeout = 60)
{
	char *demo = demo_path("fork-thread.ams"); /* threads, a fork, a child's mmap */
	char ev[] = "/tmp/am_ev_XXXXXX";
	int fd = mkstemp(ev);
	const char *aj[] = {"run", demo, "--json", "--events", ev, NULL};
	const char *at[] = {"run", demo, NULL};
	struct bin_out pj, pt;
	cJSON *counts = cJSON_CreateObject(), *sum, *sys, *e;
	char *events, *line, *save = NULL, *text, *want = NULL;
	size_t len;

	close(fd);
	pj = run(aj);
	pt = run(at);
	cr_assert_eq(pj.status, 0, "%s", pj.err);
	cr_assert_eq(pt.status, 0, "%s", pt.err);
	events = bin_read_file(ev, &len);
	for (line = strtok_r(events, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *o = parse_line(line), *fn = cJSON_GetObjectItem(o, "fn");

		if (strcmp(cJSON_GetObjectItem(o, "kind")->valuestring, "call") == 0 &&
		    strncmp(fn->valuestring, "__x64_sys_", 10) == 0) {
			const char *name = fn->valuestring + 10;

			if ((e = cJSON_GetObjectItem(counts, name)))
				cJSON_SetNumberValue(e, e->valuedouble + 1);
			else
				cJSON_AddNumberToObject(counts, name, 1);
		}
		cJSON_Delete(o);
	}
	cr_assert_geq(cJSON_GetArraySize(counts), 8, "threads, fork, exit, wait: many kinds");
	cr_assert_not_null(cJSON_GetObjectItem(counts, "fork") ?: cJSON_GetObjectItem(counts, "clone"));
	sum = parse_line(strstr(pj.out, "{\"summary\""));
	sys = cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "summary"), "syscalls");
	cr_assert(cJSON_Compare(sys, counts, true), "summary %s, events %s", cJSON_PrintUnformatted(sys),
	          cJSON_PrintUnformatted(counts));
	cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "summary"), "mmap_calls")->valuedouble,
	             cJSON_GetObjectItem(counts, "mmap")->valuedouble, "the child's mmap counts too");
	/* the text line: brk, mmap, munmap, then the others in the order of their first call */
	text = strstr(pt.out, "  system calls   ");
	cr_assert_not_null(text);
	cr_assert_not_null(strchr(text, '\n'));
	*strchr(text, '\n') = 0;
	cr_assert_geq(asprintf(&want, "  system calls   brk %d, mmap %d, munmap %d",
	                       cJSON_GetObjectItem(counts, "brk")->valueint,
	                       cJSON_GetObjectItem(counts, "mmap")->valueint,
	                       cJSON_GetObjectItem(counts, "munmap")->valueint), 0);
	cr_assert_eq(strncmp(text, want, strlen(want)), 0, "%s", text);
	cJSON_ArrayForEach(e, counts) {
		char item[64];

		snprintf(item, sizeof(item), " %s %d", e->string, e->valueint);
		cr_assert_not_null(strstr(text, item), "%s missing from %s", item, text);
	}
	free(want);
	free(events);
	cJSON_Delete(sum);
	cJSON_Delete(counts);
	bin_out_free(&pj);
	bin_out_free(&pt);
	unlink(ev);
	free(demo);
}

Test(run, each_event_line_has_seq_layer_kind_fn_depth_in_order)
{
	char *demo = demo_path("first-touch.ams");
	char ev[] = "/tmp/am_ev_XXXXXX";
	int fd = mkstemp(ev);
	const char *args[] = {"run", demo, "--events", ev, NULL};
	struct bin_out p;
	char *buf, *save = NULL, *line;
	size_t len;
	double seq = -1;
	int faults = 0, stmts = 0;

	close(fd);
	p = run(args);
	cr_assert_eq(p.status, 0);
	buf = bin_read_file(ev, &len);
	cr_assert_eq(buf[len - 1], '\n');
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *o = parse_line(line);
		cJSON *kind = cJSON_GetObjectItem(o, "kind");

		cr_assert_eq(strncmp(line, "{\"seq\":", 7), 0, "seq comes first: %s", line);
		/* The file starts at the first statement (boot came before). */
		if (seq < 0) {
			cr_assert_str_eq(kind->valuestring, "stmt");
			seq = cJSON_GetObjectItem(o, "seq")->valuedouble;
		}
		cr_assert_eq(cJSON_GetObjectItem(o, "seq")->valuedouble, seq, "seq %g", seq);
		cr_assert(cJSON_IsString(cJSON_GetObjectItem(o, "layer")));
		cr_assert(cJSON_IsString(kind));
		cr_assert(cJSON_HasObjectItem(o, "fn"));
		cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(o, "depth")));
		faults += strcmp(kind->valuestring, "fault") == 0;
		if (strcmp(kind->valuestring, "stmt") == 0) {
			stmts++;
			cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(o, "line")));
			cr_assert(cJSON_IsString(cJSON_GetObjectItem(o, "text")));
		}
		seq++;
		cJSON_Delete(o);
	}
	cr_assert_eq(faults, 1, "first-touch takes exactly one fault");
	cr_assert_eq(stmts, 18, "one stmt event per statement");
	free(buf);
	bin_out_free(&p);
	unlink(ev);
	free(demo);
}

/* ---- loops, expected deaths, errors at run time ------------------------- */

static struct bin_out run_text(const char *text, const char *opt)
{
	char *script = bin_script_file(text);
	const char *args[] = {"run", script, "--no-comments", opt, NULL};
	struct bin_out p = run(args);

	unlink(script);
	free(script);
	return p;
}

Test(run, a_loop_prints_each_pass_with_its_variable)
{
	struct bin_out p = run_text("for i = 0 to 1\n  p[i] = malloc 16\nend\n", NULL);

	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert_not_null(strstr(p.out, "   1  for i = 0 to 1      -> i = 0\n"), "%s", p.out);
	cr_assert_not_null(strstr(p.out, "   2    p[i] = malloc 16  -> 0x"), "%s", p.out);
	cr_assert_not_null(strstr(p.out, "   3  end                 -> i = 1\n"), "%s", p.out);
	cr_assert_not_null(strstr(p.out, "   3  end                 -> i = 2, done\n"), "%s", p.out);
	cr_assert_not_null(strstr(p.out, "statements     5 run, 3 in the script\n"), "%s", p.out);
	bin_out_free(&p);
}

Test(run, json_gives_a_loop_its_variable_and_the_summary_counts_every_pass)
{
	struct bin_out p = run_text("for i = 5 to 4\nend\nfor j = 1 to 1\nend\n", "--json");
	cJSON *first, *last;
	char *nl = strchr(p.out, '\n'), *lastl;

	cr_assert_eq(p.status, 0);
	*nl = 0;
	first = cJSON_Parse(p.out);
	cr_assert_not_null(first);
	cr_assert_str_eq(cJSON_GetObjectItem(first, "op")->valuestring, "for");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(first, "loop"), "var")->valuestring,
	                 "i");
	cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(first, "loop"), "value")->valuedouble,
	             5);
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(first, "loop"), "again")));
	p.out[strlen(p.out)] = '\n';
	lastl = strstr(p.out, "{\"summary\"");
	cr_assert_not_null(lastl);
	last = cJSON_Parse(lastl);
	cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(last, "summary"), "statements")->valueint,
	             3, "for (not entered), for, end");
	cJSON_Delete(first);
	cJSON_Delete(last);
	bin_out_free(&p);
}

/* Each statement names the task it ran in: the program, a thread (same pid,
   its own tid) inside `in t`, a forked child (its own pid) inside `in c`. */
Test(run, json_names_the_process_and_thread_of_each_statement)
{
	struct bin_out p = run_text("t = thread\nin t\n  a = malloc 10\nend\nc = fork\n"
	                            "in c\n  b = malloc 20\n  exit 0\nend\ns = wait\n",
	                            "--json");
	static const int want[][3] = {
	    {1, 1, 1},  {2, 1, 1}, {3, 1, 2}, {4, 1, 2}, {5, 1, 1},
	    {6, 1, 1},  {7, 3, 3}, {8, 3, 3}, {9, 3, 3}, {10, 1, 1},
	};
	char *line = p.out, *nl;
	size_t n = 0;

	cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
	for (; (nl = strchr(line, '\n')) && strncmp(line, "{\"summary\"", 10); line = nl + 1, n++) {
		cJSON *o;

		*nl = 0;
		o = cJSON_Parse(line);
		cr_assert_not_null(o, "%s", line);
		cr_assert_lt(n, sizeof(want) / sizeof(want[0]), "%s", line);
		cr_expect_eq(cJSON_GetObjectItem(o, "line")->valueint, want[n][0], "%s", line);
		cr_expect_eq(cJSON_GetObjectItem(o, "pid")->valueint, want[n][1], "%s", line);
		cr_expect_eq(cJSON_GetObjectItem(o, "tid")->valueint, want[n][2], "%s", line);
		cJSON_Delete(o);
	}
	cr_expect_eq(n, sizeof(want) / sizeof(want[0]));
	bin_out_free(&p);
}

Test(run, an_expected_death_exits_0_and_an_unexpected_one_1)
{
	struct bin_out p = run_text("expect signal SIGABRT SI_TKILL\n"
	                            "expect stderr \"double free detected\"\n"
	                            "p = malloc 24\nfree p\nfree p\n",
	                            NULL);

	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert_not_null(strstr(p.out, "killed by SIGABRT (SI_TKILL), as the script expects"));
	cr_assert_not_null(strstr(p.out, "(expect: 2 passed, 0 failed)"), "%s", p.out);
	cr_assert_not_null(strstr(p.err, "free(): double free detected in tcache 2"), "%s", p.err);
	bin_out_free(&p);

	p = run_text("expect signal SIGSEGV\np = malloc 24\nfree p\nfree p\n", NULL);
	cr_assert_eq(p.status, 1);
	cr_assert_not_null(strstr(p.err, ":1: expect failed: signal SIGSEGV, but SIGABRT (SI_TKILL) "
	                                 "killed the program\n"),
	                   "%s", p.err);
	bin_out_free(&p);

	p = run_text("expect signal SIGSEGV\np = malloc 24\n", "--json");
	cr_assert_eq(p.status, 1);
	cr_assert_not_null(strstr(p.out, "\"expect_failed\":1,\"killed\":false,\"exit\":1"),
	                   "%s", p.out);
	bin_out_free(&p);
}

Test(run, an_error_while_running_exits_2_after_what_ran)
{
	struct bin_out p = run_text("p = malloc 1\nfor i = 0 to 3\n  q[i] = i\nend\nx = q[4]\n",
	                            NULL);

	cr_assert_eq(p.status, 2);
	cr_assert_not_null(strstr(p.out, "   1  p = malloc 1"), "%s", p.out);
	cr_assert_not_null(strstr(p.out, "the script stopped at line 5"), "%s", p.out);
	cr_assert_str_eq(strrchr(p.err, ':') - 1, "5: q[4] is read before it is set\n");
	bin_out_free(&p);

	p = run_text("for i = 0 to 1\n  i = 0\nend\n", "--max-statements=100");
	cr_assert_eq(p.status, 2);
	cr_assert_not_null(strstr(p.err, ":3: statement budget of 100 exhausted"), "%s", p.err);
	bin_out_free(&p);

	p = run_text("x = 1\n", "--max-statements=0");
	cr_assert_eq(p.status, 2);
	cr_assert_not_null(strstr(p.err, "--max-statements: bad number '0'"), "%s", p.err);
	cr_assert_eq(p.out_len, 0);
	bin_out_free(&p);
}

/* ---- --malloc all ---------------------------------------------------------- */

Test(run, malloc_all_puts_every_policy_side_by_side, .timeout = 60)
{
	char *script = demo_path("policies.ams");
	const char *args[] = {"run", script, "--malloc", "all", NULL};
	struct bin_out p = run(args);
	const char *row;

	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(strstr(p.out, "   seed       firstfit        nextfit        bestfit          glibc"
	                        "           best\n"),
	          "%s", p.out);
	row = strstr(p.out, "\nbrk calls");
	cr_assert_not_null(row, "%s", p.out);
	/* glibc grows its heap with one brk of 132 KiB, the others page by page */
	cr_assert(strstr(p.out, "heap footprint "), "%s", p.out);
	cr_assert(strstr(p.out, "\nthe end                   done           done"), "%s", p.out);
	bin_out_free(&p);
	free(script);
}

Test(run, malloc_all_exits_with_the_worst_and_names_the_policy_of_each_failure, .timeout = 60)
{
	char *script = demo_path("language.ams");
	const char *args[] = {"run", script, "--malloc", "all", "--json", NULL};
	struct bin_out p = run(args);
	int lines = 0;

	cr_assert_eq(p.status, 1, "seed does not detect the double free: %s", p.err);
	for (char *s = p.out; (s = strchr(s, '\n')); s++)
		lines++;
	cr_assert_eq(lines, 6, "%s", p.out);
	cr_assert(strstr(p.out, "\"malloc\":\"glibc\",\"statements\":85,"), "%s", p.out);
	cr_assert(strstr(p.out, "\"malloc\":\"glibc\"") &&
	              strstr(strstr(p.out, "\"malloc\":\"glibc\""), " ok\",\"exit\":0}"),
	          "%s", p.out);
	cr_assert(strstr(p.err, "seed: "), "%s", p.err);
	cr_assert(strstr(p.err, ": expect failed: signal SIGABRT SI_TKILL, but the program was "
	                        "not killed"),
	          "%s", p.err);
	bin_out_free(&p);
	free(script);

	{
		char *s2 = demo_path("policies.ams");
		const char *a2[] = {"run", s2, "--malloc", "all", "--events", "/tmp/x.jsonl", NULL};
		struct bin_out q = run(a2);

		cr_assert_eq(q.status, 2);
		cr_assert(strstr(q.err, "--malloc all prints a table"), "%s", q.err);
		bin_out_free(&q);
		free(s2);
	}
}

/* --pcid: a context switch keeps the TLB's entries (tagged by address space),
   so a parent and a child that take turns miss less than with the flush of
   every switch; faults and frames do not change. */
Test(run, pcid_keeps_the_tlb_across_context_switches)
{
	char *path = bin_script_file("p = malloc 100\ntouch p 0 64K\nc = fork\n"
	                             "for i = 1 to 20\n  in c\n    v = load p 0 8\n  end\n"
	                             "  v = load p 4K 8\nend\n");
	unsigned long hits[2], misses[2], faults[2];

	for (int i = 0; i < 2; i++) {
		const char *args[] = {"run", path, i ? "--pcid" : "--seed", i ? NULL : "0", NULL};
		struct bin_out p = bin_run(args, NULL);
		const char *t = strstr(p.out, "\n  TLB            ");
		const char *f = strstr(p.out, "\n  page faults    ");

		cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
		cr_assert(t && sscanf(t, "\n  TLB %lu hits, %lu misses", &hits[i], &misses[i]) == 2,
		          "%s", p.out);
		cr_assert(f && sscanf(f, "\n  page faults %lu", &faults[i]) == 1, "%s", p.out);
		bin_out_free(&p);
	}
	cr_expect_eq(faults[1], faults[0]);
	cr_expect_eq(hits[0] + misses[0], hits[1] + misses[1], "the same accesses");
	/* without PCID each of the 40 switches flushes: both sides miss again */
	cr_expect_geq(misses[0], misses[1] + 30, "flush %lu misses, pcid %lu", misses[0], misses[1]);
	unlink(path);
	free(path);
}
