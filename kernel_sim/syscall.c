/*
 * syscall.c - the system-call path and the small system calls.
 *
 * syscall_enter/syscall_exit model entry_SYSCALL_64 -> do_syscall_64 ->
 * __x64_sys_NAME and back (arch/x86/entry/). The calls here follow
 * kernel/sys.c (getrlimit, setrlimit -> do_prlimit), fs/read_write.c (write,
 * to fd 2 only: it is where glibc's heap-corruption messages go) and
 * kernel/signal.c (tgkill -> do_tkill: abort() of the simulated process).
 */
#include "syscall.h"

#include <string.h>

#include "../vm/panic.h"
#include "syscalls.h"

#define SIM_EBADF    9
#define SIM_SI_TKILL (-6) /* si_code of a signal sent by tkill/tgkill */
#define SIM_NSIG     64

struct task *syscall_enter_f(struct kernel *k, unsigned nr, const char *sys_fn,
                             const struct ev_field *args, unsigned nargs)
{
	struct ev_field f[EV_MAX_FIELDS];
	struct task *t = k->current;

	if (!t)
		panic("%s: no current task", sys_fn);
	if (t->dead)
		panic("%s: task %d is dead", sys_fn, t->pid);
	if (nargs > EV_MAX_FIELDS - 1)
		panic("%s: %u arguments", sys_fn, nargs);
	f[0] = (struct ev_field){"nr", nr};
	memcpy(&f[1], args, nargs * sizeof(*args));
	probe_emit(&k->probe, LAYER_KERNEL, EV_SYSCALL, "entry_SYSCALL_64", NULL, f, nargs + 1);
	probe_call(&k->probe, LAYER_KERNEL, "do_syscall_64", {"nr", nr});
	probe_call_f(&k->probe, LAYER_KERNEL, sys_fn, args, nargs);
	return t;
}

void syscall_exit(struct kernel *k, const char *sys_fn, int64_t ret)
{
	probe_ret(&k->probe, LAYER_KERNEL, sys_fn, {"ret", (uint64_t)ret});
	probe_ret(&k->probe, LAYER_KERNEL, "do_syscall_64", {"ret", (uint64_t)ret});
	exit_to_user_mode(k);
	EV(&k->probe, LAYER_KERNEL, EV_SYSRET, "entry_SYSCALL_64", NULL, {"ret", (uint64_t)ret});
	if (k->opts.debug_checks && kernel_check(k, stderr))
		panic("%s: kernel_check failed after the system call", sys_fn);
}

int64_t sys_getrlimit(struct kernel *k, int resource, struct sim_rlimit *rl)
{
	struct task *t = syscall_enter(k, SIM_NR_getrlimit, "__x64_sys_getrlimit",
	                               {"resource", (uint64_t)resource});
	int64_t ret = 0;

	if (resource < 0 || resource >= SIM_NR_RLIMITS)
		ret = -SIM_EINVAL;
	else if (!rl)
		ret = -SIM_EFAULT;
	else
		*rl = t->rlim[resource];
	syscall_exit(k, "__x64_sys_getrlimit", ret);
	return ret;
}

/*
 * do_prlimit: the new soft limit may not exceed the new hard limit. Raising
 * the hard limit needs CAP_SYS_RESOURCE, which the simulated process has (it
 * runs as root, as the oracle programs do on this machine), except past the
 * host's ceiling on RLIMIT_CPU (kernel.h): EPERM, as without the capability,
 * so that no program can loop forever.
 */
