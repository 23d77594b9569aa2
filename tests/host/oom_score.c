/*
 * oom_score.c - what /proc/self/oom_score and oom_score_adj read for a tiny
 * process on this machine (the simulation's fresh process must read the
 * same: (1000 + badness * 1000 / totalpages) * 2 / 3 with a badness that
 * is tiny against RAM + swap).
 */
#include <stdio.h>
#include <unistd.h>

#include "tests/host/host_config.h"

int main(void)
{
	char out[128];
	int n = snprintf(out, sizeof(out), "oom_score=%ld\noom_score_adj=%ld\n",
	                 host_read_long("/proc/self/oom_score"), host_read_long("/proc/self/oom_score_adj"));

	return write(1, out, (size_t)n) == n ? 0 : 1;
}
