/*
 * test_limits.c - what the command line costs the host is bounded, whatever
 * it is given: input that never ends (/dev/zero, a script past its size
 * limit) stops with FILE:LINE, a replay's simulated RAM is bounded by
 * default and a trace that needs more says so, replays and every demo run
 * under an address-space limit (ulimit -v), and long scripts parse in
 * linear time (their arrays grow geometrically).
 *
 * The ulimit cases run the normal build only: a sanitizer's shadow memory
 * alone is terabytes of address space.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demos/cli/script.h"
#include "support_bin.h"
#include "vm/uthash_host.h"

static void assert_exit2_naming(const char *const *args, const char *input, const char *want)
{
	struct bin_out r = bin_run(args, input);

	cr_expect_not(r.signaled, "%s %s: signal %d", args[0], args[1], r.status - 128);
	cr_expect_eq(r.status, 2, "%s %s: status %d: %s", args[0], args[1], r.status, r.err);
	cr_expect(strstr(r.err, want), "%s %s: stderr has no \"%s\": %s", args[0], args[1], want,
	          r.err);
	cr_expect_eq(r.out_len, 0, "%s: %s", args[0], r.out);
	bin_out_free(&r);
}

Test(limits, endless_input_stops_at_a_line, .timeout = 60)
{
	const char *const run_zero[] = {"run", "/dev/zero", NULL};
	const char *const replay_zero[] = {"replay", "/dev/zero", NULL};
	const char *const quiz_zero[] = {"quiz", "/dev/zero", "--answers", NULL};

	assert_exit2_naming(run_zero, NULL, "/dev/zero:1: not a text file (NUL byte)");
	assert_exit2_naming(replay_zero, NULL, "/dev/zero:1: not a text file (NUL byte)");
	assert_exit2_naming(quiz_zero, NULL, "/dev/zero:1: not a text file (NUL byte)");
	/* run - </dev/zero: bin_run's input is a file; /dev/zero itself is
	   read through the shell. */
	{
		char cmd[4096];
		int rc;

		snprintf(cmd, sizeof(cmd),
		         "\"%s\" run - </dev/zero >/dev/null 2>/tmp/test_limits_err.$$; rc=$?; "
		         "grep -q '^<stdin>:1: not a text file (NUL byte)$' /tmp/test_limits_err.$$ "
		         "&& [ $rc = 2 ]; r=$?; rm -f /tmp/test_limits_err.$$; exit $r",
		         bin_path());
		rc = system(cmd);
		cr_expect_eq(rc, 0, "run - </dev/zero: not stopped at <stdin>:1 with exit 2");
	}
}

/* Text without a NUL that goes on: cut at SCRIPT_MAX_BYTES (64 MiB). Long
   lines (comments), so that the statements stay under their own limit. */
Test(limits, a_script_past_64_mib_stops_where_the_limit_falls, .timeout = 60)
{
	size_t line_len = 64, n = (64u << 20) + 4 * line_len;
	char *text = malloc(n + 1);
	const char *const args[] = {"run", "-", NULL};
	char want[64];

	cr_assert_not_null(text);
	for (size_t i = 0; i < n; i += line_len) {
		memset(text + i, ' ', line_len);
		memcpy(text + i, "x = 1 # padding", 15);
		text[i + line_len - 1] = '\n';
	}
	text[n] = 0;
	/* The limit falls in line 64 MiB / 64 + 1. */
	snprintf(want, sizeof(want), "<stdin>:%zu: the script is longer than 64 MiB",
	         (size_t)(64u << 20) / line_len + 1);
	assert_exit2_naming(args, text, want);
	free(text);
}

/* Short statements under 64 MiB: stopped at SCRIPT_MAX_STMTS, on the line
   of the first one past it, before the host holds more. */
Test(limits, a_script_of_too_many_statements_names_the_line, .timeout = 60)
{
	size_t nr = SCRIPT_MAX_STMTS + 10, n = nr * 4;
	char *text = malloc(n + 1);
	const char *const args[] = {"run", "-", NULL};
	char want[96];

	cr_assert_not_null(text);
	for (size_t i = 0; i < n; i += 4)
		memcpy(text + i, "x=1\n", 4);
	text[n] = 0;
	snprintf(want, sizeof(want), "<stdin>:%u: more than %u statements in one script",
	         SCRIPT_MAX_STMTS + 1, SCRIPT_MAX_STMTS);
	assert_exit2_naming(args, text, want);
	free(text);
}

Test(limits, a_replay_needing_more_than_the_default_ram_says_so, .timeout = 60)
{
	static const char text[] = "0\n1\n1\n1\na 0 3000000000\n";
	char *path = bin_temp_file(text, sizeof(text) - 1, ".rep");
	const char *const args[] = {"replay", path, NULL};
	const char *const more[] = {"replay", path, "--phys", "4G", "--no-check", NULL};
	struct bin_out r = bin_run(args, NULL);

	cr_expect_eq(r.status, 1, "status %d: %s", r.status, r.err);
	cr_expect(strstr(r.err, "malloc(3000000000) returned NULL (simulated RAM 2048 MiB, the "
	                        "default; --phys raises it)"),
	          "%s", r.err);
	bin_out_free(&r);
	/* --phys raises it (no payload written: --no-check). */
	r = bin_run(more, NULL);
	cr_expect_eq(r.status, 0, "--phys 4G: status %d: %s", r.status, r.err);
	bin_out_free(&r);
	unlink(path);
	free(path);
}

/* Run sh -c script with $BIN set; 0 when it exits 0. */
static __attribute__((unused)) int sh(const char *script)
{
	char *cmd;
	int rc;

	cr_assert_geq(asprintf(&cmd, "BIN='%s'; cd '%s' && %s", bin_path(), bin_root(), script),
	              0);
	rc = system(cmd);
	free(cmd);
	return rc;
}

