/*
 * run_json.c - `aftermalloc run --json`: one compact JSON object per
 * statement (its result, faults, system calls, a loop's variable) and a
 * summary object at the end, written with cJSON; numbers past 2^53 as
 * events_out_number writes them (demos/step/events_out.h).
 */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "../step/events_out.h"
#include "run_internal.h"

/* ---- JSON output ----------------------------------------------------- */

void run_json_num(cJSON *o, const char *key, uint64_t v)
{
	cJSON_AddItemToObject(o, key, events_out_number(v, false));
}

static void json_signed(cJSON *o, const char *key, int64_t v)
{
	cJSON_AddItemToObject(o, key, events_out_number((uint64_t)v, true));
}

void run_json_print(cJSON *o)
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

void run_json_statement(struct session *s, const struct stmt *st)
{
	const struct stmt_result *r = &s->res;
	cJSON *o = cJSON_CreateObject();

	run_json_num(o, "line", (uint64_t)st->line);
	cJSON_AddStringToObject(o, "op", script_stmt_defs[st->op].name);
	cJSON_AddStringToObject(o, "text", st->text);
	run_json_num(o, "pid", (uint64_t)r->pid);
	run_json_num(o, "tid", (uint64_t)r->tid);
	if (st->dest >= 0)
		cJSON_AddStringToObject(o, "var", s->sc->var_names[st->dest]);
	else
		cJSON_AddNullToObject(o, "var");
	if (r->has_ret)
		json_signed(o, "ret", r->ret);
	else
		cJSON_AddNullToObject(o, "ret");
	run_json_num(o, "faults", r->faults);
	run_json_num(o, "events", r->events);
	run_json_num(o, "first_event", r->first_seq);
	run_json_num(o, "syscalls", r->syscalls);
	run_json_num(o, "frames_alloc", r->frames_alloc);
	run_json_num(o, "frames_freed", r->frames_freed);
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
		run_json_num(g, "signo", (uint64_t)dt->signo);
		cJSON_AddStringToObject(
		    g, "code", session_sigcode_name(dt->signo, dt->code, buf, sizeof(buf)));
		run_json_num(g, "addr", dt->addr);
		cJSON_AddStringToObject(g, "reason", dt->reason);
		cJSON_AddStringToObject(g, "report", dt->report);
	} else {
		cJSON_AddNullToObject(o, "signal");
	}
	run_json_print(o);
}

void run_json_summary(struct session *s, int status)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *m = cJSON_AddObjectToObject(o, "summary"), *sys;

	cJSON_AddStringToObject(m, "script", s->sc->path);
	cJSON_AddStringToObject(m, "malloc", s->policy);
	run_json_num(m, "statements", s->nr_run);
	run_json_num(m, "statements_total", s->sc->nr_stmts);
	run_json_num(m, "page_faults", s->total_faults);
	run_json_num(m, "brk_calls", session_syscalls(s, "brk"));
	run_json_num(m, "mmap_calls", session_syscalls(s, "mmap"));
	run_json_num(m, "munmap_calls", session_syscalls(s, "munmap"));
	sys = cJSON_AddObjectToObject(m, "syscalls");
	for (unsigned i = 0; i < s->sys.n; i++)
		run_json_num(sys, s->sys.e[i].name, s->sys.e[i].count);
	run_json_num(m, "rss", (uint64_t)session_builtin(s, BI_RSS));
	run_json_num(m, "memfree", s->k.buddy.free_pages);
	run_json_num(m, "frames", s->k.buddy.managed);
	run_json_num(m, "tlb_hits", cpu_tlb_hits(&s->k.cpu) - s->base.tlb_hits);
	run_json_num(m, "tlb_misses", s->k.cpu.tlb.misses - s->base.tlb_misses);
	run_json_num(m, "events", session_events(s));
	run_json_num(m, "expect_failed", s->nr_expect_failed);
	cJSON_AddBoolToObject(m, "killed", s->dead);
	if (s->dead)
		cJSON_AddBoolToObject(m, "death_expected", s->death_expected);
	if (s->failed)
		cJSON_AddStringToObject(m, "error", s->error);
	if (s->corrupt)
		cJSON_AddStringToObject(m, "heap_corrupt", s->error);
	run_json_num(m, "exit", (uint64_t)status);
	run_json_print(o);
}
