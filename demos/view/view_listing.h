/*
 * view_listing.h - what the viewer's script panel shows, as a debugger's
 * source pane does: the script's lines around the current statement, read
 * from a paused stepper. Nothing here draws or includes SDL (view_script.c
 * draws it; the tests read it).
 *
 * Each row is one source line: its number and text (a trailing comment
 * split off, to be dimmed), whether it is the line of the current statement,
 * whether it was typed on the viewer's command line (past the file's last
 * line), the blocks around it (`for` and `in`, for the gutter), and for a
 * line inside an `in ID` block the task that runs it: the current
 * statement's task when the block is around the current statement, else the
 * task the most recent logged statement of that block ran in (the stepper
 * records it: stepper_log_task), else the block's ID as written ("in t1").
 * A `for` line around the current statement carries its variable's value
 * now ("i = 3"): the iteration the current statement belongs to.
 */
#ifndef DEMOS_VIEW_LISTING_H
#define DEMOS_VIEW_LISTING_H

#include <stdbool.h>
#include <stddef.h>

#include "../step/stepper.h"

#define VL_MAX_ROWS  96
#define VL_MAX_DEPTH 8 /* gutter marks drawn for at most this many nested blocks */

enum vl_block { VL_FOR, VL_IN };

struct vl_row {
	int line;         /* 1-based source line */
	const char *text; /* the source line (borrowed from the script) */
	int code_len;     /* bytes of text before its comment ('#' outside a string) */
	bool blank;       /* nothing but blanks */
	bool current;     /* the current statement's line */
	bool typed;       /* a statement typed on the command line */
	bool opener;      /* a `for` or `in` line */
	/* Blocks around the line, outermost first (an opener counts its own
	   block): their kind and the line of their opener. */
	int nr_blocks;
	enum vl_block block[VL_MAX_DEPTH];
	int block_line[VL_MAX_DEPTH];
	/* The innermost `in` block's task: "t2", "pid 2", or "in t1" when not
	   known yet (task_known false); "" outside every `in` block. */
	char task[24];
	bool task_known;
	/* A `for` line around the current statement: "i = 3"; else "". */
	char iter[48];
};

struct view_listing {
	int nr_lines;   /* lines of the script (typed ones included) */
	int file_lines; /* of them, the file's */
	int cur_line;   /* the current statement's line; 0 before the first, -1 ended */
	int first;      /* the line of rows[0] */
	int nr_rows;
	struct vl_row rows[VL_MAX_ROWS];
};

/*
 * Fill ls with at most `rows` lines (<= VL_MAX_ROWS) of st's script around
 * its current statement: the current line a third from the top where the
 * script allows (the whole script when it fits). file_lines: how many of
 * the script's lines came from the file (the rest were typed). Reads the
 * stepper and its session, writes nothing.
 */
void view_listing_build(struct view_listing *ls, const struct stepper *st, int file_lines,
                        int rows);

/* The row of line `line`, or NULL when it is not shown. */
const struct vl_row *view_listing_row(const struct view_listing *ls, int line);

#endif
