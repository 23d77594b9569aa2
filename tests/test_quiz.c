/*
 * test_quiz.c - `aftermalloc quiz` (demos/step/quiz.c) from outside: answers piped
 * in one a line are scored against the truth of a deterministic re-run, the
 * truth comes with a reason from the narration table, --answers reads
 * nothing, the end of input and a killed program end the quiz cleanly.
 *
 * AM_BIN is the binary (make test sets it to build/aftermalloc) and AM_ROOT
 * the project root; without them, build/aftermalloc and "." are used.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support_bin.h"

/* `aftermalloc quiz SCRIPT [extra]` with input on stdin. */
static struct bin_out quiz(const char *script, const char *extra, const char *input)
{
	return bin_run((const char *[]){"quiz", script, extra, NULL}, input);
}

static const char *demo(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/demos/%s", bin_root(), name);
	return path;
}

/* first-touch.ams: faults, sbrk, faults, TLB, buddy order, faults, faults, TLB. */
static const char first_touch_right[] = "0\n0x555555559000\n1\nmiss\n0\n0\n0\nhit\n";

Test(quiz, answers_prints_every_question_with_its_answer_and_reads_nothing, .timeout = 30)
{
	struct bin_out p = quiz(demo("first-touch.ams"), "--answers", "1\n2\n3\n");

	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(strstr(p.out, "Q1. How many page faults will it take?\n      answer: 0\n"), "%s",
	          p.out);
	cr_assert(strstr(p.out, "What will sbrk return? (the break is 0x555555559000 now)\n"
	                        "      answer: 0x555555559000\n"),
	          "%s", p.out);
	cr_assert(
	    strstr(p.out, "The store at 0x555555559000: TLB hit or miss?\n      answer: miss"));
	cr_assert(strstr(p.out, "The load at 0x555555559000: TLB hit or miss?\n      answer: hit"));
	cr_assert(strstr(p.out, "answer: order 0"));
	/* each truth comes with its reason from the narration */
	cr_assert(strstr(p.out, "do_anonymous_page (mm/memory.c): the page was never touched"));
	cr_assert(strstr(p.out, "__sbrk (misc/sbrk.c): moves the break"));
	cr_assert(strstr(p.out, "8 questions."));
	cr_assert_null(strstr(p.out, "  > "), "--answers read stdin");
	cr_assert_null(strstr(p.out, "score"));
	bin_out_free(&p);
}

Test(quiz, right_answers_score_every_point, .timeout = 30)
{
	struct bin_out p = quiz(demo("first-touch.ams"), NULL, first_touch_right);

	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(strstr(p.out, "score: 8 of 8 answered right (8 questions)"), "%s", p.out);
	cr_assert_null(strstr(p.out, "no, it is"));
	bin_out_free(&p);
}

Test(quiz, wrong_answers_get_the_truth_and_no_point, .timeout = 30)
{
	struct bin_out p = quiz(demo("first-touch.ams"), NULL, "5\n5\n5\nhit\n5\n5\n5\nmiss\n");

	cr_assert_eq(p.status, 0);
	cr_assert(strstr(p.out, "score: 0 of 8 answered right"), "%s", p.out);
	cr_assert(strstr(p.out, "  > 5\n      no, it is: 0x555555559000\n"), "%s", p.out);
	cr_assert(strstr(p.out, "  > hit\n      no, it is: miss\n"), "%s", p.out);
	bin_out_free(&p);
}

Test(quiz, the_end_of_input_shows_the_rest_unscored, .timeout = 30)
{
	struct bin_out p = quiz(demo("first-touch.ams"), NULL, "0\n");

	cr_assert_eq(p.status, 0);
	cr_assert(strstr(p.out, "end of input"), "%s", p.out);
	cr_assert(strstr(p.out, "score: 1 of 1 answered right (8 questions)"), "%s", p.out);
	bin_out_free(&p);
}