Test(limits, replays_run_under_ulimit_v_4g, .timeout = 120)
{
#ifdef __SANITIZE_ADDRESS__
	cr_skip_test("a sanitizer's shadow memory does not fit any ulimit -v");
#else
	/* Every replay reserves its 2 GiB of simulated RAM at boot. */
	cr_expect_eq(sh("ulimit -v 4194304 && "
	                "\"$BIN\" replay demos/traces/malloclab/amptjp-bal.rep >/dev/null && "
	                "\"$BIN\" replay --malloc seed demos/traces/malloclab/short1-bal.rep "
	                ">/dev/null"),
	             0, "a replay failed under ulimit -v 4G");
#endif
}

Test(limits, every_demo_runs_under_ulimit_v_1g, .timeout = 240)
{
#ifdef __SANITIZE_ADDRESS__
	cr_skip_test("a sanitizer's shadow memory does not fit any ulimit -v");
#else
	/* The demos end with 0, those of demos/crash/ with 1 (killed as expected);
	   anything else (2: a boot that cannot reserve its RAM) fails. */
	cr_expect_eq(sh("ulimit -v 1048576 && for f in demos/*.ams demos/pressure/*.ams; do "
	                "\"$BIN\" run \"$f\" >/dev/null 2>&1 || { echo \"$f: $?\"; exit 1; }; done; "
	                "for f in demos/crash/*.ams; do "
	                "\"$BIN\" run \"$f\" >/dev/null 2>&1; [ $? = 1 ] || { echo \"$f\"; exit 1; }; "
	                "done"),
	             0, "a demo failed under ulimit -v 1G");
#endif
}

/* The variables of a script are a uthash table; the names v0, v1, ... that
   make it double its buckets to 32768 (512 KiB) on the last one: counted
   with the same table, so that the test follows uthash's hash and growth. */
struct var_key {
	char name[16];
	UT_hash_handle hh;
};

static __attribute__((unused)) size_t vars_to_grow_to(unsigned buckets)
{
	struct var_key *keys = calloc(buckets * 10, sizeof(*keys)), *table = NULL;
	size_t n = 0;

	cr_assert_not_null(keys);
	while (!table || table->hh.tbl->num_buckets < buckets) {
		cr_assert_lt(n, (size_t)buckets * 10, "uthash never grew to %u buckets", buckets);
		snprintf(keys[n].name, sizeof(keys[n].name), "v%zu", n);
		HASH_ADD_KEYPTR(hh, table, keys[n].name, strlen(keys[n].name), &keys[n]);
		n++;
	}
	HASH_CLEAR(hh, table);
	free(keys);
	return n;
}

/* The host refusing memory to a hash table (uthash_fatal) is status 2 and a
   message naming it, as every host memory failure; uthash's own was exit(-1):
   status 255 and nothing on stderr. The address-space limit is found by
   bisection: the least that parses the whole script (up to its last line,
   `frob`, a parse error), less 256 KiB, falls inside the 512 KiB the last
   variable's table growth asks for, after every smaller allocation before it
   succeeded. */
Test(limits, host_memory_refused_to_a_hash_table_is_status_2_with_a_message, .timeout = 60)
{
#ifdef __SANITIZE_ADDRESS__
	cr_skip_test("a sanitizer's shadow memory does not fit any address-space limit");
#else
	size_t n = vars_to_grow_to(32768), lo = 0, hi = (size_t)1 << 30, len = 0;
	char *text = malloc(n * 16 + 8), parsed[64];
	const char *const args[] = {"run", "-", NULL};
	struct bin_out r;

	cr_assert_not_null(text);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "v%zu=1\n", i);
	strcpy(text + len, "frob\n");
	snprintf(parsed, sizeof(parsed), "<stdin>:%zu: unknown statement 'frob'", n + 1);
	r = bin_run_as(args, text, hi);
	cr_assert(strstr(r.err, parsed), "under 1 GiB: status %d: %s", r.status, r.err);
	bin_out_free(&r);
	while (hi - lo > (64u << 10)) {
		size_t mid = lo + (hi - lo) / 2;

		r = bin_run_as(args, text, mid);
		if (strstr(r.err, parsed))
			hi = mid;
		else
			lo = mid;
		bin_out_free(&r);
	}
	r = bin_run_as(args, text, hi - (256u << 10));
	cr_expect_not(r.signaled, "limit %zu KiB: signal %d: %s", hi / 1024 - 256, r.status - 128,
	              r.err);
	cr_expect_eq(r.status, 2, "limit %zu KiB: status %d: %s", hi / 1024 - 256, r.status, r.err);
	cr_expect(strstr(r.err, "aftermalloc: out of host memory for a hash table "
	                        "(demos/cli/script_stmt.c:"),
	          "limit %zu KiB: stderr: %s", hi / 1024 - 256, r.err);
	bin_out_free(&r);
	free(text);
#endif
}

/* 50,000 lines with as many variables: linear growth parses it at once
   (one entry more per line took 97 s under ASan). */
Test(limits, a_script_of_50000_lines_parses_and_runs, .timeout = 120)
{
	size_t n = 50000;
	char *text = malloc(n * 32), *p = text;
	const char *const args[] = {"run", "-", "--json", NULL};
	struct bin_out r;

	cr_assert_not_null(text);
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "v%zu = %zu\n", i, i);
	p += sprintf(p, "expect v49999 == 49999\n");
	r = bin_run(args, text);
	cr_expect_eq(r.status, 0, "status %d: %.300s", r.status, r.err);
	bin_out_free(&r);
	free(text);
}
