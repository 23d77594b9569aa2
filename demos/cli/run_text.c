/*
 * run_text.c - what `aftermalloc run` prints for a reader: a header, one
 * line per statement (its result, the page faults it took, the system
 * calls it made, the frames it cost; `show` views and what malloc_stats
 * printed below it), the script's comments as narration, --trace's event
 * lines under their statement, and the summary. Colour only on a terminal
 * (run_opts.color). The notes of a statement are gathered from the events
 * by run_notes_sink while it runs.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../step/events_out.h"
#include "run_internal.h"

/* What --trace holds of one statement's events before it streams them. */
#define TRACE_HOLD (1u << 20)

void run_notes_reset(struct run_notes *n)
{
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

void run_notes_sink(void *ctx, const struct event *ev)
{
	struct run_notes *n = ctx;

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

const char *run_col(const struct run_opts *o, enum color c)
{
	static const char *const codes[] = {
	    [C_RESET] = "\033[0m",  [C_DIM] = "\033[2m",    [C_BOLD] = "\033[1m",
	    [C_ADDR] = "\033[36m",  [C_FAULT] = "\033[33m", [C_OK] = "\033[32m",
	    [C_BAD] = "\033[1;31m", [C_NUM] = "\033[35m",
	};

	return o->color ? codes[c] : "";
}

/* A value as a reader expects it: small numbers in decimal, addresses in hex. */
void run_fmt_value(char *buf, size_t n, int64_t v)
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
			snprintf(buf, n, "-1 (%s)",
			         st->op == ST_MMAP || st->op == ST_MREMAP ? "MAP_FAILED"
			                                                  : "failed");
		else if (v == 0)
			snprintf(buf, n, "NULL");
		else
			snprintf(buf, n, "%#" PRIx64, (uint64_t)v);
		break;
	case RET_STATUS:
		snprintf(buf, n, "%" PRId64, v);
		break;
	default:
		run_fmt_value(buf, n, v);
		break;
	}
}

/* Is there a statement on line (1-based)? */
static bool line_has_stmt(const struct script *sc, int line)
{
	size_t k = script_stmt_at(sc, line);

	return k < sc->nr_stmts && sc->stmts[k].line == line;
}

void run_print_narrative(const struct run_opts *o, const struct script *sc, int from, int to)
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
		printf("     %s%s%s\n", run_col(o, C_DIM), l, run_col(o, C_RESET));
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
uint64_t run_pt_pages(const struct session *s)
{
	return s->task && s->task->mm ? s->task->mm->pgtables_bytes / 4096 : 0;
}

/* "  12  p = malloc 100      ": the line number and the statement, padded. */
static void print_stmt_head(const struct run_opts *o, const struct stmt *st, int width)
{
	printf("%s%4d%s  %*s%-*s", run_col(o, C_DIM), st->line, run_col(o, C_RESET), 2 * st->depth,
	       "", width - 2 * st->depth, st->text);
}

void run_print_trace_head(void *ctx)
{
	const struct trace_head *h = ctx;

	if (h->o->narrate && h->st->line > *h->prev_line) {
		run_print_narrative(h->o, h->sc, *h->prev_line, h->st->line - 1);
		*h->prev_line = h->st->line;
	}
	print_stmt_head(h->o, h->st, h->width);
	printf("  %s(its events as they happen, its result after them)%s\n", run_col(h->o, C_DIM),
	       run_col(h->o, C_RESET));
}

