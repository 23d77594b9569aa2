/*
 * test_session.c - statements of .ams scripts run on the simulated kernel
 * (demos/cli/session.c): results, faults, RSS, signals, show views, events.
 * Every statement is followed by the kernel's and the heap's checkers.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../demos/cli/script.h"
#include "../demos/cli/session.h"

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
	int rc = session_run_statement(f->s, f->s->next);

	cr_assert_eq(session_check(f->s, stderr), 0, "invariants after line %d", f->s->res.line);
	return rc;
}

/* Run every statement; all must succeed with their expects true. */
static void run_all(struct fixture *f)
{
	while (f->s->next < f->sc->nr_stmts) {
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
	cr_assert_eq(f.s->task->mm.brk, (vaddr_t)var(&f, "b") + 1);
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
	rc = session_run_statement(f.s, 3);
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
	cr_assert_eq(session_run_statement(f.s, 2), 1);
	cr_assert_eq(f.s->task->death.code, SIM_SEGV_ACCERR);
	finish(&f);
}

Test(session, double_free_aborts_with_glibcs_message)
{
	struct fixture f = start("policy glibc\np = malloc 24\nfree p\nfree p\n");

	cr_assert_eq(step(&f), 0);
	cr_assert_eq(step(&f), 0);
	cr_assert_eq(session_run_statement(f.s, 2), 1);
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
