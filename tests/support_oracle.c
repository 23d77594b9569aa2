/*
 * support_oracle.c - running host oracles and comparing with the
 * simulation (see support_oracle.h).
 */
#include "tests/support_oracle.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "kernel_sim/proc.h"
#include "libc/glibc_malloc.h"
#include "tests/support_bin.h"

const char *oracle_host_dir(void)
{
	const char *h = getenv("AM_HOST");

	cr_assert(h && *h, "AM_HOST must name the folder of the host programs (make test sets it)");
	return h;
}

char *oracle_run(const char *name, const char *const *args)
{
	char cmd[4096];
	size_t n, len;
	char *out;
	FILE *p;
	int status;

	n = (size_t)snprintf(cmd, sizeof(cmd), "%s/%s", oracle_host_dir(), name);
	for (unsigned i = 0; args && args[i]; i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, " %s", args[i]);
	cr_assert_lt(n, sizeof(cmd));
	p = popen(cmd, "r");
	cr_assert_not_null(p, "cannot run %s", cmd);
	out = bin_slurp(fileno(p), &len);
	status = pclose(p);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exited with status %d", cmd,
	          status);
	cr_assert_gt(len, 0, "%s printed nothing", cmd);
	return out;
}

/* The value of key in key=value lines, into val; false when absent. */
static bool value_of(const char *text, const char *key, char *val, size_t n)
{
	size_t klen = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (strncmp(l, key, klen) == 0 && l[klen] == '=') {
			size_t vlen = strcspn(l + klen + 1, "\n");

			snprintf(val, n, "%.*s", (int)vlen, l + klen + 1);
			return true;
		}
	}
	return false;
}

static long long_of(const char *text, const char *key)
{
	char v[64];

	cr_assert(value_of(text, key, v, sizeof(v)), "host_config printed no %s", key);
	return strtol(v, NULL, 10);
}

const struct oracle_host *oracle_host(void)
{
	static struct oracle_host h;
	static bool probed;

	if (!probed) {
		char *out = oracle_run("host_config", NULL);

		h.page_size = long_of(out, "host_page_size");
		h.zero_page = (int)long_of(out, "host_zero_page");
		h.overcommit = long_of(out, "host_overcommit");
		h.aslr = long_of(out, "host_aslr");
		cr_assert(value_of(out, "host_thp", h.thp, sizeof(h.thp)));
		snprintf(h.text, sizeof(h.text), "%s", out);
		free(out);
		probed = true;
	}
	if (h.page_size != 4096)
		cr_skip_test("this host's pages are %ld bytes; the simulation models 4 KiB pages",
		             h.page_size);
	if (h.zero_page < 0)
		cr_skip_test("the zero-page probe fit neither behaviour on this host:\n%s", h.text);
	return &h;
}

void oracle_kernel_opts(struct kernel_opts *o)
{
	kernel_default_opts(o);
	o->zero_page = oracle_host()->zero_page == 1;
}

/* One line of text at *p (advanced past it), into buf without the newline. */
static bool next_line(const char **p, char *buf, size_t n)
{
	size_t len;

	if (!*p || !**p)
		return false;
	len = strcspn(*p, "\n");
	snprintf(buf, n, "%.*s", (int)len, *p);
	*p += len + ((*p)[len] == '\n');
	return true;
}

void oracle_assert_same(const char *what, const char *sim, const char *real)
{
	char msg[8192], a[256], b[256];
	size_t n = 0;
	unsigned bad = 0;
	const char *ps = sim, *pr = real;

	if (strcmp(sim, real) == 0)
		return;
	for (;;) {
		bool hs = next_line(&ps, a, sizeof(a)), hr = next_line(&pr, b, sizeof(b));
		char *ka, *kb;

		if (!hs && !hr)
			break;
		if (hs && hr && strcmp(a, b) == 0)
			continue;
		bad++;
		if (n >= sizeof(msg) - 300)
			continue;
		ka = hs ? strchr(a, '=') : NULL;
		kb = hr ? strchr(b, '=') : NULL;
		if (ka && kb && ka - a == kb - b && strncmp(a, b, (size_t)(ka - a)) == 0)
			n += (size_t)snprintf(msg + n, sizeof(msg) - n,
			                      "  %.*s: simulated %s, real %s\n", (int)(ka - a), a,
			                      ka + 1, kb + 1);
		else
			n += (size_t)snprintf(msg + n, sizeof(msg) - n,
			                      "  simulated '%s', real '%s'\n", hs ? a : "(none)",
			                      hr ? b : "(none)");
	}
	cr_assert_fail("%s: %u line(s) of the simulation and of the real kernel differ:\n%s"
	               "on this host:\n%s",
	               what, bad, msg, oracle_host()->text);
}

void oracle_printf(struct oracle_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->text + o->len, sizeof(o->text) - o->len, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < sizeof(o->text) - o->len,
	          "the simulated side's output is full at %zu bytes", o->len);
	o->len += (size_t)n;
}

void oracle_put(struct oracle_out *o, const char *key, long val)
{
	oracle_printf(o, "%s=%ld\n", key, val);
}

void oracle_put_lines(struct oracle_out *o, const char *tag, const char *text, size_t len)
{
	size_t i = 0;

	for (int n = 1; i < len; n++) {
		size_t e = i;

		while (e < len && text[e] != '\n')
			e++;
		oracle_printf(o, "%s.%d=%.*s\n", tag, n, (int)(e - i), text + i);
		i = e + 1;
	}
}

void oracle_put_maps(struct oracle_out *o, struct kernel *k, struct task *t, const char *key,
                     vaddr_t lo, vaddr_t hi)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int i = 0;

	cr_assert_not_null(f);
	proc_maps(k, t, f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a, b;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s", &a, &b, perms) == 3 && a < hi && b > lo)
			oracle_printf(o, "%s.%d=%#llx %s\n", key, ++i, b - a, perms);
	}
	free(text);
	oracle_put(o, key, i);
}

void oracle_put_mallinfo(struct oracle_out *o, struct libc *lc, const char *tag)
{
	struct glibc_mallinfo2 m;

	cr_assert(glibc_mallinfo2_view(lc, &m));
	oracle_printf(o, "%s.arena=%ld\n%s.uordblks=%ld\n%s.fordblks=%ld\n%s.ordblks=%ld\n", tag,
	              (long)m.arena, tag, (long)m.uordblks, tag, (long)m.fordblks, tag,
	              (long)m.ordblks);
}
