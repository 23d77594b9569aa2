/*
 * test_docs.c - the docs show what the tool prints (BRIEF: "every tool output
 * they quote is produced by the tool and compared by the tests").
 *
 * Every ```console block of README.md and of the .md files of docs/ is run: each "$ CMD"
 * line (a line ending in '\' goes on with the next) runs in bash from the
 * project root, stdout and stderr into one pipe, NO_COLOR=1, no display,
 * LC_ALL=C, stdin /dev/null; what it printed must be the lines under it,
 * byte for byte. "$ echo $?" prints the exit status of the command before
 * it. build/aftermalloc in a command runs the binary under test ($AM_BIN,
 * the sanitizer build's under `make test SANITIZE=...`).
 *
 * Masks, the only figures not compared (each replaced by '#' on both sides,
 * with the padding before it, as a column's width follows its figure):
 *   - host timings (doc_masks below): replay's "time N s (N ops/s)" line,
 *     the secs and Kops columns of mdriver's table (replay's, lab's), the
 *     throughput part of the performance index and the sum, the glibc
 *     policy's Kops it is measured against, and "secs" in replay --json;
 *   - a block preceded by the line "<!-- doctest: digits vary: REASON -->":
 *     every number in it (a run of digits), for output that depends on
 *     programs of the host (record runs the host's own sort and glibc). The
 *     words and the number of lines must still match;
 *   - the warnings a sanitizer runtime prints by itself (drop_sanitizer_notes).
 *
 * `make docs` rewrites, in place, every output that differs with what the
 * tool printed (a masked figure keeps the doc's value when the rest of its
 * line is the same, so timings do not churn); review the diff and commit it.
 * Two more checks: the commands of the docs' blocks (the console blocks and
 * the tool's lines in the others, such as the README's tour) write files only
 * under build/, and no tracked file names a path outside the repository.
 * Each check has a test of its own cases, so that it cannot pass by seeing
 * nothing.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support_bin.h"

#define DOC_CMD_TIMEOUT 120 /* seconds: a hang fails, it does not stall the suite */

/* Host timings: each group of a pattern that starts with a digit is masked
   where the pattern matches. Nothing else is: a figure of the model in the
   same line is compared. */
static const char *const doc_masks[] = {
    /* replay, one trace and one policy: "time            0.000 s (254957 ops/s)" */
    "^time +([0-9]+\\.[0-9]+) s \\(([0-9]+) ops/s\\)$",
    /* mdriver's table (replay, lab), a trace's row or the Total row: secs
       (six decimals) and Kops; util, ops, peak_fp, faults... are compared */
    "^[^ ]+ +((yes|NO) +)?[0-9.]+% +[0-9]+ +([0-9]+\\.[0-9]{6}) +([0-9]+\\.?[0-9]*)( |$)",
    /* mdriver's index: its throughput part, so the sum too */
    "^Perf index = [0-9]+ \\(util\\) \\+ ([0-9]+) \\(thru\\) = ([0-9]+)/100$",
    /* lab's reference, measured in the same run */
    "^Throughput reference: the built-in glibc policy on the same traces, ([0-9]+) Kops$",
    /* replay's index table: the reference measured in the same run... */
    "\\(thru: against the glibc policy's ([0-9]+\\.[0-9]) Kops/s\\)$",
    /* ...and each policy's Kops and index ("-" when not scored) */
    "^[^ ]+ +[0-9]+/[0-9]+ +[0-9.]+% +([0-9]+\\.[0-9]) +([0-9]+|-)$",
    /* replay --json: "secs":3.0217001040000468e-05 */
    "\"secs\":([-+.0-9e]+)",
};

/* ---- text ------------------------------------------------------------------ */

struct lines {
	char **v;
	size_t n, cap;
};

static void lines_add(struct lines *l, const char *s, size_t len)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		cr_assert_not_null(l->v);
	}
	l->v[l->n] = strndup(s, len);
	cr_assert_not_null(l->v[l->n]);
	l->n++;
}

