/*
 * test_view.c - the SDL viewer from outside: `aftermalloc view --screenshot`
 * draws event N of demos/first-touch.ams into a PNG, which is loaded back
 * with SDL_image and checked: its size, that every panel of the layout
 * (view_layout, the function the viewer uses) has content drawn in it, and
 * that the colour of "the frame just taken" appears in the frame grid after
 * the fault's frame_alloc event and not before. Bad options exit 2. Under
 * Xvfb, a real window takes the keys s, n, f and q and exits 0.
 *
 * AM_BIN is the binary and AM_ROOT the project root (make test sets both).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <SDL.h>
#include <SDL_image.h>
#include <cjson/cJSON.h>

#include "../demos/cli/script.h"
#include "../kernel_sim/buddy.h"
#include "../demos/view/view_draw.h"
#include "../demos/view/view_layout.h"
#include "../demos/view/view_listing.h"
#include "../demos/view/view_model.h"

static const char *bin(void)
{
	const char *b = getenv("AM_BIN");

	return b ? b : "build/aftermalloc";
}

static const char *root(void)
{
	const char *r = getenv("AM_ROOT");

	return r ? r : ".";
}

static char tmpdir[64];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/am_view_XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	cr_assert_eq(access(bin(), X_OK), 0, "no binary at %s (set AM_BIN)", bin());
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", tmpdir);
}

TestSuite(view, .init = setup, .fini = teardown, .timeout = 60);

/* Run the binary with args (NULL-terminated); stderr into err (n bytes). */
static int run_bin(char *err, size_t n, const char *const *args)
{
	char errpath[128];
	int fd, status;
	pid_t pid;

	snprintf(errpath, sizeof(errpath), "%s/stderr", tmpdir);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		const char *argv[32];
		int i = 0;

		argv[i++] = bin();
		for (; args[i - 1] && i < 31; i++)
			argv[i] = args[i - 1];
		argv[i] = NULL;
		fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		execv(bin(), (char *const *)argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	if (err) {
		FILE *f = fopen(errpath, "r");
		size_t r = f ? fread(err, 1, n - 1, f) : 0;

		err[r] = '\0';
		if (f)
			fclose(f);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const char *script(const char *name)
{
	static char buf[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/demos/%s", root(), name);
	return buf[k];
}

/* A picture the viewer wrote, as ARGB8888. */
static SDL_Surface *load_png(const char *png)
{
	SDL_Surface *s = IMG_Load(png), *conv;

	cr_assert_not_null(s, "cannot load %s: %s", png, IMG_GetError());
	conv = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
	SDL_FreeSurface(s);
	cr_assert_not_null(conv);
	return conv;
}

/* Draw event `at` of first-touch.ams (size NULL: the default) and load it. */
static SDL_Surface *shot(uint64_t at, const char *size)
{
	char png[128], num[32], err[2048];
	int rc;

	snprintf(png, sizeof(png), "%s/shot-%llu.png", tmpdir, (unsigned long long)at);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)at);
	if (size) {
		const char *args[] = {"view",
		                      script("first-touch.ams"),
		                      "--screenshot",
		                      png,
		                      "--at",
		                      num,
		                      "--size",
		                      size,
		                      NULL};
		rc = run_bin(err, sizeof(err), args);
	} else {
		const char *args[] = {
		    "view", script("first-touch.ams"), "--screenshot", png, "--at", num, NULL};
		rc = run_bin(err, sizeof(err), args);
	}
	cr_assert_eq(rc, 0, "view --screenshot --at %s exited %d: %s", num, rc, err);
	return load_png(png);
}

static uint32_t pixel(SDL_Surface *s, int x, int y)
{
	const uint32_t *row = (const uint32_t *)((const uint8_t *)s->pixels + (size_t)y * s->pitch);

	return row[x] & 0xffffff;
}

/* Pixels of colour rgb inside r (want == false: of any colour but bg and panel). */
static long count(SDL_Surface *s, const struct view_rect *r, uint32_t rgb, bool want)
{
	long n = 0;

	for (int y = r->y; y < r->y + r->h && y < s->h; y++)
		for (int x = r->x; x < r->x + r->w && x < s->w; x++) {
			uint32_t p = pixel(s, x, y);

			if (want ? p == rgb : p != VIEW_COL_BG && p != VIEW_COL_PANEL)
				n++;
		}
	return n;
}

/* The seq of the first event of demo `demo` of kind (and function fn, if
   not NULL; at script line `line`, if not 0). */
static uint64_t first_event(const char *demo, const char *kind, const char *fn, int line)
{
	char path[128], buf[4096];
	const char *args[] = {"run", script(demo), "--events", path, NULL};
	uint64_t seq = UINT64_MAX;
	FILE *f;

	snprintf(path, sizeof(path), "%s/events.jsonl", tmpdir);
	cr_assert_eq(run_bin(NULL, 0, args), 0);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (seq == UINT64_MAX && fgets(buf, sizeof(buf), f)) {
		cJSON *o = cJSON_Parse(buf);
		const cJSON *k = cJSON_GetObjectItem(o, "kind"), *n = cJSON_GetObjectItem(o, "fn");
		const cJSON *l = cJSON_GetObjectItem(o, "line");

		if (cJSON_IsString(k) && strcmp(k->valuestring, kind) == 0 &&
		    (!fn || (cJSON_IsString(n) && strcmp(n->valuestring, fn) == 0)) &&
		    (!line || (cJSON_IsNumber(l) && l->valueint == line)))
			seq = (uint64_t)cJSON_GetObjectItem(o, "seq")->valuedouble;
		cJSON_Delete(o);
	}
	fclose(f);
	cr_assert_neq(seq, UINT64_MAX, "no %s event (line %d) in %s", kind, line, demo);
	return seq;
}

static uint64_t find_event_in(const char *demo, const char *kind, const char *fn)
{
	return first_event(demo, kind, fn, 0);
}

static uint64_t find_event(const char *kind, const char *fn)
{
	return find_event_in("first-touch.ams", kind, fn);
}

Test(view, screenshot_has_the_default_size_and_the_asked_one)
{
	uint64_t fault = find_event("fault", NULL);
	SDL_Surface *s = shot(fault, NULL);

	cr_expect_eq(s->w, VIEW_DEFAULT_W);
	cr_expect_eq(s->h, VIEW_DEFAULT_H);
	SDL_FreeSurface(s);
	s = shot(fault, "800x600");
	cr_expect_eq(s->w, 800);
	cr_expect_eq(s->h, 600);
	SDL_FreeSurface(s);
}

Test(view, every_panel_has_content_drawn_in_it)
{
	uint64_t events[] = {find_event("stmt", NULL), find_event("fault", NULL),
	                     find_event("frame_alloc", NULL)};
	struct view_layout L;

	view_layout(&L, VIEW_DEFAULT_W, VIEW_DEFAULT_H, 1, true);
	for (size_t e = 0; e < sizeof(events) / sizeof(events[0]); e++) {
		SDL_Surface *s = shot(events[e], NULL);

		for (int p = 0; p < VP__COUNT; p++) {
			struct view_rect b = view_panel_body(&L.panel[0][p], L.font_px);
			long n = count(s, &b, 0, false), area = (long)b.w * b.h;

			cr_expect_gt(n * 200, area,
			             "event %llu: panel %s has %ld drawn pixels of %ld",
			             (unsigned long long)events[e], view_panel_name(p), n, area);
		}
		SDL_FreeSurface(s);
	}
}

Test(view, frame_just_taken_is_highlighted_after_the_fault_and_not_before)
{
	uint64_t fault = find_event("fault", NULL);
	uint64_t alloc = find_event("frame_alloc", "__alloc_pages");
	struct view_layout L;
	struct view_rect grid;
	SDL_Surface *s;

	cr_assert_lt(fault, alloc);
	view_layout(&L, VIEW_DEFAULT_W, VIEW_DEFAULT_H, 1, true);
	/* The grid and the magnified strip under it (not the legend). */
	grid = L.phys_grid[0];
	grid.h = L.phys_zoom[0].y + L.phys_zoom[0].h - grid.y;
	s = shot(fault - 1, NULL);
	cr_expect_eq(count(s, &grid, VIEW_COL_TAKEN, true), 0, "highlight before the fault");
	SDL_FreeSurface(s);
	s = shot(fault, NULL);
	cr_expect_eq(count(s, &grid, VIEW_COL_TAKEN, true), 0, "highlight at the fault itself");
	SDL_FreeSurface(s);
	s = shot(alloc, NULL);
	cr_expect_gt(count(s, &grid, VIEW_COL_TAKEN, true), 4, "no highlight at the frame_alloc");
	SDL_FreeSurface(s);
	s = shot(alloc + 5, NULL);
	cr_expect_gt(count(s, &grid, VIEW_COL_TAKEN, true), 4, "highlight gone within the fault");
	SDL_FreeSurface(s);
}

Test(view, bad_options_exit_2_with_a_message)
{
	char err[2048], png[128];
	const char *no_at[] = {"view", script("first-touch.ams"), "--screenshot", png, NULL};
	const char *bad_size[] = {
	    "view", script("first-touch.ams"), "--screenshot", png, "--at", "5", "--size", "10x10",
	    NULL};
	const char *bad_at[] = {"view", script("first-touch.ams"), "--at", "x", NULL};
	const char *no_script[] = {"view", "--screenshot", png, "--at", "5", NULL};
	const char *bad_policy[] = {"view", script("first-touch.ams"), "--compare", "glibc,nope",
	                            NULL};

	snprintf(png, sizeof(png), "%s/x.png", tmpdir);
	cr_expect_eq(run_bin(err, sizeof(err), no_at), 2);
	cr_expect_not_null(strstr(err, "--at"), "%s", err);
	cr_expect_eq(run_bin(err, sizeof(err), bad_size), 2);
	cr_expect_not_null(strstr(err, "--size"), "%s", err);
	cr_expect_eq(run_bin(err, sizeof(err), bad_at), 2);
	cr_expect_eq(run_bin(err, sizeof(err), no_script), 2);
	cr_expect_eq(run_bin(err, sizeof(err), bad_policy), 2);
	cr_expect_neq(access(png, F_OK), 0, "a picture was written despite bad options");
}

/* run_bin with DISPLAY set to display (NULL: unset), WAYLAND_DISPLAY and
   SDL_VIDEODRIVER unset, stdin /dev/null; the seconds it took in *secs. */
static int run_without_display(char *err, size_t n, const char *display, double *secs)
{
	const char *args[] = {"view", script("first-touch.ams"), NULL};
	char *saved = getenv("DISPLAY") ? strdup(getenv("DISPLAY")) : NULL;
	char *saved_wl = getenv("WAYLAND_DISPLAY") ? strdup(getenv("WAYLAND_DISPLAY")) : NULL;
	struct timespec t0, t1;
	int status;

	if (display)
		setenv("DISPLAY", display, 1);
	else
		unsetenv("DISPLAY");
	unsetenv("WAYLAND_DISPLAY");
	unsetenv("SDL_VIDEODRIVER");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	status = run_bin(err, n, args);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (saved)
		setenv("DISPLAY", saved, 1);
	else
		unsetenv("DISPLAY");
	if (saved_wl)
		setenv("WAYLAND_DISPLAY", saved_wl, 1);
	free(saved);
	free(saved_wl);
	return status;
}

/* With no display the window cannot open: exit 2 with the documented
   message at once. SDL would otherwise fall back to its offscreen driver and
   wait for keys for ever. (It takes milliseconds; 5 s tells a hang.) */
Test(view, without_a_display_it_exits_2_at_once, .timeout = 30)
{
	char err[2048];
	double secs;

	cr_assert_eq(run_without_display(err, sizeof(err), NULL, &secs), 2, "%s", err);
	cr_assert_lt(secs, 5.0);
	cr_assert_not_null(strstr(err, "aftermalloc view: no display (DISPLAY and WAYLAND_DISPLAY "
	                               "are not set). Use `aftermalloc step "),
	                   "%s", err);
	/* a display that is named but not there: SDL falls back, we do not */
	cr_assert_eq(run_without_display(err, sizeof(err), "unix:4093", &secs), 2, "%s", err);
	cr_assert_lt(secs, 5.0);
	cr_assert_not_null(strstr(err, "aftermalloc view: no display ("), "%s", err);
}

Test(view, event_past_the_end_draws_the_last_one_and_says_so)
{
	char err[2048], png[128];
	const char *args[] = {
	    "view", script("first-touch.ams"), "--screenshot", png, "--at", "999999", NULL};

	snprintf(png, sizeof(png), "%s/end.png", tmpdir);
	cr_expect_eq(run_bin(err, sizeof(err), args), 0, "%s", err);
	cr_expect_not_null(strstr(err, "past the end"), "%s", err);
	cr_expect_eq(access(png, F_OK), 0);
}

Test(view, layout_tiles_each_side_without_overlap)
{
	int sizes[][2] = {{1280, 800}, {640, 400}, {1920, 1080}, {800, 600}};

	for (size_t k = 0; k < 4; k++)
		for (int nsides = 1; nsides <= 2; nsides++)
			for (int script = 0; script <= 1; script++) {
				struct view_layout L;
				long area = 0;

				view_layout(&L, sizes[k][0], sizes[k][1], nsides, script);
				for (int s = 0; s < nsides; s++)
					for (int p = 0; p < VP__COUNT; p++) {
						const struct view_rect *a = &L.panel[s][p];

						/* hidden: the script without it, the log when
						   the script takes its place */
						if (a->w == 0 && a->h == 0 &&
						    (p == VP_SCRIPT ? !script
						                    : p == VP_LOG && script))
							continue;
						cr_expect(a->w > 0 && a->h > 0 && a->x >= 0 &&
						              a->y >= 0 && a->x + a->w <= L.w &&
						              a->y + a->h <= L.cmd.y,
						          "%dx%d sides %d script %d: %s outside",
						          L.w, L.h, nsides, script,
						          view_panel_name(p));
						area += (long)a->w * a->h;
						for (int q = 0; q < p; q++) {
							const struct view_rect *b = &L.panel[s][q];
							bool apart = a->x + a->w <= b->x ||
							             b->x + b->w <= a->x ||
							             a->y + a->h <= b->y ||
							             b->y + b->h <= a->y;

							cr_expect(apart, "%s overlaps %s",
							          view_panel_name(p),
							          view_panel_name(q));
						}
					}
				cr_expect_eq(
				    area, (long)L.w * L.cmd.y,
				    "%dx%d sides %d script %d: panels do not tile the window", L.w,
				    L.h, nsides, script);
			}
}

/*
 * The script panel's place: beside every other panel in a window at least
 * 670 pixels high (ten lines of text or more, and the frame grid and the
 * log keep at least half their height), in the event log's place below
 * that (800x600, 640x400); none at all when hidden (the others as before).
 */
Test(view, the_script_panel_fits_beside_the_others_and_takes_the_log_s_place_when_short)
{
	int sizes[][2] = {{1280, 800}, {800, 600}, {1920, 1080}, {640, 400}};

	for (size_t k = 0; k < 4; k++)
		for (int nsides = 1; nsides <= 2; nsides++) {
			struct view_layout L, N;
			bool short_win = sizes[k][1] < 670;

			view_layout(&L, sizes[k][0], sizes[k][1], nsides, true);
			view_layout(&N, sizes[k][0], sizes[k][1], nsides, false);
			for (int s = 0; s < nsides; s++) {
				struct view_rect b =
				    view_panel_body(&L.panel[s][VP_SCRIPT], L.font_px);

				/* two sides: half the width, a third of a column */
				cr_expect_geq(b.h / (L.font_px + 1),
				              nsides == 1 ? (short_win ? 5 : 10)
				                          : (short_win ? 3 : 6),
				              "%dx%d sides %d: the script shows %d lines", L.w, L.h,
				              nsides, b.h / (L.font_px + 1));
				cr_expect_eq(N.panel[s][VP_SCRIPT].w, 0);
				cr_expect_gt(N.panel[s][VP_LOG].h, 0);
				if (short_win) {
					cr_expect_eq(L.panel[s][VP_LOG].h, 0);
					for (int p = 0; p < VP_LOG; p++)
						cr_expect_eq(memcmp(&L.panel[s][p], &N.panel[s][p],
						                    sizeof(struct view_rect)),
						             0, "%s moved", view_panel_name(p));
				} else {
					cr_expect_gt(
					    L.panel[s][VP_LOG].h * 10, N.panel[s][VP_LOG].h * 5,
					    "%dx%d: the log keeps half its height", L.w, L.h);
					cr_expect_geq(L.phys_grid[s].h * 10, N.phys_grid[s].h * 5,
					              "%dx%d: the frame grid keeps half its height",
					              L.w, L.h);
				}
			}
		}
}

/* The stepper of demo at its first event. */
static struct stepper *demo_stepper(const char *demo, struct script **sc)
{
	struct session_opts o;
	struct stepper *st;

	cr_assert_eq(script_load(NULL, script(demo), sc, stderr), 0);
	session_default_opts(&o);
	st = stepper_create(*sc, &o, 4096, stderr);
	cr_assert_not_null(st);
	return st;
}

/* The listing's current row (and that there is exactly one). */
static const struct vl_row *current_row(const struct view_listing *ls)
{
	const struct vl_row *cur = NULL;

	for (int r = 0; r < ls->nr_rows; r++)
		if (ls->rows[r].current) {
			cr_assert_null(cur, "two current rows: %d and %d", cur->line,
			               ls->rows[r].line);
			cur = &ls->rows[r];
		}
	return cur;
}

/*
 * The highlighted line follows the statement: at every statement event of
 * loops.ams (two loops of fifty), the listing's one current row is the line
 * the stmt event names (its "line" field, from the event stream, not from
 * the listing's own source), it is shown, and the `for` line around it
 * carries the loop variable's value now, which the top bar's loop context
 * gives too.
 */
Test(view, the_script_panel_s_highlight_follows_each_statement_and_its_loop_iteration,
     .timeout = 120)
{
	struct script *sc;
	struct stepper *st = demo_stepper("loops.ams", &sc);
	struct view_listing ls;
	int seen = 0, in_loop = 0;

	view_listing_build(&ls, st, NULL, sc->nr_lines, 20);
	cr_expect_eq(ls.cur_line, 0);
	cr_expect_eq(ls.first, 1, "before the first statement: the script's start");
	cr_expect_null(current_row(&ls));
	while (stepper_do(st, STEP_STMT, 0)) {
		int line = (int)event_field(&st->cur, "line", 0);
		char ctx[96];

		cr_assert_eq(st->cur.kind, EV_STMT);
		view_listing_build(&ls, st, NULL, sc->nr_lines, 20);
		const struct vl_row *cur = current_row(&ls);

		cr_assert_not_null(cur, "event %" PRIu64 ": line %d not shown", st->cur.seq, line);
		cr_assert_eq(cur->line, line, "event %" PRIu64 ": row %d highlighted for line %d",
		             st->cur.seq, cur->line, line);
		cr_assert_eq(ls.cur_line, line);
		cr_assert_str_eq(cur->text, sc->lines[line - 1]);
		cr_expect_geq(line - ls.first, 20 / 3 < line - 1 ? 20 / 3 : line - 1);
		/* in a loop's body: the `for` row above says the iteration */
		session_loop_context(st->s, ctx, sizeof(ctx));
		if (cur->nr_blocks && cur->block[0] == VL_FOR && !cur->opener) {
			const struct vl_row *f = view_listing_row(&ls, cur->block_line[0]);

			cr_assert_not_null(f);
			cr_assert(f->opener);
			cr_assert_str_eq(f->iter, ctx, "line %d: %s beside the for, %s in the bar",
			                 line, f->iter, ctx);
			in_loop++;
		}
		seen++;
	}
	cr_expect_gt(seen, 100, "two loops of fifty: %d statements", seen);
	cr_expect_geq(in_loop, 100);
	view_listing_build(&ls, st, NULL, sc->nr_lines, 20);
	cr_expect_eq(ls.cur_line, -1, "after the end: no current line");
	cr_expect_eq(ls.first + ls.nr_rows - 1, sc->nr_lines, "the script's end shown");
	stepper_destroy(st);
	script_free(sc);
}

/*
 * fork-cow.ams runs lines 26-40 in the child (`in c`): the rows of that
 * block name the child's task once a statement of the block has run ("pid
 * 2", known), the block's ID as written before ("in c"), and nothing
 * outside the block; every row of the block has it in the gutter; the
 * comments are split off to be dimmed.
 */
Test(view, the_script_panel_names_the_task_of_an_in_block, .timeout = 60)
{
	struct script *sc;
	struct stepper *st = demo_stepper("fork-cow.ams", &sc);
	uint64_t before = first_event("fork-cow.ams", "stmt", NULL, 22);
	uint64_t inside = first_event("fork-cow.ams", "stmt", NULL, 34);
	uint64_t after = first_event("fork-cow.ams", "stmt", NULL, 44);
	struct view_listing ls;
	const struct vl_row *r;

	cr_assert(stepper_do(st, STEP_GOTO, before));
	view_listing_build(&ls, st, NULL, sc->nr_lines, 60);
	r = view_listing_row(&ls, 27);
	cr_assert_not_null(r);
	cr_expect_str_eq(r->task, "in c");
	cr_expect(!r->task_known);
	cr_expect_eq(r->nr_blocks, 1);
	cr_expect_eq(r->block[0], VL_IN);
	cr_expect_eq(r->block_line[0], 25);
	r = view_listing_row(&ls, 26); /* a comment: all of it dimmed */
	cr_expect_eq(r->code_len, 2, "'%s': code of %d bytes", r->text, r->code_len);
	cr_expect_str_eq(view_listing_row(&ls, 22)->task, "");
	cr_expect_eq(view_listing_row(&ls, 22)->nr_blocks, 0);

	cr_assert(stepper_do(st, STEP_GOTO, inside));
	view_listing_build(&ls, st, NULL, sc->nr_lines, 60);
	cr_expect_eq(current_row(&ls)->line, 34);
	for (int line = 26; line <= 40; line++) {
		r = view_listing_row(&ls, line);
		cr_assert_not_null(r);
		cr_expect_str_eq(r->task, "pid 2", "line %d: '%s'", line, r->task);
		cr_expect(r->task_known);
	}
	cr_expect(view_listing_row(&ls, 25)->opener);
	cr_expect_str_eq(view_listing_row(&ls, 44)->task, "");

	cr_assert(stepper_do(st, STEP_GOTO, after));
	view_listing_build(&ls, st, NULL, sc->nr_lines, 60);
	cr_expect_str_eq(view_listing_row(&ls, 30)->task, "pid 2", "still known from the log");
	cr_expect_eq(current_row(&ls)->line, 44);
	stepper_destroy(st);
	script_free(sc);
}

/* glibc-threads.ams: an `in t1` block shows the thread's tid ("t2"). */
Test(view, the_script_panel_names_a_thread_s_block, .timeout = 60)
{
	struct script *sc;
	struct stepper *st = demo_stepper("glibc-threads.ams", &sc);
	uint64_t at = first_event("glibc-threads.ams", "stmt", NULL, 36);
	struct view_listing ls;

	cr_assert(stepper_do(st, STEP_GOTO, at));
	view_listing_build(&ls, st, NULL, sc->nr_lines, 12);
	cr_expect_eq(current_row(&ls)->line, 36);
	cr_expect_str_eq(current_row(&ls)->task, "t2");
	cr_expect_eq(ls.first, 36 - 12 / 3);
	stepper_destroy(st);
	script_free(sc);
}

/* Lines past the file's (typed on the command line) are marked so. */
Test(view, the_script_panel_marks_typed_lines)
{
	struct script *sc;
	struct session_opts o;
	struct stepper *st;
	struct view_listing ls;

	cr_assert_eq(script_parse("t.ams", "p = malloc 10  # one\n\nq = malloc 20\n", &sc, stderr),
	             0);
	session_default_opts(&o);
	st = stepper_create(sc, &o, 256, stderr);
	cr_assert_not_null(st);
	while (stepper_do(st, STEP_STMT, 0) && st->cur_stmt < 1)
		;
	view_listing_build(&ls, st, NULL, 2, 10);
	cr_assert_eq(ls.nr_rows, 3);
	cr_expect(!ls.rows[0].typed && !ls.rows[1].typed && ls.rows[2].typed);
	cr_expect(ls.rows[1].blank);
	cr_expect_eq(ls.rows[0].code_len, 15);
	cr_expect(ls.rows[2].current);
	stepper_destroy(st);
	script_free(sc);
}

/* Draw event at of demo into tmpdir/name (extra: one more option pair). */
static SDL_Surface *shot_of(const char *demo, uint64_t at, const char *name, const char *opt,
                            const char *val)
{
	char png[128], num[32], err[2048];
	const char *args[] = {"view", script(demo), "--screenshot", png, "--at", num, opt,
	                      val,    NULL};
	int rc;

	snprintf(png, sizeof(png), "%s/%s", tmpdir, name);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)at);
	rc = run_bin(err, sizeof(err), args);
	cr_assert_eq(rc, 0, "view exited %d: %s", rc, err);
	return load_png(png);
}

