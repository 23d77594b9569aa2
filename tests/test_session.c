/*
 * test_session.c - statements of .ams scripts run on the simulated kernel
 * (demos/cli/session*.c): results, faults, RSS, signals, show views, events.
 * Every statement is followed by the kernel's and the heap's checkers.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../demos/cli/script.h"
#include "../demos/cli/session.h"
#include "support_oracle.h"

struct fixture {
	struct script *sc;
	struct session *s;
};

static struct fixture start_opts(const char *text, const struct session_opts *o)
{
	struct fixture f = {0};

	cr_assert_eq(script_parse("t.ams", text, &f.sc, stderr), 0);
	f.s = session_create(f.sc, o, stderr);
	cr_assert_not_null(f.s);
	cr_assert_eq(session_check(f.s, stderr), 0);
	return f;
}

static struct fixture start(const char *text)
{
	struct session_opts o;

	session_default_opts(&o);
	return start_opts(text, &o);
}

static void finish(struct fixture *f)
{
	session_destroy(f->s);
	script_free(f->sc);
}

/* Run the next statement and check every invariant after it. */
static int step(struct fixture *f)
{
	int rc = session_step(f->s);

	cr_assert_eq(session_check(f->s, stderr), 0, "invariants after line %d", f->s->res.line);
	return rc;
}

/* Run every statement; all must succeed with their expects true. */
static void run_all(struct fixture *f)
{
	while (!session_done(f->s)) {
		cr_assert_eq(step(f), 0, "line %d killed the program", f->s->res.line);
		if (f->sc->stmts[f->s->res.idx].op == ST_EXPECT)
			cr_assert(
			    f->s->res.expect_ok, "line %d: expect failed: %s (%lld) vs %s (%lld)",
			    f->s->res.line, f->sc->stmts[f->s->res.idx].args[0].text,
			    (long long)f->s->res.lhs, f->sc->stmts[f->s->res.idx].args[1].text,
			    (long long)f->s->res.rhs);
	}
}

static int64_t var(struct fixture *f, const char *name)
{
	int i = script_var_index(f->sc, name);

	cr_assert_geq(i, 0, "no variable %s", name);
	cr_assert(f->s->defined[i], "%s not set", name);
	return f->s->vars[i];
}

Test(session, sbrk_returns_the_old_break_and_moves_it_by_exactly_the_increment)
{
	struct fixture f = start("b = sbrk 0\ns = sbrk 1\ne = brk\n");

	run_all(&f);
	cr_assert_eq(var(&f, "s"), var(&f, "b"));
	cr_assert_eq(var(&f, "e"), var(&f, "b") + 1, "the break stays unaligned");
	cr_assert_eq(f.s->task->mm->brk, (vaddr_t)var(&f, "b") + 1);
	cr_assert_eq(f.s->res.faults, 0);
	finish(&f);
}

Test(session, first_store_takes_one_fault_and_one_resident_page)
{
	struct fixture f = start("r0 = rss\nf0 = memfree\nb = sbrk 4096\nstore b 0 0x41 1\n"
	                         "n = faults\nr1 = rss\nv = load b 0 1\n");

	run_all(&f);
	cr_assert_eq(var(&f, "n"), 1);
	cr_assert_eq(var(&f, "r1"), var(&f, "r0") + 1);
	cr_assert_eq(var(&f, "v"), 0x41);
	cr_assert_eq(f.s->res.faults, 0, "the load hits the page the store mapped");
	cr_assert_geq(var(&f, "f0") - (int64_t)f.s->k.buddy.free_pages, 1);
	finish(&f);
}

Test(session, faults_builtin_is_set_only_by_statements_that_run_code)
{
	struct fixture f = start("b = sbrk 4096\nstore b 0 1 1\nx = 5\nexpect faults == 1\n"
	                         "show maps\nn = faults\n");

	run_all(&f);
	cr_assert_eq(var(&f, "n"), 1);
	finish(&f);
}

Test(session, read_maps_the_zero_page_and_the_write_faults_again)
{
	struct fixture f = start("r0 = rss\nm = mmap 4096\nv = load m 0 8\nn1 = faults\nr1 = rss\n"
	                         "store m 0 1 1\nn2 = faults\nr2 = rss\n");

	run_all(&f);
	cr_assert_eq(var(&f, "v"), 0);
	cr_assert_eq(var(&f, "n1"), 1);
	cr_assert_eq(var(&f, "r1"), var(&f, "r0"), "the zero page is not RSS");
	cr_assert_eq(var(&f, "n2"), 1, "write to the zero page faults again");
	cr_assert_eq(var(&f, "r2"), var(&f, "r0") + 1);
	finish(&f);
}

Test(session, without_the_zero_page_a_read_takes_the_frame_and_the_write_no_fault)
{
	struct session_opts o;
	struct fixture f;

	session_default_opts(&o);
	o.kopts.zero_page = false;
	f = start_opts("r0 = rss\nm = mmap 4096\nv = load m 0 8\nn1 = faults\nr1 = rss\n"
	               "store m 0 1 1\nn2 = faults\n",
	               &o);
	run_all(&f);
	cr_assert_eq(var(&f, "n1"), 1);
	cr_assert_eq(var(&f, "r1"), var(&f, "r0") + 1);
	cr_assert_eq(var(&f, "n2"), 0);
	finish(&f);
}

Test(session, grow_touch_and_touch_again)
{
	struct fixture f = start("b = sbrk 256K\ntouch b 0 256K\nn1 = faults\ntouch b 0 256K\n"
	                         "n2 = faults\nread b 0 256K\nn3 = faults\n");

	run_all(&f);
	cr_assert_eq(var(&f, "n1"), 64);
	cr_assert_eq(var(&f, "n2"), 0);
	cr_assert_eq(var(&f, "n3"), 0);
	finish(&f);
}

Test(session, sbrk_failure_is_minus_one_and_brk_failure_too)
{
	struct fixture f = start("b = sbrk 0\nx = sbrk 0x100000000000\nr = brk b + 0x100000000000\n"
	                         "e = brk\n");

	run_all(&f);
	cr_assert_eq(var(&f, "x"), -1);
	cr_assert_eq(var(&f, "r"), -1);
	cr_assert_eq(var(&f, "e"), var(&f, "b"));
	finish(&f);
}

Test(session, brk_below_the_heap_start_succeeds_in_glibc_but_does_not_move)
{
	struct fixture f = start("b = sbrk 4096\nr = brk 0x1000\ne = brk\n");

	run_all(&f);
	cr_assert_eq(var(&f, "r"), 0);
	cr_assert_eq(var(&f, "e"), var(&f, "b") + 4096);
	finish(&f);
}

Test(session, setrlimit_data_caps_the_heap)
{
	struct fixture f = start("b = sbrk 0\nr = setrlimit data 64K\nx = sbrk 128K\n"
	                         "r2 = setrlimit data infinity\ny = sbrk 128K\n");

	run_all(&f);
	cr_assert_eq(var(&f, "r"), 0);
	cr_assert_eq(var(&f, "x"), -1);
	cr_assert_eq(var(&f, "r2"), 0);
	cr_assert_eq(var(&f, "y"), var(&f, "b"));
	cr_assert_eq(f.s->task->rlim[SIM_RLIMIT_DATA].cur, SIM_RLIM_INFINITY);
	finish(&f);
}

