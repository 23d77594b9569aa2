/*
 * ps_state.c - the state letter of /proc/PID/stat (ps's STAT, less its
 * modifiers) of three processes on the real kernel, for
 * tests/test_session.c: a parent, a child that exited and is not reaped
 * (a zombie) and a child blocked in read(2) on a pipe. The parent reads
 * the three's while that child waits; then the child, woken, reads them
 * while the parent waits in waitpid. A process reading its own is running
 * (R); one waiting for something is sleeping (S); one that exited and was
 * not reaped is a zombie (Z).
 * Printed, one key=value a line: parent.self, parent.child, parent.zombie,
 * then child.self, child.parent, child.zombie.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The state letter of pid ('?' when /proc cannot tell). */
static char state_of(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')'); /* the command may hold spaces and parentheses */
	return p && p[1] == ' ' && p[2] ? p[2] : '?';
}

/* The state of pid once it is want (a process on its way into a read or a
   waitpid is R for a moment), or what it is after 5 s. */
static char settled(pid_t pid, char want)
{
	struct timespec ms = {0, 1000000};
	char s = state_of(pid);

	for (int i = 0; i < 5000 && s != want; i++) {
		nanosleep(&ms, NULL);
		s = state_of(pid);
	}
	return s;
}

static void view(const char *who, pid_t self, const char *other_name, pid_t other,
                 pid_t zombie)
{
	printf("%s.self=%c\n", who, state_of(self));
	printf("%s.%s=%c\n", who, other_name, settled(other, 'S'));
	printf("%s.zombie=%c\n", who, settled(zombie, 'Z'));
	fflush(stdout);
}

int main(void)
{
	int wake[2], st;
	pid_t parent = getpid(), zombie, child;
	char c = 0;

	if (pipe(wake) != 0)
		return 1;
	fflush(stdout);
	zombie = fork();
	if (zombie < 0)
		return 1;
	if (zombie == 0)
		_exit(0);
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		if (read(wake[0], &c, 1) != 1)
			_exit(1);
		view("child", getpid(), "parent", parent, zombie);
		_exit(0);
	}
	view("parent", parent, "child", child, zombie);
	if (write(wake[1], &c, 1) != 1 || waitpid(child, &st, 0) != child || st != 0)
		return 1;
	return waitpid(zombie, &st, 0) == zombie ? 0 : 1;
}
