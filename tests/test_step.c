/*
 * test_step.c - `aftermalloc step`, the terminal stepper (demos/step/step.c), from
 * outside with keys piped in one a line, as a script or a teacher drives it:
 * the stop at the first-touch fault and its call path, b (the state before),
 * g N, B, q, the end of the program (normal and SIGSEGV), malformed scripts.
 * In-process: every stop of every demo prints within 80 columns with a
 * narration, through step_print_stop.
 *
 * AM_BIN is the binary (make test sets it to build/aftermalloc) and AM_ROOT
 * the project root; without them, build/aftermalloc and "." are used.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../demos/step/narrate.h"
#include "../demos/step/step.h"
#include "../demos/step/stepper.h"
#include "../kernel_sim/task.h"
#include "tests/support_bin.h"

/* Run `aftermalloc step SCRIPT` (or another command) with input on stdin. */
static struct bin_out run_in(const char *cmd, const char *script, const char *input)
{
	return bin_run((const char *[]){cmd, script, NULL}, input);
}

static char *demo(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/demos/%s", bin_root(), name);
	return path;
}

/* The text of the last stop printed (from its "---- event" header on). */
static const char *last_stop(const char *out)
{
	const char *p = out, *last = NULL;

	while ((p = strstr(p, "---- event #"))) {
		last = p;
		p++;
	}
	cr_assert_not_null(last, "no stop printed:\n%s", out);
	return last;
}

/* The event number of a stop's header. */
static uint64_t stop_seq(const char *stop)
{
	return strtoull(stop + strlen("---- event #"), NULL, 10);
}

/* "s\n" n times after prefix. */
static char *keys(const char *prefix, const char *key, int n, const char *suffix)
{
	size_t len = strlen(prefix) + (strlen(key) + 1) * (size_t)n + strlen(suffix) + 1;
	char *k = malloc(len), *p = k;

	p += sprintf(p, "%s", prefix);
	for (int i = 0; i < n; i++)
		p += sprintf(p, "%s\n", key);
	sprintf(p, "%s", suffix);
	return k;
}

/* The seq of the first stop after `from` whose event line contains what. */
static uint64_t find_stop(const char *from, const char *what)
{
	const char *p = from;

	while ((p = strstr(p, "---- event #"))) {
		const char *nl = strchr(p, '\n');
		const char *line_end = nl ? strchr(nl + 1, '\n') : NULL;

		if (nl && line_end) {
			char line[512];
			size_t l = (size_t)(line_end - nl - 1);

			snprintf(line, sizeof(line), "%.*s", (int)(l < 511 ? l : 511), nl + 1);
			if (strstr(line, what))
				return stop_seq(p);
		}
		p++;
	}
	cr_assert_fail("no stop with '%s'", what);
	return 0;
}

Test(step, the_fault_stop_and_the_steps_after_name_the_fault_path_in_order, .timeout = 30)
{
	/* f to the fault, then events and returns down into the page allocator
	   and back up to the PTE. */
	char *in = keys("f\n", "s", 30, "o\no\no\no\no\no\ns\ns\ns\ns\ns\ns\ns\nq\n");
	struct bin_out p = run_in("step", demo("first-touch.ams"), in);
	static const char *const path[] = {"do_user_addr_fault", "handle_mm_fault",
	                                   "do_anonymous_page", "__rmqueue_smallest", "set_pte_at"};
	const char *at, *prev;

	cr_assert_eq(p.status, 0, "exit %d\n%s", p.status, p.err);
	at = strstr(p.out, "step> f\n");
	cr_assert_not_null(at);
	/* the stop at the fault: the #PF event, error code in words, its page walk */
	cr_assert(strstr(at, "fault #PF addr=0x555555559000 error=6"), "%s", at);
	cr_assert(strstr(at, "(error 6: write, user mode, the page is not"), "%s", at);
	cr_assert(
	    strstr(at, "PT[345]    table pfn 0x5      entry 0x0000000000000000  not present"));
	cr_assert(strstr(at, "VMA 555555559000-55555555a000 rw-p"));
	prev = at;
	for (size_t i = 0; i < sizeof(path) / sizeof(path[0]); i++) {
		const char *q = strstr(at, path[i]);

		cr_assert_not_null(q, "%s never shown", path[i]);
		cr_assert_geq(q, prev, "%s before %s", path[i], path[i - 1]);
		prev = q;
	}
	/* the last stop is the PTE being set, with its narration and the frame */
	at = last_stop(p.out);
	cr_assert(strstr(at, "pte_set set_pte_at addr=0x555555559000 old=0"), "%s", at);
	cr_assert(strstr(at, "set_pte_at (arch/x86/include/asm/pgtable.h)"), "%s", at);
	cr_assert(strstr(at, "do_anonymous_page > [set_pte_at]"), "%s", at);
	cr_assert(strstr(at, "=> pfn 0xb"), "%s", at);
	/* the stop at __rmqueue_smallest showed the buddy lists */
	cr_assert(strstr(p.out, "buddy free lists"));
	cr_assert_null(strstr(p.out, NARRATE_MISSING));
	bin_out_free(&p);
	free(in);
}

