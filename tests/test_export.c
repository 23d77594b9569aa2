/*
 * test_export.c - the exports of `aftermalloc run`, from outside, through the
 * built binary: --events FILE.jsonl (one event a line) and --perfetto
 * FILE.json (Chrome trace-event JSON, demos/step/perfetto.h). Both must be
 * byte-identical over two runs of every scenario of demos/, the Perfetto file
 * must load as JSON with properly nested slices, and the two files must tell
 * the same story (one slice per call, one instant per state change).
 *
 * AM_BIN is the binary and AM_ROOT the project root (make test sets both);
 * without them, build/aftermalloc and "." are used.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "tests/support_bin.h"

/* Run `bin run script [--events ev] [--perfetto pf] [extra]`, its output
   dropped; the exit status (128 + signal when killed). */
static int run_export(const char *script, const char *ev, const char *pf, const char *extra)
{
	const char *argv[12];
	struct bin_out p;
	int n = 0;

	argv[n++] = "run";
	argv[n++] = script;
	if (ev) {
		argv[n++] = "--events";
		argv[n++] = ev;
	}
	if (pf) {
		argv[n++] = "--perfetto";
		argv[n++] = pf;
	}
	if (extra)
		argv[n++] = extra;
	argv[n] = NULL;
	p = bin_run(argv, NULL);
	bin_out_free(&p);
	return p.status;
}

/* A fresh temporary path with suffix; the caller unlinks and frees it. */
static char *tmp_path(const char *suffix)
{
	char *p;
	int fd;

	cr_assert_geq(asprintf(&p, "/tmp/am_export_XXXXXX%s", suffix), 0);
	fd = mkstemps(p, (int)strlen(suffix));
	cr_assert_geq(fd, 0);
	close(fd);
	return p;
}

/* Every scenario: demos/ *.ams and demos/crash/ *.ams. */
static void all_scripts(glob_t *g)
{
	char *p1, *p2;

	cr_assert_geq(asprintf(&p1, "%s/demos/*.ams", bin_root()), 0);
	cr_assert_geq(asprintf(&p2, "%s/demos/crash/*.ams", bin_root()), 0);
	cr_assert_eq(glob(p1, 0, NULL, g), 0, "no scripts in %s", p1);
	cr_assert_eq(glob(p2, GLOB_APPEND, NULL, g), 0, "no scripts in %s", p2);
	free(p1);
	free(p2);
}

static int layer_ok(const char *s)
{
	return s && (!strcmp(s, "user") || !strcmp(s, "libc") || !strcmp(s, "kernel") ||
	             !strcmp(s, "mmu"));
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- the events file ---------------------------------------------------- */

struct ev_counts {
	long events, stmts, calls, rets, syscalls, sysrets;
	double first_seq;
};

/*
 * Check an events file: one JSON object a line, each with seq, layer, kind,
 * fn, depth; seq consecutive. The file starts at the first statement's event
 * (boot's events came before the sink was attached: demos/step/events_out.h), so
 * "consecutive" is from that first seq, and the first line is a statement.
 */
static struct ev_counts check_events(const char *path, const char *script)
{
	size_t len;
	char *buf = bin_read_file(path, &len), *save = NULL;
	struct ev_counts c = {0};
	double prev = -1;

	cr_assert_gt(len, 0, "%s: empty events file", script);
	cr_assert_eq(buf[len - 1], '\n', "%s: the last line is not ended", script);
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(line);
		const cJSON *seq, *depth, *fn;
		const char *kind;

		cr_assert_not_null(o, "%s: not JSON: %s", script, line);
		seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
		depth = cJSON_GetObjectItemCaseSensitive(o, "depth");
		fn = cJSON_GetObjectItemCaseSensitive(o, "fn");
		kind = str_of(o, "kind");
		cr_assert(cJSON_IsNumber(seq), "%s: no seq: %s", script, line);
		cr_assert(cJSON_IsNumber(depth), "%s: no depth: %s", script, line);
		cr_assert(cJSON_IsString(fn) || cJSON_IsNull(fn), "%s: no fn: %s", script, line);
		cr_assert(layer_ok(str_of(o, "layer")), "%s: bad layer: %s", script, line);
		cr_assert_not_null(kind, "%s: no kind: %s", script, line);
		if (prev < 0) {
			c.first_seq = seq->valuedouble;
			cr_assert_str_eq(kind, "stmt", "%s: the first event is not a statement",
			                 script);
		} else {
			cr_assert_eq(seq->valuedouble, prev + 1, "%s: seq %.0f after %.0f", script,
			             seq->valuedouble, prev);
		}
		prev = seq->valuedouble;
		c.events++;
		c.stmts += !strcmp(kind, "stmt");
		c.calls += !strcmp(kind, "call");
		c.rets += !strcmp(kind, "ret");
		c.syscalls += !strcmp(kind, "syscall");
		c.sysrets += !strcmp(kind, "sysret");
		cJSON_Delete(o);
	}
	free(buf);
	return c;
}

/* ---- the Perfetto file -------------------------------------------------- */

struct pf_counts {
	long begins, ends, instants, faults, signals, splits, merges;
};

