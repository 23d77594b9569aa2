/*
 * util.c - small helpers of the command line: sizes as users write them
 * (DESIGN.md, The command: "Sizes take decimal, 0x hex and K/M/G suffixes"),
 * and the one form of the commands' messages.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>

#include "commands.h"

/*
 * "4096", "0x1000", "4K", "0x10K", "1M", "2G": a suffix K, M or G is a power
 * of 1024, optionally followed by "B" or "iB", all in either case ("4k",
 * "4kb", "4KiB", "64mib" and "64MB" are the same kind of size; docs/reference.md
 * promises it so). No sign, no spaces, no overflow: 0 and *out, or -1 and
 * *out untouched.
 */
int parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, base = 10, shift = 0;
	const char *p = s;
	int digits = 0;

	if (!s || !*s)
		return -1;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (; *p; p++) {
		unsigned d;

		if (isdigit((unsigned char)*p))
			d = (unsigned)(*p - '0');
		else if (base == 16 && isxdigit((unsigned char)*p))
			d = (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
		digits++;
	}
	if (!digits)
		return -1;
	switch (*p) {
	case 'k':
	case 'K':
		shift = 10;
		p++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		p++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		p++;
		break;
	default:
		break;
	}
	if (shift) {
		if (tolower((unsigned char)p[0]) == 'i' && tolower((unsigned char)p[1]) == 'b')
			p += 2;
		else if (tolower((unsigned char)p[0]) == 'b')
			p++;
		if (v > (UINT64_MAX >> shift))
			return -1;
		v <<= shift;
	}
	if (*p)
		return -1;
	*out = v;
	return 0;
}

int vusage_error(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "aftermalloc %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry 'aftermalloc %s --help'.\n", cmd);
	return EXIT_BAD_INPUT;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vusage_error(cmd, fmt, ap);
	va_end(ap);
	return EXIT_BAD_INPUT;
}

int cmd_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "aftermalloc %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_BAD_INPUT;
}
