/*
 * run_internal.h - what the files of `aftermalloc run` share, and no one
 * else: run.c is the command (options, the loop over statements, --events,
 * --perfetto, --malloc all), run_text.c the text output, run_json.c the
 * --json output.
 */
#ifndef RUN_INTERNAL_H
#define RUN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "script.h"
#include "session.h"

struct run_opts {
	struct session_opts so;
	bool json, trace, narrate, color;
	const char *events_path;
	const char *perfetto_path;
	const char *script_path;
};

/* Per-statement notes gathered from the events, for the text output (the
   statement's system calls are the session's: stmt_result.sys). */
struct run_notes {
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

/* --trace past TRACE_HOLD: the statement's line before its events stream. */
struct trace_head {
	const struct run_opts *o;
	const struct script *sc;
	const struct stmt *st;
	int width;
	int *prev_line; /* the last line whose comments were printed */
};

enum color { C_RESET, C_DIM, C_BOLD, C_ADDR, C_FAULT, C_OK, C_BAD, C_NUM };

/* run_text.c */
/* The escape sequence of colour c, or "" without colour. */
const char *run_col(const struct run_opts *o, enum color c);
/* A value as a reader expects it: small numbers in decimal, addresses in hex. */
void run_fmt_value(char *buf, size_t n, int64_t v);
/* Page-table pages of the task statements run in (0 once it has no mm). */
uint64_t run_pt_pages(const struct session *s);
void run_print_header(const struct run_opts *o, struct session *s);
/* Statement st's line after session_step; rss0 and pt0 from before it. */
void run_print_statement(const struct run_opts *o, struct session *s, const struct stmt *st,
                         int width, const struct run_notes *notes, int64_t rss0, uint64_t pt0);
void run_print_summary(const struct run_opts *o, struct session *s, uint64_t nr_expect);
/* The comment lines among lines from+1 to to (1-based) with no statement on
   them: the script's narration, dimmed. */
void run_print_narrative(const struct run_opts *o, const struct script *sc, int from, int to);
/* notes->head: ctx is a struct trace_head. */
void run_print_trace_head(void *ctx);
void run_notes_reset(struct run_notes *n);
/* A probe sink: ctx is a struct run_notes. */
void run_notes_sink(void *ctx, const struct event *ev);

/* run_json.c */
void run_json_num(cJSON *o, const char *key, uint64_t v);
/* Prints o on one line and deletes it. */
void run_json_print(cJSON *o);
void run_json_statement(struct session *s, const struct stmt *st);
void run_json_summary(struct session *s, int status);

#endif
