/*
 * session_task.c - the tasks a script names (session.h's struct
 * session_task): the program's main thread, the children of `fork`, the
 * threads of `thread`; `in ID` switches among them. After each statement
 * the table follows the kernel (a task exited, was reaped or killed), so
 * that a statement for a task that ended fails with where it ended.
 */
#include "session_internal.h"

#include <string.h>

#include "../../kernel_sim/exit.h"
#include "../../libc/process.h"
#include "../../libc/pthread.h"
#include "../../vm/hostmem.h"
#include "../../vm/panic.h"

/* ---- tasks ------------------------------------------------------------ */

int session_add_task(struct session *s, int64_t id, struct task *t, struct libc *lc)
{
	if (s->nr_tasks == s->cap_tasks) {
		size_t cap = s->cap_tasks ? 2 * s->cap_tasks : 4;
		struct session_task *nt = hostmem_realloc(s->tasks, cap * sizeof(*nt));

		if (!nt)
			return -1;
		s->tasks = nt;
		s->cap_tasks = cap;
	}
	s->tasks[s->nr_tasks++] = (struct session_task){id, t, lc, false, 0, 0};
	return 0;
}

struct session_task *session_task_of(struct session *s, int64_t id)
{
	for (size_t i = 0; i < s->nr_tasks; i++)
		if (s->tasks[i].id == id)
			return &s->tasks[i];
	return NULL;
}

int session_switch_task(struct session *s, int64_t id)
{
	struct session_task *e = session_task_of(s, id);
	struct libc_thread *th;

	if (!e)
		return -1;
	s->task = e->task;
	s->lc = e->lc;
	s->task_id = id;
	/* a thread of that libc (its main thread has the pid as tid) */
	th = libc_thread_find(s->lc, (int)id);
	if (th)
		libc_set_self(s->lc, th);
	return 0;
}

/*
 * After a statement: which tasks the kernel still has (an exit, a wait or
 * an orphan's end may have freed some: pids are never reused, so a pid not
 * found is gone), and the death of a child killed by a signal carried on to
 * its exit (exit_signaled), as the killed task itself would in Linux. The
 * main program's death (in any of its threads) stays as it is: the run
 * ends with it.
 */
void session_sync_tasks(struct session *s, int line)
{
	for (size_t i = 0; i < s->nr_tasks; i++) {
		struct session_task *e = &s->tasks[i];

		if (!e->task)
			continue;
		e->task = find_task_by_pid(&s->k, (int)e->id);
		if ((!e->task || e->task->dead) && !e->end_line) {
			e->end_line = line;
			e->end_signo = e->task && !e->task->exit_state ? e->task->death.signo : 0;
		}
		/* (the main program's threads die with it and stay as they are) */
		if (e->task && e->task->tgid != s->main_task->tgid && e->task->dead &&
		    !e->task->exit_state) {
			exit_signaled(&s->k, e->task);
			e->task = find_task_by_pid(&s->k, (int)e->id);
		}
	}
	s->task = session_task_of(s, s->task_id)->task;
}

/* e has ended: "WHAT: process 2 exited at line 7" (or "was killed by SIGSEGV"). */
int session_task_ended(struct session *s, const struct session_task *e, const char *what)
{
	char buf[32];

	if (e->end_signo)
		return session_fail(
		    s, "%s: process %lld was killed by %s at line %d", what, (long long)e->id,
		    session_signal_name(e->end_signo, buf, sizeof(buf)), e->end_line);
	return session_fail(s, "%s: process %lld exited at line %d", what, (long long)e->id,
	                    e->end_line);
}

static void fork_child_start(void *arg)
{
	libc_fork_child_start(arg);
}

/* A child for `fork`: its libc is a copy of the parent's (process.h). */
int session_add_child(struct session *s, int64_t pid)
{
	struct task *t = find_task_by_pid(&s->k, (int)pid);
	struct libc *lc = hostmem_malloc(sizeof(*lc));

	if (!t)
		panic("fork returned %lld, no such task", (long long)pid);
	if (!lc || session_add_task(s, pid, t, lc) < 0) {
		hostmem_free(lc);
		return session_fail(s, "out of host memory for process %lld", (long long)pid);
	}
	s->tasks[s->nr_tasks - 1].owned_lc = true;
	/* fork's child side runs in the child before it returns there (as
	   start_thread after pthread_create): its faults are the statement's;
	   a child killed there is found by session_sync_tasks, after */
	if (libc_fork_child(lc, s->lc, t))
		task_run(&s->k, t, fork_child_start, lc);
	return 0;
}

/*
 * A wait that would sleep: children match PID but none has exited. Nothing
 * else runs while the script waits (one CPU, one statement at a time), so
 * it would sleep forever: an error before it runs, naming the child.
 */
int session_wait_would_sleep(struct session *s, int64_t pid)
{
	const struct task *c;

	if (!s->task || pid > INT32_MAX) /* (no child has such a pid) */
		return 0;
	/* (a child of any thread of the process: do_wait looks at them all) */
	c = wait_would_block(&s->k, s->task, pid > 0 ? (int)pid : -1);
	if (c)
		return session_fail(s,
		                    "'wait' would sleep forever: child %d has not exited, and "
		                    "nothing runs while process %lld waits (end the child first: "
		                    "in %d ... exit ... end)",
		                    c->pid, (long long)s->task_id, c->pid);
	return 0;
}

/* id no longer names a task (a thread joined). */
void session_drop_task(struct session *s, int64_t id)
{
	for (size_t i = 0; i < s->nr_tasks; i++)
		if (s->tasks[i].id == id) {
			memmove(&s->tasks[i], &s->tasks[i + 1],
			        (s->nr_tasks - i - 1) * sizeof(s->tasks[0]));
			s->nr_tasks--;
			return;
		}
}