Test(step, o_at_a_call_runs_until_that_function_returns, .timeout = 30)
{
	/* f, s: paused at the call of exc_page_fault; o: its return. */
	struct bin_out p = run_in("step", demo("first-touch.ams"), "f\ns\no\n");
	const char *at = last_stop(p.out);

	cr_assert_eq(p.status, 0);
	cr_assert(strstr(at, "ret exc_page_fault"), "%s", at);
	/* the fault is resolved there: the PTE is present */
	cr_assert(strstr(at, "P RW US A D NX"), "%s", at); /* young: mapped accessed */
	bin_out_free(&p);
}

Test(step, b_shows_the_state_one_event_before, .timeout = 30)
{
	char *in = keys("f\n", "s", 60, "");
	struct bin_out p = run_in("step", demo("first-touch.ams"), in);
	uint64_t set = find_stop(strstr(p.out, "step> f"), "set_pte_at");
	char in2[64];
	struct bin_out q;
	const char *at;

	snprintf(in2, sizeof(in2), "g %" PRIu64 "\nb\n", set);
	q = run_in("step", demo("first-touch.ams"), in2);
	cr_assert_eq(q.status, 0);
	/* at the PTE event the page is mapped ... */
	at = strstr(q.out, "step> b");
	cr_assert_not_null(at);
	cr_assert(strstr(q.out, "=> pfn 0xd") < at);
	/* ... one event back it is not, and the stop is the previous event */
	at = last_stop(q.out);
	cr_assert_eq(stop_seq(at), set - 1, "%s", at);
	cr_assert(strstr(at, "PT[345]    table pfn 0x5      entry 0x0000000000000000  not present"),
	          "%s", at);
	cr_assert(strstr(at, "=> not mapped"), "%s", at);
	bin_out_free(&p);
	bin_out_free(&q);
	free(in);
}

Test(step, g_N_lands_on_event_N_forward_and_back, .timeout = 30)
{
	struct bin_out p = run_in("step", demo("first-touch.ams"), "f\n");
	uint64_t fault = stop_seq(last_stop(p.out));
	char in[128];
	struct bin_out q;
	const char *at;

	cr_assert_gt(fault, 10);
	snprintf(in, sizeof(in), "g %" PRIu64 "\ng %" PRIu64 "\ng %" PRIu64 "\n", fault + 30,
	         fault - 5, fault);
	q = run_in("step", demo("first-touch.ams"), in);
	cr_assert_eq(q.status, 0);
	at = strstr(q.out, "step> g");
	cr_assert_eq(stop_seq(last_stop(at)), fault);
	cr_assert(strstr(last_stop(at), "fault #PF"));
	/* each g printed its stop at its event */
	for (int i = 0; i < 3; i++) {
		at = strstr(at, "---- event #");
		cr_assert_not_null(at);
		cr_assert_eq(stop_seq(at), i == 0 ? fault + 30 : i == 1 ? fault - 5 : fault);
		at++;
	}
	bin_out_free(&p);
	bin_out_free(&q);
}

Test(step, B_goes_to_the_start_of_the_statement_then_the_one_before, .timeout = 30)
{
	struct bin_out p = run_in("step", demo("first-touch.ams"), "f\ns\ns\nB\nB\n");
	const char *b1 = strstr(p.out, "step> B"), *b2;

	cr_assert_eq(p.status, 0);
	cr_assert_not_null(b1);
	b2 = strstr(b1 + 1, "step> B");
	cr_assert_not_null(b2);
	/* the first B: the start of `store b 0 0x41 1` (line 21) */
	cr_assert(strstr(b1, "stmt store line=21 \"store b 0 0x41 1\"") < b2, "%s", b1);
	/* the second: the statement before it */
	cr_assert(strstr(last_stop(p.out), "stmt expect line=18") ||
	              strstr(last_stop(p.out), "stmt show line=18"),
	          "%s", last_stop(p.out));
	bin_out_free(&p);
}