/*
 * Load a Perfetto file with cJSON and check its shape: {"traceEvents": [...]};
 * every event has ph, ts, pid 1, tid 1; B/E/i carry a layer as cat; every B
 * has its E in stack order with the same name; ts never decreases; nothing is
 * left open at the end.
 */
static struct pf_counts check_perfetto(const char *path, const char *script)
{
	size_t len;
	char *buf = bin_read_file(path, &len);
	cJSON *root = cJSON_Parse(buf), *evs, *e;
	const char *stack[512];
	int depth = 0;
	double last_ts = -1;
	struct pf_counts c = {0};

	cr_assert_not_null(root, "%s: the Perfetto file is not JSON", script);
	evs = cJSON_GetObjectItemCaseSensitive(root, "traceEvents");
	cr_assert(cJSON_IsArray(evs), "%s: no traceEvents array", script);
	cJSON_ArrayForEach(e, evs)
	{
		const char *ph = str_of(e, "ph"), *name = str_of(e, "name");
		const cJSON *ts = cJSON_GetObjectItemCaseSensitive(e, "ts");
		const cJSON *pid = cJSON_GetObjectItemCaseSensitive(e, "pid");
		const cJSON *tid = cJSON_GetObjectItemCaseSensitive(e, "tid");

		cr_assert_not_null(ph, "%s: an event without ph", script);
		cr_assert(cJSON_IsNumber(pid) && pid->valuedouble == 1, "%s: pid", script);
		cr_assert(cJSON_IsNumber(tid) && tid->valuedouble == 1, "%s: tid", script);
		if (!strcmp(ph, "M"))
			continue;
		cr_assert(cJSON_IsNumber(ts), "%s: %s event without ts", script, ph);
		cr_assert_geq(ts->valuedouble, last_ts, "%s: ts %.0f after %.0f", script,
		              ts->valuedouble, last_ts);
		last_ts = ts->valuedouble;
		cr_assert(layer_ok(str_of(e, "cat")), "%s: bad cat at ts %.0f", script, last_ts);
		cr_assert_not_null(name, "%s: unnamed %s event at ts %.0f", script, ph, last_ts);
		if (!strcmp(ph, "B")) {
			cr_assert_lt(depth, 512);
			stack[depth++] = name;
			c.begins++;
		} else if (!strcmp(ph, "E")) {
			cr_assert_gt(depth, 0, "%s: E '%s' with nothing open", script, name);
			cr_assert_str_eq(name, stack[depth - 1], "%s: E '%s' closes '%s'", script,
			                 name, stack[depth - 1]);
			depth--;
			c.ends++;
		} else {
			cr_assert_str_eq(ph, "i", "%s: unexpected ph '%s'", script, ph);
			cr_assert_str_eq(str_of(e, "s"), "t");
			c.instants++;
			c.faults += !strcmp(name, "fault");
			c.signals += !strcmp(name, "signal");
			c.splits += !strcmp(name, "buddy_split");
			c.merges += !strcmp(name, "buddy_merge");
		}
	}
	cr_assert_eq(depth, 0, "%s: %d slices left open", script, depth);
	cJSON_Delete(root);
	free(buf);
	return c;
}

static void assert_same_file(const char *a, const char *b, const char *script, const char *what)
{
	size_t la, lb;
	char *x = bin_read_file(a, &la), *y = bin_read_file(b, &lb);

	cr_assert_gt(la, 0, "%s: empty %s file", script, what);
	cr_assert(la == lb && memcmp(x, y, la) == 0, "%s: two runs gave different %s files", script,
	          what);
	free(x);
	free(y);
}

/* ---- tests ---------------------------------------------------------------- */

Test(export, events_and_perfetto_are_byte_identical_over_two_runs_of_every_scenario, .timeout = 120)
{
	char *ev[2] = {tmp_path(".jsonl"), tmp_path(".jsonl")};
	char *pf[2] = {tmp_path(".json"), tmp_path(".json")};
	glob_t g;

	all_scripts(&g);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		int st0 = run_export(g.gl_pathv[i], ev[0], pf[0], NULL);
		int st1 = run_export(g.gl_pathv[i], ev[1], pf[1], NULL);

		cr_assert(st0 == 0 || st0 == 1, "%s: exit %d", g.gl_pathv[i], st0);
		cr_assert_eq(st0, st1, "%s: exit %d then %d", g.gl_pathv[i], st0, st1);
		assert_same_file(ev[0], ev[1], g.gl_pathv[i], "events");
		assert_same_file(pf[0], pf[1], g.gl_pathv[i], "Perfetto");
	}
	globfree(&g);
	for (int k = 0; k < 2; k++) {
		unlink(ev[k]);
		unlink(pf[k]);
		free(ev[k]);
		free(pf[k]);
	}
}

