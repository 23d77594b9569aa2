/*
 * sandbox.c - replays of a plugin in child processes (sandbox.h).
 *
 * The child shares one page with the parent: the index of the operation
 * running (replay_opts.running_op, stored before each op) and, when the
 * replay ends, its result. Its stdout and stderr go to a memory file the
 * parent reads afterwards. The parent waits with a deadline and kills a
 * child that outlives it (SIGKILL: nothing in the child can refuse it).
 */
#include "sandbox.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "plugin.h"
#include "plugin_guard.h"

#define NO_OP UINT64_MAX

/* How far the child got: a plugin's own exit() can choose any exit status,
   so the parent reads this instead. */
enum stage { STAGE_START, STAGE_NO_LOAD, STAGE_LOADED, STAGE_NO_SETUP, STAGE_DONE };

struct shared {
	volatile uint64_t op; /* the op running, NO_OP before the first */
	volatile enum stage stage;
	struct replay_result r; /* complete at STAGE_DONE */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The child: load the plugin, replay, write the result, leave. */
static _Noreturn void child(const struct trace *t, const struct replay_opts *o,
                            const struct sandbox_opts *so, struct shared *sh, int out)
{
	struct rlimit no_core = {0, 0};
	struct replay_opts ro;
	struct plugin *p;

	setrlimit(RLIMIT_CORE, &no_core);
	if (out >= 0) {
		dup2(out, STDOUT_FILENO);
		dup2(out, STDERR_FILENO);
		close(out);
	}
	p = plugin_open(so->plugin, so->name, so->cmd, stderr);
	if (!p) {
		sh->stage = STAGE_NO_LOAD;
		fflush(NULL);
		_exit(1);
	}
	sh->stage = STAGE_LOADED;
	if (so->spin > 0)
		plugin_guard_set_spin_limit(so->spin);
	if (!t)
		_exit(0); /* sandbox_probe */
	ro = *o;
	ro.ops = plugin_ops(p);
	ro.running_op = &sh->op;
	ro.progress = false;
	if (replay_run(t, &ro, &sh->r) < 0) {
		sh->stage = STAGE_NO_SETUP;
		fflush(NULL);
		_exit(1);
	}
	sh->stage = STAGE_DONE;
	fflush(NULL);
	/* No plugin_close, no exit handlers: the process ends here. */
	_exit(0);
}

/* What the child wrote: NULL when nothing; capped at SANDBOX_OUTPUT_MAX. */
static char *slurp(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);
	size_t n = size > SANDBOX_OUTPUT_MAX ? SANDBOX_OUTPUT_MAX : (size_t)(size > 0 ? size : 0);
	char *buf;
	ssize_t got;

	if (n == 0 || !(buf = malloc(n + 80)))
		return NULL;
	got = pread(fd, buf, n, 0);
	if (got < 0)
		got = 0;
	buf[got] = '\0';
	if (size > SANDBOX_OUTPUT_MAX)
		snprintf(buf + got, 80, "\n[... %lld more bytes]\n",
		         (long long)(size - SANDBOX_OUTPUT_MAX));
	return buf;
}

/* Run the child to its end or its deadline. Its wait status, or -1. */
static int run_child(const struct trace *t, const struct replay_opts *o,
                     const struct sandbox_opts *so, struct shared *sh, int out, bool *timed_out)
{
	double deadline = so->timeout > 0 ? now() + so->timeout : 0;
	struct timespec nap = {0, 1000000};
	pid_t pid;
	int st;

	*timed_out = false;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		child(t, o, so, sh, out);
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			return st;
		if (w < 0 && errno != EINTR)
			return -1;
		if (deadline && now() > deadline) {
			kill(pid, SIGKILL);
			*timed_out = true;
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			return st;
		}
		nanosleep(&nap, NULL);
		if (nap.tv_nsec < 20000000)
			nap.tv_nsec *= 2; /* 1, 2, 4 ... 32 ms */
	}
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

static struct shared *shared_page(const char *cmd)
{
	struct shared *sh =
	    mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (sh == MAP_FAILED) {
		cmd_error(cmd, "cannot map memory to share with a child: %s", strerror(errno));
		return NULL;
	}
	memset(sh, 0, sizeof(*sh));
	sh->op = NO_OP;
	return sh;
}

int sandbox_probe(const struct sandbox_opts *so, FILE *err)
{
	struct shared *sh = shared_page(so->cmd);
	int out = memfd_create("aftermalloc-probe", MFD_CLOEXEC), st;
	bool timed_out, ok;
	char *text;

	if (!sh)
		return -1;
	st = run_child(NULL, NULL, so, sh, out, &timed_out);
	text = out >= 0 ? slurp(out) : NULL;
	if (out >= 0)
		close(out);
	if (text)
		fputs(text, err);
	free(text);
	ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 && sh->stage == STAGE_LOADED;
	if (!ok && sh->stage != STAGE_NO_LOAD)
		fprintf(err,
		        "aftermalloc %s: %s: the plugin ended the process that loaded it (%s)\n",
		        so->cmd, so->plugin,
		        timed_out                     ? "time limit"
		        : st != -1 && WIFSIGNALED(st) ? strsignal(WTERMSIG(st))
		                                      : "exit()");
	munmap(sh, sizeof(*sh));
	return ok ? 0 : -1;
}

int sandbox_replay(const struct trace *t, const struct replay_opts *o,
                   const struct sandbox_opts *so, struct replay_result *r, char **out)
{
	struct shared *sh = shared_page(so->cmd);
	int fd = memfd_create("aftermalloc-replay", MFD_CLOEXEC);
	const char *name = so->name ? so->name : base_name(so->plugin);
	bool timed_out;
	char what[160], at[96];
	char *text;
	int st;

	if (out)
		*out = NULL;
	if (!sh) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	st = run_child(t, o, so, sh, fd, &timed_out);
	text = fd >= 0 ? slurp(fd) : NULL;
	if (fd >= 0)
		close(fd);
	if (sh->stage == STAGE_NO_LOAD || sh->stage == STAGE_NO_SETUP) {
		if (text)
			fputs(text, stderr);
		free(text);
		munmap(sh, sizeof(*sh));
		return -1;
	}
	if (sh->stage == STAGE_DONE && st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		*r = sh->r;
	} else {
		uint64_t op = sh->op;

		memset(r, 0, sizeof(*r));
		r->ops = op == NO_OP ? 0 : op;
		if (st == -1)
			snprintf(what, sizeof(what), "cannot run the replay's process: %s",
			         strerror(errno));
		else if (timed_out)
			snprintf(what, sizeof(what),
			         "time limit of %g s exceeded (an endless loop?)", so->timeout);
		else if (WIFSIGNALED(st))
			snprintf(what, sizeof(what),
			         "the plugin crashed the process running the trace: %s",
			         strsignal(WTERMSIG(st)));
		else
			snprintf(
			    what, sizeof(what),
			    "the process running the trace exited with status %d (exit() in the "
			    "plugin?)",
			    WEXITSTATUS(st));
		if (op == NO_OP || op >= t->nr_ops)
			snprintf(at, sizeof(at), "before the first op");
		else
			snprintf(at, sizeof(at), "op %llu (line %u)", (unsigned long long)op + 1,
			         t->ops[op].line);
		snprintf(r->error, sizeof(r->error), "%s: %s", at, what);
		r->valid = false;
	}
	r->trace = t->path;
	r->malloc = name;
	if (out)
		*out = text;
	else
		free(text);
	munmap(sh, sizeof(*sh));
	return 0;
}