/* text cut at '\n' (a last line without one counts too). */
static struct lines lines_of(const char *text, size_t len)
{
	struct lines l = {0};
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		lines_add(&l, p, n);
		p += n + (nl ? 1 : 0);
	}
	return l;
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The masked form of a line: the groups of every doc mask that matches, or
   every digit when all_digits, replaced by '#'. malloc'd. */
static char *masked(const char *line, bool all_digits)
{
	char *m = strdup(line);

	cr_assert_not_null(m);
	if (all_digits) { /* each run of digits becomes one '#' */
		char *w = m;

		for (const char *c = m; *c; c++)
			if (!isdigit((unsigned char)*c) || w == m || w[-1] != '#')
				*w++ = isdigit((unsigned char)*c) ? '#' : *c;
		*w = 0;
		return m;
	}
	for (size_t i = 0; i < sizeof(doc_masks) / sizeof(doc_masks[0]); i++) {
		regex_t re;
		regmatch_t g[8];
		size_t from = 0;

		cr_assert_eq(regcomp(&re, doc_masks[i], REG_EXTENDED), 0, "mask %zu", i);
		while (from <= strlen(m) &&
		       regexec(&re, m + from, 8, g, from ? REG_NOTBOL : 0) == 0) {
			size_t next = from + (size_t)g[0].rm_eo;

			/* right to left, so that earlier offsets stay valid */
			for (int k = 7; k >= 1; k--) {
				size_t so, eo;

				if (g[k].rm_so < 0 ||
				    !isdigit((unsigned char)m[from + (size_t)g[k].rm_so]))
					continue;
				so = from + (size_t)g[k].rm_so;
				eo = from + (size_t)g[k].rm_eo;
				/* the figure and the padding before it (a column's width
				   follows the figure) become " #" */
				while (so > 1 && m[so - 1] == ' ' && m[so - 2] == ' ')
					so--;
				m[so] = '#';
				memmove(m + so + 1, m + eo, strlen(m + eo) + 1);
				next -= eo - so - 1;
			}
			if (g[0].rm_eo == 0)
				break;
			from = next;
		}
		regfree(&re);
	}
	return m;
}

static bool same_line(const char *doc, const char *tool, bool all_digits)
{
	char *a = masked(doc, all_digits), *b = masked(tool, all_digits);
	bool same = strcmp(a, b) == 0;

	free(a);
	free(b);
	return same;
}

/* ---- running a command ---------------------------------------------------------- */

/* cmd with every "build/aftermalloc" that starts a word made $AM_BIN. */
static char *with_binary(const char *cmd)
{
	const char *bin = bin_path(), *word = "build/aftermalloc", *p = cmd, *hit;
	size_t len = strlen(cmd) + 1, wl = strlen(word), n = 0;
	char *out;

	for (hit = strstr(p, word); hit; hit = strstr(hit + wl, word))
		len += strlen(bin);
	out = malloc(len);
	cr_assert_not_null(out);
	while ((hit = strstr(p, word))) {
		bool starts = hit == cmd || strchr(" |;&(`", hit[-1]);

		memcpy(out + n, p, (size_t)(hit - p));
		n += (size_t)(hit - p);
		if (starts) {
			strcpy(out + n, bin);
			n += strlen(bin);
		} else {
			memcpy(out + n, word, wl);
			n += wl;
		}
		p = hit + wl;
	}
	strcpy(out + n, p);
	return out;
}

/* Run cmd in bash from the project root; stdout and stderr, in the order
   written, into *out (malloc'd); the exit status, or 128 + signal. */