Test(session, the_glibc_family_returns_what_glibc_would)
{
	struct fixture f =
	    start("policy glibc\nh = brk\np = malloc 100\nq = calloc 10 16\n"
	          "z = load q 152 8\nstore p 0 0x5a 100\np2 = realloc p 5000\n"
	          "v = load p2 99 1\na = posix_memalign 256 100\nu = usable q\nfree p2\n"
	          "free a\nn = malloc 0x7fffffffffffffff\n");

	run_all(&f);
	cr_assert_str_eq(f.s->policy, "glibc");
	cr_assert_eq(var(&f, "p"), var(&f, "h") + 0x2a0, "the tcache struct is the first chunk");
	cr_assert_eq(var(&f, "z"), 0, "calloc zeroes");
	cr_assert_eq(var(&f, "v"), 0x5a, "realloc keeps the contents");
	cr_assert_eq(var(&f, "a") % 256, 0);
	cr_assert_geq(var(&f, "u"), 160);
	cr_assert_eq(var(&f, "n"), 0, "an impossible request is NULL");
	finish(&f);
}

Test(session, munmap_then_touch_is_killed_with_segv_maperr)
{
	struct fixture f = start("m = mmap 8K\ntouch m 0 8K\nr = munmap m 8K\nstore m 0 1 1\n");
	int rc = 0;

	for (int i = 0; i < 3; i++)
		cr_assert_eq(step(&f), 0);
	cr_assert_eq(var(&f, "r"), 0);
	rc = session_step(f.s);
	cr_assert_eq(rc, 1);
	cr_assert(f.s->res.killed);
	cr_assert(f.s->dead);
	cr_assert_eq(f.s->res.faults, 1, "the fatal fault counts");
	cr_assert_eq(f.s->task->death.signo, SIM_SIGSEGV);
	cr_assert_eq(f.s->task->death.code, SIM_SEGV_MAPERR);
	cr_assert_eq(f.s->task->death.addr, (vaddr_t)var(&f, "m"));
	cr_assert_not_null(strstr(f.s->task->death.report, "segfault at"));
	cr_assert_eq(session_check(f.s, stderr), 0);
	finish(&f);
}

Test(session, store_to_a_read_only_mapping_is_segv_accerr)
{
	struct fixture f = start("m = mmap 4096 r\nv = load m 0 1\nstore m 0 1 1\n");

	cr_assert_eq(step(&f), 0);
	cr_assert_eq(step(&f), 0);
	cr_assert_eq(session_step(f.s), 1);
	cr_assert_eq(f.s->task->death.code, SIM_SEGV_ACCERR);
	finish(&f);
}

Test(session, double_free_aborts_with_glibcs_message)
{
	struct fixture f = start("policy glibc\np = malloc 24\nfree p\nfree p\n");

	cr_assert_eq(step(&f), 0);
	cr_assert_eq(step(&f), 0);
	cr_assert_eq(session_step(f.s), 1);
	cr_assert_eq(f.s->task->death.signo, SIM_SIGABRT);
	cr_assert_not_null(strstr(f.s->task->stderr_buf, "double free detected in tcache 2"));
	finish(&f);
}

Test(session, expect_failure_is_counted_and_the_script_goes_on)
{
	struct fixture f = start("a = 3\nexpect a == 4\nexpect a - 1 == 2\nexpect a > 2\n");

	for (int i = 0; i < 4; i++)
		cr_assert_eq(step(&f), 0);
	cr_assert_eq(f.s->nr_expect_failed, 1);
	cr_assert(f.s->res.expect_ok);
	cr_assert_eq(f.s->nr_run, 4);
	finish(&f);
}

Test(session, expressions_add_and_subtract_with_wraparound)
{
	struct fixture f = start("a = 10\nb = a - 15\nc = b + 5 + 0x10\nd = -1\n");

	run_all(&f);
	cr_assert_eq(var(&f, "b"), -5);
	cr_assert_eq(var(&f, "c"), 16);
	cr_assert_eq(var(&f, "d"), -1);
	cr_assert_eq(session_builtin(f.s, BI_INFINITY), -1, "RLIM_INFINITY is all ones");
	finish(&f);
}

Test(session, show_captures_each_view_in_the_linux_format)
{
	struct fixture f =
	    start("policy glibc\np = malloc 10\nshow maps\nshow buddyinfo\n"
	          "show meminfo\nshow status\nshow heap\nshow pagetable p\nshow tlb\n");
	const char *want[] = {
	    "[heap]", "Node 0, zone   Normal", "MemTotal:", "VmRSS:", "in use", "", ""};

	cr_assert_eq(step(&f), 0);
	for (int i = 0; i < 7; i++) {
		cr_assert_eq(step(&f), 0);
		cr_assert_not_null(f.s->res.output, "show %d", i);
		cr_assert_gt(f.s->res.output_len, 0, "show %d is empty", i);
		cr_assert_not_null(strstr(f.s->res.output, want[i]), "show %d: %s", i,
		                   f.s->res.output);
		cr_assert_eq(f.s->res.has_ret, false);
	}
	finish(&f);
}

struct ev_count {
	uint64_t n, stmts, last_seq;
	int first_kind;
	uint64_t first_line;
	bool ordered;
};

static void count_sink(void *ctx, const struct event *ev)
{
	struct ev_count *c = ctx;

	if (c->n == 0) {
		c->first_kind = ev->kind;
		c->first_line = event_field(ev, "line", 0);
	} else if (ev->seq != c->last_seq + 1) {
		c->ordered = false;
	}
	c->last_seq = ev->seq;
	c->n++;
	c->stmts += ev->kind == EV_STMT;
}

Test(session, sinks_see_every_event_of_a_statement_starting_with_its_stmt_event)
{
	struct fixture f = start("\n\np = malloc 100\n");
	struct ev_count c = {.ordered = true};

	cr_assert_eq(session_add_sink(f.s, count_sink, &c), 0);
	cr_assert_eq(step(&f), 0);
	cr_assert_eq(c.first_kind, EV_STMT);
	cr_assert_eq(c.first_line, 3);
	cr_assert_eq(c.stmts, 1);
	cr_assert(c.ordered);
	cr_assert_eq(c.n, f.s->res.events);
	cr_assert_gt(f.s->res.syscalls, 0, "the first malloc calls brk");
	cr_assert_eq(f.s->res.first_seq + f.s->res.events, probe_seq(&f.s->k.probe));
	finish(&f);
}

