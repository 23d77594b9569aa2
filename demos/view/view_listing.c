/*
 * view_listing.c - the script panel's lines around the current statement
 * (see view_listing.h). Bounded work per call whatever the script's size:
 * a binary search for the first statement shown, the openers of the
 * blocks already open there through the index (one step a level), the
 * rows shown, and the stepper's log ring for the tasks of `in` blocks.
 * The index costs one pass over the script, once per script.
 */
#include "view_listing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/script.h"
#include "../../vm/panic.h"
#include "../step/narrate.h"

static bool is_opener(const struct stmt *s)
{
	return s->op == ST_FOR || s->op == ST_IN;
}

void view_listing_index_free(struct view_listing_index *ix)
{
	free(ix->opener);
	memset(ix, 0, sizeof(*ix));
}

/* ix made for sc, unless it is already. */
static void index_update(struct view_listing_index *ix, const struct script *sc)
{
	uint32_t stack[SCRIPT_MAX_DEPTH];
	int top = 0;

	if (ix->sc == sc && ix->stmts == sc->stmts && ix->nr_stmts == sc->nr_stmts)
		return;
	if (sc->nr_stmts > ix->cap) {
		uint32_t *o = realloc(ix->opener, sc->nr_stmts * sizeof(*o));

		if (!o)
			host_oom("the listing's block openers");
		ix->opener = o;
		ix->cap = sc->nr_stmts;
	}
	for (size_t i = 0; i < sc->nr_stmts; i++) {
		const struct stmt *s = &sc->stmts[i];

		ix->opener[i] = top ? stack[top - 1] : VL_NO_OPENER;
		if (s->op == ST_END && top)
			top--;
		else if (is_opener(s) && top < SCRIPT_MAX_DEPTH)
			stack[top++] = (uint32_t)i;
	}
	ix->sc = sc;
	ix->stmts = sc->stmts;
	ix->nr_stmts = sc->nr_stmts;
}

/* The task the most recent logged statement strictly inside opener j's
   block ran in, into buf; false when the log holds none. */
static bool block_task(const struct stepper *st, size_t j, char *buf, size_t n)
{
	const struct script *sc = st->sc;
	int from = sc->stmts[j].line, to = sc->stmts[sc->stmts[j].peer].line;

	for (size_t i = 0; i < st->log_len; i++) {
		const struct event *ev = stepper_log(st, i);
		int pid, tid;

		if (!ev || ev->kind != EV_STMT)
			continue;
		int line = (int)event_field(ev, "line", 0);

		if (line <= from || line >= to || !stepper_log_task(st, i, &pid, &tid))
			continue;
		narrate_task(tid, pid, st->s->main_task ? st->s->main_task->pid : 0, buf, n);
		if (!buf[0])
			snprintf(buf, n, "main");
		return true;
	}
	return false;
}

void view_listing_build(struct view_listing *ls, const struct stepper *st,
                        struct view_listing_index *ix, int file_lines, int rows)
{
	const struct script *sc = st->sc;
	struct view_listing_index own = {0};
	/* Nothing ran yet: no current statement (cur_stmt is 0 then). */
	size_t cur = st->have_cur ? st->cur_stmt : st->sc->nr_stmts;
	size_t open[SCRIPT_MAX_DEPTH];
	int nopen = 0;

	memset(ls, 0, sizeof(*ls));
	ls->nr_lines = sc->nr_lines;
	ls->file_lines = file_lines;
	if (cur < sc->nr_stmts)
		ls->cur_line = sc->stmts[cur].line;
	else
		ls->cur_line = st->finished ? -1 : 0;
	if (rows > VL_MAX_ROWS)
		rows = VL_MAX_ROWS;
	if (rows > sc->nr_lines)
		rows = sc->nr_lines;
	if (rows <= 0)
		return;
	/* The current line a third from the top; before the first statement
	   the script's start, after the last its end. */
	int first = ls->cur_line > 0   ? ls->cur_line - rows / 3
	            : ls->cur_line < 0 ? sc->nr_lines
	                               : 1;

