/*
 * oom_score.c - what /proc/self/oom_score and oom_score_adj read for a tiny
 * process on this machine (the simulation's fresh process must read the
 * same: (1000 + badness * 1000 / totalpages) * 2 / 3 with a badness that
 * is tiny against RAM + swap).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long read_long(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

int main(void)
{
	char out[128];
	int n = snprintf(out, sizeof(out), "oom_score=%ld\noom_score_adj=%ld\n",
	                 read_long("/proc/self/oom_score"), read_long("/proc/self/oom_score_adj"));

	return write(1, out, (size_t)n) == n ? 0 : 1;
}
