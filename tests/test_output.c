/*
 * test_output.c - every command's output paths as a shell wires them
 * (demos/cli/output.h): a closed pipe ends a command quietly with status
 * 141 and no signal; a failed write (/dev/full) is exit 2 with the reason;
 * an output file is opened and tried before anything runs; a closed
 * standard output is never taken by an output file.
 *
 * Each case runs the binary with standard output set up as the case says
 * (the read end of a pipe closed before the command starts, /dev/full,
 * closed) and standard error captured.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support_bin.h"

enum out_mode { OUT_BROKEN_PIPE, OUT_FULL, OUT_CLOSED };

struct spawn {
	int status;    /* exit status, or 128 + signal */
	bool signaled; /* the command died by a signal */
	char *err;
	size_t err_len;
};

/* Run the binary with args; stdout as mode says, stdin /dev/null, stderr
   captured. The first arg is the command. */
static struct spawn spawn_out(const char *const *args, enum out_mode mode)
{
	struct spawn r = {0};
	char errpath[] = "/tmp/test_output_err_XXXXXX";
	int errfd = mkstemp(errpath), p[2] = {-1, -1}, st;
	const char *argv[32];
	pid_t pid;
	int n = 0;

	cr_assert_geq(errfd, 0);
	unlink(errpath);
	argv[n++] = bin_path();
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (mode == OUT_BROKEN_PIPE)
		cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);

		signal(SIGPIPE, SIG_DFL); /* as a shell starts a command */
		dup2(in, 0);
		dup2(errfd, 2);
		if (mode == OUT_BROKEN_PIPE) {
			dup2(p[1], 1);
			close(p[0]); /* the reader is gone before the first write */
			close(p[1]);
		} else if (mode == OUT_FULL) {
			int full = open("/dev/full", O_WRONLY);

			dup2(full, 1);
			close(full);
		} else {
			close(1);
		}
		setenv("NO_COLOR", "1", 1);
		unsetenv("DISPLAY");
		alarm(60);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (mode == OUT_BROKEN_PIPE) {
		close(p[0]);
		close(p[1]);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	r.signaled = WIFSIGNALED(st);
	r.status = r.signaled ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
	r.err = bin_slurp(errfd, &r.err_len);
	close(errfd);
	return r;
}

/* Drop the lines a sanitizer runtime prints by itself ("==PID==WARNING:
   ASan doesn't fully support makecontext/swapcontext" for the stepper's
   coroutine): under `make test SANITIZE=...` they are not the tool's. */
static void drop_sanitizer_notes(struct spawn *r)
{
	char *w = r->err, *line = r->err;

	while (line && *line) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
		size_t d = 0;

		if (strncmp(line, "==", 2) == 0)
			while (isdigit((unsigned char)line[2 + d]))
				d++;
		if (!(d && strncmp(line + 2 + d, "==WARNING: ", 11) == 0)) {
			memmove(w, line, len);
			w += len;
		}
		line += len;
	}
	if (w)
		*w = '\0';
	r->err_len = w ? (size_t)(w - r->err) : 0;
}

static void assert_quiet_pipe(const char *const *args)
{
	struct spawn r = spawn_out(args, OUT_BROKEN_PIPE);

	drop_sanitizer_notes(&r);

	cr_expect_not(r.signaled, "%s %s died by signal %d", args[0], args[1], r.status - 128);
	cr_expect_eq(r.status, 141, "%s %s: status %d (stderr: %s)", args[0], args[1], r.status,
	             r.err);
	cr_expect_eq(r.err_len, 0, "%s %s: a closed pipe is no message: %s", args[0], args[1],
	             r.err);
	free(r.err);
}

static void assert_write_error(const char *const *args, enum out_mode mode, const char *what)
{
	struct spawn r = spawn_out(args, mode);

	cr_expect_not(r.signaled, "%s died by signal %d", args[0], r.status - 128);
	cr_expect_eq(r.status, 2, "%s %s: status %d, stderr: %s", args[0], args[1], r.status,
	             r.err);
	cr_expect(strstr(r.err, what), "%s %s: stderr has no \"%s\": %s", args[0], args[1], what,
	          r.err);
	free(r.err);
}

static char *path_of(const char *rel)
{
	char *p;

	cr_assert_geq(asprintf(&p, "%s/%s", bin_root(), rel), 0);
	return p;
}

#define LANG "demos/language.ams"
#define TRACE "demos/traces/malloclab/short1-bal.rep"

