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
 * Exit status: 0; 1 when the program was
 * killed or an expect failed; 2 for bad usage or a malformed script, which is
 * reported before anything runs.
 */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../step/events_out.h"
#include "../step/perfetto.h"
#include "commands.h"
#include "output.h"
#include "options.h"
#include "script.h"
#include "session.h"

struct run_opts {
	struct session_opts so;
	bool json, trace, narrate, color;
	const char *events_path;
	const char *perfetto_path;
	const char *script_path;
};

/* Per-statement notes gathered from the events, for the text output. */
#define MAX_SYSCALL_NAMES 6

struct run_notes {
	struct {
		const char *name; /* "brk", "mmap", ... (after __x64_sys_) */
		unsigned count;
	} sys[MAX_SYSCALL_NAMES];
	unsigned nsys;
	/* write faults on pages shared since a fork: copied (__wp_page_copy_user,
	   not the zero page's wp_page_copy, which copies nothing) or reused */
	unsigned cow_copied, cow_reused;
	/* --trace: the statement's event lines wait in buf until its own line is
	   printed above them; past TRACE_HOLD bytes they stream instead. */
	bool trace;
	char *buf;
	size_t len, cap;
	bool streaming;
	void (*head)(void *ctx); /* print the statement's line, before it streams */
	void *head_ctx;
};

/* What --trace holds of one statement's events before it streams them. */
#define TRACE_HOLD (1u << 20)

static void notes_reset(struct run_notes *n)
{
	n->nsys = 0;
	n->cow_copied = n->cow_reused = 0;
	n->len = 0;
	n->streaming = false;
}

/* One event line of --trace: held, or (past TRACE_HOLD) printed now. */
static void notes_trace(struct run_notes *n, const char *line, size_t l)
{
	if (!n->streaming && n->len + l > TRACE_HOLD) {
		n->head(n->head_ctx);
		fwrite(n->buf, 1, n->len, stdout);
		n->len = 0;
		n->streaming = true;
	}
	if (n->streaming) {
		fwrite(line, 1, l, stdout);
		return;
	}
	if (n->len + l > n->cap) {
		size_t cap = n->cap ? 2 * n->cap : 4096;
		char *b;

		while (cap < n->len + l)
			cap *= 2;
		b = realloc(n->buf, cap);
		if (!b) {
			/* No room to hold them: stream from here. */
			n->head(n->head_ctx);
			fwrite(n->buf, 1, n->len, stdout);
			n->len = 0;
			n->streaming = true;
			fwrite(line, 1, l, stdout);
			return;
		}
		n->buf = b;
		n->cap = cap;
	}
	memcpy(n->buf + n->len, line, l);
	n->len += l;
}

static void notes_sink(void *ctx, const struct event *ev)
{
	struct run_notes *n = ctx;
	static const char prefix[] = "__x64_sys_";

	if (ev->kind == EV_CALL && ev->fn && strncmp(ev->fn, prefix, sizeof(prefix) - 1) == 0) {
		const char *name = ev->fn + sizeof(prefix) - 1;
		unsigned i;

		for (i = 0; i < n->nsys; i++)
			if (strcmp(n->sys[i].name, name) == 0)
				break;
		if (i == n->nsys && n->nsys < MAX_SYSCALL_NAMES)
			n->sys[n->nsys++] = (typeof(n->sys[0])){name, 0};
		if (i < n->nsys)
			n->sys[i].count++;
	}
	if (ev->kind == EV_CALL && ev->fn && strcmp(ev->fn, "__wp_page_copy_user") == 0)
		n->cow_copied++;
	if (ev->kind == EV_CALL && ev->fn && strcmp(ev->fn, "wp_page_reuse") == 0)
		n->cow_reused++;
	if (n->trace && ev->kind != EV_STMT) {
		char buf[256], line[512];
		int l;

		event_format(ev, buf, sizeof(buf));
		l = snprintf(line, sizeof(line), "        %*s%s\n", 2 * (int)ev->depth, "", buf);
		if (l >= (int)sizeof(line)) {
			l = (int)sizeof(line) - 1;
			line[l - 1] = '\n';
		}
		notes_trace(n, line, (size_t)l);
	}
}

/* ---- text output ----------------------------------------------------- */

enum color { C_RESET, C_DIM, C_BOLD, C_ADDR, C_FAULT, C_OK, C_BAD, C_NUM };

