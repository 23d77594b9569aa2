/*
 * open.h - the few files a program of the model opens, and the system calls
 * that read them (fs/open.c do_sys_openat2, fs/read_write.c ksys_read,
 * fs/open.c close_fd). glibc reads two of them on its malloc paths: the CPUs
 * online, to size its arena limit (__get_nprocs: 8 arenas per CPU), and the
 * overcommit mode, to choose how shrink_heap gives memory back
 * (check_may_shrink_heap). Read-only, rendered when opened, as procfs and
 * sysfs files are:
 *   /sys/devices/system/cpu/online     "0\n", "0-1\n", ... (kernel_opts.nr_cpus)
 *   /sys/devices/system/cpu/possible   the same
 *   /proc/sys/vm/NAME                  every vm sysctl (sysctl.h), "%d\n"
 * Each task has SIM_NR_OPEN descriptors from 3 up (0-2 are the terminal's).
 */
#ifndef KERNEL_SIM_OPEN_H
#define KERNEL_SIM_OPEN_H

#include <stdbool.h>
#include <stddef.h>

#define SIM_NR_OPEN   8
#define SIM_FILE_SIZE 64

/* An open file: its text, fixed at open, and the read offset. */
struct sim_file {
	bool used;
	char text[SIM_FILE_SIZE];
	size_t len, pos;
};

#endif
