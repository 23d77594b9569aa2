/*
 * run.c - `aftermalloc run SCRIPT.ams`: run a scenario script from start to
 * end on a fresh simulated machine (DESIGN.md, The command and Scenario
 * scripts) and tell what each statement did: its result, the page faults it
 * took, the system calls it made, the frames it cost; `show` views below it.
 *
 * Output: text for a reader (colour only on a terminal), or with --json one
 * compact object per statement and a summary; --events FILE.jsonl writes
 * every event (demos/step/events_out.c), --perfetto FILE.json the same events as
 * Chrome trace-event JSON with the calls as nested slices (demos/step/perfetto.c).
 * The text is run_text.c's, the JSON run_json.c's; this file is the command.
 * Exit status: 0; 1 when the program was
 * killed or an expect failed; 2 for bad usage or a malformed script, which is
 * reported before anything runs.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../step/events_out.h"
#include "../step/perfetto.h"
#include "commands.h"
#include "options.h"
#include "output.h"
#include "run_internal.h"
#include "script.h"
#include "session.h"

/* ---- the command ----------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: aftermalloc run SCRIPT.ams [options]\n"
	      "\n"
	      "Run a scenario script on a fresh simulated machine, statement by statement.\n"
	      "\n"
	      "  --json              one JSON object per statement, then {\"summary\": ...}\n"
	      "  --events FILE       write every event as JSON lines (seq, layer, kind, fn,\n"
	      "                      depth, fields); same script and seed, same bytes\n"
	      "  --perfetto FILE     write the events as Chrome trace-event JSON for\n"
	      "                      ui.perfetto.dev: statements and calls as nested slices,\n"
	      "                      faults, splits, signals as instants; ts = 2 x seq\n"
	      "  --trace             print every event under its statement (text output)\n"
	      "  --malloc POLICY     seed, firstfit, nextfit, bestfit, glibc, best, or ./mm.so\n"
	      "                      (a plugin: your own allocator, see aftermalloc lab);\n"
	      "                      overrides the script's `policy` line (default: glibc);\n"
	      "                      `all` runs it under each built-in policy and prints\n"
	      "                      their results side by side\n" SIM_HELP_MACHINE
	      "  --check             check every invariant after every statement\n"
	      "  --max-statements N  the statement budget: stop a run after N statements\n"
	      "                      (a loop counts each pass; default: the script's\n"
	      "                      statements and 1M more)\n"
	      "  --no-comments       do not echo the script's comments\n" SIM_HELP_COLOR "\n"
	      "Exit status: 0 success, 1 the program was killed or an expect failed,\n"
	      "2 bad usage or a malformed script (FILE:LINE: message on stderr).\n"
	      "\n"
	      "Scripts: one statement a line, # starts a comment. NAME = STATEMENT keeps a\n"
	      "result, NAME = EXPR a value, NAME[EXPR] = ... an array element. EXPR: numbers\n"
	      "(4096, 0x1000, 4K, 1M), variables, NAME[EXPR], ( ), * / % + - << >> & ^ |,\n"
	      "aligned(X, N), errno names (ENOMEM, EINVAL, ...) and built-ins: faults (of the\n"
	      "last statement that ran code), rss (resident pages), memfree (free frames),\n"
	      "brk (the break), infinity, errno, pid, vmas, vmsize, vmdata, vmpte, vmstk\n"
	      "(/proc/PID/status, kB). Blocks end with `end` on a line of its own.\n"
	      "A first line `policy NAME` chooses the malloc policy. Statements:\n",
	      f);
	for (int i = 0; i < ST__COUNT; i++)
		fprintf(f, "  %s\n", script_stmt_defs[i].usage);
	fputs("Examples: demos/seed-walk.ams (start there), demos/first-touch.ams, ...\n", f);
}

enum {
	OPT_JSON = 256,
	OPT_EVENTS,
	OPT_PERFETTO,
	OPT_CHECK,
	OPT_TRACE,
	OPT_NOCOMMENTS,
	OPT_MAXSTMTS
};

static int parse_args(int argc, char **argv, struct run_opts *o, bool *help)
{
	static const struct option longopts[] = {
	    SIM_LONG_OPTIONS,
	    {"json", no_argument, NULL, OPT_JSON},
	    {"events", required_argument, NULL, OPT_EVENTS},
	    {"perfetto", required_argument, NULL, OPT_PERFETTO},
	    {"check", no_argument, NULL, OPT_CHECK},
	    {"trace", no_argument, NULL, OPT_TRACE},
	    {"no-comments", no_argument, NULL, OPT_NOCOMMENTS},
	    {"max-statements", required_argument, NULL, OPT_MAXSTMTS},
	    {"help", no_argument, NULL, 'h'},
	    {0, 0, 0, 0},
	};
	uint64_t v;
	int c, rc;

	optind = 0; /* glibc: full re-initialisation (main may have used getopt) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hjv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			*help = true;
			return 0;
		case 'j':
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_EVENTS:
			o->events_path = optarg;
			break;
		case OPT_PERFETTO:
			o->perfetto_path = optarg;
			break;
		case OPT_CHECK:
			o->so.check = true;
			o->so.kopts.debug_checks = true;
			break;
		case 'v':
		case OPT_TRACE:
			o->trace = true;
			break;
		case OPT_NOCOMMENTS:
			o->narrate = false;
			break;
		case OPT_MAXSTMTS:
			if (parse_size(optarg, &v) < 0 || v == 0)
				return usage_error("run", "--max-statements: bad number '%s'",
				                   optarg);
			o->so.max_stmts = v;
			break;
		case ':':
			return usage_error("run", "option '%s' needs a value", argv[optind - 1]);
		default:
			/* --malloc all: run_all_policies, which names each policy */
			if (c == SIM_OPT_MALLOC && strcmp(optarg, "all") == 0) {
				o->so.policy = optarg;
				break;
			}
			rc = sim_option("run", c, optarg, &o->so, &o->color);
			if (rc < 0)
				return EXIT_BAD_INPUT;
			if (rc == 0)
				return usage_error("run", "unknown option '%s'", argv[optind - 1]);
		}
	}
	o->script_path = sim_script_arg("run", argc, argv, optind);
	return o->script_path ? 0 : EXIT_BAD_INPUT;
}