static const char *col(const struct run_opts *o, enum color c)
{
	static const char *const codes[] = {
	    [C_RESET] = "\033[0m",  [C_DIM] = "\033[2m",    [C_BOLD] = "\033[1m",
	    [C_ADDR] = "\033[36m",  [C_FAULT] = "\033[33m", [C_OK] = "\033[32m",
	    [C_BAD] = "\033[1;31m", [C_NUM] = "\033[35m",
	};

	return o->color ? codes[c] : "";
}

/* A value as a reader expects it: small numbers in decimal, addresses in hex. */
static void fmt_value(char *buf, size_t n, int64_t v)
{
	if (v > -65536 && v < 65536)
		snprintf(buf, n, "%" PRId64, v);
	else
		snprintf(buf, n, "%#" PRIx64, (uint64_t)v);
}

static void fmt_result(char *buf, size_t n, const struct stmt *st, int64_t v)
{
	const struct stmt_def *d = &script_stmt_defs[st->op];

	switch (d->ret) {
	case RET_ADDR:
		if (v == -1)
			snprintf(buf, n, "-1 (%s)", st->op == ST_MMAP || st->op == ST_MREMAP ? "MAP_FAILED" : "failed");
		else if (v == 0)
			snprintf(buf, n, "NULL");
		else
			snprintf(buf, n, "%#" PRIx64, (uint64_t)v);
		break;
	case RET_STATUS:
		snprintf(buf, n, "%" PRId64, v);
		break;
	default:
		fmt_value(buf, n, v);
		break;
	}
}

/* Is there a statement on line (1-based)? sc->stmts are in line order. */
static bool line_has_stmt(const struct script *sc, int line)
{
	size_t lo = 0, hi = sc->nr_stmts;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sc->stmts[mid].line < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sc->nr_stmts && sc->stmts[lo].line == line;
}

static void print_narrative(const struct run_opts *o, const struct script *sc, int from, int to)
{
	bool blank = false;

	for (int i = from; i < to && i < sc->nr_lines; i++) {
		const char *l = sc->lines[i];

		while (*l == ' ' || *l == '\t')
			l++;
		if (line_has_stmt(sc, i + 1))
			continue; /* one the run did not get to: a loop never entered */
		if (!*l) {
			blank = true;
			continue;
		}
		if (blank)
			putchar('\n');
		blank = false;
		printf("     %s%s%s\n", col(o, C_DIM), l, col(o, C_RESET));
	}
	if (blank)
		putchar('\n');
}

static void print_indented(const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - text - i) : len - i;

		printf("        %.*s\n", (int)l, text + i);
		i += l + 1;
	}
}

/* Page-table pages of the task statements run in (0 once it has no mm). */
static uint64_t pt_pages(const struct session *s)
{
	return s->task && s->task->mm ? s->task->mm->pgtables_bytes / 4096 : 0;
}

/* "  12  p = malloc 100      ": the line number and the statement, padded. */
static void print_stmt_head(const struct run_opts *o, const struct stmt *st, int width)
{
	printf("%s%4d%s  %*s%-*s", col(o, C_DIM), st->line, col(o, C_RESET), 2 * st->depth, "",
	       width - 2 * st->depth, st->text);
}

/* --trace past TRACE_HOLD: the statement's line before its events stream. */
struct trace_head {
	const struct run_opts *o;
	const struct script *sc;
	const struct stmt *st;
	int width;
	int *prev_line; /* the last line whose comments were printed */
};

static void print_trace_head(void *ctx)
{
	const struct trace_head *h = ctx;

	if (h->o->narrate && h->st->line > *h->prev_line) {
		print_narrative(h->o, h->sc, *h->prev_line, h->st->line - 1);
		*h->prev_line = h->st->line;
	}
	print_stmt_head(h->o, h->st, h->width);
	printf("  %s(its events as they happen, its result after them)%s\n", col(h->o, C_DIM),
	       col(h->o, C_RESET));
}

