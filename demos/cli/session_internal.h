/*
 * session_internal.h - what the files of one session share, and no one else
 * (the other rooms and the tests use session.h): session.c runs a statement
 * (session_step) and the blocks; session_vars.c holds the values;
 * session_task.c the table of tasks; session_show.c the views;
 * session_exec.c the statements that run code in the simulated program.
 */
#ifndef SESSION_INTERNAL_H
#define SESSION_INTERNAL_H

#include "../../libc/glibc_malloc.h"
#include "session.h"

/* What runs inside task_run: everything it needs is here, nothing on the host
   heap that an unwind would leak (show's stream is opened outside). */
struct exec {
	struct session *s;
	const struct stmt *st;
	int64_t a[STMT_MAX_ARGS];
	int64_t ret;
	FILE *out;
	struct task *view_task;     /* show: the task whose view it is */
	struct glibc_text text;     /* malloc_stats, malloc_info: freed by session_step */
	struct libc_thread *thread; /* thread: the one made; join: the one joined */
};

/* The script failed at run time, at the statement at s->next: s->error says
   FILE:LINE: and the message, s->failed is set. Returns -1. */
int session_fail(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* session_vars.c */
/* 0 if index is an index of array idx; -1 and msg if out of range. */
int session_index_ok(struct session *s, int idx, int64_t index, char *msg, size_t n);
/* a[index] = v, growing the array. 0, or -1 (failed) past host memory. */
int session_array_store(struct session *s, int idx, int64_t index, int64_t v);

/* session_task.c */
struct session_task *session_task_of(struct session *s, int64_t id);
void session_sync_tasks(struct session *s, int line);
int session_task_ended(struct session *s, const struct session_task *e, const char *what);
int session_add_child(struct session *s, int64_t pid);
int session_wait_would_sleep(struct session *s, int64_t pid);
void session_drop_task(struct session *s, int64_t id);

/* session_show.c: the view of st->kw of task t (show VIEW [ADDR] [PID]) */
void session_show(struct session *s, const struct stmt *st, struct task *t, int64_t addr,
                  FILE *out);

/* session_exec.c */
/* Runs x->st in the running task: the argument of task_run. */
void session_exec_stmt(void *arg);
int session_run_thread(struct session *s, struct exec *x);
int session_run_join(struct session *s, struct exec *x, int *sig);

#endif
