/*
 * test_syscall.c - the system-call path and the small calls
 * (kernel_sim/syscall.c): getrlimit/setrlimit (do_prlimit's checks), write
 * to stderr kept for the death report, tgkill of oneself (abort), and the
 * entry_SYSCALL_64 -> do_syscall_64 -> __x64_sys_NAME events around each.
 * kernel_check runs after every operation.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kernel_sim/kernel.h"
#include "kernel_sim/syscalls.h"
#include "kernel_sim/sysctl.h"
#include "tests/support_sim.h"

#define MAX_EVENTS 1024

static struct kernel k;
static struct sim_recorder rec = {.cap = MAX_EVENTS};
static struct task *t;

static void boot(void)
{
	struct kernel_opts o;

	kernel_default_opts(&o);
	t = sim_kernel_boot(&k, &o, &rec, "prog");
}

static void shutdown(void)
{
	kernel_shutdown(&k);
}

TestSuite(syscall, .init = boot, .fini = shutdown);

Test(syscall, setrlimit_then_getrlimit_round_trips)
{
	struct sim_rlimit rl = {1 << 20, 2 << 20}, got;

	cr_assert_eq(sys_setrlimit(&k, SIM_RLIMIT_AS, &rl), 0);
	sim_kernel_check(&k);
	cr_assert_eq(sys_getrlimit(&k, SIM_RLIMIT_AS, &got), 0);
	cr_assert_eq(got.cur, 1 << 20);
	cr_assert_eq(got.max, 2 << 20);
	cr_assert_eq(sys_getrlimit(&k, SIM_RLIMIT_STACK, &got), 0);
	cr_assert_eq(got.cur, t->rlim[SIM_RLIMIT_STACK].cur);
}

Test(syscall, setrlimit_refuses_cur_above_max_and_unknown_resources)
{
	struct sim_rlimit rl = {2 << 20, 1 << 20}, got;

	cr_assert_eq(sys_setrlimit(&k, SIM_RLIMIT_DATA, &rl), -SIM_EINVAL);
	cr_assert_eq(t->rlim[SIM_RLIMIT_DATA].cur, SIM_RLIM_INFINITY, "unchanged");
	rl.cur = 0;
	cr_assert_eq(sys_setrlimit(&k, SIM_NR_RLIMITS, &rl), -SIM_EINVAL);
	cr_assert_eq(sys_setrlimit(&k, -1, &rl), -SIM_EINVAL);
	cr_assert_eq(sys_getrlimit(&k, SIM_NR_RLIMITS, &got), -SIM_EINVAL);
	cr_assert_eq(sys_setrlimit(&k, SIM_RLIMIT_DATA, NULL), -14); /* -EFAULT */
	sim_kernel_check(&k);
}

Test(syscall, write_to_stderr_is_kept_and_truncated_safely)
{
	char big[3000];

	cr_assert_eq(sys_write(&k, 2, "free(): ", 8), 8);
	cr_assert_eq(sys_write(&k, 2, "double free\n", 12), 12);
	cr_assert_str_eq(t->stderr_buf, "free(): double free\n");
	cr_assert_eq(t->stderr_len, 20);
	cr_assert_eq(sys_write(&k, 1, "out", 3), 3, "stdout succeeds, not kept");
	cr_assert_eq(t->stderr_len, 20);
	cr_assert_eq(sys_write(&k, 3, "x", 1), -9, "-EBADF");
	memset(big, 'a', sizeof(big));
	cr_assert_eq(sys_write(&k, 2, big, sizeof(big)), (int64_t)sizeof(big));
	cr_assert_eq(t->stderr_len, sizeof(t->stderr_buf) - 1);
	cr_assert_eq(t->stderr_buf[sizeof(t->stderr_buf) - 1], '\0');
	cr_assert_eq(sys_write(&k, 2, "more", 4), 4);
	cr_assert_eq(t->stderr_len, sizeof(t->stderr_buf) - 1);
	sim_kernel_check(&k);
}

static void do_abort(void *arg)
{
	sys_write(&k, 2, "free(): double free detected in tcache 2\n", 41);
	sys_tgkill_self(&k, SIM_SIGABRT);
	*(int *)arg = 1; /* never reached */
}

Test(syscall, tgkill_self_with_sigabrt_kills_with_the_last_stderr_line)
{
	int reached = 0;
	unsigned depth = probe_depth(&k.probe);

	cr_assert_eq(task_run(&k, t, do_abort, &reached), SIM_SIGABRT);
	cr_assert_eq(reached, 0);
	cr_assert(t->dead);
	cr_assert_eq(t->death.signo, SIM_SIGABRT);
	cr_assert_eq(t->death.code, -6, "SI_TKILL");
	cr_assert_str_eq(t->death.reason, "free(): double free detected in tcache 2");
	cr_assert_eq(probe_depth(&k.probe), depth, "the open calls were unwound");
	sim_kernel_check(&k);
}