static void print_statement(const struct run_opts *o, struct session *s, const struct stmt *st,
                            int width, const struct run_notes *notes, int64_t rss0, uint64_t pt0)
{
	const struct stmt_result *r = &s->res;
	const struct stmt_def *d = &script_stmt_defs[st->op];
	char buf[64], buf2[64];

	print_stmt_head(o, st, width);
	if (st->op == ST_FOR || (st->op == ST_END && s->sc->stmts[st->peer].op == ST_FOR)) {
		const struct stmt *f = st->op == ST_FOR ? st : &s->sc->stmts[st->peer];

		fmt_value(buf, sizeof(buf), r->loop_value);
		printf("  -> %s = %s%s%s%s", s->sc->var_names[f->dest], col(o, C_NUM), buf,
		       col(o, C_RESET),
		       r->loop_again ? "" : st->op == ST_FOR ? ", no iteration" : ", done");
	} else if (r->killed) {
		const struct task_death *dt = &r->death;

		printf("  %s-> killed by %s (%s)%s", col(o, C_BAD),
		       session_signal_name(dt->signo, buf, sizeof(buf)),
		       session_sigcode_name(dt->signo, dt->code, buf2, sizeof(buf2)),
		       col(o, C_RESET));
	} else if (r->exited) {
		printf("  -> exited, status %s%d%s", col(o, C_NUM),
		       st->nargs ? (int)(r->args[0] & 0xff) : 0, col(o, C_RESET));
	} else if (st->op == ST_EXPECT) {
		if (r->expect_ok) {
			printf("  %sok%s", col(o, C_OK), col(o, C_RESET));
		} else {
			fmt_value(buf, sizeof(buf), r->lhs);
			fmt_value(buf2, sizeof(buf2), r->rhs);
			printf("  %sFAILED: %s is %s", col(o, C_BAD), st->args[0].text, buf);
			/* A constant needs no "2 is 2". */
			if (strcmp(st->args[1].text, buf2) != 0)
				printf(", %s is %s", st->args[1].text, buf2);
			fputs(col(o, C_RESET), stdout);
		}
	} else if (r->has_ret) {
		fmt_result(buf, sizeof(buf), st, r->ret);
		printf("  -> %s%s%s", col(o, d->ret == RET_ADDR ? C_ADDR : C_NUM), buf,
		       col(o, C_RESET));
	}
	if (d->runs_code && st->op != ST_SHOW)
		printf("   %s%" PRIu64 " fault%s%s", col(o, r->faults ? C_FAULT : C_DIM), r->faults,
		       r->faults == 1 ? "" : "s", col(o, C_RESET));
	putchar('\n');

	/* What happened below the statement, in one line. */
	if (d->runs_code && st->op != ST_SHOW && !r->killed &&
	    (notes->nsys || r->faults || r->frames_alloc || r->frames_freed ||
	     notes->cow_copied || notes->cow_reused)) {
		int64_t drss = session_builtin(s, BI_RSS) - rss0;
		int64_t dpt = (int64_t)pt_pages(s) - (int64_t)pt0;
		const char *sep = "";

		printf("        %s", col(o, C_DIM));
		if (notes->nsys) {
			printf("syscall%s ", notes->nsys > 1 || notes->sys[0].count > 1 ? "s" : "");
			for (unsigned i = 0; i < notes->nsys; i++) {
				printf("%s%s", i ? ", " : "", notes->sys[i].name);
				if (notes->sys[i].count > 1)
					printf(" x%u", notes->sys[i].count);
			}
			sep = "; ";
		}
		if (r->frames_alloc || r->frames_freed) {
			printf("%sframes", sep);
			if (r->frames_alloc)
				printf(" +%" PRIu64, r->frames_alloc);
			if (r->frames_freed)
				printf(" -%" PRIu64, r->frames_freed);
			sep = "; ";
		}
		if (drss || dpt) {
			printf("%s", sep);
			if (drss)
				printf("rss %+" PRId64 " page%s", drss,
				       drss == 1 || drss == -1 ? "" : "s");
			if (dpt)
				printf("%spage tables %+" PRId64, drss ? ", " : "", dpt);
			sep = "; ";
		}
		/* Write faults on pages shared since a fork (or the zero page):
		   copied, or made writable in place. */
		if (notes->cow_copied || notes->cow_reused) {
			printf("%scopy-on-write:", sep);
			if (notes->cow_copied)
				printf(" %u page%s copied (wp_page_copy)", notes->cow_copied,
				       notes->cow_copied == 1 ? "" : "s");
			if (notes->cow_reused)
				printf("%s %u reused in place (wp_page_reuse)",
				       notes->cow_copied ? "," : "", notes->cow_reused);
		/* Faults that gave the program no page of its own: read faults that
		   mapped the shared zero page. */
		} else if (r->faults && !drss &&
		           (int64_t)r->frames_alloc <= (dpt > 0 ? dpt : 0)) {
			printf("%sno frame for the data: the shared zero page", sep);
		}
		printf("%s\n", col(o, C_RESET));
	}
	if (r->output)
		print_indented(r->output, r->output_len);
}