Test(session, the_same_script_gives_the_same_results_and_event_counts)
{
	const char *text = "p = malloc 100\nq = malloc 200000\nfree q\nm = mmap 1M\n"
	                   "touch m 0 1M\nx = brk\n";
	struct session_opts o;
	uint64_t seq[2];
	int64_t vals[2][3];

	session_default_opts(&o);
	o.kopts.aslr = true;
	o.kopts.seed = 42;
	for (int k = 0; k < 2; k++) {
		struct fixture f = start_opts(text, &o);

		run_all(&f);
		seq[k] = probe_seq(&f.s->k.probe);
		vals[k][0] = var(&f, "p");
		vals[k][1] = var(&f, "m");
		vals[k][2] = var(&f, "x");
		finish(&f);
	}
	cr_assert_eq(seq[0], seq[1]);
	cr_assert_eq(memcmp(vals[0], vals[1], sizeof(vals[0])), 0);
}

Test(session, command_line_policy_overrides_the_script)
{
	struct session_opts o;
	struct fixture f;

	session_default_opts(&o);
	o.policy = "seed";
	f = start_opts("policy glibc\np = malloc 1\n", &o);
	cr_assert_str_eq(f.s->policy, "seed");
	finish(&f);
	f = start("p = malloc 1\n");
	cr_assert_str_eq(f.s->policy, "glibc", "glibc by default");
	finish(&f);
}

Test(session, unknown_policy_is_refused_with_its_line)
{
	struct script *sc;
	struct session_opts o;
	char *msg = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&msg, &len);

	session_default_opts(&o);
	cr_assert_eq(script_parse("t.ams", "# x\npolicy nope\n", &sc, stderr), 0);
	cr_assert_null(session_create(sc, &o, err));
	fclose(err);
	cr_assert_not_null(strstr(msg, "t.ams:2: unknown malloc policy 'nope' (seed, "), "%s", msg);
	free(msg);
	script_free(sc);
}

Test(session, signal_and_code_names)
{
	char buf[32];

	cr_assert_str_eq(session_signal_name(SIM_SIGSEGV, buf, sizeof(buf)), "SIGSEGV");
	cr_assert_str_eq(session_signal_name(SIM_SIGABRT, buf, sizeof(buf)), "SIGABRT");
	cr_assert_str_eq(session_signal_name(99, buf, sizeof(buf)), "signal 99");
	cr_assert_str_eq(session_sigcode_name(SIM_SIGSEGV, SIM_SEGV_MAPERR, buf, sizeof(buf)),
	                 "SEGV_MAPERR");
	cr_assert_str_eq(session_sigcode_name(SIM_SIGSEGV, SIM_SEGV_ACCERR, buf, sizeof(buf)),
	                 "SEGV_ACCERR");
	cr_assert_str_eq(session_sigcode_name(SIM_SIGABRT, -6, buf, sizeof(buf)), "SI_TKILL");
}

/* ---- loops, arrays, errno, /proc built-ins, in, the end ------------------- */

/* Run to the end (every statement, expects need not hold); the last rc. */
static int run_to_end(struct fixture *f)
{
	int rc = SESSION_OK;

	while (!session_done(f->s))
		rc = step(f);
	return rc;
}

static int64_t elem(struct fixture *f, const char *name, size_t i)
{
	int idx = script_var_index(f->sc, name);

	cr_assert_geq(idx, 0, "no array %s", name);
	cr_assert_lt(i, f->s->arrays[idx].cap, "%s[%zu] never grown to", name, i);
	cr_assert(f->s->arrays[idx].set[i], "%s[%zu] not set", name, i);
	return f->s->arrays[idx].v[i];
}

Test(session, a_loop_runs_its_body_once_per_value_and_leaves_the_variable_past_the_bound)
{
	struct fixture f = start("n = 0\nfor i = 1 to 5\n  n = n + i\n  sq[i] = i * i\nend\n"
	                         "for j = 10 to 1 step -3\n  d[j] = j\nend\n"
	                         "for k = 1 to 0\n  never = 1\nend\n");

	run_all(&f);
	cr_assert_eq(var(&f, "n"), 15);
	cr_assert_eq(var(&f, "i"), 6, "as C's for: one step past the bound");
	for (int i = 1; i <= 5; i++)
		cr_assert_eq(elem(&f, "sq", (size_t)i), i * i);
	cr_assert_eq(elem(&f, "d", 10), 10);
	cr_assert_eq(elem(&f, "d", 1), 1);
	cr_assert_not(f.s->arrays[script_var_index(f.sc, "d")].set[9], "10, 7, 4, 1 only");
	cr_assert_eq(var(&f, "j"), -2);
	cr_assert_eq(var(&f, "k"), 1, "a loop not entered still sets its variable");
	cr_assert_not(f.s->defined[script_var_index(f.sc, "never")]);
	/* 1 + for + 5 x (3 body lines) + 1 + 4 x 2 + for + end-less 0 */
	cr_assert_eq(f.s->nr_run, 1 + 1 + 5 * 3 + 1 + 4 * 2 + 1);
	finish(&f);
}

Test(session, the_bounds_are_evaluated_once_and_the_body_may_move_the_variable)
{
	struct fixture f = start("b = 3\nn = 0\nfor i = 0 to b\n  b = 100\n  n = n + 1\n"
	                         "  i = i + 1\nend\n");

	run_all(&f);
	cr_assert_eq(var(&f, "n"), 2, "i = 0, 2 (the body adds one, end another); 4 > 3 ends it");
	cr_assert_eq(var(&f, "i"), 4);
	finish(&f);
}

Test(session, loops_nest_and_each_execution_is_a_statement_of_its_own)
{
	struct fixture f = start("for i = 0 to 2\n  for j = 0 to 3\n    m[i * 4 + j] = malloc 16\n"
	                         "  end\nend\nexpect m[11] != 0\n");
	int64_t prev = 0;

	while (!session_done(f.s)) {
		cr_assert_eq(step(&f), SESSION_OK);
		if (f.s->res.line == 3) {
			cr_assert_gt(f.s->res.ret, prev, "a fresh block each pass");
			prev = f.s->res.ret;
		}
	}
	cr_assert(f.s->res.expect_ok);
	cr_assert_eq(f.s->nr_run, 1 + 3 * (1 + 4 * 2) + 3 + 1);
	finish(&f);
}