/*
 * The picture shows the highlight on the current line, and a click on a
 * line below runs to that statement: at line 34 of fork-cow.ams, the
 * highlighted row (its height is a row's) is found in the script panel's
 * pixels, line 38 (four rows down) is clicked, and the picture is the one
 * of line 38's statement event (all but the status line, which says what
 * the click did).
 */
Test(view, the_script_panel_highlights_the_line_and_a_click_runs_to_another, .timeout = 60)
{
	uint64_t l34 = first_event("fork-cow.ams", "stmt", NULL, 34);
	uint64_t l38 = first_event("fork-cow.ams", "stmt", NULL, 38);
	struct view_layout L;
	struct view_rect b;
	SDL_Surface *s, *clicked, *want;
	int top = -1, h = 0;
	char xy[32];

	view_layout(&L, VIEW_DEFAULT_W, VIEW_DEFAULT_H, 1, true);
	b = view_panel_body(&L.panel[0][VP_SCRIPT], L.font_px);
	s = shot_of("fork-cow.ams", l34, "l34.png", NULL, NULL);
	for (int y = b.y; y < b.y + b.h; y++)
		if (pixel(s, b.x + b.w / 2, y) == 0x3a4a6a) { /* COL_CUR_EV */
			top = top < 0 ? y : top;
			h++;
		}
	cr_assert_gt(top, 0, "no highlighted row in the script panel");
	cr_assert(h >= L.font_px - 4 && h <= L.font_px + 4, "a row of %d pixels", h);
	/* The current line a third of the way down (rows / 3 above it). */
	cr_expect_eq((top - b.y) / h, (b.h / h) / 3);
	SDL_FreeSurface(s);

	snprintf(xy, sizeof(xy), "%d,%d", b.x + b.w / 2, top + 4 * h + h / 2);
	clicked = shot_of("fork-cow.ams", l34, "click.png", "--click", xy);
	want = shot_of("fork-cow.ams", l38, "l38.png", NULL, NULL);
	long differ = 0;

	for (int y = 0; y < L.cmd.y; y++)
		for (int x = 0; x < L.w; x++)
			differ += pixel(clicked, x, y) != pixel(want, x, y);
	cr_expect_eq(differ, 0, "%ld pixels differ from the picture at line 38", differ);
	SDL_FreeSurface(clicked);
	SDL_FreeSurface(want);
}

