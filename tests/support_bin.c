/*
 * support_bin.c - the unit tests' way of running the built binary (see
 * support_bin.h): temporary files for stdin/stdout/stderr, fork, execv,
 * waitpid, and the captured output read back.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support_bin.h"

#define BIN_MAX_ARGS 32

const char *bin_path(void)
{
	const char *b = getenv("AM_BIN");

	return b ? b : "build/aftermalloc";
}

const char *bin_root(void)
{
	const char *r = getenv("AM_ROOT");

	return r ? r : ".";
}

const char *bin_trace_path(const char *rel)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/demos/traces/%s", bin_root(), rel);
	return path;
}

char *bin_slurp(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	ssize_t r;

	lseek(fd, 0, SEEK_SET);
	while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
		n += (size_t)r;
		if (cap - n < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

char *bin_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	char *s;

	cr_assert_geq(fd, 0, "cannot open %s", path);
	s = bin_slurp(fd, len);
	close(fd);
	return s;
}

/* An anonymous temporary file (unlinked at once). */
static int tmpfd(void)
{
	char path[] = "/tmp/am_test_XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	unlink(path);
	return fd;
}

struct bin_out bin_run(const char *const *args, const char *input)
{
	return bin_run_as(args, input, 0);
}

struct bin_out bin_run_as(const char *const *args, const char *input, size_t as_limit)
{
	struct bin_out p = {0};
	const char *argv[BIN_MAX_ARGS];
	int fi, fo = tmpfd(), fe = tmpfd(), st, n = 0;
	pid_t pid;

	argv[n++] = bin_path();
	for (; *args && n < BIN_MAX_ARGS - 1; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	cr_assert_eq(access(bin_path(), X_OK), 0, "no binary at %s (set AM_BIN)", bin_path());
	if (input) {
		fi = tmpfd();
		cr_assert_eq(write(fi, input, strlen(input)), (ssize_t)strlen(input));
		lseek(fi, 0, SEEK_SET);
	} else {
		fi = open("/dev/null", O_RDONLY);
		cr_assert_geq(fi, 0);
	}
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(fi, 0);
		dup2(fo, 1);
		dup2(fe, 2);
		setenv("NO_COLOR", "1", 1);
		unsetenv("DISPLAY");
		unsetenv("WAYLAND_DISPLAY");
		alarm(60);
		if (as_limit) {
			struct rlimit rl = {as_limit, as_limit};

			if (setrlimit(RLIMIT_AS, &rl) != 0)
				_exit(126);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	p.signaled = WIFSIGNALED(st);
	p.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	p.out = bin_slurp(fo, &p.out_len);
	p.err = bin_slurp(fe, &p.err_len);
	close(fi);
	close(fo);
	close(fe);
	return p;
}

void bin_out_free(struct bin_out *p)
{
	free(p->out);
	free(p->err);
}

/* The temporary files this test's process made, removed when it exits
   normally, so that a passing test leaves nothing in /tmp whether or not it
   unlinks them (a failing one may leave them: Criterion ends it without
   exit handlers, and they help to see why). Only by the process that made
   them: a forked child's exit must not take its parent's files. */
static struct {
	char **paths;
	size_t n;
	pid_t owner;
} temps;

static void remove_temps(void)
{
	if (getpid() != temps.owner)
		return;
	for (size_t i = 0; i < temps.n; i++) {
		unlink(temps.paths[i]);
		free(temps.paths[i]);
	}
	free(temps.paths);
	temps.paths = NULL;
	temps.n = 0;
}

static void remember_temp(const char *path)
{
	char **grown;

	if (temps.owner != getpid()) {
		temps.paths = NULL; /* a child's copy of its parent's list is not its own */
		temps.n = 0;
		temps.owner = getpid();
		atexit(remove_temps);
	}
	grown = realloc(temps.paths, (temps.n + 1) * sizeof(*grown));
	cr_assert_not_null(grown);
	temps.paths = grown;
	temps.paths[temps.n] = strdup(path);
	cr_assert_not_null(temps.paths[temps.n]);
	temps.n++;
}

char *bin_temp_file(const char *text, size_t len, const char *suffix)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/am_test_XXXXXX%s", suffix);
	fd = mkstemps(path, (int)strlen(suffix));
	cr_assert_geq(fd, 0);
	remember_temp(path);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return strdup(path);
}

char *bin_script_file(const char *text)
{
	return bin_temp_file(text, strlen(text), ".ams");
}