Test(export, the_same_seed_gives_the_same_bytes_with_aslr_on)
{
	char *ev[2] = {tmp_path(".jsonl"), tmp_path(".jsonl")};
	char *pf[2] = {tmp_path(".json"), tmp_path(".json")};
	char *script;

	cr_assert_geq(asprintf(&script, "%s/demos/seed-walk.ams", bin_root()), 0);
	for (int k = 0; k < 2; k++)
		cr_assert_eq(run_export(script, ev[k], pf[k], "--seed=7"), 0);
	assert_same_file(ev[0], ev[1], script, "events");
	assert_same_file(pf[0], pf[1], script, "Perfetto");
	for (int k = 0; k < 2; k++) {
		unlink(ev[k]);
		unlink(pf[k]);
		free(ev[k]);
		free(pf[k]);
	}
	free(script);
}

Test(export, every_perfetto_file_loads_and_its_slices_nest_and_match_the_events, .timeout = 120)
{
	char *ev = tmp_path(".jsonl"), *pf = tmp_path(".json");
	glob_t g;

	all_scripts(&g);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct ev_counts e;
		struct pf_counts p;
		int st = run_export(g.gl_pathv[i], ev, pf, NULL);

		cr_assert(st == 0 || st == 1, "%s: exit %d", g.gl_pathv[i], st);
		e = check_events(ev, g.gl_pathv[i]);
		p = check_perfetto(pf, g.gl_pathv[i]);
		/* One slice per statement, call and system call; each return closes
		   one; everything else is an instant. */
		cr_assert_eq(p.begins, e.stmts + e.calls + e.syscalls, "%s: %ld B for %ld+%ld+%ld",
		             g.gl_pathv[i], p.begins, e.stmts, e.calls, e.syscalls);
		cr_assert_eq(p.ends, p.begins);
		cr_assert_eq(p.instants,
		             e.events - e.stmts - e.calls - e.rets - e.syscalls - e.sysrets,
		             "%s: instants", g.gl_pathv[i]);
		cr_assert_eq(e.calls, e.rets, "%s: every call returns (unwound or not)",
		             g.gl_pathv[i]);
	}
	globfree(&g);
	unlink(ev);
	unlink(pf);
	free(ev);
	free(pf);
}

Test(export, a_segfault_shows_as_a_fault_and_a_signal_with_every_slice_closed)
{
	char *pf = tmp_path(".json"), *script;
	struct pf_counts p;

	cr_assert_geq(asprintf(&script, "%s/demos/crash/shrink-segv.ams", bin_root()), 0);
	cr_assert_eq(run_export(script, NULL, pf, NULL), 1);
	p = check_perfetto(pf, script);
	cr_assert_geq(p.faults, 1);
	cr_assert_eq(p.signals, 1);
	unlink(pf);
	free(pf);
	free(script);
}

Test(export, a_first_touch_is_a_nested_fault_path_under_its_statement)
{
	char *pf = tmp_path(".json"), *script, *buf;
	const char *want[] = {"store b 0 0x41 1",   "exc_page_fault",  "handle_page_fault",
	                      "do_user_addr_fault", "handle_mm_fault", "__handle_mm_fault",
	                      "handle_pte_fault",   "do_pte_missing",  "do_anonymous_page"};
	size_t len, n = 0;
	cJSON *root, *e;

	cr_assert_geq(asprintf(&script, "%s/demos/first-touch.ams", bin_root()), 0);
	cr_assert_eq(run_export(script, NULL, pf, NULL), 0);
	buf = bin_read_file(pf, &len);
	root = cJSON_Parse(buf);
	cr_assert_not_null(root);
	/* The B events of the first store's statement open exactly this chain
	   (other calls come and go between them). */
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "traceEvents"))
	{
		const char *ph = str_of(e, "ph"), *name = str_of(e, "name");

		if (n < sizeof(want) / sizeof(want[0]) && !strcmp(ph, "B") &&
		    !strcmp(name, want[n]))
			n++;
		if (n && n < sizeof(want) / sizeof(want[0]) && !strcmp(ph, "E") &&
		    !strcmp(name, want[0]))
			break;
	}
	cr_assert_eq(n, sizeof(want) / sizeof(want[0]), "only %zu of the chain found", n);
	cJSON_Delete(root);
	free(buf);
	unlink(pf);
	free(pf);
	free(script);
}

Test(export, the_buddy_scenario_shows_its_splits_and_merges_as_instants)
{
	char *pf = tmp_path(".json"), *script;
	struct pf_counts p;

	cr_assert_geq(asprintf(&script, "%s/demos/buddy.ams", bin_root()), 0);
	cr_assert_eq(run_export(script, NULL, pf, NULL), 0);
	p = check_perfetto(pf, script);
	/* Second page: one split of order 1; fourth: order 4 down to 0. */
	cr_assert_geq(p.splits, 5, "%ld splits", p.splits);
	cr_assert_geq(p.merges, 5, "%ld merges", p.merges);
	cr_assert_eq(p.signals, 0);
	unlink(pf);
	free(pf);
	free(script);
}

Test(export, an_unwritable_perfetto_path_exits_2)
{
	char *script;

	cr_assert_geq(asprintf(&script, "%s/demos/first-touch.ams", bin_root()), 0);
	cr_assert_eq(run_export(script, NULL, "/nonexistent-dir/x.json", NULL), 2);
	free(script);
}