/* --layout prints the script panel; --no-script leaves it empty. */
Test(view, layout_json_has_the_script_panel_and_no_script_hides_it)
{
	for (int hide = 0; hide <= 1; hide++) {
		char cmd[512], out[16384];
		FILE *f;
		size_t n;

		snprintf(cmd, sizeof(cmd), "'%s' view --layout%s", bin(),
		         hide ? " --no-script" : "");
		f = popen(cmd, "r");
		cr_assert_not_null(f);
		n = fread(out, 1, sizeof(out) - 1, f);
		out[n] = '\0';
		cr_assert_eq(pclose(f), 0);
		cJSON *o = cJSON_Parse(out);
		cr_assert_not_null(o);
		const cJSON *sp = cJSON_GetObjectItem(
		    cJSON_GetArrayItem(cJSON_GetObjectItem(o, "sides"), 0), "script");
		struct view_layout L;

		cr_assert_not_null(sp);
		view_layout(&L, VIEW_DEFAULT_W, VIEW_DEFAULT_H, 1, !hide);
		cr_expect_eq(cJSON_GetObjectItem(sp, "y")->valueint, L.panel[0][VP_SCRIPT].y);
		cr_expect_eq(cJSON_GetObjectItem(sp, "h")->valueint, L.panel[0][VP_SCRIPT].h);
		cr_expect_eq(cJSON_GetObjectItem(sp, "h")->valueint == 0, hide);
		cJSON_Delete(o);
	}
}

