/*
 * sandbox.h - a trace replayed by a policy of one's own in a child process,
 * so that whatever the plugin does to the process running it (a crash the
 * guard cannot undo, memory it scribbles over, exit(), a loop the guard's
 * watchdog does not see) ends that child only: the harness reports which
 * trace, which operation and the signal or time limit, and the other traces'
 * results stand.
 *
 * The parent must have reserved the simulated address ranges
 * (plugin_guard_layout) before the first sandbox: the children inherit its
 * address space.
 */
#ifndef DEMOS_SANDBOX_H
#define DEMOS_SANDBOX_H

#include <stdio.h>

#include "replay.h"

struct sandbox_opts {
	const char *cmd;    /* the command, for messages ("lab", "replay") */
	const char *plugin; /* the shared object's path */
	const char *name;   /* what reports call it (NULL: the file's base name) */
	double timeout;     /* wall-clock seconds a child may take (0: no limit) */
	double spin;        /* plugin_guard_set_spin_limit in the child (0: its default) */
};

/* At most this much of what a child prints is kept (the rest is counted). */
#define SANDBOX_OUTPUT_MAX (64 * 1024)

/* Load the plugin in a child, and nothing more: 0 when it loads, -1 when
   it cannot (the child's message is copied to err). */
int sandbox_probe(const struct sandbox_opts *so, FILE *err);

/*
 * replay_run(t, o) in a child process with the plugin as the policy (o->ops
 * and o->policy are ignored). Returns 0 with *r filled, also when the child
 * died: then r->valid is false and r->error names the operation running
 * ("op N (line L): ...", or "before the first op") and what ended the
 * child: a signal, the time limit, exit(). Returns -1 when the replay could
 * not be set up (the plugin cannot be loaded, the kernel cannot boot; the
 * child's message is copied to err). *out, unless out is NULL: what the
 * child wrote to its stdout and stderr (the plugin's printf, the guard's
 * words), NUL-terminated, malloc'd, or NULL when it wrote nothing.
 */
int sandbox_replay(const struct trace *t, const struct replay_opts *o,
                   const struct sandbox_opts *so, struct replay_result *r, char **out);

#endif
