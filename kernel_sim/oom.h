/*
 * oom.h - the OOM killer (mm/oom_kill.c): out_of_memory ->
 * select_bad_process -> oom_badness, oom_kill_process -> dump_header ->
 * __oom_kill_process, and /proc/PID/oom_score, oom_score_adj.
 */
#ifndef KERNEL_SIM_OOM_H
#define KERNEL_SIM_OOM_H

#include <stdbool.h>
#include <stdint.h>

#define OOM_SCORE_ADJ_MIN (-1000)
#define OOM_SCORE_ADJ_MAX 1000
#define OOM_BADNESS_NONE  INT64_MIN /* LONG_MIN: never chosen */

struct kernel;
struct task;

/*
 * oom_badness: rss + swap entries + page-table pages, plus oom_score_adj
 * thousandths of totalpages (RAM + swap pages); OOM_BADNESS_NONE for a
 * task at OOM_SCORE_ADJ_MIN or already dead.
 */
int64_t oom_badness(struct kernel *k, struct task *t, uint64_t totalpages);
/* /proc/PID/oom_score (proc_oom_score): (1000 + badness * 1000 / totalpages) * 2 / 3, 0 when never chosen. */
uint64_t oom_score(struct kernel *k, struct task *t);
/* Write /proc/PID/oom_score_adj: 0 or -EINVAL outside [-1000, 1000]. */
int oom_score_adj_write(struct kernel *k, struct task *t, int64_t value);

/*
 * out_of_memory for an allocation of order and frame kind by current:
 * choose the task with the highest badness (the newest among equals, as
 * the walk from init finds them), log dump_header's lines and the kill,
 * and kill it with SIGKILL. When that is the current task the kill
 * unwinds and this does not return; another task's memory is freed at
 * once (exit and the oom reaper). false when no task could be chosen
 * (the kernel would panic: "System is deadlocked on memory").
 */
bool out_of_memory(struct kernel *k, unsigned order, int kind);

#endif