/*
 * Under Xvfb: the viewer's window on demo (with extra options opts), the
 * xdotool commands `actions` run in it ($w is the window), then q. The
 * exit status of the session: 0 when the viewer quit with 0, 124 when it
 * did not quit on q, 3 when no window came. Skips without xvfb-run or
 * xdotool.
 */
static int xvfb_session(const char *demo, const char *opts, const char *actions)
{
	char cmd[2048];
	int st;

	if (system("command -v xvfb-run >/dev/null 2>&1 && command -v xdotool >/dev/null 2>&1"))
		cr_skip_test(
		    "xvfb-run or xdotool is missing (make deps installs xvfb and xdotool)");
	/* The window's pid is known to the inner shell; xdotool waits for the
	   window, then types into it. `timeout` bounds a viewer that would not quit. */
	snprintf(cmd, sizeof(cmd),
	         "xvfb-run -a -s '-screen 0 1280x1024x24' sh -c '"
	         "ASAN_OPTIONS=detect_leaks=0 timeout 40 \"%s\" view \"%s\" %s 2>\"%s/xerr\" & "
	         "pid=$!; "
	         "w=$(timeout 20 xdotool search --sync --name aftermalloc | head -n1); "
	         "[ -n \"$w\" ] || { kill $pid; exit 3; }; "
	         "xdotool windowactivate --sync $w 2>/dev/null || xdotool windowfocus $w "
	         "2>/dev/null; %s; "
	         "xdotool key --window $w q; wait $pid' >/dev/null 2>&1",
	         bin(), script(demo), opts, tmpdir, actions);
	st = system(cmd);
	cr_assert(WIFEXITED(st), "xvfb-run did not exit");
	return WEXITSTATUS(st);
}

Test(view, window_under_xvfb_takes_keys_and_quits_with_0, .timeout = 90)
{
	/* l twice: the script panel hidden and shown again, the layout redone */
	int rc = xvfb_session("seed-walk.ams", "",
	                      "for k in s s n l f l n; do xdotool key --window $w $k; sleep 0.2; done");

	cr_expect_eq(
	    rc, 0, "the viewer under Xvfb exited %d (124: it did not quit on q; 3: no window)", rc);
}

/* Under memory pressure the buddy panel shows the watermarks, the LRU lists
   and the swap area (purple bars); without it, nothing of them. */