static void print_header(const struct run_opts *o, struct session *s)
{
	const struct kernel_opts *k = &s->opts.kopts;

	printf("%saftermalloc run %s%s\n", col(o, C_BOLD), s->sc->path, col(o, C_RESET));
	printf("%s  malloc policy %s; %" PRIu64 " MiB of simulated RAM (%" PRIu64
	       " frames of 4 KiB); zero page %s; ASLR %s%s\n",
	       col(o, C_DIM), s->policy, k->phys_bytes >> 20, (uint64_t)(k->phys_bytes / PAGE_SIZE),
	       k->zero_page ? "on" : "off", k->aslr ? "on" : "off", col(o, C_RESET));
	printf("%s  line  statement  -> result   page faults taken%s\n\n", col(o, C_DIM),
	       col(o, C_RESET));
}

static void print_summary(const struct run_opts *o, struct session *s, uint64_t nr_expect)
{
	uint64_t rss = (uint64_t)session_builtin(s, BI_RSS);
	char buf[64], buf2[64];

	printf("\n%sSummary%s\n", col(o, C_BOLD), col(o, C_RESET));
	if (s->sc->nr_blocks)
		printf("  statements     %" PRIu64 " run, %zu in the script", s->nr_run,
		       s->sc->nr_stmts);
	else
		printf("  statements     %" PRIu64 " run of %zu", s->nr_run, s->sc->nr_stmts);
	if (nr_expect)
		printf(" (expect: %" PRIu64 " passed, %s%" PRIu64 " failed%s)",
		       nr_expect - s->nr_expect_failed,
		       col(o, s->nr_expect_failed ? C_BAD : C_RESET), s->nr_expect_failed,
		       col(o, C_RESET));
	printf("\n  page faults    %" PRIu64 "\n", s->total_faults);
	printf("  system calls   brk %" PRIu64 ", mmap %" PRIu64 ", munmap %" PRIu64 "\n",
	       s->lc->st.brk_calls, s->lc->st.mmap_calls, s->lc->st.munmap_calls);
	printf("  memory         RSS %" PRIu64 " page%s (%" PRIu64 " KiB), %" PRIu64 " of %" PRIu64
	       " frames free\n",
	       rss, rss == 1 ? "" : "s", rss * 4, s->k.buddy.free_pages, s->k.buddy.managed);
	printf("  TLB            %" PRIu64 " hits, %" PRIu64 " misses\n",
	       cpu_tlb_hits(&s->k.cpu) - s->base.tlb_hits,
	       s->k.cpu.tlb.misses - s->base.tlb_misses);
	printf("  events         %" PRIu64 "%s\n", session_events(s),
	       o->events_path ? "" : " (each one: --events FILE.jsonl; all of them: --trace)");
	if (s->dead)
		printf("  %sthe program was killed by %s (%s)%s%s\n",
		       col(o, s->death_expected ? C_OK : C_BAD),
		       session_signal_name(s->task->death.signo, buf, sizeof(buf)),
		       session_sigcode_name(s->task->death.signo, s->task->death.code, buf2,
		                            sizeof(buf2)),
		       s->death_expected ? ", as the script expects" : "", col(o, C_RESET));
	if (s->failed)
		printf("  %sthe script stopped at line %d: an error (on stderr)%s\n", col(o, C_BAD),
		       s->sc->stmts[s->next].line, col(o, C_RESET));
	if (s->corrupt)
		printf("  %sthe run stopped at line %d: the program corrupted its heap (--check, on "
		       "stderr)%s\n",
		       col(o, C_BAD), s->res.line, col(o, C_RESET));
}

/* ---- JSON output ----------------------------------------------------- */

static void json_num(cJSON *o, const char *key, uint64_t v)
{
	cJSON_AddItemToObject(o, key, events_out_number(v, false));
}

static void json_signed(cJSON *o, const char *key, int64_t v)
{
	cJSON_AddItemToObject(o, key, events_out_number((uint64_t)v, true));
}

static void json_print(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (s) {
		puts(s);
		free(s);
	}
	cJSON_Delete(o);
}

static void json_loop(struct session *s, const struct stmt *st, cJSON *o)
{
	const struct stmt *f = st->op == ST_FOR ? st : &s->sc->stmts[st->peer];
	cJSON *l;

	if (f->op != ST_FOR)
		return;
	l = cJSON_AddObjectToObject(o, "loop");
	cJSON_AddStringToObject(l, "var", s->sc->var_names[f->dest]);
	json_signed(l, "value", s->res.loop_value);
	cJSON_AddBoolToObject(l, "again", s->res.loop_again);
}