Test(session, run_time_errors_stop_the_script_with_file_and_line)
{
	static const struct {
		const char *text, *error;
	} cases[] = {
	    {"p[0] = 1\nx = p[1]\n", "t.ams:2: p[1] is read before it is set"},
	    {"p[-1] = 1\n", "t.ams:1: index -1 of p[] out of range (0 to 1048575)"},
	    {"p[0] = 1\nx = p[1M]\n", "t.ams:2: index 1048576 of p[] out of range (0 to 1048575)"},
	    {"for i = 1 to 0\n  y = 1\nend\nz = y\n",
	     "t.ams:4: 'y' is read before it is set (line 2 has not run)"},
	    {"n = 0\nx = 5 % n\n", "t.ams:2: division by zero"},
	    {"n = 0\nx = aligned(8, n)\n", "t.ams:2: aligned(X, N) with N = 0"},
	    {"s = 0\nfor i = 0 to 3 step s\nend\n", "t.ams:2: 'for' cannot step by 0"},
	    {"in 2\nend\n", "t.ams:1: 'in 2': no process or thread has id 2 (the program's pid is 1)"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f = start(cases[i].text);

		cr_assert_eq(run_to_end(&f), SESSION_ERROR, "%s", cases[i].text);
		cr_assert(f.s->failed);
		cr_assert(session_done(f.s));
		cr_assert_str_eq(f.s->error, cases[i].error);
		finish(&f);
	}
}

Test(session, a_failed_index_stops_before_the_statement_runs)
{
	struct fixture f = start("m = memfree\np[2M] = malloc 100\n");

	run_to_end(&f);
	cr_assert(f.s->failed);
	cr_assert_eq(f.s->lc->st.brk_calls, 0, "malloc never ran");
	finish(&f);
}

Test(session, the_statement_budget_stops_a_runaway_loop)
{
	struct session_opts o;
	struct fixture f;

	session_default_opts(&o);
	o.max_stmts = 500;
	f = start_opts("for i = 0 to 1\n  i = 0\nend\n", &o);
	cr_assert_eq(run_to_end(&f), SESSION_ERROR);
	cr_assert_eq(f.s->nr_run, 500);
	cr_assert_str_eq(f.s->error, "t.ams:3: statement budget of 500 exhausted: a loop that "
	                             "does not end? (--max-statements N)");
	finish(&f);
	f = start("for i = 0 to 1\n  i = 0\nend\n");
	cr_assert_eq(f.s->opts.max_stmts, SESSION_STMT_BUDGET + 3, "the default");
	finish(&f);
}

Test(session, errno_is_set_by_failing_calls_and_never_cleared)
{
	struct fixture f = start("e0 = errno\nm = mmap 0\ne1 = errno\nok = mmap 4K\ne2 = errno\n"
	                         "r = munmap 1 4K\ne3 = errno\nq = malloc 1 << 50\ne4 = errno\n"
	                         "a = posix_memalign 3 16\ne5 = errno\n"
	                         "l = setrlimit data 2M 1M\ne6 = errno\n");

	run_all(&f);
	cr_assert_eq(var(&f, "e0"), 0);
	cr_assert_eq(var(&f, "m"), -1);
	cr_assert_eq(var(&f, "e1"), 22, "mmap of 0 bytes: EINVAL");
	cr_assert_eq(var(&f, "e2"), 22, "a success leaves errno alone");
	cr_assert_eq(var(&f, "e3"), 22, "munmap of an unaligned address: EINVAL");
	cr_assert_eq(var(&f, "q"), 0);
	cr_assert_eq(var(&f, "e4"), 12, "malloc that cannot be served: ENOMEM");
	cr_assert_eq(var(&f, "a"), 0);
	cr_assert_eq(var(&f, "e5"), 22, "posix_memalign's EINVAL, put in errno");
	cr_assert_eq(var(&f, "l"), -1);
	cr_assert_eq(var(&f, "e6"), 22, "soft above hard: EINVAL");
	finish(&f);
}

Test(session, errno_names_are_the_values_linux_gives_them)
{
	struct fixture f = start("expect EPERM == 1\nexpect ENOENT == 2\nexpect ECHILD == 10\n"
	                         "expect EAGAIN == 11\nexpect ENOMEM == 12\nexpect EACCES == 13\n"
	                         "expect EFAULT == 14\nexpect EBUSY == 16\nexpect EINVAL == 22\n"
	                         "m = mmap 0\nexpect errno == EINVAL\nq = malloc 1 << 50\n"
	                         "expect errno == ENOMEM\n");

	run_all(&f);
	finish(&f);
}

/* The value of "Key:" in text (kB lines of /proc/PID/status). */
static int64_t status_kb(const char *text, const char *key)
{
	const char *at = strstr(text, key);

	cr_assert_not_null(at, "no %s in\n%s", key, text);
	return strtoll(at + strlen(key), NULL, 10);
}

Test(session, vm_builtins_are_what_proc_shows)
{
	struct fixture f = start("p = malloc 200000\nm = mmap 1M\ntouch m 0 64K\nshow status\n"
	                         "show maps\nsz = vmsize\nd = vmdata\nk = vmstk\npt = vmpte\n"
	                         "n = vmas\n");
	char *status = NULL;
	size_t lines = 0;

	while (!session_done(f.s)) {
		cr_assert_eq(step(&f), 0);
		if (f.s->res.output && strstr(f.s->res.output, "VmSize"))
			status = strdup(f.s->res.output);
		else if (f.s->res.output)
			for (const char *c = f.s->res.output; *c; c++)
				lines += *c == '\n';
	}
	cr_assert_not_null(status);
	cr_assert_eq(var(&f, "sz"), status_kb(status, "VmSize:"));
	cr_assert_eq(var(&f, "d"), status_kb(status, "VmData:"));
	cr_assert_eq(var(&f, "k"), status_kb(status, "VmStk:"));
	cr_assert_eq(var(&f, "pt"), status_kb(status, "VmPTE:"));
	cr_assert_eq(var(&f, "n"), (int64_t)lines, "vmas is the lines of maps");
	cr_assert_eq(lines, 8,
	             "the image's five (headers, text, rodata, RELRO, data+bss), heap, the mmaps "
	             "(adjacent: one VMA), stack");
	free(status);
	finish(&f);
}

Test(session, in_pid_runs_in_the_program_and_switches_back)
{
	struct fixture f = start("me = pid\nin me\n  p = malloc 10\n  x = pid\nend\nq = malloc 10\n");

	run_all(&f);
	cr_assert_eq(var(&f, "me"), 1);
	cr_assert_eq(var(&f, "x"), 1);
	cr_assert_eq(f.s->task, f.s->main_task);
	cr_assert_eq(f.s->lc, &f.s->main_lc);
	cr_assert_eq(f.s->task_id, 1);
	finish(&f);
}

Test(session, a_task_added_at_the_seam_is_the_one_in_runs)
{
	struct fixture f = start("in 42\n  p = malloc 10\n  x = pid\nend\ny = pid\n");

	/* The seam fork and threads plug into: any registered id works. Here
	   the id names the program itself under another number. */
	cr_assert_eq(session_add_task(f.s, 42, f.s->main_task, &f.s->main_lc), 0);
	run_all(&f);
	cr_assert_eq(f.s->task_id, 1, "back in the task before the block");
	cr_assert_eq(session_switch_task(f.s, 43), -1);
	finish(&f);
}

Test(session, expect_signal_holds_when_the_program_dies_so)
{
	struct fixture f = start("expect signal SIGSEGV SEGV_MAPERR\nstore 4096 0 1\n");
	char *msg = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&msg, &len);

	cr_assert_eq(run_to_end(&f), SESSION_KILLED);
	cr_assert_eq(session_finish(f.s, err), 0);
	fclose(err);
	cr_assert_eq(len, 0, "%s", msg);
	cr_assert(f.s->death_expected);
	free(msg);
	finish(&f);
}