Test(view, the_buddy_panel_shows_watermarks_lru_and_swap_under_pressure, .timeout = 120)
{
	char script_path[128], png[128], err[2048], num[32];
	const char *text = "swapon 16M\nm = mmap 12M\ntouch m 0 12M\nv = load m 8 8\n";
	struct view_layout L;
	SDL_Surface *s, *conv;
	FILE *f;

	snprintf(script_path, sizeof(script_path), "%s/pressure.ams", tmpdir);
	f = fopen(script_path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	view_layout(&L, VIEW_DEFAULT_W, VIEW_DEFAULT_H, 1, true);
	for (int i = 0; i < 2; i++) {
		/* event 10: booting, no pressure yet; the last event: swapped pages came back */
		snprintf(num, sizeof(num), "%s", i ? "99999999" : "10");
		snprintf(png, sizeof(png), "%s/pressure-%d.png", tmpdir, i);
		{
			const char *args[] = {"view", script_path, "--phys", "8M", "--screenshot",
			                      png,    "--at",      num,      NULL};

			cr_assert_eq(run_bin(err, sizeof(err), args), 0, "%s", err);
		}
		s = IMG_Load(png);
		cr_assert_not_null(s);
		conv = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
		SDL_FreeSurface(s);
		if (i)
			cr_expect_gt(count(conv, &L.panel[0][VP_BUDDY], 0xa06ed2, true), 50,
			             "no swap bar under pressure");
		else
			cr_expect_eq(count(conv, &L.panel[0][VP_BUDDY], 0xa06ed2, true), 0,
			             "a swap bar before the swap area exists");
		SDL_FreeSurface(conv);
	}
}

/* A policy of one's own (--malloc ./mm.so) is drawn as the built-in ones
   are: its heap comes from its mm_walk. The seed plugin, compiled by
   `lab`, ends seed-walk.ams with the chunks of the built-in seed, pixel
   for pixel in the heap panel's "in use" colour. */
Test(view, a_plugin_s_heap_is_drawn_as_the_builtin_policy_s, .timeout = 120)
{
	char so[128], png[2][128], src[512], trace[512], err[4096];
	const char *build[] = {"lab", src, trace, "-o", so, NULL};
	struct view_layout L;
	long in_use[2];

	snprintf(so, sizeof(so), "%s/mm-seed.so", tmpdir);
	snprintf(src, sizeof(src), "%s/demos/lab/mm-seed.c", root());
	snprintf(trace, sizeof(trace), "%s/demos/traces/malloclab/short1-bal.rep", root());
	cr_assert_eq(run_bin(err, sizeof(err), build), 0, "lab: %s", err);
	view_layout(&L, VIEW_DEFAULT_W, VIEW_DEFAULT_H, 1, true);
	for (int i = 0; i < 2; i++) {
		const char *args[] = {"view",
		                      script("seed-walk.ams"),
		                      "--malloc",
		                      i ? so : "seed",
		                      "--screenshot",
		                      png[i],
		                      "--at",
		                      "999999",
		                      NULL};
		struct view_rect b = view_panel_body(&L.panel[0][VP_HEAP], L.font_px);
		SDL_Surface *conv;

		snprintf(png[i], sizeof(png[i]), "%s/heap-%d.png", tmpdir, i);
		cr_assert_eq(run_bin(err, sizeof(err), args), 0, "view --malloc %s: %s", args[3],
		             err);
		conv = load_png(png[i]);
		in_use[i] = count(conv, &b, 0x5ac86e, true); /* view_heap.c's COL_CH_USE */
		SDL_FreeSurface(conv);
	}
	cr_assert_gt(in_use[0], 5000, "the built-in seed's chunks: %ld pixels", in_use[0]);
	cr_assert_eq(in_use[1], in_use[0], "the plugin's chunks: %ld pixels, the built-in's %ld",
	             in_use[1], in_use[0]);
}

/*
 * Processes (demos/fork-cow.ams: two heap pages and the program's data and
 * stack page, 5 anonymous pages, then fork; the child writes one page and
 * exits; the parent waits): what the viewer reads, in the model itself.
 */
Test(view, the_model_lists_the_processes_counts_shared_frames_and_follows_the_selector)
{
	uint64_t fork_call = find_event_in("fork-cow.ams", "call", "kernel_clone");
	uint64_t fork_ret = find_event_in("fork-cow.ams", "ret", "kernel_clone");
	uint64_t cow = find_event_in("fork-cow.ams", "call", "do_wp_page");
	uint64_t reaped = find_event_in("fork-cow.ams", "ret", "release_task");
	struct session_opts o;
	struct script *sc;
	struct stepper *st;
	struct view_model m;

	cr_assert(fork_call < fork_ret && fork_ret < cow && cow < reaped);
	cr_assert_eq(script_load(NULL, script("fork-cow.ams"), &sc, stderr), 0);
	session_default_opts(&o);
	st = stepper_create(sc, &o, 4096, stderr);
	cr_assert_not_null(st);
	view_model_init(&m);

	/* before the fork: one process, nothing shared, nothing beside it */
	cr_assert(stepper_do(st, STEP_GOTO, fork_call));
	view_model_update(&m, st);
	cr_assert_eq(m.nr_tasks, 1);
	cr_assert_eq(m.sel_pid, 1);
	cr_assert_eq(m.other.pid, 0);
	cr_assert_eq(m.nr_shared, 0);

	/* fork returned: every anonymous page of the parent is shared */
	cr_assert(stepper_do(st, STEP_GOTO, fork_ret));
	view_model_update(&m, st);
	cr_assert_eq(m.nr_tasks, 2);
	cr_assert_eq(m.tasks[0].pid, 1);
	cr_assert_eq(m.tasks[1].pid, 2);
	cr_assert_eq(m.tasks[1].ppid, 1);
	cr_assert(m.tasks[0].current && !m.tasks[1].current);
	cr_assert_eq(m.tasks[0].rss, 5);
	cr_assert_eq(m.tasks[1].rss, 5, "RSS counts a shared frame in each process");
	cr_assert_eq(m.nr_shared, 5);
	cr_assert_eq(m.sel_pid, 1, "the selector follows the running task");
	cr_assert_eq(m.other.pid, 2, "its child beside it");
	cr_assert_eq(m.other.nr_vmas, m.nr_vmas);

	/* the child's COW fault: it runs; the selector picks either */
	cr_assert(stepper_do(st, STEP_GOTO, cow));
	view_model_update(&m, st);
	cr_assert_eq(m.cur_pid, 2);
	cr_assert_str_eq(m.task_label, "pid 2");
	cr_assert_eq(m.sel_pid, 2);
	cr_assert_eq(m.other.pid, 1, "its parent beside it");
	cr_assert_eq(m.nr_shared, 5, "not copied yet");
	cr_assert_eq(view_model_next_process(&m, 2), 1);
	cr_assert_eq(view_model_next_process(&m, 1), 2);
	m.want_pid = 1;
	view_model_update(&m, st);
	cr_assert_eq(m.sel_pid, 1);
	cr_assert_eq(m.other.pid, 2);
	/* the parent's PTE of the same address: present, read-only, the same frame */
	cr_assert(m.walk.present);
	cr_assert_eq(m.leaf & PTE_RW, 0);
	m.want_pid = 77; /* no such process: the running one */
	view_model_update(&m, st);
	cr_assert_eq(m.sel_pid, 2);

	/* the copy is made: one frame less is shared */
	m.want_pid = 0;
	cr_assert(stepper_do(st, STEP_RETURN, 0));
	cr_assert_str_eq(st->cur.fn, "do_wp_page");
	view_model_update(&m, st);
	cr_assert_eq(m.nr_shared, 4);

	/* the child exited and was reaped: one process, nothing shared */
	cr_assert(stepper_do(st, STEP_GOTO, reaped));
	view_model_update(&m, st);
	cr_assert_eq(m.nr_tasks, 1);
	cr_assert_eq(m.other.pid, 0);
	cr_assert_eq(m.nr_shared, 0);

	view_model_free(&m);
	stepper_destroy(st);
	script_free(sc);
}

/* fork-cow.ams at event `at`, with extra options, loaded back. */
static SDL_Surface *fork_shot(uint64_t at, const char *pid, char *err, size_t n)
{
	char png[128], num[32];
	int rc;

	snprintf(png, sizeof(png), "%s/fork-%llu.png", tmpdir, (unsigned long long)at);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)at);
	{
		const char *args[] = {"view",
		                      script("fork-cow.ams"),
		                      "--screenshot",
		                      png,
		                      "--at",
		                      num,
		                      pid ? "--pid" : NULL,
		                      pid,
		                      NULL};

		rc = run_bin(err, n, args);
	}
	cr_assert_eq(rc, 0, "view --at %s exited %d: %s", num, rc, err);
	return load_png(png);
}

Test(view, shared_frames_are_drawn_after_fork_and_both_address_spaces_side_by_side)
{
	uint64_t fork_call = find_event_in("fork-cow.ams", "call", "kernel_clone");
	uint64_t fork_ret = find_event_in("fork-cow.ams", "ret", "kernel_clone");
	struct view_layout L;
	struct view_rect grid, vas, right;
	SDL_Surface *s;
	char err[2048];

	view_layout(&L, VIEW_DEFAULT_W, VIEW_DEFAULT_H, 1, true);
	grid = L.phys_grid[0];
	grid.h = L.phys_zoom[0].y + L.phys_zoom[0].h - grid.y;
	vas = view_panel_body(&L.panel[0][VP_VAS], L.font_px);
	right = vas;
	right.x = vas.x + vas.w / 2 + 4;
	right.w = vas.w - vas.w / 2 - 4;

	s = fork_shot(fork_call, NULL, err, sizeof(err));
	cr_expect_eq(count(s, &grid, VIEW_COL_SHARED, true), 0, "shared frames before fork");
	/* one address space: the heap VMA's bar (the colour of a user page) is
	   in the panel's left half, only its label in the right half */
	long before_right = count(s, &right, 0x5ac86e, true);
	SDL_FreeSurface(s);

	s = fork_shot(fork_ret, NULL, err, sizeof(err));
	cr_expect_gt(count(s, &grid, VIEW_COL_SHARED, true), 5, "no shared frame drawn after fork");
	cr_expect_gt(count(s, &right, 0x5ac86e, true), before_right + 1000,
	             "the second address space's heap is not drawn beside the first");
	SDL_FreeSurface(s);

	/* --pid: the selector's choice; a pid with no address space is said */
	s = fork_shot(fork_ret, "2", err, sizeof(err));
	cr_expect_null(strstr(err, "aftermalloc view:"), "%s", err);
	SDL_FreeSurface(s);
	s = fork_shot(fork_ret, "9", err, sizeof(err));
	cr_expect_not_null(strstr(err, "--pid 9: no such process"), "%s", err);
	SDL_FreeSurface(s);
}

/* The first statement event at `line` of demo (its EV_STMT's seq). */
static uint64_t stmt_at_line(const char *demo, int line)
{
	return first_event(demo, "stmt", NULL, line);
}

/* The line of `show maps` (run by the binary on the first `lines` lines of
   demo, then `show maps`) whose range starts at `start`: its end and its
   rights ("rw-p"). false when no line starts there. */
static bool maps_line(const char *demo, int lines, uint64_t start, uint64_t *end, char perms[5])
{
	char path[128], cmd[1024], buf[512];
	FILE *in, *out, *p;
	bool found = false;

	snprintf(path, sizeof(path), "%s/upto.ams", tmpdir);
	in = fopen(script(demo), "r");
	out = fopen(path, "w");
	cr_assert(in && out);
	for (int i = 0; i < lines && fgets(buf, sizeof(buf), in); i++)
		fputs(buf, out);
	fputs("show maps\n", out);
	fclose(in);
	cr_assert_eq(fclose(out), 0);
	snprintf(cmd, sizeof(cmd), "'%s' run '%s'", bin(), path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(buf, sizeof(buf), p)) {
		unsigned long long a, b;
		char pr[8];

		if (sscanf(buf, " %llx-%llx %7s", &a, &b, pr) == 3 && a == start) {
			*end = b;
			memcpy(perms, pr, 4);
			perms[4] = 0;
			found = true;
		}
	}
	pclose(p);
	return found;
}

/* The label of the task the latest logged statement event of line ran in
   (as the log panel tags it). */
static const char *logged_stmt_task(const struct stepper *st, int line, char *buf, size_t n)
{
	const struct event *ev;

	for (size_t i = 0; (ev = stepper_log(st, i)); i++)
		if (ev->kind == EV_STMT && event_field(ev, "line", 0) == (uint64_t)line)
			return view_model_log_task(st, i, buf, n);
	cr_assert_fail("no statement event of line %d in the log", line);
	return buf;
}

