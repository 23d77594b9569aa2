/*
 * test_replay_cmd.c - the reports of `aftermalloc replay`
 * (demos/cli/replay_cmd.c) as the CS:APP driver's users know them: -t DIR
 * scores mdriver's eleven traces, -f FILE, -V, the table with its Total row
 * and the performance index; util by trace, the highest marked; --plot's
 * picture, read back from the PNG.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <SDL.h>
#include <SDL_image.h>

#include "demos/plot/plot.h"
#include "tests/support_bin.h"

static char *traces_dir(const char *sub)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/demos/traces/%s", bin_root(), sub);
	return path;
}

Test(replay_report, t_dir_scores_the_eleven_traces_mdriver_scores, .timeout = 120)
{
	/* --ref-kops tiny: the throughput part is full (40), whatever the host,
	   so the index is the utilization's: 60 x 0.710 + 40 = 83 */
	struct bin_out p = bin_run((const char *[]){"replay", "-t", traces_dir("malloclab"),
	                                            "--no-check", "--ref-kops", "1e-9", NULL},
	                           NULL);
	static const char *const scored[] = {
	    "amptjp-bal.rep",  "cccp-bal.rep",    "cp-decl-bal.rep",  "expr-bal.rep",
	    "coalescing-bal",  "random-bal.rep",  "random2-bal.rep",  "binary-bal.rep",
	    "binary2-bal.rep", "realloc-bal.rep", "realloc2-bal.rep",
	};

	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(strstr(p.out, "Results for malloc policy glibc (--no-check):\n"), "%s", p.out);
	for (size_t i = 0; i < sizeof(scored) / sizeof(scored[0]); i++)
		cr_assert(strstr(p.out, scored[i]), "%s missing:\n%s", scored[i], p.out);
	cr_assert_null(strstr(p.out, "short1"), "short1 is for debugging, not scored");
	cr_assert(strstr(p.out, "\nTotal                       71.0%   112372 "), "%s", p.out);
	/* the Total row sums the kernel's columns (frames: the largest) */
	cr_assert(strstr(p.out, "     5599    1127    362     1     59473\n"), "%s", p.out);
	cr_assert(strstr(p.out, "Throughput reference: --ref-kops, 1e-09 Kops\n"), "%s", p.out);
	cr_assert(strstr(p.out, "Perf index = 43 (util) + 40 (thru) = 83/100\n"), "%s", p.out);
	bin_out_free(&p);
}

Test(replay_report, a_directory_without_them_gives_every_trace_in_it_and_names_resolve_there)
{
	struct bin_out p =
	    bin_run((const char *[]){"replay", "-t", traces_dir("cmu"), "-f", "malloc.rep", "-f",
	                             "malloc-free.rep", "-m", "seed", NULL},
	            NULL);

	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(strstr(p.out, "malloc.rep ") && strstr(p.out, "malloc-free.rep "), "%s", p.out);
	cr_assert(strstr(p.out, "Perf index = "), "%s", p.out);
	cr_assert(strstr(p.out, "Total "), "%s", p.out);
	bin_out_free(&p);
}