static int run_shell(const char *cmd, char **out, size_t *len)
{
	int fds[2], st;
	pid_t pid;
	char *full = with_binary(cmd);

	cr_assert_eq(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);

		dup2(in, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		if (chdir(bin_root()) != 0)
			_exit(126);
		setenv("NO_COLOR", "1", 1);
		setenv("LC_ALL", "C", 1);
		unsetenv("DISPLAY");
		unsetenv("WAYLAND_DISPLAY");
		unsetenv("SDL_VIDEODRIVER");
		alarm(DOC_CMD_TIMEOUT);
		execl("/bin/bash", "bash", "-c", full, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	*out = bin_slurp(fds[0], len);
	close(fds[0]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	free(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The lines a sanitizer runtime prints by itself ("==PID==WARNING: ASan
   doesn't fully support makecontext/swapcontext ..." for the stepper's
   coroutine), dropped: under `make test SANITIZE=...` they are not the
   tool's output. */
static void drop_sanitizer_notes(struct lines *l)
{
	size_t w = 0;

	for (size_t i = 0; i < l->n; i++) {
		const char *s = l->v[i];
		size_t d = 0;

		if (strncmp(s, "==", 2) == 0) {
			while (isdigit((unsigned char)s[2 + d]))
				d++;
			if (d && strncmp(s + 2 + d, "==WARNING: ", 11) == 0) {
				free(l->v[i]);
				continue;
			}
		}
		l->v[w++] = l->v[i];
	}
	l->n = w;
}

/* ---- one document ------------------------------------------------------------------ */

struct doc_cmd {
	size_t line;             /* 0-based line of its "$ " */
	size_t next;             /* the first line after its command text */
	size_t out_from, out_to; /* its output lines in the document: [from, to) */
	char *text;              /* the command, continuation lines joined */
	bool all_digits;         /* its block says "digits vary" */
};

/* The commands of every console block of doc. */
static size_t find_commands(const struct lines *doc, struct doc_cmd **cmds)
{
	size_t n = 0, cap = 0;
	bool fenced = false, in = false, digits = false;

	*cmds = NULL;
	for (size_t i = 0; i < doc->n; i++) {
		const char *l = doc->v[i];

		if (strncmp(l, "```", 3) == 0) {
			if (!fenced) { /* an opening fence: is it a console block? */
				fenced = true;
				in = strcmp(l, "```console") == 0;
				digits =
				    in && i > 0 &&
				    strncmp(doc->v[i - 1], "<!-- doctest: digits vary:", 26) == 0;
			} else {
				fenced = in = false;
			}
			continue;
		}
		if (!in)
			continue;
		if (strncmp(l, "$ ", 2) == 0) {
			struct doc_cmd c = {.line = i, .all_digits = digits};
			size_t tl = 0;

			c.text = NULL;
			for (;;) {
				const char *part = doc->v[i] + (c.line == i ? 2 : 0);
				size_t pl = strlen(part);

				c.text = realloc(c.text, tl + pl + 2);
				cr_assert_not_null(c.text);
				memcpy(c.text + tl, part, pl + 1);
				tl += pl;
				if (pl && part[pl - 1] == '\\' && i + 1 < doc->n) {
					c.text[tl++] = '\n';
					c.text[tl] = 0;
					i++;
					continue;
				}
				break;
			}
			c.next = c.out_from = c.out_to = i + 1;
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				*cmds = realloc(*cmds, cap * sizeof(**cmds));
				cr_assert_not_null(*cmds);
			}
			(*cmds)[n++] = c;
		} else if (n && (*cmds)[n - 1].out_to == i) {
			(*cmds)[n - 1].out_to = i + 1;
		} else {
			cr_assert_fail("line %zu: output before the block's first command", i + 1);
		}
	}
	cr_assert(!fenced, "a ``` block is never closed");
	return n;
}

/* Write doc's lines to path, the outputs of cmds[] replaced by got[]. */
static void rewrite(const char *path, const struct lines *doc, const struct doc_cmd *cmds, size_t n,
                    struct lines *got)
{
	FILE *f = fopen(path, "w");
	size_t c = 0;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	for (size_t i = 0; i < doc->n;) {
		if (c < n && i == cmds[c].out_from) {
			for (size_t k = 0; k < got[c].n; k++)
				fprintf(f, "%s\n", got[c].v[k]);
			i = cmds[c].out_to;
			c++;
			continue;
		}
		fprintf(f, "%s\n", doc->v[i]);
		i++;
	}
	cr_assert_eq(fclose(f), 0, "%s: %s", path, strerror(errno));
}

/* Run every command of the document at rel; the number of commands whose
   output differs (rewritten in place when update). Differences go to err. */
static int check_document(const char *rel, bool update, FILE *err)
{
	char path[4096], *text;
	size_t len, n;
	struct lines doc;
	struct doc_cmd *cmds;
	struct lines *got;
	int status = 0, bad = 0;

	snprintf(path, sizeof(path), "%s/%s", bin_root(), rel);
	text = bin_read_file(path, &len);
	doc = lines_of(text, len);
	free(text);
	n = find_commands(&doc, &cmds);
	got = calloc(n ? n : 1, sizeof(*got));
	cr_assert_not_null(got);
	for (size_t c = 0; c < n; c++) {
		struct doc_cmd *dc = &cmds[c];
		size_t ol, want = dc->out_to - dc->out_from, i;
		char *out;
		bool same;

		if (strcmp(dc->text, "echo $?") == 0) {
			cr_assert(asprintf(&out, "%d\n", status) > 0);
			ol = strlen(out);
		} else {
			status = run_shell(dc->text, &out, &ol);
		}
		got[c] = lines_of(out, ol);
		drop_sanitizer_notes(&got[c]);
		free(out);
		same = got[c].n == want;
		for (i = 0; same && i < want; i++)
			same = same_line(doc.v[dc->out_from + i], got[c].v[i], dc->all_digits);
		if (same) {
			/* keep the doc's masked figures: nothing to rewrite */
			for (i = 0; i < want; i++) {
				free(got[c].v[i]);
				got[c].v[i] = strdup(doc.v[dc->out_from + i]);
			}
			continue;
		}
		bad++;
		for (i = 0; i < want && i < got[c].n; i++)
			if (!same_line(doc.v[dc->out_from + i], got[c].v[i], dc->all_digits))
				break;
		fprintf(err, "%s:%zu: `%s` prints something else: its output line %zu is\n", rel,
		        dc->line + 1, dc->text, i + 1);
		fprintf(err, "    in the doc:   %s\n",
		        i < want ? doc.v[dc->out_from + i] : "(no line)");
		fprintf(err, "    by the tool:  %s\n", i < got[c].n ? got[c].v[i] : "(no line)");
		fprintf(err, "    (%zu lines in the doc, %zu printed)\n", want, got[c].n);
	}
	if (update && bad)
		rewrite(path, &doc, cmds, n, got);
	for (size_t c = 0; c < n; c++) {
		lines_free(&got[c]);
		free(cmds[c].text);
	}
	free(got);
	free(cmds);
	lines_free(&doc);
	return bad;
}

/* README.md and the .md files of docs/, relative to the root; NULL-terminated. */
static char **documents(void)
{
	char pattern[4096];
	glob_t g;
	char **v;

	snprintf(pattern, sizeof(pattern), "%s/docs/*.md", bin_root());
	cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no docs in %s", pattern);
	v = calloc(g.gl_pathc + 2, sizeof(*v));
	cr_assert_not_null(v);
	v[0] = strdup("README.md");
	for (size_t i = 0; i < g.gl_pathc; i++)
		v[i + 1] = strdup(g.gl_pathv[i] + strlen(bin_root()) + 1);
	globfree(&g);
	return v;
}

Test(docs, every_console_block_prints_what_the_tool_prints, .timeout = 900)
{
	bool update = getenv("AM_DOCS_UPDATE") != NULL;
	char **docs = documents(), *report = NULL;
	size_t report_len = 0;
	FILE *err = open_memstream(&report, &report_len);
	int bad = 0;

	cr_assert_not_null(err);
	for (char **d = docs; *d; d++) {
		bad += check_document(*d, update, err);
		free(*d);
	}
	free(docs);
	fclose(err);
	if (bad && update)
		cr_log_info("make docs rewrote %d outputs:\n%s", bad, report);
	else if (bad)
		cr_log_error("%d command outputs in the docs are not what the tool prints:\n%s",
		             bad, report);
	free(report);
	cr_assert(update || bad == 0,
	          "%d outputs in the docs differ (above). Run `make docs` to rewrite them from the "
	          "tool's output, then review `git diff README.md docs/` (the text around an "
	          "output may need to follow) and commit.",
	          bad);
}

/* The masks are narrow: host timings only, and only where they stand. */
Test(docs, masks_hide_host_timings_and_nothing_else)
{
	static const struct {
		const char *doc, *tool;
		bool same;
	} cases[] = {
	    {"time            0.000 s (254957 ops/s)", "time            0.001 s (1498768 ops/s)",
	     true},
	    /* mdriver's table: secs and Kops, each with its padding */
	    {"seed                 yes    84.7%        17  0.000034    493.7        1360        1     "
	     "0.118",
	     "seed                 yes    84.7%        17  0.000027    629.8        1360        1     "
	     "0.118",
	     true},
	    {"binary2-bal.rep      yes    42.6%     24000  0.213012    112.7       81920       20     "
	     "0.001",
	     "binary2-bal.rep      yes    42.6%     24000  10.213012   2350.1       81920       20     "
	     "0.001",
	     true},
	    {"Total                       71.0%    112372  1.012345    111.0",
	     "Total                       71.0%    112372  0.912345    123.2", true},
	    /* lab's form: integer Kops, kernel columns after it */
	    {"mm.c                   yes   99%     5694   0.001000   5694      12      30     2     0"
	     "       100",
	     "mm.c                   yes   99%     5694   0.002000   2847      12      30     2     0"
	     "       100",
	     true},
	    /* a figure of the model in the same row is compared: faults, util, ops */
	    {"seed                 yes    84.7%        17  0.000034    493.7        1360        1     "
	     "0.118",
	     "seed                 yes    84.7%        17  0.000034    493.7        1360        2     "
	     "0.118",
	     false},
	    {"seed                 yes    84.7%        17  0.000034    493.7        1360        1     "
	     "0.118",
	     "seed                 yes    84.8%        17  0.000034    493.7        1360        1     "
	     "0.118",
	     false},
	    {"Total                       71.0%    112372  1.012345    111.0",
	     "Total                       71.0%    112373  1.012345    111.0", false},
	    {"mm.c                   yes   99%     5694   0.001000   5694      12      30     2     0"
	     "       100",
	     "mm.c                   yes   99%     5694   0.001000   5694      13      30     2     0"
	     "       100",
	     false},
	    /* the index: its throughput part and the sum, not the util part */
	    {"Perf index = 43 (util) + 40 (thru) = 83/100", "Perf index = 43 (util) + 31 (thru) = 74/100",
	     true},
	    {"Perf index = 43 (util) + 40 (thru) = 83/100", "Perf index = 44 (util) + 40 (thru) = 84/100",
	     false},
	    {"malloc      valid   util     Kops  index   (thru: against the glibc policy's 925.2 Kops/s)",
	     "malloc      valid   util     Kops  index   (thru: against the glibc policy's 1749.5 Kops/s)",
	     true},
	    {"Throughput reference: the built-in glibc policy on the same traces, 833 Kops",
	     "Throughput reference: the built-in glibc policy on the same traces, 1201 Kops", true},
	    /* a reference given on the command line is no timing */
	    {"malloc      valid   util     Kops  index   (thru: against --ref-kops 100.0 Kops/s)",
	     "malloc      valid   util     Kops  index   (thru: against --ref-kops 200.0 Kops/s)",
	     false},
	    {"seed          1/1  84.7%    493.7     72", "seed          1/1  84.7%   1629.8     84", true},
	    {"seed          1/1  84.7%    493.7     72", "seed          1/2  84.7%    493.7     72", false},
	    {"seed          1/1  84.7%    493.7     72", "seed          1/1  84.6%    493.7     72", false},
	    {"{\"ops\":17,\"secs\":3.0217001040000468e-05}", "{\"ops\":17,\"secs\":2e-05}", true},
	    {"{\"ops\":17,\"secs\":3.0217001040000468e-05}", "{\"ops\":18,\"secs\":2e-05}", false},
	    {"  TLB            437 hits, 6 misses", "  TLB            438 hits, 6 misses", false},
	    {"time is 3 s", "time is 4 s", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(same_line(cases[i].doc, cases[i].tool, false), cases[i].same,
		             "case %zu: '%s' against '%s'", i, cases[i].doc, cases[i].tool);
	/* "digits vary": every number, not the words */
	cr_expect(same_line("sort: 295 calls, 158 ids", "sort: 21 calls, 11 ids", true));
	cr_expect(!same_line("a 0 5", "f 0", true));
}

/* Where cmd writes a file outside build/: a pointer to the first such
   target in cmd, or NULL. A target is what follows an output option of the
   tool (--events, --perfetto, --plot, --screenshot, -o, --output, with a
   space or '=', in the part of a pipeline that runs build/aftermalloc) or a
   shell redirection (>, >>, 2>, &>, tee) outside quotes; /dev/null and
   /nonexistent... (an example of a failing write) are no files. */
static const char *writes_outside_build(const char *cmd)
{
	static const char *const opts[] = {"--events", "--perfetto", "--plot", "--screenshot",
	                                   "--output", "-o"};
	char quote = 0;
	bool tool = false;

	for (const char *p = cmd; *p; p++) {
		const char *f = NULL;
		bool word = p == cmd || strchr(" \t|;&(", p[-1]);

		if (quote) {
			quote = *p == quote ? 0 : quote;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			quote = *p;
			continue;
		}
		if (*p == '|' || *p == ';' || (*p == '&' && p[1] != '>'))
			tool = false;
		if (word && strncmp(p, "build/aftermalloc ", 18) == 0)
			tool = true;
		if (*p == '>') { /* >, >>, 2>, &>, >| */
			f = p + 1;
			if (*f == '>' || *f == '|')
				f++;
			if (*f == '&')
				continue; /* 2>&1: a descriptor */
		} else if (word && strncmp(p, "tee ", 4) == 0) {
			f = p + 4;
			while (*f == '-') /* tee -a FILE */
				f += strcspn(f, " "), f += strspn(f, " ");
		} else if (word && tool) {
			for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
				size_t n = strlen(opts[i]);

				if (strncmp(p, opts[i], n) == 0 && (p[n] == ' ' || p[n] == '=')) {
					f = p + n + 1;
					break;
				}
			}
		}
		if (!f)
			continue;
		f += strspn(f, " ");
		if (*f == '\'' || *f == '"')
			f++; /* a quoted name is a name all the same */
		if (strncmp(f, "build/", 6) != 0 && strncmp(f, "/dev/null", 9) != 0 &&
		    strncmp(f, "/nonexistent", 12) != 0)
			return f;
	}
	return NULL;
}

/* The commands of every fenced block of the docs write files only under
   build/: those of console blocks, which the doc test runs, and the lines of
   other blocks that run the tool or make (the README's tour), which readers
   copy into their clone. */
Test(docs, a_doc_block_writes_files_only_under_build)
{
	char **docs = documents();
	int checked = 0;

	for (char **d = docs; *d; d++) {
		char path[4096], *text;
		size_t len, n;
		struct lines doc;
		struct doc_cmd *cmds;
		bool fenced = false;

		snprintf(path, sizeof(path), "%s/%s", bin_root(), *d);
		text = bin_read_file(path, &len);
		doc = lines_of(text, len);
		free(text);
		n = find_commands(&doc, &cmds);
		for (size_t c = 0; c < n; c++) {
			const char *bad = writes_outside_build(cmds[c].text);

			cr_expect_null(bad, "%s:%zu: `%s` writes outside build/ (%s)", *d,
			               cmds[c].line + 1, cmds[c].text, bad);
			checked++;
			free(cmds[c].text);
		}
		free(cmds);
		for (size_t i = 0; i < doc.n; i++) {
			const char *l = doc.v[i], *bad;
			char *cmd;

			if (strncmp(l, "```", 3) == 0) {
				fenced = !fenced;
				continue;
			}
			if (!fenced || (strncmp(l, "build/aftermalloc ", 18) != 0 &&
			                strncmp(l, "make ", 5) != 0))
				continue;
			cmd = strndup(l, strcspn(l, "#")); /* a comment is no command */
			cr_assert_not_null(cmd);
			bad = writes_outside_build(cmd);
			cr_expect_null(bad, "%s:%zu: `%s` writes outside build/ (%s)", *d, i + 1, cmd,
			               bad);
			checked++;
			free(cmd);
		}
		lines_free(&doc);
		free(*d);
	}
	free(docs);
	cr_assert_gt(checked, 100, "only %d commands found in the docs", checked);
}

/* The check above finds the writes it is meant to find. */
Test(docs, writes_outside_build_finds_every_form)
{
	static const struct {
		const char *cmd;
		bool outside;
	} cases[] = {
	    {"build/aftermalloc run demos/zero-page.ams --events ev.jsonl", true},
	    {"build/aftermalloc run demos/zero-page.ams --events build/ev.jsonl", false},
	    {"build/aftermalloc run x.ams --perfetto=t.json", true},
	    {"build/aftermalloc replay x.rep --plot docs/img/replay-binary2.png > /dev/null", true},
	    {"build/aftermalloc replay x.rep --plot build/r.png > /dev/null", false},
	    {"build/aftermalloc view x.ams --screenshot shot.png", true},
	    {"build/aftermalloc record -o sort.rep -- sort /etc/services", true},
	    {"build/aftermalloc record -o build/sort.rep -- sort /etc/services", false},
	    {"build/aftermalloc lab mm.c --output mm.so", true},
	    {"build/aftermalloc run x.ams >out.txt", true},
	    {"build/aftermalloc run x.ams 2>err.txt", true},
	    {"build/aftermalloc run x.ams >> build/log", false},
	    {"build/aftermalloc run x.ams 2>&1 | tee out.txt", true},
	    {"build/aftermalloc run x.ams 2>&1 | tee -a build/out.txt", false},
	    {"build/aftermalloc run x.ams --json | grep -o '\"faults\":[0-9]*'", false},
	    {"build/aftermalloc record -o /nonexistent-dir/x.rep -- true", false},
	    {"printf 'm\\nq\\n' | build/aftermalloc step x.ams | sed -n '/^step> m/,/^step> q/p'",
	     false},
	    {"build/aftermalloc gen -s 1 -n 6 -o build/w.ams && cat build/w.ams > w.ams", true},
	    {"build/aftermalloc run x.ams --trace", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(writes_outside_build(cases[i].cmd) != NULL, cases[i].outside,
		             "case %zu: %s", i, cases[i].cmd);
}

/* Where text, the contents of the tracked file rel, names a path outside
   the repository: a pointer to it, or NULL. Such a path is a run of "../"
   that climbs above the root from rel's folder (two of them in docs/guide.md),
   a sibling folder "shared" anywhere (the one of the machine this project was
   started on), or an absolute path into someone's files (a home folder,
   /root, /Users, /work). A path the tool is given at run time, such as /tmp/ or
   /etc/services, is no place of the repository's and is allowed. */
static const char *names_path_outside(const char *rel, const char *text, size_t len)
{
	static const char *const homes[] = {"/ho" "me/", "/ro" "ot/", "/Us" "ers/", "/wo" "rk/"};
	size_t depth = 0;

	for (const char *c = rel; *c; c++)
		depth += *c == '/';
	for (size_t i = 0; i < len; i++) {
		const char *p = text + i;
		bool starts = i == 0 || !(isalnum((unsigned char)p[-1]) || strchr("_.-/", p[-1]));

		if (!starts)
			continue;
		if (len - i >= 3 && memcmp(p, "../", 3) == 0) {
			size_t up = 0;

			while (len - i >= 3 * (up + 1) && memcmp(p + 3 * up, "../", 3) == 0)
				up++;
			if (up > depth || (len - i - 3 * up >= 6 && memcmp(p + 3 * up, "sha" "red", 6) == 0))
				return p;
			i += 3 * up - 1;
			continue;
		}
		for (size_t h = 0; h < sizeof(homes) / sizeof(homes[0]); h++)
			if (len - i >= strlen(homes[h]) && memcmp(p, homes[h], strlen(homes[h])) == 0)
				return p;
	}
	return NULL;
}

/* A plain clone must work alone: no tracked file names a place outside it. */
Test(docs, no_tracked_file_names_a_path_outside_the_repository)
{
	char *cmd, *list;
	size_t len;
	int st, files = 0;

	cr_assert_geq(asprintf(&cmd, "git -C '%s' ls-files -z", bin_root()), 0);
	st = run_shell(cmd, &list, &len);
	free(cmd);
	if (st != 0) {
		free(list);
		cr_skip_test("not a git checkout: nothing tracked to check");
	}
	for (char *f = list; f < list + len; f += strlen(f) + 1) {
		char path[4096], *text;
		const char *bad;
		size_t tl;

		snprintf(path, sizeof(path), "%s/%s", bin_root(), f);
		if (access(path, R_OK) != 0)
			continue; /* deleted in the work tree */
		text = bin_read_file(path, &tl);
		files++;
		bad = memchr(text, 0, tl) ? NULL : names_path_outside(f, text, tl);
		if (bad) {
			size_t line = 1, n = strcspn(bad, "\n \t\"'`)>");

			for (const char *c = text; c < bad; c++)
				line += *c == '\n';
			cr_expect_fail("%s:%zu names a path outside the repository: %.*s", f, line,
			               (int)(n < 80 ? n : 80), bad);
		}
		free(text);
	}
	free(list);
	cr_assert_gt(files, 100, "only %d tracked files read", files);
}

/* The check above finds what it is meant to find, and no more. */
Test(docs, names_path_outside_finds_every_form)
{
	static const struct {
		const char *rel, *text;
		bool outside;
	} cases[] = {
	    {"README.md", "see ../" "shared/traces/x.rep", true},
	    {"docs/guide.md", "replay ../" "../sha" "red/traces/x.rep", true},
	    {"tests/test_replay.c", "\"../" "../" "traces/amptjp-bal.rep\"", true},
	    {"docs/guide.md", "[readme](../README.md)", false},
	    {"demos/cli/run.c", "#include \"../" "../vm/probe.h\"", false},
	    {"demos/cli/run.c", "#include \"../" "../" "../vm/probe.h\"", true},
	    {"Makefile", "TRACES := /wo" "rk/shared/traces", true},
	    {"docs/reference.md", "cd /ho" "me/me/aftermalloc", true},
	    {"docs/reference.md", "record -- sort /etc/services > /tmp/x", false},
	    {"docs/reference.md", "a/b/../c", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(names_path_outside(cases[i].rel, cases[i].text,
		                                strlen(cases[i].text)) != NULL,
		             cases[i].outside, "case %zu: %s in %s", i, cases[i].text, cases[i].rel);
}