/* The kernel's SIGKILLs (the OOM killer's, RLIMIT_CPU's hard limit) are sent
   with SEND_SIG_PRIV: si_code SI_KERNEL, which expect signal can name. */
Test(session, expect_signal_sigkill_si_kernel_holds_for_the_oom_killer_and_the_cpu_limit)
{
	static const char *const scripts[] = {
	    "expect signal SIGKILL SI_KERNEL\na = mmap 10M\nb = mmap 10M\ntouch a 0 10M\n"
	    "touch b 0 10M\nexpect 0 == 1\n",
	    "policy seed\nexpect signal SIGKILL SI_KERNEL\nsetrlimit cpu 1000 1000\n"
	    "p = malloc 24\nq = malloc 24\nfree p\nstore p-8 0 0 8\nr = malloc 100\n"
	    "expect 0 == 1\n",
	};

	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		struct session_opts o;
		struct fixture f;

		session_default_opts(&o);
		o.kopts.phys_bytes = 16 << 20;
		int rc = SESSION_OK;

		f = start_opts(scripts[i], &o);
		/* not run_to_end: the second script breaks seed's heap on purpose,
		   which its checker would see */
		while (!session_done(f.s))
			rc = session_step(f.s);
		cr_assert_eq(rc, SESSION_KILLED, "%s", scripts[i]);
		cr_assert_eq(f.s->task->death.signo, 9);
		cr_assert_eq(f.s->task->death.code, 0x80, "SI_KERNEL, not %d",
		             f.s->task->death.code);
		cr_assert_eq(session_finish(f.s, stderr), 0);
		cr_assert(f.s->death_expected, "%s", scripts[i]);
		finish(&f);
	}
}

Test(session, expect_signal_and_stderr_fail_with_their_lines)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
	    {"expect signal SIGSEGV\np = malloc 1\n",
	     "t.ams:1: expect failed: signal SIGSEGV, but the program was not killed\n"},
	    {"expect signal SIGSEGV SEGV_ACCERR\nstore 4096 0 1\n",
	     "t.ams:1: expect failed: signal SIGSEGV SEGV_ACCERR, but SIGSEGV (SEGV_MAPERR) "
	     "killed the program\n"},
	    {"expect stderr \"invalid pointer\"\np = malloc 24\nfree p\nfree p\n",
	     "t.ams:1: expect failed: stderr has no \"invalid pointer\" (it has: free(): double "
	     "free detected in tcache 2)\n"},
	    {"expect stderr \"x\"\n", "t.ams:1: expect failed: stderr has no \"x\" (it is empty)\n"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f = start(cases[i].text);
		char *msg = NULL;
		size_t len = 0;
		FILE *err = open_memstream(&msg, &len);

		run_to_end(&f);
		cr_assert_eq(session_finish(f.s, err), 1, "%s", cases[i].text);
		fclose(err);
		cr_assert_str_eq(msg, cases[i].msg);
		cr_assert_not(f.s->death_expected);
		cr_assert_eq(f.s->nr_expect_failed, 1);
		free(msg);
		finish(&f);
	}
}

Test(session, an_expectation_not_reached_is_not_checked)
{
	struct fixture f = start("store 4096 0 1\nexpect signal SIGABRT\n");

	cr_assert_eq(run_to_end(&f), SESSION_KILLED);
	cr_assert_eq(session_finish(f.s, stderr), 0);
	cr_assert_not(f.s->death_expected, "killed, but no expectation ran: unexpected");
	finish(&f);
}

Test(session, mallopt_malloc_trim_and_the_mallinfo2_builtins)
{
	struct fixture f = start("p = malloc 100\n"
	                         "expect arena == 0x21000\n"
	                         "expect uordblks == 768\n"
	                         "expect ordblks == 1\n"
	                         "r = mallopt mmap_threshold 300000\n"
	                         "expect r == 1\n"
	                         "q = malloc 200000\n"
	                         "expect hblkhd == 0\n"
	                         "expect q < brk\n"
	                         "z = mallopt mxfast 200\n"
	                         "expect z == 0\n"
	                         "free q\n"
	                         "t = malloc_trim 0\n"
	                         "expect t == 1\n"
	                         "malloc_stats\n");

	run_all(&f);
	cr_assert_not_null(f.s->res.output);
	cr_assert(strstr(f.s->res.output, "Arena 0:\nsystem bytes     =     "),
	          "malloc_stats printed: %s", f.s->res.output);
	cr_assert(strstr(f.s->main_task->stderr_buf, "max mmap regions"),
	          "malloc_stats writes to fd 2");
	finish(&f);
}

Test(session, glibcs_calls_under_another_policy_are_an_error_with_the_line)
{
	struct session_opts o;
	struct fixture f;

	session_default_opts(&o);
	o.policy = "seed";
	f = start_opts("p = malloc 1\nexpect arena == 0\nmallopt arena_max 2\n", &o);
	cr_assert_eq(step(&f), SESSION_OK);
	cr_assert_eq(step(&f), SESSION_OK);
	cr_assert(f.s->res.expect_ok);
	cr_assert_eq(step(&f), SESSION_ERROR);
	cr_assert_str_eq(f.s->error, "t.ams:3: 'mallopt' is glibc's: this program runs the seed "
	                             "policy");
	finish(&f);
}

Test(session, tunables_reach_ptmalloc_init_and_are_checked)
{
	struct session_opts o;
	struct fixture f;
	char err[512];

	session_default_opts(&o);
	cr_assert_eq(session_opt_tunable(&o, "glibc.malloc.mmap_threshold=300000:glibc.malloc."
	                                     "perturb=0x5a",
	                                 err, sizeof(err)),
	             0, "%s", err);
	f = start_opts("q = malloc 200000\nexpect q < brk\nv = load q 100 1\nexpect v == 0xa5\n",
	               &o);
	run_all(&f);
	finish(&f);
	cr_assert_eq(session_opt_tunable(&o, "glibc.malloc.arena_max=0", err, sizeof(err)), -1);
	cr_assert_str_eq(err, "--tunable: glibc.malloc.arena_max=0: out of range [1, "
	                      "9223372036854775807] (glibc ignores it)");
	cr_assert_eq(session_opt_tunable(&o, "glibc.malloc.hugetlb=1", err, sizeof(err)), -1);
	cr_assert_eq(session_opt_cpus(&o, "1025", err, sizeof(err)), -1);
	cr_assert_str_eq(err, "--cpus: '1025' is not a number of CPUs from 1 to 1024");
	cr_assert_eq(session_opt_cpus(&o, "8", err, sizeof(err)), 0);
	cr_assert_eq(o.kopts.nr_cpus, 8);
}

/* ---- processes: fork, in, exit, wait -------------------------------- */