/* After the end, b goes back to the last event and B to the start of the
   last statement (both used to skip it: the end is past the last event). */
Test(step, b_and_B_from_the_end_stop_at_the_last_statement, .timeout = 30)
{
	char *path = bin_script_file("x = 1\ny = 2\n");
	struct bin_out p = run_in("step", path, "e\nb\n");
	const char *stop;
	uint64_t last;

	cr_assert_eq(p.status, 0, "%s", p.err);
	stop = last_stop(p.out);
	cr_assert(strstr(stop, "stmt assign line=2 \"y = 2\""), "%s", stop);
	last = stop_seq(stop);
	bin_out_free(&p);
	p = run_in("step", path, "e\nB\n");
	stop = last_stop(p.out);
	cr_assert(strstr(stop, "stmt assign line=2 \"y = 2\""), "%s", stop);
	cr_assert_eq(stop_seq(stop), last);
	bin_out_free(&p);
	/* and on from there, one event, then one statement, at a time */
	p = run_in("step", path, "e\nb\nb\n");
	cr_assert_eq(stop_seq(last_stop(p.out)), last - 1);
	bin_out_free(&p);
	p = run_in("step", path, "e\nB\nB\n");
	cr_assert(strstr(last_stop(p.out), "stmt assign line=1 \"x = 1\""), "%s", p.out);
	bin_out_free(&p);
	unlink(path);
	free(path);
}

Test(step, q_quits_with_status_0_and_reads_no_further, .timeout = 30)
{
	struct bin_out p = run_in("step", demo("first-touch.ams"), "s\nq\ns\ns\n");
	const char *q;

	cr_assert_eq(p.status, 0);
	q = strstr(p.out, "step> q");
	cr_assert_not_null(q);
	cr_assert_null(strstr(q, "---- event"), "a stop after q:\n%s", q);
	cr_assert_null(strstr(q, "step> s"));
	cr_assert_null(strstr(p.err, "aftermalloc"), "%s", p.err);
	bin_out_free(&p);
	/* the end of input quits cleanly too */
	p = run_in("step", demo("first-touch.ams"), "n\n");
	cr_assert_eq(p.status, 0);
	bin_out_free(&p);
}

Test(step, a_malformed_script_exits_2_naming_file_and_line, .timeout = 30)
{
	char path[] = "/tmp/am_bad_XXXXXX.ams";
	int fd = mkstemps(path, 4);
	const char *text = "p = malloc 100\nstore p 0\n";
	char want[64];
	struct bin_out p;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	p = run_in("step", path, "s\n");
	unlink(path);
	snprintf(want, sizeof(want), "%s:2:", path);
	cr_assert_eq(p.status, 2);
	cr_assert(strstr(p.err, want), "%s", p.err);
	cr_assert_eq(p.out_len, 0, "%s", p.out);
	bin_out_free(&p);
	p = run_in("step", "/nonexistent/x.ams", "");
	cr_assert_eq(p.status, 2);
	bin_out_free(&p);
}

Test(step, a_segfault_shows_the_signal_and_the_report_and_b_still_works, .timeout = 30)
{
	char *in = keys("", "s", 400, "b\n");
	struct bin_out p = run_in("step", demo("crash/shrink-segv.ams"), in);
	const char *end, *sig;

	cr_assert_eq(p.status, 0, "%s", p.err);
	/* a stop at the signal itself */
	sig = strstr(p.out, "signal force_sig_fault");
	cr_assert_not_null(sig, "%s", p.out);
	cr_assert(strstr(sig, "no VMA contains 0x555555559000"));
	end = strstr(p.out, "==== the program has ended: killed by SIGSEGV (SEGV_MAPERR)");
	cr_assert_not_null(end, "%s", p.out);
	cr_assert(strstr(end, "segfault at 555555559000 ip"), "%s", end);
	/* after the end, s says so again and b goes back one event */
	cr_assert(strstr(strstr(p.out, "step> b"), "---- event #"));
	bin_out_free(&p);
	free(in);
}