static int stmt_width(const struct script *sc)
{
	int w = 12;

	for (size_t i = 0; i < sc->nr_stmts; i++) {
		int l = (int)strlen(sc->stmts[i].text) + 2 * sc->stmts[i].depth;

		if (l > w)
			w = l;
	}
	return w > 36 ? 36 : w;
}

/* The expect signal/stderr statements that ran (each counts once). */
static uint64_t count_end_expects(const struct session *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->sc->nr_stmts; i++)
		n += s->armed[i];
	return n;
}

static int run_script(struct run_opts *o, struct script *sc)
{
	struct session *s = session_create(sc, &o->so, stderr);
	struct run_notes notes = {0};
	struct events_out eo;
	struct perfetto *pf = NULL;
	FILE *ev_file = NULL, *pf_file = NULL;
	uint64_t nr_expect = 0;
	int width = stmt_width(sc), status = 0, prev_line = 0;
	struct trace_head head = {o, sc, NULL, width, &prev_line};

	if (!s)
		return EXIT_BAD_INPUT;
	if (o->events_path) {
		ev_file = output_open(o->events_path, false);
		if (!ev_file) {
			session_destroy(s);
			return EXIT_BAD_INPUT;
		}
		events_out_init(&eo, ev_file);
		session_add_sink(s, events_out_sink, &eo);
	}
	if (o->perfetto_path) {
		char pname[PATH_MAX + 32];

		pf = malloc(sizeof(*pf));
		pf_file = pf ? output_open(o->perfetto_path, false) : NULL;
		if (!pf_file) {
			if (!pf)
				cmd_error("run", "out of host memory");
			free(pf);
			output_close(ev_file);
			session_destroy(s);
			return EXIT_BAD_INPUT;
		}
		snprintf(pname, sizeof(pname), "aftermalloc run %s", sc->path);
		perfetto_begin(pf, pf_file, pname, s->task->comm);
		session_add_sink(s, perfetto_sink, pf);
	}
	notes.trace = o->trace && !o->json;
	notes.head = run_print_trace_head;
	notes.head_ctx = &head;
	if (!o->json)
		session_add_sink(s, run_notes_sink, &notes);
	if (!o->json)
		run_print_header(o, s);

	while (!session_done(s)) {
		const struct stmt *st = &sc->stmts[s->next];
		int64_t rss0 = session_builtin(s, BI_RSS);
		uint64_t pt0 = run_pt_pages(s);
		int rc;

		run_notes_reset(&notes);
		head.st = st;
		rc = session_step(s);
		if (rc == SESSION_ERROR) {
			status = EXIT_BAD_INPUT;
			break;
		}
		if (o->json) {
			run_json_statement(s, st);
		} else {
			/* The comments above a line, the first time the run gets there. */
			if (o->narrate && st->line > prev_line) {
				run_print_narrative(o, sc, prev_line, st->line - 1);
				prev_line = st->line;
			}
			run_print_statement(o, s, st, width, &notes, rss0, pt0);
			if (notes.len) /* buf is NULL before the first held line */
				fwrite(notes.buf, 1, notes.len, stdout);
		}
		if (st->op == ST_EXPECT) {
			nr_expect++;
			if (!s->res.expect_ok) {
				char l[64], r[64];

				run_fmt_value(l, sizeof(l), s->res.lhs);
				run_fmt_value(r, sizeof(r), s->res.rhs);
				fflush(stdout);
				fprintf(stderr, "%s:%d: expect failed: %s (%s) %s %s (%s)\n",
				        sc->path, st->line, st->args[0].text, l,
				        script_cmp_names[st->cmp], st->args[1].text, r);
				status = EXIT_SIM_FAILED;
			}
		}
		if (rc == SESSION_CORRUPT) {
			output_flush();
			fprintf(stderr, "%s\n", s->error);
			status = EXIT_SIM_FAILED;
			break;
		}
		if (rc == SESSION_KILLED) {
			fflush(stdout);
			/* What the process wrote to fd 2 (glibc's message), then the kernel's line.
			 */
			session_print_death(s->task, stderr, "");
			break;
		}
		if (s->res.killed) {
			/* A child died: it is a zombie now, the run goes on. */
			fflush(stdout);
			if (s->task)
				session_print_death(s->task, stderr, "");
			else
				fprintf(stderr, "%s\n", s->res.death.report);
		}
	}
	/* What `expect signal` and `expect stderr` asked of the end. */
	if (!s->failed && !s->corrupt) {
		fflush(stdout);
		nr_expect += count_end_expects(s);
		if (session_finish(s, stderr))
			status = EXIT_SIM_FAILED;
		else if (s->dead && !s->death_expected)
			status = EXIT_SIM_FAILED;
	}
	if (!o->json && o->narrate && !s->dead && !s->failed && !s->corrupt)
		run_print_narrative(o, sc, prev_line, sc->nr_lines);
	if (o->json)
		run_json_summary(s, status);
	else
		run_print_summary(o, s, nr_expect);
	fflush(stdout);
	if (s->failed)
		fprintf(stderr, "%s\n", s->error);
	output_close(ev_file); /* a failed write ends the command there (output.h) */
	if (ev_file && eo.failed) {
		cmd_error("run", "%s: out of host memory for an event", o->events_path);
		if (!status)
			status = EXIT_BAD_INPUT;
	}
	if (pf_file) {
		cJSON *other = cJSON_CreateObject();

		cJSON_AddStringToObject(other, "script", sc->path);
		cJSON_AddStringToObject(other, "malloc", s->policy);
		cJSON_AddStringToObject(other, "ts", "2 x the event's seq (not wall time)");
		if (perfetto_end(pf, other) < 0) {
			cmd_error("run", "%s: out of host memory", o->perfetto_path);
			if (!status)
				status = EXIT_BAD_INPUT;
		}
		output_close(pf_file);
		free(pf);
	}
	free(notes.buf);
	session_destroy(s);
	return status;
}