void run_print_statement(const struct run_opts *o, struct session *s, const struct stmt *st,
                         int width, const struct run_notes *notes, int64_t rss0, uint64_t pt0)
{
	const struct stmt_result *r = &s->res;
	const struct stmt_def *d = &script_stmt_defs[st->op];
	char buf[64], buf2[64];

	print_stmt_head(o, st, width);
	if (st->op == ST_FOR || (st->op == ST_END && s->sc->stmts[st->peer].op == ST_FOR)) {
		const struct stmt *f = st->op == ST_FOR ? st : &s->sc->stmts[st->peer];

		run_fmt_value(buf, sizeof(buf), r->loop_value);
		printf("  -> %s = %s%s%s%s", s->sc->var_names[f->dest], run_col(o, C_NUM), buf,
		       run_col(o, C_RESET),
		       r->loop_again      ? ""
		       : st->op == ST_FOR ? ", no iteration"
		                          : ", done");
	} else if (r->killed) {
		const struct task_death *dt = &r->death;

		printf("  %s-> killed by %s (%s)%s", run_col(o, C_BAD),
		       session_signal_name(dt->signo, buf, sizeof(buf)),
		       session_sigcode_name(dt->signo, dt->code, buf2, sizeof(buf2)),
		       run_col(o, C_RESET));
	} else if (r->exited) {
		printf("  -> exited, status %s%d%s", run_col(o, C_NUM),
		       st->nargs ? (int)(r->args[0] & 0xff) : 0, run_col(o, C_RESET));
	} else if (st->op == ST_EXPECT) {
		if (r->expect_ok) {
			printf("  %sok%s", run_col(o, C_OK), run_col(o, C_RESET));
		} else {
			run_fmt_value(buf, sizeof(buf), r->lhs);
			run_fmt_value(buf2, sizeof(buf2), r->rhs);
			printf("  %sFAILED: %s is %s", run_col(o, C_BAD), st->args[0].text, buf);
			/* A constant needs no "2 is 2". */
			if (strcmp(st->args[1].text, buf2) != 0)
				printf(", %s is %s", st->args[1].text, buf2);
			fputs(run_col(o, C_RESET), stdout);
		}
	} else if (r->has_ret) {
		fmt_result(buf, sizeof(buf), st, r->ret);
		printf("  -> %s%s%s", run_col(o, d->ret == RET_ADDR ? C_ADDR : C_NUM), buf,
		       run_col(o, C_RESET));
	}
	if (d->runs_code && st->op != ST_SHOW)
		printf("   %s%" PRIu64 " fault%s%s", run_col(o, r->faults ? C_FAULT : C_DIM),
		       r->faults, r->faults == 1 ? "" : "s", run_col(o, C_RESET));
	putchar('\n');

	/* What happened below the statement, in one line. */
	if (d->runs_code && st->op != ST_SHOW && !r->killed &&
	    (r->sys.n || r->faults || r->frames_alloc || r->frames_freed || notes->cow_copied ||
	     notes->cow_reused)) {
		int64_t drss = session_builtin(s, BI_RSS) - rss0;
		int64_t dpt = (int64_t)run_pt_pages(s) - (int64_t)pt0;
		const char *sep = "";

		printf("        %s", run_col(o, C_DIM));
		if (r->sys.n) {
			printf("syscall%s ", r->sys.n > 1 || r->sys.e[0].count > 1 ? "s" : "");
			for (unsigned i = 0; i < r->sys.n; i++) {
				printf("%s%s", i ? ", " : "", r->sys.e[i].name);
				if (r->sys.e[i].count > 1)
					printf(" x%" PRIu64, r->sys.e[i].count);
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
		} else if (r->faults && !drss && (int64_t)r->frames_alloc <= (dpt > 0 ? dpt : 0)) {
			printf("%sno frame for the data: the shared zero page", sep);
		}
		printf("%s\n", run_col(o, C_RESET));
	}
	if (r->output)
		print_indented(r->output, r->output_len);
}

void run_print_header(const struct run_opts *o, struct session *s)
{
	const struct kernel_opts *k = &s->opts.kopts;

	printf("%saftermalloc run %s%s\n", run_col(o, C_BOLD), s->sc->path, run_col(o, C_RESET));
	printf("%s  malloc policy %s; %" PRIu64 " MiB of simulated RAM (%" PRIu64
	       " frames of 4 KiB); zero page %s; ASLR %s%s\n",
	       run_col(o, C_DIM), s->policy, k->phys_bytes >> 20,
	       (uint64_t)(k->phys_bytes / PAGE_SIZE), k->zero_page ? "on" : "off",
	       k->aslr ? "on" : "off", run_col(o, C_RESET));
	printf("%s  line  statement  -> result   page faults taken%s\n\n", run_col(o, C_DIM),
	       run_col(o, C_RESET));
}

/* The summary's system calls: brk, mmap and munmap always (malloc's), then
   every other one the run made, in the order of its first call. */
static void print_syscalls(const struct session *s)
{
	static const char *const first[] = {"brk", "mmap", "munmap"};

	printf("  system calls   ");
	for (unsigned i = 0; i < 3; i++)
		printf("%s%s %" PRIu64, i ? ", " : "", first[i], session_syscalls(s, first[i]));
	for (unsigned i = 0; i < s->sys.n; i++)
		if (strcmp(s->sys.e[i].name, "brk") && strcmp(s->sys.e[i].name, "mmap") &&
		    strcmp(s->sys.e[i].name, "munmap"))
			printf(", %s %" PRIu64, s->sys.e[i].name, s->sys.e[i].count);
	putchar('\n');
}

void run_print_summary(const struct run_opts *o, struct session *s, uint64_t nr_expect)
{
	uint64_t rss = (uint64_t)session_builtin(s, BI_RSS);
	char buf[64], buf2[64];

	printf("\n%sSummary%s\n", run_col(o, C_BOLD), run_col(o, C_RESET));
	if (s->sc->nr_blocks)
		printf("  statements     %" PRIu64 " run, %zu in the script", s->nr_run,
		       s->sc->nr_stmts);
	else
		printf("  statements     %" PRIu64 " run of %zu", s->nr_run, s->sc->nr_stmts);
	if (nr_expect)
		printf(" (expect: %" PRIu64 " passed, %s%" PRIu64 " failed%s)",
		       nr_expect - s->nr_expect_failed,
		       run_col(o, s->nr_expect_failed ? C_BAD : C_RESET), s->nr_expect_failed,
		       run_col(o, C_RESET));
	printf("\n  page faults    %" PRIu64 "\n", s->total_faults);
	print_syscalls(s);
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
		       run_col(o, s->death_expected ? C_OK : C_BAD),
		       session_signal_name(s->task->death.signo, buf, sizeof(buf)),
		       session_sigcode_name(s->task->death.signo, s->task->death.code, buf2,
		                            sizeof(buf2)),
		       s->death_expected ? ", as the script expects" : "", run_col(o, C_RESET));
	if (s->failed)
		printf("  %sthe script stopped at line %d: an error (on stderr)%s\n",
		       run_col(o, C_BAD), s->sc->stmts[s->next].line, run_col(o, C_RESET));
	if (s->corrupt)
		printf(
		    "  %sthe run stopped at line %d: the program corrupted its heap (--check, on "
		    "stderr)%s\n",
		    run_col(o, C_BAD), s->res.line, run_col(o, C_RESET));
}