Test(quiz, malloc_and_free_are_asked_about_brk_mmap_and_munmap, .timeout = 30)
{
	char *path = bin_script_file("policy glibc\np = malloc 100\nq = malloc 200000\nfree q\n"
	                             "r = malloc 100\n");
	struct bin_out p = quiz(path, "--answers", "");

	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(strstr(p.out, "Will malloc make a system call: brk, mmap, munmap, or none?\n"
	                        "      answer: brk\n"),
	          "%s", p.out);
	cr_assert(strstr(p.out, "sysmalloc (malloc/malloc.c)"));
	cr_assert(strstr(p.out, "answer: mmap\n"), "%s", p.out);
	cr_assert(strstr(p.out, "sysmalloc_mmap (malloc/malloc.c)"));
	cr_assert(strstr(p.out, "Will free make a system call: brk, mmap, munmap, or none?\n"
	                        "      answer: munmap\n"),
	          "%s", p.out);
	cr_assert(strstr(p.out, "answer: none\n"), "%s", p.out);
	bin_out_free(&p);
	/* and the answers are read as words: even the mmapped chunk costs a
	   fault (its header) and a frame, from a split order-2 block */
	p = quiz(path, NULL, "1\nbrk\norder 0\n1\nmmap\n2\n0\nmunmap\n0\nnone\n");
	cr_assert(strstr(p.out, "score: 10 of 10"), "%s", p.out);
	bin_out_free(&p);
	unlink(path);
	free(path);
}

Test(quiz, a_split_block_is_asked_with_its_order_and_expand, .timeout = 30)
{
	/* The first store takes the one free order-0 block (as in first-touch);
	   the second has to split an order-2 block. */
	char *path = bin_script_file("b = sbrk 8192\nstore b 0 1\nstore b 4096 1\n");
	struct bin_out p = quiz(path, "--answers", "");
	const char *second;

	cr_assert_eq(p.status, 0, "%s", p.err);
	second = strstr(p.out, "line 3: store b 4096 1");
	cr_assert_not_null(second, "%s", p.out);
	cr_assert(strstr(second, "answer: order 2\n"), "%s", second);
	cr_assert(strstr(second, "expand (mm/page_alloc.c)"), "%s", second);
	bin_out_free(&p);
	unlink(path);
	free(path);
}

Test(quiz, a_killed_program_ends_the_quiz_with_its_report, .timeout = 30)
{
	struct bin_out p = quiz(demo("crash/shrink-segv.ams"), "--answers", "");

	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(strstr(p.out, "killed by SIGSEGV, SEGV_MAPERR"), "%s", p.out);
	cr_assert(strstr(p.out, "bad_area_nosemaphore (arch/x86/mm/fault.c)"), "%s", p.out);
	cr_assert(strstr(p.out, "\nThe program was killed here:\n"
	                        "  shrink-segv[1]: segfault at 555555559000 ip "),
	          "%s", p.out);
	bin_out_free(&p);
}

/* glibc's message is the abort's reason too: the quiz shows it once. */
Test(quiz, an_abort_shows_glibcs_message_once, .timeout = 30)
{
	struct bin_out p = quiz(demo("crash/double-free.ams"), "--answers", "");
	const char *msg = "free(): double free detected in tcache 2\n";
	const char *at = strstr(p.out, msg);

	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert_not_null(at, "%s", p.out);
	cr_assert_null(strstr(at + 1, msg), "twice:\n%s", p.out);
	cr_assert(strstr(p.out, "\nThe program was killed here:\n  free(): double free"), "%s",
	          p.out);
	bin_out_free(&p);
}

Test(quiz, a_malformed_script_exits_2_naming_file_and_line, .timeout = 30)
{
	char *path = bin_script_file("p = malloc\n");
	char want[64];
	struct bin_out p = quiz(path, NULL, "");

	snprintf(want, sizeof(want), "%s:1:", path);
	cr_assert_eq(p.status, 2);
	cr_assert(strstr(p.err, want), "%s", p.err);
	cr_assert_eq(p.out_len, 0, "%s", p.out);
	bin_out_free(&p);
	unlink(path);
	free(path);
	p = quiz(demo("first-touch.ams"), "--bogus", "");
	cr_assert_eq(p.status, 2);
	bin_out_free(&p);
}

Test(quiz, a_loop_asks_about_every_pass_with_the_variable_shown, .timeout = 30)
{
	char *script = bin_script_file("for i = 0 to 2\n  p[i] = malloc 16\nend\n");
	struct bin_out p = quiz(script, "--answers", "");

	cr_assert_eq(p.status, 0, "%s", p.err);
	for (int i = 0; i < 3; i++) {
		char want[64];

		snprintf(want, sizeof(want), "line 2: p[i] = malloc 16  (i = %d)\n", i);
		cr_assert_not_null(strstr(p.out, want), "no %s in\n%s", want, p.out);
	}
	cr_assert_not_null(strstr(p.out, "line 3: end  -> i = 3, done"), "%s", p.out);
	unlink(script);
	free(script);
	bin_out_free(&p);
}