static void json_statement(struct session *s, const struct stmt *st)
{
	const struct stmt_result *r = &s->res;
	cJSON *o = cJSON_CreateObject();

	json_num(o, "line", (uint64_t)st->line);
	cJSON_AddStringToObject(o, "op", script_stmt_defs[st->op].name);
	cJSON_AddStringToObject(o, "text", st->text);
	json_num(o, "pid", (uint64_t)r->pid);
	json_num(o, "tid", (uint64_t)r->tid);
	if (st->dest >= 0)
		cJSON_AddStringToObject(o, "var", s->sc->var_names[st->dest]);
	else
		cJSON_AddNullToObject(o, "var");
	if (r->has_ret)
		json_signed(o, "ret", r->ret);
	else
		cJSON_AddNullToObject(o, "ret");
	json_num(o, "faults", r->faults);
	json_num(o, "events", r->events);
	json_num(o, "first_event", r->first_seq);
	json_num(o, "syscalls", r->syscalls);
	json_num(o, "frames_alloc", r->frames_alloc);
	json_num(o, "frames_freed", r->frames_freed);
	if (r->output)
		cJSON_AddStringToObject(o, "output", r->output);
	else
		cJSON_AddNullToObject(o, "output");
	if (st->op == ST_EXPECT) {
		cJSON *e = cJSON_AddObjectToObject(o, "expect");

		cJSON_AddStringToObject(e, "lhs", st->args[0].text);
		json_signed(e, "lhs_value", r->lhs);
		cJSON_AddStringToObject(e, "op", script_cmp_names[st->cmp]);
		cJSON_AddStringToObject(e, "rhs", st->args[1].text);
		json_signed(e, "rhs_value", r->rhs);
		cJSON_AddBoolToObject(e, "ok", r->expect_ok);
	}
	if (st->op == ST_FOR || st->op == ST_END)
		json_loop(s, st, o);
	if (st->op == ST_IN)
		json_signed(o, "task", r->args[0]);
	if (r->killed) {
		const struct task_death *dt = &r->death;
		cJSON *g = cJSON_AddObjectToObject(o, "signal");
		char buf[32];

		cJSON_AddStringToObject(g, "name",
		                        session_signal_name(dt->signo, buf, sizeof(buf)));
		json_num(g, "signo", (uint64_t)dt->signo);
		cJSON_AddStringToObject(
		    g, "code", session_sigcode_name(dt->signo, dt->code, buf, sizeof(buf)));
		json_num(g, "addr", dt->addr);
		cJSON_AddStringToObject(g, "reason", dt->reason);
		cJSON_AddStringToObject(g, "report", dt->report);
	} else {
		cJSON_AddNullToObject(o, "signal");
	}
	json_print(o);
}

