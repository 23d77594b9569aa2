/*
 * plugin.c - policies of one's own (plugin.h): compiling a C file into a
 * shared object with the system compiler, loading it (dlopen), finding its
 * functions (dlsym), and handing them to the adapter (libc/memlib.c) and to
 * the guard (plugin_guard.c).
 *
 * The public headers are built into this binary (.incbin below), so that
 * `lab` compiles against exactly the interface the binary implements,
 * wherever the binary was installed or copied to.
 */
#include "plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../libc/memlib_host.h"
#include "plugin_guard.h"

/* The public headers, NUL-terminated (paths from the top of the tree, where
   the build runs). */
__asm__(".section .rodata\n"
        ".balign 16\n"
        "am_policy_h_text:\n"
        ".incbin \"libc/policy.h\"\n"
        ".byte 0\n"
        ".balign 16\n"
        "am_memlib_h_text:\n"
        ".incbin \"libc/memlib.h\"\n"
        ".byte 0\n"
        ".previous\n");
extern const char am_policy_h_text[] __asm__("am_policy_h_text");
extern const char am_memlib_h_text[] __asm__("am_memlib_h_text");

struct plugin {
	void *dl;
	struct memlib *m;
	dev_t dev; /* the file opened, to know it again */
	ino_t ino;
	char *copy; /* a private copy loaded instead (the file was open), else NULL */
	struct plugin *next;
};

/* Plugins open in this process (a process-wide fact: the dynamic linker's). */
static struct plugin *open_plugins;

bool plugin_is_path(const char *name)
{
	size_t n = strlen(name);

	return strchr(name, '/') || (n > 3 && strcmp(name + n - 3, ".so") == 0);
}

const struct malloc_ops *plugin_ops(const struct plugin *p)
{
	return &p->m->ops;
}

const char *plugin_header_text(const char *name)
{
	if (strcmp(name, "policy.h") == 0)
		return am_policy_h_text;
	if (strcmp(name, "memlib.h") == 0)
		return am_memlib_h_text;
	return NULL;
}

/* ---- helpers ------------------------------------------------------------------ */

/* "aftermalloc CMD: FILE: message" (docs/reference.md, Messages), or
   "FILE: message" when no command is named (a session's plugin). */