Test(view, the_model_shows_each_arena_its_heaps_and_the_thread_of_each_statement, .timeout = 120)
{
	/* glibc-threads.ams: line 35 `a = malloc 100` in t1, line 36 the
	   expect after it; line 51 `show arenas` in the main thread, with
	   three arenas (t1's and t2's, each in a heap of its own) */
	uint64_t in_t1 = stmt_at_line("glibc-threads.ams", 36);
	uint64_t shown = stmt_at_line("glibc-threads.ams", 51);
	struct session_opts o;
	struct script *sc;
	struct stepper *st;
	struct view_model m;
	char lab[16];
	int t1_arena;

	cr_assert_eq(script_load(NULL, script("glibc-threads.ams"), &sc, stderr), 0);
	session_default_opts(&o);
	st = stepper_create(sc, &o, 4096, stderr);
	cr_assert_not_null(st);
	view_model_init(&m);
	cr_assert_eq(m.want_arena, -1, "the selector follows the thread by default");

	/* inside `in t1`: the statement's task is t1 (tid 2), whose arena the
	   heap panel follows; it is not main_arena */
	cr_assert(stepper_do(st, STEP_GOTO, in_t1));
	view_model_update(&m, st);
	cr_assert_eq(m.stmt_tid, 2);
	cr_assert_str_eq(m.stmt_task, "t2");
	cr_assert_eq(m.nr_arenas, 2);
	cr_assert_eq(m.arena_tid, 2);
	cr_assert_eq(m.cur_arena, 1);
	cr_assert_eq(m.sel_arena, 1);
	cr_assert_eq(m.arenas[1].nr_tids, 1);
	cr_assert_eq(m.arenas[1].tids[0], 2);
	cr_assert_eq(m.arenas[0].tids[0], 1, "the main thread uses main_arena");
	cr_assert_str_eq(logged_stmt_task(st, 35, lab, sizeof(lab)), "t2");
	cr_assert_str_eq(logged_stmt_task(st, 34, lab, sizeof(lab)), "",
	                 "`in t1` runs in the main thread");
	cr_assert_str_eq(logged_stmt_task(st, 20, lab, sizeof(lab)), "");

	/* `show arenas` in the main thread: main_arena followed; t1's arena and
	   t2's each with one heap, 64 MiB aligned, its read-write part and its
	   PROT_NONE rest as `show maps` prints them */
	cr_assert(stepper_do(st, STEP_GOTO, shown));
	view_model_update(&m, st);
	cr_assert_str_eq(logged_stmt_task(st, 40, lab, sizeof(lab)), "t2",
	                 "the `end` of the block is the thread's");
	cr_assert_str_eq(m.stmt_task, "");
	cr_assert_eq(m.nr_arenas, 3);
	cr_assert_eq(m.arena_tid, 1);
	cr_assert_eq(m.sel_arena, 0);
	cr_assert_eq(m.arenas[0].nr_heaps, 0, "main_arena's heap is the brk heap");
	cr_assert(m.nr_chunks > 0);
	for (size_t i = 0; i < m.nr_chunks; i++)
		cr_assert(m.chunks[i].mmapped ||
		              (m.chunks[i].chunk >= m.start_brk && m.chunks[i].chunk < m.brk),
		          "chunk %#llx of main_arena outside the brk heap",
		          (unsigned long long)m.chunks[i].chunk);
	t1_arena = -1;
	for (unsigned a = 1; a < 3; a++) {
		const struct vm_arena *ar = &m.arenas[a];
		const struct vm_heap *h = &ar->heaps[0];
		uint64_t end;
		char perms[5];

		cr_assert_eq(ar->nr, a);
		cr_assert_eq(ar->nr_heaps, 1);
		cr_assert_eq(ar->nr_tids, 1);
		if (ar->tids[0] == 2)
			t1_arena = (int)a;
		cr_assert_eq(h->start % (64ULL << 20), 0, "heap %#llx not 64 MiB aligned",
		             (unsigned long long)h->start);
		cr_assert_eq(h->reserved, 64ULL << 20);
		cr_assert(h->has_top);
		cr_assert_eq(ar->av, h->start + 0x30, "the arena follows its heap_info");
		cr_assert_eq(h->rw_end - h->start, h->mprotect_size,
		             "read-write VMAs %#llx, heap_info.mprotect_size %#llx",
		             (unsigned long long)(h->rw_end - h->start),
		             (unsigned long long)h->mprotect_size);
		cr_assert_eq(h->none_end, h->start + h->reserved);
		cr_assert_eq(ar->system_mem, h->size);
		cr_assert(h->resident >= 1 && h->resident <= h->mprotect_size / 4096);
		/* the simulation's /proc/PID/maps says the same */
		cr_assert(maps_line("glibc-threads.ams", 51, h->start, &end, perms));
		cr_assert_eq(end, h->rw_end);
		cr_assert_str_eq(perms, "rw-p");
		cr_assert(maps_line("glibc-threads.ams", 51, h->rw_end, &end, perms));
		cr_assert_eq(end, h->none_end);
		cr_assert_str_eq(perms, "---p");
	}
	cr_assert_neq(t1_arena, -1, "no arena has t1 attached");

	/* the selector: arena 1, then 2, then main_arena again; the chunks
	   drawn are the chosen arena's, inside its heap */
	cr_assert_eq(view_model_next_arena(&m, 0), 1);
	cr_assert_eq(view_model_next_arena(&m, 2), 0);
	m.want_arena = t1_arena;
	view_model_update(&m, st);
	cr_assert_eq(m.sel_arena, (unsigned)t1_arena);
	cr_assert(m.nr_chunks >= 3, "t1's heap: its tcache, two blocks and top");
	for (size_t i = 0; i < m.nr_chunks; i++) {
		const struct vm_heap *h = &m.arenas[t1_arena].heaps[0];

		cr_assert_eq(m.chunks[i].arena, (unsigned)t1_arena);
		cr_assert(!m.chunks[i].mmapped);
		cr_assert(m.chunks[i].chunk > h->start &&
		          m.chunks[i].chunk + m.chunks[i].size <= h->start + h->size);
		cr_assert_eq(m.chunks[i].top, m.chunks[i].chunk == m.arenas[t1_arena].top);
	}
	m.want_arena = 7; /* no such arena: the followed thread's */
	view_model_update(&m, st);
	cr_assert_eq(m.sel_arena, 0);

	view_model_free(&m);
	stepper_destroy(st);
	script_free(sc);
}

/* A stepper on script text (named name), paused at the start of its last
   statement; the script in *sc (the caller frees both). */
static struct stepper *at_last_statement(const char *name, const char *text, struct script **sc)
{
	struct session_opts o;
	struct stepper *st;

	cr_assert_eq(script_parse(name, text, sc, stderr), 0);
	session_default_opts(&o);
	st = stepper_create(*sc, &o, 4096, stderr);
	cr_assert_not_null(st);
	while (stepper_do(st, STEP_STMT, 0) && st->cur_stmt + 1 < (*sc)->nr_stmts)
		;
	cr_assert_eq(st->cur_stmt + 1, (*sc)->nr_stmts);
	return st;
}

Test(view, the_heap_follows_the_process_selector_after_fork, .timeout = 60)
{
	/* After fork the child's heap is its own: two more chunks in the
	   child, none in the parent. The panel walks the selected process's
	   libc (it walked the one statements run in, whatever the selector). */
	static const char text[] = "p = malloc 100\n"
	                           "c = fork\n"
	                           "in c\n"
	                           "  q = malloc 200\n"
	                           "  r = malloc 300\n"
	                           "end\n"
	                           "v = load p 0 1\n";
	struct script *sc;
	struct stepper *st = at_last_statement("fork-heap.ams", text, &sc); /* in the parent */
	struct view_model m;
	size_t n1, n2;

	view_model_init(&m);
	m.want_pid = 1;
	view_model_update(&m, st);
	cr_assert_eq(m.sel_pid, 1);
	n1 = m.nr_chunks_total;
	m.want_pid = 2;
	view_model_update(&m, st);
	cr_assert_eq(m.sel_pid, 2);
	n2 = m.nr_chunks_total;
	cr_assert_eq(n2, n1 + 2, "the child's heap has %zu chunks, the parent's %zu", n2, n1);
	for (size_t i = 0; i < m.nr_chunks; i++)
		cr_assert(m.chunks[i].chunk >= m.start_brk && m.chunks[i].chunk < m.brk);
	m.want_pid = 1;
	view_model_update(&m, st);
	cr_assert_eq(m.nr_chunks_total, n1);
	view_model_free(&m);
	stepper_destroy(st);
	script_free(sc);
}