Test(step, a_program_that_ends_normally_says_so, .timeout = 30)
{
	struct bin_out p = run_in("step", demo("first-touch.ams"), "e\ns\n");

	cr_assert_eq(p.status, 0);
	cr_assert(strstr(p.out, "==== the program has ended normally after"), "%s", p.out);
	cr_assert(strstr(strstr(p.out, "step> s"), "the program has ended"));
	bin_out_free(&p);
}

Test(step, an_unknown_key_is_reported_and_stepping_goes_on, .timeout = 30)
{
	struct bin_out p = run_in("step", demo("first-touch.ams"), "x\ns\n");

	cr_assert_eq(p.status, 0);
	cr_assert(strstr(p.out, "unknown key 'x'"));
	cr_assert(strstr(strstr(p.out, "step> s"), "---- event #"));
	bin_out_free(&p);
}

Test(step, an_event_number_beyond_64_bits_is_an_unknown_key, .timeout = 30)
{
	struct bin_out p = run_in("step", demo("first-touch.ams"), "g 99999999999999999999\ns\n");

	cr_assert_eq(p.status, 0);
	cr_assert(strstr(p.out, "unknown key 'g 99999999999999999999'"), "%s", p.out);
	bin_out_free(&p);
}

Test(step, y_stops_at_the_system_call_with_the_address_space, .timeout = 30)
{
	struct bin_out p = run_in("step", demo("first-touch.ams"), "y\n");
	const char *at = last_stop(p.out);

	cr_assert(strstr(at, "syscall entry_SYSCALL_64 nr=12"), "%s", at);
	cr_assert(strstr(at, "VMAs  start_brk 0x555555559000  brk 0x555555559000"), "%s", at);
	cr_assert(strstr(at, "[heap]") == NULL, "no heap VMA before the first brk:\n%s", at);
	cr_assert(strstr(at, "[stack]"), "%s", at);
	bin_out_free(&p);
}

/* ---- in-process: every stop of every demo ------------------------------- */

Test(step, every_stop_of_every_demo_fits_80_columns_with_a_narration, .timeout = 60)
{
	char *pattern;
	glob_t g;
	size_t stops = 0;

	cr_assert_geq(asprintf(&pattern, "%s/demos/*.ams", bin_root()), 0);
	cr_assert_eq(glob(pattern, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct session_opts o;
		struct script *sc;
		struct stepper *st;

		cr_assert_eq(script_load(NULL, g.gl_pathv[i], &sc, stderr), 0);
		session_default_opts(&o);
		st = stepper_create(sc, &o, 512, stderr);
		cr_assert_not_null(st);
		while (stepper_do(st, STEP_EVENT, 0)) {
			char *buf = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&buf, &len);

			step_print_stop(st, f, false);
			fclose(f);
			stops++;
			cr_assert_null(strstr(buf, NARRATE_MISSING), "%s:\n%s", g.gl_pathv[i], buf);
			for (char *l = buf, *nl; *l; l = nl + 1) {
				nl = strchr(l, '\n');
				cr_assert_not_null(nl);
				cr_assert_leq(nl - l, 80, "%s: a line of %td columns:\n%.*s",
				              g.gl_pathv[i], nl - l, (int)(nl - l), l);
			}
			free(buf);
		}
		stepper_destroy(st);
		script_free(sc);
	}
	cr_assert_gt(stops, 1000);
	globfree(&g);
	free(pattern);
}

Test(step, n_and_B_go_through_a_loop_one_execution_at_a_time, .timeout = 30)
{
	char *script = bin_script_file("for i = 0 to 2\n  p[i] = malloc 16\nend\nx = 1\n");
	struct bin_out p = run_in("step", script, "n\nn\nn\nn\nn\nn\nn\nB\nB\ns\nq\n");
	const char *at = p.out;
	/* The statement each n reaches: the loop's lines again and again, with
	   the variable's value beside the body's. */
	static const char *const want[] = {
	    "path  line 2 `p[i] = malloc 16` (i = 0)", "path  line 3 `end`",
	    "path  line 2 `p[i] = malloc 16` (i = 1)", "path  line 3 `end`",
	    "path  line 2 `p[i] = malloc 16` (i = 2)", "path  line 3 `end`",
	    "path  line 4 `x = 1`",
	    /* B, B: back to the last pass's end, then its malloc */
	    "path  line 3 `end`", "path  line 2 `p[i] = malloc 16` (i = 2)",
	};

	cr_assert_eq(p.status, 0, "%s", p.err);
	at = strstr(at, "path  line 1 `for i = 0 to 2`");
	cr_assert_not_null(at, "%s", p.out);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *next = strstr(at + 1, "path  line");

		cr_assert_not_null(next, "stop %zu missing:\n%s", i, p.out);
		cr_assert_eq(strncmp(next, want[i], strlen(want[i])), 0, "stop %zu: %.60s", i, next);
		at = next;
	}
	/* s after B: the malloc's first event, with the loop's value kept */
	cr_assert_not_null(strstr(last_stop(p.out), "(i = 2)"), "%s", last_stop(p.out));
	unlink(script);
	free(script);
	bin_out_free(&p);
}