int64_t sys_setrlimit(struct kernel *k, int resource, const struct sim_rlimit *rl)
{
	struct task *t = syscall_enter(k, SIM_NR_setrlimit, "__x64_sys_setrlimit",
	                               {"resource", (uint64_t)resource}, {"cur", rl ? rl->cur : 0},
	                               {"max", rl ? rl->max : 0});
	int64_t ret = 0;

	probe_call(&k->probe, LAYER_KERNEL, "do_prlimit", {"resource", (uint64_t)resource});
	if (resource < 0 || resource >= SIM_NR_RLIMITS)
		ret = -SIM_EINVAL;
	else if (!rl)
		ret = -SIM_EFAULT;
	else if (rl->cur > rl->max)
		ret = -SIM_EINVAL;
	else if (resource == SIM_RLIMIT_CPU && rl->max > SIM_RLIMIT_CPU_CEILING)
		ret = -SIM_EPERM;
	else
		t->rlim[resource] = *rl;
	probe_ret(&k->probe, LAYER_KERNEL, "do_prlimit", {"ret", (uint64_t)ret});
	syscall_exit(k, "__x64_sys_setrlimit", ret);
	return ret;
}

/*
 * fd 1 and 2 always succeed with n (the whole buffer is written, as to a
 * terminal). fd 2 is kept in stderr_buf for the death report; what does not
 * fit is dropped, and the buffer stays NUL-terminated.
 */
int64_t sys_write(struct kernel *k, int fd, const char *buf, size_t n)
{
	struct task *t =
	    syscall_enter(k, SIM_NR_write, "__x64_sys_write", {"fd", (uint64_t)fd}, {"count", n});
	int64_t ret = (int64_t)n;

	if (fd != 1 && fd != 2) {
		ret = -SIM_EBADF;
	} else if (n && !buf) {
		ret = -SIM_EFAULT;
	} else if (fd == 2) {
		size_t room = sizeof(t->stderr_buf) - 1 - t->stderr_len;
		size_t take = n < room ? n : room;

		memcpy(t->stderr_buf + t->stderr_len, buf, take);
		t->stderr_len += take;
		t->stderr_buf[t->stderr_len] = '\0';
	}
	syscall_exit(k, "__x64_sys_write", ret);
	return ret;
}

/* The reason of an abort: the last line the process wrote to stderr (glibc's
   "free(): double free detected in tcache 2"), else the signal's name. */
static void abort_reason(const struct task *t, int sig, char *buf, size_t len)
{
	size_t end = t->stderr_len, start;

	while (end > 0 && t->stderr_buf[end - 1] == '\n')
		end--;
	start = end;
	while (start > 0 && t->stderr_buf[start - 1] != '\n')
		start--;
	if (end > start)
		snprintf(buf, len, "%.*s", (int)(end - start), t->stderr_buf + start);
	else
		snprintf(buf, len, "%s", sig == SIM_SIGABRT ? "SIGABRT" : "signal");
}

/*
 * tgkill on the calling thread. Every signal the model knows is fatal by
 * default (SIGABRT, SIGKILL, SIGSEGV, SIGXCPU); signal 0 only checks that the target
 * exists. A fatal one unwinds to task_run and never returns here; when
 * task_run is not armed the task is marked dead and 0 is returned.
 */
int64_t sys_tgkill_self(struct kernel *k, int sig)
{
	struct task *t =
	    syscall_enter(k, SIM_NR_tgkill, "__x64_sys_tgkill", {"tgid", (uint64_t)k->current->pid},
	                  {"pid", (uint64_t)k->current->pid}, {"sig", (uint64_t)sig});
	char reason[sizeof(t->death.reason)];
	int64_t ret = 0;

	if (sig < 0 || sig > SIM_NSIG) {
		ret = -SIM_EINVAL;
	} else if (sig != 0) {
		probe_call(&k->probe, LAYER_KERNEL, "do_tkill", {"sig", (uint64_t)sig});
		abort_reason(t, sig, reason, sizeof(reason));
		force_fatal_signal(k, sig, SIM_SI_TKILL, 0, 0, reason);
		probe_ret(&k->probe, LAYER_KERNEL, "do_tkill", {"ret", 0});
	}
	syscall_exit(k, "__x64_sys_tgkill", ret);
	return ret;
}
