/*
 * test_narrate.c - the narration table (demos/step/narrate_table.c) covers what the
 * model emits: every function name seen while running every scenario of
 * demos/ under every malloc policy (zero page on and off), every name the
 * source passes to the probe, every event kind and every statement; an
 * unknown name gets the visible "(no narration)" marker, never a generic
 * sentence.
 *
 * AM_ROOT is the project root (make test sets it); "." without it.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../demos/step/narrate.h"
#include "../demos/cli/script.h"
#include "../demos/cli/session.h"

static const char *root(void)
{
	const char *r = getenv("AM_ROOT");

	return r ? r : ".";
}

/* Names met without a row, for the failure message. */
struct missing {
	char names[4096];
	size_t len;
	unsigned n;
	const char *where;
};

static void note_missing(struct missing *m, const char *name, const char *where)
{
	if (strstr(m->names, name))
		return;
	m->len +=
	    (size_t)snprintf(m->names + m->len, sizeof(m->names) - m->len, " %s (%s)", name, where);
	if (m->len >= sizeof(m->names))
		m->len = sizeof(m->names) - 1;
	m->n++;
}

static void missing_sink(void *ctx, const struct event *ev)
{
	struct missing *m = ctx;
	char buf[1024];

	if (ev->kind == EV_STMT) {
		if (!narrate_stmt(ev->fn))
			note_missing(m, ev->fn, m->where);
		return;
	}
	if (!narrate_lookup(ev->fn))
		note_missing(m, ev->fn ? ev->fn : "(null)", m->where);
	narrate_event(ev, buf, sizeof(buf));
	if (strstr(buf, NARRATE_MISSING))
		note_missing(m, buf, m->where);
}

static void run_everything(struct missing *m, bool zero_page)
{
	char *pattern[2];
	glob_t g;

	cr_assert_geq(asprintf(&pattern[0], "%s/demos/*.ams", root()), 0);
	cr_assert_geq(asprintf(&pattern[1], "%s/demos/crash/*.ams", root()), 0);
	cr_assert_eq(glob(pattern[0], 0, NULL, &g), 0, "no scripts in %s", pattern[0]);
	glob(pattern[1], GLOB_APPEND, NULL, &g);
	cr_assert_gt(g.gl_pathc, 3);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct script *sc;
		FILE *err = fopen("/dev/null", "w");

		cr_assert_eq(script_load(NULL, g.gl_pathv[i], &sc, stderr), 0, "%s", g.gl_pathv[i]);
		for (const struct malloc_ops *const *p = malloc_policies; *p; p++) {
			struct session_opts o;
			struct session *s;

			session_default_opts(&o);
			o.policy = (*p)->name;
			o.kopts.zero_page = zero_page;
			s = session_create(sc, &o, err);
			cr_assert_not_null(s, "%s with %s", g.gl_pathv[i], (*p)->name);
			m->where = g.gl_pathv[i];
			cr_assert_eq(session_add_sink(s, missing_sink, m), 0);
			while (!session_done(s))
				session_step(s);
			session_destroy(s);
		}
		script_free(sc);
		fclose(err);
	}
	globfree(&g);
	free(pattern[0]);
	free(pattern[1]);
}

Test(narrate, every_name_the_demos_emit_has_a_narration, .timeout = 60)
{
	struct missing m = {0};

	run_everything(&m, true);
	run_everything(&m, false);
	cr_assert_eq(m.n, 0, "%u names without a narration:%s", m.n, m.names);
}

/* The first string literal after the call's '(' that is a name, not a field
   key ({"addr", ...}) nor a sentence; for the name arrays every literal. */
static void scan_line(const char *line, struct missing *m, const char *file, int lineno,
                      bool *in_array)
{
	static const char *const calls[] = {
	    "probe_call(", "probe_ret(",     "EV(",       "heap_ev(",  "BUDDY_CALL(", "BUDDY_RET(",
	    "BUDDY_EV(",   "syscall_enter(", "bad_area(", "SIGNAL_FN_"};
	const char *p = NULL;
	bool array;
	char where[256];

	/* static const char *const alloc_fn[] = { [4] = "pud_alloc", ... }; */
	if (strstr(line, "_fn[] = {"))
		*in_array = true;
	array = *in_array;
	if (strstr(line, "};"))
		*in_array = false;

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]) && !p; i++)
		p = strstr(line, calls[i]);
	if (!p && !array)
		return;
	if (!p)
		p = line;
	snprintf(where, sizeof(where), "%s:%d", file, lineno);
	while ((p = strchr(p, '"'))) {
		const char *end = strchr(p + 1, '"');
		char name[64];
		size_t l;
		bool key;

		if (!end)
			return;
		l = (size_t)(end - p - 1);
		key = p > line && (p[-1] == '{' || (p > line + 1 && p[-1] == ' ' && p[-2] == '{'));
		if (!key && l && l < sizeof(name)) {
			bool ident = true;

			memcpy(name, p + 1, l);
			name[l] = 0;
			for (size_t k = 0; k < l; k++)
				if (!(isalnum((unsigned char)name[k]) || name[k] == '_' ||
				      (k == 0 && name[k] == '#')))
					ident = false;
			if (ident) {
				if (!narrate_lookup(name))
					note_missing(m, name, where);
				if (!array)
					return;
			}
		}
		p = end + 1;
	}
}