/* ---- --malloc all: every policy, side by side --------------------------------- */

/* The end of one policy's run, for the table. */
struct policy_run {
	const char *policy;
	uint64_t stmts, expects, failed, faults, brk, mmap, munmap, rss, hiwater, footprint;
	uint64_t tlb_misses, events;
	char end[48]; /* "done", "SIGSEGV l.9", "SIGABRT l.9 ok" (expected), "error l.3" */
	int status;
};

/* Run the script under one policy, quietly; what the run's messages would
   say goes to err with the policy in front. -1 when it cannot start. */
static int run_quiet(struct run_opts *o, struct script *sc, const char *policy,
                     struct policy_run *pr, FILE *err)
{
	struct session_opts so = o->so;
	struct session *s;
	char *msg = NULL, b1[32];
	size_t len = 0;
	FILE *m;

	so.policy = policy;
	s = session_create(sc, &so, err);
	if (!s)
		return -1;
	memset(pr, 0, sizeof(*pr));
	pr->policy = s->policy;
	while (!session_done(s)) {
		int rc = session_step(s);

		if (rc == SESSION_OK && sc->stmts[s->res.idx].op == ST_EXPECT) {
			pr->expects++;
			if (!s->res.expect_ok)
				fprintf(err,
				        "%s: %s:%d: expect failed: %s (%" PRId64 ") %s %s (%" PRId64
				        ")\n",
				        pr->policy, sc->path, s->res.line,
				        sc->stmts[s->res.idx].args[0].text, s->res.lhs,
				        script_cmp_names[sc->stmts[s->res.idx].cmp],
				        sc->stmts[s->res.idx].args[1].text, s->res.rhs);
		}
	}
	snprintf(pr->end, sizeof(pr->end), "done");
	if (s->failed) {
		fprintf(err, "%s: %s\n", pr->policy, s->error);
		snprintf(pr->end, sizeof(pr->end), "error l.%d", sc->stmts[s->next].line);
		pr->status = EXIT_BAD_INPUT;
	} else {
		m = open_memstream(&msg, &len);
		pr->expects += count_end_expects(s);
		if (m && session_finish(s, m))
			pr->status = EXIT_SIM_FAILED;
		if (m)
			fclose(m);
		for (char *l = msg, *nl; l && *l; l = nl + 1) {
			nl = strchr(l, '\n');
			fprintf(err, "%s: %.*s\n", pr->policy, (int)(nl ? nl - l : (long)strlen(l)),
			        l);
			if (!nl)
				break;
		}
		free(msg);
		if (s->dead) {
			snprintf(pr->end, sizeof(pr->end), "%s l.%d%s",
			         session_signal_name(s->task->death.signo, b1, sizeof(b1)),
			         s->res.line, s->death_expected ? " ok" : "");
			if (!s->death_expected)
				pr->status = EXIT_SIM_FAILED;
		}
		if (s->nr_expect_failed)
			pr->status = EXIT_SIM_FAILED;
	}
	pr->stmts = s->nr_run;
	pr->failed = s->nr_expect_failed;
	pr->faults = s->total_faults;
	pr->brk = s->lc->st.brk_calls;
	pr->mmap = s->lc->st.mmap_calls;
	pr->munmap = s->lc->st.munmap_calls;
	pr->rss = (uint64_t)session_builtin(s, BI_RSS);
	pr->hiwater = s->main_task->mm ? s->main_task->mm->hiwater_rss : s->main_task->maxrss;
	if (pr->hiwater < pr->rss)
		pr->hiwater = pr->rss;
	pr->footprint = libc_footprint(s->lc);
	pr->tlb_misses = s->k.cpu.tlb.misses;
	pr->events = probe_seq(&s->k.probe);
	session_destroy(s);
	return 0;
}

