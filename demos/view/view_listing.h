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
#include <stdint.h>

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
	int walk_steps; /* openers followed to find the blocks open at the first
	                   line shown (at most SCRIPT_MAX_DEPTH): the work that
	                   does not depend on the rows */
	int nr_lines;   /* lines of the script (typed ones included) */
	int file_lines; /* of them, the file's */
	int cur_line;   /* the current statement's line; 0 before the first, -1 ended */
	int first;      /* the line of rows[0] */
	int nr_rows;
	struct vl_row rows[VL_MAX_ROWS];
};

/*
 * Where the blocks are: for each statement of a script the opener of the
 * innermost block around it (an `end`: its own opener), made in one pass
 * over the script and kept while the script stays the same (a typed line
 * makes another script: it is made again). With it the blocks open at the
 * first line shown are found by following these links, at most one a
 * nesting level, however many statements back they were opened (a script
 * may have 2,097,152). The caller owns it: zeroed at first, freed with
 * view_listing_index_free.
 */
#define VL_NO_OPENER UINT32_MAX
struct view_listing_index {
	const struct script *sc; /* the script it was made for, and its */
	const void *stmts;       /* statements' array and count */
	size_t nr_stmts;
	uint32_t *opener; /* per statement, or VL_NO_OPENER at the top */
	size_t cap;
};
void view_listing_index_free(struct view_listing_index *ix);

/*
 * Fill ls with at most `rows` lines (<= VL_MAX_ROWS) of st's script around
 * its current statement: the current line a third from the top where the
 * script allows (the whole script when it fits). file_lines: how many of
 * the script's lines came from the file (the rest were typed). ix is
 * brought up to date with st's script first (NULL: one made for this call
 * alone, a pass over the whole script). Reads the stepper and its session,
 * writes nothing else.
 */
void view_listing_build(struct view_listing *ls, const struct stepper *st,
                        struct view_listing_index *ix, int file_lines, int rows);

/* The row of line `line`, or NULL when it is not shown. */
const struct vl_row *view_listing_row(const struct view_listing *ls, int line);

#endif