Test(narrate, every_name_the_source_passes_to_the_probe_has_a_narration)
{
	static const char *const dirs[] = {"vm", "kernel_sim", "libc"};
	struct missing m = {0};
	unsigned files = 0;

	for (size_t d = 0; d < 3; d++) {
		char *pattern;
		glob_t g;

		cr_assert_geq(asprintf(&pattern, "%s/%s/*.c", root(), dirs[d]), 0);
		cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "%s", pattern);
		for (size_t i = 0; i < g.gl_pathc; i++) {
			FILE *f = fopen(g.gl_pathv[i], "r");
			char line[1024];
			int n = 0;
			bool in_array = false;

			cr_assert_not_null(f);
			files++;
			while (fgets(line, sizeof(line), f))
				scan_line(line, &m, g.gl_pathv[i], ++n, &in_array);
			fclose(f);
		}
		globfree(&g);
		free(pattern);
	}
	cr_assert_gt(files, 10);
	cr_assert_eq(m.n, 0, "%u names without a narration:%s", m.n, m.names);
}

Test(narrate, the_fault_path_is_narrated_with_its_real_source_files)
{
	char buf[512];

	narrate_fn("do_anonymous_page", buf, sizeof(buf));
	cr_assert(strncmp(buf, "do_anonymous_page (mm/memory.c): the page was never touched", 59) ==
	              0,
	          "%s", buf);
	narrate_fn("__rmqueue_smallest", buf, sizeof(buf));
	cr_assert(strstr(buf, "(mm/page_alloc.c)"), "%s", buf);
	narrate_fn("do_user_addr_fault", buf, sizeof(buf));
	cr_assert(strstr(buf, "(arch/x86/mm/fault.c)"), "%s", buf);
	narrate_fn("sysmalloc", buf, sizeof(buf));
	cr_assert(strstr(buf, "(malloc/malloc.c)") && strstr(buf, "top_pad"), "%s", buf);
	/* The lesson: malloc reserves, the first touch allocates. */
	narrate_fn("malloc", buf, sizeof(buf));
	cr_assert(strstr(buf, "never allocates physical memory"), "%s", buf);
	narrate_fn("__x64_sys_brk", buf, sizeof(buf));
	cr_assert(strstr(buf, "no frame and no PTE"), "%s", buf);
}

Test(narrate, an_unknown_name_is_marked_not_explained)
{
	struct event ev = {.seq = 1, .kind = EV_CALL, .fn = "no_such_function"};
	char buf[512];

	cr_assert_null(narrate_lookup("no_such_function"));
	narrate_fn("no_such_function", buf, sizeof(buf));
	cr_assert_str_eq(buf, "no_such_function: " NARRATE_MISSING);
	narrate_event(&ev, buf, sizeof(buf));
	cr_assert(strstr(buf, NARRATE_MISSING), "%s", buf);
	ev.kind = EV_NOTE;
	narrate_event(&ev, buf, sizeof(buf));
	cr_assert(strstr(buf, NARRATE_MISSING), "%s", buf);
}

Test(narrate, every_event_kind_has_its_own_sentence)
{
	for (int k = 0; k < EV__COUNT; k++) {
		struct event ev = {.seq = 7,
		                   .kind = (uint8_t)k,
		                   .fn = "set_pte_at",
		                   .nf = 2,
		                   .f = {{"addr", 0x555555559000}, {"order", 1}}};
		char buf[512], buf2[512];

		if (k == EV_STMT)
			ev.fn = "store";
		narrate_kind(&ev, buf, sizeof(buf));
		cr_assert_gt(strlen(buf), 5, "kind %d", k);
		cr_assert_null(strstr(buf, NARRATE_MISSING), "kind %d: %s", k, buf);
		narrate_event(&ev, buf2, sizeof(buf2));
		cr_assert_null(strstr(buf2, NARRATE_MISSING), "kind %d: %s", k, buf2);
		/* the function's narration follows, except for a statement */
		if (k != EV_STMT)
			cr_assert(strstr(buf2, "set_pte_at (arch/x86/include/asm/pgtable.h)"),
			          "kind %d: %s", k, buf2);
	}
}