Test(step, a_script_that_fails_while_running_says_where_and_exits_2, .timeout = 30)
{
	char *script = bin_script_file("p[0] = 1\nx = p[5]\n");
	struct bin_out p = run_in("step", script, "e\nq\n");

	cr_assert_eq(p.status, 2);
	cr_assert_not_null(strstr(p.out, "==== the script stopped: "), "%s", p.out);
	cr_assert_not_null(strstr(p.out, ":2: p[5] is read before it is set"), "%s", p.out);
	unlink(script);
	free(script);
	bin_out_free(&p);
}

Test(step, memory_pressure_keys_stop_at_reclaim_swap_out_major_fault_and_oom_kill, .timeout = 60)
{
	char *path = bin_script_file("swapon 16M\nm = mmap 12M\ntouch m 0 12M\nv = load m 8 8\n"
	                             "n = mmap 12M\ntouch n 0 12M\n");
	const char *args[] = {"step", path, "--phys", "8M", NULL};
	struct bin_out p = bin_run(args, "r\nw\nm\nq\n");
	const char *r, *w, *m;

	cr_assert_eq(p.status, 0, "%s", p.err);
	r = strstr(p.out, "step> r\n");
	w = strstr(p.out, "step> w\n");
	m = strstr(p.out, "step> m\n");
	cr_assert(r && w && m);
	cr_assert(strstr(r, " kernel  call kswapd free=") < w, "%s", r);
	cr_assert(strstr(w, " kernel  call swap_writepage pfn=") < m, "%s", w);
	cr_assert_not_null(strstr(m, " kernel  call do_swap_page addr="), "%s", m);
	bin_out_free(&p);
	free(path);
	{
		char *oom = bin_script_file("a = mmap 3M\nb = mmap 3M\ntouch a 0 3M\ntouch b 0 3M\n");
		const char *a2[] = {"step", oom, "--phys", "4M", NULL};
		struct bin_out q = bin_run(a2, "k\nq\n");

		cr_assert_eq(q.status, 0, "%s", q.err);
		cr_assert_not_null(strstr(q.out, " kernel  call out_of_memory order=0"), "%s", q.out);
		bin_out_free(&q);
		free(oom);
	}
}

Test(step, every_stop_names_the_running_task_in_its_header_and_state_line, .timeout = 30)
{
	struct bin_out p = run_in("step", demo("first-touch.ams"), "s\ns\nn\nf\nq\n");
	const char *h = p.out;
	int stops = 0;

	cr_assert_eq(p.status, 0, "%s", p.err);
	while ((h = strstr(h, "---- event #"))) {
		const char *nl = strchr(h, '\n');

		cr_assert(nl && memmem(h, (size_t)(nl - h), ", pid 1) ", 9),
		          "a stop header without the task: %.80s", h);
		stops++;
		h++;
	}
	cr_assert_eq(stops, 5, "%s", p.out);
	/* the state line of a stop that shows no other view */
	cr_assert_not_null(strstr(p.out, "\nstate  pid 1  brk 0x"), "%s", p.out);
	bin_out_free(&p);
}

Test(step, c_stops_at_the_next_copy_on_write_fault_and_t_runs_on_without_a_switch,
     .timeout = 30)
{
	/* a read maps the zero page; the write after it is a write-protect
	   fault: do_wp_page copies the zero page (wp_page_copy) */
	char *path = bin_script_file("m = mmap 4096\nv = load m 0 8\nstore m 0 1 1\n");
	struct bin_out p = run_in("step", path, "c\nt\nq\n");
	const char *c, *t;

	cr_assert_eq(p.status, 0, "%s", p.err);
	c = strstr(p.out, "step> c\n");
	t = strstr(p.out, "step> t\n");
	cr_assert(c && t, "%s", p.out);
	cr_assert(strstr(c, " kernel  call do_wp_page addr=") < t, "%s", c);
	cr_assert(strstr(c, "(line 3, pid 1)") < t, "%s", c);
	/* one process: no context switch before the end */
	cr_assert_not_null(strstr(t, "==== the program has ended normally"), "%s", t);
	bin_out_free(&p);
	free(path);
}