Test(output, a_closed_pipe_ends_every_output_quietly_with_141, .timeout = 120)
{
	char *script = path_of(LANG), *trace = path_of(TRACE), *mm = path_of("demos/lab/mm-seed.c");
	const char *const cases[][10] = {
	    {"run", script, "--trace", NULL},
	    {"run", script, NULL},
	    {"run", script, "--json", NULL},
	    {"run", script, "--no-comments", "--events", "/dev/stdout", NULL},
	    {"run", script, "--no-comments", "--perfetto", "/dev/stdout", NULL},
	    {"replay", trace, NULL},
	    {"replay", trace, "--json", "--malloc", "all", NULL},
	    {"quiz", script, "--answers", NULL},
	    {"step", script, NULL},
	    {"gen", "-s", "1", "-n", "1000", NULL},
	    {"gen", "-s", "1", "-n", "1000", "-o", "/dev/stdout", "--format", "rep", NULL},
	    {"record", "-o", "/dev/stdout", "--", "/bin/true", NULL},
	    {"lab", mm, trace, NULL},
	    {"run", "--help", NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_quiet_pipe(cases[i]);
	free(script);
	free(trace);
	free(mm);
}

Test(output, a_full_device_is_exit_2_with_the_reason, .timeout = 120)
{
	char *script = path_of(LANG), *trace = path_of(TRACE), *mm = path_of("demos/lab/mm-seed.c"),
	     *seed = path_of("demos/seed-walk.ams");
	const char *const on_stdout[][8] = {
	    {"run", script, NULL},
	    {"run", script, "--json", NULL},
	    {"run", script, "--trace", NULL},
	    {"replay", trace, NULL},
	    {"replay", trace, "--json", NULL},
	    {"quiz", script, "--answers", NULL},
	    {"step", script, NULL},
	    {"gen", "-s", "1", "-n", "1000", NULL},
	    {"lab", mm, trace, NULL},
	    {"run", "--help", NULL},
	};

	for (size_t i = 0; i < sizeof(on_stdout) / sizeof(on_stdout[0]); i++)
		assert_write_error(on_stdout[i], OUT_FULL,
		                   "standard output: write error: No space left on device");
	free(script);
	free(trace);
	free(mm);
	free(seed);
}

/* A file option naming a full device: refused before anything runs, so
   nothing at all is printed. */
Test(output, an_output_file_is_tried_before_anything_runs, .timeout = 60)
{
	char *script = path_of(LANG), *seed = path_of("demos/seed-walk.ams"),
	     *trace = path_of(TRACE);
	const char *const cases[][10] = {
	    {"run", script, "--events", "/dev/full", NULL},
	    {"run", script, "--perfetto", "/dev/full", NULL},
	    {"gen", "-s", "1", "-n", "10", "-o", "/dev/full", "--format", "rep", NULL},
	    {"record", "-o", "/dev/full", "--", "/bin/echo", "ran", NULL},
	    {"view", seed, "--screenshot", "/dev/full", "--at", "300", NULL},
	    {"replay", trace, "--plot", "/dev/full", NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bin_out r = bin_run(cases[i], NULL);

		cr_expect_eq(r.status, 2, "%s %s: status %d, stderr: %s", cases[i][0],
		             cases[i][2], r.status, r.err);
		cr_expect_eq(r.out_len, 0, "%s: printed before the file was tried: %s",
		             cases[i][0], r.out);
		cr_expect(strstr(r.err, "/dev/full: No space left on device"), "%s: %s",
		          cases[i][0], r.err);
		bin_out_free(&r);
	}
	free(script);
	free(seed);
	free(trace);
}

/* Standard output closed: the results are not written into the file an
   option names (it would be the lowest free descriptor, 1). */
Test(output, a_closed_stdout_is_never_taken_by_an_output_file, .timeout = 60)
{
	char *script = path_of("demos/seed-walk.ams");
	char ev[] = "/tmp/test_output_ev_XXXXXX", gen[] = "/tmp/test_output_gen_XXXXXX";
	int fd1 = mkstemp(ev), fd2 = mkstemp(gen);
	const char *const run[] = {"run", script, "--events", ev, NULL};
	const char *const g[] = {"gen", "-s", "1", "-n", "10", "-o", gen, "--format", "rep", NULL};
	struct spawn r;
	struct stat sb;
	char *text;
	size_t len;

	cr_assert(fd1 >= 0 && fd2 >= 0);
	close(fd1);
	close(fd2);
	r = spawn_out(run, OUT_CLOSED);
	cr_expect_eq(r.status, 2, "status %d, stderr %s", r.status, r.err);
	cr_expect(strstr(r.err, "standard output: write error: Bad file descriptor"), "%s", r.err);
	cr_expect_eq(stat(ev, &sb), 0);
	cr_expect_eq(sb.st_size, 0, "the run wrote %lld bytes into the events file",
	             (long long)sb.st_size);
	free(r.err);
	/* A command whose output is a file runs on: the file holds just its own. */
	r = spawn_out(g, OUT_CLOSED);
	cr_expect_eq(r.status, 0, "status %d, stderr %s", r.status, r.err);
	text = bin_read_file(gen, &len);
	cr_expect_gt(len, 0, "gen wrote nothing");
	cr_expect_null(strstr(text, "usage"), "%s", text);
	free(text);
	free(r.err);
	unlink(ev);
	unlink(gen);
	free(script);
}

/* The text of one statement's --trace is not held whole in memory: past its
   bound the statement's line comes first and its events stream under it. */
Test(output, trace_streams_a_statement_with_many_events, .timeout = 60)
{
	char *path = bin_script_file("m = mmap 8M rw\nread m 0 8M\nexpect 1 == 1\n");
	const char *const args[] = {"run", path, "--trace", "--no-comments", NULL};
	struct bin_out r = bin_run(args, NULL);
	const char *head, *ev, *result;

	cr_assert_eq(r.status, 0, "%s", r.err);
	head = strstr(r.out, "   2  read m 0 8M");
	cr_assert_not_null(head, "%s", r.out);
	cr_expect_not_null(strstr(head, "(its events as they happen, its result after them)"));
	ev = strstr(head, "#");
	result = strstr(head + 1, "   2  read m 0 8M");
	cr_assert_not_null(result);
	cr_expect(ev && ev < result, "the events stream under the statement's line");
	cr_expect_not_null(strstr(result, "2048 faults"), "%.200s", result);
	bin_out_free(&r);
	unlink(path);
	free(path);
}
