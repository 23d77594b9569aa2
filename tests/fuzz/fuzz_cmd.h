/*
 * fuzz_cmd.h - harnesses that reach execution: whole commands run on one
 * input, in the process, as a user runs them (shared, like fuzz_decode.h,
 * by the libFuzzer harnesses and tests/test_regress.c).
 *
 *   fuzz_run_one      a whole script run by `aftermalloc run`: the first
 *                     byte chooses the output paths (text, --json, --trace,
 *                     --events, --perfetto, --check) and the policy, the
 *                     rest is the script. Small simulated RAM (8 MiB) and a
 *                     statement budget (--max-statements 2000) bound it.
 *   fuzz_options_one  a command line: the first byte chooses the command
 *                     (run, replay, quiz, gen, step), the rest are its
 *                     arguments, one a line. They run in a scratch
 *                     directory holding s.ams and t.rep; an argument with a
 *                     '/' has it turned into '_' and ".so" into ".sx", so no
 *                     file outside it is read or written and no plugin is
 *                     loaded; a number above 99999, read as the commands
 *                     read sizes and counts (0x hex, K/M/G suffixes),
 *                     skips the input (no command runs for minutes on one).
 *
 * Standard input is /dev/null and standard output /dev/null during a
 * command; the outputs are exercised, never looked at. A finding is a
 * crash, a sanitizer report, a panic (the simulator's own invariants), or
 * an exit status other than 0, 1 and 2; each returns the number of
 * findings after describing them on err.
 */
#ifndef TESTS_FUZZ_CMD_H
#define TESTS_FUZZ_CMD_H

#include <ctype.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../demos/cli/commands.h"

#define FUZZ_CMD_UNUSED __attribute__((unused))

/* Run fn(argc, argv) with stdin and stdout on /dev/null; its status. */
static int fuzz_cmd_call(int (*fn)(int, char **), int argc, char **argv)
{
	int in = dup(0), out = dup(1), null = open("/dev/null", O_RDWR), rc;

	if (in < 0 || out < 0 || null < 0)
		abort();
	fflush(stdout);
	dup2(null, 0);
	dup2(null, 1);
	close(null);
	clearerr(stdin);
	rc = fn(argc, argv);
	fflush(stdout);
	dup2(in, 0);
	dup2(out, 1);
	close(in);
	close(out);
	clearerr(stdin);
	return rc;
}

static int fuzz_cmd_status(const char *what, int rc, FILE *err)
{
	if (rc >= 0 && rc <= 2)
		return 0;
	fprintf(err, "%s: exit status %d\n", what, rc);
	return 1;
}

/* ---- a whole script ------------------------------------------------------ */