	if (first > sc->nr_lines - rows + 1)
		first = sc->nr_lines - rows + 1;
	if (first < 1)
		first = 1;
	ls->first = first;
	ls->nr_rows = rows;

	/* The blocks open at the first line shown: those around its first
	   statement k (an `end`'s own included), innermost first through the
	   index. (Every statement before k is on an earlier line, so these
	   are exactly the openers before k whose `end` is not before it.) */
	size_t k = script_stmt_at(sc, first);
	{
		size_t found[SCRIPT_MAX_DEPTH];
		int nf = 0;

		if (!ix)
			ix = &own;
		index_update(ix, sc);
		if (k < sc->nr_stmts)
			for (uint32_t j = ix->opener[k]; j != VL_NO_OPENER && nf < SCRIPT_MAX_DEPTH;
			     j = ix->opener[j]) {
				found[nf++] = j;
				ls->walk_steps++;
			}
		while (nf > 0)
			open[nopen++] = found[--nf];
		view_listing_index_free(&own);
	}

	char task_of[SCRIPT_MAX_DEPTH][24]; /* per open block: its label, once found */
	bool task_done[SCRIPT_MAX_DEPTH] = {0}, task_ok[SCRIPT_MAX_DEPTH] = {0};

	for (int r = 0; r < rows; r++) {
		struct vl_row *row = &ls->rows[r];
		int line = first + r;

		row->line = line;
		row->text = sc->lines[line - 1];
		row->code_len = (int)script_code_length(row->text);
		row->blank = row->text[strspn(row->text, " \t\r")] == '\0';
		row->current = line == ls->cur_line;
		row->typed = line > file_lines;
		/* Close the blocks that ended on an earlier line, open this line's. */
		while (nopen > 0 && sc->stmts[sc->stmts[open[nopen - 1]].peer].line < line) {
			nopen--;
			task_done[nopen] = false;
		}
		for (; k < sc->nr_stmts && sc->stmts[k].line == line; k++)
			if (is_opener(&sc->stmts[k]) && nopen < SCRIPT_MAX_DEPTH) {
				row->opener = true;
				task_done[nopen] = false;
				open[nopen++] = k;
			}
		for (int b = 0; b < nopen && row->nr_blocks < VL_MAX_DEPTH; b++) {
			row->block[row->nr_blocks] =
			    sc->stmts[open[b]].op == ST_FOR ? VL_FOR : VL_IN;
			row->block_line[row->nr_blocks++] = sc->stmts[open[b]].line;
		}
		/* The innermost `in` block's task. */
		for (int b = nopen; b-- > 0;) {
			const struct stmt *o = &sc->stmts[open[b]];

			if (o->op != ST_IN)
				continue;
			if (!task_done[b]) {
				task_ok[b] =
				    block_task(st, open[b], task_of[b], sizeof(task_of[b]));
				if (!task_ok[b])
					snprintf(task_of[b], sizeof(task_of[b]), "in %.20s",
					         o->args[0].text ? o->args[0].text : "?");
				task_done[b] = true;
			}
			memcpy(row->task, task_of[b], sizeof(row->task));
			row->task_known = task_ok[b];
			break;
		}
		/* A `for` around the current statement (its `end` aside, as the top
		   bar's loop context has it): its variable now. */
		if (row->opener && cur < sc->nr_stmts) {
			size_t j = script_stmt_at(sc, line);
			const struct stmt *o = &sc->stmts[j];

			if (o->op == ST_FOR && j < cur && cur < o->peer && o->dest >= 0 &&
			    st->s->defined[o->dest])
				snprintf(row->iter, sizeof(row->iter), "%.30s = %lld",
				         sc->var_names[o->dest], (long long)st->s->vars[o->dest]);
		}
	}
}

const struct vl_row *view_listing_row(const struct view_listing *ls, int line)
{
	if (line < ls->first || line >= ls->first + ls->nr_rows)
		return NULL;
	return &ls->rows[line - ls->first];
}