/* demo at event `at` with an optional --arena, drawn and loaded back. */
static SDL_Surface *arena_shot(const char *demo, uint64_t at, const char *arena)
{
	char png[160], num[32], err[2048];
	int rc;

	snprintf(png, sizeof(png), "%s/arena-%llu-%s.png", tmpdir, (unsigned long long)at,
	         arena ? arena : "follow");
	snprintf(num, sizeof(num), "%llu", (unsigned long long)at);
	{
		const char *args[] = {"view", script(demo), "--screenshot",           png,
		                      "--at", num,          arena ? "--arena" : NULL, arena,
		                      NULL};

		rc = run_bin(err, sizeof(err), args);
	}
	cr_assert_eq(rc, 0, "view --at %s exited %d: %s", num, rc, err);
	cr_expect_null(strstr(err, "aftermalloc view:"), "%s", err);
	return load_png(png);
}

Test(view, a_thread_s_arena_heap_is_drawn_with_its_prot_none_reservation, .timeout = 120)
{
	uint64_t before = stmt_at_line("glibc-threads.ams", 22); /* one arena */
	uint64_t in_t1 = stmt_at_line("glibc-threads.ams", 36);  /* t1's arena made */
	struct view_layout L;
	struct view_rect heap;
	SDL_Surface *s;
	long rw, none;
	char err[512];

	view_layout(&L, VIEW_DEFAULT_W, VIEW_DEFAULT_H, 1, true);
	heap = view_panel_body(&L.panel[0][VP_HEAP], L.font_px);

	s = arena_shot("glibc-threads.ams", before, NULL);
	cr_expect_eq(count(s, &heap, VIEW_COL_HEAP_RW, true), 0, "a heap bar with one arena");
	cr_expect_eq(count(s, &heap, VIEW_COL_HEAP_NONE, true), 0);
	SDL_FreeSurface(s);

	/* following t1: its arena's heap, read-write part and PROT_NONE rest */
	s = arena_shot("glibc-threads.ams", in_t1, NULL);
	rw = count(s, &heap, VIEW_COL_HEAP_RW, true);
	none = count(s, &heap, VIEW_COL_HEAP_NONE, true);
	cr_expect_gt(rw, 500, "no read-write part drawn (%ld pixels)", rw);
	cr_expect_gt(none, rw, "the PROT_NONE rest (%ld pixels) is not the larger part", none);
	SDL_FreeSurface(s);

	/* main_arena chosen: the brk heap, no reservation bar; arena 1 again */
	s = arena_shot("glibc-threads.ams", in_t1, "0");
	cr_expect_eq(count(s, &heap, VIEW_COL_HEAP_NONE, true), 0);
	SDL_FreeSurface(s);
	s = arena_shot("glibc-threads.ams", in_t1, "1");
	cr_expect_gt(count(s, &heap, VIEW_COL_HEAP_NONE, true), 500);
	SDL_FreeSurface(s);

	/* an arena the program does not have: said, the followed one drawn */
	{
		char png[160];
		const char *args[] = {"view",
		                      script("glibc-threads.ams"),
		                      "--screenshot",
		                      png,
		                      "--at",
		                      "0",
		                      "--arena",
		                      "5",
		                      NULL};
		const char *bad[] = {"view",
		                     script("glibc-threads.ams"),
		                     "--screenshot",
		                     png,
		                     "--at",
		                     "0",
		                     "--arena",
		                     "x",
		                     NULL};

		snprintf(png, sizeof(png), "%s/arena-bad.png", tmpdir);
		cr_expect_eq(run_bin(err, sizeof(err), args), 0);
		cr_expect_not_null(strstr(err, "--arena 5: pid 1 has"), "%s", err);
		cr_expect_eq(run_bin(err, sizeof(err), bad), 2);
		cr_expect_not_null(strstr(err, "--arena: 'x' is not an arena number"), "%s", err);
	}
}

Test(view, under_xvfb_a_and_A_cycle_the_arenas_and_p_the_processes, .timeout = 90)
{
	/* glibc-threads.ams from the statement after t1's first malloc (two
	   arenas): a, a, A, p, P, n, a, a click in the heap panel's selector */
	char opts[64];
	int rc;

	snprintf(opts, sizeof(opts), "--at %llu",
	         (unsigned long long)stmt_at_line("glibc-threads.ams", 36));
	rc = xvfb_session(
	    "glibc-threads.ams", opts,
	    "for k in a a shift+a p shift+p n a; do xdotool key --window $w $k; "
	    "sleep 0.2; done; xdotool mousemove --window $w 330 126 click 1; sleep 0.2");
	cr_expect_eq(
	    rc, 0, "the viewer under Xvfb exited %d (124: it did not quit on q; 3: no window)", rc);
}

Test(view, an_arena_that_outgrows_its_heap_shows_each_heap, .timeout = 60)
{
	/* 700 blocks of 100000 bytes in one thread: 70 MB, more than one
	   64 MiB heap holds, so new_heap makes a second one (show arenas: two
	   heaps of arena 1) */
	static const char text[] = "policy glibc\n"
	                           "t = thread\n"
	                           "in t\n"
	                           "  for i = 0 to 699\n"
	                           "    p = malloc 100000\n"
	                           "  end\n"
	                           "end\n"
	                           "v = vmsize\n";
	struct script *sc;
	struct stepper *st = at_last_statement("heaps.ams", text, &sc);
	struct view_model m;

	view_model_init(&m);
	m.want_arena = 1;
	view_model_update(&m, st);
	cr_assert_eq(m.nr_arenas, 2);
	cr_assert_eq(m.sel_arena, 1);
	cr_assert_eq(m.arenas[1].nr_heaps, 2);
	cr_assert_eq(m.arenas[1].nr_heaps_total, 2);
	cr_assert(m.arenas[1].heaps[0].has_top && !m.arenas[1].heaps[1].has_top,
	          "top is in the newest heap");
	uint64_t sum = 0;
	for (unsigned k = 0; k < 2; k++) {
		const struct vm_heap *h = &m.arenas[1].heaps[k];

		cr_assert_eq(h->start % (64ULL << 20), 0);
		cr_assert_eq(h->rw_end - h->start, h->mprotect_size);
		cr_assert_eq(h->none_end, h->start + (64ULL << 20));
		sum += h->size;
	}
	cr_assert_eq(sum, m.arenas[1].system_mem, "system_mem is the sum of the heaps' sizes");
	cr_assert_eq(m.nr_chunks, VM_MAX_CHUNKS, "the first %d chunks kept", VM_MAX_CHUNKS);
	cr_assert_gt(m.nr_chunks_total, 700);
	for (size_t i = 0; i < m.nr_chunks; i++) {
		const struct vm_chunk *c = &m.chunks[i];
		bool inside = false;

		for (unsigned k = 0; k < 2; k++) {
			const struct vm_heap *h = &m.arenas[1].heaps[k];

			inside |= c->chunk > h->start && c->chunk + c->size <= h->start + h->size;
		}
		cr_assert(inside, "chunk %#llx in no heap of its arena",
		          (unsigned long long)c->chunk);
	}
	view_model_free(&m);
	stepper_destroy(st);
	script_free(sc);
}

/*
 * A TLB larger than any fixed table: the model holds every entry of the
 * machine's TLB, whatever --tlb gave (up to 65536 entries, 1024 ways), the
 * geometry as it is, and the panel's window of the valid entries shows the
 * one the statement filled and names its sets. At the TLB fill of the
 * 290th touched page (each pass touches a new page; nothing flushes).
 */
