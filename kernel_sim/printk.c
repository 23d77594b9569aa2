/*
 * printk.c - the kernel log buffer; see printk.h.
 */
#include "printk.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/hostmem.h"
#include "../vm/panic.h"
#include "kernel.h"

void printk(struct kernel *k, const char *fmt, ...)
{
	struct printk_log *l = &k->log;
	char line[1024];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	n = strlen(line);
	if (!n || line[n - 1] != '\n') {
		line[n++] = '\n';
		line[n] = 0;
	}
	if (!l->buf) {
		l->buf = hostmem_malloc(LOG_BUF_BYTES + 1);
		if (!l->buf)
			host_oom("the kernel log");
		l->len = 0;
	}
	while (l->len + n > LOG_BUF_BYTES) {
		/* Drop the oldest line. */
		char *nl = memchr(l->buf, '\n', l->len);
		size_t cut = nl ? (size_t)(nl - l->buf) + 1 : l->len;

		memmove(l->buf, l->buf + cut, l->len - cut);
		l->len -= cut;
	}
	memcpy(l->buf + l->len, line, n + 1);
	l->len += n;
}

void printk_show(const struct kernel *k, FILE *out)
{
	if (k->log.buf)
		fwrite(k->log.buf, 1, k->log.len, out);
}

void printk_destroy(struct kernel *k)
{
	hostmem_free(k->log.buf);
	k->log.buf = NULL;
	k->log.len = 0;
}