static int run_all_policies(struct run_opts *o, struct script *sc)
{
	struct policy_run pr[16];
	int n = 0, status = 0;
	static const struct {
		const char *label, *key; /* the table's, the JSON's */
		size_t off;
	} rows[] = {
	    {"statements run", "statements", offsetof(struct policy_run, stmts)},
	    {"expects", "expects", offsetof(struct policy_run, expects)},
	    {"expects failed", "expect_failed", offsetof(struct policy_run, failed)},
	    {"page faults", "page_faults", offsetof(struct policy_run, faults)},
	    {"brk calls", "brk_calls", offsetof(struct policy_run, brk)},
	    {"mmap calls", "mmap_calls", offsetof(struct policy_run, mmap)},
	    {"munmap calls", "munmap_calls", offsetof(struct policy_run, munmap)},
	    {"RSS at the end", "rss", offsetof(struct policy_run, rss)},
	    {"RSS at most", "rss_max", offsetof(struct policy_run, hiwater)},
	    {"heap footprint", "footprint", offsetof(struct policy_run, footprint)},
	    {"TLB misses", "tlb_misses", offsetof(struct policy_run, tlb_misses)},
	    {"events", "events", offsetof(struct policy_run, events)},
	};

	if (o->events_path || o->perfetto_path || o->trace)
		return usage_error(
		    "run", "--malloc all prints a table: no --events, --perfetto or --trace");
	for (const struct malloc_ops *const *p = malloc_policies; *p && n < 16; p++, n++) {
		fflush(stdout);
		if (run_quiet(o, sc, (*p)->name, &pr[n], stderr) < 0)
			return EXIT_BAD_INPUT;
		if (pr[n].status > status)
			status = pr[n].status;
	}
	if (o->json) {
		for (int i = 0; i < n; i++) {
			cJSON *obj = cJSON_CreateObject(),
			      *m = cJSON_AddObjectToObject(obj, "summary");

			cJSON_AddStringToObject(m, "script", sc->path);
			cJSON_AddStringToObject(m, "malloc", pr[i].policy);
			for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
				run_json_num(
				    m, rows[r].key,
				    *(const uint64_t *)((const char *)&pr[i] + rows[r].off));
			cJSON_AddStringToObject(m, "end", pr[i].end);
			run_json_num(m, "exit", (uint64_t)pr[i].status);
			run_json_print(obj);
		}
		return status;
	}
	printf("%saftermalloc run %s --malloc all%s\n", run_col(o, C_BOLD), sc->path,
	       run_col(o, C_RESET));
	printf("%s  each policy on a fresh machine; RSS in pages, footprint in bytes "
	       "(brk - start_brk + mmapped)%s\n\n",
	       run_col(o, C_DIM), run_col(o, C_RESET));
	printf("%-15s", "");
	for (int i = 0; i < n; i++)
		printf(" %14s", pr[i].policy);
	putchar('\n');
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		printf("%-15s", rows[r].label);
		for (int i = 0; i < n; i++)
			printf(" %14" PRIu64,
			       *(const uint64_t *)((const char *)&pr[i] + rows[r].off));
		putchar('\n');
	}
	printf("%-15s", "the end");
	for (int i = 0; i < n; i++)
		printf(" %14.14s", pr[i].end);
	printf("\n%-15s", "exit status");
	for (int i = 0; i < n; i++)
		printf(" %14d", pr[i].status);
	putchar('\n');
	return status;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct script *sc;
	bool help = false;
	int rc;

	memset(&o, 0, sizeof(o));
	session_default_opts(&o.so);
	o.narrate = true;
	o.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	rc = parse_args(argc, argv, &o, &help);
	if (help) {
		usage(stdout);
		return 0;
	}
	if (rc)
		return rc;
	if (script_load("run", o.script_path, &sc, stderr) < 0)
		return EXIT_BAD_INPUT;
	if (o.so.policy && strcmp(o.so.policy, "all") == 0)
		rc = run_all_policies(&o, sc);
	else
		rc = run_script(&o, sc);
	script_free(sc);
	return rc;
}
