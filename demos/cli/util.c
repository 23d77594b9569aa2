/*
 * util.c - small helpers of the command line: sizes as users write them
 * (DESIGN.md, The command: "Sizes take decimal, 0x hex and K/M/G suffixes"),
 * and the one form of the commands' messages.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
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

int utf8_char(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c, min;
	int len;

	if (n == 0)
		return 0;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		len = 2, c = u[0] & 0x1f, min = 0x80;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		len = 3, c = u[0] & 0x0f, min = 0x800;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		len = 4, c = u[0] & 0x07, min = 0x10000;
	} else {
		return 0; /* a continuation byte, an overlong lead, or past U+10FFFF */
	}
	if ((size_t)len > n)
		return 0;
	for (int i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (u[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* A character a terminal acts on: C0 (but tab), DEL, C1 (U+0080-U+009F). */
static bool is_control(uint32_t c)
{
	return (c < 0x20 && c != '\t') || (c >= 0x7f && c <= 0x9f);
}

char *display_name(const char *s)
{
	size_t n = strlen(s), at = 0;
	char *out = malloc((n < DISPLAY_NAME_MAX ? n : DISPLAY_NAME_MAX) + 4);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		uint32_t c;
		int l = utf8_char(s + i, n - i, &c);

		if (at + (l > 0 ? (size_t)l : 1) > DISPLAY_NAME_MAX) {
			memcpy(out + at, "...", 3);
			at += 3;
			break;
		}
		if (l == 0 || is_control(c)) {
			out[at++] = '?';
			i++;
			continue;
		}
		memcpy(out + at, s + i, (size_t)l);
		at += (size_t)l;
		i += (size_t)l;
	}
	out[at] = 0;
	return out;
}

const char *text_bad_byte(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t c;
		int l = utf8_char(s + i, n - i, &c);

		if (l == 0)
			return s + i;
		/* A CR is the half of a CRLF line end, not a way to overwrite the
		   line on a terminal. */
		if (c == '\r' && (i + 1 == n || s[i + 1] == '\n')) {
			i++;
			continue;
		}
		if (c != '\n' && is_control(c))
			return s + i;
		i += (size_t)l;
	}
	return NULL;
}