static void big_tlb_case(unsigned entries, unsigned ways)
{
	static const char text[] = "p = malloc 4M\n"
	                           "for i = 0 to 299\n"
	                           "  touch p i * 4096 1\n"
	                           "end\n";
	struct session_opts o;
	struct script *sc;
	struct stepper *st;
	struct view_model m;
	int passes = 0;

	cr_assert_eq(script_parse("bigtlb.ams", text, &sc, stderr), 0);
	session_default_opts(&o);
	o.kopts.tlb_entries = entries;
	o.kopts.tlb_ways = ways;
	st = stepper_create(sc, &o, 4096, stderr);
	cr_assert_not_null(st);
	while (passes < 290 && stepper_do(st, STEP_STMT, 0))
		passes += st->cur.kind == EV_STMT && st->cur.fn && strcmp(st->cur.fn, "touch") == 0;
	cr_assert_eq(passes, 290);
	while (stepper_do(st, STEP_EVENT, 0) && st->cur.kind != EV_TLB_FILL)
		;
	cr_assert_eq(st->cur.kind, EV_TLB_FILL);

	const struct tlb *t = &st->s->k.cpu.tlb;
	unsigned valid = 0;

	view_model_init(&m);
	view_model_update(&m, st);
	cr_assert_eq(m.tlb_sets, entries / ways);
	cr_assert_eq(m.tlb_ways, ways);
	cr_assert_eq(memcmp(m.tlb, t->e, (size_t)entries * sizeof(*t->e)), 0,
	             "the model's entries are the TLB's");
	for (unsigned i = 0; i < entries; i++)
		valid += t->e[i].vpn != TLB_VPN_NONE;
	cr_assert_eq(m.tlb_valid, valid);
	if (entries > 300)
		cr_assert_gt(valid, 290, "%u valid", valid);
	else
		cr_assert_eq(valid, entries, "a full TLB");
	cr_assert_geq(m.tlb_filled, 0, "the filled entry is found");
	cr_assert_eq(tlb_key_vpn(m.tlb[m.tlb_filled].vpn), m.fill_vpn);

	/* every room: the window lies in the list, holds the filled entry,
	   and its sets are those of its first and last entries */
	for (unsigned room = 0; room <= valid + 1; room += room < 40 ? 1 : 37) {
		struct vm_tlb_window w;
		unsigned rank = 0, filled_rank = 0, lo = UINT32_MAX, hi = 0;

		view_model_tlb_window(&m, room, &w);
		cr_assert_eq(w.n, room < valid ? room : valid);
		cr_assert_leq(w.first + w.n, valid);
		for (unsigned i = 0; i < entries; i++) {
			if (m.tlb[i].vpn == TLB_VPN_NONE)
				continue;
			if ((long)i == m.tlb_filled)
				filled_rank = rank;
			if (rank >= w.first && rank < w.first + w.n) {
				lo = lo == UINT32_MAX ? i / ways : lo;
				hi = i / ways;
			}
			rank++;
		}
		if (!room)
			continue;
		cr_assert(filled_rank >= w.first && filled_rank < w.first + w.n,
		          "room %u: the filled entry (%u) outside %u+%u", room, filled_rank,
		          w.first, w.n);
		cr_assert_eq(w.set_lo, lo);
		cr_assert_eq(w.set_hi, hi);
	}
	view_model_free(&m);
	stepper_destroy(st);
	script_free(sc);
}

Test(view, the_model_holds_every_entry_of_a_tlb_of_any_geometry, .timeout = 120)
{
	big_tlb_case(1024, 1024); /* one set */
	big_tlb_case(65536, 4);   /* the largest: 16384 sets */
	big_tlb_case(64, 4);      /* the default, full: 64 of 290 stay */
}

/*
 * The buddy panel's free lists in every window size the viewer takes: with
 * the small font the window gets (view_gfx on a software renderer, its real
 * advance), each order's text and two block squares fit in its column, the
 * columns lie side by side inside the panel without overlapping, and every
 * order is shown in the rows left above the legend (and the pressure rows).
 * At 640x400 the three columns of "OO SIZE NR" text overlapped before.
 */
Test(view, the_buddy_panel_s_columns_fit_without_overlap_at_every_size)
{
	int sizes[][2] = {{640, 400}, {800, 600}, {1280, 800}, {1920, 1080}, {700, 420}};

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
		for (int nsides = 1; nsides <= 2; nsides++)
			for (int script = 0; script <= 1; script++) {
				struct view_layout L;
				struct view_gfx g = {0};
				SDL_Surface *surf;
				SDL_Renderer *r;

				view_layout(&L, sizes[k][0], sizes[k][1], nsides, script);
				surf = SDL_CreateRGBSurfaceWithFormat(0, L.w, L.h, 32,
				                                      SDL_PIXELFORMAT_ARGB8888);
				cr_assert_not_null(surf);
				r = SDL_CreateSoftwareRenderer(surf);
				cr_assert_not_null(r);
				cr_assert_eq(view_gfx_init(&g, r, L.font_px, stderr), 0);
				int adv = g.font[VF_SMALL].adv, sh = g.font[VF_SMALL].h;

				for (int s = 0; s < nsides; s++)
					for (int pressure = 0; pressure <= 1; pressure++) {
						struct view_rect b =
						    view_panel_body(&L.panel[s][VP_BUDDY], L.font_px);
						struct view_buddy_cols c;

						view_buddy_columns(&b, sh, adv, NR_PAGE_ORDERS, pressure,
						                   &c);
						/* (two sides in the smallest window: the
						   first orders, and the legend says so) */
						if (nsides == 1 || L.h >= 600)
						cr_expect_eq(c.shown, NR_PAGE_ORDERS,
						             "%dx%d sides %d script %d pressure %d: "
						             "%u orders shown",
						             L.w, L.h, nsides, script, pressure, c.shown);
						cr_expect_leq(c.per, c.rows);
						/* under pressure, its first line at least,
						   all four in a window of the default size */
						if (pressure && L.h >= 600)
							cr_expect_geq(c.prows,
							              L.h >= 800 && nsides == 1 ? 4 : 1,
							              "%dx%d sides %d: %d pressure rows",
							              L.w, L.h, nsides, c.prows);
						cr_expect_leq((c.per + c.prows) * (sh + 1), b.h - sh - 2);
						cr_expect_leq(c.ncol * c.colw, b.w);
						for (int i = 0; i < c.ncol; i++) {
							int x = b.x + i * c.colw;

							/* the text and a gap in the column (and
							   two squares with the full text); the
							   next column starts after */
							cr_expect_leq(x + c.textw + adv +
							                  (c.full ? 2 * sh + 1 : 0),
							              x + c.colw,
							              "%dx%d sides %d: column %d's text "
							              "overruns it",
							              L.w, L.h, nsides, i);
							cr_expect_leq(x + c.colw, b.x + b.w);
						}
						cr_expect_eq(c.textw, (c.full ? VIEW_BUDDY_FULL_CELLS
						                              : VIEW_BUDDY_SHORT_CELLS) *
						                          adv);
						if (L.w >= 1280 && nsides == 1 && !pressure)
							cr_expect(c.full, "%dx%d: the block sizes shown",
							          L.w, L.h);
					}
				view_gfx_destroy(&g);
				SDL_DestroyRenderer(r);
				SDL_FreeSurface(surf);
			}
}

/*
 * A block opened far before the first line shown is still marked: a script
 * whose two nested loops (which never run: 1 to 0) hold 200,000
 * statements, at its end, shows the two bars beside every body line, the
 * inner `end` with both, the outer with one -- the listing used to look
 * back only 65,536 statements for the blocks open there. Found through
 * the index, in one step a level (walk_steps), whatever the script's
 * length; the same rows with a fresh index and with none.
 */
Test(view, the_script_panel_marks_a_block_opened_far_before_the_first_line_shown,
     .timeout = 120)
{
	const int body = 200000;
	size_t n = (size_t)body * 10 + 64, len = 0;
	char *text = malloc(n);
	struct view_listing ls, ls2;
	struct view_listing_index ix = {0};
	struct session_opts o;
	struct script *sc;
	struct stepper *st;

	cr_assert_not_null(text);
	len += (size_t)snprintf(text + len, n - len, "x = 0\nfor i = 1 to 0\n  for j = 1 to 2\n");
	for (int i = 0; i < body; i++)
		len += (size_t)snprintf(text + len, n - len, "    x = 1\n");
	len += (size_t)snprintf(text + len, n - len, "  end\nend\n");
	cr_assert_eq(script_parse("long.ams", text, &sc, stderr), 0);
	cr_assert_eq(sc->nr_stmts, (size_t)body + 5);
	session_default_opts(&o);
	st = stepper_create(sc, &o, 256, stderr);
	cr_assert_not_null(st);
	while (stepper_do(st, STEP_STMT, 0))
		;
	cr_assert(st->finished);

	for (int pass = 0; pass < 2; pass++) { /* the index made, then kept */
		view_listing_build(&ls, st, &ix, sc->nr_lines, 20);
		cr_assert_eq(ls.cur_line, -1);
		cr_assert_eq(ls.nr_rows, 20);
		cr_assert_eq(ls.first, sc->nr_lines - 19);
		cr_expect_eq(ls.walk_steps, 2, "%d openers followed", ls.walk_steps);
		for (int r = 0; r < ls.nr_rows; r++) {
			const struct vl_row *row = &ls.rows[r];
			int want = row->line == sc->nr_lines ? 1 : 2;

			cr_assert_eq(row->nr_blocks, want, "line %d: %d blocks, not %d", row->line,
			             row->nr_blocks, want);
			cr_expect_eq(row->block[0], VL_FOR);
			cr_expect_eq(row->block_line[0], 2);
			if (want == 2)
				cr_expect_eq(row->block_line[1], 3);
		}
	}
	cr_assert_eq(ix.sc, sc);
	view_listing_build(&ls2, st, NULL, sc->nr_lines, 20);
	cr_expect_eq(memcmp(&ls, &ls2, sizeof(ls)), 0, "the same rows without the index");
	view_listing_index_free(&ix);
	stepper_destroy(st);
	script_free(sc);
	free(text);
}