static void file_msg(FILE *err, const char *cmd, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void file_msg(FILE *err, const char *cmd, const char *file, const char *fmt, ...)
{
	va_list ap;

	if (cmd)
		fprintf(err, "aftermalloc %s: ", cmd);
	fprintf(err, "%s: ", file);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

static int write_file(const char *path, const void *data, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	const char *p = data;

	if (fd < 0)
		return -1;
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return close(fd);
}

/* A new private directory under $TMPDIR (malloc'd path), or NULL. */
static char *temp_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *d;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (asprintf(&d, "%s/aftermalloc-XXXXXX", tmp) < 0)
		return NULL;
	if (!mkdtemp(d)) {
		free(d);
		return NULL;
	}
	return d;
}

/* rm -r of a directory this file made: its files, then itself. */
static void remove_tree(const char *dir, const char *const *rel, size_t n)
{
	char path[4096];

	for (size_t i = n; i-- > 0;) {
		snprintf(path, sizeof(path), "%s/%s", dir, rel[i]);
		remove(path);
	}
	remove(dir);
}

/* ---- compiling -------------------------------------------------------------------- */

/* Run argv; its exit status, or -1 when it could not run (errno). */
static int run_command(char *const *argv)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "aftermalloc: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/* The public headers into dir/include/aftermalloc/. 0 or -1 (errno). */
static int write_headers(const char *dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/include", dir);
	if (mkdir(path, 0700) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/include/aftermalloc", dir);
	if (mkdir(path, 0700) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/include/aftermalloc/policy.h", dir);
	if (write_file(path, am_policy_h_text, strlen(am_policy_h_text), 0600) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/include/aftermalloc/memlib.h", dir);
	return write_file(path, am_memlib_h_text, strlen(am_memlib_h_text), 0600);
}

int plugin_compile(const char *cmd, const char *src, const char *out, FILE *err)
{
	static const char *const rel[] = {"include", "include/aftermalloc",
	                                  "include/aftermalloc/policy.h",
	                                  "include/aftermalloc/memlib.h"};
	const char *cc = getenv("CC"), *cflags = getenv("CFLAGS");
	char *argv[64], *dir = temp_dir(), *flags = NULL, inc[4200];
	int argc = 0, st;

	if (!cc || !*cc)
		cc = "cc";
	if (!dir || write_headers(dir) < 0) {
		file_msg(err, cmd, src, "cannot write the headers for the compiler: %s",
		         strerror(errno));
		if (dir)
			remove_tree(dir, rel, sizeof(rel) / sizeof(rel[0]));
		free(dir);
		return -1;
	}
	snprintf(inc, sizeof(inc), "-I%s/include", dir);
	/* What `pkg-config --cflags aftermalloc` and the guide say, and -fno-plt:
	   the accessors are called through the GOT, without the PLT's jump. */
	argv[argc++] = (char *)cc;
	argv[argc++] = "-std=gnu11";
	argv[argc++] = "-O2";
	argv[argc++] = "-g";
	argv[argc++] = "-Wall";
	argv[argc++] = "-fPIC";
	argv[argc++] = "-shared";
	argv[argc++] = "-fno-plt";
	argv[argc++] = inc;
	if (cflags && *cflags && (flags = strdup(cflags)))
		for (char *save, *t = strtok_r(flags, " \t", &save); t && argc < 56;
		     t = strtok_r(NULL, " \t", &save))
			argv[argc++] = t;
	argv[argc++] = "-o";
	argv[argc++] = (char *)out;
	argv[argc++] = (char *)src;
	argv[argc] = NULL;
	fflush(NULL);
	st = run_command(argv);
	if (st < 0)
		file_msg(err, cmd, src, "cannot run the compiler %s: %s", cc, strerror(errno));
	else if (st == 127)
		file_msg(err, cmd, src, "the compiler %s could not be run", cc);
	else if (st != 0)
		file_msg(err, cmd, src, "compilation failed (%s exited with status %d)", cc, st);
	free(flags);
	remove_tree(dir, rel, sizeof(rel) / sizeof(rel[0]));
	free(dir);
	return st == 0 ? 0 : -1;
}

/* ---- loading ------------------------------------------------------------------------ */

/* A copy of path in a new temporary directory (malloc'd), or NULL. */
static char *private_copy(const char *path)
{
	char *dir = temp_dir(), *copy = NULL;
	int in = -1, out = -1;
	char buf[65536];
	ssize_t n;

	if (!dir)
		return NULL;
	if (asprintf(&copy, "%s/%s", dir, base_name(path)) < 0) {
		copy = NULL;
		goto fail;
	}
	in = open(path, O_RDONLY | O_CLOEXEC);
	out = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	if (in < 0 || out < 0)
		goto fail;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			goto fail;
	if (n < 0 || close(out) < 0) {
		out = -1;
		goto fail;
	}
	close(in);
	free(dir);
	return copy;
fail:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (copy)
		remove(copy);
	remove(dir);
	free(copy);
	free(dir);
	return NULL;
}

static void drop_copy(char *copy)
{
	char *slash;

	if (!copy)
		return;
	remove(copy);
	slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		remove(copy);
	}
	free(copy);
}

#define SYM(dl, name) dlsym((dl), (name))

static struct memlib *bind_functions(void *dl, const char *path, const char *name, const char *cmd,
                                     FILE *err)
{
	const struct malloc_ops *const *native = SYM(dl, "aftermalloc_policy");
	const int *abi;
	struct memlib **selfp;
	struct memlib_fns fn = {0};
	struct memlib *m;

	if (native) {
		abi = SYM(dl, "aftermalloc_policy_abi");
		if (!abi || *abi != AFTERMALLOC_POLICY_ABI) {
			file_msg(err, cmd, path,
			         "built against another version of aftermalloc/policy.h (interface "
			         "%d, this aftermalloc has %d): rebuild it",
			         abi ? *abi : 0, AFTERMALLOC_POLICY_ABI);
			return NULL;
		}
		m = memlib_new_native(name, *native);
		if (!m)
			file_msg(err, cmd, path,
			         "its struct malloc_ops lacks malloc, free or realloc");
		return m;
	}
	selfp = SYM(dl, "aftermalloc_self");
	abi = SYM(dl, "aftermalloc_memlib_abi");
	if (!selfp || !abi) {
		file_msg(err, cmd, path,
		         "not an aftermalloc plugin: build mm.c with #include "
		         "<aftermalloc/memlib.h> (the CS:APP shape), or export a struct malloc_ops "
		         "with AFTERMALLOC_POLICY (aftermalloc/policy.h)");
		return NULL;
	}
	if (*abi != AFTERMALLOC_MEMLIB_ABI) {
		file_msg(err, cmd, path,
		         "built against another version of aftermalloc/memlib.h (interface %d, "
		         "this aftermalloc has %d): rebuild it",
		         *abi, AFTERMALLOC_MEMLIB_ABI);
		return NULL;
	}
	*(void **)&fn.init = SYM(dl, "mm_init");
	*(void **)&fn.malloc = SYM(dl, "mm_malloc");
	*(void **)&fn.free = SYM(dl, "mm_free");
	*(void **)&fn.realloc = SYM(dl, "mm_realloc");
	*(void **)&fn.calloc = SYM(dl, "mm_calloc");
	*(void **)&fn.checkheap = SYM(dl, "mm_checkheap");
	*(void **)&fn.walk = SYM(dl, "mm_walk");
	if (!fn.init || !fn.malloc || !fn.free || !fn.realloc) {
		file_msg(err, cmd, path,
		         "no %s: a plugin defines mm_init, mm_malloc, mm_free and mm_realloc",
		         !fn.init     ? "mm_init"
		         : !fn.malloc ? "mm_malloc"
		         : !fn.free   ? "mm_free"
		                      : "mm_realloc");
		return NULL;
	}
	m = memlib_new(name, &fn);
	if (m)
		*selfp = m;
	return m;
}

struct plugin *plugin_open(const char *path, const char *name, const char *cmd, FILE *err)
{
	struct plugin *p = calloc(1, sizeof(*p));
	struct stat sb;
	const char *file = path;
	char *local = NULL;

	if (!p) {
		file_msg(err, cmd, path, "out of memory");
		return NULL;
	}
	if (stat(path, &sb) < 0) {
		file_msg(err, cmd, path, "%s", strerror(errno));
		free(p);
		return NULL;
	}
	p->dev = sb.st_dev;
	p->ino = sb.st_ino;
	for (struct plugin *o = open_plugins; o; o = o->next)
		if (o->dev == p->dev && o->ino == p->ino) {
			p->copy = private_copy(path);
			if (!p->copy) {
				file_msg(err, cmd, path, "cannot make a private copy: %s",
				         strerror(errno));
				free(p);
				return NULL;
			}
			file = p->copy;
			break;
		}
	/* dlopen reads a name without a slash as a library to search for. */
	if (!strchr(file, '/') && asprintf(&local, "./%s", file) > 0)
		file = local;
	/* A plugin that runs the guard's windows through the host: reserve them
	   now if the command did not (no re-exec so late). */
	plugin_guard_layout(false);
	p->dl = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	free(local);
	if (!p->dl) {
		const char *e = dlerror();

		size_t n = strlen(path);

		file_msg(err, cmd, path, "cannot load: %s%s", e ? e : "unknown error",
		         n > 2 && strcmp(path + n - 2, ".c") == 0
		             ? " (a C file: compile it first, aftermalloc lab FILE.c -o FILE.so)"
		         : e && strstr(e, "undefined symbol: mem_")
		             ? " (built against the lab's own memlib.h? include "
		               "<aftermalloc/memlib.h> instead)"
		             : "");
		goto fail;
	}
	p->m = bind_functions(p->dl, path, name ? name : base_name(path), cmd, err);
	if (!p->m)
		goto fail;
	if (plugin_guard_watch(p->m, p->dl) < 0) {
		file_msg(err, cmd, path, "too many plugins open at once");
		goto fail;
	}
	p->next = open_plugins;
	open_plugins = p;
	return p;
fail:
	if (p->m)
		memlib_delete(p->m);
	if (p->dl)
		dlclose(p->dl);
	drop_copy(p->copy);
	free(p);
	return NULL;
}

void plugin_close(struct plugin *p)
{
	struct plugin **pp;

	if (!p)
		return;
	for (pp = &open_plugins; *pp && *pp != p; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = p->next;
	plugin_guard_unwatch(p->m);
	memlib_delete(p->m);
	dlclose(p->dl);
	drop_copy(p->copy);
	free(p);
}