/* What a stop shows, as text: the stop printed, the kernel's tasks. */
static char *stop_text(struct stepper *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	step_print_stop(st, f, false);
	fprintf(f, "tasks %d current %d free %" PRIu64 "\n", st->s->k.nr_tasks,
	        st->s->k.current ? st->s->k.current->pid : 0, st->s->k.buddy.free_pages);
	for (const struct task *t = task_list_first(&st->s->k); t; t = task_list_next(t))
		fprintf(f, "pid %d rss %" PRIu64 "\n", t->pid,
		        t->mm ? (uint64_t)t->mm->rss_stat[MM_ANONPAGES] : 0);
	fclose(f);
	return buf;
}

/* The last n logged events, formatted, oldest first. */
static char *log_text(struct stepper *st, size_t n)
{
	char *buf = NULL, line[1024];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (size_t i = n; i-- > 0;) {
		const struct event *e = stepper_log(st, i);

		cr_assert_not_null(e, "fewer than %zu events logged", n);
		event_format(e, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	fclose(f);
	return buf;
}

Test(step, going_back_across_a_fork_and_forward_again_reaches_the_same_state_and_events,
     .timeout = 60)
{
	struct session_opts o;
	struct script *sc;
	struct stepper *st;
	uint64_t fork_seq = 0, cow_seq;
	char *cow1, *cow2, *log1, *log2, *before;
	int rebuilds;
	uint64_t restores;

	cr_assert_eq(script_load(NULL, demo("fork-cow.ams"), &sc, stderr), 0);
	session_default_opts(&o);
	st = stepper_create(sc, &o, 4096, stderr);
	cr_assert_not_null(st);
	/* to the fork statement, then past it to the child's COW fault */
	while (stepper_do(st, STEP_STMT, 0))
		if (st->cur.fn && !strcmp(st->cur.fn, "fork")) {
			fork_seq = st->cur.seq;
			break;
		}
	cr_assert_gt(fork_seq, 0, "no fork statement");
	cr_assert_eq(st->s->k.nr_tasks, 1);
	cr_assert(stepper_do(st, STEP_COW, 0));
	cow_seq = st->cur.seq;
	cr_assert_str_eq(st->cur.fn, "do_wp_page");
	cr_assert_eq(st->s->k.nr_tasks, 2);
	cr_assert_eq(stepper_current(st)->pid, 2, "the child takes the COW fault");
	cow1 = stop_text(st);
	log1 = log_text(st, (size_t)(cow_seq - fork_seq + 1));
	cr_assert_not_null(strstr(cow1, "(line 34, pid 2)"), "%s", cow1);
	cr_assert_not_null(strstr(log1, " kernel  call kernel_clone "), "%s", log1);
	cr_assert_not_null(strstr(log1, " kernel  call context_switch prev=1 next=2"), "%s", log1);

	/* back to the event before the fork: one process again */
	rebuilds = st->rebuilds;
	restores = st->restores;
	cr_assert(stepper_do(st, STEP_GOTO, fork_seq - 1));
	cr_assert_eq(st->rebuilds, rebuilds, "going back restores a checkpoint, no rebuild");
	cr_assert_gt(st->restores, restores, "going back restores a checkpoint");
	cr_assert_eq(st->cur.seq, fork_seq - 1);
	cr_assert_eq(st->s->k.nr_tasks, 1);
	cr_assert_eq(stepper_current(st)->pid, 1);
	before = stop_text(st);
	cr_assert_not_null(strstr(before, ", pid 1) "), "%s", before);
	cr_assert_null(strstr(before, "pid 2"), "%s", before);

	/* forward again: the same fault, the same state, the same events */
	cr_assert(stepper_do(st, STEP_COW, 0));
	cr_assert_eq(st->cur.seq, cow_seq);
	cow2 = stop_text(st);
	log2 = log_text(st, (size_t)(cow_seq - fork_seq + 1));
	cr_assert_str_eq(cow2, cow1);
	cr_assert_str_eq(log2, log1);

	/* and one event back from the fault, by b: still the child, before it */
	cr_assert(stepper_do(st, STEP_BACK, 0));
	cr_assert_eq(st->cur.seq, cow_seq - 1);
	cr_assert_eq(stepper_current(st)->pid, 2);
	free(cow1);
	free(cow2);
	free(log1);
	free(log2);
	free(before);
	stepper_destroy(st);
	script_free(sc);
}

Test(step, t_stops_at_each_context_switch_between_parent_and_child, .timeout = 30)
{
	struct bin_out p = run_in("step", demo("fork-cow.ams"), "t\nt\nt\nq\n");
	const char *t1, *t2;

	cr_assert_eq(p.status, 0, "%s", p.err);
	t1 = strstr(p.out, "step> t\n");
	cr_assert_not_null(t1, "%s", p.out);
	t2 = strstr(t1 + 1, "step> t\n");
	cr_assert_not_null(t2, "%s", p.out);
	/* into the child for `in c`, back to the parent after its exit */
	cr_assert(strstr(t1, " kernel  call context_switch prev=1 next=2") < t2, "%s", t1);
	cr_assert_not_null(strstr(t2, " kernel  call context_switch prev=0 next=1"), "%s", t2);
	/* a third t: no switch left, the end */
	cr_assert_not_null(strstr(t2, "==== the program has ended normally"), "%s", t2);
	bin_out_free(&p);
}

/* The stop whose header names line `line` (its text up to the next stop). */
static char *stop_at_line(const char *out, int line)
{
	char key[32];
	const char *p, *end;

	snprintf(key, sizeof(key), " (line %d, ", line);
	p = strstr(out, key);
	cr_assert_not_null(p, "no stop at line %d in:\n%s", line, out);
	while (p > out && strncmp(p, "---- event #", 12))
		p--;
	end = strstr(p + 1, "---- event #");
	return strndup(p, end ? (size_t)(end - p) : strlen(p));
}

Test(step, a_statement_s_stop_names_its_task_before_the_cpu_switches_there, .timeout = 30)
{
	/* The stmt event of a statement comes before the context switch to
	   its task (a statement that runs no code never switches): line 3 and
	   the exit at line 8 are the child's, line 5 the parent's, while the
	   CPU is still in the other process. The header, the state line and
	   the views are of the statement's task. */
	char *path = bin_script_file("c = fork\nin c\n  p = malloc 10\nend\nx = 5\n"
	                             "q = malloc 10\nin c\n  exit 3\nend\nw = wait c\n");
	struct bin_out p = run_in("step", path, "n\nn\nn\nn\nn\nn\nn\nn\nn\nn\nq\n");
	char *l3, *l5, *l8, *l9;

	cr_assert_eq(p.status, 0, "%s", p.err);
	l3 = stop_at_line(p.out, 3);
	l5 = stop_at_line(p.out, 5);
	l8 = stop_at_line(p.out, 8);
	l9 = stop_at_line(p.out, 9);
	cr_expect_not_null(strstr(l3, "(line 3, pid 2)"), "%s", l3);
	cr_expect_not_null(strstr(l3, "\nstate  pid 2  brk 0x555555559000  rss 2 pages"), "%s", l3);
	/* the parent has not called malloc: its break is where it started */
	cr_expect_not_null(strstr(l5, "(line 5, pid 1)"), "%s", l5);
	cr_expect_not_null(strstr(l5, "\nstate  pid 1  brk 0x555555559000  rss 2 pages"), "%s", l5);
	cr_expect_not_null(strstr(l8, "(line 8, pid 2)"), "%s", l8);
	cr_expect_not_null(strstr(l8, "\nstate  pid 2  brk 0x55555557a000"), "%s", l8);
	cr_expect_not_null(strstr(l9, "(line 9, pid 2)"), "%s", l9);
	cr_expect_not_null(strstr(l9, "\nstate  pid 2 has exited"), "%s", l9);
	free(l3);
	free(l5);
	free(l8);
	free(l9);
	bin_out_free(&p);
	free(path);
}

/* The stop whose path line starts with `path` (its text up to the next stop). */
static char *stop_with_path(const char *out, const char *path)
{
	const char *p = strstr(out, path), *start, *end;

	cr_assert_not_null(p, "no stop with '%s' in:\n%s", path, out);
	for (start = p; start > out && strncmp(start, "---- event #", 12); start--)
		;
	end = strstr(p, "---- event #");
	if (!end)
		end = p + strlen(p);
	return strndup(start, (size_t)(end - start));
}

Test(step, a_thread_s_statements_name_it_and_the_stops_list_the_arenas, .timeout = 60)
{
	/* glibc-threads.ams, statement by statement: line 20 (one arena), line
	   36 in t1 (tid 2) after its first malloc, line 46 in t2 (tid 3), line
	   48 back in the main thread */
	char *in = keys("", "n", 20, "q\n");
	struct bin_out p = run_in("step", demo("glibc-threads.ams"), in);
	char *first, *t1, *main_again;
	const char *h;
	unsigned long long heap;

	cr_assert_eq(p.status, 0, "%s", p.err);
	first = stop_with_path(p.out, "path  line 20 `p = malloc 1`");
	cr_expect_null(strstr(first, "arenas"), "arenas listed with one:\n%s", first);
	t1 = stop_with_path(p.out, "path  line 36 in t2 `expect vmsize");
	cr_expect_not_null(strstr(t1, "\narenas  tid 2 uses arena 1 of the process's 2\n"), "%s", t1);
	cr_expect_not_null(strstr(t1, "\n    arena 0 (main_arena)  system 135168, "), "%s", t1);
	cr_expect_not_null(strstr(t1, "\n  > arena 1  system 135168, "), "%s", t1);
	h = strstr(t1, "\n      heap 0x");
	cr_assert_not_null(h, "%s", t1);
	heap = strtoull(h + strlen("\n      heap "), NULL, 16);
	cr_expect_eq(heap % (64ULL << 20), 0, "heap %#llx not 64 MiB aligned", heap);
	cr_expect_not_null(strstr(h, ": 135168 in use, 135168 read-write, 64 MiB reserved\n"), "%s",
	                   t1);
	cr_expect_not_null(strstr(p.out, "path  line 46 in t3 `b = malloc 200`"), "%s", p.out);
	main_again = stop_with_path(p.out, "path  line 48 `expect");
	cr_expect_not_null(strstr(main_again, "\narenas  tid 1 uses main_arena of the process's 3\n"),
	                   "%s", main_again);
	free(first);
	free(t1);
	free(main_again);
	free(in);
	bin_out_free(&p);
}

Test(step, the_heap_view_lists_the_chunks_of_one_arena, .timeout = 60)
{
	/* line 46 (t2's first malloc, in tid 3), its fault, then up the
	   returns (new_heap, _int_new_arena, arena_get2, tcache_init,
	   __libc_malloc): once t2's arena is on the list, each heap view lists
	   the chunks of that arena only, none of main_arena's brk heap */
	char *in = keys("", "n", 17, "f\no\no\no\no\no\nq\n");
	struct bin_out p = run_in("step", demo("glibc-threads.ams"), in);
	const char *ret, *mark, *next;
	int views = 0;

	cr_assert_eq(p.status, 0, "%s", p.err);
	for (const char *h = strstr(p.out, "path  line 46 in t3"); h && (h = strstr(h, "\nheap chunks"));
	     h++) {
		const char *end = strstr(h + 1, "\narenas  ");

		cr_assert_not_null(end, "no arena lines after the heap view:\n%s", h);
		static const char arena1[] = "\nheap chunks (policy glibc, arena 1)";

		if (strncmp(h, arena1, sizeof(arena1) - 1))
			continue; /* before _int_new_arena links it: main_arena's */
		cr_expect_null(memmem(h, (size_t)(end - h), "0x5555", 6),
		               "a chunk of main_arena listed with arena 1:\n%.*s", (int)(end - h), h);
		views++;
	}
	cr_expect_geq(views, 3, "%s", p.out);
	/* __libc_malloc's return: its block marked, in arena 1's heap */
	ret = strstr(p.out, "libc    ret __libc_malloc ret=0x7fffe8");
	cr_assert_not_null(ret, "%s", p.out);
	next = strstr(ret, "---- event #");
	mark = strstr(ret, "\nheap chunks (policy glibc, arena 1)  around 0x7fffe8");
	cr_expect(mark && (!next || mark < next), "%s", ret);
	mark = strstr(ret, "\n  > 0x7fffe8");
	cr_expect(mark && (!next || mark < next), "the block malloc returned is not marked:\n%s", ret);
	free(in);
	bin_out_free(&p);
}