Test(narrate, every_statement_keyword_has_a_narration)
{
	for (int i = 0; i < ST__COUNT; i++)
		cr_assert_not_null(narrate_stmt(script_stmt_defs[i].name), "%s",
		                   script_stmt_defs[i].name);
	cr_assert_null(narrate_stmt("frobnicate"));
}

Test(narrate, table_rows_are_unique_and_complete)
{
	size_t n;
	const struct narration *t = narrate_table(&n);

	cr_assert_gt(n, 100);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(t[i].what);

		cr_assert(t[i].src && t[i].src[0], "%s", t[i].fn);
		cr_assert(l > 20 && t[i].what[l - 1] == '.', "%s: '%s'", t[i].fn, t[i].what);
		cr_assert(t[i].view >= NV_NONE && t[i].view <= NV_MAPS);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(t[i].fn, t[j].fn, "%s twice", t[i].fn);
		cr_assert_eq(narrate_lookup(t[i].fn), &t[i]);
	}
}

Test(narrate, page_fault_error_codes_read_as_words)
{
	char buf[128];

	cr_assert_str_eq(narrate_pf_error(6, buf, sizeof(buf)),
	                 "write, user mode, the page is not present");
	cr_assert_str_eq(narrate_pf_error(4, buf, sizeof(buf)),
	                 "read, user mode, the page is not present");
	cr_assert_str_eq(narrate_pf_error(7, buf, sizeof(buf)),
	                 "write, user mode, the page is present but forbids it");
}

Test(narrate, the_view_follows_the_event)
{
	struct event ev = {.kind = EV_FAULT, .fn = "#PF"};

	cr_assert_eq(narrate_view(&ev), NV_WALK);
	ev = (struct event){.kind = EV_BUDDY_SPLIT, .fn = "expand"};
	cr_assert_eq(narrate_view(&ev), NV_BUDDY);
	ev = (struct event){.kind = EV_HEAP, .fn = "_int_malloc"};
	cr_assert_eq(narrate_view(&ev), NV_HEAP);
	ev = (struct event){.kind = EV_SYSCALL, .fn = "entry_SYSCALL_64"};
	cr_assert_eq(narrate_view(&ev), NV_MAPS);
	ev = (struct event){.kind = EV_CALL, .fn = "__rmqueue_smallest"};
	cr_assert_eq(narrate_view(&ev), NV_BUDDY);
	ev = (struct event){.kind = EV_CALL, .fn = "do_anonymous_page"};
	cr_assert_eq(narrate_view(&ev), NV_WALK);
	ev = (struct event){.kind = EV_CALL, .fn = "sysmalloc"};
	cr_assert_eq(narrate_view(&ev), NV_HEAP);
}

Test(narrate, wrapping_keeps_lines_within_the_width)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char text[600];

	narrate_fn("do_user_addr_fault", text, sizeof(text));
	narrate_wrap_hanging(f, text, 2, 6, 40);
	fclose(f);
	cr_assert_eq(strncmp(buf, "  do_user_addr_fault", 20), 0, "%s", buf);
	for (char *l = buf, *nl; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		cr_assert_not_null(nl);
		cr_assert_leq(nl - l, 40, "%.*s", (int)(nl - l), l);
		if (l != buf)
			cr_assert_eq(strncmp(l, "      ", 6), 0);
	}
	free(buf);
}

Test(narrate, the_source_scanner_finds_names_and_skips_keys_and_sentences)
{
	struct missing m = {0};
	bool in_array = false;

	scan_line("\tprobe_call(p, K, \"not_a_real_fn\", {\"addr\", va});\n", &m, "x.c", 1,
	          &in_array);
	scan_line("\tEV(p, LAYER_LIBC, EV_HEAP, \"malloc\", \"not a name\", {\"chunk\", c});\n", &m,
	          "x.c", 2, &in_array);
	scan_line("\tstatic const char *const x_fn[] = {\n", &m, "x.c", 3, &in_array);
	scan_line("\t    [4] = \"pud_alloc\", [3] = \"not_real_either\"};\n", &m, "x.c", 4,
	          &in_array);
	scan_line("\tfputs(\"not_scanned\", f);\n", &m, "x.c", 5, &in_array);
	cr_assert_eq(m.n, 2, "%s", m.names);
	cr_assert(strstr(m.names, "not_a_real_fn (x.c:1)"), "%s", m.names);
	cr_assert(strstr(m.names, "not_real_either (x.c:4)"), "%s", m.names);
}