Test(session, a_child_shares_the_heap_until_it_writes_and_its_malloc_diverges)
{
	/* The child's write copies one page; the parent's free and malloc after
	   the fork work on its own heap, the child's heap keeps p in use. */
	struct fixture f = start("p = malloc 100\n"
	                         "store p 0 0x41 1\n"
	                         "r0 = rss\n"
	                         "c = fork\n"
	                         "expect rss == r0\n"
	                         "in c\n"
	                         "  expect pid == c\n"
	                         "  expect rss == r0\n"
	                         "  f1 = memfree\n"
	                         "  store p 0 0x42 1\n"
	                         "  expect faults == 1\n"
	                         "  expect memfree == f1 - 1\n"
	                         "  expect rss == r0\n"
	                         "end\n"
	                         "free p\n"
	                         "q = malloc 100\n"
	                         "expect q == p\n"
	                         "v = load q 0 1\n"
	                         "in c\n"
	                         "  q2 = malloc 100\n"
	                         "  expect q2 != p\n"
	                         "  w = load p 0 1\n"
	                         "  exit 9\n"
	                         "end\n"
	                         "s = wait c\n"
	                         "expect s == 9\n"
	                         "s = wait\n"
	                         "expect s == -1\n"
	                         "expect errno == ECHILD\n");

	run_all(&f);
	cr_assert_eq(var(&f, "w"), 0x42, "the child reads its own copy");
	cr_assert_eq(f.s->task, f.s->main_task);
	cr_assert_eq(f.s->k.nr_tasks, 1, "the child was reaped");
	finish(&f);
}

Test(session, a_child_killed_by_a_signal_is_a_zombie_and_the_run_goes_on)
{
	struct fixture f = start("c = fork\n"
	                         "in c\n"
	                         "  store 0 0 1\n"
	                         "end\n"
	                         "s = wait c\n"
	                         "expect s == 128 + 11\n"
	                         "p = malloc 16\n");
	int rc;

	cr_assert_eq(step(&f), SESSION_OK);
	cr_assert_eq(step(&f), SESSION_OK);
	rc = step(&f);
	cr_assert_eq(rc, SESSION_OK, "a child's death does not end the run");
	cr_assert(f.s->res.killed);
	cr_assert_eq(f.s->res.death.signo, 11);
	cr_assert_not_null(f.s->task);
	cr_assert_str_eq(task_state(f.s->task, NULL), "Z (zombie)");
	cr_assert_null(f.s->task->mm, "its address space went at its exit");
	run_all(&f);
	cr_assert_eq(f.s->k.nr_tasks, 1);
	finish(&f);
}

Test(session, an_orphan_is_reaped_by_init_when_it_exits)
{
	/* The parent exits first: the child goes to init (outside the model),
	   which reaps it at its exit; the task is freed then. */
	struct fixture f = start("c = fork\n"
	                         "exit 0\n"
	                         "in c\n"
	                         "  x = pid\n"
	                         "  exit 1\n"
	                         "  y = pid\n"
	                         "  r = rss\n"
	                         "end\n");

	run_all(&f);
	cr_assert_eq(var(&f, "y"), var(&f, "c"));
	cr_assert_eq(var(&f, "r"), 0, "an ended task has no memory");
	cr_assert_eq(f.s->task, f.s->main_task, "back in the program, a zombie");
	cr_assert_eq(f.s->k.nr_tasks, 1, "the orphan is gone");
	finish(&f);
}

Test(session, a_child_has_its_own_list_of_the_mmapped_chunks)
{
	/* glibc's host-side list of mmapped chunks (walk and check read it) is
	   copied into the child: the child frees p, the parent still has it. */
	struct fixture f = start("p = malloc 1M\n"
	                         "c = fork\n"
	                         "in c\n"
	                         "  show heap\n"
	                         "  free p\n"
	                         "  show heap\n"
	                         "  exit 0\n"
	                         "end\n"
	                         "s = wait c\n"
	                         "show heap\n"
	                         "free p\n"
	                         "show heap\n");

	while (!session_done(f.s)) {
		cr_assert_eq(step(&f), SESSION_OK, "line %d", f.s->res.line);
		if (f.s->res.line == 6 || f.s->res.line == 12)
			cr_assert_null(strstr(f.s->res.output, "mmapped"), "%s", f.s->res.output);
		if (f.s->res.line == 4 || f.s->res.line == 10)
			cr_assert_not_null(strstr(f.s->res.output, "mmapped"), "%s",
			                   f.s->res.output);
	}
	finish(&f);
}

Test(session, process_errors_stop_the_script_with_file_and_line)
{
	static const struct {
		const char *text, *error;
	} cases[] = {
	    {"c = fork\ns = wait c\n",
	     "t.ams:2: 'wait' would sleep forever: child 2 has not exited, and nothing runs "
	     "while process 1 waits (end the child first: in 2 ... exit ... end)"},
	    {"c = fork\nin c\n  exit 3\n  p = malloc 1\nend\n",
	     "t.ams:4: 'malloc' cannot run: process 2 exited at line 3"},
	    {"c = fork\nin c\n  exit\nend\nin c\nend\n", "t.ams:5: 'in 2': process 2 exited at line 3"},
	    {"c = fork\nin c\n  store 0 0 1\nend\nin c\nend\n",
	     "t.ams:5: 'in 2': process 2 was killed by SIGSEGV at line 3"},
	    {"exit 0\nshow maps\n", "t.ams:2: 'show' cannot run: process 1 exited at line 1"},
	    {"c = fork\nin c\n  exit\nend\ns = wait c\nin c\nend\n",
	     "t.ams:6: 'in 2': process 2 exited at line 3"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f = start(cases[i].text);

		cr_assert_eq(run_to_end(&f), SESSION_ERROR, "%s", cases[i].text);
		cr_assert(f.s->failed);
		cr_assert_str_eq(f.s->error, cases[i].error);
		finish(&f);
	}
}

Test(session, fork_past_threads_max_fails_with_eagain)
{
	/* 1 MiB of RAM: threads-max is its floor, 20 tasks. */
	struct session_opts o;
	struct fixture f;

	session_default_opts(&o);
	o.kopts.phys_bytes = 1 << 20;
	f = start_opts("for i = 1 to 19\n"
	               "  c[i] = fork\n"
	               "end\n"
	               "d = fork\n"
	               "e = errno\n",
	               &o);
	run_all(&f);
	cr_assert_eq(f.s->k.max_threads, 20);
	cr_assert_eq(elem(&f, "c", 19), 20);
	cr_assert_eq(var(&f, "d"), -1);
	cr_assert_eq(var(&f, "e"), 11, "EAGAIN");
	finish(&f);
}

/* The line of text that starts with key in a view's output, or NULL. */
static const char *view_line(const char *out, const char *key)
{
	size_t n = strlen(key);

	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, n) == 0)
			return l;
	return NULL;
}

static uint64_t view_kb(const char *out, const char *key)
{
	const char *l = view_line(out, key);

	cr_assert_not_null(l, "no %s in:\n%s", key, out);
	return strtoull(l + strlen(key), NULL, 10);
}

