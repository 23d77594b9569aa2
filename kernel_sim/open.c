/*
 * open.c - openat, read and close of the files open.h lists (fs/open.c
 * do_sys_openat2 -> do_filp_open, fs/read_write.c ksys_read -> vfs_read,
 * fs/open.c close_fd). A file's text is rendered when it is opened, as
 * seq_file does for procfs and sysfs; reads take it from the file offset on.
 * Only reading: openat with O_WRONLY or O_RDWR is EACCES, as for a user
 * without the right to write a sysctl.
 */
#include <stdio.h>
#include <string.h>

#include "syscall.h"
#include "syscalls.h"

#define SIM_EBADF     9
#define SIM_EACCES    13
#define SIM_EMFILE    24
#define SIM_O_ACCMODE 3

/* "0\n", "0-3\n": the CPU list format of cpumap_print_to_pagebuf. */
static size_t cpu_list(const struct kernel *k, char *buf, size_t n)
{
	unsigned nr = k->opts.nr_cpus;

	return (size_t)(nr == 1 ? snprintf(buf, n, "0\n") : snprintf(buf, n, "0-%u\n", nr - 1));
}

/* Render path into f: 0, or -ENOENT when the model has no such file. */
static int render(struct kernel *k, const char *path, struct sim_file *f)
{
	static const char vm[] = "/proc/sys/vm/";
	int64_t v;

	if (strcmp(path, "/sys/devices/system/cpu/online") == 0 ||
	    strcmp(path, "/sys/devices/system/cpu/possible") == 0) {
		f->len = cpu_list(k, f->text, sizeof(f->text));
		return 0;
	}
	if (strncmp(path, vm, sizeof(vm) - 1) == 0 && !strchr(path + sizeof(vm) - 1, '/') &&
	    sysctl_vm_read(k, path + sizeof(vm) - 1, &v) == 0) {
		f->len = (size_t)snprintf(f->text, sizeof(f->text), "%lld\n", (long long)v);
		return 0;
	}
	return -SIM_ENOENT;
}

int64_t sys_openat(struct kernel *k, const char *path, int flags)
{
	struct task *t =
	    syscall_enter(k, SIM_NR_openat, "__x64_sys_openat",
	                  {"dfd", (uint64_t)(int64_t)SIM_AT_FDCWD}, {"flags", (uint64_t)flags});
	int64_t ret = -SIM_EMFILE;
	struct sim_file f = {.used = true};

	probe_call(&k->probe, LAYER_KERNEL, "do_sys_openat2");
	if (!path) {
		ret = -SIM_EFAULT;
	} else if ((flags & SIM_O_ACCMODE) != 0) {
		ret = render(k, path, &f) == 0 ? -SIM_EACCES : -SIM_ENOENT;
	} else if (render(k, path, &f) != 0) {
		ret = -SIM_ENOENT;
	} else {
		for (int fd = 0; fd < SIM_NR_OPEN; fd++) {
			if (!t->files[fd].used) {
				t->files[fd] = f;
				ret = fd + 3;
				break;
			}
		}
	}
	probe_ret(&k->probe, LAYER_KERNEL, "do_sys_openat2", {"ret", (uint64_t)ret});
	syscall_exit(k, "__x64_sys_openat", ret);
	return ret;
}

static struct sim_file *fdget(struct task *t, int fd)
{
	if (fd < 3 || fd >= 3 + SIM_NR_OPEN || !t->files[fd - 3].used)
		return NULL;
	return &t->files[fd - 3];
}

int64_t sys_read(struct kernel *k, int fd, char *buf, size_t n)
{
	struct task *t =
	    syscall_enter(k, SIM_NR_read, "__x64_sys_read", {"fd", (uint64_t)fd}, {"count", n});
	struct sim_file *f = fdget(t, fd);
	int64_t ret;

	if (!f) {
		ret = -SIM_EBADF;
	} else if (n && !buf) {
		ret = -SIM_EFAULT;
	} else {
		size_t take = f->len - f->pos < n ? f->len - f->pos : n;

		probe_call(&k->probe, LAYER_KERNEL, "vfs_read", {"pos", f->pos}, {"count", n});
		memcpy(buf, f->text + f->pos, take);
		f->pos += take;
		ret = (int64_t)take;
		probe_ret(&k->probe, LAYER_KERNEL, "vfs_read", {"ret", take});
	}
	syscall_exit(k, "__x64_sys_read", ret);
	return ret;
}

int64_t sys_close(struct kernel *k, int fd)
{
	struct task *t = syscall_enter(k, SIM_NR_close, "__x64_sys_close", {"fd", (uint64_t)fd});
	struct sim_file *f = fdget(t, fd);
	int64_t ret = 0;

	if (!f)
		ret = -SIM_EBADF;
	else
		*f = (struct sim_file){0};
	syscall_exit(k, "__x64_sys_close", ret);
	return ret;
}
