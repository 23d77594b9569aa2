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
 *   - host timings: replay's "time N s (N ops/s)" line, the ops/s column of
 *     its table, and "secs" in its --json (doc_masks below);
 *   - a block preceded by the line "<!-- doctest: digits vary: REASON -->":
 *     every number in it (a run of digits), for output that depends on
 *     programs of the host (record runs the host's own sort and glibc). The
 *     words and the number of lines must still match;
 *   - the warnings a sanitizer runtime prints by itself (drop_sanitizer_notes).
 *
 * `make docs` rewrites, in place, every output that differs with what the
 * tool printed (a masked figure keeps the doc's value when the rest of its
 * line is the same, so timings do not churn); review the diff and commit it.
 * A block's commands write files only under build/.
 *
 * A second test: no tracked file names a path outside the repository.
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

/* Host timings: each group of the pattern is masked where it matches. */
static const char *const doc_masks[] = {
    /* replay, one trace and one policy: "time            0.000 s (254957 ops/s)" */
    "^time +([0-9]+\\.[0-9]+) s \\(([0-9]+) ops/s\\)$",
    /* replay's table: the last column, ops/s */
    "^[^ ]+ +[^ ]+ +(yes|no) +[0-9.]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+ +([0-9]+)$",
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
		regmatch_t g[4];
		size_t from = 0;

		cr_assert_eq(regcomp(&re, doc_masks[i], REG_EXTENDED), 0, "mask %zu", i);
		while (from <= strlen(m) &&
		       regexec(&re, m + from, 4, g, from ? REG_NOTBOL : 0) == 0) {
			size_t next = from + (size_t)g[0].rm_eo;

			/* right to left, so that earlier offsets stay valid */
			for (int k = 3; k >= 1; k--) {
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
	    {"malloc-free.rep        seed     yes    0.847         1360      6      0        1     "
	     "0.118     820107",
	     "malloc-free.rep        seed     yes    0.847         1360      6      0        1     "
	     "0.118    1271028",
	     true},
	    /* a figure of the model in the same row is compared */
	    {"malloc-free.rep        seed     yes    0.847         1360      6      0        1     "
	     "0.118     820107",
	     "malloc-free.rep        seed     yes    0.847         1360      6      0        2     "
	     "0.118     820107",
	     false},
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

/* The doc test runs its own commands: every file they write is under build/. */
Test(docs, a_console_block_writes_files_only_under_build)
{
	char **docs = documents();

	for (char **d = docs; *d; d++) {
		char path[4096], *text;
		size_t len, n;
		struct lines doc;
		struct doc_cmd *cmds;

		snprintf(path, sizeof(path), "%s/%s", bin_root(), *d);
		text = bin_read_file(path, &len);
		doc = lines_of(text, len);
		free(text);
		n = find_commands(&doc, &cmds);
		for (size_t c = 0; c < n; c++) {
			const char *t = cmds[c].text;
			static const char *const writes[] = {"--events ",     "--perfetto ", " -o ",
			                                     "--screenshot ", " > ",         " >> ",
			                                     " 2> "};

			for (size_t w = 0; w < sizeof(writes) / sizeof(writes[0]); w++)
				for (const char *h = strstr(t, writes[w]); h;
				     h = strstr(h + 1, writes[w])) {
					const char *f = h + strlen(writes[w]);

					if (*f == '\'' || *f == '"')
						continue; /* grep -o 'PATTERN', not a file */
					cr_expect(strncmp(f, "build/", 6) == 0 ||
					              strncmp(f, "/dev/null", 9) == 0 ||
					              strncmp(f, "/nonexistent", 12) == 0,
					          "%s:%zu: `%s` writes outside build/", *d,
					          cmds[c].line + 1, t);
				}
			free(cmds[c].text);
		}
		free(cmds);
		lines_free(&doc);
		free(*d);
	}
	free(docs);
}

/* A plain clone must work alone: no tracked file names a place outside it. */
Test(docs, no_tracked_file_names_a_path_outside_the_repository)
{
	/* spelled in two parts, so that this file does not match itself */
	const char *needles[] = {"../"
	                         "shared",
	                         "/wo"
	                         "rk/"};
	char *cmd, *list;
	size_t len;
	int st;

	cr_assert_geq(asprintf(&cmd, "git -C '%s' ls-files -z", bin_root()), 0);
	st = run_shell(cmd, &list, &len);
	free(cmd);
	if (st != 0) {
		free(list);
		cr_skip_test("not a git checkout: nothing tracked to check");
	}
	for (char *f = list; f < list + len; f += strlen(f) + 1) {
		char path[4096], *text;
		size_t tl;

		snprintf(path, sizeof(path), "%s/%s", bin_root(), f);
		if (access(path, R_OK) != 0)
			continue; /* deleted in the work tree */
		text = bin_read_file(path, &tl);
		for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
			cr_expect_null(memmem(text, tl, needles[i], strlen(needles[i])),
			               "%s names a path outside the repository (%s)", f,
			               needles[i]);
		free(text);
	}
	free(list);
}