Test(session, smaps_rollup_splits_shared_pages_between_the_processes)
{
	/* Three heap pages and the program's two start-up pages (data+bss,
	   stack): after the fork each is mapped twice, half of each is each
	   one's Pss; the child's write makes one page its own. */
	struct fixture f = start("p = malloc 8K\n"
	                         "touch p 0 8K\n"
	                         "c = fork\n"
	                         "show smaps_rollup\n"
	                         "in c\n"
	                         "  store p 0 1\n"
	                         "  show smaps_rollup\n"
	                         "end\n"
	                         "show smaps_rollup c\n"
	                         "show ps\n"
	                         "in c\n"
	                         "  exit 0\n"
	                         "end\n"
	                         "show status c\n"
	                         "show smaps_rollup c\n"
	                         "show ps\n");
	char *parent = NULL, *child = NULL;

	while (!session_done(f.s)) {
		cr_assert_eq(step(&f), SESSION_OK, "line %d", f.s->res.line);
		if (f.s->res.line == 4)
			parent = strdup(f.s->res.output);
		if (f.s->res.line == 7)
			child = strdup(f.s->res.output);
		if (f.s->res.line == 9)
			cr_assert_str_eq(f.s->res.output, child, "show VIEW PID shows that task's");
		if (f.s->res.line == 10) {
			cr_assert_not_null(view_line(f.s->res.output, "    2     1 S "), "%s",
			                   f.s->res.output);
		}
		if (f.s->res.line == 14) {
			cr_assert_not_null(view_line(f.s->res.output, "State:\tZ (zombie)"));
			cr_assert_null(view_line(f.s->res.output, "VmRSS:"), "a zombie has no mm");
		}
		if (f.s->res.line == 15)
			cr_assert_eq(f.s->res.output_len, 0, "a zombie's smaps_rollup is empty");
		if (f.s->res.line == 16)
			cr_assert_not_null(view_line(f.s->res.output,
			                             "    2     1 Z         0     0      1      0 t "
			                             "<defunct>"),
			                   "%s", f.s->res.output);
	}
	cr_assert_not_null(parent);
	cr_assert_not_null(child);
	cr_assert_eq(view_kb(parent, "Rss:"), 20);
	cr_assert_eq(view_kb(parent, "Pss:"), 10);
	cr_assert_eq(view_kb(parent, "Shared_Dirty:"), 20);
	cr_assert_eq(view_kb(parent, "Private_Dirty:"), 0);
	cr_assert_eq(view_kb(parent, "Referenced:"), 20);
	cr_assert_eq(view_kb(child, "Rss:"), 20);
	cr_assert_eq(view_kb(child, "Pss:"), 4 + 16 / 2);
	cr_assert_eq(view_kb(child, "Shared_Dirty:"), 16);
	cr_assert_eq(view_kb(child, "Private_Dirty:"), 4);
	cr_assert_eq(view_kb(child, "Referenced:"), 4, "fork made the child's PTEs old");
	cr_assert(strncmp(parent, "555555554000-7ffffffff000 ---p 00000000 00:00 0 ", 48) == 0,
	          "%s", parent);
	free(parent);
	free(child);
	finish(&f);
}

Test(session, show_of_a_pid_that_is_no_task_is_an_error)
{
	struct fixture f = start("show maps 9\n");

	cr_assert_eq(run_to_end(&f), SESSION_ERROR);
	cr_assert_str_eq(f.s->error, "t.ams:1: 'show maps 9': no process has pid 9");
	finish(&f);
}

/* ---- threads ------------------------------------------------------------ */

Test(session, a_thread_runs_in_its_arena_and_join_ends_it)
{
	struct fixture f = start("policy glibc\n"
	                         "t = thread\n"
	                         "in t\n"
	                         "  p = malloc 100\n"
	                         "  me = pid\n"
	                         "end\n"
	                         "q = malloc 100\n"
	                         "r = join t\n");

	run_all(&f);
	cr_assert_gt(var(&f, "t"), 1);
	cr_assert_eq(var(&f, "me"), 1, "a thread's pid is its process's");
	cr_assert_neq(var(&f, "p") >> 26, var(&f, "q") >> 26, "two arenas, two heaps");
	cr_assert_eq(var(&f, "r"), 0);
	cr_assert_eq(f.s->k.nr_tasks, 1, "the thread was reaped");
	cr_assert_eq(f.s->nr_tasks, 1, "and can be named no more");
	cr_assert_eq(f.s->lc->self, &f.s->lc->main_thread);
	cr_assert_eq(f.s->main_task->mm->mm_users, 1);
	finish(&f);
}

Test(session, joining_oneself_is_edeadlk_and_other_joins_are_errors)
{
	static const struct {
		const char *text, *error;
	} cases[] = {
	    {"join 7\n", "t.ams:1: 'join 7': no thread of this process has id 7"},
	    {"t = thread\nin t\n  join 1\nend\n",
	     "t.ams:3: 'join 1': 1 is the main thread, which runs to the end of the script"},
	    {"t = thread\njoin t\nin t\nend\n",
	     "t.ams:3: 'in 2': no process or thread has id 2 (the program's pid is 1)"},
	    {"t = thread\njoin t\njoin t\n", "t.ams:3: 'join 2': no thread of this process has id 2"},
	};
	struct fixture f = start("t = thread\n"
	                         "in t\n"
	                         "  r = join t\n"
	                         "  e = errno\n"
	                         "end\n"
	                         "r1 = join pid\n"
	                         "e1 = errno\n"
	                         "r2 = join t\n");

	run_all(&f);
	cr_assert_eq(var(&f, "r"), -1);
	cr_assert_eq(var(&f, "e"), 35, "EDEADLK");
	cr_assert_eq(var(&f, "r1"), -1);
	cr_assert_eq(var(&f, "e1"), 35, "EDEADLK");
	cr_assert_eq(var(&f, "r2"), 0);
	finish(&f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f = start(cases[i].text);
		cr_assert_eq(run_to_end(&f), SESSION_ERROR, "%s", cases[i].text);
		cr_assert_str_eq(f.s->error, cases[i].error);
		finish(&f);
	}
}

Test(session, past_threads_max_thread_is_minus_one_with_eagain)
{
	struct fixture f = start("for i = 1 to 20\n"
	                         "  r[i] = thread\n"
	                         "end\n"
	                         "e = errno\n");
	int max = f.s->k.max_threads;

	/* 20, the least set_max_threads gives (a machine of 2.5 MiB) */
	cr_assert_eq(max, 511, "threads-max of 64 MiB");
	f.s->k.max_threads = 20;
	run_all(&f);
	cr_assert_gt(elem(&f, "r", 19), 0, "the program and 19 threads");
	cr_assert_eq(elem(&f, "r", 20), -1);
	cr_assert_eq(var(&f, "e"), 11, "EAGAIN");
	cr_assert_eq(f.s->k.nr_tasks, 20);
	finish(&f);
}

Test(session, a_fault_in_a_thread_kills_the_process)
{
	struct fixture f = start("t = thread\n"
	                         "in t\n"
	                         "  store 16 0 1\n"
	                         "end\n"
	                         "x = 1\n");

	cr_assert_eq(run_to_end(&f), SESSION_KILLED);
	cr_assert_eq(f.s->res.line, 3);
	cr_assert(f.s->main_task->dead, "the whole group dies");
	cr_assert_eq(f.s->task->death.signo, 11);
	finish(&f);
}