static void json_summary(struct session *s, int status)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *m = cJSON_AddObjectToObject(o, "summary");

	cJSON_AddStringToObject(m, "script", s->sc->path);
	cJSON_AddStringToObject(m, "malloc", s->policy);
	json_num(m, "statements", s->nr_run);
	json_num(m, "statements_total", s->sc->nr_stmts);
	json_num(m, "page_faults", s->total_faults);
	json_num(m, "brk_calls", s->lc->st.brk_calls);
	json_num(m, "mmap_calls", s->lc->st.mmap_calls);
	json_num(m, "munmap_calls", s->lc->st.munmap_calls);
	json_num(m, "rss", (uint64_t)session_builtin(s, BI_RSS));
	json_num(m, "memfree", s->k.buddy.free_pages);
	json_num(m, "frames", s->k.buddy.managed);
	json_num(m, "tlb_hits", cpu_tlb_hits(&s->k.cpu) - s->base.tlb_hits);
	json_num(m, "tlb_misses", s->k.cpu.tlb.misses - s->base.tlb_misses);
	json_num(m, "events", session_events(s));
	json_num(m, "expect_failed", s->nr_expect_failed);
	cJSON_AddBoolToObject(m, "killed", s->dead);
	if (s->dead)
		cJSON_AddBoolToObject(m, "death_expected", s->death_expected);
	if (s->failed)
		cJSON_AddStringToObject(m, "error", s->error);
	if (s->corrupt)
		cJSON_AddStringToObject(m, "heap_corrupt", s->error);
	json_num(m, "exit", (uint64_t)status);
	json_print(o);
}

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
	      "                      their results side by side\n"
	      SIM_HELP_MACHINE
	      "  --check             check every invariant after every statement\n"
	      "  --max-statements N  the statement budget: stop a run after N statements\n"
	      "                      (a loop counts each pass; default: the script's\n"
	      "                      statements and 1M more)\n"
	      "  --no-comments       do not echo the script's comments\n"
	      SIM_HELP_COLOR
	      "\n"
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
	notes.head = print_trace_head;
	notes.head_ctx = &head;
	if (!o->json)
		session_add_sink(s, notes_sink, &notes);
	if (!o->json)
		print_header(o, s);

	while (!session_done(s)) {
		const struct stmt *st = &sc->stmts[s->next];
		int64_t rss0 = session_builtin(s, BI_RSS);
		uint64_t pt0 = pt_pages(s);
		int rc;

		notes_reset(&notes);
		head.st = st;
		rc = session_step(s);
		if (rc == SESSION_ERROR) {
			status = EXIT_BAD_INPUT;
			break;
		}
		if (o->json) {
			json_statement(s, st);
		} else {
			/* The comments above a line, the first time the run gets there. */
			if (o->narrate && st->line > prev_line) {
				print_narrative(o, sc, prev_line, st->line - 1);
				prev_line = st->line;
			}
			print_statement(o, s, st, width, &notes, rss0, pt0);
			if (notes.len) /* buf is NULL before the first held line */
				fwrite(notes.buf, 1, notes.len, stdout);
		}
		if (st->op == ST_EXPECT) {
			nr_expect++;
			if (!s->res.expect_ok) {
				char l[64], r[64];

				fmt_value(l, sizeof(l), s->res.lhs);
				fmt_value(r, sizeof(r), s->res.rhs);
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
		print_narrative(o, sc, prev_line, sc->nr_lines);
	if (o->json)
		json_summary(s, status);
	else
		print_summary(o, s, nr_expect);
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
				fprintf(err, "%s: %s:%d: expect failed: %s (%" PRId64 ") %s %s (%" PRId64
				             ")\n",
				        pr->policy, sc->path, s->res.line, sc->stmts[s->res.idx].args[0].text,
				        s->res.lhs, script_cmp_names[sc->stmts[s->res.idx].cmp],
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
			fprintf(err, "%s: %.*s\n", pr->policy, (int)(nl ? nl - l : (long)strlen(l)), l);
			if (!nl)
				break;
		}
		free(msg);
		if (s->dead) {
			snprintf(pr->end, sizeof(pr->end), "%s l.%d%s",
			         session_signal_name(s->task->death.signo, b1, sizeof(b1)), s->res.line,
			         s->death_expected ? " ok" : "");
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
		return usage_error("run", "--malloc all prints a table: no --events, --perfetto or --trace");
	for (const struct malloc_ops *const *p = malloc_policies; *p && n < 16; p++, n++) {
		fflush(stdout);
		if (run_quiet(o, sc, (*p)->name, &pr[n], stderr) < 0)
			return EXIT_BAD_INPUT;
		if (pr[n].status > status)
			status = pr[n].status;
	}
	if (o->json) {
		for (int i = 0; i < n; i++) {
			cJSON *obj = cJSON_CreateObject(), *m = cJSON_AddObjectToObject(obj, "summary");

			cJSON_AddStringToObject(m, "script", sc->path);
			cJSON_AddStringToObject(m, "malloc", pr[i].policy);
			for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
				json_num(m, rows[r].key,
				         *(const uint64_t *)((const char *)&pr[i] + rows[r].off));
			cJSON_AddStringToObject(m, "end", pr[i].end);
			json_num(m, "exit", (uint64_t)pr[i].status);
			json_print(obj);
		}
		return status;
	}
	printf("%saftermalloc run %s --malloc all%s\n", col(o, C_BOLD), sc->path, col(o, C_RESET));
	printf("%s  each policy on a fresh machine; RSS in pages, footprint in bytes "
	       "(brk - start_brk + mmapped)%s\n\n",
	       col(o, C_DIM), col(o, C_RESET));
	printf("%-15s", "");
	for (int i = 0; i < n; i++)
		printf(" %14s", pr[i].policy);
	putchar('\n');
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		printf("%-15s", rows[r].label);
		for (int i = 0; i < n; i++)
			printf(" %14" PRIu64, *(const uint64_t *)((const char *)&pr[i] + rows[r].off));
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