Test(syscall, tgkill_self_with_signal_zero_only_checks)
{
	cr_assert_eq(sys_tgkill_self(&k, 0), 0);
	cr_assert_not(t->dead);
	cr_assert_eq(sys_tgkill_self(&k, 65), -SIM_EINVAL);
	cr_assert_not(t->dead);
	sim_kernel_check(&k);
}

Test(syscall, every_call_opens_and_closes_the_entry_path)
{
	struct sim_rlimit rl;

	sys_getrlimit(&k, SIM_RLIMIT_DATA, &rl);
	cr_assert_eq(rec.n, 6);
	cr_assert_eq(rec.ev[0].kind, EV_SYSCALL);
	cr_assert_str_eq(rec.ev[0].fn, "entry_SYSCALL_64");
	cr_assert_eq(event_field(&rec.ev[0], "nr", 0), SIM_NR_getrlimit);
	cr_assert_eq(rec.ev[1].kind, EV_CALL);
	cr_assert_str_eq(rec.ev[1].fn, "do_syscall_64");
	cr_assert_eq(rec.ev[2].kind, EV_CALL);
	cr_assert_str_eq(rec.ev[2].fn, "__x64_sys_getrlimit");
	cr_assert_eq(rec.ev[3].kind, EV_RET);
	cr_assert_str_eq(rec.ev[3].fn, "__x64_sys_getrlimit");
	cr_assert_eq(rec.ev[4].kind, EV_RET);
	cr_assert_str_eq(rec.ev[4].fn, "do_syscall_64");
	cr_assert_eq(rec.ev[5].kind, EV_SYSRET);
	cr_assert_eq(event_field(&rec.ev[5], "ret", 1), 0);
	cr_assert_eq(rec.ev[5].depth, rec.ev[0].depth);
}

/* Read path whole: its text, or the errno of openat (negative). */
static int64_t read_file(const char *path, char *buf, size_t n)
{
	int64_t fd = sys_openat(&k, path, SIM_O_RDONLY), r;

	if (fd < 0)
		return fd;
	r = sys_read(&k, (int)fd, buf, n - 1);
	cr_assert_geq(r, 0);
	buf[r] = 0;
	cr_assert_eq(sys_close(&k, (int)fd), 0);
	return r;
}

Test(syscall, cpu_online_and_overcommit_memory_read_as_sysfs_and_procfs_print_them)
{
	char buf[64];

	cr_assert_eq(read_file("/sys/devices/system/cpu/online", buf, sizeof(buf)), 2);
	cr_assert_str_eq(buf, "0\n");
	cr_assert_eq(read_file("/proc/sys/vm/overcommit_memory", buf, sizeof(buf)), 2);
	cr_assert_str_eq(buf, "0\n");
	cr_assert_eq(sysctl_vm_write(&k, "overcommit_memory", 2), 0);
	read_file("/proc/sys/vm/overcommit_memory", buf, sizeof(buf));
	cr_assert_str_eq(buf, "2\n");
	k.opts.nr_cpus = 4;
	read_file("/sys/devices/system/cpu/possible", buf, sizeof(buf));
	cr_assert_str_eq(buf, "0-3\n");
	sim_kernel_check(&k);
}

Test(syscall, openat_read_and_close_refuse_what_linux_refuses)
{
	char buf[8];
	int64_t fd;

	cr_assert_eq(sys_openat(&k, "/proc/sys/vm/nosuch", SIM_O_RDONLY), -SIM_ENOENT);
	cr_assert_eq(sys_openat(&k, "/etc/passwd", SIM_O_RDONLY), -SIM_ENOENT);
	cr_assert_eq(sys_openat(&k, "/proc/sys/vm/swappiness", 1 /* O_WRONLY */), -13);
	cr_assert_eq(sys_read(&k, 2, buf, sizeof(buf)), -9);
	cr_assert_eq(sys_close(&k, 3), -9);
	/* reads go on from the offset, then return 0 */
	fd = sys_openat(&k, "/proc/sys/vm/swappiness", SIM_O_RDONLY);
	cr_assert_eq(fd, 3, "the lowest free descriptor");
	cr_assert_eq(sys_read(&k, (int)fd, buf, 1), 1);
	cr_assert_eq(buf[0], '6');
	cr_assert_eq(sys_read(&k, (int)fd, buf, sizeof(buf)), 2);
	cr_assert_eq(sys_read(&k, (int)fd, buf, sizeof(buf)), 0);
	cr_assert_eq(sys_close(&k, (int)fd), 0);
	cr_assert_eq(sys_close(&k, (int)fd), -9);
	/* a full table: EMFILE */
	for (int i = 0; i < SIM_NR_OPEN; i++)
		cr_assert_eq(sys_openat(&k, "/sys/devices/system/cpu/online", SIM_O_RDONLY), 3 + i);
	cr_assert_eq(sys_openat(&k, "/sys/devices/system/cpu/online", SIM_O_RDONLY), -24);
	sim_kernel_check(&k);
}