/* The MINFL of pid's row of a `show ps` output (-1: no row). */
static long ps_minflt(const char *out, int pid, char stat[8])
{
	for (const char *l = strchr(out, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
		int p, pp;
		unsigned long long vsz, rss, minflt, majflt;

		if (sscanf(l + 1, "%d %d %7s %llu %llu %llu %llu", &p, &pp, stat, &vsz, &rss,
		           &minflt, &majflt) == 7 &&
		    p == pid)
			return (long)minflt;
	}
	return -1;
}

/* The STAT of pid's row of a `show ps` output, in stat ("" when none). */
static const char *ps_stat(const char *out, int pid, char stat[8])
{
	if (ps_minflt(out, pid, stat) < 0)
		stat[0] = 0;
	return stat;
}

/*
 * STAT's letter is the state of each process's leader as /proc/PID/stat
 * has it, seen by the process that runs `show ps`: R for itself (it runs),
 * S for a live process that does not (only the current task runs; on the
 * machine, a parent in wait4 or a child blocked sleeps), Z for a zombie.
 * tests/host/ps_state.c reads the same three on the real kernel, from the
 * parent while its child sleeps in read(2), then from the child while the
 * parent sleeps in waitpid. It was R for every live process. `show status
 * PID` has the same state on its State line.
 */
Test(session, show_ps_stat_is_each_processs_state_as_on_the_machine)
{
	char *real = oracle_run("ps_state", NULL);
	struct fixture f = start("z = fork\n"
	                         "in z\n"
	                         "  exit 0\n"
	                         "end\n"
	                         "c = fork\n"
	                         "show ps\n"
	                         "show status c\n"
	                         "in c\n"
	                         "  show ps\n"
	                         "  show status 1\n"
	                         "  show status\n"
	                         "  exit 0\n"
	                         "end\n"
	                         "s = wait c\n"
	                         "s = wait z\n");
	struct oracle_out sim = {0};
	char a[8], b[8], c[8];

	while (!session_done(f.s)) {
		cr_assert_eq(step(&f), SESSION_OK, "line %d", f.s->res.line);
		const char *out = f.s->res.output;

		/* the model's pids: 1 the parent, 2 the zombie, 3 the child */
		if (f.s->res.line == 6)
			oracle_printf(&sim, "parent.self=%s\nparent.child=%s\nparent.zombie=%s\n",
			              ps_stat(out, 1, a), ps_stat(out, 3, b), ps_stat(out, 2, c));
		if (f.s->res.line == 9)
			oracle_printf(&sim, "child.self=%s\nchild.parent=%s\nchild.zombie=%s\n",
			              ps_stat(out, 3, a), ps_stat(out, 1, b), ps_stat(out, 2, c));
		/* /proc/PID/status says the same as stat */
		if (f.s->res.line == 7 || f.s->res.line == 10)
			cr_expect_not_null(view_line(out, "State:\tS (sleeping)"), "line %d:\n%s",
			                   f.s->res.line, out);
		if (f.s->res.line == 11)
			cr_expect_not_null(view_line(out, "State:\tR (running)"), "%s", out);
	}
	oracle_assert_same("the STAT of show ps against /proc/PID/stat", sim.text, real);
	finish(&f);
	free(real);
}

/* A thread other than the leader that runs `show ps`: its process's row has
   the leader's state, S, and l (on the machine: "Sl" for a process whose
   main thread sleeps while another runs, and "Rl" for that thread under
   ps -L). */
Test(session, show_ps_in_a_thread_shows_its_process_sleeping_leader)
{
	struct fixture f = start("t = thread\n"
	                         "show ps\n"
	                         "in t\n"
	                         "  show ps\n"
	                         "end\n"
	                         "join t\n"
	                         "show ps\n");
	char a[8];

	while (!session_done(f.s)) {
		cr_assert_eq(step(&f), SESSION_OK, "line %d", f.s->res.line);
		const char *out = f.s->res.output;

		if (f.s->res.line == 2)
			cr_expect_str_eq(ps_stat(out, 1, a), "Rl", "%s", out);
		if (f.s->res.line == 4)
			cr_expect_str_eq(ps_stat(out, 1, a), "Sl", "%s", out);
		if (f.s->res.line == 7)
			cr_expect_str_eq(ps_stat(out, 1, a), "R", "%s", out);
	}
	finish(&f);
}

/*
 * `show ps` lists processes, as `ps -e` does on the machine, not threads
 * (`ps -L` would give each a row, with its process's PID and PPID): a
 * thread has no row; its process's STAT is Rl while it has two threads
 * or more (R again once joined); its faults are in its process's MINFL,
 * and stay there when it is gone (as /proc/PID/stat sums the group,
 * signal_struct keeping those of the threads that exited). The thread's
 * own row, PPID 0, was printed before.
 */
Test(session, show_ps_lists_processes_and_counts_their_threads_faults)
{
	struct fixture f = start("t = thread\n"
	                         "in t\n"
	                         "  p = malloc 100\n"
	                         "end\n"
	                         "show ps\n"
	                         "c = fork\n"
	                         "show ps\n"
	                         "join t\n"
	                         "show ps\n");
	long before = -1, joined = 0;
	char stat[8];

	while (!session_done(f.s)) {
		cr_assert_eq(step(&f), SESSION_OK, "line %d", f.s->res.line);
		const char *out = f.s->res.output;

		switch (f.s->res.line) {
		case 5: {
			const struct task *main_task = find_task_by_pid(&f.s->k, 1),
			                  *thread = find_task_by_pid(&f.s->k, 2);

			cr_assert_not_null(thread);
			cr_assert(thread->thread);
			cr_expect_eq(ps_minflt(out, 2, stat), -1, "a thread's row:\n%s", out);
			cr_expect_eq(ps_minflt(out, 1, stat),
			             (long)(main_task->min_flt + thread->min_flt));
			cr_expect_str_eq(stat, "Rl");
			cr_expect_gt(thread->min_flt, 0, "the thread's malloc faulted");
			break;
		}
		case 7:
			cr_expect_eq(ps_minflt(out, 2, stat), -1, "%s", out);
			cr_expect_geq(ps_minflt(out, 3, stat), 0, "the child's row:\n%s", out);
			cr_expect_str_eq(stat, "S", "the child has one thread and does not run");
			cr_assert_not_null(view_line(out, "    3     1 S "), "%s", out);
			before = ps_minflt(out, 1, stat);
			cr_expect_str_eq(stat, "Rl");
			break;
		case 8:
			joined = (long)f.s->res.faults;
			cr_assert_null(find_task_by_pid(&f.s->k, 2), "the thread is gone");
			break;
		case 9:
			cr_expect_eq(ps_minflt(out, 1, stat), before + joined,
			             "the thread's faults stay its process's:\n%s", out);
			cr_expect_str_eq(stat, "R");
			break;
		}
	}
	cr_assert_geq(before, 0);
	finish(&f);
}
