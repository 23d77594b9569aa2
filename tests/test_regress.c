/*
 * test_regress.c - every input a fuzz harness ever crashed on, replayed
 * through the same decoding code (tests/fuzz/fuzz_decode.h), plus the seed
 * corpora: none may find anything any more.
 *
 * Inputs live in tests/fuzz/regress/NAME/ (one file each, named after what
 * they found) and tests/fuzz/corpus/NAME/, NAME being script, trace or ops.
 * `make fuzz` tells where a new crash was written: copy it into regress/NAME/
 * once the bug is fixed. AM_ROOT is the project root ("." without it).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_cmd.h"
#include "fuzz/fuzz_decode.h"

typedef int (*fuzz_one_t)(const uint8_t *data, size_t size, FILE *err);

static const char *root(void)
{
	const char *r = getenv("AM_ROOT");

	return r ? r : ".";
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, r;

	cr_assert_not_null(f, "%s", path);
	do {
		if (cap - n < 4096)
			buf = realloc(buf, cap = cap * 2 + 4096);
		cr_assert_not_null(buf);
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*len = n;
	return buf;
}

/* Replay every file of tests/fuzz/SUB/NAME/; returns how many. */
static unsigned replay_dir(const char *sub, const char *name, fuzz_one_t one)
{
	char dir[4096], path[8192];
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/%s/%s", root(), sub, name);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		uint8_t *data;
		size_t len;
		char *msg = NULL;
		size_t msg_len = 0;
		FILE *err;
		int bad;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		data = slurp(path, &len);
		err = open_memstream(&msg, &msg_len);
		bad = one(data, len, err);
		fclose(err);
		cr_expect_eq(bad, 0, "%s: %s", path, msg);
		free(msg);
		free(data);
		n++;
	}
	closedir(d);
	return n;
}

Test(regress, script_inputs_that_crashed_the_parser_parse_or_fail_cleanly)
{
	replay_dir("regress", "script", fuzz_script_one);
	cr_assert_gt(replay_dir("corpus", "script", fuzz_script_one), 0, "no script corpus");
}

Test(regress, trace_inputs_that_crashed_the_reader_read_or_fail_cleanly)
{
	replay_dir("regress", "trace", fuzz_trace_one);
	cr_assert_gt(replay_dir("corpus", "trace", fuzz_trace_one), 0, "no trace corpus");
}

Test(regress, operation_sequences_that_broke_an_invariant_now_keep_them, .timeout = 60)
{
	replay_dir("regress", "ops", fuzz_ops_one);
	cr_assert_gt(replay_dir("corpus", "ops", fuzz_ops_one), 0, "no ops corpus");
}

/* The harnesses that reach execution (fuzz_cmd.h): whole scripts through
   `run` with every output path, and command lines of run, replay, quiz, gen
   and step; their corpora hold every demo and each reproduction of issue 13
   (a wrapping address, a heap corrupted under --check, a closed pipe's
   outputs, escapes in comments). This is the fuzzers' CI-sized smoke: every
   input, in the normal and the sanitizer build. */
Test(regress, whole_scripts_run_with_every_output_path, .timeout = 240)
{
	replay_dir("regress", "run", fuzz_run_one);
	cr_assert_gt(replay_dir("corpus", "run", fuzz_run_one), 20, "no run corpus");
}

Test(regress, command_lines_of_every_command_run_or_fail_cleanly, .timeout = 120)
{
	replay_dir("regress", "options", fuzz_options_one);
	cr_assert_gt(replay_dir("corpus", "options", fuzz_options_one), 10,
	             "no options corpus");
}

/* The decoder itself: an empty input, and every single opcode alone, run
   cleanly under every policy (the fuzzer's starting points). */
Test(regress, every_opcode_alone_under_every_policy_keeps_the_invariants)
{
	for (uint8_t pol = 0; malloc_policies[pol]; pol++)
		for (uint8_t op = 0; op < FZ__COUNT; op++) {
			uint8_t in[8] = {pol, 0x04, op, 1, 2, 3, 4, 5};
			char *msg = NULL;
			size_t msg_len = 0;
			FILE *err = open_memstream(&msg, &msg_len);
			int bad = fuzz_ops_one(in, sizeof(in), err);

			fclose(err);
			cr_expect_eq(bad, 0, "policy %s, op %s: %s", malloc_policies[pol]->name,
			             fz_op_names[op], msg);
			free(msg);
		}
	cr_assert_eq(fuzz_ops_one((const uint8_t *)"", 0, stderr), 0);
}