static FUZZ_CMD_UNUSED int fuzz_run_one(const uint8_t *data, size_t size, FILE *err)
{
	static const char *const policies[] = {"glibc", "seed", "firstfit", "nextfit",
	                                       "bestfit", "best"};
	char path[64], *argv[24];
	uint8_t flags;
	int fd, argc = 0, rc;

	if (size == 0)
		return 0;
	flags = data[0];
	fd = memfd_create("fuzz.ams", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	argv[argc++] = "run";
	argv[argc++] = path;
	argv[argc++] = "--phys";
	argv[argc++] = "8M";
	argv[argc++] = "--max-statements";
	argv[argc++] = "2000";
	argv[argc++] = "--malloc";
	argv[argc++] = (char *)policies[(flags >> 5) % 6];
	if (flags & 1)
		argv[argc++] = "--json";
	if (flags & 2)
		argv[argc++] = "--trace";
	if (flags & 4) {
		argv[argc++] = "--events";
		argv[argc++] = "/dev/null";
	}
	if (flags & 8) {
		argv[argc++] = "--perfetto";
		argv[argc++] = "/dev/null";
	}
	if (flags & 16)
		argv[argc++] = "--check";
	argv[argc] = NULL;
	rc = fuzz_cmd_call(cmd_run, argc, argv);
	close(fd);
	return fuzz_cmd_status("run", rc, err);
}

/* ---- a command line ------------------------------------------------------ */

static char fuzz_cmd_scratch[] = "/tmp/aftermalloc-fuzz-XXXXXX";

static int fuzz_cmd_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

/* At exit: the scratch directory and whatever the commands wrote into it. */
static void fuzz_cmd_cleanup(void)
{
	nftw(fuzz_cmd_scratch, fuzz_cmd_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* The scratch directory: s.ams and t.rep, made once, removed at exit. */
static const char *fuzz_cmd_dir(void)
{
	char *dir = fuzz_cmd_scratch;
	static bool made;
	char p[64];
	FILE *f;

	if (made)
		return dir;
	if (!mkdtemp(dir))
		abort();
	atexit(fuzz_cmd_cleanup);
	snprintf(p, sizeof(p), "%s/s.ams", dir);
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs("p = malloc 100\nstore p 0 1 100\nfor i = 0 to 3\n  q[i] = malloc 4K\nend\n"
	      "free p\nshow heap\nexpect faults >= 0\n",
	      f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/t.rep", dir);
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs("0\n2\n4\n1\na 0 100\na 1 5000\nr 0 300\nf 1\n", f);
	fclose(f);
	made = true;
	return dir;
}

/*
 * Whether the number at s (a digit) is above FUZZ_CMD_MAX_NUMBER as the
 * commands read a size or a count (parse_size: decimal or 0x hex, then K,
 * M or G): `gen -n 99m` runs for minutes, and a harness's input must not.
 */
#define FUZZ_CMD_MAX_NUMBER 99999
static bool fuzz_cmd_number_too_big(const char *s)
{
	uint64_t v = 0;
	unsigned base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isxdigit((unsigned char)s[2])) {
		base = 16;
		s += 2;
	}
	for (; base == 16 ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s); s++) {
		v = v * base + (unsigned)(isdigit((unsigned char)*s) ? *s - '0'
		                                                     : tolower((unsigned char)*s) - 'a' + 10);
		if (v > FUZZ_CMD_MAX_NUMBER)
			return true;
	}
	switch (tolower((unsigned char)*s)) {
	case 'k': v <<= 10; break;
	case 'm': v <<= 20; break;
	case 'g': v <<= 30; break;
	default: break;
	}
	return v > FUZZ_CMD_MAX_NUMBER;
}

static FUZZ_CMD_UNUSED int fuzz_options_one(const uint8_t *data, size_t size, FILE *err)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
	    {"run", cmd_run}, {"replay", cmd_replay}, {"quiz", cmd_quiz},
	    {"gen", cmd_gen}, {"step", cmd_step},
	};
	char *text, *argv[32], *save = NULL;
	int argc = 0, rc, here;
	bool in_number = false;
	size_t c;

	if (size == 0)
		return 0;
	c = data[0] % (sizeof(cmds) / sizeof(cmds[0]));
	text = malloc(size);
	if (!text)
		abort();
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	for (size_t i = 0; i + 1 < size; i++) {
		bool digit = text[i] >= '0' && text[i] <= '9';

		if (digit && !in_number && fuzz_cmd_number_too_big(text + i)) {
			free(text);
			return 0;
		}
		in_number = digit;
		if (text[i] == '/')
			text[i] = '_';
	}
	argv[argc++] = (char *)cmds[c].name;
	for (char *a = strtok_r(text, "\n", &save); a && argc < 31; a = strtok_r(NULL, "\n", &save)) {
		char *so = strstr(a, ".so");

		if (so)
			so[2] = 'x';
		argv[argc++] = a;
	}
	argv[argc] = NULL;
	here = open(".", O_RDONLY | O_DIRECTORY);
	if (here < 0 || chdir(fuzz_cmd_dir()) < 0)
		abort();
	rc = fuzz_cmd_call(cmds[c].fn, argc, argv);
	if (fchdir(here) < 0)
		abort();
	close(here);
	free(text);
	return fuzz_cmd_status(cmds[c].name, rc, err);
}

#endif
