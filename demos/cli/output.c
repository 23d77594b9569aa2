/*
 * output.c - checked output streams for every command (see output.h).
 *
 * A stream is a stdio stream over our own write function (fopencookie):
 * stdio keeps its buffering and formatting, and every write(2) it makes
 * lands in cookie_write, the one place that knows a failed write. There
 * EPIPE and the other errors part ways; no caller checks anything.
 */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

struct out_cookie {
	int fd;
	bool own; /* close fd with the stream (not for standard output) */
	char *name;
};

struct out_hook {
	void (*fn)(void *);
	void *ctx;
};

#define MAX_HOOKS 4

static const char *cmd_name = "aftermalloc";
static pid_t owner; /* the process whose hooks these are (not a forked child) */
static struct out_hook hooks[MAX_HOOKS];
/* Standard output's cookie: static, since its stream lives until exit(),
   which flushes it but frees nothing (a malloc'ed one is a leak to
   LeakSanitizer). */
static struct out_cookie stdout_cookie = {STDOUT_FILENO, false, "standard output"};

const char *output_cmd(void)
{
	return cmd_name;
}

void output_at_exit(void (*fn)(void *), void *ctx)
{
	for (int i = 0; i < MAX_HOOKS; i++)
		if (!hooks[i].fn) {
			hooks[i] = (struct out_hook){fn, ctx};
			return;
		}
}

void output_at_exit_remove(void (*fn)(void *), void *ctx)
{
	for (int i = 0; i < MAX_HOOKS; i++)
		if (hooks[i].fn == fn && hooks[i].ctx == ctx)
			hooks[i].fn = NULL;
}

_Noreturn void output_failed(const char *name, int err)
{
	if (getpid() == owner)
		for (int i = 0; i < MAX_HOOKS; i++)
			if (hooks[i].fn)
				hooks[i].fn(hooks[i].ctx);
	if (err == EPIPE)
		_exit(EXIT_PIPE); /* the reader is gone: nothing to say */
	fprintf(stderr, "aftermalloc %s: %s: write error: %s\n", cmd_name, name, strerror(err));
	_exit(EXIT_BAD_INPUT);
}

static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
	struct out_cookie *k = c;
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(k->fd, buf + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			output_failed(k->name, w < 0 ? errno : ENOSPC);
		done += (size_t)w;
	}
	return (ssize_t)n;
}

static int cookie_close(void *c)
{
	struct out_cookie *k = c;

	if (!k->own)
		return 0; /* standard output's: static, its descriptor stays */
	if (close(k->fd) < 0)
		output_failed(k->name, errno); /* NFS reports a lost write here */
	free(k->name);
	free(k);
	return 0;
}

static const cookie_io_functions_t cookie_io = {.write = cookie_write, .close = cookie_close};

/* A stream that owns fd (closed with it); NULL (errno set) when out of
   host memory. */
static FILE *stream_of(int fd, const char *name)
{
	struct out_cookie *k = malloc(sizeof(*k));
	FILE *f;

	if (!k || !(k->name = strdup(name))) {
		free(k);
		errno = ENOMEM;
		return NULL;
	}
	k->fd = fd;
	k->own = true;
	f = fopencookie(k, "w", cookie_io);
	if (!f) {
		free(k->name);
		free(k);
		return NULL;
	}
	return f;
}

/* A write of zero bytes: a full device refuses it (/dev/full's write
   returns ENOSPC whatever the count), a closed descriptor too (EBADF). */
static int try_write(int fd)
{
	while (write(fd, "", 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

void output_init(const char *cmd, bool check_stdout)
{
	FILE *f;

	cmd_name = cmd;
	owner = getpid();
	/* Hold 0, 1 and 2. /dev/null opened the wrong way round for the use
	   (write-only as input, read-only as output) takes the lowest free
	   descriptor, which is the closed one, and fails every use with EBADF,
	   as the closed descriptor would have. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", (fd == 0 ? O_WRONLY : O_RDONLY) | O_CLOEXEC);

			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
	signal(SIGPIPE, SIG_IGN);
	if (check_stdout && try_write(STDOUT_FILENO) < 0)
		output_failed("standard output", errno);
	fflush(stdout);
	f = fopencookie(&stdout_cookie, "w", cookie_io);
	if (!f)
		return; /* out of host memory: stdout stays glibc's */
	setvbuf(f, NULL, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, BUFSIZ);
	stdout = f;
}

FILE *output_open(const char *path, bool append)
{
	int fd;
	FILE *f;

	if (strcmp(path, "-") == 0)
		return stdout;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0666);
	if (fd < 0 || try_write(fd) < 0 || !(f = stream_of(fd, path))) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		fprintf(stderr, "aftermalloc %s: %s: %s\n", cmd_name, path, strerror(e));
		return NULL;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	return f;
}

int output_close(FILE *f)
{
	if (!f)
		return 0;
	if (f == stdout) {
		output_flush();
		return 0;
	}
	if (fclose(f) != 0)
		output_failed("output", errno); /* not reached: the cookie ends it first */
	return 0;
}

void output_flush(void)
{
	if (fflush(stdout) != 0)
		output_failed("standard output", errno);
}