Test(replay_report, verbose_says_what_runs_and_each_replay_in_full)
{
	char t[4200];
	struct bin_out p;

	snprintf(t, sizeof(t), "%s/malloc-free.rep", traces_dir("cmu"));
	p = bin_run((const char *[]){"replay", "-V", "-f", t, "-m", "glibc,best", NULL}, NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(strstr(p.out, "Reading tracefile: "), "%s", p.out);
	cr_assert(strstr(p.out, "Checking best for correctness, efficiency, and performance.\n"),
	          "%s", p.out);
	cr_assert(strstr(p.out, "peak footprint  135168 bytes\n"), "%s", p.out);
	/* two policies of one trace: a row each, then the index of each */
	cr_assert(strstr(p.out, "\nglibc      "), "%s", p.out);
	cr_assert(strstr(p.out, "index   (thru: against the glibc policy's "), "%s", p.out);
	/* as mdriver -V: every replay's details, then the table */
	cr_assert_lt(strstr(p.out, "Checking best"), strstr(p.out, "valid   util"), "%s", p.out);
	bin_out_free(&p);

	/* several traces: a policy's details, then its table and Total */
	p = bin_run((const char *[]){"replay", "-V", "-t", traces_dir("malloclab"), "-f",
	                             "short1-bal.rep", "-f", "short2-bal.rep", "-m", "glibc,best",
	                             NULL},
	            NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	{
		const char *g = strstr(p.out, "Checking glibc");
		const char *gt = strstr(p.out, "Results for malloc policy glibc:\n");
		const char *b = strstr(p.out, "Checking best");
		const char *bt = strstr(p.out, "Results for malloc policy best:\n");

		cr_assert(g && gt && b && bt, "%s", p.out);
		cr_assert(g < gt && gt < b && b < bt, "%s", p.out);
		cr_assert(strstr(gt, "\nshort2-bal.rep ") < strstr(gt, "\nTotal "), "%s", p.out);
	}
	bin_out_free(&p);
}

Test(replay_report, an_invalid_replay_is_not_scored)
{
	static const char text[] = "0\n1\n2\n1\na 0 8\nf 1\n";
	char *bad = bin_temp_file(text, strlen(text), ".rep"), t[4200];
	struct bin_out p;

	snprintf(t, sizeof(t), "%s/malloc-free.rep", traces_dir("cmu"));
	p = bin_run((const char *[]){"replay", t, bad, NULL}, NULL);
	cr_assert_eq(p.status, 1);
	cr_assert(strstr(p.out, "Perf index: not scored, 1 of 2 traces invalid\n"), "%s", p.out);
	cr_assert(strstr(p.out, "\nTotal                           -        -"), "%s", p.out);
	cr_assert(strstr(p.err, "invalid replay: op 2 (line 6): f 1: id 1 is not allocated"), "%s",
	          p.err);
	unlink(bad);
	free(bad);
	bin_out_free(&p);
}

/* Several traces under several policies: each trace's util side by side,
   "*" before the highest as printed, every one of them on a tie. */
Test(replay_report, util_by_trace_marks_the_highest_of_each_trace, .timeout = 60)
{
	char bc[4200], awk[4200], sort[4200];
	struct bin_out p;

	snprintf(bc, sizeof(bc), "%s/bc.rep", traces_dir("real"));
	snprintf(awk, sizeof(awk), "%s/awk.rep", traces_dir("real"));
	snprintf(sort, sizeof(sort), "%s/sort.rep", traces_dir("real"));
	p = bin_run((const char *[]){"replay", "-n", "-m", "bestfit,glibc,best", bc, awk, sort, NULL},
	            NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(strstr(p.out, "\nutil by trace (* the highest):\n"
	                        "trace                 bestfit    glibc     best\n"
	                        "bc.rep                 *89.9%    46.3%    86.7%\n"
	                        "awk.rep                 87.8%    80.5%   *89.8%\n"
	                        "sort.rep               *99.9%    97.2%   *99.9%\n\n"
	                        "malloc "),
	          "%s", p.out);
	bin_out_free(&p);
}

/* An invalid replay has no util: "-", and the others are still compared. */
Test(replay_report, util_by_trace_says_an_invalid_replay)
{
	static const char text[] = "0\n1\n2\n1\na 0 8\nf 1\n";
	char *bad = bin_temp_file(text, strlen(text), ".rep"), t[4200], row[64];
	const char *base = strrchr(bad, '/') + 1;
	struct bin_out p;

	snprintf(t, sizeof(t), "%s/malloc-free.rep", traces_dir("cmu"));
	p = bin_run((const char *[]){"replay", "-m", "glibc,best", t, bad, NULL}, NULL);
	cr_assert_eq(p.status, 1);
	snprintf(row, sizeof(row), "\n%-20.20s %8s %8s\n", base, "-", "-");
	cr_assert(strstr(p.out, row), "no row '%s' in:\n%s", row, p.out);
	cr_assert(strstr(p.out, "\nmalloc-free.rep          0.9%   *28.0%\n"), "%s", p.out);
	unlink(bad);
	free(bad);
	bin_out_free(&p);
}

/* --tunable: the process's GLIBC_TUNABLES. top_pad=0: the heap grows by
   what is missing, rounded to pages, where it grew by 128 KiB more (the
   same bytes as the host's glibc, test_glibc_oracle). */
Test(replay_report, tunable_sets_glibc_malloc_tunables)
{
	char bc[4200];
	struct bin_out p, q;

	snprintf(bc, sizeof(bc), "%s/bc.rep", traces_dir("real"));
	p = bin_run((const char *[]){"replay", "-n", bc, NULL}, NULL);
	q = bin_run((const char *[]){"replay", "-n", "--tunable", "glibc.malloc.top_pad=0", bc, NULL},
	            NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert_eq(q.status, 0, "%s", q.err);
	cr_assert(strstr(p.out, "peak footprint  135168 bytes\n"), "%s", p.out);
	cr_assert(strstr(q.out, "peak footprint  77824 bytes\n"), "%s", q.out);
	bin_out_free(&p);
	bin_out_free(&q);
}

Test(replay_report, bad_options_exit_2)
{
	static const struct {
		const char *args[8], *msg;
	} cases[] = {
	    {{"replay", "-t", "/nonexistent-dir"}, "/nonexistent-dir: No such file or directory"},
	    {{"replay", "--ref-kops", "0", "x.rep"}, "--ref-kops: '0' is not a positive number"},
	    {{"replay", "-m", "glibc,nosuch", "x.rep"}, "unknown malloc policy 'nosuch'"},
	    {{"replay", "-f"}, "option '-f' needs a value"},
	    {{"replay", "--tunable", "glibc.malloc.nope=1", "x.rep"},
	     "--tunable: unknown tunable 'glibc.malloc.nope'"},
	    {{"replay", "--tunable", "glibc.malloc.top_pad=0", "-m", "glibc,best", "x.rep"},
	     "--tunable: glibc.malloc tunables are glibc's, not best's"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bin_out p = bin_run(cases[i].args, NULL);

		cr_assert_eq(p.status, 2, "case %zu", i);
		cr_assert(strstr(p.err, cases[i].msg), "case %zu: %s", i, p.err);
		cr_assert_eq(p.out_len, 0);
		bin_out_free(&p);
	}
}

/* ---- --plot ------------------------------------------------------------------- */

static uint32_t pixel(SDL_Surface *s, int x, int y)
{
	uint8_t r, g, b, a;
	uint32_t v = 0;

	memcpy(&v, (uint8_t *)s->pixels + y * s->pitch + x * s->format->BytesPerPixel,
	       s->format->BytesPerPixel);
	SDL_GetRGBA(v, s->format, &r, &g, &b, &a);
	return (uint32_t)r << 16 | (uint32_t)g << 8 | b;
}

/* How many pixels of colour rgb lie in [x0, x1) x [y0, y1). */
static long count_rgb(SDL_Surface *s, uint32_t rgb, int x0, int y0, int x1, int y1)
{
	long n = 0;

	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++)
			n += pixel(s, x, y) == rgb;
	return n;
}

Test(replay_report, plot_draws_every_policy_in_every_panel_of_a_1280x800_png, .timeout = 120)
{
	char *png = bin_temp_file("", 0, ".png"), t[4200];
	/* the colours replay_cmd.c gives the policies, in malloc_policies' order */
	static const uint32_t rgb[] = {0xd62728, 0x1f77b4, 0x2ca02c, 0x9467bd, 0xff7f0e, 0x17becf};
	struct bin_out p;
	SDL_Surface *s;

	snprintf(t, sizeof(t), "%s/binary2-bal.rep", traces_dir("malloclab"));
	p = bin_run(
	    (const char *[]){"replay", t, "-m", "firstfit,glibc,best", "-n", "--plot", png, NULL},
	    NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	s = IMG_Load(png);
	cr_assert_not_null(s, "%s does not decode: %s", png, IMG_GetError());
	cr_assert_eq(s->w, 1280);
	cr_assert_eq(s->h, 800);
	cr_assert_eq(pixel(s, 2, 2), PLOT_BACKGROUND);
	/* The 2x2 grid: footprint top left, RSS top right, faults bottom left;
	   each drawn policy appears in each (glibc and best differ in all
	   three on binary2), the payload in the first only. */
	for (int k = 1; k < 6; k += 3) { /* firstfit, best */
		cr_assert_gt(count_rgb(s, rgb[k], 12, 60, 634, 400), 50, "policy %d footprint", k);
		cr_assert_gt(count_rgb(s, rgb[k], 646, 60, 1268, 400), 50, "policy %d RSS", k);
		cr_assert_gt(count_rgb(s, rgb[k], 12, 420, 634, 790), 50, "policy %d faults", k);
	}
	cr_assert_gt(count_rgb(s, rgb[4], 12, 60, 634, 790), 50, "glibc");
	cr_assert_eq(count_rgb(s, rgb[0], 0, 0, 1280, 800), 0, "seed was not replayed");
	cr_assert_gt(count_rgb(s, 0x555555, 12, 60, 634, 400), 50, "the payload line");
	cr_assert_eq(count_rgb(s, 0x555555, 646, 60, 1268, 400), 0);
	SDL_FreeSurface(s);
	unlink(png);
	free(png);
	bin_out_free(&p);
}

/* How many rows of [x0, x1) x [y0, y1) hold a pixel of colour rgb. */
static int rows_rgb(SDL_Surface *s, uint32_t rgb, int x0, int y0, int x1, int y1)
{
	int n = 0;

	for (int y = y0; y < y1; y++)
		n += count_rgb(s, rgb, x0, y, x1, y + 1) > 0;
	return n;
}

/* seed peaks at 1360 bytes on malloc-free.rep, glibc at 135168: on a linear
   axis seed's footprint is a flat line on the bottom (a few rows); the
   footprint panel turns logarithmic, and seed's line climbs. RSS and
   faults, the same for both, stay linear. */
Test(replay_report, plot_turns_a_panel_logarithmic_when_its_lines_are_far_apart, .timeout = 60)
{
	char *png = bin_temp_file("", 0, ".png"), t[4200];
	struct bin_out p;
	SDL_Surface *s;

	snprintf(t, sizeof(t), "%s/malloc-free.rep", traces_dir("cmu"));
	p = bin_run((const char *[]){"replay", t, "-m", "seed,glibc", "--plot", png, NULL}, NULL);
	cr_assert_eq(p.status, 0, "%s", p.err);
	s = IMG_Load(png);
	cr_assert_not_null(s, "%s does not decode: %s", png, IMG_GetError());
	cr_assert_gt(rows_rgb(s, 0xd62728, 80, 60, 634, 400), 60, "seed's footprint climbs");
	cr_assert_gt(rows_rgb(s, 0x555555, 80, 60, 634, 400), 60, "and so does the payload");
	cr_assert_leq(rows_rgb(s, 0xff7f0e, 80, 60, 634, 400), 3, "glibc's is flat");
	SDL_FreeSurface(s);
	unlink(png);
	free(png);
	bin_out_free(&p);
}

Test(replay_report, plot_takes_one_trace_and_a_writable_file)
{
	char t[4200];
	struct bin_out p;

	snprintf(t, sizeof(t), "%s/malloc-free.rep", traces_dir("cmu"));
	p = bin_run((const char *[]){"replay", t, t, "--plot", "/tmp/x.png", NULL}, NULL);
	cr_assert_eq(p.status, 2);
	cr_assert(strstr(p.err, "--plot draws one trace, not 2"), "%s", p.err);
	bin_out_free(&p);
	p = bin_run((const char *[]){"replay", t, "--plot", "/nonexistent-dir/x.png", NULL}, NULL);
	cr_assert_eq(p.status, 2);
	cr_assert(strstr(p.err, "aftermalloc replay: /nonexistent-dir/x.png: No such file or "
	                        "directory"),
	          "%s", p.err);
	cr_assert_eq(p.out_len, 0, "said before any replay");
	bin_out_free(&p);
}
